// bctar: beanctl's helper for template archives (tar), the one program of beancounter
// that links libarchive (and the dozen compression and XML libraries that come with it), so
// that beanctl itself is a static executable that starts fast. Run by beanctl only:
//   bctar pack DIR OUT       packs DIR's contents into OUT (a gzip'd tar), atomically
//   bctar unpack ARCHIVE DIR unpacks ARCHIVE into the existing empty DIR
// Exit status 0, or 1 with the reason on stderr (one line), 2 for a usage error.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cstdio>
#include <initializer_list>
#include <memory>
#include <string_view>

#include "core/fs.h"

namespace bc::container {
namespace {
struct ReadDeleter {
    void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteDeleter {
    void operator()(archive* a) const { archive_write_free(a); }
};
using ReadPtr = std::unique_ptr<archive, ReadDeleter>;
using WritePtr = std::unique_ptr<archive, WriteDeleter>;

Error arch_error(archive* a, std::string_view what) {
    const char* s = archive_error_string(a);
    return Error{archive_errno(a), fmt::format("{}: {}", what, s ? s : "libarchive error")};
}

Result<> copy_data(archive* in, archive* out, std::string_view what) {
    const void* buf;
    size_t size;
    la_int64_t offset;
    for (;;) {
        int r = archive_read_data_block(in, &buf, &size, &offset);
        if (r == ARCHIVE_EOF) return {};
        if (r < ARCHIVE_OK) return fail(arch_error(in, what));
        if (archive_write_data_block(out, buf, size, offset) < ARCHIVE_OK) return fail(arch_error(out, what));
    }
}

Result<> pack_tar_gz(const std::string& dir, const std::string& out_path) {
    std::string tmp = fmt::format("{}.tmp.{}", out_path, ::getpid());
    WritePtr w(archive_write_new());
    archive_write_add_filter_gzip(w.get());
    archive_write_set_format_pax_restricted(w.get());
    if (archive_write_open_filename(w.get(), tmp.c_str()) != ARCHIVE_OK) return fail(arch_error(w.get(), tmp));

    // Paths in the archive are relative ("./bin/sh"): read from inside dir.
    Fd cwd(::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    auto restore = [&] { (void)!::fchdir(cwd.get()); };
    if (::chdir(dir.c_str()) < 0) return fail_sys(fmt::format("chdir {}", dir));
    ReadPtr disk(archive_read_disk_new());
    archive_read_disk_set_behavior(disk.get(), ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
    archive_read_disk_set_standard_lookup(disk.get());
    if (archive_read_disk_open(disk.get(), ".") != ARCHIVE_OK) {
        restore();
        return fail(arch_error(disk.get(), dir));
    }
    Result<> result;
    for (;;) {
        archive_entry* e = archive_entry_new();
        int r = archive_read_next_header2(disk.get(), e);
        if (r == ARCHIVE_EOF) {
            archive_entry_free(e);
            break;
        }
        if (r < ARCHIVE_WARN) {
            result = fail(arch_error(disk.get(), dir));
            archive_entry_free(e);
            break;
        }
        archive_read_disk_descend(disk.get());
        if (archive_write_header(w.get(), e) < ARCHIVE_WARN) {
            result = fail(arch_error(w.get(), tmp));
            archive_entry_free(e);
            break;
        }
        if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0) {
            Fd f(::open(archive_entry_sourcepath(e), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
            if (!f) {
                result = fail_sys(fmt::format("reading {}/{}", dir, archive_entry_sourcepath(e)));
                archive_entry_free(e);
                break;
            }
            char buf[65536];
            ssize_t n;
            while ((n = ::read(f.get(), buf, sizeof buf)) > 0)
                if (archive_write_data(w.get(), buf, static_cast<size_t>(n)) < 0) break;
            // A short file in the archive is a broken template: say so, and keep no archive.
            if (n < 0) result = fail_sys(fmt::format("reading {}/{}", dir, archive_entry_sourcepath(e)));
            else if (n > 0) result = fail(arch_error(w.get(), tmp));
            if (!result) {
                archive_entry_free(e);
                break;
            }
        }
        archive_entry_free(e);
    }
    restore();
    if (result && archive_write_close(w.get()) != ARCHIVE_OK) result = fail(arch_error(w.get(), tmp));
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
    ReadPtr in(archive_read_new());
    // A template is a tar, compressed or not, and nothing else: libarchive's other readers
    // would take a text file for an mtree list (whose entries can name host files as their
    // contents) or an unknown file for a raw one.
    archive_read_support_format_tar(in.get());
    archive_read_support_format_gnutar(in.get());
    for (auto add : {archive_read_support_filter_gzip, archive_read_support_filter_xz, archive_read_support_filter_bzip2,
                     archive_read_support_filter_zstd})
        add(in.get());
    if (archive_read_open_filename(in.get(), archive_path.c_str(), 1 << 16) != ARCHIVE_OK)
        return fail(arch_error(in.get(), archive_path));
    WritePtr out(archive_write_disk_new());
    archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_TIME |
                                                  ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_FFLAGS | ARCHIVE_EXTRACT_ACL |
                                                  ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                  ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_UNLINK);
    archive_write_disk_set_standard_lookup(out.get());
    // Entries stay relative ("./bin/sh") and are written from inside dest_dir, so the
    // SECURE_* checks above apply to them as stored.
    Fd cwd(::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (::chdir(dest_dir.c_str()) < 0) return fail_sys(fmt::format("chdir {}", dest_dir));
    auto extract = [&]() -> Result<> {
        for (size_t n = 0;; ++n) {
            archive_entry* e;
            int r = archive_read_next_header(in.get(), &e);
            if (r == ARCHIVE_EOF && n == 0) return fail(fmt::format("{}: no files in it (not a template archive?)", archive_path));
            if (r == ARCHIVE_EOF) return {};
            if (r < ARCHIVE_WARN) return fail(arch_error(in.get(), archive_path));
            std::string p = fs::join(dest_dir, archive_entry_pathname(e));
            if (archive_write_header(out.get(), e) < ARCHIVE_WARN) return fail(arch_error(out.get(), p));
            if (archive_entry_size(e) > 0) BC_TRYV(copy_data(in.get(), out.get(), p));
            if (archive_write_finish_entry(out.get()) < ARCHIVE_WARN) return fail(arch_error(out.get(), p));
        }
    };
    auto r = extract();
    (void)!::fchdir(cwd.get());
    if (!r) return r;
    if (archive_write_close(out.get()) != ARCHIVE_OK) return fail(arch_error(out.get(), dest_dir));
    return {};
}

}  // namespace
}  // namespace bc::container

int main(int argc, char** argv) {
    using namespace bc::container;
    const std::string_view cmd = argc == 4 ? argv[1] : "";
    if (cmd != "pack" && cmd != "unpack") {
        std::fprintf(stderr, "usage: bctar pack DIR OUT | bctar unpack ARCHIVE DIR (run by beanctl)\n");
        return 2;
    }
    auto r = cmd == "pack" ? pack_tar_gz(argv[2], argv[3]) : unpack(argv[2], argv[3]);
    if (!r) {
        std::fprintf(stderr, "%s\n", r.error().msg.c_str());
        return 1;
    }
    return 0;
}
