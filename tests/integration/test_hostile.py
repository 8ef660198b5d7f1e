"""Hostile servers: whatever bytes a server sends, imapsh gives a clear error
or a correct result; never a crash, a hang, a leaked secret or a lost
message.  The fake server (tests/testbed/fakeserver.py) plays the server
and records every byte the client sent; Dovecot is used where a real
server is needed (the secrets test).

Every run here goes through IMAPSH_WRAPPER (valgrind's exit code 99 or an
ASan report fails the exact exit-code assertions)."""
import base64
import hashlib
import hmac
import os
import ssl
import re
import shutil
import subprocess
import tempfile
import time
import unittest

import harness as h

HOST = "imap.example.test"
CAPS = "IMAP4rev1 SASL-IR ID AUTH=PLAIN"
MCAPS = "IMAP4rev1 SASL-IR AUTH=PLAIN UIDPLUS"  # for message commands (no MOVE)
PRE_TLS = "IMAP4rev1 STARTTLS AUTH=PLAIN"

# Terminal attacks: clear screen, OSC 52 clipboard write, 8-bit CSI as a
# UTF-8 C1 control, right-to-left override, and a raw 0x9B byte.
EVIL = b"\x1b[2J\x1b]52;c;ZXZpbA==\x07\xc2\x9b31m\xe2\x80\xaeRLO\x9b"

SELECT = [r"(?i)^(SELECT|EXAMINE) ",
          "* FLAGS (\\Seen \\Deleted)\r\n* 3 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n"
          "* OK [UIDNEXT 9] ok\r\n{tag} OK [READ-WRITE] done\r\n"]
SEARCH5 = [r"(?i)^UID SEARCH ", "* SEARCH 5\r\n{tag} OK done\r\n"]


def greet(caps=CAPS, text="ready"):
    return ["send", "* OK [CAPABILITY %s] %s\r\n" % (caps, text)]


def big_reply(data, until=None, caps=CAPS):
    """A script (callable) that answers as a server until the command
    matching `until` (or right after the greeting when None), then sends
    `data`, which may be many megabytes: the socket gets a long timeout so
    a client that reads slowly is not taken for a dead one."""
    def script(conn):
        if until is None:
            conn.sock.settimeout(120)
            conn.send(data)
            conn.close()
        conn.send("* OK [CAPABILITY %s] ready\r\n" % caps)
        conn.serve({"caps": caps, "until": until})
        conn.sock.settimeout(120)
        conn.send(data)
        conn.serve({"caps": caps})
    return script


def b64_forms(secret):
    """Base64 text any encoding of a blob holding `secret` must contain:
    for each of the three alignments, the characters made only of its bytes."""
    s = secret.encode("utf-8") if isinstance(secret, str) else secret
    forms = set()
    for k in range(3):
        enc = base64.b64encode(b"\0" * k + s)
        start = 4 if k else 0           # the first group mixes in the prefix
        full = (k + len(s)) // 3 * 4    # groups made of whole input bytes
        inner = enc[start:full]
        if len(inner) >= 8:
            forms.add(inner)
    return forms


def secret_forms(secret, user="alice"):
    s = secret.encode("utf-8")
    forms = {s} | b64_forms(s)
    forms.add(base64.b64encode(b"\0" + user.encode() + b"\0" + s))  # SASL PLAIN
    return forms


