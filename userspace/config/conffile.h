// OpenVZ-style configuration files: KEY="value" lines, '#' comments, blank lines.
// Parsing reports "file:line: reason"; writing keeps comments and order and is atomic.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace bc {

class ConfFile {
public:
    // Parses text; `name` is used in error messages (usually the path).
    static Result<ConfFile> parse(std::string_view text, std::string name);
    // Reads and parses a file; a missing file is an error (ENOENT kept in Error::err).
    static Result<ConfFile> load(const std::string& path);

    std::optional<std::string> get(std::string_view key) const;
    // Line number (1-based) where key was set last, 0 if absent. For error messages.
    int line_of(std::string_view key) const;
    // Sets a key: replaces the last assignment in place, or appends a line.
    void set(std::string_view key, std::string_view value);
    const std::string& name() const { return name_; }

    // The file text: original comments and order, values double-quoted.
    std::string serialize() const;
    Result<> save(const std::string& path, unsigned mode = 0644) const;

    static bool valid_key(std::string_view key);
    // A decimal number in [lo, hi], the whole value and nothing else ("12Q", "1e3" fail).
    static std::optional<unsigned> parse_uint(std::string_view value, unsigned lo, unsigned hi);
    // Values are written double-quoted; these characters cannot appear in them.
    static bool valid_value(std::string_view value);

private:
    struct Line {
        std::string raw;      // verbatim text for comments and blank lines
        std::string key;      // empty for comments and blank lines
        std::string value;
        int lineno = 0;
    };
    std::vector<Line> lines_;
    std::string name_;
};

}  // namespace bc
