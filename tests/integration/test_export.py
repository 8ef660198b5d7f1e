"""export and idle end to end: a Maildir byte-identical to the test bed's
.eml files with flags and dates in the names, an mbox python's mailbox
module reads back, resuming (a second run fetches nothing; a new message is
fetched alone), a connection dropped mid-literal and Ctrl-C (fake server:
nothing half-written, a rerun completes the export), a changed UIDVALIDITY,
and idle with and without new mail."""
import datetime
import email.utils
import json
import mailbox
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import harness as h

HOST = "imap.example.test"
LETTERS = {"\\Draft": "D", "\\Flagged": "F", "\\Answered": "R", "\\Seen": "S", "\\Deleted": "T"}
NAME_RE = re.compile(r"^(\d+)\.V(\d+)U(\d+)\.imapsh:2,([A-Z]*)$")
FAKE_CAPS = "IMAP4rev1 SASL-IR ID IDLE LITERAL+ AUTH=PLAIN"

TRICKY = (b"From: Quoting Test <q@example.test>\r\nSubject: From lines\r\n"
          b"Message-ID: <from-lines@example.test>\r\n\r\n"
          b"From the start of a line\r\n>From quoted once\r\n>>From twice\r\n"
          b"Fromage is not a From_ line\r\n\r\nFrom \r\nlast line without newline")


def imap_date(rfc2822):
    """env.json's Date header as an IMAP date-time (same instant)."""
    d = email.utils.parsedate_to_datetime(rfc2822)
    return d.strftime("%d-%b-%Y %H:%M:%S %z")


def maildir_files(d):
    """{uid: (name, bytes)} of DIR/cur."""
    out = {}
    for name in os.listdir(os.path.join(d, "cur")):
        m = NAME_RE.match(name)
        assert m, name
        with open(os.path.join(d, "cur", name), "rb") as f:
            out[int(m.group(3))] = (name, f.read())
    return out


def tree(d):
    """Every file under DIR/cur and DIR/new with its bytes and mtime."""
    out = {}
    for sub in ("cur", "new"):
        for name in os.listdir(os.path.join(d, sub)):
            p = os.path.join(d, sub, name)
            with open(p, "rb") as f:
                out[sub + "/" + name] = (f.read(), int(os.stat(p).st_mtime))
    return out


def state_uids(d, name=".imapsh-export"):
    with open(os.path.join(d, name)) as f:
        return dict(line.rstrip("\n").split(" ", 1) for line in f if not line.startswith("#"))


def uid_set(text):
    out = []
    for part in text.split(","):
        a, _, b = part.partition(":")
        out.extend(range(int(a), int(b or a) + 1))
    return out


def mbox_texts(path):
    """The messages of an mbox as python reads them, mboxrd quoting undone."""
    box = mailbox.mbox(path, create=False)
    try:
        return [re.sub(rb"(?m)^>(>*From )", rb"\1", box.get_bytes(k)) for k in box.keys()]
    finally:
        box.close()


def as_mbox_body(eml):
    data = eml.replace(b"\r\n", b"\n")
    return data if data.endswith(b"\n") else data + b"\n"


