#!/usr/bin/env bash
# Resident memory of the release `hsxd`, idle with 8 small tasks loaded
# (design.md §7 budget: ≤ 16 MiB).
#
#   scripts/bench/rss.sh            # builds target/release/hsxd if needed, prints VmRSS
#   HSXD=/path/to/hsxd TASKS=8 PROGRAM=examples/loop.mvasm scripts/bench/rss.sh
#
# Starts the daemon on 127.0.0.1:0, loads the tasks over one persistent protocol connection
# (bash /dev/tcp, no other client needed), waits, and reads VmRSS/VmHWM from /proc. Then runs
# the auto clock for a second, stops it, and reads them again. Exits non-zero if the idle
# figure is over the budget.
set -euo pipefail
cd "$(dirname "$0")/../.."

TASKS=${TASKS:-8}
PROGRAM=${PROGRAM:-examples/loop.mvasm}
SETTLE=${SETTLE:-2}
BUDGET_KIB=$((16 * 1024))

if [[ -z "${HSXD:-}" ]]; then
    cargo build --release -p hsxd --bin hsxd >&2
    HSXD=target/release/hsxd
fi

out=$(mktemp)
"$HSXD" --listen 127.0.0.1:0 >"$out" 2>/dev/null &
pid=$!
cleanup() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$out"
}
trap cleanup EXIT

port=
for _ in $(seq 100); do
    port=$(sed -n 's/^hsxd listening on .*:\([0-9]*\)$/\1/p' "$out")
    [[ -n "$port" ]] && break
    sleep 0.05
done
[[ -n "$port" ]] || { echo "hsxd did not report its port" >&2; exit 1; }

exec 3<>"/dev/tcp/127.0.0.1/$port"
rpc() {
    printf '%s\n' "$1" >&3
    local line
    IFS= read -r line <&3
    case "$line" in
        *'"status":"ok"'*) ;;
        *) echo "request failed: $1 -> $line" >&2; exit 1 ;;
    esac
}

status() { # field from /proc/<pid>/status, in KiB
    awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/status"
}
report() {
    printf '%-32s VmRSS %6d KiB (%5.2f MiB)  VmHWM %6d KiB  threads %s  | load %s\n' \
        "$1" "$(status VmRSS)" "$(echo "$(status VmRSS) / 1024" | bc -l)" "$(status VmHWM)" \
        "$(status Threads)" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

rpc '{"cmd":"ping"}'
sleep "$SETTLE"
report "started, no tasks:"
abs=$(realpath "$PROGRAM")
for _ in $(seq "$TASKS"); do
    rpc "{\"cmd\":\"load\",\"path\":\"$abs\"}"
done
rpc '{"cmd":"ps"}'
sleep "$SETTLE"
report "idle, $TASKS tasks loaded:"
idle=$(status VmRSS)
rpc '{"cmd":"clock","op":"start"}'
sleep 1
rpc '{"cmd":"clock","op":"stop"}'
rpc '{"cmd":"ps"}'
sleep "$SETTLE"
report "after 1 s of auto clock:"
exec 3>&-

if (( idle > BUDGET_KIB )); then
    echo "over budget: idle VmRSS $idle KiB > $BUDGET_KIB KiB" >&2
    exit 2
fi
echo "within budget: idle VmRSS $idle KiB <= $BUDGET_KIB KiB"
