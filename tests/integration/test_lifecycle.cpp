// The container lifecycle on the busybox template, end to end, as root.
#include <signal.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <sstream>
#include <fstream>
#include <thread>

#include "fixture.h"

using namespace bctest;

namespace {
bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

std::string hostname() {
    char buf[256] = {};
    ::gethostname(buf, sizeof buf - 1);
    return buf;
}
}  // namespace

TEST_F(BeanctlTest, FullLifecycle) {
    std::string id = ct(1101);
    auto r = beanctl({"create", id, "--ostemplate", "busybox", "--hostname", "bc-lifecycle"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(beanctl({"status", id}).out, "CTID 1101 exist unmounted down\n");
    EXPECT_TRUE(std::filesystem::exists(lib() + "/private/1101/bin/busybox"));
    EXPECT_TRUE(contains(slurp(etc() + "/ct/1101.conf"), "OSTEMPLATE=\"busybox\""));

    r = beanctl({"start", id});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(beanctl({"status", id}).out, "CTID 1101 exist mounted running\n");
    EXPECT_EQ(beanctl({"start", id}).code, 1) << "a second start is refused";

    // PID 1 is the template's init, and no host process is visible.
    r = beanctl({"exec", id, "ps", "-o", "pid,comm"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(contains(r.out, "    1 init")) << r.out;
    int lines = 0;
    for (char c : r.out) lines += c == '\n';
    EXPECT_LE(lines, 4) << "header, init, ps (and at most one more):\n" << r.out;
    EXPECT_FALSE(contains(r.out, "bc_integration")) << r.out;
    EXPECT_EQ(beanctl({"exec", id, "sh", "-c", "ls /proc | grep -c '^[0-9]'"}).out.size() <= 3, true);

    // UTS: its own host name.
    r = beanctl({"exec", id, "hostname"});
    EXPECT_EQ(r.out, "bc-lifecycle\n");
    EXPECT_NE(r.out, hostname() + "\n");
    EXPECT_EQ(beanctl({"exec", id, "cat", "/etc/hostname"}).out, "bc-lifecycle\n");

    // IPC: a host segment is invisible inside (what ipcs reads; Debian's busybox-static
    // has no ipcs applet).
    int shm = ::shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    ASSERT_GE(shm, 0);
    auto count_segments = [](const std::string& table) {
        int n = 0;
        for (char c : table) n += c == '\n';
        return n - 1;  // minus the header line
    };
    std::string host_table = slurp("/proc/sysvipc/shm");
    r = beanctl({"exec", id, "cat", "/proc/sysvipc/shm"});
    ::shmctl(shm, IPC_RMID, nullptr);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_GE(count_segments(host_table), 1) << host_table;
    EXPECT_EQ(count_segments(r.out), 0) << r.out;

    // Network: only lo, and it is up.
    r = beanctl({"exec", id, "cat", "/proc/net/dev"});
    EXPECT_TRUE(contains(r.out, "lo:")) << r.out;
    int ifaces = 0;
    for (size_t p = 0; (p = r.out.find(':', p)) != std::string::npos; ++p) ++ifaces;
    EXPECT_EQ(ifaces, 1) << r.out;
    EXPECT_EQ(beanctl({"exec", id, "ping", "-c", "1", "-W", "2", "127.0.0.1"}).code, 0);

    // Root: pivot_root'ed, read-only /sys, minimal /dev.
    r = beanctl({"exec", id, "ls", "/dev"});
    for (const char* d : {"null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm"})
        EXPECT_TRUE(contains(r.out, d)) << d << " missing: " << r.out;
    EXPECT_FALSE(contains(r.out, "sda")) << r.out;
    EXPECT_NE(beanctl({"exec", id, "touch", "/sys/x"}).code, 0);
    // pivot_root: "/" is the container's root mount, and no host path is mounted inside.
    r = beanctl({"exec", id, "cat", "/proc/self/mountinfo"});
    int root_mounts = 0;
    std::istringstream mi(r.out);
    for (std::string line; std::getline(mi, line);) {
        std::istringstream f(line);
        std::string mid, parent, dev, mroot, mp;
        f >> mid >> parent >> dev >> mroot >> mp;
        root_mounts += mp == "/";
        EXPECT_FALSE(contains(mp, root_->path())) << line;
    }
    EXPECT_EQ(root_mounts, 1) << r.out;
    EXPECT_NE(beanctl({"exec", id, "ls", "/proc/1/root/var/lib"}).code, 0) << "no host /var/lib inside";

    // Stdio and exit status pass through.
    r = beanctl({"exec", id, "cat"}, "hello from the host\n");
    EXPECT_EQ(r.out, "hello from the host\n");
    EXPECT_EQ(beanctl({"exec", id, "sh", "-c", "echo oops >&2; exit 7"}).code, 7);
    EXPECT_EQ(beanctl({"exec", id, "sh", "-c", "echo oops >&2; exit 7"}).err, "oops\n");
    EXPECT_EQ(beanctl({"exec", id, "/no/such/cmd"}).code, 127);

    // The container's processes are in its cgroups, in every hierarchy.
    auto l = layout();
    std::string init_pid = std::to_string(std::stoi(slurp(run_dir() + "/ct/1101/init")));
    auto nodes = ct_nodes(1101);
    EXPECT_EQ(nodes.size(), 1 + l.v1.size()) << "a node in cgroup2 and in every v1 hierarchy";
    for (const auto& dir : nodes) {
        std::string procs = slurp(dir + "/cgroup.procs");
        EXPECT_TRUE(contains("\n" + procs, "\n" + init_pid + "\n")) << dir << ": " << procs;
    }
    // A command run by exec is charged to the container; the beanctl that waits for it is not.
    {
        pid_t waiter = ::fork();
        if (waiter == 0) {
            for (const auto& e : env()) ::putenv(const_cast<char*>((new std::string(e))->c_str()));
            ::execl(BEANCTL_PATH, BEANCTL_PATH, "exec", id.c_str(), "sleep", "3", nullptr);
            ::_exit(127);
        }
        std::string v2procs;
        for (int i = 0; i < 300; ++i) {
            v2procs = slurp(nodes[0] + "/cgroup.procs");
            if (std::count(v2procs.begin(), v2procs.end(), '\n') >= 2) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        EXPECT_EQ(std::count(v2procs.begin(), v2procs.end(), '\n'), 2) << "init and sleep: " << v2procs;
        EXPECT_FALSE(contains("\n" + v2procs, "\n" + std::to_string(waiter) + "\n")) << v2procs;
        // Born in the cgroup2 node, the command then moves itself into the v1 nodes before
        // it execs: the v1 nodes may lag the cgroup2 node by that step.
        for (const auto& dir : nodes) {
            std::string procs;
            for (int i = 0; i < 300; ++i) {
                procs = slurp(dir + "/cgroup.procs");
                if (std::count(procs.begin(), procs.end(), '\n') >= 2) break;
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            EXPECT_EQ(std::count(procs.begin(), procs.end(), '\n'), 2) << dir << ": " << procs;
        }
        ::kill(waiter, SIGTERM);  // forwarded to the command
        int st = 0;
        ::waitpid(waiter, &st, 0);
        EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGTERM) << st;
    }

    // Its cgroup namespace is rooted at its own cgroup, in every hierarchy.
    r = beanctl({"exec", id, "cat", "/proc/1/cgroup"});
    EXPECT_TRUE(contains(r.out, "0::/\n")) << r.out;
    std::istringstream cgl(r.out);
    for (std::string line; std::getline(cgl, line);)
        EXPECT_TRUE(line.ends_with(":/")) << "init is not at its namespace's root: " << line;

    auto j = beanctl({"list", "-o", "ctid,status,hostname", "--json"});
    EXPECT_TRUE(contains(j.out, "\"hostname\": \"bc-lifecycle\"")) << j.out;
    EXPECT_TRUE(contains(beanctl({"list"}).out, "running")) << beanctl({"list"}).out;

    EXPECT_EQ(beanctl({"destroy", id}).code, 1) << "destroy refuses a running container";
    r = beanctl({"stop", id});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(beanctl({"status", id}).out, "CTID 1101 exist unmounted down\n");
    EXPECT_EQ(beanctl({"stop", id}).code, 1) << "stopping a stopped container is an error";
    expect_nothing_left();

    // restart works from down, and again from running
    ASSERT_EQ(beanctl({"restart", id}).code, 0);
    ASSERT_EQ(beanctl({"restart", id}).code, 0);
    EXPECT_EQ(beanctl({"status", id}).out, "CTID 1101 exist mounted running\n");
    ASSERT_EQ(beanctl({"stop", id, "--fast"}).code, 0);

    r = beanctl({"destroy", id});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(beanctl({"status", id}).out, "CTID 1101 deleted unmounted down\n");
    EXPECT_FALSE(std::filesystem::exists(lib() + "/private/1101"));
    // Its files go in the background: soon, and with nothing left beside it.
    EXPECT_TRUE(bc::fs::wait_removed_later(lib() + "/private/1101", 30000)) << "the private area's files are still there";
    EXPECT_TRUE(std::filesystem::is_empty(lib() + "/private/" + bc::fs::kTrashDir)) << "the removal directory stays, empty";
    EXPECT_FALSE(std::filesystem::exists(lib() + "/root/1101"));
    EXPECT_FALSE(std::filesystem::exists(etc() + "/ct/1101.conf"));
    EXPECT_FALSE(std::filesystem::exists(run_dir() + "/ct/1101"));
    EXPECT_FALSE(std::filesystem::exists(run_dir() + "/lock/1101.lock"));
    EXPECT_EQ(beanctl({"destroy", id}).code, 1) << "destroying an unknown container is an error";
}

// A destroy that cannot remove the root's mount point (something was put there while the
// container was down) fails before it removes anything, and works once that is cleared.
TEST_F(BeanctlTest, DestroyThatFailsRemovesNothing) {
    std::string id = ct(1113);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    const std::string stray = lib() + "/root/1113/stray";
    std::ofstream(stray) << "not the container's\n";
    auto r = beanctl({"destroy", id});
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, lib() + "/root/1113")) << r.err;
    EXPECT_EQ(beanctl({"status", id}).out, "CTID 1113 exist unmounted down\n");
    EXPECT_TRUE(std::filesystem::exists(lib() + "/private/1113/bin/busybox")) << "the private area was removed";
    EXPECT_TRUE(std::filesystem::exists(etc() + "/ct/1113.conf"));
    EXPECT_EQ(slurp(stray), "not the container's\n");
    std::filesystem::remove(stray);
    r = beanctl({"destroy", id});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(beanctl({"status", id}).out, "CTID 1113 deleted unmounted down\n");
}

TEST_F(BeanctlTest, EnterGivesAShellOnAPty) {
    std::string id = ct(1102);
    ASSERT_EQ(beanctl({"create", id, "--hostname", "bc-enter"}).code, 0);
    ASSERT_EQ(beanctl({"start", id}).code, 0);
    auto r = beanctl({"enter", id}, "tty; hostname; exit 3\n");
    EXPECT_EQ(r.code, 3) << r.out << r.err;
    EXPECT_TRUE(contains(r.out, "/dev/pts/0")) << r.out;
    EXPECT_TRUE(contains(r.out, "bc-enter")) << r.out;
    r = beanctl({"enter", id, "--exec", "sh", "-c", "test -t 0 && echo is-a-tty"});
    EXPECT_EQ(r.code, 0);
    EXPECT_TRUE(contains(r.out, "is-a-tty")) << r.out;

    // SIGTERM to enter reaches the command inside, and enter returns its status.
    pid_t pid = ::fork();
    if (pid == 0) {
        for (const auto& e : env()) ::putenv(const_cast<char*>((new std::string(e))->c_str()));
        int devnull = ::open("/dev/null", O_RDWR);
        ::dup2(devnull, 1);
        ::execl(BEANCTL_PATH, BEANCTL_PATH, "enter", id.c_str(), "--exec", "sleep", "100", nullptr);
        ::_exit(127);
    }
    bool sleeping = false;
    for (int i = 0; i < 300 && !sleeping; ++i) {
        sleeping = contains(beanctl({"exec", id, "ps", "-o", "comm"}).out, "sleep");
        if (!sleeping) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(sleeping);
    ::kill(pid, SIGTERM);
    int st = 0;
    ::waitpid(pid, &st, 0);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGTERM) << st;
}

TEST_F(BeanctlTest, FailedStartLeavesNothing) {
    std::string id = ct(1103);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    std::ofstream(etc() + "/ct/1103.conf", std::ios::app) << "INIT=\"/sbin/no-such-init\"\n";
    auto r = beanctl({"start", id});
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, "exec /sbin/no-such-init")) << r.err;
    EXPECT_EQ(beanctl({"status", id}).out, "CTID 1103 exist unmounted down\n");
    expect_nothing_left();
}

TEST_F(BeanctlTest, StopKillsAfterTimeout) {
    std::string id = ct(1104);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    // bcinit ignores SIGWINCH: the stop signal goes unanswered and the timeout must act.
    std::ofstream(etc() + "/ct/1104.conf", std::ios::app) << "STOP_SIGNAL=\"WINCH\"\n";
    ASSERT_EQ(beanctl({"start", id}).code, 0);
    auto t0 = std::chrono::steady_clock::now();
    auto r = beanctl({"-v", "stop", id, "--timeout", "1"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(contains(r.err, "did not stop within 1 s")) << r.err;
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
    EXPECT_EQ(beanctl({"status", id}).out, "CTID 1104 exist unmounted down\n");
}

TEST_F(BeanctlTest, InitRunsTheStartScriptsInOrderOrAnRcs) {
    std::string id = ct(1114);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    const std::string priv = lib() + "/private/1114";
    EXPECT_TRUE(std::filesystem::exists(priv + "/etc/rc.d/README"));
    EXPECT_FALSE(std::filesystem::exists(priv + "/etc/init.d/rcS")) << "the boot needs no shell script";
    auto script = [&](const std::string& rel, const std::string& body, mode_t mode) {
        std::ofstream(priv + rel) << "#!/bin/sh\n" << body << "\n";
        ASSERT_EQ(::chmod((priv + rel).c_str(), mode), 0);
    };
    // Run: executable S* files, in name order, each with "start", the first ended before the
    // second begins. Not run: a file that is not executable, a K* file, a directory.
    script("/etc/rc.d/S20second", "sleep 0.2; echo \"second $1\" >> /var/log/boot", 0755);
    script("/etc/rc.d/S10first", "sleep 0.3; echo \"first $1\" >> /var/log/boot", 0755);
    script("/etc/rc.d/S30off", "echo off >> /var/log/boot", 0644);
    script("/etc/rc.d/K10kill", "echo kill >> /var/log/boot", 0755);
    ASSERT_EQ(::mkdir((priv + "/etc/rc.d/S40dir").c_str(), 0755), 0);
    auto boot_log = [&](const std::string& last) {
        RunResult r;
        for (int i = 0; i < 500; ++i, std::this_thread::sleep_for(std::chrono::milliseconds(10))) {
            r = beanctl({"exec", id, "cat", "/var/log/boot"});
            if (contains(r.out, last)) break;
        }
        return r.out;
    };
    ASSERT_EQ(beanctl({"start", id}).code, 0);
    EXPECT_EQ(boot_log("second"), "first start\nsecond start\n");
    // The boot's process is gone and reaped: init is alone again.
    RunResult ps;
    for (int i = 0; i < 200; ++i, std::this_thread::sleep_for(std::chrono::milliseconds(10))) {
        ps = beanctl({"exec", id, "ps", "-o", "stat,comm"});
        if (!contains(ps.out, "sh") && !contains(ps.out, "sleep")) break;
    }
    EXPECT_FALSE(contains(ps.out, "Z")) << ps.out;
    EXPECT_FALSE(contains(ps.out, "sh")) << ps.out;
    ASSERT_EQ(beanctl({"stop", id}).code, 0);

    // An executable rcS owns the boot: the S* scripts are its business then.
    std::filesystem::create_directories(priv + "/etc/init.d");
    script("/etc/init.d/rcS", "echo rcS >> /var/log/boot", 0755);
    ASSERT_EQ(beanctl({"start", id}).code, 0);
    EXPECT_EQ(boot_log("rcS"), "first start\nsecond start\nrcS\n");
}

TEST_F(BeanctlTest, StrayProcessesAreKilledAtStop) {
    std::string id = ct(1105);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    ASSERT_EQ(beanctl({"start", id}).code, 0);
    // A daemon that leaves the exec's session keeps running inside after exec returns.
    EXPECT_EQ(beanctl({"exec", id, "sh", "-c", "setsid sleep 1000 </dev/null >/dev/null 2>&1 &"}).code, 0);
    // The backgrounded shell may not have exec'd sleep yet when exec returns.
    RunResult ps;
    for (int i = 0; i < 200; ++i) {
        ps = beanctl({"exec", id, "ps", "-o", "comm"});
        if (contains(ps.out, "sleep")) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(contains(ps.out, "sleep")) << ps.out;
    ASSERT_EQ(beanctl({"stop", id}).code, 0);
    expect_nothing_left();
}

TEST_F(BeanctlTest, LockSerializesOperations) {
    std::string id = ct(1106);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    int fd = ::open((run_dir() + "/lock/1106.lock").c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX), 0);
    auto r = beanctl({"start", id});
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, "locked")) << r.err;
    ::close(fd);  // the kernel releases it, as it would for a killed tool
    EXPECT_EQ(beanctl({"start", id}).code, 0);
}

TEST_F(BeanctlTest, KillDuringCreateIsReportedAndCleanedUp) {
    // A template that arrives through a FIFO: create blocks half-way through unpacking it,
    // which is where the test kills the tool.
    std::string id = ct(1107);
    ASSERT_EQ(beanctl({"template", "build", "busybox"}).code, 0);
    std::string fifo = template_dir() + "/slowpoke.tar.gz";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    std::string archive = slurp(template_dir() + "/busybox.tar.gz");
    ASSERT_GT(archive.size(), 100000u);

    pid_t pid = ::fork();
    if (pid == 0) {
        std::vector<std::string> argv{BEANCTL_PATH, "create", id, "--ostemplate", "slowpoke"};
        for (const auto& e : env()) ::putenv(const_cast<char*>((new std::string(e))->c_str()));
        std::vector<char*> av;
        for (auto& a : argv) av.push_back(a.data());
        av.push_back(nullptr);
        ::execv(av[0], av.data());
        ::_exit(127);
    }
    int w = ::open(fifo.c_str(), O_WRONLY);
    ASSERT_GE(w, 0);
    // Half the archive, then wait until files appear in the private area.
    ASSERT_EQ(::write(w, archive.data(), archive.size() / 2), static_cast<ssize_t>(archive.size() / 2));
    std::string priv = lib() + "/private/1107";
    for (int i = 0; i < 500 && !std::filesystem::exists(priv + "/bin"); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(std::filesystem::exists(priv + "/bin"));
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    // The unpacking helper dies with the tool (it would otherwise block on the FIFO, still
    // open here, and write on into the private area later).
    auto helper_alive = [&] {
        for (const auto& e : std::filesystem::directory_iterator("/proc")) {
            std::string cmd = slurp(e.path().string() + "/cmdline");
            if (contains(cmd, "bctar") && contains(cmd, "slowpoke")) return true;
        }
        return false;
    };
    for (int i = 0; i < 100 && helper_alive(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_FALSE(helper_alive());
    ::close(w);
    ::unlink(fifo.c_str());

    auto st = beanctl({"status", id});
    EXPECT_EQ(st.out, "CTID 1107 deleted unmounted down incomplete\n");
    EXPECT_TRUE(contains(st.err, "destroy")) << st.err;
    EXPECT_TRUE(contains(beanctl({"list", "-a"}).out, "incomplete"));
    auto again = beanctl({"create", id});
    EXPECT_EQ(again.code, 1) << "create refuses to build over leftovers";
    EXPECT_TRUE(contains(again.err, "leftovers")) << again.err;
    auto r = beanctl({"destroy", id});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(beanctl({"status", id}).out, "CTID 1107 deleted unmounted down\n");
    EXPECT_FALSE(std::filesystem::exists(priv));
}

TEST_F(BeanctlTest, KillDuringStartIsCleanedUpByStop) {
    std::string id = ct(1108);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    ASSERT_EQ(beanctl({"start", id}).code, 0);
    // Simulate a tool killed after making cgroups and the mount but before init ran: take
    // init away behind the tool's back.
    int pid = std::stoi(slurp(run_dir() + "/ct/1108/init"));
    ::kill(pid, SIGKILL);
    // Init is re-parented to this test process (a subreaper): reap it while waiting.
    for (int i = 0; i < 200 && std::filesystem::exists("/proc/" + std::to_string(pid)); ++i) {
        reap_orphans();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(beanctl({"status", id}).out, "CTID 1108 exist mounted down\n");
    EXPECT_EQ(beanctl({"stop", id}).code, 0) << "stop cleans a container that died";
    EXPECT_EQ(beanctl({"status", id}).out, "CTID 1108 exist unmounted down\n");
    expect_nothing_left();
}

TEST_F(BeanctlTest, UnknownAndInvalidContainers) {
    for (const char* cmd : {"start", "stop", "destroy", "umount"}) {
        auto r = beanctl({cmd, "4242"});
        EXPECT_EQ(r.code, 1) << cmd;
        EXPECT_TRUE(contains(r.err, "4242")) << cmd << ": " << r.err;
    }
    EXPECT_EQ(beanctl({"exec", "4242", "true"}).code, 1);
    EXPECT_EQ(beanctl({"start", "../4242"}).code, 2);
    auto r = beanctl({"create", "4243", "--ostemplate", "no-such-template"});
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, "unknown template")) << r.err;
    EXPECT_FALSE(std::filesystem::exists(lib() + "/private/4243"));
    EXPECT_FALSE(std::filesystem::exists(etc() + "/ct/4243.conf"));
    // Templates that are not tar archives: a text file (which libarchive would read as an
    // mtree list if it were let) and an empty tar.
    std::filesystem::create_directories(template_dir());
    std::ofstream(template_dir() + "/junk.tar.gz") << "etc/shadow\n";
    r = beanctl({"create", "4243", "--ostemplate", "junk"});
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, "Unrecognized archive format")) << r.err;
    ASSERT_EQ(std::system(("tar -cf " + template_dir() + "/empty.tar.gz -T /dev/null").c_str()), 0);
    r = beanctl({"create", "4243", "--ostemplate", "empty"});
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, "no files in it")) << r.err;
    EXPECT_FALSE(std::filesystem::exists(lib() + "/private/4243"));
    EXPECT_FALSE(std::filesystem::exists(etc() + "/ct/4243.conf"));
    std::filesystem::remove(template_dir() + "/junk.tar.gz");
    std::filesystem::remove(template_dir() + "/empty.tar.gz");
}

