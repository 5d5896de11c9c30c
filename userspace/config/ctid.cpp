#include "config/ctid.h"

#include <fmt/format.h>

namespace bc {

Result<Ctid> parse_ctid(std::string_view s) {
    auto bad = [&](std::string_view why) { return fail(fmt::format("invalid CTID '{}': {}", s, why)); };
    if (s.empty()) return bad("empty");
    if (s.size() > 10) return bad(fmt::format("must be a number from {} to {}", kCtidMin, kCtidMax));
    for (char c : s)
        if (c < '0' || c > '9') return bad("only the digits 0-9 are allowed");
    if (s.size() > 1 && s[0] == '0') return bad("leading zeros are not allowed");
    std::uint64_t v = 0;
    for (char c : s) v = v * 10 + static_cast<std::uint64_t>(c - '0');
    if (v < kCtidMin) return bad(fmt::format("CTIDs 0-{} are reserved", kCtidMin - 1));
    if (v > kCtidMax) return bad(fmt::format("the largest CTID is {}", kCtidMax));
    return static_cast<Ctid>(v);
}

}  // namespace bc
