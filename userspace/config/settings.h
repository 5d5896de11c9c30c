// Where things live: the global configuration (beancounter.conf), overridable by environment
// and command-line options so that tests run in a private root with a private cgroup prefix.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "beancounter_abi.h"
#include "config/ctid.h"
#include "core/error.h"

namespace bc {

// A range of host user (and group) ids.
struct IdRange {
    std::uint32_t base = 0;
    std::uint32_t size = 0;
    std::uint64_t end() const { return std::uint64_t{base} + size; }  // one past the last id
    bool overlaps(const IdRange& o) const { return base < o.end() && o.base < end(); }
    friend bool operator==(const IdRange&, const IdRange&) = default;
};
// Ids one container maps: 0..65535 inside, as a full distribution expects (nobody = 65534).
inline constexpr std::uint32_t kCtIdRangeSize = 65536;

// Explicit overrides (command line first, then environment, then the global config file).
struct SettingsOverrides {
    std::optional<std::string> conf_dir;       // BEANCOUNTER_CONF_DIR, --conf-dir
    std::optional<std::string> lib_dir;        // BEANCOUNTER_LIB_DIR, --lib-dir
    std::optional<std::string> run_dir;        // BEANCOUNTER_RUN_DIR, --run-dir
    std::optional<std::string> template_dir;   // BEANCOUNTER_TEMPLATE_DIR
    std::optional<std::string> cgroup_prefix;  // BEANCOUNTER_CGROUP_PREFIX
    std::optional<std::string> bpf_dir;        // BEANCOUNTER_BPF_DIR

    // Fills unset fields from BEANCOUNTER_* environment variables.
    void from_environment();
};

struct Settings {
    std::string conf_dir = "/etc/beancounter";
    std::string lib_dir = "/var/lib/beancounter";
    std::string run_dir = "/run/beancounter";
    std::string template_dir = "/var/lib/beancounter/template";  // default <lib_dir>/template
    std::string cgroup_prefix = "beancounter";
    // Where the BPF programs' links and maps are pinned (a directory on bpffs).
    std::string bpf_dir = "/sys/fs/bpf/beancounter";
    // Tasks of all containers recorded in the accounting's preallocated hash before it
    // falls back to task storage (BPF_MAX_TASKS); fixed when the maps are first pinned.
    unsigned bpf_max_tasks = BC_MAX_TASKS;
    // Path (relative to each hierarchy's root) under which <cgroup_prefix> is made; empty =
    // the root. On a pure cgroup2 host with a delegated subtree, the subtree.
    std::string cgroup_parent;
    std::string ve_root = "/var/lib/beancounter/root/$VEID";        // pattern, default <lib_dir>/root/$VEID
    std::string ve_private = "/var/lib/beancounter/private/$VEID";  // pattern, default <lib_dir>/private/$VEID
    std::string default_template = "busybox";
    unsigned stop_timeout = 120;    // seconds from the stop signal to SIGKILL
    // Host ids handed out to containers' user namespaces (USERNS_POOL="START:COUNT"): by
    // default 2^30 up to 0x70000000, 12288 ranges, clear of the ids distributions give
    // users, services and /etc/subuid (100000 up).
    IdRange userns_pool{1u << 30, 0x70000000u - (1u << 30)};

    // Reads <conf_dir>/beancounter.conf (absent is fine) and applies overrides.
    static Result<Settings> load(const SettingsOverrides& ov);

    std::string global_conf_path() const;
    std::string ct_conf_dir() const;
    std::string ct_conf_path(Ctid id) const;
    std::string lock_dir() const;
    std::string lock_path(Ctid id) const;
    std::string ct_run_dir(Ctid id) const;
    std::string ve_root_of(Ctid id) const;
    std::string ve_private_of(Ctid id) const;
};

// Replaces $VEID and ${VEID} in a pattern.
std::string expand_veid(const std::string& pattern, Ctid id);
// An absolute path with no ".." component.
bool valid_abs_path(std::string_view p);
// A cgroup prefix is a single path component of [A-Za-z0-9_.-], not "." or "..".
bool valid_cgroup_name(std::string_view s);

}  // namespace bc
