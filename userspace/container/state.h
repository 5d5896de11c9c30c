// What is true of a container right now, read from the host: its config, private area,
// mount, cgroups and init process. Nothing here changes anything.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "cgroup/ctgroup.h"
#include "cgroup/layout.h"
#include "config/ctconfig.h"
#include "config/settings.h"
#include "core/error.h"
#include "core/fd.h"

namespace bc::container {

// <run_dir>/ct/<CTID>/init: "<pid> <start time>" of the container's PID 1 on the host.
struct InitRecord {
    pid_t pid = 0;
    std::uint64_t start_time = 0;
};
Result<> write_init_record(const Settings& s, Ctid id, const InitRecord& r);
Result<std::optional<InitRecord>> read_init_record(const Settings& s, Ctid id);
void remove_init_record(const Settings& s, Ctid id);
std::string console_log_path(const Settings& s, Ctid id);

// The container's init, if it is alive: the record checked against /proc (same pid, same
// start time) and held by a pidfd so that it cannot be confused with a later process.
struct LiveInit {
    pid_t pid = 0;
    Fd pidfd;
};
Result<std::optional<LiveInit>> find_init(const Settings& s, Ctid id);

cgroup::CtGroup ct_cgroup(const cgroup::Layout& l, const Settings& s, Ctid id);

struct CtStatus {
    Ctid id = 0;
    bool exists = false;      // its config file is there
    bool incomplete = false;  // no config, but a private area, mount or cgroup is left over
    std::string config_error; // the config exists but does not parse: why (file:line: reason)
    bool mounted = false;     // VE_ROOT is mounted
    bool running = false;     // its init is alive
    bool cgroup = false;      // a node of its cgroup is there (running, or left by a killed start)
    pid_t init_pid = 0;
    std::uint64_t numproc = 0;  // tasks in its cgroup (0 when down)
    std::string hostname;
    std::string ostemplate;
    std::string ve_root, ve_private;
    std::optional<CtConfig> config;  // the parsed config, when it exists and parses
};
// A missing config is "deleted"; one that fails to parse is reported in config_error (and
// the default paths are assumed).
Result<CtStatus> status(const Settings& s, const cgroup::Layout& l, Ctid id);

}  // namespace bc::container
