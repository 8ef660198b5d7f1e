#!/usr/bin/env python3
"""Backup and restore on one test-bed Dovecot (run by backup.sh).

Jobs (each tool BENCH_RUNS times, the median reported):
  import   a Maildir of BENCH_MESSAGES generated messages (~129 MB for
           10,000; made by exporting the generated folder once) uploaded into
           a new folder: imapsh import (MULTIAPPEND batches), mbsync pushing
           the same Maildir (Sync Push, Create Far), and the floor: openssl
           s_client fed one MULTIAPPEND of every message (LITERAL+, no
           parsing, one server transaction)
  rerun    the generated folder exported, then exported again: imapsh export
           --all --folders bench full (a fresh directory), the same rerun with
           nothing changed, and again after 1% of the messages had a flag
           changed; mbsync Pull the same three ways; the floor for a rerun:
           s_client doing LOGIN, STATUS (HIGHESTMODSEQ) and LOGOUT, the least
           any rerun must ask

Wall time, CPU time (user+sys) and peak RSS as bench.py; the ratios asked
for: imapsh import / mbsync push, rerun unchanged / full, rerun with 1%
flags / full, each with the same ratio for mbsync and the floor's time.
"""
import os
import re
import statistics
import subprocess
import sys

import bench as b

RUNS = b.RUNS
SRC = os.path.join(b.BDIR, "src")


def pushed_config(e, near, far_box):
    conf = os.path.join(b.BDIR, "mbsyncrc-push")
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

Channel push
Far :bench-far:{far}
Near :bench-near:src
Create Far
Sync Push
SyncState *
""".format(port=e.port, user=b.USER, pw=e.pw, ca=e.ca, near=near, far=far_box))
    return conf


def imap(e):
    import imaplib
    import ssl
    ctx = ssl.create_default_context(cafile=e.ca)
    m = imaplib.IMAP4_SSL("localhost", e.port, ssl_context=ctx)
    m.login(b.USER, e.pw)
    return m


def drop_folder(e, name):
    m = imap(e)
    try:
        m.delete(name)
    finally:
        m.logout()


def import_tools(e, n):
    state = {"k": 0}

    def target(tool):
        state["k"] += 1
        return "restore-%s-%d" % (tool, state["k"])

    def clean_src():
        for sub in ("", "cur", "new", "tmp"):
            d = os.path.join(SRC, "src", sub)
            for name in os.listdir(d):
                if name.startswith(".imapsh-import") or name.startswith(".mbsync"):
                    os.remove(os.path.join(d, name))

    def count(box):
        m = imap(e)
        try:
            typ, data = m.status(box, "(MESSAGES)")
            return int(re.search(rb"MESSAGES (\d+)", data[0]).group(1))
        finally:
            m.logout()

    def imapsh():
        clean_src()
        box = target("imapsh")
        r = b.timed(e.imapsh("import", os.path.join(SRC, "src"), box), env=e.proc_env)
        got = count(box)
        drop_folder(e, box)
        return r, got

    def mbsync():
        clean_src()
        box = target("mbsync")
        conf = pushed_config(e, SRC, box)
        r = b.timed(["mbsync", "-q", "-c", conf, "push"], env=e.proc_env)
        got = count(box)
        drop_folder(e, box)
        return r, got

    def floor():
        box = target("floor")
        m = imap(e)
        m.create(box)
        m.logout()
        files = []
        for sub in ("cur", "new"):
            d = os.path.join(SRC, "src", sub)
            files += [os.path.join(d, x) for x in sorted(os.listdir(d)) if not x.startswith(".")]
        parts = [('a LOGIN %s "%s"\r\nb APPEND %s' % (b.USER, e.pw, box)).encode()]
        for p in files:
            with open(p, "rb") as f:
                data = f.read()
            parts.append(b" (\\Seen) {%d+}\r\n" % len(data) + data)
        parts.append(b"\r\nc LOGOUT\r\n")
        r = b.timed(e.sclient(), stdin=b"".join(parts), stdout=subprocess.PIPE)
        got = count(box)
        drop_folder(e, box)
        return r, got

    return [("imapsh import", imapsh), ("mbsync push", mbsync), ("s_client floor", floor)]


def change_flags(e, pct):
    """+FLAGS \\Flagged on pct% of the folder's messages (spread out)."""
    m = imap(e)
    try:
        m.select(b.FOLDER)
        step = int(100 / pct)
        uids = ",".join(str(u) for u in e.uids[::step])
        m.uid("STORE", uids, "FLAGS", "(\\Flagged)")
    finally:
        m.logout()


