// The one logging facility: leveled messages to stderr, prefixed with the program name.
#pragma once

#include <fmt/format.h>
#include <string_view>

namespace bc::log {

enum class Level { error = 0, warn = 1, info = 2, debug = 3 };

void set_level(Level l);
Level level();
void set_program(std::string_view name);
void write(Level l, std::string_view msg);

template <class... A>
void error(fmt::format_string<A...> f, A&&... a) { write(Level::error, fmt::format(f, std::forward<A>(a)...)); }
template <class... A>
void warn(fmt::format_string<A...> f, A&&... a) { if (level() >= Level::warn) write(Level::warn, fmt::format(f, std::forward<A>(a)...)); }
template <class... A>
void info(fmt::format_string<A...> f, A&&... a) { if (level() >= Level::info) write(Level::info, fmt::format(f, std::forward<A>(a)...)); }
template <class... A>
void debug(fmt::format_string<A...> f, A&&... a) { if (level() >= Level::debug) write(Level::debug, fmt::format(f, std::forward<A>(a)...)); }

}  // namespace bc::log
