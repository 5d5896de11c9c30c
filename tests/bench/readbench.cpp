// readbench [N] [ROUNDS] [tasks]: the cost of reading every beancounter of N registered
// containers (default 1000), side by side in one run:
//   bpf       what `beanctl ubc` does: one collection (the collecting iterator copies the
//             memory and pids controllers' counters and the traffic into each record, in
//             the kernel), then bc_counters read through this process's mapping of it;
//   files     every value that collection gives, read from the files a reader without BPF
//             would read: the container's cgroupfs files (memory, swap, kmem, the memory
//             statistics' shmem and kernel, OOM kills, pids, CPU time) and, for each of its
//             processes, procfs (VmData, VmStk and VmLck from status, the descriptors in
//             fd/), with the container's unix and netlink sockets (net/protocols of one of
//             its processes), its terminals (dev/pts below its root), and the host's
//             /proc/locks once for all (numflock). One open, read and
//             close per file into a buffer; nothing but the numbers is kept;
//   controllers  the narrower set read_cgroup_counters() returns (usage, peak, limit and
//             failcnt of memory, kmem and pids: the values the kernel's controllers keep
//             exactly), as the tests compare with.
// It also times the kernel's cgroup walk alone: an iterator over the same node, in the same
// order, whose program returns at once (what any collecting iterator pays before it reads
// anything of a container).
// The containers are cgroups under a private prefix, registered in a private pin directory;
// both are removed at the end, also on failure. They are empty, unless `tasks` is given:
// then each holds one sleeping process in a network and a mount namespace of its own, as a
// container's init, so that the collection also does what it does for a running container
// (the namespace's sockets counted through the process, the terminals of the devpts
// instance below its root, the process's memory and descriptors). Its root is a tmpfs with
// proc, sysfs, a tmpfs on /dev and a devpts instance on /dev/pts, mounted in that order, as
// a container's start does. Rounds rotate the order of the three methods; the medians and
// the medians of the per-round ratios are printed.
// Needs root and the build's BPF programs.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <string>
#include <string_view>
#include <vector>

#include "../common/testutil.h"
#include "acct/cgroup_reader.h"
#include "bpf/accounting.h"
#include "cgroup/ctgroup.h"
#include "cgroup/layout.h"
#include "core/fd.h"
#include "core/proc.h"

