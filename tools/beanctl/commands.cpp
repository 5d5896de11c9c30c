// The beanctl commands. Each parses its own options, calls the library and prints.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <fmt/format.h>
#include <iostream>

#include "acct/resources.h"
#include "bpf/accounting.h"
#include "check.h"
#include "cli.h"
#include "config/ctid.h"
#include "container/exec.h"
#include "container/lifecycle.h"
#include "container/template.h"
#include "core/log.h"
#include "output.h"

namespace po = boost::program_options;
using nlohmann::json;

namespace beanctl {

const bc::Settings& Context::settings() {
    if (!settings_) {
        auto s = bc::Settings::load(overrides);
        if (!s) {
            bc::log::error("{}", s.error().msg);
            std::exit(kExitError);
        }
        settings_ = std::move(*s);
    }
    return *settings_;
}

const bc::cgroup::Layout& Context::layout() {
    if (!layout_) {
        auto l = bc::cgroup::Layout::detect_host();
        if (!l) {
            bc::log::error("{}", l.error().msg);
            std::exit(kExitError);
        }
        layout_ = std::move(*l);
    }
    return *layout_;
}

int report(const bc::Error& e) {
    if (e.err == EACCES && ::geteuid() != 0)
        bc::log::error("{} (beanctl needs root)", e.msg);
    else
        bc::log::error("{}", e.msg);
    return kExitError;
}

namespace {

const Command* find_command(const std::string& name) {
    for (const auto& c : commands())
        if (name == c.name) return &c;
    return nullptr;
}

// Parses a command's arguments. Returns false if --help was printed.
bool parse(const std::string& name, po::options_description opts, const po::positional_options_description& pos,
           const std::vector<std::string>& args, po::variables_map& vm) {
    opts.add_options()("help,h", "show this help");
    po::options_description hidden;
    hidden.add_options()("ctid", po::value<std::string>())("rest", po::value<std::vector<std::string>>());
    po::options_description all;
    all.add(opts).add(hidden);
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
    if (vm.count("help")) {
        const Command* c = find_command(name);
        std::cout << "Usage: beanctl " << name << " " << c->args << "\n\n" << c->summary << "\n\n" << opts;
        return false;
    }
    po::notify(vm);
    return true;
}

bc::Ctid ctid_arg(const po::variables_map& vm) {
    if (!vm.count("ctid")) throw UsageError{"missing CTID"};
    auto id = bc::parse_ctid(vm["ctid"].as<std::string>());
    if (!id) throw UsageError{id.error().msg};
    return *id;
}

po::positional_options_description ctid_only() {
    po::positional_options_description p;
    p.add("ctid", 1);
    return p;
}

bc::container::Manager manager(Context& ctx) {
    if (::geteuid() != 0) {
        bc::log::error("this command needs root");
        std::exit(kExitError);
    }
    return bc::container::Manager(ctx.settings(), ctx.layout());
}

int cmd_create(Context& ctx, const std::string& name, std::vector<std::string> args) {
    po::options_description o("Options");
    o.add_options()("ostemplate", po::value<std::string>(), "template to create the container from (default: busybox, "
                                                             "or DEF_OSTEMPLATE in beancounter.conf)")(
        "hostname", po::value<std::string>(), "the container's host name (default ct<CTID>)")(
        "no-userns", "no user namespace: the container's root is the host's root (for special cases only; warned about)");
    po::variables_map vm;
    if (!parse(name, o, ctid_only(), args, vm)) return kExitOk;
    bc::Ctid id = ctid_arg(vm);
    bc::container::CreateOptions co;
    co.userns = !vm.count("no-userns");
    if (vm.count("ostemplate")) co.ostemplate = vm["ostemplate"].as<std::string>();
    if (vm.count("hostname")) {
        co.hostname = vm["hostname"].as<std::string>();
        if (!bc::valid_hostname(co.hostname)) throw UsageError{fmt::format("invalid host name '{}'", co.hostname)};
    }
    if (!co.ostemplate.empty() && !bc::valid_template_name(co.ostemplate))
        throw UsageError{fmt::format("invalid template name '{}'", co.ostemplate)};
    auto m = manager(ctx);
    if (auto r = m.create(id, co); !r) return report(r.error());
    std::cout << fmt::format("Container {} created\n", id);
    return kExitOk;
}

int cmd_set(Context& ctx, const std::string& name, std::vector<std::string> args) {
    using strings = std::vector<std::string>;
    po::options_description o("Options");
    o.add_options()("save", "also write the container's config (without it, only the running container changes)")(
        "hostname", po::value<std::string>(), "the host name (UTS and /etc/hostname)")(
        "nameserver", po::value<strings>()->composing(), "a resolver address for /etc/resolv.conf (repeatable; 'none' clears)")(
        "searchdomain", po::value<strings>()->composing(), "a search domain for /etc/resolv.conf (repeatable; 'none' clears)")(
        "devices", po::value<strings>()->composing(),
        "grant or revoke a device: c|b:MAJOR:MINOR:[r][w][m] or ...:none; MINOR may be * (repeatable)")(
        "ipadd", po::value<strings>()->composing(), "add an address ADDR[/PREFIX], IPv4 or IPv6 (repeatable)")(
        "ipdel", po::value<strings>()->composing(), "remove an address, or 'all' (repeatable)")(
        "netif_add", po::value<strings>()->composing(),
        "a bridged veth pair: IFNAME[,MAC[,HOST_IFNAME[,HOST_MAC[,BRIDGE]]]] (repeatable)")(
        "netif_del", po::value<strings>()->composing(), "remove a bridged veth pair by the container's IFNAME (repeatable)")(
        "netdev_add", po::value<strings>()->composing(), "move a host interface into the container (repeatable)")(
        "netdev_del", po::value<strings>()->composing(), "move an interface back to the host (repeatable)")(
        "devnodes", po::value<strings>()->composing(),
        "show the host's /dev/NAME inside and grant it: NAME:r|w|rw, or NAME:none to remove (repeatable)");
    po::variables_map vm;
    if (!parse(name, o, ctid_only(), args, vm)) return kExitOk;
    bc::Ctid id = ctid_arg(vm);
    bc::container::SetOptions so;
    so.save = vm.count("save") > 0;
    if (vm.count("hostname")) {
        so.hostname = vm["hostname"].as<std::string>();
        if (!bc::valid_hostname(*so.hostname)) throw UsageError{fmt::format("invalid host name '{}'", *so.hostname)};
    }
    auto list = [&](const char* key, bool (*valid)(std::string_view), const char* what) -> std::optional<strings> {
        if (!vm.count(key)) return std::nullopt;
        strings v = vm[key].as<strings>();
        if (v.size() == 1 && v[0] == "none") return strings{};
        for (const auto& a : v)
            if (!valid(a)) throw UsageError{fmt::format("invalid {} '{}'", what, a)};
        return v;
    };
    so.nameservers = list("nameserver", bc::valid_ip, "name server address");
    so.searchdomains = list("searchdomain", bc::valid_hostname, "search domain");
    if (vm.count("devices"))
        for (const auto& d : vm["devices"].as<strings>()) {
            auto r = bc::parse_device_rule(d);
            if (!r) throw UsageError{r.error().msg};
            so.devices.push_back(*r);
        }
    if (vm.count("devnodes"))
        for (const auto& d : vm["devnodes"].as<strings>()) {
            auto r = bc::parse_devnode(d);
            if (!r) throw UsageError{r.error().msg};
            so.devnodes.push_back(*r);
        }
    if (vm.count("ipadd"))
        for (const auto& a : vm["ipadd"].as<strings>()) {
            auto r = bc::parse_ip(a);
            if (!r) throw UsageError{r.error().msg};
            so.ipadd.push_back(*r);
        }
    if (vm.count("ipdel"))
        for (const auto& a : vm["ipdel"].as<strings>()) {
            if (a == "all") {
                so.ipdel_all = true;
                continue;
            }
            auto r = bc::parse_ip(a);
            if (!r) throw UsageError{r.error().msg};
            so.ipdel.push_back(*r);
        }
    if (vm.count("netif_add"))
        for (const auto& a : vm["netif_add"].as<strings>()) {
            auto r = bc::parse_netif_arg(a);
            if (!r) throw UsageError{r.error().msg};
            so.netif_add.push_back(*r);
        }
    if (vm.count("netif_del")) so.netif_del = vm["netif_del"].as<strings>();
    for (const char* key : {"netdev_add", "netdev_del"})
        if (vm.count(key))
            for (const auto& n : vm[key].as<strings>()) {
                if (!bc::valid_ifname(n)) throw UsageError{fmt::format("'{}' is not an interface name a container may take", n)};
                (std::string_view(key) == "netdev_add" ? so.netdev_add : so.netdev_del).push_back(n);
            }
    if (!so.hostname && !so.nameservers && !so.searchdomains && so.devices.empty() && so.devnodes.empty() && so.ipadd.empty() &&
        so.ipdel.empty() && !so.ipdel_all && so.netdev_add.empty() && so.netdev_del.empty() && so.netif_add.empty() &&
        so.netif_del.empty())
        throw UsageError{"nothing to set"};
    auto m = manager(ctx);
    if (auto r = m.set(id, so); !r) return report(r.error());
    std::cout << fmt::format("Container {} {}\n", id, so.save ? "configured and saved" : "configured (not saved)");
    return kExitOk;
}

int cmd_start(Context& ctx, const std::string& name, std::vector<std::string> args) {
    po::variables_map vm;
    if (!parse(name, po::options_description("Options"), ctid_only(), args, vm)) return kExitOk;
    bc::Ctid id = ctid_arg(vm);
    auto m = manager(ctx);
    if (auto r = m.start(id); !r) return report(r.error());
    std::cout << fmt::format("Container {} started\n", id);
    return kExitOk;
}

void add_stop_options(po::options_description& o) {
    o.add_options()("fast", "kill at once (SIGKILL) instead of asking init to shut down")(
        "timeout", po::value<unsigned>(), "seconds to wait for init before SIGKILL (default STOP_TIMEOUT)")(
        "skip-umount", "leave the container's root mounted");
}

bc::container::StopOptions stop_options(const po::variables_map& vm) {
    bc::container::StopOptions so;
    so.fast = vm.count("fast") > 0;
    so.skip_umount = vm.count("skip-umount") > 0;
    if (vm.count("timeout")) {
        so.timeout = vm["timeout"].as<unsigned>();
        if (so.timeout == 0 || so.timeout > 86400) throw UsageError{"--timeout must be from 1 to 86400 seconds"};
    }
    return so;
}

int cmd_stop(Context& ctx, const std::string& name, std::vector<std::string> args) {
    po::options_description o("Options");
    add_stop_options(o);
    po::variables_map vm;
    if (!parse(name, o, ctid_only(), args, vm)) return kExitOk;
    bc::Ctid id = ctid_arg(vm);
    auto so = stop_options(vm);
    auto m = manager(ctx);
    if (auto r = m.stop(id, so); !r) return report(r.error());
    std::cout << fmt::format("Container {} stopped\n", id);
    return kExitOk;
}

int cmd_restart(Context& ctx, const std::string& name, std::vector<std::string> args) {
    po::options_description o("Options");
    add_stop_options(o);
    po::variables_map vm;
    if (!parse(name, o, ctid_only(), args, vm)) return kExitOk;
    bc::Ctid id = ctid_arg(vm);
    auto so = stop_options(vm);
    auto m = manager(ctx);
    if (auto r = m.restart(id, so); !r) return report(r.error());
    std::cout << fmt::format("Container {} restarted\n", id);
    return kExitOk;
}

int cmd_destroy(Context& ctx, const std::string& name, std::vector<std::string> args) {
    po::variables_map vm;
    if (!parse(name, po::options_description("Options"), ctid_only(), args, vm)) return kExitOk;
    bc::Ctid id = ctid_arg(vm);
    auto m = manager(ctx);
    if (auto r = m.destroy(id); !r) return report(r.error());
    std::cout << fmt::format("Container {} destroyed\n", id);
    return kExitOk;
}

int cmd_unload(Context& ctx, const std::string& name, std::vector<std::string> args) {
    po::variables_map vm;
    if (!parse(name, po::options_description("Options"), po::positional_options_description(), args, vm)) return kExitOk;
    auto m = manager(ctx);
    if (auto r = m.unload(); !r) return report(r.error());
    std::cout << "Accounting unloaded\n";
    return kExitOk;
}

int cmd_mount(Context& ctx, const std::string& name, std::vector<std::string> args) {
    po::variables_map vm;
    if (!parse(name, po::options_description("Options"), ctid_only(), args, vm)) return kExitOk;
    bc::Ctid id = ctid_arg(vm);
    auto m = manager(ctx);
    auto r = name == "mount" ? m.mount(id) : m.umount(id);
    if (!r) return report(r.error());
    std::cout << fmt::format("Container {} {}\n", id, name == "mount" ? "mounted" : "unmounted");
    return kExitOk;
}

// The beancounters of one container as the readers see them.
bc::Result<bc::acct::CtBeancounters> beancounters_of(Context& ctx, const bc::container::CtStatus& st) {
    auto all = BC_TRY(bc::acct::read_all(ctx.settings(), ctx.layout(),
                                         {{st.id, st.running, st.config ? &*st.config : nullptr}}));
    return all.front();
}

int cmd_status(Context& ctx, const std::string& name, std::vector<std::string> args) {
    po::options_description o("Options");
    o.add_options()("json", "print JSON")("beancounters,b", "also print the beancounters (as 'beanctl ubc')");
    po::variables_map vm;
    if (!parse(name, o, ctid_only(), args, vm)) return kExitOk;
    bc::Ctid id = ctid_arg(vm);
    auto st = bc::container::status(ctx.settings(), ctx.layout(), id);
    if (!st) return report(st.error());
    std::optional<bc::acct::CtBeancounters> bcs;
    if (vm.count("beancounters") && st->exists) {
        auto b = beancounters_of(ctx, *st);
        if (!b) return report(b.error());
        bcs = std::move(*b);
    }
    if (vm.count("json")) {
        json j = status_json(*st);
        if (bcs) j["beancounters"] = beancounters_json(*bcs);
        std::cout << j.dump(2) << "\n";
    } else {
        std::cout << status_line(*st) << "\n";
        if (!st->config_error.empty()) std::cerr << fmt::format("beanctl: {}\n", st->config_error);
        if (st->incomplete)
            std::cerr << fmt::format("beanctl: container {} was left incomplete by an interrupted operation; "
                                     "'beanctl destroy {}' removes it\n",
                                     id, id);
        if (bcs) std::cout << bc::acct::format_ubc({*bcs});
    }
    return kExitOk;
}

int cmd_ubc(Context& ctx, const std::string& name, std::vector<std::string> args) {
    po::options_description o("Options");
    o.add_options()("json", "print JSON (vzlist -j's shape: {held, maxheld, barrier, limit, failcnt} per resource)")(
        "all,a", "stopped containers too (their limits; nothing held)");
    po::positional_options_description pos;
    pos.add("rest", -1);
    po::variables_map vm;
    if (!parse(name, o, pos, args, vm)) return kExitOk;
    bc::container::Manager m(ctx.settings(), ctx.layout());
    std::vector<bc::Ctid> ids;
    const bool named = vm.count("rest") > 0;
    if (named) {
        for (const auto& a : vm["rest"].as<std::vector<std::string>>()) {
            auto id = bc::parse_ctid(a);
            if (!id) throw UsageError{id.error().msg};
            ids.push_back(*id);
        }
    } else {
        auto all = m.list_ids();
        if (!all) return report(all.error());
        ids = *all;
    }
    std::vector<bc::container::CtStatus> sts;
    for (auto id : ids) {
        auto st = m.status(id);
        if (!st) return report(st.error());
        if (named && !st->exists) return report(bc::Error{ENOENT, fmt::format("container {} does not exist", id)});
        if (st->running || (st->exists && (named || vm.count("all")))) sts.push_back(std::move(*st));
    }
    std::vector<bc::acct::CtRef> refs;
    for (const auto& st : sts) refs.push_back({st.id, st.running, st.config ? &*st.config : nullptr});
    auto bcs = bc::acct::read_all(ctx.settings(), ctx.layout(), refs);
    if (!bcs) return report(bcs.error());
    if (vm.count("json")) {
        json j = json::array();
        for (const auto& b : *bcs) j.push_back(beancounters_json(b));
        std::cout << j.dump(2) << "\n";
    } else {
        std::cout << bc::acct::format_ubc(*bcs);
    }
    return kExitOk;
}

int cmd_list(Context& ctx, const std::string& name, std::vector<std::string> args) {
    po::options_description o("Options");
    o.add_options()("all,a", "list stopped containers too")("output,o", po::value<std::string>(),
                                                             "comma-separated fields (default ctid,numproc,status,ip,hostname)")(
        "no-header,H", "omit the header")("json", "print JSON")("list-fields,L", "list the fields -o accepts");
    po::variables_map vm;
    if (!parse(name, o, po::positional_options_description(), args, vm)) return kExitOk;
    if (vm.count("list-fields")) {
        for (const auto& f : list_fields()) std::cout << fmt::format("{:<12} {}\n", f.name, f.header);
        return kExitOk;
    }
    auto fields = parse_fields(vm.count("output") ? vm["output"].as<std::string>() : "ctid,numproc,status,ip,hostname");
    if (!fields) throw UsageError{fields.error().msg};
    bc::container::Manager m(ctx.settings(), ctx.layout());
    auto ids = m.list_ids();
    if (!ids) return report(ids.error());
    std::vector<bc::container::CtStatus> rows;
    for (auto id : *ids) {
        auto st = m.status(id);
        if (!st) return report(st.error());
        if (vm.count("all") || st->running) rows.push_back(*st);
    }
    if (vm.count("json"))
        for (const auto& f : *fields)
            if (f.part) throw UsageError{fmt::format("field '{}': suffixed fields are not allowed with --json", f.name)};
    // Beancounter fields of every container: one batch lookup of the BPF maps.
    std::vector<bc::acct::CtBeancounters> bcs;
    bool want_ubc = false;
    for (const auto& f : *fields) want_ubc = want_ubc || f.counted;
    if (want_ubc) {
        std::vector<bc::acct::CtRef> refs;
        for (const auto& st : rows) refs.push_back({st.id, st.running, st.config ? &*st.config : nullptr});
        auto r = bc::acct::read_all(ctx.settings(), ctx.layout(), refs);
        if (!r) return report(r.error());
        bcs = std::move(*r);
    }
    auto bc_of = [&](size_t i) { return want_ubc ? &bcs[i] : nullptr; };
    if (vm.count("json")) {
        json j = json::array();
        for (size_t i = 0; i < rows.size(); ++i) {
            json o2 = json::object();
            for (const auto& f : *fields) o2[f.name] = field_json(f, rows[i], bc_of(i));
            j.push_back(o2);
        }
        std::cout << j.dump(2) << "\n";
        return kExitOk;
    }
    if (!vm.count("no-header")) {
        std::vector<std::string> h;
        for (const auto& f : *fields) h.emplace_back(f.header);
        std::cout << format_row(*fields, h) << "\n";
    }
    for (size_t i = 0; i < rows.size(); ++i) {
        std::vector<std::string> cells;
        for (const auto& f : *fields) cells.push_back(field_value(f, rows[i], bc_of(i)));
        std::cout << format_row(*fields, cells) << "\n";
    }
    return kExitOk;
}

// exec and enter: options end at the CTID; everything after it is the command.
std::pair<std::vector<std::string>, std::vector<std::string>> split_command(std::vector<std::string> args) {
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--") {
            std::vector<std::string> head(args.begin(), args.begin() + static_cast<long>(i));
            return {head, std::vector<std::string>(args.begin() + static_cast<long>(i) + 1, args.end())};
        }
        if (!args[i].starts_with("-")) {
            std::vector<std::string> head(args.begin(), args.begin() + static_cast<long>(i) + 1);
            std::vector<std::string> rest(args.begin() + static_cast<long>(i) + 1, args.end());
            if (!rest.empty() && rest[0] == "--") rest.erase(rest.begin());
            return {head, rest};
        }
    }
    return {args, {}};
}

