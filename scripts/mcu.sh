#!/usr/bin/env bash
# Build the Cortex-M4 firmware (firmware/), measure it, run it twice under QEMU mps2-an386
# (the second boot reuses the first boot's FRAM image) and compare each app's UART output
# and exit status with `hsx run --mem segmented` of the same images.
# Last line: mcu: flash <B> B (executive+VM <B> B), static RAM <B> B, heap peak <B> B, <k>/<n> apps match hsx run
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FW=$ROOT/firmware
APPS=(hello producer consumer sleeper faulter counter)
# Regression ceiling for executive+VM flash (bytes): the measured 76 024 B (with per-task
# budgets and the watchdog) plus ~3 %. The issue's target is 28 KiB; see docs/mcu.md for
# where the rest goes. Lower it as the executive shrinks.
LIMIT=${MCU_EXEC_FLASH_LIMIT:-78300}
# Regression ceiling for the four-task SRAM total (heap peak + main-stack peak + statics of
# the `four` build): measured 15 888 B plus ~2 %, under the 16 KiB target.
RAM4_LIMIT=${MCU_FOUR_TASK_RAM_LIMIT:-16200}
SIZE=${LLVM_SIZE:-$(command -v llvm-size || command -v rust-size || echo llvm-size)}
NM=${NM:-$(command -v llvm-nm || command -v nm)}

echo "== mcu: assemble apps"
cargo build -q -p hsx-cli
HSX=$ROOT/target/debug/hsx
mkdir -p "$FW/apps/build"
for a in "${APPS[@]}" pushed pushed_v2; do
    "$HSX" asm "$FW/apps/$a.mvasm" -o "$FW/apps/build/$a.hxe"
done

echo "== mcu: build firmware (release: opt-level z, LTO, panic=abort) and the bare baseline"
(cd "$FW" && cargo build -q --release && cargo build -q --release --features bare --target-dir target/bare \
    && cargo build -q --release --features four --target-dir target/four \
    && cargo build -q --release --features provision --target-dir target/provision)
ELF=$FW/target/thumbv7em-none-eabihf/release/hsx-firmware
BARE=$FW/target/bare/thumbv7em-none-eabihf/release/hsx-firmware
FOUR=$FW/target/four/thumbv7em-none-eabihf/release/hsx-firmware
PROV=$FW/target/provision/thumbv7em-none-eabihf/release/hsx-firmware

# flash = text + data (cortex-m-rt copies .data from flash); static RAM = data + bss minus
# the heap arena (reported separately as heap peak).
sizes() { "$SIZE" "$1" | awk 'NR==2 {print $1, $2, $3}'; }
arena() { "$NM" -S --size-sort --radix=d "$1" | awk '/ARENA/ {print $2 + 0}' | tail -1; }
read -r text data bss < <(sizes "$ELF")
read -r btext bdata bbss < <(sizes "$BARE")
ar=$(arena "$ELF"); bar=$(arena "$BARE")
read -r ftext fdata fbss < <(sizes "$FOUR")
far=$(arena "$FOUR")
four_static=$((fdata + fbss - far))
flash=$((text + data))
apps_bytes=0
for a in "${APPS[@]}"; do apps_bytes=$((apps_bytes + $(stat -c %s "$FW/apps/build/$a.hxe"))); done
exec_flash=$((flash - (btext + bdata) - apps_bytes))
sram=$((data + bss - ar))
exec_sram=$((sram - (bdata + bbss - bar)))
echo "flash $flash B = bare board/runtime $((btext + bdata)) B + app images $apps_bytes B + executive+VM $exec_flash B"
echo "static RAM $sram B (executive+VM $exec_sram B), heap arena $ar B"
echo "flash by crate (symbol sizes from nm; LTO inlines much of the executive into main):"
llvm-nm -S -C --size-sort --radix=d "$ELF" 2>/dev/null | python3 -c '
import re, sys, collections
tot = collections.Counter()
for line in sys.stdin:
    parts = line.split(None, 3)
    if len(parts) < 4 or parts[2] not in "tTrR" or "ARENA" in parts[3]:
        continue
    name = parts[3].strip().lstrip("<").replace("impl ", "")
    m = re.match(r"&?(?:mut )?([A-Za-z_][A-Za-z0-9_]*)", name)
    tot[m.group(1) if m else "?"] += int(parts[1])
for k, v in tot.most_common(10):
    print(f"  {v:7d} B  {k}")
'

