"""Secrets and hostile input at the edges: the trace hides what the server
reads as a login whatever its spelling, a netrc others can read is refused,
no secret reaches a program imapsh starts, a NUL in a line of known length
is refused, numbers are range-checked, usage errors come before the
network, a bad item from the server is skipped with a warning, and a
closed output ends the work with a LOGOUT."""
import base64
import errno
import os
import pty
import re
import select
import shlex
import socket
import subprocess
import tempfile
import time
import unittest

import harness as h


class TraceRedaction(h.TestbedCase):
    """quote LOGIN/AUTHENTICATE in every spelling a server accepts: the
    trace shows neither the password nor its base64."""

    def test_quote_login_variants(self):
        pw = self.env["users"]["alice"]["password"]
        q = '"%s"' % pw.replace("\\", "\\\\").replace('"', '\\"')
        ir = base64.b64encode(("\0alice\0" + pw).encode()).decode()
        variants = [
            ["quote", "LOGIN alice %s" % q],
            ["quote", "login alice %s" % q],
            ["quote", "LoGiN\talice\t%s" % q],
            ["quote", "  login   alice %s" % q],
            ["quote", "LOGIN", "alice", pw],  # as the shell split it
            ["quote", "AUTHENTICATE PLAIN %s" % ir],
            ["quote", "authenticate\tplain\t%s" % ir],
            ["-c", "quote 'lOgIn alice %s'" % q.replace("'", "'\\''")],
        ]
        for args in variants:
            with self.subTest(args=args):
                rc, out, err = self.imapsh(*h.imaps_args(), "--trace", h.target(), *args)
                # Dovecot takes some (a real login), refuses others with BAD
                self.assertIn(rc, (0, 1), err)
                self.assertRegex(err, rb"C: \S+ \s*(?i:login|authenticate)")
                self.assertNotIn(pw.encode(), err)
                self.assertNotIn(pw.split()[0].encode(), err)
                self.assertNotIn(ir[:12].encode(), err)


class NetrcPermissions(h.TestbedCase):
    """A netrc that group or others may read or change is refused, with
    the chmod that fixes it; a private one is used."""

    def netrc(self, path, mode):
        with open(path, "w") as f:
            f.write("machine %s login carol password carol-pw\n" % self.env["host"])
        os.chmod(path, mode)

    def test_readable_netrc_refused(self):
        path = os.path.join(self.home.root, "netrc")
        for mode in (0o644, 0o640, 0o604, 0o620, 0o602, 0o610):
            with self.subTest(mode=oct(mode)):
                self.netrc(path, mode)
                rc, out, err = self.imapsh(*h.imaps_args(), "--netrc-file", path,
                                           h.target("carol"), "namespace")
                self.assertEqual(rc, 5, err)
                self.assertEqual(out, b"")
                self.assertIn(("chmod 600 %s" % path).encode(), err)
                self.assertIn(b"others can read or change it", err)
        self.netrc(path, 0o600)
        rc, out, err = self.imapsh(*h.imaps_args(), "--netrc-file", path, h.target("carol"),
                                   "namespace")
        self.assertEqual(rc, 0, err)

    def test_default_netrc_refused_not_skipped(self):
        # ~/.netrc is read when nothing else answers: a readable one is an
        # error, never silently passed over to the next source
        path = os.path.join(self.home.env["HOME"], ".netrc")
        self.netrc(path, 0o644)
        rc, out, err = self.imapsh(*h.imaps_args(), h.target("carol"), "namespace")
        self.assertEqual(rc, 5, err)
        self.assertIn(("chmod 600 %s" % path).encode(), err)


