// One test per known container escape class, run as the container's root with the helper
// tests/helpers/escape.c, each checking the host's ground truth afterwards (host files and
// kernel knobs unchanged, the programs still attached), not only the helper's report.
// The chroot climb and hostile root file systems are in test_lifecycle.cpp.
#include <fcntl.h>

#include "fixture.h"

using namespace bctest;

namespace {
std::string read_or_empty(const std::string& p) { return std::filesystem::exists(p) ? slurp(p) : std::string(); }
}  // namespace

class EscapeTest : public BeanctlTest {
protected:
    // A running container with the helper at /escape.
    std::string start(unsigned id) {
        std::string s = ct(id);
        EXPECT_EQ(beanctl({"create", s}).code, 0);
        std::filesystem::copy_file(HELPER_DIR "/escape", lib() + "/private/" + s + "/escape");
        EXPECT_EQ(beanctl({"start", s}).code, 0);
        return s;
    }
    // Runs one attack; every attempt it makes must be reported blocked.
    RunResult attack(const std::string& id, std::vector<std::string> args) {
        args.insert(args.begin(), {"exec", id, "/escape"});
        auto r = beanctl(args);
        EXPECT_EQ(r.out.find("DONE"), std::string::npos) << r.out << r.err;
        EXPECT_NE(r.out.find("blocked"), std::string::npos) << r.out << r.err;
        EXPECT_EQ(r.code, 0) << r.out << r.err;
        return r;
    }
};

TEST_F(EscapeTest, HostKernelKnobsCannotBeWritten) {
    const char* knobs[] = {"/proc/sys/kernel/core_pattern", "/proc/sys/kernel/modprobe", "/sys/kernel/uevent_helper"};
    std::vector<std::string> before;
    for (auto k : knobs) before.push_back(read_or_empty(k));
    std::string id = start(1801);
    attack(id, {"knobs", "|/escape-payload %p"});
    for (size_t i = 0; i < std::size(knobs); ++i) EXPECT_EQ(read_or_empty(knobs[i]), before[i]) << knobs[i];
}

TEST_F(EscapeTest, CgroupReleaseAgent) {
    // CVE-2022-0492: every v1 hierarchy's release_agent on the host stays as it was.
    auto l = layout();
    std::vector<std::pair<std::string, std::string>> agents;
    for (const auto& h : l.v1) agents.emplace_back(h.mount + "/release_agent", read_or_empty(h.mount + "/release_agent"));
    std::string id = start(1802);
    attack(id, {"release_agent", "/escape-payload"});
    for (const auto& [path, text] : agents) EXPECT_EQ(read_or_empty(path), text) << path;
}

TEST_F(EscapeTest, FreshProcMountDoesNotUnmaskKernelFiles) {
    std::string id = start(1803);
    auto r = attack(id, {"fresh_proc"});
    EXPECT_NE(r.out.find("fresh proc: sysrq-trigger: blocked"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("fresh proc: core_pattern: blocked"), std::string::npos) << r.out;
}

TEST_F(EscapeTest, BpfFromInsideCannotReachThePrograms) {
    std::string id = start(1804);
    auto before = pinned_link("link_sock_create"), collect = pinned_link("link_collect");
    ASSERT_NE(before.id, 0u);
    auto r = attack(id, {"bpf"});
    EXPECT_NE(r.out.find("bpf(BPF_LINK_GET_NEXT_ID): blocked (EPERM)"), std::string::npos) << r.out;
    // Still attached, the same links and programs.
    auto after = pinned_link("link_sock_create");
    EXPECT_EQ(after.id, before.id);
    EXPECT_EQ(after.prog_id, before.prog_id);
    EXPECT_EQ(after.cgroup.cgroup_id, before.cgroup.cgroup_id);
    EXPECT_EQ(pinned_link("link_collect").prog_id, collect.prog_id);
    // And counting goes on: the container's own row is there.
    EXPECT_NE(beanctl({"exec", id, "cat", "/dev/user_beancounters"}).out.find(" " + id + ":  kmemsize"), std::string::npos);
}

TEST_F(EscapeTest, DeviceNodesAndHandlesAreRefused) {
    std::string id = start(1805);
    attack(id, {"devices"});
    auto r = attack(id, {"shocker"});
    EXPECT_NE(r.out.find("open_by_handle_at: blocked (EPERM)"), std::string::npos) << r.out;
}

TEST_F(EscapeTest, NoHostFdOrCwdLeaksIntoExec) {
    // CVE-2024-21626 class: an fd of the caller (not close-on-exec, as a careless parent
    // leaves them) and the caller's cwd must not reach the command.
    std::string id = start(1806);
    int leak = ::open("/etc/hostname", O_RDONLY);  // deliberately inheritable
    ASSERT_GE(leak, 0);
    auto r = beanctl({"exec", id, "/escape", "fds"});
    ::close(leak);
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_EQ(r.out, "cwd: /\n");
    // Init holds stdin (/dev/null) and its console log, nothing else of the host's.
    pid_t init = std::stoi(slurp(run_dir() + "/ct/" + id + "/init"));
    std::vector<std::string> fds;
    for (const auto& e : std::filesystem::directory_iterator(fmt::format("/proc/{}/fd", init))) fds.push_back(e.path().filename());
    std::sort(fds.begin(), fds.end());
    EXPECT_EQ(fds, (std::vector<std::string>{"0", "1", "2"}));
}

TEST_F(EscapeTest, ContainersCannotSeeEachOthersIpcOrProcesses) {
    std::string a = start(1807), b = start(1808);
    auto made = beanctl({"exec", a, "/escape", "ipc_make"});
    ASSERT_EQ(made.code, 0) << made.out;
    attack(b, {"ipc_find"});
    // B's view of processes is its own: A's commands are not there, and A's init is not B's.
    ASSERT_EQ(beanctl({"exec", a, "sh", "-c", "sleep 30 &"}).code, 0);
    auto ps = beanctl({"exec", b, "ps", "-o", "comm"});
    EXPECT_EQ(ps.out.find("sleep"), std::string::npos) << ps.out;
    EXPECT_NE(beanctl({"exec", b, "kill", "-0", "2"}).code, 0) << "no process 2 in B (A's sleep is not B's to signal)";
}