echo "== mcu: run under qemu-system-arm -M mps2-an386 (two boots, one FRAM image)"
RUN=$(mktemp -d)
trap 'rm -rf "$RUN"' EXIT
for boot in 1 2; do
    (cd "$RUN" && timeout 60 qemu-system-arm -M mps2-an386 -nographic -monitor none \
        -semihosting-config enable=on,target=native -kernel "$ELF" >"boot$boot.txt" 2>&1) || {
        cat "$RUN/boot$boot.txt"; echo "mcu: firmware boot $boot failed or timed out"; exit 1; }
done
cat "$RUN/boot1.txt"
mkdir -p "$RUN/four"
(cd "$RUN/four" && timeout 60 qemu-system-arm -M mps2-an386 -nographic -monitor none \
    -semihosting-config enable=on,target=native -kernel "$FOUR" >"$RUN/four.txt" 2>&1) || {
    cat "$RUN/four.txt"; echo "mcu: four-task firmware failed or timed out"; exit 1; }

echo "== mcu: provisioning over the UART (hsx provision push --serial), a broken update rolled back, reboots"
mkdir -p "$RUN/prov"
# Boot the provisioning firmware with its UART on a TCP port and push IMAGE to it. The
# chardev log keeps everything the board prints, also after the push has disconnected.
# WAIT=on: the board starts when the push connects (it then pushes while the built-in apps
# run); off: it starts at once and the push comes a second later, once they have ended, so
# the heap figure is the streamed load's alone.
push_boot() { # NAME IMAGE WAIT
    local port pushed="" qemu_pid
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    (cd "$RUN/prov" && timeout 60 qemu-system-arm -M mps2-an386 -nographic -monitor none \
        -semihosting-config enable=on,target=native \
        -chardev "socket,id=ser0,host=127.0.0.1,port=$port,server=on,wait=$3,logfile=$RUN/$1.txt" \
        -serial chardev:ser0 -kernel "$PROV" >"$RUN/$1.qemu" 2>&1) &
    qemu_pid=$!
    [[ $3 == on ]] || sleep 1
    # QEMU starts the board when the first connection comes; retry only until it listens.
    for _ in $(seq 100); do
        if pushed=$("$HSX" provision push --serial "tcp:127.0.0.1:$port" "$2" 2>"$RUN/$1.err"); then
            break
        fi
        pushed=""
        grep -q "cannot open serial line" "$RUN/$1.err" || break
        sleep 0.1
    done
    wait "$qemu_pid" || { cat "$RUN/$1.qemu" "$RUN/$1.txt" "$RUN/$1.err"; echo "mcu: provisioning boot $1 failed"; exit 1; }
    echo "$pushed"
    [[ -n $pushed ]] || { cat "$RUN/$1.err"; echo "mcu: the push over the UART failed ($1)"; exit 1; }
}
expect() { # FILE REGEX WHAT
    grep -Eq "$2" "$RUN/$1" || { grep -v '^@' "$RUN/$1"; echo "mcu: $3"; exit 1; }
}
push_boot prov1 "$FW/apps/build/pushed.hxe" off
grep -E '^provision:|pushed' "$RUN/prov1.txt"
expect prov1.txt '^task 7 pushed: returned exit=7' "the pushed app did not run"
expect prov1.txt '^provision: pushed confirmed in slot a' "the push was not confirmed"
push_boot prov2 "$FW/apps/build/pushed_v2.hxe" on
grep -E '^(slot|provision):|pushed' "$RUN/prov2.txt"
expect prov2.txt '^slot: pushed started from slot a' "the pushed app did not start again from its slot after a reboot"
expect prov2.txt '^provision: pushed faulted \(MEM_FAULT\) on trial: rolling back to slot a' "the faulting update was not rolled back"
expect prov2.txt '^task [0-9]+ pushed: returned exit=7' "the previous image did not run again after the rollback"
(cd "$RUN/prov" && timeout 60 qemu-system-arm -M mps2-an386 -nographic -monitor none \
    -semihosting-config enable=on,target=native -kernel "$PROV" </dev/null >"$RUN/prov3.txt" 2>&1) || {
    cat "$RUN/prov3.txt"; echo "mcu: provisioning reboot failed"; exit 1; }
