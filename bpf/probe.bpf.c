// SPDX-License-Identifier: GPL-2.0
/* Probes for `beanctl check`: one trivial program per program type the project uses or may use.
 * The checker opens the skeleton once per program with only that program's autoload on, so each
 * load answers one question: does this kernel accept this program type (and, for the tracing
 * types, this attach target)? The bodies do nothing on purpose: a refusal must come from the
 * kernel's support for the type, never from the verifier disliking the code. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* Set before load: only forks of the checker itself count, so a hit proves that the program
 * fired for the fork the checker made, not for unrelated work on the host. */
const volatile __u32 target_tgid = 0;
__u64 fork_hits = 0;

/* Required: numproc is counted from this tracepoint. Attached and fired by the checker. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(tp_btf_fork, struct task_struct *parent, struct task_struct *child)
{
	if (parent->tgid == target_tgid)
		__sync_fetch_and_add(&fork_hits, 1);
	return 0;
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(raw_tp_fork)
{
	return 0;
}

SEC("tracepoint/sched/sched_process_fork")
int tracepoint_fork(void *ctx)
{
	return 0;
}

/* TC_ACT_OK: a probe must never drop traffic even if someone attached it. */
SEC("tc")
int tc_classifier(struct __sk_buff *skb)
{
	return 0;
}

SEC("cgroup/sock_create")
int sock_create(struct bpf_sock *sk)
{
	return 1;
}

SEC("cgroup/sock_release")
int sock_release(struct bpf_sock *sk)
{
	return 1;
}

SEC("cgroup/dev")
int cgroup_dev(struct bpf_cgroup_dev_ctx *ctx)
{
	return 1;
}

SEC("sockops")
int sock_ops(struct bpf_sock_ops *skops)
{
	return 1;
}

SEC("iter/cgroup")
int iter_cgroup(struct bpf_iter__cgroup *ctx)
{
	return 0;
}

SEC("iter/task")
int iter_task(struct bpf_iter__task *ctx)
{
	return 0;
}

/* Iterators over a map's elements: some hosts refuse them (EPERM) while allowing the
 * others. */
SEC("iter/bpf_sk_storage_map")
int iter_sk_storage(struct bpf_iter__bpf_sk_storage_map *ctx)
{
	return 0;
}

/* Optional types: 6.1 (Debian 12) has them, the 6.18 development host refuses them. */
SEC("fentry/wake_up_new_task")
int BPF_PROG(fentry_fork, struct task_struct *p)
{
	return 0;
}

/* 0 = allow: the LSM probe must not change any decision if it ever gets attached. */
SEC("lsm/task_alloc")
int BPF_PROG(lsm_task_alloc, struct task_struct *task, unsigned long clone_flags)
{
	return 0;
}

SEC("kprobe/wake_up_new_task")
int BPF_KPROBE(kprobe_fork)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
