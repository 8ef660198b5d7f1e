"""The reading commands (show, structure, save) run one-shot against the test
bed's Dovecot: decoded headers and text compared with what python's email
package makes of the same .eml files, no raw control bytes on a pipe,
attachments saved byte-identical under safe names that never overwrite or
follow a planted symlink, and show fetching only what it needs (a message
with a 20 MB attachment costs less than 1 MB on the wire)."""
import email
import email.policy
import json
import os
import re
import shutil
import tempfile

import harness as h
from test_folders import run_pty


def eml(uid, folder="INBOX", user="alice"):
    for m in h.testbed()["mail"][user]["folders"][folder]["list"]:
        if m["uid"] == uid:
            return m
    raise KeyError(uid)


def parse(uid):
    with open(eml(uid)["file"], "rb") as f:
        return email.message_from_bytes(f.read(), policy=email.policy.default)


def lines(text):
    return [ln.rstrip() for ln in text.replace("\r\n", "\n").strip("\n").split("\n")]


def no_raw_controls(test, out):
    bad = [b for b in out if b < 0x20 and b not in (0x09, 0x0a)]
    test.assertEqual(bad, [], "raw control bytes in the output")
    test.assertNotIn(b"\x7f", out)
    text = out.decode("utf-8")  # valid UTF-8
    for ch in ("\u202e", "\u202d", "\u2066", "\u200b", "\x9b"):
        test.assertNotIn(ch, text)


class ReadCase(h.TestbedCase):
    user = "alice"

    def run_cmd(self, *args, folder=None, env=None):
        pre = ["-f", folder] if folder else []
        e = h.password_env(self.user)
        if env:
            e.update(env)
        return self.imapsh(*h.imaps_args(), *pre, h.target(self.user), *args, env=e)

    def ok(self, *args, **kw):
        rc, out, err = self.run_cmd(*args, **kw)
        self.assertEqual(rc, 0, "%r: %s" % (args, err.decode("utf-8", "replace")))
        return out, err

    def tmpdir(self):
        d = tempfile.mkdtemp(prefix="imapsh-save-")
        self.addCleanup(shutil.rmtree, d, True)
        return d


