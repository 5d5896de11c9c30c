// User namespaces: each container's root is an unprivileged host uid. Every container owns
// one range of host uids and gids (the same numbers for both), recorded in its config
// (USERNS_BASE, USERNS_SIZE). Ranges are taken from the host's pool (USERNS_POOL in
// beancounter.conf), never overlap each other, and avoid the ranges that /etc/subuid and
// /etc/subgid hand to host users.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/ctconfig.h"
#include "config/settings.h"
#include "core/error.h"
#include "core/fd.h"

namespace bc::container {


// The lowest range of `size` ids, aligned to `size`, inside [pool.base, pool.end()) that
// overlaps none of `taken`; nullopt when the pool is full.
std::optional<IdRange> pick_free_range(const IdRange& pool, std::uint32_t size, const std::vector<IdRange>& taken);

// Ranges listed in a subuid/subgid file ("name:start:count" per line; others ignored).
std::vector<IdRange> parse_subid(std::string_view text);

// Every range in use: other containers' configs (all but `self`) and /etc/subuid, /etc/subgid.
Result<std::vector<IdRange>> taken_ranges(const Settings& s, Ctid self);

// A holder of the host-wide allocation lock (flock on <run_dir>/lock/userns.lock): between
// picking a range and saving the config that records it, no other create may pick.
class AllocationLock {
public:
    static Result<AllocationLock> acquire(const Settings& s);

private:
    explicit AllocationLock(int fd) : fd_(fd) {}
    Fd fd_;
};

// Picks a free range for a new container (the caller holds an AllocationLock).
Result<IdRange> allocate_range(const Settings& s, Ctid self);

// Refuses to start a container whose recorded range overlaps another container's (a config
// edited or copied by hand).
Result<> check_range(const Settings& s, const CtConfig& ct);

// Shifts a freshly unpacked root file system into a range: every file owned by uid/gid n
// (n < size) becomes owned by base + n. Set-id bits that chown clears are restored, and
// file capabilities (security.capability) are rewritten as namespaced ones whose root is
// `base`, so that they work inside the container and nowhere else. An id >= size is an error
// (the template holds ids the container could not map).
Result<> shift_tree(const std::string& root, const IdRange& r);

}  // namespace bc::container
