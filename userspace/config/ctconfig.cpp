#include "config/ctconfig.h"

#include <arpa/inet.h>
#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <fmt/format.h>

#include "acct/resources.h"

namespace bc {

bool valid_hostname(std::string_view h) {
    if (h.empty() || h.size() > 253) return false;
    size_t pos = 0;
    while (pos <= h.size()) {
        size_t dot = h.find('.', pos);
        if (dot == std::string_view::npos) dot = h.size();
        std::string_view label = h.substr(pos, dot - pos);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
        for (char c : label)
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) return false;
        pos = dot + 1;
    }
    return true;
}

bool valid_link_name(std::string_view n) {
    if (n.empty() || n.size() > 15 || n == "." || n == "..") return false;
    for (char c : n)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
    return true;
}

bool valid_ifname(std::string_view n) {
    if (!valid_link_name(n) || n == "lo") return false;
    // bc<digits>: the host side of a container's link.
    bool ours = n.size() > 2 && n.substr(0, 2) == "bc";
    for (size_t i = 2; ours && i < n.size(); ++i) ours = std::isdigit(static_cast<unsigned char>(n[i])) != 0;
    return !ours;
}

bool valid_ip(std::string_view a) {
    std::string s(a);
    unsigned char buf[16];
    return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool valid_template_name(std::string_view t) {
    if (t.empty() || t.size() > 64) return false;
    if (!(std::islower(static_cast<unsigned char>(t[0])) || std::isdigit(static_cast<unsigned char>(t[0])))) return false;
    for (char c : t)
        if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '.' ||
              c == '_' || c == '-'))
            return false;
    return true;
}

Result<int> parse_signal(std::string_view s) {
    std::string_view n = s;
    if (n.starts_with("SIG")) n.remove_prefix(3);
    int v = 0;
    if (!n.empty() && std::isdigit(static_cast<unsigned char>(n[0]))) {
        auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
        if (ec == std::errc() && p == n.data() + n.size() && v > 0 && v < NSIG) return v;
        return fail(fmt::format("invalid signal '{}'", s));
    }
    if (n.starts_with("RTMIN")) {
        int off = 0;
        if (n.size() > 5) {
            if (n[5] != '+') return fail(fmt::format("invalid signal '{}'", s));
            auto tail = n.substr(6);
            auto [p, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), off);
            if (ec != std::errc() || p != tail.data() + tail.size()) return fail(fmt::format("invalid signal '{}'", s));
        }
        if (SIGRTMIN + off > SIGRTMAX || off < 0) return fail(fmt::format("invalid signal '{}'", s));
        return SIGRTMIN + off;
    }
    for (int i = 1; i < SIGRTMIN; ++i) {
        const char* abbrev = ::sigabbrev_np(i);
        if (abbrev && n == abbrev) return i;
    }
    return fail(fmt::format("invalid signal '{}'", s));
}

std::string signal_name(int sig) {
    if (sig >= SIGRTMIN && sig <= SIGRTMAX) return sig == SIGRTMIN ? "RTMIN" : fmt::format("RTMIN+{}", sig - SIGRTMIN);
    const char* abbrev = ::sigabbrev_np(sig);
    return abbrev ? abbrev : std::to_string(sig);
}

