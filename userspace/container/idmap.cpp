#include "container/idmap.h"

#include <fcntl.h>
#include <ftw.h>
#include <linux/capability.h>
#include <linux/xattr.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fmt/format.h>
#include <set>

#include "core/fs.h"
#include "core/log.h"

namespace bc::container {

std::optional<IdRange> pick_free_range(const IdRange& pool, std::uint32_t size, const std::vector<IdRange>& taken) {
    if (size == 0) return std::nullopt;
    std::uint64_t b = (std::uint64_t{pool.base} + size - 1) / size * size;
    while (b + size <= pool.end()) {
        IdRange cand{static_cast<std::uint32_t>(b), size};
        auto clash = std::find_if(taken.begin(), taken.end(), [&](const IdRange& t) { return t.size && cand.overlaps(t); });
        if (clash == taken.end()) return cand;
        // Skip past the clash, to the next aligned start.
        b = (clash->end() + size - 1) / size * size;
    }
    return std::nullopt;
}

std::vector<IdRange> parse_subid(std::string_view text) {
    std::vector<IdRange> out;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        size_t c1 = line.find(':');
        size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
        if (c2 == std::string_view::npos) continue;
        auto num = [](std::string_view v) -> std::optional<std::uint64_t> {
            std::uint64_t n = 0;
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            if (ec != std::errc() || p != v.data() + v.size() || v.empty()) return std::nullopt;
            return n;
        };
        auto start = num(line.substr(c1 + 1, c2 - c1 - 1)), count = num(line.substr(c2 + 1));
        if (!start || !count || *start > UINT32_MAX || *count == 0) continue;
        out.push_back({static_cast<std::uint32_t>(*start),
                       static_cast<std::uint32_t>(std::min<std::uint64_t>(*count, UINT32_MAX - *start))});
    }
    return out;
}

Result<std::vector<IdRange>> taken_ranges(const Settings& s, Ctid self) {
    std::vector<IdRange> taken;
    for (const char* f : {"/etc/subuid", "/etc/subgid"}) {
        std::string text;
        if (BC_TRY(fs::read_file_if_exists(f, text)))
            for (auto r : parse_subid(text)) taken.push_back(r);
    }
    if (!fs::is_dir(s.ct_conf_dir())) return taken;
    for (const auto& f : BC_TRY(fs::list_dir(s.ct_conf_dir()))) {
        if (!f.ends_with(".conf")) continue;
        auto id = parse_ctid(f.substr(0, f.size() - 5));
        if (!id || *id == self) continue;
        // A config that does not parse still holds its range, if the range itself is readable.
        auto file = ConfFile::load(s.ct_conf_path(*id));
        if (!file) continue;
        auto base = file->get("USERNS_BASE"), size = file->get("USERNS_SIZE");
        if (!base) continue;
        auto b = ConfFile::parse_uint(*base, 0, UINT32_MAX);
        auto n = ConfFile::parse_uint(size.value_or("65536"), 1, UINT32_MAX);
        if (b && n) taken.push_back({*b, *n});
    }
    return taken;
}

Result<AllocationLock> AllocationLock::acquire(const Settings& s) {
    BC_TRYV(fs::mkdir_p(s.lock_dir(), 0700));
    std::string path = s.lock_dir() + "/userns.lock";
    Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) return fail_sys(fmt::format("opening lock {}", path));
    // Held only for a directory scan and a config write: wait for it.
    while (::flock(fd.get(), LOCK_EX) < 0)
        if (errno != EINTR) return fail_sys(fmt::format("locking {}", path));
    return AllocationLock(fd.release());
}

Result<IdRange> allocate_range(const Settings& s, Ctid self) {
    auto taken = BC_TRY(taken_ranges(s, self));
    auto r = pick_free_range(s.userns_pool, kCtIdRangeSize, taken);
    if (!r)
        return fail(fmt::format("no free range of {} user ids is left in USERNS_POOL {}:{} ({} ranges taken)", kCtIdRangeSize,
                                s.userns_pool.base, s.userns_pool.size, taken.size()));
    return *r;
}

Result<> check_range(const Settings& s, const CtConfig& ct) {
    IdRange mine{ct.userns_base, ct.userns_size};
    for (const auto& other : BC_TRY(fs::list_dir(s.ct_conf_dir()))) {
        if (!other.ends_with(".conf")) continue;
        auto id = parse_ctid(other.substr(0, other.size() - 5));
        if (!id || *id == ct.id) continue;
        auto c = CtConfig::load(*id, s);
        if (!c || !c->userns) continue;
        if (mine.overlaps({c->userns_base, c->userns_size}))
            return fail(fmt::format("container {}: its user id range {}:{} overlaps that of container {} ({}:{}); "
                                    "ranges must never be shared",
                                    ct.id, mine.base, mine.size, *id, c->userns_base, c->userns_size));
    }
    return {};
}

