// OS templates: compressed archives of a root file system in <template_dir>/<name>.tar.gz.
// Two are built in and made on first use: "busybox" (Debian's busybox-static plus bcinit, no
// network needed) and "debian-12" (debootstrap from Debian's archive). Any other
// <name>.tar.gz an admin drops into the directory is a template too.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "config/settings.h"
#include "core/error.h"

namespace bc::container {

struct TemplateInfo {
    std::string name;
    std::string init = "/sbin/init";
    int stop_signal = 15;       // what the template's init takes as "shut down"
    bool builtin = false;
    std::string archive;        // <template_dir>/<name>.tar.gz
    bool cached = false;
};

Result<TemplateInfo> template_info(const Settings& s, const std::string& name);
std::vector<TemplateInfo> list_templates(const Settings& s);
// Returns the archive, building a built-in template first if it is not cached (or if
// rebuild). Progress goes to stderr.
Result<std::string> ensure_template(const Settings& s, const std::string& name, bool rebuild = false);

// The builders, exposed for tests: fill an empty directory with a root file system.
Result<> build_busybox_rootfs(const std::string& dir, const std::string& busybox, const std::string& init);
Result<> build_debian_rootfs(const std::string& dir, const std::string& suite);
// True if the ELF file has no program interpreter (is statically linked). Uses libelf.
Result<bool> is_static_elf(const std::string& path);

}  // namespace bc::container