namespace {
using Clock = std::chrono::steady_clock;

// An iterator link over `node` (post-order, as the collection's) whose program does nothing.
int empty_walk_link(const std::string& node) {
    btf* vmlinux = btf__load_vmlinux_btf();
    const int target = vmlinux ? btf__find_by_name_kind(vmlinux, "bpf_iter_cgroup", BTF_KIND_FUNC) : -1;
    btf__free(vmlinux);
    if (target < 0) return -1;
    const bpf_insn insns[] = {
        {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .src_reg = 0, .off = 0, .imm = 0},
        {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0},
    };
    LIBBPF_OPTS(bpf_prog_load_opts, po, .expected_attach_type = BPF_TRACE_ITER, .attach_btf_id = static_cast<__u32>(target));
    bc::Fd prog(::bpf_prog_load(BPF_PROG_TYPE_TRACING, "bc_walk_only", "GPL", insns, 2, &po));
    bc::Fd cg(::open(node.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!prog || !cg) return -1;
    bpf_iter_link_info li{};
    li.cgroup.cgroup_fd = static_cast<__u32>(cg.get());
    li.cgroup.order = BPF_CGROUP_ITER_DESCENDANTS_POST;
    LIBBPF_OPTS(bpf_link_create_opts, lo, .iter_info = &li, .iter_info_len = sizeof li);
    return ::bpf_link_create(prog.get(), 0, BPF_TRACE_ITER, &lo);
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// A container-like root for a sleeping process, in its own mount namespace (see the top).
bool sleeper_root(const std::string& dir) {
    const char* d = dir.c_str();
    return ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
           ::mount("root", d, "tmpfs", 0, "size=64k") == 0 && ::chdir(d) == 0 && ::mkdir("proc", 0755) == 0 &&
           ::mkdir("sys", 0755) == 0 && ::mkdir("dev", 0755) == 0 && ::mount("proc", "proc", "proc", 0, nullptr) == 0 &&
           ::mount("sysfs", "sys", "sysfs", MS_RDONLY, nullptr) == 0 && ::mount("dev", "dev", "tmpfs", 0, "size=64k") == 0 &&
           ::mkdir("dev/pts", 0755) == 0 && ::mount("devpts", "dev/pts", "devpts", 0, "newinstance,ptmxmode=0666") == 0 &&
           ::syscall(SYS_pivot_root, ".", ".") == 0 && ::umount2(".", MNT_DETACH) == 0 && ::chdir("/") == 0;
}

[[noreturn]] void die(const std::string& msg) {
    std::fprintf(stderr, "readbench: %s\n", msg.c_str());
    std::exit(1);
}

// The reader without BPF, as lean as such a reader can be: one open, read and close per
// file into one buffer, numbers parsed in place. sum keeps every value read (so that none
// of the reading can be skipped), files counts the files read.
struct FileReader {
    char buf[16384];
    std::uint64_t sum = 0, files = 0;

    std::string_view read(const std::string& path) {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return {};
        ssize_t n = ::read(fd, buf, sizeof buf);
        ::close(fd);
        ++files;
        return n > 0 ? std::string_view(buf, static_cast<size_t>(n)) : std::string_view{};
    }
    static std::uint64_t parse(std::string_view t) {
        std::uint64_t v = 0;
        while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
        std::from_chars(t.data(), t.data() + t.size(), v);
        return v;
    }
    void number(const std::string& path) { sum += parse(read(path)); }
    // The values of these keys at line starts ("key value" or "Key:\tvalue").
    void keys(const std::string& path, std::initializer_list<std::string_view> want) {
        std::string_view t = read(path);
        for (size_t at = 0; at < t.size();) {
            size_t end = t.find('\n', at);
            std::string_view line = t.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
            for (auto k : want)
                if (line.size() > k.size() && line.substr(0, k.size()) == k && (line[k.size()] == ' ' || line[k.size()] == ':'))
                    sum += parse(line.substr(k.size() + 1 + (line[k.size()] == ':')));
            if (end == std::string_view::npos) break;
            at = end + 1;
        }
    }
    // Entries of a directory, less . and ..
    std::uint64_t entries(const std::string& path) {
        DIR* d = ::opendir(path.c_str());
        std::uint64_t n = 0;
        if (!d) return 0;
        ++files;
        while (dirent* e = ::readdir(d))
            if (e->d_name[0] != '.') ++n;
        ::closedir(d);
        sum += n;
        return n;
    }
    // The "sockets" column of these protocols in /proc/PID/net/protocols.
    void protocols(const std::string& path) {
        std::string_view t = read(path);
        for (std::string_view name : {"UNIX ", "UNIX-STREAM ", "NETLINK "})
            for (size_t at = t.find(name); at != std::string_view::npos; at = t.find(name, at + 1))
                if (at == 0 || t[at - 1] == '\n') {
                    std::string_view rest = t.substr(at + name.size());
                    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
                    rest = rest.substr(rest.find(' ') == std::string_view::npos ? rest.size() : rest.find(' '));
                    sum += parse(rest);  // the column after the size
                }
    }
};

// Every value the collection gives for one container, from files (see the top).
void read_everything(FileReader& r, const bc::cgroup::CtGroup& cg, bool with_tasks) {
    const std::string mem = cg.node_of("memory"), pids = cg.node_of("pids"), v2 = cg.v2_path();
    if (mem != v2) {
        for (const char* f : {"usage_in_bytes", "max_usage_in_bytes", "limit_in_bytes", "failcnt", "memsw.usage_in_bytes",
                              "memsw.max_usage_in_bytes", "memsw.limit_in_bytes", "memsw.failcnt", "kmem.usage_in_bytes",
                              "kmem.max_usage_in_bytes", "kmem.limit_in_bytes", "kmem.failcnt"})
            r.number(fmt::format("{}/memory.{}", mem, f));
        r.keys(mem + "/memory.stat", {"shmem"});
        r.keys(mem + "/memory.oom_control", {"oom_kill"});
    } else {
        for (const char* f : {"memory.current", "memory.peak", "memory.max", "memory.swap.current", "memory.swap.peak",
                              "memory.swap.max"})
            r.number(fmt::format("{}/{}", mem, f));
        r.keys(mem + "/memory.events", {"max", "oom_kill"});
        r.keys(mem + "/memory.swap.events", {"max"});
        r.keys(mem + "/memory.stat", {"shmem", "kernel"});
    }
    for (const char* f : {"pids.current", "pids.peak", "pids.max"}) r.number(fmt::format("{}/{}", pids, f));
    r.keys(pids + "/pids.events", {"max"});
    r.keys(v2 + "/cpu.stat", {"usage_usec"});
    if (!with_tasks) return;
    std::string procs(r.read(v2 + "/cgroup.procs"));
    bool first = true;
    for (size_t at = 0; at < procs.size();) {
        size_t end = procs.find('\n', at);
        const std::string pid = procs.substr(at, end - at);
        at = end == std::string::npos ? procs.size() : end + 1;
        if (pid.empty()) continue;
        r.keys("/proc/" + pid + "/status", {"VmData", "VmStk", "VmLck"});
        r.entries("/proc/" + pid + "/fd");
        if (first) {  // the container's namespaces, through its first process
            r.protocols("/proc/" + pid + "/net/protocols");
            r.entries("/proc/" + pid + "/root/dev/pts");
            first = false;
        }
    }
}
}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && (std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help")) {
        std::puts("usage: readbench [N] [ROUNDS] [tasks]   (see the comment at the top of tests/bench/readbench.cpp)");
        return 0;
    }
    const unsigned n = argc > 1 ? static_cast<unsigned>(std::atoi(argv[1])) : 1000;
    const unsigned rounds = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 30;
    const bool with_tasks = argc > 3 && std::string(argv[3]) == "tasks";
    if (argc > 3 && !with_tasks) die("the third argument, if any, is `tasks`");
    if (n == 0 || n > 100000 || rounds == 0) die("N and ROUNDS must be positive (N at most 100000)");
    if (::geteuid() != 0) die("run as root");
    // Cleanup must run on ^C too.
    for (int sig : {SIGINT, SIGTERM}) ::signal(sig, [](int) { std::exit(130); });

    auto layout = bc::cgroup::Layout::detect_host();
    if (!layout) die(layout.error().msg);
    const std::string prefix = fmt::format("bc-readbench-{}", ::getpid());
    const std::string pins = "/sys/fs/bpf/" + prefix;
    bctest::TempDir run;
    std::vector<bc::cgroup::CtGroup> cts;
    for (unsigned i = 0; i < n; ++i) cts.emplace_back(*layout, "", prefix, 100000 + i);
    // Cleanup on every exit path: die() and the signals exit() with main's objects alive.
    static std::vector<pid_t> sleepers;
    static std::function<void()> cleanup;
    cleanup = [&] {
        for (pid_t p : sleepers) ::kill(p, SIGKILL);
        for (pid_t p : sleepers) ::waitpid(p, nullptr, 0);
        sleepers.clear();
        (void)bc::bpf::Accounting::unload(pins);
        for (const auto& cg : cts) (void)cg.remove();
        (void)bc::cgroup::remove_prefix_nodes(*layout, "", prefix);
        std::error_code ec;  // exit() skips the TempDir's destructor
        std::filesystem::remove_all(run.path(), ec);
    };
    std::atexit([] { cleanup(); });

    for (auto& cg : cts)
        if (auto r = cg.create(); !r) die(r.error().msg);
    const auto& cg0 = cts.front();
    const auto options = bc::bpf::load_options(cg0);
    auto acct = bc::bpf::Accounting::load(pins, run.path(), options);
    if (!acct) die(acct.error().msg);
    for (unsigned i = 0; i < n; ++i) {
        auto id = cts[i].id();
        if (!id) die(id.error().msg);
        if (auto r = acct->register_ct(*id, 100000 + i); !r) die(r.error().msg);
    }
    const std::string root = run.path() + "/root";
    if (with_tasks && ::mkdir(root.c_str(), 0755) < 0) die("mkdir " + root);
    for (unsigned i = 0; with_tasks && i < n; ++i) {
        auto v2 = cts[i].open_v2();
        auto joins = cts[i].open_self_join();
        if (!v2 || !joins) die(!v2 ? v2.error().msg : joins.error().msg);
        auto c = bc::proc::clone_process(CLONE_NEWNET | CLONE_NEWNS, v2->get());
        if (!c) die(c.error().msg);
        if (c->pid == 0) {
            std::span<const bc::Fd> files(*joins);
            if (c->in_cgroup && !files.empty()) files = files.subspan(1);  // cgroup.procs: clone3 placed it
            if (bc::cgroup::CtGroup::join_self(files) != 0) ::_exit(1);
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (!sleeper_root(root)) ::_exit(1);
            for (;;) ::pause();
        }
        sleepers.push_back(c->pid);
    }
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));

    auto bpf_read = [&] {
        if (auto r = acct->collect(options.mem_cgroup); !r) die(r.error().msg);
        auto all = acct->read_all();
        if (!all) die(all.error().msg);
        if (all->size() != n) die(fmt::format("read {} containers, not {}", all->size(), n));
        for (const auto& [id, c] : *all)
            if (!(c.flags & BC_CT_MEMORY) || !(c.flags & BC_CT_TRAFFIC))
                die(fmt::format("container {}: memory or traffic not collected", id));
    };
    bc::Fd walk(empty_walk_link(options.mem_cgroup));
    if (!walk) die(fmt::format("an empty cgroup iterator over {}: {}", options.mem_cgroup, std::strerror(errno)));
    auto walk_only = [&] {
        bc::Fd it(::bpf_iter_create(walk.get()));
        char buf[64];
        if (!it) die("bpf_iter_create");
        while (::read(it.get(), buf, sizeof buf) > 0) {
        }
    };
    FileReader reader;
    auto all_files_read = [&] {
        reader.files = 0;
        for (const auto& cg : cts) read_everything(reader, cg, with_tasks);
        (void)reader.read("/proc/locks");  // numflock: one file for all containers
        if (reader.files < n * 15) die(fmt::format("read {} files only", reader.files));
    };
    auto files_read = [&] {
        size_t values = 0;
        for (const auto& cg : cts) {
            auto r = bc::acct::read_cgroup_counters(cg, page);
            if (!r) die(r.error().msg);
            values += r->size();
        }
        if (values < n) die("cgroupfs reading found no values");
    };
    auto time_us = [](const auto& f) {
        auto t0 = Clock::now();
        f();
        return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
    };
    for (int i = 0; i < 3; ++i) {  // warm-up: dentries, page cache, map pages
        bpf_read();
        all_files_read();
        files_read();
    }
    std::vector<double> b, a, f, ratio_all, ratio, parts[3], warm[2];
    for (unsigned r = 0; r < rounds; ++r) {
        double t[3] = {};
        for (unsigned k = 0; k < 3; ++k) {  // rotating order
            switch ((r + k) % 3) {
            case 0: t[0] = time_us(bpf_read); break;
            case 1: t[1] = time_us(all_files_read); break;
            default: t[2] = time_us(files_read); break;
            }
        }
        b.push_back(t[0]);
        a.push_back(t[1]);
        f.push_back(t[2]);
        ratio_all.push_back(t[1] / t[0]);
        ratio.push_back(t[2] / t[0]);
        // The bpf read's parts, for the record.
        parts[0].push_back(time_us([&] { (void)acct->collect(options.mem_cgroup); }));
        parts[1].push_back(time_us([&] { (void)acct->read_all(); }));
        files_read();  // the walk alone, timed as cold as the rounds' bpf reads can be
        parts[2].push_back(time_us(walk_only));
        // Back to back: what a reader that reads again at once pays, the kernel's memory
        // still in the cache from the read before.
        bpf_read();
        warm[0].push_back(time_us(bpf_read));
        walk_only();
        warm[1].push_back(time_us(walk_only));
    }
    auto row = [](const char* what, const std::vector<double>& v) {
        std::printf("  %-36s median %9.1f us  [%.1f .. %.1f]\n", what, median(v), *std::min_element(v.begin(), v.end()),
                    *std::max_element(v.begin(), v.end()));
    };
    std::printf("readbench: %u containers%s, %u rounds, %s cgroups, load %s", n,
                with_tasks ? " (a process in its own namespaces each)" : " (empty)", rounds,
                layout->mode == bc::cgroup::Mode::unified ? "cgroup2" : "hybrid",
                bctest::slurp("/proc/loadavg").c_str());
    row("bpf (collect + counters)", b);
    std::printf("    of which: collect %.1f us, counters (mapped) %.1f us (medians, timed apart)\n", median(parts[0]),
                median(parts[1]));
    std::printf("    the kernel's cgroup walk alone (an empty program): %.1f us\n", median(parts[2]));
    std::printf("    read again at once (cache warm): bpf %.1f us, the walk alone %.1f us\n", median(warm[0]),
                median(warm[1]));
    row(fmt::format("files, every value ({} files)", reader.files).c_str(), a);
    row("cgroupfs, controller counters only", f);
    std::printf("  files / bpf, per round              median %9.1fx\n", median(ratio_all));
    std::printf("  controller counters / bpf, per round median %8.1fx\n", median(ratio));
    // Here, while the containers' objects live (exit() and the signals clean up through the
    // same function before any of them is destroyed).
    cleanup();
    cleanup = [] {};
    return 0;
}
