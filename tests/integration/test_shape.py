"""Untrusted text keeps its place (issue 11, classes 1 and 3).

Class 1: every string a certificate holds is attacker text; a self-signed
certificate made here puts ESC, BEL, CR, LF, TAB, NUL, C1, U+202E and bytes
that are not UTF-8 in its CN, O, OU and subjectAltNames, and every path
that shows certificate text (cert, check, --nagios, JSON, the refusal of a
connection) must show it escaped, whole, and nothing raw.

Class 3: structured output has one record per line, always.  A scripted
server puts the same bytes in every field it can (folder names, flags,
envelope fields, capabilities, ID values, namespace prefixes, quota roots,
response text); every command that prints server- or certificate-derived
fields is run on a pipe and its output parsed: each tab-separated record
has its fixed number of fields, the Nagios line is one line, every JSON
document parses, and no raw control byte is anywhere.

The certificates are built with a small DER writer and signed by openssl
(no Python package needed)."""
import datetime
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness as h

HOST = "imap.example.test"

# ---------------------------------------------------------------- the rule
# What imapsh shows for untrusted text (sanitize.h, IMS_SANITIZE_LINE).

INVISIBLE = ([(0x80, 0x9f), (0x61c, 0x61c), (0x180e, 0x180e), (0x200b, 0x200f),
              (0x2028, 0x202e), (0x2060, 0x206f), (0xfeff, 0xfeff), (0xfff9, 0xfffb),
              (0xe0000, 0xe007f)])


def invisible(cp):
    return any(a <= cp <= b for a, b in INVISIBLE)


def shown(raw):
    """The display form of raw bytes: C0 and DEL in caret notation, C1, bidi
    and invisible characters as <U+XXXX>, bytes that are not UTF-8 as \\xNN."""
    out, i = [], 0
    while i < len(raw):
        c = raw[i]
        if c < 0x20 or c == 0x7f:
            out.append("^" + ("?" if c == 0x7f else chr(c + 0x40)))
            i += 1
            continue
        if c < 0x80:
            out.append(chr(c))
            i += 1
            continue
        for n in (2, 3, 4):
            try:
                ch = raw[i:i + n].decode("utf-8")
            except UnicodeDecodeError:
                continue
            if len(ch) == 1:
                break
        else:
            out.append("\\x%02X" % c)
            i += 1
            continue
        out.append("<U+%04X>" % ord(ch) if invisible(ord(ch)) else ch)
        i += n
    return "".join(out)


def dn_shown(raw):
    """A value inside a subject or issuer: RFC 4514 escapes, then the rule."""
    return shown(re.sub(rb'([,+"\\<>;=])', rb"\\\1", raw))


def raw_controls(data, allowed=b"\n"):
    """The characters of data that must never be written raw: every control
    but those allowed, C1, bidi and invisible characters, and bytes that are
    not UTF-8.  [] when clean."""
    bad = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return ["not UTF-8 at %d: %r" % (e.start, data[max(0, e.start - 20):e.start + 20])]
    for k, ch in enumerate(text):
        cp = ord(ch)
        if (cp < 0x20 and ch.encode() not in allowed) or cp == 0x7f or invisible(cp):
            bad.append("U+%04X at %d: %r" % (cp, k, text[max(0, k - 20):k + 20]))
    return bad


# ---------------------------------------------------------------- certificates

def der(tag, body):
    n = len(body)
    if n < 0x80:
        ln = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        ln = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + ln + body


def oid(dotted):
    p = [int(x) for x in dotted.split(".")]
    body = bytes([40 * p[0] + p[1]])
    for v in p[2:]:
        enc = [v & 0x7f]
        v >>= 7
        while v:
            enc.insert(0, 0x80 | (v & 0x7f))
            v >>= 7
        body += bytes(enc)
    return der(0x06, body)


def seq(*items):
    return der(0x30, b"".join(items))


UTF8, T61, IA5, BMP = 0x0c, 0x14, 0x16, 0x1e
CN, O, OU = "2.5.4.3", "2.5.4.10", "2.5.4.11"


