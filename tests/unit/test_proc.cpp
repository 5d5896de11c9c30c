// proc::run, the one runner of other programs (templates' tools and the archive helper).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <thread>

#include "../common/testutil.h"
#include "core/proc.h"

namespace bc {
namespace {

TEST(Run, CapturesTheStreamAskedForAndReturnsTheStatus) {
    const std::vector<std::string> cmd{"/bin/sh", "-c", "echo out; echo err >&2; exit 3"};
    auto out = proc::run(cmd, {.capture = proc::Capture::out});
    ASSERT_TRUE(out) << out.error().msg;
    EXPECT_EQ(out->code, 3);
    EXPECT_EQ(out->output, "out\n");
    auto err = proc::run(cmd, {.capture = proc::Capture::err});
    ASSERT_TRUE(err);
    EXPECT_EQ(err->output, "err\n");
    auto none = proc::run({"/bin/sh", "-c", "exit 0"});
    ASSERT_TRUE(none);
    EXPECT_EQ(none->code, 0);
    EXPECT_EQ(none->output, "");
    auto some = proc::run({"/bin/sh", "-c", "echo 0123456789"}, {.capture = proc::Capture::out, .limit = 4});
    ASSERT_TRUE(some);
    EXPECT_EQ(some->output, "0123") << "only the first `limit` bytes are kept";
}

TEST(Run, KilledIsOneHundredTwentyEightPlusTheSignal) {
    auto r = proc::run({"/bin/sh", "-c", "kill -9 $$"});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->code, 128 + SIGKILL);
}

TEST(Run, ACommandThatCannotStartIsAnErrorWithTheReason) {
    auto missing = proc::run({"/nonexistent/beancounter-test"});
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().msg.find("running /nonexistent/beancounter-test"), std::string::npos) << missing.error().msg;
    EXPECT_NE(missing.error().msg.find(std::strerror(ENOENT)), std::string::npos) << missing.error().msg;
    bctest::TempDir d;
    bctest::write(d / "script", "#!/bin/sh\necho not run\n");  // mode 0644: not executable
    auto denied = proc::run({d / "script"});
    ASSERT_FALSE(denied);
    EXPECT_NE(denied.error().msg.find(std::strerror(EACCES)), std::string::npos) << denied.error().msg;
    EXPECT_FALSE(proc::run({})) << "no command";
    auto path = proc::run({"sh", "-c", "exit 4"});  // a bare name is looked up in PATH
    ASSERT_TRUE(path);
    EXPECT_EQ(path->code, 4);
}

TEST(Run, TheCommandGetsNoDescriptorBeyondItsStdio) {
    int leak = ::open("/dev/null", O_RDONLY);  // not close-on-exec
    ASSERT_GE(leak, 3);
    auto r = proc::run({"/bin/sh", "-c", fmt::format("if [ -e /proc/$$/fd/{} ]; then echo leaked; fi", leak)},
                       {.capture = proc::Capture::out});
    ::close(leak);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->output, "");
}

TEST(Run, TheCommandDiesWithItsCaller) {
    // This test process reaps the orphan (as a host's init would), so that its end is seen.
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    bctest::TempDir d;
    const std::string pidfile = d / "pid";
    pid_t caller = ::fork();
    ASSERT_GE(caller, 0);
    if (caller == 0) {
        (void)proc::run({"/bin/sh", "-c", fmt::format("echo $$ > {}.tmp && mv {}.tmp {} && exec sleep 60", pidfile, pidfile, pidfile)});
        ::_exit(0);
    }
    pid_t cmd = 0;
    for (int i = 0; i < 500 && !cmd; ++i, std::this_thread::sleep_for(std::chrono::milliseconds(10)))
        if (std::filesystem::exists(pidfile)) cmd = std::stoi(bctest::slurp(pidfile));
    ASSERT_GT(cmd, 0);
    ::kill(caller, SIGKILL);
    ASSERT_EQ(::waitpid(caller, nullptr, 0), caller);
    // The command, re-parented to us, is killed: reaped within a few seconds, not after 60.
    int st = 0;
    pid_t got = 0;
    for (int i = 0; i < 500 && got == 0; ++i, std::this_thread::sleep_for(std::chrono::milliseconds(10)))
        got = ::waitpid(cmd, &st, WNOHANG);
    if (got == 0) ::kill(cmd, SIGKILL), ::waitpid(cmd, nullptr, 0);
    ASSERT_EQ(got, cmd) << "the command outlived its caller";
    EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) << st;
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
}

}  // namespace
}  // namespace bc