def run_pty(args, env, timeout=60):
    """The binary with stdin, stdout and stderr on a new pseudo-terminal
    (so show pages); (rc, output)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(h.wrapper() + [os.environ["IMAPSH_BIN"]] + args, stdin=slave,
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
    return rc, data


class ChildEnvironment(h.TestbedCase):
    """A program imapsh starts sees none of the secrets imapsh was given."""

    def dump_cmd(self, name, then):
        path = os.path.join(self.home.root, name)
        return path, "env > %s; %s" % (shlex.quote(path), then)

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def assert_clean(self, dump, *secrets):
        self.assertIn(b"HOME=", dump)  # the dump is real
        self.assertNotIn(b"IMAPSH_PASSWORD", dump)
        for s in secrets:
            self.assertNotIn(s.encode(), dump)

    def test_password_command(self):
        pw = self.env["users"]["alice"]["password"]
        path, cmd = self.dump_cmd("pwcmd.env", "echo %s" % shlex.quote(pw))
        rc, out, err = self.imapsh(*h.imaps_args(), h.target("alice"), "--password-command",
                                   cmd, "namespace",
                                   env={"IMAPSH_PASSWORD": "env-secret-not-used"})
        self.assertEqual(rc, 0, err)
        self.assert_clean(self.read(path), "env-secret-not-used")

    def test_oauth_token_command(self):
        tok = self.env["oauth"]["tokens"]["alice"]
        path, cmd = self.dump_cmd("tokcmd.env", "echo %s" % tok)
        rc, out, err = self.imapsh(*h.imaps_args(), h.target("alice"), "--auth", "xoauth2",
                                   "--oauth-token-command", cmd, "namespace",
                                   env={"IMAPSH_PASSWORD": "env-secret-2"})
        self.assertEqual(rc, 0, err)
        self.assert_clean(self.read(path), "env-secret-2")

    @unittest.skipIf(h.wrapper(), "under a wrapper /proc/PID is the wrapper's")
    def test_own_environment_scrubbed(self):
        # the shell runs on: its /proc/PID/environ no longer holds the password
        from test_shell import Pty
        pw = self.env["users"]["alice"]["password"]
        env = h.base_env(self.home)
        env.update({"TERM": "xterm", "IMAPSH_PASSWORD": pw})
        p = Pty(h.imaps_args() + [h.target("alice")], env)
        self.addCleanup(p.close)
        p.read_until(rb"> $")
        p.send("namespace\r")
        p.read_until(rb"personal[\s\S]*> $")
        with open("/proc/%d/environ" % p.pid, "rb") as f:
            environ = f.read()
        self.assertIn(b"TERM=xterm", environ)
        self.assertNotIn(pw.encode(), environ)
        self.assertNotIn(b"IMAPSH_PASSWORD=" + pw[:4].encode(), environ)

    def test_pager(self):
        pw = self.env["users"]["alice"]["password"]
        path, cmd = self.dump_cmd("pager.env", "cat")
        e = h.base_env(self.home)
        e.update({"IMAPSH_PASSWORD": pw, "PAGER": cmd})
        rc, out = run_pty(h.imaps_args() + [h.target("alice"), "show", "3"], e)
        self.assertEqual(rc, 0, out)
        dump = self.read(path)
        self.assert_clean(dump, pw)
        self.assertIn(b"LESS=FRX", dump)  # what imapsh adds is there


def folder_exists(name, user="alice"):
    m = h.imap_login(user)
    try:
        typ, data = m.list('""', name)
        return typ == "OK" and any(d for d in data if d)
    finally:
        m.logout()


class NulInLine(h.TestbedCase):
    """A script line that holds a NUL is refused whole, with its number;
    never run as the part before the NUL."""

    def test_script_and_stdin(self):
        with h.scratch_folder() as name:
            script = b"# a comment\nrmdir " + name.encode() + b"\0-old\n"
            path = os.path.join(self.home.root, "script")
            with open(path, "wb") as f:
                f.write(script)
            for how, args, inp in (("stdin", [], script),
                                   ("--script", ["--script", path], None),
                                   ("--script -", ["--script", "-"], script)):
                with self.subTest(how=how):
                    rc, out, err = self.imapsh(*h.imaps_args(), "--keep-going", h.target("alice"),
                                               *args, input=inp, env=h.password_env("alice"))
                    self.assertEqual(rc, 2, err)
                    self.assertRegex(err.decode(), r":2: a NUL byte in the line")
                    self.assertTrue(folder_exists(name), "the folder was removed")

    def test_next_line_still_runs_with_keep_going(self):
        rc, out, err = self.imapsh(*h.imaps_args(), "--keep-going", h.target("alice"),
                                   input=b"noop\0 x\nnamespace\n", env=h.password_env("alice"))
        self.assertEqual(rc, 2, err)
        self.assertIn(b"stdin:1: a NUL byte in the line", err)
        self.assertIn(b"personal", out)

    def test_config_line(self):
        self.home.write_config("default = x\n[account x]\nhost = 127.0.0.1\x00.evil\n")
        rc, out, err = self.imapsh("namespace", env={"IMAPSH_PASSWORD": "x"})
        self.assertEqual(rc, 2, err)
        self.assertIn(b"config:3: a NUL byte in the line", err)


def closed_port():
    """A loopback port nobody listens on (bound, never listening)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


