// A container's beancounters as readers show them: every resource of the table with held,
// maxheld, barrier, limit and failcnt, put together from the pinned BPF maps (counted by the
// programs, in one batch for all containers), the kernel's cgroup controllers (where they
// keep a resource exactly) and the config (limits of stopped containers). A resource this
// build does not count is marked so (counted = false), never given an invented value.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acct/cgroup_reader.h"
#include "beancounter_abi.h"
#include "bpf/accounting.h"
#include "cgroup/layout.h"
#include "config/ctconfig.h"
#include "config/settings.h"

namespace bc::acct {

struct Value {
    bc_counter c{0, 0, BC_UNLIMITED, BC_UNLIMITED, 0};
    bool counted = false;     // held, maxheld and failcnt are real (else 0, and null in JSON)
    std::string source;  // where they come from (Documentation/beancounters.md)
};

struct CtBeancounters {
    Ctid id = 0;
    bool running = false;
    std::array<Value, BC_RES_COUNT> res{};
    std::optional<bpf::Traffic> traffic;  // running containers
};

// True for the resources the BPF programs count (held, maxheld and failcnt in bc_counters).
bool counted_by_bpf(bc_resource_id id);

// A running container: the BPF record (whose barrier and limit are the ones in force), the
// cgroup readings (which take precedence for what the kernel's controllers keep).
CtBeancounters combine(Ctid id, const bc_ct_counters* counted, const std::vector<Reading>& from_cgroups,
                       std::optional<bpf::Traffic> traffic);
// A stopped container: barrier and limit from its config, nothing held.
CtBeancounters from_config(Ctid id, const CtConfig* ct);

// The beancounters of these containers (running ones read live, the others from their
// configs). Every BPF value of every container comes from one batch lookup per map.
struct CtRef {
    Ctid id;
    bool running;
    const CtConfig* config;  // may be null (broken config)
};
Result<std::vector<CtBeancounters>> read_all(const Settings& s, const cgroup::Layout& l, const std::vector<CtRef>& cts);

// /proc/user_beancounters as OpenVZ printed it on 64-bit kernels ("Version: 2.5", the header,
// then 24 rows per container in resource-id order, the first one tagged "<id>:").
// Resources not counted print 0 held, maxheld and failcnt, as OpenVZ's dummy rows.
std::string format_ubc(const std::vector<CtBeancounters>& cts);

}  // namespace bc::acct
