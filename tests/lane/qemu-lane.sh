#!/bin/bash
# qemu-lane.sh: the second-kernel lane. Boots one of Debian 12's kernels (by default its stock
# kernel, whatever linux-image-amd64 depends on: 6.1.0-NN-amd64) under qemu with a pure cgroup2
# layout, and runs the kernel-dependent tests there, against this machine's userland and
# build tree.
#
# Usage: tests/lane/qemu-lane.sh [--kernel PKG] [--build-dir DIR] [--timeout S] [-- CMD...]
#   --kernel PKG  a Debian 12 kernel package, or a meta-package depending on one:
#                 linux-image-amd64 (default: 6.1), linux-image-6.12-amd64 (6.12).
#   Without CMD it runs the integration tests (bc_integration_tests) of the build dir.
#
# How: the kernel .deb is downloaded and unpacked under $LANE_DIR (default /tmp/beancounter-lane),
# never installed. Its ELF vmlinux is booted directly (qemu's PVH entry), which skips the
# bzImage's xz decompressor (seconds under software emulation). A busybox initramfs mounts
# cgroup2 alone at /sys/fs/cgroup with every controller enabled at the root (as systemd
# does), bpffs and tracefs, then mounts this machine's / read-only over 9p with a tmpfs
# overlay and runs CMD chrooted into it, so every host path (the build dir, /bin/busybox)
# is where the tests expect it. The guest has no network device: loopback and namespaces only.
# Exit status: CMD's; 124 on timeout; 3 if the guest never ran CMD.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=$(cd "$HERE/../.." && pwd)/build
TIMEOUT=540
META=linux-image-amd64
W=${LANE_DIR:-/tmp/beancounter-lane}
while (($#)); do
  case $1 in
    --build-dir) BUILD=$(cd "$2" && pwd); shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --kernel) META=$2; shift 2 ;;
    -h|--help) sed -n '2,20s/^# \{0,1\}//p' "$0"; exit 0 ;;
    --) shift; break ;;
    *) echo "qemu-lane: unknown option $1" >&2; exit 2 ;;
  esac
