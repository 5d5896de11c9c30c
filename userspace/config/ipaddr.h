// IP addresses of a container (IP_ADDRESS="10.0.0.5 fd00::5/64", vzctl's --ipadd).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace bc {

struct IpAddr {
    int family = 0;                       // AF_INET or AF_INET6
    std::array<std::uint8_t, 16> bytes{};  // IPv4 in the first 4
    unsigned prefix = 0;                  // as given; 32 or 128 when none was
    bool same_address(const IpAddr& o) const { return family == o.family && bytes == o.bytes; }
    unsigned full() const { return family == 2 /* AF_INET */ ? 32 : 128; }
    std::string address() const;  // without the prefix
    std::string text() const;     // with the prefix when it is not the full length
    friend bool operator==(const IpAddr&, const IpAddr&) = default;
};

// "10.0.0.5", "10.0.0.5/24", "fd00::5", "fd00::5/64". Refused: network, broadcast-only
// forms are allowed (a container may hold any unicast address), but not unspecified,
// loopback, multicast or link-local addresses.
Result<IpAddr> parse_ip(std::string_view s);
Result<std::vector<IpAddr>> parse_ips(std::string_view s);
std::string format_ips(const std::vector<IpAddr>& v);

}  // namespace bc
