// The seccomp filter and the bounding set, applied in a forked child (no root needed: the
// child sets no_new_privs first, as an unprivileged process must).
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>

#include "container/hardening.h"

using namespace bc::container;

namespace {
// Runs f in a child with the filter installed (the program compiled into the tools, as
// containers get it); returns its exit code.
template <class F>
int in_filtered_child(F&& f) {
    pid_t pid = ::fork();
    if (pid == 0) {
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || install_seccomp(seccomp_program()) != 0) ::_exit(100);
        ::_exit(f());
    }
    int st = 0;
    ::waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 200 + WTERMSIG(st);
}
}  // namespace

TEST(Seccomp, CompiledInProgramIsTheOneTheRulesBuild) {
    auto prog = build_seccomp_filter();
    ASSERT_TRUE(prog) << prog.error().msg;
    auto compiled = seccomp_program();
    ASSERT_EQ(compiled.size(), prog->size()) << "seccomp_program.inc is stale";
    ASSERT_GT(compiled.size(), 10u);
    for (size_t i = 0; i < compiled.size(); ++i) {
        EXPECT_EQ(compiled[i].code, (*prog)[i].code) << "instruction " << i;
        EXPECT_EQ(compiled[i].jt, (*prog)[i].jt) << "instruction " << i;
        EXPECT_EQ(compiled[i].jf, (*prog)[i].jf) << "instruction " << i;
        EXPECT_EQ(compiled[i].k, (*prog)[i].k) << "instruction " << i;
    }
}

TEST(Seccomp, RefusesWhatActsOnTheHostWithEperm) {
    struct Case {
        const char* name;
        long nr;
    } cases[] = {{"keyctl", SYS_keyctl},       {"add_key", SYS_add_key},
                 {"bpf", SYS_bpf},             {"perf_event_open", SYS_perf_event_open},
                 {"kexec_load", SYS_kexec_load}, {"init_module", SYS_init_module},
                 {"finit_module", SYS_finit_module}, {"delete_module", SYS_delete_module},
                 {"open_by_handle_at", SYS_open_by_handle_at}, {"userfaultfd", SYS_userfaultfd},
                 {"io_uring_setup", SYS_io_uring_setup}, {"swapon", SYS_swapon},
                 {"syslog", SYS_syslog},       {"clock_settime", SYS_clock_settime}};
    for (const auto& c : cases) {
        // Arguments that would fail differently (EFAULT, EINVAL, EBADF) if the call got through.
        int code = in_filtered_child([&] {
            errno = 0;
            long r = ::syscall(c.nr, -1L, 0L, 0L, 0L, 0L, 0L);
            return r == -1 && errno == EPERM ? 0 : 1;
        });
        EXPECT_EQ(code, 0) << c.name << " is not refused with EPERM";
    }
}

TEST(Seccomp, LeavesWhatAFullInitNeeds) {
    int code = in_filtered_child([] {
        // getpid, and namespaces and mounts, which a full init uses for its services: the
        // kernel answers these (EPERM for lack of privilege is the kernel's, so probe with
        // arguments it rejects as EINVAL first).
        if (::syscall(SYS_getpid) <= 0) return 1;
        errno = 0;
        if (::syscall(SYS_unshare, -1L) != -1 || errno != EINVAL) return 2;
        errno = 0;
        if (::syscall(SYS_setns, -1L, 0L) != -1 || errno != EBADF) return 3;
        errno = 0;
        if (::syscall(SYS_mount, nullptr, nullptr, nullptr, 0xffffffffL, nullptr) != -1 || errno == 0) return 4;
        if (errno == EPERM && ::geteuid() == 0) return 5;
        errno = 0;
        if (::syscall(SYS_name_to_handle_at, -1L, "", nullptr, nullptr, 0L) != -1 || errno == EPERM) return 6;
        return 0;
    });
    EXPECT_EQ(code, 0);
}

TEST(Seccomp, EveryDeniedCallIsKnownAndExplained) {
    std::set<std::string_view> names;
    for (const auto& d : denied_syscalls()) {
        EXPECT_FALSE(d.why.empty()) << d.name;
        EXPECT_TRUE(names.insert(d.name).second) << "listed twice: " << d.name;
    }
    for (auto must : {"kexec_load", "init_module", "open_by_handle_at", "keyctl", "bpf", "perf_event_open"})
        EXPECT_TRUE(names.count(must)) << must;
    for (auto never : {"mount", "umount2", "unshare", "setns", "pivot_root", "reboot", "sethostname", "clone", "clone3"})
        EXPECT_FALSE(names.count(never)) << never << " is needed by a full init";
}

TEST(BoundingSet, DropsOnlyWhatIsListed) {
    pid_t pid = ::fork();
    if (pid == 0) {
        if (drop_bounding_set() != 0) ::_exit(1);
        for (const auto& c : dropped_capabilities())
            if (::prctl(PR_CAPBSET_READ, c.cap, 0, 0, 0) != 0) ::_exit(2);
        // Kept: what a full init needs (a sample).
        for (int keep : {CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SETUID, CAP_SYS_BOOT, CAP_CHOWN})
            if (::prctl(PR_CAPBSET_READ, keep, 0, 0, 0) != 1) ::_exit(3);
        ::_exit(0);
    }
    int st = 0;
    ::waitpid(pid, &st, 0);
    if (::geteuid() != 0) GTEST_SKIP() << "dropping from the bounding set needs CAP_SETPCAP";
    EXPECT_EQ(WEXITSTATUS(st), 0);
}
