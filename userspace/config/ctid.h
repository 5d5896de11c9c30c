// Container ids: decimal numbers as in OpenVZ. 0 is the host and 1-100 are reserved.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/error.h"

namespace bc {

using Ctid = std::uint32_t;

inline constexpr Ctid kCtidMin = 101;
inline constexpr Ctid kCtidMax = 2147483644;  // OpenVZ's VZCTL_VEID_MAX

// Parses a CTID in canonical form only: digits, no sign, no leading zero, no exponent, in
// [kCtidMin, kCtidMax]. Anything else (including "../1", "0101", "1e3") is an error whose
// message names the input.
Result<Ctid> parse_ctid(std::string_view s);

}  // namespace bc
