// Cgroup layout detection and container cgroup paths on fake cgroupfs trees.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "../common/testutil.h"
#include "cgroup/ctgroup.h"
#include "cgroup/layout.h"

using namespace bc::cgroup;

namespace {
std::string line(int id, const std::string& mp, const std::string& fstype, const std::string& opts) {
    return fmt::format("{} 1 0:{} / {} rw,nosuid,nodev,noexec,relatime shared:{} - {} {} {}\n", id, id, mp, id, fstype,
                       fstype, opts);
}

// This machine's kind of layout: tmpfs at the top, v1 controllers, cgroup2 at unified/.
std::string hybrid_mountinfo(const std::string& root) {
    return line(20, root, "tmpfs", "rw,mode=755") + line(21, root + "/unified", "cgroup2", "rw") +
           line(22, root + "/systemd", "cgroup", "rw,xattr,name=systemd") + line(23, root + "/cpu", "cgroup", "rw,cpu") +
           line(24, root + "/cpuacct", "cgroup", "rw,cpuacct") + line(25, root + "/memory", "cgroup", "rw,memory") +
           line(26, root + "/pids", "cgroup", "rw,pids") + line(27, root + "/devices", "cgroup", "rw,devices") +
           line(28, "/sys/fs/bpf", "bpf", "rw,mode=700");
}
}  // namespace

TEST(Layout, DetectsHybrid) {
    bctest::TempDir d;
    bctest::write(d / "unified/cgroup.controllers", "hugetlb\n");
    auto l = Layout::detect(hybrid_mountinfo(d.path()));
    ASSERT_TRUE(l) << l.error().msg;
    EXPECT_EQ(l->mode, Mode::hybrid);
    EXPECT_EQ(l->v2_mount, d / "unified");
    EXPECT_EQ(l->v2_controllers, std::vector<std::string>{"hugetlb"});
    EXPECT_EQ(l->v1_mount_of("memory"), d / "memory");
    EXPECT_EQ(l->v1_mount_of("cpuacct"), d / "cpuacct");
    EXPECT_FALSE(l->v1_mount_of("hugetlb"));
    EXPECT_EQ(l->where("pids"), "v1");
    EXPECT_EQ(l->where("memory"), "v1");
    EXPECT_FALSE(l->v1_mount_of("systemd")) << "named hierarchies hold no controller";
    ASSERT_EQ(l->v1.size(), 6u);
    EXPECT_EQ(l->v1[0].name, "systemd");
    EXPECT_EQ(l->v1[0].label(), "name=systemd");
    EXPECT_EQ(l->v1[1].label(), "cpu");
}

