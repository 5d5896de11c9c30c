#!/bin/bash
# install-deps.sh [build|runtime|test|bench|all]: installs beancounter's Debian 12 packages.
# Idempotent: only missing packages are fetched. Needs root (apt-get).
set -euo pipefail

BUILD=(cmake make g++ pkg-config clang-16 bpftool libbpf-dev libelf-dev zlib1g-dev
       libboost-program-options-dev libgtest-dev libfmt-dev nlohmann-json3-dev libarchive-dev libseccomp-dev
       libnl-3-dev libnl-route-3-dev)
RUNTIME=(busybox-static debootstrap ca-certificates)
TEST=(qemu-system-x86 xz-utils zstd iproute2 procps)
BENCH=(crun iperf3 jq gcc libc6-dev)

want=()
for what in "${@:-all}"; do
  case $what in
    build) want+=("${BUILD[@]}") ;;
    runtime) want+=("${RUNTIME[@]}") ;;
    test) want+=("${BUILD[@]}" "${RUNTIME[@]}" "${TEST[@]}") ;;
    bench) want+=("${BENCH[@]}") ;;
    all) want+=("${BUILD[@]}" "${RUNTIME[@]}" "${TEST[@]}") ;;
    -h|--help) sed -n '2,3s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "install-deps: unknown set '$what' (build, runtime, test, bench, all)" >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || { echo "install-deps: run as root (apt-get)" >&2; exit 1; }

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
((${#missing[@]})) || exit 0
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
