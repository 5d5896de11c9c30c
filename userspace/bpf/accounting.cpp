#include "bpf/accounting.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstring>
#include <fmt/format.h>
#include <memory>

#include "core/fs.h"
#include "core/log.h"
#include "bpf/batch.h"
#include "bpf/boundary.h"
#include "bpf/kernel_layout.h"
#include "bpf_build_id.h"
#include "collect.skel.h"
#include "collect_tasks.skel.h"
#include "dev.skel.h"
#include "flush.skel.h"
#include "flush_css.skel.h"
#include "lock.skel.h"
#include "net.skel.h"
#include "proc.skel.h"
#include "sock.skel.h"

namespace bc::bpf {

namespace {
constexpr const char* kBpffs = "/sys/fs/bpf";

// libbpf's own messages (they start with "libbpf: ") go to the debug log; failures reach
// the user through the errors returned.
int libbpf_print(enum libbpf_print_level, const char* fmt_, va_list ap) {
    if (log::level() < log::Level::debug) return 0;
    // Verifier logs come as one message: keep them whole.
    static thread_local std::vector<char> buf(1 << 20);
    int n = std::vsnprintf(buf.data(), buf.size(), fmt_, ap);
    std::string_view msg(buf.data(), n > 0 ? std::min<size_t>(static_cast<size_t>(n), buf.size() - 1) : 0);
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
    // Root only: what is pinned below is reachable by host root alone, whatever its mode.
    if (::chmod(pin_dir.c_str(), 0700) < 0) return fail_sys(fmt::format("chmod {}", pin_dir));
    return {};
}

// The accounting domains: one BPF object (and skeleton) each. Maps they share are pinned by
// name, so the second object to load reuses the first one's.
void configure(proc_bpf* s, const LoadOptions& o, int& err) {
    err = bpf_map__set_max_entries(s->maps.bc_task_ct, o.max_tasks);
}
void configure(sock_bpf* s, const LoadOptions& o, int&) { s->rodata->ct_level = o.ct_level; }
void configure(net_bpf*, const LoadOptions&, int&) {}
void configure(dev_bpf* s, const LoadOptions& o, int&) { s->rodata->ct_level = o.ct_level; }
void configure(lock_bpf*, const LoadOptions&, int&) {}
template <class Collect>
void configure_collect(Collect* s, const LoadOptions& o, int& err) {
    err = bpf_map__set_max_entries(s->maps.bc_task_ct, o.max_tasks);
    s->rodata->ct_level = o.ct_level;
    s->rodata->mem_v1 = o.mem_v1;
    s->rodata->pids_v1 = o.pids_v1;
    s->rodata->page_size = static_cast<__u64>(::sysconf(_SC_PAGESIZE));
    s->rodata->sock_settling = sock_settling_supported();
    s->rodata->nr_cpus = static_cast<__u32>(std::max(libbpf_num_possible_cpus(), 1));
}
void configure(collect_bpf* s, const LoadOptions& o, int& err) { configure_collect(s, o, err); }
void configure(flush_bpf*, const LoadOptions&, int&) {}
void configure(flush_css_bpf*, const LoadOptions&, int&) {}
void configure(collect_tasks_bpf* s, const LoadOptions& o, int& err) { configure_collect(s, o, err); }

// The per-task collection needs the kernel's css and css_task iterators (Linux 6.7+).
bool has_task_iterators() {
    return kernel_has_function("bpf_iter_css_task_new") && kernel_has_function("bpf_iter_css_new");
}
// The kernel's flush of cgroup statistics is css_rstat_flush() from Linux 6.16 on,
// cgroup_rstat_flush() before (bpf/flush.bpf.c).
bool has_css_rstat_flush() { return kernel_has_function("css_rstat_flush"); }
bool without_css_rstat_flush() { return !has_css_rstat_flush(); }
bool always() { return true; }
bool without_task_iterators() { return !has_task_iterators(); }

struct Domain {
    const char* name;
    bool (*wanted)();  // this kernel loads this object (one of the variants of a domain)
    void* (*open)(const bpf_object_open_opts*);
    int (*configure)(void*, const LoadOptions&);
    int (*load)(void*);
    bpf_object* (*object)(void*);
    void (*destroy)(void*);
};
#define BC_DOMAIN(n, name, wanted)                                                                   \
    Domain {                                                                                         \
        name, wanted, [](const bpf_object_open_opts* o) -> void* { return n##_bpf__open_opts(o); }, \
            [](void* s, const LoadOptions& o) {                                                      \
                int err = 0;                                                                         \
                configure(static_cast<n##_bpf*>(s), o, err);                                         \
                return err;                                                                          \
            },                                                                                       \
            [](void* s) { return n##_bpf__load(static_cast<n##_bpf*>(s)); },                        \
            [](void* s) { return static_cast<n##_bpf*>(s)->obj; },                                   \
            [](void* s) { n##_bpf__destroy(static_cast<n##_bpf*>(s)); }                              \
    }
const Domain kDomains[] = {
    BC_DOMAIN(proc, "proc", always),
    BC_DOMAIN(sock, "sock", always),
    BC_DOMAIN(net, "net", always),
    BC_DOMAIN(dev, "dev", always),
    BC_DOMAIN(lock, "lock", always),
    BC_DOMAIN(collect, "collect", without_task_iterators),
    BC_DOMAIN(collect_tasks, "collect", has_task_iterators),
    BC_DOMAIN(flush, "flush", without_css_rstat_flush),
    BC_DOMAIN(flush_css, "flush", has_css_rstat_flush),
};
#undef BC_DOMAIN

// Every attached program, by the name of its link's pin.
// tracing: a tracepoint; cgroup: at the cgroup2 prefix node; collect: a cgroup iterator over
// the memory hierarchy's prefix node (post-order); flush: a cgroup iterator over the cgroup2
// prefix node alone; marks: an iterator over the socket marks; ubc: a task iterator (the
// user_beancounters file); tasks: a task iterator read by each collection; flush_mem: a cgroup
// iterator over the memory hierarchy's prefix node alone; prog: not attached here, the
// program itself pinned (the tc programs, attached to each container's links by
// bpf/boundary.cpp).
enum class Attach { tracing, cgroup, collect, ubc, flush, flush_mem, marks, tasks, prog };
// Attached to a prefix node (made anew when the node is).
bool at_prefix(Attach k) {
    return k == Attach::cgroup || k == Attach::collect || k == Attach::flush || k == Attach::flush_mem;
}
// What a cgroup iterator of this kind walks from its prefix node.
__u32 iter_order(Attach k) {
    return k == Attach::flush || k == Attach::flush_mem ? BPF_CGROUP_ITER_SELF_ONLY : BPF_CGROUP_ITER_DESCENDANTS_POST;
}
struct LinkSpec {
    const char* pin;
    const char* domain;
    const char* prog;
    Attach kind;
    bool (*wanted)() = always;  // this kernel's build of the domain has the program
};
constexpr LinkSpec kLinks[] = {
    {"link_proc_fork", "proc", "bc_proc_fork", Attach::tracing},
    {"link_proc_exit", "proc", "bc_proc_exit", Attach::tracing},
    {"link_sock_create", "sock", "bc_sock_create", Attach::cgroup},
    {"link_sock_release", "sock", "bc_sock_release", Attach::cgroup},
    {"link_sock_state", "sock", "bc_sock_state", Attach::tracing},
    {"link_sock_destroy", "sock", "bc_sock_destroy", Attach::tracing},
    {"link_sock_settle", "sock", "bc_sock_settle", Attach::marks, sock_settling_supported},
    {"prog_net_guard", "net", "bc_net_guard", Attach::prog},
    {"prog_net_from_ct", "net", "bc_net_from_ct", Attach::prog},
    {"prog_net_to_ct", "net", "bc_net_to_ct", Attach::prog},
    {"link_dev", "dev", "bc_dev_check", Attach::cgroup},
    {"link_lock_posix", "lock", "bc_lock_posix", Attach::tracing},
    {"link_lock_flock", "lock", "bc_lock_flock", Attach::tracing},
    {"link_flush", "flush", "bc_flush", Attach::flush},
    {"link_flush_mem", "flush", "bc_flush", Attach::flush_mem, without_css_rstat_flush},
    {"link_collect", "collect", "bc_collect", Attach::collect},
    {"prog_collect_slots", "collect", "bc_collect_slots", Attach::prog, has_task_iterators},
    {"user_beancounters", "collect", "bc_ubc", Attach::ubc},
    {"link_task_sums", "collect", "bc_task_sums_walk", Attach::tasks, without_task_iterators},
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

// The cgroup2 id of a directory (its inode number on 64-bit kernels).
Result<std::uint64_t> cgroup_id(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) < 0) return fail_sys(fmt::format("stat {}", path));
    return static_cast<std::uint64_t>(st.st_ino);
}

// The cgroup a pinned cgroup or cgroup-iterator link is attached to; 0 when its cgroup is
// gone.
std::uint64_t link_cgroup(int link_fd) {
    bpf_link_info info{};
    __u32 len = sizeof info;
    if (::bpf_obj_get_info_by_fd(link_fd, &info, &len) < 0) return 0;
    if (info.type == BPF_LINK_TYPE_CGROUP) return info.cgroup.cgroup_id;
    if (info.type == BPF_LINK_TYPE_ITER) return info.iter.cgroup.cgroup_id;
    return 0;
}

// The prefix nodes programs attach to: cgroup2's, and the memory hierarchy's.
struct Targets {
    Fd cg, mem;
    std::uint64_t cg_id = 0, mem_id = 0;
    bool on_cgroup2(Attach k) const { return k == Attach::cgroup || k == Attach::flush; }
    const Fd& fd_for(Attach k) const { return on_cgroup2(k) ? cg : mem; }
    std::uint64_t id_for(Attach k) const { return on_cgroup2(k) ? cg_id : at_prefix(k) ? mem_id : 0; }
};

// Where the pinned links stand: all pinned and attached to these prefix nodes; all pinned
// but some attached to a prefix node that is gone (it is removed with the last container
// and made anew with the next); or some missing.
enum class Links { in_place, moved, missing };
// Bit i: kLinks[i] is wanted on this kernel (some are probed in its BTF: milliseconds).
__u32 wanted_links() {
    static_assert(std::size(kLinks) <= 32, "bc_meta.links has 32 bits");
    __u32 mask = 0;
    for (size_t i = 0; i < std::size(kLinks); ++i)
        if (kLinks[i].wanted()) mask |= 1u << i;
    return mask;
}
bool in_mask(__u32 mask, const LinkSpec& l) { return mask >> (&l - kLinks) & 1; }

// `mask`: the links the loaded build attached (bc_meta.links).
Links links_state(const std::string& pin_dir, const Targets& t, __u32 mask) {
    Links state = Links::in_place;
    for (const auto& l : kLinks) {
        if (!in_mask(mask, l)) continue;
        std::string path = pin_dir + "/" + l.pin;
        if (!fs::exists(path)) return Links::missing;
        if (!at_prefix(l.kind)) continue;
        int fd = ::bpf_obj_get(path.c_str());
        if (fd < 0) return Links::missing;
        if (link_cgroup(fd) != t.id_for(l.kind)) state = Links::moved;
        ::close(fd);
    }
    return state;
}

// Pins a new link or program (by fd) under a temporary name, then renames it over the old pin (which
// drops the old link, if any): the pin never goes missing.
Result<> pin_fd_over(int link_fd, const std::string& path) {
    std::string fresh = path + "_new";  // bpffs refuses '.' in names
    ::unlink(fresh.c_str());            // left by a loader killed at this point
    if (::bpf_obj_pin(link_fd, fresh.c_str()) < 0) return fail_sys(fmt::format("pinning {}", fresh));
    if (::rename(fresh.c_str(), path.c_str()) < 0) {
        int e = errno;
        ::unlink(fresh.c_str());
        return fail_sys(e, fmt::format("replacing {}", path));
    }
    return {};
}

// The same build, the prefix nodes made anew: the programs the old links hold are attached
// to the new nodes as they are (no load, no verification), and the pins moved over.
Result<> reattach_moved(const std::string& pin_dir, const Targets& t, __u32 mask) {
    for (const auto& l : kLinks) {
        if (!in_mask(mask, l) || !at_prefix(l.kind)) continue;
        std::string path = pin_dir + "/" + l.pin;
        Fd old(::bpf_obj_get(path.c_str()));
        if (!old) return fail_sys(fmt::format("opening {}", path));
        bpf_link_info info{};
        __u32 len = sizeof info;
        if (::bpf_obj_get_info_by_fd(old.get(), &info, &len) < 0) return fail_sys(fmt::format("reading {}", path));
        const std::uint64_t at = info.type == BPF_LINK_TYPE_CGROUP ? info.cgroup.cgroup_id : info.iter.cgroup.cgroup_id;
        if (at == t.id_for(l.kind)) continue;
        Fd prog(::bpf_prog_get_fd_by_id(info.prog_id));
        if (!prog) return fail_sys(fmt::format("the program of {}", path));
        Fd link;
        if (l.kind == Attach::cgroup) {
            link = Fd(::bpf_link_create(prog.get(), t.cg.get(), static_cast<bpf_attach_type>(info.cgroup.attach_type), nullptr));
        } else {
            union bpf_iter_link_info li{};
            li.cgroup.cgroup_fd = static_cast<__u32>(t.fd_for(l.kind).get());
            li.cgroup.order = static_cast<bpf_cgroup_iter_order>(iter_order(l.kind));
            LIBBPF_OPTS(bpf_link_create_opts, o, .iter_info = &li, .iter_info_len = sizeof li);
            link = Fd(::bpf_link_create(prog.get(), 0, BPF_TRACE_ITER, &o));
        }
        if (!link) return fail_sys(fmt::format("attaching {} anew", l.prog));
        BC_TRYV(pin_fd_over(link.get(), path));
    }
    return {};
}

Result<> attach(const LinkSpec& l, bpf_object* obj, bpf_program* prog, const std::string& pin_dir, const Targets& t) {
    std::string path = pin_dir + "/" + l.pin;
    if (l.kind == Attach::cgroup && fs::exists(path)) {
        // Attached to our cgroup already: swap the program in place, atomically.
        Fd old(::bpf_obj_get(path.c_str()));
        if (old && link_cgroup(old.get()) == t.cg_id) {
            if (::bpf_link_update(old.get(), bpf_program__fd(prog), nullptr) < 0)
                return fail_sys(fmt::format("replacing the program of {}", path));
            return {};
        }
    }
    // Tracing links cannot swap their program (bpf_link_update is for cgroup, XDP and the
    // like), so a new build is attached beside the running one and its pin renamed over the
    // old pin: no event goes uncounted in between, and the programs' compare-and-swap marks
    // keep the overlap from counting anything twice. A cgroup link whose cgroup is gone is
    // replaced the same way, and so are the collecting iterators (an iterator link runs its
    // program only when read, so there is no overlap to mind).
    if (l.kind == Attach::prog) return pin_fd_over(bpf_program__fd(prog), path);
    bpf_link* link = nullptr;
    if (l.kind == Attach::cgroup) {
        link = bpf_program__attach_cgroup(prog, t.cg.get());
    } else if (l.kind == Attach::marks) {
        bpf_map* marks = bpf_object__find_map_by_name(obj, "bc_sock_mark");
        if (!marks) return fail("the bc_sock_mark map is missing from the sock object");
        union bpf_iter_link_info li{};
        li.map.map_fd = static_cast<__u32>(bpf_map__fd(marks));
        LIBBPF_OPTS(bpf_iter_attach_opts, io, .link_info = &li, .link_info_len = sizeof li);
        link = bpf_program__attach_iter(prog, &io);
    } else if (l.kind == Attach::ubc || l.kind == Attach::tasks) {
        link = bpf_program__attach_iter(prog, nullptr);  // every task the reader can see
    } else if (l.kind != Attach::tracing) {
        union bpf_iter_link_info li{};
        li.cgroup.cgroup_fd = static_cast<__u32>(t.fd_for(l.kind).get());
        // Post-order: a container's sub-cgroups come before its own node (bpf/collect.bpf.c).
        li.cgroup.order = static_cast<bpf_cgroup_iter_order>(iter_order(l.kind));
        LIBBPF_OPTS(bpf_iter_attach_opts, io, .link_info = &li, .link_info_len = sizeof li);
        link = bpf_program__attach_iter(prog, &io);
    } else {
        link = bpf_program__attach(prog);
    }
    if (!link) return fail_sys(errno, fmt::format("attaching {}", bpf_program__name(prog)));
    auto r = pin_fd_over(bpf_link__fd(link), path);
    bpf_link__destroy(link);  // the pin holds it now
    // On the host only root reaches it, as OpenVZ's /proc/user_beancounters: the pin
    // directory is 0700. Readable by all, so that a container's root (an unprivileged host
    // id) reads its own rows through the copy bound into the container.
    if (r && l.kind == Attach::ubc && ::chmod(path.c_str(), 0444) < 0) return fail_sys(fmt::format("chmod {}", path));
    return r;
}

// The loaded objects of one load, destroyed at the end (links and pins keep what is needed).
struct Objects {
    std::vector<std::pair<const Domain*, void*>> skels;
    ~Objects() {
        for (auto& [d, s] : skels) d->destroy(s);
    }
    bpf_object* find(std::string_view name) const {
        for (auto& [d, s] : skels)
            if (name == d->name) return d->object(s);
        return nullptr;
    }
};

}  // namespace

namespace {
// The running kernel's BTF, parsed once per process (5 MB: only loads need it), kept for its
// lifetime.
const btf* vmlinux_btf() {
    static btf* const vmlinux = btf__load_vmlinux_btf();
    return vmlinux;
}
}  // namespace

bool kernel_has_function(const char* name) {
    return vmlinux_btf() && btf__find_by_name_kind(vmlinux_btf(), name, BTF_KIND_FUNC) >= 0;
}

bool sock_settling_supported() {
    static const bool ok = [] {
        const btf* vmlinux = vmlinux_btf();
        const int target = vmlinux ? btf__find_by_name_kind(vmlinux, "bpf_iter_bpf_sk_storage_map", BTF_KIND_FUNC) : -1;
        if (target < 0) return false;
        bpf_insn prog[2]{};  // r0 = 0; exit
        prog[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
        prog[1].code = BPF_JMP | BPF_EXIT;
        LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_TRACE_ITER,
                    .attach_btf_id = static_cast<__u32>(target));
        Fd fd(::bpf_prog_load(BPF_PROG_TYPE_TRACING, "bc_probe_settle", "GPL", prog, 2, &o));
        if (!fd) log::debug("the kernel refuses iterators over socket storage ({}): no settling walk", std::strerror(errno));
        return static_cast<bool>(fd);
    }();
    return ok;
}

LoadOptions load_options(const cgroup::CtGroup& cg, unsigned max_tasks) {
    LoadOptions o;
    o.attach_cgroup = cg.v2_prefix();
    o.ct_level = cg.level();
    o.max_tasks = max_tasks;
    const std::string mem = cg.node_of("memory"), pids = cg.node_of("pids");
    o.mem_v1 = mem != cg.v2_path();
    o.pids_v1 = pids != cg.v2_path();
    o.mem_cgroup = mem.substr(0, mem.rfind('/'));
    return o;
}

Result<std::optional<Accounting>> Accounting::open(const std::string& pin_dir) {
    auto meta = BC_TRY(read_meta(pin_dir));
    // Version 0: a loader stopped before it finished; the next load completes it.
    if (!meta || meta->abi_version == 0) return std::nullopt;
    if (meta->abi_version != BC_ABI_VERSION)
        return fail(fmt::format("the BPF maps pinned in {} have layout version {}, this build uses {}; "
                                "stop every container and run 'beanctl unload'",
                                pin_dir, meta->abi_version, BC_ABI_VERSION));
    Accounting a;
    a.cgroups_ = BC_TRY(obj_get(pin_dir + "/bc_cgroups"));
    a.counters_ = BC_TRY(obj_get(pin_dir + "/bc_counters"));
    a.slots_ = BC_TRY(obj_get(pin_dir + "/bc_slots"));
    a.meta_ = BC_TRY(obj_get(pin_dir + "/bc_meta"));
    a.slot_owner_ = BC_TRY(obj_get(pin_dir + "/bc_slot_owner"));
    bpf_map_info info{};
    __u32 len = sizeof info;
    if (::bpf_obj_get_info_by_fd(a.counters_.get(), &info, &len) < 0) return fail_sys("reading bc_counters' layout");
    if (info.type != BPF_MAP_TYPE_ARRAY || !(info.map_flags & BPF_F_MMAPABLE) || info.value_size != sizeof(bc_ct_counters))
        return fail(fmt::format("{}/bc_counters is not the array of this build; stop every container and run 'beanctl unload'",
                                pin_dir));
    a.slot_count_ = info.max_entries;  // mapped by the first read_all()
    a.traffic_ = BC_TRY(obj_get(pin_dir + "/bc_traffic"));
    a.lock_inodes_ = BC_TRY(obj_get(pin_dir + "/bc_lock_inodes"));
    // Missing in pins of an older build (until the next load), or while a loader is
    // between its pins.
    auto pinned = [&](const char* name) -> Result<Fd> {
        std::string path = pin_dir + "/" + name;
        return fs::exists(path) ? obj_get(path) : Result<Fd>(Fd());
    };
    a.devices_ = BC_TRY(pinned("bc_dev_allow"));
    a.collector_ = BC_TRY(pinned("link_collect"));
    a.flusher_ = BC_TRY(pinned("link_flush"));
    a.mem_flusher_ = BC_TRY(pinned("link_flush_mem"));
    // Where memory is cgroup2's (pure cgroup2 up to Linux 6.15), link_flush_mem is attached
    // to the node link_flush is, and link_flush folds every controller's statistics there
    // already: one iterator run less per collection.
    if (a.flusher_ && a.mem_flusher_) {
        const std::uint64_t node = link_cgroup(a.flusher_.get());
        if (node && node == link_cgroup(a.mem_flusher_.get())) {
            a.mem_flusher_ = Fd();
            a.mem_folded_ = true;
        }
    }
    a.settler_ = BC_TRY(pinned("link_sock_settle"));
    a.task_summer_ = BC_TRY(pinned("link_task_sums"));
    a.slot_collector_ = BC_TRY(pinned("prog_collect_slots"));
    a.nodes_ = BC_TRY(pinned("bc_ct_nodes"));
    return a;
}

Result<Accounting> Accounting::load(const std::string& pin_dir, const std::string& lock_dir, const LoadOptions& o) {
    BC_TRYV(ensure_bpffs(pin_dir));
    auto lock = BC_TRY(lock_loader(lock_dir));
    const std::uint64_t id = BC_BPF_BUILD_ID;  // identifies this build of the programs
    Targets t;
    t.cg = Fd(::open(o.attach_cgroup.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!t.cg) return fail_sys(fmt::format("opening cgroup {}", o.attach_cgroup));
    t.cg_id = BC_TRY(cgroup_id(o.attach_cgroup));
    const std::string& mem = o.mem_cgroup.empty() ? o.attach_cgroup : o.mem_cgroup;
    t.mem = Fd(::open(mem.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!t.mem) return fail_sys(fmt::format("opening cgroup {}", mem));
    t.mem_id = BC_TRY(cgroup_id(mem));
    auto meta = BC_TRY(read_meta(pin_dir));
    if (meta && meta->abi_version == BC_ABI_VERSION && meta->build_id == id && meta->ct_level == o.ct_level) {
        const Links state = links_state(pin_dir, t, meta->links);
        if (state == Links::moved) BC_TRYV(reattach_moved(pin_dir, t, meta->links));
        if (state != Links::missing) {
            auto a = BC_TRY(open(pin_dir));
            a->lock_dir_ = lock_dir;
            return std::move(*a);
        }
    }
    if (meta && meta->abi_version != 0 && meta->abi_version != BC_ABI_VERSION)
        BC_TRYV(open(pin_dir));  // reports the mismatch

    libbpf_print_fn_t old_print = libbpf_set_print(libbpf_print);
    struct Restore {
        libbpf_print_fn_t f;
        ~Restore() { libbpf_set_print(f); }
    } restore{old_print};

    LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir.c_str());
    Objects objs;
    for (const auto& d : kDomains) {
        if (!d.wanted()) continue;
        void* skel = d.open(&opts);
        if (!skel) return fail_sys(errno, fmt::format("opening the BPF programs ({})", d.name));
        objs.skels.emplace_back(&d, skel);
        if (int err = d.configure(skel, o); err) return fail(Error::sys(-err, fmt::format("configuring {}", d.name)));
        // A program no link of this kernel wants is not loaded (the kernel may refuse it).
        for (const auto& l : kLinks) {
            if (l.domain != std::string_view(d.name) || l.wanted()) continue;
            bpf_program* p = bpf_object__find_program_by_name(d.object(skel), l.prog);
            bool used = false;
            for (const auto& other : kLinks) used |= other.wanted() && std::string_view(other.prog) == l.prog;
            if (p && !used) bpf_program__set_autoload(p, false);
        }
        if (int err = d.load(skel); err)
            return fail(Error::sys(-err, fmt::format("loading the BPF programs of {} (-v shows libbpf's and the verifier's "
                                                     "log; a map pinned in {} by an incompatible build shows there as "
                                                     "\"couldn't reuse pinned map\", and 'beanctl unload' clears the pins; "
                                                     "see also beanctl check)",
                                                     d.name, pin_dir)));
    }
    learn_socket_protocols(objs.find("collect"));
    learn_memory_stats(objs.find("collect"), mem, o.mem_v1);
    const __u32 links = wanted_links();
    for (const auto& l : kLinks) {
        if (!in_mask(links, l)) continue;
        bpf_object* obj = objs.find(l.domain);
        bpf_program* prog = bpf_object__find_program_by_name(obj, l.prog);
        if (!prog) return fail(fmt::format("BPF program {} missing from the {} object", l.prog, l.domain));
        BC_TRYV(attach(l, obj, prog, pin_dir, t));
    }
    // The running containers' links take the new build's programs too.
    BC_TRYV(retarget_boundaries(pin_dir, objs.find("net")));
    bc_meta m{BC_ABI_VERSION, o.ct_level, id, meta && meta->abi_version == BC_ABI_VERSION ? meta->slots_used : 0, links};
    __u32 key = 0;
    bpf_map* meta_map = bpf_object__find_map_by_name(objs.find("proc"), "bc_meta");
    if (!meta_map || ::bpf_map_update_elem(bpf_map__fd(meta_map), &key, &m, BPF_ANY) < 0) return fail_sys("writing bc_meta");
    // Everything is pinned now: the same as opening an instance loaded earlier.
    auto a = BC_TRY(open(pin_dir));
    a->lock_dir_ = lock_dir;
    return std::move(*a);
}

Result<> Accounting::unload(const std::string& pin_dir, const std::string& lock_dir) {
    Fd lock;
    if (!lock_dir.empty()) lock = BC_TRY(lock_loader(lock_dir));
    if (!fs::is_dir(pin_dir)) return {};
    // Links first, so that no program runs against maps that are going away.
    for (const auto& l : kLinks) ::unlink((pin_dir + "/" + l.pin).c_str());
    for (const auto& e : BC_TRY(fs::list_dir(pin_dir)))
        if (::unlink((pin_dir + "/" + e).c_str()) < 0) return fail_sys(fmt::format("removing {}/{}", pin_dir, e));
    if (::rmdir(pin_dir.c_str()) < 0) return fail_sys(fmt::format("removing {}", pin_dir));
    return {};
}

Result<> Accounting::reset_slot(__u32 slot, Ctid id, std::uint64_t cgroup2_id) const {
    int ncpu = libbpf_num_possible_cpus();
    if (ncpu <= 0) return fail(Error::sys(-ncpu, "counting the possible CPUs"));
    std::vector<bc_traffic> zero(static_cast<size_t>(ncpu));
    if (::bpf_map_update_elem(traffic_.get(), &slot, zero.data(), BPF_ANY) < 0)
        return fail_sys(fmt::format("resetting the traffic counters of container {}", id));
    bc_lock_set none{};
    if (::bpf_map_update_elem(lock_inodes_.get(), &slot, &none, BPF_ANY) < 0)
        return fail_sys(fmt::format("resetting the locked inodes of container {}", id));
    // To be bound by the next collecting walk; its tasks are summed over cgroup2_id.
    return write_node(slot, bc_ct_node{0, 0, 0, cgroup2_id}, id);
}

// The slot's entry in bc_ct_nodes (bpf/collect.bpf.c), always with no node: the update
// releases the reference the entry held.
Result<> Accounting::write_node(__u32 slot, const bc_ct_node& n, Ctid id) const {
    if (!nodes_) return {};
    if (::bpf_map_update_elem(nodes_.get(), &slot, &n, BPF_ANY) < 0)
        return fail_sys(fmt::format("releasing the cgroup of container {}", id));
    return {};
}

Result<> Accounting::register_ct(std::uint64_t cgroup_id, Ctid id, const std::array<bc_counter, BC_RES_COUNT>* limits) {
    bc_ct_counters c{};
    c.ctid = id;
    // A new generation: marks left by an earlier run of this container are never uncharged
    // from this run's counters.
    __u32 gen = 0;
    while (gen == 0) {
        if (::getrandom(&gen, sizeof gen, 0) != sizeof gen) return fail_sys("getrandom");
        gen &= 0x7fffffff;
    }
    c.generation = gen;
    for (size_t i = 0; i < BC_RES_COUNT; ++i) {
        c.res[i].barrier = limits ? (*limits)[i].barrier : BC_UNLIMITED;
        c.res[i].limit = limits ? (*limits)[i].limit : BC_UNLIMITED;
    }
    // The container's slot: the one it has, or the lowest free one, claimed by an insert
    // that fails when another start claimed it first.
    __u32 slot = 0;
    if (::bpf_map_lookup_elem(slots_.get(), &id, &slot) < 0) {
        if (errno != ENOENT) return fail_sys(fmt::format("looking up the slot of container {}", id));
        // Under the loaders' lock, so that slots_used only grows.
        Fd lock;
        if (!lock_dir_.empty()) lock = BC_TRY(lock_loader(lock_dir_));
        // One insert per slot taken below the first free one: cheaper than mapping the
        // records (which maps every page of them at once) for all but thousands of
        // containers.
        bool claimed = false;
        for (__u32 i = 0; i < slot_count_ && !claimed; ++i) {
            claimed = ::bpf_map_update_elem(slot_owner_.get(), &i, &id, BPF_NOEXIST) == 0;
            if (!claimed && errno != EEXIST) return fail_sys("claiming a slot for the counters");
            if (claimed) slot = i;
        }
        if (!claimed)
            return fail(Error{ENOSPC, fmt::format("no room for the counters of container {}: {} containers at most",
                                                  id, slot_count_)});
        __u32 key = 0;
        bc_meta m{};
        if (::bpf_map_lookup_elem(meta_.get(), &key, &m) < 0) return fail_sys("reading bc_meta");
        if (m.slots_used <= slot) {
            m.slots_used = slot + 1;
            if (::bpf_map_update_elem(meta_.get(), &key, &m, BPF_EXIST) < 0) return fail_sys("writing bc_meta");
        }
    }
    // The slot's other entries (traffic, locked inodes) and the counters first, then the
    // slot: the first event in the cgroup must find them. (The traffic entry counts only
    // once a link leads to it: bpf/boundary.cpp.)
    BC_TRYV(reset_slot(slot, id, cgroup_id));
    if (::bpf_map_update_elem(counters_.get(), &slot, &c, BPF_ANY) < 0)
        return fail_sys(fmt::format("registering container {}", id));
    if (::bpf_map_update_elem(slots_.get(), &id, &slot, BPF_ANY) < 0)
        return fail_sys(fmt::format("registering the slot of container {}", id));
    __u32 ct = id;
    if (::bpf_map_update_elem(cgroups_.get(), &cgroup_id, &ct, BPF_ANY) < 0)
        return fail_sys(fmt::format("registering the cgroup of container {}", id));
    return {};
}

Result<> Accounting::set_devices(std::uint64_t cgroup_id, const std::vector<DeviceRule>& rules) {
    if (!devices_) return fail("the device allowlist is not loaded (pins of an older build): restart the container");
    auto key_of = [&](const DeviceRule& r) {
        bc_dev_key k{};
        k.cgroup_id = cgroup_id;
        k.type = r.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
        k.major = r.major;
        k.minor = r.minor;
        return k;
    };
    // The new rules first, then the sentinel that switches enforcement on (see
    // bpf/dev.bpf.c), then whatever the container had and has no more: a live change never
    // opens more than the old and new lists together.
    std::vector<bc_dev_key> keep;
    for (const auto& r : rules) {
        if (!r.access) continue;
        bc_dev_key k = key_of(r);
        __u32 acc = r.access;
        if (::bpf_map_update_elem(devices_.get(), &k, &acc, BPF_ANY) < 0)
            return fail_sys(fmt::format("writing device rule {}", format_device_rule(r)));
        keep.push_back(k);
    }
    bc_dev_key sentinel{};
    sentinel.cgroup_id = cgroup_id;
    __u32 on = 1;
    if (::bpf_map_update_elem(devices_.get(), &sentinel, &on, BPF_ANY) < 0) return fail_sys("enabling the device allowlist");
    keep.push_back(sentinel);
    return drop_devices(cgroup_id, keep);
}

Result<> Accounting::drop_devices(std::uint64_t cgroup_id, const std::vector<bc_dev_key>& keep) {
    // The rules of every container are in the one map: read in batches, not key by key.
    std::vector<bc_dev_key> stale;
    for (const auto& [k, access] : BC_TRY((dump_hash<bc_dev_key, __u32>(devices_.get(), "the device allowlist")))) {
        if (k.cgroup_id != cgroup_id) continue;
        if (std::none_of(keep.begin(), keep.end(), [&](const bc_dev_key& o) { return std::memcmp(&o, &k, sizeof k) == 0; }))
            stale.push_back(k);
    }
    for (auto& s : stale)
        if (::bpf_map_delete_elem(devices_.get(), &s) < 0 && errno != ENOENT) return fail_sys("removing a device rule");
    return {};
}

Result<> Accounting::unregister_cgroup(std::uint64_t cgroup_id) {
    if (devices_) BC_TRYV(drop_devices(cgroup_id, {}));
    // The reference to the container's node goes with it (a held cgroup outlives its
    // removal), and later collections skip the container.
    __u32 ct = 0, slot = 0;
    bc_ct_counters c{};
    if (nodes_ && ::bpf_map_lookup_elem(cgroups_.get(), &cgroup_id, &ct) == 0 &&
        ::bpf_map_lookup_elem(slots_.get(), &ct, &slot) == 0 && ::bpf_map_lookup_elem(counters_.get(), &slot, &c) == 0 &&
        c.ctid == ct)
        BC_TRYV(write_node(slot, bc_ct_node{0, c.generation, ct, 0}, ct));  // this run: nothing to collect
    if (::bpf_map_delete_elem(cgroups_.get(), &cgroup_id) < 0 && errno != ENOENT)
        return fail_sys("unregistering a container's cgroup");
    return {};
}

Result<> Accounting::forget(Ctid id) {
    __u32 key = id, slot = 0;
    if (::bpf_map_lookup_elem(slots_.get(), &key, &slot) < 0) {
        if (errno == ENOENT) return {};
        return fail_sys(fmt::format("looking up the slot of container {}", id));
    }
    // The slot first (programs stop finding the record), then the record, then the claim.
    if (::bpf_map_delete_elem(slots_.get(), &key) < 0 && errno != ENOENT)
        return fail_sys(fmt::format("removing the slot of container {}", id));
    BC_TRYV(reset_slot(slot, id));
    bc_ct_counters zero{};
    if (::bpf_map_update_elem(counters_.get(), &slot, &zero, BPF_ANY) < 0)
        return fail_sys(fmt::format("removing the counters of container {}", id));
    if (::bpf_map_delete_elem(slot_owner_.get(), &slot) < 0 && errno != ENOENT)
        return fail_sys(fmt::format("freeing the slot of container {}", id));
    return {};
}

Result<const bc_ct_counters*> Accounting::records() const {
    if (!records_) {
        // The kernel lays the values out back to back (each rounded up to 8 bytes: 1096
        // is), from the start of the mapping. Mapping them sets up every page of the 9 MB
        // at once, so only readers do it, once.
        const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
        const size_t bytes = (static_cast<size_t>(slot_count_) * sizeof(bc_ct_counters) + page - 1) / page * page;
        void* p = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, counters_.get(), 0);
        if (p == MAP_FAILED) return fail_sys("mapping bc_counters");
        records_ = std::shared_ptr<const bc_ct_counters>(static_cast<const bc_ct_counters*>(p), [bytes](const bc_ct_counters* q) {
            ::munmap(const_cast<bc_ct_counters*>(q), bytes);
        });
    }
    return records_.get();
}

Result<std::vector<std::pair<Ctid, bc_ct_counters>>> Accounting::read_all() const {
    std::vector<std::pair<Ctid, bc_ct_counters>> out;
    const bc_ct_counters* r = BC_TRY(records());
    __u32 key = 0;
    bc_meta m{};
    if (::bpf_map_lookup_elem(meta_.get(), &key, &m) < 0) return fail_sys("reading bc_meta");
    const __u32 used = std::min(m.slots_used, slot_count_);
    out.reserve(used);
    for (__u32 i = 0; i < used; ++i)
        if (const Ctid id = r[i].ctid) out.emplace_back(id, r[i]);
    return out;
}

namespace {
// One read of an iterator link whose programs write nothing.
Result<> run_iterator(const Fd& link, const char* what) {
    Fd it(::bpf_iter_create(link.get()));
    if (!it) return fail_sys(fmt::format("starting {}", what));
    char buf[64];
    for (;;) {
        ssize_t n = ::read(it.get(), buf, sizeof buf);
        if (n == 0) return {};
        if (n < 0 && errno != EINTR) return fail_sys(what);
    }
}
}  // namespace

Result<> Accounting::collect(const std::string& memory_prefix) const {
    if (flusher_) BC_TRYV(run_iterator(flusher_, "bringing the cgroups' CPU time up to date"));
    if (mem_flusher_) {
        BC_TRYV(run_iterator(mem_flusher_, "bringing the memory cgroups' statistics up to date"));
    } else if (!mem_folded_ && !memory_prefix.empty()) {
        // No link_flush_mem: Linux 6.16+, where no program can fold the memory statistics
        // (bpf/flush.bpf.c). A read of the prefix node's memory.stat folds every
        // container's below it, when more than 64 pages per CPU wait (the kernel's own
        // threshold).
        Fd stat(::open((memory_prefix + "/memory.stat").c_str(), O_RDONLY | O_CLOEXEC));
        char buf[4096];
        if (stat) (void)::read(stat.get(), buf, sizeof buf);
    }
    // Through the containers' bound nodes (one program run), then the walk of the hierarchy
    // if a container has none bound yet (which binds it), or where the kernel has no such
    // program (before 6.7).
    bool walk = true;
    if (slot_collector_) {
        bc_collect_slots_ctx ctx{};
        LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = &ctx, .ctx_size_in = sizeof ctx);
        if (::bpf_prog_test_run_opts(slot_collector_.get(), &run) < 0) return fail_sys("collecting the controllers' counters");
        walk = ctx.unbound > 0;
    }
    if (walk && collector_) BC_TRYV(run_iterator(collector_, "collecting the controllers' counters"));
    if (task_summer_) BC_TRYV(run_iterator(task_summer_, "summing the containers' tasks"));
    if (settler_) BC_TRYV(run_iterator(settler_, "settling the socket counts"));
    return {};
}



}  // namespace bc::bpf
