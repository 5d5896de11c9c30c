// SPDX-License-Identifier: GPL-2.0
/* Socket accounting: numtcpsock and numothersock for the container's inet sockets (TCP, UDP,
 * raw, ICMP, SCTP, over IPv4 and IPv6).
 *
 * A socket is charged where the kernel creates it:
 *  - socket() and socketpair(): cgroup/sock_create, attached to the cgroup that holds every
 *    container's cgroup. It runs in the creating task, whose cgroup decides the container.
 *    It may refuse: a socket beyond the barrier is refused with ENOMEM and counted in
 *    failcnt, as OpenVZ did.
 *  - a connection accepted by a listener: its socket is cloned from the listener when the
 *    handshake completes (the LISTEN -> SYN_RECV step of tp_btf/inet_sock_set_state on the
 *    child), without sock_create. It inherits the listener's cgroup and is charged to that
 *    container; it cannot be refused there (the kernel offers no way), so it is counted even
 *    beyond the barrier.
 * Each charged socket is marked (socket storage: container, the container's generation, TCP
 * or not). A socket is uncharged once, by whoever takes its mark first:
 *  - cgroup/sock_release, when its last file reference goes (close, exit, kill -9);
 *  - the socket reaching TCP_CLOSE with no file attached, or being destroyed
 *    (tp_btf/tcp_destroy_sock): a connection that was never accepted (reset, or its
 *    listener closed), which never sees sock_release. Two separate programs, so that one
 *    skipped by the kernel's recursion guard (a tracing program does not run again on a
 *    CPU where it is already running) leaves the other.
 * Marks are taken with compare-and-swap, and an uncharge with another generation than the
 * container's current one is dropped: nothing can be uncharged twice or into a later run of
 * the container, so the counters cannot go negative. Unmarked sockets (created outside
 * containers, or before a container's counters existed) are never uncharged.
 *
 * Settling (bc_sock_settle): rarely (about once in two million sockets in our tests) the
 * kernel closes a socket without running the release program, and no other program sees
 * that socket go. Its mark goes with the socket (socket storage is freed with it), so the
 * marks alive are the truth: an iterator over the marks, run at every collection, counts
 * them per container and lowers a count that is above it (bc_sock_settle below). It
 * corrects only a container whose charges and uncharges did not move during the walk
 * (sock_begun/sock_ended), so that it compares a still picture; it never raises a count.
 * The same walk sums the live sockets' queued buffers: tcpsndbuf, tcprcvbuf, othersockbuf,
 * dgramrcvbuf (sampled).
 *
 * Not covered here: unix, netlink, packet and other non-inet sockets. The kernel has no
 * creation hook for them on this platform (cgroup/sock_create is inet-only; LSM hooks are
 * not available); see Documentation/beancounters.md. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "maps.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define BC_ENOMEM 12

/* cgroup2 level of the containers' own cgroups; set by the loader. */
const volatile __u32 ct_level = 1;

/* What the programs did, per CPU, for `beanctl check -v`-style diagnosis: every charge has
 * its uncharge unless the socket is alive (BC_SOCK_STAT_* indexes). */
enum {
	BC_SOCK_STAT_CREATED,    /* charged at socket() */
	BC_SOCK_STAT_CHILDREN,   /* charged as an incoming connection */
	BC_SOCK_STAT_RELEASED,   /* uncharged at the last close */
	BC_SOCK_STAT_CLOSED,     /* uncharged at TCP_CLOSE or destruction without a file */
	BC_SOCK_STAT_NO_STORAGE, /* not counted: no socket storage could be made */
	BC_SOCK_STAT_REFUSED,    /* refused at the barrier */
	BC_SOCK_STAT_STALE,      /* mark of an earlier run of the container: not uncharged */
	BC_SOCK_STAT_UNMARKED,   /* released without storage (created before counting began) */
	BC_SOCK_STAT_TAKEN,      /* released with its mark already taken (or never set) */
	BC_SOCK_STAT_SETTLED,    /* charges taken back by the settling walk (sockets gone unseen) */
	BC_SOCK_STATS,
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BC_SOCK_STATS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bc_sock_stats SEC(".maps");

static __always_inline void stat(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&bc_sock_stats, &i);

	if (v)
		__sync_fetch_and_add(v, 1); /* per CPU, but a preemptible kernel may interleave */
}

/* The mark of a charged socket (see bc_owner(); the flag bit says TCP). */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bc_sock_mark SEC(".maps");

