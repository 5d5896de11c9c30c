#include "config/netif.h"

#include <fmt/format.h>

#include "config/ctconfig.h"

namespace bc {

namespace {
std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    for (size_t pos = 0;;) {
        size_t at = s.find(sep, pos);
        out.push_back(s.substr(pos, at == std::string_view::npos ? std::string_view::npos : at - pos));
        if (at == std::string_view::npos) return out;
        pos = at + 1;
    }
}
bool valid_mac(std::string_view m) {
    if (m.size() != 17) return false;
    for (size_t i = 0; i < 17; ++i)
        if (i % 3 == 2 ? m[i] != ':' : !std::isxdigit(static_cast<unsigned char>(m[i]))) return false;
    return true;
}
Result<NetIf> check(NetIf n, std::string_view whole) {
    // Host-side names may be ours (bc<CTID>.<n>); a container's side any name but lo.
    if (!valid_link_name(n.ifname) || n.ifname == "lo")
        return fail(fmt::format("'{}': the container's interface name must be 1-15 characters of A-Za-z0-9_.-, not lo", whole));
    for (const auto* m : {&n.mac, &n.host_mac})
        if (!m->empty() && !valid_mac(*m)) return fail(fmt::format("'{}': '{}' is not a MAC address (xx:xx:xx:xx:xx:xx)", whole, *m));
    if (!n.host_ifname.empty() && !valid_link_name(n.host_ifname))
        return fail(fmt::format("'{}': '{}' is not an interface name", whole, n.host_ifname));
    if (!n.bridge.empty() && !valid_ifname(n.bridge))
        return fail(fmt::format("'{}': '{}' is not a bridge name", whole, n.bridge));
    return n;
}
}  // namespace

Result<NetIf> parse_netif_arg(std::string_view s) {
    auto f = split(s, ',');
    if (f.size() > 5) return fail(fmt::format("'{}': at most IFNAME,MAC,HOST_IFNAME,HOST_MAC,BRIDGE", s));
    f.resize(5);
    return check(NetIf{std::string(f[0]), std::string(f[1]), std::string(f[2]), std::string(f[3]), std::string(f[4])}, s);
}

Result<std::vector<NetIf>> parse_netifs(std::string_view s) {
    std::vector<NetIf> out;
    for (auto entry : split(s, ';')) {
        if (entry.empty()) continue;
        NetIf n;
        for (auto kv : split(entry, ',')) {
            auto eq = kv.find('=');
            if (eq == std::string_view::npos) return fail(fmt::format("'{}': expected key=value", kv));
            auto k = kv.substr(0, eq);
            std::string v(kv.substr(eq + 1));
            if (k == "ifname") n.ifname = v;
            else if (k == "mac") n.mac = v;
            else if (k == "host_ifname") n.host_ifname = v;
            else if (k == "host_mac") n.host_mac = v;
            else if (k == "bridge") n.bridge = v;
            else return fail(fmt::format("'{}': unknown key {}", entry, k));
        }
        out.push_back(BC_TRY(check(std::move(n), entry)));
    }
    return out;
}

std::string format_netifs(const std::vector<NetIf>& v) {
    std::string out;
    for (const auto& n : v) {
        if (!out.empty()) out += ';';
        out += "ifname=" + n.ifname;
        if (!n.mac.empty()) out += ",mac=" + n.mac;
        if (!n.host_ifname.empty()) out += ",host_ifname=" + n.host_ifname;
        if (!n.host_mac.empty()) out += ",host_mac=" + n.host_mac;
        if (!n.bridge.empty()) out += ",bridge=" + n.bridge;
    }
    return out;
}

void name_host_sides(std::vector<NetIf>& v, Ctid id) {
    for (auto& n : v) {
        if (!n.host_ifname.empty()) continue;
        for (unsigned i = 0;; ++i) {
            std::string cand = fmt::format("bc{}.{}", id, i);
            if (std::none_of(v.begin(), v.end(), [&](const NetIf& o) { return o.host_ifname == cand; })) {
                n.host_ifname = cand;
                break;
            }
        }
    }
}

}  // namespace bc
