#!/bin/bash
# demo.sh: the main job on the built-in default. Installs the packages, builds, creates
# container 101 from the built-in busybox template (or reuses it if it exists), starts it,
# runs a small workload inside and prints the container's status and beancounters.
# Needs root. Leaves container 101 running; 'beanctl stop 101' and 'beanctl destroy 101'
# remove it, and 'beanctl unload' the accounting programs and the cgroup prefix.
set -euo pipefail
case ${1:-} in
  -h|--help) sed -n '2,7s/^# \{0,1\}//p' "$0"; exit 0 ;;
  "") ;;
  *) echo "demo: no arguments expected (see --help)" >&2; exit 2 ;;
esac
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$HERE/build}
[[ $(id -u) -eq 0 ]] || { echo "demo: run as root" >&2; exit 1; }

"$HERE/tools/install-deps.sh" build runtime
cmake -S "$HERE" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)" >/dev/null
B=$BUILD/bin/beanctl
CT=101

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step "beanctl create $CT (built-in busybox template)"
if "$B" status $CT | grep -q ' exist '; then
  echo "container $CT exists already; reusing it"
else
  "$B" create $CT --ostemplate busybox --hostname ct$CT
fi
step "beanctl start $CT"
"$B" status $CT | grep -q ' running' || "$B" start $CT
"$B" status $CT

step "a workload inside: 4 background sleepers and 32 MiB written to /tmp (a tmpfs)"
"$B" exec $CT sh -c 'mount -t tmpfs -o size=64m tmpfs /tmp 2>/dev/null || true
  for i in 1 2 3 4; do setsid sleep 600 </dev/null >/dev/null 2>&1 & done
  dd if=/dev/zero of=/tmp/blob bs=1M count=32 2>&1 | tail -1
  echo "inside: hostname $(hostname)"
  ps -o pid,comm'

step "beanctl status $CT -b (its beancounters, as OpenVZ's /proc/user_beancounters)"
"$B" status $CT -b
step "the same table from inside the container: cat /dev/user_beancounters (its own rows only)"
"$B" exec $CT cat /dev/user_beancounters | head -8
step "beanctl list"
"$B" list
echo
echo "Container $CT keeps running. Try: $B enter $CT | $B exec $CT ps | $B stop $CT && $B destroy $CT"
echo "('$B unload' then removes the accounting programs and the cgroup prefix as well.)"
