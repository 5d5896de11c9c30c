// Template archives (.tar.gz), packed and unpacked by the helper bctar (tools/bctar), the one
// program that links libarchive: beanctl itself is static.
#pragma once

#include <string>

#include "core/error.h"

namespace bc::container {

// Packs the contents of dir (not dir itself) into a gzip'd tar at out_path, atomically
// (written beside it, then renamed). Owners, modes, symlinks, devices and xattrs are kept.
Result<> pack_tar_gz(const std::string& dir, const std::string& out_path);
// Unpacks an archive into an existing empty directory. Entries that would land outside it
// (absolute paths, "..", symlinked parents) are refused.
Result<> unpack(const std::string& archive, const std::string& dest_dir);

}  // namespace bc::container
