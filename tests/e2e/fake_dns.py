"""A minimal DNS server for tests: answers A queries for names under a suffix with one address.

Run as `python3 fake_dns.py BIND_ADDR SUFFIX ANSWER_ADDR`; everything else gets NXDOMAIN.
Only what the suite needs: one question per query, UDP, class IN.
"""

import socket
import struct
import sys


def name_of(packet: bytes, offset: int) -> tuple[str, int]:
    labels = []
    while packet[offset]:
        length = packet[offset]
        labels.append(packet[offset + 1 : offset + 1 + length].decode())
        offset += 1 + length
    return ".".join(labels), offset + 1


def answer(query: bytes, suffix: str, address: str) -> bytes:
    ident, _flags, qdcount = struct.unpack("!HHH", query[:6])
    name, end = name_of(query, 12)
    qtype, _qclass = struct.unpack("!HH", query[end : end + 4])
    question = query[12 : end + 4]
    known = name.lower() == suffix or name.lower().endswith("." + suffix)
    if known and qtype == 1:
        header = struct.pack("!HHHHHH", ident, 0x8180, 1, 1, 0, 0)
        record = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(address)
        return header + question + record
    rcode = 0 if known else 3
    return struct.pack("!HHHHHH", ident, 0x8180 | rcode, 1, 0, 0, 0) + question


def main() -> None:
    bind, suffix, address = sys.argv[1], sys.argv[2].lower(), sys.argv[3]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((bind, 53))
    print("ready", flush=True)
    while True:
        query, client = sock.recvfrom(4096)
        try:
            sock.sendto(answer(query, suffix, address), client)
        except Exception as e:  # a malformed query: ignore it
            print("bad query:", e, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
