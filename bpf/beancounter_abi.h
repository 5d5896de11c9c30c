/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The one ABI shared by the BPF programs and the C++ library: resource ids, the per-resource
 * record and the map keys. Fixed-width POD types with explicit padding only; both sides assert
 * the sizes. Never copy a definition out of this file. */
#ifndef BEANCOUNTER_ABI_H
#define BEANCOUNTER_ABI_H

#ifdef __bpf__
/* vmlinux.h provides __u32/__u64 */
#else
#include <linux/types.h>
#endif

/* Version of the pinned map layout under /sys/fs/bpf/beancounter/. Bump on any change to the
 * structs or map sizes below; readers refuse pins of another version instead of misreading
 * them. */
#define BC_ABI_VERSION 13

enum bc_unit {
	BC_UNIT_NONE = 0,
	BC_UNIT_COUNT = 1,
	BC_UNIT_PAGES = 2,
	BC_UNIT_BYTES = 3,
};

enum bc_resource_id {
#define BC_RESOURCE(name, id, unit, in_ubc) BC_RES_##name = id,
#include "resources.def"
#undef BC_RESOURCE
	BC_RES_COUNT,
};

/* Rows of /proc/user_beancounters: ids 0..BC_RES_UBC_ROWS-1 (swappages is not printed). */
#define BC_RES_UBC_ROWS 24

/* "unlimited" as OpenVZ prints it on 64-bit: LONG_MAX */
#define BC_UNLIMITED 9223372036854775807ULL

/* One resource of one container, as in /proc/user_beancounters. */
struct bc_counter {
	__u64 held;
	__u64 maxheld;
	__u64 barrier;
	__u64 limit;
	__u64 failcnt;
};

/* Sizes of the pinned maps. */
/* Running containers at once. A hash map's batch lookup walks all of its buckets, so this
 * also sets what reading every container costs (about 0.1 ms per 8192 here). */
#define BC_MAX_CTS 8192
/* Tasks in all containers together recorded in the preallocated hash (about 80 bytes each,
 * 5 MiB by default); beyond that, task storage records them (slower, as exact). */
#define BC_MAX_TASKS 65536
/* How far below a container's own cgroup its sub-cgroups (systemd's slices and scopes) may
 * nest and still count for it. */
#define BC_MAX_CGROUP_DEPTH 16

/* Pinned ARRAY map "bc_meta", one entry: which layout the pinned maps have, and which build
 * of the programs is attached (a new build replaces the programs, keeping the maps). */
struct bc_meta {
	__u32 abi_version;
	__u32 ct_level; /* cgroup2 level of the containers' cgroups the programs were built for */
	__u64 build_id;
	/* Slots of bc_counters ever claimed (claims take the lowest free slot, under the
	 * loaders' lock): readers need not look beyond. */
	__u32 slots_used;
	/* Which of the loader's links this build attached on this kernel (bit i: entry i of
	 * its table; kernel-dependent ones are chosen at load), so that a start finding the
	 * same build loaded checks the pins without probing the kernel again. */
	__u32 links;
};

/* Value of per-container maps: every resource of one container. */
struct bc_ct_counters {
	__u32 ctid;
	/* Nonzero, new at every start of the container (below bit 31). Records of what was
	 * charged carry it, so that nothing charged in an earlier run is uncharged from this
	 * one's counters. */
	__u32 generation;
	/* BC_CT_* bits: which sampled values the last collection found */
	__u32 flags;
	/* Socket charges and uncharges begun and ended (bpf/sock.bpf.c): equal when none is in
	 * progress. The settling walk of the socket marks corrects the socket counts only
	 * when neither moved during the walk. */
	__u32 sock_begun;
	__u32 sock_ended;
	/* Unix and netlink sockets in the container's network namespace at the last collection
	 * (the kernel's per-namespace counters of sockets in use); valid with BC_CT_NSSOCK.
	 * Readers add them to numothersock's held. */
	__u32 ns_socks;
	/* CPU time of the container's tasks, in ns, as its cgroup2 node's cpu.stat counts it
	 * (usage: user + system, its sub-cgroups included); valid with BC_CT_CPU. */
	__u64 cpu_ns;
	/* Inode number of the container's network namespace: that of its first task, recorded
	 * by the fork program (bpf/proc.bpf.c); 0 until then. */
	__u64 netns_ino;
	/* The container's devpts instance, as the collection last found it (bpf/collect.bpf.c):
	 * its super block's address and device number, checked before each use. */
	__u64 devpts_sb;
	__u32 devpts_dev;
	__u32 pad;
	/* What crossed the container's boundary links in this run (struct bc_traffic), summed
	 * over CPUs by the last collection; valid with BC_CT_TRAFFIC. Raised, never lowered,
	 * so that two collections at once cannot make it go back. */
	__u64 bytes_in, packets_in, bytes_out, packets_out;
	/* File locks (bpf/lock.bpf.c): the entries in use of the container's set of locked
	 * inodes (bc_lock_inodes), and the lock requests its tasks made; the collection counts
	 * the locks of those inodes only, and forgets an inode with none left only if no
	 * request came meanwhile. */
	__u32 lock_inodes;
	__u32 lock_events;
	struct bc_counter res[BC_RES_COUNT];
};

