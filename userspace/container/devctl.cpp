#include "container/devctl.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/proc.h"

namespace bc::container {

namespace {
int open_beneath(int dirfd, const char* rel, int flags) {
    struct open_how how{};
    how.flags = static_cast<__u64>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    return static_cast<int>(::syscall(SYS_openat2, dirfd, rel, &how, sizeof how));
}
}  // namespace

Result<DeviceRule> devnode_rule(const DevNode& n) {
    std::string path = "/dev/" + n.name;
    struct stat st{};
    if (::stat(path.c_str(), &st) < 0) return fail_sys(fmt::format("device node {}", path));
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) return fail(fmt::format("{} is not a device node", path));
    return DeviceRule{S_ISBLK(st.st_mode) ? 'b' : 'c', major(st.st_rdev), minor(st.st_rdev), n.access};
}

Result<std::vector<DeviceRule>> effective_device_rules(const CtConfig& ct) {
    std::vector<DeviceRule> rules = default_device_rules();
    merge_device_rules(rules, ct.devices);
    for (const auto& n : ct.devnodes) merge_device_rules(rules, {BC_TRY(devnode_rule(n))});
    return rules;
}

Result<Fd> devnode_tree(const CtConfig& ct, const DevNode& n) {
    std::string path = "/dev/" + n.name;
    struct stat st{};
    if (::stat(path.c_str(), &st) < 0) return fail_sys(fmt::format("device node {}", path));
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) return fail(fmt::format("{} is not a device node", path));
    // A node of its own, on a tmpfs that is mounted nowhere (it lives as long as the node's
    // mount): made by the host, so usable (a node on a container's own tmpfs is not), and
    // owned by the container's root as the host's node is by the host's.
    Fd fs(::fsopen("tmpfs", FSOPEN_CLOEXEC));
    if (!fs || ::fsconfig(fs.get(), FSCONFIG_SET_STRING, "size", "4k", 0) < 0 ||
        ::fsconfig(fs.get(), FSCONFIG_SET_STRING, "mode", "0755", 0) < 0 ||
        ::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
        return fail_sys("making a tmpfs for a device node");
    Fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC));
    if (!mnt) return fail_sys("mounting a tmpfs for a device node");
    auto shift = [&](unsigned id) { return !ct.userns ? id : ct.userns_base + (id < ct.userns_size ? id : 0); };
    if (::mknodat(mnt.get(), "node", st.st_mode & (S_IFMT | 0777), st.st_rdev) < 0 ||
        ::fchownat(mnt.get(), "node", shift(st.st_uid), shift(st.st_gid), AT_SYMLINK_NOFOLLOW) < 0 ||
        ::fchmodat(mnt.get(), "node", st.st_mode & 0777, 0) < 0)
        return fail_sys(fmt::format("making a node for {}", path));
    Fd t(::open_tree(mnt.get(), "node", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
    if (!t) return fail_sys(fmt::format("copying the node of {}", path));
    if ((n.access & kDevWrite) == 0) {
        struct mount_attr attr{};
        attr.attr_set = MOUNT_ATTR_RDONLY;
        if (::mount_setattr(t.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) return fail_sys(fmt::format("flags of {}", path));
    }
    return t;
}

int place_devnode(int dev_fd, const std::string& name, int tree, const char** what) {
    // Directories first ("net" of "net/tun"), each opened without following symlinks.
    Fd dir(::fcntl(dev_fd, F_DUPFD_CLOEXEC, 0));
    size_t pos = 0;
    for (size_t slash; (slash = name.find('/', pos)) != std::string::npos; pos = slash + 1) {
        std::string part = name.substr(pos, slash - pos);
        if (::mkdirat(dir.get(), part.c_str(), 0755) < 0 && errno != EEXIST) return *what = "creating a directory", errno;
        Fd next(open_beneath(dir.get(), part.c_str(), O_PATH | O_DIRECTORY));
        if (!next) return *what = "opening a directory", errno;
        dir = std::move(next);
    }
    std::string leaf = name.substr(pos);
    Fd target(::openat(dir.get(), leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!target) return *what = "creating the node", errno;
    if (::move_mount(tree, "", target.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return *what = "mounting the node", errno;
    return 0;
}

Result<> apply_devnodes_live(const CtConfig& ct, pid_t init_pid, const std::vector<DevNode>& add,
                             const std::vector<std::string>& remove) {
    std::vector<Fd> trees;
    for (const auto& n : add) trees.push_back(BC_TRY(devnode_tree(ct, n)));
    Fd mnt(::open(fmt::format("/proc/{}/ns/mnt", init_pid).c_str(), O_RDONLY | O_CLOEXEC));
    Fd user(::open(fmt::format("/proc/{}/ns/user", init_pid).c_str(), O_RDONLY | O_CLOEXEC));
    Fd root(::open(fmt::format("/proc/{}/root", init_pid).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!mnt || !root || !user) return fail_sys("opening the container's mount namespace");
    // A child joins the container's mount namespace (this process keeps the host's) and
    // works below the container's /dev only, through fds resolved beneath it.
    auto r = proc::in_child([&]() -> std::string {
        const char* what = "joining the mount namespace";
        int err = 0;
        if (ct.userns && ::setns(user.get(), CLONE_NEWUSER) < 0)
            what = "joining the user namespace", err = errno;
        else if (ct.userns && (err = proc::become_root()))
            what = "becoming the container's root";
        if (!err && ::setns(mnt.get(), CLONE_NEWNS) < 0) err = errno;
        Fd dev(err ? -1 : open_beneath(root.get(), "dev", O_PATH | O_DIRECTORY));
        if (!err && !dev) what = "opening /dev", err = errno;
        // The node's mount, then the empty file under it, from its directory (this process
        // is outside the container's PID namespace: its /proc has no "self" here).
        auto drop = [&](const std::string& name) -> int {
            auto slash = name.rfind('/');
            Fd dir(slash == std::string::npos ? ::fcntl(dev.get(), F_DUPFD_CLOEXEC, 0)
                                              : open_beneath(dev.get(), name.substr(0, slash).c_str(), O_PATH | O_DIRECTORY));
            if (!dir) return errno == ENOENT ? 0 : errno;
            std::string leaf = slash == std::string::npos ? name : name.substr(slash + 1);
            if (::fchdir(dir.get()) < 0) return errno;
            if (::umount2(leaf.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT) return errno;
            if (::unlinkat(dir.get(), leaf.c_str(), 0) < 0 && errno != ENOENT) return errno;
            return 0;
        };
        for (size_t i = 0; !err && i < remove.size(); ++i)
            if ((err = drop(remove[i]))) what = "removing a node";
        for (size_t i = 0; !err && i < add.size(); ++i) {
            // Present already (a change of access): replaced.
            if ((err = drop(add[i].name))) what = "replacing a node";
            if (!err) err = place_devnode(dev.get(), add[i].name, trees[i].get(), &what);
        }
        return err ? fmt::format("{}: {}", what, std::strerror(err)) : std::string();
    });
    if (!r) return std::unexpected(r.error().wrap("placing device nodes in the container"));
    return {};
}

}  // namespace bc::container