def is_asan(binary):
    try:
        with open(binary, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


class Run:
    def __init__(self, rc, out, err, srv, took):
        self.rc, self.out, self.err, self.srv, self.took = rc, out, err, srv, took

    @property
    def conn(self):
        return self.srv.conns[0] if self.srv.conns else None

    def __repr__(self):
        t = "\n".join(c.transcript()[-3000:] for c in self.srv.conns)
        return "rc %s, %.1f s\nstdout %r\nstderr %r\n%s" % (
            self.rc, self.took, self.out[:600], self.err[:1500], t)


class HostileCase(h.TestbedCase):
    """imapsh against a scripted server, logging in as alice with a
    password that only a --password-command reading a file knows."""

    def setUp(self):
        super().setUp()
        self.pw = "Hostile-Pw-%s" % os.urandom(6).hex()
        self.pwfile = os.path.join(self.home.root, "pw")
        with open(self.pwfile, "w") as f:
            f.write(self.pw + "\n")
        self.work = tempfile.mkdtemp(prefix="imapsh-hostile-")
        self.addCleanup(shutil.rmtree, self.work, True)

    def fake(self, script, *cmd, tls="valid", starttls=False, extra=(), connections=1,
             timeout=60, user="alice"):
        with h.fakeserver(script, tls=None if starttls else tls, connections=connections,
                          linger=0.5) as srv:
            target = "%s%s@%s:%d" % ("imap://" if starttls else "", user, HOST, srv.port)
            t0 = time.monotonic()
            rc, out, err = self.imapsh(
                "--ca-file", self.env["ca_file"], "--resolve", "%s:%d:127.0.0.1" % (HOST, srv.port),
                "--password-command", "cat %s" % self.pwfile, *extra, target, *cmd,
                timeout=timeout)
            took = time.monotonic() - t0
            if srv.conns:
                srv.conns[0].done.wait(10)
        return Run(rc, out, err, srv, took)

    def has_command(self, name):
        rc, out, err = self.imapsh("help", name)
        return rc == 0

    def need(self, name):
        # every command the man page documents exists: a missing one is a failure, not a skip
        self.assertTrue(self.has_command(name), "no '%s' command" % name)

    # -- assertions
    def assert_fails(self, r, code, words=None):
        """Exit `code`, a message on stderr in imapsh's form, nothing on stdout."""
        self.assertEqual(r.rc, code, r)
        self.assertEqual(r.out, b"", r)
        self.assertTrue(r.err.startswith(b"imapsh: "), r)
        self.assertNotIn(b"Sanitizer", r.err, r)
        self.assertNotIn(b"runtime error", r.err, r)
        if words is not None:
            self.assertRegex(r.err.decode("utf-8", "replace"), words, r)

    def assert_no_credentials_sent(self, r):
        for c in r.srv.conns:
            sent = c.client_bytes
            for form in secret_forms(self.pw):
                self.assertNotIn(form, sent, r)
            self.assertIsNone(re.search(rb"(?im)^\S+ (LOGIN|AUTHENTICATE)\b", sent), r)

    def assert_clean(self, r, *extra, bidi=True, c1=True):
        """No byte that acts on a terminal, in stdout, stderr or extra
        (bidi=False: U+202E allowed, c1=False: C1 allowed, for output
        meant for programs)."""
        bad = [b"\x1b", b"\x07"] + ([b"\x9b"] if c1 else []) + ([b"\xe2\x80\xae"] if bidi else [])
        for data in (r.out, r.err) + extra:
            for b in bad:
                self.assertNotIn(b, data, r)

    def client_commands(self, r):
        """Every command line the client sent (tag stripped), over every connection."""
        out = []
        for c in r.srv.conns:
            for line in c.client_bytes.split(b"\r\n"):
                parts = line.split(b" ", 1)
                if len(parts) == 2 and re.match(rb"^[A-Za-z0-9]+$", parts[0]):
                    out.append(parts[1])
        return out


# ---------------------------------------------------------------- greetings

GARBAGE_GREETINGS = {
    "http": [["send", "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"], ["read", 1]],
    "smtp": [["send", "220 mail ESMTP\r\n"], ["read", 1]],
    "empty_line": [["send", "\r\n"], ["read", 1]],
    "nothing_then_close": [["close"]],
    "nul_byte": [["send", b"\0\r\n"], ["read", 1]],
    "nul_in_greeting": [["send", b"* OK hello\0world\r\n"], ["read", 1]],
    "bare_lf": [["send", b"* OK hello\n"], ["read", 1]],
    "100k_without_crlf": [["send", b"* OK " + b"A" * 100000], ["close"]],
    "binary": [["send", bytes(range(256)) * 4], ["close"]],
    "tagged_first": [["send", "A1 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] done\r\n"], ["read", 1]],
    "continuation_first": [["send", "+ go ahead\r\n"], ["read", 1]],
}


class Greetings(HostileCase):
    def test_garbage_greeting_over_implicit_tls(self):
        for name, script in GARBAGE_GREETINGS.items():
            with self.subTest(greeting=name):
                r = self.fake(script, "namespace")
                # a greeting that breaks the protocol is exit 7, one that
                # never came (the server closed) exit 3: never mixed up
                closed = b"closed the connection" in r.err
                self.assert_fails(r, 3 if closed else 7,
                                  r"closed the connection" if closed else
                                  r"malformed|greeting|not an IMAP")
                self.assertEqual(r.err.count(b"\n"), 1, r)
                self.assertEqual(r.out, b"", r)
                self.assert_no_credentials_sent(r)
                self.assert_clean(r)

    def test_refusing_greeting_shows_the_servers_words(self):
        # * BYE is the grammar's refusal, * NO is not in it but is sent
        # (an overloaded server): both are a refusal in the server's words,
        # sanitised, exit 3, over implicit TLS and before STARTTLS
        for greeting, words in (("* NO [UNAVAILABLE] Server overloaded, try later\r\n",
                                 rb"Server overloaded, try later"),
                                ("* BYE Too many connections from your IP\x1b[2J\r\n",
                                 rb"Too many connections from your IP\^\[\[2J")):
            for starttls in (False, True):
                with self.subTest(greeting=greeting[:6], starttls=starttls):
                    r = self.fake([["send", greeting], ["read", 1]], "namespace",
                                  starttls=starttls)
                    self.assert_fails(r, 3, r"refused the connection")
                    self.assertRegex(r.err, words)
                    self.assert_no_credentials_sent(r)
                    self.assert_clean(r)

    def test_garbage_greeting_before_starttls(self):
        for name, script in GARBAGE_GREETINGS.items():
            with self.subTest(greeting=name):
                r = self.fake(script, "namespace", starttls=True)
                self.assertIn(r.rc, (3, 4, 7), r)
                self.assertEqual(r.rc == 3, b"closed the connection" in r.err, r)
                self.assert_fails(r, r.rc)
                self.assertEqual(r.out, b"", r)
                self.assert_no_credentials_sent(r)
                self.assertEqual(r.conn.client_tls, b"", r)
                self.assert_clean(r)

    def test_bye_greeting(self):
        r = self.fake([["send", b"* BYE [ALERT] go away " + EVIL + b"\r\n"], ["close"]],
                      "namespace")
        self.assert_fails(r, 3, r"the server refused the connection: go away")
        self.assert_no_credentials_sent(r)
        self.assert_clean(r)


# ---------------------------------------------------------------- STARTTLS

PRE_JUNK = ('* OK [ALERT] PLAINTEXT-ALERT-%d\r\n* 5 EXISTS\r\n* LIST () "/" EvilPre\r\n'
            '* STATUS INBOX (MESSAGES 99 UNSEEN 99)\r\n* 1 FETCH (UID 7 FLAGS (\\Seen))\r\n'
            '* CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=INJECTED\r\n')


class BeforeTLS(HostileCase):
    """Nothing a server says in plaintext counts after STARTTLS."""

    def assert_plaintext_unseen(self, r):
        text = r.out + r.err
        self.assertNotIn(b"PLAINTEXT-", text, r)
        self.assertNotIn(b"EvilPre", text, r)
        self.assertNotIn(b"INJECTED", text, r)
        self.assertNotIn(b"99", r.out, r)
        plain = r.conn.client_plain
        for form in secret_forms(self.pw):
            self.assertNotIn(form, plain, r)
        self.assertIsNone(re.search(rb"(?im)^\S+ (LOGIN|AUTHENTICATE)\b", plain), r)

    def test_untagged_data_during_plaintext_capability_is_dropped(self):
        # the greeting has no capabilities: imapsh asks, and gets junk with them
        r = self.fake([["send", "* OK [ALERT] PLAINTEXT-GREETING\r\n"],
                       ["command", r"^\S+ CAPABILITY$"],
                       ["send", PRE_JUNK % 1 + "* CAPABILITY %s\r\n{tag} OK done\r\n" % PRE_TLS],
                       ["serve", {"caps": PRE_TLS, "caps_tls": "IMAP4rev1 AUTH=LOGIN"}]],
                      "folders", starttls=True)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.out, b"INBOX\t\t\t\n", r)  # the post-TLS LIST only
        self.assert_plaintext_unseen(r)

    def test_capabilities_are_those_after_tls(self):
        # before TLS: AUTH=PLAIN only; after: AUTH=LOGIN only -> the LOGIN command
        r = self.fake([greet(PRE_TLS),
                       ["serve", {"caps": PRE_TLS, "caps_tls": "IMAP4rev1 AUTH=LOGIN"}]],
                      "namespace", starttls=True)
        self.assertEqual(r.rc, 0, r)
        tls = r.conn.client_tls
        self.assertRegex(tls, rb"(?m)^\S+ CAPABILITY\r$")  # asked again over TLS
        self.assertRegex(tls, rb"(?m)^\S+ LOGIN alice ")
        self.assertNotIn(b"AUTHENTICATE", tls)
        self.assert_plaintext_unseen(r)

    def test_plaintext_mechanisms_do_not_count(self):
        # AUTH=PLAIN offered in plaintext only, LOGINDISABLED after TLS: no login at all
        r = self.fake([greet(PRE_TLS),
                       ["serve", {"caps": PRE_TLS, "caps_tls": "IMAP4rev1 LOGINDISABLED"}]],
                      "namespace", starttls=True)
        self.assert_fails(r, 5, r"no mechanism")
        self.assert_no_credentials_sent(r)

    def test_untagged_data_before_the_starttls_reply_is_refused(self):
        r = self.fake([["send", "* OK [CAPABILITY %s] hi\r\n" % PRE_TLS + PRE_JUNK % 2],
                       ["command", r"(?i)^\S+ STARTTLS$"],
                       ["send", "{tag} OK begin TLS\r\n"], ["starttls"],
                       ["serve", {"caps": CAPS}]],
                      "namespace", starttls=True)
        self.assert_fails(r, 4, r"data before its STARTTLS reply")
        self.assert_plaintext_unseen(r)
        self.assertEqual(r.conn.client_tls, b"", r)

    def test_data_after_the_starttls_reply_is_refused(self):
        r = self.fake([greet(PRE_TLS), ["command", r"(?i)^\S+ STARTTLS$"],
                       ["send", "{tag} OK begin TLS\r\n" + PRE_JUNK % 3],
                       ["starttls"], ["serve", {"caps": CAPS}]],
                      "namespace", starttls=True)
        self.assert_fails(r, 4, r"data after its STARTTLS reply")
        self.assert_plaintext_unseen(r)
        self.assertEqual(r.conn.client_tls, b"", r)

    def test_starttls_refusal_text_is_sanitised(self):
        r = self.fake([greet(PRE_TLS), ["command", r"(?i)^\S+ STARTTLS$"],
                       ["send", b"{tag} NO " + EVIL + b"\r\n"], ["read", 1]],
                      "namespace", starttls=True)
        self.assert_fails(r, 4, r"the server refused STARTTLS \(server said: ")
        self.assert_clean(r)
        self.assert_no_credentials_sent(r)


