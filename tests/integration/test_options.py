"""Options declared once in the command table: `help COMMAND` and
`COMMAND --help` list every option of every command, the command accepts
every option its help and its completion offer (the shell's Tab and the
bash completion), and the shell completes folder names on the first Tab
of a session.  The lists come from the binary itself (help), so a new
command or option is covered without editing this file."""
import os
import re
import socket
import subprocess
import tempfile
import time
import unittest

import harness as h
from test_shell import Pty

# What the option parser says when it refuses an option or its value: an
# accepted option never produces one of these.
PARSER_ERRORS = re.compile(rb"unknown option|needs a value|takes no value|"
                           rb"is not a number from|--[a-z-]+ takes ")


def run(*args, **kw):
    return h.run_imapsh(list(args), **kw)


def commands():
    rc, out, err = run("help")
    assert rc == 0, err
    names = [ln.split()[0] for ln in out.decode().splitlines() if ln.strip()]
    assert len(names) > 30, names
    return names


def help_options(text):
    """{long name: metavariable or None} from a command's help."""
    opts = {}
    for ln in text.decode().splitlines():
        m = re.match(r"^  (?:-[a-zA-Z], )?--([a-z][a-z0-9-]*)(?: (\S+))?\s{2,}\S", ln)
        if m:
            opts[m.group(1)] = m.group(2)
    return opts


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Help(unittest.TestCase):
    def test_every_command_lists_its_options_and_aliases(self):
        for name in commands():
            rc, out, err = run("help", name)
            self.assertEqual(rc, 0, (name, err))
            self.assertTrue(out.decode().startswith(name), (name, out))
            self.assertIn(b"options:\n", out, name)
            opts = help_options(out)
            self.assertIn("help", opts, name)
            # COMMAND --help and -h (one-shot, and in the shell's own
            # parser through -c) print the same text
            for form in ([name, "--help"], [name, "-h"]):
                rc2, out2, err2 = run(*form)
                self.assertEqual((rc2, out2), (0, out), (form, err2))
            rc3, out3, err3 = run("-c", "%s --help" % name)
            self.assertEqual((rc3, out3), (0, out), (name, err3))

    def test_the_options_the_man_page_documents_are_listed(self):
        want = {
            "check": {"login", "folder", "warn-days", "crit-days", "warn-ms", "crit-ms",
                      "nagios", "json"},
            "cert": {"chain", "host", "at", "json"},
            "export": {"format", "restart", "output"},
            "show": {"headers", "mark-read", "json"},
            "save": {"output"},
            "fetch": {"output", "json"},
            "delete": {"expunge", "json"},
            "append": {"flags", "date"},
        }
        for name, opts in want.items():
            rc, out, err = run("help", name)
            self.assertEqual(rc, 0, err)
            got = set(help_options(out))
            self.assertTrue(opts <= got, (name, opts - got))
        rc, out, err = run("help", "rm")
        self.assertIn(b"aliases: rm\n", out)
        self.assertTrue(out.startswith(b"delete UIDS"))

    def test_unknown_option_names_the_nearest(self):
        rc, out, err = run("check", "--warn-dayz", "5", "localhost:1")
        self.assertEqual(rc, 3, err)  # a monitoring plugin: UNKNOWN
        self.assertIn(b"check: unknown option '--warn-dayz': did you mean '--warn-days'?", err)
        rc, out, err = run("-c", "delete 1 --expunged")
        self.assertEqual(rc, 2, err)
        self.assertIn(b"did you mean '--expunge'?", err)
        rc, out, err = run("-c", "export INBOX /nonexistent --format mbx")
        self.assertEqual(rc, 2, err)
        self.assertIn(b"export: --format takes maildir or mbox, not 'mbx'", err)
        rc, out, err = run("-c", "check --crit-ms")
        self.assertIn(b"check: --crit-ms needs a value", err)


