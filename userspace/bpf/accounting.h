// The kernel side of the beancounters, seen from userspace: loading the BPF programs once,
// pinned, and the per-container maps they count into.
//
// Programs, links and maps are pinned under the pin directory (default
// /sys/fs/bpf/beancounter), so counting goes on with no beancounter process alive. Loading is
// idempotent: when the pinned links run this build's programs nothing is loaded; a different
// build is loaded against the pinned maps (libbpf checks that their layout matches) and
// replaces the running programs without a gap: attached beside them, its link pins are
// renamed over theirs. No counter is lost. Pins of another ABI version are reported, never
// reused.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "beancounter_abi.h"
#include "config/ctid.h"
#include "core/error.h"
#include "core/fd.h"

namespace bc::bpf {

class Accounting {
public:
    // Loads (or reuses) the programs and maps; mounts bpffs at /sys/fs/bpf when it is not
    // mounted. lock_dir holds the lock that serializes concurrent loaders.
    // max_tasks sizes the preallocated task record (see bpf/proc.bpf.c) when the maps are
    // created; pinned maps of another size are reported as incompatible.
    static Result<Accounting> load(const std::string& pin_dir, const std::string& lock_dir,
                                   unsigned max_tasks = BC_MAX_TASKS);
    // Opens the pinned maps of a loaded instance; nullopt if nothing is loaded there.
    static Result<std::optional<Accounting>> open(const std::string& pin_dir);
    // Removes every pin (programs stop when their last link goes). For uninstall and tests.
    static Result<> unload(const std::string& pin_dir);

    // A container's cgroup starts counting for it; its counters start from zero.
    Result<> register_ct(std::uint64_t cgroup_id, Ctid id);
    // The cgroup is going away: stop attributing it (the counters stay until forget()).
    Result<> unregister_cgroup(std::uint64_t cgroup_id);
    Result<> forget(Ctid id);
    Result<std::optional<bc_ct_counters>> read(Ctid id) const;
    // Every container's counters in one batch lookup.
    Result<std::vector<std::pair<Ctid, bc_ct_counters>>> read_all() const;

private:
    Fd cgroups_, counters_;
};

}  // namespace bc::bpf
