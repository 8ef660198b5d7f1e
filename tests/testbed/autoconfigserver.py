#!/usr/bin/env python3
"""An HTTPS server on loopback for the test bed: autoconfig documents and an
ISPDB, served from files.

    autoconfigserver.py DOCROOT CERT KEY ADDR PORT READYFILE

Listens on ADDR:PORT (PORT 0: a free one) with the certificate CERT (a
chain, leaf first) and KEY, and answers GET /PATH for the Host NAME with
the file DOCROOT/NAME/PATH (the query left off), as application/xml;
404 when there is none.  Every request is logged, one JSON line
{"host", "path", "query"} to DOCROOT/requests.log, so a test can see what
was asked.  Writes the port to READYFILE once listening.

A test lays out, for example:
    DOCROOT/autoconfig.example.test/mail/config-v1.1.xml
    DOCROOT/example.test/.well-known/autoconfig/mail/config-v1.1.xml
    DOCROOT/ispdb.example.test/v1.1/example.test
"""

import http.server
import json
import os
import ssl
import sys
import threading
import urllib.parse


def make_handler(docroot):
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
            u = urllib.parse.urlsplit(self.path)
            with lock, open(os.path.join(docroot, "requests.log"), "a") as f:
                f.write(json.dumps({"host": host, "path": u.path, "query": u.query}) + "\n")
            rel = os.path.normpath(urllib.parse.unquote(u.path)).lstrip("/")
            path = os.path.join(docroot, host, rel)
            if ".." in rel.split("/") or "/" in host or not os.path.isfile(path):
                body = b"not found\n"
                self.send_response(404)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            size = os.path.getsize(path)
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            try:
                with open(path, "rb") as f:
                    while True:
                        chunk = f.read(65536)
                        if not chunk:
                            break
                        self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass

        def log_message(self, fmt, *args):
            pass

    return Handler


def main(argv):
    if len(argv) != 7:
        print("usage: autoconfigserver.py DOCROOT CERT KEY ADDR PORT READYFILE", file=sys.stderr)
        return 2
    docroot, cert, key, addr, port, ready = argv[1:]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = http.server.ThreadingHTTPServer((addr, int(port)), make_handler(docroot))
    srv.daemon_threads = True
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = ready + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.replace(tmp, ready)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