class Accepted(unittest.TestCase):
    """Every option help lists, with a value of its kind, passes the
    command's parser: the shell's line (-c) and the one-shot command line,
    against a closed port so nothing is sent anywhere."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="imapsh-opts-")
        self.file = os.path.join(self.tmp, "msg.eml")
        with open(self.file, "wb") as f:
            f.write(b"Subject: x\r\n\r\nx\r\n")
        self.dir = os.path.join(self.tmp, "dir")
        os.mkdir(self.dir)
        self.port = closed_port()
        self.home = h.fresh_home()
        self.addCleanup(self.home.cleanup)

    def tearDown(self):
        subprocess.run(["rm", "-rf", self.tmp])

    def value(self, meta):
        if meta in ("N", "SECONDS"):
            return "5"
        if meta == "FOLDER":
            return "INBOX"
        if meta == "FILE":
            return os.path.join(self.tmp, "new-%d" % time.monotonic_ns())
        if meta == "DIR":
            return self.dir
        if meta == "TIME":
            return "2027-01-31T12:00:00Z"
        if meta and "|" in meta:
            return meta.split("|")[0]
        if meta and meta.startswith("FLAG"):
            return "seen"
        if meta == "DATE":
            return "2026-01-31"
        return "x"

    def operands(self, usage):
        """The required operands of the usage's first form, with values."""
        first = usage.split(" | ")[0]
        while re.search(r"\[[^\[\]]*\]", first):
            first = re.sub(r"\[[^\[\]]*\]", "", first)
        words = first.split()[1:]
        vals = {"UID": "1", "UIDS": "1", "FOLDER": "INBOX", "OLD": "INBOX", "NEW": "X",
                "FILE": self.file, "DIR": self.dir, "KEY...": "unseen", "FLAG...": "seen",
                "IMAP-COMMAND": "NOOP", "COMMAND": "list"}
        return [vals.get(w, w.lower()) for w in words if not w.startswith("-")]

    def test_every_listed_option_is_accepted(self):
        target = "127.0.0.1:%d" % self.port
        checked = 0
        for name in commands():
            rc, out, err = run("help", name)
            usage = out.decode().splitlines()[0]
            ops = self.operands(usage)
            for opt, meta in help_options(out).items():
                if opt == "help":
                    continue
                words = ["--" + opt] + ([self.value(meta)] if meta else [])
                line = " ".join([name] + ops + ["'%s'" % w for w in words])
                for argv in (["--timeout", "5", target, "-c", line],
                             ["--timeout", "5", target, name] + ops + words):
                    rc, out, err = run(*argv, home=self.home, input=b"", timeout=30)
                    self.assertNotRegex(err, PARSER_ERRORS, argv)
                    checked += 1
        self.assertGreater(checked, 60)


class Completion(h.TestbedCase):
    def start(self):
        env = h.base_env(self.home)
        env["TERM"] = "xterm"
        env["IMAPSH_PASSWORD"] = "correct horse"
        env.pop("NO_COLOR", None)
        p = Pty(list(h.imaps_args()) + [h.target("alice")], env)
        self.addCleanup(p.close)
        p.read_until(rb"alice@imap\.example\.test> $")
        return p

    def offered(self, p, name):
        """The options the shell offers after `name --`."""
        p.mark()
        p.send("%s --\t\t" % name)
        text = p.read_until(rb"(> %s --$)|(%s --help \x07*$)" % (name.encode(), name.encode()))
        p.send("\x15")  # Ctrl-U: an empty line again
        if text.rstrip(b"\x07").endswith(b"--help "):
            return {"help"}
        listing = text.split(b"\n", 1)[1].rsplit(b"\n", 1)[0]
        return {w.decode() for w in re.findall(rb"--([a-z][a-z0-9-]*)", listing)}

    def test_tab_offers_exactly_each_commands_options(self):
        p = self.start()
        for name in commands():
            rc, out, err = self.imapsh("help", name)
            self.assertEqual(self.offered(p, name), set(help_options(out)), name)
        # no global option after a shell command that does not take it
        self.assertNotIn("port", self.offered(p, "list"))
        self.assertNotIn("ca-file", self.offered(p, "check"))

    def test_option_values(self):
        p = self.start()
        p.mark()
        p.send("export --format mb\t")
        p.read_until(rb"export --format mbox $")
        p.send("\x15")
        p.mark()
        p.send("show 1 --headers a\t")
        p.read_until(rb"show 1 --headers all $")

    def test_first_tab_completes_folders(self):
        # a fresh session: no 'folders' run first; the first Tab asks LIST
        p = self.start()
        p.mark()
        p.send("select 送\t")
        p.read_until("select 送信済み $".encode("utf-8"))
        p.send("\x15")
        # after that the cache answers (and --folder's value is a folder too)
        p.mark()
        p.send("check --login --folder 送\t")
        p.read_until("--folder 送信済み $".encode("utf-8"))


