// Device access of a container: allowlist rules (DEVICES="c:10:200:rw ...", vzctl's
// --devices) and host device nodes made visible inside (DEVNODES="net/tun:rw ...", vzctl's
// --devnodes). Enforced by bpf/dev.bpf.c.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace bc {

inline constexpr std::uint32_t kDevAny = 0xffffffffu;  // every major or minor
enum DevAccess : std::uint32_t { kDevMknod = 1, kDevRead = 2, kDevWrite = 4 };

struct DeviceRule {
    char type = 'c';                 // 'c' or 'b'
    std::uint32_t major = 0, minor = 0;  // kDevAny: all
    std::uint32_t access = 0;        // DevAccess bits; 0 = none (revokes)
    bool same_device(const DeviceRule& o) const { return type == o.type && major == o.major && minor == o.minor; }
    friend bool operator==(const DeviceRule&, const DeviceRule&) = default;
};

// "c:10:200:rw", "b:8:*:r", "c:136:all:rwm", "c:10:200:none". Access letters r, w, m in any
// order (vzctl wrote "rw"); "none" revokes.
Result<DeviceRule> parse_device_rule(std::string_view s);
std::string format_device_rule(const DeviceRule& r);
// Space-separated rules (a config value).
Result<std::vector<DeviceRule>> parse_device_rules(std::string_view s);
std::string format_device_rules(const std::vector<DeviceRule>& rules);
// Applies rules in order onto a list: a rule for the same device replaces the earlier one;
// "none" removes it.
void merge_device_rules(std::vector<DeviceRule>& into, const std::vector<DeviceRule>& rules);

// What every container gets: null zero full random urandom tty ptmx, and all pts.
const std::vector<DeviceRule>& default_device_rules();

// A host device node made visible in the container at /dev/<name>.
struct DevNode {
    std::string name;          // relative to /dev: "net/tun", "fuse"
    std::uint32_t access = 0;  // r, w (m makes no sense for an existing node)
    friend bool operator==(const DevNode&, const DevNode&) = default;
};
// "net/tun:rw"; the name has no "..", no leading '/', only [A-Za-z0-9_.+-/].
Result<DevNode> parse_devnode(std::string_view s);
Result<std::vector<DevNode>> parse_devnodes(std::string_view s);
std::string format_devnodes(const std::vector<DevNode>& nodes);
void merge_devnodes(std::vector<DevNode>& into, const std::vector<DevNode>& nodes);
std::string format_access(std::uint32_t access);

}  // namespace bc
