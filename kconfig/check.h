// `beanctl check`: what the kernel offers beancounter, from its config and from probes.
#pragma once

#include <ostream>

#include "cgroup/layout.h"
#include "config/settings.h"

namespace bc::kconfig {

struct CheckOptions {
    bool verbose = false;  // include libbpf/verifier output of failed probes
    bool json = false;
};

// Prints one line per feature (OK / MISSING / UNAVAILABLE, what depends on it) or a JSON
// document. Returns the exit code: 0 when everything required is there, 1 otherwise.
int run_check(const Settings& s, const CheckOptions& o, std::ostream& out);

}  // namespace bc::kconfig
