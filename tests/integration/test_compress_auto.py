"""--compress auto decides in a bulk transfer from the rate it measures
(a pure decision, tests/unit/test_zauto.c): export and import start
uncompressed, time their first batches, and send COMPRESS between two
batches where the link is slower than a quarter of deflate's speed.  A slow
link is tests/bench/wanrelay.py at 4 Mbit/s; loopback is faster than
deflate.  -v says what auto chose, with the numbers; the mail is the same
either way; a small command never asks."""
import os
import re
import shutil
import sys
import tempfile
import time

import harness as h

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from wanrelay import Relay  # noqa: E402

HOST = "imap.example.test"
USER = "bob"
N = 150  # messages of about 8 kB: 1.2 MB, 2.4 s at 4 Mbit/s uncompressed
CHOSE = re.compile(r"imapsh: compression: auto: (\d+\.\d) MB/s measured over (\d+\.\d) MB, "
                   r"(.*): deflate (on|off)\n")
# the other form of an "off": the whole transfer was over before enough
# time had passed to measure (loopback)
ALL_AT_ONCE = re.compile(r"imapsh: compression: auto: (\d+\.\d) MB in all, too little to pay: "
                         r"deflate off\n")
WIRE = re.compile(r"compression: received (\d+) bytes for (\d+), sent (\d+) for (\d+)")


def write_maildir(path):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub))
    for i in range(N):
        body = "".join("Line %d of message %d, the quarterly report and its budget.\r\n"
                       % (k, i) for k in range(130))
        msg = ("From: a%d@example.test\r\nTo: b@example.test\r\nSubject: zauto %d\r\n"
               "Message-ID: <zauto-%d@example.test>\r\n"
               "Date: Mon, 2 Mar 2026 10:00:00 +0000\r\n\r\n%s" % (i, i, i, body))
        with open(os.path.join(path, "cur", "%d.zauto:2,S" % (1000 + i)), "wb") as f:
            f.write(msg.encode())


def bodies(path):
    out = []
    for sub in ("cur", "new"):
        for name in os.listdir(os.path.join(path, sub)):
            with open(os.path.join(path, sub, name), "rb") as f:
                out.append(f.read().replace(b"\r\n", b"\n"))
    return sorted(out)


@h.needs_capability("COMPRESS=DEFLATE")
class Auto(h.TestbedCase):
    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix="imapsh-zauto-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.src = os.path.join(self.dir, "src")
        write_maildir(self.src)
        self.folders = []
        self.addCleanup(self.drop_folders)

    def drop_folders(self):
        m = h.imap_login(USER)
        try:
            for f in self.folders:
                m.delete(f)
        finally:
            m.logout()

    def folder(self):
        name = h.folder("zauto-%d-%d" % (os.getpid(), len(self.folders)))
        self.folders.append(name)
        return name

    def run_(self, *args, relay=None):
        port = relay.port if relay else self.env["ports"]["imaps"]
        return self.imapsh("--ca-file", self.env["ca_file"], "--resolve",
                           "%s:%d:127.0.0.1" % (HOST, port),
                           "imaps://%s@%s:%d" % (USER, HOST, port), "-v", "--compress", "auto",
                           *args, env=h.password_env(USER), timeout=120)

    def slow(self):
        r = Relay(("127.0.0.1", self.env["ports"]["imaps"]), delay_ms=5, rate_bps=4e6).start()
        self.addCleanup(r.stop)
        return r

    def chose(self, err):
        text = err.decode("utf-8", "replace")
        found = CHOSE.findall(text)
        self.assertEqual(len(found), 1, text)
        return [float(found[0][0]), float(found[0][1]), found[0][2], found[0][3]], text

    def test_slow_link_compresses_export_and_import(self):
        box = self.folder()
        # the import: the first batch measured, then compressed
        t0 = time.monotonic()
        rc, out, err = self.run_("import", self.src, box, relay=self.slow())
        took = time.monotonic() - t0
        self.assertEqual(rc, 0, err)
        (rate, over, why, on), text = self.chose(err)
        self.assertEqual(on, "on", text)
        self.assertLess(rate, 1.0, text)  # 4 Mbit/s is 0.5 MB/s
        self.assertGreaterEqual(over, 0.2, text)
        self.assertIn("below 8.5 MB/s", why)
        z_in, plain_in, z_out, plain_out = map(int, WIRE.search(text).groups())
        self.assertLess(z_out, plain_out * 0.5, text)  # what went after the switch shrank
        self.assertIn(b"\tok\t%d\t" % N, out)
        # faster than the 1.2 MB would have taken uncompressed
        self.assertLess(took, 1.2e6 / 0.5e6 * h.timeout_scale() + 2, text)
        # the export: the same
        dst = os.path.join(self.dir, "slow")
        rc, out, err = self.run_("export", box, dst, relay=self.slow())
        self.assertEqual(rc, 0, err)
        (rate, over, why, on), text = self.chose(err)
        self.assertEqual(on, "on", text)
        self.assertLess(rate, 1.0, text)
        z_in, plain_in, z_out, plain_out = map(int, WIRE.search(text).groups())
        self.assertLess(z_in, plain_in * 0.5, text)
        self.assertEqual(bodies(dst), bodies(self.src))

    def test_loopback_does_not(self):
        box = self.folder()
        rc, out, err = self.run_("--trace", "import", self.src, box)
        self.assertEqual(rc, 0, err)
        self.assertIn(b"\tok\t%d\t" % N, out)
        dst = os.path.join(self.dir, "fast")
        rc, out, err = self.run_("--trace", "export", box, dst)
        self.assertEqual(rc, 0, err)
        text = err.decode("utf-8", "replace")
        if ALL_AT_ONCE.search(text):
            # all 1.2 MB came in less time than a measurement needs
            self.assertEqual(len(ALL_AT_ONCE.findall(text)), 1, text)
            self.assertEqual(CHOSE.findall(text), [], text)
        else:
            (rate, over, why, on), text = self.chose(err)
            self.assertEqual(on, "off", text)
            # the link is faster than the bar, or too little is left to pay
            self.assertTrue(("not below 8.5 MB/s" in why and rate >= 8.5)
                            or "too little to pay" in why, text)
        self.assertNotIn("COMPRESS DEFLATE", text)
        self.assertIsNone(WIRE.search(text), text)
        self.assertEqual(bodies(dst), bodies(self.src))

    def test_small_command_never_asks(self):
        rc, out, err = self.run_("--trace", "status", "INBOX", relay=self.slow())
        self.assertEqual(rc, 0, err)
        self.assertNotIn(b"COMPRESS DEFLATE", err)
        self.assertNotIn(b"compression:", err)
