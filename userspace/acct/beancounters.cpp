#include "acct/beancounters.h"

#include <fmt/format.h>
#include <map>

#include "acct/resources.h"
#include "core/log.h"

namespace bc::acct {

bool is_counted(const bc_ct_counters& c, bc_resource_id id) {
    switch (id) {
    case BC_RES_numproc:
    case BC_RES_numtcpsock:
    case BC_RES_numothersock: return true;
    case BC_RES_physpages:
    case BC_RES_swappages:
    case BC_RES_oomguarpages: return c.flags & BC_CT_MEMORY;
    case BC_RES_kmemsize: return c.flags & BC_CT_KMEM;
    case BC_RES_shmpages: return c.flags & BC_CT_SHMEM;
    case BC_RES_numpty: return c.flags & BC_CT_PTY;
    case BC_RES_numflock: return c.flags & BC_CT_FLOCK;
    case BC_RES_privvmpages:
    case BC_RES_lockedpages:
    case BC_RES_numfile:
    case BC_RES_numsiginfo: return c.flags & BC_CT_TASKS;
    case BC_RES_tcpsndbuf:
    case BC_RES_tcprcvbuf:
    case BC_RES_othersockbuf:
    case BC_RES_dgramrcvbuf: return c.flags & BC_CT_SOCKBUF;
    default: return false;
    }
}

CtBeancounters from_record(Ctid id, const bc_ct_counters* counted) {
    CtBeancounters b;
    b.id = id;
    b.running = true;
    if (counted && (counted->flags & BC_CT_TRAFFIC))
        b.traffic = bpf::Traffic{counted->bytes_in, counted->packets_in, counted->bytes_out, counted->packets_out};
    if (counted && (counted->flags & BC_CT_CPU)) b.cpu_ns = counted->cpu_ns;
    if (counted)
        for (size_t i = 0; i < BC_RES_COUNT; ++i) {
            b.res[i].c = counted->res[i];
            b.res[i].counted = is_counted(*counted, static_cast<bc_resource_id>(i));
        }
    // numothersock: the inet sockets the programs counted, and the unix and netlink sockets
    // of the container's network namespace at the collection (bpf/collect.bpf.c).
    if (counted && (counted->flags & BC_CT_NSSOCK)) b.res[BC_RES_numothersock].c.held += counted->ns_socks;
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
    bool any_running = false;
    for (const auto& c : cts) any_running = any_running || c.running;
    if (any_running)
        if (auto acct = BC_TRY(bpf::Accounting::open(s.bpf_dir))) {
            BC_TRYV(acct->collect(bpf::load_options(cgroup::CtGroup(l, s.cgroup_parent, s.cgroup_prefix, kCtidMin)).mem_cgroup));
            for (auto& [id, c] : BC_TRY(acct->read_all())) counted.emplace(id, c);
        }
    for (const auto& c : cts) {
        if (!c.running) {
            out.push_back(from_config(c.id, c.config));
            continue;
        }
        auto ci = counted.find(c.id);
        if (ci == counted.end())
            log::warn("container {} is running but has no counters in {} (were its programs unloaded?); "
                      "nothing is shown as held",
                      c.id, s.bpf_dir);
        out.push_back(from_record(c.id, ci == counted.end() ? nullptr : &ci->second));
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
