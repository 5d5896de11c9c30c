#!/bin/bash
# compare_builds.sh BUILD_A BUILD_B [ROUNDS]: the start-latency cycle (start -> exec /bin/true
# -> stop -> destroy) of two builds of beanctl, interleaved round by round, each step timed.
# Prints per-step medians for A and B and the median per-round ratio B / A.
#
# On a shared VM the speed of the machine drifts within minutes, by more than most changes
# move the cycle; start_latency.sh run once per build measures the drift as much as the
# change. Here both builds run in every round, one right after the other (which one first
# alternates), so that the per-round ratio cancels the drift. Each build has its own root,
# template, cgroup prefix and BPF directory (a build that finds another build's programs
# loaded replaces them, which would be timed). A container is created (untimed) before each
# round; each timed step starts after SETTLE seconds of quiet (default 0.1, as in
# start_latency.sh). BUILD_A and BUILD_B are build directories (with bin/beanctl). Needs
# root. Everything lives under /tmp/bc-compare and is removed on exit.
set -euo pipefail
case ${1:-} in -h|--help) sed -n '2,15s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
[[ $# -ge 2 ]] || { echo "compare_builds: usage: compare_builds.sh BUILD_A BUILD_B [ROUNDS] (see --help)" >&2; exit 2; }
N=${3:-20}
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "compare_builds: ROUNDS must be a positive number" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "compare_builds: run as root" >&2; exit 1; }
declare -A BIN=([a]="$1/bin/beanctl" [b]="$2/bin/beanctl")
for v in a b; do [[ -x ${BIN[$v]} ]] || { echo "compare_builds: ${BIN[$v]} missing (build first)" >&2; exit 1; }; done
W=/tmp/bc-compare
SETTLE=${SETTLE:-0.1}

bc() {   # bc a|b ARGS...: that build's beanctl in its own world
  local v=$1; shift
  BEANCOUNTER_CONF_DIR=$W/$v/etc BEANCOUNTER_LIB_DIR=$W/$v/lib BEANCOUNTER_RUN_DIR=$W/$v/run \
  BEANCOUNTER_TEMPLATE_DIR=$W/$v/template BEANCOUNTER_CGROUP_PREFIX=bc-compare-$v-$$ \
  BEANCOUNTER_BPF_DIR=/sys/fs/bpf/bc-compare-$v-$$ "${BIN[$v]}" "$@"
}
cleanup() {
  for v in a b; do
    bc $v stop 901 --fast >/dev/null 2>&1 || true
    bc $v destroy 901 >/dev/null 2>&1 || true
    bc $v unload >/dev/null 2>&1 || true   # programs, pins, cgroup prefix nodes
  done
  rm -rf "$W"
}
trap cleanup EXIT
rm -rf "$W" && mkdir -p "$W/a/template" "$W/b/template"
# Each build makes its own busybox template: what its container boots is part of the build.
for v in a b; do bc $v template build busybox >/dev/null 2>&1; done

round() {   # round a|b: appends "start exec stop destroy total" (microseconds) to $W/v.steps
  local v=$1 t0 t1 t2 t3 t4
  bc $v create 901 >/dev/null
  [[ $SETTLE == 0 ]] || sleep "$SETTLE"
  t0=${EPOCHREALTIME/./}; bc $v start 901 >/dev/null
  t1=${EPOCHREALTIME/./}; bc $v exec 901 /bin/true
  t2=${EPOCHREALTIME/./}; bc $v stop 901 >/dev/null
  t3=${EPOCHREALTIME/./}; bc $v destroy 901 >/dev/null
  t4=${EPOCHREALTIME/./}
  echo "$((t1 - t0)) $((t2 - t1)) $((t3 - t2)) $((t4 - t3)) $((t4 - t0))" >> "$W/$v.steps"
}
round a; round b; : > "$W/a.steps"; : > "$W/b.steps"   # warm-up (loads each build's programs)
for ((i = 1; i <= N; i++)); do
  if ((i % 2)); then round a; round b; else round b; round a; fi
done

med() { sort -n | awk '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f", m}'; }
col() { awk -v c="$2" '{print $c / 1000}' "$W/$1.steps" | med; }
ratio() { paste -d' ' "$W/a.steps" "$W/b.steps" | awk -v c="$1" '{print $(c + 5) / $c}' | med; }
echo "compare_builds: $N rounds, settle ${SETTLE}s, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "A: $1"
echo "B: $2"
printf '%-10s %10s %10s %12s\n' "step" "A ms" "B ms" "B / A"
k=1
for s in start exec stop destroy cycle; do
  printf '%-10s %10s %10s %12s\n' "$s" "$(col a $k)" "$(col b $k)" "$(ratio $k)"
  k=$((k + 1))
done
