#!/usr/bin/env bash
# Upload throughput of `hsx provision push` over TCP into a private hsxd (release builds):
# a ~128 KiB image (64 KiB of code, 60 KiB of data) pushed RUNS times with --activate and
# --replace; prints each push's bytes/s and the median.
#   scripts/bench/provision.sh [RUNS] [CHUNK]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
chunk=${2:-16384}
cargo build --release -q -p hsx-cli -p hsxd
bin=$PWD/target/release
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export HSX_ADDR=127.0.0.1:$port
"$bin/hsxd" --listen "$HSX_ADDR" --store "$tmp/store" >"$tmp/hsxd.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do "$bin/hsx" ping >/dev/null 2>&1 && break; sleep 0.1; done
printf '.name "big"\n.entry main\nmain:\n    JMP main\n.org 65532\n    RET\n.data\nblob:\n.zero 61440\n' >"$tmp/big.mvasm"
"$bin/hsx" asm "$tmp/big.mvasm" -o "$tmp/big.hxe" >/dev/null
size=$(stat -c %s "$tmp/big.hxe")
"$bin/hsx" provision push "$tmp/big.hxe" --activate >/dev/null
rates=()
for _ in $(seq "$runs"); do
    t0=$(date +%s.%N)
    "$bin/hsx" provision push "$tmp/big.hxe" --replace big --activate --grace-ms 0 --chunk "$chunk" >/dev/null
    t1=$(date +%s.%N)
    rates+=("$(python3 -c "print($size/($t1-$t0))")")
done
python3 - "$size" "$chunk" "${rates[@]}" <<'PY'
import statistics, sys
size, chunk, rates = int(sys.argv[1]), int(sys.argv[2]), [float(r) for r in sys.argv[3:]]
for r in rates:
    print(f"  push {size} B: {r/1e6:.2f} MB/s")
print(f"provision over TCP: median {statistics.median(rates)/1e6:.2f} MB/s ({size} B image, {chunk} B chunks, hex in JSON, {len(rates)} runs, whole CLI run incl. connect and activation)")
PY