def name(attrs):
    return seq(*[der(0x31, seq(oid(a), der(t, v))) for a, t, v in attrs])


def utctime(dt):
    return der(0x17, dt.strftime("%y%m%d%H%M%SZ").encode())


def make_cert(d, attrs, sans):
    """A self-signed certificate (EC P-256, signed by openssl) with subject
    and issuer attrs [(oid, string tag, raw bytes)] and dNSName sans (raw
    bytes).  Returns (cert.pem, key.pem)."""
    key = os.path.join(d, "key.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out", key], check=True,
                   stdout=h.discard(), stderr=h.discard())
    spki = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"],
                          check=True, stdout=subprocess.PIPE).stdout
    now = datetime.datetime.now(datetime.timezone.utc)
    sigalg = seq(oid("1.2.840.10045.4.3.2"))
    exts = []
    if sans:
        gn = seq(*[der(0x82, s) for s in sans])
        exts.append(seq(oid("2.5.29.17"), der(0x04, gn)))
    # the serial: positive and minimal DER (a random first byte 0xFF before
    # one with the high bit set is padding openssl refuses: 1 run in 512)
    tbs = seq(der(0xa0, der(0x02, b"\x02")), der(0x02, b"\1" + os.urandom(7)),
              sigalg, name(attrs),
              seq(utctime(now - datetime.timedelta(days=1)),
                  utctime(now + datetime.timedelta(days=90))),
              name(attrs), spki, *([der(0xa3, seq(*exts))] if exts else []))
    tbs_path = os.path.join(d, "tbs.der")
    with open(tbs_path, "wb") as f:
        f.write(tbs)
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key, tbs_path], check=True,
                         stdout=subprocess.PIPE).stdout
    cert = seq(tbs, sigalg, der(0x03, b"\0" + sig))
    pem = os.path.join(d, "cert.pem")
    subprocess.run(["openssl", "x509", "-inform", "DER", "-out", pem], input=cert, check=True,
                   stdout=h.discard())
    return pem, key


# The hostile values.  CR, LF and TAB would split a line or a record; ESC and
# BEL act on a terminal; 0xC2 0x9B is the C1 CSI as UTF-8, a lone 0x9B the
# 8-bit CSI; U+202E reverses what follows; 0xFF is not UTF-8.
CN_RAW = b"cn\x1b[31mred\x07bel|pipe"
O_RAW = b"o\r\nInjected: 1\tTAB, O=Fake"
OU_RAW = b"ou\x00nul\xc2\x9bc1\x9braw\xe2\x80\xaeRLO\xff"  # a T61String: any byte
BMP_TEXT = "bmp\x1b[2J\u202eevil"
SANS = [b"san\x1b]0;title\x07.example", b"a\tb\r\nc.example", b"x\x00.imap.example.test",
        b"\xe2\x80\xaee\xc2\x9b.example", b"\xff\xfe.example"]


def hostile_attrs(with_bmp=True):
    attrs = [(CN, UTF8, CN_RAW), (O, UTF8, O_RAW), (OU, T61, OU_RAW)]
    if with_bmp:
        attrs.append((OU, BMP, BMP_TEXT.encode("utf-16-be")))
    return attrs


def subject_shown(attrs):
    parts = []
    for a, t, v in attrs:
        text = v.decode("utf-16-be").encode("utf-8") if t == BMP else v
        parts.append("%s=%s" % ({CN: "CN", O: "O", OU: "OU"}[a], dn_shown(text)))
    return ", ".join(parts)


# ---------------------------------------------------------------- the fake server

def lit(b):
    return b"{%d}\r\n" % len(b) + b