namespace {

struct ShiftState {
    IdRange r;
    std::set<std::pair<dev_t, ino_t>> seen;  // hard links: shift each inode once
    std::string error;
};
ShiftState* g_shift = nullptr;  // nftw has no user pointer

// A v2 (or v1) file capability becomes a v3 one owned by the container's root.
bool shift_fscaps(const char* path, const std::vector<char>& xattr, std::uint32_t rootid) {
    if (xattr.size() < sizeof(__le32)) return false;
    std::uint32_t magic;
    std::memcpy(&magic, xattr.data(), sizeof magic);
    vfs_ns_cap_data v3{};
    v3.magic_etc = VFS_CAP_REVISION_3 | (magic & VFS_CAP_FLAGS_EFFECTIVE);
    switch (magic & VFS_CAP_REVISION_MASK) {
        case VFS_CAP_REVISION_1:
            if (xattr.size() != XATTR_CAPS_SZ_1) return false;
            std::memcpy(v3.data, xattr.data() + sizeof magic, XATTR_CAPS_SZ_1 - sizeof magic);
            break;
        case VFS_CAP_REVISION_2:
        case VFS_CAP_REVISION_3:  // already namespaced: re-rooted to this range
            if (xattr.size() < XATTR_CAPS_SZ_2) return false;
            std::memcpy(v3.data, xattr.data() + sizeof magic, sizeof v3.data);
            break;
        default:
            return false;
    }
    v3.rootid = rootid;
    return ::lsetxattr(path, XATTR_NAME_CAPS, &v3, sizeof v3, 0) == 0;
}

int shift_one(const char* path, const struct stat* st, int type, struct FTW*) {
    ShiftState& s = *g_shift;
    if (type == FTW_NS || type == FTW_DNR) {
        s.error = fmt::format("{}: cannot be read", path);
        return 1;
    }
    if (st->st_nlink > 1 && !S_ISDIR(st->st_mode) && !s.seen.insert({st->st_dev, st->st_ino}).second) return 0;
    if (st->st_uid >= s.r.size || st->st_gid >= s.r.size) {
        s.error = fmt::format("{} is owned by {}:{}, outside the {} ids a container maps", path, st->st_uid, st->st_gid, s.r.size);
        return 1;
    }
    std::vector<char> caps;
    if (S_ISREG(st->st_mode)) {
        ssize_t n = ::lgetxattr(path, XATTR_NAME_CAPS, nullptr, 0);
        if (n > 0) {
            caps.resize(static_cast<size_t>(n));
            n = ::lgetxattr(path, XATTR_NAME_CAPS, caps.data(), caps.size());
            caps.resize(n > 0 ? static_cast<size_t>(n) : 0);
        }
    }
    if (::lchown(path, s.r.base + st->st_uid, s.r.base + st->st_gid) < 0) {
        s.error = fmt::format("chown {}: {}", path, std::strerror(errno));
        return 1;
    }
    // chown clears set-id bits and file capabilities: put them back, shifted.
    if (S_ISREG(st->st_mode) && (st->st_mode & (S_ISUID | S_ISGID)) && ::chmod(path, st->st_mode & 07777) < 0) {
        s.error = fmt::format("chmod {}: {}", path, std::strerror(errno));
        return 1;
    }
    if (!caps.empty() && !shift_fscaps(path, caps, s.r.base)) {
        s.error = fmt::format("{}: its file capabilities could not be shifted: {}", path, std::strerror(errno));
        return 1;
    }
    return 0;
}

}  // namespace

Result<> shift_tree(const std::string& root, const IdRange& r) {
    ShiftState st{r, {}, {}};
    g_shift = &st;
    // Not FTW_MOUNT: on overlayfs, files report the st_dev of the layer below, and
    // FTW_MOUNT would skip them all (a fresh private area has no mount points anyway).
    int rc = ::nftw(root.c_str(), shift_one, 64, FTW_PHYS);
    g_shift = nullptr;
    if (rc != 0) return fail(st.error.empty() ? fmt::format("walking {}: {}", root, std::strerror(errno)) : st.error);
    return {};
}

}  // namespace bc::container
