#include "check.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>

#include "bpf/accounting.h"
#include "bpf/kernel_layout.h"
#include "core/fs.h"
#include "fragment.h"  // generated from beancounter.config by kconfig/CMakeLists.txt
#include "kconfig.h"
#include "probe.skel.h"

namespace bc::kconfig {

// ---- the pure part (kconfig.h) -------------------------------------------------------------

std::string_view status_name(Status s) {
    switch (s) {
        case Status::ok: return "OK";
        case Status::missing: return "MISSING";
        case Status::unavailable: return "UNAVAILABLE";
    }
    return "?";
}

std::string_view builtin_fragment() { return kFragmentText; }

namespace {
std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    return s;
}

template <class F>
void for_each_line(std::string_view text, F&& f) {
    for (size_t pos = 0, no = 1; pos < text.size(); ++no) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        f(no, trim(text.substr(pos, nl - pos)));
        pos = nl + 1;
    }
}
}  // namespace

Result<std::vector<Option>> parse_fragment(std::string_view text) {
    std::vector<Option> out;
    std::optional<Option> tag;  // the tag line just read, waiting for its option
    std::set<std::string, std::less<>> seen;
    std::optional<Error> err;
    for_each_line(text, [&](size_t no, std::string_view l) {
        if (err) return;
        auto bad = [&](std::string_view why) { err = Error::msg_only(fmt::format("fragment line {}: {}", no, why)); };
        const bool req = l.starts_with("# required:"), opt = l.starts_with("# optional:");
        if (tag && !l.starts_with("CONFIG_")) return bad("a `# required:`/`# optional:` tag must be followed by its option");
        if (req || opt) {
            Option o;
            o.required = req;
            o.needed_by = std::string(trim(l.substr(11)));
            if (o.needed_by.empty()) return bad("the tag does not say what needs the option");
            tag = std::move(o);
        } else if (l.empty() || l.starts_with('#')) {
            return;
        } else if (l.starts_with("CONFIG_")) {
            size_t eq = l.find('=');
            if (!tag) return bad(fmt::format("{} has no `# required:` or `# optional:` tag on the line before", l));
            if (eq == std::string_view::npos || eq + 1 == l.size() || l.find_first_of(" \t#") != std::string_view::npos)
                return bad(fmt::format("`{}` is not of the form CONFIG_NAME=value", l));
            tag->name = std::string(l.substr(0, eq));
            tag->value = std::string(l.substr(eq + 1));
            if (!seen.insert(tag->name).second) return bad(fmt::format("{} is listed twice", tag->name));
            out.push_back(std::move(*tag));
            tag.reset();
        } else {
            bad(fmt::format("`{}` is neither an option, a tag nor a comment", l));
        }
    });
    if (!err && tag) err = Error::msg_only("fragment: the last tag has no option after it");
    if (err) return fail(std::move(*err));
    return out;
}

Config parse_config(std::string_view text) {
    Config c;
    for_each_line(text, [&](size_t, std::string_view l) {
        constexpr std::string_view not_set = " is not set";
        if (l.starts_with("CONFIG_")) {
            if (size_t eq = l.find('='); eq != std::string_view::npos)
                c.insert_or_assign(std::string(l.substr(0, eq)), std::string(l.substr(eq + 1)));
        } else if (l.starts_with("# CONFIG_") && l.ends_with(not_set)) {
            c.insert_or_assign(std::string(l.substr(2, l.size() - 2 - not_set.size())), std::string("n"));
        }
    });
    return c;
}

Result<std::string> read_config_file(const std::string& path) {
    std::unique_ptr<gzFile_s, decltype(&gzclose)> gz(gzopen(path.c_str(), "rb"), gzclose);
    if (!gz) return fail_sys(errno ? errno : ENOMEM, fmt::format("opening {}", path));
    std::string text;
    char buf[1 << 16];
    for (int n; (n = gzread(gz.get(), buf, sizeof buf)) != 0;) {
        if (n < 0) {
            int zerr = 0;
            const char* msg = gzerror(gz.get(), &zerr);
            if (zerr == Z_ERRNO) return fail_sys(fmt::format("reading {}", path));
            return fail(fmt::format("reading {}: {}", path, msg));
        }
        text.append(buf, static_cast<size_t>(n));
    }
    return text;
}

std::vector<std::string> config_paths(std::string_view release) {
    return {"/proc/config.gz", fmt::format("/boot/config-{}", release)};
}

