#include "bpf/accounting.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstdarg>
#include <fmt/format.h>
#include <memory>

#include "core/fs.h"
#include "core/log.h"
#include "proc.skel.h"

namespace bc::bpf {

namespace {
constexpr const char* kBpffs = "/sys/fs/bpf";

// libbpf's own messages (they start with "libbpf: ") go to the debug log; failures reach
// the user through the errors returned.
int libbpf_print(enum libbpf_print_level, const char* fmt_, va_list ap) {
    if (log::level() < log::Level::debug) return 0;
    char buf[1024];
    int n = std::vsnprintf(buf, sizeof buf, fmt_, ap);
    std::string_view msg(buf, n > 0 ? std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1) : 0);
    while (!msg.empty() && msg.back() == '\n') msg.remove_suffix(1);
    log::debug("{}", msg);
    return n;
}

bool is_bpffs(const std::string& path) {
    struct statfs st;
    return ::statfs(path.c_str(), &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

Result<> ensure_bpffs(const std::string& pin_dir) {
    if (!is_bpffs(kBpffs)) {
        log::debug("mounting bpffs on {}", kBpffs);
        if (::mount("bpf", kBpffs, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0)
            return fail_sys(fmt::format("mounting bpffs on {}", kBpffs));
    }
    std::string parent = pin_dir.substr(0, pin_dir.rfind('/'));
    if (!is_bpffs(parent)) return fail(fmt::format("{} is not on a bpffs", pin_dir));
    if (::mkdir(pin_dir.c_str(), 0700) < 0 && errno != EEXIST) return fail_sys(fmt::format("creating {}", pin_dir));
    return {};
}

// FNV-1a of the BPF object: identifies a build of the programs.
std::uint64_t build_id() {
    size_t sz = 0;
    auto* p = static_cast<const unsigned char*>(proc_bpf__elf_bytes(&sz));
    std::uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < sz; ++i) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

struct SkelDeleter {
    void operator()(proc_bpf* s) const { proc_bpf__destroy(s); }
};

Result<Fd> obj_get(const std::string& path) {
    int fd = ::bpf_obj_get(path.c_str());
    if (fd < 0) return fail_sys(-fd == 0 ? errno : -fd, fmt::format("opening pinned {}", path));
    return Fd(fd);
}

Result<std::optional<bc_meta>> read_meta(const std::string& pin_dir) {
    std::string path = pin_dir + "/bc_meta";
    if (!fs::exists(path)) return std::nullopt;
    auto fd = BC_TRY(obj_get(path));
    bc_meta m{};
    __u32 key = 0;
    if (::bpf_map_lookup_elem(fd.get(), &key, &m) < 0) return fail_sys(fmt::format("reading {}", path));
    return m;
}

// Serializes loaders: two starts at once must not both attach programs.
Result<Fd> lock_loader(const std::string& lock_dir) {
    BC_TRYV(fs::mkdir_p(lock_dir, 0700));
    std::string path = lock_dir + "/bpf.lock";
    Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) return fail_sys(fmt::format("opening {}", path));
    if (::flock(fd.get(), LOCK_EX) < 0) return fail_sys(fmt::format("locking {}", path));
    return fd;
}

struct Prog {
    const char* link_name;
    bpf_program* (*get)(proc_bpf*);
};
constexpr Prog kProgs[] = {
    {"link_proc_fork", [](proc_bpf* s) { return s->progs.bc_proc_fork; }},
    {"link_proc_exit", [](proc_bpf* s) { return s->progs.bc_proc_exit; }},
};
}  // namespace

Result<std::optional<Accounting>> Accounting::open(const std::string& pin_dir) {
    auto meta = BC_TRY(read_meta(pin_dir));
    // Version 0: a loader stopped before it finished; the next load completes it.
    if (!meta || meta->abi_version == 0) return std::nullopt;
    if (meta->abi_version != BC_ABI_VERSION)
        return fail(fmt::format("the BPF maps pinned in {} have layout version {}, this build uses {}; "
                                "stop every container and remove the pins there",
                                pin_dir, meta->abi_version, BC_ABI_VERSION));
    Accounting a;
    a.cgroups_ = BC_TRY(obj_get(pin_dir + "/bc_cgroups"));
    a.counters_ = BC_TRY(obj_get(pin_dir + "/bc_counters"));
    return a;
}

Result<Accounting> Accounting::load(const std::string& pin_dir, const std::string& lock_dir, unsigned max_tasks) {
    BC_TRYV(ensure_bpffs(pin_dir));
    auto lock = BC_TRY(lock_loader(lock_dir));
    const std::uint64_t id = build_id();
    auto meta = BC_TRY(read_meta(pin_dir));
    bool links_pinned = true;
    for (const auto& p : kProgs) links_pinned = links_pinned && fs::exists(pin_dir + "/" + p.link_name);
    if (meta && meta->abi_version == BC_ABI_VERSION && meta->build_id == id && links_pinned) {
        auto a = BC_TRY(open(pin_dir));
        return std::move(*a);
    }
    if (meta && meta->abi_version != 0 && meta->abi_version != BC_ABI_VERSION)
        BC_TRYV(open(pin_dir));  // reports the mismatch

    libbpf_print_fn_t old_print = libbpf_set_print(libbpf_print);
    struct Restore {
        libbpf_print_fn_t f;
        ~Restore() { libbpf_set_print(f); }
    } restore{old_print};

    LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir.c_str());
    std::unique_ptr<proc_bpf, SkelDeleter> skel(proc_bpf__open_opts(&opts));
    if (!skel) return fail_sys(errno, "opening the BPF programs");
    if (int err = bpf_map__set_max_entries(skel->maps.bc_task_ct, max_tasks); err)
        return fail(Error::sys(-err, "sizing bc_task_ct"));
    if (int err = proc_bpf__load(skel.get()); err)
        return fail(Error::sys(-err, fmt::format("loading the BPF programs (maps pinned in {} must match this build's "
                                                 "layout; see beanctl check)",
                                                 pin_dir)));
    // Tracing links cannot swap their program (bpf_link_update is for cgroup, XDP and the
    // like), so a new build is attached beside the running one and its pin renamed over the
    // old pin, which drops the old link: no event goes uncounted in between, and the
    // programs' compare-and-swap marks keep the overlap from counting anything twice.
    for (const auto& p : kProgs) {
        std::string path = pin_dir + "/" + p.link_name;
        std::string fresh = path + "_new";  // bpffs refuses '.' in names
        bpf_program* prog = p.get(skel.get());
        bpf_link* link = bpf_program__attach(prog);
        if (!link) return fail_sys(errno, fmt::format("attaching {}", bpf_program__name(prog)));
        ::unlink(fresh.c_str());  // left by a loader killed at this point
        int err = bpf_link__pin(link, fresh.c_str());
        bpf_link__destroy(link);  // the pin holds it now
        if (err) return fail(Error::sys(-err, fmt::format("pinning {}", fresh)));
        if (::rename(fresh.c_str(), path.c_str()) < 0) {
            int e = errno;
            ::unlink(fresh.c_str());
            return fail_sys(e, fmt::format("replacing {}", path));
        }
    }
    bc_meta m{BC_ABI_VERSION, 0, id};
    __u32 key = 0;
    if (::bpf_map_update_elem(bpf_map__fd(skel->maps.bc_meta), &key, &m, BPF_ANY) < 0)
        return fail_sys("writing bc_meta");
    Accounting a;
    a.cgroups_ = Fd(::fcntl(bpf_map__fd(skel->maps.bc_cgroups), F_DUPFD_CLOEXEC, 0));
    a.counters_ = Fd(::fcntl(bpf_map__fd(skel->maps.bc_counters), F_DUPFD_CLOEXEC, 0));
    if (!a.cgroups_ || !a.counters_) return fail_sys("dup of map fds");
    return a;
}

Result<> Accounting::unload(const std::string& pin_dir) {
    if (!fs::is_dir(pin_dir)) return {};
    // Links first, so that no program runs against maps that are going away.
    for (const auto& p : kProgs) ::unlink((pin_dir + "/" + p.link_name).c_str());
    for (const auto& e : BC_TRY(fs::list_dir(pin_dir)))
        if (::unlink((pin_dir + "/" + e).c_str()) < 0) return fail_sys(fmt::format("removing {}/{}", pin_dir, e));
    if (::rmdir(pin_dir.c_str()) < 0) return fail_sys(fmt::format("removing {}", pin_dir));
    return {};
}

Result<> Accounting::register_ct(std::uint64_t cgroup_id, Ctid id) {
    bc_ct_counters c{};
    c.ctid = id;
    for (auto& r : c.res) r.barrier = r.limit = BC_UNLIMITED;
    // Counters first: the first fork in the cgroup must find them.
    if (::bpf_map_update_elem(counters_.get(), &id, &c, BPF_ANY) < 0)
        return fail_sys(fmt::format("registering container {}", id));
    __u32 ct = id;
    if (::bpf_map_update_elem(cgroups_.get(), &cgroup_id, &ct, BPF_ANY) < 0)
        return fail_sys(fmt::format("registering the cgroup of container {}", id));
    return {};
}

Result<> Accounting::unregister_cgroup(std::uint64_t cgroup_id) {
    if (::bpf_map_delete_elem(cgroups_.get(), &cgroup_id) < 0 && errno != ENOENT)
        return fail_sys("unregistering a container's cgroup");
    return {};
}

Result<> Accounting::forget(Ctid id) {
    __u32 key = id;
    if (::bpf_map_delete_elem(counters_.get(), &key) < 0 && errno != ENOENT)
        return fail_sys(fmt::format("removing the counters of container {}", id));
    return {};
}

Result<std::optional<bc_ct_counters>> Accounting::read(Ctid id) const {
    __u32 key = id;
    bc_ct_counters c{};
    if (::bpf_map_lookup_elem(counters_.get(), &key, &c) < 0) {
        if (errno == ENOENT) return std::nullopt;
        return fail_sys(fmt::format("reading the counters of container {}", id));
    }
    return c;
}

Result<std::vector<std::pair<Ctid, bc_ct_counters>>> Accounting::read_all() const {
    std::vector<__u32> keys(1024);
    std::vector<bc_ct_counters> values(keys.size());
    std::vector<std::pair<Ctid, bc_ct_counters>> out;
    __u32 batch = 0;
    bool first = true;
    for (;;) {
        __u32 count = static_cast<__u32>(keys.size());
        LIBBPF_OPTS(bpf_map_batch_opts, bo);
        int err = ::bpf_map_lookup_batch(counters_.get(), first ? nullptr : &batch, &batch, keys.data(), values.data(),
                                         &count, &bo);
        first = false;
        int e = err ? errno : 0;
        for (__u32 i = 0; i < count; ++i) out.emplace_back(keys[i], values[i]);
        if (err && e == ENOENT) break;  // the last batch
        if (err) return fail_sys(e, "reading all counters");
    }
    return out;
}

}  // namespace bc::bpf
