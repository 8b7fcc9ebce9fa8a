#!/usr/bin/env bash
# The whole test suite: unit, integration, property tests, doc tests, and a compile check
# of the benchmarks. This is the README's second quick-start command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
# The C tests need clang 16 for wasm32 (installed here when run as root).
./scripts/deps.sh
cargo test --workspace --all-targets
cargo test --workspace --doc
# hsx dap under a real DAP client (node), and the VS Code extension's packaging.
./scripts/dap_test.sh
# The hsx cc C runtime (printf, malloc, maths) against the host's glibc and libm.
./crates/hsx-cc/runtime/tests/run_host_tests.sh
# The README's tour, command by command, against a private hsxd.
cargo build -p hsx-cli -p hsxd
./scripts/tour.sh target/debug
