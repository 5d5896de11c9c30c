#include "bpf/boundary.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>

#include <cerrno>
#include <fmt/format.h>
#include <optional>
#include <vector>

#include "beancounter_abi.h"
#include "bpf/batch.h"
#include "core/fd.h"
#include "core/log.h"

namespace bc::bpf {

namespace {
// Every filter of ours sits at this handle and priority, so that a new build can replace
// it in place.
constexpr __u32 kHandle = 1, kPriority = 1;

Result<Fd> pinned(const std::string& pin_dir, const char* name) {
    std::string path = pin_dir + "/" + name;
    int fd = ::bpf_obj_get(path.c_str());
    if (fd < 0) return fail_sys(fmt::format("opening {} (is the accounting loaded?)", path));
    return Fd(fd);
}

constexpr auto kBothHooks = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);

// The clsact qdisc, which holds both hooks.
Result<> make_hooks(int ifindex) {
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = kBothHooks);
    if (int err = bpf_tc_hook_create(&hook); err && err != -EEXIST) return fail(Error::sys(-err, "creating the tc hooks"));
    return {};
}

Result<> attach_tc(int ifindex, bpf_tc_attach_point where, int prog_fd, bool replace) {
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
    LIBBPF_OPTS(bpf_tc_opts, o, .prog_fd = prog_fd, .flags = replace ? static_cast<__u32>(BPF_TC_F_REPLACE) : 0u, .handle = kHandle,
                .priority = kPriority);
    if (int err = bpf_tc_attach(&hook, &o); err) return fail(Error::sys(-err, "attaching a tc program"));
    return {};
}

void detach_all(int ifindex) {
    // The clsact qdisc goes with both hooks and every filter on them.
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = kBothHooks);
    (void)bpf_tc_hook_destroy(&hook);
}

// tcx (Linux 6.6+): a link per hook, with no qdisc and no classifier chain in the way, which
// costs a packet less than a classic tc filter. The links are pinned beside the programs
// (a link lives as long as its pin); the kernel detaches them when the device goes.
// BPF_TCX_INGRESS and BPF_TCX_EGRESS, which the UAPI headers of Debian 12 do not name.
constexpr auto kTcxIngress = static_cast<bpf_attach_type>(46), kTcxEgress = static_cast<bpf_attach_type>(47);
std::string link_pin(const std::string& pin_dir, int ifindex, bool ingress) {
    return fmt::format("{}/link_net_{}_{}", pin_dir, ifindex, ingress ? "in" : "out");
}
// Detaches and unpins the device's tcx links; false if it had none. (Detached first: the
// last reference to a link is dropped in a deferred work item, and until then the program
// stays attached.)
bool unpin_links(const std::string& pin_dir, int ifindex) {
    bool had = false;
    for (bool ingress : {true, false}) {
        const std::string pin = link_pin(pin_dir, ifindex, ingress);
        if (Fd link{::bpf_obj_get(pin.c_str())}) {
            (void)::bpf_link_detach(link.get());
            had = true;
        }
        ::unlink(pin.c_str());
    }
    return had;
}

// false: this kernel has no tcx (nothing was attached).
Result<bool> attach_tcx(const std::string& pin_dir, int ifindex, int in_fd, int out_fd) {
    for (bool ingress : {true, false}) {
        Fd link(::bpf_link_create(ingress ? in_fd : out_fd, ifindex, ingress ? kTcxIngress : kTcxEgress, nullptr));
        if (!link) {
            int e = errno;
            unpin_links(pin_dir, ifindex);
            if (e == EINVAL && ingress) return false;  // an attach type this kernel does not know
            return fail_sys(e, "attaching a tcx program");
        }
        const std::string pin = link_pin(pin_dir, ifindex, ingress);
        ::unlink(pin.c_str());  // a leftover of a device that had this index
        if (::bpf_obj_pin(link.get(), pin.c_str()) < 0) {
            int e = errno;
            unpin_links(pin_dir, ifindex);
            return fail_sys(e, fmt::format("pinning {}", pin));
        }
    }
    return true;
}

const char* ingress_prog(Boundary kind) { return kind == Boundary::routed ? "bc_net_guard" : "bc_net_from_ct"; }
std::string pin_of(const char* prog) { return fmt::format("prog_{}", prog + 3); }  // bc_net_x -> prog_net_x

// The name of the program a link or filter runs ("" if it cannot be read).
std::string prog_name(__u32 prog_id) {
    Fd prog(::bpf_prog_get_fd_by_id(prog_id));
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (!prog || ::bpf_obj_get_info_by_fd(prog.get(), &info, &len) < 0) return "";
    return info.name;
}

// The link's entry in bc_link_cache (the programs' way to its slot without hashing), if
// it is free or holds a link that is gone; otherwise the link is found in bc_links alone.
void cache_link(int links, int cache, __u32 ifindex, __u32 slot) {
    __u32 at = ifindex & (BC_LINK_CACHE - 1);
    bc_link_cached e{};
    bc_link other{};
    if (::bpf_map_lookup_elem(cache, &at, &e) < 0) return;
    if (e.ifindex != 0 && e.ifindex != ifindex && ::bpf_map_lookup_elem(links, &e.ifindex, &other) == 0) return;
    e = bc_link_cached{ifindex, slot};
    (void)::bpf_map_update_elem(cache, &at, &e, BPF_ANY);
}

// Frees the link's entry in bc_link_cache if it holds one.
void uncache_link(int cache, __u32 ifindex) {
    __u32 at = ifindex & (BC_LINK_CACHE - 1);
    bc_link_cached e{};
    if (::bpf_map_lookup_elem(cache, &at, &e) < 0 || e.ifindex != ifindex) return;
    e = bc_link_cached{};
    (void)::bpf_map_update_elem(cache, &at, &e, BPF_ANY);
}