done
CMD=("$@")
# (a million socket cycles take many minutes under emulation: 20,000 there)
((${#CMD[@]})) || CMD=(/usr/bin/env BC_TEST_SOCKET_CYCLES=20000 "$BUILD/tests/bc_integration_tests" --gtest_brief=1)
[[ $(id -u) -eq 0 ]] || { echo "qemu-lane: run as root" >&2; exit 2; }
for p in qemu-system-x86_64 busybox xz zstd; do
  command -v $p >/dev/null || { echo "qemu-lane: $p missing (tools/install-deps.sh test)" >&2; exit 2; }
done
BUSYBOX=$(command -v busybox)
log() { echo "qemu-lane: $*" >&2; }

# 1. The kernel, unpacked once per ABI version.
# The package itself when it is a kernel, else the kernel it depends on.
kernel_of() {
  if [[ $1 =~ ^linux-image-[0-9].*-amd64$ ]] && ! [[ $1 =~ ^linux-image-[0-9.]+-amd64$ ]]; then echo "$1"; return; fi
  apt-cache depends "$1" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}
KPKG=${KPKG:-$(kernel_of "$META")}
if [[ -z $KPKG ]]; then
  apt-get update -qq
  KPKG=$(kernel_of "$META")
fi
[[ -n $KPKG ]] || { log "cannot find the kernel package $META names"; exit 2; }
KVER=${KPKG#linux-image-}
K=$W/kernel/$KVER
if [[ ! -f $K/ready ]]; then
  log "fetching $KPKG"
  rm -rf "$K" && mkdir -p "$K/deb"
  chown _apt "$K/deb" 2>/dev/null || true
  (cd "$K/deb" && apt-get download -q "$KPKG" >/dev/null)
  dpkg-deb -x "$K"/deb/*.deb "$K/root" && rm -rf "$K/deb"
  "$BUSYBOX" depmod -b "$K/root" "$KVER"
  # The ELF kernel is the compressed stream inside the bzImage: xz (6.1), zstd (6.12).
  vz=$K/root/boot/vmlinuz-$KVER
  off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vz" | head -1 | cut -d: -f1 || true)
  if [[ -n $off ]]; then
    { tail -c +$((off + 1)) "$vz" || true; } | xz -dc --single-stream > "$K/vmlinux" 2>/dev/null || true
  else
    off=$(LC_ALL=C grep -obUaP '\x28\xb5\x2f\xfd' "$vz" | head -1 | cut -d: -f1 || true)
    [[ -n $off ]] || { log "no xz or zstd payload in $vz"; exit 2; }
    # zstd stops with an error at the data after the frame, once the kernel is out
    { tail -c +$((off + 1)) "$vz" || true; } | zstd -dcq > "$K/vmlinux" 2>/dev/null || true
  fi
  [[ -s $K/vmlinux ]] || { log "could not extract vmlinux"; exit 2; }
  touch "$K/ready"
fi

# 2. The initramfs: busybox, the modules 9p and overlay need, and /init.
R=$W/initramfs
rm -rf "$R" && mkdir -p "$R"/{bin,dev,proc,sys,run,tmp,host,newroot,ovl,etc}
cp "$BUSYBOX" "$R/bin/busybox"
for a in sh mount umount mkdir modprobe insmod chroot cat echo poweroff sleep grep cut ip tr cp; do ln -s busybox "$R/bin/$a"; done
MODS="virtio_pci 9pnet_virtio 9p overlay veth bridge dummy sch_ingress cls_bpf"
MD=$K/root/lib/modules/$KVER
for m in $MODS; do
  line=$(grep -E "/${m}\.ko(\.xz|\.zst)?:" "$MD/modules.dep" | head -1 || true)
  [[ -n $line ]] || continue   # built in
  for f in ${line/:/}; do
    # Stored uncompressed: busybox's modprobe hands the file to the kernel as it is, and 6.12's
    # kernel refuses xz/zstd data there ("Invalid ELF header magic") before retrying.
    d=$R/lib/modules/$KVER/${f%.xz}; d=${d%.zst}
    mkdir -p "$(dirname "$d")"
    case $f in
      *.xz) xz -dc "$MD/$f" > "$d" ;;
      *.zst) zstd -dcq "$MD/$f" > "$d" ;;
      *) cp "$MD/$f" "$d" ;;
    esac
  done
done
cp "$MD"/modules.{order,builtin} "$R/lib/modules/$KVER/"
"$BUSYBOX" depmod -b "$R" "$KVER"
printf '%q ' "${CMD[@]}" > "$R/etc/lane-cmd"
echo "$MODS" > "$R/etc/lane-mods"
cat > "$R/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm; mount -t devpts devpts /dev/pts; mount -t tmpfs tmpfs /run
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf; mount -t tracefs tracefs /sys/kernel/tracing
for m in $(cat /etc/lane-mods); do modprobe $m 2>/dev/null; done
ip link set lo up
ctl=$(for c in $(cat /sys/fs/cgroup/cgroup.controllers); do printf '+%s ' $c; done)
echo $ctl > /sys/fs/cgroup/cgroup.subtree_control
echo "LANE: kernel $(cat /proc/sys/kernel/osrelease), cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=262144,cache=loose hostroot /host || echo "LANE: 9p failed"
mount -t tmpfs -o size=75% tmpfs /ovl && mkdir -p /ovl/u /ovl/w
mount -t overlay -o lowerdir=/host,upperdir=/ovl/u,workdir=/ovl/w overlay /newroot
for d in proc sys dev; do mount --rbind /$d /newroot/$d; done
mount -t tmpfs tmpfs /newroot/run
mkdir -p /newroot/.lane && cp /bin/busybox /etc/lane-cmd /newroot/.lane/
echo "LANE: running $(cat /etc/lane-cmd)"
# Like a booted system (switch_root): the new root is moved on top of the initramfs, so that
# it is the mount namespace's root as seen by setns(), not a chroot below it.
cd /newroot && mount --move . / && exec chroot . /.lane/busybox sh -c '
  /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8 \
    /bin/sh -c "$(cat /.lane/lane-cmd)" </dev/null
  echo "LANE-RC=$?"
  /.lane/busybox dmesg | /.lane/busybox grep -E "WARNING:|BUG:|Oops|Call Trace" | /.lane/busybox sed "s/^/LANE: kernel: /"
  /.lane/busybox poweroff -f'
INIT
chmod +x "$R/init"
(cd "$R" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null) > "$W/initrd.cpio"

# 3. Boot (software emulation: KVM is not usable on these machines) and collect the status.
# One host thread runs both vCPUs (thread=single). With a thread per vCPU, a vCPU can still run
# code another vCPU has just rewritten: the guest kernel's live patching of static keys (which
# attaching and detaching BPF programs and creating cgroups toggle) then meets a stale int3 and
# the guest panics ("Oops: int3" in an unrelated function), once in many runs. The tests run one
# at a time, so the second host thread bought little.
LOG=$W/console.log
rm -f "$W/qemu.pid"
log "booting $KVER (pure cgroup2); console log $LOG"
set +e
timeout --kill-after=10 "$TIMEOUT" qemu-system-x86_64 -m 2048 -smp 2 -accel tcg,thread=single -cpu max \
  -kernel "$K/vmlinux" -initrd "$W/initrd.cpio" -append "console=ttyS0 panic=-1 quiet" \
  -display none -vga none -serial stdio -monitor none -nic none -no-reboot -no-user-config -pidfile "$W/qemu.pid" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap,id=hostroot \
  </dev/null 2>&1 | tr -d '\r' | tee "$LOG"
qrc=${PIPESTATUS[0]}
set -e
[[ $qrc -eq 124 ]] && { log "timed out after ${TIMEOUT}s"; exit 124; }
rc=$(sed -n 's/^LANE-RC=\([0-9]*\)$/\1/p' "$LOG" | tail -1)
[[ -n $rc ]] || { log "the guest never reported a status"; exit 3; }
exit "$rc"