Result<CtConfig> CtConfig::from_file(ConfFile f, Ctid id, const Settings& s) {
    CtConfig c;
    c.id = id;
    auto where = [&](std::string_view key) {
        int line = f.line_of(key);
        return line ? fmt::format("{}:{}", f.name(), line) : f.name();
    };
    if (!f.get("OSTEMPLATE")) return fail(fmt::format("{}: OSTEMPLATE is missing", f.name()));
    c.ostemplate = *f.get("OSTEMPLATE");
    if (!valid_template_name(c.ostemplate))
        return fail(fmt::format("{}: OSTEMPLATE '{}' is not a valid template name", where("OSTEMPLATE"), c.ostemplate));
    c.hostname = f.get("HOSTNAME").value_or(fmt::format("ct{}", id));
    if (!valid_hostname(c.hostname))
        return fail(fmt::format("{}: HOSTNAME '{}' is not a valid host name", where("HOSTNAME"), c.hostname));
    c.ve_root = expand_veid(f.get("VE_ROOT").value_or(s.ve_root), id);
    c.ve_private = expand_veid(f.get("VE_PRIVATE").value_or(s.ve_private), id);
    for (auto [val, key] : {std::pair{&c.ve_root, "VE_ROOT"}, {&c.ve_private, "VE_PRIVATE"}}) {
        if (!valid_abs_path(*val))
            return fail(fmt::format("{}: {} must be an absolute path without '..'", where(key), key));
    }
    if (auto v = f.get("INIT")) {
        if (v->empty() || (*v)[0] != '/') return fail(fmt::format("{}: INIT must be an absolute path", where("INIT")));
        c.init = *v;
    }
    if (auto v = f.get("STOP_SIGNAL")) {
        auto sig = parse_signal(*v);
        if (!sig) return fail(sig.error().wrap(where("STOP_SIGNAL")));
        c.stop_signal = *sig;
    }
    if (auto v = f.get("STOP_TIMEOUT")) {
        auto t = ConfFile::parse_uint(*v, 1, 86400);
        if (!t) return fail(fmt::format("{}: STOP_TIMEOUT must be a number of seconds from 1 to 86400", where("STOP_TIMEOUT")));
        c.stop_timeout = *t;
    }
    {
        auto v = f.get("USERNS");
        if (v && *v != "yes" && *v != "no") return fail(fmt::format("{}: USERNS must be yes or no", where("USERNS")));
        c.userns = v ? *v == "yes" : f.get("USERNS_BASE").has_value();
        if (c.userns) {
            auto base = f.get("USERNS_BASE");
            auto b = base ? ConfFile::parse_uint(*base, 1, UINT32_MAX - kCtIdRangeSize) : std::nullopt;
            if (!b)
                return fail(fmt::format("{}: USERNS_BASE must be the first host id of the container's range (1 to {})",
                                        where(base ? "USERNS_BASE" : "USERNS"), UINT32_MAX - kCtIdRangeSize));
            auto n = ConfFile::parse_uint(f.get("USERNS_SIZE").value_or(std::to_string(kCtIdRangeSize)), kCtIdRangeSize,
                                          UINT32_MAX - *b);
            if (!n)
                return fail(fmt::format("{}: USERNS_SIZE must be at least {} and end below 4294967295",
                                        where("USERNS_SIZE"), kCtIdRangeSize));
            c.userns_base = *b;
            c.userns_size = *n;
        }
    }
    auto words = [](std::string_view v) {
        std::vector<std::string> out;
        std::string w;
        for (char ch : v) {
            if (ch == ' ') {
                if (!w.empty()) out.push_back(std::move(w));
                w.clear();
            } else {
                w += ch;
            }
        }
        if (!w.empty()) out.push_back(std::move(w));
        return out;
    };
    if (auto v = f.get("NETIF")) {
        auto n = parse_netifs(*v);
        if (!n) return fail(n.error().wrap(fmt::format("{}: NETIF", where("NETIF"))));
        c.netifs = std::move(*n);
        name_host_sides(c.netifs, id);
    }
    if (auto v = f.get("NETDEV")) {
        c.netdevs = words(*v);
        for (const auto& n : c.netdevs)
            if (!valid_ifname(n)) return fail(fmt::format("{}: NETDEV '{}' is not an interface name a container may take", where("NETDEV"), n));
    }
    if (auto v = f.get("NAMESERVER")) {
        c.nameservers = words(*v);
        for (const auto& n : c.nameservers)
            if (!valid_ip(n)) return fail(fmt::format("{}: NAMESERVER '{}' is not an IPv4 or IPv6 address", where("NAMESERVER"), n));
    }
    if (auto v = f.get("SEARCHDOMAIN")) {
        c.searchdomains = words(*v);
        for (const auto& d : c.searchdomains)
            if (!valid_hostname(d)) return fail(fmt::format("{}: SEARCHDOMAIN '{}' is not a valid domain", where("SEARCHDOMAIN"), d));
    }
    if (auto v = f.get("IP_ADDRESS")) {
        auto ips = parse_ips(*v);
        if (!ips) return fail(ips.error().wrap(fmt::format("{}: IP_ADDRESS", where("IP_ADDRESS"))));
        c.ips = std::move(*ips);
    }
    if (auto v = f.get("DEVICES")) {
        auto d = parse_device_rules(*v);
        if (!d) return fail(d.error().wrap(fmt::format("{}: DEVICES", where("DEVICES"))));
        c.devices = std::move(*d);
    }
    if (auto v = f.get("DEVNODES")) {
        auto d = parse_devnodes(*v);
        if (!d) return fail(d.error().wrap(fmt::format("{}: DEVNODES", where("DEVNODES"))));
        c.devnodes = std::move(*d);
    }
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    for (const auto& r : acct::resources()) {
        if (r.unit == BC_UNIT_NONE) continue;
        if (auto v = f.get(r.config_key)) {
            auto l = parse_limit(*v, r.unit, page);
            if (!l) return fail(l.error().wrap(fmt::format("{}: {}", where(r.config_key), r.config_key)));
            c.limits[r.id] = *l;
        }
    }
    c.file = std::move(f);
    return c;
}

