"""Round trips of the one-shot commands against Dovecot, counted by a
relay on loopback (tests/bench/wanrelay.py): each time the client sends
after the server's bytes came, plus 1 for the TCP handshake.  SCRAM-SHA-256
over TLS 1.2."""

import os
import sys
import unittest

import harness as h

sys.path.insert(0, os.path.join(os.path.dirname(h.HERE), "bench"))
from wanrelay import Relay  # noqa: E402

GOALS = {"list": 7, "check": 4, "fetch": 6, "show": 7, "folders": 7}


class RoundTrips(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        env = h.testbed()
        # A one-way delay, so that the server's answer cannot come back
        # between two writes of one client flight (which would count as a
        # round trip the client never waited for); longer under valgrind.
        cls.relay = Relay((env["addr"], env["ports"]["imaps"]),
                          delay_ms=30 * h.timeout_scale()).start()
        cls.pw = env["users"]["alice"]["password"]

    @classmethod
    def tearDownClass(cls):
        cls.relay.stop()

    def count(self, *cmd):
        env = h.testbed()
        port = self.relay.port
        self.relay.idle()
        self.relay.reset()
        rc, out, err = h.run_imapsh(
            ["--ca-file", env["ca_file"], "--resolve", "%s:%d:127.0.0.1" % (env["host"], port),
             "--auth", "scram-sha-256", "--tls-min", "1.2",
             "imaps://alice@%s:%d" % (env["host"], port)] + list(cmd),
            env={"IMAPSH_PASSWORD": self.pw})
        self.assertEqual(rc, 0, err)
        self.relay.idle()
        st = self.relay.stats()
        self.assertEqual(st["connections"], 1)
        return st["round_trips"], out.decode("utf-8", "replace") if isinstance(out, bytes) else out

    def test_list(self):
        n, out = self.count("list")
        self.assertIn("Weekly digest", out)
        self.assertLessEqual(n, GOALS["list"])

    def test_check(self):
        n, _ = self.count("check")
        self.assertLessEqual(n, GOALS["check"])

    def test_fetch_uid(self):
        n, out = self.count("fetch", "1")
        self.assertIn("Welcome to the imapsh test bed", out)
        self.assertLessEqual(n, GOALS["fetch"])

    def test_show_uid(self):
        n, out = self.count("show", "1")
        self.assertIn("Welcome", out)
        self.assertLessEqual(n, GOALS["show"])

    def test_folders(self):
        n, out = self.count("folders")
        self.assertIn("Archive", out)
        self.assertLessEqual(n, GOALS["folders"])

    def test_missing_folder_ahead(self):
        # the SELECT sent ahead of the FETCH fails: the error is the SELECT's
        env = h.testbed()
        rc, out, err = h.run_imapsh(
            h.imaps_args() + ["-f", "NoSuchFolder", h.target("alice"), "fetch", "1"],
            env={"IMAPSH_PASSWORD": env["users"]["alice"]["password"]})
        self.assertNotEqual(rc, 0)
        self.assertIn(b"NoSuchFolder", err if isinstance(err, bytes) else err.encode())
        self.assertFalse(out)


if __name__ == "__main__":
    unittest.main()