static __always_inline int sock_resource(bool tcp)
{
	return tcp ? BC_RES_numtcpsock : BC_RES_numothersock;
}

/* A charge or uncharge of a container's sockets is bracketed by these (see bc_sock_settle). */
static __always_inline void sock_begin(struct bc_ct_counters *c)
{
	__sync_fetch_and_add(&c->sock_begun, 1);
}

static __always_inline void sock_end(struct bc_ct_counters *c)
{
	__sync_fetch_and_add(&c->sock_ended, 1);
}

/* Uncharges the socket whose mark this is, if the mark is still there. */
static __always_inline void take_mark(__u64 *mark, __u32 why)
{
	__u64 owner = *mark;
	__u32 ct = bc_owner_ct(owner);
	struct bc_ct_counters *c = owner ? bc_counters_of(ct) : 0;

	if (c)
		sock_begin(c);
	if (!owner || __sync_val_compare_and_swap(mark, owner, 0) != owner) {
		if (why == BC_SOCK_STAT_RELEASED)
			stat(BC_SOCK_STAT_TAKEN);
	} else if (c && c->generation == bc_owner_generation(owner)) {
		bc_charge(&c->res[sock_resource(bc_owner_flag(owner))], -1);
		stat(why);
	} else {
		stat(BC_SOCK_STAT_STALE);
	}
	if (c)
		sock_end(c);
}

SEC("cgroup/sock_create")
int bc_sock_create(struct bpf_sock *sk)
{
	__u64 cgid = bpf_get_current_ancestor_cgroup_id(ct_level);
	__u32 *ct = bpf_map_lookup_elem(&bc_cgroups, &cgid);
	struct bc_ct_counters *c;
	struct bc_counter *r;
	bool tcp;
	__u64 *mark, owner;

	if (!ct)
		return 1;
	c = bc_counters_of(*ct);
	if (!c)
		return 1;
	tcp = sk->type == SOCK_STREAM && sk->protocol == IPPROTO_TCP;
	r = &c->res[sock_resource(tcp)];
	mark = bpf_sk_storage_get(&bc_sock_mark, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!mark) {
		stat(BC_SOCK_STAT_NO_STORAGE);
		return 1; /* cannot record it: do not count it either */
	}
	sock_begin(c);
	if (!bc_try_charge_one(r)) {
		sock_end(c);
		stat(BC_SOCK_STAT_REFUSED);
		bpf_set_retval(-BC_ENOMEM);
		return 0;
	}
	owner = bc_owner(*ct, c->generation, tcp);
	/* A mark already there: the other build (during a program swap) counted it. */
	if (__sync_val_compare_and_swap(mark, 0, owner) != 0) {
		bc_charge(r, -1);
	} else {
		stat(BC_SOCK_STAT_CREATED);
		/* numothersock's held, as shown, includes the namespace's unix and netlink sockets
		 * of the last collection (bpf/collect.bpf.c); its peak follows that sum. */
		if (!tcp && (c->flags & BC_CT_NSSOCK))
			bc_raise_max(r, r->held + c->ns_socks);
	}
	sock_end(c);
	return 1;
}

