"""cert --chain: the verifier of a connection run offline on a PEM chain.

For every case of the test bed's certificate matrix, the verdict (exit
code) and the words (the refusal line on stderr and the verification line
of the report) of `cert --chain FILE --host NAME` must be those of `cert`
against a server presenting the same chain; then --at, the options and
the errors."""
import calendar
import json
import os
import tempfile
import time

import harness as h

HOST = "imap.example.test"
POST = "IMAP4rev1"


def words(err):
    """The verifier's words: a live refusal ends with the next step for that
    host and port (a front-end hint the offline check has no port for)."""
    return err.split("; next: ")[0].rstrip("\n")


def verification_line(out):
    lines = [l for l in out.splitlines() if l.startswith("verification ")]
    return lines[-1] if lines else None


class SameAsLive(h.TestbedCase):
    def live(self, case, host=HOST, extra=()):
        script = [["send", "* OK [CAPABILITY %s] fake ready\r\n" % POST],
                  ["serve", {"caps": POST}]]
        with h.fakeserver(script, tls=case) as srv:
            rc, out, err = self.imapsh(
                "--ca-file", self.env["ca_file"], "--resolve",
                "%s:%d:127.0.0.1" % (host.rstrip("."), srv.port), *extra,
                "cert", "%s:%d" % (host, srv.port), timeout=60)
        return rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    def offline(self, chain, host=HOST, extra=()):
        rc, out, err = self.imapsh("--ca-file", self.env["ca_file"], *extra, "cert",
                                   "--chain", chain, "--host", host, timeout=60)
        return rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    def test_every_matrix_case_same_verdict_and_words(self):
        certs = self.env["ca"]["certs"]
        self.assertGreaterEqual(len(certs), 21)
        verdicts = {}
        for case in sorted(certs):
            with self.subTest(case=case):
                lrc, lout, lerr = self.live(case)
                orc, oout, oerr = self.offline(certs[case]["chain"])
                self.assertIn(lrc, (0, 4), "%s live: %s" % (case, lerr))
                self.assertEqual(orc, lrc, "%s: live %s / offline %s" % (case, lerr, oerr))
                # the refusal reason line, with the fingerprints
                self.assertEqual(words(oerr), words(lerr), case)
                if lrc == 4:
                    self.assertIn("; next: ", lerr, case)
                self.assertEqual(verification_line(oout), verification_line(lout), case)
                self.assertIsNotNone(verification_line(oout), oout)
                # the same certificates, described the same way
                self.assertEqual(oout.split("\ncertificate  ", 1)[1],
                                 lout.split("\ncertificate  ", 1)[1], case)
                verdicts[case] = orc
        # the matrix has both kinds, so the comparison means something
        self.assertEqual(verdicts["valid"], 0)
        self.assertEqual(verdicts["san_nul"], 4)
        self.assertGreaterEqual(sum(1 for v in verdicts.values() if v == 4), 15, verdicts)
        self.assertGreaterEqual(sum(1 for v in verdicts.values() if v == 0), 5, verdicts)

    def test_other_hosts_same_as_live(self):
        chain = self.env["ca"]["certs"]["valid"]["chain"]
        for host in ("IMAP.EXAMPLE.TEST", "imap.example.test.", "localhost", "other.example.test"):
            with self.subTest(host=host):
                lrc, lout, lerr = self.live("valid", host=host)
                orc, oout, oerr = self.offline(chain, host=host)
                self.assertEqual(orc, lrc, lerr + oerr)
                self.assertEqual(words(oerr), words(lerr))
                self.assertEqual(verification_line(oout), verification_line(lout))

    def test_pin_same_as_live(self):
        from test_tls import spki_pin
        pin = spki_pin(self.env["ca"]["certs"]["unknown_ca"]["cert"])
        for case in ("unknown_ca", "valid"):
            with self.subTest(case=case):
                lrc, lout, lerr = self.live(case, extra=("--pin", pin))
                orc, oout, oerr = self.offline(self.env["ca"]["certs"][case]["chain"],
                                               extra=("--pin", pin))
                self.assertEqual(orc, lrc, lerr + oerr)
                self.assertEqual(words(oerr), words(lerr))
                self.assertEqual(verification_line(oout), verification_line(lout))


