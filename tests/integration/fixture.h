// The root-only integration tier: a private configuration root and a unique cgroup prefix
// per test process, so that every test can prove it left nothing on the host.
#pragma once

#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <string>
#include <thread>

#include "../common/testutil.h"
#include "bpf/accounting.h"
#include "cgroup/ctgroup.h"
#include "cgroup/layout.h"
#include "core/fs.h"

namespace bctest {

class BeanctlTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (::geteuid() != 0) return;
        root_ = new TempDir();
        prefix_ = fmt::format("bctest-{}", ::getpid());
        // A container's init outlives the beanctl that started it and is re-parented to the
        // nearest subreaper. Be that subreaper, as a host's init would, and reap them: some
        // sandboxes' PID 1 leaves orphaned zombies around for a long time.
        ::prctl(PR_SET_CHILD_SUBREAPER, 1);
        // Templates are built once per test process and shared by its tests.
        ::mkdir((root_->path() + "/template").c_str(), 0755);
    }
    static void TearDownTestSuite() {
        // Uninstalled as an admin would: the programs stop when their pinned links go, and
        // the prefix nodes (kept while the accounting is installed) are removed.
        if (root_) {
            auto r = beanctl({"unload"});
            EXPECT_EQ(r.code, 0) << r.err;
            EXPECT_FALSE(std::filesystem::exists(bpf_dir())) << "pins left: " << bpf_dir();
            for (const auto& d : prefix_dirs()) EXPECT_FALSE(std::filesystem::exists(d)) << "cgroup left: " << d;
            // Private areas destroyed are removed in the background: gone before the root goes.
            EXPECT_TRUE(bc::fs::wait_removed_later(root_->path() + "/lib/private/x", 30000)) << "destroyed private areas left";
        }
        delete root_;
        root_ = nullptr;
    }
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (namespaces, cgroups, mounts)";
        top_cgroups_before_ = top_cgroups();
    }
    void TearDown() override {
        if (::geteuid() != 0) return;
        for (unsigned id : ids_) {
            beanctl({"stop", std::to_string(id), "--fast"});
            beanctl({"destroy", std::to_string(id)});
            EXPECT_FALSE(std::filesystem::exists(fmt::format("/sys/class/net/bc{}", id))) << "veth left: bc" << id;
        }
        expect_nothing_left();
    }

    // Registers a CTID for cleanup and returns it as a string.
    std::string ct(unsigned id) {
        ids_.push_back(id);
        return std::to_string(id);
    }

    static std::vector<std::string> env() {
        return {"BEANCOUNTER_CONF_DIR=" + root_->path() + "/etc", "BEANCOUNTER_LIB_DIR=" + root_->path() + "/lib",
                "BEANCOUNTER_RUN_DIR=" + root_->path() + "/run", "BEANCOUNTER_TEMPLATE_DIR=" + root_->path() + "/template",
                "BEANCOUNTER_CGROUP_PREFIX=" + prefix_, "BEANCOUNTER_BPF_DIR=" + bpf_dir()};
    }
    static std::string bpf_dir() { return "/sys/fs/bpf/" + prefix_; }
    static RunResult beanctl(const std::vector<std::string>& args, const std::string& input = "") {
        std::vector<std::string> argv{BEANCTL_PATH};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, env(), input);
    }
    static std::string lib() { return root_->path() + "/lib"; }
    // Replaces directory DIR of a created container's root file system with a symlink to an
    // empty decoy directory on the host, and starts it: the start's result and the decoy.
    static std::pair<RunResult, std::string> hostile_symlink_start(const std::string& id, const std::string& dir) {
        std::string decoy = root_->path() + "/decoy-" + dir;
        std::filesystem::create_directory(decoy);
        std::string path = lib() + "/private/" + id + "/" + dir;
        std::filesystem::remove_all(path);
        std::filesystem::create_directory_symlink(decoy, path);
        return {beanctl({"start", id}), decoy};
    }
    // Runs a shell command in the background inside a running container, its output going to
    // /tmp/OUT there, and waits (at most 10 s) for its first line, which it returns.
    static std::string background_line(const std::string& id, const std::string& cmd, const std::string& out) {
        const std::string path = lib() + "/private/" + id + "/tmp/" + out;
        std::filesystem::remove(path);
        EXPECT_EQ(beanctl({"exec", id, "sh", "-c", cmd + " > /tmp/" + out + " 2>&1 &"}).code, 0);
        std::string line;
        for (int i = 0; i < 1000 && line.find('\n') == std::string::npos; ++i) {
            line = slurp(path);
            if (line.find('\n') == std::string::npos) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return line;
    }
    // One running container's beancounters as `beanctl ubc CTID --json` gives them.
    static nlohmann::json ubc_json(const std::string& id) {
        auto r = beanctl({"ubc", id, "--json"});
        EXPECT_EQ(r.code, 0) << r.err;
        auto j = nlohmann::json::parse(r.out);
        EXPECT_EQ(j.size(), 1u);
        return j.at(0);
    }
    static std::string run_dir() { return root_->path() + "/run"; }
    static std::string template_dir() { return root_->path() + "/template"; }
    static std::string etc() { return root_->path() + "/etc"; }
    static const std::string& prefix() { return prefix_; }

    static bc::cgroup::Layout layout() { return bc::cgroup::Layout::detect_host().value(); }
    // The container's cgroup nodes, in every hierarchy it uses.
    static std::vector<std::string> ct_nodes(unsigned id) {
        std::vector<std::string> out;
        for (const auto& n : bc::cgroup::CtGroup(layout(), "", prefix_, id).nodes()) out.push_back(n.path);
        return out;
    }
    // Every hierarchy's <mount>/<prefix> directory.
    static std::vector<std::string> prefix_dirs() {
        auto l = layout();
        std::vector<std::string> out{l.v2_mount + "/" + prefix_};
        for (const auto& h : l.v1) out.push_back(h.mount + "/" + prefix_);
        return out;
    }
    // The pinned link's info (id 0 if it is not pinned).
    static bpf_link_info pinned_link(const std::string& name) {
        bpf_link_info info{};
        int fd = ::bpf_obj_get((bpf_dir() + "/" + name).c_str());
        if (fd < 0) return info;
        __u32 len = sizeof info;
        if (::bpf_obj_get_info_by_fd(fd, &info, &len) < 0) info = {};
        ::close(fd);
        return info;
    }
    // Makes the pinned programs look like another build: the next start loads this build's
    // programs against the pinned maps and swaps them in.
    static void pretend_another_build() {
        int meta = ::bpf_obj_get((bpf_dir() + "/bc_meta").c_str());
        ASSERT_GE(meta, 0);
        bc_meta m{};
        __u32 key = 0;
        EXPECT_EQ(::bpf_map_lookup_elem(meta, &key, &m), 0);
        m.build_id ^= 1;
        EXPECT_EQ(::bpf_map_update_elem(meta, &key, &m, BPF_ANY), 0);
        ::close(meta);
    }
    static void reap_orphans() {
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {
        }
    }

    // The first-level cgroups of every hierarchy: a container must never add one (all of its
    // cgroups, and those its own init makes, belong below the prefix).
    static std::set<std::string> top_cgroups() {
        std::set<std::string> out;
        auto l = layout();
        std::vector<std::string> roots{l.v2_mount};
        for (const auto& h : l.v1) roots.push_back(h.mount);
        for (const auto& r : roots)
            for (const auto& e : std::filesystem::directory_iterator(r))
                if (e.is_directory() && e.path().filename().string().find(prefix_) != 0) out.insert(e.path());
        return out;
    }

    // No cgroup, mount or process of this test process's containers remains. (The prefix
    // nodes stay until the suite's `beanctl unload`, with no cgroup below them.)
    void expect_nothing_left() {
        reap_orphans();
        for (const auto& c : top_cgroups())
            EXPECT_TRUE(top_cgroups_before_.count(c)) << "a cgroup appeared outside the prefix: " << c;
        for (const auto& d : prefix_dirs()) {
            if (!std::filesystem::exists(d)) continue;
            for (const auto& e : std::filesystem::directory_iterator(d))
                EXPECT_FALSE(e.is_directory()) << "cgroup left: " << e.path();
        }
        const auto mounts = bc::fs::mount_points().value();
        for (const auto& m : mounts)
            EXPECT_EQ(m.find(root_->path()), std::string::npos) << "mount left: " << m;
        for (const auto& p : std::filesystem::directory_iterator("/proc")) {
            std::string name = p.path().filename();
            if (name.find_first_not_of("0123456789") != std::string::npos) continue;
            std::string cg = slurp(p.path().string() + "/cgroup");
            EXPECT_EQ(cg.find("/" + prefix_ + "/"), std::string::npos) << "process left: pid " << name << "\n" << cg;
        }
    }

    std::vector<unsigned> ids_;
    std::set<std::string> top_cgroups_before_;
    static inline TempDir* root_ = nullptr;
    static inline std::string prefix_;
};

}  // namespace bctest
