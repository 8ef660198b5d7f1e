"""Files in a folder that others may write to: every name imapsh writes
or reads in a destination (export's Maildir cur/ new/ tmp/, its state file
and temporary names, the mbox, save's folder, fetch -o's file, known_hosts
and its lock, the shell's history) with a symbolic link, a FIFO or a
directory planted at it.  Nothing planted is followed, read through or
waited on, its target is left as it was, and imapsh says why with words
and an exit status the man page gives (6: local I/O, 2: usage).  fetch -o
writes through to a character device (a private node made with mknod
here, never the system's) or a FIFO, and leaves it one.  A state file
line holding a NUL byte is refused with its line number."""
import json
import os
import shutil
import stat
import tempfile
import threading

import harness as h
from test_shell import Pty

HOST = "imap.example.test"
PRECIOUS = b"precious: must not change\n"


class Planted(h.TestbedCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="imapsh-files-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        # what a planted link points to, outside the destination
        self.outside = os.path.join(self.tmp, "outside")
        os.makedirs(self.outside)
        self.victim = os.path.join(self.outside, "victim")
        with open(self.victim, "wb") as f:
            f.write(PRECIOUS)
        os.chmod(self.victim, 0o644)

    def path(self, *p):
        return os.path.join(self.tmp, *p)

    def cmd(self, *args, user="alice", timeout=60):
        return self.imapsh(*h.imaps_args(), h.target(user), *args,
                           env=h.password_env(user), timeout=timeout)

    def assert_victim_intact(self):
        with open(self.victim, "rb") as f:
            self.assertEqual(f.read(), PRECIOUS)
        self.assertEqual(os.stat(self.victim).st_mode & 0o777, 0o644)
        self.assertEqual(os.listdir(self.outside), ["victim"])

    def refused(self, rc_want, words, *args, **kw):
        rc, out, err = self.cmd(*args, **kw)
        text = err.decode("utf-8", "replace")
        self.assertEqual(rc, rc_want, text)
        self.assertIn(words, text)
        self.assertTrue(text.startswith("imapsh: "), text)
        return out, text


class Export(Planted):
    def export(self, *args):
        return self.cmd("export", *args, timeout=120)

    def test_link_at_maildir_subfolders(self):
        for sub in ("new", "cur", "tmp"):
            with self.subTest(sub=sub):
                d = self.path("md-" + sub)
                os.makedirs(d)
                os.symlink(self.outside, os.path.join(d, sub))
                rc, _, err = self.export("INBOX", d)
                self.assertEqual(rc, 6, err)
                self.assertIn(b"%s is a symbolic link" % sub.encode(), err)
                self.assertTrue(os.path.islink(os.path.join(d, sub)))
                self.assert_victim_intact()

    def test_link_as_export_dir(self):
        d = self.path("linked")
        os.symlink(self.outside, d)
        rc, _, err = self.export("INBOX", d)
        self.assertEqual(rc, 6, err)
        self.assertIn(b"is a symbolic link", err)
        self.assert_victim_intact()

    def test_link_at_state_file(self):
        d = self.path("md")
        os.makedirs(d)
        os.symlink(self.victim, os.path.join(d, ".imapsh-export"))
        rc, _, err = self.export("INBOX", d)
        self.assertEqual(rc, 6, err)
        self.assertIn(b".imapsh-export is a symbolic link", err)
        self.assertTrue(os.path.islink(os.path.join(d, ".imapsh-export")))
        self.assert_victim_intact()

    def test_fifo_at_state_file_does_not_hang(self):
        d = self.path("md")
        os.makedirs(d)
        os.mkfifo(os.path.join(d, ".imapsh-export"))
        rc, _, err = self.export("INBOX", d)  # the harness's timeout fails a hang
        self.assertEqual(rc, 6, err)
        self.assertIn(b".imapsh-export is a FIFO", err)
        self.assertTrue(stat.S_ISFIFO(os.lstat(os.path.join(d, ".imapsh-export")).st_mode))

    def test_link_at_old_state_temp_name(self):
        # the name the state file's temporary had before: a fixed one
        d = self.path("md")
        os.makedirs(d)
        os.symlink(self.victim, os.path.join(d, ".imapsh-export.tmp"))
        # and a temporary of a run that died: removed
        os.symlink(self.victim, os.path.join(d, "..imapsh-export.0123456789abcdef.tmp"))
        rc, out, err = self.export("--json", "INBOX", d)
        self.assertEqual(rc, 0, err)
        self.assertGreater(json.loads(out)["fetched"], 0)
        self.assert_victim_intact()
        st = os.lstat(os.path.join(d, ".imapsh-export"))
        self.assertTrue(stat.S_ISREG(st.st_mode))
        self.assertEqual(st.st_mode & 0o777, 0o600)
        for sub in ("cur", "new", "tmp"):
            self.assertEqual(os.lstat(os.path.join(d, sub)).st_mode & 0o777, 0o700)
        self.assertFalse(os.path.lexists(os.path.join(d, "..imapsh-export.0123456789abcdef.tmp")))
        self.assertEqual([n for n in os.listdir(d) if n.endswith(".tmp")], [".imapsh-export.tmp"])

    def test_link_at_mbox_is_neither_read_nor_replaced(self):
        d = self.path("mb")
        os.makedirs(d)
        os.symlink(self.victim, os.path.join(d, "INBOX.mbox"))
        rc, _, err = self.export("INBOX", d, "--format", "mbox")
        self.assertEqual(rc, 6, err)
        self.assertIn(b"INBOX.mbox is a symbolic link", err)
        self.assertTrue(os.path.islink(os.path.join(d, "INBOX.mbox")))
        self.assert_victim_intact()
        # and its contents were copied nowhere
        for name in os.listdir(d):
            p = os.path.join(d, name)
            if not os.path.islink(p):
                with open(p, "rb") as f:
                    self.assertNotIn(b"precious", f.read(), name)

    def test_fifo_at_mbox(self):
        d = self.path("mb")
        os.makedirs(d)
        os.mkfifo(os.path.join(d, "INBOX.mbox"))
        rc, _, err = self.export("INBOX", d, "--format", "mbox")
        self.assertEqual(rc, 6, err)
        self.assertIn(b"INBOX.mbox is a FIFO", err)
        self.assertTrue(stat.S_ISFIFO(os.lstat(os.path.join(d, "INBOX.mbox")).st_mode))

    def test_link_at_mbox_temp_name(self):
        d = self.path("mb")
        os.makedirs(d)
        os.symlink(self.victim, os.path.join(d, ".INBOX.mbox.imapsh-tmp"))
        rc, out, err = self.export("--json", "INBOX", d, "--format", "mbox")
        self.assertEqual(rc, 0, err)
        self.assert_victim_intact()
        st = os.lstat(os.path.join(d, "INBOX.mbox"))
        self.assertTrue(stat.S_ISREG(st.st_mode))
        self.assertEqual(st.st_mode & 0o777, 0o600)

    def test_nul_in_state_file_is_refused_with_its_line(self):
        d = self.path("md")
        rc, _, err = self.export("INBOX", d)
        self.assertEqual(rc, 0, err)
        sp = os.path.join(d, ".imapsh-export")
        with open(sp, "rb") as f:
            lines = f.read().split(b"\n")
        n = next(i for i, l in enumerate(lines) if l.startswith(b"folder "))
        # cut at the NUL, this line would say INBOX: it must not
        lines[n] = b"folder INBOX\0.Other"
        with open(sp, "wb") as f:
            f.write(b"\n".join(lines))
        rc, _, err = self.export("INBOX", d)
        self.assertEqual(rc, 6, err)
        self.assertIn(b".imapsh-export:%d: a NUL byte" % (n + 1), err)


class Fetch(Planted):
    def test_o_character_device_written_through(self):
        dev = self.path("null")
        os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # private, not /dev/null
        rc, out, err = self.cmd("fetch", "1", "-o", dev)
        self.assertEqual(rc, 0, err)
        st = os.lstat(dev)
        self.assertTrue(stat.S_ISCHR(st.st_mode))
        self.assertEqual(st.st_rdev, os.makedev(1, 3))
        self.assertEqual(sorted(os.listdir(self.tmp)), ["null", "outside"])

    def test_o_fifo_written_through(self):
        fifo = self.path("pipe")
        os.mkfifo(fifo)
        got = []

        def reader():
            with open(fifo, "rb") as f:
                got.append(f.read())

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        rc, want, err = self.cmd("fetch", "1")
        self.assertEqual(rc, 0, err)
        rc, _, err = self.cmd("fetch", "1", "-o", fifo)
        self.assertEqual(rc, 0, err)
        t.join(30)
        self.assertEqual(got, [want])
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode))

    def test_o_symlink_refused(self):
        link = self.path("link.eml")
        os.symlink(self.victim, link)
        self.refused(2, "is a symbolic link", "fetch", "1", "-o", link)
        self.assertTrue(os.path.islink(link))
        self.assert_victim_intact()
        dangling = self.path("dangling.eml")
        os.symlink(os.path.join(self.outside, "new"), dangling)
        self.refused(2, "is a symbolic link", "fetch", "1", "-o", dangling)
        self.assert_victim_intact()

    def test_o_directory_refused(self):
        self.refused(2, "is a directory", "fetch", "1", "-o", self.outside)
        self.assert_victim_intact()

    def test_o_regular_file_replaced_mode_0600(self):
        p = self.path("m.eml")
        with open(p, "wb") as f:
            f.write(b"old")
        os.chmod(p, 0o666)
        rc, out, err = self.cmd("fetch", "1", "-o", p)
        self.assertEqual(rc, 0, err)
        st = os.lstat(p)
        self.assertTrue(stat.S_ISREG(st.st_mode))
        self.assertEqual(st.st_mode & 0o777, 0o600)
        self.assertEqual(sorted(os.listdir(self.tmp)), ["m.eml", "outside"])


