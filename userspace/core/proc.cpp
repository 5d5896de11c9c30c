#include "core/proc.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fmt/format.h>

#include "core/fs.h"

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_pidfd_send_signal
#define __NR_pidfd_send_signal 424
#endif

namespace bc::proc {

Result<std::uint64_t> start_time(pid_t pid) {
    auto text = BC_TRY(fs::read_file(fmt::format("/proc/{}/stat", pid)));
    // The command name (field 2) may hold spaces and parentheses: parse after the last ')'.
    auto rp = text.rfind(')');
    if (rp == std::string::npos) return fail(fmt::format("malformed /proc/{}/stat", pid));
    std::string_view rest = std::string_view(text).substr(rp + 2);
    // rest starts at field 3; field 22 is the 20th token from here.
    size_t pos = 0;
    for (int field = 3; field < 22; ++field) {
        pos = rest.find(' ', pos);
        if (pos == std::string_view::npos) return fail(fmt::format("malformed /proc/{}/stat", pid));
        ++pos;
    }
    std::uint64_t v = 0;
    for (; pos < rest.size() && rest[pos] >= '0' && rest[pos] <= '9'; ++pos) v = v * 10 + static_cast<std::uint64_t>(rest[pos] - '0');
    return v;
}

Result<Fd> pidfd_open(pid_t pid) {
    int fd = static_cast<int>(::syscall(__NR_pidfd_open, pid, 0));
    if (fd < 0) return fail_sys(fmt::format("pidfd_open({})", pid));
    return Fd(fd);
}

Result<bool> pidfd_wait(const Fd& pidfd, int timeout_ms) {
    struct pollfd p{pidfd.get(), POLLIN, 0};
    for (;;) {
        int r = ::poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return fail_sys("poll(pidfd)");
        return r > 0;
    }
}

Result<> pidfd_signal(const Fd& pidfd, int sig) {
    if (::syscall(__NR_pidfd_send_signal, pidfd.get(), sig, nullptr, 0) < 0) {
        if (errno == ESRCH) return {};
        return fail_sys(fmt::format("sending signal {}", sig));
    }
    return {};
}

void close_fds_from(int first, const std::vector<int>& keep) {
    std::vector<int> k = keep;
    std::sort(k.begin(), k.end());
    int lo = first;
    for (int fd : k) {
        if (fd < lo) continue;
        if (fd > lo) ::syscall(SYS_close_range, lo, fd - 1, 0);
        lo = fd + 1;
    }
    ::syscall(SYS_close_range, lo, ~0U, 0);
}

Result<Cloned> clone_process(int flags, int cgroup_fd) {
    if (cgroup_fd >= 0) {
        struct clone_args args{};
        args.flags = static_cast<__u64>(flags) | CLONE_INTO_CGROUP;
        // With CLONE_PARENT the child signals the caller's parent as the caller does; clone3
        // wants no exit signal then.
        args.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD;
        args.cgroup = static_cast<__u64>(cgroup_fd);
        long pid = ::syscall(SYS_clone3, &args, sizeof args);
        if (pid >= 0) return Cloned{static_cast<pid_t>(pid), true};
        if (errno != ENOSYS && errno != E2BIG) return fail_sys("clone3");
    }
    long pid = ::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, 0);
    if (pid < 0) return fail_sys("clone");
    return Cloned{static_cast<pid_t>(pid), false};
}

int become_root() {
    if (::setgroups(0, nullptr) < 0 || ::setresgid(0, 0, 0) < 0 || ::setresuid(0, 0, 0) < 0) return errno;
    return 0;
}

Result<> in_child(const std::function<std::string()>& body) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) return fail_sys("pipe");
    Fd rd(p[0]), wr(p[1]);
    auto child = BC_TRY(clone_process(0));
    if (child.pid == 0) {
        rd.reset();
        std::string msg = body();
        (void)!::write(wr.get(), msg.data(), msg.size());
        ::_exit(msg.empty() ? 0 : 1);
    }
    wr.reset();
    const std::string msg = read_to_eof(rd.get());
    int code = BC_TRY(wait_exit_code(child.pid));
    if (!msg.empty()) return fail(msg);
    if (code != 0) return fail(fmt::format("a helper process exited with status {}", code));
    return {};
}

std::string read_to_eof(int fd, size_t limit) {
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        if (out.size() < limit) out.append(buf, std::min(static_cast<size_t>(n), limit - out.size()));
    }
    return out;
}

Result<int> wait_exit_code(pid_t pid) {
    int st = 0;
    for (;;) {
        pid_t r = ::waitpid(pid, &st, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return fail_sys(fmt::format("waitpid({})", pid));
        break;
    }
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return 1;
}

Result<Finished> run(const std::vector<std::string>& argv, const RunOptions& o) {
    if (argv.empty()) return fail("running a command: none given");
    std::vector<char*> av;  // made before the fork
    for (const auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
    av.push_back(nullptr);
    int p[2];
    Fd rd, wr;
    if (o.capture != Capture::none) {
        if (::pipe2(p, O_CLOEXEC) < 0) return fail_sys("pipe");
        rd = Fd(p[0]), wr = Fd(p[1]);
    }
    // The child's errno if it could not exec; EOF at a successful exec (close-on-exec).
    if (::pipe2(p, O_CLOEXEC) < 0) return fail_sys("pipe");
    Fd err_rd(p[0]), err_wr(p[1]);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) return fail_sys("fork");
    if (pid == 0) {
        int e = 0;
        // Dies with this process: a beanctl killed half-way leaves no command writing on.
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) e = errno;
        else if (::getppid() != parent) e = ESRCH;
        else if (wr && ::dup2(wr.get(), o.capture == Capture::out ? STDOUT_FILENO : STDERR_FILENO) < 0) e = errno;
        if (e == 0) {
            close_fds_from(3, {err_wr.get()});
            ::execvp(av[0], av.data());
            e = errno;
        }
        (void)!::write(err_wr.get(), &e, sizeof e);
        ::_exit(127);
    }
    wr.reset();
    err_wr.reset();
    Finished f;
    if (rd) f.output = read_to_eof(rd.get(), o.limit);
    int e = 0;
    ssize_t n;
    while ((n = ::read(err_rd.get(), &e, sizeof e)) < 0 && errno == EINTR) {
    }
    f.code = BC_TRY(wait_exit_code(pid));
    if (n == sizeof e) return fail_sys(e, fmt::format("running {}", argv[0]));
    return f;
}

Result<std::string> find_helper(std::string_view name) {
    for (const auto& p : {fmt::format("{}/{}", self_dir(), name), fmt::format("{}/{}", BC_LIBEXEC_DIR, name)})
        if (::access(p.c_str(), X_OK) == 0) return p;
    return fail(fmt::format("{} not found beside {} or in {}", name, self_dir(), BC_LIBEXEC_DIR));
}

std::string self_dir() {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return ".";
    std::string p(buf, static_cast<size_t>(n));
    return p.substr(0, p.rfind('/'));
}

}  // namespace bc::proc