# ---------------------------------------------------------------- referrals

class Referrals(HostileCase):
    """REFERRAL codes are never followed: no connection to another host."""

    def run_referral(self, script, *cmd):
        with h.fakeserver([greet(), ["serve", {}]], tls="valid") as evil:
            url = "imap://alice@evil.example:%d/INBOX" % evil.port
            steps = [[s[0]] + [x.replace("EVILURL", url) if isinstance(x, str) else x
                               for x in s[1:]] for s in script]
            r = self.fake(steps, *cmd, connections=2,
                          extra=("--resolve", "evil.example:%d:127.0.0.1" % evil.port))
            time.sleep(0.2)
            self.assertEqual(evil.conns, [], "imapsh followed the referral")
        self.assertEqual(len(r.srv.conns), 1, r)
        self.assertNotIn(b"evil.example", r.err + r.out, r)
        self.assertNotRegex(r.err.decode("utf-8", "replace"), r"(?i)redirect|connecting to", r)
        return r

    def test_referral_on_login(self):
        r = self.run_referral([greet(), ["command", r"AUTHENTICATE"],
                               ["send", "{tag} NO [REFERRAL EVILURL] try there\r\n"],
                               ["serve", {}]], "namespace")
        self.assert_fails(r, 5, r"authentication failed")

    def test_referral_on_select(self):
        r = self.run_referral([greet(), ["serve", {"rules": [
            [r"(?i)^(SELECT|EXAMINE) ", "{tag} NO [REFERRAL EVILURL] moved\r\n"]]}]],
            "select", "INBOX")
        self.assert_fails(r, 1, r"the server said NO")

    def test_referral_in_bye_greeting(self):
        r = self.run_referral([["send", "* BYE [REFERRAL EVILURL] gone\r\n"], ["close"]],
                              "namespace")
        self.assert_fails(r, 3)


# ---------------------------------------------------------------- SASL

def scram_server(server_first):
    """A script: SCRAM-SHA-256 offered; the server-first message is
    server_first(client_nonce); any answer to it gets NO."""
    caps = "IMAP4rev1 SASL-IR AUTH=SCRAM-SHA-256"

    def script(conn):
        conn.send("* OK [CAPABILITY %s] ready\r\n" % caps)
        line = conn.command(r"AUTHENTICATE SCRAM-SHA-256 ")
        first = base64.b64decode(line.split(b" ")[3]).decode()
        nonce = re.search(r"r=([^,]+)", first).group(1)
        sf = server_first(nonce)
        conn.send("+ %s\r\n" % base64.b64encode(sf.encode()).decode())
        conn.readline()
        conn.send("{tag} NO [AUTHENTICATIONFAILED] no\r\n")
        conn.serve({"caps": caps})
    return script


class Sasl(HostileCase):
    def test_scram_iteration_count_out_of_range(self):
        salt = base64.b64encode(b"salt").decode()
        for count in ("4294967295", "99999999999", "0", "-1", "1e9"):
            with self.subTest(count=count):
                r = self.fake(scram_server(lambda n: "r=%sXYZ,s=%s,i=%s" % (n, salt, count)),
                              "namespace")
                self.assert_fails(r, 5, r"iteration count")
                self.assertLess(r.took, 10 * h.timeout_scale(), r)

    def test_scram_nonce_must_extend_ours(self):
        salt = base64.b64encode(b"salt").decode()
        r = self.fake(scram_server(lambda n: "r=other%s,s=%s,i=4096" % (n, salt)),
                      "namespace")
        self.assert_fails(r, 5, r"nonce")
        # no proof of the password was sent
        self.assertNotRegex(r.conn.client_bytes, rb"(?m)^Yz1iaXdzLHI9")  # "c=biws,r="


def scram_plus_server(password, leaf_pem, mech="SCRAM-SHA-256-PLUS", flip_binding=False):
    """A script: a SCRAM server (RFC 5802) written here, independent of
    imapsh's, that offers mech and checks the channel binding in c= against
    tls-server-end-point of leaf_pem (RFC 5929: SHA-256 of the DER for a
    SHA-256-signed certificate).  flip_binding plays a relay that holds
    another certificate: it expects a different binding.  Records what it
    saw in state."""
    hname = "sha1" if mech.startswith("SCRAM-SHA-1") else "sha256"
    hf = getattr(hashlib, hname)
    with open(leaf_pem) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    binding = hashlib.sha256(der).digest()
    if flip_binding:
        binding = bytes(b ^ 1 for b in binding)
    caps = "IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=%s AUTH=%s" % (mech, mech[:-5])
    state = {}

    def script(conn):
        conn.send("* OK [CAPABILITY %s] ready\r\n" % caps)
        line = conn.command(r"AUTHENTICATE ")
        parts = line.split(b" ")
        state["mech"] = parts[2].decode()
        first = base64.b64decode(parts[3]).decode()
        state["gs2"] = first[:first.index(",n=") + 1]
        bare = first[len(state["gs2"]):]
        nonce = re.search(r"r=([^,]+)", bare).group(1) + "srv"
        salt = b"NaCl-salt"
        sf = "r=%s,s=%s,i=4096" % (nonce, base64.b64encode(salt).decode())
        conn.send("+ %s\r\n" % base64.b64encode(sf.encode()).decode())
        final = base64.b64decode(conn.readline().strip()).decode()
        without_proof, proof = final.rsplit(",p=", 1)
        c = base64.b64decode(re.match(r"c=([^,]*)", without_proof).group(1))
        state["c"] = c
        want = state["gs2"].encode() + (binding if state["gs2"].startswith("p=") else b"")
        salted = hashlib.pbkdf2_hmac(hname, password.encode(), salt, 4096)
        ck = hmac.new(salted, b"Client Key", hf).digest()
        auth = ",".join((bare, sf, without_proof)).encode()
        sig = hmac.new(hf(ck).digest(), auth, hf).digest()
        proof_ok = bytes(a ^ b for a, b in zip(ck, sig)) == base64.b64decode(proof)
        state["binding_ok"] = c == want
        if not (proof_ok and c == want):
            conn.send("+ %s\r\n" % base64.b64encode(b"e=channel-bindings-dont-match").decode())
            conn.readline()
            conn.send("{tag} NO [AUTHENTICATIONFAILED] no\r\n")
        else:
            sk = hmac.new(salted, b"Server Key", hf).digest()
            v = "v=" + base64.b64encode(hmac.new(sk, auth, hf).digest()).decode()
            conn.send("+ %s\r\n" % base64.b64encode(v.encode()).decode())
            conn.readline()
            conn.send("{tag} OK done\r\n")
        conn.serve({"caps": caps})
    return script, state


