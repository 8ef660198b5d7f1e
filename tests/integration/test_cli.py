"""One-shot, -c and batch use of the connection commands against the real
server (Dovecot, Cyrus or Courier): output on a pipe and as JSON, and exit codes."""
import json
import re

import harness as h


class Connection(h.TestbedCase):
    def run_(self, *args, user="alice", **kw):
        kw.setdefault("env", h.password_env(user))
        return self.imapsh(*h.imaps_args(), h.target(user), *args, **kw)

    def test_capability_json(self):
        rc, out, err = self.run_("--json", "capability")
        self.assertEqual(rc, 0, err)
        caps = json.loads(out)
        self.assertIn("IMAP4rev1", caps)
        for mech in self.env["mechanisms"]:
            self.assertIn("AUTH=" + mech, caps)

    def test_id(self):
        rc, out, err = self.run_("id")
        if not h.offers("ID"):
            self.assertEqual(rc, 1)
            self.assertIn(b"id: the server does not offer ID", err)
            return
        self.assertEqual(rc, 0, err)
        rows = dict(l.split("\t", 1) for l in out.decode().splitlines())
        self.assertIn(h.server_title(), rows["name"])
        rc, out, err = self.run_("--json", "id")
        self.assertEqual(rc, 0, err)
        self.assertIn(h.server_title(), json.loads(out)["name"])

    def test_namespace_json(self):
        rc, out, err = self.run_("--json", "namespace")
        self.assertEqual(rc, 0, err)
        d = json.loads(out)
        self.assertEqual(d["personal"], [{"prefix": self.env["prefix"],
                                          "delimiter": self.env["separator"]}])
        if h.server() == "dovecot":
            self.assertEqual(d["other"], [])
            self.assertEqual(d["shared"], [])

    def test_quote(self):
        # one word: sent as written; the server's bytes on a pipe
        rc, out, err = self.run_("quote", 'LIST "" "*"')
        self.assertEqual(rc, 0, err)
        text = out.decode()
        # \UnMarked is Dovecot's hint, there or not by what earlier tests did;
        # Courier sends UTF-8 names once UTF8=ACCEPT is on, quoted
        sep, name = self.env["separator"], h.folder("送信済み")
        wire = name if h.offers("UTF8=ACCEPT") \
            else self.env["prefix"] + "&kAFP4W4IMH8-"
        self.assertRegex(text, r'\* LIST \(\\HasNoChildren( \\UnMarked)?\) "%s" "?%s"?\r\n'
                         % (re.escape(sep), re.escape(wire)))
        self.assertRegex(text, r"\r\n\S+ OK [^\r\n]*\r\n$")
        # several words, as the shell splits them: empty words quoted again
        rc, out, err = self.run_("-c", 'quote LIST "" INBOX')
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, rb'"%s" "?INBOX"?\r\n' % re.escape(self.env["separator"].encode()))
        # BAD (Courier: NO) is exit 1 with the server's words
        rc, out, err = self.run_("quote", "FROBNICATE")
        self.assertEqual(rc, 1)
        self.assertRegex(err.decode(), r"^imapsh: quote: the server said (BAD|NO)")

    def test_literal_printed_whole(self):
        uid = 2
        src = self.env["mail"]["alice"]["folders"]["INBOX"]["list"][uid - 1]["file"]
        with open(src, "rb") as f:
            body = f.read()
        rc, out, err = self.run_("-c", "quote EXAMINE INBOX; quote UID FETCH %d BODY.PEEK[]" % uid)
        self.assertEqual(rc, 0, err)
        self.assertIn(b"{%d}\r\n" % len(body) + body, out)

    def test_c_runs_in_order_over_one_connection(self):
        if not h.offers("ID"):
            self.skipTest("needs ID, which %s does not offer" % h.server_title())
        rc, out, err = self.run_("--trace", "-c", "capability; namespace; id")
        self.assertEqual(rc, 0, err)
        self.assertEqual(err.count(b"* OK [CAPABILITY"), 1, "one connection, one greeting")
        text = out.decode()
        self.assertLess(text.index("IMAP4rev1"), text.index("personal"))
        self.assertLess(text.index("personal"), text.index(h.server_title()))

    def test_batch_stops_at_first_failure(self):
        script = "# a comment\n\ncapability\nquote FROBNICATE\nnamespace\n"
        rc, out, err = self.run_(input=script)
        self.assertEqual(rc, 1, err)
        self.assertIn(b"IMAP4rev1", out)
        self.assertNotIn(b"personal", out)
        rc, out, err = self.run_("--keep-going", input=script)
        self.assertEqual(rc, 1, err)
        self.assertIn(b"personal", out)

    def test_connect_logout_and_login_in_c(self):
        rc, out, err = self.imapsh(*h.imaps_args(), "-c",
                                   "connect %s; login alice; namespace; logout; namespace"
                                   % h.target(), env=h.password_env("alice"))
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.decode().count("personal"), 2)

    def test_no_server(self):
        rc, out, err = self.imapsh("capability")
        self.assertEqual(rc, 2)
        self.assertIn(b"no server", err)

    def test_unknown_command(self):
        rc, out, err = self.run_("frobnicate")
        self.assertEqual(rc, 2)
        self.assertIn(b"unknown command 'frobnicate'", err)

    def test_help(self):
        rc, out, err = self.imapsh("help", "check")
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.startswith(b"check [HOST[:PORT]]\n"))
        rc, out, err = self.imapsh("--help")
        self.assertEqual(rc, 0)
        self.assertIn(b"--password-command", out)


class Trust(h.TestbedCase):
    def test_add_list_rm_and_enforced(self):
        import test_tls
        pin = test_tls.spki_pin(self.env["ca"]["certs"]["unknown_ca"]["cert"])
        port = self.env["ports"]["imaps"]
        hp = "imap.example.test:%d" % port
        rc, out, err = self.imapsh("--json", "trust", "add", hp, pin)
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out), {"host": "imap.example.test", "port": port,
                                           "pin": pin, "added": True})
        rc, out, err = self.imapsh("trust", "list")
        self.assertEqual(rc, 0, err)
        self.assertIn(b"imap.example.test\t%d\t%s\n" % (port, pin.encode()), out)
        # the recorded pin does not match the real server's key: a hard failure
        rc, out, err = self.imapsh(*h.imaps_args(), h.target(), "capability")
        self.assertEqual(rc, 4, err)
        self.assertIn(b"public key pin mismatch", err)
        rc, out, err = self.imapsh("trust", "rm", hp)
        self.assertEqual(rc, 0, err)
        rc, out, err = self.imapsh(*h.imaps_args(), h.target(), "capability")
        self.assertEqual(rc, 0, err)



class UrlFetch(h.TestbedCase):
    def test_url_with_uid_fetches(self):
        f = self.env["mail"]["alice"]["folders"]["送信済み"]["list"][0]
        with open(f["file"], "rb") as fh:
            want = fh.read()
        prefix = self.env["prefix"]
        url = h.target("alice") + "/" + prefix + "%E9%80%81%E4%BF%A1%E6%B8%88%E3%81%BF/;UID=" \
            + str(f["uid"])
        rc, out, err = self.imapsh(*h.imaps_args(), url, env=h.password_env("alice"))
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, want)
        rc, out, err = self.imapsh(*h.imaps_args(), url + "/;SECTION=HEADER",
                                   env=h.password_env("alice"))
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, want[:want.index(b"\r\n\r\n") + 4])


if __name__ == "__main__":
    import unittest
    unittest.main()
