// File-system helpers and the per-container lock (no root needed).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "../common/testutil.h"
#include "container/lock.h"
#include "core/fs.h"

using namespace bc;

TEST(Fs, WriteAtomicReplacesWholeFileAndLeavesNoTemp) {
    bctest::TempDir d;
    std::string p = d / "f";
    ASSERT_TRUE(fs::write_atomic(p, "one\n", 0600));
    ASSERT_TRUE(fs::write_atomic(p, "two\n", 0640, fs::Sync::atomic_only));
    EXPECT_EQ(bctest::slurp(p), "two\n");
    struct stat st;
    ASSERT_EQ(::stat(p.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
    EXPECT_EQ(fs::list_dir(d.path()).value(), std::vector<std::string>{"f"});
    // A missing directory is an error, not a partial write.
    EXPECT_FALSE(fs::write_atomic(d / "nodir/f", "x"));
}

TEST(Fs, RemoveTreeDoesNotFollowSymlinks) {
    bctest::TempDir d;
    bctest::write(d / "outside/keep", "precious\n");
    bctest::write(d / "tree/a/b/file", "x");
    std::filesystem::create_directory_symlink(d / "outside", d / "tree/a/link-to-outside");
    std::filesystem::create_symlink(d / "outside/keep", d / "tree/file-link");
    ASSERT_TRUE(fs::remove_tree(d / "tree"));
    EXPECT_FALSE(std::filesystem::exists(d / "tree"));
    EXPECT_EQ(bctest::slurp(d / "outside/keep"), "precious\n");
    EXPECT_TRUE(fs::remove_tree(d / "missing")) << "a missing path is not an error";
}

// The path is free when it returns; the files go in the background, outside links kept, and
// trees renamed while a remover runs (several at once) go too.
TEST(Fs, RemovingInTheBackgroundFreesThePathAtOnceAndLeavesNothing) {
    bctest::TempDir d;
    bctest::write(d / "outside/keep", "precious\n");
    for (int i = 0; i < 8; i++) {
        for (int f = 0; f < 50; f++) bctest::write(d / fmt::format("areas/{}/dir{}/file{}", i, f % 5, f), "x");
        std::filesystem::create_directory_symlink(d / "outside", d / fmt::format("areas/{}/link", i));
    }
    for (int i = 0; i < 8; i++) {
        const std::string p = d / fmt::format("areas/{}", i);
        auto moved = fs::move_to_trash(p);
        ASSERT_TRUE(moved);
        EXPECT_FALSE(std::filesystem::exists(p)) << p;
        ASSERT_TRUE(fs::empty_trash_later(*moved));
    }
    EXPECT_TRUE(fs::wait_removed_later(d / "areas/0", 30000)) << "files left in " << (d / "areas") << "/" << fs::kTrashDir;
    EXPECT_EQ(fs::list_dir(d / "areas").value(), std::vector<std::string>{fs::kTrashDir});
    EXPECT_EQ(fs::list_dir(d / ("areas/" + std::string(fs::kTrashDir))).value(), std::vector<std::string>{});
    EXPECT_EQ(bctest::slurp(d / "outside/keep"), "precious\n");
}

// The two halves: a tree moved away and left there (its remover never started, as when a
// destroy is killed in between) is removed by the next remover, which empties the directory.
TEST(Fs, TreeMovedToTrashIsRemovedByTheNextRemover) {
    bctest::TempDir d;
    bctest::write(d / "areas/a/dir/file", "x");
    bctest::write(d / "areas/b/file", "x");
    auto a = fs::move_to_trash(d / "areas/a");
    ASSERT_TRUE(a);
    EXPECT_FALSE(std::filesystem::exists(d / "areas/a"));
    EXPECT_EQ(a->substr(0, a->find_last_of('/')), d / ("areas/" + std::string(fs::kTrashDir)));
    EXPECT_TRUE(std::filesystem::exists(*a + "/dir/file"));
    auto b = fs::move_to_trash(d / "areas/b");
    ASSERT_TRUE(b);
    ASSERT_TRUE(fs::empty_trash_later(*b));
    EXPECT_TRUE(fs::wait_removed_later(d / "areas/a", 30000)) << "files left in " << (d / "areas") << "/" << fs::kTrashDir;
    EXPECT_EQ(fs::move_to_trash(d / "missing").value(), "") << "a missing path is not an error";
    EXPECT_TRUE(fs::empty_trash_later(""));
}

TEST(Fs, MountPointsAsTheMountTableHasThem) {
    bctest::TempDir d;
    EXPECT_FALSE(fs::is_mount_point(d.path()).value());
    EXPECT_FALSE(fs::is_mount_point(d / "missing").value());
    std::filesystem::create_directory_symlink("/proc", d / "proc-link");
    const auto table = fs::mount_points().value();
    for (const char* p : {"/proc", "/sys"}) {
        if (std::find(table.begin(), table.end(), p) == table.end()) continue;
        EXPECT_TRUE(fs::is_mount_point(p).value()) << p;
        EXPECT_FALSE(fs::is_mount_point(std::string(p) + "/self").value_or(true)) << p << "/self";
    }
    if (std::find(table.begin(), table.end(), "/proc") != table.end()) {
        EXPECT_TRUE(fs::is_mount_point(d / "proc-link").value()) << "the link is followed";
    }
}

TEST(Fs, ListSubdirsUsesOnlyDirectories) {
    bctest::TempDir d;
    bctest::write(d / "f", "");
    std::filesystem::create_directory(d / "b");
    std::filesystem::create_directory(d / "a");
    std::filesystem::create_directory_symlink(d / "a", d / "link");
    EXPECT_EQ(fs::list_subdirs(d.path()).value(), (std::vector<std::string>{"a", "b"}));
}

TEST(Fs, MkdirPAndJoin) {
    bctest::TempDir d;
    ASSERT_TRUE(fs::mkdir_p(d / "x/y/z"));
    EXPECT_TRUE(fs::is_dir(d / "x/y/z"));
    bctest::write(d / "file", "");
    EXPECT_FALSE(fs::mkdir_p(d / "file"));
    EXPECT_EQ(fs::join("/a/", "/b"), "/a/b");
    EXPECT_EQ(fs::join("/a", "b"), "/a/b");
    EXPECT_EQ(fs::unescape_mountinfo("/a\\040b\\011c"), "/a b\tc");
}

TEST(Lock, SecondHolderIsRefusedAndToldWho) {
    bctest::TempDir d;
    Settings s;
    s.run_dir = d.path();
    auto first = container::CtLock::acquire(s, 4242);
    ASSERT_TRUE(first) << first.error().msg;
    // flock locks belong to the open file description: a second open in this process
    // conflicts as another process would.
    auto second = container::CtLock::acquire(s, 4242);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().err, EWOULDBLOCK);
    EXPECT_NE(second.error().msg.find("(pid " + std::to_string(::getpid()) + ")"), std::string::npos) << second.error().msg;
    EXPECT_TRUE(container::CtLock::acquire(s, 4243)) << "other containers are not affected";
}

TEST(Lock, ReleasedOnDestructionAndAfterRemove) {
    bctest::TempDir d;
    Settings s;
    s.run_dir = d.path();
    {
        auto l = container::CtLock::acquire(s, 4242);
        ASSERT_TRUE(l);
    }
    auto again = container::CtLock::acquire(s, 4242);
    ASSERT_TRUE(again);
    again->remove();
    EXPECT_FALSE(std::filesystem::exists(s.lock_path(4242)));
    // A new locker gets a fresh file even while the old, unlinked one is still locked.
    auto fresh = container::CtLock::acquire(s, 4242);
    EXPECT_TRUE(fresh);
    EXPECT_TRUE(std::filesystem::exists(s.lock_path(4242)));
}
