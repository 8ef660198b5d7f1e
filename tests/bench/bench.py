#!/usr/bin/env python3
"""imapsh against its peers on one test-bed Dovecot (run by bench.sh).

Jobs (each tool BENCH_RUNS times, the median reported):
  export   every message of a folder of BENCH_MESSAGES generated messages
           (~129 MB for 10,000) to local files: imapsh export (Maildir,
           fsync'd), mbsync (Maildir, default settings: fsync per message),
           python3 imaplib (one UID FETCH 1:*, a file per message), curl (one
           connection, one URL per UID), openssl s_client fed a pipelined
           LOGIN/SELECT/UID FETCH 1:* BODY.PEEK[] script (the ceiling: no
           parsing, one output file); and the durable-write floor: the
           files imapsh wrote, created, synced (one syncfs per 2,000) and
           renamed into a Maildir again with nothing else
           (durable_floor.c)
  headers  UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE) to a
           pipe: imapsh (list 1:* where it exists, else quote), imaplib,
           s_client
  big      one BENCH_BIG_MB message to a file: imapsh (fetch -o where it
           exists, else quote to a file), curl, s_client
  version  imapsh --version

Wall time (monotonic clock around the process), CPU time (user+sys) and peak
RSS from /usr/bin/time, MB/s over the message bytes, and imapsh's wall and
CPU time divided by each peer's (below 1: imapsh is faster).

Environment: BENCH_RUNS (5), BENCH_MESSAGES (10000), BENCH_BIG_MB (50),
BENCH_DIR (/tmp/imapsh-bench), IMAPSH_BIN (required; bench.sh builds one).
"""
import json
import os
import shutil
import stat
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TESTBED = os.path.join(ROOT, "tests", "testbed", "testbed.py")
USER = "alice"
FOLDER, BIG = "bench", "bench-big"

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "10000"))
BIG_MB = float(os.environ.get("BENCH_BIG_MB", "50"))
TOTAL_MB = 129.0 * MESSAGES / 10000
BDIR = os.environ.get("BENCH_DIR", "/tmp/imapsh-bench")
IMAPSH = os.environ.get("IMAPSH_BIN") or sys.exit("bench: set IMAPSH_BIN")



_NULL = []


def null_device():
    """A null device of our own (mknod 1,3 in a private folder; a plain
    file where mknod is not allowed): the bench never opens the system's
    /dev/null.  Open for reading and writing."""
    if not _NULL:
        d = tempfile.mkdtemp(prefix="imapsh-bench-null-")
        path = os.path.join(d, "null")
        try:
            os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        except (PermissionError, OSError):
            open(path, "wb").close()
        _NULL.append(open(path, "r+b"))
    return _NULL[0]

def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


class Env:
    def __init__(self, env):
        self.env = env
        self.port = env["ports"]["imaps"]
        self.ca = env["ca_file"]
        self.pw = env["users"][USER]["password"]
        self.proc_env = dict(os.environ, IMAPSH_PASSWORD=self.pw, LC_ALL="C.UTF-8")
        self.out = os.path.join(BDIR, "out")

    def imapsh(self, *args):
        return [IMAPSH, "-q", "--ca-file", self.ca, "--resolve",
                "localhost:%d:127.0.0.1" % self.port, "%s@localhost:%d" % (USER, self.port)] \
            + list(args)

    def pyimap(self, folder, *args):
        return [sys.executable, os.path.join(HERE, "pyimap.py"), "localhost", str(self.port),
                self.ca, USER, folder] + list(args)

    def sclient(self):
        return ["openssl", "s_client", "-quiet", "-ign_eof", "-connect",
                "127.0.0.1:%d" % self.port, "-servername", "localhost", "-CAfile", self.ca,
                "-verify_return_error"]

    def sclient_script(self, folder, items, uids="1:*"):
        return ('a LOGIN %s "%s"\r\nb EXAMINE %s\r\nc UID FETCH %s %s\r\nd LOGOUT\r\n'
                % (USER, self.pw, folder, uids, items)).encode()

    def curl(self, *args):
        return ["curl", "-sS", "--cacert", self.ca, "--resolve",
                "localhost:%d:127.0.0.1" % self.port, "-u", "%s:%s" % (USER, self.pw)] \
            + list(args)


def timed(cmd, stdin=None, stdout=None, cwd=None, env=None):
    """Run cmd under /usr/bin/time: (wall s, cpu s, peak RSS KB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        full = ["/usr/bin/time", "-o", tf.name, "-f", "%U %S %M"] + cmd
        t0 = time.monotonic()
        p = subprocess.Popen(full, stdin=subprocess.PIPE if stdin is not None else
                             null_device(), stdout=stdout or null_device(),
                             stderr=subprocess.PIPE, cwd=cwd, env=env)
        _, err = p.communicate(stdin)
        wall = time.monotonic() - t0
        if p.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (cmd[0], p.returncode,
                                                        err.decode(errors="replace")[-2000:]))
        u, s, m = tf.read().split()[-3:]
        return wall, float(u) + float(s), int(m)


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def count_files(d):
    n = 0
    for _, _, files in os.walk(d):
        n += len(files)
    return n


def mbsync_config(e, near):
    conf = os.path.join(BDIR, "mbsyncrc")
    with open(conf, "w") as f:
        f.write("""IMAPAccount bench
