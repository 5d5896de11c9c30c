#include "container/exec.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <initializer_list>
#include <fmt/format.h>

#include "container/hardening.h"
#include "container/runtime.h"
#include "container/state.h"
#include "core/proc.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

namespace bc::container {

namespace {
constexpr int kJoin = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWCGROUP;

const char* const kEnv[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
                            "container=beancounter", nullptr};

// What a process needs to put a child inside a running container: init (as a pidfd) for
// setns, and the container's cgroups opened before leaving the host's mount namespace.
struct Joined {
    const CtConfig* ct = nullptr;
    Fd init_pidfd;
    Fd v2;                       // cgroup2 node, for clone3(CLONE_INTO_CGROUP)
    std::vector<Fd> join;        // for CtGroup::join_self: cgroup2's cgroup.procs, then v1 tasks
    bool userns = false;         // the command joins the container's user namespace too
};

// Joins the container's namespaces except the cgroup one. After this the caller's mount
// namespace, root and cwd are the container's, and its next child is in the container's PID
// namespace. The caller itself stays in the host's cgroups: only the command is charged to
// the container.
Result<Joined> join(const Settings& s, const cgroup::CtGroup& cg, const CtConfig& ct) {
    auto init = BC_TRY(find_init(s, ct.id));
    if (!init) return fail(fmt::format("container {} is not running", ct.id));
    // Nothing in the container may ptrace or read the memory of this host-privileged process.
    if (::prctl(PR_SET_DUMPABLE, 0) < 0) return fail_sys("prctl(PR_SET_DUMPABLE)");
    Joined j;
    j.v2 = BC_TRY(cg.open_v2());
    j.join = BC_TRY(cg.open_self_join());
    // Init's root, to check below that joining the mount namespace put us in the same root.
    Fd init_root(::open(fmt::format("/proc/{}/root", init->pid).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!init_root) return fail_sys(fmt::format("opening the root of container {}", ct.id));
    struct stat want, got;
    if (::fstat(init_root.get(), &want) < 0) return fail_sys("stat of the container's root");
    // The cgroup namespace is left to the child: with nsdelegate, clone3(CLONE_INTO_CGROUP)
    // must be called from a cgroup namespace that sees both our cgroup and the target.
    if (::setns(init->pidfd.get(), kJoin & ~CLONE_NEWCGROUP) < 0)
        return fail_sys(fmt::format("joining the namespaces of container {}", ct.id));
    if (::stat("/", &got) < 0 || got.st_dev != want.st_dev || got.st_ino != want.st_ino)
        return fail(fmt::format("container {}: its root is not the root of its mount namespace; refusing to run "
                                "a command outside it",
                                ct.id));
    j.init_pidfd = std::move(init->pidfd);
    j.userns = ct.userns;
    j.ct = &ct;
    return j;
}

// Forks the first process inside: born in the container's cgroup2 node, it moves itself into
// the v1 nodes, joins the cgroup namespace and runs child(). Returns its pid.
template <class F>
Result<pid_t> spawn_inside(Joined& j, F&& child) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) return fail_sys("pipe");
    Fd rd(p[0]), wr(p[1]);
    auto cloned = BC_TRY(proc::clone_process(0, j.v2.get()));
    if (cloned.pid == 0) {
        wr.reset();
        if (int e = cgroup::CtGroup::join_self(std::span<const Fd>(j.join).subspan(cloned.in_cgroup ? 1 : 0))) {
            std::string msg = fmt::format("beanctl: joining the cgroups of container {}: {}\n", j.ct->id, std::strerror(e));
            (void)!::write(STDERR_FILENO, msg.data(), msg.size());
            ::_exit(126);
        }
        char go;
        if (::read(rd.get(), &go, 1) != 1) ::_exit(126);
        if (::setns(j.init_pidfd.get(), CLONE_NEWCGROUP) < 0) ::_exit(126);
        // Last, the user namespace: from here on the command is the container's root and has
        // no privilege on the host.
        if (j.userns && (::setns(j.init_pidfd.get(), CLONE_NEWUSER) < 0 || proc::become_root() != 0)) ::_exit(126);
        if (drop_bounding_set() != 0 || install_seccomp(seccomp_program()) != 0) ::_exit(126);
        child();
        ::_exit(126);
    }
    rd.reset();
    auto placed = apply_rlimits(cloned.pid, *j.ct);
    if (!placed) {
        ::kill(cloned.pid, SIGKILL);
        (void)proc::wait_exit_code(cloned.pid);
        return std::unexpected(placed.error());
    }
    char go = 1;
    if (::write(wr.get(), &go, 1) != 1) return fail_sys("releasing the command");
    return cloned.pid;
}

std::vector<char*> make_argv(const std::vector<std::string>& argv) {
    std::vector<char*> v;
    for (const auto& a : argv) v.push_back(const_cast<char*>(a.c_str()));
    v.push_back(nullptr);
    return v;
}

// Signals beanctl handles itself while the command runs, blocked from before the command
// exists until beanctl stops waiting for it: a SIGTERM between the spawn and the wait would
// otherwise kill beanctl and leave the command running. The command starts with the mask
// beanctl had (exec_child).
struct BlockedSignals {
    sigset_t set, old;
    explicit BlockedSignals(std::initializer_list<int> sigs) {
        sigemptyset(&set);
        for (int sig : sigs) sigaddset(&set, sig);
        sigprocmask(SIG_BLOCK, &set, &old);
    }
    ~BlockedSignals() { sigprocmask(SIG_SETMASK, &old, nullptr); }
    BlockedSignals(const BlockedSignals&) = delete;
    BlockedSignals& operator=(const BlockedSignals&) = delete;
};

[[noreturn]] void exec_child(const std::vector<std::string>& argv, const char* term, const sigset_t& mask) {
    sigprocmask(SIG_SETMASK, &mask, nullptr);
    if (::chdir("/") < 0) ::_exit(126);
    std::vector<const char*> env(std::begin(kEnv), std::end(kEnv) - 1);
    std::string t = term ? fmt::format("TERM={}", term) : std::string();
    if (term) env.push_back(t.c_str());
    env.push_back(nullptr);
    auto av = make_argv(argv);
    // execvpe searches the PATH given in the new environment.
    ::execvpe(av[0], av.data(), const_cast<char* const*>(env.data()));
    int e = errno;
    std::string msg = fmt::format("beanctl: {}: {}\n", argv[0], std::strerror(e));
    (void)!::write(2, msg.data(), msg.size());
    ::_exit(e == ENOENT ? 127 : 126);
}

// Waits for the child while forwarding termination signals to it (`blocked` holds SIGCHLD,
// SIGINT, SIGTERM, SIGHUP and SIGQUIT).
int wait_forwarding(pid_t child, const BlockedSignals& blocked) {
    int code = 1;
    for (;;) {
        int st;
        pid_t r = ::waitpid(child, &st, WNOHANG);
        if (r == child) {
            code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            break;
        }
        if (r < 0 && errno != EINTR) break;
        int sig = ::sigwaitinfo(&blocked.set, nullptr);
        // Interactive ^C reaches the child directly (same process group); the rest is passed on.
        if (sig == SIGTERM || sig == SIGHUP) ::kill(child, sig);
    }
    return code;
}
}  // namespace