TEST_F(BeanctlTest, BrokenConfigIsReportedAndStillStoppable) {
    std::string id = ct(1109);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    ASSERT_EQ(beanctl({"start", id}).code, 0);
    std::string conf = etc() + "/ct/1109.conf";
    std::string good = slurp(conf);
    std::ofstream(conf, std::ios::app) << "this is not a config line\n";
    int bad_line = 1;
    for (char c : good) bad_line += c == '\n';

    auto r = beanctl({"status", id});
    EXPECT_EQ(r.out, "CTID 1109 exist mounted running broken\n");
    EXPECT_TRUE(contains(r.err, fmt::format("1109.conf:{}: expected KEY", bad_line))) << r.err;
    EXPECT_TRUE(contains(beanctl({"list", "-a"}).out, "broken"));
    r = beanctl({"exec", id, "true"});
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, "1109.conf:")) << r.err;

    r = beanctl({"stop", id});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(contains(r.err, "stopping with SIGTERM")) << r.err;
    r = beanctl({"destroy", id});
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, "fix or remove the config")) << r.err;
    EXPECT_TRUE(std::filesystem::exists(lib() + "/private/1109")) << "nothing removed at guessed paths";
    std::ofstream(conf, std::ios::trunc) << good;
    EXPECT_EQ(beanctl({"destroy", id}).code, 0);
}

