// SPDX-License-Identifier: GPL-2.0
/* What the kernel's own controllers keep, collected for every container in one pass:
 * physpages, swappages, oomguarpages and kmemsize from the memory controller; the limit and
 * the refusals of numproc from the pids controller (which enforces it).
 *
 * bc_collect is an iter/cgroup program, attached (a pinned iterator link) to the node that
 * holds every container's cgroup in the memory controller's hierarchy: cgroup2 on pure
 * cgroup2 hosts, the v1 memory hierarchy on hybrid ones. One read() of an iterator made from
 * that link walks the containers' nodes and copies their controllers' counters into
 * bc_counters; a reader then reads them all from its own mapping of that array. Nothing is opened or
 * parsed in cgroupfs. Where pids is another hierarchy (hybrid), it is reached through the
 * tasks of the container's node.
 *
 * The page counters are the kernel's own, exact and live: usage (held), watermark (maxheld,
 * the kernel's own peak since the cgroup was made, so since the container started), max
 * (limit), failcnt. Where the kernel keeps no peak, maxheld is the highest value seen by the
 * collections (it is raised, never lowered): see Documentation/beancounters.md. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "maps.bpf.h"
#include "task_ct.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader. */
const volatile __u32 ct_level = 1;     /* level of the containers' nodes in that hierarchy */
const volatile bool mem_v1 = false;     /* memory is a v1 controller (memsw, kmem, failcnt) */
const volatile bool pids_v1 = false;    /* pids is a v1 controller */
const volatile __u64 page_size = 4096;
const volatile bool sock_settling = true; /* bc_sock_settle runs after each collection (sock.bpf.c) */

#define BC_LONG_MAX 0x7fffffffffffffffULL

/* "101" -> 101; 0 if the name is not a CTID. */
static __always_inline __u32 ctid_of(struct cgroup *cg)
{
	char name[12] = {};
	__u32 id = 0;

	if (bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(cg, kn, name)) <= 0)
		return 0;
	for (int i = 0; i < 11; i++) {
		char ch = name[i];

		if (!ch)
			break;
		if (ch < '0' || ch > '9')
			return 0;
		id = id * 10 + (ch - '0');
	}
	return id;
}

/* A page counter's limit in pages; "no limit" (PAGE_COUNTER_MAX) as BC_UNLIMITED. */
static __always_inline __u64 pages_limit(__u64 max)
{
	return max >= BC_LONG_MAX / page_size ? BC_UNLIMITED : max;
}

static __always_inline __u64 bytes_limit(__u64 max)
{
	return max >= BC_LONG_MAX / page_size ? BC_UNLIMITED : max * page_size;
}

/* Linux 6.1-6.9 kept one refusal counter; 6.10 made it events[PIDCG_MAX]. */
struct pids_cgroup___old {
	atomic64_t events_limit;
};

#define BC_PIDS_MAX (4 * 1024 * 1024 + 1) /* PID_MAX_LIMIT + 1: "max" */

static __always_inline void collect_pids(struct cgroup_subsys_state *css, struct bc_ct_counters *c)
{
	struct pids_cgroup *pids = container_of(css, struct pids_cgroup, css);
	struct bc_counter *r = &c->res[BC_RES_numproc];
	__u64 limit = BPF_CORE_READ(pids, limit.counter);

	r->barrier = r->limit = limit >= BC_PIDS_MAX ? BC_UNLIMITED : limit;
	/* The refusals pids.events shows as "max": on cgroup2 the times the limit of the
	 * container's cgroup (or of one below it) refused a fork; on v1 the forks refused in
	 * the container's cgroup. Before 6.10, one counter for both. */
	if (!bpf_core_field_exists(pids->events))
		r->failcnt = BPF_CORE_READ((struct pids_cgroup___old *)pids, events_limit.counter);
	else if (pids_v1)
		r->failcnt = BPF_CORE_READ(pids, events_local[bpf_core_enum_value(enum pidcg_event, PIDCG_FORKFAIL)].counter);
	else
		r->failcnt = BPF_CORE_READ(pids, events[bpf_core_enum_value(enum pidcg_event, PIDCG_MAX)].counter);
	c->flags |= BC_CT_PIDS;
}

/* Scratch space for copies of the kernel's structures: one read each instead of a helper
 * call per field (the walk visits every container; the calls would cost more than the rest
 * of it). Fields are then read from the copies with CO-RE offsets. */
#define BC_MEMSTAT_MAX 128 /* entries of a memory cgroup's statistics array read at most */
#define BC_COUNTER_ROOM 512 /* bytes for a copy of a struct page_counter: 192 on 6.18, 256 on 6.12 */
struct scratch {
	char mem[BC_COUNTER_ROOM], swap[BC_COUNTER_ROOM], kmem[BC_COUNTER_ROOM];
	atomic_long_t events[MEMCG_NR_MEMORY_EVENTS];
	struct prot_inuse inuse;
	long stats[BC_MEMSTAT_MAX];
	__u64 opaque;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} bc_collect_scratch SEC(".maps");

#ifndef BC_WITH_TASKS
/* One kernel struct page_counter into a copy (its size on the running kernel: it differs
 * between kernels, so the room is larger than this build's struct), read through the
 * returned pointer with the running kernel's offsets (CO-RE); 0 on failure. */
static __always_inline struct page_counter *read_counter(char *to, const void *from)
{
	__u32 size = bpf_core_type_size(struct page_counter);

	if (size > BC_COUNTER_ROOM || bpf_probe_read_kernel(to, size, from))
		return 0;
	return (struct page_counter *)to;
}
#endif

/* Where shmem and kernel memory are in a memory cgroup's statistics (memcg->vmstats->state,
 * what memory.stat prints as "shmem" and "kernel"): set by the loader (-1: not counted).
 * Up to Linux 6.9 the array is indexed by the items' enum values; later kernels keep only
 * the items memory cgroups track, through a private table, and the loader finds the two
 * indices by calibration (userspace/bpf/kernel_layout.cpp, bc_memstat_dump below). */
struct memstat_idx {
	int shmem, kmem;
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct memstat_idx);
} bc_memstat_idx SEC(".maps");

/* One read of a long of the statistics array (0 on failure). */
static __always_inline long memstat(struct memcg_vmstats *vs, int idx)
{
	long v = 0;

	if (idx < 0 || idx >= BC_MEMSTAT_MAX || (idx + 1) * sizeof(long) > bpf_core_field_size(vs->state))
		return 0;
	bpf_probe_read_kernel(&v, sizeof(v), (void *)vs + bpf_core_field_offset(vs->state) + idx * sizeof(long));
	return v;
}

/* Calibration only: the statistics array of the memory cgroup it is attached to (self only),
 * as raw longs. */
SEC("iter/cgroup")
int bc_memstat_dump(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cg = ctx->cgroup;
	struct cgroup_subsys_state *css;
	struct memcg_vmstats *vs;
	__u32 zero = 0;
	struct scratch *k = bpf_map_lookup_elem(&bc_collect_scratch, &zero);
	__u32 size;

	if (!cg || !k)
		return 0;
	css = BPF_CORE_READ(cg, subsys[bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id)]);
	if (!css)
		return 0;
	vs = BPF_CORE_READ(container_of(css, struct mem_cgroup, css), vmstats);
	size = bpf_core_field_size(vs->state);
	if (!vs || size > sizeof(k->stats))
		return 0;
	if (bpf_probe_read_kernel(k->stats, size, (void *)vs + bpf_core_field_offset(vs->state)))
		return 0;
	bpf_seq_write(ctx->meta->seq, k->stats, size);
	return 0;
}

/* What collect_memory reads of a memory cgroup: its page counters (memory, swap or memsw,
 * kmem where v1 has it), events and statistics. */
struct mem_read {
	__u64 usage, peak, max, failcnt;
	__u64 swap, swap_peak, swap_max, swap_failcnt;
	__u64 kmem, kmem_peak, kmem_max, kmem_failcnt;
	__u64 ev_max, ev_swap_max, oom_kills;
	bool kmem_counted;
	struct memcg_vmstats *vs;
};

#ifdef BC_WITH_TASKS
/* 6.7+: plain loads through the kernel's types (bpf_rdonly_cast, 6.2+; a load that faults
 * reads 0), a few cache lines each, instead of a helper call per copied structure. */
extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id__k) __ksym;

static __always_inline bool read_memory(struct cgroup_subsys_state *css, struct mem_read *r)
{
	struct mem_cgroup *memcg = bpf_rdonly_cast(css, bpf_core_type_id_kernel(struct mem_cgroup));

	r->usage = memcg->memory.usage.counter;
	r->peak = memcg->memory.watermark;
	r->max = memcg->memory.max;
	r->failcnt = memcg->memory.failcnt;
	/* swap (cgroup2) and memsw (v1: memory + swap) share their place in struct mem_cgroup */
	r->swap = memcg->swap.usage.counter;
	r->swap_peak = memcg->swap.watermark;
	r->swap_max = memcg->swap.max;
	r->swap_failcnt = memcg->swap.failcnt;
	r->ev_max = memcg->memory_events[bpf_core_enum_value(enum memcg_memory_event, MEMCG_MAX)].counter;
	r->ev_swap_max = memcg->memory_events[bpf_core_enum_value(enum memcg_memory_event, MEMCG_SWAP_MAX)].counter;
	r->oom_kills = memcg->memory_events[bpf_core_enum_value(enum memcg_memory_event, MEMCG_OOM_KILL)].counter;
	if (mem_v1 && bpf_core_field_exists(memcg->kmem)) {
		r->kmem = memcg->kmem.usage.counter;
		r->kmem_peak = memcg->kmem.watermark;
		r->kmem_max = memcg->kmem.max;
		r->kmem_failcnt = memcg->kmem.failcnt;
		r->kmem_counted = true;
	}
	r->vs = memcg->vmstats;
	return true;
}
#else
static __always_inline bool read_memory(struct cgroup_subsys_state *css, struct mem_read *r)
{
	struct mem_cgroup *memcg = container_of(css, struct mem_cgroup, css);
	__u32 zero = 0;
	struct scratch *k = bpf_map_lookup_elem(&bc_collect_scratch, &zero);
	struct page_counter *m, *s, *km;

	if (!k)
		return false;
	m = read_counter(k->mem, &memcg->memory);
	s = read_counter(k->swap, &memcg->swap);
	if (!m || !s || bpf_probe_read_kernel(k->events, sizeof(k->events), &memcg->memory_events))
		return false;
	r->usage = m->usage.counter;
	r->peak = m->watermark;
	r->max = m->max;
	r->failcnt = m->failcnt;
	r->swap = s->usage.counter;
	r->swap_peak = s->watermark;
	r->swap_max = s->max;
	r->swap_failcnt = s->failcnt;
	r->ev_max = k->events[bpf_core_enum_value(enum memcg_memory_event, MEMCG_MAX)].counter;
	r->ev_swap_max = k->events[bpf_core_enum_value(enum memcg_memory_event, MEMCG_SWAP_MAX)].counter;
	r->oom_kills = k->events[bpf_core_enum_value(enum memcg_memory_event, MEMCG_OOM_KILL)].counter;
	if (mem_v1 && bpf_core_field_exists(memcg->kmem) && (km = read_counter(k->kmem, &memcg->kmem))) {
		r->kmem = km->usage.counter;
		r->kmem_peak = km->watermark;
		r->kmem_max = km->max;
		r->kmem_failcnt = km->failcnt;
		r->kmem_counted = true;
	}
	r->vs = BPF_CORE_READ(memcg, vmstats);
	return true;
}
#endif

static __always_inline void collect_memory(struct cgroup_subsys_state *css, struct bc_ct_counters *c)
{
	struct mem_read m = {};
	__u32 zero = 0;

	if (!read_memory(css, &m))
		return;

	struct bc_counter *phys = &c->res[BC_RES_physpages];
	struct bc_counter *sw = &c->res[BC_RES_swappages];
	struct bc_counter *oom = &c->res[BC_RES_oomguarpages];

	phys->barrier = phys->limit = pages_limit(m.max);
	if (mem_v1) {
		bc_set_held(phys, m.usage, m.peak, m.failcnt);
		/* memsw counts memory and swap together: swap is the difference (sampled peak) */
		bc_set_held(sw, m.swap > m.usage ? m.swap - m.usage : 0, 0, m.swap_failcnt);
		sw->barrier = 0;
		sw->limit = pages_limit(m.swap_max) == BC_UNLIMITED || m.swap_max < m.max ? BC_UNLIMITED : m.swap_max - m.max;
		bc_set_held(oom, m.swap, m.swap_peak, m.oom_kills);
		if (m.kmem_counted) {
			struct bc_counter *r = &c->res[BC_RES_kmemsize];

			bc_set_held(r, m.kmem * page_size, m.kmem_peak * page_size, m.kmem_failcnt);
			r->barrier = r->limit = bytes_limit(m.kmem_max);
			c->flags |= BC_CT_KMEM;
		}
	} else {
		bc_set_held(phys, m.usage, m.peak, m.ev_max);
		bc_set_held(sw, m.swap, m.swap_peak, m.ev_swap_max);
		sw->barrier = 0;
		sw->limit = pages_limit(m.swap_max);
		/* RAM + swap: the kernel keeps no peak of the sum (sampled) */
		bc_set_held(oom, m.usage + m.swap, 0, m.oom_kills);
	}
	struct memstat_idx *mi = bpf_map_lookup_elem(&bc_memstat_idx, &zero);
	struct memcg_vmstats *vs = mi && (mi->shmem >= 0 || mi->kmem >= 0) ? m.vs : 0;

	if (vs) {
		/* The kernel's statistics, folded up to its latest flush (sampled) */
		if (mi->shmem >= 0) {
			long v = memstat(vs, mi->shmem);

			bc_set_held(&c->res[BC_RES_shmpages], v > 0 ? v : 0, 0, 0);
			c->flags |= BC_CT_SHMEM;
		}
		if (mi->kmem >= 0 && !m.kmem_counted) {
			long v = memstat(vs, mi->kmem);

			bc_set_held(&c->res[BC_RES_kmemsize], v > 0 ? v * page_size : 0, 0, 0);
			c->flags |= BC_CT_KMEM;
		}
	}
	c->flags |= BC_CT_MEMORY;
}

/* The css_set of the first task directly in a node (NULL if it has none): on hybrid hosts it
 * names the node's tasks' cgroups in the other hierarchies. */
static __always_inline struct css_set *cset_of_tasks(struct cgroup *cg)
{
	struct list_head *head = &cg->cset_links, *first = BPF_CORE_READ(cg, cset_links.next);

	if (!first || first == head)
		return 0;
	return BPF_CORE_READ(container_of(first, struct cgrp_cset_link, cset_link), cset);
}

/* The css of css's cgroup's ancestor at the containers' level (NULL above it): a task's css may
 * be below the container's own, in a sub-cgroup. */
static __always_inline struct cgroup_subsys_state *at_ct_level(struct cgroup_subsys_state *css)
{
	for (int i = 0; i < BC_MAX_CGROUP_DEPTH && css; i++) {
		int level = BPF_CORE_READ(css, cgroup, level);

		if (level == ct_level)
			return css;
		if (level < ct_level)
			return 0;
		css = BPF_CORE_READ(css, parent);
	}
	return 0;
}

/* On hybrid hosts the pids controller is in another hierarchy: reach it through the tasks
 * of the container's node (their css_set names their pids cgroup). A node without tasks of
 * its own (all in sub-cgroups) keeps what was collected before. */
static __always_inline void collect_pids_of_tasks(struct css_set *cset, struct bc_ct_counters *c)
{
	struct cgroup_subsys_state *css;

	if (!cset)
		return;
	css = at_ct_level(BPF_CORE_READ(cset, subsys[bpf_core_enum_value(enum cgroup_subsys_id, pids_cgrp_id)]));
	if (css)
		collect_pids(css, c);
}

/* CPU time: the container's cgroup2 node's own figure (cpu.stat usage: user + system, its
 * sub-cgroups included), brought up to date by bc_flush (bpf/flush.bpf.c) just before. On
 * pure cgroup2 the walk is in that hierarchy; on hybrid hosts the node is reached through
 * the tasks of the container's memory node, as pids is (the containers' nodes are at the
 * same level in every hierarchy). */
static __always_inline void cpu_of(struct cgroup *v2, struct bc_ct_counters *c)
{
	c->cpu_ns = BPF_CORE_READ(v2, bstat.cputime.sum_exec_runtime);
	c->flags |= BC_CT_CPU;
}

