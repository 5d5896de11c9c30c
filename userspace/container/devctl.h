// A container's devices: the allowlist written to the BPF device program (defaults, DEVICES,
// and the nodes of DEVNODES), and host device nodes placed in its /dev, at start and live.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "config/ctconfig.h"
#include "config/devices.h"
#include "core/error.h"
#include "core/fd.h"

namespace bc::container {

// The host's /dev/<name>, which must be a device node: its rule with the node's access.
Result<DeviceRule> devnode_rule(const DevNode& n);
// Defaults, then DEVICES, then a rule for each DEVNODES entry.
Result<std::vector<DeviceRule>> effective_device_rules(const CtConfig& ct);

// A detached mount of a node like the host's /dev/<name> (same device and mode, owned by
// the container's root), to be moved into the container.
Result<Fd> devnode_tree(const CtConfig& ct, const DevNode& n);
// In a process whose mount namespace is the container's, with the container's /dev open
// (dev_fd): creates /dev/<name> (and its directories) and moves the tree onto it. Returns 0
// or an errno value, and names the failing step in `what` (async-signal-safe enough for a
// child: no allocation beyond the name's).
int place_devnode(int dev_fd, const std::string& name, int tree, const char** what);

// Live, in a running container: places (or removes, access none) nodes in its /dev. The
// caller has updated the allowlist first.
// The helper works as the container's root (its user namespace, when it has one): the
// container's /dev belongs to that namespace.
Result<> apply_devnodes_live(const CtConfig& ct, pid_t init_pid, const std::vector<DevNode>& add,
                             const std::vector<std::string>& remove);

}  // namespace bc::container
