// File-system helpers used across the library. Every function reports the path in its error.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/fd.h"

namespace bc::fs {

Result<std::string> read_file(const std::string& path);
// Reads a file that may be absent: empty optional-like result via the bool.
Result<bool> read_file_if_exists(const std::string& path, std::string& out);
// Writes the whole buffer to an existing file (cgroupfs and procfs style: one write, no O_CREAT).
Result<> write_existing(const std::string& path, std::string_view data);
// Writes a file atomically: a temporary file beside it, then rename. With Sync::durable the
// file and its directory are fsync'd too (configuration); run-time state under /run and
// scratch files skip that, since they do not outlive a reboot anyway.
enum class Sync { durable, atomic_only };
Result<> write_atomic(const std::string& path, std::string_view data, mode_t mode = 0644, Sync sync = Sync::durable);
// mkdir -p; existing directories are fine.
Result<> mkdir_p(const std::string& path, mode_t mode = 0755);
// Removes a directory tree without following symlinks and without crossing into another
// mount (a mount point inside the tree is an error: nothing outside the tree is touched).
// A missing path is not an error.
Result<> remove_tree(const std::string& path);
// Removing a directory tree as remove_tree() does, in the background, as vzctl removes a
// private area, in two halves (a caller with more to do in between starts the remover last,
// so that it does not compete for the file system):
//  - move_to_trash() renames the tree at once into kTrashDir beside it, so its path is free
//    when it returns, and returns the tree's new path. Where the rename cannot be done
//    (another file system) the tree is removed here and now, and "" returned; "" too for a
//    missing path. A mount point is refused, as by remove_tree().
//  - empty_trash_later(moved) starts a detached process (its own session, no descriptor of
//    ours) that removes whatever that directory holds. Removers take turns on a lock on the
//    directory, and each empties it, so nothing renamed there is left behind, even a tree
//    whose remover never started. The directory stays, empty, for the next removal.
Result<std::string> move_to_trash(const std::string& path);
Result<> empty_trash_later(const std::string& moved);
inline constexpr const char* kTrashDir = ".beancounter-rm";
// Waits until the trees move_to_trash() put beside `path` are gone (false: still there
// after `timeout_ms`).
bool wait_removed_later(const std::string& path, int timeout_ms);
bool exists(const std::string& path);
bool is_dir(const std::string& path);
// Entries of a directory (without . and ..), sorted.
Result<std::vector<std::string>> list_dir(const std::string& path);
// Subdirectories of a directory (not following symlinks), from readdir's d_type: no stat per
// entry, which matters in cgroupfs where a node holds dozens of files.
Result<std::vector<std::string>> list_subdirs(const std::string& path);
// Mount points as seen by this process (from /proc/self/mountinfo), unescaped.
Result<std::vector<std::string>> mount_points();
// Whether `path` (symbolic links followed) is the root of a mount. Missing: false.
Result<bool> is_mount_point(const std::string& path);
// Undoes the octal escapes (\040 for a space) of /proc/self/mountinfo fields.
std::string unescape_mountinfo(std::string_view s);
std::string join(std::string_view a, std::string_view b);
// Canonical absolute path of an existing path.
Result<std::string> real_path(const std::string& path);

}  // namespace bc::fs
