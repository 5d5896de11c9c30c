// The container's network boundary (bpf/net.bpf.c): the tc programs on the host side of
// each of a container's veth links, which count what crosses the link and, on a routed
// link, guard the source addresses of what the container sends.
//
// The programs are loaded once with the accounting and pinned (prog_net_*). A device's
// traffic entry is made when the programs are attached to it, and folded into the
// container's total of past devices once the device is deleted.
#pragma once

#include <string>

#include "config/ctid.h"
#include "core/error.h"

struct bpf_object;

namespace bc::bpf {

// Which ingress program a host side gets.
enum class Boundary { routed, bridged };

// Counts the host side `ifindex` for container `id` from now on (an entry starting from
// zero) and attaches the programs to its tc ingress and egress. Nothing is left attached
// or counted if it fails.
Result<> attach_boundary(const std::string& pin_dir, int ifindex, Ctid id, Boundary kind);
// After the host side `ifindex` was deleted: its counts go to its container's past
// devices (when the container is still registered), and its entry away.
Result<> retire_boundary(const std::string& pin_dir, int ifindex);
// A new build of the programs was pinned: every live host side runs the new ones
// (replaced in place, no packet passes unguarded in between). `net` is the new build's
// object.
Result<> retarget_boundaries(const std::string& pin_dir, bpf_object* net);

}  // namespace bc::bpf
