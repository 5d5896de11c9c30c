// SPDX-License-Identifier: GPL-2.0
/* Brings the cgroups' CPU time and memory statistics up to date before a collection reads
 * them.
 *
 * The kernel keeps a cgroup's CPU time (what cpu.stat shows as usage) per CPU and folds it
 * into the cgroup, and up into its parents, only when something flushes the statistics
 * ("rstat"): reading cpu.stat does, and so does this program. It is a sleepable iter/cgroup
 * program attached to the cgroup2 node that holds every container's node (self only), read
 * right before bc_collect (bpf/collect.bpf.c), which then reads each container's flushed
 * figure. Flushing the prefix node flushes every container below it that ran since the last
 * flush, so an idle host costs next to nothing.
 *
 * The memory controller keeps its statistics (memory.stat, which bc_collect reads for
 * shmpages and, on cgroup2, kmemsize) the same way; the kernel itself flushes them about
 * every 2 s.
 *
 * The kfunc is cgroup_rstat_flush() up to Linux 6.15, which flushes every controller of the
 * cgroup at once: bc_flush then also flushes the memory statistics on cgroup2, and the same
 * program attached a second time (link_flush_mem) to the v1 memory hierarchy's node that
 * holds every container flushes them on hybrid hosts (on cgroup2 that second link is
 * attached to the first one's node, and readers do not run it). From 6.16 on it is
 * css_rstat_flush(), which flushes one controller's state and must be given a trusted pointer to it; a program can reach the
 * memory controller's state of a cgroup only through an RCU pointer (cgroup->subsys[]),
 * which a sleepable kfunc may not take. There the reader folds the memory statistics by
 * reading the prefix node's memory.stat once per collection (userspace/bpf/accounting.cpp).
 * This source builds both objects (BC_FLUSH_CSS) and the loader picks the one the kernel
 * has. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#ifdef BC_FLUSH_CSS
extern void css_rstat_flush(struct cgroup_subsys_state *css) __ksym;
#else
extern void cgroup_rstat_flush(struct cgroup *cgrp) __ksym;
#endif

SEC("iter.s/cgroup")
int bc_flush(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cg = ctx->cgroup;

	/* (Reading a field makes the object's BTF carry struct cgroup whole: older libbpf
	 * matches a kfunc's parameter against the kernel's only then, not a forward.) */
	if (!cg || cg->level < 0)
		return 0;
#ifdef BC_FLUSH_CSS
	css_rstat_flush(&cg->self);
#else
	cgroup_rstat_flush(cg);
#endif
	return 0;
}
