#include "acct/beancounters.h"

#include <unistd.h>

#include <fmt/format.h>
#include <map>

#include "acct/resources.h"
#include "container/state.h"

namespace bc::acct {

namespace {
// Where each BPF-counted resource comes from (bpf/*.bpf.c).
std::string_view bpf_source(bc_resource_id id) {
    switch (id) {
    case BC_RES_numproc: return "BPF tp_btf/sched_process_fork, sched_process_exit";
    case BC_RES_numtcpsock:
    case BC_RES_numothersock:
        return "BPF cgroup/sock_create, cgroup/sock_release, tp_btf/inet_sock_set_state (inet sockets)";
    default: return "";
    }
}
}  // namespace

bool counted_by_bpf(bc_resource_id id) {
    return id == BC_RES_numproc || id == BC_RES_numtcpsock || id == BC_RES_numothersock;
}

CtBeancounters combine(Ctid id, const bc_ct_counters* counted, const std::vector<Reading>& from_cgroups,
                       std::optional<bpf::Traffic> traffic) {
    CtBeancounters b;
    b.id = id;
    b.running = true;
    b.traffic = traffic;
    if (counted)
        for (size_t i = 0; i < BC_RES_COUNT; ++i) {
            auto rid = static_cast<bc_resource_id>(i);
            b.res[i].c.barrier = counted->res[i].barrier;
            b.res[i].c.limit = counted->res[i].limit;
            if (!counted_by_bpf(rid)) continue;
            b.res[i].c = counted->res[i];
            b.res[i].counted = true;
            b.res[i].source = bpf_source(rid);
        }
    for (const auto& r : from_cgroups) {
        Value& v = b.res[r.id];
        if (v.counted) {
            // Counted in BPF; the controller that enforces the limit has the limit and the
            // refusals (numproc: pids.max, pids.events).
            v.c.barrier = r.value.barrier;
            v.c.limit = r.value.limit;
            v.c.failcnt += r.value.failcnt;
            v.source += "; limit and failcnt: " + r.source;
        } else {
            v.c = r.value;
            v.counted = true;
            v.source = r.source;
        }
    }
    return b;
}

CtBeancounters from_config(Ctid id, const CtConfig* ct) {
    CtBeancounters b;
    b.id = id;
    if (ct)
        for (size_t i = 0; i < BC_RES_COUNT; ++i)
            if (ct->limits[i]) {
                b.res[i].c.barrier = ct->limits[i]->barrier;
                b.res[i].c.limit = ct->limits[i]->limit;
            }
    return b;
}

Result<std::vector<CtBeancounters>> read_all(const Settings& s, const cgroup::Layout& l, const std::vector<CtRef>& cts) {
    std::vector<CtBeancounters> out;
    std::map<Ctid, bc_ct_counters> counted;
    std::map<Ctid, bpf::Traffic> traffic;
    bool any_running = false;
    for (const auto& c : cts) any_running = any_running || c.running;
    if (any_running)
        if (auto acct = BC_TRY(bpf::Accounting::open(s.bpf_dir))) {
            for (auto& [id, c] : BC_TRY(acct->read_all())) counted.emplace(id, c);
            for (auto& [id, t] : BC_TRY(acct->read_all_traffic())) traffic.emplace(id, t);
        }
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    for (const auto& c : cts) {
        if (!c.running) {
            out.push_back(from_config(c.id, c.config));
            continue;
        }
        auto cg = container::ct_cgroup(l, s, c.id);
        auto readings = BC_TRY(read_cgroup_counters(cg, page));
        auto ci = counted.find(c.id);
        auto ti = traffic.find(c.id);
        out.push_back(combine(c.id, ci == counted.end() ? nullptr : &ci->second, readings,
                              ti == traffic.end() ? std::nullopt : std::optional<bpf::Traffic>(ti->second)));
    }
    return out;
}

std::string format_ubc(const std::vector<CtBeancounters>& cts) {
    std::string out = "Version: 2.5\n";
    out += fmt::format("{:>10}  {:<12} {:>20} {:>20} {:>20} {:>20} {:>20}\n", "uid", "resource", "held", "maxheld",
                       "barrier", "limit", "failcnt");
    for (const auto& b : cts)
        for (size_t i = 0; i < BC_RES_UBC_ROWS; ++i) {
            const auto& info = resources()[i];
            const Value& v = b.res[i];
            const bool dummy = info.unit == BC_UNIT_NONE;
            std::uint64_t held = v.counted ? v.c.held : 0, maxheld = v.counted ? v.c.maxheld : 0,
                          failcnt = v.counted ? v.c.failcnt : 0;
            out += fmt::format("{:>10}  {:<12} {:>20} {:>20} {:>20} {:>20} {:>20}\n",
                               i == 0 ? fmt::format("{}:", b.id) : std::string(), dummy ? "dummy" : info.name, held,
                               maxheld, v.c.barrier, v.c.limit, failcnt);
        }
    return out;
}

}  // namespace bc::acct