static __always_inline void collect_cpu_of_tasks(struct css_set *cset, struct bc_ct_counters *c)
{
	struct cgroup *v2;
	struct cgroup_subsys_state *css;

	if (!cset)
		return;
	v2 = BPF_CORE_READ(cset, dfl_cgrp);
	css = v2 ? at_ct_level(&v2->self) : 0;
	if (css)
		cpu_of(BPF_CORE_READ(css, cgroup), c);
}

/* Unix and netlink sockets (numothersock). No BPF hook sees them made (cgroup/sock_create
 * is for inet sockets), but the kernel counts the sockets in use of every protocol in every
 * network namespace (struct prot_inuse, per CPU: what /proc/net/protocols shows), and a
 * container has its own namespace. So the collection adds up, for the container's
 * namespace, the counters of the unix protocols (stream; datagram and seqpacket) and of
 * netlink, over all CPUs. Sampled at each collection, exact at that moment.
 *
 * Where those protocols' counters are is learned once per load: the loader makes one
 * socket of each kind and reads the iterators below, which copy the index of each one's
 * protocol (struct proto.inuse_idx, given at boot) from its socket. -1: not found, not
 * counted. */
int proto_idx[3] = {-1, -1, -1}; /* unix stream, unix datagram, netlink */
#define BC_PROTO_INUSE_NR 64 /* PROTO_INUSE_NR: the size of struct prot_inuse.val */
const volatile __u32 nr_cpus = 1;  /* possible CPUs */

SEC("iter/unix")
int bc_proto_unix(struct bpf_iter__unix *ctx)
{
	struct unix_sock *u = ctx->unix_sk;
	int idx;

	if (!u)
		return 0;
	idx = BPF_CORE_READ(&u->sk, __sk_common.skc_prot, inuse_idx);
	if (BPF_CORE_READ(&u->sk, sk_type) == 1 /* SOCK_STREAM */)
		proto_idx[0] = idx;
	else
		proto_idx[1] = idx;
	return 0;
}

SEC("iter/netlink")
int bc_proto_netlink(struct bpf_iter__netlink *ctx)
{
	struct netlink_sock *n = ctx->sk;

	if (n)
		proto_idx[2] = BPF_CORE_READ(&n->sk, __sk_common.skc_prot, inuse_idx);
	return 0;
}

/* Each CPU's offset of the per-CPU data, which turns a per-CPU address (as a namespace's
 * counters are kept) into that CPU's copy. The kernel gives no program the offsets
 * themselves (its per-CPU symbols are not resolvable on kernels built without
 * CONFIG_KALLSYMS_ALL), so they are found with a per-CPU map of ours: the address of its
 * element on a CPU (bpf_map_lookup_percpu_elem) less the element's per-CPU address (in the
 * map's struct bpf_array). Taking addresses as numbers needs the loader to be root
 * (CAP_PERFMON), which it is. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} bc_cpu_probe SEC(".maps");

/* The address p holds, as a number. */
static __always_inline __u64 addr_of(const void *p)
{
	const void *slot = p;
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &slot);
	return v;
}

struct ns_count {
	__u64 inuse;      /* the namespace's per-CPU counters (a per-CPU address) */
	__u32 len;        /* bytes of them read: up to the last counter needed */
	__u64 probe;      /* bc_cpu_probe's element (a per-CPU address) */
	struct scratch *k;
	__s64 sum;
};

static long add_cpu_socks(__u32 cpu, struct ns_count *n)
{
	__u32 zero = 0;
	const void *here = bpf_map_lookup_percpu_elem(&bc_cpu_probe, &zero, cpu);
	__u32 size = bpf_core_type_size(struct prot_inuse);
	__u32 val = bpf_core_field_offset(struct prot_inuse, val);
	struct scratch *k = n->k;
	__u32 len = n->len;

	if (!here)
		return 1;
	/* Only the counters up to the last one needed: usually one cache line, not five. */
	if (len > size || len > sizeof(k->inuse) || len == 0 ||
	    bpf_probe_read_kernel(&k->inuse, len, (void *)(n->inuse + (addr_of(here) - n->probe))))
		return 1;
	for (int i = 0; i < 3; i++) {
		int idx = proto_idx[i];

		if (idx < 0 || idx >= BC_PROTO_INUSE_NR || val + (idx + 1) * sizeof(int) > len)
			continue;
		if (i == 1 && idx == proto_idx[0])
			continue; /* one unix protocol for both (older kernels) */
		n->sum += *(int *)((void *)&k->inuse + val + idx * sizeof(int));
	}
	return 0;
}

/* The unix and netlink sockets in use in the container's network namespace. */
static __always_inline void collect_ns_socks(struct net *net, struct bc_ct_counters *c)
{
	__u32 zero = 0;
	struct ns_count n = {};

	for (int i = 0; i < 3; i++) {
		int idx = proto_idx[i];
		__u32 end = bpf_core_field_offset(struct prot_inuse, val) + (idx + 1) * sizeof(int);

		if (idx >= 0 && idx < BC_PROTO_INUSE_NR && end > n.len)
			n.len = end;
	}
	if (!n.len)
		return; /* no protocol found at load: not counted */
	n.k = bpf_map_lookup_elem(&bc_collect_scratch, &zero);
	n.inuse = (__u64)BPF_CORE_READ(net, core.prot_inuse);
	if (!n.k || !n.inuse ||
	    bpf_probe_read_kernel(&n.probe, sizeof(n.probe),
				  (void *)(addr_of(&bc_cpu_probe) + bpf_core_field_offset(struct bpf_array, pptrs))))
		return;
	bpf_loop(nr_cpus, add_cpu_socks, &n, 0);
	/* per-CPU counters go up on one CPU and down on another: only the sum is meaningful */
	c->ns_socks = n.sum > 0 ? n.sum : 0;
	c->flags |= BC_CT_NSSOCK;
	bc_raise_max(&c->res[BC_RES_numothersock], c->res[BC_RES_numothersock].held + c->ns_socks);
}

/* numpty: the pseudo-terminals of the container's devpts instance (found once per run of
 * the container, then checked), the one mounted on its /dev/pts at start: the first devpts
 * mount of its mount namespace that is below the container's root (a namespace may keep
 * mounts out of its root's reach, as when the host's root was an initramfs), in the order
 * the mounts were made (the namespace's list up to
 * Linux 6.7, its red-black tree, keyed by mount id, since). devpts keeps an inode per
 * terminal besides its root and its ptmx node, and drops it when the terminal is closed:
 * the count is the instance's inodes less 2, sampled at each collection. */
#define BC_DEVPTS_MAGIC 0x1cd1
#define BC_MOUNTS_MAX 256 /* mounts looked at per namespace */
#define BC_PTYS_MAX 4096  /* terminals counted (devpts's default limit per instance) */

struct mnt_namespace___list {
	struct list_head list;
};

struct mnt_walk {
	__u64 node, head;
	int mode; /* tree walk: 0 descend left, 1 visit, 2 ascend */
	__u64 root; /* the container's root mount */
	__u64 sb;   /* the devpts instance found */
};

#define BC_MOUNT_DEPTH 8 /* how far below the root /dev/pts may be mounted */

/* true: the walk can stop */
static __always_inline bool visit_mount(struct mount *m, struct mnt_walk *w)
{
	struct super_block *sb = BPF_CORE_READ(m, mnt.mnt_sb);

	if (!sb || BPF_CORE_READ(sb, s_magic) != BC_DEVPTS_MAGIC)
		return false;
	for (int i = 0; i < BC_MOUNT_DEPTH; i++) {
		struct mount *parent = BPF_CORE_READ(m, mnt_parent);

		if ((__u64)parent == w->root) {
			w->sb = (__u64)sb;
			return true;
		}
		if (!parent || parent == m)
			return false; /* the namespace's top, not the container's root */
		m = parent;
	}
	return false;
}

static long mount_list_step(__u32 i, struct mnt_walk *w)
{
	struct list_head *pos = (struct list_head *)w->node;

	if (!pos || (__u64)pos == w->head || visit_mount(container_of(pos, struct mount, mnt_list), w))
		return 1;
	w->node = (__u64)BPF_CORE_READ(pos, next);
	return 0;
}

