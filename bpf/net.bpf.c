// SPDX-License-Identifier: GPL-2.0
/* The container's network boundary: traffic accounting, and the source guard.
 *
 * Traffic is counted where it crosses the container's boundary, as OpenVZ counted what
 * crossed venet: on the host side of each of the container's veth links, by tc programs.
 * The host side's ingress is what the container sends (out), its egress what the container
 * receives (in). Traffic over the container's own loopback never leaves it and meets none
 * of these programs: it is not counted, and costs nothing. (A cgroup_skb program attached to
 * the containers' cgroups would run twice for every loopback packet: the cgroup_skb version
 * of this accounting cost 6% of 64-byte UDP over a container's loopback, 0.942 of no
 * programs in tests/bench/net_overhead.sh: Documentation/benchmarks.md.)
 *
 * The counters are per CPU, one entry per container (bc_traffic, indexed by the container's
 * slot, as its record is); the host side's interface index (a host-namespace index, unique
 * while the device lives) leads to it through bc_links, which userspace fills when it
 * attaches the programs, and through bc_link_cache, a direct-mapped copy of bc_links indexed
 * by the interface index modulo its size, which the verifier turns into an address
 * computation (no call, no hashing; tests/bench/net_overhead.sh times both paths). A link
 * whose cache entry another link holds is found in bc_links. So the hot path is two array
 * lookups and two plain adds, and a link's counts stay with the container when the link
 * goes. Plain adds are safe: tc ingress runs in softirq and tc egress with bottom halves
 * disabled, so no other run of these programs interleaves on the same CPU. The collection sums each
 * container's entry over CPUs into its record (bpf/collect.bpf.c).
 *
 * Bytes are the Ethernet frame's payload (the IP packet: header and payload; a GSO packet's
 * headers once), packets are wire packets (GSO segments). Frames the guard drops are not
 * counted.
 *
 * The source guard (routed links only): on the host side's ingress an IP packet passes only
 * if its source is one of the container's addresses (bc_net_addrs, written by userspace
 * with the addresses it gives the container). A container's root may craft any frame (raw
 * and packet sockets on its own eth0); nothing with a source it does not own leaves the
 * veth. Passed besides: ARP (its sender address is not routed; the host answers only for
 * its own 169.254.0.1 there), and IPv6 from the unspecified or a link-local source
 * (neighbour discovery and duplicate address detection need them; such packets are not
 * forwarded beyond the link). Everything else (other ether types) is dropped. */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "maps.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_IPV6 0x86DD
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, BC_MAX_NET_ADDRS);
	__type(key, struct bc_net_addr_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bc_net_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BC_LINK_CACHE);
	__type(key, __u32);
	__type(value, struct bc_link_cached);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bc_link_cache SEC(".maps");

/* Dropped packets, per CPU, for diagnosis. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bc_net_spoofed SEC(".maps");

static __always_inline __u32 segments(struct __sk_buff *skb)
{
	__u32 n = skb->gso_segs;

	return n ? n : 1;
}

static __always_inline int count(struct __sk_buff *skb, bool out)
{
	__u32 ifindex = skb->ifindex, key = ifindex & (BC_LINK_CACHE - 1), slot;
	struct bc_link_cached *e = bpf_map_lookup_elem(&bc_link_cache, &key);
	struct bc_traffic *t;
	__u32 len = skb->len;

	if (e && e->ifindex == ifindex) {
		slot = e->slot;
	} else {
		struct bc_link *link = bpf_map_lookup_elem(&bc_links, &ifindex);

		if (!link)
			return TC_ACT_OK;
		slot = link->slot;
	}
	t = bpf_map_lookup_elem(&bc_traffic, &slot);
	if (!t)
		return TC_ACT_OK;
	len = len > ETH_HLEN ? len - ETH_HLEN : 0;
	if (out) {
		t->bytes_out += len;
		t->packets_out += segments(skb);
	} else {
		t->bytes_in += len;
		t->packets_in += segments(skb);
	}
	return TC_ACT_OK;
}

static __always_inline int drop(void)
{
	__u32 k = 0;
	__u64 *n = bpf_map_lookup_elem(&bc_net_spoofed, &k);

	if (n)
		__sync_fetch_and_add(n, 1);
	return TC_ACT_SHOT;
}

/* Host side's ingress of a routed link: the guard, then what passes is counted out. */
SEC("tc")
int bc_net_guard(struct __sk_buff *skb)
{
	struct bc_net_addr_key k = {.ifindex = skb->ifindex};
	__u16 proto = bpf_ntohs(skb->protocol);

	if (proto == ETH_P_ARP)
		return count(skb, true);
	if (proto == ETH_P_IP) {
		k.family = 4;
		if (bpf_skb_load_bytes(skb, ETH_HLEN + 12, k.addr, 4) < 0)
			return drop();
	} else if (proto == ETH_P_IPV6) {
		k.family = 6;
		if (bpf_skb_load_bytes(skb, ETH_HLEN + 8, k.addr, 16) < 0)
			return drop();
		/* fe80::/10 and :: */
		if (k.addr[0] == 0xfe && (k.addr[1] & 0xc0) == 0x80)
			return count(skb, true);
		__u64 hi, lo;
		__builtin_memcpy(&hi, k.addr, 8);
		__builtin_memcpy(&lo, k.addr + 8, 8);
		if (!hi && !lo)
			return count(skb, true);
	} else {
		return drop();
	}
	return bpf_map_lookup_elem(&bc_net_addrs, &k) ? count(skb, true) : drop();
}

/* Host side's ingress of a bridged link (no guard: the bridge's own rules apply). */
SEC("tc")
int bc_net_from_ct(struct __sk_buff *skb)
{
	return count(skb, true);
}

/* Host side's egress of either kind: what the container receives. */
SEC("tc")
int bc_net_to_ct(struct __sk_buff *skb)
{
	return count(skb, false);
}
