// One test per known container escape class, run as the container's root with the helper
// tests/helpers/escape.c, each checking the host's ground truth afterwards (host files and
// kernel knobs unchanged, the programs still attached), not only the helper's report.
// The chroot climb and hostile root file systems are in test_lifecycle.cpp.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "container/hardening.h"
#include "core/proc.h"
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

namespace {
// Runs `beanctl exec ID /bin/true` traced from here, and stops its command at the entry of
// its execve(2): the last moment the process is still the tool (with the tool's memory),
// after it joined the container's namespaces and became the container's root. The syscall
// is rewound (skipped, then its instruction backed up) and the process left in a plain
// SIGSTOP, untraced, so that another process may try to attach. Returns {beanctl's pid,
// the command's pid}, or {-1, -1}.
std::pair<pid_t, pid_t> stop_before_exec(const std::vector<std::string>& env, const std::string& id) {
    pid_t tool = ::fork();
    if (tool == 0) {
        ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
        ::raise(SIGSTOP);
        std::vector<std::string> args{BEANCTL_PATH, "exec", id, "/bin/true"};
        std::vector<char*> argv, envp;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        std::vector<std::string> e = env;
        e.push_back("PATH=/usr/sbin:/usr/bin:/sbin:/bin");
        for (auto& x : e) envp.push_back(x.data());
        envp.push_back(nullptr);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    int st = 0;
    if (::waitpid(tool, &st, 0) != tool || !WIFSTOPPED(st)) return {-1, -1};
    ::ptrace(PTRACE_SETOPTIONS, tool, nullptr, PTRACE_O_TRACEFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL);
    ::ptrace(PTRACE_CONT, tool, nullptr, nullptr);
    pid_t inner = -1, early = -1;
    bool skipped = false;
    for (int steps = 0; steps < 100000; ++steps) {
        pid_t p = ::waitpid(-1, &st, __WALL);
        if (p < 0) return {tool, -1};
        if (WIFEXITED(st) || WIFSIGNALED(st)) {
            if (p == tool) return {tool, -1};
            continue;
        }
        const int sig = WSTOPSIG(st), event = st >> 16;
        if (p == tool && (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_CLONE)) {
            unsigned long child = 0;
            ::ptrace(PTRACE_GETEVENTMSG, tool, nullptr, &child);
            inner = static_cast<pid_t>(child);
            ::ptrace(PTRACE_CONT, tool, nullptr, nullptr);
            // The child's first stop may be reported before its parent's event: it was held
            // (not resumed) until now, and is traced from here.
            if (early == inner) ::ptrace(PTRACE_SYSCALL, inner, nullptr, nullptr);
            continue;
        }
        if (p == inner && sig == (SIGTRAP | 0x80)) {
            user_regs_struct regs{};
            ::ptrace(PTRACE_GETREGS, inner, nullptr, &regs);
            if (!skipped && regs.orig_rax == SYS_execve) {
                regs.orig_rax = static_cast<unsigned long long>(-1);  // skip it at the entry...
                ::ptrace(PTRACE_SETREGS, inner, nullptr, &regs);
                skipped = true;
            } else if (skipped) {
                regs.rax = SYS_execve;  // ...and at the exit, back up to run it again later
                regs.rip -= 2;
                ::ptrace(PTRACE_SETREGS, inner, nullptr, &regs);
                ::ptrace(PTRACE_DETACH, inner, nullptr, reinterpret_cast<void*>(SIGSTOP));
                ::ptrace(PTRACE_DETACH, tool, nullptr, nullptr);
                return {tool, inner};
            }
            ::ptrace(PTRACE_SYSCALL, inner, nullptr, nullptr);
            continue;
        }
        if (p == inner) {
            // The new child's first stop, or a signal: trace its system calls from here.
            ::ptrace(PTRACE_SYSCALL, inner, nullptr, sig == SIGSTOP || sig == SIGTRAP ? nullptr : reinterpret_cast<void*>(static_cast<long>(sig)));
            continue;
        }
        if (p != tool && inner < 0) {
            early = p;  // a new child, stopped before the tool's fork event names it: hold it
            continue;
        }
        // Other stops of the tool (signals): pass them on.
        ::ptrace(PTRACE_CONT, p, nullptr, sig == SIGTRAP || sig == SIGSTOP ? nullptr : reinterpret_cast<void*>(static_cast<long>(sig)));
    }
    return {tool, -1};
}

// As the container's root (its user namespace, ids 0): may this process be traced, and its
// memory and executable opened? 0 = all refused; otherwise a bitmask of what succeeded.
int try_as_container_root(pid_t ct_init, pid_t target) {
    pid_t a = ::fork();
    if (a == 0) {
        // The target's /proc directory is opened first, as the host's root: the paths above
        // it (a test root, a chroot) need not be searchable by the container's root.
        int dir = ::open(fmt::format("/proc/{}", target).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        int ns = ::open(fmt::format("/proc/{}/ns/user", ct_init).c_str(), O_RDONLY | O_CLOEXEC);
        if (ns < 0 || ::setns(ns, CLONE_NEWUSER) < 0 || bc::proc::become_root() != 0) ::_exit(100);
        // Nothing of the host's beyond what a container process has: the container's bounding set.
        bc::container::drop_bounding_set();
        int got = 0;
        if (::ptrace(PTRACE_ATTACH, target, nullptr, nullptr) == 0) {
            got |= 1;
            ::ptrace(PTRACE_DETACH, target, nullptr, reinterpret_cast<void*>(SIGSTOP));
        }
        int fd = ::openat(dir, "mem", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) got |= 2, ::close(fd);
        fd = ::openat(dir, "exe", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) got |= 4, ::close(fd);
        ::_exit(got);
    }
    int st = 0;
    ::waitpid(a, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 200;
}
}  // namespace

TEST_F(EscapeTest, ProcessEnteringCannotBeTracedFromInside) {
    // CVE-2019-5736 and the ptrace class: the command of `beanctl exec` is, until its
    // execve, a copy of the tool. Stopped exactly there, the container's root can neither
    // attach to it nor open its memory or its executable (the tool's binary on the host).
    std::string id = start(1809);
    pid_t init = std::stoi(slurp(run_dir() + "/ct/" + id + "/init"));
    // Control: the same attacker can trace an ordinary process of the container.
    ASSERT_EQ(beanctl({"exec", id, "sh", "-c", "sleep 30 >/dev/null 2>&1 &"}).code, 0);
    const std::string conf = slurp(etc() + "/ct/1809.conf");
    const std::string ct_root = std::to_string(std::stoul(conf.substr(conf.find("USERNS_BASE=\"") + 13)));
    // The sleeper is in the container's cgroup; it has exec'd sleep once its comm says so.
    pid_t sleeper = 0;
    auto cg = bc::cgroup::CtGroup(layout(), "", prefix(), 1809);
    for (int i = 0; i < 200 && !sleeper; ++i, std::this_thread::sleep_for(std::chrono::milliseconds(10)))
        for (pid_t p : cg.procs().value_or(std::vector<pid_t>{}))
            if (slurp(fmt::format("/proc/{}/comm", p)) == "sleep\n") sleeper = p;
    ASSERT_GT(sleeper, 0);
    EXPECT_EQ(try_as_container_root(init, sleeper), 1 | 2 | 4) << "the attacker is able: attach, memory, executable";

    const std::string tool_before = slurp(BEANCTL_PATH);
    auto [tool, inner] = stop_before_exec(env(), id);
    ASSERT_GT(tool, 0);
    ASSERT_GT(inner, 0) << "the command was not caught before its execve";
    // It is the container's root already (its ids), and still the tool.
    EXPECT_NE(slurp(fmt::format("/proc/{}/status", inner)).find("Uid:\t" + ct_root + "\t"), std::string::npos);
    EXPECT_EQ(try_as_container_root(init, inner), 0) << "traced or opened before its execve";
    ::kill(inner, SIGCONT);
    int st = 0;
    ASSERT_EQ(::waitpid(tool, &st, 0), tool);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "the command ran on: " << st;
    EXPECT_EQ(slurp(BEANCTL_PATH), tool_before) << "the tool's binary is unchanged";
    beanctl({"exec", id, "killall", "sleep"});
}
