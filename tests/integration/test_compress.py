"""COMPRESS=DEFLATE (RFC 4978, --compress auto|yes|no): against the test
bed's Dovecot, the bytes of every message are the same compressed or not,
an upload and download of a large message round-trip, the trace shows the
switch, and fewer bytes cross the network (counted by a TCP relay between
imapsh and Dovecot).  Against the fake server: a server without COMPRESS,
one that refuses it, one that compresses with Python's zlib in odd pieces
(the compressed bytes arriving with the OK line), and one that sends
garbage after its OK."""
import base64
import os
import random
import re
import shutil
import socket
import ssl
import tempfile
import threading
import time
import zlib

import harness as h

HOST = "imap.example.test"
ZCAPS = "IMAP4rev1 SASL-IR AUTH=PLAIN COMPRESS=DEFLATE"
CAPS = "IMAP4rev1 SASL-IR AUTH=PLAIN"


class Relay:
    """A TCP relay from a local port to the test bed's IMAPS port that
    counts the bytes each way: what crosses the network, TLS included."""

    def __init__(self, port):
        self.port_to = port
        self.up = self.down = 0
        self.lock = threading.Lock()
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(4)
        self.lsock.settimeout(0.2)
        self.port = self.lsock.getsockname()[1]
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                c, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            s = socket.create_connection(("127.0.0.1", self.port_to))
            for x in (c, s):  # no Nagle delays of the relay's own
                x.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for a, b, up in ((c, s, True), (s, c, False)):
                t = threading.Thread(target=self._pump, args=(a, b, up), daemon=True)
                t.start()
                self.threads.append(t)

    def _pump(self, a, b, up):
        a.settimeout(None)
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                with self.lock:
                    if up:
                        self.up += len(data)
                    else:
                        self.down += len(data)
                b.sendall(data)
        except OSError:
            pass
        finally:
            for x in (a, b):
                try:
                    x.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            a.close()  # each socket is `a` of one pump

    def close(self):
        self.stop.set()
        for t in self.threads:
            t.join(10)
        self.lsock.close()


