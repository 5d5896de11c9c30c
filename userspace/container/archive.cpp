#include "container/archive.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/proc.h"

namespace bc::container {

namespace {
// Runs bctar with these arguments; its one line of stderr is the reason of a failure.
Result<> run_bctar(std::string_view what, const std::string& a, const std::string& b) {
    const std::string helper = BC_TRY(proc::find_helper("bctar"));
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) return fail_sys("pipe");
    Fd rd(p[0]), wr(p[1]);
    const char* argv[] = {helper.c_str(), what.data(), a.c_str(), b.c_str(), nullptr};
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) return fail_sys("fork");
    if (pid == 0) {
        // Dies with beanctl: a create killed half-way leaves no helper writing on.
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || ::getppid() != parent) ::_exit(127);
        if (::dup2(wr.get(), STDERR_FILENO) < 0) ::_exit(127);
        proc::close_fds_from(3);
        ::execv(argv[0], const_cast<char* const*>(argv));
        ::_exit(127);
    }
    wr.reset();
    std::string err = proc::read_to_eof(rd.get());
    const int code = BC_TRY(proc::wait_exit_code(pid));
    while (!err.empty() && err.back() == '\n') err.pop_back();
    if (code == 0) return {};
    if (code == 127 && err.empty()) return fail(fmt::format("cannot run {}", helper));
    return fail(err.empty() ? fmt::format("{} {} failed (exit status {})", helper, what, code) : err);
}
}  // namespace

Result<> pack_tar_gz(const std::string& dir, const std::string& out_path) { return run_bctar("pack", dir, out_path); }

Result<> unpack(const std::string& archive_path, const std::string& dest_dir) {
    return run_bctar("unpack", archive_path, dest_dir);
}

}  // namespace bc::container
