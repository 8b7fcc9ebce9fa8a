#!/usr/bin/env bash
# System packages the test suite needs: the C toolchain of `hsx cc` (clang 16 with wasm32,
# lld, wasi-libc, compiler-rt), node and npm for the DAP tests (scripts/dap_test.sh) and,
# for the firmware checks, QEMU and llvm-size; python-can and can-isotp (pip) for the CAN
# interop test. Installs the missing ones with apt-get/pip when run as root; otherwise says
# what to install.
set -euo pipefail
need=()
command -v clang-16 >/dev/null || need+=(clang-16)
command -v wasm-ld-16 >/dev/null || need+=(lld-16)
[ -e /usr/include/wasm32-wasi/stdio.h ] || need+=(wasi-libc)
[ -e /usr/lib/llvm-16/lib/clang/16/lib/wasi/libclang_rt.builtins-wasm32.a ] || need+=(libclang-rt-16-dev-wasm32)
# The DAP tests (scripts/dap_test.sh) run under node and install their client with npm.
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
if [ "${1:-}" = "--firmware" ]; then
    command -v qemu-system-arm >/dev/null || need+=(qemu-system-arm)
    command -v llvm-size >/dev/null || need+=(llvm)
fi
# The CAN interop test (crates/hsx-can/tests/python_interop.rs) runs a python-can/can-isotp master.
command -v python3 >/dev/null || need+=(python3 python3-pip)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "installing: ${need[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "missing packages: ${need[*]} — install them with: sudo apt-get install ${need[*]}" >&2
        exit 1
    fi
fi
if ! python3 -c "import can, isotp, serial" 2>/dev/null; then
    echo "installing python packages: python-can can-isotp pyserial"
    # Debian's own python3 marks its site-packages as externally managed; the flag is needed there.
    # Not fatal: without a reachable package index the interop test skips (and says why).
    python3 -m pip install --quiet python-can can-isotp pyserial 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages python-can can-isotp pyserial \
        || echo "warning: could not install python-can/can-isotp; the CAN interop test will skip" >&2
fi
