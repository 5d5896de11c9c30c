#include "core/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace bc::fs {

Result<std::string> read_file(const std::string& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail_sys(fmt::format("reading {}", path));
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail_sys(fmt::format("reading {}", path));
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

Result<bool> read_file_if_exists(const std::string& path, std::string& out) {
    auto r = read_file(path);
    if (r) {
        out = std::move(*r);
        return true;
    }
    if (r.error().err == ENOENT) return false;
    return std::unexpected(r.error());
}

Result<> write_existing(const std::string& path, std::string_view data) {
    Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) return fail_sys(fmt::format("opening {}", path));
    ssize_t n;
    do n = ::write(fd.get(), data.data(), data.size());
    while (n < 0 && errno == EINTR);
    if (n < 0) return fail_sys(fmt::format("writing '{}' to {}", data, path));
    if (static_cast<size_t>(n) != data.size()) return fail(fmt::format("short write to {}", path));
    return {};
}

static Result<> fsync_dir_of(const std::string& path) {
    auto slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!d) return fail_sys(fmt::format("opening {}", dir));
    if (::fsync(d.get()) < 0) return fail_sys(fmt::format("fsync {}", dir));
    return {};
}

Result<> write_atomic(const std::string& path, std::string_view data, mode_t mode, Sync sync) {
    std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode));
    if (!fd) return fail_sys(fmt::format("creating {}", tmp));
    auto cleanup_fail = [&](std::string_view what) {
        int e = errno;
        ::unlink(tmp.c_str());
        return fail_sys(e, fmt::format("{} {}", what, tmp));
    };
    size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::write(fd.get(), data.data() + off, data.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return cleanup_fail("writing");
        }
        off += static_cast<size_t>(n);
    }
    if (::fchmod(fd.get(), mode) < 0) return cleanup_fail("chmod");
    if (sync == Sync::durable && ::fsync(fd.get()) < 0) return cleanup_fail("fsync");
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) < 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        return fail_sys(e, fmt::format("renaming {} to {}", tmp, path));
    }
    return sync == Sync::durable ? fsync_dir_of(path) : Result<>();
}

Result<> mkdir_p(const std::string& path, mode_t mode) {
    if (path.empty()) return fail("mkdir: empty path");
    // Mostly the parents exist: one call then, and a walk from the top only when one is missing.
    if (::mkdir(path.c_str(), mode) == 0) return {};
    if (errno == EEXIST) {
        if (!is_dir(path)) return fail(fmt::format("{} exists and is not a directory", path));
        return {};
    }
    if (errno != ENOENT) return fail_sys(fmt::format("mkdir {}", path));
    std::string cur;
    size_t pos = 0;
    while (pos <= path.size()) {
        size_t next = path.find('/', pos);
        if (next == std::string::npos) next = path.size();
        cur = path.substr(0, next);
        pos = next + 1;
        if (cur.empty()) continue;
        if (::mkdir(cur.c_str(), mode) < 0 && errno != EEXIST) return fail_sys(fmt::format("mkdir {}", cur));
    }
    if (!is_dir(path)) return fail(fmt::format("{} exists and is not a directory", path));
    return {};
}

