// A cgroup parent delegated by the admin (CGROUP_PARENT), as on a pure cgroup2 host where
// systemd hands a subtree to a service: containers go below it, the parent is never
// changed or removed, and the controllers it delegates reach the containers.
#include <fstream>
#include <functional>

#include "fixture.h"

using namespace bctest;

namespace {
void write_file(const std::string& path, const std::string& text) {
    std::ofstream f(path);
    f << text;
}
}  // namespace

TEST_F(BeanctlTest, DelegatedCgroupParent) {
    auto l = layout();
    const std::string parent = prefix() + "-deleg/service";
    // The admin's part: the parent in every hierarchy, controllers delegated down to it.
    // Undone at the end even when an assertion fails half-way.
    std::vector<std::string> made;
    ScopeExit undo([&] {
        beanctl({"stop", "1301", "--fast"});
        beanctl({"destroy", "1301"});
        beanctl({"unload"});
        std::filesystem::remove(etc() + "/beancounter.conf");
        for (auto it = made.rbegin(); it != made.rend(); ++it) ::rmdir(it->c_str());
    });
    auto make = [&](const std::string& root) {
        for (const std::string& rel : {prefix() + "-deleg", parent}) {
            std::string p = root + "/" + rel;
            ASSERT_TRUE(std::filesystem::create_directory(p)) << p;
            made.push_back(p);
            // A v1 cpuset starts empty and takes no tasks until it has CPUs and memory nodes.
            for (const char* f : {"cpuset.cpus", "cpuset.mems"})
                if (std::filesystem::exists(p + "/" + f))
                    write_file(p + "/" + f, slurp(std::filesystem::path(p).parent_path().string() + "/" + f));
        }
    };
    make(l.v2_mount);
    for (const auto& h : l.v1) make(h.mount);
    std::string delegated;
    for (const char* c : {"memory", "pids"})
        if (l.v2_has(c)) {
            write_file(l.v2_mount + "/" + prefix() + "-deleg/cgroup.subtree_control", std::string("+") + c);
            write_file(l.v2_mount + "/" + parent + "/cgroup.subtree_control", std::string("+") + c);
            delegated += c;
        }
    std::filesystem::create_directories(etc());
    write_file(etc() + "/beancounter.conf", "CGROUP_PARENT=\"" + parent + "\"\n");

    std::string id = ct(1301);
    ASSERT_EQ(beanctl({"create", id}).code, 0);
    auto r = beanctl({"start", id});
    EXPECT_EQ(r.code, 0) << r.err;
    std::string node = l.v2_mount + "/" + parent + "/" + prefix() + "/1301";
    EXPECT_TRUE(std::filesystem::is_directory(node)) << node;
    std::string init_pid = std::to_string(std::stoi(slurp(run_dir() + "/ct/1301/init")));
    EXPECT_NE(("\n" + slurp(node + "/cgroup.procs")).find("\n" + init_pid + "\n"), std::string::npos);
    for (const auto& h : l.v1) EXPECT_TRUE(std::filesystem::is_directory(h.mount + "/" + parent + "/" + prefix() + "/1301"));
    if (l.mode == bc::cgroup::Mode::unified) {
        // The controllers the parent delegates are on in the container's node.
        if (delegated.find("memory") != std::string::npos) {
            EXPECT_TRUE(std::filesystem::exists(node + "/memory.max"));
        }
        if (delegated.find("pids") != std::string::npos) {
            EXPECT_TRUE(std::filesystem::exists(node + "/pids.max"));
        }
    }
    EXPECT_EQ(beanctl({"exec", id, "cat", "/proc/self/cgroup"}).out.find("0::/\n") != std::string::npos, true);
    EXPECT_EQ(beanctl({"stop", id}).code, 0);
    EXPECT_EQ(beanctl({"destroy", id}).code, 0);
    ids_.clear();

    // Uninstalled, our prefix is gone; the admin's parent is untouched.
    EXPECT_TRUE(std::filesystem::is_directory(l.v2_mount + "/" + parent + "/" + prefix())) << "kept until unload";
    auto u = beanctl({"unload"});
    EXPECT_EQ(u.code, 0) << u.err;
    EXPECT_FALSE(std::filesystem::exists(l.v2_mount + "/" + parent + "/" + prefix()));
    for (const auto& p : made) EXPECT_TRUE(std::filesystem::is_directory(p)) << p;
}
