/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The maps every accounting domain shares, pinned by name under the pin directory, and the
 * helpers that find a task's container and charge a counter. BPF side only. */
#ifndef BEANCOUNTER_MAPS_BPF_H
#define BEANCOUNTER_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "beancounter_abi.h"

/* cgroup2 id of a running container's cgroup -> its CTID. Userspace adds the entry before the
 * container's init exists and removes it when the cgroup is removed. Not preallocated (as
 * bc_counters): memory only for the containers that exist; programs only look entries up. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, BC_MAX_CTS);
	__type(key, __u64);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bc_cgroups SEC(".maps");

/* CTID -> the container's slot in bc_counters. Userspace adds it when it first registers
 * the container and removes it at destroy. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, BC_MAX_CTS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bc_slots SEC(".maps");

/* Slot -> every beancounter of the container that holds the slot (ctid 0: a free slot).
 * Reset at start, cleared at destroy. An array readers map into their own memory
 * (BPF_F_MMAPABLE), so that reading every container's counters is neither a system call
 * nor a copy in the kernel: userspace/bpf/accounting.cpp. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BC_MAX_CTS);
	__type(key, __u32);
	__type(value, struct bc_ct_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bc_counters SEC(".maps");

/* Slot -> the CTID that claimed it (userspace only: an insert that fails when the key
 * exists is the claim, so two starts never take one slot). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, BC_MAX_CTS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bc_slot_owner SEC(".maps");

/* A container's counters and its slot, or 0 when it is not registered. */
static __always_inline struct bc_ct_counters *bc_counters_at(__u32 ct, __u32 *slot_out)
{
	__u32 *slot = bpf_map_lookup_elem(&bc_slots, &ct);
	struct bc_ct_counters *c;

	if (!slot)
		return 0;
	*slot_out = *slot;
	c = bpf_map_lookup_elem(&bc_counters, slot);
	return c && c->ctid == ct ? c : 0;
}

/* A container's counters, or 0 when it is not registered. */
static __always_inline struct bc_ct_counters *bc_counters_of(__u32 ct)
{
	__u32 slot;

	return bc_counters_at(ct, &slot);
}

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bc_meta);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bc_meta SEC(".maps");

/* Slot -> what crossed the container's boundary links in this run, per CPU (struct
 * bc_traffic): the tc programs add to it (bpf/net.bpf.c), the collection sums it into the
 * container's record (bpf/collect.bpf.c). Userspace zeroes it when it registers the
 * container. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BC_MAX_CTS);
	__type(key, __u32);
	__type(value, struct bc_traffic);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bc_traffic SEC(".maps");

/* Slot -> the inodes on which the container's tasks took file locks (struct bc_lock_set):
 * bpf/lock.bpf.c adds them, the collection counts their locks and removes those with none
 * left (bpf/collect.bpf.c). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BC_MAX_CTS);
	__type(key, __u32);
	__type(value, struct bc_lock_set);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bc_lock_inodes SEC(".maps");

/* Host side's interface index -> the container and slot it counts for (struct bc_link). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, BC_MAX_LINKS);
	__type(key, __u32);
	__type(value, struct bc_link);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bc_links SEC(".maps");

/* The container a cgroup belongs to: the cgroup itself or one of its ancestors (a
 * container's processes may sit in sub-cgroups it made). 0 if none. */
static __always_inline __u32 bc_ct_of_cgroup(struct cgroup *cg)
{
	for (int i = 0; i < BC_MAX_CGROUP_DEPTH && cg; i++) {
		__u64 id = BPF_CORE_READ(cg, kn, id);
		__u32 *ct = bpf_map_lookup_elem(&bc_cgroups, &id);

		if (ct)
			return *ct;
		/* `self` is the first member of struct cgroup, so the parent css is the parent
		 * cgroup itself. */
		cg = (struct cgroup *)BPF_CORE_READ(cg, self.parent);
	}
	return 0;
}

static __always_inline __u32 bc_ct_of_task(struct task_struct *t)
{
	return bc_ct_of_cgroup(BPF_CORE_READ(t, cgroups, dfl_cgrp));
}

/* *p = max(*p, v): a compare-and-swap loop that only ever raises it. */
static __always_inline void bc_raise(__u64 *p, __u64 v)
{
	for (int i = 0; i < 16; i++) {
		__u64 old = *p;

		if (v <= old || __sync_val_compare_and_swap(p, old, v) == old)
			break;
	}
}

/* maxheld follows held up. */
static __always_inline void bc_raise_max(struct bc_counter *r, __u64 held)
{
	bc_raise(&r->maxheld, held);
}

/* held += delta, and maxheld follows: exact under concurrency (atomic add, then the CAS
 * loop). For charges that cannot be refused. */
static __always_inline void bc_charge(struct bc_counter *r, __s64 delta)
{
	__u64 held = __sync_add_and_fetch(&r->held, (__u64)delta);

	if (delta > 0)
		bc_raise_max(r, held);
}

/* One more item, unless that takes held above the barrier (OpenVZ's UB_HARD charge): then
 * held is rolled back, failcnt counts the refusal and false is returned. Exact under
 * concurrency: the add comes first, so two racing charges cannot both pass the last slot. */
static __always_inline bool bc_try_charge_one(struct bc_counter *r)
{
	__u64 held = __sync_add_and_fetch(&r->held, 1);

	if (held > r->barrier) {
		__sync_fetch_and_add(&r->held, (__u64)-1);
		__sync_fetch_and_add(&r->failcnt, 1);
		return false;
	}
	bc_raise_max(r, held);
	return true;
}

