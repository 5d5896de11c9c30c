#!/bin/bash
# start_latency.sh [ROUNDS]: container start -> exec /bin/true -> stop -> destroy with beanctl,
# side by side with `crun run` of the same busybox root file system, the same lifecycle in
# separate crun commands (create, start, exec, kill, delete) and bare unshare+chroot as the
# floor, round-robin in one run. Prints medians and per-round ratios.
#
# beanctl's container is created (the template unpacked) before each timed round, as crun's
# bundle is made before its runs: both time the same thing, from nothing running to nothing
# left. Each timed run starts after SETTLE seconds of quiet (default 0.1): moving a task into
# a cgroup waits for an RCU grace period unless another move happened moments before, so
# back-to-back runs of different methods would otherwise pay it in an order-dependent way.
# SETTLE=0 measures back-to-back. The last line takes each command's own start (its
# --version, timed in the same round) out of both figures: the cycle is four commands,
# crun's run one. An empty static program (built here with cc) shows the floor of any
# command's start. Needs root; installs crun. Everything lives under /tmp/bc-bench and a
# private cgroup prefix, and is removed on exit.
#
# crun refuses this kind of hybrid host while the cgroup2 root still offers a controller
# (here hugetlb, which no v1 hierarchy holds). For crun's runs only, that controller is
# mounted as a temporary v1 hierarchy, which takes it off cgroup2; it is unmounted on exit.
set -euo pipefail
case ${1:-} in -h|--help) sed -n '2,23s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
N=${1:-20}
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "start_latency: ROUNDS must be a positive number (see --help)" >&2; exit 2; }
BUILD=${BUILD:-$HERE/build}
W=/tmp/bc-bench
B=$BUILD/bin/beanctl
[[ $(id -u) -eq 0 ]] || { echo "start_latency: run as root" >&2; exit 1; }
[[ -x $B ]] || { echo "start_latency: build first ($B missing)" >&2; exit 1; }
"$HERE/tools/install-deps.sh" runtime bench

export BEANCOUNTER_CONF_DIR=$W/etc BEANCOUNTER_LIB_DIR=$W/lib BEANCOUNTER_RUN_DIR=$W/run \
       BEANCOUNTER_TEMPLATE_DIR=$W/template BEANCOUNTER_CGROUP_PREFIX=bc-bench-$$ \
       BEANCOUNTER_BPF_DIR=/sys/fs/bpf/bc-bench-$$
MOVED=()
cleanup() {
  "$B" stop 900 --fast >/dev/null 2>&1 || true
  "$B" destroy 900 >/dev/null 2>&1 || true
  "$B" unload >/dev/null 2>&1 || true   # the programs, the pins and the cgroup prefix nodes
  crun --root $W/crun-state delete -f bench >/dev/null 2>&1 || true
  crun --root $W/crun-state delete -f benchc >/dev/null 2>&1 || true
  for c in "${MOVED[@]}"; do umount "$W/cgv1-$c" && rmdir "$W/cgv1-$c"; done
  rm -rf "$W"
}
trap cleanup EXIT
rm -rf "$W" && mkdir -p "$W/bundle/rootfs" "$W/template"
# The floor of any command: an empty static program (the same C compiler the build uses).
printf 'int main(void) { return 0; }\n' > "$W/empty.c"
cc -O2 -static -o "$W/empty" "$W/empty.c"

# The same root file system for both: beanctl's busybox template.
"$B" template build busybox >/dev/null
tar -xzf "$W/template/busybox.tar.gz" -C "$W/bundle/rootfs"
(cd "$W/bundle" && crun spec)
sed -i -e 's/"terminal": true/"terminal": false/' -e 's/"sh"$/"\/bin\/true"/' "$W/bundle/config.json"
grep -q '"/bin/true"' "$W/bundle/config.json" || { echo "start_latency: could not edit config.json" >&2; exit 1; }
# For crun's lifecycle as separate commands: a container whose process waits, as an init does.
sed -e 's/"\/bin\/true"/"\/bin\/sleep", "1000"/' "$W/bundle/config.json" > "$W/bundle/config-cycle.json"
grep -q '"/bin/sleep", "1000"' "$W/bundle/config-cycle.json" || { echo "start_latency: could not edit config.json" >&2; exit 1; }