@h.needs_capability("COMPRESS=DEFLATE")
class Dovecot(h.TestbedCase):
    def run_(self, *args, compress=None, port=None, **kw):
        port = port or self.env["ports"]["imaps"]
        pre = ["--compress", compress] if compress else []
        kw.setdefault("env", h.password_env("alice"))
        return self.imapsh("--ca-file", self.env["ca_file"], "--resolve",
                           "%s:%d:127.0.0.1" % (HOST, port),
                           "imaps://alice@%s:%d" % (HOST, port), *pre, *args, **kw)

    def inbox(self):
        return self.env["mail"]["alice"]["folders"]["INBOX"]["list"]

    def test_every_message_identical(self):
        msgs = self.inbox()
        self.assertEqual(len(msgs), 30)
        want = b""
        for m in msgs:
            with open(m["file"], "rb") as f:
                want += f.read()
        cmds = "; ".join("fetch %d" % m["uid"] for m in msgs)
        outs = {}
        for mode in ("yes", "no"):
            rc, out, err = self.run_("--trace", "-c", cmds, compress=mode)
            self.assertEqual(rc, 0, err)
            outs[mode] = out
            self.assertEqual(("COMPRESS DEFLATE" in err.decode("utf-8", "replace")),
                             mode == "yes", mode)
        self.assertEqual(outs["yes"], outs["no"])
        self.assertEqual(outs["yes"], want)

    def test_large_message_both_ways(self):
        rnd = random.Random(4978)
        text = "".join("Line %d of a long message, with words that repeat.\r\n" % i
                       for i in range(12000))
        blob = base64.encodebytes(bytes(rnd.getrandbits(8) for _ in range(300000)))
        body = ("From: Big <big@example.test>\r\nTo: alice@example.test\r\n"
                "Subject: compress both ways\r\nMessage-ID: <zbig@example.test>\r\n\r\n"
                + text).encode() + blob.replace(b"\n", b"\r\n")
        self.assertGreater(len(body), 1000000)
        path = os.path.join(self.home.root, "big.eml")
        with open(path, "wb") as f:
            f.write(body)
        with h.scratch_folder("alice") as name:
            rc, out, err = self.run_("--trace", "append", name, path, compress="yes")
            self.assertEqual(rc, 0, err)
            self.assertIn(b"-- compression: deflate on", err)
            rc, out, err = self.run_("-f", name, "--trace", "fetch", "1", compress="yes")
            self.assertEqual(rc, 0, err)
            self.assertIn(b"-- compression: deflate on", err)
            self.assertEqual(out, body)
            # and what the server stored, read without compression
            m = h.imap_login("alice")
            try:
                m.select(name, readonly=True)
                typ, data = m.fetch("1", "(BODY.PEEK[])")
                self.assertEqual(typ, "OK")
                self.assertEqual(data[0][1], body)
            finally:
                m.logout()

    def test_auto_spends_no_round_trip_on_a_small_command(self):
        # auto decides in bulk transfers (test_compress_auto); a small
        # command goes uncompressed
        rc, out, err = self.run_("--trace", "-v", "status", "INBOX", compress="auto")
        self.assertEqual(rc, 0, err)
        self.assertIn(b"COMPRESS=DEFLATE", err)  # offered, and
        self.assertNotIn(b"COMPRESS DEFLATE", err)  # not used
        self.assertIn(b"messages\t30\n", out)

    def test_trace_shows_the_switch(self):
        for mode in ("yes",):
            rc, out, err = self.run_("--trace", "status", "INBOX", compress=mode)
            self.assertEqual(rc, 0, err)
            lines = err.decode("utf-8", "replace").splitlines()
            i = next(i for i, l in enumerate(lines) if re.match(r"^C: \S+ COMPRESS DEFLATE$", l))
            tag = lines[i].split()[1]
            self.assertRegex(lines[i + 1], r"^S: %s OK " % tag)
            self.assertEqual(lines[i + 2], "-- compression: deflate on")
            # after login, before the command
            self.assertTrue(any("AUTHENTICATE" in l for l in lines[:i]))
            self.assertTrue(any(re.match(r"^C: \S+ STATUS INBOX", l) for l in lines[i:]))
            self.assertIn(b"messages\t30\n", out)

    def test_no_never_compresses(self):
        for mode in ("no", None):  # None: the default is no
            rc, out, err = self.run_("--trace", "-v", "status", "INBOX", compress=mode)
            self.assertEqual(rc, 0, err)
            self.assertIn(b"COMPRESS=DEFLATE", err)  # offered, and
            self.assertNotIn(b"COMPRESS DEFLATE", err)  # not used
            self.assertNotIn(b"compression", err)
            self.assertIn(b"messages\t30\n", out)

    def test_config_compress(self):
        port = self.env["ports"]["imaps"]
        base = ("[account tb]\nhost = %s\nport = %d\nuser = alice\nca-file = %s\n"
                % (HOST, port, self.env["ca_file"]))
        args = ["--resolve", "%s:%d:127.0.0.1" % (HOST, port), "--trace", "-a", "tb",
                "status", "INBOX"]
        self.home.write_config(base + "compress = yes\n")
        rc, out, err = self.imapsh(*args, env=h.password_env("alice"))
        self.assertEqual(rc, 0, err)
        self.assertIn(b"compression: deflate on", err)
        # the option wins over the file
        rc, out, err = self.imapsh("--compress", "no", *args, env=h.password_env("alice"))
        self.assertEqual(rc, 0, err)
        self.assertIn(b"COMPRESS=DEFLATE", err)  # offered, and
        self.assertNotIn(b"COMPRESS DEFLATE", err)  # not used
        self.assertNotIn(b"compression", err)
        self.home.write_config(base + "compress = maybe\n")
        rc, out, err = self.imapsh(*args, env=h.password_env("alice"))
        self.assertEqual(rc, 2)
        self.assertIn(b"compress: 'maybe' is not auto, yes or no", err)

    def test_bad_option_value(self):
        rc, out, err = self.run_("status", "INBOX", compress="maybe")
        self.assertEqual(rc, 2)
        self.assertIn(b"imapsh: --compress: expected auto, yes or no, got 'maybe'", err)

    def test_fewer_bytes_on_the_wire(self):
        d = tempfile.mkdtemp(prefix="imapsh-z-")
        self.addCleanup(shutil.rmtree, d, True)
        wire = {}
        for mode in ("no", "yes"):
            relay = Relay(self.env["ports"]["imaps"])
            try:
                rc, out, err = self.run_("-v", "export", "INBOX", os.path.join(d, mode),
                                         compress=mode, port=relay.port)
            finally:
                relay.close()
            self.assertEqual(rc, 0, err)
            wire[mode] = (relay.up, relay.down)
            text = err.decode("utf-8", "replace")
            m = re.search(r"compression: received (\d+) bytes for (\d+), sent (\d+) for (\d+)",
                          text)
            if mode == "no":
                self.assertIsNone(m, text)
                continue
            self.assertIsNotNone(m, text)
            z_in, plain_in, z_out, plain_out = map(int, m.groups())
            self.assertLess(z_in, plain_in * 0.8, text)
            # what imapsh counted fits what crossed the network (TLS adds to it)
            self.assertLess(z_in, relay.down)
            self.assertLess(relay.down, z_in * 1.2 + 8192)
        self.assertLess(wire["yes"][1], wire["no"][1] * 0.8, wire)
        # the same messages either way
        for sub in ("cur", "new"):
            a = sorted(os.listdir(os.path.join(d, "no", sub)))
            self.assertEqual(a, sorted(os.listdir(os.path.join(d, "yes", sub))))
            for name in a:
                with open(os.path.join(d, "no", sub, name), "rb") as f1, \
                        open(os.path.join(d, "yes", sub, name), "rb") as f2:
                    self.assertEqual(f1.read(), f2.read(), name)


