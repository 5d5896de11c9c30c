#!/bin/bash
# net_overhead.sh [PAIRS] [SECONDS]: what the accounting costs network traffic. iperf3 (TCP
# bulk, and UDP with 64-byte datagrams) runs in a container's network namespace and cgroup,
# over its loopback, and between the host and the container over its veth (the container's
# own address, 10.213.0.2, made by the script; the server inside, the client on the host):
# ON with every beancounter program attached (as beanctl leaves them), OFF with none (the
# links unpinned, which detaches the cgroup and tracing programs, and the host side's
# programs taken off: no source guard either), and EMPTY: every program attached, but on the
# host side an empty program in place of beancounter's (what the hooks cost with nothing in
# them). Adjacent pairs whose order flips every pair, then EMPTY,
# then an OFF/OFF control series that shows the noise floor. Prints the median per-pair
# ratios ON/OFF, EMPTY/OFF and ON/EMPTY, and what one run of the egress program costs by
# BPF_PROG_TEST_RUN (tests/bench/netprogs.cpp, "cost").
# PATHS (default "lo veth") picks the paths, KINDS (default "tcp udp64") the workloads;
# SETTLE (default 2) the seconds after a switch.
# Needs root, a build and iperf3 + jq (tools/install-deps.sh bench). Everything lives
# under /tmp/bc-netbench, a private cgroup prefix and pin directory, removed on exit.
set -euo pipefail
case ${1:-} in -h|--help) sed -n '2,18s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PAIRS=${1:-8}
SECS=${2:-3}
[[ $PAIRS =~ ^[1-9][0-9]*$ && $SECS =~ ^[1-9][0-9]*$ ]] || { echo "net_overhead: PAIRS and SECONDS must be positive numbers (see --help)" >&2; exit 2; }
BUILD=${BUILD:-$HERE/build}
B=$BUILD/bin/beanctl
[[ $(id -u) -eq 0 ]] || { echo "net_overhead: run as root" >&2; exit 1; }
[[ -x $B && -x $BUILD/tests/bc_netprogs ]] || { echo "net_overhead: build first" >&2; exit 1; }
for p in iperf3 jq nsenter; do command -v $p >/dev/null || { echo "net_overhead: $p missing (tools/install-deps.sh bench)" >&2; exit 1; }; done
W=/tmp/bc-netbench
export BEANCOUNTER_CONF_DIR=$W/etc BEANCOUNTER_LIB_DIR=$W/lib BEANCOUNTER_RUN_DIR=$W/run \
       BEANCOUNTER_TEMPLATE_DIR=$W/template BEANCOUNTER_CGROUP_PREFIX=bc-netbench-$$ \
       BEANCOUNTER_BPF_DIR=/sys/fs/bpf/bc-netbench-$$
V2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
CT=952
SCRATCH=953   # started and stopped to attach the programs again (a start loads what is missing)
SRV=
cleanup() {
  for p in $SRV; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for c in $CT $SCRATCH; do "$B" stop $c --fast >/dev/null 2>&1 || true; "$B" destroy $c >/dev/null 2>&1 || true; done
  "$B" unload >/dev/null 2>&1 || true   # the programs, the pins and the cgroup prefix nodes
  rm -rf "$BEANCOUNTER_BPF_DIR" "$W"
}
trap cleanup EXIT
rm -rf "$W"
CT_IP=10.213.0.2
"$B" create $CT >/dev/null
"$B" set $CT --ipadd $CT_IP --save >/dev/null
"$B" start $CT >/dev/null
INIT=$(cut -d' ' -f1 "$W/run/ct/$CT/init")
CT_CG=$V2/bc-netbench-$$/$CT

# run_in CGROUP CMD...: CMD in the container's network namespace, in CGROUP.
run_in() { local cg=$1; shift; bash -c 'echo $$ > "$0/cgroup.procs" && exec nsenter -t "$1" -n -- "${@:2}"' "$cg" "$INIT" "$@"; }

