// What a container's processes may never do, whatever their capabilities inside: the
// capabilities left in their bounding set, and the system calls a seccomp filter refuses.
// Both apply to init and to every process that exec and enter start in the container.
//
// The container runs a full init (systemd mounts, makes namespaces for its services,
// reboots its own PID namespace), so the bounding set and the filter keep what that needs;
// they take what acts on the kernel or the host as a whole (modules, kexec, keyrings, BPF,
// perf, raw I/O, the clock, swap, accounting, handle-based opens). See
// Documentation/security.md for each entry and its reason.
#pragma once

#include <linux/filter.h>

#include <span>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace bc::container {

struct DroppedCap {
    int cap;
    std::string_view name;
};
// Capabilities removed from the bounding set (so no exec can regain them).
const std::vector<DroppedCap>& dropped_capabilities();

struct DeniedSyscall {
    std::string_view name;
    std::string_view why;
};
// System calls that fail with EPERM in a container (on x86-64, x32 and i386 entry points).
const std::vector<DeniedSyscall>& denied_syscalls();

// The filter as a classic BPF program, built with libseccomp (seccomp_build.cpp). The build
// runs it once (bc_seccomp_gen) and compiles the result in: seccomp_program().
Result<std::vector<sock_filter>> build_seccomp_filter();
std::span<const sock_filter> seccomp_program();

// In the child, just before exec: async-signal-safe. Return 0 or an errno value.
int drop_bounding_set();
int install_seccomp(std::span<const sock_filter> prog);

}  // namespace bc::container
