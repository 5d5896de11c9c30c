// Which cgroup layout the host has, found at run time from /proc/self/mountinfo:
//  - unified: cgroup2 only (most production hosts), controllers in cgroup2;
//  - hybrid: cgroup2 (where BPF attaches) plus v1 hierarchies that hold the controllers.
// A host without cgroup2 is not supported (BPF cgroup programs need it).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace bc::cgroup {

// The controllers a container uses.
inline constexpr std::string_view kControllers[] = {"memory", "pids", "cpu", "cpuacct"};

enum class Mode { unified, hybrid };
std::string_view mode_name(Mode m);

struct V1Hierarchy {
    std::string mount;                     // where it is mounted
    std::vector<std::string> controllers;  // e.g. {"cpu", "cpuacct"}; empty for a named hierarchy
    std::string name;                      // "systemd" for name=systemd, else empty
    // "cpu,cpuacct" or "name=systemd": how the hierarchy is shown in /proc/<pid>/cgroup.
    std::string label() const;
};

struct Layout {
    Mode mode = Mode::unified;
    std::string v2_mount;                     // cgroup2 mount point
    std::vector<std::string> v2_controllers;  // listed in <v2_mount>/cgroup.controllers
    // Every v1 hierarchy, named ones included: a container gets a node in each, so that its
    // cgroup namespace is rooted at its own node everywhere and nothing it (or its systemd)
    // does in a v1 hierarchy lands outside the project's subtree.
    std::vector<V1Hierarchy> v1;

    // Parses mountinfo text; reads <v2_mount>/cgroup.controllers from the file system (so a
    // unit test can point the mounts at a fake tree).
    static Result<Layout> detect(std::string_view mountinfo);
    static Result<Layout> detect_host();

    bool v2_has(std::string_view controller) const;
    // The v1 mount that holds a controller, if any.
    std::optional<std::string> v1_mount_of(std::string_view controller) const;
    // "v2", "v1" or "missing": where a controller is served from. A controller bound to v1
    // is never available in cgroup2 on the same host.
    std::string_view where(std::string_view controller) const;
};

}  // namespace bc::cgroup