/* In-order walk of the mounts' tree, one step per call. */
static long mount_tree_step(__u32 i, struct mnt_walk *w)
{
	struct rb_node *n = (struct rb_node *)w->node, *next;

	if (!n)
		return 1;
	if (w->mode == 0) {
		next = BPF_CORE_READ(n, rb_left);
		if (next)
			w->node = (__u64)next;
		else
			w->mode = 1;
	} else if (w->mode == 1) {
		if (visit_mount(container_of(n, struct mount, mnt_node), w))
			return 1;
		next = BPF_CORE_READ(n, rb_right);
		if (next) {
			w->node = (__u64)next;
			w->mode = 0;
		} else {
			w->mode = 2;
		}
	} else {
		struct rb_node *parent = (struct rb_node *)(BPF_CORE_READ(n, __rb_parent_color) & ~3UL);

		if (!parent)
			return 1;
		if (BPF_CORE_READ(parent, rb_left) == n)
			w->mode = 1;
		w->node = (__u64)parent;
	}
	return 0;
}

struct inode_walk {
	__u64 pos, head, n;
	bool end;
};

/* v, as a value the verifier knows nothing of: a count made one step at a time in a loop,
 * then compared, would make it follow every step's value (thousands of states). */
static __always_inline __u64 opaque(__u64 v)
{
	__u32 zero = 0;
	struct scratch *k = bpf_map_lookup_elem(&bc_collect_scratch, &zero);

	if (!k)
		return 0;
	*(volatile __u64 *)&k->opaque = v;
	return *(volatile __u64 *)&k->opaque;
}

static long count_inode(__u32 i, struct inode_walk *w)
{
	struct list_head *pos = (struct list_head *)w->pos;

	if (!pos || (__u64)pos == w->head) {
		w->end = true;
		return 1;
	}
	w->n++;
	w->pos = (__u64)BPF_CORE_READ(pos, next);
	return 0;
}

static __always_inline void collect_ptys(struct task_struct *t, struct bc_ct_counters *c)
{
	struct mnt_namespace *ns = BPF_CORE_READ(t, nsproxy, mnt_ns);
	struct vfsmount *root = BPF_CORE_READ(t, fs, root.mnt);
	struct mnt_walk w = {.root = (__u64)container_of(root, struct mount, mnt)};
	struct inode_walk iw = {};
	struct super_block *sb;
	__u64 n;

	if (!ns || !root)
		return;
	/* The instance found last time, if it is still a devpts instance with the same device
	 * number (the walk costs a few microseconds per container; this check two reads). */
	sb = (struct super_block *)c->devpts_sb;
	if (sb && BPF_CORE_READ(sb, s_magic) == BC_DEVPTS_MAGIC && BPF_CORE_READ(sb, s_dev) == c->devpts_dev)
		goto count;
	if (bpf_core_field_exists(struct mnt_namespace___list, list)) {
		struct mnt_namespace___list *old = (void *)ns;

		w.head = (__u64)&old->list;
		w.node = (__u64)BPF_CORE_READ(old, list.next);
		bpf_loop(BC_MOUNTS_MAX, mount_list_step, &w, 0);
	} else {
		w.node = (__u64)BPF_CORE_READ(ns, mounts.rb_node);
		bpf_loop(3 * BC_MOUNTS_MAX, mount_tree_step, &w, 0);
	}
	sb = (struct super_block *)w.sb;
	if (!sb)
		return;
	c->devpts_sb = (__u64)sb;
	c->devpts_dev = BPF_CORE_READ(sb, s_dev);
count:
	iw.head = (__u64)&sb->s_inodes;
	iw.pos = (__u64)BPF_CORE_READ(sb, s_inodes.next);
	bpf_loop(BC_PTYS_MAX + 3, count_inode, &iw, 0);
	if (!iw.end)
		return; /* more than counted: keep the last value */
	n = opaque(iw.n);
	bc_set_held(&c->res[BC_RES_numpty], n > 2 ? n - 2 : 0, 0, 0); /* its root and its ptmx node */
	c->flags |= BC_CT_PTY;
}

/* A task directly in a node that is in the container's own network namespace (inode number
 * ino), looked for among the first tasks of the node's first css_set (a process that made
 * a namespace of its own shares its css_set with the others); 0 if none. */
#define BC_NET_TASKS 64
struct task_walk {
	struct list_head *head, *pos;
	__u64 ino, task;
};

static long match_task(__u32 i, struct task_walk *w)
{
	struct list_head *pos = w->pos;
	struct task_struct *t;
	struct net *net;

	if (!pos || pos == w->head)
		return 1;
	t = container_of(pos, struct task_struct, cg_list);
	net = BPF_CORE_READ(t, nsproxy, net_ns);
	if (net && BPF_CORE_READ(net, ns.inum) == w->ino) {
		w->task = (__u64)t;
		return 1;
	}
	w->pos = BPF_CORE_READ(pos, next);
	return 0;
}

static __always_inline struct task_struct *ct_task_of(struct css_set *cset, __u64 ino)
{
	struct task_walk w = {.ino = ino};

	if (!cset || !ino)
		return 0;
	w.head = &cset->tasks;
	w.pos = BPF_CORE_READ(cset, tasks.next);
	bpf_loop(BC_NET_TASKS, match_task, &w, 0);
	return (struct task_struct *)w.task;
}

/* What is counted from the container's namespaces, through one of its tasks (in this
 * program run: what the task leads to is valid only in it): false if the task is not in
 * the container's network namespace. */
static __always_inline bool collect_ns(struct task_struct *t, struct bc_ct_counters *c)
{
	struct net *net = t ? BPF_CORE_READ(t, nsproxy, net_ns) : 0;

	if (!net || !c->netns_ino || BPF_CORE_READ(net, ns.inum) != c->netns_ino)
		return false;
	collect_ns_socks(net, c);
	collect_ptys(t, c);
	return true;
}

/* The same from a sub-cgroup of a container (below the containers' level), for the
 * container it belongs to; true if done. */
static __always_inline bool collect_ns_of_sub(struct cgroup *cg)
{
	struct cgroup_subsys_state *css = at_ct_level(&cg->self);
	struct bc_ct_counters *c;
	__u32 ct;

	ct = css ? ctid_of(BPF_CORE_READ(css, cgroup)) : 0;
	c = ct ? bc_counters_of(ct) : 0;
	return c && collect_ns(ct_task_of(cset_of_tasks(cg), c->netns_ino), c);
}

/* The state of one reading of a collecting iterator, keyed by its seq_file (LRU: a reading
 * cut short leaves nothing that lasts):
 *  - where it is: the seq_num (+1) of its first and of its latest call. The kernel skips a
 *    dead cgroup (one removed moments ago) without calling the program but counts it in
 *    seq_num, so the first call may come with seq_num above 0; and it calls the program
 *    again for a cgroup whose output did not fit the reader's buffer, with the same seq_num.
 *    A call below the latest begins a new reading.
 *  - the tasks' running sums (BC_WITH_TASKS): the walk is post-order, so a container's
 *    sub-cgroups come right before its own node, and their tasks are summed here until the
 *    container's node takes and resets them; saved is what they were before the latest
 *    call, for a repeated call to start from. */
struct task_sums {
	__u64 privvm, locked, files, siginfo;
};
struct walk_state {
	__u64 first, latest;
	__u64 gen; /* random, new for each reading */
	struct task_sums sums, saved;
	__u64 ns_done; /* the container's namespaces were counted from a task in its sub-cgroups */
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);
	__type(value, struct walk_state);
} bc_walk_state SEC(".maps");

/* This call's state (NULL if it cannot be kept); *first: the call shows the reading's first
 * cgroup (again, if repeated). */
static __always_inline struct walk_state *walk_step(struct bpf_iter_meta *meta, bool *first)
{
	__u64 key = (__u64)meta->seq, pos = meta->seq_num + 1;
	struct walk_state *w = bpf_map_lookup_elem(&bc_walk_state, &key);

	if (!w || pos < w->latest) {
		struct walk_state fresh = {.first = pos, .latest = pos,
					   .gen = (__u64)bpf_get_prandom_u32() << 32 | bpf_get_prandom_u32()};

		*first = true;
		bpf_map_update_elem(&bc_walk_state, &key, &fresh, BPF_ANY);
		return bpf_map_lookup_elem(&bc_walk_state, &key);
	}
	*first = pos == w->first;
	if (pos == w->latest) {
		w->sums = w->saved; /* the same cgroup again */
	} else {
		w->latest = pos;
		w->saved = w->sums;
	}
	return w;
}

