#!/usr/bin/env python3
"""Deterministic sample mail for the test bed.

    mailgen.py OUTDIR      writes OUTDIR/<user>/<folder>/NNN.eml and prints the manifest

build(home_root, uid, gid, src_root) writes Maildir++ trees for every user,
a dovecot-uidlist per folder (so UIDs and UIDVALIDITY are fixed), a copy
of every message under src_root/<user>/<folder>/<uid>.eml for byte-exact
comparisons, and returns the manifest stored in env.json under "mail".

Messages are CRLF-terminated on disk, so what Dovecot returns for
BODY[] is byte for byte the .eml copy.  INTERNALDATE (the file mtime)
equals the Date header.
"""

import base64
import datetime
import email.utils
import json
import os
import struct
import sys
import zlib

UIDVALIDITY = 1700000000
HOSTNAME = "testbed"


# ---------------------------------------------------------------- encoders

def mutf7(name):
    """RFC 3501 modified UTF-7 of a folder name."""
    out, buf = [], []

    def flush():
        if buf:
            b = "".join(buf).encode("utf-16-be")
            out.append("&" + base64.b64encode(b).decode().rstrip("=").replace("/", ",") + "-")
            buf.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            buf.append(ch)
    flush()
    return "".join(out)


def b_word(text, charset):
    return "=?%s?B?%s?=" % (charset, base64.b64encode(text.encode(charset)).decode())


def q_word(text, charset="UTF-8"):
    out = []
    for byte in text.encode(charset):
        c = chr(byte)
        if c == " ":
            out.append("_")
        elif c.isalnum() and byte < 128:
            out.append(c)
        else:
            out.append("=%02X" % byte)
    return "=?%s?Q?%s?=" % (charset, "".join(out))


def qp(text, charset="UTF-8"):
    """Quoted-printable body (simple, soft line breaks at 76)."""
    lines = []
    for line in text.split("\n"):
        enc, cur = [], ""
        for byte in line.encode(charset):
            tok = chr(byte) if (33 <= byte <= 126 and byte != 61) or byte == 32 else "=%02X" % byte
            if len(cur) + len(tok) > 75:
                enc.append(cur + "=")
                cur = ""
            cur += tok
        if cur.endswith(" "):
            cur = cur[:-1] + "=20"
        enc.append(cur)
        lines.extend(enc)
    return "\n".join(lines)


def b64(data, width=76):
    s = base64.b64encode(data).decode()
    return "\n".join(s[i:i + width] for i in range(0, len(s), width))


def png_1x1():
    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00", 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


