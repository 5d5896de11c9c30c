#include "core/log.h"

#include <fmt/format.h>
#include <time.h>
#include <unistd.h>

#include <string>

namespace bc::log {
namespace {
Level g_level = Level::warn;

double monotonic_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}
// Debug lines carry the time since the program started, so that -v shows where time goes.
const double g_start_ms = monotonic_ms();
std::string g_program = "beancounter";
}  // namespace

void set_level(Level l) { g_level = l; }
Level level() { return g_level; }
void set_program(std::string_view name) { g_program = name; }

void write(Level l, std::string_view msg) {
    static constexpr std::string_view tags[] = {"error: ", "warning: ", "", "debug: "};
    std::string line = g_program + ": ";
    line += tags[static_cast<int>(l)];
    if (l == Level::debug) line += fmt::format("[{:8.3f} ms] ", monotonic_ms() - g_start_ms);
    line += msg;
    line += '\n';
    // One write(2) per line so that lines from several processes do not interleave.
    (void)!::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace bc::log
