#!/usr/bin/env bash
# Builds the reference HSX repository's own C examples with `hsx cc` and runs them with
# `hsx run`, and reports per example: builds? runs? gives the result it was written to give?
#
#   scripts/compat/hsx_examples.sh [PATH/TO/HSX/REPO]      (or HSX_REPO=...)
#
# The repository may be a work tree or a bare git directory (then HEAD is read with
# `git show`). Nothing is copied into this project: the examples are extracted into a temp
# dir (kept with KEEP=1). HSX=path picks the hsx binary (default target/release/hsx, built
# if missing). Exit status: 0 when every example matches, 1 otherwise.
#
# What each example "was written to produce" comes from its source and from the reference's
# tests: python/tests/test_<name>.py for examples/tests/test_* (e.g. test_ir_half_main expects
# R0 = 17152), the demo README for examples/demos/mailbox, the comments in examples/c. Most
# of them are "return N from main", so the expected result is `hsx run`'s exit status, which
# is the low 8 bits of the task's exit code (a 16-bit result like 17152 is checked with
# --json, whose report has the full exit_status).
#
# Programs that read stdin (the demo producer, test_stdio_mailbox_c) get their input from a
# small feeder task written here: `hsx run` has no stdin option, but any task may send to
# `svc:stdio.in@<pid>`.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REPO=${1:-${HSX_REPO:-}}
if [ -z "$REPO" ]; then
    echo "usage: $0 PATH/TO/HSX/REPO   (or HSX_REPO=...)" >&2
    exit 2
fi
HSX=${HSX:-$ROOT/target/release/hsx}
if [ ! -x "$HSX" ]; then
    (cd "$ROOT" && cargo build --release -p hsx-cli) || exit 2
fi
MAX_STEPS=${MAX_STEPS:-20000000}
TIMEOUT=${TIMEOUT:-60}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hsx_examples.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
    echo "work dir: $WORK (kept)"
else
    trap 'rm -rf "$WORK"' EXIT
fi

# ---- extract examples/tests, examples/demos, examples/c, examples/lib ----
SRC=$WORK/src
mkdir -p "$SRC"
if git -C "$REPO" rev-parse --is-bare-repository >/dev/null 2>&1 &&
    [ "$(git -C "$REPO" rev-parse --is-bare-repository)" = true ]; then
    git -C "$REPO" archive HEAD examples/tests examples/demos examples/c examples/lib include |
        tar -x -C "$SRC" || exit 2
    REV=$(git -C "$REPO" rev-parse --short HEAD)
else
    for d in examples/tests examples/demos examples/c examples/lib include; do
        mkdir -p "$SRC/$(dirname $d)"
        cp -R "$REPO/$d" "$SRC/$d" || exit 2
    done
    REV=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo "work tree")
fi
# Files written with a UTF-8 BOM (several examples/tests sources): clang accepts them.

# ---- the feeder task: sends its -D FEED_* lines to svc:stdio.in@FEED_PID ----
cat >"$WORK/feeder.c" <<'EOF'
#include <string.h>
#include "hsx.h"
/* Sends FEED_1 .. FEED_3 (those defined) to svc:stdio.in@FEED_PID, one message each, with a
 * short sleep first so the receiver is already waiting. */
#define STR2(x) #x
#define STR(x) STR2(x)
static void feed(int h, const char *s)
{
    hsx_sleep_ms(FEED_DELAY);
    unsigned n = 0;
    while (hsx_mbx_send(h, s, (unsigned)strlen(s), 0, 0, &n) == 1) /* WOULDBLOCK: retry */
        hsx_sleep_ms(1);
}
int main(void)
{
    int h;
    if (hsx_mbx_open("svc:stdio.in@" STR(FEED_PID), 0, &h))
        return 1;
#ifdef FEED_1
    feed(h, FEED_1);
#endif
#ifdef FEED_2
    feed(h, FEED_2);
#endif
#ifdef FEED_3
    feed(h, FEED_3);
#endif
    return 0;
}
EOF

