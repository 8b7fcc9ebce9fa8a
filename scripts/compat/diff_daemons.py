#!/usr/bin/env python3
"""Sends the same request sequence to two hsxd binaries and compares their replies.

    scripts/compat/diff_daemons.py OLD_HSXD NEW_HSXD [--verbose]

For refactors that must not change behaviour: each binary is started on 127.0.0.1:0 with
the clock stopped, the examples are loaded, and a fixed script of requests covering every
command family (lifecycle, run control, registers and memory, debugger, symbols, trace,
mailboxes and stdio, values and commands, sessions, dmesg) runs over one persistent
connection. Replies are compared after dropping what differs from run to run by nature:
timestamps, deadlines, session ids and wall-clock waits. Exit status 1 lists every reply
that differs.
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
VOLATILE = {
    "ts", "ts_ms", "deadline", "sleep_deadline", "wait_deadline", "deadline_ms",
    "last_wait_s", "uptime_s", "created", "last_seen", "expires_at", "id_hint",
    "session_id", "wall_s", "created_at", "age_s",
}


def normalise(v, sessions):
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k in VOLATILE:
                continue
            if k in ("id", "session") and isinstance(x, str) and x in sessions:
                out[k] = "<session>"
                continue
            out[k] = normalise(x, sessions)
        return out
    if isinstance(v, list):
        return [normalise(x, sessions) for x in v]
    if isinstance(v, str):
        for s in sessions:
            v = v.replace(s, "<session>")
    return v


def start(binary, workdir):
    out = open(os.path.join(workdir, "out.txt"), "w+")
    p = subprocess.Popen([binary, "--listen", "127.0.0.1:0"], stdout=out,
                         stderr=subprocess.DEVNULL)
    for _ in range(200):
        out.seek(0)
        m = re.search(r"hsxd listening on .*:(\d+)", out.read())
        if m:
            return p, int(m.group(1))
        time.sleep(0.05)
    p.kill()
    raise SystemExit(f"{binary} did not start")


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.f = self.s.makefile("rwb")

    def rpc(self, req):
        self.f.write((json.dumps(req) + "\n").encode())
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                raise SystemExit("connection closed")
            v = json.loads(line)
            if "type" in v and "status" not in v:
                continue  # an event on a subscribed socket
            return v


def script(images):
    loop, producer, consumer, values, hello = images
    reqs = [
        {"cmd": "ping"}, {"cmd": "info"}, {"cmd": "ps"}, {"cmd": "clock"},
        {"cmd": "clock", "op": "rate", "rate": 0},
        {"cmd": "load", "path": loop}, {"cmd": "load", "path": producer},
        {"cmd": "load", "path": consumer}, {"cmd": "load", "path": values},
        {"cmd": "load", "path": hello}, {"cmd": "load", "path": "/nonexistent.hxe"},
        {"cmd": "ps"}, {"cmd": "info", "pid": 1}, {"cmd": "info", "pid": 99},
        {"cmd": "attach"}, {"cmd": "dumpregs", "pid": 1},
        {"cmd": "peek", "pid": 1, "addr": "0x4000", "length": 32},
        {"cmd": "poke", "pid": 4, "addr": "0x5000", "data": "01020304"},
        {"cmd": "peek", "pid": 4, "addr": "0x5000", "length": 4},
        {"cmd": "reg.get", "pid": 1, "reg": "R1"},
        {"cmd": "reg.set", "pid": 1, "reg": "R9", "value": 7},
        {"cmd": "bp", "op": "set", "pid": 1, "addr": "0x10"}, {"cmd": "bp", "pid": 1},
        {"cmd": "step", "pid": 1, "steps": 3}, {"cmd": "step", "steps": 40},
        {"cmd": "clock", "op": "step", "steps": 25},
        {"cmd": "step", "pid": 1, "source_only": True},
        {"cmd": "bp", "op": "clear", "pid": 1, "addr": "0x10"},
        {"cmd": "sched", "pid": 2, "priority": 3, "quantum": 2},
        {"cmd": "sched", "limit": 5}, {"cmd": "stack", "pid": 1},
        {"cmd": "disasm", "pid": 1, "count": 6}, {"cmd": "disasm", "pid": 1, "mode": "cached"},
        {"cmd": "memory", "op": "regions", "pid": 1},
        {"cmd": "symbols", "pid": 1}, {"cmd": "symbols", "pid": 1, "type": "functions"},
        {"cmd": "sym", "op": "info", "pid": 1},
        {"cmd": "sym", "op": "lookup_addr", "pid": 1, "address": 8},
        {"cmd": "sym", "op": "lookup_line", "pid": 1, "address": 8},
        {"cmd": "watch", "op": "add", "pid": 1, "expr": "0x4000"},
        {"cmd": "watch", "pid": 1}, {"cmd": "step", "pid": 1, "steps": 20},
        {"cmd": "watch", "op": "remove", "pid": 1, "id": 1},
        {"cmd": "trace", "pid": 1, "enable": True}, {"cmd": "step", "pid": 1, "steps": 5},
        {"cmd": "trace", "op": "records", "pid": 1, "limit": 3},
        {"cmd": "trace", "op": "config", "changed_regs": False},
        {"cmd": "trace", "op": "export", "pid": 1, "limit": 2},
        {"cmd": "trace", "pid": 1, "enable": False},
        {"cmd": "mailbox_snapshot"}, {"cmd": "list", "pid": 2},
        {"cmd": "step", "steps": 2000}, {"cmd": "listen", "limit": 20},
        {"cmd": "send", "pid": 3, "data": "hi"},
        {"cmd": "stdio_fanout"}, {"cmd": "stdio_fanout", "pid": 1, "mode": "drop"},
        {"cmd": "val.list"}, {"cmd": "val.get", "oid": "0x0101"},
        {"cmd": "val.set", "oid": "0x0101", "value": 2.5},
        {"cmd": "val.get", "oid": "0x0101", "pid": 4}, {"cmd": "val.stats"},
        {"cmd": "cmd.list"}, {"cmd": "cmd.call", "oid": "0x0101"}, {"cmd": "cmd.stats"},
        {"cmd": "session.open", "client": "diff", "pid_lock": 5},
        {"cmd": "session.list"}, {"cmd": "pause", "pid": 5}, {"cmd": "pause", "pid": 1},
        {"cmd": "resume", "pid": 1}, {"cmd": "reload", "pid": 2},
        {"cmd": "kill", "pid": 3}, {"cmd": "ps"}, {"cmd": "dmesg", "limit": 50},
        {"cmd": "restart", "targets": "vm"}, {"cmd": "ps"}, {"cmd": "detach"},
        {"cmd": "frobnicate"}, {"cmd": "step", "pid": "x"},
    ]
    return reqs


def run(binary, images):
    with tempfile.TemporaryDirectory() as work:
        p, port = start(binary, work)
        try:
            c = Conn(port)
            sessions, replies = [], []
            for req in script(images):
                r = c.rpc(req)
                sid = (r.get("session") or {}).get("id") if isinstance(r.get("session"), dict) else None
                if sid:
                    sessions.append(sid)
                replies.append((req, r))
            return [(q, normalise(r, sessions)) for q, r in replies]
        finally:
            p.kill()
            p.wait()


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    verbose = "--verbose" in argv
    with tempfile.TemporaryDirectory() as build:
        images = []
        hsx = os.path.join(ROOT, "target", "debug", "hsx")
        for ex in ("loop", "producer", "consumer", "values", "hello"):
            src = os.path.join(ROOT, "examples", f"{ex}.mvasm")
            out = os.path.join(build, f"{ex}.hxe")
            subprocess.run([hsx, "asm", src, "-o", out, "--sym", out[:-4] + ".sym"],
                           check=True, stdout=subprocess.DEVNULL)
            images.append(out)
        old = run(argv[0], images)
        new = run(argv[1], images)
    diffs = 0
    for (q, a), (_, b) in zip(old, new):
        if a != b:
            diffs += 1
            print(f"DIFF {json.dumps(q)}\n  old: {json.dumps(a)[:600]}\n  new: {json.dumps(b)[:600]}")
        elif verbose:
            print(f"same {json.dumps(q)}")
    print(f"diff_daemons: {len(old) - diffs} same, {diffs} different")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