class Show(ReadCase):
    def check_japanese(self, uid):
        msg = parse(uid)
        out, _ = self.ok("show", uid)
        text = out.decode("utf-8")
        self.assertIn("Subject: %s\n" % eml(uid)["subject"], text)
        self.assertIn("Subject: %s\n" % str(msg["subject"]), text)
        self.assertIn("From: %s" % str(msg["from"]), text)
        body = lines(msg.get_content())
        self.assertTrue(body and body[0], "python found no body")
        self.assertIn("\n".join(body), "\n".join(lines(text)))
        no_raw_controls(self, out)
        self.assertNotIn("[charset:", text)

    def test_iso_2022_jp(self):
        self.check_japanese(3)

    def test_shift_jis(self):
        self.check_japanese(4)

    def test_euc_jp(self):
        self.check_japanese(5)

    def test_header_order_and_blank_line(self):
        out, _ = self.ok("show", 3)
        head, _, rest = out.decode("utf-8").partition("\n\n")
        names = [ln.split(":", 1)[0] for ln in head.split("\n")]
        self.assertEqual(names, ["Date", "From", "To", "Subject"])
        self.assertTrue(rest.strip())

    def test_headers_all(self):
        out, _ = self.ok("show", 3, "--headers", "all")
        text = out.decode("utf-8")
        self.assertIn("Message-ID: <alice.INBOX.3@example.test>", text)
        self.assertIn("Content-Type:", text)

    def test_mislabelled_charset_fallback_visible(self):
        out, _ = self.ok("show", 10)
        text = out.decode("utf-8")
        self.assertIn("naïve café", text)
        self.assertRegex(text, r"\[charset: [^\]]*us-ascii[^\]]*\]")
        no_raw_controls(self, out)
        out, _ = self.ok("show", 10, "--json")
        doc = json.loads(out)
        self.assertIn("charset_fallback", doc)
        self.assertEqual(doc["charset_fallback"]["declared"], "us-ascii")

    def test_hostile_subject_and_body(self):
        out, _ = self.ok("show", 15)
        no_raw_controls(self, out)
        text = out.decode("utf-8")
        self.assertIn("^[[31mred", text)
        self.assertIn("<U+202E>", text)
        self.assertIn("^[]0;pwned^G", text)
        out, _ = self.ok("show", 15, "--json")
        no_raw_controls(self, out)
        self.assertNotIn("\u202e", json.loads(out)["headers"]["subject"])

    def test_alternative_prefers_plain(self):
        msg = parse(7)
        plain = msg.get_body(preferencelist=("plain",)).get_content()
        out, _ = self.ok("show", 7)
        text = out.decode("utf-8")
        self.assertIn(lines(plain)[0], text)
        self.assertNotIn("<p>", text)

    def test_attachment_list(self):
        out, _ = self.ok("show", 9)
        text = out.decode("utf-8")
        att = text[text.index("Attachments:"):]
        for name in ("見積書.pdf", "レポート 第1版.txt", "../../etc/passwd"):
            self.assertIn(name, att)

    def test_json(self):
        out, _ = self.ok("show", 8, "--json")
        doc = json.loads(out)
        self.assertEqual(doc["uid"], 8)
        self.assertEqual(doc["headers"]["subject"], "Invoice with attachments")
        self.assertIsNone(doc["headers"]["cc"])
        self.assertIn("Please find the invoice", doc["text"])
        self.assertEqual([(a["part"], a["type"], a["name"]) for a in doc["attachments"]],
                         [("2", "application/pdf", "invoice-2026.pdf"),
                          ("3", "image/png", "logo.png")])
        self.assertNotIn("charset_fallback", doc)

    def test_exit_codes(self):
        rc, out, err = self.run_cmd("show", 99999)
        self.assertEqual(rc, 1, err)
        self.assertEqual(out, b"")
        self.assertIn(b"no message with UID 99999", err)
        for bad in ("abc", "0", "1:5", "4294967296"):
            rc, out, err = self.run_cmd("show", bad)
            self.assertEqual(rc, 2, (bad, err))
        rc, _, err = self.run_cmd("show", 3, "--headers", "some")
        self.assertEqual(rc, 2, err)

    def test_never_marks_read_unless_asked(self):
        with h.scratch_folder(sources=[eml(4)["file"]]) as folder:
            m = h.imap_login("alice")
            try:
                m.select(folder)
                self.ok("show", 1, folder=folder)
                typ, data = m.uid("FETCH", "1", "(FLAGS)")
                self.assertNotIn(b"\\Seen", data[0])
                self.ok("show", 1, "--mark-read", folder=folder)
                m.noop()
                typ, data = m.uid("FETCH", "1", "(FLAGS)")
                self.assertIn(b"\\Seen", data[0])
            finally:
                m.logout()

    def test_large_attachment_not_downloaded(self):
        big = os.urandom(20 * 1024 * 1024)
        raw = email.message.EmailMessage()
        raw["From"] = "Big <big@example.test>"
        raw["To"] = "alice@example.test"
        raw["Subject"] = "A large attachment"
        raw["Date"] = "Mon, 01 Sep 2025 10:00:00 +0000"
        raw.set_content("The report is attached.\n")
        raw.add_attachment(big, maintype="application", subtype="octet-stream",
                           filename="big.bin")
        data = raw.as_bytes(policy=email.policy.SMTP)
        self.assertGreater(len(data), 20 * 1024 * 1024)
        with h.scratch_folder() as folder:
            m = h.imap_login("alice")
            try:
                typ, resp = m.append(folder, None, None, data)
                self.assertEqual(typ, "OK", resp)
            finally:
                m.logout()
            out, err = self.ok("--trace", "show", 1, folder=folder)
            text = out.decode("utf-8")
            self.assertIn("The report is attached.", text)
            self.assertIn("big.bin", text)
            trace = err.decode("utf-8", "replace")
            literal = sum(int(n) for n in re.findall(r"<(\d+) bytes>", trace))
            self.assertGreater(literal, 0, trace)
            self.assertLess(literal, 1024 * 1024, trace)
            self.assertNotIn("BODY.PEEK[]", trace)
            self.assertNotIn("BODY.PEEK[2]", trace)
            # save streams it: byte-identical, without holding it in memory
            d = self.tmpdir()
            out, _ = self.ok("save", 1, "-o", d, folder=folder)
            with open(os.path.join(d, "big.bin"), "rb") as f:
                self.assertTrue(f.read() == big)


