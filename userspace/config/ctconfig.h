// One container's configuration file (<conf_dir>/ct/<CTID>.conf), validated on load.
#pragma once

#include <array>
#include <optional>
#include <string>

#include "beancounter_abi.h"
#include "config/conffile.h"
#include "config/ctid.h"
#include "config/devices.h"
#include "config/ipaddr.h"
#include "config/netif.h"
#include "config/limits.h"
#include "config/settings.h"

namespace bc {

struct CtConfig {
    Ctid id = 0;
    std::string ostemplate;
    std::string hostname;
    std::string ve_root;      // expanded
    std::string ve_private;   // expanded
    std::string init = "/sbin/init";
    int stop_signal = 15;     // SIGTERM; systemd-style inits want SIGRTMIN+3
    unsigned stop_timeout = 0;  // 0 = the global default
    // Own user namespace (USERNS="yes", the default for new containers): the container's
    // ids 0..userns_size-1 are host ids userns_base.. (USERNS_BASE, USERNS_SIZE). A config
    // without USERNS predates user namespaces and runs without one, with a warning.
    bool userns = false;
    std::uint32_t userns_base = 0;
    std::uint32_t userns_size = 0;
    // Addresses in routed mode (IP_ADDRESS, space-separated, as vzctl's).
    std::vector<IpAddr> ips;
    // Bridged interfaces (NETIF), each a veth pair made at start.
    std::vector<NetIf> netifs;
    // Host interfaces moved into the container at start (NETDEV, space-separated names).
    std::vector<std::string> netdevs;
    // Resolver of the container (NAMESERVER, SEARCHDOMAIN: space-separated, as vzctl's).
    std::vector<std::string> nameservers;
    std::vector<std::string> searchdomains;
    // Device grants beyond the defaults (DEVICES; "none" rules revoke a default) and host
    // device nodes shown in the container's /dev (DEVNODES).
    std::vector<DeviceRule> devices;
    std::vector<DevNode> devnodes;
    std::array<std::optional<Limit>, BC_RES_COUNT> limits{};  // from NUMPROC="b:l" etc.
    ConfFile file;            // the text as read, for saving back with comments

    // Parses a loaded file with the global defaults for paths.
    static Result<CtConfig> from_file(ConfFile f, Ctid id, const Settings& s);
    static Result<CtConfig> load(Ctid id, const Settings& s);
    // Writes every field back into `file` and saves it atomically.
    Result<> save(const Settings& s);
};

// Host names as in RFC 1123: labels of [A-Za-z0-9-], not starting or ending with '-', 1-63
// characters each, 253 in all.
bool valid_hostname(std::string_view h);
// A host interface name a container may be given (NETDEV): [A-Za-z0-9_.-], 1-15
// characters, not "lo" and not a container's link (bc<digits>).
bool valid_ifname(std::string_view n);
// Any interface name the kernel takes: [A-Za-z0-9_.-], 1-15 characters, not "." or "..".
bool valid_link_name(std::string_view n);
// An IPv4 or IPv6 address (no prefix).
bool valid_ip(std::string_view a);
// Template names: [a-z0-9][a-z0-9._-]*, at most 64 characters.
bool valid_template_name(std::string_view t);
// Signal by name ("TERM", "SIGTERM", "RTMIN+3") or number.
Result<int> parse_signal(std::string_view s);
std::string signal_name(int sig);

}  // namespace bc
