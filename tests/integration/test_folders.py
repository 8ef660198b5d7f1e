"""The folder commands (folders, select, examine, status, mkdir, rmdir, rename,
subscribe, unsubscribe, quota) run one-shot against the test bed's Dovecot:
TSV on a pipe, --json field by field against env.json, exit codes, and every
change checked with python's imaplib.  A scripted fake server covers what
Dovecot will not do: names with control characters, no LIST-STATUS, no
QUOTA."""
import base64
import errno
import json
import os
import pty
import re
import select
import subprocess
import time
import uuid

import harness as h

ROLES = {"Sent": "sent", "Drafts": "drafts", "Trash": "trash", "Junk": "junk",
         "Archive": "archive"}


def mutf7(name):
    """Modified UTF-7 (RFC 3501 5.1.3), to check names with imaplib."""
    out, run = [], []

    def flush():
        if run:
            b = base64.b64encode("".join(run).encode("utf-16-be")).decode()
            out.append("&" + b.rstrip("=").replace("/", ",") + "-")
            run.clear()
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def quoted(s):
    return '"%s"' % s


def role(name):
    """The role folders shows for mailgen's folder name (none where the
    server has no SPECIAL-USE, as Courier)."""
    return ROLES.get(name) if h.offers("SPECIAL-USE") else None


F = h.folder  # mailgen's folder name as the server names it


def unique(prefix="it-folders"):
    """A new folder name inside the personal namespace."""
    return F("%s-%s" % (prefix, uuid.uuid4().hex[:10]))


def tsv(out):
    return [line.split("\t") for line in out.decode("utf-8").splitlines()]


def kv(out):
    return dict(tuple(line.split("\t", 1)) for line in out.decode("utf-8").splitlines())


