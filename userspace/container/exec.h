// Running commands inside a running container: the caller joins the container's cgroups and
// all its namespaces (setns on init's pidfd), then forks the command, which is the first
// process of the caller's to be inside the container's PID namespace.
#pragma once

#include <string>
#include <vector>

#include "cgroup/ctgroup.h"
#include "config/ctconfig.h"
#include "config/settings.h"
#include "core/error.h"

namespace bc::container {

// Runs argv with the caller's stdin, stdout and stderr; returns its exit code (128+signal
// when killed, 127 when it cannot be executed).
Result<int> exec_in(const Settings& s, const cgroup::CtGroup& cg, const CtConfig& ct, const std::vector<std::string>& argv);
// An interactive login shell on a new pty allocated inside the container (its devpts); the
// caller's terminal is relayed in raw mode. Works with a non-terminal stdin too.
Result<int> enter(const Settings& s, const cgroup::CtGroup& cg, const CtConfig& ct, const std::vector<std::string>& argv);

}  // namespace bc::container