Result<int> exec_in(const Settings& s, const cgroup::CtGroup& cg, const CtConfig& ct, const std::vector<std::string>& argv) {
    if (argv.empty()) return fail("no command given");
    auto j = BC_TRY(join(s, cg, ct));
    const char* term = std::getenv("TERM");
    BlockedSignals blocked({SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT});
    auto pid = BC_TRY(spawn_inside(j, [&] {
        proc::close_fds_from(3);
        exec_child(argv, term, blocked.old);
    }));
    return wait_forwarding(pid, blocked);
}

namespace {
// Copies between the caller's terminal and the pty master until the shell is gone. Signals
// arrive through sig_fd: window size changes (SIGWINCH) are passed to the pty, SIGTERM and
// SIGHUP to the shell, and the relay goes on until the shell has exited, so the caller's
// terminal is always restored.
void relay(int master, pid_t child, int sig_fd) {
    bool in_open = true;
    for (;;) {
        struct pollfd p[3] = {{master, POLLIN, 0}, {in_open ? 0 : -1, POLLIN, 0}, {sig_fd, POLLIN, 0}};
        int r = ::poll(p, 3, 200);
        if (r < 0 && errno != EINTR) break;
        if (r <= 0) {
            if (::waitpid(child, nullptr, WNOHANG | WNOWAIT) == child) {
                // Drain what the shell printed last.
                char buf[4096];
                ssize_t n;
                int fl = ::fcntl(master, F_GETFL);
                ::fcntl(master, F_SETFL, fl | O_NONBLOCK);
                while ((n = ::read(master, buf, sizeof buf)) > 0) (void)!::write(1, buf, static_cast<size_t>(n));
                break;
            }
            continue;
        }
        char buf[4096];
        if (p[2].revents & POLLIN) {
            struct signalfd_siginfo si{};
            if (::read(sig_fd, &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGWINCH) {
                    struct winsize ws{};
                    if (::ioctl(0, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
                } else {
                    ::kill(child, static_cast<int>(si.ssi_signo));
                }
            }
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = ::read(master, buf, sizeof buf);
            if (n <= 0) break;  // EIO: the slave side is closed, the shell is gone
            (void)!::write(1, buf, static_cast<size_t>(n));
        }
        if (in_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = ::read(0, buf, sizeof buf);
            if (n <= 0) {
                // End of a non-terminal stdin: an EOF character ends the shell's input.
                in_open = false;
                char eof = 4;
                (void)!::write(master, &eof, 1);
            } else {
                (void)!::write(master, buf, static_cast<size_t>(n));
            }
        }
    }
}
}  // namespace

Result<int> enter(const Settings& s, const cgroup::CtGroup& cg, const CtConfig& ct, const std::vector<std::string>& argv) {
    auto j = BC_TRY(join(s, cg, ct));
    // The pty comes from the container's own devpts, so the shell's terminal is the container's.
    Fd master(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master) return fail_sys("opening /dev/ptmx in the container");
    int unlock = 0;
    if (::ioctl(master.get(), TIOCSPTLCK, &unlock) < 0) return fail_sys("unlocking the pty");
    // TIOCGPTPEER opens the slave through the master: no path in the container is trusted.
    Fd slave(::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!slave) return fail_sys("opening the pty's slave");
    // The terminal belongs to the container's root and its tty group, as login would set it.
    if (ct.userns && ::fchown(slave.get(), ct.userns_base, ct.userns_base + 5) < 0) return fail_sys("handing the pty to the container");

    const bool tty = ::isatty(0);
    struct termios saved{};
    if (tty) {
        struct winsize ws{};
        if (::ioctl(0, TIOCGWINSZ, &ws) == 0) ::ioctl(slave.get(), TIOCSWINSZ, &ws);
        ::tcgetattr(0, &saved);
    }
    std::vector<std::string> cmd = argv;
    if (cmd.empty()) cmd = {"/bin/sh", "-l"};
    const char* term = std::getenv("TERM");
    // ^C and ^\ reach the shell through the pty (raw mode) or its own process group.
    BlockedSignals blocked({SIGINT, SIGQUIT, SIGWINCH, SIGTERM, SIGHUP});
    auto spawned = spawn_inside(j, [&] {
        master.reset();
        if (::setsid() < 0 || ::ioctl(slave.get(), TIOCSCTTY, 0) < 0) ::_exit(126);
        for (int fd = 0; fd < 3; ++fd) ::dup2(slave.get(), fd);
        proc::close_fds_from(3);
        exec_child(cmd, term ? term : "xterm", blocked.old);
    });
    if (!spawned) return std::unexpected(spawned.error());
    const pid_t pid = *spawned;
    slave.reset();
    if (tty) {
        struct termios raw = saved;
        ::cfmakeraw(&raw);
        ::tcsetattr(0, TCSANOW, &raw);
    }
    sigset_t relayed;
    sigemptyset(&relayed);
    for (int sig : {SIGWINCH, SIGTERM, SIGHUP}) sigaddset(&relayed, sig);
    Fd sig_fd(::signalfd(-1, &relayed, SFD_CLOEXEC));
    relay(master.get(), pid, sig_fd.get());
    if (tty) ::tcsetattr(0, TCSANOW, &saved);
    auto code = proc::wait_exit_code(pid);
    return code;
}

}  // namespace bc::container
