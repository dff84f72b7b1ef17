#!/bin/bash
# The qemu-kernel harness's checks with dbgkit as the client (the harness
# drives gdb): the same QEMU command line (TCG, the gdbstub on loopback),
# the same breakpoints (__x64_sys_getpid, do_sys_openat2), the same ten
# entries of sys_call_table named, and what only dbgkit does: KASLR found by
# itself, the process and module lists, symbols from System.map alone, and
# the stack compared with gdb's `bt`. Ends with `N passed, M failed`.
#
#   KWORK=/var/tmp/dbgkit-harness/kernel DBGKIT=target/debug/dbgkit tests/qemu-kernel/checks.sh
#
# scripts/qemu-kernel fetches the kernel, builds everything and runs this.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
KWORK=${KWORK:-/var/tmp/dbgkit-harness/kernel}
DBGKIT=${DBGKIT:-$ROOT/target/debug/dbgkit}
PORT=${PORT:-1244}
OUT=${OUT:-/tmp/dbgkit-qemu-kernel}
MAP="$KWORK/System.map"
VMLINUX="$KWORK/vmlinux"
mkdir -p "$OUT"; rm -f "$OUT"/*
pass=0; fail=0
ok() { echo "PASS: $*"; pass=$((pass+1)); }
ko() { echo "FAIL: $*"; fail=$((fail+1)); }
check() { if grep -qE -- "$2" "$3"; then ok "$1"; else ko "$1 (no /$2/ in $3)"; fi; }
# A symbol's link-time address in System.map (16 hex digits, no 0x).
addr() { awk -v n="$1" '$3 == n { print $1; exit }' "$MAP"; }
for f in "$KWORK/vmlinuz" "$KWORK/initramfs.cpio.gz" "$MAP" "$VMLINUX" "$DBGKIT"; do
  [ -e "$f" ] || { echo "missing $f: run scripts/qemu-kernel"; echo "0 passed, 1 failed"; exit 1; }
done

QPID=
boot() { # $1: extra kernel arguments, $2: "-S" to wait at reset, $3: serial log
  qemu-system-x86_64 -accel "${ACCEL:-tcg}" -m 512M -smp "${SMP:-1}" -nographic -no-reboot \
    -kernel "$KWORK/vmlinuz" -initrd "$KWORK/initramfs.cpio.gz" \
    -append "console=ttyS0 $1 panic=-1" -gdb tcp:127.0.0.1:$PORT $2 < /dev/null > "$3" 2>&1 &
  QPID=$!
  sleep 0.5
}
halt() { [ -n "$QPID" ] && { kill $QPID 2>/dev/null; wait $QPID 2>/dev/null; }; QPID=; }
ready() { for _ in $(seq 900); do grep -qa RW-INIT-READY "$1" && return 0; kill -0 $QPID 2>/dev/null || return 1; sleep 0.2; done; return 1; }
trap halt EXIT

# The syscall table's first ten entries on x86_64, as the harness expects them.
EXPECT="__x64_sys_read __x64_sys_write __x64_sys_open __x64_sys_close __x64_sys_newstat __x64_sys_newfstat __x64_sys_newlstat __x64_sys_poll __x64_sys_lseek __x64_sys_mmap"
table_names() { # the symbols `dps sys_call_table` printed, one a line
  grep -aE '^[0-9a-f]{16}  [0-9a-f]{16} vmlinux!' "$1" | awk '{ sub(/^vmlinux!/, "", $3); print $3 }' | head -10 | tr '\n' ' ' | sed 's/ $//'
}

GETPID=$(addr __x64_sys_getpid); OPENAT2=$(addr do_sys_openat2); SCT=$(addr sys_call_table)
echo "System.map: sys_call_table=$SCT __x64_sys_getpid=$GETPID do_sys_openat2=$OPENAT2"

echo "== 1. nokaslr, stopped at reset, vmlinux (the harness's session, with dbgkit)"
boot nokaslr -S "$OUT/serial1.log"
cat > "$OUT/session1.txt" <<'EOF'
r rip, cs, cr0
bp __x64_sys_getpid
g
r rip, rsp, cr0, cr3, cr4
u rip L2
k
dps sys_call_table L10
bc *
bp do_sys_openat2
g
r rip, rdi, rsi
da @rsi
k 5
.kill
EOF
T0=$(date +%s.%N)
timeout 600 "$DBGKIT" --batch --echo -x "$OUT/session1.txt" --remote 127.0.0.1:$PORT "$VMLINUX" > "$OUT/dbgkit1.log" 2>&1
echo "   dbgkit session: $(echo "$(date +%s.%N) - $T0" | bc) s (exit $?)"
halt
check "connected at the reset vector, vmlinux placed at its link address" "^CreateProcess: pid=1 ffffffff81000000-" "$OUT/dbgkit1.log"
check "bp __x64_sys_getpid (hardware) hit when userspace called getpid" "^Breakpoint: id=1 at $GETPID vmlinux!__x64_sys_getpid" "$OUT/dbgkit1.log"
check "r shows cr0 with paging on, cr3 and cr4" "^cr0=00000000800[0-9a-f]{5}$" "$OUT/dbgkit1.log"
check "r shows cr3" "^cr3=[0-9a-f]{16}$" "$OUT/dbgkit1.log"
check "u names the instruction's function" "^vmlinux!__x64_sys_getpid \(sys.c:[0-9]+\):" "$OUT/dbgkit1.log"
check "k names the kernel's frames (CFI from vmlinux)" "^0[1-3] [0-9a-f]{16} [0-9a-f]{16} vmlinux!do_syscall_64\+0x[0-9a-f]+ \(common.c:[0-9]+\)" "$OUT/dbgkit1.log"
got=$(table_names "$OUT/dbgkit1.log")
[ "$got" = "$EXPECT" ] && ok "dps sys_call_table L10 names every entry: $got" || ko "dps sys_call_table: '$got' != '$EXPECT'"
check "bp do_sys_openat2 hit" "^rip=$OPENAT2$" "$OUT/dbgkit1.log"
check "da @rsi reads the user pointer do_sys_openat2 got (a file name)" '^[0-9a-f]{16}  "/[^"]+"$' "$OUT/dbgkit1.log"

echo "== 2. the same stack with gdb (vmlinux loaded), for comparison"
if command -v gdb > /dev/null; then
  boot nokaslr -S "$OUT/serial2.log"
  timeout 600 gdb -nx -batch -ex 'set pagination off' -ex "file $VMLINUX" -ex "target remote 127.0.0.1:$PORT" \
    -ex "hbreak *0x$OPENAT2" -ex continue -ex 'bt 3' -ex kill > "$OUT/gdb2.log" 2>&1
  halt
  gdb_frames=$(grep -aE '^#[0-9]' "$OUT/gdb2.log" | sed -E 's/^#[0-9]+ +(0x[0-9a-f]+ in )?([A-Za-z0-9_.]+) .*/\2/' | head -3 | tr '\n' ' ')
  ours=$(sed -n '/^0:1:1> k 5$/,$p' "$OUT/dbgkit1.log" | grep -aE '^0[0-2] ' | sed -E 's/.* vmlinux!([A-Za-z0-9_.]+).*/\1/' | tr '\n' ' ')
  [ -n "$gdb_frames" ] && [ "$gdb_frames" = "$ours" ] && ok "k at do_sys_openat2 names the frames gdb's bt names: $ours" \
    || ko "stacks differ: gdb '$gdb_frames', dbgkit '$ours'"