TEST_F(BeanctlTest, RootIsPivotedNotChrooted) {
    // The classic chroot escape from inside must stop at the container's root, also when
    // beanctl itself runs chrooted (CI sandboxes): the container's root is the top of its
    // mount namespace.
    std::string id = ct(1110);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    std::filesystem::copy_file(HELPER_DIR "/chroot_escape", lib() + "/private/1110/chroot_escape");
    ASSERT_EQ(beanctl({"start", id}).code, 0);
    auto r = beanctl({"exec", id, "/chroot_escape"});
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_EQ(r.out, "contained\n");
    // The same probe under a plain chroot shows that it can tell.
    r = run({"chroot", lib() + "/private/1110", "/chroot_escape"});
    EXPECT_EQ(r.code, 1) << r.out << r.err;
    EXPECT_EQ(r.out, "escaped\n");
}

TEST_F(BeanctlTest, HostileDevSymlinkIsRefused) {
    // The same with /dev, where the device nodes and pts would be mounted.
    std::string id = ct(1112);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    auto [r, target] = hostile_symlink_start(id, "dev");
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, "/dev in the root file system is not a plain directory")) << r.err;
    EXPECT_TRUE(std::filesystem::is_empty(target)) << "nothing was made or mounted in the symlink's target";
    expect_nothing_left();
}