PASS=0
TOTAL=0
ROWS=()

# file-name form of an example name (c/hello -> c_hello)
fname() { printf '%s' "$1" | tr '/ +()' '_____'; }

# build NAME OUT.hxe [cc args...]: compiles; prints the first error lines on failure
build() {
    local name
    name=$(fname "$1")
    local out=$2
    shift 2
    if ! timeout "$TIMEOUT" "$HSX" cc "$@" -o "$out" >"$WORK/$name.cc.log" 2>&1; then
        sed -n '1,6p' "$WORK/$name.cc.log" | sed 's/^/      /'
        return 1
    fi
}

# run_json NAME IMAGES...: runs, writes $WORK/NAME.json, echoes hsx run's exit status
run_json() {
    local name
    name=$(fname "$1")
    shift
    timeout "$TIMEOUT" "$HSX" run --virtual-time --json --max-steps "$MAX_STEPS" "$@" \
        >"$WORK/$name.json" 2>"$WORK/$name.run.err"
    echo $?
}

# field NAME PID KEY: a field of task PID in the --json report
field() {
    python3 - "$WORK/$(fname "$1").json" "$2" "$3" <<'EOF'
import json, sys
try:
    rep = json.load(open(sys.argv[1]))
except Exception:
    print("<no report>"); sys.exit()
for t in rep.get("tasks", []):
    if str(t.get("pid")) == sys.argv[2]:
        v = t.get(sys.argv[3])
        print(v if not isinstance(v, str) else v, end="")
        break
EOF
}

# record NAME BUILDS RUNS MATCHES NOTE
record() {
    TOTAL=$((TOTAL + 1))
    [ "$4" = yes ] && PASS=$((PASS + 1))
    ROWS+=("$(printf '| %-34s | %-6s | %-4s | %-7s | %s |' "$1" "$2" "$3" "$4" "$5")")
}

# exit_example NAME EXPECTED_EXIT SOURCES... [-- CC ARGS]: a program whose result is main's
# return value (the task's exit_status)
exit_example() {
    local name=$1 want=$2
    shift 2
    # the report has the task's R0 as an unsigned 32-bit number
    [ "$want" -lt 0 ] && want=$((want + 4294967296))
    local img
    img=$WORK/$(fname "$name").hxe
    if ! build "$name" "$img" "$@"; then
        record "$name" no - no "hsx cc failed: $(grep -m1 error: "$WORK/$(fname "$name").cc.log")"
        return
    fi
    local rc st state
    rc=$(run_json "$name" "$img")
    st=$(field "$name" 1 exit_status)
    state=$(field "$name" 1 state)
    if [ "$st" = "$want" ]; then
        record "$name" yes yes yes "exit_status $st (expected $want)"
    elif [ -n "$st" ] && [ "$st" != None ]; then
        record "$name" yes yes no "exit_status $st, expected $want"
    else
        record "$name" yes no no "hsx run status $rc, state $state: $(head -c 200 "$WORK/$name.run.err")"
    fi
}

# stdout_of NAME PID: the captured stdout of task PID
stdout_of() { field "$1" "$2" stdout; }

# ---------------------------------------------------------------- examples/tests
T=$SRC/examples/tests
INC=(-I "$SRC/examples/lib" -I "$SRC/include")
# Expected values: python/tests/test_<name>.py, or main's return value where no test runs it.
exit_example test_vm_exit 42 "$T/test_vm_exit/main.c"
exit_example test_ir_icmp -1 "$T/test_ir_icmp/main.c"          # classify(2,3) = -1
exit_example test_ir_globals 79 "$T/test_ir_globals/main.c"     # msg[0] = 'O'
# main(int cond) is not a C main signature: wasm-ld cannot link it (hsx cc reports it). If it
# linked, cond would be argc, which hsx run passes as 0: (0 ? 3 : 7) + 2 + 5 = 14.
exit_example test_ir_call_phi 14 "$T/test_ir_call_phi/main.c"
exit_example test_ir_fptosi_half -3 "$T/test_ir_fptosi_half/main.c"
exit_example test_ir_half_main 17152 "$T/test_ir_half_main/main.c"
exit_example test_linker 60 "$T/test_linker/main.c" "$T/test_linker/lib.c" -I "$T/test_linker"

