#!/usr/bin/env python3
"""Provisioning master built only from third-party CAN tools: python-can's SLCAN interface and
can-isotp's transport layer. It pushes an image with the byte layout of docs/can.md to a device
behind an SLCAN serial line (here a pseudo-terminal) and exits 0 once the device confirmed END.

usage: python_master.py PORT IMAGE [--label NAME] [--txid 0x6A0] [--rxid 0x6A8] [--chunk N]
"""
import argparse
import random
import struct
import sys
import time
import zlib

import can
import isotp

BEGIN, CHUNK, END, ABORT, STATUS = 1, 2, 3, 4, 5
REPLY = 0x80
VERSION = 1


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("port")
    ap.add_argument("image")
    ap.add_argument("--label", default="")
    ap.add_argument("--txid", type=lambda s: int(s, 0), default=0x6A0)
    ap.add_argument("--rxid", type=lambda s: int(s, 0), default=0x6A8)
    ap.add_argument("--chunk", type=int, default=1024)
    ap.add_argument("--attempts", type=int, default=5)
    args = ap.parse_args()
    image = open(args.image, "rb").read()

    bus = can.Bus(interface="slcan", channel=args.port, bitrate=500000, sleep_after_open=0)
    stack = isotp.CanStack(
        bus,
        address=isotp.Address(isotp.AddressingMode.Normal_11bits, txid=args.txid, rxid=args.rxid),
        params={"blocking_send": True, "blocksize": 8, "stmin": 0},
    )
    stack.start()
    try:
        return push(stack, image, args)
    finally:
        stack.stop()
        bus.shutdown()


def request(stack, msg: bytes, echo: int, attempts: int):
    """Sends msg until a reply to the same opcode with the same echo (or an error) arrives."""
    for _ in range(attempts):
        try:
            stack.send(msg, send_timeout=2.0)
        except isotp.BlockingSendFailure as e:
            print(f"send failed, retrying: {e}", file=sys.stderr)
            continue
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            reply = stack.recv(block=True, timeout=max(0.0, deadline - time.monotonic()))
            if reply is None or len(reply) < 6:
                continue
            op, status, got_echo = struct.unpack_from("<BBI", reply)
            if op == msg[0] | REPLY and (got_echo == echo or status != 0):
                return status, bytes(reply[6:])
    raise SystemExit(f"no reply to opcode {msg[0]} after {attempts} attempts")


def push(stack, image: bytes, args) -> int:
    token = random.getrandbits(32)
    label = args.label.encode()
    status, body = request(
        stack, struct.pack("<BBIIB", BEGIN, VERSION, token, len(image), len(label)) + label,
        token, args.attempts)
    if status != 0:
        print(f"BEGIN refused: status {status}", file=sys.stderr)
        return 2
    pid, max_chunk = struct.unpack_from("<IH", body)
    chunk = min(args.chunk, max_chunk)
    for seq, off in enumerate(range(0, len(image), chunk)):
        status, _ = request(stack, struct.pack("<BI", CHUNK, seq) + image[off:off + chunk],
                            seq, args.attempts)
        if status != 0:
            print(f"CHUNK {seq} refused: status {status}", file=sys.stderr)
            request(stack, bytes([ABORT]), 0, args.attempts)
            return 2
    status, body = request(stack, struct.pack("<BI", END, zlib.crc32(image)), 0, args.attempts)
    if status != 0:
        print(f"END refused: status {status}", file=sys.stderr)
        return 2
    print(f"pushed {len(image)} bytes as pid {pid} in chunks of {chunk}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