Verdict judge(const Option& o, const Config& c) {
    auto it = c.find(o.name);
    const bool tristate = o.value == "y" || o.value == "m";
    const Status absent = o.required ? Status::missing : Status::unavailable;
    if (it == c.end()) return {absent, "not in the config (its dependencies are off)"};
    const std::string& v = it->second;
    if (v == o.value) return {Status::ok, ""};
    if (tristate && (v == "y" || v == "m")) return {Status::ok, v == "m" ? "=m: a module, loaded on demand" : "=y"};
    if (v == "n") return {absent, "is not set"};
    return {absent, fmt::format("={}, wanted ={}", v, o.value)};
}

// ---- the checker ---------------------------------------------------------------------------

namespace {

struct Feature {
    std::string group, name;
    Status status;
    std::string needed_by, detail;
    std::string log = {};  // libbpf's messages of a failed probe, with -v
};
using Features = std::vector<Feature>;

// What a failed probe means: only what beancounter requires fails the check.
Status need(bool required) { return required ? Status::missing : Status::unavailable; }

std::optional<std::string> check_config(Features& out) {
    utsname u{};
    ::uname(&u);
    auto frag = parse_fragment(builtin_fragment());
    if (!frag) {
        out.push_back({"Kernel config", "fragment", Status::missing, "the check itself", frag.error().msg});
        return std::nullopt;
    }
    std::vector<std::string> tried;
    for (const auto& path : config_paths(u.release)) {
        auto text = read_config_file(path);
        if (!text) {
            tried.push_back(text.error().err == ENOENT ? path : text.error().msg);
            continue;
        }
        Config c = parse_config(*text);
        if (c.empty()) {
            tried.push_back(fmt::format("{}: not a kernel config", path));
            continue;
        }
        for (const auto& o : *frag) {
            Verdict v = judge(o, c);
            out.push_back({"Kernel config", o.name, v.status, o.needed_by, v.detail});
        }
        return path;
    }
    std::string list;
    for (const auto& t : tried) list += (list.empty() ? "" : ", ") + t;
    out.push_back({"Kernel config", "kernel config", Status::unavailable, "",
                   fmt::format("not found ({}); relying on the probes", list)});
    return std::nullopt;
}

// libbpf prints the verifier log and attach errors at WARN level, and a lot more at DEBUG.
// Each probe's messages are collected while it runs and shown (with -v) only if it failed:
// one line per feature stays readable, and the log of a failure is there when asked for.
class LibbpfCapture {
public:
    LibbpfCapture() : prev_(libbpf_set_print(collect)) { sink_ = &log_; }
    ~LibbpfCapture() {
        libbpf_set_print(prev_);
        sink_ = nullptr;
    }
    LibbpfCapture(const LibbpfCapture&) = delete;
    LibbpfCapture& operator=(const LibbpfCapture&) = delete;
    std::string take() { return std::move(log_); }

private:
    __attribute__((format(printf, 2, 0))) static int collect(libbpf_print_level level, const char* fmt, va_list ap) {
        if (level == LIBBPF_DEBUG || !sink_) return 0;
        va_list again;
        va_copy(again, ap);
        int n = std::vsnprintf(nullptr, 0, fmt, again);
        va_end(again);
        if (n <= 0) return 0;
        size_t at = sink_->size();
        sink_->resize(at + static_cast<size_t>(n) + 1);
        std::vsnprintf(sink_->data() + at, static_cast<size_t>(n) + 1, fmt, ap);
        sink_->resize(at + static_cast<size_t>(n));
        return n;
    }
    static inline std::string* sink_ = nullptr;
    libbpf_print_fn_t prev_;
    std::string log_;
};

// load: the kernel accepts the type; attach: also the hook exists (kprobes fail only here);
// fire: also the program runs on a fork this process makes.
enum class Depth { load, attach, fire };

struct ProgProbe {
    const char* name;
    bpf_program* (*prog)(probe_bpf*);
    bool required;
    Depth depth;
    const char* needed_by;
};

#define BC_PROG(field) [](probe_bpf* s) { return s->progs.field; }
const ProgProbe kProgs[] = {
    {"tp_btf/sched_process_fork", BC_PROG(tp_btf_fork), true, Depth::fire, "numproc (fork/exit counting)"},
    {"raw_tp/sched_process_fork", BC_PROG(raw_tp_fork), false, Depth::load, "nothing yet (a fallback for tp_btf)"},
    {"tracepoint/sched/sched_process_fork", BC_PROG(tracepoint_fork), false, Depth::load, "nothing yet (a fallback for tp_btf)"},
    {"tc (sched_cls)", BC_PROG(tc_classifier), true, Depth::load, "traffic in and out, the containers' source guard"},
    {"cgroup/sock_create", BC_PROG(sock_create), true, Depth::load, "numtcpsock, numothersock"},
    // Without it the socket counters would only ever grow.
    {"cgroup/sock_release", BC_PROG(sock_release), true, Depth::load, "numtcpsock, numothersock (uncount)"},
    {"cgroup/dev", BC_PROG(cgroup_dev), true, Depth::load, "device access control"},
    {"sockops", BC_PROG(sock_ops), false, Depth::load, "nothing yet (accepted connections are counted by tp_btf)"},
    {"iter/cgroup", BC_PROG(iter_cgroup), true, Depth::load,
     "memory and pids counters of all containers in one read; the user_beancounters file"},
    {"iter/task", BC_PROG(iter_task), true, Depth::load,
     "the user_beancounters file; privvmpages, lockedpages, numfile, numsiginfo before Linux 6.7"},
    {"iter/bpf_sk_storage_map", BC_PROG(iter_sk_storage), false, Depth::load,
     "settling the socket counts; tcpsndbuf, tcprcvbuf, othersockbuf, dgramrcvbuf of containers holding sockets"},
    {"fentry/wake_up_new_task", BC_PROG(fentry_fork), false, Depth::attach, "optional fentry/fexit programs"},
    {"lsm/task_alloc", BC_PROG(lsm_task_alloc), false, Depth::load, "optional BPF LSM enforcement"},
    {"kprobe/wake_up_new_task", BC_PROG(kprobe_fork), false, Depth::attach, "optional kprobe programs"},
};
#undef BC_PROG

// What the probe proved, or why it failed.
Result<std::string> probe_program(const ProgProbe& p) {
    std::unique_ptr<probe_bpf, decltype(&probe_bpf__destroy)> skel(probe_bpf__open(), probe_bpf__destroy);
    if (!skel) return fail_sys("opening the probe object");
    bpf_program* me = p.prog(skel.get());
    bpf_program* it = nullptr;
    bpf_object__for_each_program(it, skel->obj) bpf_program__set_autoload(it, it == me);
    skel->rodata->target_tgid = static_cast<__u32>(::getpid());
    if (int err = probe_bpf__load(skel.get())) return fail_sys(-err, "load");
    if (p.depth == Depth::load) return "loads";
    std::unique_ptr<bpf_link, decltype(&bpf_link__destroy)> link(bpf_program__attach(me), bpf_link__destroy);
    if (!link) return fail_sys("attach");
    if (p.depth == Depth::attach) return "loads and attaches";
    pid_t child = ::fork();
    if (child < 0) return fail_sys("fork");
    if (child == 0) ::_exit(0);
    int st = 0;
    while (::waitpid(child, &st, 0) < 0 && errno == EINTR) {
    }
    if (skel->bss->fork_hits == 0) return fail("attached, but did not fire on a fork");
    return "fired on a fork";
}

// BPF LSM programs load whenever the kernel has CONFIG_BPF_LSM, but run only if "bpf" is in
// the active LSM list (the lsm= boot parameter); attaching would prove nothing.
std::string lsm_inactive() {
    std::string lsms;
    if (auto r = fs::read_file_if_exists("/sys/kernel/security/lsm", lsms); !r || !*r) return {};
    std::replace_if(lsms.begin(), lsms.end(), [](char c) { return c == ',' || c == '\n'; }, ' ');
    if ((" " + lsms + " ").find(" bpf ") != std::string::npos) return {};
    return "loads, but bpf is not an active LSM (add it to lsm= on the kernel command line)";
}

void check_bpf(Features& out, bool verbose) {
    const std::string g = "BPF programs";
    const bool btf = fs::exists("/sys/kernel/btf/vmlinux");
    out.push_back({g, "BTF /sys/kernel/btf/vmlinux", btf ? Status::ok : Status::missing, "CO-RE (every program)",
                   btf ? "" : "absent: the kernel needs CONFIG_DEBUG_INFO_BTF=y"});
    // Decided up front: as non-root every load fails with EPERM, which would look like the
    // kernel refusing the types.
    const bool root = ::geteuid() == 0;
    for (const auto& p : kProgs) {
        LibbpfCapture cap;
        Result<std::string> r = root ? probe_program(p) : fail("permission denied (run as root)");
        if (r && std::string_view(p.name).starts_with("lsm/"))
            if (std::string why = lsm_inactive(); !why.empty()) r = fail(why);
        out.push_back({g, p.name, r ? Status::ok : need(p.required), p.needed_by, r ? *r : r.error().msg,
                       !r && verbose ? cap.take() : ""});
    }

    // BPF_MAP_TYPE_CGRP_STORAGE (6.2+) is newer than Debian 12's uapi headers.
    constexpr auto kCgrpStorage = static_cast<bpf_map_type>(32);
    const struct {
        const char* name;
        bpf_map_type type;
        bool required;
        const char* needed_by;
    } maps[] = {
        {"cgrp_storage", kCgrpStorage, false, "per-cgroup state (else a hash by cgroup id)"},
        {"task_storage", BPF_MAP_TYPE_TASK_STORAGE, true, "per-task state"},
        {"sk_storage", BPF_MAP_TYPE_SK_STORAGE, true, "marks on counted sockets"},
        {"ringbuf", BPF_MAP_TYPE_RINGBUF, true, "events to userspace"},
        {"percpu_hash", BPF_MAP_TYPE_PERCPU_HASH, true, "per-CPU counters on hot paths"},
    };
    for (const auto& m : maps) {
        std::string why = "permission denied (run as root)";
        if (root) {
            LibbpfCapture cap;
            int r = libbpf_probe_bpf_map_type(m.type, nullptr);
            why = r == 1 ? "" : r == 0 ? "not supported by this kernel" : fmt::format("probe: {}", std::strerror(-r));
        }
        out.push_back({"BPF maps", m.name, why.empty() ? Status::ok : need(m.required), m.needed_by, why});
    }

    // Kernel functions the optional builds of the programs call (found in the kernel's BTF).
    if (btf) {
        auto has = bc::bpf::kernel_has_function;
        const bool css_task = has("bpf_iter_css_task_new");
        // The statistics flush, by its name before and after Linux 6.16 (bpf/flush.bpf.c).
        const char* flush = has("css_rstat_flush") ? "css_rstat_flush" : has("cgroup_rstat_flush") ? "cgroup_rstat_flush" : nullptr;
        out.push_back({"BPF kfuncs", "bpf_iter_css_task_new", css_task ? Status::ok : need(false),
                       "privvmpages, lockedpages, numfile, numsiginfo",
                       css_task ? "" : "absent (Linux 6.7+): summed by a walk of every task of the host instead"});
        out.push_back({"BPF kfuncs", flush ? flush : "cgroup_rstat_flush", flush ? Status::ok : need(true),
                       "CPU time per container; loading the accounting", flush ? "" : "absent (Linux 6.1+)"});
        // Where shmem and kernel memory are in a memory cgroup's statistics (bpf/collect.bpf.c).
        const std::string layout = bc::bpf::memory_stats_layout();
        out.push_back({"BTF", "memory cgroup statistics", layout.empty() ? need(false) : Status::ok,
                       "shmpages; kmemsize on cgroup2",
                       layout.empty()        ? "not described by the kernel's BTF: not counted"
                       : layout == "by item" ? ""
                                             : "compressed (Linux 6.10+): located by a calibration at each load"});
    }
}

const char* controller_use(std::string_view c) {
    if (c == "memory") return "physpages, swappages, kmemsize; memory limits";
    if (c == "pids") return "numproc limit (pids.max)";
    if (c == "cpu") return "cpuunits, cpulimit";
    if (c == "cpuacct") return "CPU time";
    return "";
}

void check_cgroups(Features& out) {
    const std::string g = "Cgroups";
    auto l = cgroup::Layout::detect_host();
    if (!l) {
        out.push_back({g, "cgroup2", Status::missing, "BPF cgroup programs, container cgroups", l.error().msg});
        return;
    }
    out.push_back({g, "layout", Status::ok, "where container cgroups are made",
                   l->mode == cgroup::Mode::hybrid ? "hybrid (controllers in cgroup v1)" : "unified (cgroup2 only)"});
    out.push_back({g, "cgroup2", Status::ok, "BPF cgroup programs", fmt::format("mounted at {}", l->v2_mount)});
    for (std::string_view c : cgroup::kControllers) {
        std::string_view w = l->where(c);
        std::string detail = w == "v1"   ? fmt::format("v1 at {}", *l->v1_mount_of(c))
                             : w == "v2" ? (l->v2_has(c) ? "cgroup2" : "cgroup2 (cpu.stat, no controller needed)")
                                         : "in no hierarchy";
        out.push_back({g, fmt::format("controller {}", c), w == "missing" ? Status::missing : Status::ok,
                       controller_use(c), detail});
    }
}

void check_filesystems(Features& out) {
    const struct {
        const char* name;
        const char* path;
        decltype(statfs::f_type) magic;
        const char* needed_by;
    } mounts[] = {
        {"bpffs /sys/fs/bpf", "/sys/fs/bpf", BPF_FS_MAGIC, "pinned maps and links"},
        {"tracefs /sys/kernel/tracing", "/sys/kernel/tracing", TRACEFS_MAGIC, "tracepoint/kprobe attach"},
    };
    // Only looked at: the tools mount what they need, and a check must change nothing.
    for (const auto& m : mounts) {
        struct statfs st{};
        bool ok = ::statfs(m.path, &st) == 0 && st.f_type == m.magic;
        out.push_back({"File systems", m.name, ok ? Status::ok : Status::unavailable, m.needed_by,
                       ok ? "" : "not mounted; the tools mount it when needed"});
    }
}

void check_namespaces(Features& out) {
    const std::string g = "Namespaces";
    const std::pair<const char*, const char*> kinds[] = {
        {"mnt", "container rootfs (pivot_root)"}, {"uts", "container hostname"},
        {"ipc", "container SysV IPC"},            {"pid", "container init as PID 1"},
        {"net", "container network"},             {"user", "container root != host root"},
        {"cgroup", "container's own cgroup view"},
    };
    for (auto [ns, use] : kinds) {
        bool ok = fs::exists(fmt::format("/proc/self/ns/{}", ns));
        out.push_back({g, fmt::format("{} namespace", ns), ok ? Status::ok : Status::missing, use,
                       ok ? "" : "the kernel lacks this namespace type"});
    }
    std::string max;
    auto r = fs::read_file_if_exists("/proc/sys/user/max_user_namespaces", max);
    int n = r && *r ? std::atoi(max.c_str()) : 0;
    out.push_back({g, "max_user_namespaces", n > 0 ? Status::ok : Status::missing, "container root != host root",
                   !r || !*r ? "cannot read /proc/sys/user/max_user_namespaces"
                   : n > 0   ? fmt::format("{}", n)
                             : "0: user namespaces are switched off (sysctl user.max_user_namespaces)"});
}

}  // namespace

