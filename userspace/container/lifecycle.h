// The vzctl role: create, start, stop, restart, destroy, mount, umount. Each operation takes
// the container's lock, works in checked steps, and undoes its own steps when one fails.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cgroup/layout.h"
#include "config/devices.h"
#include "config/ipaddr.h"
#include "config/netif.h"
#include "config/settings.h"
#include "container/state.h"
#include "core/error.h"

namespace bc::container {

struct CreateOptions {
    std::string ostemplate;   // empty: the global default
    std::string hostname;     // empty: ct<CTID>
    // false: no user namespace, the container's root is the host's root (warned about).
    bool userns = true;
};
// `set`: what changes. Unset fields stay as they are.
struct SetOptions {
    std::optional<std::string> hostname;
    std::optional<std::vector<std::string>> nameservers, searchdomains;
    std::vector<DeviceRule> devices;   // merged into DEVICES ("none" revokes)
    std::vector<DevNode> devnodes;     // merged into DEVNODES ("none" removes)
    std::vector<IpAddr> ipadd;         // added to IP_ADDRESS (an address there already takes the new prefix)
    std::vector<IpAddr> ipdel;         // removed from IP_ADDRESS
    bool ipdel_all = false;
    std::vector<NetIf> netif_add;          // bridged veth pairs (NETIF)
    std::vector<std::string> netif_del;    // by the container's interface name
    std::vector<std::string> netdev_add;  // host interfaces moved in (NETDEV)
    std::vector<std::string> netdev_del;  // and back to the host
    bool save = false;                 // write the config too (else: the running container only)
};
struct StopOptions {
    bool fast = false;        // SIGKILL at once
    unsigned timeout = 0;     // 0: the container's STOP_TIMEOUT, else the global one
    bool skip_umount = false;
};

class Manager {
public:
    Manager(Settings s, cgroup::Layout l) : s_(std::move(s)), l_(std::move(l)) {}

    Result<> create(Ctid id, const CreateOptions& o);
    Result<> start(Ctid id);
    Result<> stop(Ctid id, const StopOptions& o);
    Result<> restart(Ctid id, const StopOptions& o);
    Result<> destroy(Ctid id);
    // Applies to the running container at once (all or nothing), and saves with o.save.
    Result<> set(Ctid id, const SetOptions& o);
    Result<> mount(Ctid id);
    Result<> umount(Ctid id);
    Result<CtStatus> status(Ctid id) const;
    // Uninstalls: the accounting programs and every counter, and the cgroup prefix nodes.
    // Refused while any container has cgroups (is running). The next start installs anew.
    Result<> unload();
    // Every CTID with a config file, plus leftovers of interrupted creates, sorted.
    Result<std::vector<Ctid>> list_ids() const;

    const Settings& settings() const { return s_; }
    const cgroup::Layout& layout() const { return l_; }

private:
    Result<> start_locked(Ctid id);
    Result<> stop_locked(Ctid id, const StopOptions& o);
    Result<bool> mount_root(const CtConfig& ct);
    Result<> umount_root(const std::string& ve_root);
    // Removes everything a stopped container has on the host besides its private area and
    // config: processes still in its cgroups, the cgroups, its network interfaces on the host
    // (netifs: its config's NETIF, none if the config is broken), the root mount, the init
    // record.
    Result<> teardown(Ctid id, const std::string& ve_root, const std::vector<NetIf>& netifs, bool skip_umount);

    Settings s_;
    cgroup::Layout l_;
};

}  // namespace bc::container