class Numbers(h.TestbedCase):
    """Numbers are range-checked, never clamped, and a usage error is exit
    2 before any connection (the server here is down)."""

    def setUp(self):
        super().setUp()
        self.sock, self.port = closed_port()
        self.addCleanup(self.sock.close)
        self.target = "imaps://alice@127.0.0.1:%d" % self.port

    def test_global_options(self):
        huge = "18446744073709551617"
        for args, word in ((["--timeout", huge], "--timeout"),
                           (["--timeout", "-5"], "--timeout"),
                           (["--port", "65536"], "--port"),
                           (["--port", " 99"], "--port")):
            with self.subTest(args=args):
                rc, out, err = self.imapsh(*args, self.target, "namespace",
                                           env={"IMAPSH_PASSWORD": "x"})
                self.assertEqual(rc, 2, err)
                self.assertRegex(err.decode(), r"%s: '.*' is not a number from \d+ to \d+"
                                 % word)

    def test_check_days_not_clamped(self):
        rc, out, err = self.imapsh("check", "--warn-days", "18446744073709551617",
                                   "127.0.0.1:%d" % self.port)
        self.assertEqual(rc, 3, err)  # check: UNKNOWN, before connecting
        self.assertIn(b"--warn-days: '18446744073709551617' is not a number from 0 to", err)
        self.assertNotIn(b"connect", err)

    def test_usage_errors_before_connecting(self):
        empty = os.path.join(self.home.root, "empty.eml")
        open(empty, "wb").close()
        cases = [["idle", "abc"], ["idle", "0"], ["list", "abc"], ["list", "1", "2"],
                 ["list", "--bogus"], ["search", "nosuchkey", "x"],
                 ["fetch", "1", "NOPE"], ["fetch", "1:5"], ["fetch", "x"],
                 ["flag", "abc", "seen"], ["unflag", "1", "\\Bad\\Flag("],
                 ["copy", "abc", "INBOX"], ["move", "0", "INBOX"], ["delete", "abc"],
                 ["delete", "1", "--bogus"], ["expunge", "extra"],
                 ["append", "INBOX", empty], ["append", "INBOX", empty, "--date", "yesterday"],
                 ["show", "abc"], ["show", "99999999999"], ["show", "1", "--headers", "x"],
                 ["structure", "#0"], ["save", "1", "x.y"], ["save", "abc"],
                 ["export", "INBOX", self.home.root, "--format", "zip"],
                 ["quote", "APPEND x {5}"], ["quote", ""], ["quote", "NOOP\r\nX LOGOUT"],
                 ["nosuchcommand"], ["namespace", "extra"],
                 ["select", os.fsdecode(b"Bad\xff")], ["mkdir", os.fsdecode(b"\xc3")],
                 ["rename", "a", os.fsdecode(b"b\xfe")],
                 ["status", os.fsdecode(b"\xed\xa0\x80")], ["folders", os.fsdecode(b"x\xff*")]]
        for cmd in cases:
            with self.subTest(cmd=cmd):
                rc, out, err = self.imapsh(self.target, *cmd, env={"IMAPSH_PASSWORD": "x"})
                self.assertEqual(rc, 2, err)
                self.assertNotIn(b"onnection refused", err)
                self.assertNotIn(b"connect", err)

    def test_idle_seconds(self):
        rc, out, err = self.imapsh(self.target, "idle", "18446744073709551617",
                                   env={"IMAPSH_PASSWORD": "x"})
        self.assertEqual(rc, 2, err)
        self.assertIn(b"is not a number from 1 to", err)


