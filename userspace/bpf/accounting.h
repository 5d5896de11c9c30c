// The kernel side of the beancounters, seen from userspace: loading the BPF programs once,
// pinned, and the per-container maps they count into.
//
// Programs, links and maps are pinned under the pin directory (default
// /sys/fs/bpf/beancounter), so counting goes on with no beancounter process alive. Loading is
// idempotent: when the pinned links run this build's programs nothing is loaded; a different
// build is loaded against the pinned maps (libbpf checks that their layout matches) and
// replaces the running programs without a gap, keeping every counter: the cgroup programs'
// links are updated in place (bpf_link_update); tracing links cannot be, so a new tracing
// program is attached beside the old one and its link pin renamed over the old one's. Pins
// of another ABI version are reported, never reused.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "beancounter_abi.h"
#include "cgroup/ctgroup.h"
#include "config/ctid.h"
#include "config/devices.h"
#include "core/error.h"
#include "core/fd.h"

namespace bc::bpf {

struct LoadOptions {
    // The cgroup2 directory that holds every container's cgroup (the prefix node): the
    // programs that see all containers' sockets and traffic are attached there, once.
    std::string attach_cgroup;
    // The cgroup2 level of the containers' own cgroups (one below attach_cgroup).
    unsigned ct_level = 0;
    // The node that holds every container's cgroup in the memory controller's hierarchy
    // (attach_cgroup itself on cgroup2; the v1 memory hierarchy's on hybrid hosts), where
    // the collection of the controllers' counters iterates; and whether memory and pids are
    // v1 controllers. The containers' level is the same in every hierarchy.
    std::string mem_cgroup;
    bool mem_v1 = false, pids_v1 = false;
    // Size of the preallocated task record (see bpf/proc.bpf.c), fixed when the maps are
    // created; pinned maps of another size are reported as incompatible.
    unsigned max_tasks = BC_MAX_TASKS;
};

// True if the running kernel's BTF has this function (a kfunc the programs may call).
bool kernel_has_function(const char* name);

// True if the kernel accepts an iterator over a socket storage map's elements (bpf_iter
// bpf_sk_storage_map), which the settling walk of the socket counts is (bpf/sock.bpf.c).
// A host may refuse iterators over map elements to its root (EPERM) while allowing the
// others: the programs then load without it (beancounters.md, "Settling"). Probed once per
// process, by loading a program of two instructions.
bool sock_settling_supported();

// The options for containers whose cgroups are laid out as this one's (its prefix nodes,
// level, and where the memory and pids controllers are).
LoadOptions load_options(const cgroup::CtGroup& cg, unsigned max_tasks = BC_MAX_TASKS);

// Traffic of one container in its current run, summed over CPUs (see struct bc_traffic).
struct Traffic {
    std::uint64_t bytes_in = 0, packets_in = 0, bytes_out = 0, packets_out = 0;
};

class Accounting {
public:
    // Loads (or reuses) the programs and maps; mounts bpffs at /sys/fs/bpf when it is not
    // mounted. lock_dir holds the lock that serializes concurrent loaders.
    static Result<Accounting> load(const std::string& pin_dir, const std::string& lock_dir, const LoadOptions& o);
    // Opens the pinned maps of a loaded instance; nullopt if nothing is loaded there.
    static Result<std::optional<Accounting>> open(const std::string& pin_dir);
    // Removes every pin (programs stop when their last link goes), with every counter. With
    // lock_dir, under the loaders' lock.
    static Result<> unload(const std::string& pin_dir, const std::string& lock_dir = {});

    // A container's cgroup starts counting for it; its counters start from zero, with these
    // barriers and limits (BC_UNLIMITED where the array holds none).
    // A container registered the first time takes the lowest free slot of bc_counters,
    // under the loaders' lock when this instance came from load().
    Result<> register_ct(std::uint64_t cgroup_id, Ctid id, const std::array<bc_counter, BC_RES_COUNT>* limits = nullptr);
    // The container's device allowlist, replacing the one it had (rules with no access are
    // skipped). From the first call on, whatever the list does not allow is refused.
    Result<> set_devices(std::uint64_t cgroup_id, const std::vector<DeviceRule>& rules);
    // The cgroup is going away: stop attributing it (the beancounters, traffic included,
    // stay until forget()).
    Result<> unregister_cgroup(std::uint64_t cgroup_id);
    Result<> forget(Ctid id);
    // Every registered container's counters, read from this process's mapping of the
    // pinned array (no system call, no copy in the kernel).
    Result<std::vector<std::pair<Ctid, bc_ct_counters>>> read_all() const;
    // Brings the cgroups' CPU time and memory statistics up to date (bpf/flush.bpf.c), copies every container's
    // memory and pids controller counters and CPU time into its record (on 6.7+ one run of
    // bc_collect_slots through the containers' bound nodes, and one read of the collecting
    // iterator only when a running container has none bound yet; before 6.7 one read of
    // that iterator: bpf/collect.bpf.c), then settles the socket counts
    // against the marks of the sockets alive (one read of bc_sock_settle, bpf/sock.bpf.c).
    // read_all() returns what the last collection found.
    // memory_prefix: the memory hierarchy's node that holds every container (LoadOptions::
    // mem_cgroup), where the statistics are folded on kernels whose programs cannot.
    Result<> collect(const std::string& memory_prefix = {}) const;

private:
    Result<> drop_devices(std::uint64_t cgroup_id, const std::vector<bc_dev_key>& keep);
    // The slot's entries in bc_traffic, bc_lock_inodes and bc_ct_nodes, emptied (cgroup2_id: the
    // container's cgroup2 node in its coming run).
    Result<> reset_slot(__u32 slot, Ctid id, std::uint64_t cgroup2_id = 0) const;
    Result<> write_node(__u32 slot, const bc_ct_node& n, Ctid id) const;
    Fd cgroups_, counters_, slots_, slot_owner_, meta_, traffic_, lock_inodes_, devices_;
    std::string lock_dir_;  // the loaders' lock, when loaded by this process (load())
    // bc_counters mapped read-only into this process (BPF_F_MMAPABLE): `slot_count` records,
    // mapped at the first use.
    Result<const bc_ct_counters*> records() const;
    mutable std::shared_ptr<const bc_ct_counters> records_;
    __u32 slot_count_ = 0;
    Fd collector_;
    Fd settler_;  // link_sock_settle (bpf/sock.bpf.c)
    Fd flusher_;  // link_flush (bpf/flush.bpf.c)
    Fd mem_flusher_;  // link_flush_mem (bpf/flush.bpf.c), unless it would repeat link_flush
    bool mem_folded_ = false;  // link_flush folds the memory statistics too
    Fd slot_collector_;  // prog_collect_slots (bpf/collect.bpf.c), 6.7+
    Fd nodes_;  // bc_ct_nodes (bpf/collect.bpf.c), 6.7+
    Fd task_summer_;  // link_task_sums (bpf/collect.bpf.c), on kernels without the css_task iterator
};

}  // namespace bc::bpf
