// SPDX-License-Identifier: GPL-2.0
/* Traffic accounting: bytes and packets each container's sockets send and receive.
 *
 * cgroup_skb/ingress and cgroup_skb/egress, attached to the cgroup that holds every
 * container's cgroup, see every packet of a socket created in a container (in any of its
 * sub-cgroups). The container is found in one step: the ancestor of the socket's cgroup at
 * the containers' level is the container's own cgroup, the key of the per-CPU counters. Per
 * CPU, so this hot path takes no lock and shares no cache line between CPUs; readers sum
 * the CPUs. The adds are atomic all the same: egress runs in process context, where a
 * preemptible kernel can switch to another task on the same CPU between a load and its
 * store (an uncontended atomic add on a CPU's own line costs a few nanoseconds).
 *
 * Bytes are skb->len, the IP layer's length (header and payload); a GSO packet is counted
 * with its gso_segs packets and its headers once. Loopback traffic (ifindex 1, the `lo` of
 * the container's own network namespace) never leaves the container: it is counted apart,
 * once, on the way out, and its ingress is not looked at.
 *
 * Packets are never dropped here: the programs only count (return 1). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "beancounter_abi.h"

char LICENSE[] SEC("license") = "GPL";

#define BC_LOOPBACK_IFINDEX 1

/* cgroup2 level of the containers' own cgroups; set by the loader. */
const volatile __u32 ct_level = 1;

/* Container cgroup2 id -> per-CPU traffic counters. Userspace adds the entry when the
 * container starts, with the other registrations; programs only look entries up. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, BC_MAX_CTS);
	__type(key, __u64);
	__type(value, struct bc_traffic);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bc_traffic SEC(".maps");

static __always_inline struct bc_traffic *traffic_of(struct __sk_buff *skb)
{
	__u64 cgid = bpf_skb_ancestor_cgroup_id(skb, ct_level);

	return bpf_map_lookup_elem(&bc_traffic, &cgid);
}

static __always_inline __u32 segments(struct __sk_buff *skb)
{
	__u32 n = skb->gso_segs;

	return n ? n : 1;
}

SEC("cgroup_skb/ingress")
int bc_skb_ingress(struct __sk_buff *skb)
{
	struct bc_traffic *t;

	if (skb->ifindex == BC_LOOPBACK_IFINDEX)
		return 1;
	t = traffic_of(skb);
	if (t) {
		__sync_fetch_and_add(&t->bytes_in, skb->len);
		__sync_fetch_and_add(&t->packets_in, segments(skb));
	}
	return 1;
}

SEC("cgroup_skb/egress")
int bc_skb_egress(struct __sk_buff *skb)
{
	struct bc_traffic *t = traffic_of(skb);

	if (!t)
		return 1;
	if (skb->ifindex == BC_LOOPBACK_IFINDEX) {
		__sync_fetch_and_add(&t->bytes_lo, skb->len);
		__sync_fetch_and_add(&t->packets_lo, segments(skb));
	} else {
		__sync_fetch_and_add(&t->bytes_out, skb->len);
		__sync_fetch_and_add(&t->packets_out, segments(skb));
	}
	return 1;
}
