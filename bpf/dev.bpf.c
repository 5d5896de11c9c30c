// SPDX-License-Identifier: GPL-2.0
/* Device allowlist: which device nodes a container's processes may open or create.
 *
 * One cgroup/dev program, attached (multi) to the cgroup that holds every container's
 * cgroup, a level no container can write. The kernel runs it for every open and mknod of a
 * device node by a task in cgroup2 below that point, on hybrid and pure cgroup2 hosts
 * alike (it looks at the task's cgroup2 node even where a v1 devices controller exists). The
 * container is the ancestor of the task's cgroup at the containers' level; its rules are in
 * bc_dev_allow, written by userspace before the container's init exists. A rule names one
 * device, all minors of a major, or all devices of a type.
 *
 * A container's list is switched on by its sentinel rule (type 0, written last by
 * userspace, before the container's init exists). From then on it fails closed: whatever
 * has no rule is refused, with EPERM. A cgroup with no sentinel is a container started by a
 * build from before device control (an upgrade while it runs): it stays as it was until
 * its next start. Tasks outside containers (above their level) are never affected. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "beancounter_abi.h"

char LICENSE[] SEC("license") = "GPL";

/* cgroup2 level of the containers' own cgroups; set by the loader. */
const volatile __u32 ct_level = 1;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, BC_MAX_DEV_RULES);
	__type(key, struct bc_dev_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bc_dev_allow SEC(".maps");

static __always_inline __u32 rule(__u64 cg, __u32 type, __u32 major, __u32 minor)
{
	struct bc_dev_key k = {.cgroup_id = cg, .type = type, .major = major, .minor = minor};
	__u32 *acc = bpf_map_lookup_elem(&bc_dev_allow, &k);

	return acc ? *acc : 0;
}

SEC("cgroup/dev")
int bc_dev_check(struct bpf_cgroup_dev_ctx *ctx)
{
	__u32 type = ctx->access_type & 0xffff, access = ctx->access_type >> 16;
	__u64 cg = bpf_get_current_ancestor_cgroup_id(ct_level);

	if (!cg || !rule(cg, 0, 0, 0))
		return 1;
	/* The most specific rule that exists decides, as for the v1 devices controller's
	 * lists: one device, then all its minors, then every device of the type. */
	__u32 acc = rule(cg, type, ctx->major, ctx->minor);

	if (!acc)
		acc = rule(cg, type, ctx->major, BC_DEV_ANY);
	if (!acc)
		acc = rule(cg, type, BC_DEV_ANY, BC_DEV_ANY);
	return (acc & access) == access;
}
