"""The message commands (list, search, fetch, flag, unflag, copy, move,
delete, expunge, append) run one-shot against the test bed's Dovecot: TSV on
a pipe and --json checked field by field against env.json, the raw bytes of
fetch against the .eml files, and every change checked with python's
imaplib in scratch folders, so the shared INBOX never changes."""
import datetime
import email.header
import email.utils
import errno
import fcntl
import glob
import imaplib
import json
import os
import stat
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time

import harness as h

LETTERS = {"\\Draft": "D", "\\Flagged": "F", "\\Answered": "R", "\\Seen": "S",
           "\\Deleted": "T"}


def letters(flags):
    s = "".join(v for k, v in sorted(LETTERS.items(), key=lambda kv: kv[1]) if k in flags)
    if any(not f.startswith("\\") for f in flags):
        s += "+"
    return s or "-"


def decode(s):
    return str(email.header.make_header(email.header.decode_header(s)))


def from_parts(raw):
    """(name, address) of an env.json From value, RFC 2047 decoded."""
    name, addr = email.utils.parseaddr(raw)
    return decode(name) if name else "", addr


def epoch(date):
    return email.utils.parsedate_to_datetime(date).timestamp()


def iso_utc(date):
    d = email.utils.parsedate_to_datetime(date).astimezone(datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def squash(s):
    return re.sub(r"\s+", "", s)


def tsv(out):
    return [line.split("\t") for line in out.decode("utf-8").splitlines()]


def run_pty(args, env, cols=80, rows=24, input_lines=(), timeout=60):
    """Run the binary on a pseudo-terminal of the given size; input_lines
    are typed one by one once the output goes quiet.  Returns (rc, output)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    p = subprocess.Popen(h.wrapper() + [os.environ["IMAPSH_BIN"]] + args, stdin=slave,
                         stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    data = b""
    pending = list(input_lines)
    end = time.monotonic() + timeout * h.timeout_scale()
    try:
        while time.monotonic() < end:
            # quiet for a moment: imapsh waits for input (valgrind answers
            # slower, but typed-ahead lines wait in the terminal anyway)
            r, _, _ = select.select([master], [], [], max(1.0, 0.3 * h.timeout_scale()))
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError as e:
                    if e.errno != errno.EIO:
                        raise
                    chunk = b""
                if not chunk:
                    break
                data += chunk
            elif pending:
                os.write(master, pending.pop(0).encode() + b"\r")
            elif p.poll() is not None:
                break
        rc = p.wait(timeout=10)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        os.close(master)
    return rc, data.replace(b"\r\n", b"\n")


class MessageCase(h.TestbedCase):
    user = "alice"

    def run_cmd(self, *args, folder=None, env=None, **kw):
        pre = ["-f", folder] if folder else []
        return self.imapsh(*h.imaps_args(), h.target(self.user), *pre, *args,
                           env=dict(h.password_env(self.user), **(env or {})), **kw)

    def ok(self, *args, **kw):
        rc, out, err = self.run_cmd(*args, **kw)
        self.assertEqual(rc, 0, "%r: %s" % (args, err.decode("utf-8", "replace")))
        self.assertEqual(err, b"", args)
        return out

    def fails(self, rc_want, words, *args, **kw):
        rc, out, err = self.run_cmd(*args, **kw)
        err = err.decode("utf-8", "replace")
        self.assertEqual(rc, rc_want, "%r: %s" % (args, err))
        self.assertIn(words, err)
        self.assertTrue(err.startswith("imapsh: "), err)
        return out, err

    def inbox(self):
        return self.env["mail"][self.user]["folders"]["INBOX"]["list"]

    def msg(self, uid):
        return [m for m in self.inbox() if m["uid"] == uid][0]

    def uids(self, out):
        return [int(r[0]) for r in tsv(out)]

    def imap(self):
        m = h.imap_login(self.user)
        self.addCleanup(m.logout)
        return m

    def scratch(self, uids=(1, 2, 3, 4)):
        """A scratch folder with copies of INBOX messages (UIDs 1.. in order)."""
        cm = h.scratch_folder(self.user, [self.msg(u)["file"] for u in uids])
        name = cm.__enter__()
        self.addCleanup(cm.__exit__, None, None, None)
        return name

    def server_flags(self, m, folder):
        """{uid: set(flags)} of a folder, read with imaplib."""
        typ, _ = m.select('"%s"' % folder, readonly=True)
        self.assertEqual(typ, "OK")
        typ, data = m.uid("FETCH", "1:*", "(UID FLAGS)")
        res = {}
        for d in data:
            if d is None:
                continue
            mm = re.search(rb"UID (\d+) FLAGS \(([^)]*)\)", d)
            if mm is None:
                mm2 = re.search(rb"FLAGS \(([^)]*)\) UID (\d+)", d)
                res[int(mm2.group(2))] = set(mm2.group(1).decode().split())
            else:
                res[int(mm.group(1))] = set(mm.group(2).decode().split())
        return res

    def server_bodies(self, m, folder):
        typ, _ = m.select('"%s"' % folder, readonly=True)
        self.assertEqual(typ, "OK")
        typ, data = m.uid("FETCH", "1:*", "(UID BODY.PEEK[])")
        out = {}
        for d in data:
            if isinstance(d, tuple):
                out[int(re.search(rb"UID (\d+)", d[0]).group(1))] = d[1]
        return out


class ListTest(MessageCase):
    def check_row(self, row, m):
        uid, flags, date, frm, subject, size = row
        self.assertEqual(int(uid), m["uid"])
        self.assertEqual(flags, letters(m["flags"]), uid)
        self.assertEqual(date, iso_utc(m["date"]), uid)  # TZ=UTC in the harness
        name, addr = from_parts(m["from"])
        self.assertEqual(frm, name or addr, uid)
        self.assertEqual(int(size), m["size"], uid)
        if m["uid"] == 15:
            return  # the hostile one: see test_hostile_subject
        if m["uid"] == 17:
            # mailgen folds this subject inside a word; unfolding (RFC
            # 5322 2.2.3) keeps the blank, so only the letters compare.
            self.assertEqual(squash(subject), squash(m["subject"]))
            return
        self.assertEqual(subject, m["subject"], uid)

    def test_list_all_on_a_pipe_is_tsv_matching_env(self):
        rows = tsv(self.ok("list", "1:*"))
        self.assertEqual([int(r[0]) for r in rows], [m["uid"] for m in self.inbox()])
        for row, m in zip(rows, self.inbox()):
            self.assertEqual(len(row), 6, row)
            self.check_row(row, m)

    def test_japanese_and_encoded_names(self):
        rows = {int(r[0]): r for r in tsv(self.ok("list", "3:6,11"))}
        self.assertEqual(rows[3][4], "会議の件について")      # ISO-2022-JP
        self.assertEqual(rows[4][4], "見積書の送付")          # Shift_JIS
        self.assertEqual(rows[5][4], "週報（第十二週）")      # EUC-JP
        for u in (3, 4, 5):
            self.assertEqual(rows[u][3], "田中 太郎")
        self.assertEqual(rows[6][3], "Jürgen Müller")
        self.assertEqual(rows[6][4], "Grüße aus Köln")
        self.assertEqual(rows[11][3], "François")

    def test_default_is_everything_when_few(self):
        self.assertEqual(self.uids(self.ok("list")), list(range(1, 31)))
        self.assertEqual(self.uids(self.ok("headers")), list(range(1, 31)))

    def test_default_on_a_pipe_is_the_newest_50(self):
        name = self.scratch(uids=[1] * 55)
        self.assertEqual(self.uids(self.ok("list", folder=name)), list(range(6, 56)))
        self.assertEqual(len(self.uids(self.ok("list", "1:*", folder=name))), 55)

    def test_json_lines_field_by_field(self):
        out = self.ok("--json", "list", "1:*").decode("utf-8")
        lines = out.splitlines()
        self.assertEqual(len(lines), 30)
        for line, m in zip(lines, self.inbox()):
            o = json.loads(line)
            self.assertEqual(set(o), {"uid", "flags", "date", "from", "subject", "size"})
            self.assertEqual(o["uid"], m["uid"])
            self.assertEqual(sorted(o["flags"]), sorted(m["flags"]))
            self.assertEqual(datetime.datetime.fromisoformat(o["date"]).timestamp(),
                             epoch(m["date"]))
            name, addr = from_parts(m["from"])
            self.assertEqual(o["from"], {"name": name or None, "address": addr})
            self.assertEqual(o["size"], m["size"])
            if m["uid"] == 17:
                self.assertEqual(squash(o["subject"]), squash(m["subject"]))
            else:
                self.assertEqual(o["subject"], m["subject"])  # lossless, even uid 15

    def test_hostile_subject(self):
        out = self.ok("list", "15")
        self.assertNotIn(b"\x1b", out)
        self.assertNotIn("\u202e".encode(), out)
        row = tsv(out)[0]
        self.assertEqual(len(row), 6)
        self.assertEqual(row[4], "Escape ^[[31mred^[[0m and bidi <U+202E>txt.exe")
        out = self.ok("--json", "list", "15")
        self.assertNotIn(b"\x1b", out)
        self.assertEqual(json.loads(out)["subject"], self.msg(15)["subject"])

    def test_tab_and_newline_in_a_subject_stay_in_one_record(self):
        name = self.scratch(uids=())
        m = self.imap()
        raw = (b"From: T <t@example.test>\r\nSubject: =?UTF-8?Q?a=09b=0Ac?=\r\n"
               b"Date: Mon, 1 Jan 2026 00:00:00 +0000\r\n\r\nx\r\n")
        self.assertEqual(m.append(name, None, None, raw)[0], "OK")
        out = self.ok("list", folder=name)
        self.assertEqual(out.count(b"\n"), 1)
        self.assertEqual(tsv(out)[0][4], "a^Ib^Jc")

    def test_tz_is_honoured(self):
        out = self.ok("list", "1", env={"TZ": "JST-9"})
        self.assertEqual(tsv(out)[0][2], "2025-03-17T23:22:00+09:00")

    def test_sequence_numbers(self):
        self.assertEqual(self.uids(self.ok("list", "#1:3")), [1, 2, 3])
        self.assertEqual(self.uids(self.ok("list", "1,5,9:10")), [1, 5, 9, 10])
        self.assertEqual(self.uids(self.ok("list", "*")), [30])

    def test_missing_and_bad_sets(self):
        self.fails(1, "no message with UID 99", "list", "99")
        self.fails(2, "not a message set", "list", "1-5")
        self.fails(2, "not a message set", "list", "0")
        self.fails(2, "usage", "list", "1", "2")
        self.fails(1, "select Nope", "list", folder="Nope")

    def test_reading_never_changes_flags(self):
        self.ok("list", "1:*")
        self.ok("search", "unread")
        self.ok("fetch", "3")
        self.ok("fetch", "5", "TEXT")
        m = self.imap()
        flags = self.server_flags(m, "INBOX")
        for e in self.inbox():
            self.assertEqual(flags[e["uid"]] - {"\\Recent"}, set(e["flags"]), e["uid"])

    def test_terminal_columns_fit_the_width(self):
        env = h.base_env(self.home)
        env.update(h.password_env("alice"))
        rc, out = run_pty(h.imaps_args() + [h.target("alice"), "--no-color", "list"], env,
                          cols=72, rows=12)
        self.assertEqual(rc, 0, out)
        lines = out.decode("utf-8").splitlines()
        self.assertEqual(len(lines), 10)  # the newest screenful: rows - 2
        self.assertTrue(lines[-1].lstrip().startswith("30 "), lines[-1])
        for ln in lines:
            self.assertLessEqual(len(ln), 72, ln)
            self.assertNotIn("\t", ln)
        rc, out = run_pty(h.imaps_args() + [h.target("alice"), "list", "15,17"], env,
                          cols=72, rows=12)
        text = out.decode("utf-8")
        self.assertNotIn("\x1b[31m", text)
        self.assertNotIn("\u202e", text)
        self.assertIn("\u2026", text)  # the long subject is cut
        self.assertIn("\x1b[1m", text)  # unread in bold


class SearchTest(MessageCase):
    def expect(self, pred):
        return [m["uid"] for m in self.inbox() if pred(m)]

    def search(self, *keys):
        return self.uids(self.ok("search", *keys))

    def compared_size(self, m):
        """The size SMALLER/LARGER compare: RFC822.SIZE, except that Courier
        compares the size of its LF-terminated file."""
        if h.server() != "courier":
            return m["size"]
        with open(m["file"], "rb") as f:
            return m["size"] - f.read().count(b"\r\n")

    def test_friendly_forms(self):
        bob = self.expect(lambda m: "bob@" in m["from"])
        self.assertEqual(self.search("from", "bob"), bob)
        self.assertEqual(self.search("unread"), self.expect(lambda m: "\\Seen" not in m["flags"]))
        self.assertEqual(self.search("read"), self.expect(lambda m: "\\Seen" in m["flags"]))
        self.assertEqual(self.search("flagged"),
                         self.expect(lambda m: "\\Flagged" in m["flags"]))
        self.assertEqual(self.search("since", "2026-01-01", "before", "2026-03-01"),
                         [19, 20, 21, 22])
        self.assertEqual(self.search("larger", "100k"), [18])
        self.assertEqual(self.search("smaller", "300"),
                         self.expect(lambda m: self.compared_size(m) < 300))
        self.assertEqual(self.search("subject", "lunch"), [21, 22])
        self.assertEqual(self.search("to", "alice@example.test"), list(range(1, 31)))
        self.assertEqual(self.search("body", "pwned"), [15])
        self.assertEqual(self.search("text", "Grüße"), [6])
        self.assertEqual(self.search("subject", "会議"), [3])
        # Courier also searches the headers of an attached message/rfc822 (14)
        carol = [14, 22, 27] if h.server() == "courier" else [22, 27]
        self.assertEqual(self.uids(self.ok("find", "from", "carol")), carol)

    def test_raw_imap_keys(self):
        self.assertEqual(self.search("FROM", "bob"), self.search("from", "bob"))
        self.assertEqual(self.search("UNSEEN"), self.search("unread"))
        self.assertEqual(self.search("SINCE", "1-Jan-2026", "BEFORE", "1-Mar-2026"),
                         [19, 20, 21, 22])
        self.assertEqual(self.search("OR", "FROM", "bob", "FROM", "carol"),
                         sorted(set(self.search("from", "bob") + self.search("from", "carol"))))
        self.assertEqual(self.search("(", "FROM", "bob", "SUBJECT", "lunch", ")"), [21])
        # a group is sent as RFC 3501 writes it: no space inside the parentheses
        rc, out, err = self.run_cmd("--trace", "search", "(", "FROM", "bob", "SUBJECT", "lunch", ")")
        self.assertEqual(rc, 0, err)
        self.assertRegex(err, rb"C: \S+ UID SEARCH [^\n]*\(FROM bob SUBJECT lunch\)\n")
        self.assertEqual(self.search("(from", "bob", "subject", "lunch)"), [21])
        self.assertEqual(self.search("NOT", "SEEN", "SMALLER", "330"),
                         self.expect(lambda m: "\\Seen" not in m["flags"]
                                     and self.compared_size(m) < 330))
        self.assertEqual(self.search("UID", "1:3", "SEEN"), [1, 2])
        self.assertEqual(self.search("5:7"), [5, 6, 7])
        self.assertEqual(self.search("#1:2"), [1, 2])
        self.assertEqual(self.search("HEADER", "Message-ID", "alice.INBOX.5@"), [5])

    def test_one_word_query(self):
        self.assertEqual(self.search('from "Bob Example" since 2026-01-01'), [21, 26])

    def test_prints_as_list_does(self):
        self.assertEqual(self.ok("search", "from", "bob"), self.ok("list", "2,14,21,26"))
        self.assertEqual(self.ok("--json", "search", "from", "bob"),
                         self.ok("--json", "list", "2,14,21,26"))

    def test_nothing_matched_is_exit_1(self):
        rc, out, err = self.run_cmd("search", "from", "nobody-at-all")
        self.assertEqual((rc, out), (1, b""))
        self.assertIn(b"no messages matched", err)
        rc, out, err = self.run_cmd("-q", "search", "from", "nobody-at-all")
        self.assertEqual((rc, out, err), (1, b"", b""))

    def test_usage_errors(self):
        self.fails(2, "unknown search key 'frm'", "search", "frm", "bob")
        self.fails(2, "from needs a value", "search", "from")
        self.fails(2, "is not a date", "search", "since", "2026-13-01")
        self.fails(2, "is not a size", "search", "larger", "lots")
        self.fails(2, "not closed", "search", "(", "from", "bob")
        self.fails(2, "without '('", "search", "from", "bob", ")")
        self.fails(2, "a search key is missing", "search", "or", "seen")
        self.fails(2, "usage", "search")


class FetchTest(MessageCase):
    def test_every_message_byte_for_byte(self):
        for m in self.inbox():
            with open(m["file"], "rb") as f:
                self.assertEqual(self.ok("fetch", str(m["uid"])), f.read(), m["uid"])

    def test_cat_and_sequence_number(self):
        with open(self.msg(7)["file"], "rb") as f:
            want = f.read()
        self.assertEqual(self.ok("cat", "7"), want)
        self.assertEqual(self.ok("fetch", "#7"), want)

    def test_sections(self):
        with open(self.msg(8)["file"], "rb") as f:
            raw = f.read()
        head, _, text = raw.partition(b"\r\n\r\n")
        self.assertEqual(self.ok("fetch", "8", "HEADER"), head + b"\r\n\r\n")
        self.assertEqual(self.ok("fetch", "8", "text"), text)
        part1 = self.ok("fetch", "8", "1")
        self.assertIn(part1, text)
        self.assertTrue(self.ok("fetch", "8", "1.MIME").startswith(b"Content-Type:"))
        # a part the message does not have: exit 1 on every server (Cyrus
        # answers NIL, Courier and Dovecot an empty string)
        for missing in ("9", "9.MIME", "1.7"):
            with self.subTest(section=missing):
                out, err = self.fails(1, "has no part %s" % missing.split(".MIME")[0],
                                      "fetch", "8", missing)
                self.assertEqual(out, b"")

    def test_output_file(self):
        d = os.path.join(self.home.root, "out")
        os.makedirs(d)
        path = os.path.join(d, "18.eml")
        self.assertEqual(self.ok("fetch", "18", "-o", path), b"")
        with open(self.msg(18)["file"], "rb") as f, open(path, "rb") as g:
            self.assertEqual(g.read(), f.read())
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        self.assertEqual(os.listdir(d), ["18.eml"])
        # again: replaced whole
        self.ok("fetch", "1", "--output", path)
        with open(self.msg(1)["file"], "rb") as f, open(path, "rb") as g:
            self.assertEqual(g.read(), f.read())
        out = json.loads(self.ok("--json", "fetch", "2", "-o", path))
        self.assertEqual(out, {"uid": 2, "section": "", "file": path,
                               "size": self.msg(2)["size"]})
        self.assertEqual(os.listdir(d), ["18.eml"])

    def test_missing_uid_is_exit_1_and_leaves_no_file(self):
        d = os.path.join(self.home.root, "miss")
        os.makedirs(d)
        out, err = self.fails(1, "no message with UID 99 in INBOX", "fetch", "99")
        self.assertEqual(out, b"")
        self.fails(1, "no message with UID 99", "fetch", "99", "-o", os.path.join(d, "x"))
        self.assertEqual(os.listdir(d), [])

    def test_usage_and_io_errors(self):
        self.fails(2, "one message", "fetch", "1:2")
        self.fails(2, "not a section", "fetch", "1", "1..2")
        self.fails(2, "not a message set", "fetch", "x")
        self.fails(2, "is a directory", "fetch", "1", "-o", self.home.root)
        self.fails(6, "No such file or directory", "fetch", "1", "-o",
                   os.path.join(self.home.root, "no", "such", "dir"))
        env = h.base_env(self.home)
        env.update(h.password_env("alice"))
        # a private full device (1,7), never the system's /dev/full
        dev = os.path.join(self.home.root, "full")
        os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
        with open(dev, "wb") as full:
            p = subprocess.run(h.wrapper() + [os.environ["IMAPSH_BIN"]] + h.imaps_args() +
                               [h.target("alice"), "fetch", "18"], stdout=full,
                               stderr=subprocess.PIPE, env=env, timeout=60 * h.timeout_scale())
        self.assertEqual(p.returncode, 6, p.stderr)
        self.assertIn(b"No space left on device", p.stderr)


class FlagTest(MessageCase):
    def test_flag_and_unflag(self):
        name = self.scratch()
        self.assertEqual(self.ok("flag", "1:2", "seen", "flagged", "$Work", folder=name), b"")
        m = self.imap()
        f = self.server_flags(m, name)
        self.assertTrue({"\\Seen", "\\Flagged", "$Work"} <= f[1])
        self.assertTrue({"\\Seen", "\\Flagged", "$Work"} <= f[2])
        self.assertEqual(f[3] - {"\\Recent"}, set())
        self.ok("unflag", "2", "Flagged", "$Work", folder=name)
        f = self.server_flags(m, name)
        self.assertEqual(f[2] - {"\\Recent"}, {"\\Seen"})
        self.ok("flag", "#3", "\\Answered", "draft", "deleted", folder=name)
        f = self.server_flags(m, name)
        self.assertEqual(f[3] - {"\\Recent"}, {"\\Answered", "\\Draft", "\\Deleted"})
        out = json.loads(self.ok("--json", "flag", "1,4", "seen", folder=name))
        self.assertEqual(out, {"uids": [1, 4], "added": ["\\Seen"]})
        rows = {int(r[0]): r[1] for r in tsv(self.ok("list", "1:*", folder=name))}
        self.assertEqual(rows, {1: "FS+", 2: "S", 3: "DRT", 4: "S"})

    def test_errors(self):
        name = self.scratch(uids=(1,))
        self.fails(1, "no message with UID 9", "flag", "9", "seen", folder=name)
        self.fails(2, "not a flag that can be set", "flag", "1", "\\Recent", folder=name)
        self.fails(2, "keyword 'a(b'", "flag", "1", "a(b", folder=name)
        self.fails(2, "usage", "flag", "1", folder=name)
        self.fails(2, "unknown option", "unflag", "1", "seen", "--bogus", folder=name)
        m = self.imap()
        self.assertEqual(self.server_flags(m, name)[1] - {"\\Recent"}, set())


class CopyMoveTest(MessageCase):
    def test_copy_prints_the_mapping(self):
        src, dst = self.scratch(), self.scratch(uids=(5,))
        out = self.ok("copy", "1:2", dst, folder=src)
        self.assertEqual(tsv(out), [["1", "2"], ["2", "3"]])
        out = json.loads(self.ok("--json", "cp", "4", dst, folder=src))
        self.assertEqual(out["folder"], dst)
        self.assertEqual(out["uids"], [4])
        self.assertFalse(out["moved"])
        self.assertEqual(out["map"], [{"uid": 4, "new_uid": 4}])
        m = self.imap()
        bodies = self.server_bodies(m, dst)
        for s, d in ((1, 2), (2, 3), (4, 4)):
            with open(self.msg(s)["file"], "rb") as f:
                self.assertEqual(bodies[d], f.read())
        self.assertEqual(sorted(self.server_bodies(m, src)), [1, 2, 3, 4])

    def test_move(self):
        src, dst = self.scratch(), self.scratch(uids=())
        self.assertEqual(tsv(self.ok("move", "2,4", dst, folder=src)), [["2", "1"], ["4", "2"]])
        # a UID that is not there is skipped; the others move
        self.assertEqual(tsv(self.ok("mv", "3,99", dst, folder=src)), [["3", "3"]])
        m = self.imap()
        self.assertEqual(sorted(self.server_bodies(m, src)), [1])
        bodies = self.server_bodies(m, dst)
        for s, d in ((2, 1), (4, 2), (3, 3)):
            with open(self.msg(s)["file"], "rb") as f:
                self.assertEqual(bodies[d], f.read())

    def test_move_to_a_missing_folder_keeps_everything(self):
        src = self.scratch()
        out, err = self.fails(1, "create it with mkdir", "move", "1:*",
                              h.folder("no-such-folder-x"), folder=src)
        self.assertIn("TRYCREATE", err)
        self.fails(1, "create it with mkdir", "copy", "1", h.folder("no-such-folder-x"), folder=src)
        m = self.imap()
        flags = self.server_flags(m, src)
        self.assertEqual(sorted(flags), [1, 2, 3, 4])
        for f in flags.values():
            self.assertNotIn("\\Deleted", f)

    def test_errors(self):
        src = self.scratch(uids=(1,))
        self.fails(1, "no message with UID 7", "copy", "7", "INBOX", folder=src)
        self.fails(2, "usage", "copy", "1", folder=src)
        self.fails(2, "not a message set", "move", "a", "INBOX", folder=src)


class DeleteTest(MessageCase):
    def test_delete_expunge(self):
        name = self.scratch()
        self.assertEqual(self.ok("delete", "1", folder=name), b"")
        m = self.imap()
        f = self.server_flags(m, name)
        self.assertIn("\\Deleted", f[1])
        self.assertEqual(sorted(f), [1, 2, 3, 4])
        # --expunge removes just those, not uid 1 flagged before
        out = json.loads(self.ok("--json", "rm", "2:3", "--expunge", folder=name))
        self.assertEqual(out, {"uids": [2, 3], "expunged": True})
        f = self.server_flags(m, name)
        self.assertEqual(sorted(f), [1, 4])
        out = json.loads(self.ok("--json", "expunge", folder=name))
        self.assertEqual(out, {"folder": name, "expunged": 1})
        self.assertEqual(sorted(self.server_flags(m, name)), [4])
        self.assertEqual(self.ok("expunge", folder=name), b"")
        self.fails(1, "no message with UID 1", "delete", "1", folder=name)
        self.fails(2, "usage", "delete", folder=name)

    def test_shell_asks_first(self):
        name = self.scratch(uids=(1, 2))
        env = h.base_env(self.home)
        env.update(h.password_env("alice"))
        rc, out = run_pty(h.imaps_args() + [h.target("alice"), "-f", name],
                          env, input_lines=["delete 1", "n", "delete 2 --expunge", "y", "quit"])
        self.assertEqual(rc, 0, out)
        self.assertIn(b"delete 1 message in", out)
        self.assertIn(b"nothing deleted", out)
        m = self.imap()
        f = self.server_flags(m, name)
        self.assertEqual(sorted(f), [1])
        self.assertNotIn("\\Deleted", f[1])


class AppendTest(MessageCase):
    def test_append_file_and_stdin(self):
        name = self.scratch(uids=())
        src = self.msg(6)["file"]
        self.assertEqual(self.ok("append", name, src), b"1\n")
        with open(self.msg(3)["file"], "rb") as f:
            raw3 = f.read()
        out = json.loads(self.ok("--json", "append", name, "-", "--flags", "seen,flagged,$Todo",
                                 "--date", "2026-01-02T03:04:05+01:00", input=raw3))
        self.assertEqual(out["uid"], 2)
        self.assertEqual(out["size"], len(raw3))
        self.assertEqual(out["folder"], name)
        m = self.imap()
        bodies = self.server_bodies(m, name)
        with open(src, "rb") as f:
            self.assertEqual(bodies[1], f.read())
        self.assertEqual(bodies[2], raw3)
        self.assertEqual(self.server_flags(m, name)[2] - {"\\Recent"},
                         {"\\Seen", "\\Flagged", "$Todo"})
        typ, data = m.uid("FETCH", "2", "(INTERNALDATE)")
        self.assertEqual(imaplib.Internaldate2tuple(data[0])[:6], (2026, 1, 2, 2, 4, 5))

    def test_errors(self):
        name = self.scratch(uids=())
        self.fails(1, "create it with mkdir", "append", h.folder("no-such-folder-y"), self.msg(1)["file"])
        empty = os.path.join(self.home.root, "empty.eml")
        open(empty, "wb").close()
        self.fails(2, "is empty", "append", name, empty)
        self.fails(6, "No such file", "append", name, os.path.join(self.home.root, "nope"))
        self.fails(2, "--date", "append", name, self.msg(1)["file"], "--date", "yesterday")
        self.fails(2, "usage", "append", name)
        m = self.imap()
        self.assertEqual(self.server_flags(m, name), {})


class InboxUnchangedTest(MessageCase):
    def test_inbox_is_as_env_says(self):
        m = self.imap()
        flags = self.server_flags(m, "INBOX")
        self.assertEqual(sorted(flags), [e["uid"] for e in self.inbox()])
        for e in self.inbox():
            self.assertEqual(flags[e["uid"]] - {"\\Recent"}, set(e["flags"]))


if __name__ == "__main__":
    import unittest
    unittest.main()
