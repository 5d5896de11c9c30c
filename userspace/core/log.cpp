#include "core/log.h"

#include <unistd.h>

#include <string>

namespace bc::log {
namespace {
Level g_level = Level::warn;
std::string g_program = "beancounter";
}  // namespace

void set_level(Level l) { g_level = l; }
Level level() { return g_level; }
void set_program(std::string_view name) { g_program = name; }

void write(Level l, std::string_view msg) {
    static constexpr std::string_view tags[] = {"error: ", "warning: ", "", "debug: "};
    std::string line = g_program + ": ";
    line += tags[static_cast<int>(l)];
    line += msg;
    line += '\n';
    // One write(2) per line so that lines from several processes do not interleave.
    (void)!::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace bc::log