v2=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/self/mounts)
if grep -q '^cgroup /' /proc/self/mounts; then
  for c in $(cat "$v2/cgroup.controllers"); do
    mkdir -p "$W/cgv1-$c" && mount -t cgroup -o "$c" "bcbench_$c" "$W/cgv1-$c" && MOVED+=("$c")
  done
fi

SETTLE=${SETTLE:-0.1}
settle() { [[ $SETTLE == 0 ]] || sleep "$SETTLE"; }
# Times are ${EPOCHREALTIME/./} (microseconds), read with no subshell: a $(...) would fork
# bash inside the timed interval at each step, and the beanctl cycle has four steps against
# crun's one (until 2026-11-29 it did: three forks of bash more in beanctl's figure).
t_bc() {   # also records each step's time in $W/steps
  "$B" create 900 >/dev/null
  settle
  local t0 t1 t2 t3 t4
  t0=${EPOCHREALTIME/./}; "$B" start 900 >/dev/null
  t1=${EPOCHREALTIME/./}; "$B" exec 900 /bin/true
  t2=${EPOCHREALTIME/./}; "$B" stop 900 >/dev/null
  t3=${EPOCHREALTIME/./}; "$B" destroy 900 >/dev/null
  t4=${EPOCHREALTIME/./}
  echo "$((t1 - t0)) $((t2 - t1)) $((t3 - t2)) $((t4 - t3))" >> "$W/steps"
  echo $((t4 - t0))
}
# A process start alone: what each of beanctl's four commands costs before any work.
t_version() { settle; local t0; t0=${EPOCHREALTIME/./}; "$B" --version >/dev/null; echo $(( ${EPOCHREALTIME/./} - t0 )); }
t_crun_version() { settle; local t0; t0=${EPOCHREALTIME/./}; crun --version >/dev/null; echo $(( ${EPOCHREALTIME/./} - t0 )); }
t_true() { settle; local t0; t0=${EPOCHREALTIME/./}; /bin/true; echo $(( ${EPOCHREALTIME/./} - t0 )); }
t_empty() { settle; local t0; t0=${EPOCHREALTIME/./}; "$W/empty"; echo $(( ${EPOCHREALTIME/./} - t0 )); }
t_bc_nodestroy() {
  "$B" create 900 >/dev/null
  settle
  local t0 t; t0=${EPOCHREALTIME/./}
  "$B" start 900 >/dev/null && "$B" exec 900 /bin/true && "$B" stop 900 >/dev/null
  t=$(( ${EPOCHREALTIME/./} - t0 ))
  "$B" destroy 900 >/dev/null
  echo $t
}
t_crun() {
  settle
  local t0; t0=${EPOCHREALTIME/./}
  crun --root $W/crun-state run --bundle "$W/bundle" bench >/dev/null
  echo $(( ${EPOCHREALTIME/./} - t0 ))
}
# The same lifecycle as beanctl's, in separate crun commands: create + start (beanctl start),
# exec, kill + delete (beanctl stop; crun has no destroy: its bundle stays).
t_crun_cycle() {
  settle
  local t0; t0=${EPOCHREALTIME/./}
  crun --root $W/crun-state create --bundle "$W/bundle" --config "$W/bundle/config-cycle.json" benchc >/dev/null
  crun --root $W/crun-state start benchc
  crun --root $W/crun-state exec benchc /bin/true
  crun --root $W/crun-state kill benchc KILL
  crun --root $W/crun-state delete -f benchc
  echo $(( ${EPOCHREALTIME/./} - t0 ))
}
t_unshare() {
  settle
  local t0; t0=${EPOCHREALTIME/./}
  unshare --fork --pid --mount-proc --uts --ipc --net --mount chroot "$W/bundle/rootfs" /bin/true
  echo $(( ${EPOCHREALTIME/./} - t0 ))
}
for f in t_bc t_bc_nodestroy t_crun t_unshare t_crun_cycle; do $f >/dev/null; done   # warm-up, and each must work
: > "$W/steps"; : > "$W/procs"

