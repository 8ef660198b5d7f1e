"""Whole-account backup and restore: export --all (every folder in its own
Maildir or mbox under a directory named by the reversible mapping, the
index, patterns, a folder deleted on the server reported as gone, a rerun
that fetches nothing)."""
import json
import os
import re
import shutil
import tempfile

import harness as h

NAME_RE = re.compile(r"^(\d+)\.V(\d+)U(\d+)\.imapsh:2,([A-Z]*)$")


def dir_name(folder, sep="/"):
    """The documented mapping, written again here from the man page."""
    parts = []
    for part in folder.split(sep):
        if part == "":
            parts.append("%00")
            continue
        out = ""
        for ch in part:
            if ch in "%./" or ord(ch) < 0x20 or ord(ch) == 0x7f:
                out += "%%%02X" % ord(ch)
            else:
                out += ch
        parts.append(out)
    return ".".join(parts)


def cur_files(d):
    """{uid: (flags, bytes)} of a Maildir's cur/."""
    out = {}
    for name in os.listdir(os.path.join(d, "cur")):
        m = NAME_RE.match(name)
        assert m, name
        with open(os.path.join(d, "cur", name), "rb") as f:
            out[int(m.group(3))] = (m.group(4), f.read())
    return out


class BackupCase(h.TestbedCase):
    user = "alice"

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="imapsh-backup-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def run_as(self, user, *args, **kw):
        return self.imapsh(*(h.imaps_args() + [h.target(user)] + list(args)),
                           env=h.password_env(user), **kw)

    def export_all(self, d, *extra, user="alice"):
        rc, out, err = self.run_as(user, "export", "--all", d, *extra)
        return rc, out.decode(), err.decode()

    def records(self, out):
        return {f[0]: f[1:] for f in (ln.split("\t") for ln in out.splitlines())}


class TestExportAll(BackupCase):
    def test_every_folder_byte_identical(self):
        d = os.path.join(self.tmp, "tree")
        rc, out, err = self.export_all(d)
        self.assertEqual(rc, 0, err)
        folders = self.env["mail"]["alice"]["folders"]
        recs = self.records(out)
        self.assertEqual(set(recs), set(folders))
        for name, f in folders.items():
            dn = dir_name(f["server_name"], self.env["separator"])
            self.assertEqual(recs[name][:3], [dn, "ok", str(f["messages"])], name)
            got = cur_files(os.path.join(d, dn))
            self.assertEqual(sorted(got), [m["uid"] for m in f["list"]], name)
            for m in f["list"]:
                with open(m["file"], "rb") as fh:
                    self.assertEqual(got[m["uid"]][1], fh.read(), (name, m["uid"]))
        self.assertTrue(os.path.isdir(os.path.join(d, "送信済み")))
        self.assertTrue(os.path.isdir(os.path.join(d, "Archive.2026")))
        with open(os.path.join(d, ".imapsh-backup"), encoding="utf-8") as fh:
            index = [ln.rstrip("\n").split(" ", 1)[1].split("\t")
                     for ln in fh if ln.startswith("folder ")]
        self.assertEqual(sorted(i[1] for i in index), sorted(folders))
        # a second run fetches nothing
        rc, out, err = self.export_all(d, "--json")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["fetched"], 0)
        self.assertEqual(doc["skipped"], sum(f["messages"] for f in folders.values()))
        self.assertEqual(doc["gone"], 0)

    def test_patterns(self):
        d = os.path.join(self.tmp, "some")
        rc, out, err = self.export_all(d, "--folders", "INBOX Arch*", "--exclude", "%/2026")
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted(self.records(out)), ["Archive", "INBOX"])
        self.assertEqual(sorted(x for x in os.listdir(d) if not x.startswith(".")),
                         ["Archive", "INBOX"])
        rc, out, err = self.export_all(d, "--folders", "'unterminated")
        self.assertEqual(rc, 2)
        self.assertIn("quoted", err)

    def test_mbox_tree(self):
        d = os.path.join(self.tmp, "mboxes")
        rc, out, err = self.export_all(d, "--format", "mbox", "--folders", "Archive*")
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted(os.listdir(d)),
                         [".Archive.2026.mbox.imapsh-export", ".Archive.mbox.imapsh-export",
                          ".imapsh-backup", ".imapsh-backup.lock", "Archive.2026.mbox",
                          "Archive.mbox"])
        with open(os.path.join(d, "Archive.2026.mbox"), "rb") as fh:
            self.assertEqual(fh.read().count(b"\nFrom MAILER-DAEMON ") + 1, 3)

    def test_folder_gone_is_reported(self):
        d = os.path.join(self.tmp, "gone")
        eml = self.env["mail"]["alice"]["folders"]["Sent"]["list"][0]["file"]
        with h.scratch_folder(sources=[eml]) as name:
            rc, out, err = self.export_all(d, "--folders", name)
            self.assertEqual(rc, 0, err)
            self.assertEqual(self.records(out)[name][1:3], ["ok", "1"])
        # deleted on the server now: reported, its export kept, every run
        for _ in range(2):
            rc, out, err = self.export_all(d, "--folders", name)
            self.assertEqual(rc, 0, err)
            self.assertEqual(self.records(out)[name][1], "gone")
            self.assertIn("no longer on the server", err)
            self.assertEqual(len(cur_files(os.path.join(d, dir_name(name)))), 1)


if __name__ == "__main__":
    import unittest
    unittest.main()
