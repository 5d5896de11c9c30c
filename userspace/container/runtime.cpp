#include "container/runtime.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <fmt/format.h>

#include "core/fd.h"
#include "core/proc.h"

namespace bc::container {

namespace {

constexpr int kNamespaces = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET;

// Device nodes every container gets: bind mounts of the host's nodes.
constexpr const char* kDevices[] = {"null", "zero", "full", "random", "urandom", "tty"};

// A failure inside the child: the step's name and errno.
struct StepError {
    std::string what;
    int err = 0;
};
using Step = std::expected<void, StepError>;

std::unexpected<StepError> step_fail(std::string what, int e = errno) { return std::unexpected(StepError{std::move(what), e}); }

std::string fd_path(int fd) { return fmt::format("/proc/self/fd/{}", fd); }

// Opens a directory below root without following any symlink and without leaving root.
// A hostile rootfs that makes /proc a symlink to a host path gets an error, not a mount there.
int open_in_root(int rootfd, const char* rel, int flags) {
    struct open_how how{};
    how.flags = static_cast<__u64>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    return static_cast<int>(::syscall(SYS_openat2, rootfd, rel, &how, sizeof how));
}

Step ensure_dir(int rootfd, const char* rel) {
    if (::mkdirat(rootfd, rel, 0755) < 0 && errno != EEXIST) return step_fail(fmt::format("creating /{}", rel));
    return {};
}

// mount() onto a directory of the container, named by an fd resolved safely.
Step mount_at(int rootfd, const char* rel, const char* src, const char* fstype, unsigned long flags, const char* data) {
    if (auto r = ensure_dir(rootfd, rel); !r) return r;
    Fd target(open_in_root(rootfd, rel, O_PATH | O_DIRECTORY));
    if (!target) return step_fail(fmt::format("/{} in the root file system is not a plain directory", rel));
    if (::mount(src, fd_path(target.get()).c_str(), fstype, flags, data) < 0)
        return step_fail(fmt::format("mounting {} on /{}", fstype ? fstype : src, rel));
    return {};
}

Step setup_dev(int rootfd, const Fd (&host_dev)[std::size(kDevices)]) {
    if (auto r = mount_at(rootfd, "dev", "tmpfs", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=65536k,nr_inodes=4096"); !r)
        return r;
    Fd dev(open_in_root(rootfd, "dev", O_PATH | O_DIRECTORY));
    if (!dev) return step_fail("opening the new /dev");
    for (size_t i = 0; i < std::size(kDevices); ++i) {
        Fd f(::openat(dev.get(), kDevices[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666));
        if (!f) return step_fail(fmt::format("creating /dev/{}", kDevices[i]));
        if (::mount(fd_path(host_dev[i].get()).c_str(), fd_path(f.get()).c_str(), nullptr, MS_BIND, nullptr) < 0)
            return step_fail(fmt::format("binding /dev/{}", kDevices[i]));
    }
    if (::mkdirat(dev.get(), "pts", 0755) < 0) return step_fail("creating /dev/pts");
    if (auto r = mount_at(rootfd, "dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
                          "newinstance,ptmxmode=0666,mode=0620,gid=5");
        !r)
        return r;
    if (::mkdirat(dev.get(), "shm", 01777) < 0) return step_fail("creating /dev/shm");
    if (auto r = mount_at(rootfd, "dev/shm", "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=65536k"); !r) return r;
    if (::mkdirat(dev.get(), "mqueue", 0755) < 0) return step_fail("creating /dev/mqueue");
    if (auto r = mount_at(rootfd, "dev/mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr); !r) return r;
    struct {
        const char* target;
        const char* name;
    } links[] = {{"pts/ptmx", "ptmx"}, {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
                 {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}};
    for (const auto& l : links)
        if (::symlinkat(l.target, dev.get(), l.name) < 0) return step_fail(fmt::format("creating /dev/{}", l.name));
    return {};
}

Step loopback_up() {
    Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!s) return step_fail("socket for lo");
    struct ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(s.get(), SIOCGIFFLAGS, &ifr) < 0) return step_fail("reading the flags of lo");
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) < 0) return step_fail("bringing lo up");
    return {};
}

// Everything the child does between clone and exec, in order.
Step child_setup(const SpawnRequest& req, int sync_fd, int console_fd) {
    // The root is built while the parent moves us into the v1 cgroups (on hybrid hosts: a
    // cgroup.procs write waits for an RCU grace period, milliseconds that this overlaps).
    // With a user namespace, the parent's uid/gid maps will have to come first: a second
    // sync point goes here then.
    // If this tool runs chrooted, its root is not the top of the mount namespace, and
    // pivot_root would attach the container's root below the namespace root instead of on
    // it: setns() into the container would then land outside its root, and a chroot inside
    // could climb out. Re-entering our own mount namespace resets root and cwd to the
    // namespace's top, so the pivot below puts the container's root exactly there. The
    // root file system's path is taken before (it is relative to the chroot) and re-read
    // after, as seen from the top.
    std::string root;
    {
        Fd before(::open(req.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!before) return step_fail("opening the root file system");
        Fd self_ns(::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC));
        if (!self_ns || ::setns(self_ns.get(), CLONE_NEWNS) < 0) return step_fail("re-entering the mount namespace at its root");
        char buf[PATH_MAX];
        ssize_t len = ::readlink(fd_path(before.get()).c_str(), buf, sizeof buf - 1);
        if (len <= 0 || buf[0] != '/') return step_fail("finding the root file system from the namespace's root", len < 0 ? errno : ENOENT);
        root.assign(buf, static_cast<size_t>(len));
    }
    // Nothing mounted from here on may reach the host.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) < 0) return step_fail("making / a slave mount");

    Fd host_dev[std::size(kDevices)];
    for (size_t i = 0; i < std::size(kDevices); ++i) {
        host_dev[i] = Fd(::open(fmt::format("/dev/{}", kDevices[i]).c_str(), O_PATH | O_CLOEXEC));
        if (!host_dev[i]) return step_fail(fmt::format("opening the host's /dev/{}", kDevices[i]));
    }
    Fd ubc;
    if (!req.ubc_file.empty()) {
        ubc = Fd(::open(req.ubc_file.c_str(), O_PATH | O_CLOEXEC));
        if (!ubc) return step_fail(fmt::format("opening {}", req.ubc_file));
    }
    if (::mount(root.c_str(), root.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
        return step_fail("binding the root file system");
    Fd rootfd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!rootfd) return step_fail("opening the root file system");

    if (auto r = mount_at(rootfd.get(), "proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr); !r) return r;
    if (auto r = mount_at(rootfd.get(), "sys", "sysfs", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr); !r)
        return r;
    if (auto r = setup_dev(rootfd.get(), host_dev); !r) return r;
    if (ubc) {
        // The container's own beancounters, where its init leaves them alone (systemd keeps a
        // /dev that is mounted already; it mounts its own /run and /tmp).
        Fd dev(open_in_root(rootfd.get(), "dev", O_PATH | O_DIRECTORY));
        Fd f(dev ? ::openat(dev.get(), "user_beancounters", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0400)
                 : -1);
        if (!f) return step_fail("creating /dev/user_beancounters");
        std::string target = fd_path(f.get());
        if (::mount(fd_path(ubc.get()).c_str(), target.c_str(), nullptr, MS_BIND, nullptr) < 0)
            return step_fail("binding /dev/user_beancounters");
        // The fd names the file under the new mount; the remount needs the mount itself.
        Fd bound(::openat(dev.get(), "user_beancounters", O_PATH | O_CLOEXEC | O_NOFOLLOW));
        if (!bound || ::mount(nullptr, fd_path(bound.get()).c_str(), nullptr,
                              MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0)
            return step_fail("making /dev/user_beancounters read-only");
    }

    // pivot_root, not chroot: the old root is detached and unreachable afterwards.
    Fd newroot(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!newroot || ::fchdir(newroot.get()) < 0) return step_fail("entering the root file system");
    if (::syscall(SYS_pivot_root, ".", ".") < 0) return step_fail("pivot_root");
    if (::umount2(".", MNT_DETACH) < 0) return step_fail("detaching the old root");
    if (::chdir("/") < 0) return step_fail("chdir /");

    const std::string& h = req.ct->hostname;
    if (::sethostname(h.data(), h.size()) < 0) return step_fail("setting the host name");
    // Distribution inits (systemd) set the host name from /etc/hostname. Written after the
    // pivot, so a symlink in the container's /etc can only point inside the container.
    if (struct stat st; ::lstat("/etc", &st) == 0 && S_ISDIR(st.st_mode)) {
        Fd f(::open("/etc/hostname", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644));
        std::string line = h + "\n";
        if (!f || ::write(f.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
            return step_fail("writing /etc/hostname");
    }
    if (auto r = loopback_up(); !r) return r;

    // Wait until the parent has placed us in all of the container's cgroups, then root the
    // cgroup namespace there: the container sees its own nodes as "/".
    char go = 0;
    ssize_t n;
    do n = ::read(sync_fd, &go, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) return step_fail("waiting for the parent", n == 0 ? EPIPE : errno);
    if (::unshare(CLONE_NEWCGROUP) < 0) return step_fail("entering a new cgroup namespace");

    Fd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!null) return step_fail("opening /dev/null");
    if (::dup2(null.get(), 0) < 0 || ::dup2(console_fd, 1) < 0 || ::dup2(console_fd, 2) < 0)
        return step_fail("setting up stdio");
    if (::setsid() < 0) return step_fail("setsid");
    proc::close_fds_from(3, {sync_fd});
    return {};
}

[[noreturn]] void child_main(const SpawnRequest& req, int sync_fd, int console_fd) {
    auto r = child_setup(req, sync_fd, console_fd);
    std::string msg;
    if (r) {
        ::prctl(PR_SET_PDEATHSIG, 0);
        const char* argv[] = {req.ct->init.c_str(), nullptr};
        const char* envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/",
                              "TERM=linux", "container=beancounter", nullptr};
        ::execve(argv[0], const_cast<char* const*>(argv), const_cast<char* const*>(envp));
        msg = fmt::format("exec {}: {}", req.ct->init, std::strerror(errno));
    } else {
        msg = fmt::format("{}: {}", r.error().what, std::strerror(r.error().err));
    }
    (void)!::write(sync_fd, msg.data(), msg.size());
    ::_exit(127);
}

}  // namespace

Result<pid_t> spawn_init(const SpawnRequest& req) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return fail_sys("socketpair");
    Fd parent_end(sv[0]), child_end(sv[1]);
    // The console log holds the current boot only: each start begins it anew.
    Fd console(::open(req.console_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!console) return fail_sys(fmt::format("opening {}", req.console_log));

    auto v2 = BC_TRY(req.cgroup->open_v2());
    auto v1_procs = BC_TRY(req.cgroup->open_procs(false));
    auto cloned = proc::clone_process(kNamespaces, v2.get());
    if (!cloned) return std::unexpected(cloned.error().wrap("creating init in new mount, PID, UTS, IPC and network namespaces"));
    const pid_t pid = cloned->pid;
    if (pid == 0) {
        parent_end.reset();
        // Die with the parent until init is exec'd: no half-built container survives a kill -9.
        // (If the parent is already gone, the read of the "go" byte sees EOF.)
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        child_main(req, child_end.get(), console.get());
    }
    child_end.reset();
    console.reset();

    auto abort_child = [&](Error e) -> Result<pid_t> {
        ::kill(pid, SIGKILL);
        (void)proc::wait_exit_code(pid);
        return std::unexpected(std::move(e));
    };
    if (req.on_spawned)
        if (auto r = req.on_spawned(pid); !r) return abort_child(r.error());
    // Born in the cgroup2 node (clone3); the v1 hierarchies, if any, take it now.
    auto placed = cloned->in_cgroup ? bc::cgroup::CtGroup::write_pid(v1_procs, pid) : req.cgroup->attach(pid);
    if (!placed) return abort_child(placed.error().wrap("placing init in its cgroups"));
    // The child may already have failed (it builds its root meanwhile): then the send fails
    // and its message is waiting on the socket, read below.
    char go = 1;
    const bool released = ::send(parent_end.get(), &go, 1, MSG_NOSIGNAL) == 1;
    const int send_errno = errno;

    char buf[1024];
    ssize_t n;
    do n = ::read(parent_end.get(), buf, sizeof buf);
    while (n < 0 && errno == EINTR);
    if (!released && n <= 0) return abort_child(Error::sys(send_errno, "releasing the container's init"));
    if (n > 0) return abort_child(Error::msg_only(fmt::format("starting init: {}", std::string_view(buf, static_cast<size_t>(n)))));
    if (n < 0) return abort_child(Error::sys(errno, "waiting for the container's init"));
    // EOF: exec closed the socket, or the child died without a word.
    siginfo_t si{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid) {
        int code = proc::wait_exit_code(pid).value_or(1);
        return fail(fmt::format("the container's init exited at once with status {} (see {})", code, req.console_log));
    }
    return pid;
}

}  // namespace bc::container
