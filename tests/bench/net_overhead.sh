#!/bin/bash
# net_overhead.sh [PAIRS] [SECONDS]: what the traffic accounting costs. iperf3 (TCP bulk, and
# UDP with 64-byte datagrams) runs over a container's loopback, in its network namespace,
# once with server and client in the container's cgroup (ON: the cgroup_skb programs count
# every packet) and once in a cgroup outside the containers (OFF: same namespace, no
# program runs); and between the host and the container over its veth (the container's own
# address, 10.213.0.2, made by the script), the server inside in either cgroup and the
# client on the host. Adjacent pairs whose order flips every pair; an OFF/OFF control
# series shows the noise floor. Prints the median per-pair ratios ON/OFF.
# Needs root, a build and iperf3 + jq (tools/install-deps.sh bench). Everything lives under
# /tmp/bc-netbench, a private cgroup prefix and pin directory, removed on exit.
set -euo pipefail
case ${1:-} in -h|--help) sed -n '2,11s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PAIRS=${1:-8}
SECS=${2:-3}
[[ $PAIRS =~ ^[1-9][0-9]*$ && $SECS =~ ^[1-9][0-9]*$ ]] || { echo "net_overhead: PAIRS and SECONDS must be positive numbers (see --help)" >&2; exit 2; }
BUILD=${BUILD:-$HERE/build}
B=$BUILD/bin/beanctl
[[ $(id -u) -eq 0 ]] || { echo "net_overhead: run as root" >&2; exit 1; }
[[ -x $B ]] || { echo "net_overhead: build first" >&2; exit 1; }
for p in iperf3 jq nsenter; do command -v $p >/dev/null || { echo "net_overhead: $p missing (tools/install-deps.sh bench)" >&2; exit 1; }; done
W=/tmp/bc-netbench
export BEANCOUNTER_CONF_DIR=$W/etc BEANCOUNTER_LIB_DIR=$W/lib BEANCOUNTER_RUN_DIR=$W/run \
       BEANCOUNTER_TEMPLATE_DIR=$W/template BEANCOUNTER_CGROUP_PREFIX=bc-netbench-$$ \
       BEANCOUNTER_BPF_DIR=/sys/fs/bpf/bc-netbench-$$
V2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
OFF_CG=$V2/bc-netbench-off-$$
CT=952
SRV=
cleanup() {
  for p in $SRV; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -d $OFF_CG ]]; then
    while read -r p; do kill -9 "$p" 2>/dev/null || true; done < "$OFF_CG/cgroup.procs"
    for _ in 1 2 3 4 5; do rmdir "$OFF_CG" 2>/dev/null && break; sleep 0.2; done
  fi
  "$B" stop $CT --fast >/dev/null 2>&1 || true
  "$B" destroy $CT >/dev/null 2>&1 || true
  "$B" unload >/dev/null 2>&1 || true   # the programs, the pins and the cgroup prefix nodes
  rm -rf "$BEANCOUNTER_BPF_DIR" "$W"
}
trap cleanup EXIT
rm -rf "$W"
mkdir "$OFF_CG"
CT_IP=10.213.0.2
"$B" create $CT >/dev/null
"$B" set $CT --ipadd $CT_IP --save >/dev/null
"$B" start $CT >/dev/null
INIT=$(cut -d' ' -f1 "$W/run/ct/$CT/init")
CT_CG=$V2/bc-netbench-$$/$CT

# run_in CGROUP CMD...: CMD in the container's network namespace, in CGROUP.
run_in() { local cg=$1; shift; bash -c 'echo $$ > "$0/cgroup.procs" && exec nsenter -t "$1" -n -- "${@:2}"' "$cg" "$INIT" "$@"; }

# One server per cgroup and path (an accepted socket belongs to its listener's cgroup).
declare -A PORT=(["$CT_CG"]=25301 ["$OFF_CG"]=25302) VPORT=(["$CT_CG"]=25303 ["$OFF_CG"]=25304)
SRVS=()
for cg in "$CT_CG" "$OFF_CG"; do
  run_in "$cg" iperf3 -s -B 127.0.0.1 -p "${PORT[$cg]}" >/dev/null 2>&1 &
  SRVS+=($!)
  run_in "$cg" iperf3 -s -B $CT_IP -p "${VPORT[$cg]}" >/dev/null 2>&1 &
  SRVS+=($!)
done
SRV="${SRVS[*]}"
sleep 0.5
# Over the loopback: client and server in the same cgroup. Over the veth: the client on the
# host (its cgroup is the host's: no program runs for it), the server in the cgroup.
client() { local cg=$1; shift; if [[ $PATH_KIND == lo ]]; then run_in "$cg" iperf3 -c 127.0.0.1 -p "${PORT[$cg]}" "$@"; else iperf3 -c $CT_IP -p "${VPORT[$cg]}" "$@"; fi; }
tcp() {   # Gbit/s received
  client "$1" -t "$SECS" -J | jq '.end.sum_received.bits_per_second / 1e9'
}
udp64() {   # kpps received
  client "$1" -t "$SECS" -u -b 0 -l 64 -J | jq '(.end.sum.packets - .end.sum.lost_packets) / .end.sum.seconds / 1000'
}

echo "net_overhead: $PAIRS pairs of ${SECS}s iperf3 runs over the loopback of container $CT and over its veth; load: $(cut -d' ' -f1-3 /proc/loadavg)"
: > "$W/pairs"
for ((i = 1; i <= PAIRS; i++)); do
  for PATH_KIND in lo veth; do
    for kind in tcp udp64; do
      if ((i % 2)); then on=$($kind "$CT_CG"); off=$($kind "$OFF_CG"); else off=$($kind "$OFF_CG"); on=$($kind "$CT_CG"); fi
      off2=$($kind "$OFF_CG")
      echo "$kind-$PATH_KIND $on $off $off2" >> "$W/pairs"
    done
  done
done
traffic=$("$B" ubc --json $CT | jq -c '.[0].traffic')
awk '
  function median(a, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { k = $1; n[k]++; r[k, n[k]] = $2 / $3; aa[k, n[k]] = $4 / $3; on[k, n[k]] = $2; off[k, n[k]] = $3 }
  END {
    split("tcp-lo udp64-lo tcp-veth udp64-veth", kinds, " ")
    for (x = 1; x <= 4; x++) {
      k = kinds[x]; m = n[k]
      for (i = 1; i <= m; i++) { R[i] = r[k, i]; A[i] = aa[k, i]; O[i] = on[k, i]; F[i] = off[k, i] }
      unit = k ~ /^tcp/ ? "Gbit/s" : "kpps"
      printf "%-10s ON %.2f %s, OFF %.2f %s (medians); ON/OFF per pair: median %.3f; OFF/OFF control: %.3f (n=%d)\n",
             k, median(O, m), unit, median(F, m), unit, median(R, m), median(A, m), m
    }
  }' "$W/pairs"
echo "counted in the container meanwhile: $traffic"
