#!/usr/bin/env bash
# hsxd's auto clock against a manual step of the same work: one spinning task (ADD/JMP),
# a private hsxd on a free loopback port. Prints M instructions/s for `hsx step -n N`
# (one RPC) and for the auto clock over SECONDS (auto_total_steps / wall time).
#   scripts/bench/clock_rate.sh [SECONDS] [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-3}
n=${2:-500000000}
cargo build --release -q -p hsx-cli -p hsxd
bin=$PWD/target/release
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export HSX_ADDR=127.0.0.1:$port
"$bin/hsxd" --listen "$HSX_ADDR" >"$tmp/hsxd.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do "$bin/hsx" ping >/dev/null 2>&1 && break; sleep 0.1; done
printf '.entry main\nmain:\n    LDI R1, 0\n    LDI R2, 1\nloop:\n    ADD R1, R1, R2\n    JMP loop\n' >"$tmp/spin.mvasm"
"$bin/hsx" load "$tmp/spin.mvasm" >/dev/null
steps() { "$bin/hsx" clock --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["clock"]["auto_total_steps"])'; }
t0=$(date +%s.%N)
"$bin/hsx" step -n "$n" >/dev/null
t1=$(date +%s.%N)
python3 -c "print(f'manual step: {$n/($t1-$t0)/1e6:.0f} M instr/s ($n instructions in {$t1-$t0:.3f} s, one RPC)')"
s0=$(steps); t0=$(date +%s.%N)
"$bin/hsx" clock start >/dev/null
sleep "$secs"
"$bin/hsx" clock stop >/dev/null
t1=$(date +%s.%N); s1=$(steps)
python3 -c "print(f'auto clock:  {($s1-$s0)/($t1-$t0)/1e6:.0f} M instr/s ({$s1-$s0} instructions in {$t1-$t0:.3f} s)')"