static __always_inline void end_walk(struct bpf_iter_meta *meta)
{
	__u64 key = (__u64)meta->seq;

	bpf_map_delete_elem(&bc_walk_state, &key);
}

/* What the container's tasks hold, summed over every task in the container's subtree: with
 * the kernel's css_task iterator where the kernel has it (Linux 6.7 and later: the loader
 * uses the build of this object made with BC_WITH_TASKS), else by a walk of every task of
 * the host (bc_task_sums_walk below):
 *   privvmpages  private writable mappings of each process (data_vm + stack_vm: VmData +
 *                VmStk), mapped whether touched or not, as OpenVZ's privvmpages;
 *   lockedpages  mlock()ed pages of each process (locked_vm: VmLck);
 *   numfile      open file descriptors of each process (a file open in two processes, or
 *                twice in one, counts twice: an upper bound of OpenVZ's count of files);
 *   numsiginfo   queued signals, per thread and per process.
 * Processes sharing their memory or file table without being threads of one another
 * (vfork, CLONE_VM or CLONE_FILES alone) count once each. maxheld is the highest value seen
 * by the collections (sampled). */
#define BC_FD_CHUNK_WORDS 8     /* bitmap words read at once: 512 descriptors */
#define BC_FD_CHUNKS 32         /* descriptors counted per process: at most 16384 */
#define BC_SIGQUEUE_MAX 64      /* queued signals counted per list */

static __always_inline __u64 popcount(__u64 x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (x * 0x0101010101010101ULL) >> 56;
}

/* Loops run through bpf_loop(): the verifier checks a callback once instead of every
 * unrolled iteration (which made loading take seconds). */
struct fd_walk {
	unsigned long *bits;
	unsigned int max;
	__u64 n;
};

static long count_fd_chunk(__u32 i, struct fd_walk *w)
{
	__u64 words[BC_FD_CHUNK_WORDS];

	if (i * BC_FD_CHUNK_WORDS * 64 >= w->max)
		return 1;
	if (bpf_probe_read_kernel(words, sizeof(words), w->bits + i * BC_FD_CHUNK_WORDS))
		return 1;
	for (int k = 0; k < BC_FD_CHUNK_WORDS; k++)
		if ((i * BC_FD_CHUNK_WORDS + k) * 64 < w->max) /* the bitmap ends there */
			w->n += popcount(words[k]);
	return 0;
}

static __always_inline __u64 open_fds(struct task_struct *t)
{
	struct files_struct *files = t->files;
	struct fdtable *fdt;
	struct fd_walk w = {};

	if (!files)
		return 0;
	fdt = BPF_CORE_READ(files, fdt);
	if (!fdt)
		return 0;
	w.max = BPF_CORE_READ(fdt, max_fds);
	w.bits = BPF_CORE_READ(fdt, open_fds);
	bpf_loop(BC_FD_CHUNKS, count_fd_chunk, &w, 0);
	return w.n;
}

struct list_walk {
	struct list_head *head, *pos;
	__u64 n;
};

static long count_list_node(__u32 i, struct list_walk *w)
{
	struct list_head *pos = w->pos;

	if (!pos || pos == w->head)
		return 1;
	w->n++;
	w->pos = BPF_CORE_READ(pos, next);
	return 0;
}

static __always_inline __u64 queued(struct list_head *head)
{
	struct list_walk w = {.head = head, .pos = BPF_CORE_READ(head, next)};

	bpf_loop(BC_SIGQUEUE_MAX, count_list_node, &w, 0);
	return w.n;
}

static __always_inline void add_task(struct task_struct *t, struct task_sums *s)
{
	s->siginfo += queued(&t->pending.list);
	if (t->pid != t->tgid)
		return; /* a thread: memory, files and the shared queue are its process's */
	s->siginfo += queued(&t->signal->shared_pending.list);
	if (t->mm) {
		s->privvm += t->mm->data_vm + t->mm->stack_vm;
		s->locked += t->mm->locked_vm;
	}
	s->files += open_fds(t);
}

static __always_inline void set_task_sums(const struct task_sums *s, struct bc_ct_counters *c)
{
	bc_set_held(&c->res[BC_RES_privvmpages], s->privvm, 0, 0);
	bc_set_held(&c->res[BC_RES_lockedpages], s->locked, 0, 0);
	bc_set_held(&c->res[BC_RES_numfile], s->files, 0, 0);
	bc_set_held(&c->res[BC_RES_numsiginfo], s->siginfo, 0, 0);
	c->flags |= BC_CT_TASKS;
}

#ifdef BC_WITH_TASKS
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
extern int bpf_iter_css_task_new(struct bpf_iter_css_task *it, struct cgroup_subsys_state *css, unsigned int flags) __ksym;
extern struct task_struct *bpf_iter_css_task_next(struct bpf_iter_css_task *it) __ksym;
extern void bpf_iter_css_task_destroy(struct bpf_iter_css_task *it) __ksym;

/* Adds the tasks directly in this css's cgroup (all threads of them); under RCU. */
static __always_inline void add_tasks_locked(struct cgroup_subsys_state *css, struct task_sums *s)
{
	struct bpf_iter_css_task it;
	struct task_struct *t;

	bpf_iter_css_task_new(&it, css, 0);
	while ((t = bpf_iter_css_task_next(&it)))
		add_task(t, s);
	bpf_iter_css_task_destroy(&it);
}

static __always_inline void add_tasks(struct cgroup *cg, struct task_sums *s)
{
	bpf_rcu_read_lock();
	add_tasks_locked(&cg->self, s);
	bpf_rcu_read_unlock();
}

static __always_inline void take_tasks(struct cgroup *cg, struct task_sums *s, struct bc_ct_counters *c)
{
	add_tasks(cg, s);
	set_task_sums(s, c);
	*s = (struct task_sums){};
}

extern struct cgroup *bpf_cgroup_ancestor(struct cgroup *cgrp, int level) __ksym;
extern void bpf_cgroup_release(struct cgroup *cgrp) __ksym;
extern struct cgroup *bpf_cgroup_acquire(struct cgroup *cgrp) __ksym;
extern struct cgroup *bpf_cgroup_from_id(__u64 cgid) __ksym;
extern int bpf_iter_css_new(struct bpf_iter_css *it, struct cgroup_subsys_state *start, unsigned int flags) __ksym;
extern struct cgroup_subsys_state *bpf_iter_css_next(struct bpf_iter_css *it) __ksym;
extern void bpf_iter_css_destroy(struct bpf_iter_css *it) __ksym;

/* The tasks of a whole container (the subtree of its cgroup2 node, which holds the task t),
 * summed into its record. */
static __always_inline void take_tasks_of_ct(struct task_struct *t, struct bc_ct_counters *c)
{
	struct task_sums s = {};
	struct cgroup *node = bpf_cgroup_ancestor(t->cgroups->dfl_cgrp, ct_level);
	struct cgroup_subsys_state *pos;
	struct bpf_iter_css it;

	if (!node)
		return;
	bpf_rcu_read_lock();
	bpf_iter_css_new(&it, &node->self, BPF_CGROUP_ITER_DESCENDANTS_PRE);
	while ((pos = bpf_iter_css_next(&it))) {
		/* the task iterator wants a held cgroup, not the walk's RCU-protected one */
		struct cgroup *cg = bpf_cgroup_from_id(BPF_CORE_READ(pos, cgroup, kn, id));

		if (!cg)
			continue;
		add_tasks_locked(&cg->self, &s);
		bpf_cgroup_release(cg);
	}
	bpf_iter_css_destroy(&it);
	bpf_rcu_read_unlock();
	bpf_cgroup_release(node);
	set_task_sums(&s, c);
}
#endif

/* Traffic: the container's bc_traffic entry (bpf/net.bpf.c), summed over CPUs into its
 * record. Raised, never lowered: two collections at once may finish in either order. */
struct traffic_sum {
	__u32 slot;
	struct bc_traffic t;
};