/* bc_ct_counters.flags, set by the collection of the controllers' counters (bpf/collect.bpf.c) */
#define BC_CT_MEMORY 1u  /* physpages, swappages, oomguarpages were collected */
#define BC_CT_KMEM 2u    /* kmemsize was collected (a v1 kmem counter, or the memory cgroup's statistics) */
#define BC_CT_PIDS 4u    /* numproc's limit and refusals were collected from the pids controller */
#define BC_CT_TASKS 8u   /* privvmpages, lockedpages, numfile, numsiginfo were collected from the tasks */
#define BC_CT_CPU 16u    /* cpu_ns was collected */
#define BC_CT_SOCKBUF 32u /* tcpsndbuf, tcprcvbuf, othersockbuf, dgramrcvbuf were summed over the sockets */
#define BC_CT_NSSOCK 64u  /* ns_socks was collected */
#define BC_CT_SHMEM 128u  /* shmpages was collected from the memory cgroup's statistics */
#define BC_CT_PTY 256u    /* numpty was collected from the container's devpts instance */
#define BC_CT_TRAFFIC 512u /* bytes_in .. packets_out were summed from bc_traffic */
#define BC_CT_FLOCK 1024u  /* numflock was counted from the container's locked inodes */
#define BC_CT_FLOCK_FULL 2048u /* an inode found the container's set full: numflock may be low */

/* Value of the per-CPU array "bc_traffic", indexed by the container's slot (as
 * bc_counters): what crossed any of the container's boundary links (bpf/net.bpf.c) in this
 * run, reset when the container is registered at start. Bytes are the Ethernet frames'
 * payload (the IP packet: header and payload; a GSO packet's headers once), packets are
 * wire packets (GSO segments). The container's own loopback is not counted. The collection
 * sums it over CPUs into the container's record. */
struct bc_traffic {
	__u64 bytes_in;
	__u64 packets_in;
	__u64 bytes_out;
	__u64 packets_out;
};

/* Value of the pinned array "bc_lock_inodes", indexed by the container's slot: the inodes
 * (kernel addresses; 0: a free entry) on which the container's tasks took a file lock
 * (bpf/lock.bpf.c), until the collection finds no lock left on one. */
#define BC_LOCK_INODES 32
struct bc_lock_set {
	__u64 inode[BC_LOCK_INODES];
};

/* Value of the pinned hash "bc_links", keyed by the host side's interface index (a __u32):
 * the container a boundary link belongs to, and its slot. Userspace adds the entry when it
 * attaches the programs and removes it when the link is deleted; the link's counts stay in
 * the container's bc_traffic entry. */
struct bc_link {
	__u32 ctid;
	__u32 slot;
};
/* Boundary links at once: each container's routed link and a few bridged ones. */
#define BC_MAX_LINKS (4 * BC_MAX_CTS)

/* Value of the pinned array "bc_link_cache", indexed by the host side's interface index
 * modulo BC_LINK_CACHE (a power of two): a copy of that link's bc_links entry, which the
 * programs read without hashing; ifindex 0 is a free entry. bc_links stays the record of
 * the links: a link whose entry here is another's (two indexes with the same remainder) is
 * found there. Userspace fills the entry after the bc_links one and before the programs
 * run on the link, and frees it before it removes the bc_links one. */