/* What a record of a charge holds (socket marks): the container, its generation and one
 * flag bit, in one word so that it can be set and taken with compare-and-swap. */
static __always_inline __u64 bc_owner(__u32 ct, __u32 generation, __u32 flag)
{
	return ((__u64)(generation | (flag << 31)) << 32) | ct;
}

static __always_inline __u32 bc_owner_ct(__u64 owner)
{
	return (__u32)owner;
}

static __always_inline __u32 bc_owner_generation(__u64 owner)
{
	return (__u32)(owner >> 32) & 0x7fffffff;
}

static __always_inline __u32 bc_owner_flag(__u64 owner)
{
	return (__u32)(owner >> 63);
}

/* A sampled value: held as found, maxheld the highest found (or the kernel's own peak). */
static __always_inline void bc_set_held(struct bc_counter *r, __u64 held, __u64 maxheld, __u64 failcnt)
{
	r->held = held;
	r->failcnt = failcnt;
	if (maxheld)
		r->maxheld = maxheld;
	else
		bc_raise_max(r, held);
}

/* The socket settling walk (bpf/sock.bpf.c, bc_sock_settle): what a collection saw of each
 * container that holds sockets, keyed by the collecting thread, so that collections run at
 * once do not mix. bc_collect takes the snapshot as it passes each container (generation,
 * begun and ended charges); bc_sock_settle, read next by the same thread, counts the live
 * marks into it and settles. A collection's snapshots form a list: the entry of CTID 0 (no
 * container has it) names the latest, and each names the one taken before it, so that the
 * settling visits exactly those instead of every bucket of the map. LRU: a collection
 * killed in between leaves nothing that lasts. */
struct bc_walk_key {
	__u32 tid;
	__u32 ct;
};
struct bc_walk {
	__u32 generation;
	__u32 begun;
	__u32 ended;
	__u32 next; /* CTID of the snapshot this collection took before (0: none) */
	__u64 live[2]; /* [0] other, [1] TCP */
	/* The live sockets' buffers, in bytes: TCP send queues, TCP receive queues, other
	 * sockets' sends in flight, other sockets' receive queues. */
	__u64 tcp_snd, tcp_rcv, other_snd, other_rcv;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 2 * BC_MAX_CTS);
	__type(key, struct bc_walk_key);
	__type(value, struct bc_walk);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bc_sock_walk SEC(".maps");

/* The container's socket buffers as summed by a walk (sampled values). */
static __always_inline void bc_set_sockbufs(struct bc_ct_counters *c, __u64 tcp_snd, __u64 tcp_rcv, __u64 other_snd,
					    __u64 other_rcv)
{
	bc_set_held(&c->res[BC_RES_tcpsndbuf], tcp_snd, 0, 0);
	bc_set_held(&c->res[BC_RES_tcprcvbuf], tcp_rcv, 0, 0);
	bc_set_held(&c->res[BC_RES_othersockbuf], other_snd, 0, 0);
	bc_set_held(&c->res[BC_RES_dgramrcvbuf], other_rcv, 0, 0);
	c->flags |= BC_CT_SOCKBUF;
}

/* A collection begins: the list of this thread's snapshots starts empty (one left by a
 * collection killed before its settling is dropped; its entries age out). */
static __always_inline void bc_sock_walk_begin(void)
{
	struct bc_walk_key head = {.tid = (__u32)bpf_get_current_pid_tgid()};

	bpf_map_delete_elem(&bc_sock_walk, &head);
}

/* settling: the settling walk runs after this collection (bc_sock_settle is loaded; a host
 * may refuse iterators over map elements): without it, the buffers of a container holding
 * sockets are not summed, and are marked so. */
static __always_inline void bc_sock_snapshot(__u32 ct, struct bc_ct_counters *c, bool settling)
{
	struct bc_walk_key k = {.tid = (__u32)bpf_get_current_pid_tgid(), .ct = ct}, head = {.tid = k.tid};
	struct bc_walk w = {.generation = c->generation}, *h;

	/* Nothing to lower (and no entry to make) for a container that holds no socket. */
	if (!c->res[BC_RES_numtcpsock].held && !c->res[BC_RES_numothersock].held) {
		bc_set_sockbufs(c, 0, 0, 0, 0); /* and no buffer */
		return;
	}
	if (!settling) {
		c->flags &= ~BC_CT_SOCKBUF;
		return;
	}
	h = bpf_map_lookup_elem(&bc_sock_walk, &head);
	if (!h) {
		struct bc_walk empty = {};

		bpf_map_update_elem(&bc_sock_walk, &head, &empty, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&bc_sock_walk, &head);
		if (!h)
			return;
	}
	w.begun = __sync_fetch_and_add(&c->sock_begun, 0); /* begun first, then ended */
	w.ended = __sync_fetch_and_add(&c->sock_ended, 0);
	if (h->next == ct) { /* the same container again (a repeated step): keep its place */
		struct bc_walk *again = bpf_map_lookup_elem(&bc_sock_walk, &k);

		w.next = again ? again->next : 0;
	} else {
		w.next = h->next;
	}
	if (!bpf_map_update_elem(&bc_sock_walk, &k, &w, BPF_ANY))
		h->next = ct;
}

#endif /* BEANCOUNTER_MAPS_BPF_H */
