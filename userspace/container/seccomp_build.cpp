// The seccomp filter built from denied_syscalls() with libseccomp. Run at build time (by
// bc_seccomp_gen, whose output seccomp_program() returns) and by the unit tests, which check
// that the program compiled into the tools is still this one.
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <fmt/format.h>
#include <string>

#include "container/hardening.h"
#include "core/fd.h"

namespace bc::container {

Result<std::vector<sock_filter>> build_seccomp_filter() {
    scmp_filter_ctx ctx = ::seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) return fail("seccomp_init failed");
    struct Release {
        scmp_filter_ctx c;
        ~Release() { ::seccomp_release(c); }
    } release{ctx};
    // The 32-bit entry points reach the same kernel: the same calls are refused there.
    for (uint32_t arch : {SCMP_ARCH_X86, SCMP_ARCH_X32})
        if (int e = ::seccomp_arch_add(ctx, arch); e < 0 && e != -EEXIST) return fail_sys(-e, "seccomp_arch_add");
    // The filter is loaded by the child itself, which is privileged in its user namespace:
    // no no_new_privs (set-uid programs of the container keep working).
    if (int e = ::seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0); e < 0) return fail_sys(-e, "seccomp_attr_set");
    for (const auto& d : denied_syscalls()) {
        int nr = ::seccomp_syscall_resolve_name(std::string(d.name).c_str());
        if (nr == __NR_SCMP_ERROR) continue;  // unknown to this libseccomp on every architecture
        if (int e = ::seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0); e < 0)
            return fail_sys(-e, fmt::format("seccomp rule for {}", d.name));
    }
    Fd mem(::memfd_create("beancounter-seccomp", MFD_CLOEXEC));
    if (!mem) return fail_sys("memfd_create");
    if (int e = ::seccomp_export_bpf(ctx, mem.get()); e < 0) return fail_sys(-e, "seccomp_export_bpf");
    off_t size = ::lseek(mem.get(), 0, SEEK_END);
    if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0) return fail("seccomp_export_bpf gave no program");
    std::vector<sock_filter> prog(static_cast<size_t>(size) / sizeof(sock_filter));
    if (::pread(mem.get(), prog.data(), static_cast<size_t>(size), 0) != size) return fail_sys("reading the seccomp program");
    return prog;
}

}  // namespace bc::container
