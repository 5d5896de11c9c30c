#include "net/ctnet.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <fmt/format.h>

#include "beancounter_abi.h"
#include "bpf/boundary.h"
#include "core/fd.h"
#include "core/fs.h"
#include "core/log.h"
#include "net/rtnl.h"

namespace bc::net {

namespace {
constexpr const char* kCtIfname = "eth0";
IpAddr gw4() {
    IpAddr a;
    a.family = AF_INET;
    a.bytes[0] = 169;
    a.bytes[1] = 254;
    a.bytes[3] = 1;
    a.prefix = 32;
    return a;
}
IpAddr gw6() {
    IpAddr a;
    a.family = AF_INET6;
    a.bytes[0] = 0xfe;
    a.bytes[1] = 0x80;
    a.bytes[15] = 1;
    a.prefix = 64;
    return a;
}
IpAddr default_route(int family) {
    IpAddr a;
    a.family = family;
    a.prefix = 0;
    return a;
}
IpAddr host_route(const IpAddr& a) {
    IpAddr r = a;
    r.prefix = r.full();
    return r;
}

bc_net_addr_key addr_key(int ifindex, const IpAddr& a) {
    bc_net_addr_key k{};
    k.ifindex = static_cast<__u32>(ifindex);
    k.family = a.family == AF_INET ? 4 : 6;
    std::memcpy(k.addr, a.bytes.data(), a.family == AF_INET ? 4 : 16);
    return k;
}

Result<Fd> addr_map(const Settings& s) {
    int fd = ::bpf_obj_get((s.bpf_dir + "/bc_net_addrs").c_str());
    if (fd < 0) return fail_sys(fmt::format("opening {}/bc_net_addrs", s.bpf_dir));
    return Fd(fd);
}

Result<> drop_guard_entries(const Settings& s, int ifindex) {
    if (!fs::exists(s.bpf_dir + "/bc_net_addrs")) return {};
    auto m = BC_TRY(addr_map(s));
    std::vector<bc_net_addr_key> stale;
    bc_net_addr_key k{}, next{};
    for (bool first = true; ::bpf_map_get_next_key(m.get(), first ? nullptr : &k, &next) == 0; first = false) {
        k = next;
        if (k.ifindex == static_cast<__u32>(ifindex)) stale.push_back(k);
    }
    for (auto& e : stale) ::bpf_map_delete_elem(m.get(), &e);
    return {};
}

// A host side is deleted: the pair goes with it, and with it its routes and programs; its
// bc_links entry goes (what it carried stays in the container's traffic), and the guard
// forgets it.
Result<> delete_host_side(const Settings& s, Rtnl& host, int ifindex) {
    BC_TRYV(host.del_link(ifindex));
    if (fs::exists(s.bpf_dir + "/bc_links")) BC_TRYV(bpf::retire_boundary(s.bpf_dir, ifindex));
    return drop_guard_entries(s, ifindex);
}

Result<Fd> netns_of(pid_t pid) {
    Fd fd(::open(fmt::format("/proc/{}/ns/net", pid).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail_sys("opening the container's network namespace");
    return fd;
}

// Host side and container side of one address.
Result<> add_one(const Settings& s, Rtnl& host, Rtnl& inside, int host_if, int ct_if, const IpAddr& a) {
    auto m = BC_TRY(addr_map(s));
    bc_net_addr_key k = addr_key(host_if, a);
    __u32 v = a.prefix;
    if (::bpf_map_update_elem(m.get(), &k, &v, BPF_ANY) < 0) return fail_sys(fmt::format("allowing {} in the guard", a.text()));
    BC_TRYV(inside.add_addr(ct_if, a, true, true));
    BC_TRYV(host.add_route(host_if, host_route(a), std::nullopt));
    return {};
}

Result<> default_routes(Rtnl& inside, int ct_if, const std::vector<IpAddr>& addrs) {
    bool v4 = false, v6 = false;
    for (const auto& a : addrs) (a.family == AF_INET ? v4 : v6) = true;
    if (v4) BC_TRYV(inside.add_route(ct_if, default_route(AF_INET), gw4()));
    if (v6) BC_TRYV(inside.add_route(ct_if, default_route(AF_INET6), gw6()));
    return {};
}
}  // namespace

std::string host_ifname(Ctid id) { return fmt::format("bc{}", id); }

Result<std::vector<IpAddr>> live_addresses(const Settings& s, Ctid id) {
    std::vector<IpAddr> out;
    auto host = BC_TRY(Rtnl::open());
    auto idx = BC_TRY(host.ifindex(host_ifname(id)));
    if (!idx || !fs::exists(s.bpf_dir + "/bc_net_addrs")) return out;
    auto m = BC_TRY(addr_map(s));
    bc_net_addr_key k{}, next{};
    for (bool first = true; ::bpf_map_get_next_key(m.get(), first ? nullptr : &k, &next) == 0; first = false) {
        k = next;
        __u32 prefix = 0;
        if (k.ifindex != static_cast<__u32>(*idx) || ::bpf_map_lookup_elem(m.get(), &k, &prefix) < 0) continue;
        IpAddr a;
        a.family = k.family == 4 ? AF_INET : AF_INET6;
        std::memcpy(a.bytes.data(), k.addr, k.family == 4 ? 4 : 16);
        a.prefix = prefix;
        out.push_back(a);
    }
    return out;
}

namespace {
// The pair and the host side's settings; returns the two ends' indexes.
Result<std::pair<int, int>> make_link(const Settings& s, const CtConfig& ct, const Fd& ns, Rtnl& host, Rtnl& inside) {
    const std::string name = host_ifname(ct.id);
    if (auto stale = BC_TRY(host.ifindex(name))) {
        log::info("removing a leftover {}", name);
        BC_TRYV(delete_host_side(s, host, *stale));
    }
    BC_TRYV(host.add_veth(name, kCtIfname, ns.get()));
    auto host_if = BC_TRY(host.ifindex(name));
    if (!host_if) return fail(fmt::format("{} vanished after it was made", name));
    // Forward what the container sends (this link only), drop what fails the reverse path
    // (a source that is not routed back here), answer neighbour discovery for fe80::1.
    const std::string v4 = "/proc/sys/net/ipv4/conf/" + name, v6 = "/proc/sys/net/ipv6/conf/" + name;
    BC_TRYV(fs::write_existing(v4 + "/forwarding", "1"));
    BC_TRYV(fs::write_existing(v4 + "/rp_filter", "1"));
    if (fs::exists(v6)) BC_TRYV(fs::write_existing(v6 + "/accept_dad", "0"));
    BC_TRYV(drop_guard_entries(s, *host_if));
    BC_TRYV(bpf::attach_boundary(s.bpf_dir, *host_if, ct.id, bpf::Boundary::routed));
    BC_TRYV(host.add_addr(*host_if, gw4(), false, false, true));
    if (fs::exists(v6)) BC_TRYV(host.add_addr(*host_if, gw6(), true, true));
    BC_TRYV(host.set_up(*host_if));
    auto ct_if = BC_TRY(inside.ifindex(kCtIfname));
    if (!ct_if) return fail("the container's eth0 is missing");
    BC_TRYV(inside.set_up(*ct_if));
    return std::pair{*host_if, *ct_if};
}
}  // namespace

Result<> setup(const Settings& s, const CtConfig& ct, pid_t init_pid) {
    // A container without addresses has loopback only; its link comes with its first address.
    if (ct.ips.empty()) return {};
    auto ns = BC_TRY(netns_of(init_pid));
    auto host = BC_TRY(Rtnl::open());
    auto inside = BC_TRY(Rtnl::open_in(ns.get()));
    auto [host_if, ct_if] = BC_TRY(make_link(s, ct, ns, host, inside));
    for (const auto& a : ct.ips) BC_TRYV(add_one(s, host, inside, host_if, ct_if, a));
    return default_routes(inside, ct_if, ct.ips);
}

Result<> add_addresses(const Settings& s, const CtConfig& ct, pid_t init_pid, const std::vector<IpAddr>& add) {
    if (add.empty()) return {};
    auto ns = BC_TRY(netns_of(init_pid));
    auto host = BC_TRY(Rtnl::open());
    auto inside = BC_TRY(Rtnl::open_in(ns.get()));
    auto host_if = BC_TRY(host.ifindex(host_ifname(ct.id)));
    auto ct_if = BC_TRY(inside.ifindex(kCtIfname));
    if (!host_if || !ct_if) {
        // The first address of a container started without any: its link now.
        auto [h, c] = BC_TRY(make_link(s, ct, ns, host, inside));
        host_if = h;
        ct_if = c;
    }
    for (const auto& a : add) BC_TRYV(add_one(s, host, inside, *host_if, *ct_if, a));
    std::vector<IpAddr> all = ct.ips;
    all.insert(all.end(), add.begin(), add.end());
    return default_routes(inside, *ct_if, all);
}

Result<> del_addresses(const Settings& s, const CtConfig& ct, pid_t init_pid, const std::vector<IpAddr>& del) {
    auto ns = BC_TRY(netns_of(init_pid));
    auto host = BC_TRY(Rtnl::open());
    auto host_if = BC_TRY(host.ifindex(host_ifname(ct.id)));
    if (!host_if) return {};
    auto inside = BC_TRY(Rtnl::open_in(ns.get()));
    auto ct_if = BC_TRY(inside.ifindex(kCtIfname));
    auto m = BC_TRY(addr_map(s));
    for (const auto& a : del) {
        // Route first: from here on nothing is sent to the container for it.
        BC_TRYV(host.del_route(*host_if, host_route(a)));
        if (ct_if) BC_TRYV(inside.del_addr(*ct_if, a));
        bc_net_addr_key k = addr_key(*host_if, a);
        ::bpf_map_delete_elem(m.get(), &k);
    }
    return {};
}

Result<> move_in(pid_t init_pid, const std::vector<std::string>& names) {
    if (names.empty()) return {};
    auto ns = BC_TRY(netns_of(init_pid));
    auto host = BC_TRY(Rtnl::open());
    std::vector<std::string> moved;
    auto undo = [&](Error e) -> Result<> {
        if (!moved.empty()) (void)move_out(init_pid, moved);
        return std::unexpected(std::move(e));
    };
    for (const auto& n : names) {
        auto idx = host.ifindex(n);
        if (!idx) return undo(idx.error());
        if (!*idx) return undo(Error{ENODEV, fmt::format("the host has no interface {}", n)});
        if (auto r = host.move_link(**idx, ns.get()); !r) return undo(r.error());
        moved.push_back(n);
    }
    return {};
}

Result<> move_out(pid_t init_pid, const std::vector<std::string>& names) {
    if (names.empty()) return {};
    auto ns = BC_TRY(netns_of(init_pid));
    Fd home(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!home) return fail_sys("opening the host's network namespace");
    auto inside = BC_TRY(Rtnl::open_in(ns.get()));
    auto host = BC_TRY(Rtnl::open());
    for (const auto& n : names) {
        auto idx = BC_TRY(inside.ifindex(n));
        if (!idx) continue;
        if (BC_TRY(host.ifindex(n))) return fail(fmt::format("cannot return {} to the host: the host has an interface of that name", n));
        BC_TRYV(inside.move_link(*idx, home.get()));
    }
    return {};
}

Result<> add_netifs(const Settings& s, const CtConfig& ct, pid_t init_pid, const std::vector<NetIf>& add) {
    if (add.empty()) return {};
    auto ns = BC_TRY(netns_of(init_pid));
    auto host = BC_TRY(Rtnl::open());
    auto inside = BC_TRY(Rtnl::open_in(ns.get()));
    std::vector<NetIf> made;
    auto undo = [&](Error e) -> Result<> {
        (void)del_netifs(s, made);
        return std::unexpected(std::move(e).wrap(fmt::format("container {}", ct.id)));
    };
    for (const auto& n : add) {
        std::optional<int> bridge;
        if (!n.bridge.empty()) {
            auto b = host.ifindex(n.bridge);
            if (!b) return undo(b.error());
            if (!*b) return undo(Error{ENODEV, fmt::format("the host has no bridge {}", n.bridge)});
            bridge = **b;
        }
        if (auto inner = inside.ifindex(n.ifname); inner && *inner)
            return undo(Error{EEXIST, fmt::format("the container has an interface {} already", n.ifname)});
        if (auto r = host.add_veth(n.host_ifname, n.ifname, ns.get()); !r) return undo(r.error());
        made.push_back(n);
        auto h = host.ifindex(n.host_ifname);
        auto c = inside.ifindex(n.ifname);
        if (!h || !*h || !c || !*c) return undo(Error{ENODEV, fmt::format("{} vanished after it was made", n.host_ifname)});
        Result<> r;
        if (r && !n.host_mac.empty()) r = host.set_mac(**h, n.host_mac);
        if (r && !n.mac.empty()) r = inside.set_mac(**c, n.mac);
        if (r) r = bpf::attach_boundary(s.bpf_dir, **h, ct.id, bpf::Boundary::bridged);
        if (r && bridge) r = host.set_master(**h, *bridge);
        if (r) r = host.set_up(**h);
        if (r) r = inside.set_up(**c);
        if (!r) return undo(r.error());
    }
    return {};
}

Result<> del_netifs(const Settings& s, const std::vector<NetIf>& del) {
    if (del.empty()) return {};
    auto host = BC_TRY(Rtnl::open());
    for (const auto& n : del)
        if (auto idx = BC_TRY(host.ifindex(n.host_ifname))) BC_TRYV(delete_host_side(s, host, *idx));
    return {};
}

Result<> teardown(const Settings& s, Ctid id, const std::vector<NetIf>& netifs) {
    auto host = BC_TRY(Rtnl::open());
    if (auto idx = BC_TRY(host.ifindex(host_ifname(id)))) BC_TRYV(delete_host_side(s, host, *idx));
    // Bridged host sides: named in the config, or by default bc<CTID>.<n>.
    std::vector<NetIf> sides = netifs;
    const std::string prefix = host_ifname(id) + ".";
    if (auto names = fs::list_dir("/sys/class/net"))
        for (const auto& n : *names)
            if (n.starts_with(prefix)) sides.push_back(NetIf{"", "", n, "", ""});
    BC_TRYV(del_netifs(s, sides));
    if (fs::exists(s.bpf_dir + "/bc_links")) BC_TRYV(bpf::retire_container(s.bpf_dir, id));
    return {};
}

}  // namespace bc::net
