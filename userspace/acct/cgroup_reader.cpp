#include "acct/cgroup_reader.h"

#include <charconv>
#include <fmt/format.h>
#include <optional>
#include <sstream>

#include "cgroup/files.h"
#include "core/fs.h"

namespace bc::acct {

namespace {
// A number, or "max" (cgroup2's unlimited).
std::optional<std::uint64_t> read_u64(const std::string& path) {
    std::string text;
    auto r = fs::read_file_if_exists(path, text);
    if (!r || !*r) return std::nullopt;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    if (text == "max") return BC_UNLIMITED;
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
    return v;
}

// One "key value" line of a flat-keyed file (memory.events, pids.events).
std::optional<std::uint64_t> read_key(const std::string& path, std::string_view key) {
    std::string text;
    auto r = fs::read_file_if_exists(path, text);
    if (!r || !*r) return std::nullopt;
    std::istringstream in(text);
    std::string k;
    std::uint64_t v;
    while (in >> k >> v)
        if (k == key) return v;
    return std::nullopt;
}

std::uint64_t to_pages(std::uint64_t bytes, std::uint64_t page) {
    // v1 reports "no limit" as a huge page-aligned number, not LONG_MAX.
    if (bytes >= BC_UNLIMITED || bytes >= (BC_UNLIMITED / page) * page) return BC_UNLIMITED;
    return bytes / page;
}
}  // namespace

Result<std::vector<Reading>> read_cgroup_counters(const cgroup::CtGroup& cg, std::uint64_t page) {
    std::vector<Reading> out;
    namespace f = cgroup::file;
    const std::string mem = cg.node_of("memory");
    const bool mem_v1 = mem != cg.v2_path();
    if (mem_v1) {
        auto held = read_u64(fs::join(mem, f::v1_memory_usage));
        auto peak = read_u64(fs::join(mem, f::v1_memory_max_usage));
        auto lim = read_u64(fs::join(mem, f::v1_memory_limit));
        auto fc = read_u64(fs::join(mem, f::v1_memory_failcnt));
        if (held && peak && lim && fc) {
            std::uint64_t l = to_pages(*lim, page);
            out.push_back({BC_RES_physpages, {*held / page, *peak / page, l, l, *fc},
                           "memory.usage_in_bytes, max_usage_in_bytes, limit_in_bytes, failcnt (v1)"});
        }
        auto kheld = read_u64(fs::join(mem, "memory.kmem.usage_in_bytes"));
        auto kpeak = read_u64(fs::join(mem, "memory.kmem.max_usage_in_bytes"));
        auto klim = read_u64(fs::join(mem, "memory.kmem.limit_in_bytes"));
        auto kfc = read_u64(fs::join(mem, "memory.kmem.failcnt"));
        if (kheld && kpeak && klim && kfc) {
            std::uint64_t l = to_pages(*klim, page) == BC_UNLIMITED ? BC_UNLIMITED : *klim;
            out.push_back({BC_RES_kmemsize, {*kheld, *kpeak, l, l, *kfc},
                           "memory.kmem.usage_in_bytes, max_usage_in_bytes, limit_in_bytes, failcnt (v1)"});
        }
    } else {
        auto held = read_u64(fs::join(mem, f::memory_current));
        auto peak = read_u64(fs::join(mem, f::memory_peak));
        auto lim = read_u64(fs::join(mem, f::memory_max));
        auto fc = read_key(fs::join(mem, f::memory_events), "max");
        if (held && peak && lim && fc) {
            std::uint64_t l = to_pages(*lim, page);
            out.push_back({BC_RES_physpages, {*held / page, *peak / page, l, l, *fc},
                           "memory.current, memory.peak, memory.max, memory.events:max"});
        }
    }
    const std::string pids = cg.node_of("pids");
    auto held = read_u64(fs::join(pids, f::pids_current));
    auto peak = read_u64(fs::join(pids, "pids.peak"));
    auto lim = read_u64(fs::join(pids, f::pids_max));
    auto fc = read_key(fs::join(pids, f::pids_events), "max");
    if (held && peak && lim && fc)
        out.push_back({BC_RES_numproc, {*held, *peak, *lim, *lim, *fc}, "pids.current, pids.peak, pids.max, pids.events:max"});
    return out;
}

}  // namespace bc::acct