class Deflated:
    """The fake server's side of a connection after COMPRESS OK: Python's
    zlib both ways."""

    def __init__(self, conn):
        self.conn = conn
        self.comp = zlib.compressobj(wbits=-15)
        self.dec = zlib.decompressobj(wbits=-15)
        self.plain = b""
        self.lines = []

    def pack(self, data):
        return self.comp.compress(data) + self.comp.flush(zlib.Z_SYNC_FLUSH)

    def raw(self, data, piece=0, delay=0.01):
        """Send bytes as they are, in pieces of `piece` bytes (0: at once)."""
        piece = piece or len(data)
        for i in range(0, len(data), piece):
            if i:
                time.sleep(delay)
            self.conn._rec("S", data[i:i + piece])
            self.conn.sock.sendall(data[i:i + piece])

    def readline(self, timeout=10):
        deadline = time.monotonic() + timeout
        while b"\r\n" not in self.plain:
            if not self.conn._buf:
                self.conn._fill(deadline)
            raw, self.conn._buf = self.conn._buf, b""
            self.plain += self.dec.decompress(raw)
        line, self.plain = self.plain.split(b"\r\n", 1)
        self.lines.append(line)
        return line


class Fake(h.TestbedCase):
    def setUp(self):
        super().setUp()
        self.pwfile = os.path.join(self.home.root, "pw")
        with open(self.pwfile, "w") as f:
            f.write("fake-pw\n")

    def fake(self, script, *cmd, compress=None, timeout=60):
        pre = ["--compress", compress] if compress else []
        with h.fakeserver(script, tls="valid", linger=0.5) as srv:
            t0 = time.monotonic()
            rc, out, err = self.imapsh(
                "--ca-file", self.env["ca_file"], "--resolve", "%s:%d:127.0.0.1" % (HOST, srv.port),
                "--password-command", "cat %s" % self.pwfile, *pre,
                "alice@%s:%d" % (HOST, srv.port), *cmd, timeout=timeout)
            took = time.monotonic() - t0
            if srv.conns:
                srv.conns[0].done.wait(10)
        self.assertNotIn(b"Sanitizer", err)
        self.assertNotIn(b"runtime error", err)
        return rc, out, err, srv, took

    def commands(self, srv):
        out = []
        for line in srv.conns[0].client_bytes.split(b"\r\n"):
            parts = line.split(b" ", 1)
            if len(parts) == 2 and re.match(rb"^[A-Za-z0-9]+$", parts[0]):
                out.append(parts[1])
        return out

    def plain_script(self, caps, rules=()):
        return [["send", "* OK [CAPABILITY %s] ready\r\n" % caps],
                ["serve", {"caps": caps, "rules": list(rules)}]]

    def test_yes_without_the_capability(self):
        rc, out, err, srv, _ = self.fake(self.plain_script(CAPS), "namespace", compress="yes")
        self.assertEqual(rc, 1, err)
        self.assertEqual(out, b"")
        self.assertEqual(err, b"imapsh: --compress yes: the server does not offer "
                              b"COMPRESS=DEFLATE\n")
        cmds = self.commands(srv)
        self.assertFalse(any(c.upper().startswith(b"COMPRESS") for c in cmds), cmds)
        self.assertNotIn(b"NAMESPACE", cmds)  # nothing runs uncompressed
        self.assertIn(b"LOGOUT", cmds)

    def test_auto_without_the_capability(self):
        rc, out, err, srv, _ = self.fake(self.plain_script(CAPS), "namespace", compress="auto")
        self.assertEqual(rc, 0, err)
        cmds = self.commands(srv)
        self.assertFalse(any(c.upper().startswith(b"COMPRESS") for c in cmds), cmds)
        self.assertIn(b"NAMESPACE", cmds)

    def test_no_with_the_capability(self):
        rc, out, err, srv, _ = self.fake(self.plain_script(ZCAPS), "namespace", compress="no")
        self.assertEqual(rc, 0, err)
        self.assertNotIn(b"COMPRESS", srv.conns[0].client_bytes)
        self.assertIn(b"NAMESPACE", self.commands(srv))

    def test_server_refuses(self):
        rules = [[r"(?i)^COMPRESS ", "{tag} NO [COMPRESSIONACTIVE] not today\r\n"]]
        # auto: a small command does not ask (test_compress_auto has a
        # bulk transfer that goes on uncompressed after a NO)
        rc, out, err, srv, _ = self.fake(self.plain_script(ZCAPS, rules), "namespace",
                                         compress="auto")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.commands(srv)[-2:-1], [b"NAMESPACE"])
        self.assertFalse(any(c.upper().startswith(b"COMPRESS") for c in self.commands(srv)))
        # yes: fails with the server's words, and runs nothing
        rc, out, err, srv, _ = self.fake(self.plain_script(ZCAPS, rules), "namespace",
                                         compress="yes")
        self.assertEqual(rc, 1, err)
        self.assertRegex(err.decode(), r"^imapsh: --compress yes: compress: the server said NO"
                                       r".*: not today\n$")
        self.assertNotIn(b"NAMESPACE", self.commands(srv))

    def test_python_zlib_server_in_pieces(self):
        seen = {}

        def script(conn):
            conn.send("* OK [CAPABILITY %s] ready\r\n" % ZCAPS)
            conn.serve({"caps": ZCAPS, "until": r"(?i)^COMPRESS DEFLATE$"})
            z = Deflated(conn)
            seen["lines"] = z.lines  # the same list, as it grows
            # the OK line and the first compressed bytes in one write
            z.raw(b"%s OK deflate on\r\n" % conn.vars["tag"].encode()
                  + z.pack(b"* OK [ALERT] hello from zlib\r\n"))
            while True:
                line = z.readline()
                tag, rest = line.split(b" ", 1)
                verb = rest.split(b" ", 1)[0].upper()
                if verb == b"STATUS":
                    data = z.pack(b"* STATUS INBOX (MESSAGES 3 RECENT 0 UIDNEXT 4 "
                                  b"UIDVALIDITY 7 UNSEEN 1)\r\n" + tag + b" OK done\r\n")
                    z.raw(data, piece=3)  # a few bytes a write
                elif verb == b"LOGOUT":
                    seen["lines"] = z.lines
                    try:  # a one-shot closes without reading the answer,
                        # so the answer and our close may meet its close
                        z.raw(z.pack(b"* BYE bye\r\n" + tag + b" OK done\r\n"))
                        conn.close()
                    except (OSError, ssl.SSLError):
                        pass
                    return
                else:
                    z.raw(z.pack(tag + b" OK done\r\n"))

        rc, out, err, srv, _ = self.fake(script, "status", "INBOX", compress="yes")
        self.assertEqual(rc, 0, err)
        # the one-shot closes right after LOGOUT: the fake's answer may meet
        # that close (an EOF or a reset), which is no error of the exchange
        errors = [e for e in srv.conns[0].errors
                  if "EOF occurred in violation of protocol" not in e
                  and "Connection reset" not in e and "Broken pipe" not in e]
        self.assertEqual(errors, [])
        self.assertIn(b"messages\t3\n", out)
        self.assertIn(b"unseen\t1\n", out)
        self.assertIn(b"imapsh: server alert: hello from zlib\n", err)
        verbs = [l.split(b" ")[1] for l in seen["lines"]]
        self.assertEqual(verbs[0], b"STATUS")
        # LOGOUT, when the fake read it before the one-shot's close
        self.assertLessEqual(len(verbs), 2, verbs)
        if len(verbs) == 2:
            self.assertEqual(verbs[1], b"LOGOUT")

    def garbage(self, when):
        def script(conn):
            conn.send("* OK [CAPABILITY %s] ready\r\n" % ZCAPS)
            conn.serve({"caps": ZCAPS, "until": r"(?i)^COMPRESS DEFLATE$"})
            tag = conn.vars["tag"]
            junk = "* 1 EXISTS\r\n%s OK this is not deflate\r\n" % tag
            if when == "with_ok":
                conn.send("%s OK deflate on\r\n%s" % (tag, junk))
            else:
                conn.send("%s OK deflate on\r\n" % tag)
                conn._fill(time.monotonic() + 10)  # the client's next command
                conn.send(junk)
            conn.read(3)
        return script

    def test_garbage_after_ok(self):
        for when in ("with_ok", "later"):
            with self.subTest(when=when):
                rc, out, err, srv, took = self.fake(self.garbage(when), "status", "INBOX",
                                                    compress="yes")
                self.assertEqual(rc, 7, err)
                self.assertEqual(out, b"")
                self.assertRegex(err.decode(), r"^imapsh: .*the server's compressed stream is "
                                               r"corrupt \(.+\)\n$")
                self.assertLess(took, 30 * h.timeout_scale())
