// User namespaces: each container's root is an unprivileged host id from its own range.
#include <sys/stat.h>

#include <cstring>
#include <fstream>

#include "fixture.h"

using namespace bctest;

namespace {
// "Uid:" and "Gid:" of a host process: real, effective, saved, fs.
std::string ids_of(pid_t pid, const char* field) {
    std::string status = slurp(fmt::format("/proc/{}/status", pid));
    auto at = status.find(std::string("\n") + field + ":\t");
    if (at == std::string::npos) return "";
    auto end = status.find('\n', at + 1);
    return status.substr(at + std::strlen(field) + 3, end - at - std::strlen(field) - 3);
}
pid_t init_pid(const std::string& run_dir, const std::string& id) {
    std::string rec = slurp(run_dir + "/ct/" + id + "/init");
    return rec.empty() ? 0 : std::stoi(rec);
}
std::string conf_value(const std::string& conf, const std::string& key) {
    auto at = conf.find("\n" + key + "=\"");
    if (at == std::string::npos) return "";
    at += key.size() + 3;
    return conf.substr(at, conf.find('"', at) - at);
}
}  // namespace

TEST_F(BeanctlTest, RootOfEachContainerIsItsOwnUnprivilegedRange) {
    std::string a = ct(1701), b = ct(1702);
    ASSERT_EQ(beanctl({"create", a}).code, 0);
    ASSERT_EQ(beanctl({"create", b}).code, 0);
    const std::string conf_a = slurp(etc() + "/ct/1701.conf"), conf_b = slurp(etc() + "/ct/1702.conf");
    EXPECT_EQ(conf_value(conf_a, "USERNS"), "yes");
    const unsigned long base_a = std::stoul(conf_value(conf_a, "USERNS_BASE")), base_b = std::stoul(conf_value(conf_b, "USERNS_BASE"));
    EXPECT_EQ(conf_value(conf_a, "USERNS_SIZE"), "65536");
    EXPECT_GE(base_a, 65536ul) << "never a host's system or user id";
    EXPECT_TRUE(base_a + 65536 <= base_b || base_b + 65536 <= base_a) << base_a << " " << base_b;

    // The private area was shifted at create: its files belong to the container's ids.
    struct stat st{};
    ASSERT_EQ(::stat((lib() + "/private/1701/bin/busybox").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, base_a);
    EXPECT_EQ(st.st_gid, base_a);

    ASSERT_EQ(beanctl({"start", a}).code, 0);
    ASSERT_EQ(beanctl({"start", b}).code, 0);
    // Inside, root with a map of exactly the range.
    auto r = beanctl({"exec", a, "sh", "-c", "id -u; cat /proc/self/uid_map /proc/self/gid_map"});
    ASSERT_EQ(r.code, 0) << r.err;
    std::string map = fmt::format("{:>10} {:>10} {:>10}\n", 0, base_a, 65536);
    EXPECT_EQ(r.out, "0\n" + map + map);
    // Outside, init and the commands run as the range's first id, in every id set.
    const std::string want = fmt::format("{0}\t{0}\t{0}\t{0}", base_a);
    pid_t init = init_pid(run_dir(), a);
    ASSERT_GT(init, 0);
    EXPECT_EQ(ids_of(init, "Uid"), want);
    EXPECT_EQ(ids_of(init, "Gid"), want);
    r = beanctl({"exec", a, "sh", "-c", "grep -E '^(Uid|Gid|Groups):' /proc/self/status"});
    EXPECT_EQ(r.out, "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t \n") << "no supplementary group of the host";
    // A file made inside belongs to the range on the host.
    ASSERT_EQ(beanctl({"exec", a, "touch", "/made-inside"}).code, 0);
    ASSERT_EQ(::stat((lib() + "/private/1701/made-inside").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, base_a);
    // The container's root owns its cgroup (delegation), not the files that set its limits.
    auto cg = bc::cgroup::CtGroup(layout(), "", prefix(), 1701);
    ASSERT_EQ(::stat(cg.v2_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, base_a);
    ASSERT_EQ(::stat((cg.v2_path() + "/cgroup.procs").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, base_a);
    ASSERT_EQ(::stat((cg.v2_path() + "/cgroup.max.depth").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 0u);
    // Root of one container is nobody to the other's files: the host's own files are out of
    // reach, and so are the other container's.
    r = beanctl({"exec", b, "cat", "/proc/" + std::to_string(init) + "/status"});
    EXPECT_NE(r.code, 0) << "container B sees no process of A: " << r.out;
    r = beanctl({"exec", a, "sh", "-c", "echo x > /proc/sys/kernel/hostname"});
    EXPECT_NE(r.code, 0) << "/proc/sys of the host is not the container root's to write";
    EXPECT_EQ(beanctl({"exec", a, "hostname"}).out, "ct1701\n");
}

TEST_F(BeanctlTest, WithoutUserNamespaceOnlyWhenAskedAndWarned) {
    std::string id = ct(1703);
    auto r = beanctl({"create", id, "--no-userns"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("without a user namespace"), std::string::npos) << r.err;
    EXPECT_EQ(conf_value(slurp(etc() + "/ct/1703.conf"), "USERNS"), "no");
    r = beanctl({"start", id});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("without a user namespace"), std::string::npos) << "every start warns: " << r.err;
    r = beanctl({"exec", id, "cat", "/proc/self/uid_map"});
    EXPECT_EQ(r.out, fmt::format("{:>10} {:>10} {:>10}\n", 0, 0, 4294967295u));
}

TEST_F(BeanctlTest, OverlappingRangesAreRefusedAtStart) {
    std::string a = ct(1704), b = ct(1705);
    ASSERT_EQ(beanctl({"create", a}).code, 0);
    ASSERT_EQ(beanctl({"create", b}).code, 0);
    // A config copied by hand: B claims A's range.
    std::string base_a = conf_value(slurp(etc() + "/ct/1704.conf"), "USERNS_BASE");
    std::string conf_b = slurp(etc() + "/ct/1705.conf");
    std::string base_b = conf_value(conf_b, "USERNS_BASE");
    conf_b.replace(conf_b.find("USERNS_BASE=\"" + base_b), 13 + base_b.size(), "USERNS_BASE=\"" + base_a);
    std::ofstream(etc() + "/ct/1705.conf") << conf_b;
    auto r = beanctl({"start", b});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("overlaps that of container 1704"), std::string::npos) << r.err;
    EXPECT_EQ(beanctl({"status", b}).out, "CTID 1705 exist unmounted down\n") << "nothing half-started";
    // A new container does not take a range a config records, even a broken config's.
    std::ofstream(etc() + "/ct/1705.conf") << conf_b + "NUMPROC=\"12Q\"\n";
    std::string c = ct(1706);
    ASSERT_EQ(beanctl({"create", c}).code, 0);
    std::string base_c = conf_value(slurp(etc() + "/ct/1706.conf"), "USERNS_BASE");
    EXPECT_NE(base_c, base_a) << "the broken config's claim on A's range is respected too";
    std::ofstream(etc() + "/ct/1705.conf") << conf_b;
}
