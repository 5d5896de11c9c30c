// Per-container lock: flock(2) on <run_dir>/lock/<CTID>.lock. The kernel drops it when the
// holder dies, so a killed tool never leaves the container locked.
#pragma once

#include <string>

#include "config/ctid.h"
#include "config/settings.h"
#include "core/error.h"
#include "core/fd.h"

namespace bc::container {

class CtLock {
public:
    // Fails at once (naming the holder's pid) if another process holds the lock.
    static Result<CtLock> acquire(const Settings& s, Ctid id);
    // Removes the lock file while holding the lock (destroy). Later lockers notice the file
    // they locked is unlinked and retry on a fresh one.
    void remove();

private:
    CtLock(Fd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
    Fd fd_;
    std::string path_;
};

}  // namespace bc::container