echo "round bc_us crun_us unshare_us bc_nodestroy_us crun_cycle_us" > "$W/rounds.txt"
for ((i = 1; i <= N; i++)); do
  # rotate the order so that no method always runs first
  case $((i % 5)) in
    0) a=$(t_bc); b=$(t_crun); c=$(t_unshare); d=$(t_bc_nodestroy); e=$(t_crun_cycle) ;;
    1) b=$(t_crun); c=$(t_unshare); d=$(t_bc_nodestroy); e=$(t_crun_cycle); a=$(t_bc) ;;
    2) c=$(t_unshare); d=$(t_bc_nodestroy); e=$(t_crun_cycle); a=$(t_bc); b=$(t_crun) ;;
    3) d=$(t_bc_nodestroy); e=$(t_crun_cycle); a=$(t_bc); b=$(t_crun); c=$(t_unshare) ;;
    4) e=$(t_crun_cycle); a=$(t_bc); b=$(t_crun); c=$(t_unshare); d=$(t_bc_nodestroy) ;;
  esac
  echo "$i $a $b $c $d $e" >> "$W/rounds.txt"
  echo "$(t_version) $(t_true) $(t_crun_version) $(t_empty)" >> "$W/procs"
done

med() { sort -n | awk '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f", m}'; }
col() { awk -v c="$1" 'NR > 1 {print $c / 1000}' "$W/rounds.txt"; }
ratio() { awk -v a="$1" -v b="$2" 'NR > 1 {print $a / $b}' "$W/rounds.txt"; }
echo "start_latency: $N rounds, settle ${SETTLE}s, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-52s %10s\n' "method" "median ms"
printf '%-52s %10s\n' "beanctl start + exec /bin/true + stop + destroy" "$(col 2 | med)"
printf '%-52s %10s\n' "beanctl start + exec /bin/true + stop (no destroy)" "$(col 5 | med)"
printf '%-52s %10s\n' "crun run /bin/true (same rootfs)" "$(col 3 | med)"
printf '%-52s %10s\n' "crun create + start + exec + kill + delete" "$(col 6 | med)"
printf '%-52s %10s\n' "unshare + chroot /bin/true (floor)" "$(col 4 | med)"
echo "per-round ratio beanctl / crun:    median $(ratio 2 3 | med)"
echo "per-round ratio beanctl without destroy / crun: median $(ratio 5 3 | med)"
echo "per-round ratio beanctl / crun's lifecycle in commands: median $(ratio 2 6 | med); without destroy: $(ratio 5 6 | med)"
echo "per-round ratio beanctl / unshare: median $(ratio 2 4 | med)"
step() { awk -v c="$1" '{print $c / 1000}' "$W/steps" | med; }
echo "beanctl steps, median ms: start $(step 1), exec $(step 2), stop $(step 3), destroy $(step 4)"
echo "process start, median ms: beanctl --version $(awk '{print $1 / 1000}' "$W/procs" | med), crun --version $(awk '{print $3 / 1000}' "$W/procs" | med), /bin/true $(awk '{print $2 / 1000}' "$W/procs" | med), an empty static program $(awk '{print $4 / 1000}' "$W/procs" | med)"
# The cycle is four beanctl commands, crun's run one crun command: past the cost of starting
# the commands themselves (each one's --version in the same round), what is left is the work
# each does for the container, the starts of bcinit and /bin/true (crun's /bin/true) included.
paste -d' ' <(tail -n +2 "$W/rounds.txt") "$W/procs" |
  awk '{print ($2 - 4 * $7) / 1000, ($3 - $9) / 1000, ($2 - 4 * $7) / ($3 - $9)}' > "$W/work"
echo "past the command starts, median ms: beanctl's four $(awk '{print $1}' "$W/work" | med)," \
     "crun's one $(awk '{print $2}' "$W/work" | med); per-round ratio $(awk '{print $3}' "$W/work" | med)"
