#!/bin/sh
# Builds the runtime's pure parts (formatter, allocator, math) for the host
# under prefixed names (-DHSX_HOST_TEST) and compares them with glibc/libm.
# Exits non-zero on any mismatch.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
rt="$here/.."
cc=${CC:-cc}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cflags="-O2 -Wall -fno-builtin -DHSX_HOST_TEST"
$cc $cflags -c "$rt/libc/printf.c" -o "$out/printf.o"
$cc $cflags -c "$rt/libc/malloc.c" -o "$out/malloc.o"
$cc $cflags -c "$rt/libc/math.c" -o "$out/math.o"
$cc -O2 -w "$here/test_printf.c" "$out/printf.o" -lm -o "$out/test_printf"
$cc -O2 -w "$here/test_malloc.c" "$out/malloc.o" -o "$out/test_malloc"
$cc -O2 -w -fno-builtin "$here/test_math.c" "$out/math.o" -lm -o "$out/test_math"
status=0
"$out/test_printf" || status=1
"$out/test_malloc" || status=1
"$out/test_math" || status=1
[ $status -eq 0 ] && echo "host tests: all passed" || echo "host tests: FAILED"
exit $status
