#include "container/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <memory>

#include "core/fs.h"

namespace bc::container {

namespace {
// libarchive and the dozen compression and XML libraries it links are loaded only when a
// template is packed or unpacked: every other beanctl command starts without them.
#define BC_ARCHIVE_FUNCS(X) \
    X(archive_entry_filetype) \
    X(archive_entry_free) \
    X(archive_entry_new) \
    X(archive_entry_pathname) \
    X(archive_entry_size) \
    X(archive_entry_sourcepath) \
    X(archive_errno) \
    X(archive_error_string) \
    X(archive_read_data_block) \
    X(archive_read_disk_descend) \
    X(archive_read_disk_new) \
    X(archive_read_disk_open) \
    X(archive_read_disk_set_behavior) \
    X(archive_read_disk_set_standard_lookup) \
    X(archive_read_free) \
    X(archive_read_new) \
    X(archive_read_next_header) \
    X(archive_read_next_header2) \
    X(archive_read_open_filename) \
    X(archive_read_support_filter_all) \
    X(archive_read_support_format_all) \
    X(archive_write_add_filter_gzip) \
    X(archive_write_close) \
    X(archive_write_data) \
    X(archive_write_data_block) \
    X(archive_write_disk_new) \
    X(archive_write_disk_set_options) \
    X(archive_write_disk_set_standard_lookup) \
    X(archive_write_finish_entry) \
    X(archive_write_free) \
    X(archive_write_header) \
    X(archive_write_new) \
    X(archive_write_open_filename) \
    X(archive_write_set_format_pax_restricted)

struct LibArchive {
#define BC_X(f) decltype(&::f) f = nullptr;
    BC_ARCHIVE_FUNCS(BC_X)
#undef BC_X
};

const LibArchive* g_lib = nullptr;

Result<> load_libarchive() {
    if (g_lib) return {};
    void* h = ::dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
    if (!h) return fail(fmt::format("cannot load libarchive (apt-get install libarchive13): {}", ::dlerror()));
    static LibArchive lib;
#define BC_X(f)                                                                              \
    lib.f = reinterpret_cast<decltype(&::f)>(::dlsym(h, #f));                                \
    if (!lib.f) return fail(fmt::format("libarchive.so.13 has no symbol {}", #f));
    BC_ARCHIVE_FUNCS(BC_X)
#undef BC_X
    g_lib = &lib;
    return {};
}

// Only valid after load_libarchive() succeeded.
const LibArchive& lib() { return *g_lib; }
}  // namespace

namespace {
struct ReadDeleter {
    void operator()(archive* a) const { lib().archive_read_free(a); }
};
struct WriteDeleter {
    void operator()(archive* a) const { lib().archive_write_free(a); }
};
using ReadPtr = std::unique_ptr<archive, ReadDeleter>;
using WritePtr = std::unique_ptr<archive, WriteDeleter>;

Error arch_error(archive* a, std::string_view what) {
    const char* s = lib().archive_error_string(a);
    return Error{lib().archive_errno(a), fmt::format("{}: {}", what, s ? s : "libarchive error")};
}

Result<> copy_data(archive* in, archive* out, std::string_view what) {
    const void* buf;
    size_t size;
    la_int64_t offset;
    for (;;) {
        int r = lib().archive_read_data_block(in, &buf, &size, &offset);
        if (r == ARCHIVE_EOF) return {};
        if (r < ARCHIVE_OK) return fail(arch_error(in, what));
        if (lib().archive_write_data_block(out, buf, size, offset) < ARCHIVE_OK) return fail(arch_error(out, what));
    }
}
}  // namespace

Result<> pack_tar_gz(const std::string& dir, const std::string& out_path) {
    BC_TRYV(load_libarchive());
    std::string tmp = fmt::format("{}.tmp.{}", out_path, ::getpid());
    WritePtr w(lib().archive_write_new());
    lib().archive_write_add_filter_gzip(w.get());
    lib().archive_write_set_format_pax_restricted(w.get());
    if (lib().archive_write_open_filename(w.get(), tmp.c_str()) != ARCHIVE_OK) return fail(arch_error(w.get(), tmp));

    // Paths in the archive are relative ("./bin/sh"): read from inside dir.
    Fd cwd(::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    auto restore = [&] { (void)!::fchdir(cwd.get()); };
    if (::chdir(dir.c_str()) < 0) return fail_sys(fmt::format("chdir {}", dir));
    ReadPtr disk(lib().archive_read_disk_new());
    lib().archive_read_disk_set_behavior(disk.get(), ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
    lib().archive_read_disk_set_standard_lookup(disk.get());
    if (lib().archive_read_disk_open(disk.get(), ".") != ARCHIVE_OK) {
        restore();
        return fail(arch_error(disk.get(), dir));
    }
    Result<> result;
    for (;;) {
        archive_entry* e = lib().archive_entry_new();
        int r = lib().archive_read_next_header2(disk.get(), e);
        if (r == ARCHIVE_EOF) {
            lib().archive_entry_free(e);
            break;
        }
        if (r < ARCHIVE_WARN) {
            result = fail(arch_error(disk.get(), dir));
            lib().archive_entry_free(e);
            break;
        }
        lib().archive_read_disk_descend(disk.get());
        if (lib().archive_write_header(w.get(), e) < ARCHIVE_WARN) {
            result = fail(arch_error(w.get(), tmp));
            lib().archive_entry_free(e);
            break;
        }
        if (lib().archive_entry_filetype(e) == AE_IFREG && lib().archive_entry_size(e) > 0) {
            Fd f(::open(lib().archive_entry_sourcepath(e), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
            if (!f) {
                result = fail_sys(fmt::format("reading {}/{}", dir, lib().archive_entry_sourcepath(e)));
                lib().archive_entry_free(e);
                break;
            }
            char buf[65536];
            ssize_t n;
            while ((n = ::read(f.get(), buf, sizeof buf)) > 0)
                if (lib().archive_write_data(w.get(), buf, static_cast<size_t>(n)) < 0) break;
        }
        lib().archive_entry_free(e);
    }
    restore();
    if (result && lib().archive_write_close(w.get()) != ARCHIVE_OK) result = fail(arch_error(w.get(), tmp));
    if (!result) {
        ::unlink(tmp.c_str());
        return result;
    }
    if (::rename(tmp.c_str(), out_path.c_str()) < 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        return fail_sys(e, fmt::format("renaming {} to {}", tmp, out_path));
    }
    return {};
}

Result<> unpack(const std::string& archive_path, const std::string& dest_dir) {
    BC_TRYV(load_libarchive());
    ReadPtr in(lib().archive_read_new());
    lib().archive_read_support_filter_all(in.get());
    lib().archive_read_support_format_all(in.get());
    if (lib().archive_read_open_filename(in.get(), archive_path.c_str(), 1 << 16) != ARCHIVE_OK)
        return fail(arch_error(in.get(), archive_path));
    WritePtr out(lib().archive_write_disk_new());
    lib().archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_TIME |
                                                  ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_FFLAGS | ARCHIVE_EXTRACT_ACL |
                                                  ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                  ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_UNLINK);
    lib().archive_write_disk_set_standard_lookup(out.get());
    // Entries stay relative ("./bin/sh") and are written from inside dest_dir, so the
    // SECURE_* checks above apply to them as stored.
    Fd cwd(::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (::chdir(dest_dir.c_str()) < 0) return fail_sys(fmt::format("chdir {}", dest_dir));
    auto extract = [&]() -> Result<> {
        for (;;) {
            archive_entry* e;
            int r = lib().archive_read_next_header(in.get(), &e);
            if (r == ARCHIVE_EOF) return {};
            if (r < ARCHIVE_WARN) return fail(arch_error(in.get(), archive_path));
            std::string p = fs::join(dest_dir, lib().archive_entry_pathname(e));
            if (lib().archive_write_header(out.get(), e) < ARCHIVE_WARN) return fail(arch_error(out.get(), p));
            if (lib().archive_entry_size(e) > 0) BC_TRYV(copy_data(in.get(), out.get(), p));
            if (lib().archive_write_finish_entry(out.get()) < ARCHIVE_WARN) return fail(arch_error(out.get(), p));
        }
    };
    auto r = extract();
    (void)!::fchdir(cwd.get());
    if (!r) return r;
    if (lib().archive_write_close(out.get()) != ARCHIVE_OK) return fail(arch_error(out.get(), dest_dir));
    return {};
}

}  // namespace bc::container
