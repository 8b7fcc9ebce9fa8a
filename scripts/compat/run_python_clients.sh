#!/usr/bin/env bash
# Runs the reference HSX Python clients (shell_client.py, exec_smoke.py, blinkenlights.py,
# hsxdbg and the hsx-dap adapter) against a private hsxd and prints PASS/FAIL per command.
# Not part of CI: it needs the reference repository and a Python 3 interpreter.
#
# Usage: scripts/compat/run_python_clients.sh [--verbose]
#
# Environment:
#   HSX_REF_GIT  git dir of the reference (default /work/.mirror/Hans-Einar+HSX/repo)
#   HSX_REF_DIR  where to export it        (default /tmp/hsx-ref)
#   PYTHON       interpreter               (default python3)
# blinkenlights needs pygame (`pip install pygame`); without it only its polling calls run.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
REF_GIT=${HSX_REF_GIT:-/work/.mirror/Hans-Einar+HSX/repo}
REF_DIR=${HSX_REF_DIR:-/tmp/hsx-ref}
PYTHON=${PYTHON:-python3}

# 1. The reference tree, exported (never copied into this repository).
if [ ! -f "$REF_DIR/python/shell_client.py" ]; then
    mkdir -p "$REF_DIR"
    git --git-dir="$REF_GIT" archive HEAD | tar -x -C "$REF_DIR"
fi

# 2. hsxd, and the example images (.hxe + .sym when the `hsx` assembler builds; hsxd also
#    loads .mvasm directly).
cargo build -q -p hsxd
WORK=$(mktemp -d /tmp/hsx-compat.XXXXXX)
if cargo build -q -p hsx-cli 2>/dev/null; then
    for ex in loop producer consumer values hello; do
        target/debug/hsx asm "examples/$ex.mvasm" -o "$WORK/$ex.hxe" --sym "$WORK/$ex.sym" \
            >/dev/null 2>&1 || cp "examples/$ex.mvasm" "$WORK/"
    done
else
    cp examples/*.mvasm "$WORK/"
fi
# loop/values include lib/print.mvasm relative to themselves.
mkdir -p "$WORK/lib" && cp examples/lib/*.mvasm "$WORK/lib/"

# 3. A private hsxd on a free port.
target/debug/hsxd --listen 127.0.0.1:0 >"$WORK/hsxd.out" 2>"$WORK/hsxd.log" &
HSXD_PID=$!
cleanup() {
    kill "$HSXD_PID" 2>/dev/null || true
    wait "$HSXD_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
PORT=
for _ in $(seq 100); do
    PORT=$(sed -n 's/^hsxd listening on .*:\([0-9][0-9]*\)$/\1/p' "$WORK/hsxd.out")
    [ -n "$PORT" ] && break
    sleep 0.1
done
if [ -z "$PORT" ]; then
    echo "hsxd did not start:" >&2
    cat "$WORK/hsxd.log" >&2
    exit 2
fi
echo "hsxd (pid $HSXD_PID) on 127.0.0.1:$PORT; reference at $REF_DIR"

# 4. The clients.
SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy \
    "$PYTHON" "$ROOT/scripts/compat/drive_clients.py" \
    --ref "$REF_DIR" --port "$PORT" --images "$WORK" "$@"
