// User id ranges: picking, parsing /etc/subuid, the config keys, and the shift of a root
// file system (the shift needs root to chown; it is skipped otherwise).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <linux/capability.h>

#include "../common/testutil.h"
#include "config/ctconfig.h"
#include "container/idmap.h"

using namespace bc;
using bc::container::parse_subid;
using bc::container::pick_free_range;

TEST(IdRange, PicksTheLowestAlignedFreeRange) {
    IdRange pool{1u << 30, 4 * 65536};
    EXPECT_EQ(pick_free_range(pool, 65536, {}), (IdRange{1u << 30, 65536}));
    std::vector<IdRange> taken{{1u << 30, 65536}, {(1u << 30) + 2 * 65536, 65536}};
    EXPECT_EQ(pick_free_range(pool, 65536, taken), (IdRange{(1u << 30) + 65536, 65536}));
    // A foreign range that straddles a boundary blocks both ranges it touches.
    taken = {{(1u << 30) + 100, 70000}};
    EXPECT_EQ(pick_free_range(pool, 65536, taken), (IdRange{(1u << 30) + 2 * 65536, 65536}));
    // Full.
    taken = {{1u << 30, 4 * 65536}};
    EXPECT_FALSE(pick_free_range(pool, 65536, taken));
    // A pool start that is not aligned is rounded up, and a range must fit entirely.
    EXPECT_EQ(pick_free_range({100, 3 * 65536}, 65536, {}), (IdRange{65536, 65536}));
    EXPECT_FALSE(pick_free_range({100, 65536}, 65536, {}));
    EXPECT_FALSE(pick_free_range({0xFFFF0000u, 0xFFFF}, 65536, {}));
}

TEST(IdRange, Overlap) {
    IdRange a{100, 10};
    EXPECT_TRUE(a.overlaps({109, 1}));
    EXPECT_FALSE(a.overlaps({110, 5}));
    EXPECT_FALSE(a.overlaps({90, 10}));
    EXPECT_TRUE(a.overlaps({90, 11}));
}

TEST(IdRange, ParsesSubuidFiles) {
    auto r = parse_subid("alice:100000:65536\n# comment\nbob:165536:65536\nbad line\ncarol:x:5\ndave:5:0\n");
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0], (IdRange{100000, 65536}));
    EXPECT_EQ(r[1], (IdRange{165536, 65536}));
}

TEST(IdRange, ConfigKeys) {
    Settings s;
    auto parse = [&](const std::string& text) {
        return CtConfig::from_file(ConfFile::parse("OSTEMPLATE=\"busybox\"\n" + text, "7.conf").value(), 7, s);
    };
    auto c = parse("USERNS=\"yes\"\nUSERNS_BASE=\"1073807360\"\n");
    ASSERT_TRUE(c) << c.error().msg;
    EXPECT_TRUE(c->userns);
    EXPECT_EQ(c->userns_base, 1073807360u);
    EXPECT_EQ(c->userns_size, 65536u);
    // No USERNS: a container from before user namespaces, which runs without one.
    c = parse("");
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->userns);
    for (auto [text, what] : {std::pair{"USERNS=\"maybe\"\n", "7.conf:2: USERNS must be yes or no"},
                              {"USERNS=\"yes\"\n", "7.conf:2: USERNS_BASE must be"},
                              {"USERNS=\"yes\"\nUSERNS_BASE=\"0\"\n", "7.conf:3: USERNS_BASE"},
                              {"USERNS=\"yes\"\nUSERNS_BASE=\"4294967000\"\n", "7.conf:3: USERNS_BASE"},
                              {"USERNS_BASE=\"1073807360\"\nUSERNS_SIZE=\"100\"\n", "7.conf:3: USERNS_SIZE"}}) {
        auto r = parse(text);
        ASSERT_FALSE(r) << text;
        EXPECT_NE(r.error().msg.find(what), std::string::npos) << r.error().msg;
    }
}

TEST(IdRange, GlobalPool) {
    bctest::TempDir d;
    SettingsOverrides ov;
    ov.conf_dir = d.path();
    bctest::write(d / "beancounter.conf", "USERNS_POOL=\"200000:131072\"\n");
    auto s = Settings::load(ov);
    ASSERT_TRUE(s) << s.error().msg;
    EXPECT_EQ(s->userns_pool, (IdRange{200000, 131072}));
    for (const char* bad : {"200000", "0:131072", "200000:100", "4294900000:131072", "a:b"}) {
        bctest::write(d / "beancounter.conf", std::string("USERNS_POOL=\"") + bad + "\"\n");
        auto r = Settings::load(ov);
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().msg.find("USERNS_POOL must be START:COUNT"), std::string::npos) << r.error().msg;
    }
}

TEST(IdRange, ShiftTreeMovesOwnersKeepsSetIdBitsAndNamespacesFileCaps) {
    if (::geteuid() != 0) GTEST_SKIP() << "chown needs root";
    bctest::TempDir d;
    const std::string root = d / "root";
    ASSERT_EQ(::mkdir(root.c_str(), 0755), 0);
    bctest::write(root + "/etc/passwd", "x");
    bctest::write(root + "/bin/su", "x");
    bctest::write(root + "/bin/ping", "x");
    ASSERT_EQ(::chown((root + "/etc/passwd").c_str(), 33, 34), 0);
    ASSERT_EQ(::chmod((root + "/bin/su").c_str(), 04755), 0);
    ASSERT_EQ(::link((root + "/bin/su").c_str(), (root + "/bin/su2").c_str()), 0);
    ASSERT_EQ(::symlink("/etc/passwd", (root + "/etc/link").c_str()), 0);
    // A v2 file capability (cap_net_raw, effective), as the host's setcap writes it.
    vfs_cap_data v2{};
    v2.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
    v2.data[0].permitted = 1u << CAP_NET_RAW;
    const bool have_caps = ::setxattr((root + "/bin/ping").c_str(), "security.capability", &v2, XATTR_CAPS_SZ_2, 0) == 0;

    const IdRange r{1u << 30, 65536};
    auto ok = container::shift_tree(root, r);
    ASSERT_TRUE(ok) << ok.error().msg;
    struct stat st;
    ASSERT_EQ(::lstat(root.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, r.base);
    ASSERT_EQ(::lstat((root + "/etc/passwd").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, r.base + 33);
    EXPECT_EQ(st.st_gid, r.base + 34);
    ASSERT_EQ(::lstat((root + "/etc/link").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, r.base) << "the link itself, not its target";
    ASSERT_EQ(::lstat((root + "/bin/su").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, r.base) << "a hard link is shifted once";
    EXPECT_EQ(st.st_mode & 07777, 04755u) << "chown clears set-uid; the shift restores it";
    if (have_caps) {
        vfs_ns_cap_data v3{};
        ASSERT_EQ(::getxattr((root + "/bin/ping").c_str(), "security.capability", &v3, sizeof v3),
                  static_cast<ssize_t>(sizeof v3));
        EXPECT_EQ(v3.magic_etc & VFS_CAP_REVISION_MASK, VFS_CAP_REVISION_3);
        EXPECT_EQ(v3.rootid, r.base);
        EXPECT_EQ(v3.data[0].permitted, 1u << CAP_NET_RAW);
    }

    // Ids a container cannot map make the shift fail, naming the file.
    bctest::write(root + "/bad", "x");
    ASSERT_EQ(::chown((root + "/bad").c_str(), 70000, 0), 0);
    auto bad = container::shift_tree(root + "/bad", {5u << 20, 65536});
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().msg.find("outside the 65536 ids"), std::string::npos) << bad.error().msg;
}
