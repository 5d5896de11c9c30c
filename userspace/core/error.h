// One error type for the whole library: an errno (0 when the cause is not a system call) and a
// message that already carries its context ("reading /etc/beancounter/ct/101.conf: ...").
#pragma once

#include <cerrno>
#include <cstring>
#include <expected>
#include <fmt/format.h>
#include <string>
#include <utility>

namespace bc {

struct Error {
    int err = 0;          // errno value, 0 if not from a system call
    std::string msg;      // full human-readable message, including strerror when err != 0

    // "context: strerror(err)"
    static Error sys(int e, std::string_view context) {
        return Error{e, fmt::format("{}: {}", context, std::strerror(e))};
    }
    static Error msg_only(std::string m) { return Error{0, std::move(m)}; }

    // Prefix more context: "outer: inner".
    Error wrap(std::string_view outer) const& { return Error{err, fmt::format("{}: {}", outer, msg)}; }
};

template <class T = void>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail_sys(std::string_view context) { return std::unexpected(Error::sys(errno, context)); }
inline std::unexpected<Error> fail_sys(int e, std::string_view context) { return std::unexpected(Error::sys(e, context)); }
inline std::unexpected<Error> fail(std::string m) { return std::unexpected(Error::msg_only(std::move(m))); }
inline std::unexpected<Error> fail(Error e) { return std::unexpected(std::move(e)); }

}  // namespace bc

// Propagate an error from an expression returning Result<...>; yields the value otherwise.
#define BC_TRY(expr)                                              \
    ({                                                            \
        auto bc_try_r_ = (expr);                                  \
        if (!bc_try_r_) return std::unexpected(std::move(bc_try_r_.error())); \
        std::move(*bc_try_r_);                                    \
    })
// For Result<void>.
#define BC_TRYV(expr)                                             \
    do {                                                          \
        auto bc_try_r_ = (expr);                                  \
        if (!bc_try_r_) return std::unexpected(std::move(bc_try_r_.error())); \
    } while (0)
