// SPDX-License-Identifier: GPL-2.0
/* File locks: numflock, the flock(2), POSIX (fcntl, lockf) and open file description locks
 * the container's tasks hold.
 *
 * No hook sees a lock structure made or freed (the kernel merges, splits and frees POSIX
 * locks inside one request), but every request ends in posix_lock_inode or
 * flock_lock_inode, whose tracepoints give the inode. So the programs here only note, per
 * container, the inodes its tasks locked (bc_lock_inodes, a set of BC_LOCK_INODES entries
 * per container), and the collection counts the locks on those inodes, from the inodes' own
 * lists, exactly as they are at that moment (bpf/collect.bpf.c). An inode none of whose
 * locks is left is forgotten by the collection.
 *
 * A set that is full when a new inode comes marks the record (BC_CT_FLOCK_FULL): the
 * count may then miss that inode's locks until an entry is free again. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "maps.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define BC_F_UNLCK 2

/* Linux up to 6.8 kept the type in struct file_lock itself. */
struct file_lock___old {
	unsigned char fl_type;
} __attribute__((preserve_access_index));

static __always_inline int request_type(struct file_lock *fl)
{
	if (bpf_core_field_exists(fl->c))
		return BPF_CORE_READ(fl, c.flc_type);
	return BPF_CORE_READ((struct file_lock___old *)fl, fl_type);
}

struct insert {
	__u64 *set;
	__u64 inode;
	int found;
};

static long find_inode(__u32 i, struct insert *in)
{
	if (i >= BC_LOCK_INODES)
		return 1;
	if (in->set[i] == in->inode) {
		in->found = 1;
		return 1;
	}
	return 0;
}

static long take_free(__u32 i, struct insert *in)
{
	if (i >= BC_LOCK_INODES)
		return 1;
	if (!in->set[i] && __sync_val_compare_and_swap(&in->set[i], 0, in->inode) == 0) {
		in->found = 1;
		return 1;
	}
	return 0;
}

static __always_inline int note(struct inode *inode, struct file_lock *fl, int ret)
{
	struct insert in = {.inode = (__u64)inode};
	struct bc_lock_set *set;
	struct bc_ct_counters *c;
	__u32 ct, slot;

	if (ret || !inode || !fl || request_type(fl) == BC_F_UNLCK)
		return 0; /* refused, or waiting (it comes again when granted), or an unlock */
	ct = bc_ct_of_task(bpf_get_current_task_btf());
	c = ct ? bc_counters_at(ct, &slot) : 0;
	if (!c)
		return 0;
	/* Before the set is looked at: a collection forgets an inode only if this did not
	 * move while it counted. */
	__sync_fetch_and_add(&c->lock_events, 1);
	set = bpf_map_lookup_elem(&bc_lock_inodes, &slot);
	if (!set)
		return 0;
	in.set = set->inode;
	bpf_loop(BC_LOCK_INODES, find_inode, &in, 0);
	if (in.found)
		return 0;
	bpf_loop(BC_LOCK_INODES, take_free, &in, 0);
	if (in.found)
		__sync_fetch_and_add(&c->lock_inodes, 1);
	else
		__sync_fetch_and_or(&c->flags, BC_CT_FLOCK_FULL);
	/* Two requests on one new inode at once may both take an entry: the collection counts
	 * an inode once and frees the second entry. */
	return 0;
}

SEC("tp_btf/posix_lock_inode")
int BPF_PROG(bc_lock_posix, struct inode *inode, struct file_lock *fl, int ret)
{
	return note(inode, fl, ret);
}

SEC("tp_btf/flock_lock_inode")
int BPF_PROG(bc_lock_flock, struct inode *inode, struct file_lock *fl, int ret)
{
	return note(inode, fl, ret);
}