class FakeExport:
    """A fake server for export: answers login, SELECT, UID SEARCH and the
    two UID FETCH forms with the given messages, and when it reaches UID
    `cut` sends half of that literal and then drops the connection (or, with
    stall, waits for the client to go)."""

    def __init__(self, msgs, uidvalidity, cut=None, stall=False):
        self.msgs = msgs  # [(uid, bytes, flags list, imap date)]
        self.uidvalidity, self.cut, self.stall = uidvalidity, cut, stall
        self.cut_sent = threading.Event()

    def __call__(self, conn):
        conn.send("* OK [CAPABILITY %s] fake ready\r\n" % FAKE_CAPS)
        by_uid = {m[0]: m for m in self.msgs}
        while True:
            line = conn.read_command().rstrip(b"\r\n").decode("latin-1")
            tag, _, rest = line.partition(" ")
            up = rest.upper()
            verb = up.split(" ", 1)[0]
            if verb == "AUTHENTICATE":
                if len(rest.split(" ")) < 3:
                    conn.send("+ \r\n")
                    conn.readline()
                conn.send("%s OK [CAPABILITY %s] Logged in\r\n" % (tag, FAKE_CAPS))
            elif verb == "CAPABILITY":
                conn.send("* CAPABILITY %s\r\n%s OK done\r\n" % (FAKE_CAPS, tag))
            elif verb == "ID":
                conn.send('* ID ("name" "fake")\r\n%s OK done\r\n' % tag)
            elif verb in ("SELECT", "EXAMINE"):
                n = len(self.msgs)
                nxt = max(by_uid) + 1 if by_uid else 1
                conn.send("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
                          "* %d EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY %d] ok\r\n"
                          "* OK [UIDNEXT %d] ok\r\n%s OK [READ-ONLY] done\r\n"
                          % (n, self.uidvalidity, nxt, tag))
            elif up.startswith("UID SEARCH"):
                conn.send("* SEARCH%s\r\n%s OK done\r\n"
                          % ("".join(" %d" % u for u in sorted(by_uid)), tag))
            elif up.startswith("UID FETCH"):
                wanted = uid_set(rest.split(" ")[2])
                for seq, (uid, data, flags, date) in enumerate(self.msgs, 1):
                    if uid not in wanted:
                        continue
                    if "BODY.PEEK[]" not in up:
                        conn.send("* %d FETCH (UID %d RFC822.SIZE %d)\r\n" % (seq, uid, len(data)))
                        continue
                    head = ("* %d FETCH (UID %d FLAGS (%s) INTERNALDATE \"%s\" BODY[] {%d}\r\n"
                            % (seq, uid, " ".join(flags), date, len(data))).encode()
                    if uid == self.cut:
                        conn.send(head + data[:len(data) // 2])
                        self.cut_sent.set()
                        if self.stall:
                            conn.read(30)
                        conn.drop()
                    conn.send(head + data + b")\r\n")
                conn.send("%s OK done\r\n" % tag)
            elif verb == "LOGOUT":
                conn.send("* BYE bye\r\n%s OK done\r\n" % tag)
                conn.close()
            else:
                conn.send("%s OK done\r\n" % tag)


class Export(h.TestbedCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="imapsh-export-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def path(self, *p):
        return os.path.join(self.tmp, *p)

    def run_export(self, *args, port=None, user="alice", timeout=120):
        port = port or self.env["ports"]["imaps"]
        return self.imapsh("--ca-file", self.env["ca_file"], "--resolve",
                           "%s:%d:127.0.0.1" % (HOST, port), "%s@%s:%d" % (user, HOST, port),
                           "export", *args, env=h.password_env(user), timeout=timeout)

    def export_json(self, *args, **kw):
        rc, out, err = self.run_export("--json", *args, **kw)
        self.assertEqual(rc, 0, err)
        return json.loads(out), err

    def folder(self, name="INBOX"):
        return self.env["mail"]["alice"]["folders"][name]

    def fake_msgs(self, name="INBOX"):
        out = []
        for m in self.folder(name)["list"]:
            with open(m["file"], "rb") as f:
                out.append((m["uid"], f.read(), m["flags"], imap_date(m["date"])))
        return out

    # ---------------------------------------------------------- Maildir

    def test_maildir_is_byte_identical_with_flags_and_dates(self):
        d = self.path("inbox")
        s, _ = self.export_json("INBOX", d)
        fold = self.folder()
        self.assertEqual((s["fetched"], s["skipped"]), (fold["messages"], 0))
        self.assertEqual(s["bytes"], sum(m["size"] for m in fold["list"]))
        self.assertEqual(s["uidvalidity"], fold["uidvalidity"])
        files = maildir_files(d)
        self.assertEqual(sorted(files), [m["uid"] for m in fold["list"]])
        for m in fold["list"]:
            name, data = files[m["uid"]]
            with open(m["file"], "rb") as f:
                self.assertEqual(data, f.read(), name)
            letters = "".join(sorted(LETTERS[x] for x in m["flags"]))
            self.assertEqual(NAME_RE.match(name).group(4), letters, name)
            when = int(email.utils.parsedate_to_datetime(m["date"]).timestamp())
            self.assertEqual(int(os.stat(os.path.join(d, "cur", name)).st_mtime), when)
        self.assertEqual(os.listdir(os.path.join(d, "tmp")), [])
        self.assertEqual(os.listdir(os.path.join(d, "new")), [])
        st = state_uids(d)
        self.assertEqual(st["uidvalidity"], str(fold["uidvalidity"]))
        self.assertEqual(uid_set(st["uids"]), [m["uid"] for m in fold["list"]])

    def test_second_run_fetches_nothing(self):
        d = self.path("inbox")
        self.export_json("INBOX", d)
        before = tree(d)
        rc, out, err = self.run_export("--json", "--trace", "INBOX", d)
        self.assertEqual(rc, 0, err)
        s = json.loads(out)
        self.assertEqual((s["fetched"], s["skipped"], s["bytes"]),
                         (0, self.folder()["messages"], 0))
        self.assertNotIn(b"BODY", err)
        # with CONDSTORE an unchanged HIGHESTMODSEQ means nothing to ask;
        # without it only the flags are compared
        if h.offers("CONDSTORE"):
            self.assertNotIn(b"UID FETCH", err)
        else:
            self.assertEqual(re.findall(rb"UID FETCH \S+ (\(.*)", err), [b"(UID FLAGS)"])
        self.assertEqual(tree(d), before)

    def test_new_message_is_fetched_alone(self):
        srcs = [m["file"] for m in self.folder()["list"][:2]]
        with h.scratch_folder("alice", srcs) as name:
            d = self.path("scratch")
            s, _ = self.export_json(name, d)
            self.assertEqual(s["fetched"], 2)
            m = h.imap_login("alice")
            try:
                m.append(name, "(\\Flagged)", None, TRICKY)
            finally:
                m.logout()
            rc, out, err = self.run_export("--json", "--trace", name, d)
            self.assertEqual(rc, 0, err)
            s = json.loads(out)
            # Courier stores a message whose last line has no line end with one
            # added: what the server sends is what is saved
            stored = TRICKY + b"\r\n" if h.server() == "courier" else TRICKY
            self.assertEqual((s["fetched"], s["skipped"], s["bytes"]), (1, 2, len(stored)))
            fetches = re.findall(rb"C: \S+ UID FETCH (\S+) \(UID FLAGS INTERNALDATE BODY",
                                 err)
            self.assertEqual(fetches, [b"3"])
            files = maildir_files(d)
            self.assertEqual(sorted(files), [1, 2, 3])
            self.assertEqual(files[3][1], stored)
            self.assertTrue(files[3][0].endswith(":2,F"), files[3][0])

    def test_utf8_folder_name(self):
        d = self.path("jp")
        s, _ = self.export_json(h.folder("送信済み"), d, "--format", "mbox")
        self.assertEqual(s["fetched"], self.folder("送信済み")["messages"])
        self.assertTrue(os.path.exists(os.path.join(d, h.folder("送信済み") + ".mbox")))

    def test_mbox_from_line_is_internaldate(self):
        d = self.path("mbox-inbox")
        self.export_json("INBOX", d, "--format", "mbox")
        with open(os.path.join(d, "INBOX.mbox"), "rb") as f:
            raw = f.read()
        got = re.findall(rb"(?m)^From MAILER-DAEMON (.*)$", raw)
        want = []
        for m in self.folder()["list"]:
            when = email.utils.parsedate_to_datetime(m["date"]).astimezone(
                datetime.timezone.utc)
            want.append(when.strftime("%a %b %e %H:%M:%S %Y").encode())
        self.assertEqual(got, want)
        texts = mbox_texts(os.path.join(d, "INBOX.mbox"))
        self.assertEqual(len(texts), len(want))
        for g, m in zip(texts, self.folder()["list"]):
            with open(m["file"], "rb") as f:
                self.assertEqual(g.rstrip(b"\n"), as_mbox_body(f.read()).rstrip(b"\n"))

    def test_other_folder_in_same_directory_is_refused(self):
        d = self.path("inbox")
        self.export_json(h.folder("Sent"), d)
        rc, out, err = self.run_export("INBOX", d)
        self.assertEqual(rc, 2, err)
        self.assertIn(b"holds an export of folder '%s'" % h.folder("Sent").encode(), err)

    # ---------------------------------------------------------- mbox

    def test_mbox_reads_back_intact(self):
        srcs = [m["file"] for m in self.folder()["list"][:3]]
        with h.scratch_folder("alice", srcs) as name:
            m = h.imap_login("alice")
            try:
                m.append(name, None, None, TRICKY)
            finally:
                m.logout()
            d = self.path("mb")
            s, _ = self.export_json(name, d, "--format", "mbox")
            self.assertEqual(s["fetched"], 4)
            box = os.path.join(d, name + ".mbox")
            with open(box, "rb") as f:
                raw = f.read()
            self.assertTrue(raw.startswith(b"From MAILER-DAEMON "), raw[:60])
            self.assertIn(b"\n>From the start", raw)
            self.assertIn(b"\n>>From quoted once", raw)
            self.assertIn(b"\n>>>From twice", raw)
            self.assertIn(b"\nFromage", raw)
            self.assertNotIn(b"\r\n", raw)
            want = []
            for p in srcs:
                with open(p, "rb") as f:
                    want.append(as_mbox_body(f.read()))
            want.append(as_mbox_body(TRICKY))
            got = mbox_texts(box)
            self.assertEqual(len(got), 4)
            for g, w in zip(got, want):
                self.assertEqual(g.rstrip(b"\n"), w.rstrip(b"\n"))
            self.assertRegex(raw.split(b"\n", 1)[0],
                             rb"^From MAILER-DAEMON [A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d "
                             rb"\d\d:\d\d:\d\d \d{4}$")

            # Resume: one more message is appended, the rest is unchanged.
            m = h.imap_login("alice")
            try:
                with open(self.folder()["list"][5]["file"], "rb") as f:
                    extra = f.read()
                m.append(name, None, None, extra)
            finally:
                m.logout()
            s, _ = self.export_json(name, d, "--format", "mbox")
            self.assertEqual((s["fetched"], s["skipped"]), (1, 4))
            with open(box, "rb") as f:
                raw2 = f.read()
            self.assertTrue(raw2.startswith(raw))
            got = mbox_texts(box)
            self.assertEqual(len(got), 5)
            self.assertEqual(got[4].rstrip(b"\n"), as_mbox_body(extra).rstrip(b"\n"))
            self.assertEqual([n for n in os.listdir(d) if "tmp" in n], [])

    # ---------------------------------------------------------- failures

    def test_dropped_connection_mid_literal_then_resume(self):
        msgs = self.fake_msgs()
        cut = msgs[2][0]
        d = self.path("dropped")
        fake = FakeExport(msgs, self.folder()["uidvalidity"], cut=cut)
        with h.fakeserver(fake, tls="valid") as srv:
            rc, out, err = self.run_export("--json", "INBOX", d, port=srv.port)
        self.assertEqual(rc, 3, err)
        # stdout holds only the JSON error object (the words are on stderr)
        self.assertEqual(json.loads(out)["error"]["kind"], "network")
        self.assertIn(b"2 messages saved", err)
        files = maildir_files(d)
        self.assertEqual(sorted(files), [msgs[0][0], msgs[1][0]])
        for uid, data, _, _ in msgs[:2]:
            self.assertEqual(files[uid][1], data)
        self.assertEqual(os.listdir(os.path.join(d, "tmp")), [])
        self.assertEqual(uid_set(state_uids(d)["uids"]), [msgs[0][0], msgs[1][0]])
        # A rerun against the real server completes it, identical to a clean export.
        s, _ = self.export_json("INBOX", d)
        self.assertEqual((s["fetched"], s["skipped"]), (len(msgs) - 2, 2))
        clean = self.path("clean")
        self.export_json("INBOX", clean)
        self.assertEqual(tree(d), tree(clean))

    def test_mbox_dropped_connection_never_ends_in_half_a_message(self):
        msgs = self.fake_msgs()
        d = self.path("mbox-dropped")
        fake = FakeExport(msgs, self.folder()["uidvalidity"], cut=msgs[2][0])
        with h.fakeserver(fake, tls="valid") as srv:
            rc, out, err = self.run_export("INBOX", d, "--format", "mbox", port=srv.port)
        self.assertEqual(rc, 3, err)
        box = os.path.join(d, "INBOX.mbox")
        got = mbox_texts(box)
        self.assertEqual([g.rstrip(b"\n") for g in got],
                         [as_mbox_body(m[1]).rstrip(b"\n") for m in msgs[:2]])
        self.assertEqual(sorted(os.listdir(d)), [".INBOX.mbox.imapsh-export", "INBOX.mbox"])
        st = state_uids(d, ".INBOX.mbox.imapsh-export")
        self.assertEqual(uid_set(st["uids"]), [msgs[0][0], msgs[1][0]])
        self.assertEqual(int(st["mbox-size"]), os.path.getsize(box))
        # The rest from the real server: the same mbox as a clean export.
        s, _ = self.export_json("INBOX", d, "--format", "mbox")
        self.assertEqual((s["fetched"], s["skipped"]), (len(msgs) - 2, 2))
        clean = self.path("mbox-clean")
        self.export_json("INBOX", clean, "--format", "mbox")
        with open(box, "rb") as a, open(os.path.join(clean, "INBOX.mbox"), "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_write_failure_keeps_only_complete_files(self):
        """A file-size limit makes writing fail (as a full disk would):
        exit 6, and every file in cur/ is a complete message."""
        import resource

        limit = 3000

        def small_files():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        d = self.path("full")
        env = h.base_env(self.home)
        env.update(h.password_env("alice"))
        port = self.env["ports"]["imaps"]
        p = subprocess.run(h.wrapper() + [os.environ["IMAPSH_BIN"]] + h.imaps_args() +
                           ["alice@%s:%d" % (HOST, port), "export", "INBOX", d],
                           stdin=h.empty_input(), capture_output=True, env=env,
                           preexec_fn=small_files, timeout=60 * h.timeout_scale())
        self.assertEqual(p.returncode, 6, p.stderr)
        self.assertIn(b"cannot write", p.stderr)
        fold = self.folder()["list"]
        first_big = next(i for i, m in enumerate(fold) if m["size"] > limit)
        files = maildir_files(d)
        self.assertEqual(sorted(files), [m["uid"] for m in fold[:first_big]])
        for m in fold[:first_big]:
            with open(m["file"], "rb") as f:
                self.assertEqual(files[m["uid"]][1], f.read())
        self.assertEqual(os.listdir(os.path.join(d, "tmp")), [])
        # The rest comes with the next run.
        s, _ = self.export_json("INBOX", d)
        self.assertEqual((s["fetched"], s["skipped"]), (len(fold) - first_big, first_big))

    def test_directory_in_use_is_refused(self):
        import fcntl

        d = self.path("locked")
        os.makedirs(d)
        fd = os.open(d, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            rc, out, err = self.run_export("Sent", d)
        finally:
            os.close(fd)
        self.assertEqual(rc, 6, err)
        self.assertIn(b"in use by another export", err)
        self.assertFalse(os.path.exists(os.path.join(d, "cur")))

    def test_stale_tmp_files_are_removed(self):
        d = self.path("stale")
        os.makedirs(os.path.join(d, "tmp"))
        stale = os.path.join(d, "tmp", "imapsh.99999.1")
        with open(stale, "wb") as f:
            f.write(b"half a mess")
        foreign = os.path.join(d, "tmp", "someone-else")
        open(foreign, "w").close()
        self.export_json(h.folder("Sent"), d)
        self.assertFalse(os.path.exists(stale))
        self.assertTrue(os.path.exists(foreign))

    def test_ctrl_c_keeps_what_is_complete(self):
        msgs = self.fake_msgs()
        d = self.path("intr")
        fake = FakeExport(msgs, self.folder()["uidvalidity"], cut=msgs[3][0], stall=True)
        with h.fakeserver(fake, tls="valid", timeout=40) as srv:
            env = h.base_env(self.home)
            env.update(h.password_env("alice"))
            p = subprocess.Popen(h.wrapper() + [os.environ["IMAPSH_BIN"], "--ca-file",
                                 self.env["ca_file"], "--resolve",
                                 "%s:%d:127.0.0.1" % (HOST, srv.port),
                                 "alice@%s:%d" % (HOST, srv.port), "export", "INBOX", d],
                                 stdin=h.empty_input(), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=env)
            try:
                self.assertTrue(fake.cut_sent.wait(30 * h.timeout_scale()))
                time.sleep(0.3)
                p.send_signal(signal.SIGINT)
                out, err = p.communicate(timeout=30 * h.timeout_scale())
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        self.assertEqual(p.returncode, 3, err)
        self.assertIn(b"interrupted", err)
        self.assertIn(b"3 messages saved", err)
        self.assertEqual(sorted(maildir_files(d)), [m[0] for m in msgs[:3]])
        self.assertEqual(os.listdir(os.path.join(d, "tmp")), [])
        self.assertEqual(uid_set(state_uids(d)["uids"]), [m[0] for m in msgs[:3]])

    def test_changed_uidvalidity_is_refused_then_restart(self):
        d = self.path("uidv")
        sent = h.folder("Sent")
        self.export_json(sent, d)
        old = self.folder("Sent")["uidvalidity"]
        msgs = self.fake_msgs("Sent")
        with h.fakeserver(FakeExport(msgs, old + 7), tls="valid") as srv:
            rc, out, err = self.run_export(sent, d, port=srv.port)
        self.assertEqual(rc, 1, err)
        self.assertIn(b"UIDVALIDITY of %s changed from %d to %d" % (sent.encode(), old, old + 7),
                      err)
        self.assertIn(b"--restart", err)
        self.assertEqual(state_uids(d)["uidvalidity"], str(old))
        with h.fakeserver(FakeExport(msgs, old + 7), tls="valid") as srv:
            s, err = self.export_json(sent, d, "--restart", port=srv.port)
        self.assertEqual((s["fetched"], s["skipped"]), (len(msgs), 0))
        self.assertEqual(state_uids(d)["uidvalidity"], str(old + 7))
        names = os.listdir(os.path.join(d, "cur"))
        self.assertEqual(len(names), len(msgs))
        # the old generation is kept aside, never mixed with the new one
        aside = os.path.join(d, ".uidvalidity-%d" % old, "cur")
        self.assertEqual(len(os.listdir(aside)), len(msgs))
        self.assertIn(b".uidvalidity-%d" % old, err)


class Idle(h.TestbedCase):
    def idle_with_append(self, name, *args, cmd="idle"):
        """Run idle in folder `name`; once the server has answered IDLE,
        APPEND a message with imaplib.  Returns (rc, stdout, stderr)."""
        port = self.env["ports"]["imaps"]
        env = h.base_env(self.home)
        env.update(h.password_env("alice"))
        p = subprocess.Popen(h.wrapper() + [os.environ["IMAPSH_BIN"]] + h.imaps_args() +
                             ["--trace", "-f", name] + list(args) +
                             ["alice@%s:%d" % (HOST, port), cmd, str(int(3 * h.timeout_scale()))],
                             stdin=h.empty_input(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env)
        lines = []
        try:
            idle_sent = False
            while True:
                line = p.stderr.readline()
                lines.append(line)
                self.assertTrue(line, b"".join(lines))
                if re.match(rb"C: \S+ IDLE\b", line):
                    idle_sent = True
                elif idle_sent and line.startswith(b"S: +"):
                    break
            m = h.imap_login("alice")
            try:
                m.append(name, None, None, TRICKY)
            finally:
                m.logout()
            out, err = p.communicate(timeout=30 * h.timeout_scale())
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        return p.returncode, out, b"".join(lines) + err

    def test_new_mail_arrives(self):
        with h.scratch_folder("alice") as name:
            rc, out, err = self.idle_with_append(name)
            self.assertEqual(rc, 0, err)
            self.assertEqual(out, b"1\tQuoting Test\tFrom lines\n")

    def test_json_lines_and_watch_alias(self):
        with h.scratch_folder("alice") as name:
            rc, out, err = self.idle_with_append(name, "--json", cmd="watch")
            self.assertEqual(rc, 0, err)
            self.assertEqual(json.loads(out), {"uid": 1, "from": "Quoting Test",
                                               "subject": "From lines"})

    def test_polls_with_noop_without_idle(self):
        """A server without IDLE: NOOP, and the new message it announces."""
        caps = "IMAP4rev1 SASL-IR ID LITERAL+ AUTH=PLAIN"

        def script(conn):
            conn.send("* OK [CAPABILITY %s] fake ready\r\n" % caps)
            while True:
                line = conn.read_command().rstrip(b"\r\n").decode()
                tag, _, rest = line.partition(" ")
                up = rest.upper()
                if up.startswith("AUTHENTICATE"):
                    conn.send("%s OK [CAPABILITY %s] in\r\n" % (tag, caps))
                elif up.startswith("EXAMINE") or up.startswith("SELECT"):
                    conn.send("* 2 EXISTS\r\n* OK [UIDVALIDITY 5] x\r\n* OK [UIDNEXT 9] x\r\n"
                              "%s OK [READ-ONLY] done\r\n" % tag)
                elif up.startswith("NOOP"):
                    conn.send("* 3 EXISTS\r\n%s OK done\r\n" % tag)
                elif up.startswith("UID FETCH 9:*"):
                    conn.send('* 3 FETCH (UID 9 ENVELOPE ("Mon, 1 Jun 2026 10:00:00 +0000" '
                              '"=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\x1b[31m" (("=?UTF-8?B?SsO8cmdlbg==?=" '
                              'NIL "j" "example.test")) NIL NIL NIL NIL NIL NIL "<x@y>"))\r\n'
                              "%s OK done\r\n" % tag)
                elif up.startswith("LOGOUT"):
                    conn.send("* BYE bye\r\n%s OK done\r\n" % tag)
                    conn.close()
                else:
                    conn.send("%s OK done\r\n" % tag)

        with h.fakeserver(script, tls="valid") as srv:
            rc, out, err = self.imapsh("--ca-file", self.env["ca_file"], "--resolve",
                                       "%s:%d:127.0.0.1" % (HOST, srv.port),
                                       "alice@%s:%d" % (HOST, srv.port), "idle", "1",
                                       env=h.password_env("alice"))
            lines = srv.conns[0].client_lines() if srv.conns else []
        self.assertEqual(rc, 0, err)
        self.assertRegex(out.decode(), r"^9\tJürgen\tGrüße[^\t\n]*\[31m\n$")
        self.assertNotIn(b"\x1b", out)
        self.assertFalse(any(b" IDLE" in l for l in lines), lines)

    def test_timeout_without_mail(self):
        with h.scratch_folder("alice") as name:
            t0 = time.monotonic()
            rc, out, err = self.imapsh(*h.imaps_args(), "-f", name, h.target("alice"), "idle",
                                       "2", env=h.password_env("alice"))
            self.assertEqual(rc, 1, err)
            self.assertEqual(out, b"")
            self.assertIn(b"no new mail within 2 seconds", err)
            self.assertGreaterEqual(time.monotonic() - t0, 2.0)


if __name__ == "__main__":
    import unittest
    unittest.main()