int cmd_exec(Context& ctx, const std::string& name, std::vector<std::string> args) {
    auto [head, command] = split_command(std::move(args));
    po::variables_map vm;
    if (!parse(name, po::options_description("Options"), ctid_only(), head, vm)) return kExitOk;
    bc::Ctid id = ctid_arg(vm);
    if (command.empty()) throw UsageError{"no command given"};
    auto m = manager(ctx);
    auto ct = bc::CtConfig::load(id, ctx.settings());
    if (!ct) return report(ct.error());
    auto cg = bc::container::ct_cgroup(ctx.layout(), ctx.settings(), id);
    auto r = bc::container::exec_in(ctx.settings(), cg, *ct, command);
    if (!r) return report(r.error());
    return *r;
}

int cmd_enter(Context& ctx, const std::string& name, std::vector<std::string> args) {
    auto [head, command] = split_command(std::move(args));
    // vzctl's form: enter CTID [--exec CMD [ARGS...]]
    if (!command.empty()) {
        if (command[0] != "--exec") throw UsageError{"unexpected arguments after the CTID (use --exec CMD...)"};
        command.erase(command.begin());
        if (command.empty()) throw UsageError{"--exec needs a command"};
    }
    po::variables_map vm;
    if (!parse(name, po::options_description("Options"), ctid_only(), head, vm)) return kExitOk;
    bc::Ctid id = ctid_arg(vm);
    auto m = manager(ctx);
    auto ct = bc::CtConfig::load(id, ctx.settings());
    if (!ct) return report(ct.error());
    auto cg = bc::container::ct_cgroup(ctx.layout(), ctx.settings(), id);
    if (::isatty(0)) std::cerr << fmt::format("entered into container {}\n", id);
    auto r = bc::container::enter(ctx.settings(), cg, *ct, command);
    if (!r) return report(r.error());
    if (::isatty(0)) std::cerr << fmt::format("exited from container {}\n", id);
    return *r;
}

