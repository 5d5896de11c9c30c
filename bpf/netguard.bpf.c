// SPDX-License-Identifier: GPL-2.0
/* Source address guard: on the host side of a container's veth (tc ingress, i.e. what the
 * container sends), an IP packet passes only if its source is one of the container's
 * addresses (bc_net_addrs, written by userspace with the addresses it gives the container).
 * A container's root may craft any frame (raw and packet sockets on its own eth0); nothing
 * with a source it does not own leaves the veth.
 *
 * Passed besides: ARP (its sender address is not routed; the host answers only for its own
 * 169.254.0.1 there), and IPv6 from the unspecified or a link-local source (neighbour
 * discovery and duplicate address detection need them; such packets are not forwarded
 * beyond the link). Everything else (other ether types) is dropped. */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "beancounter_abi.h"

char LICENSE[] SEC("license") = "GPL";

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

/* Dropped packets, per CPU, for diagnosis. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bc_net_spoofed SEC(".maps");

static __always_inline int drop(void)
{
	__u32 k = 0;
	__u64 *n = bpf_map_lookup_elem(&bc_net_spoofed, &k);

	if (n)
		__sync_fetch_and_add(n, 1);
	return TC_ACT_SHOT;
}

SEC("tc")
int bc_net_guard(struct __sk_buff *skb)
{
	struct bc_net_addr_key k = {.ifindex = skb->ifindex};
	__u16 proto = bpf_ntohs(skb->protocol);

	if (proto == ETH_P_ARP)
		return TC_ACT_OK;
	if (proto == ETH_P_IP) {
		k.family = 4;
		if (bpf_skb_load_bytes(skb, 14 + 12, k.addr, 4) < 0)
			return drop();
	} else if (proto == ETH_P_IPV6) {
		k.family = 6;
		if (bpf_skb_load_bytes(skb, 14 + 8, k.addr, 16) < 0)
			return drop();
		/* fe80::/10 and :: */
		if (k.addr[0] == 0xfe && (k.addr[1] & 0xc0) == 0x80)
			return TC_ACT_OK;
		__u64 hi, lo;
		__builtin_memcpy(&hi, k.addr, 8);
		__builtin_memcpy(&lo, k.addr + 8, 8);
		if (!hi && !lo)
			return TC_ACT_OK;
	} else {
		return drop();
	}
	return bpf_map_lookup_elem(&bc_net_addrs, &k) ? TC_ACT_OK : drop();
}
