// SPDX-License-Identifier: GPL-2.0
/* Process accounting: numproc, the container's tasks (processes and threads).
 *
 * A task is charged when it is created inside a container (sched_process_fork, whose child
 * is already in its cgroup, also with clone3(CLONE_INTO_CGROUP)) and uncharged when it exits
 * (sched_process_exit, once per thread). The container it was charged to is kept in task
 * storage, so that the exit uncharges exactly what the fork charged: no counter can go
 * negative, and a task moved out of a container by the host's admin is uncharged from the
 * container it was counted in. The mark is set and cleared with compare-and-swap, so that
 * while a new build of these programs is attached beside the old one (they are swapped
 * without a gap, see userspace/bpf/accounting.cpp) each fork is charged and each exit
 * uncharged exactly once. Failures (failcnt) are the pids controller's: a fork refused at
 * pids.max is counted by the kernel in pids.events, which the reader adds. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "maps.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* The container each task was charged to. Pinned like the counters: a new build of the
 * programs must still uncharge the tasks the previous one charged. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bc_task_ct SEC(".maps");

SEC("tp_btf/sched_process_fork")
int BPF_PROG(bc_proc_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ct = bc_ct_of_task(child);
	struct bc_ct_counters *c;
	__u32 *charged;

	if (!ct)
		return 0;
	c = bpf_map_lookup_elem(&bc_counters, &ct);
	if (!c)
		return 0;
	charged = bpf_task_storage_get(&bc_task_ct, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!charged)
		return 0; /* no memory for the mark: not charged, so never uncharged either */
	if (__sync_val_compare_and_swap(charged, 0, ct) != 0)
		return 0; /* already charged by the other build */
	bc_charge(&c->res[BC_RES_numproc], 1);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(bc_proc_exit, struct task_struct *p)
{
	struct bc_ct_counters *c;
	__u32 *charged = bpf_task_storage_get(&bc_task_ct, p, 0, 0);
	__u32 ct;

	if (!charged)
		return 0;
	ct = *charged;
	if (!ct || __sync_val_compare_and_swap(charged, ct, 0) != ct)
		return 0; /* not charged, or already uncharged by the other build */
	c = bpf_map_lookup_elem(&bc_counters, &ct);
	if (c)
		bc_charge(&c->res[BC_RES_numproc], -1);
	return 0;
}
