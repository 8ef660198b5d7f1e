#!/usr/bin/env python3
"""The test bed's OAuth 2.0 servers, in one process sharing one token store.

    oauthserver.py TOKENS.json PORTFILE [CERT KEY HTTPSPORTFILE]

1. Introspection (RFC 7662) for Dovecot's oauth2 passdb, plain HTTP on
   127.0.0.1 (PORTFILE gets its port).  Any GET or POST answers
   {"active": true, "username": USER} for a live token and {"active": false}
   otherwise; the token is taken from a form field `token`, a query
   parameter `token`, an `Authorization: Bearer` header or the last path
   segment, so every Dovecot introspection_mode works.  TOKENS.json maps
   fixed access tokens to users (they never expire).

   The same port has the test's control hook, /control (JSON POSTed, JSON
   answered): {"set": {...}} changes the settings below, {"expire": USER}
   ends that user's access tokens now, {"revoke": USER} revokes the user's
   refresh tokens (and their access tokens), {"approve": USER_CODE}
   approves a device code (for the user in settings), {} just reads the
   state: the settings, counters and the log of token requests (grant type,
   time; never a token).

2. With CERT and KEY, the authorization server over HTTPS (its port in
   HTTPSPORTFILE): /authorize, /token, /device, /revoke, /verify.
   - /authorize checks client_id, a loopback http redirect_uri (RFC 8252),
     response_type=code, state and an S256 code_challenge, then answers
     302 as the setting "authorize" says: "approve" (the default: a code
     for settings["user"]), "deny" (error=access_denied), "elsewhere" (the
     code sent to http://evil.example.test/ instead of the loopback), or
     "wrong_state" (the code with another state).  The test follows the
     302 itself (it plays the browser).
   - /token: grant_type authorization_code (the code once, its
     redirect_uri and client_id, the PKCE verifier checked against the
     challenge), refresh_token, and the device code grant (RFC 8628:
     authorization_pending until approved, slow_down when polled sooner
     than the interval, expired_token past its expiry).  Errors are RFC
     6749 JSON answers with status 400 (invalid_grant, invalid_client...).
     The setting "next_token" makes the next answer "big" (10 MB of JSON),
     "malformed" (not JSON), or "error:CODE[:DESCRIPTION]"; it then resets.
   - /device: a device code, user code, verification_uri, interval and
     expires_in from the settings.
   - /revoke (RFC 7009): forgets the token (a refresh token takes its
     access tokens with it); always 200.
   Access tokens it issues live for settings["access_ttl"] seconds (none
   at all, though announced so, with settings["dead_tokens"]) and are
   introspected like the fixed ones.
"""

import base64
import hashlib
import http.server
import json
import os
import secrets
import ssl
import sys
import threading
import time
import urllib.parse

CLIENT_ID = "imapsh-test-client"


class Store:
    def __init__(self, fixed):
        self.lock = threading.Lock()
        self.fixed = dict(fixed)      # access token -> user, never expire
        self.access = {}              # access token -> (user, expiry, refresh token or None)
        self.refresh = {}             # refresh token -> {"user", "scope", "client_id"}
        self.codes = {}               # code -> {...}
        self.devices = {}             # device code -> {...}
        self.settings = {"authorize": "approve", "user": "alice", "access_ttl": 3600,
                         "next_token": "", "device_interval": 1, "device_expires": 60,
                         "issue_refresh": True}
        self.log = []                 # {"grant": ..., "t": ..., "answer": ...}
        self.counts = {}

    def count(self, what):
        self.counts[what] = self.counts.get(what, 0) + 1

    def user_of(self, tok):
        with self.lock:
            if tok in self.fixed:
                return self.fixed[tok]
            a = self.access.get(tok)
            if a and a[1] > time.time():
                return a[0]
        return None

    def issue(self, user, scope, client_id, refresh=None):
        at = "at-" + secrets.token_urlsafe(24)
        if refresh is None and self.settings["issue_refresh"]:
            refresh = "rt-" + secrets.token_urlsafe(24)
            self.refresh[refresh] = {"user": user, "scope": scope, "client_id": client_id}
        ttl = int(self.settings["access_ttl"])
        # "dead_tokens": issued as valid for ttl, refused by introspection
        life = 0 if self.settings.get("dead_tokens") else ttl
        self.access[at] = (user, time.time() + life, refresh)
        doc = {"access_token": at, "token_type": "Bearer", "expires_in": ttl, "scope": scope}
        if refresh is not None:
            doc["refresh_token"] = refresh
        return doc


def form_of(handler):
    n = int(handler.headers.get("Content-Length") or 0)
    if n > 65536:
        return None
    body = handler.rfile.read(n).decode("utf-8", "replace")
    try:
        return {k: v[0] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True,
                                                          strict_parsing=bool(body)).items()}
    except ValueError:
        return None


