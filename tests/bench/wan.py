#!/usr/bin/env python3
"""imapsh and its peers over a simulated WAN link (run by wan.sh).

A userspace relay (wanrelay.py; the kernel here has no netem) sits between
each client and a test-bed Dovecot, with a one-way delay and a rate in each
direction.  For every task and tool it prints the wall time, the round
trips the relay counted (1 for the TCP handshake, then each time the client
sent after waiting for the server), the bytes each way, and the floor of
that run: round trips x RTT + bytes down / rate.  Above the floor is time
spent in neither the link's latency nor its bandwidth.

Tasks: list (connect, login, newest 50 headers, logout), check (TLS and
greeting, no login), fetch (one message by UID), export (a folder of
WAN_MESSAGES generated messages to local files; -z: --compress auto),
import (that export, uploaded to a new folder of another user; -z: with
--compress auto).  A compressed row prints beside its own floor the floor
of its bytes uncompressed.  Peers where installed:
python3 imaplib as a script writes it (pyimap.py), curl (one URL a message),
mbsync (export), openssl s_client fed the whole session at once (the
pipelined ceiling: LOGIN, EXAMINE, UID FETCH, LOGOUT in one flight).

Environment: WAN_PROFILES ("30:100,150:10": RTT ms : Mbit/s), WAN_MESSAGES
(2000, about 26 MB), WAN_TASKS and WAN_TOOLS (comma lists: only these rows,
e.g. WAN_TASKS=export,import WAN_TOOLS=imapsh,imapsh-z,s_client), WAN_RUNS (1: medians of that many), BENCH_DIR (/tmp/imapsh-wan),
IMAPSH_TESTBED (use a running test bed instead of starting one),
IMAPSH_BIN (required).
"""
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from wanrelay import Relay  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
TESTBED = os.path.join(ROOT, "tests", "testbed", "testbed.py")
USER, FOLDER = "alice", "wanbench"
PROFILES = [tuple(float(x) for x in p.split(":"))
            for p in os.environ.get("WAN_PROFILES", "30:100,150:10").split(",")]
MESSAGES = int(os.environ.get("WAN_MESSAGES", "2000"))
TASKS = [w for w in os.environ.get("WAN_TASKS", "").split(",") if w]
TOOLS = [w for w in os.environ.get("WAN_TOOLS", "").split(",") if w]
RUNS = int(os.environ.get("WAN_RUNS", "1"))
BDIR = os.environ.get("BENCH_DIR", "/tmp/imapsh-wan")
IMAPSH = os.environ.get("IMAPSH_BIN") or sys.exit("wan: set IMAPSH_BIN")

from bench import null_device  # noqa: E402  (the bench's own null device)



def log(msg):
    print("wan: " + msg, file=sys.stderr, flush=True)


def have(cmd):
    return shutil.which(cmd) is not None


