// The debian-12 template: debootstrap'd Debian with systemd as the container's init.
// Opt-in (BC_TEST_DEBIAN=1): building the template takes minutes. BC_TEST_TEMPLATE_CACHE=DIR
// reuses a debian-12.tar.gz built earlier.
#include <sys/ipc.h>
#include <sys/shm.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "fixture.h"

using namespace bctest;

TEST_F(BeanctlTest, Debian12WithSystemd) {
    if (!std::getenv("BC_TEST_DEBIAN")) GTEST_SKIP() << "set BC_TEST_DEBIAN=1 to build and boot the debian-12 template";
    if (const char* cache = std::getenv("BC_TEST_TEMPLATE_CACHE")) {
        std::filesystem::copy_file(std::string(cache) + "/debian-12.tar.gz", template_dir() + "/debian-12.tar.gz",
                                   std::filesystem::copy_options::skip_existing);
    }
    std::string id = ct(1201);
    auto r = beanctl({"-v", "create", id, "--ostemplate", "debian-12", "--hostname", "bc-debian"});
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_EQ(beanctl({"start", id}).code, 0);

    // systemd boots to a steady state: "running", or "degraded" if some unit needs hardware.
    std::string state;
    for (int i = 0; i < 120; ++i) {
        state = beanctl({"exec", id, "systemctl", "is-system-running"}).out;
        if (state == "running\n" || state == "degraded\n") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    EXPECT_TRUE(state == "running\n" || state == "degraded\n") << state;
    if (state == "degraded\n") std::cerr << beanctl({"exec", id, "systemctl", "--failed", "--no-pager"}).out;

    r = beanctl({"exec", id, "ps", "-o", "pid=,comm=", "-p", "1"});
    EXPECT_EQ(r.out, "      1 systemd\n") << r.out;
    EXPECT_EQ(beanctl({"exec", id, "hostname"}).out, "bc-debian\n");
    EXPECT_EQ(beanctl({"exec", id, "cat", "/proc/1/cgroup"}).code, 0);
    // The container's beancounters survive systemd's own mounts, and show its row only.
    r = beanctl({"exec", id, "cat", "/dev/user_beancounters"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("Version: 2.5\n", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("\n     1201:  kmemsize"), std::string::npos) << r.out;

    // ipcs (util-linux) inside does not see a segment made on the host.
    int shm = ::shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    ASSERT_GE(shm, 0);
    r = beanctl({"exec", id, "ipcs", "-m"});
    std::string host = run({"ipcs", "-m"}).out;
    ::shmctl(shm, IPC_RMID, nullptr);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(host.find(std::to_string(shm)), std::string::npos) << host;
    EXPECT_EQ(r.out.find(" " + std::to_string(shm) + " "), std::string::npos) << r.out;

    // systemd halts on SIGRTMIN+3 (the template's stop signal), well within the timeout.
    r = beanctl({"-v", "stop", id, "--timeout", "60"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err.find("did not stop"), std::string::npos) << r.err;
    EXPECT_EQ(beanctl({"status", id}).out, "CTID 1201 exist unmounted down\n");
    ASSERT_EQ(beanctl({"destroy", id}).code, 0);
}
