"""imapsh check against the real Dovecot and the fake server: verdicts and
exit codes as the monitoring plugins have them, JSON field by field, the
nagios line, several addresses, and timeouts."""
import json
import re
import socket
import time

import harness as h

HOST = "imap.example.test"
POST = "IMAP4rev1 SASL-IR ID AUTH=PLAIN AUTH=LOGIN"
NAGIOS = re.compile(r"^IMAP (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+ \| "
                    r"time=\d+\.\d{3}s;(\d+\.\d{3})?;(\d+\.\d{3})?;0 "
                    r"tls=\d+\.\d{3}s;;;0( days=-?\d+;\d+;\d+;0)?\n$")


class Check(h.TestbedCase):
    def check(self, *args, port=None, env=None, timeout=60):
        port = port or self.env["ports"]["imaps"]
        return self.imapsh("--ca-file", self.env["ca_file"], "--resolve",
                           "%s:%d:127.0.0.1" % (HOST, port), "check", *args, env=env,
                           timeout=timeout)

    def fake(self, case, *args):
        script = [["send", "* OK [CAPABILITY %s] ready\r\n" % POST], ["serve", {"caps": POST}]]
        with h.fakeserver(script, tls=case) as srv:
            rc, out, err = self.check("%s:%d" % (HOST, srv.port), "--json", *args,
                                      port=srv.port)
        return rc, json.loads(out), err

    def test_healthy_human_on_a_pipe(self):
        rc, out, err = self.check("%s:%d" % (HOST, self.env["ports"]["imaps"]))
        self.assertEqual(rc, 0, err)
        rows = [l.split("\t") for l in out.decode().splitlines()]
        self.assertEqual([r[0] for r in rows],
                         ["resolve", "connect", "tls", "cert", "greeting", "capability", "result"])
        for r in rows[:-1]:
            self.assertEqual(r[1], "ok", r)
            self.assertRegex(r[2], r"^\d+$")
        self.assertEqual(rows[-1][1], "OK")
        self.assertIn(h.server_title(), rows[4][3])
        self.assertEqual(err, b"")

    def test_healthy_json(self):
        rc, out, err = self.check("%s:%d" % (HOST, self.env["ports"]["imaps"]), "--json")
        self.assertEqual(rc, 0, err)
        d = json.loads(out)
        self.assertEqual(d["status"], "OK")
        self.assertEqual(d["reason"], "")
        self.assertEqual(d["host"], HOST)
        self.assertEqual(d["port"], self.env["ports"]["imaps"])
        self.assertEqual(d["addresses"], ["127.0.0.1"])
        self.assertEqual([s["name"] for s in d["stages"]],
                         ["resolve", "connect", "tls", "cert", "greeting", "capability"])
        for s in d["stages"]:
            self.assertTrue(s["ok"], s)
            self.assertIsInstance(s["ms"], int)
            self.assertGreaterEqual(s["ms"], 0)
        self.assertRegex(d["tls"]["version"], r"^TLSv1\.[23]$")
        self.assertTrue(d["tls"]["cipher"])
        cert = d["cert"]
        self.assertEqual(cert["subject"], "O=imapsh test bed, CN=imap.example.test")
        self.assertEqual(cert["issuer"], "O=imapsh test bed, CN=Test Intermediate CA")
        self.assertEqual(cert["san"], ["imap.example.test", "localhost", "IP:127.0.0.1"])
        self.assertRegex(cert["not_before"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertRegex(cert["not_after"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertTrue(360 <= cert["days_left"] <= 366, cert["days_left"])
        self.assertRegex(cert["sha256"], r"^([0-9A-F]{2}:){31}[0-9A-F]{2}$")
        self.assertRegex(cert["spki_sha256"], r"^[A-Za-z0-9+/]{43}=$")
        self.assertTrue(cert["verified"])
        self.assertIn("IMAP4rev1", d["capabilities"])
        for mech in self.env["mechanisms"]:
            self.assertIn("AUTH=" + mech, d["capabilities"])

    def test_login_and_folder(self):
        rc, out, err = self.check("alice@%s:%d" % (HOST, self.env["ports"]["imaps"]), "--json",
                                  "--login", "--folder", h.folder("送信済み"),
                                  env=h.password_env("alice"))
        self.assertEqual(rc, 0, err)
        d = json.loads(out)
        names = [s["name"] for s in d["stages"]]
        self.assertEqual(names[-2:], ["login", "folder"])
        self.assertEqual(d["folder"], h.folder("送信済み"))
        self.assertEqual(d["messages"], self.env["mail"]["alice"]["folders"]["送信済み"]["messages"])

    def test_long_capability_list_cut_at_a_word(self):
        # Cyrus offers 67 capabilities: JSON and a pipe get every one, a
        # terminal a line that ends after a whole word with an ellipsis
        caps = " ".join(["IMAP4rev1", "SASL-IR", "AUTH=PLAIN"] +
                        ["X-CYRUS-CAPABILITY-NUMBER-%02d" % i for i in range(64)])
        script = [["send", "* OK [CAPABILITY %s] ready\r\n" % caps], ["serve", {"caps": caps}]]
        target = "%s:%d"
        with h.fakeserver(script, tls="valid") as srv:
            rc, out, err = self.check(target % (HOST, srv.port), "--json", port=srv.port)
        self.assertEqual(rc, 0, err)
        st = {x["name"]: x for x in json.loads(out)["stages"]}
        self.assertTrue(st["capability"]["detail"].endswith("X-CYRUS-CAPABILITY-NUMBER-63"))
        with h.fakeserver(script, tls="valid") as srv:
            rc, out, err = self.check(target % (HOST, srv.port), port=srv.port)
        rows = {r.split("\t")[0]: r.split("\t") for r in out.decode().splitlines()}
        self.assertTrue(rows["capability"][3].endswith("X-CYRUS-CAPABILITY-NUMBER-63"), rows)
        from test_folders import run_pty
        env = h.base_env(self.home)
        env.update({"COLUMNS": "100", "NO_COLOR": "1"})
        with h.fakeserver(script, tls="valid") as srv:
            rc, out = run_pty(["--ca-file", self.env["ca_file"], "--resolve",
                               "%s:%d:127.0.0.1" % (HOST, srv.port), "check",
                               target % (HOST, srv.port)], env)
        line = [l for l in out.decode().splitlines() if l.startswith("capability")][0]
        self.assertTrue(line.endswith(" \u2026"), line)
        self.assertLessEqual(len(line), 100, line)
        last = line[:-2].split()[-1]
        self.assertIn(last, caps.split())  # a whole word before the ellipsis

    def test_no_credentials_without_login(self):
        with h.fakeserver([["send", "* OK [CAPABILITY %s] ready\r\n" % POST],
                           ["serve", {"caps": POST}]], tls="valid") as srv:
            rc, out, err = self.check("alice@%s:%d" % (HOST, srv.port), port=srv.port,
                                      env=h.password_env("alice"))
            srv.wait(15)
        self.assertEqual(rc, 0, err)
        sent = srv.conn.client_bytes.upper()
        self.assertNotIn(b"LOGIN ", sent)
        self.assertNotIn(b"AUTHENTICATE", sent)
        self.assertNotIn(b"CORRECT HORSE", sent)

    def test_wrong_password_with_login_is_critical(self):
        rc, out, err = self.check("alice@%s:%d" % (HOST, self.env["ports"]["imaps"]), "--json",
                                  "--login", env={"IMAPSH_PASSWORD": "nope"})
        self.assertEqual(rc, 2, err)
        d = json.loads(out)
        self.assertEqual(d["status"], "CRITICAL")
        self.assertIn("authentication failed", d["reason"])
        self.assertFalse(d["stages"][-1]["ok"])

    def test_expiry_grading(self):
        rc, d, err = self.fake("expires_10d")
        self.assertEqual((rc, d["status"]), (1, "WARNING"), err)
        self.assertRegex(d["reason"], r"^certificate expires in (9|10) days$")
        rc, d, err = self.fake("expires_10d", "--warn-days", "5")
        self.assertEqual((rc, d["status"]), (0, "OK"), err)
        rc, d, err = self.fake("expires_3d")
        self.assertEqual((rc, d["status"]), (2, "CRITICAL"), err)
        rc, d, err = self.fake("expires_3d", "--crit-days", "1")
        self.assertEqual((rc, d["status"]), (1, "WARNING"), err)

    def test_bad_certificates_are_critical(self):
        for case, words in (("expired", "certificate expired"),
                            ("wrong_host", "certificate is for other.example.test"),
                            ("unknown_ca", "issuer not trusted: CN=Test CA 2")):
            with self.subTest(case=case):
                rc, d, err = self.fake(case)
                self.assertEqual(rc, 2, err)
                self.assertEqual(d["status"], "CRITICAL")
                self.assertIn(words, d["reason"])
                cert = [s for s in d["stages"] if s["name"] == "cert"][0]
                self.assertFalse(cert["ok"])
                self.assertFalse(d["cert"]["verified"])
                self.assertEqual(d["cert"]["verify_error"], d["reason"])

    def test_starttls_refused_is_critical(self):
        with h.fake_case("starttls_no") as srv:
            rc, out, err = self.check("imap://%s:%d" % (HOST, srv.port), "--json", port=srv.port)
        self.assertEqual(rc, 2, err)
        d = json.loads(out)
        self.assertEqual(d["status"], "CRITICAL")
        self.assertIn("the server refused STARTTLS", d["reason"])

    def test_starttls_healthy(self):
        rc, out, err = self.check("imap://%s:%d" % (HOST, self.env["ports"]["starttls"]), "--json",
                                  port=self.env["ports"]["starttls"])
        self.assertEqual(rc, 0, err)
        d = json.loads(out)
        self.assertEqual([s["name"] for s in d["stages"]],
                         ["resolve", "connect", "greeting", "starttls", "tls", "cert", "capability"])
        self.assertNotIn("STARTTLS", d["capabilities"])

    def test_unresolvable_is_unknown(self):
        rc, out, err = self.imapsh("check", "no-such-host.invalid", "--json")
        self.assertEqual(rc, 3, err)
        d = json.loads(out)
        self.assertEqual(d["status"], "UNKNOWN")
        self.assertIn("resolve no-such-host.invalid", d["reason"])

    def test_usage_error_is_unknown(self):
        rc, out, err = self.imapsh("check", "--warn-days", "soon", HOST)
        self.assertEqual(rc, 3, err)

    def test_first_address_unreachable(self):
        port = self.env["ports"]["imaps"]
        rc, out, err = self.imapsh("--ca-file", self.env["ca_file"], "--resolve",
                                   "%s:%d:127.0.0.2,127.0.0.1" % (HOST, port), "--json", "check",
                                   "%s:%d" % (HOST, port))
        self.assertEqual(rc, 0, err)
        d = json.loads(out)
        self.assertEqual(d["status"], "OK")
        self.assertEqual(d["addresses"], ["127.0.0.2", "127.0.0.1"])
        a = d["attempts"]
        self.assertEqual([x["address"] for x in a], ["127.0.0.2:%d" % port, "127.0.0.1:%d" % port])
        self.assertFalse(a[0]["ok"])
        self.assertIn("refused", a[0]["error"].lower())
        self.assertTrue(a[1]["ok"])
        connect = [s for s in d["stages"] if s["name"] == "connect"]
        self.assertEqual([s["ok"] for s in connect], [False, True])

    def test_silent_server_times_out(self):
        # accepts TCP (the kernel completes the handshake) and never answers
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(4)
        port = lsock.getsockname()[1]
        try:
            t0 = time.monotonic()
            rc, out, err = self.check("%s:%d" % (HOST, port), "--json", "--timeout", "3",
                                      port=port)
            took = time.monotonic() - t0
        finally:
            lsock.close()
        self.assertEqual(rc, 2, err)
        d = json.loads(out)
        self.assertEqual(d["status"], "CRITICAL")
        self.assertIn("timed out", d["reason"])
        self.assertGreater(took, 2.5)
        self.assertLess(took, 15 * h.timeout_scale())

    def test_timeout_option(self):
        with h.fake_case("silent") as srv:
            t0 = time.monotonic()
            rc, out, err = self.check("%s:%d" % (HOST, srv.port), "--json", "--timeout", "2",
                                      port=srv.port, timeout=30)
            took = time.monotonic() - t0
        self.assertEqual(rc, 2, err)
        self.assertGreater(took, 1.5)
        self.assertLess(took, 15 * h.timeout_scale())
        d = json.loads(out)
        self.assertIn("timed out", d["reason"])

    def test_nagios_line(self):
        rc, out, err = self.check("%s:%d" % (HOST, self.env["ports"]["imaps"]), "--nagios",
                                  "--warn-ms", "5000", "--crit-ms", "9000")
        self.assertEqual(rc, 0, err)
        line = out.decode()
        self.assertRegex(line, NAGIOS)
        self.assertIn("time=", line)
        self.assertRegex(line, r";5\.000;9\.000;0 ")
        with h.fakeserver([["send", "* OK ready\r\n"], ["serve", {}]], tls="expired") as srv:
            rc, out, err = self.check("%s:%d" % (HOST, srv.port), "--nagios", port=srv.port)
        self.assertEqual(rc, 2)
        self.assertRegex(out.decode(), NAGIOS)
        self.assertTrue(out.decode().startswith("IMAP CRITICAL - "))


class Agreement(h.TestbedCase):
    def check(self, *args, port=None):
        return self.imapsh("--ca-file", self.env["ca_file"], "--resolve",
                           "%s:%d:127.0.0.1" % (HOST, port or self.env["ports"]["imaps"]),
                           "check", *args)

    def test_nagios_days_agree_with_the_text(self):
        script = [["send", "* OK ready\r\n"], ["serve", {}]]
        for case in ("expired", "expires_3d", "expires_10d"):
            with self.subTest(case=case):
                with h.fakeserver(script, tls=case) as srv:
                    rc, out, err = self.check("%s:%d" % (HOST, srv.port), "--nagios",
                                              "--warn-days", "30", port=srv.port)
                line = out.decode()
                days = int(re.search(r" days=(-?\d+);", line).group(1))
                m = re.search(r"expired (\d+) days? ago", line)
                if m:
                    self.assertEqual(days, -int(m.group(1)), line)
                else:
                    m = re.search(r"expires in (\d+) days?", line)
                    self.assertIsNotNone(m, line)
                    self.assertEqual(days, int(m.group(1)), line)

    def test_columns_align_on_a_terminal(self):
        from test_shell import Pty
        env = h.base_env(self.home)
        env["TERM"] = "dumb"
        p = Pty(["--ca-file", self.env["ca_file"], "--resolve",
                 "%s:%d:127.0.0.1" % (HOST, self.env["ports"]["imaps"]),
                 "check", "%s:%d" % (HOST, self.env["ports"]["imaps"])], env)
        self.addCleanup(p.close)
        self.assertEqual(p.wait_exit(), 0)
        lines = [l for l in p.buf.decode().replace("\r", "").splitlines() if l.strip()]
        self.assertEqual([l.split()[0] for l in lines],
                         ["resolve", "connect", "tls", "cert", "greeting", "capability", "result"])
        # the detail starts in one column on every line, whatever its length
        starts = {len(l) - len(l[22:].lstrip()) if len(l) > 22 else -1 for l in lines}
        self.assertEqual({l[20:22] for l in lines}, {"  "}, lines)
        self.assertTrue(all(not l[22].isspace() for l in lines), lines)
        self.assertTrue(all(re.match(r"^\S+ +(\d+ ms|  ) ", l) for l in lines), lines)
        self.assertEqual(len(starts), 1, lines)


if __name__ == "__main__":
    import unittest
    unittest.main()
