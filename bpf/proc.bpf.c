// SPDX-License-Identifier: GPL-2.0
/* Process accounting: numproc, the container's tasks (processes and threads).
 *
 * A task is charged when it is created inside a container (sched_process_fork, whose child
 * is already in its cgroup, also with clone3(CLONE_INTO_CGROUP)) and uncharged when it exits
 * (sched_process_exit, once per thread). Which container a task was charged to is recorded,
 * so that the exit uncharges exactly what the fork charged: no counter can go negative, and
 * a task moved out of a container by the host's admin is uncharged from the container it was
 * counted in.
 *
 * The record lives in a preallocated hash keyed by the task's pid: an insert and a delete
 * from a per-CPU free list, the cheap path (task storage costs an allocation and an RCU
 * free per task, several times more). When the hash is full, task storage takes the
 * record instead, so the count stays exact. Records are created with BPF_NOEXIST / deleted
 * once, and task storage marks are set and cleared with compare-and-swap: while a new build
 * of these programs runs beside the old one (they are swapped without a gap, see
 * userspace/bpf/accounting.cpp) every fork is charged and every exit uncharged once.
 *
 * Failures (failcnt) are the pids controller's: a fork refused at pids.max is counted by
 * the kernel in pids.events, which the reader adds. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "maps.bpf.h"
#include "task_ct.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define BC_EEXIST 17 /* errno values are not in vmlinux.h */

/* The same record for the tasks that found bc_task_ct full. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bc_task_ct_overflow SEC(".maps");

/* Records that the task is charged to ct; false if it was already (the other build). */
static __always_inline bool record_charge(struct task_struct *t, __u32 ct)
{
	__u32 pid = BPF_CORE_READ(t, pid);
	__u32 *mark;
	long err = bpf_map_update_elem(&bc_task_ct, &pid, &ct, BPF_NOEXIST);

	if (!err)
		return true;
	if (err == -BC_EEXIST)
		return false;
	/* Full: fall back to task storage. */
	mark = bpf_task_storage_get(&bc_task_ct_overflow, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	return mark && __sync_val_compare_and_swap(mark, 0, ct) == 0;
}

/* The container the task was charged to, forgetting the record; 0 if none (or if the
 * other build took it). */
static __always_inline __u32 take_charge(struct task_struct *t)
{
	__u32 pid = BPF_CORE_READ(t, pid);
	__u32 *ct = bpf_map_lookup_elem(&bc_task_ct, &pid);
	__u32 *mark, v;

	if (ct) {
		v = *ct;
		return bpf_map_delete_elem(&bc_task_ct, &pid) == 0 ? v : 0;
	}
	mark = bpf_task_storage_get(&bc_task_ct_overflow, t, 0, 0);
	if (!mark)
		return 0;
	v = *mark;
	return v && __sync_val_compare_and_swap(mark, v, 0) == v ? v : 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(bc_proc_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ct = bc_ct_of_task(child);
	struct bc_ct_counters *c;

	if (!ct)
		return 0;
	c = bc_counters_of(ct);
	if (!c || !record_charge(child, ct))
		return 0;
	bc_charge(&c->res[BC_RES_numproc], 1);
	/* The container's first task is born in its network namespace: recorded, so that the
	 * collection can tell that namespace from one the container made inside itself. */
	if (!c->netns_ino)
		__sync_val_compare_and_swap(&c->netns_ino, 0, (__u64)BPF_CORE_READ(child, nsproxy, net_ns, ns.inum));
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(bc_proc_exit, struct task_struct *p)
{
	__u32 ct = take_charge(p);
	struct bc_ct_counters *c;

	if (!ct)
		return 0;
	c = bc_counters_of(ct);
	if (c)
		bc_charge(&c->res[BC_RES_numproc], -1);
	return 0;
}
