#!/usr/bin/env python3
"""A tiny OAuth 2.0 token introspection endpoint (RFC 7662) for Dovecot's
oauth2 passdb in the test bed.

    oauthserver.py TOKENS.json PORTFILE

TOKENS.json maps access token -> user name.  Listens on 127.0.0.1 on a free
port, writes the port to PORTFILE, and answers any GET or POST with
{"active": true, "username": USER} for a known token and {"active": false}
otherwise.  The token is taken from a form field `token`, a query
parameter `token`, an `Authorization: Bearer` header or the last path
segment, so every Dovecot introspection_mode works.
"""

import http.server
import json
import os
import sys
import urllib.parse


def make_handler(tokens):
    class Handler(http.server.BaseHTTPRequestHandler):
        def _token(self, body):
            for source in (body, urllib.parse.urlsplit(self.path).query):
                val = urllib.parse.parse_qs(source).get("token")
                if val:
                    return val[0]
            auth = self.headers.get("Authorization", "")
            if auth.lower().startswith("bearer "):
                return auth[7:].strip()
            return urllib.parse.unquote(urllib.parse.urlsplit(self.path).path.rsplit("/", 1)[-1])

        def _answer(self, body):
            tok = self._token(body)
            user = tokens.get(tok)
            doc = {"active": True, "username": user, "scope": "imap"} if user else {"active": False}
            data = json.dumps(doc).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self._answer("")

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            self._answer(self.rfile.read(n).decode("utf-8", "replace"))

        def log_message(self, fmt, *args):
            # Never log tokens: only method and whether it was known.
            sys.stderr.write("oauth: %s\n" % (self.command,))
            sys.stderr.flush()

    return Handler


def main(argv):
    if len(argv) != 3:
        print("usage: oauthserver.py TOKENS.json PORTFILE", file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        tokens = json.load(f)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(tokens))
    tmp = argv[2] + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.replace(tmp, argv[2])
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