# In fields that a literal can carry: every kind of hostile byte.
EVIL = b"e\tT\r\nL\x1b[31mE\x07B\xc2\x9bC\x9bR\xe2\x80\xaeI\xffX|P\x00N"
# In atoms and quoted strings (no CR, LF or NUL possible in the protocol).
EVIL_Q = b"q\tT\x1b[31mE\x07B\xc2\x9bC\x9bR\xe2\x80\xaeI\xffX"
EVIL_ATOM = b"$a\xc2\x9bC\x9bR\xe2\x80\xaeI\xffX"  # the parser refuses controls in atoms
CAPS = b"IMAP4rev1 SASL-IR ID AUTH=PLAIN UTF8=ACCEPT QUOTA NAMESPACE X-" + EVIL_ATOM
FOLDER = b"F" + EVIL.split(b"\x00")[0]  # a folder name with NUL is skipped
ENVELOPE = (b'(' + lit(b"Mon, 1 Jan 2026 10:00:00 +0000") + b" " + lit(b"Subj " + EVIL) +
            b" ((" + lit(b"From " + EVIL) + b" NIL " + lit(b"user" + EVIL) + b" \"example.test\"))"
            b" NIL NIL NIL NIL NIL NIL " + lit(b"<id" + EVIL + b">") + b")")
HEADER = (b"From: From " + EVIL.replace(b"\r\n", b" ") + b" <a@example.test>\r\n"
          b"Subject: Subj \x1b[31m\x07\xc2\x9b\xe2\x80\xae\xff\r\nX-Evil: a\rInjected: 1\r\n\r\n")
MESSAGE = HEADER + b"body \x1b[2J\r\n"
BODYSTRUCTURE = (b'("text" "plain" ("charset" ' + lit(b"cs" + EVIL) + b' "name" ' +
                 lit(b"n" + EVIL) + b') NIL ' + lit(b"desc" + EVIL) + b' "7bit" 10 1 NIL '
                 b'("attachment" ("filename" ' + lit(b"f" + EVIL + b".txt") + b')) NIL)')
FETCH = (b"* 1 FETCH (UID 5 FLAGS (\\Seen " + EVIL_ATOM + b") INTERNALDATE "
         b"\"01-Jan-2026 10:00:00 +0000\" RFC822.SIZE " + str(len(MESSAGE)).encode() +
         b" ENVELOPE " + ENVELOPE + b")\r\n")


def rules():
    ok = b"{tag} OK done " + EVIL_Q + b"\r\n"
    return [
        [r"(?i)^CAPABILITY", b"* CAPABILITY " + CAPS + b"\r\n" + ok],
        [r"(?i)^ENABLE", b"* ENABLED UTF8=ACCEPT\r\n" + ok],
        [r"(?i)^ID ", b'* ID ("name" ' + lit(EVIL) + b' "vendor" "' + EVIL_Q + b'" ' +
         lit(b"k" + EVIL) + b" " + lit(b"v" + EVIL) + b")\r\n" + ok],
        [r"(?i)^NAMESPACE", b"* NAMESPACE ((" + lit(b"p" + EVIL) + b' "/")) (("o" "\t")("o2" "\x1b")) (("' +
         EVIL_Q + b'" ".")) \r\n' + ok],
        [r"(?i)^(LIST|LSUB) ", b"* LIST (\\HasNoChildren " + EVIL_ATOM.replace(b"$", b"\\") +
         b') "/" ' + lit(FOLDER) + b"\r\n* LIST (\\HasNoChildren) \"/\" INBOX\r\n"
         b"* STATUS " + lit(FOLDER) + b" (MESSAGES 3 UNSEEN 1)\r\n" + ok],
        [r"(?i)^STATUS ", b"* STATUS " + lit(FOLDER) + b" (MESSAGES 3 UNSEEN 1 UIDNEXT 9 "
         b"UIDVALIDITY 7 RECENT 0)\r\n* STATUS INBOX (MESSAGES 3 UNSEEN 1 UIDNEXT 9 "
         b"UIDVALIDITY 7 RECENT 0)\r\n" + ok],
        [r"(?i)^(SELECT|EXAMINE) ", b"* FLAGS (\\Seen \\Deleted " + EVIL_ATOM + b")\r\n"
         b"* OK [PERMANENTFLAGS (\\Seen " + EVIL_ATOM + b")] " + EVIL_Q + b"\r\n"
         b"* 1 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 7] " + EVIL_Q + b"\r\n"
         b"* OK [UIDNEXT 9] ok\r\n{tag} OK [READ-WRITE] " + EVIL_Q + b"\r\n"],
        [r"(?i)^(UID )?SEARCH", b"* SEARCH 5\r\n" + ok],
        [r"(?i)^(UID )?FETCH .*BODYSTRUCTURE", b"* 1 FETCH (UID 5 BODYSTRUCTURE " +
         BODYSTRUCTURE + b")\r\n" + ok],
        [r"(?i)^(UID )?FETCH .*ENVELOPE", FETCH + ok],
        [r"(?i)^(UID )?FETCH .*BODY\.PEEK\[HEADER\]", b"* 1 FETCH (UID 5 BODY[HEADER] " +
         lit(HEADER) + b")\r\n" + ok],
        [r"(?i)^(UID )?FETCH .*BODY\.PEEK\[\]", b"* 1 FETCH (UID 5 FLAGS (\\Seen " +
         EVIL_ATOM + b") BODY[] " + lit(MESSAGE) + b")\r\n" + ok],
        [r"(?i)^(UID )?FETCH .*BODY\.PEEK\[", b"* 1 FETCH (UID 5 BODY[1] " + lit(b"text\r\n") +
         b" BODY[HEADER] " + lit(HEADER) + b")\r\n" + ok],
        [r"(?i)^(UID )?FETCH", FETCH + ok],
        [r"(?i)^GETQUOTAROOT ", b"* QUOTAROOT " + lit(FOLDER) + b" " + lit(b"r" + EVIL) +
         b"\r\n* QUOTA " + lit(b"r" + EVIL) + b" (STORAGE 10 100 " + EVIL_ATOM[1:] +
         b" 1 2)\r\n" + ok],
        [r"(?i)^GETQUOTA ", b"* QUOTA " + lit(b"r" + EVIL) + b" (STORAGE 10 100)\r\n" + ok],
    ]