TEST_F(BeanctlTest, HostileRootfsSymlinksAreRefused) {
    // A root file system whose /proc points at a host path: the mount must not follow it.
    std::string id = ct(1111);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    auto [r, target] = hostile_symlink_start(id, "proc");
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, "/proc in the root file system is not a plain directory")) << r.err;
    EXPECT_TRUE(std::filesystem::is_empty(target)) << "nothing was mounted on the symlink's target";
    EXPECT_EQ(beanctl({"status", id}).out, "CTID 1111 exist unmounted down\n");
    expect_nothing_left();
}

TEST_F(BeanctlTest, UnloadIsRefusedWhileAContainerRunsThenRemovesEverything) {
    std::string id = ct(1011);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    ASSERT_EQ(beanctl({"start", id}).code, 0);
    auto r = beanctl({"unload"});
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, "container 1011 still has cgroups")) << r.err;
    EXPECT_TRUE(std::filesystem::exists(bpf_dir() + "/link_sock_create")) << "nothing changed";
    EXPECT_EQ(beanctl({"exec", id, "true"}).code, 0);

    ASSERT_EQ(beanctl({"stop", id}).code, 0);
    for (const auto& d : prefix_dirs()) EXPECT_TRUE(std::filesystem::is_directory(d)) << "kept after the last stop: " << d;
    r = beanctl({"unload"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_FALSE(std::filesystem::exists(bpf_dir()));
    for (const auto& d : prefix_dirs()) EXPECT_FALSE(std::filesystem::exists(d)) << d;
    // The next start installs everything anew.
    ASSERT_EQ(beanctl({"start", id}).code, 0);
    EXPECT_TRUE(std::filesystem::exists(bpf_dir() + "/link_sock_create"));
    EXPECT_EQ(beanctl({"exec", id, "true"}).code, 0);
}
