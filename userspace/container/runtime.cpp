#include "container/runtime.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <fmt/format.h>

#include "container/devctl.h"
#include "container/hardening.h"
#include "container/identity.h"
#include "core/fd.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/proc.h"

namespace bc::container {

namespace {

constexpr int kNamespaces = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET;

// Device nodes every container gets: bind mounts of the host's nodes.
constexpr const char* kDevices[] = {"null", "zero", "full", "random", "urandom", "tty"};

// Mounts the parent copies from the host (open_tree) for the child to move into place.
struct HostMounts {
    Fd root;                          // VE_ROOT, recursively
    Fd dev[std::size(kDevices)];      // the host's device nodes
    Fd ubc;                           // the pinned user_beancounters file, read-only
    std::vector<Fd> devnodes;         // DEVNODES, in the config's order
};

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

// Moves a detached mount (made by the parent with open_tree) onto a new file or directory.
Step attach_tree(int tree, int dirfd, const char* name, bool dir) {
    if (dir ? ::mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST : false) return step_fail(fmt::format("creating {}", name));
    Fd target(dir ? open_in_root(dirfd, name, O_PATH | O_DIRECTORY)
                  : static_cast<int>(::openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666)));
    if (!target) return step_fail(fmt::format("creating {}", name));
    if (::move_mount(tree, "", target.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return step_fail(fmt::format("mounting {}", name));
    return {};
}

Step setup_dev(const SpawnRequest& req, int rootfd, const HostMounts& host) {
    if (auto r = mount_at(rootfd, "dev", "tmpfs", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=65536k,nr_inodes=4096"); !r)
        return r;
    Fd dev(open_in_root(rootfd, "dev", O_PATH | O_DIRECTORY));
    if (!dev) return step_fail("opening the new /dev");
    for (size_t i = 0; i < std::size(kDevices); ++i)
        if (auto r = attach_tree(host.dev[i].get(), dev.get(), kDevices[i], false); !r) return r;
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
    for (size_t i = 0; i < host.devnodes.size(); ++i) {
        const char* what = "";
        if (int e = place_devnode(dev.get(), req.ct->devnodes[i].name, host.devnodes[i].get(), &what))
            return step_fail(fmt::format("/dev/{}: {}", req.ct->devnodes[i].name, what), e);
    }
    if (host.ubc) {
        // The container's own beancounters, where its init leaves them alone (systemd keeps a
        // /dev that is mounted already; it mounts its own /run and /tmp). Made read-only by
        // the parent.
        if (auto r = attach_tree(host.ubc.get(), dev.get(), "user_beancounters", false); !r) return r;
    }
    return {};
}

// Kernel interfaces a container has no business reading or writing (the OCI defaults and
// systemd-nspawn's, together): files are covered by /dev/null, directories by an empty
// read-only tmpfs, and the rest of /proc's system knobs made read-only, except the network's
// (the container's own network namespace).
constexpr const char* kMaskedFiles[] = {"proc/kcore",        "proc/keys",      "proc/timer_list", "proc/timer_stats",
                                        "proc/sched_debug",  "proc/latency_stats", "proc/kallsyms", "proc/sysrq-trigger"};
constexpr const char* kMaskedDirs[] = {"proc/acpi", "proc/asound", "proc/scsi", "sys/firmware", "sys/devices/virtual/powercap"};
constexpr const char* kReadOnly[] = {"proc/bus", "proc/fs", "proc/irq", "proc/sys"};
constexpr const char* kWritableAgain[] = {"proc/sys/net"};

Step mask_kernel_files(int rootfd) {
    // Our own /dev/null, just placed: a character device 1:3 (a mask is never a bind of
    // something the container could have swapped in).
    Fd null(open_in_root(rootfd, "dev/null", O_PATH));
    struct stat st{};
    if (!null || ::fstat(null.get(), &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
        return step_fail("the container's /dev/null is not the null device", EINVAL);
    for (const char* f : kMaskedFiles) {
        Fd t(open_in_root(rootfd, f, O_PATH));
        if (!t) {
            if (errno == ENOENT) continue;  // not built into this kernel
            return step_fail(fmt::format("opening /{}", f));
        }
        if (::mount(fd_path(null.get()).c_str(), fd_path(t.get()).c_str(), nullptr, MS_BIND, nullptr) < 0)
            return step_fail(fmt::format("masking /{}", f));
    }
    for (const char* d : kMaskedDirs) {
        Fd t(open_in_root(rootfd, d, O_PATH | O_DIRECTORY));
        if (!t) {
            if (errno == ENOENT) continue;
            return step_fail(fmt::format("opening /{}", d));
        }
        if (::mount("tmpfs", fd_path(t.get()).c_str(), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    "size=4k,nr_inodes=1,mode=555") < 0)
            return step_fail(fmt::format("masking /{}", d));
    }
    auto bind_ro = [&](const char* p, bool ro) -> Step {
        Fd t(open_in_root(rootfd, p, O_PATH | O_DIRECTORY));
        if (!t) return errno == ENOENT ? Step{} : step_fail(fmt::format("opening /{}", p));
        std::string at = fd_path(t.get());
        if (::mount(at.c_str(), at.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
            return step_fail(fmt::format("binding /{}", p));
        // The fd names the directory below the new mount; the remount needs the mount.
        Fd top(open_in_root(rootfd, p, O_PATH | O_DIRECTORY));
        if (!top) return step_fail(fmt::format("opening /{}", p));
        unsigned long flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC | (ro ? MS_RDONLY : 0);
        if (::mount(nullptr, fd_path(top.get()).c_str(), nullptr, flags, nullptr) < 0)
            return step_fail(fmt::format("making /{} {}", p, ro ? "read-only" : "writable"));
        return {};
    };
    for (const char* p : kReadOnly)
        if (auto r = bind_ro(p, true); !r) return r;
    for (const char* p : kWritableAgain)
        if (auto r = bind_ro(p, false); !r) return r;
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

Step wait_parent(int sync_fd, const char* what) {
    char go = 0;
    ssize_t n;
    do n = ::read(sync_fd, &go, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) return step_fail(fmt::format("waiting for the parent ({})", what), n == 0 ? EPIPE : errno);
    return {};
}

// Everything the child does between clone and exec, in order.
Step child_setup(const SpawnRequest& req, const HostMounts& host, std::span<const Fd> join, int sync_fd, int console_fd) {
    // First into the cgroups clone3 did not place it in (the v1 hierarchies), before it
    // allocates anything, while it has one thread (see CtGroup::open_self_join).
    if (int e = cgroup::CtGroup::join_self(join)) return step_fail("joining the container's cgroups", e);
    // With a user namespace the child owns no host id until the parent has written its maps;
    // then it becomes the container's root (host id USERNS_BASE) with no host groups.
    if (auto r = wait_parent(sync_fd, "user id maps"); !r) return r;
    if (req.ct->userns) {
        if (int e = proc::become_root()) return step_fail("becoming the container's root", e);
    }
    // If this tool runs chrooted, its root is not the top of the mount namespace, and
    // pivot_root would refuse (or attach the container's root below the namespace root):
    // setns() into the container would then land outside its root. Re-entering our own
    // mount namespace resets root and cwd to the namespace's top.
    {
        Fd self_ns(::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC));
        if (!self_ns || ::setns(self_ns.get(), CLONE_NEWNS) < 0) return step_fail("re-entering the mount namespace at its root");
    }
    // Nothing mounted from here on may reach the host.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) < 0) return step_fail("making / a slave mount");

    // The root file system arrives as a detached copy of VE_ROOT made by the parent: no
    // host path is looked up here (the host's directories need not be searchable by the
    // container's root), and no path inside the container is followed on the host. It is
    // stacked on "/" of this namespace and becomes the root by pivot_root.
    if (::move_mount(host.root.get(), "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0) return step_fail("mounting the root file system");
    const int rootfd = host.root.get();

    if (auto r = mount_at(rootfd, "proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr); !r) return r;
    if (auto r = mount_at(rootfd, "sys", "sysfs", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr); !r)
        return r;
    if (auto r = setup_dev(req, rootfd, host); !r) return r;
    if (auto r = mask_kernel_files(rootfd); !r) return r;

    // pivot_root, not chroot: the old root is detached and unreachable afterwards.
    if (::fchdir(rootfd) < 0) return step_fail("entering the root file system");
    if (::syscall(SYS_pivot_root, ".", ".") < 0) return step_fail("pivot_root");
    if (::umount2(".", MNT_DETACH) < 0) return step_fail("detaching the old root");
    if (::chdir("/") < 0) return step_fail("chdir /");

    {
        const char* what = "";
        if (int e = write_identity(*req.ct, true, true, &what)) return step_fail(what, e);
    }
    if (auto r = loopback_up(); !r) return r;

    // Rooted at the container's nodes, which it joined first: the container sees them as "/".
    if (::unshare(CLONE_NEWCGROUP) < 0) return step_fail("entering a new cgroup namespace");
    // The parent sets up the network meanwhile; init starts when it is ready.
    if (auto r = wait_parent(sync_fd, "the network"); !r) return r;

    Fd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!null) return step_fail("opening /dev/null");
    if (::dup2(null.get(), 0) < 0 || ::dup2(console_fd, 1) < 0 || ::dup2(console_fd, 2) < 0)
        return step_fail("setting up stdio");
    if (::setsid() < 0) return step_fail("setsid");
    proc::close_fds_from(3, {sync_fd});
    // Last, what no process of the container may regain: the capabilities that act on the
    // host as a whole, and the system calls the filter refuses.
    if (int e = drop_bounding_set()) return step_fail("dropping capabilities from the bounding set", e);
    if (int e = install_seccomp(seccomp_program())) return step_fail("installing the seccomp filter", e);
    return {};
}

[[noreturn]] void child_main(const SpawnRequest& req, const HostMounts& host, std::span<const Fd> join, int sync_fd,
                             int console_fd) {
    auto r = child_setup(req, host, join, sync_fd, console_fd);
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

namespace {

Result<Fd> clone_tree(const std::string& path, bool recursive) {
    Fd fd(::open_tree(AT_FDCWD, path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0)));
    if (!fd) return fail_sys(fmt::format("copying the mount of {}", path));
    return fd;
}

Result<HostMounts> host_mounts(const SpawnRequest& req) {
    HostMounts m;
    m.root = BC_TRY(clone_tree(req.rootfs, true));
    for (size_t i = 0; i < std::size(kDevices); ++i) m.dev[i] = BC_TRY(clone_tree(fmt::format("/dev/{}", kDevices[i]), false));
    for (const auto& n : req.ct->devnodes) m.devnodes.push_back(BC_TRY(devnode_tree(*req.ct, n)));
    if (!req.ubc_file.empty()) {
        m.ubc = BC_TRY(clone_tree(req.ubc_file, false));
        struct mount_attr attr{};
        attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
        if (::mount_setattr(m.ubc.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
            return fail_sys(fmt::format("making the copy of {} read-only", req.ubc_file));
    }
    return m;
}

// A process that chroot(2)ed may not create a user namespace (EPERM). Then a helper first
// re-enters its mount namespace (which puts its root back at the namespace's top) and
// clones from there, as a sibling (CLONE_PARENT): the caller is still the new process's
// parent. Returns like fork: 0 in the new process.
Result<proc::Cloned> clone_unchrooted(int flags, int cgroup_fd) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) return fail_sys("pipe");
    Fd rd(p[0]), wr(p[1]);
    auto helper = BC_TRY(proc::clone_process(0));
    if (helper.pid == 0) {
        rd.reset();
        struct {
            pid_t pid;
            int in_cgroup;
            int err;
        } msg{-1, 0, 0};
        Fd ns(::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC));
        if (!ns || ::setns(ns.get(), CLONE_NEWNS) < 0) {
            msg.err = errno;
        } else if (auto c = proc::clone_process(flags | CLONE_PARENT, cgroup_fd); !c) {
            msg.err = c.error().err ? c.error().err : EINVAL;
        } else if (c->pid == 0) {
            return proc::Cloned{0, c->in_cgroup};
        } else {
            msg.pid = c->pid;
            msg.in_cgroup = c->in_cgroup;
        }
        (void)!::write(wr.get(), &msg, sizeof msg);
        ::_exit(0);
    }
    wr.reset();
    struct {
        pid_t pid;
        int in_cgroup;
        int err;
    } msg{-1, 0, EPIPE};
    ssize_t n;
    do n = ::read(rd.get(), &msg, sizeof msg);
    while (n < 0 && errno == EINTR);
    (void)proc::wait_exit_code(helper.pid);
    if (n != static_cast<ssize_t>(sizeof msg)) return fail_sys(EPIPE, "cloning from the mount namespace's root");
    if (msg.pid < 0) return fail_sys(msg.err, "cloning from the mount namespace's root");
    return proc::Cloned{msg.pid, msg.in_cgroup != 0};
}

Result<> write_id_maps(pid_t pid, const CtConfig& ct) {
    std::string map = fmt::format("0 {} {}\n", ct.userns_base, ct.userns_size);
    for (const char* f : {"uid_map", "gid_map"})
        BC_TRYV(fs::write_existing(fmt::format("/proc/{}/{}", pid, f), map));
    return {};
}

}  // namespace

Result<> apply_rlimits(pid_t pid, const CtConfig& ct) {
    struct rlimit64 rl{RLIM64_INFINITY, RLIM64_INFINITY};
    if (const auto& l = ct.limits[BC_RES_lockedpages]; l && l->barrier != kUnlimited) {
        const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
        rl.rlim_cur = rl.rlim_max = l->barrier > RLIM64_INFINITY / page ? RLIM64_INFINITY : l->barrier * page;
    }
    if (::prlimit64(pid, RLIMIT_MEMLOCK, &rl, nullptr) < 0) {
        // Raising a hard limit takes CAP_SYS_RESOURCE, which some hosts withhold even from
        // root: the container keeps the limit this tool has.
        if (errno != EPERM) return fail_sys("setting RLIMIT_MEMLOCK");
        log::debug("RLIMIT_MEMLOCK of the container stays as this tool's: raising it needs CAP_SYS_RESOURCE");
    }
    return {};
}

Result<pid_t> spawn_init(const SpawnRequest& req) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return fail_sys("socketpair");
    Fd parent_end(sv[0]), child_end(sv[1]);
    // The console log holds the current boot only: each start begins it anew.
    Fd console(::open(req.console_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!console) return fail_sys(fmt::format("opening {}", req.console_log));

    auto host = BC_TRY(host_mounts(req));
    auto v2 = BC_TRY(req.cgroup->open_v2());
    auto join = BC_TRY(req.cgroup->open_self_join());
    const int flags = kNamespaces | (req.ct->userns ? CLONE_NEWUSER : 0);
    auto cloned = proc::clone_process(flags, v2.get());
    if (!cloned && cloned.error().err == EPERM && req.ct->userns) cloned = clone_unchrooted(flags, v2.get());
    if (!cloned)
        return std::unexpected(cloned.error().wrap(fmt::format("creating init in new {}mount, PID, UTS, IPC and network namespaces",
                                                               req.ct->userns ? "user, " : "")));
    const pid_t pid = cloned->pid;
    if (pid != 0) log::debug("init cloned, host pid {}", pid);
    if (pid == 0) {
        parent_end.reset();
        // Die with the parent until init is exec'd: no half-built container survives a kill -9.
        // (If the parent is already gone, the read of the "go" byte sees EOF.)
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        child_main(req, host, std::span<const Fd>(join).subspan(cloned->in_cgroup ? 1 : 0), child_end.get(),
                   console.get());
    }
    child_end.reset();
    console.reset();
    host = HostMounts{};
    join.clear();

    // The child may fail at any step meanwhile: then a send fails and its message is
    // waiting on the socket, read below.
    auto release = [&](char step) { return ::send(parent_end.get(), &step, 1, MSG_NOSIGNAL) == 1; };
    // The child's word. A child that failed and closed its end with a byte sent to it
    // unread leaves a pending ECONNRESET, which a SOCK_SEQPACKET read reports before the
    // message queued ahead of it (and clears): read again then.
    auto read_word = [&](char* buf, size_t size, int recv_flags) {
        ssize_t n;
        bool reset = false;
        for (;;) {
            n = ::recv(parent_end.get(), buf, size, recv_flags);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == ECONNRESET && !reset) {
                reset = true;
                continue;
            }
            return n;
        }
    };
    auto abort_child = [&](Error e) -> Result<pid_t> {
        if (req.on_abort) req.on_abort(pid);
        ::kill(pid, SIGKILL);
        (void)proc::wait_exit_code(pid);
        return std::unexpected(std::move(e));
    };
    bool released = true;
    int send_errno = 0;
    if (req.ct->userns)
        if (auto r = write_id_maps(pid, *req.ct); !r) return abort_child(r.error().wrap("writing the user id maps"));
    if (!release('m')) {
        released = false;
        send_errno = errno;
    }
    if (released && req.on_spawned)
        if (auto r = req.on_spawned(pid); !r) return abort_child(r.error());
    if (auto r = apply_rlimits(pid, *req.ct); !r) return abort_child(r.error());
    // The child joins its cgroups itself (child_setup) and builds its root meanwhile.
    if (released && req.make_network)
        if (auto r = req.make_network(pid); !r) {
            // The child may have failed first (its namespaces are gone then): its own word
            // is the better reason.
            char why[1024];
            ssize_t m = read_word(why, sizeof why, MSG_DONTWAIT);
            if (m > 0)
                return abort_child(Error::msg_only(fmt::format("starting init: {}", std::string_view(why, static_cast<size_t>(m)))));
            return abort_child(r.error());
        }
    log::debug("network set up");
    if (released && !release('g')) {
        released = false;
        send_errno = errno;
    }

    char buf[1024];
    ssize_t n = read_word(buf, sizeof buf, 0);
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
