// A container's host name and resolver configuration, written inside the container by a
// process that is the container's root in its namespaces (init at start, a joined child for
// `set` on a running container). No host path is involved: the files are looked up from the
// container's root, with the container's root's rights.
#pragma once

#include <string>

#include "config/ctconfig.h"
#include "config/settings.h"
#include "core/error.h"

namespace bc::container {

// In the container: sets the UTS host name and writes /etc/hostname (when `hostname`), and
// /etc/resolv.conf from NAMESERVER and SEARCHDOMAIN (when `resolver` and any is set).
// Returns 0 or an errno value, with the failing step in `what`.
int write_identity(const CtConfig& ct, bool hostname, bool resolver, const char** what);

// The same for a running container, from the host.
Result<> apply_identity_live(const Settings& s, const CtConfig& ct, bool hostname, bool resolver);

}  // namespace bc::container
