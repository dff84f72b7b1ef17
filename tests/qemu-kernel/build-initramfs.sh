#!/bin/bash
# (The same steps as the qemu-kernel harness this project is checked against: a copy, so a
# clean clone needs nothing outside it.)
# Build a tiny busybox-static initramfs whose /init calls getpid()/openat() once a second.
set -euo pipefail
KWORK=${KWORK:-/var/tmp/dbgkit-harness/kernel}
BB=/bin/busybox
file -L $BB | grep -q 'statically linked' || { echo "need busybox-static (apt-get install busybox-static)"; exit 1; }
D=$(mktemp -d)
mkdir -p $D/{bin,sbin,proc,sys,dev,tmp,etc}
cp $BB $D/bin/busybox
for a in sh mount echo cat sleep ls true poweroff insmod; do ln -s busybox $D/bin/$a; done
# qemu_fw_cfg.ko lets QEMU's '-device vmcoreinfo' hand VMCOREINFO to dump-guest-memory
# (drgn needs it to read the vmcore).  No dependencies; Debian 6.1 modules are plain .ko.
KO=$(find "$KWORK/root/lib/modules" -name qemu_fw_cfg.ko 2>/dev/null | head -1)
[ -n "$KO" ] && cp "$KO" $D/qemu_fw_cfg.ko
cat > $D/init <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
[ -f /qemu_fw_cfg.ko ] && insmod /qemu_fw_cfg.ko
echo "RW-INIT-READY uptime=$(cat /proc/uptime)"
i=0
while true; do
  i=$((i+1))
  /bin/sh -c 'echo RW-TICK $$' > /dev/null   # new shell => getpid(); redirect => openat()
  cat /proc/version > /dev/null
  sleep 1
done
INIT
chmod +x $D/init
(cd $D && find . | cpio -o -H newc --quiet | gzip -1) > "$KWORK/initramfs.cpio.gz"
rm -rf $D
ls -la "$KWORK/initramfs.cpio.gz"
