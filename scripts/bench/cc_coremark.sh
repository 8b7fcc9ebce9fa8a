#!/usr/bin/env bash
# The CoreMark-like C kernel (scripts/bench/c/kernel.c) built natively and with `hsx cc`:
# prints MiniVM instructions executed, wall times and the slowdown, and checks that both
# print the same checksum. Usage: scripts/bench/cc_coremark.sh [ITERATIONS] [OPT]
set -euo pipefail
cd "$(dirname "$0")/../.."
iters=${1:-2000}
opt=${2:--O2}
clang=${HSX_CLANG:-clang-16}
cargo build --release -q -p hsx-cli
hsx=target/release/hsx
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$clang $opt -DITERATIONS="$iters" scripts/bench/c/kernel.c -o "$tmp/native"
$hsx cc $opt -DITERATIONS="$iters" scripts/bench/c/kernel.c -o "$tmp/kernel.hxe"
code=$(python3 -c "import sys,struct; b=open(sys.argv[1],'rb').read(); print(struct.unpack('>I', b[12:16])[0])" "$tmp/kernel.hxe")
best_native=""
for _ in 1 2 3; do
    t=$(python3 - "$tmp/native" <<'PY'
import subprocess, sys, time
t = time.perf_counter(); out = subprocess.run([sys.argv[1]], capture_output=True, text=True).stdout
print(f"{time.perf_counter() - t:.6f} {out.strip()}")
PY
)
    best_native=$(printf '%s\n%s\n' "$best_native" "$t" | grep . | sort -n | head -1)
done
best_vm=""
for _ in 1 2 3; do
    r=$($hsx run --json "$tmp/kernel.hxe")
    line=$(python3 -c "import json,sys; d=json.loads(sys.argv[1]); t=d['tasks'][0]; print(f\"{d['wall_s']:.6f} {d['instructions']} {t['stdout'].strip()}\")" "$r")
    best_vm=$(printf '%s\n%s\n' "$best_vm" "$line" | grep . | sort -n | head -1)
done
read -r tn nsum <<<"$best_native"
read -r tv instr vsum <<<"$best_vm"
nsum=${best_native#* }; vsum=${best_vm#* * }
[ "$nsum" = "$vsum" ] || { echo "checksum mismatch: native '$nsum' vs hsx '$vsum'"; exit 1; }
python3 - "$iters" "$opt" "$code" "$tn" "$tv" "$instr" "$nsum" <<'PY'
import sys
iters, opt, code, tn, tv, instr, ck = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
print(f"kernel x{iters} {opt}: {ck}; code {code} B")
print(f"native {tn*1e3:.2f} ms (process, best of 3); hsx run {tv*1e3:.2f} ms, {instr} MiniVM instructions, {instr/tv/1e6:.0f} M instr/s")
print(f"slowdown {tv/tn:.1f}x (includes native process start-up: use large ITERATIONS)")
PY
