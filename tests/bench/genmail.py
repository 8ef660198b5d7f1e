#!/usr/bin/env python3
"""Fill a test-bed user's Maildir folder with generated mail, fast: the
files are written straight into FOLDER/cur as the mail user (Dovecot
assigns UIDs on the first SELECT), so 10,000 messages take seconds, not the
minutes APPEND would.

    genmail.py ENV_JSON USER FOLDER COUNT TOTAL_MB [--seed N]
        COUNT messages of realistic sizes (log-normal: mostly a few KB of
        text, some with attachments of tens or hundreds of KB) adding up
        to about TOTAL_MB megabytes
    genmail.py ENV_JSON USER FOLDER 1 SIZE_MB --single
        one message of SIZE_MB megabytes (a big base64 attachment)

Deterministic for a seed.  Prints "COUNT BYTES" on stdout.
"""

import base64
import email.utils
import json
import os
import random
import sys
import time

WORDS = ("the quarterly report meeting notes budget review deadline project update "
         "please find attached thanks regards schedule from next week call agenda "
         "invoice draft final version comments feedback server backup release").split()


def mutf7_simple(name):
    if not all(0x20 <= ord(c) < 0x7f and c != "&" for c in name):
        raise SystemExit("genmail: use an ASCII folder name")
    return name


def folder_dir(maildir, folder):
    if folder == "INBOX":
        return maildir
    return os.path.join(maildir, "." + mutf7_simple(folder).replace("/", "."))


def text_lines(rng, nbytes):
    out, n = [], 0
    while n < nbytes:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 14)))
        if rng.random() < 0.01:
            line = "From " + line  # mbox writers must quote this
        out.append(line)
        n += len(line) + 2
    return "\r\n".join(out) + "\r\n"


def b64_lines(data):
    s = base64.b64encode(data).decode()
    return "\r\n".join(s[i:i + 76] for i in range(0, len(s), 76)) + "\r\n"


def message(rng, i, size, when):
    head = ("Return-Path: <sender%d@example.test>\r\n"
            "From: Sender %d <sender%d@example.test>\r\n"
            "To: Alice Example <alice@example.test>\r\n"
            "Subject: %s %d\r\n"
            "Date: %s\r\n"
            "Message-ID: <bench.%d@example.test>\r\n"
            "MIME-Version: 1.0\r\n"
            % (i % 97, i % 97, i % 97, " ".join(rng.choice(WORDS) for _ in range(5)), i,
               email.utils.format_datetime(when), i))
    if size < 16000:
        body = text_lines(rng, max(size - len(head) - 60, 40))
        return (head + "Content-Type: text/plain; charset=us-ascii\r\n\r\n" + body).encode()
    b = "b%08d" % i
    text = text_lines(rng, rng.randint(300, 3000))
    raw = max((size - len(head) - len(text) - 400) * 3 // 4 * 76 // 78, 100)
    att = b64_lines(rng.randbytes(raw))
    return (head + 'Content-Type: multipart/mixed; boundary="%s"\r\n\r\n--%s\r\n'
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n%s--%s\r\n"
            'Content-Type: application/octet-stream; name="file%d.bin"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n%s--%s--\r\n"
            % (b, b, text, b, i, att, b)).encode()


def sizes(rng, count, total):
    raw = [rng.lognormvariate(0, 1.1) for _ in range(count)]
    scale = total / sum(raw)
    return [min(max(int(r * scale), 900), 4 * 1024 * 1024) for r in raw]


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    single = "--single" in argv
    seed = 1
    for a in argv[1:]:
        if a.startswith("--seed="):
            seed = int(a.split("=", 1)[1])
    if len(args) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    env_json, user, folder, count, total_mb = args[0], args[1], args[2], int(args[3]), \
        float(args[4])
    with open(env_json, encoding="utf-8") as f:
        env = json.load(f)
    uid, gid = env["mail_uid"], env["mail_gid"]
    d = folder_dir(env["users"][user]["maildir"], folder)
    for sub in ("", "cur", "new", "tmp"):
        p = os.path.join(d, sub)
        os.makedirs(p, mode=0o700, exist_ok=True)
        os.chown(p, uid, gid)
    if folder != "INBOX":
        p = os.path.join(d, "maildirfolder")
        open(p, "w").close()
        os.chown(p, uid, gid)
    rng = random.Random(seed)
    total = int(total_mb * 1e6)
    plan = [total] if single else sizes(rng, count, total)
    t0 = 1735689600  # 2025-01-01
    written = 0
    for i, size in enumerate(plan, 1):
        ts = t0 + i * 3000
        when = email.utils.localtime(
            email.utils.datetime.datetime.fromtimestamp(ts, email.utils.datetime.timezone.utc))
        data = message(rng, i, size, when)
        flags = "S" if rng.random() < 0.7 else ""
        if rng.random() < 0.05:
            flags = "F" + flags
        name = "%d.M%dP1.bench,S=%d:2,%s" % (ts, i, len(data), flags)
        p = os.path.join(d, "cur", name)
        with open(p, "wb") as f:
            f.write(data)
        os.utime(p, (ts, ts))
        os.chown(p, uid, gid)
        written += len(data)
    print(len(plan), written)
    return 0


if __name__ == "__main__":
    t = time.monotonic()
    rc = main(sys.argv)
    print("genmail: %.1f s" % (time.monotonic() - t), file=sys.stderr)
    sys.exit(rc)