def rerun_tools(e):
    out = os.path.join(e.out, "rerun")

    def imapsh_cmd(d):
        return e.imapsh("export", "--all", d, "--folders", b.FOLDER)

    def mbsync_cmd(d):
        return ["mbsync", "-q", "-c", b.mbsync_config(e, d), "bench"]

    rows = []
    for name, cmd in (("imapsh export --all", imapsh_cmd), ("mbsync pull", mbsync_cmd)):
        full, same, flags = [], [], []
        for i in range(RUNS):
            d = b.fresh(os.path.join(out, name.split()[0]))
            full.append(b.timed(cmd(d), env=e.proc_env))
            same.append(b.timed(cmd(d), env=e.proc_env))
            change_flags(e, 1)
            flags.append(b.timed(cmd(d), env=e.proc_env))
        for what, runs in (("full", full), ("rerun unchanged", same), ("rerun 1% flags", flags)):
            rows.append(("%s: %s" % (name, what), statistics.median(r[0] for r in runs),
                         statistics.median(r[1] for r in runs), max(r[2] for r in runs)))
            b.log("rerun: %s" % rows[-1][0])
    script = ('a LOGIN %s "%s"\r\nb STATUS %s (HIGHESTMODSEQ)\r\nc LOGOUT\r\n'
              % (b.USER, e.pw, b.FOLDER)).encode()
    floor = [b.timed(e.sclient(), stdin=script, stdout=subprocess.PIPE) for _ in range(RUNS)]
    rows.append(("s_client floor: login, status", statistics.median(r[0] for r in floor),
                 statistics.median(r[1] for r in floor), max(r[2] for r in floor)))
    return rows


def print_rows(title, nbytes, rows):
    print("%-40s %9s %9s %9s %9s" % (title, "wall s", "cpu s", "RSS MB", "MB/s"))
    for name, w, c, m in rows:
        rate = "%9.1f" % (nbytes / 1e6 / w) if nbytes else "%9s" % "-"
        print("%-40s %9.3f %9.3f %9.1f %s" % (name, w, c, m / 1024, rate))


def main():
    if os.geteuid() != 0:
        sys.exit("bench: run as root (the test bed needs it)")
    b.log("starting the test bed in %s" % b.BDIR)
    subprocess.run([sys.executable, b.TESTBED, "start", b.BDIR], check=True)
    try:
        import json
        # the folder is imported again beside itself: the bench user's
        # quota (50 MB in the test bed) raised to 4 GB for this run
        pw = os.path.join(b.BDIR, "users.passwd")
        with open(pw, encoding="utf-8") as f:
            text = f.read()
        with open(pw, "w", encoding="utf-8") as f:
            f.write(re.sub(r"(?m)^(%s:.*storage=)\d+K$" % b.USER, r"\g<1>4194304K", text))
        with open(os.path.join(b.BDIR, "env.json"), encoding="utf-8") as f:
            e = b.Env(json.load(f))
        envj = os.path.join(b.BDIR, "env.json")
        r = subprocess.run([sys.executable, os.path.join(b.HERE, "genmail.py"), envj, b.USER,
                            b.FOLDER, str(b.MESSAGES), str(b.TOTAL_MB)], check=True,
                           stdout=subprocess.PIPE)
        n, total_bytes = map(int, r.stdout.split())
        warm = subprocess.run(e.pyimap(b.FOLDER, "list"), env=e.proc_env, check=True,
                              stdout=subprocess.PIPE).stdout
        e.uids = sorted(int(u) for u in re.findall(rb"UID (\d+)", warm))
        b.log("%d messages, %.1f MB" % (n, total_bytes / 1e6))
        # the source Maildir both tools push: the folder exported once
        b.fresh(SRC)
        b.timed(e.imapsh("export", b.FOLDER, os.path.join(SRC, "src")), env=e.proc_env)
        os.makedirs(os.path.join(SRC, "INBOX", "cur"), exist_ok=True)

        def check(name, got):
            if got != n:
                raise RuntimeError("%s: %d messages on the server, not %d" % (name, got, n))

        # BENCH_ONLY=rerun: the export reruns alone (the import job is the long one)
        only = os.environ.get("BENCH_ONLY", "")
        irows = []
        if only != "rerun":
            title, nbytes, irows = b.run_job("import", import_tools(e, n), total_bytes, check)
        rrows = rerun_tools(e)
        print()
        if irows:
            print_rows("import (%d messages, %.1f MB)" % (n, total_bytes / 1e6), total_bytes,
                       irows)
            w = {r[0]: r[1] for r in irows}
            print("imapsh import / mbsync push: %.3f (goal <= 0.5); floor / mbsync push: %.3f"
                  % (w["imapsh import"] / w["mbsync push"],
                     w["s_client floor"] / w["mbsync push"]))
            print()
        print_rows("export reruns (folder %s)" % b.FOLDER, 0, rrows)
        r = {x[0]: x[1] for x in rrows}
        for tool in ("imapsh export --all", "mbsync pull"):
            full = r["%s: full" % tool]
            print("%s: unchanged / full %.3f (goal <= 0.05), 1%% flags / full %.3f "
                  "(goal <= 0.1)" % (tool, r["%s: rerun unchanged" % tool] / full,
                                     r["%s: rerun 1%% flags" % tool] / full))
        print("floor (login, status, logout): %.3f s = %.3f of imapsh's full export"
              % (r["s_client floor: login, status"], r["s_client floor: login, status"] /
                 r["imapsh export --all: full"]))
        print("(medians of %d runs; imapsh %s)" % (RUNS, subprocess.run(
            [b.IMAPSH, "--version"], stdout=subprocess.PIPE).stdout.decode().strip()))
    finally:
        subprocess.run([sys.executable, b.TESTBED, "stop", b.BDIR])
        import shutil
        shutil.rmtree(os.path.join(b.BDIR, "out"), ignore_errors=True)
        shutil.rmtree(SRC, ignore_errors=True)


if __name__ == "__main__":
    main()