class Save(Planted):
    def test_o_dir_that_is_a_link_refused(self):
        link = self.path("attachments")
        os.symlink(self.outside, link)
        self.refused(6, "is a symbolic link", "save", "8", "-o", link)
        self.assert_victim_intact()


class KnownHosts(Planted):
    PIN = "sha256//" + "A" * 43 + "="

    def hp(self):
        return "%s:%d" % (HOST, self.env["ports"]["imaps"])

    def plant(self, name, how):
        d = os.path.dirname(self.home.known_hosts)
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, name)
        if how == "link":
            os.symlink(self.victim, p)
        elif how == "dangling":
            os.symlink(os.path.join(self.outside, "new"), p)
        else:
            os.mkfifo(p)
        return p

    def trust(self, *args):
        return self.imapsh("trust", *args, timeout=30)

    def test_link_at_known_hosts(self):
        p = self.plant("known_hosts", "link")
        rc, _, err = self.trust("add", self.hp(), self.PIN)
        self.assertEqual(rc, 6, err)
        self.assertIn(b"is a symbolic link", err)
        rc, _, err = self.trust("list")
        self.assertEqual(rc, 6, err)
        self.assertIn(b"is a symbolic link", err)
        self.assertTrue(os.path.islink(p))
        self.assert_victim_intact()

    def test_fifo_at_known_hosts_does_not_hang(self):
        self.plant("known_hosts", "fifo")
        rc, _, err = self.trust("list")
        self.assertEqual(rc, 6, err)
        self.assertIn(b"is a FIFO", err)
        # a connection reads the store too: refused, not waited on
        rc, _, err = self.cmd("capability", timeout=30)
        self.assertNotEqual(rc, 0)
        self.assertIn(b"is a FIFO", err)

    def test_link_at_lock(self):
        self.plant("known_hosts.lock", "dangling")
        rc, _, err = self.trust("add", self.hp(), self.PIN)
        self.assertEqual(rc, 6, err)
        self.assertIn(b"symbolic link", err)
        self.assert_victim_intact()
        self.assertFalse(os.path.exists(self.home.known_hosts))