class SequenceNumbers(ReadCase):
    """#N names the Nth message of the folder, whatever its UID."""

    def test_show_structure_save_take_hash_n(self):
        files = [eml(uid)["file"] for uid in (3, 4, 5)]
        with h.scratch_folder(sources=files) as name:
            m = h.imap_login("alice")
            m.select(name)
            m.uid("STORE", "1", "+FLAGS", "(\\Deleted)")
            m.expunge()
            m.logout()
            # UIDs 2 and 3 are left, as #1 and #2
            for n, uid in ((1, 2), (2, 3)):
                for cmd in ("show", "structure"):
                    by_seq, _ = self.ok(cmd, "#%d" % n, folder=name)
                    by_uid, _ = self.ok(cmd, uid, folder=name)
                    self.assertEqual(by_seq, by_uid, (cmd, n))
            self.assertIn("Subject: %s\n" % eml(4)["subject"],
                          self.ok("show", "#1", folder=name)[0].decode("utf-8"))
            # the third file has no attachment: save names the UID it found
            rc, _, err = self.run_cmd("save", "#2", "-o", self.tmpdir(), folder=name)
            self.assertEqual(rc, 1, err)
            self.assertIn(b"message 3 has no attachments", err)
            rc, out, err = self.run_cmd("show", "#3", folder=name)
            self.assertEqual((rc, out), (1, b""), err)
            self.assertIn(b"no message #3 in " + name.encode(), err)
            for bad in ("#", "#0", "#x", "##1"):
                rc, _, err = self.run_cmd("structure", bad, folder=name)
                self.assertEqual(rc, 2, (bad, err))


class Terminal(ReadCase):
    def pty(self, *args, env=None):
        e = h.base_env(self.home)
        e.update(h.password_env("alice"))
        e.update(env or {})
        return run_pty(h.imaps_args() + [h.target("alice")] + list(args), e)

    def test_show_through_pager(self):
        rc, out = self.pty("show", "15",
                           env={"PAGER": 'echo "LESS=$LESS"; sed "s/^/PAGED:/"'})
        self.assertEqual(rc, 0, out)
        text = out.decode("utf-8")
        self.assertIn("LESS=FRX", text)
        self.assertIn("PAGED:Subject: Escape ^[[31mred", text)
        self.assertNotIn("\x1b[31m", text)
        self.assertNotIn("\u202e", text)

    def test_show_keeps_less_settings(self):
        rc, out = self.pty("show", "3", env={"PAGER": 'echo "LESS=$LESS"; cat', "LESS": "R"})
        self.assertEqual(rc, 0, out)
        self.assertIn(b"LESS=R\n", out)

    def test_structure_indented(self):
        rc, out = self.pty("structure", "8", "--no-color")
        self.assertEqual(rc, 0, out)
        text = out.decode("utf-8")
        # charset values are case-insensitive; Courier sends them lowercased
        self.assertIn("\n    1.1  text/plain  charset=utf-8", text.lower())
        self.assertIn('  2  application/pdf', text)
        self.assertIn('"invoice-2026.pdf"', text)


class Structure(ReadCase):
    def test_tsv_attachments(self):
        out, _ = self.ok("structure", 8)
        rows = [ln.split("\t") for ln in out.decode("utf-8").splitlines()]
        self.assertTrue(all(len(r) == 6 for r in rows), rows)
        self.assertEqual([r[0] for r in rows], ["", "1", "1.1", "1.2", "2", "3"])
        self.assertEqual(rows[0][1], "multipart/mixed")
        self.assertEqual([x.lower() for x in rows[2][1:3]], ["text/plain", "utf-8"])
        self.assertEqual(rows[4][1], "application/pdf")
        self.assertEqual(rows[4][3].lower(), "base64")
        self.assertEqual(rows[4][5], "invoice-2026.pdf")
        self.assertEqual(rows[5][5], "logo.png")
        self.assertGreater(int(rows[4][4]), 0)

    def test_rfc2231_names(self):
        out, _ = self.ok("structure", 9)
        rows = {r[0]: r for r in (ln.split("\t") for ln in out.decode("utf-8").splitlines())}
        msg = parse(9)
        names = [p.get_filename() for p in msg.iter_attachments()]
        self.assertEqual(names, ["見積書.pdf", "レポート 第1版.txt", "../../etc/passwd"])
        self.assertEqual([rows[k][5] for k in ("2", "3", "4")], names)

    def test_json(self):
        out, _ = self.ok("structure", 9, "--json")
        doc = json.loads(out)
        self.assertEqual(doc[0]["type"], "multipart/mixed")
        p2 = [p for p in doc if p["part"] == "2"][0]
        self.assertEqual(p2["name"], "見積書.pdf")
        self.assertEqual(p2["disposition"], "attachment")
        self.assertEqual(p2["depth"], 1)

    def test_single_part(self):
        out, _ = self.ok("structure", 3)
        self.assertEqual(out.decode().lower().split("\t")[:3], ["1", "text/plain", "iso-2022-jp"])

    def test_exit_codes(self):
        rc, _, err = self.run_cmd("structure", 99999)
        self.assertEqual(rc, 1, err)
        rc, _, err = self.run_cmd("structure", "x")
        self.assertEqual(rc, 2, err)


