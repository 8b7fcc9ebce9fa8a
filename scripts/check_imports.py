#!/usr/bin/env python3
"""Reports source files of a crate that import each other in a circle.

    scripts/check_imports.py            # every crate under crates/; exit 1 on a circle
    scripts/check_imports.py hsx-exec   # one crate
    scripts/check_imports.py --edges hsxd  # also print the file-to-file graph

A file depends on another when it names a path into it: `use crate::a::b::X`,
`super::X`, `self::c::Y`, or a path written in an expression (`crate::a::f()`). A path is
resolved to the deepest module file it reaches, so `crate::mailbox::desc::Foo` is an edge
to `mailbox/desc.rs` and `crate::mailbox::Foo` one to `mailbox/mod.rs`. `mod x;`
declarations are not edges (a parent owning a child is not an import). Test code
(`#[cfg(test)]` items, `tests.rs` files) and `tests/`, `benches/`, `examples/` are left
out: tests may look anywhere. Circles are the strongly connected components of that graph
with more than one file.

This keeps module dependencies pointing one way: inside a module, refer to the file that
defines an item rather than to a parent's re-export of it.
"""

import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates")

PATH_RE = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+|::\{)")
USE_BLOCK_RE = re.compile(r"\buse\s+(crate|super|self)::([^;]*);", re.S)


def strip_comments(src):
    src = re.sub(r"/\*.*?\*/", "", src, flags=re.S)
    out = []
    for line in src.splitlines():
        # Drop line comments but keep string contents roughly intact.
        i = line.find("//")
        if i >= 0:
            line = line[:i]
        out.append(line)
    return "\n".join(out)


def strip_tests(src):
    """Removes `#[cfg(test)]` items (a following brace block or a single `mod x;`)."""
    out = []
    i = 0
    while True:
        j = src.find("#[cfg(test)]", i)
        if j < 0:
            out.append(src[i:])
            break
        out.append(src[i:j])
        k = j + len("#[cfg(test)]")
        # Skip to the item's body: the first `{` or `;`.
        m = re.compile(r"[{;]").search(src, k)
        if not m:
            break
        if m.group() == ";":
            i = m.end()
            continue
        depth = 0
        p = m.start()
        while p < len(src):
            c = src[p]
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    break
            p += 1
        i = p + 1
    return "".join(out)


def module_path(src_dir, path):
    """The module path (list of names) of a file under src/."""
    rel = os.path.relpath(path, src_dir)
    parts = rel[:-3].split(os.sep)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts


def expand_use(prefix, body):
    """Expands a `use` tree body (after `prefix::`) into full paths."""
    body = re.sub(r"\s+as\s+[A-Za-z_][A-Za-z0-9_]*", "", body)
    body = re.sub(r"\s+", "", body)
    paths = []

    def walk(pre, s):
        # s is a comma-separated list at top level, possibly with {..} groups.
        depth = 0
        start = 0
        items = []
        for idx, ch in enumerate(s):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                items.append(s[start:idx])
                start = idx + 1
        items.append(s[start:])
        for it in items:
            if not it:
                continue
            if "{" in it:
                head, rest = it.split("{", 1)
                rest = rest[: rest.rfind("}")]
                walk(pre + [p for p in head.split("::") if p], rest)
            else:
                segs = [p for p in it.split("::") if p]
                paths.append(pre + segs)

    walk([prefix], body)
    return paths


def resolve(files_by_mod, cur_mod, segs):
    """Resolves a path (starting with crate/super/self) to the deepest module file."""
    head = segs[0]
    if head == "crate":
        base = []
    elif head == "self":
        base = list(cur_mod)
    else:
        base = list(cur_mod)
        rest = segs
        while rest and rest[0] == "super":
            base = base[:-1]
            rest = rest[1:]
        segs = ["super"] + rest
    rest = segs[1:]
    mod = base
    best = tuple(mod) if tuple(mod) in files_by_mod else None
    for s in rest:
        cand = tuple(mod + [s])
        if cand in files_by_mod:
            mod = mod + [s]
            best = cand
        else:
            break
    return files_by_mod.get(best) if best is not None else None


def crate_graph(crate_dir):
    src_dir = os.path.join(crate_dir, "src")
    files = []
    for dirpath, _, names in os.walk(src_dir):
        for n in names:
            if n.endswith(".rs"):
                files.append(os.path.join(dirpath, n))
    # Binaries are roots of their own crate: lib.rs and main.rs both map to [].
    files_by_mod = {}
    for f in files:
        mp = tuple(module_path(src_dir, f))
        if os.path.basename(f) == "main.rs" and any(
            os.path.basename(g) == "lib.rs" for g in files
        ):
            continue
        if os.path.basename(f) == "tests.rs" or os.sep + "bin" + os.sep in f:
            continue
        files_by_mod[mp] = f
    edges = {f: set() for f in files_by_mod.values()}
    for mp, f in files_by_mod.items():
        with open(f, encoding="utf-8") as fh:
            src = strip_tests(strip_comments(fh.read()))
        paths = []
        for m in USE_BLOCK_RE.finditer(src):
            paths.extend(expand_use(m.group(1), m.group(2)))
        src_no_use = USE_BLOCK_RE.sub("", src)
        for m in PATH_RE.finditer(src_no_use):
            segs = [m.group(1)] + [s for s in m.group(2).split("::") if s and s != "{"]
            paths.append(segs)
        for segs in paths:
            target = resolve(files_by_mod, list(mp), segs)
            if target and target != f:
                edges[f].add(target)
    return src_dir, edges


def sccs(edges):
    index = {}
    low = {}
    stack = []
    on = set()
    out = []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    sys.setrecursionlimit(10000)
    for v in edges:
        if v not in index:
            strong(v)
    return [c for c in out if len(c) > 1]


def main(argv):
    show_edges = "--edges" in argv
    names = [a for a in argv if not a.startswith("--")]
    crates = names or sorted(
        d for d in os.listdir(ROOT) if os.path.isfile(os.path.join(ROOT, d, "Cargo.toml"))
    )
    bad = 0
    for c in crates:
        src_dir, edges = crate_graph(os.path.join(ROOT, c))
        rel = lambda p: os.path.relpath(p, src_dir)
        if show_edges:
            for f in sorted(edges):
                for t in sorted(edges[f]):
                    print(f"{c}: {rel(f)} -> {rel(t)}")
        for comp in sccs(edges):
            bad += 1
            print(f"{c}: circle: " + " <-> ".join(sorted(rel(p) for p in comp)))
    if bad:
        print(f"check_imports: {bad} circle(s)")
        return 1
    print(f"check_imports: no circles in {len(crates)} crate(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