class BashCompletion(unittest.TestCase):
    """The one-shot command line: after a command, its own options and the
    global options main.c takes anywhere; each is accepted."""

    @classmethod
    def setUpClass(cls):
        rc, out, err = run("--completion", "bash")
        assert rc == 0, err
        fd, cls.script = tempfile.mkstemp(suffix=".bash")
        with os.fdopen(fd, "wb") as f:
            f.write(out)

    @classmethod
    def tearDownClass(cls):
        os.unlink(cls.script)

    def bash(self, *words):
        script = ('source %s\nCOMP_WORDS=(%s)\nCOMP_CWORD=%d\n_imapsh\n'
                  'printf "%%s\\n" "${COMPREPLY[@]}"\n'
                  % (self.script, " ".join("'%s'" % w for w in words), len(words) - 1))
        p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=h.base_env())
        self.assertEqual(p.returncode, 0, p.stderr)
        return {ln for ln in p.stdout.decode().splitlines() if ln}

    def test_each_commands_options_offered(self):
        for name in commands():
            rc, out, err = run("help", name)
            offered = self.bash("imapsh", name, "--")
            want = {"--" + o for o in help_options(out)}
            self.assertTrue(want <= offered, (name, want - offered))
            # never a mode option after a command
            for mode in ("--script", "--completion", "--version", "--config"):
                self.assertNotIn(mode, offered, name)
        self.assertEqual(self.bash("imapsh", "export", "--format", "m"), {"maildir", "mbox"})
        self.assertEqual(self.bash("imapsh", "check", "--warn-days", ""), set())


if __name__ == "__main__":
    unittest.main()


class MessageArguments(h.TestbedCase):
    """One grammar for every command that takes messages: what fetch
    takes, show, structure and save take too."""

    def run_cmd(self, *args):
        return self.imapsh(*h.imaps_args(), h.target("alice"), *args,
                           env=h.password_env("alice"))

    def test_star_and_hash_name_one_message_everywhere(self):
        inbox = h.testbed()["mail"]["alice"]["folders"]["INBOX"]["list"]
        newest = max(m["uid"] for m in inbox)
        rc, want, err = self.run_cmd("structure", str(newest))
        self.assertEqual(rc, 0, err)
        for word in ("*", "#*"):
            for cmd in ("show", "structure", "fetch"):
                rc, out, err = self.run_cmd(cmd, word)
                self.assertEqual(rc, 0, (cmd, word, err))
                self.assertNotEqual(out, b"", (cmd, word))
            rc, out, err = self.run_cmd("structure", word)
            self.assertEqual(out, want, word)
        rc, out, err = self.run_cmd("show", "#1")
        self.assertEqual(rc, 0, err)

    def test_a_set_is_refused_where_one_message_goes(self):
        for cmd in ("show", "structure", "save", "fetch"):
            rc, out, err = self.run_cmd(cmd, "1:3")
            self.assertEqual(rc, 2, (cmd, err))
        rc, out, err = self.run_cmd("show", "1:3")
        self.assertIn(b"show: '1:3' names more than one message", err)
        # the same words for a malformed set in every command
        for cmd in ("show", "fetch", "list", "flag"):
            rc, out, err = self.run_cmd(cmd, "1:x", *(["seen"] if cmd == "flag" else []))
            self.assertEqual(rc, 2, (cmd, err))
            self.assertIn(b"'1:x' is not a message set", err, cmd)

    def test_empty_folder(self):
        with h.scratch_folder() as name:
            rc, out, err = self.imapsh(*h.imaps_args(), "-f", name, h.target("alice"),
                                       "show", "*", env=h.password_env("alice"))
            self.assertEqual(rc, 1, err)
            self.assertIn(b"show: no message in %s (it is empty)" % name.encode(), err)
