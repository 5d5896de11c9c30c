// Bridged interfaces of a container (NETIF, vzctl's --netif_add): a veth pair whose
// container side is named as the admin wants and whose host side may join a host bridge.
// The container configures its addresses on it itself (static, DHCP).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/ctid.h"
#include "core/error.h"

namespace bc {

struct NetIf {
    std::string ifname;       // inside the container
    std::string mac;          // of the container's side; empty: the kernel's
    std::string host_ifname;  // empty: bc<CTID>.<n>, n from 0
    std::string host_mac;
    std::string bridge;       // host bridge the host side joins; empty: none
    friend bool operator==(const NetIf&, const NetIf&) = default;
};

// vzctl's --netif_add syntax: IFNAME[,MAC[,HOST_IFNAME[,HOST_MAC[,BRIDGE]]]], empty fields
// for the defaults.
Result<NetIf> parse_netif_arg(std::string_view s);
// The config form: "ifname=eth1,mac=...,host_ifname=...,host_mac=...,bridge=br0;ifname=..."
Result<std::vector<NetIf>> parse_netifs(std::string_view s);
std::string format_netifs(const std::vector<NetIf>& v);
// Fills empty host_ifname fields with bc<CTID>.<n> not used by another entry.
void name_host_sides(std::vector<NetIf>& v, Ctid id);

}  // namespace bc