Result<CtConfig> CtConfig::load(Ctid id, const Settings& s) {
    auto f = ConfFile::load(s.ct_conf_path(id));
    if (!f) {
        if (f.error().err == ENOENT) return fail(Error{ENOENT, fmt::format("container {} does not exist", id)});
        return std::unexpected(f.error());
    }
    return from_file(std::move(*f), id, s);
}

Result<> CtConfig::save(const Settings& s) {
    file.set("OSTEMPLATE", ostemplate);
    file.set("HOSTNAME", hostname);
    // Recorded, as vzctl does: a later change of the global pattern must not lose the
    // container's files.
    file.set("VE_ROOT", ve_root);
    file.set("VE_PRIVATE", ve_private);
    file.set("INIT", init);
    file.set("STOP_SIGNAL", signal_name(stop_signal));
    if (stop_timeout) file.set("STOP_TIMEOUT", std::to_string(stop_timeout));
    auto join = [](const std::vector<std::string>& v) {
        std::string out;
        for (const auto& w : v) out += (out.empty() ? "" : " ") + w;
        return out;
    };
    if (!ips.empty() || file.get("IP_ADDRESS")) file.set("IP_ADDRESS", format_ips(ips));
    if (!netifs.empty() || file.get("NETIF")) file.set("NETIF", format_netifs(netifs));
    if (!netdevs.empty() || file.get("NETDEV")) file.set("NETDEV", join(netdevs));
    if (!nameservers.empty() || file.get("NAMESERVER")) file.set("NAMESERVER", join(nameservers));
    if (!searchdomains.empty() || file.get("SEARCHDOMAIN")) file.set("SEARCHDOMAIN", join(searchdomains));
    if (!devices.empty() || file.get("DEVICES")) file.set("DEVICES", format_device_rules(devices));
    if (!devnodes.empty() || file.get("DEVNODES")) file.set("DEVNODES", format_devnodes(devnodes));
    file.set("USERNS", userns ? "yes" : "no");
    if (userns) {
        file.set("USERNS_BASE", std::to_string(userns_base));
        file.set("USERNS_SIZE", std::to_string(userns_size));
    }
    for (const auto& r : acct::resources()) {
        if (r.unit == BC_UNIT_NONE) continue;
        if (limits[r.id]) file.set(r.config_key, format_limit(*limits[r.id]));
    }
    return file.save(s.ct_conf_path(id));
}

}  // namespace bc
