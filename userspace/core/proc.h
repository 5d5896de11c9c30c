// Process helpers: identity that survives PID reuse, pidfds, and fd hygiene.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/fd.h"

namespace bc::proc {

// Start time of a process in clock ticks since boot (/proc/<pid>/stat field 22). Together
// with the pid it names one process for the life of the system.
Result<std::uint64_t> start_time(pid_t pid);
Result<Fd> pidfd_open(pid_t pid);
// Waits until the process behind a pidfd exits or timeout_ms passes (-1 = forever).
// True if it exited.
Result<bool> pidfd_wait(const Fd& pidfd, int timeout_ms);
Result<> pidfd_signal(const Fd& pidfd, int sig);
// A fork-like clone(2) with extra flags (namespaces). With a cgroup2 directory fd, the child
// starts life in that cgroup (clone3 CLONE_INTO_CGROUP): nothing else is ever charged for it,
// and no cgroup.procs write (which waits for an RCU grace period) is needed. On kernels
// without clone3 the child starts in the caller's cgroups and in_cgroup is false.
struct Cloned {
    pid_t pid = -1;        // 0 in the child
    bool in_cgroup = false;
};
Result<Cloned> clone_process(int flags, int cgroup_fd = -1);
// In a process that has joined a user namespace: becomes its root (ids 0, no supplementary
// groups). Returns 0 or an errno value.
int become_root();
// Runs body in a forked child (which may join namespaces without touching this process)
// and waits for it. body returns "" on success, else the reason, which becomes the error.
Result<> in_child(const std::function<std::string()>& body);
// Closes every fd >= first except those listed (used in a child before exec).
void close_fds_from(int first, const std::vector<int>& keep = {});
// What a pipe gives until EOF (a child's message), the first `limit` bytes kept.
std::string read_to_eof(int fd, size_t limit = 65536);
// waitpid that retries EINTR; returns the shell-style exit code (128+signal when killed).
Result<int> wait_exit_code(pid_t pid);

enum class Capture { none, out, err };
struct RunOptions {
    Capture capture = Capture::none;  // which of its output the caller gets back
    size_t limit = 1 << 20;           // bytes of it kept
};
struct Finished {
    int code = 0;        // shell-style: 128+signal when killed
    std::string output;  // what it wrote to the captured stream
};
// Runs argv[0] (a path, or a name looked up in PATH) and waits for it. Its stdin and what is
// not captured are this process's; it gets no other descriptor of ours, and it is killed if
// this process dies first (a beanctl killed half-way leaves no helper writing on). An error
// if it could not be started (with the reason: no such file, not executable...); any exit
// status is the caller's to judge.
Result<Finished> run(const std::vector<std::string>& argv, const RunOptions& o = {});
// Directory of the running executable (for finding helpers installed beside it).
std::string self_dir();
// beancounter's helper program `name` (bcinit, bctar): the one beside the running program
// (a build tree), else the installed one in BC_LIBEXEC_DIR.
Result<std::string> find_helper(std::string_view name);
}  // namespace bc::proc
