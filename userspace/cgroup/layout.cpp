#include "cgroup/layout.h"

#include <algorithm>
#include <sstream>

#include "cgroup/files.h"
#include "core/fs.h"

namespace bc::cgroup {

std::string_view mode_name(Mode m) { return m == Mode::unified ? "unified" : "hybrid"; }

namespace {
std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos <= s.size()) {
        size_t n = s.find(sep, pos);
        if (n == std::string_view::npos) n = s.size();
        if (n > pos) out.emplace_back(s.substr(pos, n - pos));
        pos = n + 1;
    }
    return out;
}

}  // namespace

Result<Layout> Layout::detect(std::string_view mountinfo) {
    Layout l;
    bool have_v2 = false;
    std::istringstream in{std::string(mountinfo)};
    std::string line;
    while (std::getline(in, line)) {
        auto sep = line.find(" - ");
        if (sep == std::string::npos) continue;
        auto pre = split(std::string_view(line).substr(0, sep), ' ');
        auto post = split(std::string_view(line).substr(sep + 3), ' ');
        if (pre.size() < 5 || post.size() < 3) continue;
        const std::string mp = fs::unescape_mountinfo(pre[4]);
        const std::string& fstype = post[0];
        if (fstype == "cgroup2") {
            if (!have_v2) {
                have_v2 = true;
                l.v2_mount = mp;
            }
        } else if (fstype == "cgroup") {
            V1Hierarchy h{mp, {}, {}};
            for (auto& opt : split(post[2], ',')) {
                if (opt.starts_with("name="))
                    h.name = opt.substr(5);
                else if (opt != "rw" && opt != "ro" && opt != "xattr" && opt != "noprefix" && opt != "clone_children" &&
                         !opt.starts_with("release_agent=") && !opt.starts_with("cpuset_v2_mode"))
                    h.controllers.push_back(opt);
            }
            if (h.controllers.empty() && h.name.empty()) continue;
            // The same hierarchy may be mounted more than once (bind mounts): keep the first.
            bool dup = std::any_of(l.v1.begin(), l.v1.end(), [&](const V1Hierarchy& o) {
                return o.controllers == h.controllers && o.name == h.name;
            });
            if (!dup) l.v1.push_back(std::move(h));
        }
    }
    if (!have_v2)
        return fail("no cgroup2 file system is mounted; beancounter needs cgroup2 (pure, or hybrid beside v1 controllers)");
    std::string ctl;
    if (auto r = fs::read_file(fs::join(l.v2_mount, file::controllers)); r)
        ctl = *r;
    else
        return std::unexpected(r.error().wrap("reading the cgroup2 root"));
    l.v2_controllers = split(ctl.substr(0, ctl.find('\n')), ' ');
    l.mode = l.v1.empty() ? Mode::unified : Mode::hybrid;
    return l;
}

Result<Layout> Layout::detect_host() {
    auto mi = BC_TRY(fs::read_file("/proc/self/mountinfo"));
    return detect(mi);
}

std::string V1Hierarchy::label() const {
    if (!name.empty()) return "name=" + name;
    std::string out;
    for (const auto& c : controllers) out += (out.empty() ? "" : ",") + c;
    return out;
}

bool Layout::v2_has(std::string_view c) const {
    return std::find(v2_controllers.begin(), v2_controllers.end(), c) != v2_controllers.end();
}

std::optional<std::string> Layout::v1_mount_of(std::string_view c) const {
    for (const auto& h : v1)
        if (std::find(h.controllers.begin(), h.controllers.end(), c) != h.controllers.end()) return h.mount;
    return std::nullopt;
}

std::string_view Layout::where(std::string_view c) const {
    if (v1_mount_of(c)) return "v1";
    // cgroup2 has no cpuacct: cpu usage comes from cpu.stat, which exists without the controller.
    if (c == "cpuacct") return "v2";
    if (v2_has(c)) return "v2";
    return "missing";
}

}  // namespace bc::cgroup
