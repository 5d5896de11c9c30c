// Beancounters that the kernel's own cgroup controllers keep exactly (usage, peak, limit and
// failure count), read from cgroupfs files. Readers do not use it (bpf/collect.bpf.c reads
// the same counters in the kernel, for all containers at once); it is the reference the
// collection is tested and benchmarked against. Only resources for which all four values
// exist are returned: nothing is estimated here.
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

}  // namespace bc::acct
