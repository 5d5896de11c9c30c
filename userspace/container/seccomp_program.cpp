#include <linux/filter.h>

#include <iterator>

#include "container/hardening.h"

namespace bc::container {

namespace {
constexpr sock_filter kProgram[] = {
#include "seccomp_program.inc"
};
}  // namespace

std::span<const sock_filter> seccomp_program() { return {std::begin(kProgram), std::end(kProgram)}; }

}  // namespace bc::container