class Link:
    def __init__(self, env, rtt_ms, mbit):
        self.env = env
        self.rtt = rtt_ms / 1000.0
        self.rate = mbit * 1e6
        self.relay = Relay((env["addr"], env["ports"]["imaps"]), rtt_ms / 2.0, self.rate).start()
        self.port = self.relay.port
        self.ca = env["ca_file"]
        self.pw = env["users"][USER]["password"]
        self.penv = dict(os.environ, IMAPSH_PASSWORD=self.pw, LC_ALL="C.UTF-8")

    def imapsh(self, *args, user=USER):
        return [IMAPSH, "-q", "--ca-file", self.ca, "--resolve",
                "localhost:%d:127.0.0.1" % self.port, "%s@localhost:%d" % (user, self.port)] \
            + list(args)

    def pyimap(self, *args):
        return [sys.executable, os.path.join(HERE, "pyimap.py"), "localhost", str(self.port),
                self.ca, USER, FOLDER] + list(args)

    def curl(self, *args):
        return ["curl", "-sS", "--cacert", self.ca, "--resolve",
                "localhost:%d:127.0.0.1" % self.port, "-u", "%s:%s" % (USER, self.pw)] \
            + list(args)

    def sclient(self):
        return ["openssl", "s_client", "-quiet", "-ign_eof", "-connect",
                "127.0.0.1:%d" % self.port, "-servername", "localhost", "-CAfile", self.ca,
                "-verify_return_error"]

    def script(self, uids, items, login=True):
        s = ('a LOGIN %s "%s"\r\nb EXAMINE %s\r\nc UID FETCH %s %s\r\n'
             % (USER, self.pw, FOLDER, uids, items)) if login else ""
        return (s + "d LOGOUT\r\n").encode()

    def run(self, cmd, stdin=None, cwd=None, live=False, env=None):
        """(wall s, round trips, bytes up, bytes down, connections, waits) of
        one run.  live: a --share master's connection stays open across it."""
        if not live:
            self.relay.idle()
        self.relay.reset()
        t0 = time.monotonic()
        p = subprocess.run(cmd, input=stdin, stdout=null_device(), stderr=subprocess.PIPE,
                           env=env or self.penv, cwd=cwd)
        wall = time.monotonic() - t0
        if p.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (cmd[0], p.returncode,
                                                        p.stderr.decode(errors="replace")[-800:]))
        if not live:
            self.relay.idle()
        st = self.relay.stats()
        return (wall, st["round_trips"], st["bytes_up"], st["bytes_down"], st["connections"],
                st["waits"])


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def shared(link, *words):
    """imapsh --share: a one-shot of a script after the first (which left
    the session behind and is not measured); 0 connections."""
    def go():
        cmd = link.imapsh("--share=60", *words)
        quiet = {"env": link.penv, "stdout": null_device(), "stderr": null_device()}
        subprocess.run(cmd, check=True, **quiet)
        try:
            return link.run(cmd, live=True)
        finally:
            subprocess.run(link.imapsh("--share=stop"), **quiet)
    return go


def tools(link, uids, out):
    newest = "%d:*" % max(1, len(uids) - 49)
    hdr = "(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)"
    t = {"list": [], "check": [], "fetch": [], "export": []}
    t["list"].append(("imapsh", lambda: link.run(link.imapsh("-f", FOLDER, "list"))))
    t["list"].append(("imaplib", lambda: link.run(link.pyimap("list", newest))))
    t["list"].append(("--share", shared(link, "-f", FOLDER, "list")))
    t["check"].append(("imapsh", lambda: link.run(link.imapsh("check"))))
    t["fetch"].append(("imapsh", lambda: link.run(link.imapsh("-f", FOLDER, "fetch",
                                                              str(uids[0])))))
    t["fetch"].append(("imaplib", lambda: link.run(link.pyimap("fetch", str(uids[0])))))
    t["export"].append(("imapsh", lambda: link.run(
        link.imapsh("export", FOLDER, fresh(os.path.join(out, "imapsh"))))))
    t["export"].append(("imapsh-z", lambda: link.run(
        link.imapsh("--compress", "auto", "export", FOLDER, fresh(os.path.join(out, "imapsh"))))))
    t["export"].append(("imaplib", lambda: link.run(
        link.pyimap("export", fresh(os.path.join(out, "imaplib"))))))
    t["import"] = import_tools(link, out)
    if have("curl"):
        t["fetch"].append(("curl", lambda: link.run(link.curl(
            "-o", os.path.join(fresh(os.path.join(out, "curl")), "m"),
            "imaps://localhost:%d/%s;UID=%d" % (link.port, FOLDER, uids[0])))))

        def curl_export():
            d = fresh(os.path.join(out, "curl"))
            cfg = os.path.join(out, "curl-urls")
            with open(cfg, "w") as f:
                for u in uids:
                    f.write('url = "imaps://localhost:%d/%s;UID=%d"\noutput = "%s/%d"\n'
                            % (link.port, FOLDER, u, d, u))
            return link.run(link.curl("--config", cfg))
        t["export"].append(("curl", curl_export))
    if have("mbsync"):
        def mbsync():
            d = fresh(os.path.join(out, "mbsync"))
            conf = os.path.join(out, "mbsyncrc")
            with open(conf, "w") as f:
                f.write("IMAPAccount b\nHost localhost\nPort %d\nUser %s\nPass \"%s\"\n"
                        "SSLType IMAPS\nCertificateFile %s\n\nIMAPStore far\nAccount b\n\n"
                        "MaildirStore near\nPath %s/\nInbox %s/INBOX\nSubFolders Verbatim\n\n"
                        "Channel b\nFar :far:\nNear :near:\nPatterns %s\nCreate Near\n"
                        "Sync Pull\nSyncState *\n" % (link.port, USER, link.pw, link.ca, d, d,
                                                      FOLDER))
            return link.run(["mbsync", "-q", "-c", conf, "b"])
        t["export"].append(("mbsync", mbsync))
    if have("openssl"):
        sc = link.sclient()
        t["list"].append(("s_client", lambda: link.run(sc, link.script(newest, hdr))))
        t["check"].append(("s_client", lambda: link.run(sc, link.script("", "", False))))
        t["fetch"].append(("s_client", lambda: link.run(sc, link.script(str(uids[0]),
                                                                        "BODY.PEEK[]"))))
        t["export"].append(("s_client", lambda: link.run(sc, link.script("1:*", "BODY.PEEK[]"))))
    return t