class Save(ReadCase):
    def expected(self, uid):
        """{basename: bytes} of the attachments as python decodes them."""
        out = {}
        for p in parse(uid).iter_attachments():
            out[os.path.basename(p.get_filename())] = p.get_payload(decode=True)
        return out

    def saved(self, out):
        return out.decode("utf-8").splitlines()

    def check_dir(self, d, want):
        got = {}
        for n in os.listdir(d):
            with open(os.path.join(d, n), "rb") as f:
                got[n] = f.read()
        self.assertEqual(got, want)

    def test_rfc2231_and_traversal(self):
        d = self.tmpdir()
        out, _ = self.ok("save", 9, "-o", d)
        want = self.expected(9)
        self.assertEqual(sorted(want), sorted(["見積書.pdf", "レポート 第1版.txt", "passwd"]))
        self.assertEqual(sorted(self.saved(out)), sorted(os.path.join(d, n) for n in want))
        self.check_dir(d, want)

    def test_traversal_stays_inside(self):
        root = self.tmpdir()
        d = os.path.join(root, "a", "b", "c")
        os.makedirs(d)
        out, _ = self.ok("save", 9, "4", "-o", d)
        self.assertEqual(self.saved(out), [os.path.join(d, "passwd")])
        self.assertEqual(os.listdir(d), ["passwd"])
        self.assertEqual(os.listdir(root), ["a"])
        self.assertEqual(os.listdir(os.path.join(root, "a")), ["b"])

    def test_second_save_numbers(self):
        d = self.tmpdir()
        self.ok("save", 8, "-o", d)
        out, _ = self.ok("save", 8, "-o", d)
        self.assertEqual(self.saved(out), [os.path.join(d, "invoice-2026 (1).pdf"),
                                           os.path.join(d, "logo (1).png")])
        out, _ = self.ok("save", 8, "2", "-o", d)
        self.assertEqual(self.saved(out), [os.path.join(d, "invoice-2026 (2).pdf")])
        want = self.expected(8)
        for n in ("invoice-2026.pdf", "invoice-2026 (1).pdf", "invoice-2026 (2).pdf"):
            with open(os.path.join(d, n), "rb") as f:
                self.assertEqual(f.read(), want["invoice-2026.pdf"])

    def test_symlink_not_followed(self):
        d = self.tmpdir()
        outside = self.tmpdir()
        victim = os.path.join(outside, "victim")
        with open(victim, "wb") as f:
            f.write(b"keep me\n")
        os.symlink(victim, os.path.join(d, "invoice-2026.pdf"))
        os.symlink(os.path.join(outside, "new"), os.path.join(d, "logo.png"))
        out, _ = self.ok("save", 8, "-o", d)
        self.assertEqual(self.saved(out), [os.path.join(d, "invoice-2026 (1).pdf"),
                                           os.path.join(d, "logo (1).png")])
        with open(victim, "rb") as f:
            self.assertEqual(f.read(), b"keep me\n")
        self.assertFalse(os.path.exists(os.path.join(outside, "new")))
        self.assertEqual(sorted(os.listdir(outside)), ["victim"])
        want = self.expected(8)
        with open(os.path.join(d, "invoice-2026 (1).pdf"), "rb") as f:
            self.assertEqual(f.read(), want["invoice-2026.pdf"])

    def test_json_and_cwd_default(self):
        d = self.tmpdir()
        rc, out, err = self.imapsh(*h.imaps_args(), h.target("alice"), "save", "8", "--json",
                                   env=h.password_env("alice"), cwd=d)
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual([(x["part"], x["file"]) for x in doc],
                         [("2", "./invoice-2026.pdf"), ("3", "./logo.png")])
        self.check_dir(d, self.expected(8))

    def test_exit_codes(self):
        d = self.tmpdir()
        rc, _, err = self.run_cmd("save", 99999, "-o", d)
        self.assertEqual(rc, 1, err)
        rc, _, err = self.run_cmd("save", 9, "7", "-o", d)
        self.assertEqual(rc, 1, err)
        rc, _, err = self.run_cmd("save", 3, "-o", d)  # no attachments
        self.assertEqual(rc, 1, err)
        rc, _, err = self.run_cmd("save", "x", "-o", d)
        self.assertEqual(rc, 2, err)
        rc, _, err = self.run_cmd("save", 9, "../1", "-o", d)
        self.assertEqual(rc, 2, err)
        self.assertEqual(os.listdir(d), [])
        # a folder that cannot be made (a file stands there) is a local I/O error
        with open(os.path.join(d, "file"), "w"):
            pass
        rc, _, err = self.run_cmd("save", 9, "-o", os.path.join(d, "file", "sub"))
        self.assertEqual(rc, 6, err)
        self.assertEqual(os.listdir(d), ["file"])


if __name__ == "__main__":
    import unittest
    unittest.main()