class ClosedOutput(h.TestbedCase):
    """| head -1: the work stops, imapsh logs out and exits 6 without a
    word; it is never killed by SIGPIPE."""

    def args(self, *more):
        return ([os.environ["IMAPSH_BIN"]] + h.imaps_args() +
                ["--trace", h.target("alice")] + list(more))

    def run_env(self):
        e = h.base_env(self.home)
        e.update(h.password_env("alice"))
        return e

    def assert_clean_stop(self, rc, err):
        self.assertEqual(rc, 6, err[-2000:])
        text = err.decode("utf-8", "replace")
        self.assertRegex(text, r"C: \S+ LOGOUT\n")
        # a one-shot sends LOGOUT and closes without its answer
        self.assertRegex(text, r"-- state: logout\n")
        self.assertEqual([ln for ln in text.splitlines() if ln.startswith("imapsh:")], [])

    def test_pipe_closed_after_first_line(self):
        cmds = "; ".join(["list 1:*"] * 100)
        p = subprocess.Popen(h.wrapper() + self.args("-c", cmds), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.run_env())
        p.stdin.close()
        first = p.stdout.readline()
        p.stdout.close()
        err = p.stderr.read()
        rc = p.wait(timeout=60)
        self.assertRegex(first, rb"^\d+\t")
        self.assert_clean_stop(rc, err)
        # the rest of the commands did not run
        self.assertLess(err.count(b" FETCH 1:* "), 100)

    def test_idle_stops_when_its_reader_goes(self):
        # nothing is written while idle waits: it still sees the reader go
        p = subprocess.Popen(h.wrapper() + self.args("idle"), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.run_env())
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait()))
        p.stdin.close()
        deadline = time.monotonic() + 30 * h.timeout_scale()
        err = b""
        os.set_blocking(p.stderr.fileno(), False)
        while not re.search(rb"C: \S+ IDLE\nS: \+", err):
            self.assertLess(time.monotonic(), deadline, err)
            time.sleep(0.1)
            err += p.stderr.read() or b""
        p.stdout.close()
        t0 = time.monotonic()
        rc = p.wait(timeout=15 * h.timeout_scale())
        os.set_blocking(p.stderr.fileno(), True)
        err += p.stderr.read()
        self.assertLess(time.monotonic() - t0, 10 * h.timeout_scale())
        self.assertRegex(err.decode(), r"C: DONE\n")
        self.assert_clean_stop(rc, err)

    def test_reader_gone_before_start(self):
        for cmd in (["list", "1:*"], ["folders"], ["fetch", "1"], ["--json", "list", "1:*"]):
            with self.subTest(cmd=cmd):
                r, w = os.pipe()
                os.close(r)
                try:
                    p = subprocess.run(h.wrapper() + self.args(*cmd), input=b"", stdout=w,
                                       stderr=subprocess.PIPE, env=self.run_env(), timeout=60)
                finally:
                    os.close(w)
                self.assert_clean_stop(p.returncode, p.stderr)


HOST = "imap.example.test"
BAD_NAMES = [b"{9}\r\nArch\x00ive2", b'"Bad&Jjo"', b'"Bad&AGE-ascii"', b'"Esc\x1b[2Jape"']
BAD_SHOWN = [b"Arch^@ive2", b"Bad&Jjo", b"Bad&AGE-ascii", b"Esc^[[2Jape"]


def bad_list_server(utf8=False):
    names = [b"INBOX", b"Good", b"Bravo"] + BAD_NAMES + [b"Zeta"]
    if utf8:
        names += [b'"Bad\xff\xfeUTF8"', '"Gr\u00fc\u00dfe"'.encode()]
    reply = b"".join(b'* LIST () "/" ' + n + b"\r\n" for n in names) + b"{tag} OK done\r\n"
    caps = "IMAP4rev1 SASL-IR ID AUTH=PLAIN" + (" ENABLE UTF8=ACCEPT" if utf8 else "")
    rules = [[r"(?i)^LIST ", reply], [r"(?i)^STATUS ", "{tag} OK done\r\n"]]
    if utf8:
        rules.append([r"(?i)^ENABLE ", "* ENABLED UTF8=ACCEPT\r\n{tag} OK done\r\n"])
    return [["send", "* OK [CAPABILITY %s] ready\r\n" % caps], ["serve", {"caps": caps, "rules": rules}]]