class History(Planted):
    def shell(self, hist_how):
        hist = self.home.history
        os.makedirs(os.path.dirname(hist), exist_ok=True)
        if hist_how == "link":
            os.symlink(self.victim, hist)
        else:
            os.mkfifo(hist)
        env = h.base_env(self.home)
        env["TERM"] = "xterm"
        env.update(h.password_env("alice"))
        p = Pty(list(h.imaps_args()) + [h.target("alice")], env)
        self.addCleanup(p.close)
        screen = p.read_until(rb"> $")
        p.send("capability\r")
        p.read_until(rb"IDLE[\s\S]*> $")
        p.send("\x04")
        self.assertEqual(p.wait_exit(), 0)
        return hist, screen

    def test_link_at_history(self):
        hist, screen = self.shell("link")
        self.assertIn(b"history", screen)
        self.assertIn(b"is a symbolic link", screen)
        self.assertTrue(os.path.islink(hist))
        self.assert_victim_intact()

    def test_fifo_at_history_does_not_hang(self):
        hist, screen = self.shell("fifo")
        self.assertIn(b"is a FIFO", screen)
        self.assertTrue(stat.S_ISFIFO(os.lstat(hist).st_mode))


class HistoryLock(h.TestbedCase):
    def test_two_shells_ending_at_once_keep_both_lines(self):
        """The shell merges its lines into the file under history.lock: while
        another imapsh holds the lock the shell waits, and the line that one
        wrote meanwhile survives."""
        import fcntl
        import time
        hist = os.path.join(self.home.state, "imapsh", "history")
        os.makedirs(os.path.dirname(hist), mode=0o700)
        with open(hist, "w") as f:
            f.write("namespace\n")
        os.chmod(hist, 0o600)
        lock = open(hist + ".lock", "w")
        self.addCleanup(lock.close)
        fcntl.lockf(lock, fcntl.LOCK_EX)
        env = h.base_env(self.home)
        env["TERM"] = "xterm"
        env.update(h.password_env("alice"))
        p = Pty(list(h.imaps_args()) + [h.target("alice")], env)
        self.addCleanup(p.close)
        p.read_until(rb"> $")
        p.send("capability\r")
        p.read_until(rb"IDLE[\s\S]*> $")
        p.send("\x04")
        time.sleep(1.5 * h.timeout_scale())
        pid, _ = os.waitpid(p.pid, os.WNOHANG)
        self.assertEqual(pid, 0, "the shell must wait for the lock")
        with open(hist, "a") as f:  # the other shell's line, written under the lock
            f.write("folders\n")
        fcntl.lockf(lock, fcntl.LOCK_UN)
        self.assertEqual(p.wait_exit(), 0)
        with open(hist) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines, ["namespace", "folders", "capability"])


if __name__ == "__main__":
    import unittest
    unittest.main()