// The host sides with an entry in bc_links: every one, or container `of`'s (read in batches:
// a stop runs this).
Result<std::vector<int>> counted_devices(const std::string& pin_dir, std::optional<Ctid> of) {
    auto links = BC_TRY(pinned(pin_dir, "bc_links"));
    std::vector<int> out;
    for (const auto& [ifindex, link] : BC_TRY((dump_hash<__u32, bc_link>(links.get(), "the boundary links (bc_links)"))))
        if (!of || link.ctid == *of) out.push_back(static_cast<int>(ifindex));
    return out;
}
}  // namespace

Result<> attach_program_fds(const std::string& pin_dir, int ifindex, int in_fd, int out_fd) {
    if (BC_TRY(attach_tcx(pin_dir, ifindex, in_fd, out_fd))) return {};
    Result<> r = make_hooks(ifindex);
    if (r) r = attach_tc(ifindex, BPF_TC_INGRESS, in_fd, false);
    if (r) r = attach_tc(ifindex, BPF_TC_EGRESS, out_fd, false);
    if (!r) detach_all(ifindex);
    return r;
}

Result<> attach_programs(const std::string& pin_dir, int ifindex, Boundary kind) {
    auto in = BC_TRY(pinned(pin_dir, pin_of(ingress_prog(kind)).c_str()));
    auto out = BC_TRY(pinned(pin_dir, pin_of("bc_net_to_ct").c_str()));
    return attach_program_fds(pin_dir, ifindex, in.get(), out.get());
}

void detach_programs(const std::string& pin_dir, int ifindex) {
    if (!unpin_links(pin_dir, ifindex)) detach_all(ifindex);
}

Result<> attach_boundary(const std::string& pin_dir, int ifindex, Ctid id, Boundary kind) {
    auto slots = BC_TRY(pinned(pin_dir, "bc_slots"));
    auto links = BC_TRY(pinned(pin_dir, "bc_links"));
    auto cache = BC_TRY(pinned(pin_dir, "bc_link_cache"));
    bc_link link{id, 0};
    if (::bpf_map_lookup_elem(slots.get(), &id, &link.slot) < 0)
        return fail_sys(fmt::format("looking up the counters of container {} (is it registered?)", id));
    // The link's entries first (a fresh device's index may be a deleted one's), then the
    // programs: the first packet finds them.
    __u32 key = static_cast<__u32>(ifindex);
    if (::bpf_map_update_elem(links.get(), &key, &link, BPF_ANY) < 0)
        return fail_sys(fmt::format("counting the traffic of interface {}", ifindex));
    cache_link(links.get(), cache.get(), key, link.slot);
    if (auto r = attach_programs(pin_dir, ifindex, kind); !r) {
        uncache_link(cache.get(), key);
        ::bpf_map_delete_elem(links.get(), &key);
        return std::unexpected(r.error().wrap(fmt::format("the boundary programs of interface {}", ifindex)));
    }
    return {};
}

Result<> retire_boundary(const std::string& pin_dir, int ifindex) {
    unpin_links(pin_dir, ifindex);  // detached already, with the device
    auto links = BC_TRY(pinned(pin_dir, "bc_links"));
    // What it carried stays in its container's entry of bc_traffic. (Pins of an older
    // layout, which a stop before `beanctl unload` meets, have no bc_link_cache.)
    __u32 key = static_cast<__u32>(ifindex);
    if (auto cache = pinned(pin_dir, "bc_link_cache")) uncache_link(cache->get(), key);
    if (::bpf_map_delete_elem(links.get(), &key) < 0 && errno != ENOENT)
        return fail_sys(fmt::format("removing the entry of interface {}", ifindex));
    return {};
}

Result<> retire_container(const std::string& pin_dir, Ctid id) {
    for (int ifindex : BC_TRY(counted_devices(pin_dir, id))) BC_TRYV(retire_boundary(pin_dir, ifindex));
    return {};
}

Result<> retarget_boundaries(const std::string& pin_dir, bpf_object* net) {
    for (int ifindex : BC_TRY(counted_devices(pin_dir, std::nullopt))) {
        for (bool ingress : {true, false}) {
            auto new_prog = [&](__u32 old_id) -> int {
                const std::string name = prog_name(old_id);
                bpf_program* prog = name.empty() ? nullptr : bpf_object__find_program_by_name(net, name.c_str());
                if (!prog) log::warn("interface {} runs program {}, which this build does not have", ifindex, name);
                return prog ? bpf_program__fd(prog) : -1;
            };
            const std::string pin = link_pin(pin_dir, ifindex, ingress);
            if (Fd link{::bpf_obj_get(pin.c_str())}) {
                bpf_link_info info{};
                __u32 len = sizeof info;
                if (::bpf_obj_get_info_by_fd(link.get(), &info, &len) < 0) continue;
                int fd = new_prog(info.prog_id);
                // ENOLINK: the device went before its entry did (it is retired at the
                // container's stop).
                if (fd >= 0 && ::bpf_link_update(link.get(), fd, nullptr) < 0 && errno != ENOLINK)
                    return fail_sys(fmt::format("replacing the programs of interface {}", ifindex));
                continue;
            }
            const auto where = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
            LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
            LIBBPF_OPTS(bpf_tc_opts, q, .handle = kHandle, .priority = kPriority);
            if (bpf_tc_query(&hook, &q) < 0) continue;  // the device is gone, or holds no filter of ours
            int fd = new_prog(q.prog_id);
            if (fd < 0) continue;
            if (auto r = attach_tc(ifindex, where, fd, true); !r)
                return std::unexpected(r.error().wrap(fmt::format("replacing the programs of interface {}", ifindex)));
        }
    }
    return {};
}

}  // namespace bc::bpf