def send_json(handler, status, doc, raw=None):
    data = raw if raw is not None else json.dumps(doc).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Cache-Control", "no-store")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    try:
        handler.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def quiet_log(tag):
    def log_message(self, fmt, *args):
        # Never log tokens or codes: the method and the path only.
        sys.stderr.write("%s: %s %s\n" % (tag, self.command,
                                           urllib.parse.urlsplit(self.path).path))
        sys.stderr.flush()
    return log_message


def make_plain_handler(store):
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
            user = store.user_of(self._token(body))
            with store.lock:
                store.count("introspect_active" if user else "introspect_inactive")
            doc = {"active": True, "username": user, "scope": "imap"} if user else {"active": False}
            send_json(self, 200, doc)

        def _control(self, body):
            try:
                req = json.loads(body or "{}")
            except ValueError:
                return send_json(self, 400, {"error": "not json"})
            with store.lock:
                store.settings.update(req.get("set", {}))
                if "expire" in req:
                    for tok, (user, exp, rt) in list(store.access.items()):
                        if user == req["expire"]:
                            store.access[tok] = (user, 0, rt)
                if "revoke" in req:
                    for rt, info in list(store.refresh.items()):
                        if info["user"] == req["revoke"]:
                            del store.refresh[rt]
                    for tok, (user, exp, rt) in list(store.access.items()):
                        if user == req["revoke"]:
                            del store.access[tok]
                if "approve" in req:
                    for dc, dev in store.devices.items():
                        if dev["user_code"] == req["approve"]:
                            dev["approved"] = store.settings["user"]
                doc = {"settings": store.settings, "counts": store.counts, "log": store.log,
                       "refresh_tokens": len(store.refresh),
                       "devices": [{"user_code": d["user_code"], "approved": d["approved"]}
                                   for d in store.devices.values()]}
                data = json.dumps(doc).encode()
            send_json(self, 200, None, raw=data)

        def do_GET(self):
            self._answer("")

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode("utf-8", "replace")
            if urllib.parse.urlsplit(self.path).path == "/control":
                return self._control(body)
            self._answer(body)

        log_message = quiet_log("oauth")

    return Handler


def loopback_redirect(uri):
    try:
        u = urllib.parse.urlsplit(uri)
        return (u.scheme == "http" and u.hostname in ("127.0.0.1", "localhost", "::1")
                and u.port is not None and not u.fragment)
    except ValueError:
        return False


