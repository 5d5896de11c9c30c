// What the collecting programs learn of the running kernel when they are loaded: where, in
// the kernel's own statistics, the values they read are. Each step leaves the value
// "not found" (-1) rather than guess, and -v says what was found.
#pragma once

#include <string>

struct bpf_object;

namespace bc::bpf {

// The slots of the unix (stream, datagram) and netlink protocols in the per-namespace
// counters of sockets in use: read from sockets made here, through the kernel's unix and
// netlink socket iterators (bc_proto_unix, bc_proto_netlink in bpf/collect.bpf.c), which
// store them in the object's data.
void learn_socket_protocols(bpf_object* collect);

// The indices of shmem and kernel memory in a memory cgroup's statistics array (what
// memory.stat prints as "shmem" and "kernel"), written to the object's bc_memstat_idx map.
// Up to Linux 6.9 the array is indexed by the items' enum values, which the kernel's BTF
// gives; later kernels keep a subset through a private table, and the indices are found by
// calibration: a process in a cgroup made for it under mem_prefix (the memory hierarchy's
// prefix node) holds known amounts of shmem and kernel memory, and the slots that follow
// memory.stat exactly are taken. mem_v1: the memory controller is v1, which has no
// "kernel" line (kmemsize comes from its kmem counter there).
void learn_memory_stats(bpf_object* collect, const std::string& mem_prefix, bool mem_v1);

// How this kernel lays out a memory cgroup's statistics, from its BTF: "by item" (indexed by
// the items' enum values: read directly), "compressed" (through the kernel's private table:
// located by the calibration at each load), or "" when the BTF does not describe them.
std::string memory_stats_layout();

}  // namespace bc::bpf
