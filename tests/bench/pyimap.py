#!/usr/bin/env python3
"""The python3 imaplib peer of the benchmark.

    pyimap.py HOST PORT CAFILE USER FOLDER export DIR
        UID FETCH 1:* (UID BODY.PEEK[]) in one command, each message written
        to DIR/UID (imaplib holds the whole answer in memory first)
    pyimap.py HOST PORT CAFILE USER FOLDER list [UIDS]
        UID FETCH UIDS (1:*) (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE),
        the answer written to stdout
    pyimap.py HOST PORT CAFILE USER FOLDER fetch UID
        UID FETCH UID (BODY.PEEK[]) to stdout
    pyimap.py HOST PORT CAFILE USER FOLDER uids
        the folder's UIDs, one a line
The password comes from IMAPSH_PASSWORD.
"""
import imaplib
import os
import re
import ssl
import sys


def main(argv):
    host, port, cafile, user, folder, mode = argv[1:7]
    ctx = ssl.create_default_context(cafile=cafile)
    imaplib._MAXLINE = 1 << 30
    m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
    m.login(user, os.environ["IMAPSH_PASSWORD"])
    typ, _ = m.select(folder, readonly=True)
    if typ != "OK":
        raise SystemExit("select failed")
    if mode == "export":
        d = argv[7]
        os.makedirs(d, exist_ok=True)
        typ, data = m.uid("FETCH", "1:*", "(UID BODY.PEEK[])")
        n = 0
        for item in data:
            if isinstance(item, tuple):
                uid = re.search(rb"UID (\d+)", item[0]).group(1).decode()
                with open(os.path.join(d, uid), "wb") as f:
                    f.write(item[1])
                n += 1
        print(n)
    elif mode == "fetch":
        typ, data = m.uid("FETCH", argv[7], "(BODY.PEEK[])")
        for item in data:
            if isinstance(item, tuple):
                sys.stdout.buffer.write(item[1])
    elif mode == "uids":
        typ, data = m.uid("SEARCH", None, "ALL")
        print("\n".join(data[0].decode().split()))
    else:
        uids = argv[7] if len(argv) > 7 else "1:*"
        typ, data = m.uid("FETCH", uids, "(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)")
        out = sys.stdout.buffer
        for item in data:
            if isinstance(item, tuple):
                out.write(item[0] + b"\n" + item[1] + b"\n")
            else:
                out.write(item + b"\n")
    m.logout()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
