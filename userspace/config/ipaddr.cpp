#include "config/ipaddr.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <charconv>
#include <fmt/format.h>

namespace bc {

std::string IpAddr::address() const {
    char buf[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(family, bytes.data(), buf, sizeof buf);
    return buf;
}

std::string IpAddr::text() const { return prefix == full() ? address() : fmt::format("{}/{}", address(), prefix); }

Result<IpAddr> parse_ip(std::string_view s) {
    IpAddr a;
    std::string addr(s.substr(0, s.find('/')));
    if (::inet_pton(AF_INET, addr.c_str(), a.bytes.data()) == 1)
        a.family = AF_INET;
    else if (::inet_pton(AF_INET6, addr.c_str(), a.bytes.data()) == 1)
        a.family = AF_INET6;
    else
        return fail(fmt::format("'{}' is not an IPv4 or IPv6 address", s));
    a.prefix = a.full();
    if (auto slash = s.find('/'); slash != std::string_view::npos) {
        auto p = s.substr(slash + 1);
        unsigned n = 0;
        auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), n);
        if (p.empty() || ec != std::errc() || end != p.data() + p.size() || n > a.full())
            return fail(fmt::format("'{}': the prefix length must be 0 to {}", s, a.full()));
        a.prefix = n;
    }
    const auto& b = a.bytes;
    bool bad = false;
    if (a.family == AF_INET) {
        bad = b[0] == 0 || b[0] == 127 || b[0] >= 224 || (b[0] == 169 && b[1] == 254);
    } else {
        bool zero = true;
        for (int i = 0; i < 15; ++i) zero = zero && b[i] == 0;
        bad = (zero && (b[15] == 0 || b[15] == 1)) || b[0] == 0xff || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
    }
    if (bad) return fail(fmt::format("'{}' cannot be a container's address (unspecified, loopback, multicast or link-local)", s));
    return a;
}

Result<std::vector<IpAddr>> parse_ips(std::string_view s) {
    std::vector<IpAddr> out;
    size_t pos = 0;
    while (pos < s.size()) {
        size_t sp = s.find(' ', pos);
        if (sp == std::string_view::npos) sp = s.size();
        if (sp > pos) out.push_back(BC_TRY(parse_ip(s.substr(pos, sp - pos))));
        pos = sp + 1;
    }
    return out;
}

std::string format_ips(const std::vector<IpAddr>& v) {
    std::string out;
    for (const auto& a : v) out += (out.empty() ? "" : " ") + a.text();
    return out;
}

}  // namespace bc