grep -E '^slot:|pushed' "$RUN/prov3.txt"
expect prov3.txt '^task 7 pushed: returned exit=7' "the known-good image did not boot after the rollback"
load_peak=$(sed -n 's/.*streamed-load heap peak \([0-9]*\) B (line buffer \([0-9]*\) B).*/\1 B + \2 B line buffer/p' "$RUN/prov1.txt")
read -r ptext pdata _ < <(sizes "$PROV")
echo "mcu: provisioning: pushed $(stat -c %s "$FW/apps/build/pushed.hxe") B over the UART, restarted from slot a after a reboot, a faulting update rolled back; streamed-load heap ${load_peak:-?}; provision build flash $((ptext + pdata)) B (+$((ptext + pdata - flash)) B)"

echo "== mcu: compare with hsx run --mem segmented"
imgs=()
for a in "${APPS[@]}"; do imgs+=("$FW/apps/build/$a.hxe"); done
"$HSX" run --json --mem segmented --stack-size 1536 --virtual-time "${imgs[@]}" >"$RUN/host.json" || true

python3 - "$RUN" "$flash" "$exec_flash" "$sram" "$LIMIT" "$four_static" "$RAM4_LIMIT" "${APPS[@]}" <<'PY'
import json, re, sys
run, flash, exec_flash, sram, limit, four_static, ram4_limit = sys.argv[1], *map(int, sys.argv[2:8])
apps = sys.argv[8:]
host = {t["app_name"]: t for t in json.load(open(f"{run}/host.json"))["tasks"]}

def parse(path):
    out, final, peak, stack = {}, {}, 0, 0
    for line in open(path, encoding="utf-8", errors="replace"):
        m = re.match(r"\[(\d+):([^\]!]+)\] (.*\n?)", line)
        if m:
            out[m.group(2)] = out.get(m.group(2), "") + m.group(3)
        m = re.match(r"task (\d+) (\S+): (\S+)(?: exit=(\d+))?(?: fault=(\S+))?", line)
        if m:
            final[m.group(2)] = (m.group(3), int(m.group(4)) if m.group(4) else None, m.group(5))
        m = re.match(r"heap: peak (\d+) B", line)
        if m:
            peak = int(m.group(1))
        m = re.match(r"stack: peak (\d+) B", line)
        if m:
            stack = int(m.group(1))
    return out, final, peak, stack

out1, fin1, peak, stack = parse(f"{run}/boot1.txt")
out2, fin2, _, _ = parse(f"{run}/boot2.txt")
out4, fin4, peak4, stack4 = parse(f"{run}/four.txt")
ok = 0
four_ok = True
for a in apps:
    h = host.get(a)
    want = (h["state"], h["exit_status"], h["fault"]["name"] if h["fault"] else None) if h else None
    good = h is not None and out1.get(a, "") == h["stdout"] and fin1.get(a) == want
    if a == "counter":
        # The persisted value survived the reboot: boot 2 counts on from boot 1.
        good = good and out1.get(a) == "boot 1\n" and out2.get(a) == "boot 2\n"
    print(f"  {a:9} {'match' if good else 'DIFFER'}: mcu {fin1.get(a)} {out1.get(a, '')!r} / hsx run {want} {h['stdout'] if h else None!r}")
    ok += good
    if a in fin4 and (fin4[a] != fin1.get(a) or out4.get(a) != out1.get(a)):
        print(f"  {a:9} DIFFERS in the four-task build: {fin4[a]} {out4.get(a)!r}")
        four_ok = False
if sorted(fin4) != sorted(["hello", "producer", "consumer", "sleeper"]):
    print(f"  four-task build ran {sorted(fin4)}")
    four_ok = False
ram4 = peak4 + stack4 + four_static
print(f"six tasks: heap peak {peak} B + main stack peak {stack} B + statics {sram} B = {peak + stack + sram} B of SRAM")
print(f"four tasks (1.5 KiB stacks): heap peak {peak4} B + main stack peak {stack4} B + statics {four_static} B = {ram4} B of SRAM (target 16384 B){'' if four_ok else ', OUTPUT DIFFERS'}")
print(f"mcu: flash {flash} B (executive+VM {exec_flash} B), static RAM {sram} B, heap peak {peak} B, {ok}/{len(apps)} apps match hsx run")
if ok != len(apps) or not four_ok:
    sys.exit(1)
if ram4 > ram4_limit:
    print(f"mcu: four-task SRAM {ram4} B is over the regression ceiling {ram4_limit} B", file=sys.stderr)
    sys.exit(1)
if exec_flash > limit:
    print(f"mcu: executive+VM flash {exec_flash} B is over the regression ceiling {limit} B", file=sys.stderr)
    sys.exit(1)
PY
