// The container's network boundary (bpf/net.bpf.c): the tc programs on the host side of
// each of a container's veth links, which count what crosses the link and, on a routed
// link, guard the source addresses of what the container sends.
//
// The programs are loaded once with the accounting and pinned (prog_net_*), and attached to
// each host side as tcx links (Linux 6.6+) or classic tc filters. A host side counts for its
// container through its entry in bc_links (interface index -> the container's slot), made
// when the programs are attached and removed once the device is deleted, and through its
// copy in bc_link_cache (indexed by the interface index modulo its size) when that entry is
// not another live link's; what it carried stays in the container's entry of bc_traffic.
#pragma once

#include <string>

#include "config/ctid.h"
#include "core/error.h"

struct bpf_object;

namespace bc::bpf {

// Which ingress program a host side gets.
enum class Boundary { routed, bridged };

// Counts the host side `ifindex` for container `id` (registered) from now on and attaches
// the programs to its tc ingress and egress. Nothing is left attached or counted if it
// fails.
Result<> attach_boundary(const std::string& pin_dir, int ifindex, Ctid id, Boundary kind);
// The programs alone, attached to or taken off a host side (its bc_links entry untouched):
// tcx links pinned as link_net_<ifindex>_in and _out where the kernel has tcx (6.6+), classic
// tc filters (clsact, handle 1, priority 1) before. For attach_boundary() and for benchmarks.
Result<> attach_programs(const std::string& pin_dir, int ifindex, Boundary kind);
// The same with the given programs (for benchmarks that compare ours with others).
Result<> attach_program_fds(const std::string& pin_dir, int ifindex, int in_fd, int out_fd);
void detach_programs(const std::string& pin_dir, int ifindex);
// After the host side `ifindex` was deleted: its entry (and link pins) away.
Result<> retire_boundary(const std::string& pin_dir, int ifindex);
// Every host side of container `id` still counted, once all of them are gone (a link the
// kernel deleted with the container's network namespace, before beanctl could): retired.
Result<> retire_container(const std::string& pin_dir, Ctid id);
// A new build of the programs was pinned: every live host side runs the new ones
// (replaced in place, no packet passes unguarded in between). `net` is the new build's
// object.
Result<> retarget_boundaries(const std::string& pin_dir, bpf_object* net);

}  // namespace bc::bpf