class ChannelBinding(HostileCase):
    """SCRAM-*-PLUS binds the proof to the certificate this connection
    saw; the plain SCRAM forms say "y" when the server offered no -PLUS."""

    def leaf(self):
        return self.env["ca"]["certs"]["valid"]["cert"]

    def test_plus_binds_to_the_certificate(self):
        for mech in ("SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"):
            with self.subTest(mech=mech):
                script, st = scram_plus_server(self.pw, self.leaf(), mech)
                r = self.fake(script, "--auth", mech.lower(), "namespace")
                self.assertEqual(st["mech"], mech)
                self.assertEqual(st["gs2"], "p=tls-server-end-point,,")
                self.assertTrue(st["binding_ok"], st)
                self.assertEqual(r.rc, 0, r)

    def test_plus_through_a_relay_with_another_certificate_fails(self):
        script, st = scram_plus_server(self.pw, self.leaf(), flip_binding=True)
        r = self.fake(script, "--auth", "scram-sha-256-plus", "namespace")
        self.assertFalse(st["binding_ok"])
        self.assert_fails(r, 5, r"channel-bindings-dont-match")

    def test_plain_scram_says_y_only_without_plus_on_offer(self):
        # offered -PLUS but not chosen: "n"; not offered at all: "y"
        script, st = scram_plus_server(self.pw, self.leaf())
        r = self.fake(script, "--auth", "scram-sha-256", "namespace")
        self.assertEqual((r.rc, st["gs2"]), (0, "n,,"), r)
        script, st = scram_server_no_plus(self.pw)
        r = self.fake(script, "--auth", "scram-sha-256", "namespace")
        self.assertEqual((r.rc, st["gs2"]), (0, "y,,"), r)

    def test_plus_refused_when_not_offered(self):
        script, st = scram_server_no_plus(self.pw)
        r = self.fake(script, "--auth", "scram-sha-256-plus", "namespace")
        self.assert_fails(r, 5, r"does not offer AUTH=SCRAM-SHA-256-PLUS")
        self.assertNotIn("gs2", st)


def scram_server_no_plus(password):
    """scram_plus_server's checks with only SCRAM-SHA-256 on offer."""
    script, state = scram_plus_server(password, leaf_of_testbed(), "SCRAM-SHA-256-PLUS")

    def no_plus(conn):
        real_send = conn.send

        def send(text):
            real_send(text.replace("AUTH=SCRAM-SHA-256-PLUS ", ""))
        conn.send = send
        script(conn)
    return no_plus, state


def leaf_of_testbed():
    return h.testbed()["ca"]["certs"]["valid"]["cert"]


# ---------------------------------------------------------------- deadlines

class Deadlines(HostileCase):
    def assert_deadline(self, r):
        self.assert_fails(r, 3, r"timed out")
        self.assertGreater(r.took, 2.5, r)
        self.assertLess(r.took, 6 * h.timeout_scale(), r)
        self.assert_no_credentials_sent(r)

    def test_greeting_one_byte_a_second(self):
        greeting = "* OK [CAPABILITY %s] %s\r\n" % (CAPS, "slow " * 20)
        r = self.fake([["dribble", greeting, 1.0], ["serve", {}]], "namespace",
                      extra=("--timeout", "3"))
        self.assert_deadline(r)
        self.assertLess(len(r.conn.server_bytes), len(greeting), r)

    def test_plaintext_greeting_one_byte_a_second(self):
        greeting = "* OK [CAPABILITY %s] %s\r\n" % (PRE_TLS, "slow " * 20)
        r = self.fake([["dribble", greeting, 1.0], ["serve", {"caps": PRE_TLS}]], "namespace",
                      starttls=True, extra=("--timeout", "3"))
        self.assert_deadline(r)

    def test_login_reply_one_byte_a_second(self):
        # each byte is in time (inactivity), but the login as a whole is
        # bounded by twice --timeout
        r = self.fake([greet(), ["command", r"(?i)AUTHENTICATE|LOGIN"],
                       ["dribble", "* OK " + "slow " * 40 + "\r\n", 1.0]], "namespace",
                      extra=("--timeout", "3"))
        self.assert_fails(r, 3, r"timed out")
        self.assertGreater(r.took, 5.5, r)
        self.assertLess(r.took, 10 * h.timeout_scale(), r)

    def test_silent_after_login(self):
        # inactivity: no byte for --timeout seconds ends the command
        r = self.fake([greet(), ["serve", {"until": r"(?i)^NAMESPACE"}], ["sleep", 60]],
                      "namespace", extra=("--timeout", "3"))
        self.assert_fails(r, 3, r"timed out")
        self.assertLess(r.took, 10 * h.timeout_scale(), r)


# ---------------------------------------------------------------- dropped connections

def message(i):
    return "From: a@example.test\r\nSubject: message %d\r\n\r\nbody %d\r\n" % (i, i)


def fetch_body(i, uid=None):
    m = message(i)
    return ('* %d FETCH (UID %d FLAGS (\\Seen) INTERNALDATE "01-Jan-2026 10:00:00 +0000" '
            'BODY[] {%d}\r\n%s)\r\n' % (i, uid or i, len(m), m))