int cmd_check(Context& ctx, const std::string& name, std::vector<std::string> args) {
    po::options_description o("Options");
    o.add_options()("verbose,v", "show libbpf and verifier output of failed probes")("json", "print JSON");
    po::variables_map vm;
    if (!parse(name, o, po::positional_options_description(), args, vm)) return kExitOk;
    bc::kconfig::CheckOptions co;
    co.verbose = vm.count("verbose") > 0;
    co.json = vm.count("json") > 0;
    return bc::kconfig::run_check(ctx.settings(), co, std::cout);
}

int cmd_template(Context& ctx, const std::string& name, std::vector<std::string> args) {
    po::options_description o("Options");
    o.add_options()("force", "rebuild a built-in template even if it is cached")("json", "print JSON (list)");
    po::positional_options_description p;
    p.add("ctid", 1).add("rest", -1);  // action, then template names
    po::variables_map vm;
    if (!parse(name, o, p, args, vm)) return kExitOk;
    std::string action = vm.count("ctid") ? vm["ctid"].as<std::string>() : "list";
    auto names = vm.count("rest") ? vm["rest"].as<std::vector<std::string>>() : std::vector<std::string>{};
    if (action == "list") {
        auto ts = bc::container::list_templates(ctx.settings());
        if (vm.count("json")) {
            json j = json::array();
            for (const auto& t : ts) j.push_back({{"name", t.name}, {"builtin", t.builtin}, {"cached", t.cached}, {"archive", t.archive}});
            std::cout << j.dump(2) << "\n";
        } else {
            std::cout << fmt::format("{:<16} {:<8} {:<7} {}\n", "NAME", "BUILTIN", "CACHED", "ARCHIVE");
            for (const auto& t : ts)
                std::cout << fmt::format("{:<16} {:<8} {:<7} {}\n", t.name, t.builtin ? "yes" : "no", t.cached ? "yes" : "no", t.archive);
        }
        return kExitOk;
    }
    if (action != "build") throw UsageError{fmt::format("unknown action '{}' (list or build)", action)};
    if (names.empty()) throw UsageError{"build: name a template"};
    for (const auto& n : names) {
        if (!bc::valid_template_name(n)) throw UsageError{fmt::format("invalid template name '{}'", n)};
        auto r = bc::container::ensure_template(ctx.settings(), n, vm.count("force") > 0);
        if (!r) return report(r.error());
        std::cout << fmt::format("Template {} is at {}\n", n, *r);
    }
    return kExitOk;
}

}  // namespace

