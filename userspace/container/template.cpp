#include "container/template.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <sstream>

#include "config/ctconfig.h"
#include "container/archive.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/proc.h"

namespace bc::container {

namespace {
struct Builtin {
    const char* name;
    const char* stop_signal;
};
constexpr Builtin kBuiltins[] = {
    {"busybox", "TERM"},
    // systemd halts on SIGRTMIN+3 (SIGTERM makes it re-execute itself).
    {"debian-12", "RTMIN+3"},
};

// Where a container finds its beancounters (procfs cannot hold the file OpenVZ had).
constexpr const char* kMotdBeancounters =
    "This container's resource usage (user beancounters): cat /dev/user_beancounters\n";

Result<> write_file(const std::string& dir, const std::string& rel, std::string_view text, mode_t mode = 0644) {
    std::string p = fs::join(dir, rel);
    BC_TRYV(fs::mkdir_p(p.substr(0, p.rfind('/'))));
    return fs::write_atomic(p, text, mode, fs::Sync::atomic_only);
}

Result<> copy_file(const std::string& from, const std::string& to, mode_t mode) {
    auto data = BC_TRY(fs::read_file(from));
    return fs::write_atomic(to, data, mode, fs::Sync::atomic_only);
}

// A build killed half-way leaves ".build-NAME.PID" and "NAME.tar.gz.tmp.PID" behind: remove
// those whose process is gone.
void remove_stale_builds(const std::string& dir) {
    auto entries = fs::list_dir(dir);
    if (!entries) return;
    for (const auto& e : *entries) {
        bool ours = e.starts_with(".build-") || e.find(".tar.gz.tmp.") != std::string::npos;
        auto dot = e.rfind('.');
        if (!ours || dot == std::string::npos) continue;
        pid_t pid = static_cast<pid_t>(std::strtol(e.c_str() + dot + 1, nullptr, 10));
        if (pid <= 0 || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
        log::info("removing {}/{}, left by an interrupted template build", dir, e);
        if (auto r = fs::remove_tree(fs::join(dir, e)); !r) log::warn("{}", r.error().msg);
    }
}
}  // namespace

Result<bool> is_static_elf(const std::string& path) {
    if (elf_version(EV_CURRENT) == EV_NONE) return fail("libelf initialisation failed");
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail_sys(fmt::format("opening {}", path));
    Elf* e = elf_begin(fd.get(), ELF_C_READ, nullptr);
    if (!e || elf_kind(e) != ELF_K_ELF) {
        if (e) elf_end(e);
        return fail(fmt::format("{} is not an ELF file", path));
    }
    size_t n = 0;
    bool interp = false;
    if (elf_getphdrnum(e, &n) == 0) {
        for (size_t i = 0; i < n; ++i) {
            GElf_Phdr ph;
            if (gelf_getphdr(e, static_cast<int>(i), &ph) && ph.p_type == PT_INTERP) interp = true;
        }
    }
    elf_end(e);
    return !interp;
}

Result<> build_busybox_rootfs(const std::string& dir, const std::string& busybox, const std::string& init) {
    if (!BC_TRY(is_static_elf(busybox)))
        return fail(fmt::format("{} is dynamically linked; the busybox template needs busybox-static", busybox));
    for (const char* d : {"bin", "sbin", "usr/bin", "usr/sbin", "etc/init.d", "proc", "sys", "dev", "run", "var/log",
                          "home", "mnt", "root", "tmp"})
        BC_TRYV(fs::mkdir_p(fs::join(dir, d)));
    ::chmod(fs::join(dir, "tmp").c_str(), 01777);
    ::chmod(fs::join(dir, "root").c_str(), 0700);
    BC_TRYV(copy_file(busybox, fs::join(dir, "bin/busybox"), 0755));
    BC_TRYV(copy_file(init, fs::join(dir, "sbin/init"), 0755));
    // Every applet as a symlink to /bin/busybox, at the path busybox itself lists.
    auto list = BC_TRY(proc::run({busybox, "--list-full"}, {.capture = proc::Capture::out}));
    if (list.code != 0) return fail(fmt::format("{} --list-full exited with status {}", busybox, list.code));
    std::istringstream in(list.output);
    std::string rel;
    while (std::getline(in, rel)) {
        if (rel.empty() || rel == "bin/busybox" || rel == "sbin/init" || rel.find("..") != std::string::npos) continue;
        std::string p = fs::join(dir, rel);
        BC_TRYV(fs::mkdir_p(p.substr(0, p.rfind('/'))));
        if (::symlink("/bin/busybox", p.c_str()) < 0 && errno != EEXIST) return fail_sys(fmt::format("symlink {}", p));
    }
    BC_TRYV(write_file(dir, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"));
    BC_TRYV(write_file(dir, "etc/group", "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n"));
    BC_TRYV(write_file(dir, "etc/shadow", "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n", 0640));
    BC_TRYV(write_file(dir, "etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"));
    BC_TRYV(write_file(dir, "etc/os-release",
                       "NAME=\"beancounter busybox\"\nID=busybox\nPRETTY_NAME=\"beancounter busybox container\"\n"));
    BC_TRYV(write_file(dir, "etc/profile",
                       "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
                       "export PS1='[\\u@\\h \\W]\\$ '\n[ -r /etc/motd ] && cat /etc/motd\n"));
    BC_TRYV(write_file(dir, "etc/motd", std::string("beancounter busybox container. PID 1 is /sbin/init (bcinit).\n") + kMotdBeancounters));
    // bcinit runs the boot itself (no shell unless there is a script to run).
    BC_TRYV(write_file(dir, "etc/rc.d/README",
                       "At start, /sbin/init (bcinit) runs every executable S* file here, in name order,\n"
                       "each with the argument \"start\" and to its end before the next. /proc, /sys and\n"
                       "/dev are mounted and the host name is set by then. An executable\n"
                       "/etc/init.d/rcS, if there is one, runs instead of them.\n"));
    return {};
}

Result<> build_debian_rootfs(const std::string& dir, const std::string& suite) {
    if (::access("/usr/sbin/debootstrap", X_OK) < 0)
        return fail("debootstrap is not installed (apt-get install debootstrap)");
    log::info("building the debian-12 template with debootstrap (this takes a few minutes)");
    auto ran = BC_TRY(proc::run({"/usr/sbin/debootstrap", "--variant=minbase",
                                 "--include=systemd-sysv,dbus,iproute2,procps,sysvinit-utils,ifupdown", suite, dir}));
    if (ran.code != 0) return fail(fmt::format("debootstrap exited with status {}", ran.code));
    // A container has no consoles to log in on, and the host brings networking up.
    for (const char* unit : {"getty@tty1.service", "serial-getty@ttyS0.service", "console-getty.service"}) {
        std::string p = fs::join(dir, fmt::format("etc/systemd/system/{}", unit));
        ::unlink(p.c_str());
        (void)!::symlink("/dev/null", p.c_str());
    }
    BC_TRYV(write_file(dir, "etc/motd", std::string("beancounter debian-12 container.\n") + kMotdBeancounters));
    BC_TRYV(fs::remove_tree(fs::join(dir, "var/cache/apt/archives")));
    BC_TRYV(fs::mkdir_p(fs::join(dir, "var/cache/apt/archives/partial")));
    return {};
}

Result<TemplateInfo> template_info(const Settings& s, const std::string& name) {
    if (!valid_template_name(name))
        return fail(fmt::format("invalid template name '{}': use lower-case letters, digits, '.', '_' and '-'", name));
    TemplateInfo t;
    t.name = name;
    t.archive = fmt::format("{}/{}.tar.gz", s.template_dir, name);
    t.cached = fs::exists(t.archive);
    for (const auto& b : kBuiltins)
        if (name == b.name) {
            t.builtin = true;
            t.stop_signal = *parse_signal(b.stop_signal);
        }
    if (!t.builtin && !t.cached)
        return fail(fmt::format("unknown template '{}': no {} and no built-in template of that name (built in: busybox, debian-12)",
                                name, t.archive));
    return t;
}

std::vector<TemplateInfo> list_templates(const Settings& s) {
    std::vector<TemplateInfo> out;
    std::vector<std::string> names;
    for (const auto& b : kBuiltins) names.emplace_back(b.name);
    if (auto files = fs::list_dir(s.template_dir); files)
        for (const auto& f : *files)
            if (f.ends_with(".tar.gz")) {
                std::string n = f.substr(0, f.size() - 7);
                if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
            }
    for (const auto& n : names)
        if (auto t = template_info(s, n); t) out.push_back(*t);
    return out;
}

Result<std::string> ensure_template(const Settings& s, const std::string& name, bool rebuild) {
    auto t = BC_TRY(template_info(s, name));
    if (t.cached && !rebuild) return t.archive;
    if (!t.builtin) return t.archive;
    BC_TRYV(fs::mkdir_p(s.template_dir));
    remove_stale_builds(s.template_dir);
    std::string work = fmt::format("{}/.build-{}.{}", s.template_dir, name, ::getpid());
    BC_TRYV(fs::remove_tree(work));
    BC_TRYV(fs::mkdir_p(work));
    Result<> built;
    if (name == "busybox") {
        auto init = proc::find_helper("bcinit");
        built = init ? build_busybox_rootfs(work, "/bin/busybox", *init) : fail(init.error());
    } else {
        built = build_debian_rootfs(work, "bookworm");
    }
    if (built) {
        log::info("packing template {} into {}", name, t.archive);
        built = pack_tar_gz(work, t.archive);
    }
    auto cleaned = fs::remove_tree(work);
    if (!built) return std::unexpected(built.error().wrap(fmt::format("building template {}", name)));
    if (!cleaned) log::warn("{}", cleaned.error().msg);
    return t.archive;
}

}  // namespace bc::container