def greeting():
    return ["send", b"* OK [CAPABILITY " + CAPS + b"] hello " + EVIL_Q + b"\r\n"]


# Each command and what its output on a pipe is: ("tsv", N fields),
# ("kv", 2) for key/value lines, ("json", None) for one document or JSON Lines.
# uid 5 and the folder named by the server are used.
COMMANDS = [
    ("folders", (), ("tsv", 4)),
    ("status", ("INBOX",), ("kv", 2)),
    ("select", ("INBOX",), ("kv", 2)),
    ("examine", ("INBOX",), ("kv", 2)),
    ("list", (), ("tsv", 6)),
    ("search", ("all",), ("tsv", 6)),
    ("show", ("5",), ("text", None)),
    ("show", ("5", "--headers", "all"), ("text", None)),
    ("structure", ("5",), ("tsv", 6)),
    ("capability", (), ("tsv", 1)),
    ("quota", (), ("tsv", 4)),
    ("namespace", (), ("tsv", 3)),
    ("id", (), ("kv", 2)),
]


class Shape(h.TestbedCase):
    def setUp(self):
        super().setUp()
        self.work = tempfile.mkdtemp(prefix="imapsh-shape-")
        self.addCleanup(shutil.rmtree, self.work, True)
        self.pwfile = os.path.join(self.work, "pw")
        with open(self.pwfile, "w") as f:
            f.write("secret\n")

    def run_fake(self, *cmd, script=None, chain=None, key=None, extra=(), user="alice"):
        script = script or [greeting(), ["serve", {"caps": CAPS.decode("latin-1"),
                                                   "rules": rules()}]]
        kw = {"chain": chain, "key": key} if chain else {"tls": "valid"}
        with h.fakeserver(script, linger=0.3, **kw) as srv:
            target = "%s%s:%d" % (user + "@" if user else "", HOST, srv.port)
            rc, out, err = self.imapsh(
                "--ca-file", self.env["ca_file"], "--resolve", "%s:%d:127.0.0.1" % (HOST, srv.port),
                "--password-command", "cat " + self.pwfile, *extra, target, *cmd)
            if srv.conns:
                srv.conns[0].done.wait(10)
        return rc, out, err

    def check_clean(self, what, out, err, tabs=False):
        self.assertEqual(raw_controls(out, b"\n\t" if tabs else b"\n"), [],
                         "%s: stdout %r" % (what, out[:2000]))
        self.assertEqual(raw_controls(err), [], "%s: stderr %r" % (what, err[:2000]))
        # one line a warning or error on stderr: nothing starts a line of its own
        for line in err.decode("utf-8", "replace").splitlines():
            self.assertTrue(line.startswith("imapsh: ") or line.startswith("  "),
                            "%s: stderr line %r" % (what, line))

    def check_records(self, what, out, nf):
        self.assertTrue(out == b"" or out.endswith(b"\n"), "%s: %r" % (what, out))
        for line in out.decode("utf-8").split("\n")[:-1]:
            if nf is not None:
                self.assertEqual(len(line.split("\t")), nf, "%s: record %r" % (what, line))

    def check_json(self, what, out):
        text = out.decode("utf-8")
        try:
            docs = [json.loads(text)]
        except ValueError:
            docs = [json.loads(line) for line in text.splitlines() if line.strip()]
        self.assertTrue(docs, "%s: no JSON" % what)
        return docs

    def test_every_command_on_a_pipe(self):
        seen = b""
        for name, args, (kind, nf) in COMMANDS:
            with self.subTest(command=name, args=args):
                rc, out, err = self.run_fake(name, *args)
                self.assertNotIn(rc, (2, 6), (name, out, err))
                self.check_clean(name, out, err, tabs=kind in ("tsv", "kv", "text"))
                if kind in ("tsv", "kv"):
                    self.check_records(name, out, nf)
                if kind == "text":
                    # a CR or LF in a header never starts a line of its own
                    self.assertNotRegex(out, rb"(?m)^Injected:", (name, out))
                seen += out
        # the hostile fields were shown, escaped, not dropped
        for marker in (b"^I", b"^[", b"^G", b"<U+009B>", b"<U+202E>", b"\\xFF"):
            self.assertIn(marker, seen)

    def test_every_command_as_json(self):
        for name, args, _ in COMMANDS:
            if name == "show":
                continue
            with self.subTest(command=name, args=args):
                rc, out, err = self.run_fake("--json", name, *args)
                self.assertNotIn(rc, (2, 6), (name, out, err))
                self.check_clean(name, out, err)
                if rc == 0:
                    self.check_json(name, out)

    def test_every_other_command(self):
        """The commands that print little of their own: what they print, and
        their errors and warnings, stay clean and one line each."""
        no = b"{tag} NO [CANNOT] " + EVIL_Q + b"\r\n"
        more = [
            [r"(?i)^(CREATE|DELETE|RENAME|SUBSCRIBE|UNSUBSCRIBE) ", no],
            [r"(?i)^(UID )?STORE ", b"* 1 FETCH (UID 5 FLAGS (\\Seen " + EVIL_ATOM + b"))\r\n"
             b"{tag} OK stored " + EVIL_Q + b"\r\n"],
            [r"(?i)^(UID )?EXPUNGE", b"* 1 EXPUNGE\r\n{tag} OK " + EVIL_Q + b"\r\n"],
            [r"(?i)^APPEND ", b"{tag} OK [APPENDUID 7 12] " + EVIL_Q + b"\r\n"],
            [r"(?i)^UID (MOVE|COPY) ", b"{tag} OK [COPYUID 7 5 11] " + EVIL_Q + b"\r\n"],
        ]
        caps = CAPS.decode("latin-1") + " UIDPLUS MOVE"
        script = [greeting(), ["serve", {"caps": caps, "rules": more + rules()}]]
        msg = os.path.join(self.work, "msg.eml")
        with open(msg, "wb") as f:
            f.write(MESSAGE)
        out_dir = os.path.join(self.work, "saved")
        os.mkdir(out_dir)
        commands = [
            ("mkdir", "X"), ("rmdir", "X"), ("rename", "X", "Y"), ("subscribe", "X"),
            ("unsubscribe", "X"), ("flag", "5", "\\Flagged"), ("unflag", "5", "\\Flagged"),
            ("delete", "5"), ("delete", "5", "--expunge"), ("expunge",),
            ("append", "INBOX", msg), ("move", "5", "Archive"), ("copy", "5", "Archive"),
            ("save", "5", "-o", out_dir), ("fetch", "5"), ("connect",), ("login",),
            ("export", "INBOX", os.path.join(self.work, "exp")),
        ]
        for cmd in commands:
            for json_opt in ((), ("--json",)):
                with self.subTest(command=cmd, json=json_opt):
                    rc, out, err = self.run_fake(*json_opt, *cmd, script=script)
                    self.assertNotIn(rc, (2, 6), (cmd, out, err))
                    if cmd[0] == "fetch":
                        out = b""  # the message itself, as the server sent it
                    self.check_clean(cmd[0], out, err, tabs=not json_opt)
                    if json_opt and out.strip():
                        self.check_json(cmd[0], out)
                    if rc == 1:  # the server said NO: its words, made safe, on one line
                        self.assertIn(b"^IT^[[31mE^GB<U+009B>C\\x9BR<U+202E>I\\xFFX", err)

    def test_idle_and_copy(self):
        # idle: a new message (UID 9) arrives while idling
        new = FETCH.replace(b"UID 5", b"UID 9")

        def idle_script(conn):
            conn.send(greeting()[1])
            conn.serve({"caps": CAPS.decode("latin-1") + " IDLE UIDPLUS", "rules": rules(),
                        "until": r"(?i)^IDLE"})
            tag = conn.vars["tag"]
            conn.send(b"+ idling\r\n* 2 EXISTS\r\n")
            conn.expect(r"(?i)^DONE")
            conn.send(("%s OK idle done\r\n" % tag).encode())
            conn.serve({"caps": CAPS.decode("latin-1") + " IDLE UIDPLUS",
                        "rules": [[r"(?i)^(UID )?FETCH", new + b"{tag} OK done\r\n"]] + rules(),
                        "until": r"(?i)^IDLE"})
            conn.send(b"+ idling\r\n")
            conn.read(3)
        for extra in ((), ("--json",)):
            with self.subTest(command="idle", extra=extra):
                rc, out, err = self.run_fake(*extra, "idle", "2", script=idle_script)
                self.check_clean("idle", out, err, tabs=not extra)
                self.assertIn(b"9", out, (out, err))
                if extra:
                    self.check_json("idle", out)
                else:
                    self.check_records("idle", out, 3)
        # copy on a pipe: old and new UIDs from COPYUID
        copy = [r"(?i)^UID COPY ", b"{tag} OK [COPYUID 7 5 11] " + EVIL_Q + b"\r\n"]
        script = [greeting(), ["serve", {"caps": CAPS.decode("latin-1") + " UIDPLUS",
                                         "rules": [copy] + rules()}]]
        rc, out, err = self.run_fake("copy", "5", "Archive", script=script)
        self.check_clean("copy", out, err, tabs=True)
        self.check_records("copy", out, 2)

    def test_check_with_a_hostile_server_and_certificate(self):
        chain, key = make_cert(self.work, hostile_attrs(), SANS + [HOST.encode()])
        fails = {
            "login": [r"(?i)^(LOGIN|AUTHENTICATE)",
                      b"{tag} NO [AUTHENTICATIONFAILED] " + EVIL_Q + b"\r\n"],
            "select": [r"(?i)^(SELECT|EXAMINE)", b"{tag} NO [NONEXISTENT] " + EVIL_Q + b"\r\n"],
            "none": None,
        }
        for what, rule in fails.items():
            r = ([rule] if rule else []) + rules()
            script = [greeting(), ["serve", {"caps": CAPS.decode("latin-1"), "rules": r}]]
            for form in ((), ("--nagios",), ("--json",)):
                with self.subTest(fails=what, form=form):
                    extra = ("--insecure",) + (("--json",) if form == ("--json",) else ())
                    args = ("check", "--login", "--folder", "INBOX") + (
                        form if form == ("--nagios",) else ())
                    rc, out, err = self.run_fake(*args, script=script, chain=chain, key=key,
                                                 extra=extra)
                    self.check_clean(what, out, err, tabs=not form)
                    if form == ("--json",):
                        doc = self.check_json(what, out)[0]
                        self.assertEqual(doc["cert"]["subject"],
                                         subject_shown(hostile_attrs()))
                    elif form:
                        self.assertEqual(out.count(b"\n"), 1, out)
                        self.assertEqual(out.count(b"|"), 1, out)
                    else:
                        self.check_records(what, out, 4)
                        self.assertIn(("CN=%s" % shown(CN_RAW)).encode(), out)
        # a greeting that is not OK
        script = [["send", b"* BYE " + EVIL_Q + b"\r\n"]]
        for form in ((), ("--nagios",)):
            rc, out, err = self.run_fake("check", *form, script=script)
            self.check_clean("bye", out, err, tabs=not form)
            self.assertIn(b"^IT^[[31mE^GB<U+009B>C\\x9BR<U+202E>I\\xFFX" if not form
                          else b"did not greet", out)

    def test_check_on_a_pipe(self):
        for extra in ((), ("--login",), ("--login", "--folder", "INBOX")):
            with self.subTest(extra=extra):
                rc, out, err = self.run_fake("check", *extra, user="alice")
                self.check_clean("check", out, err, tabs=True)
                self.check_records("check", out, 4)
                self.assertIn(b"^[[31mE^GB<U+009B>C\\x9BR<U+202E>I\\xFFX", out)
                rc, out, err = self.run_fake("check", "--nagios", *extra)
                self.check_clean("check --nagios", out, err)
                self.assertEqual(out.count(b"\n"), 1, out)
                self.assertEqual(out.count(b"|"), 1, out)
                rc, out, err = self.run_fake("--json", "check", *extra)
                self.check_clean("--json check", out, err)
                self.check_json("--json check", out)


