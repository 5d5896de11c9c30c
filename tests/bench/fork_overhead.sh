#!/bin/bash
# fork_overhead.sh [PAIRS] [FORKS]: what the process accounting costs a fork + exit.
# A fork loop (tests/helpers/forkbench.c) runs inside a container and on the host, with the
# BPF programs attached (ON: all of them) and detached (OFF: none), in adjacent pairs whose order flips every
# pair; an OFF/OFF control series shows the noise floor. Prints the median per-pair ratios.
# Needs root and a build; everything lives under /tmp/bc-forkbench, a private cgroup prefix
# and a private pin directory, removed on exit.
set -euo pipefail
case ${1:-} in -h|--help) sed -n '2,7s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PAIRS=${1:-10}
FORKS=${2:-20000}
[[ $PAIRS =~ ^[1-9][0-9]*$ && $FORKS =~ ^[1-9][0-9]*$ ]] || { echo "fork_overhead: PAIRS and FORKS must be positive numbers (see --help)" >&2; exit 2; }
BUILD=${BUILD:-$HERE/build}
B=$BUILD/bin/beanctl
FB=$BUILD/tests/forkbench
[[ $(id -u) -eq 0 ]] || { echo "fork_overhead: run as root" >&2; exit 1; }
[[ -x $B && -x $FB ]] || { echo "fork_overhead: build first" >&2; exit 1; }
W=/tmp/bc-forkbench
export BEANCOUNTER_CONF_DIR=$W/etc BEANCOUNTER_LIB_DIR=$W/lib BEANCOUNTER_RUN_DIR=$W/run \
       BEANCOUNTER_TEMPLATE_DIR=$W/template BEANCOUNTER_CGROUP_PREFIX=bc-forkbench-$$ \
       BEANCOUNTER_BPF_DIR=/sys/fs/bpf/bc-forkbench-$$
PIN=$BEANCOUNTER_BPF_DIR
cleanup() {
  for c in 950 951; do "$B" stop $c --fast >/dev/null 2>&1 || true; "$B" destroy $c >/dev/null 2>&1 || true; done
  "$B" unload >/dev/null 2>&1 || true   # the programs, the pins and the cgroup prefix nodes
  rm -rf "$PIN" "$W"
}
trap cleanup EXIT
rm -rf "$W"
"$B" create 950 >/dev/null
cp "$FB" "$W/lib/private/950/forkbench"
"$B" start 950 >/dev/null

on() {   # (re)attach: a start loads the programs when their links are not pinned
  [[ -e $PIN/link_proc_fork ]] && return
  "$B" create 951 >/dev/null && "$B" start 951 >/dev/null && "$B" stop 951 >/dev/null && "$B" destroy 951 >/dev/null
}
off() { rm -f "$PIN"/link_* "$PIN"/user_beancounters; }   # unpinning detaches: every program
in_ct() { "$B" exec 950 /forkbench "$FORKS"; }
on_host() { "$FB" "$FORKS"; }

: > "$W/pairs"
for ((i = 1; i <= PAIRS; i++)); do
  if ((i % 2)); then
    on; a=$(in_ct); b=$(on_host); off; c=$(in_ct); d=$(on_host); e=$(in_ct)
  else
    off; c=$(in_ct); d=$(on_host); e=$(in_ct); on; a=$(in_ct); b=$(on_host)
  fi
  echo "$a $b $c $d $e" >> "$W/pairs"   # ct_on host_on ct_off host_off ct_off2
done
med() { sort -n | awk '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.4f", m}'; }
ratio() { awk -v a="$1" -v b="$2" '{print $a / $b}' "$W/pairs"; }
col() { awk -v c="$1" '{print $c}' "$W/pairs"; }
echo "fork_overhead: $PAIRS pairs of $FORKS forks, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %12s\n' "series" "ns per fork (median)"
printf '%-44s %12s\n' "in a container, programs attached" "$(col 1 | med)"
printf '%-44s %12s\n' "in a container, programs detached" "$(col 3 | med)"
printf '%-44s %12s\n' "on the host, programs attached" "$(col 2 | med)"
printf '%-44s %12s\n' "on the host, programs detached" "$(col 4 | med)"
echo "ratio in a container, attached / detached: $(ratio 1 3 | med)"
echo "ratio on the host, attached / detached:    $(ratio 2 4 | med)"
echo "control, detached / detached (noise):      $(ratio 5 3 | med)"
