#include "container/state.h"

#include <fmt/format.h>
#include <sstream>

#include "core/fs.h"
#include "core/proc.h"

namespace bc::container {

static std::string init_record_path(const Settings& s, Ctid id) { return s.ct_run_dir(id) + "/init"; }

std::string console_log_path(const Settings& s, Ctid id) { return s.ct_run_dir(id) + "/console.log"; }

Result<> write_init_record(const Settings& s, Ctid id, const InitRecord& r) {
    BC_TRYV(fs::mkdir_p(s.ct_run_dir(id), 0700));
    return fs::write_atomic(init_record_path(s, id), fmt::format("{} {}\n", r.pid, r.start_time), 0600,
                            fs::Sync::atomic_only);
}

Result<std::optional<InitRecord>> read_init_record(const Settings& s, Ctid id) {
    std::string text;
    if (!BC_TRY(fs::read_file_if_exists(init_record_path(s, id), text))) return std::nullopt;
    std::istringstream in(text);
    InitRecord r;
    if (!(in >> r.pid >> r.start_time) || r.pid <= 1) return fail(fmt::format("{}: malformed", init_record_path(s, id)));
    return r;
}

void remove_init_record(const Settings& s, Ctid id) { ::unlink(init_record_path(s, id).c_str()); }

Result<std::optional<LiveInit>> find_init(const Settings& s, Ctid id) {
    auto rec = BC_TRY(read_init_record(s, id));
    if (!rec) return std::nullopt;
    auto fd = proc::pidfd_open(rec->pid);
    if (!fd) {
        if (fd.error().err == ESRCH) return std::nullopt;
        return std::unexpected(fd.error());
    }
    // The pidfd pins the process; if the start time still matches, it is the one we started.
    auto st = proc::start_time(rec->pid);
    if (!st || *st != rec->start_time) return std::nullopt;
    if (BC_TRY(proc::pidfd_wait(*fd, 0))) return std::nullopt;  // exited, not yet reaped
    return LiveInit{rec->pid, std::move(*fd)};
}

cgroup::CtGroup ct_cgroup(const cgroup::Layout& l, const Settings& s, Ctid id) {
    return cgroup::CtGroup(l, s.cgroup_parent, s.cgroup_prefix, id);
}

Result<CtStatus> status(const Settings& s, const cgroup::Layout& l, Ctid id) {
    CtStatus st;
    st.id = id;
    st.ve_root = s.ve_root_of(id);
    st.ve_private = s.ve_private_of(id);
    auto cfg = CtConfig::load(id, s);
    if (cfg) {
        st.exists = true;
        st.hostname = cfg->hostname;
        st.ostemplate = cfg->ostemplate;
        st.ve_root = cfg->ve_root;
        st.ve_private = cfg->ve_private;
        st.config = std::move(*cfg);
    } else if (cfg.error().err != ENOENT) {
        st.exists = true;
        st.config_error = cfg.error().msg;
    }
    st.mounted = BC_TRY(fs::is_mount_point(st.ve_root));
    auto cg = ct_cgroup(l, s, id);
    if (auto init = BC_TRY(find_init(s, id))) {
        st.running = true;
        st.init_pid = init->pid;
    }
    st.cgroup = cg.exists();
    if (st.cgroup) {
        std::string text;
        if (BC_TRY(fs::read_file_if_exists(fs::join(cg.node_of("pids"), "pids.current"), text)))
            st.numproc = std::strtoull(text.c_str(), nullptr, 10);
        else
            st.numproc = BC_TRY(cg.procs()).size();
    }
    if (!st.exists) st.incomplete = fs::exists(st.ve_private) || st.mounted || st.cgroup || st.running;
    return st;
}

}  // namespace bc::container