struct bc_link_cached {
	__u32 ifindex;
	__u32 slot;
};
#define BC_LINK_CACHE (4 * BC_MAX_CTS)

/* Value of the pinned array "bc_ct_nodes" (Linux 6.7+), by slot: the container's node in
 * the memory hierarchy, held by the kernel (a kptr) once the collecting walk of a run met
 * it, with that run's generation and CTID; and the container's cgroup2 node, where its
 * tasks are summed (bpf/collect.bpf.c). User space writes an entry with no node (cg 0,
 * which releases the one held): at a start (generation 0: to be bound, cgroup2_id set) and
 * at a stop (the run's generation and CTID: nothing to collect). */
struct bc_ct_node {
#ifdef __bpf__
	struct cgroup __attribute__((btf_type_tag("kptr"))) *cg;
#else
	__u64 cg;
#endif
	__u32 generation;
	__u32 ct;
	__u64 cgroup2_id;
};

/* Context of the program bc_collect_slots (BPF_PROG_TEST_RUN), written by it: running
 * containers with no node bound yet (the reader then reads the collecting iterator). */
struct bc_collect_slots_ctx {
	__u32 unbound;
};

/* Key of the pinned hash "bc_dev_allow": one rule of a container's device allowlist. The
 * value is a __u32 of BPF_DEVCG_ACC_* bits (mknod 1, read 2, write 4). BC_DEV_ANY as major
 * or minor matches every number. */
struct bc_dev_key {
	__u64 cgroup_id; /* the container's cgroup2 id */
	__u32 type;      /* BPF_DEVCG_DEV_BLOCK (1) or BPF_DEVCG_DEV_CHAR (2) */
	__u32 major;
	__u32 minor;
	__u32 pad;
};
#define BC_DEV_ANY 0xffffffffu
/* Rules of all containers together. */
#define BC_MAX_DEV_RULES 65536

/* Key of the pinned hash "bc_net_addrs": an address a container may send from, on the host
 * side of its veth. The value is the address's prefix length as configured in the
 * container: the map is also the record of a running container's addresses. */
struct bc_net_addr_key {
	__u32 ifindex; /* the host-side veth */
	__u32 family;  /* 4 or 6 */
	__u8 addr[16]; /* IPv4 in the first 4 bytes */
};
#define BC_MAX_NET_ADDRS 65536

#ifdef __cplusplus
static_assert(sizeof(struct bc_net_addr_key) == 24, "bc_net_addr_key ABI");
static_assert(sizeof(struct bc_dev_key) == 24, "bc_dev_key ABI");
static_assert(sizeof(struct bc_counter) == 40, "bc_counter ABI");
static_assert(sizeof(struct bc_ct_counters) == 96 + 40 * BC_RES_COUNT, "bc_ct_counters ABI");
static_assert(sizeof(struct bc_meta) == 24, "bc_meta ABI");
static_assert(sizeof(struct bc_traffic) == 32, "bc_traffic ABI");
static_assert(sizeof(struct bc_link) == 8, "bc_link ABI");
static_assert(sizeof(struct bc_link_cached) == 8 && (BC_LINK_CACHE & (BC_LINK_CACHE - 1)) == 0, "bc_link_cached ABI");
static_assert(sizeof(struct bc_ct_node) == 24, "bc_ct_node ABI");
#else
_Static_assert(sizeof(struct bc_net_addr_key) == 24, "bc_net_addr_key ABI");
_Static_assert(sizeof(struct bc_dev_key) == 24, "bc_dev_key ABI");
_Static_assert(sizeof(struct bc_counter) == 40, "bc_counter ABI");
_Static_assert(sizeof(struct bc_ct_counters) == 96 + 40 * BC_RES_COUNT, "bc_ct_counters ABI");
_Static_assert(sizeof(struct bc_meta) == 24, "bc_meta ABI");
_Static_assert(sizeof(struct bc_traffic) == 32, "bc_traffic ABI");
_Static_assert(sizeof(struct bc_link) == 8, "bc_link ABI");
_Static_assert(sizeof(struct bc_link_cached) == 8 && (BC_LINK_CACHE & (BC_LINK_CACHE - 1)) == 0, "bc_link_cached ABI");
_Static_assert(sizeof(struct bc_ct_node) == 24, "bc_ct_node ABI");
#endif

#endif /* BEANCOUNTER_ABI_H */