class Drops(HostileCase):
    """The connection dropped (RST) at every stage: exit 3, nothing half done."""

    def test_drop_during_greeting(self):
        r = self.fake([["send", "* OK [CAPABI"], ["drop"]], "namespace")
        self.assert_fails(r, 3, r"greeting")
        self.assert_no_credentials_sent(r)

    def test_drop_after_authenticate(self):
        r = self.fake([greet(), ["command", r"AUTHENTICATE PLAIN"], ["drop"]], "namespace")
        self.assert_fails(r, 3, r"connection|closed|reset")

    def test_drop_after_login_command(self):
        caps = "IMAP4rev1 AUTH=LOGIN"  # no SASL PLAIN: the LOGIN command
        r = self.fake([greet(caps), ["command", r"^\S+ LOGIN "], ["drop"]], "namespace")
        self.assert_fails(r, 3, r"connection|closed|reset")

    def test_drop_during_sasl_exchange(self):
        caps = "IMAP4rev1 AUTH=PLAIN"  # no SASL-IR: a continuation first
        r = self.fake([greet(caps), ["command", r"AUTHENTICATE PLAIN"], ["send", "+ \r\n"],
                       ["expect", r"."], ["drop"]], "namespace")
        self.assert_fails(r, 3, r"connection|closed|reset")

    def test_close_after_login_command(self):
        r = self.fake([greet("IMAP4rev1"), ["command", r"^\S+ LOGIN "], ["close"]], "namespace")
        self.assert_fails(r, 3, r"closed")

    def test_drop_during_select(self):
        r = self.fake([greet(), ["serve", {"rules": [
            [r"(?i)^SELECT ", "* FLAGS (\\Seen)\r\n* 3 EXISTS\r\n", "drop"]]}]],
            "select", "INBOX")
        self.assert_fails(r, 3, r"select INBOX: .*(reset|closed)")

    def test_drop_mid_fetch_literal(self):
        self.need("fetch")
        outdir = os.path.join(self.work, "out")
        os.mkdir(outdir)
        out = os.path.join(outdir, "message.eml")
        r = self.fake([greet(MCAPS), ["serve", {"caps": MCAPS, "rules": [
            SELECT, SEARCH5,
            [r"(?i)^UID FETCH ", "* 1 FETCH (UID 5 BODY[] {1000}\r\n" + "a" * 300, "drop"]]}]],
            "fetch", "5", "-o", out)
        self.assert_fails(r, 3, r"reset|closed")
        self.assertEqual(os.listdir(outdir), [], "a partial output file was left")

    def test_fetch_does_not_overwrite_on_failure(self):
        self.need("fetch")
        out = os.path.join(self.work, "message.eml")
        with open(out, "w") as f:
            f.write("precious\n")
        r = self.fake([greet(MCAPS), ["serve", {"caps": MCAPS, "rules": [
            SELECT, SEARCH5,
            [r"(?i)^UID FETCH ", "* 1 FETCH (UID 5 BODY[] {1000}\r\n" + "a" * 300, "drop"]]}]],
            "fetch", "5", "-o", out)
        self.assertNotEqual(r.rc, 0, r)
        with open(out) as f:
            self.assertEqual(f.read(), "precious\n")

    def append_file(self):
        path = os.path.join(self.work, "upload.eml")
        with open(path, "w", newline="") as f:
            f.write(message(1))
        return path

    def test_drop_during_append_synchronising_literal(self):
        self.need("append")
        caps = "IMAP4rev1 SASL-IR AUTH=PLAIN"  # no LITERAL+: waits for "+"
        r = self.fake([greet(caps), ["serve", {"caps": caps, "until": r"(?i)^APPEND "}],
                       ["drop"]], "append", "INBOX", self.append_file())
        self.assert_fails(r, 3, r"append")

    def test_drop_during_append_after_data(self):
        self.need("append")
        caps = "IMAP4rev1 SASL-IR AUTH=PLAIN LITERAL+"
        r = self.fake([greet(caps), ["serve", {"caps": caps, "until": r"(?i)^APPEND "}],
                       ["read", 0.5], ["drop"]], "append", "INBOX", self.append_file())
        self.assert_fails(r, 3, r"append")

    def test_move_never_deletes_what_it_did_not_copy(self):
        self.need("move")
        cases = {
            # name: (COPY rule, extra rules, exit code)
            "drop_after_copy": ([r"(?i)^UID COPY ", "", "drop"], [], 3),
            "copy_no": ([r"(?i)^UID COPY ", "{tag} NO [OVERQUOTA] full\r\n"], [], 1),
            "copy_bad": ([r"(?i)^UID COPY ", "{tag} BAD no such thing\r\n"], [], 1),
            "close_after_copy": ([r"(?i)^UID COPY ", "", "close"], [], 3),
            "bye_instead_of_copy_ok": ([r"(?i)^UID COPY ", "* BYE shutting down\r\n", "close"],
                                       [], 3),
        }
        for name, (copy, more, code) in cases.items():
            with self.subTest(case=name):
                r = self.fake([greet(MCAPS), ["serve", {"caps": MCAPS,
                                                        "rules": [SELECT, SEARCH5, copy] + more}]],
                              "move", "5", "Archive", connections=2)
                self.assert_fails(r, code)
                self.assertEqual(len(r.srv.conns), 1, r)
                cmds = [c.upper() for c in self.client_commands(r)]
                self.assertTrue(any(c.startswith(b"UID COPY 5 ") for c in cmds), r)
                for c in cmds:
                    self.assertFalse(c.startswith((b"UID STORE", b"STORE", b"UID EXPUNGE",
                                                   b"EXPUNGE", b"CLOSE")), r)

    def test_move_stops_when_flagging_fails(self):
        self.need("move")
        r = self.fake([greet(MCAPS), ["serve", {"caps": MCAPS, "rules": [
            SELECT, SEARCH5,
            [r"(?i)^UID COPY ", "{tag} OK [COPYUID 9 5 100] copied\r\n"],
            [r"(?i)^UID STORE ", "", "drop"]]}]], "move", "5", "Archive", connections=2)
        self.assert_fails(r, 3, r"copied")
        cmds = [c.upper() for c in self.client_commands(r)]
        self.assertFalse(any(b"EXPUNGE" in c or c.startswith(b"CLOSE") for c in cmds), r)

    def test_drop_during_move(self):
        self.need("move")
        caps = MCAPS + " MOVE"
        r = self.fake([greet(caps), ["serve", {"caps": caps, "rules": [
            SELECT, SEARCH5, [r"(?i)^UID MOVE ", "", "drop"]]}]], "move", "5", "Archive")
        self.assert_fails(r, 3)

    def export_server(self, body_rule):
        caps = MCAPS
        sizes = "".join("* %d FETCH (UID %d RFC822.SIZE %d)\r\n" % (i, i, len(message(i)))
                        for i in (1, 2, 3))
        flags = "".join("* %d FETCH (UID %d FLAGS ())\r\n" % (i, i) for i in (1, 2, 3))
        return [greet(caps), ["serve", {"caps": caps, "rules": [
            SELECT, [r"(?i)^UID SEARCH ", "* SEARCH 1 2 3\r\n{tag} OK done\r\n"],
            [r"RFC822\.SIZE", sizes + "{tag} OK done\r\n"],
            # a repeat export compares the flags of what it has (no CONDSTORE)
            [r"(?i)^UID FETCH \S+ \(UID FLAGS\)$", flags + "{tag} OK done\r\n"],
            body_rule]}]]

    def maildir_files(self, d):
        out = {}
        for sub in ("cur", "new", "tmp"):
            p = os.path.join(d, sub)
            if os.path.isdir(p):
                for name in os.listdir(p):
                    with open(os.path.join(p, name), "rb") as f:
                        out["%s/%s" % (sub, name)] = f.read()
        return out

    def test_drop_during_export_then_resume(self):
        self.need("export")
        d = os.path.join(self.work, "maildir")
        partial = message(2)
        r = self.fake(self.export_server(
            [r"BODY\.PEEK\[\]", fetch_body(1) + "* 2 FETCH (UID 2 FLAGS () INTERNALDATE "
             '"01-Jan-2026 10:00:00 +0000" BODY[] {%d}\r\n%s' % (len(partial), partial[:12]),
             "drop"]), "export", "INBOX", d)
        self.assert_fails(r, 3, r"reset|closed|stopped")
        files = self.maildir_files(d)
        for name, data in files.items():
            self.assertTrue(name.startswith("cur/"), "left behind: %s" % name)
            self.assertEqual(data, message(1).encode(), "incomplete file %s" % name)
        # a second run against a healthy server fetches what is missing; nothing is lost
        rest = "".join(fetch_body(i) for i in (1, 2, 3))
        r2 = self.fake(self.export_server([r"BODY\.PEEK\[\]", rest + "{tag} OK done\r\n"]),
                       "export", "INBOX", d)
        self.assertEqual(r2.rc, 0, r2)
        got = sorted(self.maildir_files(d).items())
        self.assertEqual([n.split("/")[0] for n, _ in got], ["cur"] * 3, got)
        self.assertEqual(sorted(data for _, data in got),
                         sorted(message(i).encode() for i in (1, 2, 3)))


