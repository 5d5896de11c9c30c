// Memory beancounters collected from the containers' memory cgroups in the kernel (one
// iterator read for all of them), against a known allocation and against the cgroupfs files.
#include <nlohmann/json.hpp>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <sstream>
#include <thread>

#include "../common/ubc_parser.h"
#include "acct/cgroup_reader.h"
#include "fixture.h"

using namespace bctest;
using nlohmann::json;

class MemoryTest : public BeanctlTest {
protected:
    static json ubc(const std::string& id) { return ubc_json(id); }
};

TEST_F(MemoryTest, TouchedMemoryShowsInPhyspagesWithinBound) {
    std::string id = ct(1601);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    std::filesystem::copy_file(HELPER_DIR "/memhog", lib() + "/private/1601/memhog");
    ASSERT_EQ(beanctl({"start", id}).code, 0);
    const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    json before = ubc(id);
    ASSERT_FALSE(before.at("physpages").at("held").is_null()) << "the memory controller is there on both test kernels";
    const std::uint64_t base = before.at("physpages").at("held");

    // 64 MiB allocated and touched by a process that stays.
    ASSERT_EQ(beanctl({"exec", id, "sh", "-c", "/memhog 64 600 > /tmp/ready 2>&1 &"}).code, 0);
    for (int i = 0; i < 500 && slurp(lib() + "/private/1601/tmp/ready").empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(slurp(lib() + "/private/1601/tmp/ready"), "ready\n");
    json after = ubc(id);
    const std::uint64_t held = after.at("physpages").at("held"), pages = (64u << 20) / page;
    // At least the 64 MiB, less what the kernel had charged ahead when base was read (64
    // pages per CPU, MEMCG_CHARGE_BATCH); at most 64 MiB plus 8 MiB for everything else that
    // came and stayed (the process's page tables, its binary, the shell that started it).
    const std::uint64_t ahead = 64u * static_cast<std::uint64_t>(::get_nprocs_conf());
    EXPECT_GE(held + ahead, base + pages);
    EXPECT_LE(held, base + pages + (8u << 20) / page);
    EXPECT_GE(after.at("physpages").at("maxheld").get<std::uint64_t>(), held);
    EXPECT_GE(after.at("oomguarpages").at("held").get<std::uint64_t>(), held) << "RAM + swap";
    EXPECT_EQ(after.at("physpages").at("limit"), BC_UNLIMITED);

    // The same counter as the cgroupfs files hold (read one after the other: the container
    // is quiet, so they differ at most by what the kernel charges ahead or gives back per
    // CPU, 64 pages each).
    auto cg = bc::cgroup::CtGroup(layout(), "", prefix(), 1601);
    auto files = bc::acct::read_cgroup_counters(cg, page);
    ASSERT_TRUE(files) << files.error().msg;
    bool seen = false;
    for (const auto& r : *files)
        if (r.id == BC_RES_physpages) {
            seen = true;
            EXPECT_NEAR(static_cast<double>(r.value.held), static_cast<double>(held), static_cast<double>(ahead));
        }
    EXPECT_TRUE(seen);

    ASSERT_EQ(beanctl({"exec", id, "killall", "memhog"}).code, 0);
    std::uint64_t now = held;
    for (int i = 0; i < 300 && now > base + pages / 2; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        now = ubc(id).at("physpages").at("held");
    }
    EXPECT_LT(now, base + pages / 2) << "freed at exit";
    EXPECT_GE(ubc(id).at("physpages").at("maxheld").get<std::uint64_t>() + ahead, base + pages) << "the kernel's peak stays";
}

namespace {
// A value of a memory.stat line ("shmem", "kernel"), in bytes; -1 if absent.
long long memory_stat(const std::string& node, const std::string& key) {
    std::istringstream in(slurp(node + "/memory.stat"));
    std::string k;
    long long v;
    while (in >> k >> v)
        if (k == key) return v;
    return -1;
}
}  // namespace

// shmpages (and kmemsize where the memory controller is cgroup2's) from the memory cgroup's
// statistics, against a known amount of shared memory and against memory.stat. The kernel
// folds its per-CPU statistics in batches: a CPU passes its updates on once 64 pages' worth
// have gathered, and a fold (the collection's, or memory.stat's read) happens only once more
// than 64 pages per CPU were passed on. Both lag by less than 128 pages per CPU.
TEST_F(MemoryTest, ShmpagesIsTheContainersSharedMemoryWithinBound) {
    std::string id = ct(1604);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    std::filesystem::copy_file(HELPER_DIR "/memhog", lib() + "/private/1604/memhog");
    ASSERT_EQ(beanctl({"start", id}).code, 0);
    const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    const double pending = 2 * 64.0 * ::get_nprocs_conf();
    const std::string node = bc::cgroup::CtGroup(layout(), "", prefix(), 1604).node_of("memory");
    json before = ubc(id);
    ASSERT_FALSE(before.at("shmpages").at("held").is_null()) << "counted on both test kernels";
    const std::uint64_t base = before.at("shmpages").at("held");

    ASSERT_EQ(beanctl({"exec", id, "sh", "-c", "/memhog shm 16 600 > /tmp/ready 2>&1 &"}).code, 0);
    for (int i = 0; i < 500 && slurp(lib() + "/private/1604/tmp/ready").empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(slurp(lib() + "/private/1604/tmp/ready"), "ready\n");
    const std::uint64_t pages = (16u << 20) / page;
    // Read first: the collection folds the statistics itself (no reader of memory.stat has
    // done it for us).
    json after = ubc(id);
    const long long stat = memory_stat(node, "shmem");
    const std::uint64_t held = after.at("shmpages").at("held");
    EXPECT_NEAR(static_cast<double>(held), static_cast<double>(stat) / page, pending) << "memory.stat's shmem";
    EXPECT_GE(static_cast<double>(held) + pending, static_cast<double>(base + pages));
    EXPECT_LE(held, base + pages + static_cast<std::uint64_t>(pending));
    EXPECT_GE(after.at("shmpages").at("maxheld").get<std::uint64_t>(), held);
    if (layout().mode == bc::cgroup::Mode::unified) {
        // kmemsize: memory.stat's kernel, in bytes.
        const long long kernel = memory_stat(node, "kernel");
        ASSERT_GT(kernel, 0);
        ASSERT_FALSE(after.at("kmemsize").at("held").is_null()) << "counted from the statistics on cgroup2";
        EXPECT_NEAR(after.at("kmemsize").at("held").get<double>(), static_cast<double>(kernel), pending * page);
    }

    ASSERT_EQ(beanctl({"exec", id, "killall", "memhog"}).code, 0);
    std::uint64_t now = held;
    for (int i = 0; i < 300 && static_cast<double>(now) > static_cast<double>(base) + pending; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        now = ubc(id).at("shmpages").at("held");
    }
    EXPECT_LE(static_cast<double>(now), static_cast<double>(base) + pending) << "freed with the last reference";
    EXPECT_GE(ubc(id).at("shmpages").at("maxheld").get<std::uint64_t>(), held) << "the peak stays";
}

TEST_F(MemoryTest, NumprocLimitAndRefusalsComeFromThePidsController) {
    std::string id = ct(1602);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    ASSERT_EQ(beanctl({"start", id}).code, 0);
    // The pids limit set by hand (beancounter does not set it in this release): read back,
    // and a refused fork counted.
    auto cg = bc::cgroup::CtGroup(layout(), "", prefix(), 1602);
    ASSERT_TRUE(bc::fs::write_existing(cg.node_of("pids") + "/pids.max", "3"));
    auto r = beanctl({"exec", id, "sh", "-c", "sleep 5 & sleep 5 & sleep 5 & wait"});
    EXPECT_NE(r.code, 0) << "the third sleep (fourth task with init and sh) is refused";
    auto j = ubc(id).at("numproc");
    EXPECT_EQ(j.at("limit"), 3u);
    EXPECT_EQ(j.at("barrier"), 3u);
    EXPECT_GE(j.at("failcnt").get<std::uint64_t>(), 1u);
    beanctl({"exec", id, "killall", "sleep"});
}

namespace {
// Sums a /proc/PID/status field (in kB) over the processes of a cgroup2 subtree.
std::uint64_t sum_status_kb(const std::vector<pid_t>& pids, const std::string& field) {
    std::uint64_t kb = 0;
    for (pid_t p : pids) {
        std::string status = slurp(fmt::format("/proc/{}/status", p));
        auto at = status.find(field + ":");
        if (at != std::string::npos) kb += std::stoull(status.substr(at + field.size() + 1));
    }
    return kb;
}
std::uint64_t count_fds(const std::vector<pid_t>& pids) {
    std::uint64_t n = 0;
    for (pid_t p : pids) {
        std::error_code ec;
        for (auto it = std::filesystem::directory_iterator(fmt::format("/proc/{}/fd", p), ec);
             !ec && it != std::filesystem::directory_iterator(); ++it)
            ++n;
    }
    return n;
}
}  // namespace

// privvmpages, lockedpages, numfile and numsiginfo, summed in the kernel over the
// container's tasks, against /proc read from the host (through the css_task iterator on
// 6.7+, a walk of every task of the host before).
TEST_F(MemoryTest, TaskSumsMatchProc) {
    std::string id = ct(1603);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    std::filesystem::copy_file(HELPER_DIR "/memhog", lib() + "/private/1603/memhog");
    ASSERT_EQ(beanctl({"start", id}).code, 0);
    ASSERT_FALSE(ubc(id).at("privvmpages").at("held").is_null())
        << "counted on both test kernels (the css_task iterator on 6.7+, a walk of every task before)";
    // 4 MiB mapped, touched and locked (under the default RLIMIT_MEMLOCK of 8 MiB), 5 signals queued, and a sub-cgroup holding the
    // process (as a container's systemd would put it): it counts for the container.
    std::string v2 = bc::cgroup::CtGroup(layout(), "", prefix(), 1603).v2_path();
    ASSERT_EQ(beanctl({"exec", id, "sh", "-c", "/memhog 4 600 1 5 > /tmp/ready 2>&1 &"}).code, 0);
    for (int i = 0; i < 500 && slurp(lib() + "/private/1603/tmp/ready").empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(slurp(lib() + "/private/1603/tmp/ready"), "ready\n");
    auto cg = bc::cgroup::CtGroup(layout(), "", prefix(), 1603);
    auto procs = cg.procs();
    ASSERT_TRUE(procs) << procs.error().msg;
    // Only processes (thread group leaders) count for memory and files.
    std::vector<pid_t> leaders;
    for (pid_t p : *procs)
        if (slurp(fmt::format("/proc/{}/status", p)).find(fmt::format("\nTgid:\t{}\n", p)) != std::string::npos)
            leaders.push_back(p);
    auto j = ubc(id);
    const std::uint64_t page_kb = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)) / 1024;
    EXPECT_EQ(j.at("privvmpages").at("held").get<std::uint64_t>(),
              (sum_status_kb(leaders, "VmData") + sum_status_kb(leaders, "VmStk")) / page_kb);
    EXPECT_EQ(j.at("lockedpages").at("held").get<std::uint64_t>(), sum_status_kb(leaders, "VmLck") / page_kb);
    EXPECT_EQ(j.at("lockedpages").at("held").get<std::uint64_t>(), (4u << 20) / (page_kb * 1024));
    EXPECT_EQ(j.at("numfile").at("held").get<std::uint64_t>(), count_fds(leaders));
    EXPECT_EQ(j.at("numsiginfo").at("held"), 5u);
    // The same in the kernel-rendered file.
    auto rows = parse_ubc(slurp(bpf_dir() + "/user_beancounters")).at(id);
    EXPECT_EQ(rows[1].held, j.at("lockedpages").at("held").get<std::uint64_t>());
    EXPECT_EQ(rows[12].held, 5u) << "numsiginfo";
    EXPECT_EQ(rows[19].held, j.at("numfile").at("held").get<std::uint64_t>());

    // Moved into a sub-cgroup, the process still counts.
    ASSERT_TRUE(std::filesystem::create_directory(v2 + "/sub"));
    pid_t hog = 0;
    for (pid_t p : leaders)
        if (slurp(fmt::format("/proc/{}/comm", p)) == "memhog\n") hog = p;
    ASSERT_NE(hog, 0);
    ASSERT_TRUE(bc::fs::write_existing(v2 + "/sub/cgroup.procs", std::to_string(hog)));
    EXPECT_EQ(ubc(id).at("lockedpages").at("held").get<std::uint64_t>(), (4u << 20) / (page_kb * 1024));
    EXPECT_EQ(ubc(id).at("numsiginfo").at("held"), 5u);
    ASSERT_EQ(beanctl({"exec", id, "killall", "memhog"}).code, 0);
    std::uint64_t locked = 1;
    for (int i = 0; i < 300 && locked != 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        locked = ubc(id).at("lockedpages").at("held");
    }
    EXPECT_EQ(locked, 0u);
    EXPECT_EQ(ubc(id).at("lockedpages").at("maxheld").get<std::uint64_t>(), (4u << 20) / (page_kb * 1024));
}

// cpu.stat's usage of the container's cgroup2 node, in ns (cgroupfs; reading it flushes).
std::uint64_t cpu_stat_ns(const std::string& v2) {
    std::istringstream in(slurp(v2 + "/cpu.stat"));
    std::string key;
    std::uint64_t usec = 0;
    while (in >> key >> usec)
        if (key == "usage_usec") return usec * 1000;
    return 0;
}

TEST_F(MemoryTest, CpuTimeIsTheContainersCgroupUsage) {
    std::string id = ct(1607);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    ASSERT_EQ(beanctl({"start", id}).code, 0);
    const std::string v2 = bc::cgroup::CtGroup(layout(), "", prefix(), 1607).v2_path();
    auto cpu = [&] {
        auto c = ubc(id).at("cpu").at("usage_ns");
        EXPECT_FALSE(c.is_null()) << "collected on both test kernels";
        return c.is_null() ? std::uint64_t{0} : c.get<std::uint64_t>();
    };
    const std::uint64_t before = cpu();
    // A busy loop of about a third of a second inside, run to its end.
    auto spin = "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done";
    ASSERT_EQ(beanctl({"exec", id, "sh", "-c", spin}).code, 0);
    const std::uint64_t after = cpu(), file = cpu_stat_ns(v2);
    EXPECT_GT(after, before + 100'000'000u) << "the loop's CPU time is in";
    // The kernel's own figure, read right after (in microseconds): the container is quiet,
    // so they agree to what its idle init may use in between (1 ms).
    EXPECT_LE(after / 1000, file / 1000);
    EXPECT_LE(file / 1000 - after / 1000, 1000u);

    // A sub-cgroup's CPU time is the container's (as a container's systemd would place it):
    // a spinner started inside, moved into a sub-cgroup from the host, run to its end.
    auto cg = bc::cgroup::CtGroup(layout(), "", prefix(), 1607);
    const auto procs_before = cg.procs().value();
    ASSERT_EQ(beanctl({"exec", id, "sh", "-c", std::string("(") + spin + ") >/dev/null 2>&1 &"}).code, 0);
    pid_t spinner = 0;
    const auto procs_after = cg.procs().value();
    for (pid_t p : procs_after)
        if (std::find(procs_before.begin(), procs_before.end(), p) == procs_before.end()) spinner = p;
    ASSERT_NE(spinner, 0);
    ASSERT_TRUE(std::filesystem::create_directory(v2 + "/sub"));
    ASSERT_TRUE(bc::fs::write_existing(v2 + "/sub/cgroup.procs", std::to_string(spinner)));
    for (int i = 0; i < 1000 && ::kill(spinner, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    reap_orphans();
    const std::uint64_t sub = cpu();
    EXPECT_GT(sub, after + 100'000'000u) << "the sub-cgroup's loop is in";
    EXPECT_LE(cpu_stat_ns(v2) / 1000 - sub / 1000, 1000u);

    // list shows it in seconds: the same figure, within what init may use in between.
    auto l = beanctl({"list", "-o", "ctid,cputime", "--json"});
    ASSERT_EQ(l.code, 0) << l.err;
    const double secs = json::parse(l.out).at(0).at("cputime").get<double>();
    EXPECT_NEAR(secs, static_cast<double>(sub) / 1e9, 0.001);
    auto text = beanctl({"list", "-H", "-o", "cputime"}).out;
    EXPECT_NE(text.find(fmt::format("{:.3f}", secs).substr(0, 3)), std::string::npos) << text;
}

namespace {
// How many times the collecting iterator's program (bc_collect, through link_collect) has
// run, while `stats` (BPF_ENABLE_STATS) is held open; -1 if it cannot be read.
long long collect_walk_runs(const std::string& pin_dir) {
    bc::Fd link(::bpf_obj_get((pin_dir + "/link_collect").c_str()));
    bpf_link_info li{};
    __u32 len = sizeof li;
    if (!link || ::bpf_obj_get_info_by_fd(link.get(), &li, &len) < 0) return -1;
    bc::Fd prog(::bpf_prog_get_fd_by_id(li.prog_id));
    bpf_prog_info pi{};
    len = sizeof pi;
    if (!prog || ::bpf_obj_get_info_by_fd(prog.get(), &pi, &len) < 0) return -1;
    return static_cast<long long>(pi.run_cnt);
}
}  // namespace

// On 6.7+ a collection reaches every container through the node its slot holds
// (bc_collect_slots) and walks the hierarchy only to bind a container started since: the
// values are the same, and a stopped container makes no collection walk.
TEST_F(MemoryTest, CollectionsReachBoundContainersWithoutWalking) {
    std::string a = ct(1605), b = ct(1606);
    for (const auto& id : {a, b}) ASSERT_EQ(beanctl({"create", id}).code, 0);
    std::filesystem::copy_file(HELPER_DIR "/memhog", lib() + "/private/1605/memhog");
    ASSERT_EQ(beanctl({"start", a}).code, 0);
    const std::uint64_t base = ubc(a).at("physpages").at("held");  // binds a's node
    if (!std::filesystem::exists(bpf_dir() + "/prog_collect_slots"))
        GTEST_SKIP() << "before Linux 6.7 every collection walks the hierarchy";
    bc::Fd stats(::bpf_enable_stats(BPF_STATS_RUN_TIME));
    ASSERT_TRUE(stats) << std::strerror(errno);
    const long long walks = collect_walk_runs(bpf_dir());
    ASSERT_GE(walks, 0);

    // 64 MiB touched, seen through the bound node alone.
    ASSERT_EQ(beanctl({"exec", a, "sh", "-c", "/memhog 64 600 > /tmp/ready 2>&1 &"}).code, 0);
    for (int i = 0; i < 500 && slurp(lib() + "/private/1605/tmp/ready").empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(slurp(lib() + "/private/1605/tmp/ready"), "ready\n");
    const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)), pages = (64u << 20) / page;
    const std::uint64_t ahead = 64u * static_cast<std::uint64_t>(::get_nprocs_conf());
    json j = ubc(a);
    EXPECT_GE(j.at("physpages").at("held").get<std::uint64_t>() + ahead, base + pages);
    EXPECT_EQ(collect_walk_runs(bpf_dir()), walks) << "no walk for a bound container";

    // A container started since is bound by one walk, and then read without one.
    ASSERT_EQ(beanctl({"start", b}).code, 0);
    EXPECT_FALSE(ubc(b).at("physpages").at("held").is_null());
    const long long after_bind = collect_walk_runs(bpf_dir());
    EXPECT_GT(after_bind, walks) << "b's first collection walks";
    EXPECT_FALSE(ubc(b).at("physpages").at("held").is_null());
    EXPECT_EQ(collect_walk_runs(bpf_dir()), after_bind);

    // A stopped container needs no walk; started again, it is bound anew.
    ASSERT_EQ(beanctl({"stop", a}).code, 0);
    (void)ubc(b);
    EXPECT_EQ(collect_walk_runs(bpf_dir()), after_bind) << "a's stop left no container to bind";
    ASSERT_EQ(beanctl({"start", a}).code, 0);
    const std::uint64_t restarted = ubc(a).at("physpages").at("held");
    const long long rebound = collect_walk_runs(bpf_dir());
    EXPECT_GT(rebound, after_bind);
    EXPECT_GT(restarted, 0u);
    EXPECT_LT(restarted, base + pages / 2) << "the new run's memory cgroup, not the old one's 64 MiB";
    EXPECT_GT(ubc(a).at("physpages").at("held").get<std::uint64_t>(), 0u);
    EXPECT_EQ(collect_walk_runs(bpf_dir()), rebound);

    // A container started by an earlier build: an empty binding, no cgroup2 node noted. The
    // walk collects it, its tasks' sums too; where memory is cgroup2's the walk notes the
    // node, and the walks stop.
    const std::uint64_t files = ubc(a).at("numfile").at("held");
    EXPECT_GT(files, 0u) << "init's descriptors";
    int slots = ::bpf_obj_get((bpf_dir() + "/bc_slots").c_str()), nodes = ::bpf_obj_get((bpf_dir() + "/bc_ct_nodes").c_str());
    ASSERT_GE(slots, 0);
    ASSERT_GE(nodes, 0);
    __u32 ctid = 1605, slot = 0;
    ASSERT_EQ(::bpf_map_lookup_elem(slots, &ctid, &slot), 0);
    bc_ct_node empty{};
    ASSERT_EQ(::bpf_map_update_elem(nodes, &slot, &empty, BPF_ANY), 0);
    ::close(slots);
    ::close(nodes);
    EXPECT_EQ(ubc(a).at("numfile").at("held").get<std::uint64_t>(), files);
    const long long upgraded = collect_walk_runs(bpf_dir());
    EXPECT_GT(upgraded, rebound);
    EXPECT_EQ(ubc(a).at("numfile").at("held").get<std::uint64_t>(), files);
    if (layout().mode == bc::cgroup::Mode::unified)
        EXPECT_EQ(collect_walk_runs(bpf_dir()), upgraded) << "noted by the walk";
    else
        EXPECT_GT(collect_walk_runs(bpf_dir()), upgraded) << "hybrid: walked until its next start";
}
