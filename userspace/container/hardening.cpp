#include "container/hardening.h"

#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>

namespace bc::container {

const std::vector<DroppedCap>& dropped_capabilities() {
    static const std::vector<DroppedCap> caps = {
        {CAP_SYS_MODULE, "sys_module"},     {CAP_SYS_RAWIO, "sys_rawio"},         {CAP_SYS_PACCT, "sys_pacct"},
        {CAP_SYS_TIME, "sys_time"},         {CAP_SYSLOG, "syslog"},               {CAP_AUDIT_CONTROL, "audit_control"},
        {CAP_AUDIT_READ, "audit_read"},     {CAP_MAC_ADMIN, "mac_admin"},         {CAP_MAC_OVERRIDE, "mac_override"},
        {CAP_WAKE_ALARM, "wake_alarm"},     {CAP_BLOCK_SUSPEND, "block_suspend"}, {CAP_LINUX_IMMUTABLE, "linux_immutable"},
        {CAP_BPF, "bpf"},                   {CAP_PERFMON, "perfmon"},             {CAP_CHECKPOINT_RESTORE, "checkpoint_restore"},
    };
    return caps;
}

const std::vector<DeniedSyscall>& denied_syscalls() {
    static const std::vector<DeniedSyscall> calls = {
        {"kexec_load", "replaces the running kernel"},
        {"kexec_file_load", "replaces the running kernel"},
        {"init_module", "loads code into the kernel"},
        {"finit_module", "loads code into the kernel"},
        {"delete_module", "unloads kernel code the host relies on"},
        {"create_module", "obsolete module call"},
        {"query_module", "obsolete module call"},
        {"get_kernel_syms", "obsolete module call"},
        {"bpf", "loads programs into the host's kernel; could reach the beancounter programs and maps"},
        {"perf_event_open", "observes the kernel and other tenants"},
        {"lookup_dcookie", "kernel profiling"},
        {"fanotify_init", "watches file systems beyond the container"},
        {"open_by_handle_at", "opens any file of a file system by its handle, around the mount tree (the 'shocker' escape)"},
        {"add_key", "kernel keyrings are not namespaced"},
        {"keyctl", "kernel keyrings are not namespaced"},
        {"request_key", "kernel keyrings are not namespaced"},
        {"acct", "process accounting is host-wide"},
        {"swapon", "swap is the host's"},
        {"swapoff", "swap is the host's"},
        {"syslog", "the kernel's log buffer is the host's"},
        {"settimeofday", "the clock is the host's"},
        {"clock_settime", "the clock is the host's"},
        {"clock_adjtime", "the clock is the host's"},
        {"stime", "the clock is the host's"},
        {"quotactl", "disk quotas are set by the host"},
        {"quotactl_fd", "disk quotas are set by the host"},
        {"userfaultfd", "lets a process stall the kernel at will, the usual tool to win kernel races"},
        {"io_uring_setup", "a large kernel surface whose operations this filter cannot see"},
        {"io_uring_enter", "a large kernel surface whose operations this filter cannot see"},
        {"io_uring_register", "a large kernel surface whose operations this filter cannot see"},
        {"iopl", "raw port I/O"},
        {"ioperm", "raw port I/O"},
        {"vm86", "obsolete, raw hardware access"},
        {"vm86old", "obsolete, raw hardware access"},
        {"uselib", "obsolete"},
        {"nfsservctl", "obsolete"},
        {"_sysctl", "obsolete"},
        {"ustat", "obsolete"},
        {"sysfs", "obsolete"},
    };
    return calls;
}

int drop_bounding_set() {
    for (const auto& c : dropped_capabilities())
        if (::prctl(PR_CAPBSET_DROP, c.cap, 0, 0, 0) < 0 && errno != EINVAL) return errno;
    return 0;
}

int install_seccomp(std::span<const sock_filter> prog) {
    struct sock_fprog fp{static_cast<unsigned short>(prog.size()), const_cast<sock_filter*>(prog.data())};
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp, 0, 0) < 0) return errno;
    return 0;
}

}  // namespace bc::container
