#!/usr/bin/env bash
# Runs every command of the README's ten-minute tour, in order, against a private hsxd on a
# free port, and checks what each one prints. CI runs it (scripts/test.sh), so the README
# cannot drift from what the tools do. `hsx tui` is interactive and is covered by its
# rendering tests instead.
#
# Usage: scripts/tour.sh [BIN_DIR]   (default: target/debug, (re)built first so the tour
# never checks stale binaries; a given BIN_DIR is used as it is)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
if [[ $# -eq 0 ]]; then
    cargo build -p hsx-cli -p hsxd
fi
BIN=$(cd "${1:-$ROOT/target/debug}" && pwd)
if [[ ! -x $BIN/hsx || ! -x $BIN/hsxd ]]; then
    echo "tour: FAIL: no hsx and hsxd in $BIN (build them first)" >&2
    exit 1
fi
export PATH="$BIN:$PATH"
export NO_COLOR=1

WORK=$(mktemp -d)
HSXD_PID=
cleanup() {
    if [[ -n $HSXD_PID ]]; then kill "$HSXD_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "tour: FAIL: $*" >&2; exit 1; }
# expect PATTERN CMD... : run CMD, print its output, require PATTERN (grep -E) in it.
expect() {
    local pattern=$1; shift
    local out
    echo "\$ $*"
    out=$("$@" 2>&1) || fail "'$*' exited $? with: $out"
    echo "$out"
    grep -Eq -- "$pattern" <<<"$out" || fail "'$*' did not print /$pattern/"
}
# expect_rc RC PATTERN CMD... : like expect, for a command that must exit with RC.
expect_rc() {
    local want=$1 pattern=$2; shift 2
    local out rc
    echo "\$ $*"
    set +e; out=$("$@" 2>&1); rc=$?; set -e
    echo "$out"
    [[ $rc == "$want" ]] || fail "'$*' exited $rc, expected $want"
    grep -Eq -- "$pattern" <<<"$out" || fail "'$*' did not print /$pattern/"
}
passed=0
step() { passed=$((passed + 1)); }

cp -r examples "$WORK/examples"
cd "$WORK"

# --- Assemble, inspect and run a program.
expect '' hsx asm examples/loop.mvasm -o loop.hxe --sym loop.sym; step
[[ -s loop.hxe && -s loop.sym ]] || fail "asm wrote no loop.hxe/loop.sym"
expect 'print_dec' hsx disasm loop.hxe --sym loop.sym; step
expect_rc 186 '^sum\(1\.\.100\) = 5050$' hsx run loop.hxe; step
expect_rc 186 '"exit_status":5050' hsx run --json loop.hxe; step
expect '\[2:consumer\] message 5' hsx run examples/producer.mvasm examples/consumer.mvasm; step

# --- Start the daemon (on a free port instead of 9998) and load tasks.
hsxd --listen 127.0.0.1:0 >"$WORK/hsxd.out" 2>"$WORK/hsxd.log" &
HSXD_PID=$!
for _ in $(seq 100); do
    grep -q 'listening on' "$WORK/hsxd.out" 2>/dev/null && break
    sleep 0.1
done
ADDR=$(sed -n 's/^hsxd listening on //p' "$WORK/hsxd.out")
[[ -n $ADDR ]] || fail "hsxd did not start: $(cat "$WORK/hsxd.log")"
export HSX_ADDR=$ADDR
echo "tour: hsxd on $ADDR"

expect 'pong' hsx ping; step
expect 'pid 1' hsx load examples/producer.mvasm; step
expect 'pid 2' hsx load examples/consumer.mvasm; step
expect 'producer' hsx ps; step

# --- Watch them live (without the TUI).
expect 'running' hsx clock start; step
sleep 0.5
expect 'returned' hsx ps; step
expect 'app:demo' hsx mbox; step
expect 'task_state' hsx events -n 5; step

# --- Debug.
expect 'resume 3. runs it' hsx load --paused loop.hxe; step
expect '' hsx bp add 3 print_dec; step
expect 'pid 3' hsx resume 3; step
for _ in $(seq 50); do
    hsx ps | grep -Eq '^ +3 +paused' && break
    sleep 0.1
done
expect '3 +paused' hsx ps; step
expect 'print_dec' hsx stack 3; step
expect 'print_dec' hsx dis 3; step
expect 'R0' hsx regs 3; step
expect '' hsx step 3 -n 4; step
expect 'R0' hsx regs 3; step
expect '' hsx bp clear 3; step
expect 'pid 3' hsx resume 3; step
for _ in $(seq 50); do
    hsx ps | grep -Eq '^ +3 +returned' && break
    sleep 0.1
done
expect '3 +returned .* 5050' hsx ps; step

# --- Values.
expect 'pid 4' hsx load examples/values.mvasm; step
expect 'temperature' hsx val ls; step
expect '' hsx val get 0x0101 --pid 4; step
expect 'reset' hsx cmd ls; step
for _ in $(seq 50); do
    hsx ps | grep -Eq '^ +4 +returned' && break
    sleep 0.1
done
expect '= 42\.0' hsx val get 0x0101 --pid 4; step
expect '0x0101 -> 0' hsx cmd call 0x0101 --pid 4; step
expect '= 0\.0' hsx val get 0x0101 --pid 4; step

# --- Push an update.
expect '' hsx asm examples/hello.mvasm -o hello.hxe; step
expect 'hello running as pid 5' hsx provision push hello.hxe --activate; step
expect 'hello running as pid 6, replacing pid 5' hsx provision push hello.hxe --replace hello --activate; step
expect 'no load sessions' hsx provision status; step

# --- Stop the daemon.
expect 'shutting down' hsx shutdown; step
for _ in $(seq 50); do kill -0 "$HSXD_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$HSXD_PID" 2>/dev/null && fail "hsxd still running after shutdown"
HSXD_PID=

echo "tour: $passed passed, 0 failed"