def make_tls_handler(store, base_url):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _redirect(self, uri, params):
            sep = "&" if "?" in uri else "?"
            loc = uri + sep + urllib.parse.urlencode(params)
            self.send_response(302)
            self.send_header("Location", loc)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _text(self, status, text):
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            if u.path != "/authorize":
                return self._text(404, "not found\n")
            q = {k: v[0] for k, v in urllib.parse.parse_qs(u.query).items()}
            with store.lock:
                store.count("authorize")
                s = dict(store.settings)
            if q.get("client_id") != CLIENT_ID:
                return self._text(400, "unknown client_id\n")
            redirect = q.get("redirect_uri", "")
            if not loopback_redirect(redirect):
                return self._text(400, "redirect_uri is not a loopback http URI\n")
            if (q.get("response_type") != "code" or not q.get("state")
                    or q.get("code_challenge_method") != "S256"
                    or len(q.get("code_challenge", "")) != 43):
                return self._redirect(redirect, {"error": "invalid_request",
                                                 "state": q.get("state", "")})
            mode = s["authorize"]
            if mode == "deny":
                return self._redirect(redirect, {"error": "access_denied",
                                                 "error_description": "The user said no",
                                                 "state": q["state"]})
            code = "code-" + secrets.token_urlsafe(16)
            with store.lock:
                store.codes[code] = {"client_id": q["client_id"], "redirect_uri": redirect,
                                     "challenge": q["code_challenge"], "user": s["user"],
                                     "scope": q.get("scope", ""), "expires": time.time() + 60}
            if mode == "elsewhere":
                return self._redirect("http://evil.example.test/", {"code": code,
                                                                    "state": q["state"]})
            state = q["state"] if mode != "wrong_state" else "another-requests-state"
            self._redirect(redirect, {"code": code, "state": state})

        def _error(self, code, desc=None, status=400):
            doc = {"error": code}
            if desc:
                doc["error_description"] = desc
            return doc, status

        def _token(self, f):
            grant = f.get("grant_type", "")
            s = store.settings
            if f.get("client_id") != CLIENT_ID:
                return self._error("invalid_client", "AADSTS700016: Application not found",
                                   401)
            if grant == "authorization_code":
                c = store.codes.pop(f.get("code", ""), None)
                if c is None or c["expires"] < time.time():
                    return self._error("invalid_grant", "unknown or used code")
                if c["redirect_uri"] != f.get("redirect_uri"):
                    return self._error("invalid_grant", "redirect_uri mismatch")
                v = f.get("code_verifier", "")
                want = base64.urlsafe_b64encode(hashlib.sha256(v.encode()).digest())
                if want.rstrip(b"=").decode() != c["challenge"]:
                    return self._error("invalid_grant", "PKCE verification failed")
                return store.issue(c["user"], c["scope"], c["client_id"]), 200
            if grant == "refresh_token":
                info = store.refresh.get(f.get("refresh_token", ""))
                if info is None:
                    return self._error("invalid_grant", "Token has been expired or revoked.")
                return store.issue(info["user"], info["scope"], info["client_id"],
                                   refresh=f["refresh_token"]), 200
            if grant == "urn:ietf:params:oauth:grant-type:device_code":
                dev = store.devices.get(f.get("device_code", ""))
                now = time.time()
                if dev is None:
                    return self._error("invalid_grant", "unknown device code")
                if now > dev["expires"]:
                    return self._error("expired_token")
                if dev["slow_down"] > 0:
                    dev["slow_down"] -= 1
                    dev["interval"] += 5
                    dev["last"] = now
                    return self._error("slow_down")
                if dev["last"] and now - dev["last"] < dev["interval"] - 0.2:
                    dev["interval"] += 5
                    dev["last"] = now
                    return self._error("slow_down")
                dev["last"] = now
                if not dev["approved"]:
                    return self._error("authorization_pending")
                del store.devices[f["device_code"]]
                return store.issue(dev["approved"], dev["scope"], CLIENT_ID), 200
            return self._error("unsupported_grant_type")

        def do_POST(self):
            path = urllib.parse.urlsplit(self.path).path
            f = form_of(self)
            if f is None:
                return send_json(self, 400, {"error": "invalid_request"})
            with store.lock:
                store.count(path.strip("/"))
                if path == "/token":
                    nxt = store.settings["next_token"]
                    store.settings["next_token"] = ""
                    store.log.append({"grant": f.get("grant_type", ""), "t": time.time(),
                                      "has_secret": "client_secret" in f})
                    if nxt == "big":
                        pad = b" " * (10 * 1024 * 1024)
                        raw = b'{"access_token":"x","pad":"' + pad + b'"}'
                        doc, status = None, 200
                    elif nxt == "malformed":
                        doc, status, raw = None, 200, b'{"access_token": "at-x", "expires_in": '
                    elif nxt.startswith("error:"):
                        parts = nxt.split(":", 2)
                        doc, status = self._error(parts[1], parts[2] if len(parts) > 2 else None)
                        raw = None
                    else:
                        doc, status = self._token(f)
                        raw = None
                        store.log[-1]["status"] = status
                        if status != 200:
                            store.log[-1]["error"] = doc["error"]
                elif path == "/device":
                    if f.get("client_id") != CLIENT_ID:
                        doc, status = self._error("invalid_client", None, 401)
                    else:
                        dc = "dc-" + secrets.token_urlsafe(16)
                        uc = "%04d-%04d" % (secrets.randbelow(10000), secrets.randbelow(10000))
                        s = store.settings
                        store.devices[dc] = {"user_code": uc, "approved": None,
                                             "scope": f.get("scope", ""),
                                             "interval": int(s["device_interval"]),
                                             "expires": time.time() + float(s["device_expires"]),
                                             "last": 0, "slow_down": int(s.get("slow_down", 0))}
                        doc = {"device_code": dc, "user_code": uc,
                               "verification_uri": base_url + "/verify",
                               "verification_uri_complete": base_url + "/verify?code=" + uc,
                               "interval": int(s["device_interval"]),
                               "expires_in": int(float(s["device_expires"]))}
                        status = 200
                    raw = None
                elif path == "/revoke":
                    tok = f.get("token", "")
                    if tok in store.refresh:
                        del store.refresh[tok]
                        for at, (user, exp, rt) in list(store.access.items()):
                            if rt == tok:
                                del store.access[at]
                        store.count("revoked")
                    store.access.pop(tok, None)
                    doc, status, raw = {}, 200, None
                else:
                    doc, status, raw = {"error": "not found"}, 404, None
            send_json(self, status, doc, raw=raw)

        log_message = quiet_log("oauth-tls")

    return Handler


def write_port(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def main(argv):
    if len(argv) not in (3, 6):
        print("usage: oauthserver.py TOKENS.json PORTFILE [CERT KEY HTTPSPORTFILE]",
              file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        store = Store(json.load(f))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_plain_handler(store))
    if len(argv) == 6:
        tls = http.server.ThreadingHTTPServer(("127.0.0.1", 0), None)
        port = tls.server_address[1]
        tls.RequestHandlerClass = make_tls_handler(store, "https://imap.example.test:%d" % port)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(argv[3], argv[4])
        tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
        threading.Thread(target=tls.serve_forever, daemon=True).start()
        write_port(argv[5], port)
    write_port(argv[2], srv.server_address[1])
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