IUSER = "bob"  # the import's user: alice's quota holds the export's folder


def import_tools(link, out):
    """imapsh import (plain and --compress auto) of the export of FOLDER
    (out/src, made on loopback) into a new folder of IUSER, and the
    s_client ceiling: one MULTIAPPEND of every message with LITERAL+."""
    src = os.path.join(out, "src")
    pw = link.env["users"][IUSER]["password"]
    ienv = dict(link.penv, IMAPSH_PASSWORD=pw)
    k = {"n": 0}

    def box():
        k["n"] += 1
        return "wanimport%d" % k["n"]

    def drop(name):
        m = imap_login(link.env, IUSER)
        try:
            m.delete(name)
        finally:
            m.logout()

    def imapsh(*opts):
        def go():
            for sub in ("", "cur", "new", "tmp"):
                d = os.path.join(src, sub)
                for name in os.listdir(d):
                    if name.startswith(".imapsh-import"):
                        os.remove(os.path.join(d, name))
            b = box()
            try:
                return link.run(link.imapsh(*opts, "import", src, b, user=IUSER), env=ienv)
            finally:
                drop(b)
        return go

    def sclient():
        b = box()
        tok = base64.b64encode(b"\0" + IUSER.encode() + b"\0" + pw.encode()).decode()
        parts = [("a AUTHENTICATE PLAIN %s\r\nb CREATE %s\r\nc APPEND %s" % (tok, b, b)).encode()]
        for sub in ("cur", "new"):
            d = os.path.join(src, sub)
            for name in sorted(os.listdir(d)):
                if not name.startswith("."):
                    with open(os.path.join(d, name), "rb") as f:
                        data = f.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
                    parts.append(b" (\\Seen) {%d+}\r\n" % len(data) + data)
        parts.append(b"\r\nd LOGOUT\r\n")
        try:
            return link.run(link.sclient(), b"".join(parts))
        finally:
            drop(b)

    rows = [("imapsh", imapsh()), ("imapsh-z", imapsh("--compress", "auto"))]
    if have("openssl"):
        rows.append(("s_client", sclient))
    return rows


def imap_login(env, user):
    import imaplib
    import ssl
    ctx = ssl.create_default_context(cafile=env["ca_file"])
    m = imaplib.IMAP4_SSL("localhost", env["ports"]["imaps"], ssl_context=ctx)
    pw = env["users"][user]["password"]
    m.authenticate("PLAIN", lambda _: ("\0%s\0%s" % (user, pw)).encode("utf-8"))
    return m


