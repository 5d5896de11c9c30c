// numproc counted by the BPF programs: exact, with its peak, with no beanctl process alive.
#include <bpf/bpf.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <functional>
#include <thread>

#include "fixture.h"

using namespace bctest;

namespace {
struct Numproc {
    std::uint64_t held = 0, maxheld = 0, limit = 0, failcnt = 0;
};
}  // namespace

class NumprocTest : public BeanctlTest {
protected:
    Numproc numproc(const std::string& id) {
        auto r = beanctl({"status", id, "--json", "-b"});
        EXPECT_EQ(r.code, 0) << r.err;
        auto j = nlohmann::json::parse(r.out);
        const auto& n = j.at("beancounters").at("numproc");
        return {n.at("held"), n.at("maxheld"), n.at("limit"), n.at("failcnt")};
    }
};

TEST_F(NumprocTest, ExactTasksAndPeak) {
    std::string id = ct(1401);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    std::filesystem::copy_file(HELPER_DIR "/tasks", lib() + "/private/1401/tasks");
    ASSERT_EQ(beanctl({"start", id}).code, 0);
    // At rest the container has exactly its init.
    for (int i = 0; i < 100 && numproc(id).held != 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(numproc(id).held, 1u);

    // 1 + 3 processes + 3 * 5 threads, started in the background: beanctl exec has returned
    // (and exited) by the time the counter is read.
    ASSERT_EQ(beanctl({"exec", id, "sh", "-c", "/tasks 3 5 600 > /tmp/ready 2>&1 &"}).code, 0);
    std::string ready;
    for (int i = 0; i < 500 && ready.empty(); ++i) {
        ready = slurp(lib() + "/private/1401/tmp/ready");
        if (ready.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(ready, "ready 19\n");
    // The shell that started it is gone (it exits right after backgrounding).
    Numproc n;
    for (int i = 0; i < 200; ++i) {
        n = numproc(id);
        if (n.held == 1 + 19) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(n.held, 1u + 19u) << "init + the tasks, exactly";
    // list reads every container's counters in one batch: the same number.
    auto listed = beanctl({"list", "-H", "-o", "ctid,numproc"});
    EXPECT_NE(listed.out.find("      1401         20"), std::string::npos) << listed.out;
    EXPECT_GE(n.maxheld, n.held);
    // Cross-check with the kernel's own count where the pids controller counts this cgroup.
    std::string pids = bc::cgroup::CtGroup(layout(), "", prefix(), 1401).node_of("pids");
    if (std::filesystem::exists(pids + "/pids.current")) {
        EXPECT_EQ(std::stoull(slurp(pids + "/pids.current")), n.held);
    }

    ASSERT_EQ(beanctl({"exec", id, "killall", "tasks"}).code, 0);
    for (int i = 0; i < 300; ++i) {
        n = numproc(id);
        if (n.held == 1) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(n.held, 1u) << "back to init alone";
    EXPECT_GE(n.maxheld, 20u) << "the peak is kept after the tasks exit";
    EXPECT_LE(n.maxheld, 23u) << "the peak is the tasks plus at most the short-lived shells around them";

    // Restart: counting starts anew for the new cgroup, maxheld included.
    ASSERT_EQ(beanctl({"restart", id}).code, 0);
    for (int i = 0; i < 100 && numproc(id).held != 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    n = numproc(id);
    EXPECT_EQ(n.held, 1u);
    EXPECT_LE(n.maxheld, 3u);
}

TEST_F(NumprocTest, SubCgroupsCountForTheContainer) {
    std::string id = ct(1402);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    ASSERT_EQ(beanctl({"start", id}).code, 0);
    // A sub-cgroup made from the host side stands for one a container's systemd would make.
    std::string v2 = bc::cgroup::CtGroup(layout(), "", prefix(), 1402).v2_path();
    ASSERT_TRUE(std::filesystem::create_directory(v2 + "/sub"));
    pid_t init = std::stoi(slurp(run_dir() + "/ct/1402/init"));
    // Move init into the sub-cgroup; its next child is created there.
    {
        std::ofstream(v2 + "/sub/cgroup.procs") << init;
    }
    ASSERT_EQ(beanctl({"exec", id, "sh", "-c", "sleep 600 </dev/null >/dev/null 2>&1 &"}).code, 0);
    Numproc n;
    for (int i = 0; i < 200; ++i) {
        n = numproc(id);
        if (n.held == 2) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(n.held, 2u);
    ASSERT_EQ(beanctl({"stop", id}).code, 0);
    EXPECT_FALSE(std::filesystem::exists(v2)) << "stop removes sub-cgroups too";
}

TEST_F(NumprocTest, CountersSurviveANewBuildOfThePrograms) {
    std::string id = ct(1403);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    std::filesystem::copy_file(HELPER_DIR "/tasks", lib() + "/private/1403/tasks");
    ASSERT_EQ(beanctl({"start", id}).code, 0);
    ASSERT_EQ(beanctl({"exec", id, "sh", "-c", "/tasks 2 3 600 > /tmp/ready 2>&1 &"}).code, 0);
    for (int i = 0; i < 500 && slurp(lib() + "/private/1403/tmp/ready").empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    Numproc before;
    for (int i = 0; i < 200 && (before = numproc(id)).held != 1 + 9; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(before.held, 10u);

    auto pinned_link_id = [&](const char* name) { return pinned_link(name).id; };
    const __u32 old_fork = pinned_link_id("link_proc_fork"), old_exit = pinned_link_id("link_proc_exit");
    ASSERT_NE(old_fork, 0u);
    ASSERT_NE(old_exit, 0u);

    pretend_another_build();
    std::string other = ct(1404);
    ASSERT_EQ(beanctl({"create", other}).code, 0);
    ASSERT_EQ(beanctl({"start", other}).code, 0);
    int meta = ::bpf_obj_get((bpf_dir() + "/bc_meta").c_str());
    ASSERT_GE(meta, 0);
    bc_meta m{};
    __u32 key = 0;
    ASSERT_EQ(::bpf_map_lookup_elem(meta, &key, &m), 0);
    ::close(meta);
    EXPECT_EQ(m.abi_version, static_cast<__u32>(BC_ABI_VERSION));
    // New links are pinned, and the old ones are gone (detached), not left running.
    EXPECT_NE(pinned_link_id("link_proc_fork"), old_fork);
    EXPECT_NE(pinned_link_id("link_proc_exit"), old_exit);
    for (__u32 gone : {old_fork, old_exit}) {
        int fd = ::bpf_link_get_fd_by_id(gone);
        EXPECT_LT(fd, 0) << "link " << gone << " still exists";
        if (fd >= 0) ::close(fd);
    }
    EXPECT_FALSE(std::filesystem::exists(bpf_dir() + "/link_proc_fork_new"));

    // Nothing lost, and the new programs count on: tasks charged by the old programs are
    // uncharged by the new ones when they exit.
    EXPECT_EQ(numproc(id).held, 10u);
    EXPECT_EQ(numproc(id).maxheld, before.maxheld);
    ASSERT_EQ(beanctl({"exec", id, "killall", "tasks"}).code, 0);
    Numproc after;
    for (int i = 0; i < 300 && (after = numproc(id)).held != 1; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(after.held, 1u);
    EXPECT_EQ(numproc(other).held, 1u);
}

TEST_F(NumprocTest, ExactBeyondTheTaskRecord) {
    // A task record of 4 entries: most of the tasks below are recorded in task storage
    // instead, and the count must not notice. Own pin directory: the map size differs.
    std::string pins = bpf_dir() + "-small";
    auto small_env = env();
    for (auto& e : small_env)
        if (e.starts_with("BEANCOUNTER_BPF_DIR=")) e = "BEANCOUNTER_BPF_DIR=" + pins;
    auto bc = [&](const std::vector<std::string>& args) {
        std::vector<std::string> argv{BEANCTL_PATH};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, small_env);
    };
    std::filesystem::create_directories(etc());
    std::ofstream(etc() + "/beancounter.conf") << "BPF_MAX_TASKS=\"4\"\n";
    ScopeExit undo([&] {
        bc({"stop", "1405", "--fast"});
        bc({"destroy", "1405"});
        std::filesystem::remove(etc() + "/beancounter.conf");
        (void)bc::bpf::Accounting::unload(pins);
    });
    ASSERT_EQ(bc({"create", "1405"}).code, 0);
    std::filesystem::copy_file(HELPER_DIR "/tasks", lib() + "/private/1405/tasks");
    ASSERT_EQ(bc({"start", "1405"}).code, 0);
    ASSERT_EQ(bc({"exec", "1405", "sh", "-c", "/tasks 3 5 600 > /tmp/ready 2>&1 &"}).code, 0);
    for (int i = 0; i < 500 && slurp(lib() + "/private/1405/tmp/ready").empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto held = [&] {
        auto j = nlohmann::json::parse(bc({"status", "1405", "--json", "-b"}).out);
        return j.at("beancounters").at("numproc").at("held").get<std::uint64_t>();
    };
    std::uint64_t h = 0;
    for (int i = 0; i < 200 && (h = held()) != 20; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(h, 20u);
    ASSERT_EQ(bc({"exec", "1405", "killall", "tasks"}).code, 0);
    for (int i = 0; i < 300 && (h = held()) != 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(h, 1u);
}
