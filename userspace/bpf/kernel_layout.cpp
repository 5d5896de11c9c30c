#include "bpf/kernel_layout.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <optional>
#include <sstream>
#include <vector>

#include "core/fd.h"
#include "core/fs.h"
#include "core/log.h"

namespace bc::bpf {

namespace {
// One read of an iterator made from a program of the object, to its end; its output.
std::optional<std::string> read_iterator(bpf_object* obj, const char* name, int cgroup_fd = -1) {
    bpf_program* prog = bpf_object__find_program_by_name(obj, name);
    if (!prog) return std::nullopt;
    union bpf_iter_link_info li{};
    LIBBPF_OPTS(bpf_iter_attach_opts, io);
    if (cgroup_fd >= 0) {
        li.cgroup.cgroup_fd = static_cast<__u32>(cgroup_fd);
        li.cgroup.order = BPF_CGROUP_ITER_SELF_ONLY;
        io.link_info = &li;
        io.link_info_len = sizeof li;
    }
    bpf_link* link = bpf_program__attach_iter(prog, cgroup_fd >= 0 ? &io : nullptr);
    if (!link) {
        log::debug("{}: {}", name, std::strerror(errno));
        return std::nullopt;
    }
    std::string out;
    Fd it(::bpf_iter_create(bpf_link__fd(link)));
    char buf[4096];
    ssize_t n = 0;
    while (it && (n = ::read(it.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    bpf_link__destroy(link);
    if (!it || n < 0) return std::nullopt;
    return out;
}

const btf* kernel_btf() {
    static btf* const b = btf__load_vmlinux_btf();  // kept for the process's lifetime
    return b;
}

std::optional<long long> enum_value(const char* type, const char* name) {
    const btf* b = kernel_btf();
    if (!b) return std::nullopt;
    int id = btf__find_by_name_kind(b, type, BTF_KIND_ENUM);
    if (id < 0) return std::nullopt;
    const btf_type* t = btf__type_by_id(b, static_cast<__u32>(id));
    const struct btf_enum* e = btf_enum(t);
    for (unsigned i = 0; i < btf_vlen(t); ++i)
        if (std::strcmp(btf__name_by_offset(b, e[i].name_off), name) == 0) return e[i].val;
    return std::nullopt;
}

// The length of an array member of a struct.
std::optional<unsigned> array_length(const char* type, const char* member) {
    const btf* b = kernel_btf();
    if (!b) return std::nullopt;
    int id = btf__find_by_name_kind(b, type, BTF_KIND_STRUCT);
    if (id < 0) return std::nullopt;
    const btf_type* t = btf__type_by_id(b, static_cast<__u32>(id));
    const struct btf_member* m = btf_members(t);
    for (unsigned i = 0; i < btf_vlen(t); ++i) {
        if (std::strcmp(btf__name_by_offset(b, m[i].name_off), member) != 0) continue;
        const btf_type* a = btf__type_by_id(b, static_cast<__u32>(btf__resolve_type(b, m[i].type)));
        if (!a || !btf_is_array(a)) return std::nullopt;
        return btf_array(a)->nelems;
    }
    return std::nullopt;
}

struct MemoryStat {
    long shmem = -1, kernel = -1;  // pages; -1: not in the file
};

MemoryStat read_memory_stat(const std::string& cgroup, long page) {
    MemoryStat s;
    auto text = fs::read_file(cgroup + "/memory.stat");
    if (!text) return s;
    std::istringstream in(*text);
    std::string key;
    long long v;
    while (in >> key >> v) {
        if (key == "shmem") s.shmem = static_cast<long>(v / page);
        if (key == "kernel") s.kernel = static_cast<long>(v / page);
    }
    return s;
}

std::vector<long> read_stats(bpf_object* obj, int cgroup_fd) {
    auto raw = read_iterator(obj, "bc_memstat_dump", cgroup_fd);
    std::vector<long> v;
    if (!raw) return v;
    v.resize(raw->size() / sizeof(long));
    std::memcpy(v.data(), raw->data(), v.size() * sizeof(long));
    return v;
}

// The slots that held exactly a, then b.
std::vector<int> slots_following(const std::vector<long>& s1, const std::vector<long>& s2, long a, long b) {
    std::vector<int> out;
    for (size_t i = 0; i < s1.size() && i < s2.size(); ++i)
        if (s1[i] == a && s2[i] == b) out.push_back(static_cast<int>(i));
    return out;
}

// Sizes of the calibration's steps, in pages: unusual numbers, so that no other statistic
// holds them by chance.
constexpr long kShmemFirst = 1031, kShmemThen = 1553;
constexpr int kPipes = 48;  // pipes made with a page written in each: kernel memory grows

// The calibrating process: joins the cgroup (cgroup.procs fd opened by the parent), fills
// a memfd in two steps and makes pipes in the second, reporting each step on `up` and
// waiting on `down` between them. Only async-signal-safe calls: it runs right after fork().
[[noreturn]] void calibrating_child(int procs, int up, int down, long page) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    char c = 0;
    static char buf[65536];
    std::memset(buf, 0x5a, sizeof buf);
    if (::write(procs, "0", 1) != 1) ::_exit(1);
    int m = ::memfd_create("bc-memstat", MFD_CLOEXEC);
    if (m < 0) ::_exit(1);
    auto fill = [&](long pages) {
        for (long left = pages * page; left > 0;) {
            ssize_t n = ::write(m, buf, static_cast<size_t>(std::min<long>(left, sizeof buf)));
            if (n <= 0) ::_exit(1);
            left -= n;
        }
    };
    fill(kShmemFirst);
    if (::write(up, "1", 1) != 1 || ::read(down, &c, 1) != 1) ::_exit(1);
    fill(kShmemThen - kShmemFirst);
    for (int i = 0; i < kPipes; ++i) {
        int p[2];
        if (::pipe(p) < 0 || ::write(p[1], buf, static_cast<size_t>(page)) < 0) ::_exit(1);
    }
    if (::write(up, "2", 1) != 1) ::_exit(1);
    (void)::read(down, &c, 1);  // until the parent is done
    ::_exit(0);
}

struct Calibration {
    int shmem = -1, kmem = -1;
};

Calibration calibrate(bpf_object* obj, const std::string& mem_prefix, bool mem_v1) {
    Calibration cal;
    const long page = ::sysconf(_SC_PAGESIZE);
    const std::string dir = mem_prefix + "/memstat-calibration";
    ::rmdir(dir.c_str());  // left by a loader killed here (its process died with it)
    if (::mkdir(dir.c_str(), 0700) < 0) {
        log::debug("memory statistics: creating {}: {}", dir, std::strerror(errno));
        return cal;
    }
    Fd cg(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    Fd procs(::open((dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
    int up[2] = {-1, -1}, down[2] = {-1, -1};
    pid_t pid = -1;
    if (cg && procs && ::pipe2(up, O_CLOEXEC) == 0 && ::pipe2(down, O_CLOEXEC) == 0) {
        pid = ::fork();
        if (pid == 0) calibrating_child(procs.get(), up[1], down[0], page);
    }
    Fd up_r(up[0]), up_w(up[1]), down_r(down[0]), down_w(down[1]);
    up_w.reset();
    down_r.reset();
    char c = 0;
    std::vector<long> s1, s2;
    MemoryStat m1, m2;
    // memory.stat is read first: reading it folds the kernel's per-CPU statistics into the
    // array the dump reads right after.
    if (pid > 0 && ::read(up_r.get(), &c, 1) == 1) {
        m1 = read_memory_stat(dir, page);
        s1 = read_stats(obj, cg.get());
        if (::write(down_w.get(), "x", 1) == 1 && ::read(up_r.get(), &c, 1) == 1) {
            m2 = read_memory_stat(dir, page);
            s2 = read_stats(obj, cg.get());
        }
    }
    if (pid > 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
    down_w.reset();
    cg.reset();
    procs.reset();
    for (int i = 0; i < 100 && ::rmdir(dir.c_str()) < 0 && errno == EBUSY; ++i) ::usleep(1000);
    if (s1.empty() || s2.empty()) {
        log::debug("memory statistics: the calibration did not run");
        return cal;
    }
    // shmem pages also count as file pages (NR_FILE_PAGES), which the kernel's table lists
    // before NR_SHMEM (its node items keep their enum order): of two slots that followed
    // shmem, the later one is shmem's.
    if (m1.shmem >= kShmemFirst && m2.shmem >= kShmemThen) {
        auto found = slots_following(s1, s2, m1.shmem, m2.shmem);
        auto file = enum_value("node_stat_item", "NR_FILE_PAGES"), shm = enum_value("node_stat_item", "NR_SHMEM");
        if (found.size() == 1) cal.shmem = found[0];
        if (found.size() == 2 && file && shm && *file < *shm) cal.shmem = found[1];
        log::debug("memory statistics: shmem {} then {} pages, in slots [{}]", m1.shmem, m2.shmem, fmt::join(found, ","));
    }
    if (!mem_v1 && m1.kernel > 0 && m2.kernel > m1.kernel) {
        auto found = slots_following(s1, s2, m1.kernel, m2.kernel);
        if (found.size() == 1) cal.kmem = found[0];
        log::debug("memory statistics: kernel {} then {} pages, in slots [{}]", m1.kernel, m2.kernel, fmt::join(found, ","));
    }
    return cal;
}
}  // namespace

void learn_socket_protocols(bpf_object* collect) {
    int stream[2] = {-1, -1}, dgram[2] = {-1, -1};
    Fd nl(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, stream) < 0) return;
    Fd a(stream[0]), b(stream[1]);
    if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, dgram) < 0) return;
    Fd c(dgram[0]), d(dgram[1]);
    for (const char* name : {"bc_proto_unix", "bc_proto_netlink"}) (void)read_iterator(collect, name);
    const bpf_map* data = bpf_object__find_map_by_name(collect, ".data");
    size_t size = 0;
    const void* live = data ? bpf_map__initial_value(const_cast<bpf_map*>(data), &size) : nullptr;
    int idx[3] = {-1, -1, -1};
    if (live && size >= sizeof idx) std::memcpy(idx, live, sizeof idx);
    log::debug("socket protocols' counters: unix stream {}, unix datagram {}, netlink {} (-1: not counted)", idx[0], idx[1],
               idx[2]);
}

std::string memory_stats_layout() {
    auto length = array_length("memcg_vmstats", "state");
    auto all = enum_value("memcg_stat_item", "MEMCG_NR_STAT");
    if (!length) return "";
    return all && *length == *all ? "by item" : "compressed";
}

void learn_memory_stats(bpf_object* collect, const std::string& mem_prefix, bool mem_v1) {
    struct {
        int shmem = -1, kmem = -1;
    } idx;
    const std::string layout = memory_stats_layout();
    if (layout == "by item") {
        // Indexed by the items themselves.
        if (auto v = enum_value("node_stat_item", "NR_SHMEM")) idx.shmem = static_cast<int>(*v);
        if (auto v = enum_value("memcg_stat_item", "MEMCG_KMEM"); v && !mem_v1) idx.kmem = static_cast<int>(*v);
    } else if (layout == "compressed") {
        auto cal = calibrate(collect, mem_prefix, mem_v1);
        idx.shmem = cal.shmem;
        idx.kmem = cal.kmem;
    }
    log::debug("memory statistics: shmem at {}, kernel at {} (-1: not counted)", idx.shmem, idx.kmem);
    const bpf_map* map = bpf_object__find_map_by_name(collect, "bc_memstat_idx");
    __u32 key = 0;
    if (!map || ::bpf_map_update_elem(bpf_map__fd(map), &key, &idx, BPF_ANY) < 0)
        log::debug("memory statistics: writing bc_memstat_idx: {}", std::strerror(errno));
}

}  // namespace bc::bpf
