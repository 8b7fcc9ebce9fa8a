#!/usr/bin/env bash
# Checks corpus programs without hsx: builds each with clang-16 and gcc at -O0 and -O2
# (sanitizers on where available), and, when Node.js is installed, for wasm32-wasi in a
# 64 KiB memory; runs them all and requires identical stdout and exit status.
# Usage: check_native.sh [prog.c ...]   (default: every *.c next to this script)
set -u
here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- "$here"/*.c
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
W="-std=c11 -Wall -Wextra -Werror"
SAN="-fsanitize=undefined,address -fno-sanitize-recover=all"
# hsx cc compiles _Float16 as __fp16 (clang 16 has no _Float16 on wasm32), so do the same.
WASM="--target=wasm32-wasi --sysroot=/usr -D_Float16=__fp16 -Xclang -fnative-half-arguments-and-returns"
# 64 KiB memory, data from 0x4000 as under hsx cc. -O0 keeps every local in the C shadow
# stack, so it gets 16 KiB; -O2 must fit in 4 KiB.
LINK="-Wl,--global-base=16384 -Wl,--initial-memory=65536 -Wl,--max-memory=65536"
cat > "$work/run.mjs" <<'JS'
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
const wasi = new WASI({ version: 'preview1', args: ['prog'], env: {}, returnOnExit: true });
const inst = await WebAssembly.instantiate(await WebAssembly.compile(await readFile(process.argv[2])), wasi.getImportObject());
let code;
try { code = wasi.start(inst); } catch (e) { process.stderr.write('trap: ' + e + '\n'); code = 134; }
process.exitCode = code;
JS
have_node=0; command -v node >/dev/null && have_node=1
fail=0
for f in "$@"; do
  n=$(basename "$f" .c); d="$work/$n"; mkdir -p "$d"; ok=1
  builds=(clang-16:-O2:"$SAN" clang-16:-O0:"$SAN" gcc:-O2:"$SAN" gcc:-O0:)
  variants=()
  for b in "${builds[@]}"; do
    IFS=: read -r cc opt extra <<< "$b"
    out="$d/${cc}$opt"
    # shellcheck disable=SC2086
    if $cc $W $opt $extra "$f" -lm -o "$out" 2>"$out.log"; then variants+=("$out"); else echo "$n: $cc $opt build failed"; head -5 "$out.log"; ok=0; fi
  done
  # shellcheck disable=SC2086
  if ! clang-16 $W -O2 -c $WASM "$f" -o /dev/null 2>"$d/wasm.log"; then echo "$n: wasm32 compile failed"; head -5 "$d/wasm.log"; ok=0; fi
  for b in -O2:4096 -O0:16384; do
    IFS=: read -r opt stack <<< "$b"
    # shellcheck disable=SC2086
    [ $have_node = 1 ] && clang-16 $W $opt $WASM $LINK -Wl,-z,stack-size=$stack "$f" -lm -o "$d/w$opt.wasm" 2>>"$d/wasm.log" \
      && variants+=("$d/w$opt.wasm")
  done
  for v in "${variants[@]}"; do
    case "$v" in
      *.wasm) timeout 60 node --no-warnings "$work/run.mjs" "$v" > "$v.out" 2>"$v.err" ;;
      *) timeout 60 "$v" > "$v.out" 2>"$v.err" ;;
    esac
    echo $? > "$v.rc"
    if [ -s "$v.err" ] && ! grep -q '^trap: ' "$v.err"; then echo "$n: $(basename "$v") wrote to stderr:"; head -3 "$v.err"; ok=0; fi
  done
  ref=${variants[0]:-}
  for v in "${variants[@]}"; do
    if ! cmp -s "$ref.out" "$v.out" || ! cmp -s "$ref.rc" "$v.rc"; then
      echo "$n: $(basename "$v") differs from $(basename "$ref") (status $(cat "$ref.rc") vs $(cat "$v.rc"))"
      diff "$ref.out" "$v.out" | head -6; ok=0
    fi
  done
  if [ $ok = 1 ] && [ -n "$ref" ]; then echo "$n: ok (status $(cat "$ref.rc"), ${#variants[@]} builds)"; else fail=1; fi
done
exit $fail