# mailbox producer + consumer (examples/tests): the consumer prints what the producer sent.
name=test_mailbox_producer_consumer_c
if build "$name" "$WORK/consumer.hxe" "${INC[@]}" "$T/test_mailbox_consumer_c/main.c" &&
    build "$name" "$WORK/producer.hxe" "${INC[@]}" "$T/test_mailbox_producer_c/main.c"; then
    rc=$(run_json "$name" "$WORK/consumer.hxe" "$WORK/producer.hxe")
    out=$(stdout_of "$name" 1)
    want=$'mailbox consumer received:\nping from producer\n'
    s1=$(field "$name" 1 exit_status)
    s2=$(field "$name" 2 exit_status)
    if [ "$out" = "${want%$'\n'}" ] && [ "$s1" = 0 ] && [ "$s2" = 0 ]; then
        record "$name" yes yes yes "consumer printed the producer's message; both exit 0"
    else
        record "$name" yes "$([ "$s1" = 0 ] && echo yes || echo no)" no \
            "rc $rc, exits $s1/$s2, consumer stdout: $(printf %q "$out")"
    fi
else
    record "$name" no - no "hsx cc failed"
fi

# stdio mailbox echo (examples/tests): prints the greeting, echoes one stdin line.
name=test_stdio_mailbox_c
if build "$name" "$WORK/stdio.hxe" "${INC[@]}" "$T/test_stdio_mailbox_c/main.c" &&
    build "$name" "$WORK/feed1.hxe" -I "$ROOT/crates/hsx-cc/runtime/include" \
        -DFEED_PID=1 -DFEED_DELAY=1 '-DFEED_1="hi there"' "$WORK/feeder.c"; then
    rc=$(run_json "$name" "$WORK/stdio.hxe" "$WORK/feed1.hxe")
    out=$(stdout_of "$name" 1)
    s1=$(field "$name" 1 exit_status)
    if [ "$out" = $'hello from hsx stdio\necho: hi there' ] && [ "$s1" = 0 ]; then
        record "$name" yes yes yes "greeting, then 'echo: hi there' for the fed line; exit 0"
    else
        record "$name" yes "$([ -n "$s1" ] && echo yes || echo no)" no \
            "rc $rc, exit $s1, stdout: $(printf %q "$out") stderr: $(field "$name" 1 stderr)"
    fi
    # and without input: three 10 ms reads time out -> "stdin read error", exit 7 (TIMEOUT)
    rc=$(run_json "$name-noinput" "$WORK/stdio.hxe")
    s1=$(field "$name-noinput" 1 exit_status)
    err=$(field "$name-noinput" 1 stderr)
    if [ "$s1" = 7 ] && [ "$err" = "stdin read error" ]; then
        record "$name (no stdin)" yes yes yes "'stdin read error' on stderr, exit 7 (TIMEOUT)"
    else
        record "$name (no stdin)" yes yes no "exit $s1, stderr $(printf %q "$err")"
    fi
else
    record "$name" no - no "hsx cc failed"
fi

# ---------------------------------------------------------------- examples/demos
D=$SRC/examples/demos
# longrun: an endless counter; it must still be running when the step budget runs out.
name=demos/longrun
if build longrun "$WORK/longrun.hxe" "${INC[@]}" "$D/longrun/main.c"; then
    timeout "$TIMEOUT" "$HSX" run --virtual-time --max-steps 200000 "$WORK/longrun.hxe" \
        >/dev/null 2>"$WORK/longrun.err"
    rc=$?
    if [ "$rc" = 124 ]; then
        record "$name" yes yes yes "still counting after 200000 steps (hsx run status 124)"
    else
        record "$name" yes no no "hsx run status $rc: $(head -c 200 "$WORK/longrun.err")"
    fi