class BadServerItems(h.TestbedCase):
    """A folder name that cannot be sent back is skipped with a warning
    that names it; the rest is listed; exit 3, never 2."""

    def run_fake(self, script, *cmd):
        with h.fakeserver(script, tls="valid", linger=0.5) as srv:
            rc, out, err = self.imapsh(
                "--ca-file", self.env["ca_file"], "--resolve", "%s:%d:127.0.0.1" % (HOST, srv.port),
                "imaps://alice@%s:%d" % (HOST, srv.port), *cmd, env={"IMAPSH_PASSWORD": "x"})
        # read once the server has stopped: a one-shot sends LOGOUT and
        # closes at once, and the server may not have read it yet before
        sent = srv.conns[0].client_bytes if srv.conns else b""
        return rc, out, err, sent

    def test_folders_text_and_json(self):
        for json_opt in ([], ["--json"]):
            with self.subTest(json=json_opt):
                rc, out, err, sent = self.run_fake(bad_list_server(), *json_opt, "folders")
                self.assertEqual(rc, 7, err)
                for good in (b"INBOX", b"Good", b"Zeta"):
                    self.assertIn(good, out)
                for shown in BAD_SHOWN:
                    self.assertIn(b"skipped the folder name '" + shown + b"'", err)
                self.assertNotIn(b"Arch", out)
                self.assertNotIn(b"Bad", out)
                self.assertNotIn(b"\x1b", err)
                self.assertIn(b"4 folder names that cannot be used", err)
                # nothing was sent back for a skipped name
                self.assertNotIn(b"STATUS Arch", sent)
                self.assertNotIn(b"STATUS Bad", sent)
                self.assertIn(b"LOGOUT", sent)

    def test_folders_utf8_session(self):
        rc, out, err, sent = self.run_fake(bad_list_server(utf8=True), "folders")
        self.assertEqual(rc, 7, err)
        self.assertIn("Grüße".encode(), out)
        self.assertIn(b"skipped the folder name 'Bad\\xFF\\xFEUTF8'", err)
        self.assertIn(b"skipped the folder name 'Arch^@ive2'", err)

    def test_batch_goes_on(self):
        # a later command in the same run still works with the good names
        rc, out, err, sent = self.run_fake(bad_list_server(), "--keep-going", "-c",
                                           "folders; examine Good")
        self.assertEqual(rc, 7, err)
        self.assertRegex(sent.decode("latin-1"), r"EXAMINE Good\r\n")


class BadItemsNotCompleted(h.TestbedCase):
    """The shell's completion cache holds only names that can be used."""

    def test_tab_completes_only_good_names(self):
        from test_shell import Pty
        with h.fakeserver(bad_list_server(), tls="valid", linger=0.5) as srv:
            env = h.base_env(self.home)
            env.update({"TERM": "xterm", "IMAPSH_PASSWORD": "x"})
            p = Pty(["--ca-file", self.env["ca_file"], "--resolve",
                     "%s:%d:127.0.0.1" % (HOST, srv.port),
                     "imaps://alice@%s:%d" % (HOST, srv.port)], env)
            self.addCleanup(p.close)
            p.read_until(rb"> $")
            p.send("folders\r")
            p.read_until(rb"Zeta[\s\S]*> $")
            p.mark()
            # "Bad..." names were skipped: B completes to Bravo alone
            p.send("examine B\t")
            p.read_until(rb"examine Bravo $")
            p.send("\x15logout\r")
            p.read_until(rb"logout[\s\S]*> $")
            p.send("\x04")
            self.assertEqual(p.wait_exit(), 0)


if __name__ == "__main__":
    unittest.main()
