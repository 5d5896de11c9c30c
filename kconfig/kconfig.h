// The pure half of `beanctl check`: the options beancounter needs (the fragment, embedded at
// build time), the running kernel's config, and the verdict for each option. Nothing here
// needs root or a particular kernel, so the unit tests cover it; check.cpp adds the probes.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace bc::kconfig {

enum class Status { ok, missing, unavailable };
// "OK", "MISSING", "UNAVAILABLE": the words `check` prints.
std::string_view status_name(Status s);

// One option of the fragment.
struct Option {
    std::string name;       // "CONFIG_BPF_SYSCALL"
    std::string value;      // the value asked for, e.g. "y"
    bool required = true;   // false: `# optional:` tag
    std::string needed_by;  // the tag's text
};

// Parses a fragment in the format described at the top of kconfig/beancounter.config; any
// deviation is an error naming the line, so a typo cannot silently drop an option.
Result<std::vector<Option>> parse_fragment(std::string_view text);
// kconfig/beancounter.config as it was at build time.
std::string_view builtin_fragment();

// A kernel config: "CONFIG_X" -> value as written ("y", "m", "\"str\"", "64").
// `# CONFIG_X is not set` is recorded as "n"; options whose dependencies are off are absent.
using Config = std::map<std::string, std::string, std::less<>>;
Config parse_config(std::string_view text);

// Reads a config file whether gzip-compressed (/proc/config.gz) or plain (/boot/config-*):
// zlib reads uncompressed files transparently. The error carries errno (ENOENT when absent).
Result<std::string> read_config_file(const std::string& path);
// Where the running kernel's config is looked for, in order, for a kernel release (uname -r).
std::vector<std::string> config_paths(std::string_view release);

struct Verdict {
    Status status = Status::missing;
    std::string detail;  // empty when the option is exactly as asked
};
// y/m asked: either y or m is present (a module counts); other values must match exactly.
// An absent option is MISSING when required, UNAVAILABLE when optional.
Verdict judge(const Option& o, const Config& c);

}  // namespace bc::kconfig