def run_pty(args, env, timeout=60):
    """Run the binary with stdout (and stderr) on a pseudo-terminal."""
    master, slave = pty.openpty()
    p = subprocess.Popen(h.wrapper() + [os.environ["IMAPSH_BIN"]] + args, stdin=h.empty_input(),
                         stdout=slave, stderr=slave, env=env)
    os.close(slave)
    data = b""
    end = time.monotonic() + timeout * h.timeout_scale()
    try:
        while time.monotonic() < end:
            r, _, _ = select.select([master], [], [], 0.5)
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
            elif p.poll() is not None:
                break
        rc = p.wait(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
    return rc, data.replace(b"\r\n", b"\n")


class FolderCase(h.TestbedCase):
    user = "alice"

    def run_cmd(self, *args, user=None):
        user = user or self.user
        return self.imapsh(*h.imaps_args(), h.target(user), *args, env=h.password_env(user))

    def ok(self, *args, **kw):
        rc, out, err = self.run_cmd(*args, **kw)
        self.assertEqual(rc, 0, "%r: %s" % (args, err.decode("utf-8", "replace")))
        self.assertEqual(err, b"", args)
        return out

    def json(self, *args, **kw):
        return json.loads(self.ok("--json", *args, **kw).decode("utf-8"))

    def fails(self, rc_want, words, *args, **kw):
        rc, out, err = self.run_cmd(*args, **kw)
        err = err.decode("utf-8", "replace")
        self.assertEqual(rc, rc_want, "%r: %s" % (args, err))
        self.assertIn(words, err)
        self.assertTrue(err.startswith("imapsh: "), err)
        return out, err

    def expected(self):
        """env.json's folders by the names the server gives them."""
        return {f["server_name"]: f for f in self.env["mail"][self.user]["folders"].values()}

    def imap(self):
        m = h.imap_login(self.user)
        self.addCleanup(lambda: m.logout())
        return m

    def server_names(self, m, subscribed=False):
        typ, data = (m.lsub if subscribed else m.list)('""', "*")
        self.assertEqual(typ, "OK")
        names = []
        for item in data:
            if item is None:
                continue
            if isinstance(item, tuple):  # a name sent as a literal
                names.append(item[1].decode())
                continue
            mm = re.match(rb'\([^)]*\) (?:"."|NIL) (.*)$', item)
            n = mm.group(1).decode()
            names.append(n[1:-1] if n.startswith('"') else n)
        return names

    def cleanup_folder(self, name):
        def rm():
            m = h.imap_login(self.user)
            try:
                m.delete(quoted(mutf7(name)))
            finally:
                m.logout()
        self.addCleanup(rm)


class Folders(FolderCase):
    def test_tsv_lists_every_folder_with_role_and_counts(self):
        rows = tsv(self.ok("folders"))
        for r in rows:
            self.assertEqual(len(r), 4, r)
        self.assertEqual(rows[0][0], "INBOX")
        got = {r[0]: r for r in rows}
        for name, f in self.expected().items():
            self.assertIn(name, got)
            self.assertEqual(got[name][1], role(f["name"]) or "", name)
            self.assertEqual(int(got[name][2]), f["messages"], name)
            self.assertEqual(int(got[name][3]), f["unseen"], name)
        self.assertEqual(got[F("送信済み")][2:], ["2", "1"])
        # a parent sorts before its children
        names = [r[0] for r in rows]
        self.assertLess(names.index(F("Archive")), names.index(F("Archive/2026")))

    def test_ls_alias_is_the_same(self):
        a = tsv(self.ok("folders"))
        b = tsv(self.ok("ls"))
        self.assertEqual([r[0] for r in a if r[0] in self.expected()],
                         [r[0] for r in b if r[0] in self.expected()])

    def test_json_field_by_field(self):
        doc = self.json("folders")
        self.assertIsInstance(doc, list)
        got = {f["name"]: f for f in doc}
        for name, f in self.expected().items():
            o = got[name]
            self.assertEqual(o["messages"], f["messages"], name)
            self.assertEqual(o["unseen"], f["unseen"], name)
            self.assertEqual(o["role"], role(f["name"]), name)
            self.assertEqual(o["delimiter"], self.env["separator"])
            self.assertIs(o["selectable"], True)
            self.assertIsInstance(o["attributes"], list)
        self.assertEqual(got[F("送信済み")]["messages"], 2)
        self.assertEqual(got[F("Family & Friends")]["messages"], 1)
        self.assertIsNone(got[F("Archive/2026")]["role"])

    def test_patterns(self):
        top = [r[0] for r in tsv(self.ok("folders", F("%")))]
        self.assertIn(F("Archive"), top)
        self.assertNotIn(F("Archive/2026"), top)
        self.assertEqual([r[0] for r in tsv(self.ok("folders", F("Archive/*")))],
                         [F("Archive/2026")])
        # non-ASCII: matched on the decoded names (modified UTF-7 is no prefix code)
        self.assertEqual(tsv(self.ok("folders", F("送信*"))), [[F("送信済み"), "", "2", "1"]])
        self.assertEqual([f["name"] for f in self.json("folders", "*済み")], [F("送信済み")])
        self.assertEqual([r[0] for r in tsv(self.ok("folders", F("Family & *")))],
                         [F("Family & Friends")])

    def test_no_match_is_exit_1_and_usage_is_exit_2(self):
        out, err = self.fails(1, "folders Nope-*: no folder matches", "folders", "Nope-*")
        self.assertEqual(out, b"")
        out, err = self.fails(2, "usage: folders [PATTERN]", "folders", "a", "b")
        self.assertEqual(out, b"")


class SelectExamine(FolderCase):
    def test_select_tsv(self):
        f = self.expected()["INBOX"]
        d = kv(self.ok("select", "INBOX"))
        self.assertEqual(d["name"], "INBOX")
        self.assertEqual(d["access"], "read-write")
        self.assertEqual(int(d["messages"]), f["messages"])
        self.assertEqual(int(d["unseen"]), f["unseen"])
        self.assertEqual(int(d["uidvalidity"]), f["uidvalidity"])
        if h.server() != "courier":  # Courier's SELECT has no UIDNEXT (RFC 3501 wants one)
            self.assertEqual(int(d["uidnext"]), f["uidnext"])
        self.assertIn("recent", d)

    def test_cd_alias_and_utf8_name(self):
        f = self.expected()[F("送信済み")]
        d = kv(self.ok("cd", F("送信済み")))
        self.assertEqual(d["name"], F("送信済み"))
        self.assertEqual((int(d["messages"]), int(d["unseen"])), (f["messages"], f["unseen"]))

    def test_examine_json(self):
        for name in (F("Family & Friends"), F("Archive/2026"), F("送信済み")):
            f = self.expected()[name]
            o = self.json("examine", name)
            self.assertEqual(o["name"], name)
            self.assertIs(o["read_only"], True)
            self.assertEqual(o["messages"], f["messages"])
            self.assertEqual(o["unseen"], f["unseen"])
            self.assertEqual(o["uidvalidity"], f["uidvalidity"])
            if h.server() != "courier":  # no UIDNEXT in Courier's SELECT
                self.assertEqual(o["uidnext"], f["uidnext"])
            self.assertIn("\\Seen", o["flags"])
        o = self.json("select", F("Sent"))
        self.assertIs(o["read_only"], False)
        self.assertIn("\\Seen", o["permanentflags"])

    def test_quiet_select_prints_nothing(self):
        self.assertEqual(self.ok("-q", "select", "INBOX"), b"")

    def test_errors(self):
        out, err = self.fails(1, "imapsh: select %s: the server said NO" % F("Nope-x"),
                              "select", F("Nope-x"))
        self.assertEqual(out, b"")
        self.fails(1, "examine %s: the server said NO" % F("Nöpe"), "examine", F("Nöpe"))
        self.fails(2, "usage: select FOLDER", "select")
        self.fails(2, "usage: examine FOLDER", "examine", "a", "b")


class Status(FolderCase):
    def test_default_is_inbox(self):
        f = self.expected()["INBOX"]
        d = kv(self.ok("status"))
        self.assertEqual(d["name"], "INBOX")
        for k in ("messages", "unseen", "uidnext", "uidvalidity"):
            self.assertEqual(int(d[k]), f[k], k)
        if h.server() != "courier":  # Courier's STATUS has no size
            self.assertEqual(int(d["size"]), sum(m["size"] for m in f["list"]))

    def test_folder_option_is_the_default(self):
        self.assertEqual(kv(self.ok("-f", F("Sent"), "status"))["name"], F("Sent"))

    def test_json_every_folder(self):
        for name, f in self.expected().items():
            o = self.json("status", name)
            self.assertEqual(o["name"], name)
            for k in ("messages", "unseen", "uidnext", "uidvalidity"):
                self.assertEqual(o[k], f[k], (name, k))
            self.assertIsInstance(o["recent"], int)
            if h.server() != "courier":  # Courier's STATUS has no size
                self.assertEqual(o["size"], sum(m["size"] for m in f["list"]), name)

    def test_errors(self):
        self.fails(1, "imapsh: status %s: the server said NO" % F("Nope-y"), "status", F("Nope-y"))
        self.fails(2, "usage: status [FOLDER]", "status", "a", "b")


class Manage(FolderCase):
    def test_mkdir_and_rmdir(self):
        name = unique() + " Überfällig & Co"
        wire = mutf7(name)
        self.cleanup_folder(name)
        self.assertEqual(self.ok("mkdir", name), b"")
        m = self.imap()
        self.assertIn(wire, self.server_names(m))
        self.assertEqual(tsv(self.ok("folders", name)), [[name, "", "0", "0"]])
        self.fails(1, "mkdir %s: the server said NO" % name, "mkdir", name)
        self.assertEqual(self.ok("rmdir", name), b"")
        self.assertNotIn(wire, self.server_names(m))
        code = " [NONEXISTENT]" if h.server() == "dovecot" else ""  # Dovecot's response code
        self.fails(1, "rmdir %s: the server said NO%s" % (name, code), "rmdir", name)

    def test_mkdir_rmdir_json(self):
        name = unique() + self.env["separator"] + "子"
        self.cleanup_folder(name)
        self.assertEqual(self.json("mkdir", name), {"name": name, "created": True})
        self.assertIn(mutf7(name), self.server_names(self.imap()))
        self.assertEqual(self.json("rmdir", name), {"name": name, "deleted": True})
        self.assertNotIn(mutf7(name), self.server_names(self.imap()))
        self.cleanup_folder(name.rsplit(self.env["separator"], 1)[0])

    def test_rename(self):
        old, new = unique(), unique() + " 新しい"
        self.cleanup_folder(old)
        self.cleanup_folder(new)
        m = self.imap()
        self.assertEqual(m.create(old)[0], "OK")
        self.assertEqual(self.ok("rename", old, new), b"")
        names = self.server_names(m)
        self.assertNotIn(old, names)
        self.assertIn(mutf7(new), names)
        self.assertEqual(self.json("rename", new, old), {"from": new, "to": old})
        names = self.server_names(m)
        self.assertIn(old, names)
        self.assertNotIn(mutf7(new), names)
        if h.server() != "courier":  # Courier answers OK to renaming a missing folder
            self.fails(1, "rename %s: the server said NO" % F("Nope-z"), "rename", F("Nope-z"),
                       new)
        self.fails(2, "usage: rename OLD NEW", "rename", old)

    def test_subscribe_and_unsubscribe(self):
        name = unique() + " ✓"
        wire = mutf7(name)
        self.cleanup_folder(name)
        m = self.imap()
        self.assertEqual(m.create(quoted(wire))[0], "OK")
        self.assertNotIn(wire, self.server_names(m, subscribed=True))
        self.assertEqual(self.ok("subscribe", name), b"")
        self.assertIn(wire, self.server_names(m, subscribed=True))
        self.assertEqual(self.json("unsubscribe", name), {"name": name, "subscribed": False})
        self.assertNotIn(wire, self.server_names(m, subscribed=True))
        self.assertEqual(self.json("subscribe", name), {"name": name, "subscribed": True})
        self.assertIn(wire, self.server_names(m, subscribed=True))
        self.assertEqual(self.ok("unsubscribe", name), b"")
        self.assertNotIn(wire, self.server_names(m, subscribed=True))

    def test_one_connection_for_several_commands(self):
        a, b = unique(), unique()
        self.cleanup_folder(a)
        self.cleanup_folder(b)
        out = self.ok("--json", "-c", "mkdir %s; rename %s %s; status %s; rmdir %s"
                      % (a, a, b, b, b))
        docs = [json.loads(line) for line in out.decode().splitlines()]
        self.assertEqual(len(docs), 4)
        self.assertEqual(docs[2]["name"], b)
        self.assertEqual(docs[2]["messages"], 0)
        names = self.server_names(self.imap())
        self.assertNotIn(a, names)
        self.assertNotIn(b, names)

    def test_selected_folder_renamed_then_deleted(self):
        if h.server() == "courier":
            self.skipTest("Courier refuses to rename the selected folder")
        a, b = unique(), unique()
        self.cleanup_folder(a)
        self.cleanup_folder(b)
        out = self.ok("-q", "-c", "mkdir %s; select %s; rename %s %s; status; rmdir %s; status"
                      % (a, a, a, b, b))
        lines = out.decode().splitlines()
        # status follows the rename; after rmdir the shell stands in INBOX
        self.assertEqual([x for x in lines if x.startswith("name\t")],
                         ["name\t" + b, "name\tINBOX"])
        self.assertNotIn(b, self.server_names(self.imap()))

    def test_usage(self):
        for cmd in ("mkdir", "rmdir", "subscribe", "unsubscribe"):
            self.fails(2, "usage: %s FOLDER" % cmd, cmd)
        self.fails(2, "", "mkdir", b"bad-\xff-utf8".decode("utf-8", "surrogateescape"))


class Quota(FolderCase):
    def test_tsv_and_json(self):
        rows = tsv(self.ok("quota"))
        storage = [r for r in rows if r[1] == "STORAGE"]
        self.assertEqual(len(storage), 1, rows)
        self.assertEqual(int(storage[0][3]), self.env["users"]["alice"]["quota_kb"])
        self.assertGreater(int(storage[0][2]), 0)
        o = self.json("quota", F("Sent"))
        self.assertEqual(o["name"], F("Sent"))
        res = {r["name"]: r for root in o["roots"] for r in root["resources"]}
        self.assertEqual(res["STORAGE"]["limit"], self.env["users"]["alice"]["quota_kb"])
        self.assertIsInstance(o["roots"][0]["root"], str)

    def test_carols_small_quota(self):
        o = self.json("quota", user="carol")
        res = {r["name"]: r for root in o["roots"] for r in root["resources"]}
        self.assertEqual(res["STORAGE"]["limit"], self.env["users"]["carol"]["quota_kb"])


# ---------------------------------------------------------------- fake server

CAPS = "IMAP4rev1 SASL-IR ID AUTH=PLAIN LIST-EXTENDED SPECIAL-USE"
EVIL_RULES = [
    [r"^LIST ", '* LIST (\\HasNoChildren) "/" INBOX\r\n'
                '* LIST (\\HasNoChildren \\Sent) "/" "Tab&AAk-Name"\r\n'
                '* LIST (\\Noselect \\HasChildren) "/" "Esc&ABs-[31mRed"\r\n'
                '* LIST (\\HasNoChildren) "/" {8}\r\nLF&AAo-x\r\n'
                '{tag} OK LIST done\r\n'],
    [r"^STATUS INBOX", '* STATUS INBOX (MESSAGES 3 UNSEEN 1)\r\n{tag} OK done\r\n'],
    [r'^STATUS "?Tab', '* STATUS "Tab&AAk-Name" (MESSAGES 5 UNSEEN 2)\r\n{tag} OK done\r\n'],
    [r'^STATUS "?LF', '{tag} NO [NONEXISTENT] gone\r\n'],
]


class ScriptedServer(h.TestbedCase):
    def fake(self, rules, *args, tty=False):
        script = [["send", "* OK [CAPABILITY %s] fake\r\n" % CAPS],
                  ["serve", {"caps": CAPS, "rules": rules}]]
        with h.fakeserver(script, tls="valid") as srv:
            argv = ["--ca-file", self.env["ca_file"], "--resolve",
                    "imap.example.test:%d:127.0.0.1" % srv.port,
                    "imaps://alice@imap.example.test:%d" % srv.port] + list(args)
            if tty:
                env = h.base_env(self.home)
                env.update({"IMAPSH_PASSWORD": "x", "NO_COLOR": "1"})
                rc, out = run_pty(argv, env)
                err = b""
            else:
                rc, out, err = self.imapsh(*argv, env={"IMAPSH_PASSWORD": "x"})
            srv.wait(10)
        return rc, out, err, srv.conn

    def test_control_characters_cannot_break_records(self):
        rc, out, err, conn = self.fake(EVIL_RULES, "folders")
        self.assertEqual(rc, 0, err)
        # no LIST-STATUS: STATUS per selectable folder, none for \Noselect
        sent = conn.client_tls.decode()
        self.assertIn('LIST "" "*" RETURN (SPECIAL-USE)', sent)
        self.assertEqual(len(re.findall(r" STATUS ", sent)), 3)
        self.assertNotIn("STATUS Esc", sent)
        self.assertEqual(out.decode().splitlines(), [
            "INBOX\t\t3\t1",
            "Esc^[[31mRed\t\t\t",
            "LF^Jx\t\t\t",
            "Tab^IName\tsent\t5\t2",
        ])

    def test_json_keeps_names_exactly(self):
        rc, out, err, _ = self.fake(EVIL_RULES, "--json", "folders")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual([f["name"] for f in doc], ["INBOX", "Esc\x1b[31mRed", "LF\nx", "Tab\tName"])
        esc = doc[1]
        self.assertIs(esc["selectable"], False)
        self.assertIsNone(esc["messages"])
        self.assertIn("\\Noselect", esc["attributes"])
        self.assertIsNone(doc[2]["unseen"])  # STATUS said NO
        self.assertEqual((doc[3]["role"], doc[3]["messages"], doc[3]["unseen"]), ("sent", 5, 2))

    def test_terminal_output_is_aligned_and_sanitised(self):
        rc, out, _, _ = self.fake(EVIL_RULES, "folders", tty=True)
        self.assertEqual(rc, 0, out)
        self.assertNotIn(b"\x1b", out)
        self.assertNotIn(b"\t", out)
        lines = out.decode().splitlines()
        self.assertRegex(lines[0], r"^Folder +Role +Messages +Unseen$")
        self.assertRegex(lines[1], r"^INBOX +3 +1$")
        self.assertRegex(lines[2], r"^Esc\^\[\[31mRed +- +-$")
        self.assertRegex(lines[4], r"^Tab\^IName +sent +5 +2$")
        self.assertEqual(len({len(x) for x in lines[1:]} | {len(lines[0])}), 1, lines)

    def test_quota_without_quota_capability(self):
        rc, out, err, _ = self.fake([], "quota")
        self.assertEqual(rc, 1)
        self.assertEqual(out, b"")
        self.assertIn(b"imapsh: quota: the server does not offer QUOTA", err)


class Terminal(FolderCase):
    def test_dovecot_folders_on_a_terminal(self):
        env = h.base_env(self.home)
        env.update(h.password_env("alice"))
        env["NO_COLOR"] = "1"
        rc, out = run_pty(h.imaps_args() + [h.target("alice"), "folders"], env)
        self.assertEqual(rc, 0, out)
        lines = out.decode().splitlines()
        self.assertTrue(lines[0].startswith("Folder"))
        wide = [x for x in lines if x.startswith(F("送信済み"))][0]
        inbox = [x for x in lines if x.split()[0] == "INBOX"][0]
        # 送信済み takes 8 columns for its 4 characters
        self.assertEqual(len(wide) + 4, len(inbox))
        rc, out = run_pty(h.imaps_args() + [h.target("alice"), "quota"], env)
        self.assertEqual(rc, 0, out)
        self.assertRegex(out.decode(), r"STORAGE +[\d.]+ (B|KiB|MiB) of 50\.0 MiB +\d+%")


if __name__ == "__main__":
    import unittest
    unittest.main()
