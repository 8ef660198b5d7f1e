#!/usr/bin/env python3
"""A scriptable fake IMAP server, for what a real server will not do.

Library use (tests):

    from fakeserver import FakeServer, CASES
    with FakeServer(script, tls="expired") as srv:      # implicit TLS, chain from the matrix
        run_imapsh([... "localhost:%d" % srv.port ...])
        srv.wait(10)
    conn = srv.conn                      # first connection
    conn.client_bytes                    # every byte the client sent (plain + TLS)
    conn.client_plain, conn.client_tls   # split at the TLS upgrade
    conn.errors, conn.tls_error, conn.injected_after_starttls, conn.transcript()

    with FakeServer.case("starttls_injection") as srv: ...   # a ready-made case

CLI (subprocess use):

    fakeserver.py [--case NAME | --script FILE.json] [--tls CASE | --chain F --key F]
                  [--tls-version 1.1] [--seclevel0] [--connections N] [--port P]
                  [--record FILE.json] [--testbed DIR]

prints "PORT n" on stdout once listening, serves N connections (default 1),
writes the record (see Conn.to_json) and exits 0, or 1 if a script step failed.

A script is a list of steps, each a list (JSON-friendly) whose first item
names the step.  Text is str (sent as UTF-8) or bytes; "{name}" in it is
replaced by a captured variable (only identifiers: IMAP literals "{5}" are
left alone).  Steps:

    ["send", TEXT]                 one write: one TCP segment for small data
    ["split", [TEXT, ...], DELAY]  each part its own write, DELAY s apart (default 0.1)
    ["dribble", TEXT, DELAY]       one byte a write, DELAY s apart (default 0.02)
    ["expect", REGEX]              read one line; it must match (re.search, bytes, CRLF
                                   stripped); captures "tag" (first word) and named groups
    ["command", REGEX]             as expect, but reads a whole command with its literals
                                   (answers "+ OK" to synchronising literals)
    ["sleep", SECONDS]
    ["read", SECONDS]              record whatever the client sends for SECONDS
    ["expect_eof", SECONDS]        the client must close within SECONDS
    ["starttls", CASE?]            become a TLS server now (CASE defaults to the server's
                                   starttls_case, "valid"); bytes already received after the
                                   STARTTLS line are recorded as injected_after_starttls
    ["serve", OPTS]                a tiny IMAP responder loop, see Conn.serve
    ["close"] / ["drop"]           FIN, or RST (SO_LINGER 0); ends the script

A script may also be a callable(conn) using the same verbs as methods.
After the last step the server keeps reading for `linger` seconds (default 2)
so trailing client bytes (LOGOUT) are recorded, then closes.
"""

import argparse
import json
import os
import re
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import warnings

DEFAULT_CAPS = "IMAP4rev1 SASL-IR ID IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN"
WEAK_CASES = ("sha1", "rsa1024")


class ScriptError(Exception):
    pass


class Closed(Exception):
    pass


def _b(text):
    if isinstance(text, bytes):
        return text
    return str(text).encode("utf-8")


def _subst(text, vars_):
    data = _b(text)

    def rep(m):
        name = m.group(1).decode()
        return _b(vars_[name]) if name in vars_ else m.group(0)
    return re.sub(rb"\{([A-Za-z_][A-Za-z0-9_]*)\}", rep, data)


def load_certs(testbed=None):
    d = testbed or os.environ.get("IMAPSH_TESTBED")
    if not d:
        raise RuntimeError("no test bed: pass testbed= or set IMAPSH_TESTBED")
    with open(os.path.join(d, "env.json"), encoding="utf-8") as f:
        return json.load(f)["ca"]["certs"]