static long add_cpu_traffic(__u32 cpu, struct traffic_sum *s)
{
	struct bc_traffic *v = bpf_map_lookup_percpu_elem(&bc_traffic, &s->slot, cpu);

	if (!v)
		return 1;
	s->t.bytes_in += v->bytes_in;
	s->t.packets_in += v->packets_in;
	s->t.bytes_out += v->bytes_out;
	s->t.packets_out += v->packets_out;
	return 0;
}

static __always_inline void collect_traffic(__u32 slot, struct bc_ct_counters *c)
{
	struct traffic_sum s = {.slot = slot};

	bpf_loop(nr_cpus, add_cpu_traffic, &s, 0);
	bc_raise(&c->bytes_in, s.t.bytes_in);
	bc_raise(&c->packets_in, s.t.packets_in);
	bc_raise(&c->bytes_out, s.t.bytes_out);
	bc_raise(&c->packets_out, s.t.packets_out);
	c->flags |= BC_CT_TRAFFIC;
}

/* numflock: the locks on the inodes the container's tasks locked (bpf/lock.bpf.c), counted
 * from each inode's lists of flock and POSIX locks (struct file_lock_context; a lock is in
 * exactly one of them) at this collection. A lock counts for the container when its owner
 * (flc_pid, the locking process) was charged to it (bc_task_ct), or when its owner is not
 * known there (a process that has exited while its lock stays with a file still open, or
 * one recorded in task storage); a lock of a process charged to another container is that
 * container's. */
#define BC_LOCKS_MAX 256 /* locks looked at per list */

struct file_lock___old {
	struct list_head fl_list;
	unsigned int fl_pid;
} __attribute__((preserve_access_index));

struct lock_walk {
	__u64 head, pos;
	__u32 off_list, off_pid; /* of the list node and the pid in a lock */
	__u32 ct;
	__u32 all, mine;
};

static long count_lock(__u32 i, struct lock_walk *w)
{
	__u64 pos = w->pos;
	__u32 pid = 0, *owner;

	if (!pos || pos == w->head)
		return 1;
	if (bpf_probe_read_kernel(&pid, sizeof(pid), (void *)(pos - w->off_list + w->off_pid)))
		return 1;
	w->all++;
	owner = bpf_map_lookup_elem(&bc_task_ct, &pid);
	if (!owner || *owner == w->ct)
		w->mine++;
	if (bpf_probe_read_kernel(&w->pos, sizeof(w->pos), (void *)pos))
		return 1;
	return 0;
}

/* The container's locks on one inode, added to w->mine; false if the inode has no lock. */
static __always_inline bool count_inode_locks(struct inode *inode, struct lock_walk *w)
{
	struct file_lock_context *ctx = BPF_CORE_READ(inode, i_flctx);
	__u32 before = w->all;

	if (!ctx)
		return false;
	w->head = (__u64)&ctx->flc_flock;
	w->pos = (__u64)BPF_CORE_READ(ctx, flc_flock.next);
	bpf_loop(BC_LOCKS_MAX, count_lock, w, 0);
	w->head = (__u64)&ctx->flc_posix;
	w->pos = (__u64)BPF_CORE_READ(ctx, flc_posix.next);
	bpf_loop(BC_LOCKS_MAX, count_lock, w, 0);
	return w->all != before;
}

struct lock_set_walk {
	struct bc_lock_set *set;
	struct bc_ct_counters *c;
	__u32 events; /* c->lock_events before the walk */
	struct lock_walk w;
};

struct dup_check {
	__u64 *set;
	__u32 at;
	__u64 inode;
	bool dup;
};

static long is_dup(__u32 k, struct dup_check *d)
{
	if (k >= d->at || k >= BC_LOCK_INODES)
		return 1;
	if (d->set[k] == d->inode) {
		d->dup = true;
		return 1;
	}
	return 0;
}

/* Frees entry i of the set (if it still holds inode). */
static __always_inline void forget_inode(struct lock_set_walk *l, __u32 i, __u64 inode)
{
	if (i < BC_LOCK_INODES && __sync_val_compare_and_swap(&l->set->inode[i], inode, 0) == inode)
		__sync_fetch_and_add(&l->c->lock_inodes, -1);
}

static long count_set_entry(__u32 i, struct lock_set_walk *l)
{
	struct dup_check d = {.set = l->set->inode, .at = i};
	__u64 inode;

	if (i >= BC_LOCK_INODES)
		return 1;
	inode = l->set->inode[i];
	if (!inode)
		return 0;
	d.inode = inode;
	bpf_loop(BC_LOCK_INODES, is_dup, &d, 0);
	if (d.dup) {
		forget_inode(l, i, inode); /* counted at its first entry */
		return 0;
	}
	if (!count_inode_locks((struct inode *)inode, &l->w) &&
	    __sync_fetch_and_add(&l->c->lock_events, 0) == l->events)
		forget_inode(l, i, inode); /* no lock left, and no request since the walk began */
	return 0;
}

static __always_inline void collect_flocks(__u32 ct, __u32 slot, struct bc_ct_counters *c)
{
	struct lock_set_walk l = {.c = c, .w = {.ct = ct}};

	/* No inode noted: nothing held, and held is 0 already (reset at start, and set to
	 * what the collection found when it forgot the last inode), so its line of the record
	 * is left alone. */
	if (c->lock_inodes) {
		if (bpf_core_type_exists(struct file_lock_core)) {
			l.w.off_list = bpf_core_field_offset(struct file_lock_core, flc_list);
			l.w.off_pid = bpf_core_field_offset(struct file_lock_core, flc_pid);
		} else {
			l.w.off_list = bpf_core_field_offset(struct file_lock___old, fl_list);
			l.w.off_pid = bpf_core_field_offset(struct file_lock___old, fl_pid);
		}
		l.events = __sync_fetch_and_add(&c->lock_events, 0);
		l.set = bpf_map_lookup_elem(&bc_lock_inodes, &slot);
		if (!l.set)
			return;
		bpf_loop(BC_LOCK_INODES, count_set_entry, &l, 0);
		bc_set_held(&c->res[BC_RES_numflock], l.w.mine, 0, 0);
	}
	c->flags |= BC_CT_FLOCK;
}

/* The counters the kernel's controllers keep for a container, from its node in the memory
 * hierarchy (cg, at the containers' level; a probe-read pointer will do) and the css_set of
 * the node's first task (cset_of_tasks, found once by the caller). A controller the node
 * does not have (another hierarchy's, or not delegated) is NULL there. */
static __always_inline void collect_controllers(struct cgroup *cg, struct css_set *cset, struct bc_ct_counters *c)
{
	struct cgroup_subsys_state *css;

	css = BPF_CORE_READ(cg, subsys[bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id)]);
	if (css)
		collect_memory(css, c);
	css = BPF_CORE_READ(cg, subsys[bpf_core_enum_value(enum cgroup_subsys_id, pids_cgrp_id)]);
	if (css)
		collect_pids(css, c);
	else
		collect_pids_of_tasks(cset, c);
	if (mem_v1)
		collect_cpu_of_tasks(cset, c);
	else
		cpu_of(cg, c);
}

/* Which container a node at the containers' level is: its CTID (the node's name) and the
 * slot of its record (bc_slots). The 6.7+ build keeps the answer in the node's own cgroup
 * storage after the first collection that meets it, so later walks read one small entry
 * instead of the node's kernfs node and name, parsing it and looking the CTID up (most of the
 * walk's own cost per container, after the iterator's: Documentation/benchmarks.md). The
 * entry goes with the cgroup (a container's nodes go at every stop), and is checked against
 * the record, which names its container. */
#ifdef BC_WITH_TASKS
struct ct_ident {
	__u32 ct, slot;
};
struct {
	__uint(type, BPF_MAP_TYPE_CGRP_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ct_ident);
} bc_ct_ident SEC(".maps");
#endif

/* Each container's node, held per slot (6.7+ build; struct bc_ct_node in the ABI header):
 * bound by the first collecting walk of a run of the container that meets the node,
 * released by the reader when the container stops and when its slot is given again.
 * bc_collect_slots below reads the containers through these instead of walking the
 * hierarchy. */
#ifdef BC_WITH_TASKS
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BC_MAX_CTS);
	__type(key, __u32);
	__type(value, struct bc_ct_node);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bc_ct_nodes SEC(".maps");