else
    record "$name" no - no "hsx cc failed"
fi

# mailbox demo: consumer (pid 1) binds app:procon, producer (pid 2) forwards its stdin lines,
# the feeder (pid 3) types "hello world" and "exit" into the producer's stdin.
name=demos/mailbox
if build procon "$WORK/dconsumer.hxe" "${INC[@]}" -I "$D/mailbox" "$D/mailbox/consumer.c" &&
    build procon "$WORK/dproducer.hxe" "${INC[@]}" -I "$D/mailbox" "$D/mailbox/producer.c" &&
    build procon "$WORK/feed2.hxe" -I "$ROOT/crates/hsx-cc/runtime/include" \
        -DFEED_PID=2 -DFEED_DELAY=5 '-DFEED_1="hello world\n"' '-DFEED_2="exit\n"' \
        "$WORK/feeder.c"; then
    rc=$(run_json procon "$WORK/dconsumer.hxe" "$WORK/dproducer.hxe" "$WORK/feed2.hxe")
    c=$(stdout_of procon 1)
    p=$(stdout_of procon 2)
    s1=$(field procon 1 exit_status)
    s2=$(field procon 2 exit_status)
    wc=$'mailbox consumer listening on app:procon\nhello world\nexit\nmailbox consumer: exit requested'
    wp=$'mailbox producer ready: send data via shell stdin\nmailbox producer: exit requested'
    if [ "$c" = "$wc" ] && [ "$p" = "$wp" ] && [ "$s1" = 0 ] && [ "$s2" = 0 ]; then
        record "$name" yes yes yes "consumer echoed 'hello world' and 'exit'; both exit 0"
    else
        record "$name" yes "$([ -n "$s1" ] && echo yes || echo no)" no \
            "rc $rc exits $s1/$s2 consumer $(printf %q "$c") producer $(printf %q "$p")"
    fi
else
    record "$name" no - no "hsx cc failed"
fi

# ---------------------------------------------------------------- examples/c
C=$SRC/examples/c
exit_example c/hello 42 "$C/hello.c"                 # "expect 42"
exit_example c/icmp 2 "$C/icmp.c"                    # eq 0 + 2*gt + 4*lt = 2
exit_example c/extern_pair 1 "$C/extern_pair.c"
exit_example c/link_main+link_lib 42 "$C/link_main.c" "$C/link_lib.c"
exit_example c/half_main+half 8 "$C/half_main.c" "$C/half.c" # (int)(3.75+3.375)+1 = 8
exit_example c/loadstore 99 "$C/loadstore.c"         # store 99 at address 100, read back
# call.c and phi.c define no main (the reference compiles them to check the MVASM only):
# they must compile to objects.
for lib in call phi half; do
    if timeout "$TIMEOUT" "$HSX" cc -c "$C/$lib.c" -o "$WORK/$lib.o" >"$WORK/$lib.cc.log" 2>&1; then
        record "c/$lib (-c, no main)" yes - yes "compiles to an object (no main to run)"
    else
        record "c/$lib (-c, no main)" no - no "$(head -1 "$WORK/$lib.cc.log")"
    fi
done

echo "reference: $REPO ($REV)"
printf '| %-34s | %-6s | %-4s | %-7s | %s |\n' example builds runs matches note
printf '|%s|%s|%s|%s|%s|\n' "------------------------------------" "--------" "------" "---------" "------"
printf '%s\n' "${ROWS[@]}"
echo "$PASS of $TOTAL match"
[ "$PASS" = "$TOTAL" ]
