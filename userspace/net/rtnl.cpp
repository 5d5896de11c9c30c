#include "net/rtnl.h"

#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/fd.h"

namespace bc::net {

namespace {
std::unexpected<Error> nl_fail(int err, std::string_view what) {
    return std::unexpected(Error{0, fmt::format("{}: {}", what, nl_geterror(err))});
}
template <class T, void (*F)(T*)>
struct Ptr {
    T* p = nullptr;
    ~Ptr() {
        if (p) F(p);
    }
};
using Link = Ptr<rtnl_link, rtnl_link_put>;
using Addr = Ptr<rtnl_addr, rtnl_addr_put>;
using Route = Ptr<rtnl_route, rtnl_route_put>;
using NlAddr = Ptr<nl_addr, nl_addr_put>;

Result<nl_addr*> to_nl(const IpAddr& a, bool with_prefix) {
    nl_addr* n = nl_addr_build(a.family, a.bytes.data(), a.family == AF_INET ? 4 : 16);
    if (!n) return fail(fmt::format("out of memory for {}", a.text()));
    nl_addr_set_prefixlen(n, static_cast<int>(with_prefix ? a.prefix : a.full()));
    return n;
}
}  // namespace

void Rtnl::Free::operator()(nl_sock* s) const { nl_socket_free(s); }

Result<Rtnl> Rtnl::open() {
    Rtnl r;
    r.sk_.reset(nl_socket_alloc());
    if (!r.sk_) return fail("out of memory for a netlink socket");
    if (int err = nl_connect(r.sk_.get(), NETLINK_ROUTE); err < 0) return nl_fail(err, "connecting to route netlink");
    // libnl's own fd: not inherited by anything this process starts.
    ::fcntl(nl_socket_get_fd(r.sk_.get()), F_SETFD, FD_CLOEXEC);
    return r;
}

Result<Rtnl> Rtnl::open_in(int netns_fd) {
    Fd home(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!home) return fail_sys("opening this process's network namespace");
    if (::setns(netns_fd, CLONE_NEWNET) < 0) return fail_sys("entering the container's network namespace");
    auto r = open();
    if (::setns(home.get(), CLONE_NEWNET) < 0) {
        // Never carry on in the wrong namespace.
        std::perror("beanctl: returning to the host's network namespace");
        std::abort();
    }
    return r;
}

Result<> Rtnl::add_veth(const std::string& name, const std::string& peer_name, int peer_netns_fd) {
    Link link{rtnl_link_veth_alloc()};
    if (!link.p) return fail("out of memory for a veth");
    rtnl_link_set_name(link.p, name.c_str());
    rtnl_link* peer = rtnl_link_veth_get_peer(link.p);
    rtnl_link_set_name(peer, peer_name.c_str());
    rtnl_link_set_ns_fd(peer, peer_netns_fd);
    rtnl_link_put(peer);
    if (int err = rtnl_link_add(sk_.get(), link.p, NLM_F_CREATE | NLM_F_EXCL); err < 0)
        return nl_fail(err, fmt::format("creating veth {}", name));
    return {};
}

Result<std::optional<int>> Rtnl::ifindex(const std::string& name) {
    Link l;
    int err = rtnl_link_get_kernel(sk_.get(), 0, name.c_str(), &l.p);
    if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) return std::nullopt;
    if (err < 0) return nl_fail(err, fmt::format("looking up link {}", name));
    return rtnl_link_get_ifindex(l.p);
}

Result<> Rtnl::set_up(int ifindex) {
    Link l, change{rtnl_link_alloc()};
    if (int err = rtnl_link_get_kernel(sk_.get(), ifindex, nullptr, &l.p); err < 0) return nl_fail(err, "looking up a link");
    rtnl_link_set_flags(change.p, IFF_UP);
    if (int err = rtnl_link_change(sk_.get(), l.p, change.p, 0); err < 0)
        return nl_fail(err, fmt::format("bringing {} up", rtnl_link_get_name(l.p)));
    return {};
}

Result<> Rtnl::del_link(int ifindex) {
    Link l{rtnl_link_alloc()};
    rtnl_link_set_ifindex(l.p, ifindex);
    if (int err = rtnl_link_delete(sk_.get(), l.p); err < 0 && err != -NLE_NODEV && err != -NLE_OBJ_NOTFOUND)
        return nl_fail(err, "deleting a link");
    return {};
}

Result<> Rtnl::move_link(int ifindex, int netns_fd) {
    Link l, change{rtnl_link_alloc()};
    if (int err = rtnl_link_get_kernel(sk_.get(), ifindex, nullptr, &l.p); err < 0) return nl_fail(err, "looking up a link");
    rtnl_link_set_ns_fd(change.p, netns_fd);
    if (int err = rtnl_link_change(sk_.get(), l.p, change.p, 0); err < 0)
        return nl_fail(err, fmt::format("moving {} to another network namespace", rtnl_link_get_name(l.p)));
    return {};
}