class CertText(h.TestbedCase):
    """A self-signed certificate full of hostile text, on every path."""

    def setUp(self):
        super().setUp()
        self.work = tempfile.mkdtemp(prefix="imapsh-certtext-")
        self.addCleanup(shutil.rmtree, self.work, True)

    def cert(self, attrs, sans):
        d = tempfile.mkdtemp(dir=self.work)
        return make_cert(d, attrs, sans)

    def run_cert(self, chain, key, *cmd, extra=()):
        script = [greeting(), ["serve", {"caps": CAPS.decode("latin-1"), "rules": rules()}]]
        with h.fakeserver(script, chain=chain, key=key, linger=0.3) as srv:
            target = "%s:%d" % (HOST, srv.port)
            if "cert" in cmd or "check" in cmd:
                args = [*cmd, target]  # imapsh cert HOST
            else:
                args = ["-u", "alice", target, *cmd]  # imapsh HOST COMMAND
            rc, out, err = self.imapsh(
                "--resolve", "%s:%d:127.0.0.1" % (HOST, srv.port), *extra, *args)
        return rc, out, err

    def clean(self, what, out, err, tabs=False):
        self.assertEqual(raw_controls(out, b"\n\t" if tabs else b"\n"), [],
                         "%s: stdout %r" % (what, out))
        self.assertEqual(raw_controls(err), [], "%s: stderr %r" % (what, err))

    def test_cert_names_shown_escaped_everywhere(self):
        attrs = hostile_attrs()
        chain, key = self.cert(attrs, SANS)
        subject = subject_shown(attrs)
        sans = [shown(s) for s in SANS]
        cn = shown(CN_RAW)

        # cert: the chain, the verification line, the refusal on stderr
        rc, out, err = self.run_cert(chain, key, "cert")
        self.assertEqual(rc, 4, err)
        self.clean("cert", out, err)
        text = out.decode()
        self.assertIn("  subject    %s\n" % subject, text)
        self.assertIn("  issuer     %s\n" % subject, text)
        self.assertIn("  san        %s\n" % ", ".join(sans), text)
        reason = "certificate is for %s, not %s" % (", ".join(sans), HOST)
        self.assertIn("\nverification refused: %s\n" % reason, text)
        self.assertEqual(err.count(b"\n"), 1, err)
        self.assertIn(reason, err.decode())

        # --json cert: the same text, in JSON
        rc, out, err = self.run_cert(chain, key, "--json", "cert")
        self.assertEqual(rc, 4, err)
        self.clean("--json cert", out, err)
        doc = json.loads(out)
        self.assertEqual(doc["chain"][0]["subject"], subject)
        self.assertEqual(doc["chain"][0]["issuer"], subject)
        self.assertEqual(doc["chain"][0]["san"], sans)
        self.assertEqual(doc["verify_error"], reason)

        # check, refused: stages on a pipe, the Nagios line, JSON
        rc, out, err = self.run_cert(chain, key, "check")
        self.assertEqual(rc, 2, (out, err))
        self.clean("check", out, err, tabs=True)
        lines = out.decode().split("\n")
        self.assertEqual(lines[-1], "")
        for line in lines[:-1]:
            self.assertEqual(len(line.split("\t")), 4, line)
        self.assertIn("cert\tfail\t0\t%s" % reason, lines)
        rc, out, err = self.run_cert(chain, key, "check", "--nagios")
        self.assertEqual(rc, 2, (out, err))
        self.clean("check --nagios", out, err)
        self.assertEqual(out.count(b"\n"), 1, out)
        self.assertEqual(out.count(b"|"), 1, out)
        self.assertIn(reason, out.decode())
        rc, out, err = self.run_cert(chain, key, "--json", "check")
        self.clean("--json check", out, err)
        doc = json.loads(out)
        self.assertEqual(doc["cert"]["subject"], subject)
        self.assertEqual(doc["cert"]["san"], sans)
        self.assertEqual(doc["reason"], reason)

        # check --insecure: the accepted certificate's CN and issuer
        rc, out, err = self.run_cert(chain, key, "check", extra=("--insecure",))
        self.clean("--insecure check", out, err, tabs=True)
        for line in out.decode().split("\n")[:-1]:
            self.assertEqual(len(line.split("\t")), 4, line)
        self.assertIn("\tCN=%s, issuer %s, NOT verified" % (cn, subject), out.decode())
        rc, out, err = self.run_cert(chain, key, "check", "--nagios", extra=("--insecure",))
        self.clean("--insecure check --nagios", out, err)
        self.assertEqual(out.count(b"\n"), 1, out)
        self.assertEqual(out.count(b"|"), 1, out)

        # a connection refused: one line on stderr, the names escaped
        rc, out, err = self.run_cert(chain, key, "namespace")
        self.assertEqual(rc, 4, err)
        self.clean("namespace", out, err)
        self.assertEqual(err.count(b"\n"), 1, err)
        self.assertIn(reason, err.decode())

    def test_cn_only_certificate(self):
        attrs = hostile_attrs(with_bmp=False)
        chain, key = self.cert(attrs, [])
        reason = "certificate has no subjectAltName (only CN=%s)" % shown(CN_RAW)
        for cmd in (("cert",), ("check",), ("check", "--nagios"), ("--json", "cert"),
                    ("namespace",)):
            with self.subTest(cmd=cmd):
                rc, out, err = self.run_cert(chain, key, *cmd)
                self.clean(" ".join(cmd), out, err, tabs=cmd == ("check",))
                if "--nagios" in cmd:  # '|' starts the performance data
                    self.assertIn(reason.replace("|", " "), out.decode())
                else:
                    self.assertIn(reason, (out + err).decode())

    def test_self_signed_label(self):
        # the name matches: the refusal names the certificate by its CN
        attrs = hostile_attrs()
        chain, key = self.cert(attrs, [HOST.encode()])
        reason = "self-signed certificate CN=%s is not trusted" % shown(CN_RAW)
        for cmd in (("cert",), ("check",), ("check", "--nagios"), ("--json", "check"),
                    ("namespace",)):
            with self.subTest(cmd=cmd):
                rc, out, err = self.run_cert(chain, key, *cmd)
                self.clean(" ".join(cmd), out, err, tabs=cmd == ("check",))
                if "--nagios" in cmd:  # '|' starts the performance data
                    self.assertIn(reason.replace("|", " "), out.decode())
                else:
                    self.assertIn(reason, (out + err).decode())


if __name__ == "__main__":
    unittest.main()