Host localhost
Port {port}
User {user}
Pass "{pw}"
SSLType IMAPS
CertificateFile {ca}

IMAPStore bench-far
Account bench

MaildirStore bench-near
Path {near}/
Inbox {near}/INBOX
SubFolders Verbatim

Channel bench
Far :bench-far:
Near :bench-near:
Patterns {folder}
Create Near
Sync Pull
SyncState *
""".format(port=e.port, user=USER, pw=e.pw, ca=e.ca, near=near, folder=FOLDER))
    return conf


def has_command(e, name):
    r = subprocess.run([IMAPSH, "help", name], stdout=null_device(), stderr=null_device())
    return r.returncode == 0


def export_tools(e, total_bytes):
    out = e.out

    def imapsh(*opts):
        def run():
            d = fresh(os.path.join(out, "imapsh"))
            r = timed(e.imapsh(*opts, "export", FOLDER, d), env=e.proc_env)
            return r, count_files(os.path.join(d, "cur"))
        return run

    def mbsync():
        d = fresh(os.path.join(out, "mbsync"))
        conf = mbsync_config(e, d)
        r = timed(["mbsync", "-q", "-c", conf, "bench"], env=e.proc_env)
        return r, (count_files(os.path.join(d, FOLDER, "cur")) +
                   count_files(os.path.join(d, FOLDER, "new")))

    def imaplib():
        d = fresh(os.path.join(out, "imaplib"))
        r = timed(e.pyimap(FOLDER, "export", d), env=e.proc_env)
        return r, count_files(d)

    def curl():
        d = fresh(os.path.join(out, "curl"))
        uids = e.uids
        cfg = os.path.join(BDIR, "curl-urls")
        with open(cfg, "w") as f:
            for u in uids:
                f.write('url = "imaps://localhost:%d/%s;UID=%d"\noutput = "%s/%d"\n'
                        % (e.port, FOLDER, u, d, u))
        r = timed(e.curl("--config", cfg), env=e.proc_env)
        return r, count_files(d)

    def sclient():
        d = fresh(os.path.join(out, "sclient"))
        with open(os.path.join(d, "all"), "wb") as f:
            r = timed(e.sclient(), stdin=e.sclient_script(FOLDER, "BODY.PEEK[]"), stdout=f)
        return r, os.path.getsize(os.path.join(d, "all"))

    def floor():
        # the same files as imapsh's last export (still in out/imapsh),
        # created, synced and renamed with nothing else
        d = os.path.join(out, "floor")
        shutil.rmtree(d, ignore_errors=True)
        r = timed([durable_floor(), os.path.join(out, "imapsh"), d])
        return r, count_files(os.path.join(d, "cur"))

    # the default (no compression, as the peers run), then with
    # COMPRESS=DEFLATE, which the test bed's Dovecot offers; then the
    # durable-write floor of the files the export wrote
    return [("imapsh export", imapsh()), ("  --compress yes", imapsh("--compress", "yes")),
            ("durable floor", floor), ("mbsync", mbsync), ("imaplib", imaplib), ("curl", curl),
            ("s_client", sclient)]


def durable_floor():
    """tests/bench/durable_floor.c, compiled once into BENCH_DIR."""
    exe = os.path.join(BDIR, "durable_floor")
    if not os.path.exists(exe):
        subprocess.run(["cc", "-O2", "-Wall", "-o", exe, os.path.join(HERE, "durable_floor.c")],
                       check=True)
    return exe


def header_tools(e):
    items = "(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)"
    if has_command(e, "list"):
        name, args = "imapsh list", ["-f", FOLDER, "list", "1:*"]
    else:
        name, args = "imapsh quote", ["-c", "examine %s; quote 'UID FETCH 1:* %s'"
                                      % (FOLDER, items)]

    def imapsh():
        return timed(e.imapsh(*args), stdout=subprocess.PIPE, env=e.proc_env), None

    def imaplib():
        return timed(e.pyimap(FOLDER, "list"), stdout=subprocess.PIPE, env=e.proc_env), None

    def sclient():
        return timed(e.sclient(), stdin=e.sclient_script(FOLDER, items),
                     stdout=subprocess.PIPE), None

    return [(name, imapsh), ("imaplib", imaplib), ("s_client", sclient)]


def big_tools(e):
    out = os.path.join(e.out, "big")
    target = os.path.join(out, "msg")
    if has_command(e, "fetch"):
        name, args = "imapsh fetch", ["-f", BIG, "-o", target, "fetch", "1"]
        to_file = False
    else:
        name, args = "imapsh quote", ["-c", "examine %s; quote 'UID FETCH 1 BODY.PEEK[]'" % BIG]
        to_file = True

    def imapsh(*opts):
        def run():
            fresh(out)
            if to_file:
                with open(target, "wb") as f:
                    return timed(e.imapsh(*opts, *args), stdout=f, env=e.proc_env), None
            return timed(e.imapsh(*opts, *args), env=e.proc_env), None
        return run

    def curl():
        fresh(out)
        return timed(e.curl("-o", target, "imaps://localhost:%d/%s;UID=1" % (e.port, BIG)),
                     env=e.proc_env), None

    def sclient():
        fresh(out)
        with open(target, "wb") as f:
            return timed(e.sclient(), stdin=e.sclient_script(BIG, "BODY.PEEK[]", "1"),
                         stdout=f), None

    return [(name, imapsh()), ("  --compress yes", imapsh("--compress", "yes")), ("curl", curl),
            ("s_client", sclient)]


def run_job(title, tools, nbytes, check=None):
    rows = []
    for name, fn in tools:
        walls, cpus, rss = [], [], []
        for i in range(RUNS):
            (w, c, m), got = fn()
            if i == 0 and check is not None:
                check(name, got)
            walls.append(w)
            cpus.append(c)
            rss.append(m)
        rows.append((name, statistics.median(walls), statistics.median(cpus), max(rss)))
        log("%s: %s %.2f s" % (title, name, rows[-1][1]))
    return (title, nbytes, rows)


def print_table(jobs):
    print()
    print("%-8s %-15s %9s %9s %9s %9s %8s %8s" % ("job", "tool", "wall s", "cpu s",
                                                   "RSS MB", "MB/s", "wall x", "cpu x"))
    for title, nbytes, rows in jobs:
        me = rows[0]
        for name, w, c, m in rows:
            rate = "%9.1f" % (nbytes / 1e6 / w) if nbytes else "%9s" % "-"
            rw = "%8.2f" % (me[1] / w) if name != me[0] else "%8s" % "1"
            rc = ("%8.2f" % (me[2] / c) if c > 0 else "%8s" % "-") if name != me[0] \
                else "%8s" % "1"
            print("%-8s %-15s %9.3f %9.3f %9.1f %s %s %s" % (title, name, w, c, m / 1024, rate,
                                                             rw, rc))
    print("(wall x / cpu x: imapsh's time divided by the peer's; below 1 imapsh is faster;"
          " medians of %d runs, RSS the largest)" % RUNS)


def main():
    if os.geteuid() != 0:
        sys.exit("bench: run as root (the test bed needs it)")
    log("starting the test bed in %s" % BDIR)
    subprocess.run([sys.executable, TESTBED, "start", BDIR], check=True)
    try:
        with open(os.path.join(BDIR, "env.json"), encoding="utf-8") as f:
            e = Env(json.load(f))
        envj = os.path.join(BDIR, "env.json")
        r = subprocess.run([sys.executable, os.path.join(HERE, "genmail.py"), envj, USER, FOLDER,
                            str(MESSAGES), str(TOTAL_MB)], check=True, stdout=subprocess.PIPE)
        n, total_bytes = map(int, r.stdout.split())
        r = subprocess.run([sys.executable, os.path.join(HERE, "genmail.py"), envj, USER, BIG,
                            "1", str(BIG_MB), "--single"], check=True, stdout=subprocess.PIPE)
        _, big_bytes = map(int, r.stdout.split())
        log("%d messages, %.1f MB; one of %.1f MB" % (n, total_bytes / 1e6, big_bytes / 1e6))
        # Warm up: Dovecot indexes the folders, the page cache holds them.
        warm = subprocess.run(e.pyimap(FOLDER, "list"), env=e.proc_env, check=True,
                              stdout=subprocess.PIPE).stdout
        e.uids = sorted(int(u) for u in __import__("re").findall(rb"UID (\d+)", warm))
        timed(e.sclient(), stdin=e.sclient_script(FOLDER, "BODY.PEEK[]"))
        timed(e.sclient(), stdin=e.sclient_script(BIG, "BODY.PEEK[]", "1"))

        def check(name, got):
            if name == "s_client":
                if got < total_bytes:
                    raise RuntimeError("s_client got %d bytes of %d" % (got, total_bytes))
            elif got != n:
                raise RuntimeError("%s wrote %s messages of %d" % (name, got, n))

        jobs = [run_job("export", export_tools(e, total_bytes), total_bytes, check),
                run_job("headers", header_tools(e), 0),
                run_job("big", big_tools(e), big_bytes)]
        ver = [timed([IMAPSH, "--version"])[0] for _ in range(max(RUNS, 5))]
        print_table(jobs)
        print("imapsh --version: %.1f ms (median of %d)" % (statistics.median(ver) * 1000,
                                                           len(ver)))
        print("%d messages, %.1f MB; big message %.1f MB; imapsh %s" % (
            n, total_bytes / 1e6, big_bytes / 1e6, subprocess.run(
                [IMAPSH, "--version"], stdout=subprocess.PIPE).stdout.decode().strip()))
    finally:
        subprocess.run([sys.executable, TESTBED, "stop", BDIR])
        shutil.rmtree(os.path.join(BDIR, "out"), ignore_errors=True)


if __name__ == "__main__":
    main()
