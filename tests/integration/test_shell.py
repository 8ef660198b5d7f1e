"""The interactive shell through a pseudo-terminal: what a person sees and
types.  Tab completion (commands, Japanese folder names), the prompt,
Ctrl-C during a long command, and a history file without secrets."""
import os
import pty
import re
import select
import shutil
import signal
import time

import harness as h

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]|\r")


class Pty:
    def __init__(self, args, env):
        # under IMAPSH_WRAPPER (valgrind in CI) like every other test
        argv = h.wrapper() + [os.environ["IMAPSH_BIN"]] + args
        path = shutil.which(argv[0]) or argv[0]
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execve(path, argv, env)
            finally:
                os._exit(127)
        self.buf = b""

    def read_until(self, pattern, timeout=20):
        deadline = time.monotonic() + timeout * h.timeout_scale()
        rx = re.compile(pattern)
        while True:
            text = ANSI.sub(b"", self.buf)
            m = rx.search(text)
            if m:
                return text
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for %r; screen so far:\n%s"
                                     % (pattern, text.decode("utf-8", "replace")))
            r, _, _ = select.select([self.fd], [], [], min(left, 0.5))
            if r:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    raise AssertionError("the shell ended; screen:\n%s"
                                         % ANSI.sub(b"", self.buf).decode("utf-8", "replace"))
                self.buf += data

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        os.write(self.fd, data)

    def mark(self):
        self.buf = b""

    def close(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        os.close(self.fd)

    def wait_exit(self, timeout=20):
        deadline = time.monotonic() + timeout * h.timeout_scale()
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.fd], [], [], 0.2)
            if r:
                try:
                    data = os.read(self.fd, 65536)
                    self.buf += data
                except OSError:
                    pass
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
        raise AssertionError("the shell did not exit")


