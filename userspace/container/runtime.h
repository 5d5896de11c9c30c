// Starting a container's init: a child cloned into new mount, PID, UTS, IPC and network
// namespaces (and born in the container's cgroup2 node), which builds its root (proc, sys,
// dev) and pivots into it while the parent places it in the v1 cgroups, then enters a new
// cgroup namespace and execs init.
//
// The child runs a fixed list of named steps. It never returns into the parent's code: on
// the first failing step it writes "step: reason" to a socket and exits; the parent reports
// that text. A successful exec closes the socket (close-on-exec), which is how the parent
// learns that init runs.
//
// Shaped for the user namespace to come: every mount is made through an fd resolved inside
// the root (no path of the container is followed on the host), device nodes are bind mounts
// of the host's nodes rather than mknod, and the parent does everything that needs host
// privilege (cgroup placement, and later the uid/gid maps) while the child waits.
#pragma once

#include <sys/types.h>

#include <linux/filter.h>

#include <functional>
#include <vector>
#include <string>

#include "cgroup/ctgroup.h"
#include "config/ctconfig.h"
#include "core/error.h"

namespace bc::container {

struct SpawnRequest {
    const CtConfig* ct = nullptr;
    const cgroup::CtGroup* cgroup = nullptr;
    std::string rootfs;        // the mounted VE_ROOT
    std::string console_log;   // init's stdout and stderr
    // The pinned user_beancounters iterator, bound read-only on /dev/user_beancounters in
    // the container (empty: none).
    std::string ubc_file;
    // Called in the parent while the child builds its root, before it may exec init: the
    // container's network is made here.
    std::function<Result<>(pid_t)> make_network;
    // Called in the parent before a child that failed is killed (gives host interfaces back
    // while its network namespace still exists).
    std::function<void(pid_t)> on_abort;
    // Called in the parent with the child's pid before it is released (records the pid).
    std::function<Result<>(pid_t)> on_spawned;
};

// Resource limits of the container's processes that its root cannot raise itself in a user
// namespace: RLIMIT_MEMLOCK follows LOCKEDPAGES (its barrier; unlimited when unset, the
// memory cgroup bounding what is locked), as OpenVZ let the beancounter decide. Where the
// host withholds CAP_SYS_RESOURCE, the tool's own limit stays.
Result<> apply_rlimits(pid_t pid, const CtConfig& ct);

// Returns the host pid of the container's init once it has exec'd. On failure the child is
// gone; cgroups and mounts are the caller's to clean up.
Result<pid_t> spawn_init(const SpawnRequest& req);

}  // namespace bc::container
