/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* bc_task_ct: pid -> the container the task was charged to, the cheap record of the process
 * accounting (bpf/proc.bpf.c, which writes it). The collection reads it to tell whose a file
 * lock is (bpf/collect.bpf.c). Its size is set by the loader (LoadOptions::max_tasks) in
 * every object that has it. */
#ifndef BEANCOUNTER_TASK_CT_BPF_H
#define BEANCOUNTER_TASK_CT_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BC_MAX_TASKS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bc_task_ct SEC(".maps");

#endif /* BEANCOUNTER_TASK_CT_BPF_H */