static __always_inline void bind_node(struct cgroup *cg, __u32 slot, struct bc_ct_counters *c)
{
	struct bc_ct_node *n = bpf_map_lookup_elem(&bc_ct_nodes, &slot);
	struct cgroup *ref, *old;

	if (!n || (n->generation == c->generation && n->ct == c->ctid))
		return; /* bound in this run already (or gone since) */
	ref = bpf_cgroup_acquire(cg);
	if (!ref)
		return;
	old = bpf_kptr_xchg(&n->cg, ref);
	if (old)
		bpf_cgroup_release(old);
	n->ct = c->ctid;
	n->generation = c->generation;
	/* A container started by an earlier build has no cgroup2 node noted; where the memory
	 * hierarchy is cgroup2's, it is this node. */
	if (!n->cgroup2_id && !mem_v1)
		n->cgroup2_id = BPF_CORE_READ(cg, kn, id);
}
#endif

static __always_inline struct bc_ct_counters *ct_of_node(struct cgroup *cg, __u32 *ctp, __u32 *slotp)
{
	struct bc_ct_counters *c;
	__u32 ct;
#ifdef BC_WITH_TASKS
	struct ct_ident *id = bpf_cgrp_storage_get(&bc_ct_ident, cg, 0, 0);

	if (id) {
		__u32 slot = id->slot;

		c = bpf_map_lookup_elem(&bc_counters, &slot);
		if (c && c->ctid == id->ct) {
			*ctp = id->ct;
			*slotp = slot;
			return c;
		}
	}
#endif
	ct = ctid_of(cg);
	c = ct ? bc_counters_at(ct, slotp) : 0;
	if (!c)
		return 0;
	*ctp = ct;
#ifdef BC_WITH_TASKS
	id = bpf_cgrp_storage_get(&bc_ct_ident, cg, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (id) {
		id->ct = ct;
		id->slot = *slotp;
	}
#endif
	return c;
}

/* One step of the walk (post-order, so a container's sub-cgroups come before its node).
 * Returns the container's record, with its controllers' counters copied in, when cg is a
 * container's node. */
static __always_inline struct bc_ct_counters *collect_node(struct bpf_iter_meta *meta, struct cgroup *cg,
							   struct walk_state *w, __u32 *ctp)
{
	struct bc_ct_counters *c;
	struct css_set *cset;
	__u32 ct, slot;
	int level;

	if (!cg) {
		end_walk(meta);
		return 0;
	}
#ifdef BC_WITH_TASKS
	if (!w)
		return 0;
#endif
	level = cg->level;
	if (level < ct_level)
		return 0;
	if (level > ct_level) {
		/* a sub-cgroup of the container that comes next */
#ifdef BC_WITH_TASKS
		add_tasks(cg, &w->sums);
#endif
		if (w && !w->ns_done)
			w->ns_done = collect_ns_of_sub(cg);
		return 0;
	}
	c = ct_of_node(cg, &ct, &slot);
	if (!c)
		return 0;
	*ctp = ct;
#ifdef BC_WITH_TASKS
	bind_node(cg, slot, c);
#endif
	cset = cset_of_tasks(cg);
	collect_controllers(cg, cset, c);
	collect_traffic(slot, c);
	collect_flocks(ct, slot, c);
	if (!w || !w->ns_done)
		collect_ns(ct_task_of(cset, c->netns_ino), c);
	if (w)
		w->ns_done = 0;
#ifdef BC_WITH_TASKS
	take_tasks(cg, &w->sums, c);
#endif
	return c;
}

SEC("iter/cgroup")
int bc_collect(struct bpf_iter__cgroup *ctx)
{
	__u32 ct;
	bool first;
	struct walk_state *w = walk_step(ctx->meta, &first);
	struct bc_ct_counters *c;

	if (first)
		bc_sock_walk_begin();
	c = collect_node(ctx->meta, ctx->cgroup, w, &ct);
	if (c)
		bc_sock_snapshot(ct, c, sock_settling); /* for the settling walk that comes next */
	return 0;
}

#ifdef BC_WITH_TASKS
/* The tasks of the subtree of a container's cgroup2 node (held: every task of the container
 * is in it, on hybrid hosts too), summed; and a task in the container's network namespace
 * if *t has none yet. Under RCU. */
static __always_inline void add_subtree_tasks(struct cgroup *cg, struct bc_ct_counters *c, struct task_sums *s,
					      __u64 *t)
{
	struct cgroup_subsys_state *pos;
	struct bpf_iter_css it;

	bpf_iter_css_new(&it, &cg->self, BPF_CGROUP_ITER_DESCENDANTS_PRE);
	while ((pos = bpf_iter_css_next(&it))) {
		/* the task iterator wants a held cgroup, not the walk's RCU-protected one */
		struct cgroup *sub = bpf_cgroup_from_id(BPF_CORE_READ(pos, cgroup, kn, id));

		if (!sub)
			continue;
		add_tasks_locked(&sub->self, s);
		if (!*t)
			*t = (__u64)ct_task_of(cset_of_tasks(sub), c->netns_ino);
		bpf_cgroup_release(sub);
	}
	bpf_iter_css_destroy(&it);
}

/* One slot: what bc_collect does at a container's node and its sub-cgroups
 * (collect_node), through the node its slot holds, in one RCU read section (what the node
 * and its tasks lead to stays valid in it). 1 when its container was collected, 2 when it
 * runs without a bound node (or one this program can use), 0 when there is nothing to
 * collect. A global function: the verifier checks it once, not again for every state of
 * the loop that calls it. */
__noinline int collect_slot(__u32 slot)
{
	struct bc_ct_counters *c = bpf_map_lookup_elem(&bc_counters, &slot);
	struct bc_ct_node *n = bpf_map_lookup_elem(&bc_ct_nodes, &slot);
	struct task_sums s = {};
	struct css_set *cset;
	struct cgroup *cg;
	__u64 t; /* a task in the container's network namespace */

	if (!c || !n || !c->ctid)
		return 0;
	if (n->generation != c->generation || n->ct != c->ctid)
		return 2;
	bpf_rcu_read_lock();
	cg = n->cg;
	if (!cg || !n->cgroup2_id) {
		bpf_rcu_read_unlock();
		/* its node has gone (stopped); or its cgroup2 node is not known (started by an
		 * earlier build, on a hybrid host): the walk collects it */
		return cg ? 2 : 0;
	}
	cset = cset_of_tasks(cg);
	collect_controllers(cg, cset, c);
	collect_traffic(slot, c);
	collect_flocks(c->ctid, slot, c);
	t = (__u64)ct_task_of(cset, c->netns_ino);
	/* Tasks in the node or below it (no cgroup2 node looked up for an empty one) */
	if (cset || BPF_CORE_READ(cg, nr_descendants) > 0) {
		struct cgroup *held = bpf_cgroup_from_id(n->cgroup2_id);

		if (held) {
			add_subtree_tasks(held, c, &s, &t);
			bpf_cgroup_release(held);
		}
	}
	collect_ns((struct task_struct *)t, c);
	bpf_rcu_read_unlock();
	set_task_sums(&s, c);
	bc_sock_snapshot(c->ctid, c, sock_settling);
	return 1;
}

static long collect_next(__u32 slot, struct bc_collect_slots_ctx *r)
{
	if (collect_slot(slot) == 2)
		r->unbound++;
	return 0;
}

/* The collection through the bindings (bc_ct_nodes): one run of this program (the reader
 * runs it with BPF_PROG_TEST_RUN) collects every container whose node is bound, reaching
 * it through the reference its slot holds instead of the kernel's walk of the hierarchy
 * (the iterator's step from cgroup to cgroup, and a program call for each). The sub-cgroups
 * of a container that has some are walked from its node. It reports the containers running
 * without a bound node (started since the last walk); for those the reader then reads
 * bc_collect, which binds them. */
SEC("syscall")
int bc_collect_slots(struct bc_collect_slots_ctx *ctx)
{
	struct bc_collect_slots_ctx r = {};
	__u32 zero = 0;
	struct bc_meta *m = bpf_map_lookup_elem(&bc_meta, &zero);

	if (!m)
		return 0;
	bc_sock_walk_begin();
	bpf_loop(m->slots_used < BC_MAX_CTS ? m->slots_used : BC_MAX_CTS, collect_next, &r, 0);
	ctx->unbound = r.unbound;
	return 0;
}
#endif

/* The user_beancounters file: bc_ubc renders /proc/user_beancounters as OpenVZ printed it
 * (64-bit: "%10s  %-12s %20lu %20lu %20lu %20lu %20lu"), collecting each container's
 * controllers' counters as it goes.
 *
 * It is a task iterator: the kernel resumes a task walk where the previous read() stopped
 * (at the next thread id), so the table may be any length and read in pieces of any size,
 * which a cgroup walk cannot do (it must fit one 32 KiB buffer fill). Each container's rows
 * are printed at its init, found as the task that is PID 1 of its own PID namespace and
 * whose parent is not in the container (a PID namespace a container makes for itself has
 * its init's parent inside). The walk covers the reader's PID namespace, so a reader inside
 * a container meets its own init only and sees its own rows; a container without a live
 * init (one being stopped) is not shown, as OpenVZ showed running containers. */
static const char bc_names[BC_RES_COUNT][16] = {
#define BC_RESOURCE(name, id, unit, in_ubc) [id] = #name,
#include "resources.def"
#undef BC_RESOURCE
};
static const __u8 bc_units[BC_RES_COUNT] = {
#define BC_RESOURCE(name, id, unit, in_ubc) [id] = unit,
#include "resources.def"
#undef BC_RESOURCE
};

/* Mirrors acct::is_counted() (userspace/acct/beancounters.cpp): what has a real held value. */
static __always_inline bool is_counted(const struct bc_ct_counters *c, int id)
{
	switch (id) {
	case BC_RES_numproc:
	case BC_RES_numtcpsock:
	case BC_RES_numothersock:
		return true;
	case BC_RES_physpages:
	case BC_RES_swappages:
	case BC_RES_oomguarpages:
		return c->flags & BC_CT_MEMORY;
	case BC_RES_kmemsize:
		return c->flags & BC_CT_KMEM;
	case BC_RES_shmpages:
		return c->flags & BC_CT_SHMEM;
	case BC_RES_numpty:
		return c->flags & BC_CT_PTY;
	case BC_RES_numflock:
		return c->flags & BC_CT_FLOCK;
	case BC_RES_privvmpages:
	case BC_RES_lockedpages:
	case BC_RES_numfile:
	case BC_RES_numsiginfo:
		return c->flags & BC_CT_TASKS;
	case BC_RES_tcpsndbuf:
	case BC_RES_tcprcvbuf:
	case BC_RES_othersockbuf:
	case BC_RES_dgramrcvbuf:
		return c->flags & BC_CT_SOCKBUF;
	default:
		return false;
	}
}

/* The container whose init t is (0 if none): t is PID 1 of its own PID namespace, below the
 * host's, and its parent is in no container or another one. */
static __always_inline __u32 ct_of_init(struct task_struct *t)
{
	struct pid *pid = BPF_CORE_READ(t, thread_pid);
	unsigned int level;
	int nr = 0;
	__u32 ct;

	if (!pid)
		return 0;
	level = BPF_CORE_READ(pid, level);
	if (level == 0 || level > 32)
		return 0;
	if (bpf_probe_read_kernel(&nr, sizeof(nr), (void *)pid + bpf_core_field_offset(struct pid, numbers) +
							  level * bpf_core_type_size(struct upid) +
							  bpf_core_field_offset(struct upid, nr)))
		return 0;
	if (nr != 1)
		return 0;
	ct = bc_ct_of_task(t);
	if (!ct || bc_ct_of_task(BPF_CORE_READ(t, real_parent)) == ct)
		return 0;
	return ct;
}

/* The container's node in the memory hierarchy (the one the collecting walk visits), from a
 * task of the container. */
static __always_inline struct cgroup *ct_node_of(struct task_struct *t)
{
	struct cgroup_subsys_state *css;

	if (mem_v1)
		css = BPF_CORE_READ(t, cgroups, subsys[bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id)]);
	else
		css = &BPF_CORE_READ(t, cgroups, dfl_cgrp)->self;
	css = at_ct_level(css);
	return css ? BPF_CORE_READ(css, cgroup) : 0;
}

