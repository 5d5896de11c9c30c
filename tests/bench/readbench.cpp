// readbench [N] [ROUNDS] [tasks]: the cost of reading every beancounter of N registered
// containers (default 1000), side by side in one run:
//   bpf       what `beanctl ubc` does: one collection (the collecting iterator copies the
//             memory and pids controllers' counters and the traffic into each record, in
//             the kernel), then bc_counters read through this process's mapping of it;
//   cgroupfs  the same controller values read from the cgroupfs files of each container
//             (memory usage, peak, limit, failcnt, kmem's four, pids' four), as a reader
//             without BPF would.
// The containers are cgroups under a private prefix, registered in a private pin directory;
// both are removed at the end, also on failure. They are empty, unless `tasks` is given:
// then each holds one sleeping process in a network and a mount namespace of its own, as a
// container's init, so that the collection also does what it does for a running container
// (the namespace's sockets counted through the process, the terminals of the devpts
// instance below its root). Its root is a tmpfs with proc, sysfs, a tmpfs on /dev and a
// devpts instance on /dev/pts, mounted in that order, as a container's start does. Rounds alternate the order of
// the two methods; the medians and the median of the per-round ratios are printed.
// Needs root and the build's BPF programs.
#include <signal.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <string>
#include <vector>

#include "../common/testutil.h"
#include "acct/cgroup_reader.h"
#include "bpf/accounting.h"
#include "cgroup/ctgroup.h"
#include "cgroup/layout.h"
#include "core/proc.h"

namespace {
using Clock = std::chrono::steady_clock;

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
        files_read();
    }
    std::vector<double> b, f, ratio, parts[2];
    for (unsigned r = 0; r < rounds; ++r) {
        double tb, tf;
        if (r % 2) {
            tf = time_us(files_read);
            tb = time_us(bpf_read);
        } else {
            tb = time_us(bpf_read);
            tf = time_us(files_read);
        }
        b.push_back(tb);
        f.push_back(tf);
        ratio.push_back(tf / tb);
        // The bpf read's parts, for the record.
        parts[0].push_back(time_us([&] { (void)acct->collect(options.mem_cgroup); }));
        parts[1].push_back(time_us([&] { (void)acct->read_all(); }));
    }
    std::printf("readbench: %u containers%s, %u rounds, %s cgroups, load %s", n,
                with_tasks ? " (a process in its own namespaces each)" : " (empty)", rounds,
                layout->mode == bc::cgroup::Mode::unified ? "cgroup2" : "hybrid",
                bctest::slurp("/proc/loadavg").c_str());
    std::printf("  bpf (collect + counters)            median %9.1f us  [%.1f .. %.1f]\n", median(b),
                *std::min_element(b.begin(), b.end()), *std::max_element(b.begin(), b.end()));
    std::printf("    of which: collect %.1f us, counters (mapped) %.1f us (medians, timed apart)\n", median(parts[0]),
                median(parts[1]));
    std::printf("  cgroupfs files                      median %9.1f us  [%.1f .. %.1f]\n", median(f),
                *std::min_element(f.begin(), f.end()), *std::max_element(f.begin(), f.end()));
    std::printf("  cgroupfs / bpf, per round           median %9.1fx\n", median(ratio));
    // Here, while the containers' objects live (exit() and the signals clean up through the
    // same function before any of them is destroyed).
    cleanup();
    cleanup = [] {};
    return 0;
}