def make_server_context(chain, key, versions=None, seclevel0=False):
    """A server SSLContext sending `chain` (leaf first).  versions is
    (min, max) as "1.1", "1.2", "1.3" or None."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if seclevel0:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    if versions:
        names = {"1": "TLSv1", "1.0": "TLSv1", "1.1": "TLSv1_1", "1.2": "TLSv1_2",
                 "1.3": "TLSv1_3"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = getattr(ssl.TLSVersion, names[versions[0]])
            ctx.maximum_version = getattr(ssl.TLSVersion, names[versions[1]])
    ctx.load_cert_chain(chain, key)
    return ctx


class Conn:
    """One accepted connection: the script runs against it and it records
    every byte both ways."""

    def __init__(self, server, sock, index):
        self.server, self.sock, self.index = server, sock, index
        self.t0 = time.monotonic()
        self.events = []            # (seconds, "C"|"S", "plain"|"tls", bytes)
        self.phase = "plain"
        self.vars = {}
        self.errors = []
        self.tls_error = None
        self.tls_version = None
        self.tls_cipher = None
        self.injected_after_starttls = b""
        self.client_closed = False
        self.done = threading.Event()
        self._buf = b""
        self._lock = threading.Lock()

    # -------------------------------------------------- records
    def _rec(self, direction, data):
        with self._lock:
            self.events.append((round(time.monotonic() - self.t0, 4), direction, self.phase, data))

    def _join(self, direction, phase=None):
        with self._lock:
            return b"".join(e[3] for e in self.events
                            if e[1] == direction and (phase is None or e[2] == phase))

    @property
    def client_bytes(self):
        return self._join("C")

    @property
    def client_plain(self):
        return self._join("C", "plain")

    @property
    def client_tls(self):
        return self._join("C", "tls")

    @property
    def server_bytes(self):
        return self._join("S")

    def client_lines(self, phase=None):
        return self._join("C", phase).split(b"\r\n")

    def transcript(self):
        out = []
        for t, d, ph, data in list(self.events):
            for line in data.decode("latin-1").splitlines(True):
                out.append("%8.3f %s%s %r" % (t, d, "" if ph == "plain" else "~", line))
        return "\n".join(out)

    def to_json(self):
        return {"index": self.index,
                "events": [{"t": t, "dir": d, "phase": ph, "data": data.decode("latin-1")}
                           for t, d, ph, data in self.events],
                "client_plain": self.client_plain.decode("latin-1"),
                "client_tls": self.client_tls.decode("latin-1"),
                "injected_after_starttls": self.injected_after_starttls.decode("latin-1"),
                "errors": self.errors, "tls_error": self.tls_error,
                "tls_version": self.tls_version, "client_closed": self.client_closed,
                "vars": {k: v if isinstance(v, str) else v.decode("latin-1")
                         for k, v in self.vars.items()}}

    # -------------------------------------------------- I/O verbs
    def send(self, text):
        data = _subst(text, self.vars)
        self._rec("S", data)
        self.sock.sendall(data)

    def split(self, parts, delay=0.1):
        for i, p in enumerate(parts):
            if i:
                self.sleep(delay)
            self.send(p)

    def dribble(self, text, delay=0.02):
        data = _subst(text, self.vars)
        for i in range(len(data)):
            if i:
                self.sleep(delay)
            self._rec("S", data[i:i + 1])
            self.sock.sendall(data[i:i + 1])

    def sleep(self, seconds):
        if self.server._stop.wait(seconds):
            raise Closed("server stopping")

    def _fill(self, deadline):
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out")
            if self.server._stop.is_set():
                raise Closed("server stopping")
            self.sock.settimeout(min(left, 0.25))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ssl.SSLWantReadError:
                continue
            if not data:
                self.client_closed = True
                raise Closed("client closed the connection")
            self._rec("C", data)
            self._buf += data
            return

    def readline(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.server.timeout)
        while b"\n" not in self._buf:
            self._fill(deadline)
        line, self._buf = self._buf.split(b"\n", 1)
        return line + b"\n"

    def readexactly(self, n, timeout=None):
        deadline = time.monotonic() + (timeout or self.server.timeout)
        while len(self._buf) < n:
            self._fill(deadline)
        data, self._buf = self._buf[:n], self._buf[n:]
        return data

    def read_command(self, timeout=None):
        """A whole IMAP command with its literals, CRLFs kept."""
        out = self.readline(timeout)
        while True:
            m = re.search(rb"\{(\d+)(\+?)\}\r?\n$", out)
            if not m:
                return out
            if not m.group(2):
                self.send(b"+ OK\r\n")
            out += self.readexactly(int(m.group(1)), timeout)
            out += self.readline(timeout)

    def _capture(self, line, regex):
        text = line.rstrip(b"\r\n")
        m = re.search(_b(regex), text)
        if not m:
            raise ScriptError("expected %r, client sent %r" % (regex, text))
        self.vars["tag"] = text.split(b" ", 1)[0].decode("latin-1")
        self.vars["line"] = text.decode("latin-1")
        for k, v in m.groupdict().items():
            if v is not None:
                self.vars[k] = v.decode("latin-1")
        return text

    def expect(self, regex, timeout=None):
        return self._capture(self.readline(timeout), regex)

    def command(self, regex, timeout=None):
        return self._capture(self.read_command(timeout), regex)

    def read(self, seconds):
        deadline = time.monotonic() + seconds
        try:
            while True:
                self._fill(deadline)
        except socket.timeout:
            pass

    def expect_eof(self, seconds=5):
        try:
            self.read(seconds)
        except Closed:
            if self.client_closed:
                return
            raise
        raise ScriptError("client did not close within %s s" % seconds)

    def starttls(self, case=None):
        if self._buf:
            self.injected_after_starttls = self._buf
            self.errors.append("client sent %r after STARTTLS before the handshake"
                               % self._buf)
            self._buf = b""
        ctx = self.server.context_for(case or self.server.starttls_case)
        self.sock.settimeout(self.server.timeout)
        try:
            self.sock = ctx.wrap_socket(self.sock, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.tls_error = "%s: %s" % (type(e).__name__, e)
            raise Closed("TLS handshake failed: %s" % e)
        self.phase = "tls"
        self.tls_version = self.sock.version()
        self.tls_cipher = self.sock.cipher()[0]

    def close(self):
        try:
            if isinstance(self.sock, ssl.SSLSocket):
                self.sock = self.sock.unwrap()
        except (ssl.SSLError, OSError, ValueError):
            pass
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raise Closed("closed by script")

    def drop(self):
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.sock.close()
        raise Closed("dropped by script")

    # -------------------------------------------------- responder
    def serve(self, opts=None):
        """Answer commands until LOGOUT, EOF, or a command matching
        opts["until"] (captured, not answered; the script goes on).

        opts: caps (str, default DEFAULT_CAPS); caps_tls (after STARTTLS);
        rules: [[REGEX, REPLY] or [REGEX, REPLY, ACTION]] tried first against
        the command after its tag (ACTION: "end" stop serving, "close",
        "drop", "starttls"); auth: "ok" | "no"; exists: N for SELECT."""
        o = dict(opts or {})
        caps = o.get("caps", DEFAULT_CAPS)
        until = o.get("until")
        while True:
            raw = self.read_command()
            line = raw.rstrip(b"\r\n")
            parts = line.split(b" ", 1)
            tag = parts[0].decode("latin-1")
            rest = parts[1] if len(parts) > 1 else b""
            self.vars["tag"], self.vars["line"] = tag, line.decode("latin-1")
            m = re.search(_b(until), rest) if until else None
            if m:
                for k, v in m.groupdict().items():
                    if v is not None:
                        self.vars[k] = v.decode("latin-1")
                return
            cur_caps = o.get("caps_tls", caps) if self.phase == "tls" else caps
            self.vars["caps"] = cur_caps
            for rule in o.get("rules", []):
                if re.search(_b(rule[0]), rest):
                    self.send(rule[1])
                    action = rule[2] if len(rule) > 2 else None
                    if action == "end":
                        return
                    if action == "close":
                        self.close()
                    if action == "drop":
                        self.drop()
                    if action == "starttls":
                        self.starttls()
                    break
            else:
                if self._default(rest, cur_caps, o):
                    return

    def _default(self, rest, caps, o):
        verb = rest.split(b" ", 1)[0].upper()
        ok = "{tag} OK %s completed\r\n" % verb.decode("latin-1")
        if verb == b"CAPABILITY":
            self.send("* CAPABILITY %s\r\n" % caps + ok)
        elif verb in (b"NOOP", b"ENABLE", b"CHECK", b"UNSELECT", b"CLOSE", b"SUBSCRIBE"):
            self.send(ok)
        elif verb == b"ID":
            self.send('* ID ("name" "fakeserver")\r\n' + ok)
        elif verb == b"LOGIN":
            self.vars["login"] = rest.decode("latin-1")
            if o.get("auth", "ok") == "ok":
                self.send("{tag} OK [CAPABILITY %s] Logged in\r\n" % caps)
            else:
                self.send("{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
        elif verb == b"AUTHENTICATE":
            args = rest.split(b" ")
            mech = args[1].upper() if len(args) > 1 else b""
            answers = [args[2]] if len(args) > 2 else []
            steps = 2 if mech == b"LOGIN" else 1
            while len(answers) < steps:
                prompt = [b"VXNlcm5hbWU6", b"UGFzc3dvcmQ6"][len(answers)] if mech == b"LOGIN" else b""
                self.send(b"+ " + prompt + b"\r\n")
                ans = self.readline().rstrip(b"\r\n")
                if ans == b"*":
                    self.send("{tag} BAD Authentication cancelled\r\n")
                    return False
                answers.append(ans)
            self.vars["auth_mech"] = mech.decode("latin-1")
            self.vars["auth_data"] = " ".join(a.decode("latin-1") for a in answers)
            if o.get("auth", "ok") == "ok":
                self.send("{tag} OK [CAPABILITY %s] Logged in\r\n" % caps)
            else:
                self.send("{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
        elif verb in (b"SELECT", b"EXAMINE"):
            n = int(o.get("exists", 0))
            self.send("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
                      "* %d EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1] UIDs valid\r\n"
                      "* OK [UIDNEXT %d] Predicted next UID\r\n"
                      "{tag} OK [%s] %s completed\r\n"
                      % (n, n + 1, "READ-ONLY" if verb == b"EXAMINE" else "READ-WRITE",
                         verb.decode()))
        elif verb in (b"LIST", b"LSUB"):
            self.send('* %s (\\HasNoChildren) "/" INBOX\r\n' % verb.decode() + ok)
        elif verb == b"NAMESPACE":
            self.send('* NAMESPACE (("" "/")) NIL NIL\r\n' + ok)
        elif verb == b"STARTTLS":
            self.send("{tag} OK Begin TLS negotiation now\r\n")
            self.starttls()
        elif verb == b"LOGOUT":
            self.send("* BYE Logging out\r\n" + ok)
            self.close()
        else:
            self.send("{tag} BAD Error in IMAP command: unknown command\r\n")
        return False

    # -------------------------------------------------- running
    def run(self, script):
        try:
            if self.server.tls_context is not None:
                self.sock.settimeout(self.server.timeout)
                try:
                    self.sock = self.server.tls_context.wrap_socket(self.sock, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    self.tls_error = "%s: %s" % (type(e).__name__, e)
                    raise Closed("TLS handshake failed: %s" % e)
                self.phase = "tls"
                self.tls_version = self.sock.version()
                self.tls_cipher = self.sock.cipher()[0]
            if callable(script):
                script(self)
            else:
                for step in script:
                    self._step(step)
            self.read(self.server.linger)
        except Closed:
            pass
        except ScriptError as e:
            self.errors.append(str(e))
        except socket.timeout:
            self.errors.append("timed out waiting for the client (%s)"
                               % (self.vars.get("line") or "no line yet"))
        except (OSError, ssl.SSLError) as e:
            self.errors.append("%s: %s" % (type(e).__name__, e))
        finally:
            try:
                self.sock.close()
            except OSError:
                pass
            self.done.set()

    def _step(self, step):
        name, args = step[0], list(step[1:])
        fn = {"send": self.send, "split": self.split, "dribble": self.dribble,
              "expect": self.expect, "command": self.command, "sleep": self.sleep,
              "read": self.read, "expect_eof": self.expect_eof, "starttls": self.starttls,
              "serve": self.serve, "close": self.close, "drop": self.drop}.get(name)
        if fn is None:
            raise ScriptError("unknown step %r" % (name,))
        fn(*args)


class FakeServer:
    """Listen on host:port (0: any free port) and run `script` on each of
    up to `connections` connections.  tls: None for plaintext, or a case
    name of the test bed's certificate matrix ("valid", "expired", ...) for
    implicit TLS; or give chain= and key= files.  tls_versions=("1.1",
    "1.1") pins the versions; weak cases (sha1, rsa1024) and TLS < 1.2 get
    SECLEVEL=0 automatically so the server really presents them."""

    def __init__(self, script=None, tls=None, chain=None, key=None, tls_versions=None,
                 seclevel0=None, starttls_case="valid", connections=1, host="127.0.0.1",
                 port=0, timeout=10.0, linger=2.0, certs=None, testbed=None, record=None):
        self.script = script if script is not None else [
            ["send", "* OK [CAPABILITY %s] fakeserver ready\r\n" % DEFAULT_CAPS], ["serve", {}]]
        self.connections = connections
        self.timeout, self.linger = timeout, linger
        self.starttls_case = starttls_case
        self.record = record
        self._certs, self._testbed = certs, testbed
        self.tls_versions = tls_versions
        self.seclevel0 = seclevel0
        self.tls_context = None
        if chain:
            self.tls_context = make_server_context(chain, key, tls_versions, bool(seclevel0))
        elif tls:
            self.tls_context = self.context_for(tls, tls_versions)
        self.conns = []
        self._stop = threading.Event()
        self._threads = []
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((host, port))
        self.lsock.listen(16)
        self.lsock.settimeout(0.2)
        self.host, self.port = self.lsock.getsockname()[:2]
        self._accepter = None

    @classmethod
    def case(cls, name, **kw):
        """A ready-made case from CASES; keyword arguments override."""
        c = dict(CASES[name])
        c.pop("doc", None)
        c.update(kw)
        return cls(**c)

    def context_for(self, case, versions=None):
        if self._certs is None:
            self._certs = load_certs(self._testbed)
        c = self._certs[case]
        versions = versions or self.tls_versions
        weak = case in WEAK_CASES or bool(versions and versions[0] in ("1", "1.0", "1.1"))
        return make_server_context(c["chain"], c["key"], versions,
                                   self.seclevel0 if self.seclevel0 is not None else weak)

    # -------------------------------------------------- lifecycle
    def start(self):
        self._accepter = threading.Thread(target=self._accept_loop, daemon=True,
                                          name="fakeserver-accept")
        self._accepter.start()
        return self

    def _accept_loop(self):
        while len(self.conns) < self.connections and not self._stop.is_set():
            try:
                s, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Conn(self, s, len(self.conns))
            self.conns.append(conn)
            t = threading.Thread(target=conn.run, args=(self.script,), daemon=True,
                                 name="fakeserver-conn-%d" % conn.index)
            self._threads.append(t)
            t.start()
        try:
            self.lsock.close()
        except OSError:
            pass

    def wait(self, timeout=30.0):
        """Wait until every expected connection came and finished.
        Returns True when they did."""
        end = time.monotonic() + timeout
        while len(self.conns) < self.connections:
            if time.monotonic() > end or self._stop.is_set():
                return False
            time.sleep(0.02)
        for c in list(self.conns):
            if not c.done.wait(max(0.0, end - time.monotonic())):
                return False
        return True

    def stop(self):
        self._stop.set()
        try:
            self.lsock.close()
        except OSError:
            pass
        for t in self._threads:
            t.join(5)
        if self._accepter:
            self._accepter.join(5)
        if self.record:
            with open(self.record, "w") as f:
                json.dump(self.to_json(), f, indent=1)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    @property
    def conn(self):
        """The first connection (waits up to `timeout` for it)."""
        end = time.monotonic() + self.timeout
        while not self.conns and time.monotonic() < end:
            time.sleep(0.02)
        return self.conns[0] if self.conns else None

    @property
    def errors(self):
        return [e for c in self.conns for e in c.errors]

    def to_json(self):
        return {"port": self.port, "connections": [c.to_json() for c in self.conns]}


# ------------------------------------------------------------------ cases

def _greet(caps):
    return ["send", "* OK [CAPABILITY %s] fakeserver ready\r\n" % caps]


PRE = "IMAP4rev1 STARTTLS LOGINDISABLED"
POST = "IMAP4rev1 SASL-IR ID AUTH=PLAIN AUTH=LOGIN"

CASES = {
    "starttls_ok": dict(
        doc="a correct STARTTLS server: the positive control",
        script=[_greet(PRE), ["serve", {"caps": PRE, "caps_tls": POST}]]),
    "starttls_injection": dict(
        doc="the tagged STARTTLS OK and forged plaintext responses in one TCP segment "
            "(CVE-2011-0411 style); a correct client must not act on them: vars['tag'] is "
            "the STARTTLS tag, the TLS handshake may then fail (conn.tls_error)",
        script=[_greet(PRE), ["serve", {"caps": PRE, "until": r"(?i)^STARTTLS\b"}],
                ["send", "{tag} OK Begin TLS negotiation now\r\n"
                         "* CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=INJECTED\r\n"
                         "* OK [ALERT] injected before TLS\r\n"],
                ["starttls"], ["serve", {"caps": POST}]]),
    "starttls_untagged_before_ok": dict(
        doc="untagged responses (a pre-TLS CAPABILITY with AUTH=PRETLS) before the tagged OK; "
            "after TLS the capabilities differ, so a client must ask again",
        script=[_greet(PRE), ["serve", {"caps": PRE, "until": r"(?i)^STARTTLS\b"}],
                ["send", "* OK still here\r\n* CAPABILITY IMAP4rev1 STARTTLS AUTH=PRETLS\r\n"
                         "{tag} OK Begin TLS negotiation now\r\n"],
                ["starttls"], ["serve", {"caps": POST}]]),
    "starttls_not_offered": dict(
        doc="no STARTTLS capability; STARTTLS if sent anyway is refused with BAD",
        script=[_greet("IMAP4rev1 AUTH=PLAIN"),
                ["serve", {"caps": "IMAP4rev1 AUTH=PLAIN",
                           "rules": [[r"(?i)^STARTTLS\b", "{tag} BAD Unknown command\r\n"]]}]]),
    "starttls_no": dict(
        doc="STARTTLS offered but answered NO",
        script=[_greet(PRE), ["serve", {"caps": PRE, "rules": [
            [r"(?i)^STARTTLS\b", "{tag} NO [UNAVAILABLE] TLS is unavailable right now\r\n"]]}]]),
    "starttls_bad": dict(
        doc="STARTTLS offered but answered BAD",
        script=[_greet(PRE), ["serve", {"caps": PRE, "rules": [
            [r"(?i)^STARTTLS\b", "{tag} BAD STARTTLS failed\r\n"]]}]]),
    "preauth": dict(
        doc="a plaintext PREAUTH greeting: STARTTLS is no longer possible (RFC 3501 "
            "6.2.1), so a client requiring TLS must disconnect",
        script=[["send", "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] logged in as alice\r\n"],
                ["serve", {"caps": "IMAP4rev1 STARTTLS", "rules": [
                    [r"(?i)^STARTTLS\b", "{tag} BAD Already authenticated\r\n"]]}]]),
    "tls11_only": dict(
        doc="implicit TLS that offers TLS 1.1 and nothing else (valid chain)",
        tls="valid", tls_versions=("1.1", "1.1"),
        script=[_greet(POST), ["serve", {"caps": POST}]]),
    "greeting_dribble": dict(
        doc="implicit TLS, the greeting one byte at a time, then a normal responder",
        tls="valid",
        script=[["dribble", "* OK [CAPABILITY %s] slow\r\n" % POST, 0.01],
                ["serve", {"caps": POST}]]),
    "silent": dict(
        doc="implicit TLS, then never a greeting (for --timeout)",
        tls="valid", script=[["sleep", 120]]),
}


def main(argv=None):
    ap = argparse.ArgumentParser(description="scriptable fake IMAP server")
    ap.add_argument("--case", choices=sorted(CASES))
    ap.add_argument("--script", help="JSON file: a list of steps")
    ap.add_argument("--tls", help="implicit TLS with this matrix case (e.g. valid, expired)")
    ap.add_argument("--chain")
    ap.add_argument("--key")
    ap.add_argument("--tls-version", help="pin one TLS version: 1.1, 1.2 or 1.3")
    ap.add_argument("--seclevel0", action="store_true")
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--record", help="write the record of every connection here (JSON)")
    ap.add_argument("--testbed", help="test bed DIR (default $IMAPSH_TESTBED)")
    ap.add_argument("--list", action="store_true", help="list the cases")
    a = ap.parse_args(argv)
    if a.list:
        for k, v in CASES.items():
            print("%-28s %s" % (k, v["doc"]))
        return 0
    kw = {}
    if a.case:
        kw = {k: v for k, v in CASES[a.case].items() if k != "doc"}
    if a.script:
        with open(a.script, encoding="utf-8") as f:
            kw["script"] = json.load(f)
    if a.tls:
        kw["tls"] = a.tls
    if a.tls_version:
        kw["tls_versions"] = (a.tls_version, a.tls_version)
    if a.seclevel0:
        kw["seclevel0"] = True
    srv = FakeServer(chain=a.chain, key=a.key, connections=a.connections, port=a.port,
                     timeout=a.timeout, testbed=a.testbed, record=a.record, **kw)
    signal.signal(signal.SIGTERM, lambda *_: srv._stop.set())
    print("PORT %d" % srv.port, flush=True)
    srv.start()
    try:
        while not srv._stop.is_set() and not srv.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    srv.stop()
    for c in srv.conns:
        sys.stderr.write("--- connection %d ---\n%s\n" % (c.index, c.transcript()))
        for e in c.errors:
            sys.stderr.write("error: %s\n" % e)
        if c.tls_error:
            sys.stderr.write("tls: %s\n" % c.tls_error)
    return 1 if srv.errors else 0


if __name__ == "__main__":
    sys.exit(main())
