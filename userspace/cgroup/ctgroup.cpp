#include "cgroup/ctgroup.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fmt/format.h>
#include <span>
#include <sstream>
#include <thread>

#include "cgroup/files.h"
#include "core/fs.h"
#include "core/log.h"

namespace bc::cgroup {

namespace {
std::string rel_prefix(const std::string& parent, const std::string& prefix) {
    return parent.empty() ? prefix : parent + "/" + prefix;
}

// rmdir of a cgroup subtree, leaves first. Only directories: cgroupfs files go with them.
Result<> rmdir_tree(const std::string& path) {
    auto subdirs = fs::list_subdirs(path);
    if (!subdirs) return subdirs.error().err == ENOENT ? Result<>() : std::unexpected(subdirs.error());
    for (const auto& e : *subdirs) BC_TRYV(rmdir_tree(path + "/" + e));
    // A cgroup whose last process just exited can stay busy for a moment.
    for (int i = 0; i < 50; ++i) {
        if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return {};
        if (errno != EBUSY) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return fail_sys(fmt::format("removing cgroup {}", path));
}

// A v1 cpuset starts with no CPUs and no memory nodes, and refuses tasks until it has
// some: give a new node its parent's. Called for the hierarchy that holds cpuset only.
Result<> inherit_cpuset(const std::string& node) {
    for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
        std::string mine;
        // Absent: a fake tree, or a hierarchy mounted with noprefix.
        if (!BC_TRY(fs::read_file_if_exists(fs::join(node, f), mine))) return {};
        if (mine.find_first_not_of(" \n") != std::string::npos) continue;
        std::string parent = BC_TRY(fs::read_file(fs::join(node.substr(0, node.rfind('/')), f)));
        while (!parent.empty() && parent.back() == '\n') parent.pop_back();
        BC_TRYV(fs::write_existing(fs::join(node, f), parent));
    }
    return {};
}

Result<> mkdir_node(const std::string& path) {
    if (::mkdir(path.c_str(), 0755) < 0 && errno != EEXIST) return fail_sys(fmt::format("creating cgroup {}", path));
    return {};
}
}  // namespace

CtGroup::CtGroup(const Layout& layout, std::string parent, std::string prefix, Ctid id) : layout_(&layout) {
    std::string rel = rel_prefix(parent, prefix);
    v2_prefix_ = fs::join(layout.v2_mount, rel);
    v2_path_ = fmt::format("{}/{}", v2_prefix_, id);
    std::istringstream parts(rel);
    for (std::string c; std::getline(parts, c, '/');) level_ += !c.empty();
    ++level_;
    for (const auto& h : layout.v1) {
        std::string pfx = fs::join(h.mount, rel);
        v1_prefixes_.push_back(pfx);
        v1_.push_back(Node{h.label(), fmt::format("{}/{}", pfx, id)});
    }
}

std::vector<Node> CtGroup::nodes() const {
    std::vector<Node> out{Node{"cgroup2", v2_path_}};
    out.insert(out.end(), v1_.begin(), v1_.end());
    return out;
}

std::string CtGroup::node_of(std::string_view controller) const {
    for (const auto& n : v1_) {
        std::istringstream in(n.hierarchy);
        std::string c;
        while (std::getline(in, c, ','))
            if (c == controller) return n.path;
    }
    return v2_path_;
}

Result<> CtGroup::create() {
    // The parent must exist already (it is the admin's or systemd's); only the prefix and the
    // container's node are ours.
    std::string v2_parent = v2_prefix_.substr(0, v2_prefix_.rfind('/'));
    if (!fs::is_dir(v2_parent)) return fail(fmt::format("cgroup parent {} does not exist", v2_parent));
    for (int attempt = 0;; ++attempt) {
        BC_TRYV(mkdir_node(v2_prefix_));
        // Let the prefix hand the controllers it has on to the containers.
        std::string avail;
        if (auto r = fs::read_file(fs::join(v2_prefix_, file::controllers)); r) avail = *r;
        std::string enable;
        for (auto c : {"memory", "pids", "cpu"}) {
            std::istringstream in(avail);
            std::string w;
            while (in >> w)
                if (w == c) enable += fmt::format("+{} ", c);
        }
        if (!enable.empty()) {
            enable.pop_back();
            if (auto r = fs::write_existing(fs::join(v2_prefix_, file::subtree_control), enable); !r)
                log::warn("{}", r.error().msg);
        }
        if (::mkdir(v2_path_.c_str(), 0755) == 0 || errno == EEXIST) break;
        // A concurrent stop may have removed the empty prefix between the two mkdirs.
        if (errno != ENOENT || attempt > 3) return fail_sys(fmt::format("creating cgroup {}", v2_path_));
    }
    for (size_t i = 0; i < v1_.size(); ++i) {
        const auto& ctrl = layout_->v1[i].controllers;
        const bool cpuset = std::find(ctrl.begin(), ctrl.end(), "cpuset") != ctrl.end();
        for (int attempt = 0;; ++attempt) {
            BC_TRYV(mkdir_node(v1_prefixes_[i]));
            if (cpuset) BC_TRYV(inherit_cpuset(v1_prefixes_[i]));
            if (::mkdir(v1_[i].path.c_str(), 0755) == 0 || errno == EEXIST) break;
            if (errno != ENOENT || attempt > 3) return fail_sys(fmt::format("creating cgroup {}", v1_[i].path));
        }
        if (cpuset) BC_TRYV(inherit_cpuset(v1_[i].path));
    }
    return {};
}

Result<> CtGroup::delegate(uid_t uid, gid_t gid) const {
    for (const auto& n : nodes()) {
        if (::chown(n.path.c_str(), uid, gid) < 0) return fail_sys(fmt::format("handing {} to the container", n.path));
        static constexpr const char* kV2[] = {file::procs, file::threads, file::subtree_control};
        static constexpr const char* kV1[] = {file::procs, file::v1_tasks};
        for (const char* f : n.hierarchy == "cgroup2" ? std::span<const char* const>(kV2) : std::span<const char* const>(kV1)) {
            std::string p = fs::join(n.path, f);
            if (::chown(p.c_str(), uid, gid) < 0 && errno != ENOENT)
                return fail_sys(fmt::format("handing {} to the container", p));
        }
    }
    return {};
}

Result<Fd> CtGroup::open_v2() const {
    Fd fd(::open(v2_path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return fail_sys(fmt::format("opening cgroup {}", v2_path_));
    return fd;
}

Result<std::vector<Fd>> CtGroup::open_self_join() const {
    std::vector<std::string> paths{fs::join(v2_path_, file::procs)};
    for (const auto& n : v1_) paths.push_back(fs::join(n.path, file::v1_tasks));
    std::vector<Fd> out;
    for (const auto& p : paths) {
        Fd fd(::open(p.c_str(), O_WRONLY | O_CLOEXEC));
        if (!fd) return fail_sys(fmt::format("opening {}", p));
        out.push_back(std::move(fd));
    }
    return out;
}

int CtGroup::join_self(std::span<const Fd> files) noexcept {
    for (const auto& fd : files)
        if (::write(fd.get(), "0", 1) != 1) return errno;
    return 0;
}

Result<std::vector<pid_t>> CtGroup::procs() const {
    std::vector<pid_t> out;
    std::vector<std::string> stack{v2_path_};
    while (!stack.empty()) {
        std::string dir = stack.back();
        stack.pop_back();
        std::string text;
        auto r = fs::read_file_if_exists(fs::join(dir, file::procs), text);
        if (!r) return std::unexpected(r.error());
        if (!*r) continue;
        std::istringstream in(text);
        pid_t p;
        while (in >> p) out.push_back(p);
        auto subdirs = fs::list_subdirs(dir);
        if (!subdirs) continue;
        for (const auto& e : *subdirs) stack.push_back(dir + "/" + e);
    }
    return out;
}

Result<bool> CtGroup::populated() const {
    std::string text;
    auto r = fs::read_file_if_exists(fs::join(v2_path_, file::events), text);
    if (!r) return std::unexpected(r.error());
    if (!*r) return false;
    return text.find("populated 1") != std::string::npos;
}

Result<> CtGroup::kill_all(unsigned timeout_ms) const {
    if (!fs::exists(v2_path_)) return {};
    const bool have_kill = fs::exists(fs::join(v2_path_, file::kill));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        if (!BC_TRY(populated())) return {};
        if (have_kill) {
            BC_TRYV(fs::write_existing(fs::join(v2_path_, file::kill), "1"));
        } else {
            for (pid_t p : BC_TRY(procs())) ::kill(p, SIGKILL);
        }
        if (std::chrono::steady_clock::now() > deadline)
            return fail(fmt::format("processes remain in {} after SIGKILL", v2_path_));
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

Result<> CtGroup::remove() const {
    for (const auto& n : nodes()) BC_TRYV(rmdir_tree(n.path));
    return {};
}

bool CtGroup::exists() const {
    if (fs::exists(v2_path_)) return true;
    return std::any_of(v1_.begin(), v1_.end(), [](const Node& n) { return fs::exists(n.path); });
}

Result<std::uint64_t> CtGroup::id() const {
    // On 64-bit kernels the kernfs node id is the inode number of the cgroup directory.
    struct stat st;
    if (::stat(v2_path_.c_str(), &st) < 0) return fail_sys(fmt::format("stat {}", v2_path_));
    return static_cast<std::uint64_t>(st.st_ino);
}

std::vector<std::string> prefix_nodes(const Layout& layout, const std::string& parent, const std::string& prefix) {
    const std::string rel = rel_prefix(parent, prefix);
    std::vector<std::string> out{fs::join(layout.v2_mount, rel)};
    for (const auto& h : layout.v1) out.push_back(fs::join(h.mount, rel));
    return out;
}

Result<std::vector<std::string>> ct_nodes_below(const Layout& layout, const std::string& parent, const std::string& prefix) {
    auto subdirs = fs::list_subdirs(prefix_nodes(layout, parent, prefix).front());
    if (!subdirs && subdirs.error().err == ENOENT) return std::vector<std::string>{};
    return subdirs;
}

Result<> remove_prefix_nodes(const Layout& layout, const std::string& parent, const std::string& prefix) {
    for (const auto& p : prefix_nodes(layout, parent, prefix)) {
        auto below = fs::list_subdirs(p);
        if (!below) {
            if (below.error().err == ENOENT) continue;
            return std::unexpected(below.error());
        }
        if (!below->empty())
            return fail(Error{EBUSY, fmt::format("not removing cgroup {}: a container's cgroup ({}) is below it", p, below->front())});
        BC_TRYV(rmdir_tree(p));  // waits while a child removed moments ago keeps it busy
    }
    return {};
}

}  // namespace bc::cgroup
