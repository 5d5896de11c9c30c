#!/bin/bash
# run-all.sh: installs what the tests need, builds, and runs every test tier:
#   1. unit tests (no root),
#   2. root integration tests on this machine's kernel and cgroup layout,
#   3. the integration tests again with beanctl in a plain-directory chroot,
#   4. the second-kernel lane: Debian 12's stock 6.1 kernel with pure cgroup2 under qemu;
#   5. the same with Debian 12's 6.12 kernel (tcx, the css_task iterator, the memory
#      statistics' compact layout of 6.10+, all on pure cgroup2).
# Usage: tests/run-all.sh [--no-lane] [--build-dir DIR]
# Environment: BC_TEST_DEBIAN=0 skips the debian-12 template test (debootstrap from Debian's
# archive and a systemd boot: about 3-4 minutes); it runs by default.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$HERE/build
LANE=1
while (($#)); do
  case $1 in
    --no-lane) LANE=0; shift ;;
    --build-dir) BUILD=$2; shift 2 ;;
    -h|--help) sed -n '2,11s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "run-all: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || { echo "run-all: run as root (packages, namespaces, cgroups, BPF)" >&2; exit 1; }

"$HERE/tools/install-deps.sh" test
cmake -S "$HERE" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)"

cd "$BUILD"
export BC_TEST_DEBIAN=${BC_TEST_DEBIAN:-1}
[[ $BC_TEST_DEBIAN == 0 ]] && unset BC_TEST_DEBIAN
echo "== unit and integration tests ($(uname -r), host cgroup layout) =="
ctest --output-on-failure --timeout 600

echo "== integration tests with beanctl chrooted =="
"$HERE/tests/lane/chroot-lane.sh" --build-dir "$BUILD"

if ((LANE)); then
  echo "== second kernel: Debian 12 stock kernel (6.1), pure cgroup2, under qemu =="
  "$HERE/tests/lane/qemu-lane.sh" --build-dir "$BUILD"
  echo "== third kernel: Debian 12's 6.12 kernel, pure cgroup2, under qemu =="
  "$HERE/tests/lane/qemu-lane.sh" --kernel linux-image-6.12-amd64 --build-dir "$BUILD"
fi