run_in "$CT_CG" iperf3 -s -B 127.0.0.1 -p 25301 >/dev/null 2>&1 &
SRVS=($!)
run_in "$CT_CG" iperf3 -s -B $CT_IP -p 25303 >/dev/null 2>&1 &
SRVS+=($!)
SRV="${SRVS[*]}"
sleep 0.5
# Every program on or off: the links unpinned (which detaches the programs) and attached
# again by a start; the host side's programs through bc_netprogs, with the code beanctl uses
# (tcx links where the kernel has them, tc filters before).
HOST_IF=bc$CT
PIN=$BEANCOUNTER_BPF_DIR
NETPROGS=$BUILD/tests/bc_netprogs
accounting() {
  if [[ $1 == on || $1 == empty ]]; then
    if [[ ! -e $PIN/link_proc_fork ]]; then
      "$B" create $SCRATCH >/dev/null && "$B" start $SCRATCH >/dev/null && "$B" stop $SCRATCH >/dev/null && "$B" destroy $SCRATCH >/dev/null
    fi
    "$NETPROGS" "$1" "$PIN" $HOST_IF
  else
    rm -f "$PIN"/link_proc_* "$PIN"/link_sock_* "$PIN"/link_dev "$PIN"/link_flush* "$PIN"/link_collect \
          "$PIN"/link_task_sums "$PIN"/user_beancounters
    "$NETPROGS" off "$PIN" $HOST_IF
  fi
}
# Every run waits SETTLE seconds after the switch (default 2): loading the programs again
# leaves work behind (freeing the old ones, verification's memory) that must not fall into
# the next run.
SETTLE=${SETTLE:-2}
client() {
  accounting "$1"; shift
  sleep "$SETTLE"
  if [[ $PATH_KIND == lo ]]; then run_in "$CT_CG" iperf3 -c 127.0.0.1 -p 25301 "$@"; else iperf3 -c $CT_IP -p 25303 "$@"; fi
}
tcp() {   # Gbit/s received
  client "$1" -t "$SECS" -J | jq '.end.sum_received.bits_per_second / 1e9'
}
udp64() {   # kpps received
  client "$1" -t "$SECS" -u -b 0 -l 64 -J | jq '(.end.sum.packets - .end.sum.lost_packets) / .end.sum.seconds / 1000'
}

accounting on
echo "net_overhead: $PAIRS pairs of ${SECS}s iperf3 runs of container $CT (paths: ${PATHS:-lo veth}); load: $(cut -d' ' -f1-3 /proc/loadavg)"
: > "$W/pairs"
for ((i = 1; i <= PAIRS; i++)); do
  for PATH_KIND in ${PATHS:-lo veth}; do
    for kind in ${KINDS:-tcp udp64}; do
      if ((i % 2)); then on=$($kind on); off=$($kind off); else off=$($kind off); on=$($kind on); fi
      empty=$($kind empty)
      off2=$($kind off)
      echo "$kind-$PATH_KIND $on $off $off2 $empty" >> "$W/pairs"
    done
  done
done
accounting on
traffic=$("$B" ubc --json $CT | jq -c '.[0].traffic')
awk '
  function median(a, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { k = $1; n[k]++; r[k, n[k]] = $2 / $3; aa[k, n[k]] = $4 / $3; on[k, n[k]] = $2; off[k, n[k]] = $3
    e[k, n[k]] = $5 / $3; oe[k, n[k]] = $2 / $5 }
  END {
    split("tcp-lo udp64-lo tcp-veth udp64-veth", kinds, " ")
    for (x = 1; x <= 4; x++) {
      k = kinds[x]; m = n[k]
      if (!m) continue
      for (i = 1; i <= m; i++) { R[i] = r[k, i]; A[i] = aa[k, i]; O[i] = on[k, i]; F[i] = off[k, i]; E[i] = e[k, i]; OE[i] = oe[k, i] }
      unit = k ~ /^tcp/ ? "Gbit/s" : "kpps"
      printf "%-10s ON %.2f %s, OFF %.2f %s (medians); per pair, medians: ON/OFF %.3f, EMPTY/OFF %.3f, ON/EMPTY %.3f; OFF/OFF control: %.3f (n=%d)\n",
             k, median(O, m), unit, median(F, m), unit, median(R, m), median(E, m), median(OE, m), median(A, m), m
    }
  }' "$W/pairs"
echo "counted in the container meanwhile: $traffic"
"$NETPROGS" cost "$PIN" $HOST_IF
