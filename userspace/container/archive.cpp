#include "container/archive.h"

#include <fmt/format.h>

#include "core/proc.h"

namespace bc::container {

namespace {
// Runs bctar with these arguments; its one line of stderr is the reason of a failure.
Result<> run_bctar(std::string_view what, const std::string& a, const std::string& b) {
    const std::string helper = BC_TRY(proc::find_helper("bctar"));
    auto r = BC_TRY(proc::run({helper, std::string(what), a, b}, {.capture = proc::Capture::err}));
    std::string& err = r.output;
    while (!err.empty() && err.back() == '\n') err.pop_back();
    if (r.code == 0) return {};
    return fail(err.empty() ? fmt::format("{} {} failed (exit status {})", helper, what, r.code) : err);
}
}  // namespace

Result<> pack_tar_gz(const std::string& dir, const std::string& out_path) { return run_bctar("pack", dir, out_path); }

Result<> unpack(const std::string& archive_path, const std::string& dest_dir) {
    return run_bctar("unpack", archive_path, dest_dir);
}

}  // namespace bc::container
