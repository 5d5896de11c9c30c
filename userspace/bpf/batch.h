// Reading a whole BPF hash map in batches (BPF_MAP_LOOKUP_BATCH).
#pragma once

#include <bpf/bpf.h>

#include <cerrno>
#include <fmt/format.h>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace bc::bpf {

// Every entry of a hash map: one system call per `batch` entries, where walking the map key
// by key (BPF_MAP_GET_NEXT_KEY) costs one per entry, and a start or a stop would pay for
// every container's entries. The kernel's batch token for a hash map is a bucket index; a
// bucket holding more keys than a batch fails with ENOSPC, and the read starts over with room
// for twice as many. Entries added or removed meanwhile may or may not be seen, as with any
// walk of a live map.
template <class K, class V>
Result<std::vector<std::pair<K, V>>> dump_hash(int fd, std::string_view what, size_t batch = 256) {
    std::vector<K> keys(batch);
    std::vector<V> values(batch);
    std::vector<std::pair<K, V>> out;
    __u32 token = 0;
    __u32* from = nullptr;  // the first batch
    for (;;) {
        auto n = static_cast<__u32>(keys.size());
        LIBBPF_OPTS(bpf_map_batch_opts, o);
        const int r = ::bpf_map_lookup_batch(fd, from, &token, keys.data(), values.data(), &n, &o);
        if (r < 0 && errno == ENOSPC) {
            keys.resize(keys.size() * 2);
            values.resize(keys.size());
            out.clear();
            from = nullptr;
            continue;
        }
        if (r < 0 && errno != ENOENT) return fail_sys(fmt::format("reading {}", what));
        for (__u32 i = 0; i < n; i++) out.emplace_back(keys[i], values[i]);
        if (r < 0) return out;  // ENOENT: that was the last batch
        from = &token;
    }
}

}  // namespace bc::bpf