namespace {
// Depth-first removal below an open directory; refuses to leave the device of the top.
Result<> remove_below(int dirfd, const std::string& shown, dev_t dev) {
    int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) return fail_sys(fmt::format("dup {}", shown));
    DIR* d = ::fdopendir(dup);
    if (!d) {
        ::close(dup);
        return fail_sys(fmt::format("opendir {}", shown));
    }
    // Names and d_type: only entries that may be directories need a stat (for st_dev).
    std::vector<std::pair<std::string, bool>> names;
    while (struct dirent* e = ::readdir(d)) {
        std::string_view n = e->d_name;
        if (n == "." || n == "..") continue;
        names.emplace_back(n, e->d_type == DT_DIR || e->d_type == DT_UNKNOWN);
    }
    ::closedir(d);
    for (const auto& [n, maybe_dir] : names) {
        struct stat st{};
        std::string p = shown + "/" + n;
        if (maybe_dir && ::fstatat(dirfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT) continue;
            return fail_sys(fmt::format("stat {}", p));
        }
        if (maybe_dir && S_ISDIR(st.st_mode)) {
            if (st.st_dev != dev) return fail(fmt::format("refusing to remove {}: it is a mount point", p));
            Fd sub(::openat(dirfd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!sub) return fail_sys(fmt::format("opening {}", p));
            BC_TRYV(remove_below(sub.get(), p, dev));
            if (::unlinkat(dirfd, n.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT)
                return fail_sys(fmt::format("rmdir {}", p));
        } else if (::unlinkat(dirfd, n.c_str(), 0) < 0 && errno != ENOENT) {
            return fail_sys(fmt::format("unlink {}", p));
        }
    }
    return {};
}
}  // namespace

Result<> remove_tree(const std::string& path) {
    struct stat st;
    if (::lstat(path.c_str(), &st) < 0) {
        if (errno == ENOENT) return {};
        return fail_sys(fmt::format("stat {}", path));
    }
    if (!S_ISDIR(st.st_mode)) {
        if (::unlink(path.c_str()) < 0 && errno != ENOENT) return fail_sys(fmt::format("unlink {}", path));
        return {};
    }
    if (BC_TRY(is_mount_point(path))) return fail(fmt::format("refusing to remove {}: it is a mount point", path));
    Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return fail_sys(fmt::format("opening {}", path));
    BC_TRYV(remove_below(fd.get(), path, st.st_dev));
    if (::rmdir(path.c_str()) < 0 && errno != ENOENT) return fail_sys(fmt::format("rmdir {}", path));
    return {};
}

namespace {
std::string trash_beside(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return (slash == std::string::npos ? std::string(".") : path.substr(0, slash)) + "/" + kTrashDir;
}

// The background remover, a child not waited for: a short-lived caller (beanctl) exits
// long before it does, and it is then reparented to the host's init, which reaps it. (A
// grandchild whose parent is reaped at once would be nobody's zombie even under a
// long-lived caller, but a destroy would wait for that parent, which is dear where fork()
// is slow.) It runs this process's code after fork() without exec, which a single-threaded
// caller allows.
[[noreturn]] void empty_trash(const std::string& trash) {
    ::setsid();
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int i = 0; null >= 0 && i < 3; i++) ::dup2(null, i);
    ::close_range(3, ~0U, 0);  // the container's lock above all: it must go with beanctl
    if (trash.front() == '/' && ::chdir("/") < 0) ::_exit(0);  // holding no directory busy
    Fd dir(::open(trash.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir || ::flock(dir.get(), LOCK_EX) < 0) ::_exit(0);
    // Until a pass removes nothing: what cannot be removed waits for the next remover.
    for (bool removed = true; removed;) {
        removed = false;
        auto names = list_dir(trash);
        if (!names) break;
        for (const auto& n : *names)
            if (remove_tree(trash + "/" + n)) removed = true;
    }
    // The directory itself stays, empty, for the next one: making a directory costs an
    // ext4 file system more than anything else a destroy does (its allocator looks for an
    // inode number that was not freed recently).
    ::_exit(0);
}
}  // namespace

Result<std::string> move_to_trash(const std::string& path) {
    struct stat st;
    if (::lstat(path.c_str(), &st) < 0) {
        if (errno == ENOENT) return std::string();
        return fail_sys(fmt::format("stat {}", path));
    }
    if (!S_ISDIR(st.st_mode) || BC_TRY(is_mount_point(path))) {
        BC_TRYV(remove_tree(path));
        return std::string();
    }
    const std::string trash = trash_beside(path);
    const std::string name = path.substr(path.find_last_of('/') + 1);
    const std::string to = fmt::format("{}/{}.{}", trash, name, ::getpid());
    bool moved = ::rename(path.c_str(), to.c_str()) == 0;
    if (!moved && errno == ENOENT && (::mkdir(trash.c_str(), 0700) == 0 || errno == EEXIST))
        moved = ::rename(path.c_str(), to.c_str()) == 0;
    if (!moved) {  // EXDEV and the like: here and now
        BC_TRYV(remove_tree(path));
        return std::string();
    }
    return to;
}

Result<> empty_trash_later(const std::string& moved) {
    if (moved.empty()) return {};
    pid_t child = ::fork();
    if (child < 0) return remove_tree(moved);  // with no process to do it, we do
    if (child == 0) empty_trash(moved.substr(0, moved.find_last_of('/')));
    return {};
}

bool wait_removed_later(const std::string& path, int timeout_ms) {
    const std::string trash = trash_beside(path);
    for (int waited = 0;; waited += 10) {
        auto names = list_dir(trash);
        if (!names || names->empty()) return true;
        if (waited >= timeout_ms) return false;
        ::usleep(10 * 1000);
    }
}

bool exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

bool is_dir(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<std::vector<std::string>> list_subdirs(const std::string& path) {
    DIR* d = ::opendir(path.c_str());
    if (!d) return fail_sys(fmt::format("listing {}", path));
    std::vector<std::string> out;
    while (struct dirent* e = ::readdir(d)) {
        std::string_view n = e->d_name;
        if (n == "." || n == "..") continue;
        bool dir = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN) {
            struct stat st;
            dir = ::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        }
        if (dir) out.emplace_back(n);
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

Result<std::vector<std::string>> list_dir(const std::string& path) {
    DIR* d = ::opendir(path.c_str());
    if (!d) return fail_sys(fmt::format("listing {}", path));
    std::vector<std::string> out;
    while (struct dirent* e = ::readdir(d)) {
        std::string_view n = e->d_name;
        if (n != "." && n != "..") out.emplace_back(n);
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

std::string unescape_mountinfo(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size()) {
            auto oct = s.substr(i + 1, 3);
            if (oct.size() == 3 && std::all_of(oct.begin(), oct.end(), [](char c) { return c >= '0' && c <= '7'; })) {
                out += static_cast<char>((oct[0] - '0') * 64 + (oct[1] - '0') * 8 + (oct[2] - '0'));
                i += 3;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}

Result<std::vector<std::string>> mount_points() {
    auto text = BC_TRY(read_file("/proc/self/mountinfo"));
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string id, parent, devno, root, mp;
        if (ls >> id >> parent >> devno >> root >> mp) out.push_back(unescape_mountinfo(mp));
    }
    return out;
}

Result<bool> is_mount_point(const std::string& path) {
    // The kernel says so (statx, Linux 5.8): one system call, where the mount table grows
    // with the containers running and `list` asks for each of them.
    struct statx sx {};
    if (::statx(AT_FDCWD, path.c_str(), AT_NO_AUTOMOUNT, STATX_TYPE, &sx) == 0) {
        if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
    } else if (errno == ENOENT) {
        return false;
    }
    // Older kernels: the path, resolved, among the mount table's mount points.
    auto rp = real_path(path);
    if (!rp) return rp.error().err == ENOENT ? Result<bool>(false) : std::unexpected(rp.error());
    auto mps = BC_TRY(mount_points());
    return std::find(mps.begin(), mps.end(), *rp) != mps.end();
}

std::string join(std::string_view a, std::string_view b) {
    std::string out(a);
    if (out.empty() || out.back() != '/') out += '/';
    while (!b.empty() && b.front() == '/') b.remove_prefix(1);
    out += b;
    return out;
}

Result<std::string> real_path(const std::string& path) {
    char buf[PATH_MAX];
    if (!::realpath(path.c_str(), buf)) return fail_sys(fmt::format("resolving {}", path));
    return std::string(buf);
}

}  // namespace bc::fs
