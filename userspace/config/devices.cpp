#include "config/devices.h"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>

namespace bc {

namespace {
std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    size_t pos = 0;
    for (;;) {
        size_t at = s.find(sep, pos);
        out.push_back(s.substr(pos, at == std::string_view::npos ? std::string_view::npos : at - pos));
        if (at == std::string_view::npos) return out;
        pos = at + 1;
    }
}
std::vector<std::string_view> words(std::string_view s) {
    std::vector<std::string_view> out;
    for (auto w : split(s, ' '))
        if (!w.empty()) out.push_back(w);
    return out;
}
Result<std::uint32_t> parse_access(std::string_view a, bool allow_m, std::string_view whole) {
    if (a == "none") return 0u;
    std::uint32_t acc = 0;
    for (char c : a) {
        std::uint32_t bit = c == 'r' ? std::uint32_t{kDevRead} : c == 'w' ? std::uint32_t{kDevWrite} : (c == 'm' && allow_m) ? std::uint32_t{kDevMknod} : 0u;
        if (!bit || (acc & bit)) return fail(fmt::format("'{}': access must be r, w{} or none", whole, allow_m ? ", m" : ""));
        acc |= bit;
    }
    if (!acc) return fail(fmt::format("'{}': access is missing", whole));
    return acc;
}
}  // namespace

std::string format_access(std::uint32_t access) {
    std::string a;
    if (access & kDevRead) a += 'r';
    if (access & kDevWrite) a += 'w';
    if (access & kDevMknod) a += 'm';
    return a.empty() ? "none" : a;
}

Result<DeviceRule> parse_device_rule(std::string_view s) {
    auto f = split(s, ':');
    if (f.size() != 4 || (f[0] != "c" && f[0] != "b"))
        return fail(fmt::format("'{}': a device rule is c|b:MAJOR:MINOR:ACCESS (e.g. c:10:200:rw)", s));
    DeviceRule r;
    r.type = f[0][0];
    auto num = [&](std::string_view v, const char* what) -> Result<std::uint32_t> {
        if (v == "*" || v == "all") return kDevAny;
        std::uint32_t n = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        // Linux device numbers: 12-bit majors, 20-bit minors.
        std::uint32_t max = std::string_view(what) == "major" ? 4095 : 1048575;
        if (v.empty() || ec != std::errc() || p != v.data() + v.size() || n > max)
            return fail(fmt::format("'{}': {} must be a number from 0 to {}, '*' or 'all'", s, what, max));
        return n;
    };
    r.major = BC_TRY(num(f[1], "major"));
    r.minor = BC_TRY(num(f[2], "minor"));
    if (r.major == kDevAny && r.minor != kDevAny) return fail(fmt::format("'{}': a rule for all majors covers all minors", s));
    r.access = BC_TRY(parse_access(f[3], true, s));
    return r;
}

std::string format_device_rule(const DeviceRule& r) {
    auto n = [](std::uint32_t v) { return v == kDevAny ? std::string("*") : std::to_string(v); };
    return fmt::format("{}:{}:{}:{}", r.type, n(r.major), n(r.minor), format_access(r.access));
}

Result<std::vector<DeviceRule>> parse_device_rules(std::string_view s) {
    std::vector<DeviceRule> out;
    for (auto w : words(s)) out.push_back(BC_TRY(parse_device_rule(w)));
    return out;
}

std::string format_device_rules(const std::vector<DeviceRule>& rules) {
    std::string out;
    for (const auto& r : rules) out += (out.empty() ? "" : " ") + format_device_rule(r);
    return out;
}

void merge_device_rules(std::vector<DeviceRule>& into, const std::vector<DeviceRule>& rules) {
    for (const auto& r : rules) {
        auto it = std::find_if(into.begin(), into.end(), [&](const DeviceRule& o) { return o.same_device(r); });
        if (it != into.end()) into.erase(it);
        into.push_back(r);
    }
}

const std::vector<DeviceRule>& default_device_rules() {
    const std::uint32_t rwm = kDevRead | kDevWrite | kDevMknod;
    static const std::vector<DeviceRule> d = {
        {'c', 1, 3, rwm},  // null
        {'c', 1, 5, rwm},  // zero
        {'c', 1, 7, rwm},  // full
        {'c', 1, 8, rwm},  // random
        {'c', 1, 9, rwm},  // urandom
        {'c', 5, 0, rwm},  // tty
        {'c', 5, 2, rwm},  // ptmx
        {'c', 136, kDevAny, kDevRead | kDevWrite},  // pts
    };
    return d;
}

Result<DevNode> parse_devnode(std::string_view s) {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return fail(fmt::format("'{}': a device node is NAME:ACCESS (e.g. net/tun:rw)", s));
    DevNode n;
    n.name = std::string(s.substr(0, colon));
    bool ok = !n.name.empty() && n.name.size() <= 255 && n.name.front() != '/' && n.name.back() != '/';
    for (char c : n.name)
        ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '+' || c == '-' || c == '/');
    for (auto part : split(n.name, '/')) ok = ok && !part.empty() && part != "." && part != "..";
    if (!ok) return fail(fmt::format("'{}': the node's name is a path below /dev without '..' (e.g. net/tun)", s));
    n.access = BC_TRY(parse_access(s.substr(colon + 1), false, s));
    return n;
}

Result<std::vector<DevNode>> parse_devnodes(std::string_view s) {
    std::vector<DevNode> out;
    for (auto w : words(s)) out.push_back(BC_TRY(parse_devnode(w)));
    return out;
}

std::string format_devnodes(const std::vector<DevNode>& nodes) {
    std::string out;
    for (const auto& n : nodes) out += fmt::format("{}{}:{}", out.empty() ? "" : " ", n.name, format_access(n.access));
    return out;
}

void merge_devnodes(std::vector<DevNode>& into, const std::vector<DevNode>& nodes) {
    for (const auto& n : nodes) {
        std::erase_if(into, [&](const DevNode& o) { return o.name == n.name; });
        if (n.access) into.push_back(n);
    }
}

}  // namespace bc
