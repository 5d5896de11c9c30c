// Cgroup interface file names, in one place.
#pragma once

namespace bc::cgroup::file {
inline constexpr const char* procs = "cgroup.procs";
inline constexpr const char* controllers = "cgroup.controllers";
inline constexpr const char* subtree_control = "cgroup.subtree_control";
inline constexpr const char* events = "cgroup.events";
inline constexpr const char* kill = "cgroup.kill";
inline constexpr const char* threads = "cgroup.threads";
inline constexpr const char* v1_tasks = "tasks";
// cgroup2 controller files
inline constexpr const char* pids_current = "pids.current";
inline constexpr const char* pids_max = "pids.max";
inline constexpr const char* pids_events = "pids.events";
inline constexpr const char* memory_current = "memory.current";
inline constexpr const char* memory_peak = "memory.peak";
inline constexpr const char* memory_max = "memory.max";
inline constexpr const char* memory_events = "memory.events";
inline constexpr const char* memory_swap_current = "memory.swap.current";
inline constexpr const char* memory_swap_max = "memory.swap.max";
inline constexpr const char* cpu_stat = "cpu.stat";
// cgroup v1 controller files
inline constexpr const char* v1_memory_usage = "memory.usage_in_bytes";
inline constexpr const char* v1_memory_max_usage = "memory.max_usage_in_bytes";
inline constexpr const char* v1_memory_limit = "memory.limit_in_bytes";
inline constexpr const char* v1_memory_failcnt = "memory.failcnt";
inline constexpr const char* v1_cpuacct_usage = "cpuacct.usage";
}  // namespace bc::cgroup::file
