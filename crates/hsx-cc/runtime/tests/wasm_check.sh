#!/bin/sh
# Compiles every runtime source for wasm32-wasi, links a printf hello world
# and a program touching most of the runtime, and checks that no wasi-libc
# stdio/malloc object is pulled in, that only allowed imports remain and
# that the math helpers do not contain the instructions they replace.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
rt="$here/.."
out=${OUT:-$(mktemp -d)}
CC="clang-16 --target=wasm32-wasi"
for f in "$rt"/libc/*.c; do
    $CC -Os -fno-builtin -Wall -Wextra -Werror -I"$rt/include" -c "$f" -o "$out/$(basename "$f" .c).o"
done
rm -f "$out/libhsxrt.a"
llvm-ar-16 rcs "$out/libhsxrt.a" "$out"/*.o
fail=0
link() { # name source
    $CC -O2 -I"$rt/include" -c "$2" -o "$out/$1.o"
    $CC -O2 -Wl,--global-base=16384 -Wl,--strip-all "$out/$1.o" \
        "$out/libhsxrt.a" \
        -Wl,--trace -o "$out/$1.wasm" > "$out/$1.trace"
    if grep -E 'libc\.a\((printf|vfprintf|fprintf|fwrite|fputs|puts|stdout|stderr|stdin|__stdio_[a-z_]*|__towrite|dlmalloc|exit|atexit|__assert_fail)\.o\)' "$out/$1.trace"; then
        echo "FAIL: $1 pulls wasi-libc stdio/malloc/exit objects"; fail=1
    fi
    echo "$1.wasm: $(wc -c < "$out/$1.wasm") bytes"
}
cat > "$out/hello.c" <<'C'
#include <stdio.h>
int main(void) { printf("%d %s %f\n", 42, "hello", 3.25); return 0; }
C
cat > "$out/big.c" <<'C'
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hsx.h"
#include "hsx_mailbox.h"
#include "hsx_stdio.h"
static void bye(void) { puts("bye"); }
int main(int argc, char **argv) {
    atexit(bye);
    char *p = malloc(100); p = realloc(p, 200); strcpy(p, argv[0]);
    fprintf(stderr, "%s %g %e %.3f\n", p, sqrt(argc * 2.0), floor(1.5), fmod(7.5, 2));
    int c = getchar(); char line[32]; fgets(line, sizeof line, stdin);
    int h = hsx_mailbox_open("app:x", 0); hsx_stdio_puts("x");
    uint16_t oid; hsx_val_register(1, 2, 0, 0, &oid); hsx_sleep_ms(5);
    assert(c != 12345);
    free(p);
    return h;
}
C
link hello "$out/hello.c"
link big "$out/big.c"
if llvm-objdump-16 -d "$out/math.o" | grep -E '(f32|f64)\.(sqrt|floor|ceil|trunc|nearest|min|max)\b'; then
    echo "FAIL: math helpers contain the instructions they implement"; fail=1
fi
if llvm-objdump-16 -d "$out"/*.o | grep -E 'memory\.(copy|fill)'; then
    echo "FAIL: bulk-memory instructions"; fail=1
fi
[ $fail -eq 0 ] && echo "wasm checks: all passed"
exit $fail
