#include "config/limits.h"

#include <cctype>
#include <fmt/format.h>

namespace bc {

namespace {
constexpr std::uint64_t kMaxValue = 9223372036854775807ULL;  // LONG_MAX: OpenVZ's unlimited

bool mul_overflows(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
    return __builtin_mul_overflow(a, b, &out);
}
}  // namespace

Result<std::uint64_t> parse_value(std::string_view s, bc_unit unit, std::uint64_t page_size) {
    auto bad = [&](std::string_view why) { return fail(fmt::format("invalid value '{}': {}", s, why)); };
    if (s.empty()) return bad("empty");
    if (s == "unlimited") return kUnlimited;
    size_t i = 0;
    std::uint64_t v = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
        if (mul_overflows(v, 10, v) || __builtin_add_overflow(v, static_cast<std::uint64_t>(s[i] - '0'), &v))
            return bad("number too large");
        ++i;
    }
    if (i == 0) return bad("expected a number or 'unlimited'");
    std::string_view suffix = s.substr(i);
    if (suffix.size() > 1) return bad("unknown suffix (use K, M, G, T, P or B)");
    char c = suffix.empty() ? 0 : static_cast<char>(std::toupper(static_cast<unsigned char>(suffix[0])));
    if (unit == BC_UNIT_COUNT && c) return bad("this parameter is a count and takes no suffix");
    std::uint64_t mult = 1;  // bytes per input unit (0 = the input is already in pages)
    bool in_pages = false;
    switch (c) {
    case 0: in_pages = unit == BC_UNIT_PAGES; break;
    case 'B': mult = 1; break;
    case 'K': mult = 1ULL << 10; break;
    case 'M': mult = 1ULL << 20; break;
    case 'G': mult = 1ULL << 30; break;
    case 'T': mult = 1ULL << 40; break;
    case 'P': in_pages = true; break;
    default: return bad("unknown suffix (use K, M, G, T, P or B)");
    }
    std::uint64_t out;
    if (unit == BC_UNIT_PAGES) {
        if (in_pages) {
            out = v;
        } else {
            std::uint64_t bytes;
            if (mul_overflows(v, mult, bytes)) return bad("number too large");
            out = bytes / page_size + (bytes % page_size ? 1 : 0);
        }
    } else {
        if (mul_overflows(v, in_pages ? page_size : mult, out)) return bad("number too large");
    }
    if (out > kMaxValue) return bad(fmt::format("larger than {} (use 'unlimited')", kMaxValue));
    return out;
}

Result<Limit> parse_limit(std::string_view s, bc_unit unit, std::uint64_t page_size) {
    auto colon = s.find(':');
    if (colon == std::string_view::npos) {
        auto v = parse_value(s, unit, page_size);
        if (!v) return std::unexpected(v.error());
        return Limit{*v, *v};
    }
    if (s.find(':', colon + 1) != std::string_view::npos)
        return fail(fmt::format("invalid value '{}': expected barrier:limit", s));
    auto b = parse_value(s.substr(0, colon), unit, page_size);
    if (!b) return std::unexpected(b.error().wrap(fmt::format("in '{}' (barrier)", s)));
    auto l = parse_value(s.substr(colon + 1), unit, page_size);
    if (!l) return std::unexpected(l.error().wrap(fmt::format("in '{}' (limit)", s)));
    if (*b > *l) return fail(fmt::format("invalid value '{}': barrier is greater than limit", s));
    return Limit{*b, *l};
}

std::string format_value(std::uint64_t v) { return v >= kUnlimited ? "unlimited" : std::to_string(v); }

std::string format_limit(const Limit& l) {
    if (l.barrier == l.limit) return format_value(l.barrier);
    return format_value(l.barrier) + ":" + format_value(l.limit);
}

}  // namespace bc
