#!/bin/bash
# (The same steps as the qemu-kernel harness this project is checked against: a copy, so a
# clean clone needs nothing outside it.)
# Fetch a Debian bookworm kernel + its real System.map/vmlinux (from the -dbg package)
# into $KWORK (default /var/tmp/dbgkit-harness/kernel) without installing anything into /boot.
# Needs: apt-get update already done (deb lines only; no deb-src needed).
set -euo pipefail
KWORK=${KWORK:-/var/tmp/dbgkit-harness/kernel}
ABI=${KABI:-$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: linux-image-\(.*-amd64\)$/\1/p' | head -1)}
mkdir -p "$KWORK" && cd "$KWORK"
echo "kernel ABI: $ABI"
if [ ! -f "root/boot/vmlinuz-$ABI" ]; then
  apt-get download "linux-image-$ABI" 2>&1 | grep -v unsandboxed || true
  dpkg-deb -x linux-image-"$ABI"_*.deb root
fi
# The System.map shipped in linux-image-* is a one-line stub ("The real System.map is in
# the linux-image-<version>-dbg package"); the real one and vmlinux (DWARF) are in -dbg.
if [ ! -f "dbg/usr/lib/debug/boot/System.map-$ABI" ]; then
  [ -f linux-image-"$ABI"-dbg_*.deb ] || apt-get download "linux-image-$ABI-dbg" 2>&1 | grep -v unsandboxed || true
  mkdir -p dbg
  dpkg-deb --fsys-tarfile linux-image-"$ABI"-dbg_*.deb 2>/dev/null \
    | tar -x -C dbg --occurrence "./usr/lib/debug/boot/System.map-$ABI" "./usr/lib/debug/boot/vmlinux-$ABI" || true
fi
ln -sf "root/boot/vmlinuz-$ABI" vmlinuz
ln -sf "dbg/usr/lib/debug/boot/System.map-$ABI" System.map
ln -sf "dbg/usr/lib/debug/boot/vmlinux-$ABI" vmlinux
ls -la vmlinuz System.map vmlinux
wc -l System.map
