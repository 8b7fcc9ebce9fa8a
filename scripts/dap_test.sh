#!/usr/bin/env bash
# The DAP tests: builds `hsx` and `hsxd`, installs the pinned npm test client
# (@vscode/debugadapter-testsupport) with `npm ci`, runs tests/dap against
# target/debug/hsx, and checks that the VS Code extension in editors/vscode packages.
# Every wait in the tests has a timeout; the whole run takes a few seconds after the build.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
command -v node >/dev/null && command -v npm >/dev/null || {
    echo "dap_test: node and npm are needed (scripts/deps.sh installs them)" >&2
    exit 1
}
cargo build -p hsx-cli -p hsxd
export HSX_BIN="$root/target/debug/hsx" HSXD_BIN="$root/target/debug/hsxd"
(cd tests/dap && npm ci --no-audit --no-fund --loglevel=error && timeout 180 npm test)
# The extension must package (vsce is pinned in its package-lock.json).
(cd editors/vscode && npm ci --no-audit --no-fund --loglevel=error \
    && timeout 120 npx --no-install vsce package --out "$root/target/hsx-vscode.vsix" >/dev/null)
echo "dap_test: ok (extension: target/hsx-vscode.vsix)"
