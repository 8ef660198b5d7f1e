#!/usr/bin/env python3
"""A DNS server on loopback for the test bed (python3-dnslib), UDP and TCP.

    dnsserver.py ZONE.json PORTFILE [ADDR]

Listens on ADDR (default 127.0.0.1) at a free port, the same for UDP and
TCP, and writes that port to PORTFILE.  ZONE.json is read again for every
query, so a test changes the zone by rewriting the file:

    {"records": [
      {"name": "_imaps._tcp.example.test", "type": "SRV",
       "priority": 0, "weight": 1, "port": 993, "target": "imap.example.test"},
      {"name": "example.test", "type": "MX", "preference": 10, "host": "mx.example.test"},
      {"name": "imap.example.test", "type": "A", "addr": "127.0.0.1"},
      {"name": "imap.example.test", "type": "AAAA", "addr": "::1"}
    ],
     "truncate": false}

A name with no record at all is NXDOMAIN; a name with records of other
types only is an empty answer (NOERROR).  "truncate": true sets TC on UDP
answers, so a client must ask again over TCP.
"""

import json
import os
import socket
import sys
import time

from dnslib import AAAA, MX, QTYPE, RCODE, RR, SRV, A, DNSLabel
from dnslib.server import BaseResolver, DNSServer


class ZoneResolver(BaseResolver):
    def __init__(self, path):
        self.path = path

    def _zone(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return {"records": []}

    def resolve(self, request, handler):
        zone = self._zone()
        reply = request.reply()
        qname = request.q.qname
        qtype = QTYPE[request.q.qtype]
        known = False
        for r in zone.get("records", []):
            if DNSLabel(r["name"]) != qname:
                continue
            known = True
            if r["type"] != qtype:
                continue
            ttl = int(r.get("ttl", 60))
            if qtype == "SRV":
                rd = SRV(priority=int(r.get("priority", 0)), weight=int(r.get("weight", 0)),
                         port=int(r["port"]), target=r["target"])
            elif qtype == "MX":
                rd = MX(r["host"], int(r.get("preference", 10)))
            elif qtype == "A":
                rd = A(r["addr"])
            elif qtype == "AAAA":
                rd = AAAA(r["addr"])
            else:
                continue
            reply.add_answer(RR(qname, QTYPE.reverse[qtype], ttl=ttl, rdata=rd))
        if not known:
            reply.header.rcode = RCODE.NXDOMAIN
        if zone.get("truncate") and handler.protocol == "udp":
            reply.header.tc = 1
            reply.rr = []
        return reply


class QuietLogger:
    def __getattr__(self, name):
        return lambda *a, **k: None


def free_port(addr):
    """A port free for both UDP and TCP on addr."""
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind((addr, 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind((addr, port))
        except OSError:
            t.close()
            continue
        t.close()
        u.close()
        return port
    raise RuntimeError("no free port")


def main(argv):
    if len(argv) not in (3, 4):
        print("usage: dnsserver.py ZONE.json PORTFILE [ADDR]", file=sys.stderr)
        return 2
    addr = argv[3] if len(argv) == 4 else "127.0.0.1"
    resolver = ZoneResolver(argv[1])
    for attempt in range(5):
        port = free_port(addr)
        try:
            udp = DNSServer(resolver, address=addr, port=port, logger=QuietLogger())
            tcp = DNSServer(resolver, address=addr, port=port, tcp=True, logger=QuietLogger())
            break
        except OSError:
            if attempt == 4:
                raise
    udp.start_thread()
    tcp.start_thread()
    tmp = argv[2] + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, argv[2])
    try:
        while udp.isAlive() and tcp.isAlive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
