#include "container/lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/fs.h"

namespace bc::container {

Result<CtLock> CtLock::acquire(const Settings& s, Ctid id) {
    BC_TRYV(fs::mkdir_p(s.lock_dir(), 0700));
    std::string path = s.lock_path(id);
    for (int attempt = 0; attempt < 10; ++attempt) {
        Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (!fd) return fail_sys(fmt::format("opening lock {}", path));
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
            if (errno != EWOULDBLOCK) return fail_sys(fmt::format("locking {}", path));
            char buf[32] = {};
            ssize_t n = ::pread(fd.get(), buf, sizeof buf - 1, 0);
            std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("?");
            while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
            return fail(Error{EWOULDBLOCK, fmt::format("container {} is locked by another operation (pid {})", id, holder)});
        }
        // The file may have been unlinked by a destroy between open and flock.
        struct stat a, b;
        if (::fstat(fd.get(), &a) < 0) return fail_sys(fmt::format("stat {}", path));
        if (::stat(path.c_str(), &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev) continue;
        // Written over the previous holder's in place, padded to the widest pid: the file
        // keeps its size and its block (a truncate would free the block and the write take a
        // new one, which on a file system mounted with `discard` waits for the device).
        std::string me = fmt::format("{:<10}\n", ::getpid());
        (void)!::pwrite(fd.get(), me.data(), me.size(), 0);
        return CtLock(std::move(fd), path);
    }
    return fail(fmt::format("could not lock {}: it keeps being replaced", path));
}

void CtLock::remove() { ::unlink(path_.c_str()); }

}  // namespace bc::container