class Offline(h.TestbedCase):
    def cert(self, *args, ca=True):
        pre = ("--ca-file", self.env["ca_file"]) if ca else ()
        rc, out, err = self.imapsh(*pre, "cert", *args, timeout=60)
        return rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    def chain(self, case):
        return self.env["ca"]["certs"][case]["chain"]

    def test_report(self):
        rc, out, err = self.cert("--chain", self.chain("valid"), "--host", HOST)
        self.assertEqual(rc, 0, err)
        self.assertEqual(err, "")
        self.assertTrue(out.startswith("host         imap.example.test\nchain        %s (offline)\n"
                                       % self.chain("valid")), out)
        self.assertIn("certificate  0 (server)", out)
        self.assertIn("certificate  2 (root)", out)
        self.assertTrue(out.endswith("\nverification ok\n"), out)

    def test_json(self):
        rc, out, err = self.cert("--chain", self.chain("expired"), "--host", HOST, "--json")
        self.assertEqual(rc, 4, err)
        d = json.loads(out)
        self.assertFalse(d["verified"])
        self.assertTrue(d["verify_error"].startswith("certificate expired "))
        self.assertEqual(d["host"], HOST)
        self.assertEqual(d["chain_file"], self.chain("expired"))
        self.assertEqual(len(d["chain"]), 3)

    def test_no_socket_needed(self):
        # a host that resolves nowhere: nothing is looked up or connected
        rc, out, err = self.cert("--chain", self.chain("wildcard"), "--host",
                                 "x.example.test", "--timeout", "1")
        self.assertEqual(rc, 0, err)

    def test_ip_host(self):
        rc, out, err = self.cert("--chain", self.chain("valid"), "--host", "127.0.0.1")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.cert("--chain", self.chain("valid"), "--host", "[::1]")
        self.assertEqual(rc, 4, err)
        self.assertIn("tls: certificate is for ", err)

    def test_at_moves_the_validation_time(self):
        now = int(time.time())
        valid = self.chain("valid")
        # the leaf runs a year from now: in two years it has expired
        rc, out, err = self.cert("--chain", valid, "--host", HOST, "--at", str(now + 730 * 86400))
        self.assertEqual(rc, 4, err)
        self.assertRegex(err, r"^imapsh: tls: certificate expired 36[45] days ago \(on ")
        # before the chain existed: not yet valid (the leaf was issued a day ago)
        rc, out, err = self.cert("--chain", valid, "--host", HOST, "--at",
                                 time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3 * 86400)))
        self.assertEqual(rc, 4, err)
        self.assertIn("is not valid until ", err)
        # the expired leaf was good ten days ago
        rc, out, err = self.cert("--chain", self.chain("expired"), "--host", HOST, "--at",
                                 str(now - 10 * 86400))
        self.assertEqual(rc, 0, err)
        self.assertIn("verification ok", out)
        # the not-yet-valid leaf is good in a month, and days left count from --at
        rc, out, err = self.cert("--chain", self.chain("not_yet_valid"), "--host", HOST, "--at",
                                 time.strftime("%Y-%m-%d", time.gmtime(now + 30 * 86400)))
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"\(37[01] days left\)")
        # the expired intermediate, named, at a time it had expired
        rc, out, err = self.cert("--chain", self.chain("expired_intermediate"), "--host", HOST,
                                 "--at", str(now))
        self.assertEqual(rc, 4, err)
        self.assertIn("intermediate certificate CN=Test Expired Intermediate CA expired", err)

    def test_at_forms(self):
        valid = self.chain("valid")
        t = time.gmtime(time.time() + 100 * 86400)
        day = time.strftime("%Y-%m-%d", t)
        for at in (day, day + "T12:00", day + "T12:00:30Z", day + " 12:00:30+02:00",
                   day + "T12:00:30-05:30", str(calendar.timegm(t))):
            with self.subTest(at=at):
                rc, out, err = self.cert("--chain", valid, "--host", HOST, "--at", at)
                self.assertEqual(rc, 0, err)
        for at in ("tomorrow", "2027-02-30", "2027-13-01", "2027-01-01T25:00", "-5",
                   "2027-01-01T12:00:00+2", "2027-01-01Z1", "", "99999999999999"):
            with self.subTest(at=at):
                rc, out, err = self.cert("--chain", valid, "--host", HOST, "--at", at)
                self.assertEqual(rc, 2, err)
                self.assertEqual(out, "")
                self.assertIn("--at", err)

    def test_usage(self):
        valid = self.chain("valid")
        for args in (("--chain", valid), ("--host", HOST), ("--at", "0"),
                     ("--chain", valid, "--host", HOST, "imap.example.test"),
                     ("--chain", valid, "--host"), ("--chain", valid, "--host", HOST, "--bogus")):
            with self.subTest(args=args):
                rc, out, err = self.cert(*args)
                self.assertEqual(rc, 2, err)
                self.assertEqual(out, "")
                self.assertTrue(err.startswith("imapsh: cert: "), err)

    def test_bad_host_bytes(self):
        for host in ("imap.example.test\x1b[2J", "imap .example.test", "imap.exampl\u00e9.test"):
            with self.subTest(host=host):
                rc, out, err = self.cert("--chain", self.chain("valid"), "--host", host)
                self.assertEqual(rc, 2, err)
                self.assertIn("bad host name", err)
                self.assertNotIn("\x1b", err)
        # a host no certificate can name matches nothing
        rc, out, err = self.cert("--chain", self.chain("valid"), "--host", "imap_x.example.test")
        self.assertEqual(rc, 4, err)

    def test_unreadable_chain(self):
        with tempfile.TemporaryDirectory() as d:
            junk = os.path.join(d, "junk.pem")
            with open(junk, "w") as f:
                f.write("not a certificate\n")
            for path in (junk, os.path.join(d, "missing.pem")):
                with self.subTest(path=path):
                    rc, out, err = self.cert("--chain", path, "--host", HOST)
                    self.assertEqual(rc, 4, err)
                    self.assertIn("cannot read certificate chain ", err)
                    self.assertEqual(out, "")

    def test_untrusted_without_ca_file(self):
        # the system store does not hold the test root
        rc, out, err = self.cert("--chain", self.chain("valid"), "--host", HOST, ca=False)
        self.assertEqual(rc, 4, err)
        self.assertIn("imapsh: tls: issuer not trusted", err)


if __name__ == "__main__":
    import unittest
    unittest.main()