const std::vector<Command>& commands() {
    static const std::vector<Command> table = {
        {"create", "CTID [--ostemplate NAME] [--hostname H]", "create a container from a template", cmd_create},
        {"start", "CTID", "start a container", cmd_start},
        {"stop", "CTID [--fast] [--timeout S] [--skip-umount]", "stop a container (init's stop signal, SIGKILL after the timeout)", cmd_stop},
        {"restart", "CTID [--fast] [--timeout S] [--skip-umount]", "stop (if running) and start a container", cmd_restart},
        {"status", "CTID [--json] [-b]", "print whether a container exists, is mounted, is running", cmd_status},
        {"ubc", "[CTID...] [-a] [--json]",
         "print beancounters in the format of OpenVZ's /proc/user_beancounters (default: every running container)",
         cmd_ubc},
        {"set", "CTID OPTION... [--save]",
         "change a container's settings, live if it runs", cmd_set},
        {"destroy", "CTID", "remove a stopped container (alias: delete)", cmd_destroy},
        {"mount", "CTID", "mount a container's private area on its root", cmd_mount},
        {"umount", "CTID", "unmount a stopped container's root", cmd_mount},
        {"exec", "CTID CMD [ARGS...]", "run a command inside a running container", cmd_exec},
        {"enter", "CTID [--exec CMD...]", "open a shell on a new pty inside a running container", cmd_enter},
        {"list", "[-a] [-o FIELDS] [-H] [-L] [--json]", "list containers (running ones unless -a)", cmd_list},
        {"template", "[list [--json] | build NAME... [--force]]", "list or build OS templates", cmd_template},
        {"check", "[-v] [--json]", "check what the kernel offers beancounter", cmd_check},
        {"unload", "", "remove the accounting programs, every counter and the cgroup prefix nodes (no container may run)",
         cmd_unload},
    };
    return table;
}

}  // namespace beanctl
