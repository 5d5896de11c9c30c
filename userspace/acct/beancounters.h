// A container's beancounters as readers show them: every resource of the table with held,
// maxheld, barrier, limit and failcnt, from the pinned BPF maps (counted by the programs, or
// collected from the kernel's controllers by the collecting iterator; one batch for all
// containers), and from the config for stopped containers. A resource this build does not
// count is marked so (counted = false), never given an invented value.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "beancounter_abi.h"
#include "bpf/accounting.h"
#include "cgroup/layout.h"
#include "config/ctconfig.h"
#include "config/settings.h"

namespace bc::acct {

struct Value {
    bc_counter c{0, 0, BC_UNLIMITED, BC_UNLIMITED, 0};
    bool counted = false;  // held, maxheld and failcnt are real (else 0, and null in JSON)
};

struct CtBeancounters {
    Ctid id = 0;
    bool running = false;
    std::array<Value, BC_RES_COUNT> res{};
    std::optional<bpf::Traffic> traffic;  // running containers, where collected (BC_CT_TRAFFIC)
    std::optional<std::uint64_t> cpu_ns;  // running containers, where collected (BC_CT_CPU)
};

// True if the record holds a real held value for the resource: counted by the programs, or
// collected from the controllers (its flags say which were found).
bool is_counted(const bc_ct_counters& c, bc_resource_id id);

// A running container, from its record (whose barrier and limit are the ones in force).
CtBeancounters from_record(Ctid id, const bc_ct_counters* counted);
// A stopped container: barrier and limit from its config, nothing held.
CtBeancounters from_config(Ctid id, const CtConfig* ct);

// The beancounters of these containers (running ones read live, the others from their
// configs): one collection, then every record read from this process's mapping of them.
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