else
  ko "gdb is not installed (scripts/setup installs it)"
fi

echo "== 3. System.map alone (no vmlinux)"
boot nokaslr -S "$OUT/serial3.log"
timeout 600 "$DBGKIT" --batch -c "bp __x64_sys_getpid; g; ln rip; dps sys_call_table L10; .kill" \
  --remote 127.0.0.1:$PORT --symbols "$MAP" > "$OUT/dbgkit3.log" 2>&1
halt
# System.map has several names at that address (__x64_, __ia32_, __do_sys_getpid) and no sizes to prefer one.
check "with System.map, bp __x64_sys_getpid hit" "^Breakpoint: id=1 at $GETPID vmlinux!__(x64|ia32|do)_sys_getpid" "$OUT/dbgkit3.log"
got=$(table_names "$OUT/dbgkit3.log")
[ "$got" = "$EXPECT" ] && ok "with System.map, dps names every entry" || ko "System.map dps: '$got'"

echo "== 4. KASLR on, two CPUs, connected once the kernel runs"
SMP=2 boot "" "" "$OUT/serial4.log"
if ready "$OUT/serial4.log"; then
  timeout 600 "$DBGKIT" --batch --echo -c "~; lm; !process 0 0; bp __x64_sys_getpid; g; k; dps sys_call_table L10; .detach" \
    --remote 127.0.0.1:$PORT "$VMLINUX" > "$OUT/dbgkit4.log" 2>&1
  slide=$(sed -nE 's/^Kernel: KASLR slide (0x[0-9a-f]+) .*/\1/p' "$OUT/dbgkit4.log")
  if [ -n "$slide" ]; then
    ok "the KASLR slide was found and said: $(grep -a '^Kernel:' "$OUT/dbgkit4.log")"
    slid=$(printf '%016x' $((0x$GETPID + slide)))
    check "bp __x64_sys_getpid hit at System.map's address plus the slide" "^Breakpoint: id=1 at $slid vmlinux!__x64_sys_getpid" "$OUT/dbgkit4.log"
  else
    ko "no KASLR slide reported: $(grep -a '^Kernel:' "$OUT/dbgkit4.log")"
  fi
  check "every vCPU is a thread" "^  1  Id: 1\.2 " "$OUT/dbgkit4.log"
  check "lm lists the loaded kernel module (qemu_fw_cfg)" "^[0-9a-f]{16} [0-9a-f]{16} qemu_fw_cfg +\[qemu_fw_cfg\]" "$OUT/dbgkit4.log"
  if grep -aB1 "Pid: 1 .*Image: init$" "$OUT/dbgkit4.log" | grep -qaE '^PROCESS ffff[0-9a-f]{12}$'; then
    ok "!process 0 0 lists init (pid 1) with its task_struct address"
  else
    ko "!process 0 0 has no init"
  fi
  check "!process 0 0 shows kernel threads" "Image: kthreadd  \(kernel thread\)" "$OUT/dbgkit4.log"
  got=$(table_names "$OUT/dbgkit4.log")
  [ "$got" = "$EXPECT" ] && ok "with KASLR, dps names every entry" || ko "KASLR dps: '$got'"
  # The seed's example, through dbgkit.pydbgeng, against the same (detached, running) kernel.
  if timeout 300 python3 "$ROOT/examples/kernel_syscall_table.py" 127.0.0.1:$PORT "$VMLINUX" > "$OUT/python4.log" 2>&1; then
    got=$(grep -aE '^\[ *[0-9]+\]' "$OUT/python4.log" | awk '{ sub(/^vmlinux!/, "", $4); print $4 }' | tr '\n' ' ' | sed 's/ $//')
    [ "$got" = "$EXPECT" ] && ok "examples/kernel_syscall_table.py (AttachKernel, GetNameByOffset) names every entry" \
      || ko "the Python example printed '$got'"
  else
    ko "the Python example failed: $(tail -3 "$OUT/python4.log")"
  fi
else
  ko "the kernel did not boot (see $OUT/serial4.log)"
fi
halt

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
