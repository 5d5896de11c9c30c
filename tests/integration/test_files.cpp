// numpty, counted from the container's devpts instance in the kernel, against terminals
// opened in the container; numflock, counted from the inodes the container locked, against
// locks taken in the container and the host's /proc/locks.
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <set>
#include <sstream>
#include <thread>

#include "../common/ubc_parser.h"
#include "fixture.h"

using namespace bctest;
using nlohmann::json;

class FilesTest : public BeanctlTest {
protected:
    static json numpty(const std::string& id) { return ubc_json(id).at("numpty"); }
};

// numpty: the terminals allocated in the container's devpts instance: exact at the reading,
// in JSON, in the host's and in the container's user_beancounters, back to the baseline
// when they are closed, the peak kept; terminals of another container do not count.
TEST_F(FilesTest, NumptyIsTheTerminalsOfTheContainersDevpts) {
    for (unsigned n : {1701u, 1702u}) {
        std::string id = ct(n);
        ASSERT_EQ(beanctl({"create", id}).code, 0);
        std::filesystem::copy_file(HELPER_DIR "/ptys", lib() + "/private/" + id + "/ptys");
        ASSERT_EQ(beanctl({"start", id}).code, 0);
    }
    json rest = numpty("1701");
    ASSERT_FALSE(rest.at("held").is_null()) << "counted on both test kernels";
    const std::uint64_t base = rest.at("held");
    EXPECT_EQ(base, 0u) << "a container at rest holds no terminal";

    ASSERT_EQ(background_line("1701", "/ptys 5 600", "ptys"), "ready 5\n");
    ASSERT_EQ(background_line("1702", "/ptys 3 600", "ptys"), "ready 3\n");
    // A second process of the same container: its terminals add up.
    ASSERT_EQ(background_line("1701", "/ptys 2 600", "more"), "ready 2\n");
    json held = numpty("1701");
    EXPECT_EQ(held.at("held"), 7u);
    EXPECT_EQ(held.at("maxheld"), 7u);
    EXPECT_EQ(numpty("1702").at("held"), 3u);
    auto rows = parse_ubc(slurp(bpf_dir() + "/user_beancounters"));
    EXPECT_EQ(rows.at("1701")[11].held, 7u) << "numpty in the iterator file";
    EXPECT_EQ(rows.at("1702")[11].held, 3u);
    EXPECT_EQ(parse_ubc(beanctl({"exec", "1701", "cat", "/dev/user_beancounters"}).out).at("1701")[11].held, 7u);

    ASSERT_EQ(beanctl({"exec", "1701", "killall", "-9", "ptys"}).code, 0);
    std::uint64_t now = 7;
    for (int i = 0; i < 300 && now != base; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        now = numpty("1701").at("held");
    }
    EXPECT_EQ(now, base) << "closed with their last file";
    EXPECT_EQ(numpty("1701").at("maxheld"), 7u) << "the peak stays";
    EXPECT_EQ(numpty("1702").at("held"), 3u);
    beanctl({"exec", "1702", "killall", "-9", "ptys"});
}

namespace {
// Locks in the host's /proc/locks held by processes of this cgroup node, and OFD locks (which
// /proc/locks shows with pid -1) on this inode.
unsigned proc_locks_of(const std::string& cgroup_node, ino_t ofd_inode) {
    std::set<std::string> pids;
    std::istringstream procs(slurp(cgroup_node + "/cgroup.procs"));
    for (std::string p; procs >> p;) pids.insert(p);
    unsigned n = 0;
    std::istringstream locks(slurp("/proc/locks"));
    for (std::string line; std::getline(locks, line);) {
        // "1: POSIX  ADVISORY  WRITE 1234 00:2f:5678 0 9" (a blocked request has "->" first)
        std::istringstream in(line);
        std::string ord, klass, mode, type, pid, dev;
        in >> ord >> klass;
        if (klass == "->") continue;
        in >> mode >> type >> pid >> dev;
        if (pids.count(pid) || (pid == "-1" && dev.substr(dev.rfind(':') + 1) == std::to_string(ofd_inode))) ++n;
    }
    return n;
}
}  // namespace

// numflock: the file locks the container's processes hold (flock, POSIX ranges, OFD ranges,
// a child's own), exact at the reading and equal to the host's /proc/locks for them; POSIX
// ranges the kernel merges into one count once; back to zero when the holders exit, the
// peak kept; another container's locks are its own.
TEST_F(FilesTest, NumflockIsTheLocksTheContainersProcessesHold) {
    for (unsigned n : {1703u, 1704u}) {
        std::string id = ct(n);
        ASSERT_EQ(beanctl({"create", id}).code, 0);
        std::filesystem::copy_file(HELPER_DIR "/locks", lib() + "/private/" + id + "/locks");
        ASSERT_EQ(beanctl({"start", id}).code, 0);
    }
    auto numflock = [](const std::string& id) { return ubc_json(id).at("numflock"); };
    ASSERT_FALSE(numflock("1703").at("held").is_null()) << "counted on both test kernels";
    EXPECT_EQ(numflock("1703").at("held"), 0u) << "a container at rest holds no lock";

    // 3 flock + 4 POSIX ranges + 2 OFD ranges + the child's lock; 1704: 1 flock + the child's.
    ASSERT_EQ(background_line("1703", "/locks /tmp 3 4 2", "locks"), "ready 10\n");
    ASSERT_EQ(background_line("1704", "/locks /tmp 1 0 0", "locks"), "ready 2\n");
    const std::string node = bc::cgroup::CtGroup(layout(), "", prefix(), 1703).v2_path();
    struct stat ofd{};
    ASSERT_EQ(::stat((lib() + "/private/1703/tmp/ofd").c_str(), &ofd), 0);
    EXPECT_EQ(proc_locks_of(node, ofd.st_ino), 10u) << slurp("/proc/locks");
    EXPECT_EQ(numflock("1703").at("held"), 10u);
    EXPECT_EQ(numflock("1704").at("held"), 2u);
    EXPECT_EQ(parse_ubc(slurp(bpf_dir() + "/user_beancounters")).at("1703")[10].held, 10u) << "in the iterator file";

    // The gaps locked too: the four ranges become one lock.
    ASSERT_EQ(beanctl({"exec", "1703", "killall", "-USR1", "locks"}).code, 0);
    std::string out;
    for (int i = 0; i < 500 && out.find("merged") == std::string::npos; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        out = slurp(lib() + "/private/1703/tmp/locks");
    }
    ASSERT_EQ(out, "ready 10\nmerged 7\n");
    EXPECT_EQ(proc_locks_of(node, ofd.st_ino), 7u);
    EXPECT_EQ(numflock("1703").at("held"), 7u);

    ASSERT_EQ(beanctl({"exec", "1703", "killall", "locks"}).code, 0);
    std::uint64_t now = 7;
    for (int i = 0; i < 300 && now != 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        now = numflock("1703").at("held");
    }
    EXPECT_EQ(now, 0u) << "released with their holders";
    EXPECT_EQ(numflock("1703").at("maxheld"), 10u) << "the peak stays";
    EXPECT_EQ(numflock("1704").at("held"), 2u);
    beanctl({"exec", "1704", "killall", "locks"});
}
