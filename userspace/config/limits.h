// Resource values as OpenVZ writes them: "barrier:limit" or a single value for both, numbers
// with K/M/G/T suffixes (bytes), P (pages) or B (bytes), and "unlimited".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "beancounter_abi.h"
#include "core/error.h"

namespace bc {

inline constexpr std::uint64_t kUnlimited = BC_UNLIMITED;

struct Limit {
    std::uint64_t barrier = kUnlimited;
    std::uint64_t limit = kUnlimited;
    bool operator==(const Limit&) const = default;
};

// Parses one number (no colon) into the resource's native unit:
//   BC_UNIT_COUNT: a plain count, no suffix;
//   BC_UNIT_PAGES: plain = pages; K/M/G/T/B = bytes converted to pages (rounded up); P = pages;
//   BC_UNIT_BYTES: plain = bytes; K/M/G/T multiply; P = pages; B = bytes.
// "unlimited" gives kUnlimited. Values above LONG_MAX are refused.
Result<std::uint64_t> parse_value(std::string_view s, bc_unit unit, std::uint64_t page_size);
Result<Limit> parse_limit(std::string_view s, bc_unit unit, std::uint64_t page_size);

// Canonical text: "unlimited" or the plain number in the native unit; "b:l" (a single value
// when barrier == limit). parse_limit(format_limit(x)) == x.
std::string format_value(std::uint64_t v);
std::string format_limit(const Limit& l);

}  // namespace bc
