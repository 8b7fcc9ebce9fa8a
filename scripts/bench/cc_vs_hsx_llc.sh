#!/usr/bin/env bash
# Code size and correctness of `hsx cc` against the HSX reference C toolchain
# (python/hsx-llc.py + asm.py + hld.py of Hans-Einar/HSX), on this project's C corpus
# (crates/hsx-cli/tests/c/*.c), the C kernel of cc_coremark.sh and the reference's own
# C examples (examples/c, examples/tests, examples/demos, examples/hsx-cc-build).
#
#   scripts/bench/cc_vs_hsx_llc.sh REF_CHECKOUT [KEEP_DIR]
#
# REF_CHECKOUT is a work tree of the HSX repository (e.g. `git --git-dir=... archive HEAD |
# tar -x -C /tmp/hsxref`); nothing of it is copied, its tools are run from there. KEEP_DIR
# keeps every build product and a results.json (default: a temporary directory, removed).
#
# Builds, per program:
#   ref -O0  the reference flow of its examples/tests/Makefile: clang -S -emit-llvm -O0
#            -fno-builtin -target wasm32 → hsx-llc.py → asm.py → hld.py, plus
#            examples/lib/hsx_{stdio,mailbox}.mvasm when the program includes those headers
#   ref -O2  the same at -O2 (the optimisation level of hsx-cc-build.py's release builds)
#   cc -Os / cc -O2 / cc -O0   `hsx cc -Os|-O2|-O0 SOURCES -o x.hxe --sym x.sym` (-O0 starts
#            from the same unoptimised clang output as ref -O0: a back-end-only comparison)
# The reference has no libc; for the corpus its clang step gets wasi-libc's *headers*
# (-target wasm32-wasi -isystem /usr/include/wasm32-wasi) so that its failures are those of
# hsx-llc, not of a missing <stdio.h>. It has to link printf & co. itself, and cannot.
#
# Sizes: "code" is the image header's code_len (offset 12, big-endian u32): everything
# linked in (hsx cc: crt start/exit, libc, printf, soft-float/64-bit helpers; reference:
# the user's functions plus the hsx_stdio/hsx_mailbox MVASM libraries, no start-up code).
# "user" is the code of the functions defined in the program's own .c files (the names
# `nm` lists for a native -O0 object of those files): for hsx cc from the .sym (functions,
# address/size), for the reference from each .hxo (function start offsets; a function ends
# where the next begins). Functions that clang inlined away count as 0 bytes.
#
# Correct: stdout and exit status under `hsx run --virtual-time` equal those of the same C
# built natively by clang (-O2 -w ... -lm). Programs using the HSX API have no native twin:
# they are checked against what their source says they do (see EXPECT below).
#
# Environment: HSX (hsx binary; default: `cargo build --release -p hsx-cli`, target/release/hsx),
# HSX_CLANG (default clang-16), PYTHON (default python3), HSX_MAX_STEPS (default 300000000).
set -euo pipefail
[ $# -ge 1 ] || { sed -n 2,12p "$0"; exit 2; }
ref=$(cd "$1" && pwd)
[ -f "$ref/python/hsx-llc.py" ] || { echo "$ref: no python/hsx-llc.py (not an HSX checkout)"; exit 2; }
cd "$(dirname "$0")/../.."
root=$(pwd)
clang=${HSX_CLANG:-clang-16}
py=${PYTHON:-python3}
if [ -z "${HSX:-}" ]; then cargo build --release -q -p hsx-cli; fi
hsx=${HSX:-$root/target/release/hsx}
if [ $# -ge 2 ]; then work=$(mkdir -p "$2" && cd "$2" && pwd); else
    work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; fi
# The reference calls `clang` by that name.
mkdir -p "$work/bin"; ln -sf "$(command -v "$clang")" "$work/bin/clang"
export PATH="$work/bin:$PATH"

exec "$py" - "$ref" "$root" "$work" "$hsx" "$clang" "${HSX_MAX_STEPS:-300000000}" <<'PY'
import glob, json, math, os, re, struct, subprocess, sys

REF, ROOT, WORK, HSX, CLANG, MAX_STEPS = sys.argv[1:7]
PY = sys.executable
WASI_INC = "/usr/include/wasm32-wasi"

def sh(cmd, timeout=120, **kw):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return None, "", "timed out"

# ---- programs -------------------------------------------------------------------------
# (name, [sources], origin, expect). expect None: native clang is the oracle; otherwise
# ("alone"|"pair"|"loops"|"interactive", ...) for HSX-API programs.
progs = []
for f in sorted(glob.glob(f"{ROOT}/crates/hsx-cli/tests/c/*.c")):
    progs.append((os.path.basename(f)[:-2], [f], "corpus", None))
progs.append(("bench/kernel", [f"{ROOT}/scripts/bench/c/kernel.c"], "corpus", None))
E = f"{REF}/examples"
for n in ["hello", "icmp", "extern_pair"]:
    progs.append((f"c/{n}", [f"{E}/c/{n}.c"], "ref", None))
# Stores 99 at the absolute address 100 and returns what it reads back: 99 on the MiniVM
# (a segfault natively). call.c and phi.c have no main and are left out.
progs.append(("c/loadstore", [f"{E}/c/loadstore.c"], "ref", ("exit", 99)))
progs.append(("c/half_main+half", [f"{E}/c/half_main.c", f"{E}/c/half.c"], "ref", None))
progs.append(("c/link_main+lib", [f"{E}/c/link_main.c", f"{E}/c/link_lib.c"], "ref", None))
for d in sorted(glob.glob(f"{E}/tests/test_*/")):
    srcs = sorted(glob.glob(d + "*.c"))
    if not srcs:
        continue
    n = "tests/" + os.path.basename(d.rstrip("/"))
    if n.endswith("_producer_c"):
        continue                      # run together with the consumer below
    exp = None
    if n.endswith("_consumer_c"):
        # The two tasks of examples/tests: producer sends "ping from producer" to
        # app:procon, the consumer prints it after a header line; both exit 0.
        exp = ("pair", [f"{E}/tests/test_mailbox_producer_c/main.c"],
               "mailbox consumer received:\nping from producer")
        n = "tests/test_mailbox_{consumer,producer}_c"
    elif n.endswith("stdio_mailbox_c"):
        # No stdin is sent: it prints its greeting, the read times out and it returns the
        # status, HSX_MBX_STATUS_TIMEOUT = 7 (with "stdin read error" on stderr).
        exp = ("alone", "hello from hsx stdio", 7)
    progs.append((n, srcs, "ref", exp))
progs.append(("demos/longrun", [f"{E}/demos/longrun/main.c"], "ref", ("loops",)))
for n in ["producer", "consumer"]:
    progs.append((f"demos/mailbox/{n}", [f"{E}/demos/mailbox/{n}.c"], "ref", ("interactive",)))
for d in sorted(glob.glob(f"{E}/hsx-cc-build/*/")):
    srcs = sorted(glob.glob(d + "*.c"))
    if srcs:
        progs.append(("hsx-cc-build/" + os.path.basename(d.rstrip("/")), srcs, "ref", None))

# ---- helpers --------------------------------------------------------------------------
def code_len(hxe):
    with open(hxe, "rb") as fh:
        return struct.unpack(">I", fh.read(16)[12:16])[0]

def user_functions(srcs, d):
    names = set()
    for i, s in enumerate(srcs):
        o = f"{d}/nm{i}.o"
        rc, _, _ = sh([CLANG, "-c", "-O0", "-w", "-I", f"{REF}/examples/lib", "-I", f"{REF}/include",
                       "-DITERATIONS=200", s, "-o", o])
        if rc == 0:
            rc, out, _ = sh(["nm", "--defined-only", o])
            names |= {l.split()[2] for l in out.splitlines() if len(l.split()) == 3 and l.split()[1] in "Tt"}
    return names

def hsx_api(srcs):
    return any(re.search(r'#include\s*"hsx_', open(s, encoding="utf-8-sig").read()) for s in srcs)

def ref_build(srcs, opt, d, tag):
    """Returns (hxe or None, stage/error, user bytes or None, {func: size})."""
    os.makedirs(d, exist_ok=True)
    objs, funcs, extras = [], {}, set()
    for i, s in enumerate(srcs):
        text = open(s, encoding="utf-8-sig").read()
        if '"hsx_mailbox.h"' in text: extras.add("hsx_mailbox")
        if '"hsx_stdio.h"' in text: extras.add("hsx_stdio")
        base = f"{d}/{tag}{i}"
        cmd = [CLANG, "-S", "-emit-llvm", opt, "-fno-builtin", "-fno-ms-compatibility",
               "-fno-ms-extensions", "-I", f"{REF}/examples/lib", "-I", f"{REF}/include"]
        if re.search(r"#include\s*<", text):
            cmd += ["-target", "wasm32-wasi", "-isystem", WASI_INC]   # headers only
        else:
            cmd += ["-target", "wasm32-unknown-unknown"]             # as examples/tests/Makefile
        rc, _, err = sh(cmd + ["-DITERATIONS=200", s, "-o", base + ".ll"])
        if rc != 0:
            return None, "clang: " + first_error(err), None, funcs
        rc, out, err = sh([PY, f"{REF}/python/hsx-llc.py", base + ".ll", "-o", base + ".mvasm"])
        if rc != 0:
            return None, "hsx-llc: " + first_error(err or out), None, funcs
        rc, out, err = sh([PY, f"{REF}/python/asm.py", base + ".mvasm", "-o", base + ".hxo"])
        if rc != 0:
            return None, "asm: " + first_error(err or out), None, funcs
        hxo = json.load(open(base + ".hxo"))
        syms = {**hxo.get("local_symbols", {}), **hxo.get("symbols", {})}
        names = re.findall(r"^; -- function (\S+) --", open(base + ".mvasm").read(), re.M)
        starts = sorted((syms[n]["offset"], n) for n in names if n in syms and syms[n].get("section") == "text")
        end = 4 * len(hxo["code"])
        for j, (off, n) in enumerate(starts):
            funcs[n] = (starts[j + 1][0] if j + 1 < len(starts) else end) - off
        objs.append(base + ".hxo")
    for x in sorted(extras):
        o = f"{d}/{tag}_{x}.hxo"
        rc, out, err = sh([PY, f"{REF}/python/asm.py", f"{REF}/examples/lib/{x}.mvasm", "-o", o])
        if rc != 0:
            return None, f"asm {x}: " + first_error(err or out), None, funcs
        objs.insert(0, o)
    hxe = f"{d}/{tag}.hxe"
    rc, out, err = sh([PY, f"{REF}/python/hld.py", "-o", hxe] + objs)
    if rc != 0:
        return None, "hld: " + first_error(err or out), sum(funcs.values()), funcs
    return hxe, "ok", sum(funcs.values()), funcs

def cc_build(srcs, opt, d, tag):
    os.makedirs(d, exist_ok=True)
    hxe, sym = f"{d}/{tag}.hxe", f"{d}/{tag}.sym"
    rc, out, err = sh([HSX, "cc", opt, "-DITERATIONS=200"] + srcs + ["-o", hxe, "--sym", sym], timeout=300)
    if rc != 0:
        return None, "hsx cc: " + first_error(err or out), None, {}
    funcs = {}
    for f in json.load(open(sym))["symbols"]["functions"]:
        n = f["name"]
        n = "main" if n in ("__original_main", "__main_void", "__main_argc_argv") else n
        funcs[n] = funcs.get(n, 0) + f["size"]
    return hxe, "ok", None, funcs

def first_error(text):
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for l in lines:      # clang / hsx cc diagnostics: the first error is the one to see
        if "error:" in l and "see the messages above" not in l:
            return l[:150]
    for l in reversed(lines):
        if re.search(r"Error|error", l):
            return l[:150]
    return (lines[-1] if lines else "failed")[:150]

def run_hsx(hxes):
    rc, out, err = sh([HSX, "run", "--json", "--virtual-time", "--max-steps", MAX_STEPS] + hxes, timeout=300)
    try:
        j = json.loads(out)
    except Exception:
        return rc, None
    return rc, j

native_cache = {}
def run_native(srcs, d):
    key = tuple(srcs)
    if key not in native_cache:
        exe = f"{d}/native"
        rc, _, err = sh([CLANG, "-std=c11", "-O2", "-w", "-DITERATIONS=200"] + srcs + ["-lm", "-o", exe])
        if rc != 0:
            native_cache[key] = None
        else:
            rc, out, _ = sh([exe], timeout=60, stdin=subprocess.DEVNULL)
            native_cache[key] = (rc, out)
    return native_cache[key]

def fault_of(j):
    return ", ".join(f"task {t['pid']} {t['fault']['name']} at pc {t['fault']['pc']:#x}"
                     for t in j["tasks"] if t.get("fault"))

def check(prog, hxe, d, builder, opt, tag):
    """'ok' or a short reason."""
    name, srcs, origin, exp = prog
    if exp is None:
        nat = run_native(srcs, d)
        if nat is None:
            return "no native build"
        nrc, nout = nat
        rc, j = run_hsx([hxe])
        if j is None:
            return f"hsx run rc={rc}"
        if rc == 124:
            return "ran out of --max-steps"
        t = j["tasks"][0]
        st = rc & 0xff if rc is not None else None
        nst = (128 - nrc) if nrc is not None and nrc < 0 else nrc
        if t.get("fault"):
            return fault_of(j) if not (nst == 134 and rc in (70, 134)) else "ok"
        if t["stdout"] != nout:
            return "wrong stdout"
        if st != (nst & 0xff if nst is not None else None):
            return f"exit {st}, native {nst}"
        return "ok"
    kind = exp[0]
    if kind == "interactive":
        return "not run"
    if kind == "loops":
        rc, j = run_hsx([hxe])
        return "ok" if rc == 124 else f"rc={rc} (expected to loop)"
    if kind == "alone":
        rc, j = run_hsx([hxe])
        if j is None: return f"hsx run rc={rc}"
        t = j["tasks"][0]
        good = rc == exp[2] and t["stdout"].startswith(exp[1]) and not t.get("fault")
        return "ok" if good else f"exit {rc}, stdout {t['stdout'][:30]!r} {fault_of(j)}"
    if kind == "exit":
        rc, j = run_hsx([hxe])
        if j is None: return f"hsx run rc={rc}"
        return "ok" if rc == exp[1] and not fault_of(j) else f"exit {rc}, expected {exp[1]} {fault_of(j)}"
    if kind == "pair":
        other = exp[1]
        h2, why, _, _ = builder(other, opt, d, tag + "_peer")
        if h2 is None:
            return "peer: " + why
        rc, j = run_hsx([hxe, h2])
        if j is None: return f"hsx run rc={rc}"
        outs = [t["stdout"] for t in j["tasks"]]
        codes = [t.get("exit_status") for t in j["tasks"]]
        good = exp[2] in outs[0].replace("\r", "") and all(c == 0 for c in codes)
        return "ok" if good else f"exit statuses {codes}, stdout {outs[0][:48]!r} {fault_of(j)}"
    return "?"

# ---- run ------------------------------------------------------------------------------
BUILDS = [("ref -O0", ref_build, "-O0"), ("ref -O2", ref_build, "-O2"),
          ("cc -Os", cc_build, "-Os"), ("cc -O2", cc_build, "-O2"), ("cc -O0", cc_build, "-O0")]
results = []
for prog in progs:
    name, srcs, origin, exp = prog
    d = f"{WORK}/" + re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    os.makedirs(d, exist_ok=True)
    user = user_functions(srcs, d)
    if exp and exp[0] == "pair":
        user |= user_functions(exp[1], d)   # names only; sizes are counted for the first task
    row = {"name": name, "origin": origin, "user_functions": sorted(user)}
    for label, builder, opt in BUILDS:
        tag = label.replace(" ", "").replace("-", "")
        hxe, why, _, funcs = builder(srcs, opt, d, tag)
        ub = sum(v for k, v in funcs.items() if k in user) if funcs else None
        r = {"status": why, "user": ub, "funcs": funcs}
        if hxe:
            r["code"] = code_len(hxe)
            r["run"] = check(prog, hxe, d, builder, opt, tag)
        row[label] = r
    results.append(row)
    cells = []
    for label, _, _ in BUILDS:
        r = row[label]
        cells.append(f"{r['code']}/{r['user']} {r['run']}" if "code" in r else
                     (f"-/{r['user']} " if r["user"] is not None else "") + r["status"].split(":")[0])
    print(f"  {name:<38}" + " | ".join(c[:24] for c in cells), file=sys.stderr, flush=True)

json.dump(results, open(f"{WORK}/results.json", "w"), indent=1)

# ---- report ---------------------------------------------------------------------------
def cell(r):
    if "code" in r:
        run = {"ok": "ok", "not run": "n/r"}.get(r["run"], "BAD")
        return f"{r['code']:>6} {r['user']:>6} {run:<3}"
    if r["user"] is not None:   # objects assembled, link failed
        return f"{'-':>6} {r['user']:>6} {'lnk':<3}"
    return f"{'-':>6} {'-':>6} {'-':<3}"

print("\nCode bytes per image (code = header code_len, user = the program's own functions)")
print("and whether `hsx run` matches native clang (ok/BAD; n/r: interactive, not run; lnk:")
print("objects built, link failed; -: did not compile).\n")
hdr = f"{'program':<40}" + "".join(f"| {l:<17}" for l, _, _ in BUILDS)
print(hdr)
print(f"{'':<40}" + "| code   user   run " * len(BUILDS))
print("-" * len(hdr))
for origin in ("ref", "corpus"):
    for row in results:
        if row["origin"] == origin:
            print(f"{row['name']:<40}" + "".join(f"| {cell(row[l])} " for l, _, _ in BUILDS))
    print("-" * len(hdr))

print("\nWhy the reference did not produce an image (first error):")
for row in results:
    msgs = {l: row[l]["status"] for l in ("ref -O0", "ref -O2") if row[l]["status"] != "ok"}
    if msgs:
        if len(set(msgs.values())) == 1:
            print(f"  {row['name']}: {list(msgs.values())[0]}")
        else:
            for l, m in msgs.items():
                print(f"  {row['name']} ({l}): {m}")
print("\nWhy hsx cc did not produce an image:")
for row in results:
    for l, _, _ in BUILDS:
        if l.startswith("cc") and row[l]["status"] != "ok":
            print(f"  {row['name']} ({l}): {row[l]['status']}")
print("\nWrong results:")
for row in results:
    for l, _, _ in BUILDS:
        r = row[l]
        if "run" in r and r["run"] not in ("ok", "not run"):
            print(f"  {row['name']} ({l}): {r['run']}")

def gmean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")

print("\nSummary")
for l, _, _ in BUILDS:
    rs = [row[l] for row in results]
    built = sum("code" in r for r in rs)
    ok = sum(r.get("run") == "ok" for r in rs)
    nr = sum(r.get("run") == "not run" for r in rs)
    print(f"  {l}: {built}/{len(rs)} programs build an image, {ok} run correctly"
          + (f" ({nr} interactive, not run)" if nr else ""))
print("\n  Geometric mean of size ratios hsx cc / reference, over programs both build an image"
      "\n  (n = programs; 'both ok' = only those where both images run correctly):")
for cl in ("cc -Os", "cc -O2", "cc -O0"):
    for rl in ("ref -O0", "ref -O2"):
        both = [row for row in results if "code" in row[cl] and "code" in row[rl]]
        okb = [row for row in both if row[cl]["run"] == "ok" and row[rl]["run"] == "ok"]
        tot = gmean([row[cl]["code"] / row[rl]["code"] for row in both])
        usr = [row[cl]["user"] / row[rl]["user"] for row in both if row[cl]["user"] and row[rl]["user"]]
        tok = gmean([row[cl]["code"] / row[rl]["code"] for row in okb])
        uok = [row[cl]["user"] / row[rl]["user"] for row in okb if row[cl]["user"] and row[rl]["user"]]
        print(f"    {cl} / {rl}: whole image {tot:.2f} (n={len(both)}), user code {gmean(usr):.2f} (n={len(usr)});"
              f" both ok: whole {tok:.2f} (n={len(okb)}), user {gmean(uok):.2f} (n={len(uok)})")
# What the whole-image figure of hsx cc carries besides the user's code.
base = [row for row in results if row["origin"] == "ref" and "code" in row["cc -Os"] and row["cc -Os"]["user"] is not None]
if base:
    fixed = sorted(row["cc -Os"]["code"] - row["cc -Os"]["user"] for row in base)
    print(f"\n  hsx cc -Os non-user code in the reference examples (crt _start/exit/atexit, SVC stubs,"
          f"\n  no printf): {fixed[0]}..{fixed[-1]} bytes, median {fixed[len(fixed)//2]}")
pf = [row for row in results if row["origin"] == "corpus" and "code" in row["cc -Os"]]
if pf:
    v = sorted(row["cc -Os"]["code"] for row in pf)
    u = sorted(row["cc -Os"]["user"] for row in pf)
    print(f"  hsx cc -Os on the corpus (printf etc. linked from its libc): code {v[0]}..{v[-1]} bytes,"
          f" median {v[len(v)//2]}; user functions median {u[len(u)//2]} bytes")
for name in ("bench/kernel", "recursion"):
    row = next((r for r in results if r["name"] == name and "code" in r["cc -Os"]), None)
    if row:
        user = set(row["user_functions"]) | {"main"}
        other = sorted(((v, k) for k, v in row["cc -Os"]["funcs"].items() if k not in user), reverse=True)
        listed = sum(v for v, _ in other)
        print(f"\n  {name}, hsx cc -Os: code {row['cc -Os']['code']} B = user {row['cc -Os']['user']} B"
              f" + runtime/libc functions {listed} B + {row['cc -Os']['code'] - row['cc -Os']['user'] - listed} B"
              f" outside any .sym function\n    largest: "
              + ", ".join(f"{k} {v}" for v, k in other[:10]))
PY
