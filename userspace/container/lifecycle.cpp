#include "container/lifecycle.h"

#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "bpf/accounting.h"
#include "container/archive.h"
#include "container/devctl.h"
#include "container/identity.h"
#include "net/ctnet.h"
#include "container/idmap.h"
#include "container/lock.h"
#include "container/runtime.h"
#include "container/template.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/proc.h"

namespace bc::container {

Result<> Manager::create(Ctid id, const CreateOptions& o) {
    auto lock = BC_TRY(CtLock::acquire(s_, id));
    auto st = BC_TRY(status(id));
    if (st.exists) return fail(Error{EEXIST, fmt::format("container {} already exists", id)});
    if (st.incomplete)
        return fail(Error{EEXIST, fmt::format("container {} has leftovers of an interrupted operation ({}); "
                                              "run 'beanctl destroy {}' first",
                                              id, st.ve_private, id)});
    std::string tname = o.ostemplate.empty() ? s_.default_template : o.ostemplate;
    auto tinfo = BC_TRY(template_info(s_, tname));
    std::string hostname = o.hostname.empty() ? fmt::format("ct{}", id) : o.hostname;
    if (!valid_hostname(hostname)) return fail(fmt::format("invalid host name '{}'", hostname));

    auto archive = BC_TRY(ensure_template(s_, tname));

    CtConfig ct;
    ct.id = id;
    ct.ostemplate = tname;
    ct.hostname = hostname;
    ct.ve_root = s_.ve_root_of(id);
    ct.ve_private = s_.ve_private_of(id);
    ct.init = tinfo.init;
    ct.stop_signal = tinfo.stop_signal;
    ct.userns = o.userns;
    if (!o.userns) log::warn("container {} will run without a user namespace: its root is the host's root", id);

    // The private area first, the config last: a create killed half-way leaves no config, and
    // status reports the leftover as incomplete until destroy removes it.
    const std::string& priv = ct.ve_private;
    BC_TRYV(fs::mkdir_p(priv.substr(0, priv.rfind('/')), 0700));
    if (::mkdir(priv.c_str(), 0755) < 0) return fail_sys(fmt::format("creating the private area {}", priv));
    auto undo = [&](Error e) -> Result<> {
        if (auto r = fs::remove_tree(priv); !r) log::warn("cleaning up: {}", r.error().msg);
        ::rmdir(ct.ve_root.c_str());
        return std::unexpected(std::move(e));
    };
    // The root's mount point too, made once here rather than at the first start (making a
    // directory is among the dearer steps of a start on ext4); destroy removes it.
    if (auto r = fs::mkdir_p(ct.ve_root, 0755); !r) return undo(r.error());
    log::debug("unpacking template {} into {}", tname, priv);
    if (auto r = unpack(archive, priv); !r) return undo(r.error().wrap(fmt::format("unpacking {}", archive)));
    ct.file = ConfFile::parse(fmt::format("# beancounter container {}\n", id), s_.ct_conf_path(id)).value();
    if (auto r = fs::mkdir_p(s_.ct_conf_dir()); !r) return undo(r.error());
    if (!ct.userns) {
        if (auto r = ct.save(s_); !r) return undo(r.error());
        return {};
    }
    // The range is picked and recorded under one host-wide lock; the files are shifted into
    // it before the config exists, so a killed create leaves only an incomplete private area.
    auto alock = AllocationLock::acquire(s_);
    if (!alock) return undo(alock.error());
    auto range = allocate_range(s_, id);
    if (!range) return undo(range.error());
    log::debug("container {}: host ids {}..{}", id, range->base, range->end() - 1);
    if (auto r = shift_tree(priv, *range); !r) return undo(r.error().wrap(fmt::format("shifting {} into its user id range", priv)));
    ct.userns_base = range->base;
    ct.userns_size = range->size;
    if (auto r = ct.save(s_); !r) return undo(r.error());
    return {};
}

Result<bool> Manager::mount_root(const CtConfig& ct) {
    if (BC_TRY(fs::is_mount_point(ct.ve_root))) return false;
    if (!fs::is_dir(ct.ve_private)) return fail(fmt::format("private area {} of container {} is missing", ct.ve_private, ct.id));
    BC_TRYV(fs::mkdir_p(ct.ve_root, 0755));
    if (::mount(ct.ve_private.c_str(), ct.ve_root.c_str(), nullptr, MS_BIND, nullptr) < 0)
        return fail_sys(fmt::format("mounting {} on {}", ct.ve_private, ct.ve_root));
    // Private propagation: host mounts below it do not enter the container, nor the reverse.
    if (::mount(nullptr, ct.ve_root.c_str(), nullptr, MS_PRIVATE, nullptr) < 0) {
        int e = errno;
        ::umount2(ct.ve_root.c_str(), MNT_DETACH);
        return fail_sys(e, fmt::format("making {} private", ct.ve_root));
    }
    return true;
}

Result<> Manager::umount_root(const std::string& ve_root) {
    if (!BC_TRY(fs::is_mount_point(ve_root))) return {};
    if (::umount2(ve_root.c_str(), 0) < 0) {
        if (errno != EBUSY) return fail_sys(fmt::format("unmounting {}", ve_root));
        log::debug("{} busy, detaching it", ve_root);
        if (::umount2(ve_root.c_str(), MNT_DETACH) < 0) return fail_sys(fmt::format("unmounting {}", ve_root));
    }
    return {};
}

Result<> Manager::teardown(Ctid id, const std::string& ve_root, const std::vector<NetIf>& netifs, bool skip_umount) {
    auto cg = ct_cgroup(l_, s_, id);
    BC_TRYV(cg.kill_all());
    // The cgroup's id dies with it: stop attributing it (its counters stay until destroy).
    // Accounting that cannot be opened (pins of another layout, after an upgrade) must not
    // keep a container from stopping.
    if (auto cgid = cg.id(); cgid) {
        auto acct = bpf::Accounting::open(s_.bpf_dir);
        if (!acct)
            log::warn("{}", acct.error().msg);
        else if (*acct)
            BC_TRYV((*acct)->unregister_cgroup(*cgid));
    }
    BC_TRYV(net::teardown(s_, id, netifs));
    BC_TRYV(cg.remove());
    if (!skip_umount) BC_TRYV(umount_root(ve_root));
    remove_init_record(s_, id);
    return {};
}

Result<> Manager::start(Ctid id) {
    auto lock = BC_TRY(CtLock::acquire(s_, id));
    return start_locked(id);
}

Result<> Manager::start_locked(Ctid id) {
    auto st = BC_TRY(status(id));
    if (!st.config) {
        if (!st.config_error.empty()) return fail(Error{EINVAL, st.config_error});
        return fail(Error{ENOENT, fmt::format("container {} does not exist", id)});
    }
    const CtConfig& ct = *st.config;
    if (st.running) return fail(Error{EALREADY, fmt::format("container {} is already running", id)});
    if (ct.userns)
        BC_TRYV(check_range(s_, ct));
    else
        log::warn("container {} runs without a user namespace (USERNS=\"no\" or a config from before them): "
                  "its root is the host's root",
                  id);
    auto cg = ct_cgroup(l_, s_, id);
    // Leftovers of a start that was killed half-way: processes and cgroups of ours.
    if (st.cgroup) {
        log::info("removing leftovers of an earlier start of container {}", id);
        BC_TRYV(teardown(id, ct.ve_root, ct.netifs, true));
    }
    const bool mounted_now = BC_TRY(mount_root(ct));
    log::debug("container {}: root mounted", id);
    auto undo = [&](Error e) -> Result<> {
        if (auto r = cg.kill_all(); !r) log::warn("cleaning up: {}", r.error().msg);
        if (auto r = net::teardown(s_, id, ct.netifs); !r) log::warn("cleaning up: {}", r.error().msg);
        if (auto cgid = cg.id(); cgid)
            if (auto acct = bpf::Accounting::open(s_.bpf_dir); acct && *acct) (void)(*acct)->unregister_cgroup(*cgid);
        if (auto r = cg.remove(); !r) log::warn("cleaning up: {}", r.error().msg);
        if (mounted_now)
            if (auto r = umount_root(ct.ve_root); !r) log::warn("cleaning up: {}", r.error().msg);
        remove_init_record(s_, id);
        return std::unexpected(std::move(e));
    };
    if (auto r = cg.create(); !r) return undo(r.error());
    if (ct.userns)
        if (auto r = cg.delegate(ct.userns_base, ct.userns_base); !r) return undo(r.error());
    if (auto r = fs::mkdir_p(s_.ct_run_dir(id), 0700); !r) return undo(r.error());
    log::debug("container {}: cgroups made", id);
    // Counting starts before init exists: its own creation is the first charge.
    {
        auto acct = bpf::Accounting::load(s_.bpf_dir, s_.run_dir, bpf::load_options(cg, s_.bpf_max_tasks));
        if (!acct) return undo(acct.error().wrap("loading the accounting programs (see beanctl check)"));
        auto cgid = cg.id();
        if (!cgid) return undo(cgid.error());
        std::array<bc_counter, BC_RES_COUNT> limits{};
        for (size_t i = 0; i < BC_RES_COUNT; ++i) {
            Limit l = ct.limits[i].value_or(Limit{});
            limits[i].barrier = l.barrier;
            limits[i].limit = l.limit;
        }
        if (auto r = acct->register_ct(*cgid, id, &limits); !r) return undo(r.error());
        // The device allowlist is on before init exists: nothing in the container ever
        // opens a device the list does not name.
        auto rules = effective_device_rules(ct);
        if (!rules) return undo(rules.error());
        if (auto r = acct->set_devices(*cgid, *rules); !r) return undo(r.error());
        log::debug("container {}: registered with the accounting", id);
    }

    SpawnRequest req;
    req.ct = &ct;
    req.cgroup = &cg;
    req.rootfs = ct.ve_root;
    req.console_log = console_log_path(s_, id);
    req.ubc_file = s_.bpf_dir + "/user_beancounters";
    req.make_network = [&](pid_t pid) -> Result<> {
        if (auto r = net::setup(s_, ct, pid); !r) return std::unexpected(r.error().wrap("setting up the network"));
        if (auto r = net::add_netifs(s_, ct, pid, ct.netifs); !r) return std::unexpected(r.error().wrap("adding NETIF interfaces"));
        if (auto r = net::move_in(pid, ct.netdevs); !r) return std::unexpected(r.error().wrap("moving NETDEV interfaces in"));
        return {};
    };
    req.on_abort = [&](pid_t pid) {
        if (auto r = net::move_out(pid, ct.netdevs); !r) log::warn("giving NETDEV interfaces back: {}", r.error().msg);
    };
    req.on_spawned = [&](pid_t pid) -> Result<> {
        auto t = BC_TRY(proc::start_time(pid));
        return write_init_record(s_, id, InitRecord{pid, t});
    };
    auto pid = spawn_init(req);
    if (!pid) return undo(pid.error().wrap(fmt::format("starting container {}", id)));
    log::debug("container {} started, init is host pid {}", id, *pid);
    return {};
}

Result<> Manager::stop(Ctid id, const StopOptions& o) {
    auto lock = BC_TRY(CtLock::acquire(s_, id));
    return stop_locked(id, o);
}

Result<> Manager::stop_locked(Ctid id, const StopOptions& o) {
    auto st = BC_TRY(status(id));
    if (!st.exists && !st.incomplete) return fail(Error{ENOENT, fmt::format("container {} does not exist", id)});
    int stop_signal = SIGTERM;
    unsigned timeout = o.timeout ? o.timeout : s_.stop_timeout;
    if (!st.config_error.empty()) {
        // A running container must stay stoppable even if its config was broken by hand.
        log::warn("{}; stopping with SIGTERM and the default paths", st.config_error);
    } else if (st.config) {
        stop_signal = st.config->stop_signal;
        if (!o.timeout && st.config->stop_timeout) timeout = st.config->stop_timeout;
    }
    if (!st.running && !st.mounted && !st.cgroup)
        return fail(Error{ESRCH, fmt::format("container {} is not running", id)});
    if (auto init = BC_TRY(find_init(s_, id))) {
        // Host interfaces first, while the network namespace exists: virtual ones would be
        // destroyed with it.
        if (st.config && !st.config->netdevs.empty())
            if (auto r = net::move_out(init->pid, st.config->netdevs); !r)
                log::warn("container {}: giving NETDEV interfaces back: {}", id, r.error().msg);
        if (!o.fast) {
            log::debug("sending SIG{} to init of container {}", signal_name(stop_signal), id);
            BC_TRYV(proc::pidfd_signal(init->pidfd, stop_signal));
            if (!BC_TRY(proc::pidfd_wait(init->pidfd, static_cast<int>(timeout) * 1000)))
                log::warn("container {} did not stop within {} s; killing it", id, timeout);
        }
        // SIGKILL to PID 1 of a PID namespace kills every process in it.
        BC_TRYV(proc::pidfd_signal(init->pidfd, SIGKILL));
        BC_TRYV(proc::pidfd_wait(init->pidfd, 5000));
    }
    return teardown(id, st.ve_root, st.config ? st.config->netifs : std::vector<NetIf>{}, o.skip_umount);
}

Result<> Manager::restart(Ctid id, const StopOptions& o) {
    // One lock over both halves: nothing can slip in between the stop and the start.
    auto lock = BC_TRY(CtLock::acquire(s_, id));
    auto st = BC_TRY(status(id));
    if (st.running) BC_TRYV(stop_locked(id, o));
    return start_locked(id);
}

Result<> Manager::destroy(Ctid id) {
    auto lock = BC_TRY(CtLock::acquire(s_, id));
    auto st = BC_TRY(status(id));
    if (!st.exists && !st.incomplete) return fail(Error{ENOENT, fmt::format("container {} does not exist", id)});
    if (st.running) return fail(Error{EBUSY, fmt::format("container {} is running; stop it first", id)});
    // Removing files at guessed paths is not an option: the config must say where they are.
    if (!st.config_error.empty())
        return fail(Error{EINVAL, fmt::format("{}; fix or remove the config before destroying", st.config_error)});
    // After a stop that finished there is nothing to tear down: it removes the cgroups after
    // everything else but the root's mount, and the init record goes with the run-time
    // directory below.
    if (st.cgroup || st.mounted) BC_TRYV(teardown(id, st.ve_root, st.config ? st.config->netifs : std::vector<NetIf>{}, false));
    // What can fail without removing the container comes first: the root's mount point (it
    // goes only if empty: VE_ROOT may name any directory), then its counters. A destroy that
    // fails in either leaves the container there, to be destroyed again.
    if (fs::is_dir(st.ve_root) && ::rmdir(st.ve_root.c_str()) < 0 && errno != ENOENT)
        return fail_sys(fmt::format("removing {} (the root's mount point, which should be empty when the container is "
                                    "down)",
                                    st.ve_root));
    if (auto acct = bpf::Accounting::open(s_.bpf_dir); !acct)
        log::warn("{}", acct.error().msg);
    else if (*acct)
        BC_TRYV((*acct)->forget(id));
    // As vzctl does: the private area is renamed away now and removed in the background
    // (its files are most of what a destroy would wait for), and the config goes right after
    // it, so the container is gone as a whole. The remover starts last, so as not to compete
    // with the rest of the destroy; killed before then, this destroy leaves the tree to the
    // next remover, which empties the whole directory.
    const std::string moved = BC_TRY(fs::move_to_trash(st.ve_private));
    if (::unlink(s_.ct_conf_path(id).c_str()) < 0 && errno != ENOENT)
        return fail_sys(fmt::format("removing {}", s_.ct_conf_path(id)));
    // Run-time state: a directory left over is reused by the next container of this id.
    if (auto r = fs::remove_tree(s_.ct_run_dir(id)); !r) log::warn("{}", r.error().msg);
    lock.remove();
    return fs::empty_trash_later(moved);
}

Result<> Manager::set(Ctid id, const SetOptions& o) {
    auto lock = BC_TRY(CtLock::acquire(s_, id));
    auto st = BC_TRY(status(id));
    if (!st.config) {
        if (!st.config_error.empty()) return fail(Error{EINVAL, st.config_error});
        return fail(Error{ENOENT, fmt::format("container {} does not exist", id)});
    }
    if (!st.running && !o.save)
        return fail(Error{ESRCH, fmt::format("container {} is not running; use --save to change its configuration", id)});
    const CtConfig& old = *st.config;
    CtConfig ct = old;
    if (o.hostname) ct.hostname = *o.hostname;
    if (o.nameservers) ct.nameservers = *o.nameservers;
    if (o.searchdomains) ct.searchdomains = *o.searchdomains;
    merge_device_rules(ct.devices, o.devices);
    merge_devnodes(ct.devnodes, o.devnodes);
    for (const auto& n : o.netdev_del) {
        if (std::find(ct.netdevs.begin(), ct.netdevs.end(), n) == ct.netdevs.end() && !st.running)
            return fail(Error{ENOENT, fmt::format("container {} has no interface {} in NETDEV", id, n)});
        std::erase(ct.netdevs, n);
    }
    for (const auto& n : o.netdev_add)
        if (std::find(ct.netdevs.begin(), ct.netdevs.end(), n) == ct.netdevs.end()) ct.netdevs.push_back(n);
    std::vector<NetIf> netif_removed, netif_added;
    for (const auto& name : o.netif_del) {
        auto it = std::find_if(ct.netifs.begin(), ct.netifs.end(), [&](const NetIf& n) { return n.ifname == name; });
        if (it == ct.netifs.end()) return fail(Error{ENOENT, fmt::format("container {} has no NETIF interface {}", id, name)});
        netif_removed.push_back(*it);
        ct.netifs.erase(it);
    }
    for (const auto& n : o.netif_add) {
        if (std::any_of(ct.netifs.begin(), ct.netifs.end(), [&](const NetIf& m) { return m.ifname == n.ifname; }))
            return fail(Error{EEXIST, fmt::format("container {} has a NETIF interface {} already", id, n.ifname)});
        ct.netifs.push_back(n);
    }
    name_host_sides(ct.netifs, id);
    for (const auto& n : o.netif_add) netif_added.push_back(*std::find_if(ct.netifs.begin(), ct.netifs.end(), [&](const NetIf& m) { return m.ifname == n.ifname; }));
    std::vector<IpAddr> ip_removed, ip_added;
    for (const auto& a : old.ips) {
        bool gone = o.ipdel_all || std::any_of(o.ipdel.begin(), o.ipdel.end(), [&](const IpAddr& d) { return d.same_address(a); }) ||
                    std::any_of(o.ipadd.begin(), o.ipadd.end(), [&](const IpAddr& d) { return d.same_address(a) && d != a; });
        if (gone) ip_removed.push_back(a);
    }
    // What the running container has now may differ from its config (unsaved changes):
    // live changes are computed from that.
    std::vector<IpAddr> live, live_removed, live_added;
    if (st.running) live = BC_TRY(net::live_addresses(s_, id));
    for (const auto& a : live) {
        bool gone = o.ipdel_all || std::any_of(o.ipdel.begin(), o.ipdel.end(), [&](const IpAddr& d) { return d.same_address(a); }) ||
                    std::any_of(o.ipadd.begin(), o.ipadd.end(), [&](const IpAddr& d) { return d.same_address(a) && d != a; });
        if (gone) live_removed.push_back(a);
    }
    for (const auto& a : o.ipadd)
        if (std::none_of(live.begin(), live.end(), [&](const IpAddr& b) { return b == a; })) live_added.push_back(a);
    for (const auto& d : o.ipdel) {
        auto match = [&](const IpAddr& a) { return a.same_address(d); };
        if (std::none_of(old.ips.begin(), old.ips.end(), match) && std::none_of(live.begin(), live.end(), match))
            return fail(Error{ENOENT, fmt::format("container {} has no address {}", id, d.address())});
    }
    std::erase_if(ct.ips, [&](const IpAddr& a) {
        return std::any_of(ip_removed.begin(), ip_removed.end(), [&](const IpAddr& r) { return r == a; });
    });
    for (const auto& a : o.ipadd) {
        if (std::any_of(ct.ips.begin(), ct.ips.end(), [&](const IpAddr& b) { return b == a; })) continue;
        ct.ips.push_back(a);
        ip_added.push_back(a);
    }
    // An address belongs to one container only.
    if (!o.ipadd.empty())
        for (Ctid other : BC_TRY(list_ids())) {
            if (other == id) continue;
            auto oc = CtConfig::load(other, s_);
            if (!oc) continue;
            for (const auto& a : o.ipadd)
                for (const auto& b : oc->ips)
                    if (a.same_address(b))
                        return fail(Error{EADDRINUSE, fmt::format("address {} is container {}'s already", a.address(), other)});
        }
    // Everything is checked before anything changes: the nodes exist on the host.
    auto rules = BC_TRY(effective_device_rules(ct));

    if (st.running) {
        auto cg = ct_cgroup(l_, s_, id);
        const std::uint64_t cgid = BC_TRY(cg.id());
        auto acct = BC_TRY(bpf::Accounting::open(s_.bpf_dir));
        if (!acct) return fail(fmt::format("container {}: its accounting programs are not loaded", id));
        const bool devices_changed = !o.devices.empty() || !o.devnodes.empty();
        const bool identity = o.hostname || o.nameservers || o.searchdomains;
        // Addresses: removals, then additions; a failure puts the old ones back.
        if (!live_removed.empty() || !live_added.empty()) {
            auto init = BC_TRY(find_init(s_, id));
            if (!init) return fail(fmt::format("container {}: its init is gone", id));
            CtConfig now = old;
            now.ips = live;
            std::erase_if(now.ips, [&](const IpAddr& a) { return std::find(live_removed.begin(), live_removed.end(), a) != live_removed.end(); });
            auto r = net::del_addresses(s_, old, init->pid, live_removed);
            if (r) r = net::add_addresses(s_, now, init->pid, live_added);
            if (!r) {
                (void)net::del_addresses(s_, old, init->pid, live_added);
                (void)net::add_addresses(s_, now, init->pid, live_removed);
                return r;
            }
        }
        // Devices: the new list, then the nodes. A failure puts the old list and nodes back.
        if (devices_changed) {
            BC_TRYV(acct->set_devices(cgid, rules));
            std::vector<DevNode> add;
            std::vector<std::string> remove;
            for (const auto& n : o.devnodes) (n.access ? add.push_back(n) : remove.push_back(n.name));
            auto init = BC_TRY(find_init(s_, id));
            auto placed = init ? apply_devnodes_live(ct, init->pid, add, remove) : fail("its init is gone");
            if (!placed) {
                std::vector<std::string> added;
                for (const auto& n : add) added.push_back(n.name);
                if (init) (void)apply_devnodes_live(ct, init->pid, {}, added);
                if (auto back = effective_device_rules(old); back) (void)acct->set_devices(cgid, *back);
                return std::unexpected(placed.error());
            }
        }
        if (!netif_removed.empty() || !netif_added.empty()) {
            auto init = BC_TRY(find_init(s_, id));
            if (!init) return fail(fmt::format("container {}: its init is gone", id));
            BC_TRYV(net::del_netifs(s_, netif_removed));
            if (auto r = net::add_netifs(s_, ct, init->pid, netif_added); !r) {
                (void)net::add_netifs(s_, old, init->pid, netif_removed);
                return r;
            }
        }
        if (!o.netdev_add.empty() || !o.netdev_del.empty()) {
            auto init = BC_TRY(find_init(s_, id));
            if (!init) return fail(fmt::format("container {}: its init is gone", id));
            BC_TRYV(net::move_out(init->pid, o.netdev_del));
            if (auto r = net::move_in(init->pid, o.netdev_add); !r) {
                (void)net::move_in(init->pid, o.netdev_del);
                return r;
            }
        }
        if (identity) {
            if (auto r = apply_identity_live(s_, ct, o.hostname.has_value(), o.nameservers || o.searchdomains); !r) {
                (void)apply_identity_live(s_, old, o.hostname.has_value(), o.nameservers || o.searchdomains);
                return r;
            }
        }
    }
    if (o.save) BC_TRYV(ct.save(s_));
    return {};
}

Result<> Manager::mount(Ctid id) {
    auto lock = BC_TRY(CtLock::acquire(s_, id));
    auto ct = BC_TRY(CtConfig::load(id, s_));
    if (!BC_TRY(mount_root(ct))) return fail(Error{EBUSY, fmt::format("container {} is already mounted", id)});
    return {};
}

Result<> Manager::umount(Ctid id) {
    auto lock = BC_TRY(CtLock::acquire(s_, id));
    auto st = BC_TRY(status(id));
    if (!st.exists) return fail(Error{ENOENT, fmt::format("container {} does not exist", id)});
    if (st.running) return fail(Error{EBUSY, fmt::format("container {} is running; stop it first", id)});
    if (!st.mounted) return fail(Error{EINVAL, fmt::format("container {} is not mounted", id)});
    return umount_root(st.ve_root);
}

Result<> Manager::unload() {
    auto busy = BC_TRY(cgroup::ct_nodes_below(l_, s_.cgroup_parent, s_.cgroup_prefix));
    if (!busy.empty())
        return fail(Error{EBUSY, fmt::format("container{} {} still {} cgroups; stop {} first", busy.size() > 1 ? "s" : "",
                                             fmt::join(busy, ", "), busy.size() > 1 ? "have" : "has",
                                             busy.size() > 1 ? "them" : "it")});
    BC_TRYV(bpf::Accounting::unload(s_.bpf_dir, s_.run_dir));
    // A start that made its cgroups after the check above keeps the prefix: it is in use.
    return cgroup::remove_prefix_nodes(l_, s_.cgroup_parent, s_.cgroup_prefix);
}

Result<CtStatus> Manager::status(Ctid id) const { return container::status(s_, l_, id); }

Result<std::vector<Ctid>> Manager::list_ids() const {
    std::vector<Ctid> ids;
    auto add = [&](const std::string& name) {
        if (auto id = parse_ctid(name); id && std::find(ids.begin(), ids.end(), *id) == ids.end()) ids.push_back(*id);
    };
    if (fs::is_dir(s_.ct_conf_dir()))
        for (const auto& f : BC_TRY(fs::list_dir(s_.ct_conf_dir())))
            if (f.ends_with(".conf")) add(f.substr(0, f.size() - 5));
    // Leftovers without a config (interrupted create): private areas under the default
    // pattern, when the CTID is its last component.
    std::string a = expand_veid(s_.ve_private, 101), b = expand_veid(s_.ve_private, 102);
    if (a.ends_with("/101") && b == a.substr(0, a.size() - 3) + "102") {
        std::string dir = a.substr(0, a.size() - 4);
        if (fs::is_dir(dir))
            for (const auto& f : BC_TRY(fs::list_dir(dir))) add(f);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
}

}  // namespace bc::container
