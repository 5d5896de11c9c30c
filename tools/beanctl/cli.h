// beanctl's command table and the context every command gets.
#pragma once

#include <string>
#include <vector>

#include "cgroup/layout.h"
#include "config/settings.h"
#include "core/error.h"

namespace beanctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;  // runtime error
inline constexpr int kExitUsage = 2;  // bad command line or argument

// A usage error: the dispatcher prints it with a hint to --help and exits 2.
struct UsageError {
    std::string msg;
};

struct Context {
    bc::SettingsOverrides overrides;
    // Loaded on first use so that --help works without a readable config.
    const bc::Settings& settings();
    const bc::cgroup::Layout& layout();

private:
    std::optional<bc::Settings> settings_;
    std::optional<bc::cgroup::Layout> layout_;
};

struct Command {
    const char* name;
    const char* args;      // synopsis after the name
    const char* summary;
    int (*run)(Context&, const std::string& name, std::vector<std::string> args);
};

const std::vector<Command>& commands();

// Turns a failed Result into exit code 1 after printing the error.
int report(const bc::Error& e);

}  // namespace beanctl
