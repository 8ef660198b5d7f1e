"""Hostile input to the newest features (setup EMAIL, oauth, export
--all, import, --share): bytes from servers and files that must not reach
a terminal, a config file or a path raw; files that change or are planted
while imapsh reads them.  Each test here failed before its fix, or holds
a line an outside review found worth checking."""
import imaplib
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

import harness as h


def make_mbox(path, n=60, lines=40):
    """An mbox of n messages of about 70 x lines bytes each."""
    with open(path, "wb") as f:
        for i in range(n):
            f.write(b"From a@example.test Thu Jan  1 00:00:00 2026\n"
                    b"Message-ID: <m%d@hostile2>\nSubject: %d\n\n" % (i, i))
            f.write((b"x" * 70 + b"\n") * lines + b"\n")


class HostileCase(h.TestbedCase):
    user = "alice"

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="imapsh-hostile2-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def run_as(self, *args, user="alice", **kw):
        return self.imapsh(*(h.imaps_args() + [h.target(user)] + list(args)),
                           env=h.password_env(user), **kw)

    def scratch_name(self):
        """A folder name nobody has; deleted at the end of the test."""
        name = "hostile2-" + uuid.uuid4().hex[:10]

        def drop():
            m = h.imap_login(self.user)
            try:
                m.delete(name)
                m.logout()
            except (imaplib.IMAP4.error, OSError):
                pass
        self.addCleanup(drop)
        return name


class TestImportSource(HostileCase):
    def test_mbox_cut_short_while_imported(self):
        """An mbox that another program truncates while imapsh imports it
        (a mail client compacting it): an error in words that says what
        to do, never a SIGBUS (the file used to be mapped)."""
        box = os.path.join(self.tmp, "box.mbox")
        make_mbox(box)

        def cut():
            # once the upload has begun (the journal says "sent")
            end = time.monotonic() + 30 * h.timeout_scale()
            while time.monotonic() < end:
                logs = [n for n in os.listdir(self.tmp) if ".imapsh-import-" in n]
                if logs and b"sent " in open(os.path.join(self.tmp, logs[0]), "rb").read():
                    break
                time.sleep(0.05)
            time.sleep(0.3)
            with open(box, "r+b") as f:
                f.truncate(0)
        t = threading.Thread(target=cut)
        t.start()
        rc, out, err = self.run_as("import", box, self.scratch_name(), "--max-rate", "20000")
        t.join()
        self.assertGreater(rc, 0, "died by a signal: %d %r" % (rc, err))
        self.assertIn(b"changed while imapsh read it", err)
        self.assertIn(b"run the", err)


if __name__ == "__main__":
    unittest.main()
