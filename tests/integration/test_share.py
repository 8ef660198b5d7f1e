"""--share: one session for many one-shots, against the test bed's Dovecot.

The one-shots reach Dovecot through a small TCP relay in this test, which
counts the connections made and can cut them from the server's side.
Each test has its own XDG_RUNTIME_DIR, so its master is its own."""

import glob
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
import unittest

import harness as h


class Relay:
    """127.0.0.1:port -> the test bed's imaps port; counts connections."""

    def __init__(self, port):
        self.to = port
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.accepted = 0
        self.pairs = []
        self.lock = threading.Lock()
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            s = socket.create_connection(("127.0.0.1", self.to))
            with self.lock:
                self.accepted += 1
                self.pairs.append((c, s))
            for a, b in ((c, s), (s, c)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        for x in (a, b):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        a.close()

    def cut(self):
        """Close every connection, as a server that drops its clients."""
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for c, s in pairs:
            for x in (s, c):
                try:
                    x.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                x.close()

    def close(self):
        self.stopped = True
        self.cut()
        self.lsock.close()


class ShareTest(unittest.TestCase):
    def setUp(self):
        env = h.testbed()
        self.relay = Relay(env["ports"]["imaps"])
        self.home = h.fresh_home()
        self.tmp = tempfile.mkdtemp(prefix="imapsh-share-")
        os.chmod(self.tmp, 0o755)  # another uid may look (test_other_user)
        self.rt = os.path.join(self.tmp, "rt")
        os.mkdir(self.rt, 0o755)
        self.sockdir = os.path.join(self.rt, "imapsh")
        self.args = ["--ca-file", env["ca_file"], "--resolve",
                     "%s:%d:127.0.0.1" % (env["host"], self.relay.port),
                     "imaps://alice@%s:%d" % (env["host"], self.relay.port)]
        self.env = dict(h.password_env("alice"), XDG_RUNTIME_DIR=self.rt)

    def tearDown(self):
        self.imapsh("--share=stop")
        for pid in self.master_pids():
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        self.relay.close()
        self.home.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def imapsh(self, *words, cwd=None, env=None, **kw):
        e = dict(self.env)
        e.update(env or {})
        return h.run_imapsh(self.args + list(words), env=e, home=self.home, cwd=cwd, **kw)

    def sockets(self):
        return glob.glob(os.path.join(self.sockdir, "*.sock"))

    def log(self):
        text = ""
        for f in glob.glob(os.path.join(self.sockdir, "*.log")):
            with open(f, encoding="utf-8") as fh:
                text += fh.read()
        return text

    def master_pids(self):
        pids = set(int(p) for p in re.findall(r"imapsh\[(\d+)\]", self.log()))
        return [p for p in pids if os.path.exists("/proc/%d" % p)]

    def wait_for(self, cond, seconds):
        end = time.monotonic() + seconds * h.timeout_scale()
        while time.monotonic() < end:
            if cond():
                return True
            time.sleep(0.05)
        return cond()

    # ------------------------------------------------------------ reuse

    def test_reuse_output_and_exit_codes(self):
        """The second and third one-shots make no new connection (so no
        login); their output, errors and exit codes are those of the run
        without sharing."""
        rc0, out0, err0 = self.imapsh("list", "5")
        no0 = self.imapsh("select", "Nope-share")
        self.assertEqual(rc0, 0, err0)
        self.assertEqual(no0[0], 1)
        self.assertEqual(self.relay.accepted, 2)
        results = [self.imapsh("--share", "list", "5") for _ in range(3)]
        self.assertEqual(self.relay.accepted, 3, "one connection for three shared one-shots")
        for rc, out, err in results:
            self.assertEqual((rc, out, err), (rc0, out0, err0))
        self.assertEqual(len(self.sockets()), 1)
        mode = os.lstat(self.sockets()[0]).st_mode
        self.assertTrue(stat.S_ISSOCK(mode))
        self.assertEqual(stat.S_IMODE(mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.lstat(self.sockdir).st_mode), 0o700)
        # a NO: the same words on stderr (but Dovecot's timings), the same
        # exit code, no connection
        def same(r):
            return r[0], r[1], re.sub(rb" \([0-9.+ ]*secs\)", b"", r[2])
        self.assertEqual(same(self.imapsh("--share", "select", "Nope-share")), same(no0))
        # a usage error, the same too
        self.assertEqual(self.imapsh("--share", "list", "--bogus"),
                         self.imapsh("--no-share", "list", "--bogus"))
        self.assertEqual(self.relay.accepted, 3)
        # --no-share: this run on its own
        self.assertEqual(self.imapsh("--share", "--no-share", "list", "5")[0], 0)
        self.assertEqual(self.relay.accepted, 4)
        # a command that looks at a connection of its own (capability
        # before login) makes it, as without --share
        self.assertEqual(self.imapsh("--share", "capability"), self.imapsh("capability"))
        self.assertEqual(self.relay.accepted, 6)
        self.assertEqual(self.imapsh("--share", "list", "5")[:2], (0, out0))
        self.assertEqual(self.relay.accepted, 6)
        # the config key shares as --share does
        cfg = os.path.join(self.tmp, "config")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("[defaults]\nshare = 1m\n")
        rc, out, err = self.imapsh("--config", cfg, "list", "5")
        self.assertEqual((rc, out), (0, out0), err)
        self.imapsh("--config", cfg, "--share=stop")
        # stop: the master goes, its socket with it
        rc, _, err = self.imapsh("--share=stop")
        self.assertEqual(rc, 0, err)
        self.assertTrue(self.wait_for(lambda: not self.master_pids(), 5), self.log())
        self.assertEqual(self.sockets(), [])
        self.assertIn("asked to stop", self.log())

    def test_files_cwd_and_pipes(self):
        """-o FILE with a relative path lands in the client's directory,
        stdin and stdout are the client's pipes: as without sharing."""
        a = os.path.join(self.tmp, "a")
        b = os.path.join(self.tmp, "b")
        os.mkdir(a)
        os.mkdir(b)
        rc, _, err = self.imapsh("fetch", "1", "-o", "m.eml", cwd=a)
        self.assertEqual(rc, 0, err)
        self.imapsh("--share", "list", "1")  # the master
        rc, out, err = self.imapsh("--share", "fetch", "1", "-o", "m.eml", cwd=b)
        self.assertEqual((rc, out), (0, b""), err)
        with open(os.path.join(a, "m.eml"), "rb") as fa, open(os.path.join(b, "m.eml"), "rb") as fb:
            self.assertEqual(fa.read(), fb.read())
        # the second -o m.eml refuses to overwrite, with the same words
        self.assertEqual(self.imapsh("--share", "fetch", "1", "-o", "m.eml", cwd=b)[0],
                         self.imapsh("--no-share", "fetch", "1", "-o", "m.eml", cwd=a)[0])
        # stdout through a pipe read by another process
        binary = os.environ["IMAPSH_BIN"]
        e = h.base_env(self.home)
        e.update(self.env)
        outs = []
        before = self.relay.accepted
        for share in ("--no-share", "--share"):
            p1 = subprocess.Popen(h.wrapper() + [binary, share] + self.args + ["fetch", "1"],
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, env=e)
            p2 = subprocess.run(["sha256sum"], stdin=p1.stdout, stdout=subprocess.PIPE)
            p1.stdin.close()
            p1.stdout.close()
            self.assertEqual(p1.wait(timeout=30), 0)
            outs.append(p2.stdout)
        self.assertEqual(outs[0], outs[1])
        self.assertEqual(self.relay.accepted, before + 1, "the shared run used the master")

    def test_show_on_a_terminal_runs_here(self):
        """show on a terminal pages: its pager needs the terminal, so it
        makes its own connection even with a master there."""
        import pty
        self.assertEqual(self.imapsh("--share", "list", "1")[0], 0)
        self.assertEqual(self.relay.accepted, 1)
        mfd, sfd = pty.openpty()
        e = h.base_env(self.home)
        e.update(self.env, PAGER="cat")
        p = subprocess.Popen(h.wrapper() + [os.environ["IMAPSH_BIN"], "--share"] + self.args
                             + ["show", "1"], stdin=subprocess.PIPE, stdout=sfd,
                             stderr=subprocess.PIPE, env=e)
        os.close(sfd)
        got = b""
        while True:
            try:
                d = os.read(mfd, 65536)
            except OSError:
                break
            if not d:
                break
            got += d
        os.close(mfd)
        self.assertEqual(p.wait(timeout=30), 0, p.stderr.read())
        p.stderr.close()
        p.stdin.close()
        self.assertIn(b"Subject:", got)
        self.assertEqual(self.relay.accepted, 2)
        # through a pipe it goes through the master
        self.assertEqual(self.imapsh("--share", "show", "1")[0], 0)
        self.assertEqual(self.relay.accepted, 2)

    # ------------------------------------------------------------ the end of a master

    def test_idle_expiry(self):
        self.assertEqual(self.imapsh("--share=2", "list", "1")[0], 0)
        self.assertEqual(len(self.sockets()), 1)
        self.assertTrue(self.wait_for(lambda: len(self.master_pids()) == 1, 3), self.log())
        self.assertEqual(self.imapsh("--share=2", "list", "1")[0], 0)
        self.assertEqual(self.relay.accepted, 1)
        t0 = time.monotonic()
        self.assertTrue(self.wait_for(lambda: not self.master_pids(), 6), self.log())
        self.assertGreater(time.monotonic() - t0, 1.0)
        self.assertEqual(self.sockets(), [])
        self.assertIn("idle for 2 s", self.log())
        rc, _, err = self.imapsh("--share=2", "list", "1")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.relay.accepted, 2, "a new master after the idle one ended")

    def test_server_drops_connection(self):
        rc0, out0, _ = self.imapsh("--share", "list", "3")
        self.assertEqual(rc0, 0)
        self.relay.cut()
        # at once: the master may not have seen the cut yet; either way the
        # command runs, on a new connection
        rc, out, err = self.imapsh("--share", "list", "3")
        self.assertEqual((rc, out), (0, out0), err)
        self.assertEqual(self.relay.accepted, 2)
        self.assertEqual(self.imapsh("--share", "list", "3")[:2], (0, out0))
        self.assertEqual(self.relay.accepted, 2, "the new master serves the next")
        # dropped while idle: the master ends by itself
        self.relay.cut()
        self.assertTrue(self.wait_for(lambda: len(self.master_pids()) == 0, 5), self.log())
        self.assertIn("the server closed the connection", self.log())
        self.assertEqual(self.imapsh("--share", "list", "3")[:2], (0, out0))

    def test_killed_master_and_concurrent_clients(self):
        """A master killed outright leaves a stale socket: the next one-shot
        removes it and starts afresh.  One-shots that come together take
        turns on one session."""
        rc0, out0, _ = self.imapsh("--share", "list", "4")
        self.assertEqual(rc0, 0)
        self.assertTrue(self.wait_for(lambda: len(self.master_pids()) == 1, 3), self.log())
        os.kill(self.master_pids()[0], signal.SIGKILL)
        self.assertTrue(self.wait_for(lambda: not self.master_pids(), 3))
        self.assertEqual(len(self.sockets()), 1, "the stale socket stays behind")
        self.assertEqual(self.imapsh("--share", "list", "4")[:2], (0, out0))
        self.assertEqual(self.relay.accepted, 2)
        results = [None] * 4

        def one(i):
            results[i] = self.imapsh("--share", "list", "4")
        threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for r in results:
            self.assertEqual(r[:2], (0, out0), r[2])
        self.assertEqual(self.relay.accepted, 2, "four at once, all through the master")

    def test_client_goes_mid_command(self):
        """A one-shot killed while its command runs in the master (idle,
        waiting for mail) cancels the command; the master ends at once
        (the session may be mid-command) and the next one-shot starts
        afresh."""
        rc0, out0, _ = self.imapsh("--share", "list", "2")
        self.assertEqual(rc0, 0)
        e = h.base_env(self.home)
        e.update(self.env)
        p = subprocess.Popen(h.wrapper() + [os.environ["IMAPSH_BIN"], "--share"] + self.args
                             + ["idle", "30"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=e)
        time.sleep(1.0 * h.timeout_scale())
        p.kill()
        p.communicate()
        self.assertTrue(self.wait_for(lambda: not self.master_pids(), 5), self.log())
        self.assertIn("the client went away during its command", self.log())
        self.assertEqual(self.imapsh("--share", "list", "2")[:2], (0, out0))
        self.assertEqual(self.relay.accepted, 2)

    # ------------------------------------------------------------ security

    def test_other_user_refused(self):
        self.assertEqual(self.imapsh("--share", "list", "1")[0], 0)
        sock = self.sockets()[0]
        binary = os.environ["IMAPSH_BIN"]
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        e = h.base_env(None)
        e.update(self.env)
        e["HOME"] = self.tmp
        # the client as another user: the directory is not its own
        p = subprocess.run(nobody + h.wrapper() + [binary, "--share"] + self.args + ["list", "1"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=30)
        self.assertEqual(p.returncode, 6, p.stderr)
        self.assertIn(b"is not a private directory of yours", p.stderr)
        self.assertIn(b"--no-share", p.stderr)
        self.assertEqual(p.stdout, b"")
        # the master itself refuses another uid that reaches its socket
        os.chmod(self.sockdir, 0o711)
        os.chmod(sock, 0o666)
        try:
            probe = ("import socket,sys\n"
                     "s=socket.socket(socket.AF_UNIX,socket.SOCK_SEQPACKET)\n"
                     "s.connect(sys.argv[1])\n"
                     "try:\n"
                     "    s.send(b'IMSH\\x01R\\x00\\x01\\x00\\x00\\x00\\x04list')\n"
                     "    sys.stdout.write(repr(s.recv(64)))\n"
                     "except (ConnectionResetError, BrokenPipeError):\n"
                     "    sys.stdout.write('reset')\n")
            p = subprocess.run(nobody + ["/usr/bin/python3", "-c", probe, sock],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
            self.assertIn(p.stdout, (b"b''", b"reset"), p.stderr)  # closed, nothing said
        finally:
            os.chmod(self.sockdir, 0o700)
            os.chmod(sock, 0o600)
        self.assertIn("refused a connection from uid 65534", self.log())
        # and goes on serving its owner
        self.assertEqual(self.imapsh("--share", "list", "1")[0], 0)
        self.assertEqual(self.relay.accepted, 1)

    def test_planted_socket_and_symlink_refused(self):
        self.assertEqual(self.imapsh("--share", "list", "1")[0], 0)
        sock = self.sockets()[0]
        self.assertEqual(self.imapsh("--share=stop")[0], 0)
        self.assertTrue(self.wait_for(lambda: not os.path.exists(sock), 5))
        # a listener elsewhere, and a symbolic link to it at the socket's path
        bait = os.path.join(self.tmp, "bait.sock")
        lst = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        lst.bind(bait)
        lst.listen(1)
        lst.settimeout(0.2)
        os.symlink(bait, sock)
        rc, out, err = self.imapsh("--share", "list", "1")
        self.assertEqual(rc, 6, err)
        self.assertIn(b"is not a socket of yours (a symbolic link", err)
        with self.assertRaises(socket.timeout):
            lst.accept()
        os.unlink(sock)
        # a socket owned by another user
        lst2 = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        lst2.bind(sock)
        os.chown(sock, 65534, 65534)
        rc, out, err = self.imapsh("--share", "list", "1")
        self.assertEqual(rc, 6, err)
        self.assertIn(b"owner uid 65534", err)
        lst2.close()
        os.unlink(sock)
        # the directory itself given to another user
        os.chown(self.sockdir, 65534, 65534)
        rc, out, err = self.imapsh("--share", "list", "1")
        self.assertEqual(rc, 6, err)
        self.assertIn(b"is not a private directory of yours", err)
        os.chown(self.sockdir, 0, 0)
        lst.close()
        self.assertEqual(self.relay.accepted, 1, "nothing ran after a refusal")

    def test_account_key(self):
        """share = DURATION in an [account] section; --no-share wins."""
        env = h.testbed()
        cfg = os.path.join(self.tmp, "config")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("[account t]\nhost = %s\nport = %d\nuser = alice\nca-file = %s\n"
                    "share = 90\n" % (env["host"], self.relay.port, env["ca_file"]))
        words = ["--config", cfg, "--resolve", "%s:%d:127.0.0.1" % (env["host"], self.relay.port),
                 "-a", "t"]
        e = dict(self.env)
        runs = [h.run_imapsh(words + ["list", "3"], env=e, home=self.home) for _ in range(3)]
        for rc, out, err in runs:
            self.assertEqual((rc, out), (0, runs[0][1]), err)
        self.assertEqual(self.relay.accepted, 1)
        self.assertIn("90 s idle at most", self.log())
        self.assertEqual(h.run_imapsh(words + ["--no-share", "list", "3"], env=e,
                                      home=self.home)[:2], (0, runs[0][1]))
        self.assertEqual(self.relay.accepted, 2)
        self.assertEqual(h.run_imapsh(words + ["--share=stop"], env=e, home=self.home)[0], 0)
        self.assertTrue(self.wait_for(lambda: not self.master_pids(), 5), self.log())

    def test_bad_duration(self):
        rc, out, err = self.imapsh("--share=5x", "list", "1")
        self.assertEqual(rc, 2)
        self.assertIn(b"--share: '5x' is not a duration", err)
        cfg = os.path.join(self.tmp, "config")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("[defaults]\nshare = forever\n")
        rc, out, err = self.imapsh("--config", cfg, "list", "1")
        self.assertEqual(rc, 2)
        self.assertIn(b"share: 'forever' is not a duration such as 90, 5m or 1h", err)
        self.assertEqual(self.relay.accepted, 0)

    # ------------------------------------------------------------ timing

    def test_timing_five_commands(self):
        """A five-command script with and without --share (printed)."""
        script = [["list", "5"], ["show", "1"], ["flag", "1", "seen"], ["folders"],
                  ["list", "1"]]
        times = {}
        for mode in ("--no-share", "--share"):
            t0 = time.monotonic()
            for words in script:
                rc, _, err = self.imapsh(mode, *words)
                self.assertEqual(rc, 0, err)
            times[mode] = time.monotonic() - t0
        print("\nfive one-shots on loopback: without --share %.0f ms, with --share %.0f ms"
              % (times["--no-share"] * 1000, times["--share"] * 1000))
        self.assertEqual(self.relay.accepted, 6)


if __name__ == "__main__":
    unittest.main()
