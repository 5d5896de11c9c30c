// Route netlink, through libnl-route: links (veth pairs), addresses and routes, in the
// network namespace the socket was opened in.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "config/ipaddr.h"
#include "core/error.h"

struct nl_sock;

namespace bc::net {

class Rtnl {
public:
    // A socket in the caller's network namespace.
    static Result<Rtnl> open();
    // A socket in the network namespace of netns_fd (the caller switches there and back).
    static Result<Rtnl> open_in(int netns_fd);

    // A veth pair: `name` here, `peer_name` in the namespace of peer_netns_fd.
    Result<> add_veth(const std::string& name, const std::string& peer_name, int peer_netns_fd);
    // Index of a link by name; nullopt when there is none.
    Result<std::optional<int>> ifindex(const std::string& name);
    Result<> set_up(int ifindex);
    Result<> del_link(int ifindex);
    // Moves a link into the network namespace of netns_fd (keeping its name).
    Result<> move_link(int ifindex, int netns_fd);
    // The link's MAC address ("xx:xx:xx:xx:xx:xx").
    Result<> set_mac(int ifindex, const std::string& mac);
    // Makes the link a port of a bridge (master_ifindex).
    Result<> set_master(int ifindex, int master_ifindex);
    // A link of a type with no options ("dummy", "bridge"): for tests.
    Result<> add_link(const std::string& name, const char* type);
    // An address on a link. nodad: usable at once (IPv6); noprefixroute: no on-link route
    // for the prefix (every destination goes through the default route).
    Result<> add_addr(int ifindex, const IpAddr& a, bool nodad, bool noprefixroute, bool link_scope = false);
    Result<> del_addr(int ifindex, const IpAddr& a);
    // A route to dst (its prefix) out of ifindex, through gateway (onlink) or directly.
    Result<> add_route(int ifindex, const IpAddr& dst, const std::optional<IpAddr>& gateway);
    Result<> del_route(int ifindex, const IpAddr& dst);

private:
    struct Free {
        void operator()(nl_sock*) const;
    };
    std::unique_ptr<nl_sock, Free> sk_;
};

}  // namespace bc::net