PDF = (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n"
       + bytes(range(256)) + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n")


# ---------------------------------------------------------------- messages

def date(n):
    """Varied, deterministic dates from 2025-03 to 2026-06, several zones."""
    base = datetime.datetime(2025, 3, 1, 9, 15, 0, tzinfo=datetime.timezone.utc)
    zones = [0, 9, -5, 1, 2, -8, 5.5]
    tz = datetime.timezone(datetime.timedelta(hours=zones[n % len(zones)]))
    return (base + datetime.timedelta(days=n * 16, hours=n * 5, minutes=n * 7)).astimezone(tz)


class Msg:
    def __init__(self, subject, body, frm="Alice Example <alice@example.test>",
                 to="alice@example.test", headers=(), ctype="text/plain; charset=us-ascii",
                 cte=None, flags="", when=None, raw_subject=None, mime=True,
                 subject_text=None, attachments=()):
        self.subject_header = raw_subject if raw_subject is not None else subject
        self.subject = subject_text if subject_text is not None else subject
        self.frm, self.to = frm, to
        self.headers, self.ctype, self.cte, self.body = list(headers), ctype, cte, body
        self.flags, self.when, self.mime = flags, when, mime
        self.attachments = list(attachments)

    def render(self, n, folder_tag):
        when = self.when or date(n)
        h = ["Return-Path: <%s>" % email.utils.parseaddr(self.frm)[1],
             "From: " + self.frm, "To: " + self.to,
             "Subject: " + self.subject_header,
             "Date: " + email.utils.format_datetime(when),
             "Message-ID: <%s.%d@example.test>" % (folder_tag, n)]
        h += self.headers
        if self.mime:
            h.append("MIME-Version: 1.0")
            h.append("Content-Type: " + self.ctype)
            if self.cte:
                h.append("Content-Transfer-Encoding: " + self.cte)
        body = self.body if isinstance(self.body, bytes) else self.body.encode("utf-8")
        text = ("\n".join(h) + "\n\n").encode("utf-8") + body
        if not text.endswith(b"\n"):
            text += b"\n"
        return text.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"), when


def _jp(charset, subj, body):
    return Msg(subj, body.encode(charset),
               raw_subject=b_word(subj, charset), subject_text=subj,
               frm="%s <tanaka@example.jp>" % b_word("田中 太郎", charset),
               ctype="text/plain; charset=%s" % charset,
               cte="7bit" if charset.lower() == "iso-2022-jp" else "8bit")


def multipart(boundary, parts, subtype="mixed"):
    out = ["This is a multi-part message in MIME format.", ""]
    for headers, body in parts:
        out.append("--" + boundary)
        out.extend(headers)
        out.append("")
        out.append(body)
    out.append("--" + boundary + "--")
    out.append("")
    return "\n".join(out), 'multipart/%s; boundary="%s"' % (subtype, boundary)


def inbox():
    m = []
    m.append(Msg("Welcome to the imapsh test bed", "Hello Alice,\n\nThis is the first message.\n"
                 "It is plain ASCII.\n\n-- \nThe test bed\n", frm="Test Bed <admin@example.test>",
                 flags="S"))
    m.append(Msg("Quarterly report", "Numbers are up.\n" + "lorem ipsum dolor sit amet " * 40 + "\n",
                 frm="Bob Example <bob@example.test>", flags="SF"))
    m.append(_jp("ISO-2022-JP", "会議の件について", "田中です。\n明日の会議は十時からです。\nよろしくお願いします。\n"))
    m.append(_jp("Shift_JIS", "見積書の送付", "お世話になっております。\n見積書を送付いたします。\n"))
    m.append(_jp("EUC-JP", "週報（第十二週）", "今週の作業報告です。\n・テスト環境の構築\n"))
    m.append(Msg("Grüße aus Köln", qp("Hallo Alice,\n\nviele Grüße aus Köln – schön, dass es klappt!\n"
                                       "Straße, Größe, Übermaß.\n"),
                 raw_subject=q_word("Grüße aus Köln"), frm="%s <juergen@example.de>" % q_word("Jürgen Müller"),
                 ctype="text/plain; charset=UTF-8", cte="quoted-printable", flags="S"))
    alt, ct = multipart("alt-7", [
        (["Content-Type: text/plain; charset=UTF-8"], "Plain text version: café ☕\n"),
        (["Content-Type: text/html; charset=UTF-8"],
         "<html><body><p>HTML version: <b>café</b> ☕</p></body></html>\n")], "alternative")
    m.append(Msg("Newsletter: alternative parts", alt, ctype=ct, frm="News <news@example.test>"))
    inner, inner_ct = multipart("alt-8-inner", [
        (["Content-Type: text/plain; charset=UTF-8"], "Please find the invoice and the logo attached.\n"),
        (["Content-Type: text/html; charset=UTF-8"], "<p>Please find the <i>invoice</i> attached.</p>\n")],
        "alternative")
    mixed, ct = multipart("mixed-8", [
        (["Content-Type: " + inner_ct], inner),
        (["Content-Type: application/pdf; name=\"invoice-2026.pdf\"",
          "Content-Disposition: attachment; filename=\"invoice-2026.pdf\"",
          "Content-Transfer-Encoding: base64"], b64(PDF)),
        (["Content-Type: image/png; name=\"logo.png\"",
          "Content-Disposition: inline; filename=\"logo.png\"",
          "Content-ID: <logo@example.test>",
          "Content-Transfer-Encoding: base64"], b64(png_1x1()))])
    m.append(Msg("Invoice with attachments", mixed, ctype=ct, frm="Billing <billing@example.test>",
                 flags="S"))
    mixed, ct = multipart("mixed-9", [
        (["Content-Type: text/plain; charset=UTF-8"], "見積書を添付します。\n"),
        (["Content-Type: application/pdf",
          "Content-Disposition: attachment; filename*=UTF-8''%E8%A6%8B%E7%A9%8D%E6%9B%B8.pdf",
          "Content-Transfer-Encoding: base64"], b64(PDF)),
        (["Content-Type: text/plain; charset=UTF-8",
          "Content-Disposition: attachment;",
          " filename*0*=UTF-8''%E3%83%AC%E3%83%9D%E3%83%BC%E3%83%88%20;",
          " filename*1*=%E7%AC%AC1%E7%89%88.txt"], "レポート本文\n"),
        (["Content-Type: application/octet-stream",
          "Content-Disposition: attachment; filename=\"../../etc/passwd\"",
          "Content-Transfer-Encoding: base64"], b64(b"not really a passwd file\n"))])
    m.append(Msg("RFC 2231 attachment names", mixed, ctype=ct,
                 raw_subject="RFC 2231 attachment names", frm="Tanaka <tanaka@example.jp>"))
    m.append(Msg("Mislabelled charset", "This claims us-ascii but holds UTF-8: naïve café – done.\n",
                 ctype="text/plain; charset=us-ascii", cte="8bit"))
    m.append(Msg("Latin-1 body", "Caf\xe9 cr\xe8me br\xfbl\xe9e.\n".encode("latin-1"),
                 ctype="text/plain; charset=ISO-8859-1", cte="8bit",
                 frm="=?ISO-8859-1?Q?Fran=E7ois?= <francois@example.fr>"))
    m.append(Msg("Windows-1252 quotes", "\u201cSmart quotes\u201d \u2013 and the \u20ac sign.\n".encode("cp1252"),
                 ctype="text/plain; charset=windows-1252", cte="8bit"))
    m.append(Msg("Base64 text body", b64("Base64-encoded UTF-8 text: Ελληνικά, русский.\n".encode()),
                 ctype="text/plain; charset=UTF-8", cte="base64", flags="RS"))
    fwd_src, _ = Msg("Original message", "This is the forwarded original.\n",
                     frm="Carol <carol@example.test>").render(1, "fwd")
    mixed, ct = multipart("mixed-14", [
        (["Content-Type: text/plain; charset=us-ascii"], "Forwarding this one.\n"),
        (["Content-Type: message/rfc822"], fwd_src.replace(b"\r\n", b"\n").decode())])
    m.append(Msg("Fwd: Original message", mixed, ctype=ct, frm="Bob Example <bob@example.test>"))
    m.append(Msg("Escape \x1b[31mred\x1b[0m and bidi",
                 "Body with an escape \x1b]0;pwned\x07 and a bidi override \u202egnp.exe\n",
                 raw_subject=q_word("Escape \x1b[31mred\x1b[0m and bidi \u202etxt.exe"),
                 subject_text="Escape \x1b[31mred\x1b[0m and bidi \u202etxt.exe",
                 ctype="text/plain; charset=UTF-8", cte="8bit", frm="Mallory <mallory@example.test>"))
    m.append(Msg("Empty body", "", flags="S"))
    long_subj = "A very long subject line that goes on and on " * 3 + "end"
    m.append(Msg(long_subj, "Folded subject header.\n",
                 raw_subject=long_subj[:60] + "\n " + long_subj[60:], subject_text=long_subj))
    m.append(Msg("Large message", "".join("line %05d: %s\n" % (i, "x" * 60) for i in range(3000)),
                 frm="Bulk <bulk@example.test>"))
    m.append(Msg("No MIME headers at all", "Old-style message without MIME-Version.\n", mime=False,
                 flags="S"))
    m.append(Msg("Draft-like flags", "Answered and flagged.\n", flags="FRS"))
    for i, (who, subj) in enumerate([
            ("Bob Example <bob@example.test>", "Lunch on Friday?"),
            ("Carol <carol@example.test>", "Re: Lunch on Friday?"),
            ("Dave <dave@example.test>", "Build failed: main #1234"),
            ("Dave <dave@example.test>", "Build fixed: main #1235"),
            ("Eve <eve@example.test>", "Password reset request"),
            ("Bob Example <bob@example.test>", "Holiday photos"),
            ("Carol <carol@example.test>", "Minutes of the meeting"),
            ("Frank <frank@example.test>", "Invitation: design review"),
            ("Grace <grace@example.test>", "Your order has shipped"),
            ("Heidi <heidi@example.test>", "Weekly digest")]):
        m.append(Msg(subj, "Message %d from %s.\nsearchword%d\n" % (i, who, i), frm=who,
                     flags="S" if i % 3 == 0 else ""))
    return m


def folders_alice():
    sent = [Msg("Re: Quarterly report", "Thanks Bob.\n", to="bob@example.test", flags="S"),
            Msg("Meeting notes", "Attached are the notes.\n", to="carol@example.test", flags="S")]
    return {
        "INBOX": inbox(),
        "Sent": sent,
        "Drafts": [Msg("Unfinished draft", "Dear ...\n", to="dave@example.test", flags="DS")],
        "Trash": [Msg("Old newsletter", "Deleted.\n", frm="News <news@example.test>", flags="S")],
        "Junk": [Msg("You have WON!!!", "Click here.\n", frm="Spammer <spam@example.invalid>")],
        "Archive": [Msg("Archived 2025 a", "Old mail one.\n", flags="S"),
                    Msg("Archived 2025 b", "Old mail two.\n", flags="S")],
        "Archive/2026": [Msg("Archived 2026 %d" % i, "Mail %d of 2026.\n" % i, flags="S")
                         for i in range(1, 4)],
        "送信済み": [_jp("ISO-2022-JP", "送信済みのメール", "送信したメールです。\n"),
                  Msg("Sent in Japanese folder", "ASCII body.\n", flags="S")],
        "Family & Friends": [Msg("Family dinner", "Sunday at six.\n", frm="Mum <mum@example.test>")],
    }


def folders_bob():
    return {"INBOX": [Msg("Hello Bob", "A message for Bob.\n", to="bob@example.test"),
                      Msg("Second for Bob", "Another one.\n", to="bob@example.test", flags="S")],
            "Sent": [], "Drafts": [], "Trash": [], "Junk": [], "Archive": []}


def folders_carol():
    return {"INBOX": [], "Sent": [], "Drafts": [], "Trash": [], "Junk": [], "Archive": []}


USERS = {"alice": folders_alice, "bob": folders_bob, "carol": folders_carol}


# ---------------------------------------------------------------- writing

def _chown(path, uid, gid):
    if uid is not None:
        os.chown(path, uid, gid)


def _mkdir(path, uid, gid):
    os.makedirs(path, mode=0o700, exist_ok=True)
    _chown(path, uid, gid)


def write_folder(maildir, folder, msgs, uid, gid, srcdir, user, folder_index):
    if folder == "INBOX":
        d = maildir
    else:
        d = os.path.join(maildir, "." + mutf7(folder).replace("/", "."))
    _mkdir(d, uid, gid)
    for sub in ("cur", "new", "tmp"):
        _mkdir(os.path.join(d, sub), uid, gid)
    if folder != "INBOX":
        p = os.path.join(d, "maildirfolder")
        open(p, "w").close()
        _chown(p, uid, gid)
    src = os.path.join(srcdir, user, folder)
    os.makedirs(src, exist_ok=True)
    uidlist = ["3 V%d N%d G%032x" % (UIDVALIDITY + folder_index, len(msgs) + 1,
                                      0x7e57bed000000000 + folder_index)]
    manifest = []
    for i, msg in enumerate(msgs, 1):
        data, when = msg.render(i, "%s.%s" % (user, mutf7(folder)))
        ts = int(when.timestamp())
        base = "%d.M%dP%d.%s,S=%d" % (ts, i, folder_index, HOSTNAME, len(data))
        fname = base + ":2," + "".join(sorted(msg.flags))
        path = os.path.join(d, "cur", fname)
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (ts, ts))
        _chown(path, uid, gid)
        copy = os.path.join(src, "%d.eml" % i)
        with open(copy, "wb") as f:
            f.write(data)
        uidlist.append("%d :%s" % (i, base))
        flags = [{"S": "\\Seen", "F": "\\Flagged", "R": "\\Answered", "D": "\\Draft",
                  "T": "\\Deleted"}[c] for c in sorted(msg.flags)]
        manifest.append({"uid": i, "subject": msg.subject, "from": msg.frm,
                         "date": email.utils.format_datetime(when), "flags": flags,
                         "size": len(data), "file": copy})
    p = os.path.join(d, "dovecot-uidlist")
    with open(p, "w") as f:
        f.write("\n".join(uidlist) + "\n")
    _chown(p, uid, gid)
    return {"name": folder, "mutf7": mutf7(folder), "disk": d,
            "uidvalidity": UIDVALIDITY + folder_index, "uidnext": len(msgs) + 1,
            "messages": len(msgs), "unseen": sum(1 for x in msgs if "S" not in x.flags),
            "list": manifest}


def build(home_root, uid, gid, src_root):
    """Write every user's Maildir under home_root/<user>/Maildir."""
    out = {}
    for user, make in USERS.items():
        home = os.path.join(home_root, user)
        _mkdir(home, uid, gid)
        maildir = os.path.join(home, "Maildir")
        _mkdir(maildir, uid, gid)
        folders = {}
        for idx, (folder, msgs) in enumerate(make().items()):
            folders[folder] = write_folder(maildir, folder, msgs, uid, gid, src_root, user, idx)
        out[user] = {"home": home, "maildir": maildir, "folders": folders}
    return out


def main(argv):
    if len(argv) != 2:
        print("usage: mailgen.py OUTDIR", file=sys.stderr)
        return 2
    man = build(os.path.join(argv[1], "home"), None, None, os.path.join(argv[1], "messages"))
    print(json.dumps(man, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