# ---------------------------------------------------------------- results

class Results(HostileCase):
    """Odd but parsable answers: the result is still the right one."""

    def fetch(self, reply, *extra):
        return self.fake([greet(MCAPS), ["serve", {"caps": MCAPS, "rules": [
            SELECT, SEARCH5, [r"(?i)^UID FETCH ", reply + "{tag} OK done\r\n"]]}]],
            "fetch", "5", *extra)

    def test_fetch_ignores_other_messages(self):
        self.need("fetch")
        out = os.path.join(self.work, "m.eml")
        for name, reply in (("other_uid", "* 1 FETCH (UID 6 BODY[] {5}\r\nevil!)\r\n"),
                            ("no_uid", "* 1 FETCH (BODY[] {5}\r\nevil!)\r\n"),
                            ("nothing", "")):
            with self.subTest(case=name):
                r = self.fetch(reply, "-o", out)
                self.assert_fails(r, 1, r"no message with UID 5")
                self.assertFalse(os.path.exists(out))

    def test_fetch_takes_the_first_of_duplicate_answers(self):
        self.need("fetch")
        r = self.fetch("* 1 FETCH (UID 5 BODY[] {5}\r\ngood!)\r\n"
                       "* 1 FETCH (UID 5 BODY[] {5}\r\nevil!)\r\n")
        self.assertEqual((r.rc, r.out), (0, b"good!"), r)

    def test_fetch_nil_body(self):
        self.need("fetch")
        out = os.path.join(self.work, "nil.eml")
        for args in ((), ("-o", out)):
            with self.subTest(args=args):
                r = self.fetch("* 1 FETCH (UID 5 BODY[] NIL)\r\n", *args)
                self.assert_fails(r, 1, r"sent no content \(NIL\)")
                self.assertFalse(os.path.exists(out))

    def export(self, bodies, d):
        sizes = "* 1 FETCH (UID 1 RFC822.SIZE %d)\r\n" % len(message(1))
        return self.fake([greet(MCAPS), ["serve", {"caps": MCAPS, "rules": [
            SELECT, [r"(?i)^UID SEARCH ", "* SEARCH 1\r\n{tag} OK done\r\n"],
            [r"RFC822\.SIZE", sizes + "{tag} OK done\r\n"],
            [r"BODY\.PEEK\[\]", bodies + "{tag} OK done\r\n"]]}]], "export", "INBOX", d)

    def test_export_file_names_ignore_hostile_flags(self):
        self.need("export")
        parent = os.path.join(self.work, "p")
        d = os.path.join(parent, "maildir")
        m = message(1)
        r = self.export('* 1 FETCH (UID 1 FLAGS (\\Seen $x/../../../evil \\Flagged) '
                        'INTERNALDATE "01-Jan-2026 10:00:00 +0000" BODY[] {%d}\r\n%s)\r\n'
                        % (len(m), m), d)
        self.assertEqual(r.rc, 0, r)
        found = [os.path.join(root, n) for root, dirs, files in os.walk(self.work)
                 for n in dirs + files]
        self.assertFalse([f for f in found if "evil" in f], found)
        cur = os.listdir(os.path.join(d, "cur"))
        self.assertEqual(len(cur), 1, cur)
        self.assertRegex(cur[0], r":2,FS$")

    def test_export_ignores_unrequested_messages(self):
        self.need("export")
        d = os.path.join(self.work, "maildir")
        # a message never asked for, and the one asked for twice
        r = self.export(fetch_body(1) + fetch_body(9, uid=99) + fetch_body(1), d)
        self.assertEqual(r.rc, 0, r)
        cur = os.listdir(os.path.join(d, "cur"))
        self.assertEqual(len(cur), 1, cur)
        self.assertRegex(cur[0], r"U1\.")


# ---------------------------------------------------------------- limits