SEC("cgroup/sock_release")
int bc_sock_release(struct bpf_sock *sk)
{
	__u64 *mark = bpf_sk_storage_get(&bc_sock_mark, sk, 0, 0);

	if (mark)
		take_mark(mark, BC_SOCK_STAT_RELEASED);
	else
		stat(BC_SOCK_STAT_UNMARKED);
	return 1;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(bc_sock_state, struct sock *sk, int oldstate, int newstate)
{
	struct bc_ct_counters *c;
	__u64 *mark, owner;
	__u32 ct;

	if (oldstate == TCP_LISTEN && newstate == TCP_SYN_RECV) {
		/* A child of a listener, about to be queued for accept(). */
		ct = bc_ct_of_cgroup(BPF_CORE_READ(sk, sk_cgrp_data.cgroup));
		if (!ct)
			return 0;
		c = bc_counters_of(ct);
		if (!c)
			return 0;
		mark = bpf_sk_storage_get(&bc_sock_mark, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!mark)
			return 0;
		owner = bc_owner(ct, c->generation, 1);
		sock_begin(c);
		if (__sync_val_compare_and_swap(mark, 0, owner) == 0) {
			bc_charge(&c->res[BC_RES_numtcpsock], 1);
			stat(BC_SOCK_STAT_CHILDREN);
		}
		sock_end(c);
		return 0;
	}
	if (newstate == TCP_CLOSE && !BPF_CORE_READ(sk, sk_socket)) {
		mark = bpf_sk_storage_get(&bc_sock_mark, sk, 0, 0);
		if (mark)
			take_mark(mark, BC_SOCK_STAT_CLOSED);
	}
	return 0;
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(bc_sock_destroy, struct sock *sk)
{
	__u64 *mark;

	if (BPF_CORE_READ(sk, sk_socket))
		return 0; /* still has its file: sock_release uncharges it */
	mark = bpf_sk_storage_get(&bc_sock_mark, sk, 0, 0);
	if (mark)
		take_mark(mark, BC_SOCK_STAT_CLOSED);
	return 0;
}

/* The settling walk: an iterator over bc_sock_mark (every marked socket alive), read by every
 * collection right after bc_collect, which left a snapshot of each container holding
 * sockets in bc_sock_walk (generation, begun, ended; maps.bpf.h), listed from the entry of
 * CTID 0. Each mark: one more live socket of its kind in the snapshot. Last call (no
 * socket): for every snapshot of that list whose container's charges stood still throughout
 * (none in progress at the snapshot, none begun since), a count above the live marks is
 * lowered to them, by compare-and-swap (a charge that lands meanwhile makes it fail, and it
 * waits for the next walk). */
static __always_inline void settle_one(struct bc_counter *r, __u64 live)
{
	__u64 held = r->held;

	if (live < held && __sync_val_compare_and_swap(&r->held, held, live) == held) {
		__u32 i = BC_SOCK_STAT_SETTLED;
		__u64 *v = bpf_map_lookup_elem(&bc_sock_stats, &i);

		if (v)
			__sync_fetch_and_add(v, held - live);
	}
}

/* One snapshot of the list, settled and dropped; k->ct becomes the next (0: the end). */
static long settle_next(__u32 i, struct bc_walk_key *k)
{
	struct bc_walk *w = k->ct ? bpf_map_lookup_elem(&bc_sock_walk, k) : 0;
	struct bc_ct_counters *c;
	__u32 ct = k->ct;

	if (!w)
		return 1;
	c = bc_counters_of(ct);
	if (c && w->generation == c->generation && w->begun == w->ended &&
	    __sync_fetch_and_add(&c->sock_begun, 0) == w->begun) {
		settle_one(&c->res[BC_RES_numtcpsock], w->live[1]);
		settle_one(&c->res[BC_RES_numothersock], w->live[0]);
	}
	if (c && w->generation == c->generation)
		bc_set_sockbufs(c, w->tcp_snd, w->tcp_rcv, w->other_snd, w->other_rcv);
	k->ct = w->next;
	bpf_map_delete_elem(&bc_sock_walk, &(struct bc_walk_key){.tid = k->tid, .ct = ct});
	return 0;
}

static __always_inline void settle_all(void)
{
	struct bc_walk_key head = {.tid = (__u32)bpf_get_current_pid_tgid()}, k = head;
	struct bc_walk *h = bpf_map_lookup_elem(&bc_sock_walk, &head);

	if (!h)
		return; /* no snapshot taken */
	k.ct = h->next;
	bpf_loop(BC_MAX_CTS, settle_next, &k, 0);
	bpf_map_delete_elem(&bc_sock_walk, &head);
}

SEC("iter/bpf_sk_storage_map")
int bc_sock_settle(struct bpf_iter__bpf_sk_storage_map *ctx)
{
	struct bc_walk_key k = {.tid = (__u32)bpf_get_current_pid_tgid()};
	struct bc_walk *w;
	__u64 *mark = ctx->value, owner;
	struct sock *sk = ctx->sk;
	int rcv, snd;

	if (!sk) {
		settle_all();
		return 0;
	}
	if (!mark)
		return 0;
	owner = *mark;
	if (!owner)
		return 0;
	k.ct = bc_owner_ct(owner);
	w = bpf_map_lookup_elem(&bc_sock_walk, &k);
	if (!w || w->generation != bc_owner_generation(owner))
		return 0;
	rcv = BPF_CORE_READ(sk, sk_backlog.rmem_alloc.counter);
	if (bc_owner_flag(owner)) {
		w->live[1]++;
		w->tcp_snd += BPF_CORE_READ(sk, sk_wmem_queued);
		w->tcp_rcv += rcv;
	} else {
		snd = BPF_CORE_READ(sk, sk_wmem_alloc.refs.counter);
		w->live[0]++;
		w->other_snd += snd > 1 ? snd - 1 : 0; /* the count starts at 1 */
		w->other_rcv += rcv;
	}
	return 0;
}