SEC("iter/task")
int bc_ubc(struct bpf_iter__task *ctx)
{
	static const char first[] = "%9u:  %-12s %20llu %20llu %20llu %20llu %20llu\n";
	static const char next[] = "            %-12s %20llu %20llu %20llu %20llu %20llu\n";
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *t = ctx->task;
	struct bc_ct_counters *c;
	struct cgroup *node;
	__u64 reader_cg;
	__u32 *reader, ct, slot;
	bool begins;

	walk_step(ctx->meta, &begins);
	if (begins) {
		BPF_SEQ_PRINTF(seq, "Version: 2.5\n");
		BPF_SEQ_PRINTF(seq, "%10s  %-12s %20s %20s %20s %20s %20s\n", "uid", "resource", "held", "maxheld",
			       "barrier", "limit", "failcnt");
	}
	if (!t) {
		end_walk(ctx->meta);
		return 0;
	}
	ct = ct_of_init(t);
	if (!ct)
		return 0;
	reader_cg = bpf_get_current_ancestor_cgroup_id(ct_level);
	reader = bpf_map_lookup_elem(&bc_cgroups, &reader_cg);
	if (reader && *reader != ct)
		return 0;
	node = ct_node_of(t);
	c = node && ctid_of(node) == ct ? bc_counters_at(ct, &slot) : 0;
	if (!c)
		return 0;
	collect_controllers(node, cset_of_tasks(node), c);
	collect_flocks(ct, slot, c);
	collect_ns(t, c);
#ifdef BC_WITH_TASKS
	take_tasks_of_ct(t, c);
#endif
	for (int i = 0; i < BC_RES_UBC_ROWS; i++) {
		struct bc_counter *r = &c->res[i];
		bool on = is_counted(c, i);
		__u64 args[7];
		int n = 0;

		if (i == 0)
			args[n++] = ct;
		args[n++] = (__u64)(bc_units[i] == BC_UNIT_NONE ? "dummy" : bc_names[i]);
		args[n++] = !on ? 0 : i == BC_RES_numothersock && (c->flags & BC_CT_NSSOCK) ? r->held + c->ns_socks : r->held;
		args[n++] = on ? r->maxheld : 0;
		args[n++] = r->barrier;
		args[n++] = r->limit;
		args[n++] = on ? r->failcnt : 0;
		if (i == 0)
			bpf_seq_printf(seq, first, sizeof(first), args, 7 * sizeof(__u64));
		else
			bpf_seq_printf(seq, next, sizeof(next), args, 6 * sizeof(__u64));
	}
	return 0;
}

#ifndef BC_WITH_TASKS
/* The tasks' sums on kernels without the css_task iterator (before 6.7): one walk of every
 * task of the host (a task iterator, read by each collection after bc_collect), adding each
 * task of a container to that container's sums for this reading, kept in bc_task_sums by
 * (reading, container); the last call writes every container's sums into its record. A
 * container none of whose tasks the walk met keeps the values of the last collection. */
struct sums_key {
	__u64 gen;
	__u32 ct;
	__u32 pad;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BC_MAX_CTS);
	__type(key, struct sums_key);
	__type(value, struct task_sums);
} bc_task_sums SEC(".maps");

static long publish_sums(struct bpf_map *map, struct sums_key *k, struct task_sums *s, __u64 *gen)
{
	struct bc_ct_counters *c;

	if (k->gen != *gen)
		return 0;
	c = bc_counters_of(k->ct);
	if (c)
		set_task_sums(s, c);
	bpf_map_delete_elem(map, k);
	return 0;
}

SEC("iter/task")
int bc_task_sums_walk(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	bool first;
	struct walk_state *w = walk_step(ctx->meta, &first);
	struct sums_key key = {};
	struct task_sums *s;

	if (!w)
		return 0;
	key.gen = w->gen;
	if (!t) {
		bpf_for_each_map_elem(&bc_task_sums, publish_sums, &key.gen, 0);
		end_walk(ctx->meta);
		return 0;
	}
	key.ct = bc_ct_of_task(t);
	if (!key.ct)
		return 0;
	s = bpf_map_lookup_elem(&bc_task_sums, &key);
	if (!s) {
		struct task_sums zero = {};

		bpf_map_update_elem(&bc_task_sums, &key, &zero, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&bc_task_sums, &key);
		if (!s)
			return 0;
	}
	add_task(t, s);
	return 0;
}
#endif