Result<> Rtnl::set_mac(int ifindex, const std::string& mac) {
    Link l, change{rtnl_link_alloc()};
    if (int err = rtnl_link_get_kernel(sk_.get(), ifindex, nullptr, &l.p); err < 0) return nl_fail(err, "looking up a link");
    NlAddr a;
    if (int err = nl_addr_parse(mac.c_str(), AF_LLC, &a.p); err < 0) return nl_fail(err, fmt::format("MAC address {}", mac));
    rtnl_link_set_addr(change.p, a.p);
    if (int err = rtnl_link_change(sk_.get(), l.p, change.p, 0); err < 0)
        return nl_fail(err, fmt::format("setting the MAC address of {}", rtnl_link_get_name(l.p)));
    return {};
}

Result<> Rtnl::set_master(int ifindex, int master_ifindex) {
    if (int err = rtnl_link_enslave_ifindex(sk_.get(), master_ifindex, ifindex); err < 0) return nl_fail(err, "joining the bridge");
    return {};
}

Result<> Rtnl::add_link(const std::string& name, const char* type) {
    Link l{rtnl_link_alloc()};
    rtnl_link_set_name(l.p, name.c_str());
    if (int err = rtnl_link_set_type(l.p, type); err < 0) return nl_fail(err, fmt::format("link type {}", type));
    if (int err = rtnl_link_add(sk_.get(), l.p, NLM_F_CREATE | NLM_F_EXCL); err < 0)
        return nl_fail(err, fmt::format("creating {}", name));
    return {};
}

Result<> Rtnl::add_addr(int ifindex, const IpAddr& a, bool nodad, bool noprefixroute, bool link_scope) {
    Addr ad{rtnl_addr_alloc()};
    NlAddr local{BC_TRY(to_nl(a, true))};
    rtnl_addr_set_ifindex(ad.p, ifindex);
    rtnl_addr_set_local(ad.p, local.p);
    unsigned flags = (nodad ? IFA_F_NODAD : 0) | (noprefixroute ? IFA_F_NOPREFIXROUTE : 0);
    if (flags) rtnl_addr_set_flags(ad.p, flags);
    if (link_scope) rtnl_addr_set_scope(ad.p, RT_SCOPE_LINK);
    if (int err = rtnl_addr_add(sk_.get(), ad.p, NLM_F_CREATE | NLM_F_REPLACE); err < 0)
        return nl_fail(err, fmt::format("adding address {}", a.text()));
    return {};
}

Result<> Rtnl::del_addr(int ifindex, const IpAddr& a) {
    Addr ad{rtnl_addr_alloc()};
    NlAddr local{BC_TRY(to_nl(a, true))};
    rtnl_addr_set_ifindex(ad.p, ifindex);
    rtnl_addr_set_local(ad.p, local.p);
    if (int err = rtnl_addr_delete(sk_.get(), ad.p, 0); err < 0 && err != -NLE_NOADDR && err != -NLE_OBJ_NOTFOUND)
        return nl_fail(err, fmt::format("removing address {}", a.text()));
    return {};
}

namespace {
Result<rtnl_route*> make_route(int ifindex, const IpAddr& dst, const std::optional<IpAddr>& gateway) {
    Route r{rtnl_route_alloc()};
    NlAddr d{BC_TRY(to_nl(dst, true))};
    rtnl_route_set_family(r.p, static_cast<uint8_t>(dst.family));
    rtnl_route_set_dst(r.p, d.p);
    rtnl_route_set_table(r.p, RT_TABLE_MAIN);
    rtnl_route_set_protocol(r.p, RTPROT_STATIC);
    rtnl_route_set_scope(r.p, gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
    rtnl_nexthop* nh = rtnl_route_nh_alloc();
    rtnl_route_nh_set_ifindex(nh, ifindex);
    if (gateway) {
        NlAddr gw{BC_TRY(to_nl(*gateway, false))};
        rtnl_route_nh_set_gateway(nh, gw.p);
        rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
    }
    rtnl_route_add_nexthop(r.p, nh);
    rtnl_route* out = r.p;
    r.p = nullptr;
    return out;
}
}  // namespace

Result<> Rtnl::add_route(int ifindex, const IpAddr& dst, const std::optional<IpAddr>& gateway) {
    Route r{BC_TRY(make_route(ifindex, dst, gateway))};
    if (int err = rtnl_route_add(sk_.get(), r.p, NLM_F_CREATE | NLM_F_REPLACE); err < 0)
        return nl_fail(err, fmt::format("adding a route to {}", dst.text()));
    return {};
}

Result<> Rtnl::del_route(int ifindex, const IpAddr& dst) {
    Route r{BC_TRY(make_route(ifindex, dst, std::nullopt))};
    if (int err = rtnl_route_delete(sk_.get(), r.p, 0); err < 0 && err != -NLE_OBJ_NOTFOUND)
        return nl_fail(err, fmt::format("removing the route to {}", dst.text()));
    return {};
}

}  // namespace bc::net
