// A container's cgroups: one node in cgroup2 (where BPF programs attach and whose id
// registers the container) and, on hybrid hosts, one node in each v1 hierarchy that holds a
// controller the container uses. All below <parent>/<prefix>/<CTID>.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cgroup/layout.h"
#include "config/ctid.h"
#include "core/error.h"
#include "core/fd.h"

namespace bc::cgroup {

struct Node {
    std::string hierarchy;  // "cgroup2" or the v1 controllers joined by ','
    std::string path;       // absolute path of the node
};

class CtGroup {
public:
    CtGroup(const Layout& layout, std::string parent, std::string prefix, Ctid id);

    // Creates the prefix node (enabling the controllers it may delegate, in cgroup2) and the
    // container's node in every hierarchy. Existing nodes are reused.
    Result<> create();
    // Hands the container's nodes to its root (a user namespace's root, host ids uid/gid),
    // as cgroup2 delegation prescribes: the directory and the files that create and fill
    // sub-cgroups (cgroup.procs, cgroup.threads, cgroup.subtree_control; tasks in v1), never
    // the files that set the node's own limits.
    Result<> delegate(uid_t uid, gid_t gid) const;
    // The cgroup2 node as a directory fd, for clone3(CLONE_INTO_CGROUP).
    Result<Fd> open_v2() const;
    // The files through which a new process moves itself into the nodes that clone3 did not
    // place it in: cgroup.procs of the cgroup2 node first (the caller skips it where clone3
    // placed the process), then `tasks` of every v1 node. They are opened now, by the host's
    // root, because the kernel checks the opener's credentials, and possibly from another
    // mount namespace where the host's cgroupfs is not reachable by path. The process writes
    // "0" to them itself (join_self) while it has one thread: a thread that moves itself
    // skips the kernel's global threadgroup lock and so the RCU grace period (10-20 ms) that
    // writing a pid to cgroup.procs waits for.
    Result<std::vector<Fd>> open_self_join() const;
    // Moves the calling thread through those files. Returns 0 or errno; safe in a child of
    // clone (no allocation).
    static int join_self(std::span<const Fd> files) noexcept;
    // Every process in the container's cgroup2 subtree.
    Result<std::vector<pid_t>> procs() const;
    // True when any process is in the subtree (cgroup.events "populated").
    Result<bool> populated() const;
    // SIGKILL to every process in the subtree (cgroup.kill, or signals where it is missing),
    // then waits until it is empty (at most timeout_ms).
    Result<> kill_all(unsigned timeout_ms = 5000) const;
    // Removes the container's nodes (and sub-cgroups it made). Missing nodes are fine. The
    // prefix nodes stay (see remove_prefix_nodes).
    Result<> remove() const;
    bool exists() const;
    // The cgroup2 id (kernfs node id), what BPF's bpf_get_current_cgroup_id() returns.
    Result<std::uint64_t> id() const;

    const std::string& v2_path() const { return v2_path_; }
    // <v2 mount>/<parent>/<prefix>: holds every container's cgroup2 node; where the BPF
    // programs that see all containers (sockets, traffic) are attached.
    const std::string& v2_prefix() const { return v2_prefix_; }
    // The cgroup2 level of the container's node (the hierarchy's root is level 0).
    unsigned level() const { return level_; }
    const std::vector<Node>& v1_nodes() const { return v1_; }
    // Path of the node holding a controller's files ("memory", "pids", ...).
    std::string node_of(std::string_view controller) const;
    // Every node, cgroup2 first.
    std::vector<Node> nodes() const;

private:
    const Layout* layout_;
    std::string v2_prefix_;   // <v2 mount>/<parent>/<prefix>
    std::string v2_path_;     // <v2_prefix>/<ctid>
    unsigned level_ = 0;
    std::vector<Node> v1_;    // nodes in the v1 hierarchies, same relative path
    std::vector<std::string> v1_prefixes_;
};

// The prefix nodes <mount>/<parent>/<prefix> of every hierarchy, cgroup2 first. The first
// start makes them; they stay while the accounting is installed (its programs are attached
// to the cgroup2 one), and go with `beanctl unload`.
std::vector<std::string> prefix_nodes(const Layout& layout, const std::string& parent, const std::string& prefix);
// The containers' nodes below the cgroup2 prefix node (their CTIDs as named there).
Result<std::vector<std::string>> ct_nodes_below(const Layout& layout, const std::string& parent, const std::string& prefix);
// Removes the prefix nodes; missing ones are fine, one that still holds a container's node
// is an error.
Result<> remove_prefix_nodes(const Layout& layout, const std::string& parent, const std::string& prefix);

}  // namespace bc::cgroup