TEST(Layout, DetectsPureCgroup2) {
    bctest::TempDir d;
    bctest::write(d / "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    auto l = Layout::detect(line(30, d.path(), "cgroup2", "rw,nsdelegate,memory_recursiveprot"));
    ASSERT_TRUE(l) << l.error().msg;
    EXPECT_EQ(l->mode, Mode::unified);
    EXPECT_EQ(l->v2_mount, d.path());
    EXPECT_TRUE(l->v2_has("memory"));
    EXPECT_EQ(l->where("memory"), "v2");
    EXPECT_EQ(l->where("cpuacct"), "v2");
    EXPECT_TRUE(l->v1.empty());
}

TEST(Layout, ControllerNotDelegatedIsMissing) {
    bctest::TempDir d;
    bctest::write(d / "cgroup.controllers", "cpu io\n");
    auto l = Layout::detect(line(30, d.path(), "cgroup2", "rw")).value();
    EXPECT_EQ(l.where("memory"), "missing");
    EXPECT_EQ(l.where("pids"), "missing");
    EXPECT_EQ(l.where("cpu"), "v2");
}

TEST(Layout, CoMountedV1Controllers) {
    bctest::TempDir d;
    bctest::write(d / "unified/cgroup.controllers", "");
    auto l = Layout::detect(line(21, d / "unified", "cgroup2", "rw") +
                            line(23, d / "cpu,cpuacct", "cgroup", "rw,cpu,cpuacct") + line(24, d / "memory", "cgroup", "rw,memory"))
                 .value();
    EXPECT_EQ(l.v1_mount_of("cpu"), d / "cpu,cpuacct");
    EXPECT_EQ(l.v1_mount_of("cpuacct"), d / "cpu,cpuacct");
    CtGroup g(l, "", "bc-unit", 101);
    // cpu and cpuacct share one node.
    EXPECT_EQ(l.v1[0].label(), "cpu,cpuacct");
    EXPECT_EQ(g.v1_nodes().size(), 2u);
    EXPECT_EQ(g.node_of("cpuacct"), d / "cpu,cpuacct/bc-unit/101");
}

TEST(Layout, NoCgroup2IsAnError) {
    auto l = Layout::detect(line(23, "/sys/fs/cgroup/memory", "cgroup", "rw,memory"));
    ASSERT_FALSE(l);
    EXPECT_NE(l.error().msg.find("cgroup2"), std::string::npos);
}

TEST(Layout, EscapedMountPoints) {
    bctest::TempDir d;
    bctest::write(d / "with space/cgroup.controllers", "memory pids\n");
    auto l = Layout::detect(line(30, d.path() + "/with\\040space", "cgroup2", "rw"));
    ASSERT_TRUE(l) << l.error().msg;
    EXPECT_EQ(l->v2_mount, d / "with space");
}

TEST(CtGroup, PathsAndLifecycleOnHybridTree) {
    bctest::TempDir d;
    bctest::write(d / "unified/cgroup.controllers", "hugetlb\n");
    for (const char* m : {"systemd", "cpu", "cpuacct", "memory", "pids", "devices"}) std::filesystem::create_directories(d / m);
    auto l = Layout::detect(hybrid_mountinfo(d.path())).value();
    CtGroup g(l, "", "bc-unit", 101);
    EXPECT_EQ(g.v2_path(), d / "unified/bc-unit/101");
    EXPECT_EQ(g.node_of("memory"), d / "memory/bc-unit/101");
    EXPECT_EQ(g.node_of("pids"), d / "pids/bc-unit/101");
    EXPECT_EQ(g.v1_nodes().size(), 6u) << "a node in every v1 hierarchy, the named one included";
    EXPECT_EQ(g.v1_nodes()[0].hierarchy, "name=systemd");
    EXPECT_EQ(g.v1_nodes()[0].path, d / "systemd/bc-unit/101");
    EXPECT_FALSE(g.exists());
    ASSERT_TRUE(g.create()) << g.create().error().msg;
    EXPECT_TRUE(g.exists());
    for (const auto& n : g.nodes()) EXPECT_TRUE(std::filesystem::is_directory(n.path)) << n.path;
    ASSERT_TRUE(g.remove());
    EXPECT_FALSE(g.exists());
    EXPECT_TRUE(std::filesystem::is_directory(d / "unified/bc-unit")) << "the prefix stays (the programs' attach point)";
    EXPECT_TRUE(std::filesystem::is_directory(d / "memory/bc-unit"));
    EXPECT_EQ(prefix_nodes(l, "", "bc-unit").size(), 7u);
    ASSERT_TRUE(remove_prefix_nodes(l, "", "bc-unit"));
    for (const auto& p : prefix_nodes(l, "", "bc-unit")) EXPECT_FALSE(std::filesystem::exists(p)) << p;
    EXPECT_TRUE(remove_prefix_nodes(l, "", "bc-unit")) << "nothing to remove is fine";
}

TEST(CtGroup, PrefixIsNotRemovedWhileAContainerUsesIt) {
    bctest::TempDir d;
    bctest::write(d / "cgroup.controllers", "memory pids cpu\n");
    auto l = Layout::detect(line(30, d.path(), "cgroup2", "rw")).value();
    CtGroup a(l, "", "bc-unit", 101), b(l, "", "bc-unit", 102);
    ASSERT_TRUE(a.create());
    ASSERT_TRUE(b.create());
    EXPECT_TRUE(a.v1_nodes().empty());
    EXPECT_EQ(ct_nodes_below(l, "", "bc-unit").value().size(), 2u);
    ASSERT_TRUE(a.remove());
    EXPECT_TRUE(std::filesystem::is_directory(d / "bc-unit/102"));
    EXPECT_EQ(ct_nodes_below(l, "", "bc-unit").value(), std::vector<std::string>{"102"});
    auto r = remove_prefix_nodes(l, "", "bc-unit");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().err, EBUSY);
    EXPECT_NE(r.error().msg.find("(102)"), std::string::npos) << r.error().msg;
    EXPECT_TRUE(std::filesystem::is_directory(d / "bc-unit/102"));
    ASSERT_TRUE(b.remove());
    ASSERT_TRUE(remove_prefix_nodes(l, "", "bc-unit"));
    EXPECT_FALSE(std::filesystem::exists(d / "bc-unit"));
    EXPECT_TRUE(ct_nodes_below(l, "", "bc-unit").value().empty());
}

TEST(CtGroup, DelegatedParent) {
    bctest::TempDir d;
    bctest::write(d / "cgroup.controllers", "memory pids cpu\n");
    auto l = Layout::detect(line(30, d.path(), "cgroup2", "rw")).value();
    CtGroup g(l, "system.slice/bc.service", "beancounter", 101);
    EXPECT_EQ(g.v2_path(), d / "system.slice/bc.service/beancounter/101");
    auto r = g.create();
    ASSERT_FALSE(r) << "a missing parent is not ours to create";
    EXPECT_NE(r.error().msg.find("does not exist"), std::string::npos);
    std::filesystem::create_directories(d / "system.slice/bc.service");
    ASSERT_TRUE(g.create());
    ASSERT_TRUE(g.remove());
    EXPECT_TRUE(std::filesystem::is_directory(d / "system.slice/bc.service")) << "the parent is left alone";
}