def main():
    own = not os.environ.get("IMAPSH_TESTBED")
    tb = BDIR if own else os.environ["IMAPSH_TESTBED"]
    if own:
        log("starting the test bed in %s" % tb)
        subprocess.run([sys.executable, TESTBED, "start", tb], check=True)
    out = os.path.join(BDIR, "out")
    os.makedirs(out, exist_ok=True)
    try:
        envj = os.path.join(tb, "env.json")
        with open(envj, encoding="utf-8") as f:
            env = json.load(f)
        r = subprocess.run([sys.executable, os.path.join(HERE, "genmail.py"), envj, USER, FOLDER,
                            str(MESSAGES), str(129.0 * MESSAGES / 10000)], check=True,
                           stdout=subprocess.PIPE)
        n, total = map(int, r.stdout.split())
        log("%d messages, %.1f MB in %s" % (n, total / 1e6, FOLDER))
        if not TASKS or "import" in TASKS:
            # the import's source: the folder exported on loopback
            subprocess.run([IMAPSH, "-q", "--ca-file", env["ca_file"], "--resolve",
                            "localhost:%d:127.0.0.1" % env["ports"]["imaps"],
                            "%s@localhost:%d" % (USER, env["ports"]["imaps"]), "export", FOLDER,
                            fresh(os.path.join(out, "src"))], check=True,
                           env=dict(os.environ, IMAPSH_PASSWORD=env["users"][USER]["password"]))
        print("%-7s %-9s %-10s %8s %5s %9s %9s %8s %6s" % (
            "link", "task", "tool", "wall ms", "RTs", "up KB", "down KB", "floor ms", "x"))
        for rtt, mbit in PROFILES:
            link = Link(env, rtt, mbit)
            warm = subprocess.run(link.pyimap("uids"), env=link.penv, check=True,
                                  stdout=subprocess.PIPE).stdout.split()
            uids = sorted(int(u) for u in warm)
            plain = {}
            for task, rows in tools(link, uids, out).items():
                if TASKS and task not in TASKS:
                    continue
                for name, fn in rows:
                    if TOOLS and name not in TOOLS:
                        continue
                    res = [fn() for _ in range(RUNS)]
                    wall = statistics.median(r[0] for r in res)
                    rts, up, down, conns, waits = res[0][1:6]
                    # the link's floor: the waits (round trips with the
                    # link idle) and the bytes of the busier direction
                    wire = max(up, down)
                    floor = waits * link.rtt + wire * 8.0 / link.rate
                    note = "" if conns == 1 else "  (%d connections)" % conns
                    if name == "imapsh":
                        plain[task] = wire
                    elif name.endswith("-z") and task in plain:
                        # compressed: the floor of the same bytes uncompressed too
                        pf = waits * link.rtt + plain[task] * 8.0 / link.rate
                        note += "  (uncompressed floor %.0f ms, x %.2f)" % (pf * 1000, wall / pf)
                    print("%-7s %-9s %-10s %8.0f %5s %9.1f %9.1f %8.0f %6.2f%s" % (
                        "%g/%g" % (rtt, mbit), task, name, wall * 1000,
                        "%d/%d" % (waits, rts), up / 1e3, down / 1e3, floor * 1000,
                        wall / floor if floor else 0, note), flush=True)
            link.relay.stop()
        print("(RTT ms / Mbit/s each way; RTs: waits/round trips the relay counted, a wait a"
              " round trip with the link idle both ways; floor: waits x RTT + the busier"
              " direction's bytes / rate; x: wall / floor; -z: --compress auto; %d message(s)"
              " of %.1f MB; median of %d)" % (n, total / 1e6, RUNS))
    finally:
        shutil.rmtree(out, ignore_errors=True)
        if own:
            subprocess.run([sys.executable, TESTBED, "stop", tb])


if __name__ == "__main__":
    main()
