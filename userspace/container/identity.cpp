#include "container/identity.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fmt/format.h>

#include "container/state.h"
#include "core/fd.h"
#include "core/proc.h"

namespace bc::container {

namespace {
bool write_all(int fd, const std::string& s) { return ::write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size()); }

// The regular file at path (not a symlink) holds exactly text.
bool file_says(const char* path, const std::string& text) {
    Fd f(::open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    struct stat st;
    if (!f || ::fstat(f.get(), &st) < 0 || !S_ISREG(st.st_mode) || static_cast<size_t>(st.st_size) != text.size())
        return false;
    std::string have(text.size() + 1, '\0');  // one byte more: a file that grew meanwhile differs
    return ::read(f.get(), have.data(), have.size()) == static_cast<ssize_t>(text.size()) &&
           have.compare(0, text.size(), text) == 0;
}
}  // namespace

int write_identity(const CtConfig& ct, bool hostname, bool resolver, const char** what) {
    struct stat st;
    const bool have_etc = ::lstat("/etc", &st) == 0 && S_ISDIR(st.st_mode);
    if (hostname) {
        const std::string& h = ct.hostname;
        if (::sethostname(h.data(), h.size()) < 0) return *what = "setting the host name", errno;
        // Distribution inits (systemd) set the host name from /etc/hostname. Rewritten only
        // when it says something else: truncating a file frees its block, which on a file
        // system mounted with -o discard waits for the device at every start.
        if (have_etc && !file_says("/etc/hostname", h + "\n")) {
            Fd f(::open("/etc/hostname", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644));
            if (!f || !write_all(f.get(), h + "\n")) return *what = "writing /etc/hostname", errno;
        }
    }
    if (resolver && have_etc && (!ct.nameservers.empty() || !ct.searchdomains.empty())) {
        std::string text = "# Written by beancounter from NAMESERVER and SEARCHDOMAIN of the container's config.\n";
        if (!ct.searchdomains.empty()) {
            text += "search";
            for (const auto& d : ct.searchdomains) text += " " + d;
            text += "\n";
        }
        for (const auto& n : ct.nameservers) text += "nameserver " + n + "\n";
        // A new file renamed over the old one: a symlink there (a resolver's stub) is
        // replaced, not followed.
        if (file_says("/etc/resolv.conf", text)) return 0;
        const char* tmp = "/etc/.resolv.conf.beancounter";
        ::unlink(tmp);
        Fd f(::open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
        if (!f || !write_all(f.get(), text) || ::fsync(f.get()) < 0) return *what = "writing /etc/resolv.conf", errno;
        if (::rename(tmp, "/etc/resolv.conf") < 0) return *what = "replacing /etc/resolv.conf", errno;
    }
    return 0;
}

Result<> apply_identity_live(const Settings& s, const CtConfig& ct, bool hostname, bool resolver) {
    auto init = BC_TRY(find_init(s, ct.id));
    if (!init) return fail(fmt::format("container {} is not running", ct.id));
    auto r = proc::in_child([&]() -> std::string {
        const char* what = "joining the container";
        int err = 0;
        const int ns = CLONE_NEWNS | CLONE_NEWUTS | (ct.userns ? CLONE_NEWUSER : 0);
        if (::setns(init->pidfd.get(), ns) < 0)
            err = errno;
        else if (ct.userns && (err = proc::become_root()))
            what = "becoming the container's root";
        if (!err && ::chdir("/") < 0) err = errno;
        if (!err) err = write_identity(ct, hostname, resolver, &what);
        return err ? fmt::format("{}: {}", what, std::strerror(err)) : std::string();
    });
    if (!r) return std::unexpected(r.error().wrap(fmt::format("container {}", ct.id)));
    return {};
}

}  // namespace bc::container
