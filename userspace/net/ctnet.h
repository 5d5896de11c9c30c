// A container's network in routed (venet-like) mode: one veth pair per container, the host
// side named bc<CTID>, the container's side eth0. The container's addresses are on eth0
// (no on-link prefix route), its default routes go to the host side (169.254.0.1 and
// fe80::1, which the host side holds), and the host has one route per container address
// to bc<CTID>. The host side forwards what the container sends (that link only) and drops
// what it sends from an address that is not its own (bpf/net.bpf.c; and reverse-path
// filtering for IPv4). The host side of every link counts the container's traffic.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "config/ctconfig.h"
#include "config/ipaddr.h"
#include "config/netif.h"
#include "config/settings.h"
#include "core/error.h"

namespace bc::net {

std::string host_ifname(Ctid id);

// At start, before init runs: the veth, addresses and routes on both sides, the guard.
Result<> setup(const Settings& s, const CtConfig& ct, pid_t init_pid);
// Live changes of a running container's addresses.
Result<> add_addresses(const Settings& s, const CtConfig& ct, pid_t init_pid, const std::vector<IpAddr>& add);
Result<> del_addresses(const Settings& s, const CtConfig& ct, pid_t init_pid, const std::vector<IpAddr>& del);
// Host interfaces given to a container (NETDEV, vzctl's --netdev_add): moved into its
// network namespace, keeping their names, and back to the host's (names: valid_ifname()).
Result<> move_in(pid_t init_pid, const std::vector<std::string>& names);
// Back to the host (those still in the container; others are skipped). Best done while the
// container runs: when its network namespace goes, the kernel destroys virtual interfaces
// (dummy, veth) that are still in it and returns physical ones.
Result<> move_out(pid_t init_pid, const std::vector<std::string>& names);

// The addresses a running container has now (they may differ from its config after an
// unsaved `set`); empty when it has no veth.
Result<std::vector<IpAddr>> live_addresses(const Settings& s, Ctid id);
// Bridged interfaces (NETIF): a veth pair each, the container's side named as configured
// (up, no address: the container configures it), the host side up and, with a bridge, its
// port.
// Each host side counts the container's traffic (bpf/boundary.h).
Result<> add_netifs(const Settings& s, const CtConfig& ct, pid_t init_pid, const std::vector<NetIf>& add);
Result<> del_netifs(const Settings& s, const std::vector<NetIf>& del);
// At stop (and after a failed start): the host sides (each pair goes with its host side),
// their bc_links entries (what they carried stays in the container's traffic) and the
// guard's entries: bc<CTID>, bc<CTID>.<n>, and the host sides named in `netifs`.
// Nothing there is fine.
Result<> teardown(const Settings& s, Ctid id, const std::vector<NetIf>& netifs = {});

}  // namespace bc::net