class Shell(h.TestbedCase):
    def start(self, *args, password="correct horse"):
        env = h.base_env(self.home)
        env["TERM"] = "xterm"
        env["IMAPSH_PASSWORD"] = password
        env.pop("NO_COLOR", None)
        p = Pty(list(h.imaps_args()) + list(args), env)
        self.addCleanup(p.close)
        return p

    def test_tab_prompt_folder_and_history(self):
        p = self.start(h.target("alice"))
        p.read_until(rb"imap\.example\.test> $")
        # Tab completes a command name
        p.send("capa\t")
        p.read_until(rb"> capability $")
        p.send("\r")
        p.read_until(rb"IDLE[\s\S]*alice@imap\.example\.test> $")
        # folders fills the completion cache; Tab completes a Japanese name
        p.mark()
        p.send("folders\r")
        p.read_until(re.escape(h.folder("Archive/2026")).encode() + rb"[\s\S]*> $")
        p.mark()
        jp = h.folder("送信済み")
        p.send("select %s\t" % jp[:-3])
        p.read_until(("select %s $" % jp).encode("utf-8"))
        p.send("\r")
        # the prompt shows the folder
        p.read_until(("alice@imap.example.test:%s> $" % jp).encode("utf-8"))
        p.mark()
        p.send("logout\r")
        # Ctrl-D only at the next prompt: typed ahead while the terminal is
        # out of readline's raw mode, the tty may drop the EOF
        p.read_until(rb"logout[\s\S]*> $")
        p.send("\x04")
        self.assertEqual(p.wait_exit(), 0)
        hist = os.path.join(self.home.root, ".local", "state", "imapsh", "history")
        if "XDG_STATE_HOME" in self.home.env:
            hist = os.path.join(self.home.env["XDG_STATE_HOME"], "imapsh", "history")
        st = os.stat(hist)
        self.assertEqual(st.st_mode & 0o777, 0o600)
        with open(hist, "rb") as f:
            text = f.read()
        self.assertIn(b"capability", text)
        self.assertIn(("select %s" % jp).encode(), text)

    def test_history_holds_no_password(self):
        # no password source: login asks at a prompt without echo
        env = h.base_env(self.home)
        env["TERM"] = "xterm"
        env.pop("IMAPSH_PASSWORD", None)
        p = Pty(list(h.imaps_args()) + [h.target()], env)
        self.addCleanup(p.close)
        p.read_until(rb"> $")
        p.send("login alice\r")
        p.read_until(rb"Password for alice@imap\.example\.test: $")
        p.mark()
        p.send("correct horse\r")
        p.read_until(rb"alice@imap\.example\.test> $")
        self.assertNotIn(b"correct horse", p.buf)  # no echo
        p.send('quote LOGIN alice "correct horse"\r')
        p.read_until(rb"> $")
        p.send("namespace\r")
        p.read_until(rb"personal[\s\S]*> $")
        p.send("\x04")
        self.assertEqual(p.wait_exit(), 0)
        hist = os.path.join(self.home.env.get("XDG_STATE_HOME",
                                              os.path.join(self.home.root, ".local", "state")),
                            "imapsh", "history")
        with open(hist, "rb") as f:
            text = f.read()
        self.assertIn(b"login alice", text)
        self.assertIn(b"namespace", text)
        self.assertNotIn(b"correct horse", text)
        self.assertNotIn(b"quote LOGIN", text)

    def test_ctrl_c_in_idle_sends_done_and_keeps_the_session(self):
        # against the real Dovecot: Ctrl-C ends IDLE with DONE (RFC 2177),
        # the shell says so and the same connection serves the next command
        p = self.start("--trace", h.target("alice"))
        p.read_until(rb"imap\.example\.test> $")
        p.send("select INBOX\r")
        p.read_until(rb"INBOX> $")
        p.mark()
        p.send("idle\r")
        p.read_until(rb"S: \+", timeout=20)  # the server took IDLE
        time.sleep(0.5)
        p.send("\x03")
        text = p.read_until(rb"IDLE ended with DONE[\s\S]*> $", timeout=10)
        self.assertRegex(text, rb"C: (\S+ )?DONE")
        p.mark()
        p.send("status INBOX\r")
        text = p.read_until(rb"messages[\s\S]*> $", timeout=20)
        self.assertNotIn(b"connection was lost", text)
        self.assertNotIn(b"AUTHENTICATE", text)  # the same session
        p.send("\x04")
        self.assertEqual(p.wait_exit(), 0)

    def test_ctrl_c_during_a_long_list_keeps_the_session(self):
        caps = "IMAP4rev1 SASL-IR AUTH=PLAIN"
        fetch = "".join("* %d FETCH (UID %d FLAGS () RFC822.SIZE 10 INTERNALDATE "
                        "\"01-Jan-2026 00:00:00 +0000\" ENVELOPE (NIL \"slow %d\" NIL NIL NIL "
                        "NIL NIL NIL NIL NIL))\r\n" % (i, i, i) for i in range(1, 4))
        script = [["send", "* OK [CAPABILITY %s] slow server\r\n" % caps],
                  ["serve", {"caps": caps, "exists": 1000, "rules": [
                      [r"(?i)\bFETCH\b", fetch, "end"],
                      [r"(?i)\bSEARCH\b", "* SEARCH " + " ".join(str(i) for i in range(1, 1001))
                       + "\r\n{tag} OK done\r\n"]]}],
                  ["sleep", 60]]
        with h.fakeserver(script, tls="valid", connections=2, timeout=90) as srv:
            env = h.base_env(self.home)
            env["TERM"] = "xterm"
            env["IMAPSH_PASSWORD"] = "pw"
            p = Pty(["--ca-file", self.env["ca_file"], "--resolve",
                     "imap.example.test:%d:127.0.0.1" % srv.port,
                     "alice@imap.example.test:%d" % srv.port], env)
            self.addCleanup(p.close)
            p.read_until(rb"> $")
            p.send("list 1:*\r")
            p.read_until(rb"slow 3")
            time.sleep(0.5)
            t0 = time.monotonic()
            p.send("\x03")
            # the answer was cut: the shell says the connection went with it
            p.read_until(rb"the next command connects again[\s\S]*> $", timeout=10)
            self.assertLess(time.monotonic() - t0, 5 * h.timeout_scale())
            # the shell goes on: the next command works (over a new connection)
            p.mark()
            p.send("capability\r")
            p.read_until(rb"AUTH=PLAIN[\s\S]*> $", timeout=30)
            p.send("\x04")
            self.assertEqual(p.wait_exit(), 0)


if __name__ == "__main__":
    import unittest
    unittest.main()
