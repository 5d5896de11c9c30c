// Beancounters that the kernel's own cgroup controllers keep exactly (usage, peak, limit and
// failure count), read from cgroupfs. Only resources for which all four values exist are
// returned: nothing is estimated here. The BPF side (pinned maps and iterators) supersedes
// this reader as accounting domains land; the cgroup files stay the reference it is tested
// against.
#pragma once

#include <string>
#include <vector>

#include "beancounter_abi.h"
#include "cgroup/ctgroup.h"
#include "core/error.h"

namespace bc::acct {

struct Reading {
    bc_resource_id id;
    bc_counter value;     // in the resource's unit (pages for *pages)
    std::string source;   // the files it came from, for --verbose and the docs
};

Result<std::vector<Reading>> read_cgroup_counters(const cgroup::CtGroup& cg, std::uint64_t page_size);

// numproc as the BPF programs count it (held, maxheld: exact, every fork and exit), with the
// limit and the refusals from the pids controller, which enforces it.
Reading numproc_reading(const cgroup::CtGroup& cg, const bc_counter& counted);

// Merges BPF-counted readings over the cgroup ones (one row per resource, table order).
std::vector<Reading> merge(std::vector<Reading> from_cgroups, const std::vector<Reading>& from_bpf);

}  // namespace bc::acct