int run_check([[maybe_unused]] const Settings& s, const CheckOptions& o, std::ostream& out) {
    Features f;
    std::optional<std::string> source = check_config(f);
    check_bpf(f, o.verbose);
    check_cgroups(f);
    check_filesystems(f);
    check_namespaces(f);

    size_t missing = 0;
    for (const auto& x : f) missing += x.status == Status::missing;

    if (o.json) {
        nlohmann::json j;
        j["config_source"] = source ? nlohmann::json(*source) : nlohmann::json(nullptr);
        j["features"] = nlohmann::json::array();
        for (const auto& x : f) {
            nlohmann::json e = {{"group", x.group}, {"name", x.name}, {"status", status_name(x.status)},
                                {"needed_by", x.needed_by}, {"detail", x.detail}};
            if (!x.log.empty()) e["log"] = x.log;
            j["features"].push_back(std::move(e));
        }
        j["ok"] = missing == 0;
        out << j.dump(2) << '\n';
        return missing ? 1 : 0;
    }
    // Names as long as CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS widen the column for all lines.
    size_t width = 34;
    for (const auto& x : f) width = std::max(width, x.name.size());
    std::string group;
    for (const auto& x : f) {
        if (x.group != group) {
            group = x.group;
            std::string title = group;
            if (group == "Kernel config") title += fmt::format(" ({})", source ? *source : "not found");
            out << (&x == &f.front() ? "" : "\n") << title << '\n';
        }
        std::string why = x.detail;
        if (!x.needed_by.empty()) why += fmt::format("{}needed by: {}", why.empty() ? "" : "; ", x.needed_by);
        out << fmt::format("{:<12} {:<{}} {}\n", status_name(x.status), x.name, width, why);
        // Verbatim (for_each_line trims): verifier logs indent on purpose.
        for (size_t pos = 0, nl; pos < x.log.size(); pos = nl + 1) {
            nl = std::min(x.log.find('\n', pos), x.log.size());
            out << "    " << std::string_view(x.log).substr(pos, nl - pos) << '\n';
        }
    }
    out << '\n'
        << (missing ? fmt::format("{} required feature(s) MISSING.\n", missing) : "All required features are present.\n");
    return missing ? 1 : 0;
}

}  // namespace bc::kconfig