class Limits(HostileCase):
    """Protocol violations and absurd sizes: exit 3, bounded memory."""

    def measured(self, script, *cmd):
        """Run under /usr/bin/time; returns (Run, peak RSS in MB or None)."""
        if h.wrapper():  # valgrind's own memory would be measured
            return self.fake(script, *cmd), None
        rss = os.path.join(self.work, "rss")
        old = os.environ.get("IMAPSH_WRAPPER")
        os.environ["IMAPSH_WRAPPER"] = "/usr/bin/time -f %%M -o %s" % rss
        try:
            r = self.fake(script, *cmd)
        finally:
            if old is None:
                del os.environ["IMAPSH_WRAPPER"]
            else:
                os.environ["IMAPSH_WRAPPER"] = old
        with open(rss) as f:
            kb = int(f.read().split()[-1])
        return r, kb / 1024.0

    def rss_limit(self):
        return 400 if is_asan(os.environ["IMAPSH_BIN"]) else 100

    def test_tagged_reply_for_a_tag_never_sent(self):
        r = self.fake([greet(), ["command", r"AUTHENTICATE"],
                       ["send", "ZZZZ9 OK [CAPABILITY IMAP4rev1] you did not send this\r\n"],
                       ["serve", {}]], "namespace")
        self.assert_fails(r, 7, r"never sent")

    def test_numbers_beyond_32_bits(self):
        cases = {
            "exists": "* 4294967296 EXISTS\r\n{tag} OK done\r\n",
            "uidvalidity": "* 3 EXISTS\r\n* OK [UIDVALIDITY 4294967296] x\r\n{tag} OK done\r\n",
            "uidnext": "* 3 EXISTS\r\n* OK [UIDNEXT 99999999999999999999999] x\r\n"
                       "{tag} OK done\r\n",
            "expunge": "* 3 EXISTS\r\n* 4294967296 EXPUNGE\r\n{tag} OK done\r\n",
        }
        for name, reply in cases.items():
            with self.subTest(case=name):
                r = self.fake([greet(), ["serve", {"rules": [[r"(?i)^SELECT ", reply]]}]],
                              "select", "INBOX")
                self.assert_fails(r, 7, r"malformed|out of range|too large")

    def test_fetch_literal_of_4_gib(self):
        self.need("fetch")
        for size in ("4294967296", "99999999999999999999999", "4294967295"):
            with self.subTest(size=size):
                outdir = os.path.join(self.work, "out" + size)
                os.mkdir(outdir)
                r, mb = self.measured([greet(MCAPS), ["serve", {"caps": MCAPS, "rules": [
                    SELECT, SEARCH5,
                    [r"(?i)^UID FETCH ", "* 1 FETCH (UID 5 BODY[] {%s}\r\nabc" % size,
                     "close"]]}]], "fetch", "5", "-o", os.path.join(outdir, "m.eml"))
                # over the cap: the protocol (7); at the cap the server
                # closes mid-literal: the connection (3)
                closed = b"closed" in r.err
                self.assert_fails(r, 3 if closed else 7, r"closed" if closed else r"literal")
                self.assertEqual(closed, size == "4294967295", r)
                self.assertEqual(os.listdir(outdir), [])
                if mb is not None:
                    self.assertLess(mb, self.rss_limit(), "peak RSS %.0f MB" % mb)

    def test_bodystructure_nested_10000_deep(self):
        deep = "(" * 10000 + '"text" "plain" NIL NIL NIL "7bit" 1 1' + ' "mixed")' * 10000
        cmd = ("structure", "5") if self.has_command("structure") else (
            "quote", "UID FETCH 5 BODYSTRUCTURE")
        reply = "* 1 FETCH (UID 5 BODYSTRUCTURE %s)\r\n{tag} OK done\r\n" % deep
        r = self.fake([greet(MCAPS), ["serve", {"caps": MCAPS, "rules": [
            SELECT, SEARCH5, [r"(?i)^UID FETCH ", reply]]}]], *cmd)
        self.assert_fails(r, 7, r"deeper|nest|too")

    def test_line_of_20_mb_without_crlf(self):
        big = b"x" * (20 * 1024 * 1024)
        cases = {
            "greeting": big_reply(b"* OK " + big),
            "namespace": big_reply(b"* NAMESPACE " + big, r"(?i)^NAMESPACE"),
            "quoted": big_reply(b'* NAMESPACE (("' + big, r"(?i)^NAMESPACE"),
        }
        for name, script in cases.items():
            with self.subTest(case=name):
                r, mb = self.measured(script, "namespace")
                self.assert_fails(r, 7, r"longer than|too large")
                if mb is not None:
                    self.assertLess(mb, self.rss_limit(), "peak RSS %.0f MB" % mb)

    def test_ten_million_one_byte_literals_in_one_response(self):
        # 60 MB of "{1}\r\nx": stopped by the parser's cap on values in one
        # response (2,000,000 of them, about 100 MB: the price of a SEARCH
        # answer for a huge folder)
        r, mb = self.measured(big_reply(b"* NAMESPACE " + b"{1}\r\nx" * (10 * 1000 * 1000),
                                        r"(?i)^NAMESPACE"), "namespace")
        self.assert_fails(r, 7, r"more than \d+ values")
        if mb is not None:
            self.assertLess(mb, 1.6 * self.rss_limit(), "peak RSS %.0f MB" % mb)

    def test_endless_untagged_stream_is_bounded(self):
        # 30 MB of small untagged responses that no command asked for
        mb = 2 if h.wrapper() else 30
        flood = b"* OK still here\r\n* 3 EXISTS\r\n" * (mb * 1024 * 1024 // 29)
        r, mb = self.measured(big_reply(
            flood + b'* NAMESPACE (("" "/")) NIL NIL\r\n{tag} OK done\r\n', r"(?i)^NAMESPACE"),
            "namespace")
        self.assertEqual(r.rc, 0, r)
        if mb is not None:
            self.assertLess(mb, self.rss_limit(), "peak RSS %.0f MB" % mb)


# ---------------------------------------------------------------- server text

class ServerText(HostileCase):
    """ALERT, NO/BAD, BYE and ID text: sanitised and labelled as the server's."""

    def test_alert_in_greeting(self):
        r = self.fake([["send", b"* OK [ALERT] greet " + EVIL + b"\r\n"],
                       ["serve", {}]], "namespace")
        self.assertEqual(r.rc, 0, r)
        self.assertIn(b"imapsh: server alert: greet ^[[2J^[]52;c;ZXZpbA==^G", r.err)
        self.assert_clean(r)

    def test_alerts_during_select(self):
        reply = (b"* OK [ALERT] untagged " + EVIL + b"\r\n"
                 b"{tag} NO [ALERT] tagged " + EVIL + b"\r\n")
        r = self.fake([greet(), ["serve", {"rules": [[r"(?i)^SELECT ", reply]]}]],
                      "select", "INBOX")
        self.assert_fails(r, 1, r"the server said NO")
        self.assertIn(b"server alert: untagged ", r.err)
        self.assertIn(b"server alert: tagged ", r.err)
        self.assert_clean(r)

    def test_login_refusal_text(self):
        r = self.fake([greet(), ["command", r"AUTHENTICATE"],
                       ["send", b"* OK [ALERT] alert " + EVIL + b"\r\n{tag} NO "
                        b"[AUTHENTICATIONFAILED] refused " + EVIL + b"\r\n"], ["read", 1]],
                      "namespace")
        self.assert_fails(r, 5, r"the server said: refused \^\[\[2J")
        self.assertIn(b"server alert: alert ", r.err)
        self.assert_clean(r)

    def test_bad_text(self):
        r = self.fake([greet(), ["serve", {"rules": [
            [r"(?i)^SELECT ", b"{tag} BAD nope " + EVIL + b"\r\n"]]}]], "select", "INBOX")
        self.assert_fails(r, 1, r"the server said BAD: nope \^\[")
        self.assert_clean(r)

    def test_bye_mid_command(self):
        r = self.fake([greet(), ["serve", {"rules": [
            [r"(?i)^SELECT ", b"* BYE bye " + EVIL + b"\r\n", "close"]]}]], "select", "INBOX")
        self.assert_fails(r, 3, r"server closed the connection: bye \^\[")
        self.assert_clean(r)

    def test_id_data(self):
        reply = (b'* ID ("name" "x' + EVIL + b'" "vendor" "' + EVIL + b'" "e\\"sc" NIL)\r\n'
                 b"{tag} OK done\r\n")
        for opts in ((), ("--json",)):
            with self.subTest(opts=opts):
                r = self.fake([greet(), ["serve", {"rules": [[r"(?i)^ID ", reply]]}]],
                              *opts, "id")
                self.assertEqual(r.rc, 0, r)
                self.assertIn(b"vendor", r.out)
                # JSON escapes the controls; a bidi override in a JSON string is data
                self.assert_clean(r, bidi=not opts)

    def test_folder_names_on_a_pipe(self):
        # on a pipe names stay as sent, but no control character passes
        r = self.fake([greet(), ["serve", {"rules": [
            [r"(?i)^LIST ", b'* LIST () "/" "evil' + EVIL + b'"\r\n'
             b"{tag} OK done\r\n"]]}]], "folders")
        # a name that is not modified UTF-7 cannot be sent back: skipped,
        # named (sanitised) in a warning, exit 7 (the server broke the protocol)
        self.assertEqual(r.rc, 7, r)
        self.assertIn(b"evil^[[2J^[]52;c;ZXZpbA==^G", r.err)
        self.assert_clean(r)


# ---------------------------------------------------------------- secrets

class Secrets(h.TestbedCase):
    """Nothing imapsh writes holds a password, a token or their encodings."""

    def secrets(self):
        forms = set()
        for user, u in self.env["users"].items():
            forms |= secret_forms(u["password"], user)
        for user, t in (self.env["oauth"] or {"tokens": {}})["tokens"].items():
            forms |= {t.encode()} | b64_forms(t)
        return forms

    def write(self, name, text):
        p = os.path.join(self.home.root, name)
        with open(p, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        return p

    def everything_written(self):
        data = []
        for root, dirs, files in os.walk(self.home.root):
            for n in files:
                p = os.path.join(root, n)
                if p in self.inputs:
                    continue
                with open(p, "rb") as f:
                    data.append((p, f.read()))
        return data

    def test_no_secret_in_output_trace_history_or_state(self):
        env = self.env
        pw_alice = self.write("pw-alice", env["users"]["alice"]["password"])
        pw_bob = self.write("pw-bob", env["users"]["bob"]["password"])
        # Cyrus and Courier in the test bed have no OAuth: their runs skip it
        tok = self.write("tok-alice", env["oauth"]["tokens"]["alice"]) if env["oauth"] else None
        self.inputs = {pw_alice, pw_bob, tok}  # what the test wrote, not imapsh
        written = []
        script = "namespace\nfolders\nstatus INBOX\nquote NOOP\n"
        runs = [("alice", "plain", ("--password-command", "cat " + pw_alice)),
                ("alice", "login", ("--password-command", "cat " + pw_alice)),
                ("alice", "scram-sha-256", ("--password-command", "cat " + pw_alice)),
                ("bob", "plain", ("--password-command", "cat " + pw_bob)),
                ("alice", "xoauth2", ("--oauth-token-command", "cat " + str(tok))),
                ("alice", "oauthbearer", ("--oauth-token-command", "cat " + str(tok)))]
        runs = [r for r in runs if r[1] == "login" or r[1].upper() in env["mechanisms"]]
        for user, mech, opts in runs:
            with self.subTest(user=user, mech=mech):
                rc, out, err = self.imapsh(*h.imaps_args(), "--trace", "--auth", mech, *opts,
                                           h.target(user), input=script)
                self.assertEqual(rc, 0, err)
                self.assertRegex(err, rb"C: \S+ (AUTHENTICATE|LOGIN)")
                written.append(("batch %s %s" % (user, mech), out + err))
        # -c over STARTTLS, with the password from the environment
        rc, out, err = self.imapsh(*h.imaps_args("starttls"), "--trace",
                                   h.target("alice", "starttls"), "-c",
                                   "namespace; id" if h.offers("ID") else "namespace",
                                   env=h.password_env("alice"))
        self.assertEqual(rc, 0, err)
        written.append(("-c", out + err))
        # a wrong password: the refusal must not echo it
        wrong = self.write("pw-wrong", "wrong-%s" % env["users"]["alice"]["password"])
        self.inputs.add(wrong)
        rc, out, err = self.imapsh(*h.imaps_args(), "--trace", "--password-command",
                                   "cat " + wrong, h.target("alice"), "namespace")
        self.assertEqual(rc, 5, err)
        written.append(("wrong password", out + err))
        # an export, if the command exists
        if self.imapsh("help", "export")[0] == 0:
            d = os.path.join(self.home.root, "export")
            rc, out, err = self.imapsh(*h.imaps_args(), "--trace", "--password-command",
                                       "cat " + pw_alice, h.target("alice"), "export", "INBOX", d)
            self.assertEqual(rc, 0, err)
            written.append(("export", out + err))
        # an interactive shell: login at the prompt, a quoted LOGIN, history saved
        written.append(("shell", self.shell()))
        written += self.everything_written()
        names = [p for p, _ in self.everything_written()]
        self.assertTrue(any(p.endswith("history") for p in names), names)
        for where, data in written:
            for form in self.secrets():
                self.assertNotIn(form, data, "%s holds %r" % (where, form))

    def shell(self):
        from test_shell import Pty
        env = h.base_env(self.home)
        env["TERM"] = "xterm"
        p = Pty(list(h.imaps_args()) + ["--trace", h.target()], env)
        self.addCleanup(p.close)
        pw = self.env["users"]["alice"]["password"]
        p.read_until(rb"> $")
        p.send("login alice\r")
        p.read_until(rb"Password for alice@imap\.example\.test: $")
        # secret_prompt() prints the prompt before it turns echo off (with
        # TCSAFLUSH): typed at once, the password is echoed, then discarded
        time.sleep(0.5 * h.timeout_scale())
        p.send(pw + "\r")
        p.read_until(rb"alice@imap\.example\.test> $")
        screen = p.buf
        p.send('quote LOGIN alice "%s"\r' % pw)
        p.read_until(rb"said (BAD|NO)[\s\S]*> $")  # Courier refuses it with NO
        # the terminal echoes what was typed; imapsh's own output follows it
        typed = ('quote LOGIN alice "%s"' % pw).encode()
        self.assertEqual(p.buf.count(typed), 1)
        screen += p.buf.replace(typed, b"")
        p.mark()
        p.send("namespace\r")
        p.read_until(rb"personal[\s\S]*> $")
        p.send("\x04")
        self.assertEqual(p.wait_exit(), 0)
        return screen + p.buf

    def test_no_secret_in_cmdline(self):
        pwfile = os.path.join(self.home.root, "pw")
        with open(pwfile, "w") as f:
            f.write(self.env["users"]["alice"]["password"] + "\n")
        e = h.base_env(self.home)
        p = subprocess.Popen(h.wrapper() + [os.environ["IMAPSH_BIN"], *h.imaps_args(),
                                            "--password-command", "cat " + pwfile,
                                            h.target("alice")],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=e)
        seen = b""
        try:
            p.stdin.write(b"namespace\nquote NOOP\n")
            p.stdin.flush()
            deadline = time.monotonic() + 2 * h.timeout_scale()
            while time.monotonic() < deadline:  # logged in by now; stdin still open
                with open("/proc/%d/cmdline" % p.pid, "rb") as f:
                    seen += f.read()
                time.sleep(0.05)
            out, err = p.communicate(timeout=60 * h.timeout_scale())  # closes stdin
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 0, err)
        self.assertIn(b"personal", out)
        self.assertIn(b"--password-command", seen)
        for form in secret_forms(self.env["users"]["alice"]["password"]):
            self.assertNotIn(form, seen)
            self.assertNotIn(form, out + err)


if __name__ == "__main__":
    unittest.main()
