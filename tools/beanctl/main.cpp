// beanctl: the command-line front end. It parses the global options, picks the command from
// the table in commands.cpp and maps errors to exit codes (0 ok, 1 runtime, 2 usage).
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "cli.h"
#include "core/log.h"

namespace po = boost::program_options;
using namespace beanctl;

namespace {
void print_usage(std::ostream& out) {
    out << "Usage: beanctl [GLOBAL OPTIONS] COMMAND [ARGS]\n\n"
           "OpenVZ-style containers with user beancounters, on a stock kernel.\n\nCommands:\n";
    for (const auto& c : commands()) {
        std::string head = std::string(c.name) + " " + c.args;
        out << "  " << head << std::string(head.size() < 40 ? 40 - head.size() : 1, ' ') << c.summary << "\n";
    }
    out << "\nGlobal options:\n"
           "  --conf-dir DIR      configuration directory (default /etc/beancounter; env BEANCOUNTER_CONF_DIR)\n"
           "  --lib-dir DIR       state directory (default /var/lib/beancounter; env BEANCOUNTER_LIB_DIR)\n"
           "  --run-dir DIR       runtime directory (default /run/beancounter; env BEANCOUNTER_RUN_DIR)\n"
           "  --cgroup-prefix N   cgroup name for all containers (default beancounter; env BEANCOUNTER_CGROUP_PREFIX)\n"
           "  -v, --verbose       details of every step\n"
           "  -q, --quiet         errors only\n"
           "  -h, --help          this text; COMMAND --help for a command's options\n"
           "  --version           print the version\n"
           "\nExit status: 0 success, 1 runtime error, 2 usage error; exec returns the command's status.\n"
           "See beanctl(8).\n";
}
}  // namespace

int main(int argc, char** argv) {
    bc::log::set_program("beanctl");
    Context ctx;
    int i = 1;
    int verbosity = 0;
    // Global options come before the command; everything after it belongs to the command.
    auto need_value = [&](std::string_view opt) -> const char* {
        if (i + 1 >= argc) {
            std::cerr << "beanctl: option " << opt << " needs a value\n";
            std::exit(kExitUsage);
        }
        return argv[++i];
    };
    for (; i < argc && argv[i][0] == '-'; ++i) {
        std::string_view a = argv[i];
        if (a == "-h" || a == "--help") {
            print_usage(std::cout);
            return kExitOk;
        } else if (a == "--version") {
            std::cout << "beanctl " << BC_VERSION << "\n";
            return kExitOk;
        } else if (a == "-v" || a == "--verbose") {
            ++verbosity;
        } else if (a == "-q" || a == "--quiet") {
            verbosity = -1;
        } else if (a == "--conf-dir") {
            ctx.overrides.conf_dir = need_value(a);
        } else if (a == "--lib-dir") {
            ctx.overrides.lib_dir = need_value(a);
        } else if (a == "--run-dir") {
            ctx.overrides.run_dir = need_value(a);
        } else if (a == "--cgroup-prefix") {
            ctx.overrides.cgroup_prefix = need_value(a);
        } else {
            std::cerr << "beanctl: unknown global option " << a << "\nTry 'beanctl --help'.\n";
            return kExitUsage;
        }
    }
    // Default: progress of slow steps (template builds, clean-ups) and warnings; -v adds
    // the details of each step, -q leaves errors only.
    bc::log::set_level(verbosity < 0 ? bc::log::Level::error : verbosity == 0 ? bc::log::Level::info : bc::log::Level::debug);
    ctx.overrides.from_environment();
    if (i >= argc) {
        print_usage(std::cerr);
        return kExitUsage;
    }
    std::string name = argv[i++];
    if (name == "delete") name = "destroy";
    for (const auto& c : commands()) {
        if (name != c.name) continue;
        std::vector<std::string> args(argv + i, argv + argc);
        try {
            return c.run(ctx, name, std::move(args));
        } catch (const UsageError& e) {
            std::cerr << "beanctl " << name << ": " << e.msg << "\nTry 'beanctl " << name << " --help'.\n";
            return kExitUsage;
        } catch (const po::error& e) {
            std::cerr << "beanctl " << name << ": " << e.what() << "\nTry 'beanctl " << name << " --help'.\n";
            return kExitUsage;
        }
    }
    std::cerr << "beanctl: unknown command '" << name << "'\nTry 'beanctl --help'.\n";
    return kExitUsage;
}
