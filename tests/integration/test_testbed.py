"""The test bed itself works: Dovecot, users, sample mail, the certificate
matrix and the fake server.  Python's own imaplib/ssl are the clients
here, so a failure points at the test bed, not at imapsh."""

import base64
import imaplib
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import time
import unittest
import warnings
import zlib

import harness as h

HOST = "imap.example.test"


def tls_client(cafile=None, **kw):
    ctx = h.ssl_context(cafile)
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


def connect_by_name(port, ctx):
    """What --resolve imap.example.test:PORT:127.0.0.1 does: dial 127.0.0.1,
    verify and send SNI for imap.example.test."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        return ctx.wrap_socket(s, server_hostname=HOST)
    except BaseException:
        s.close()
        raise


def recv_until(sock, pattern, timeout=5.0):
    sock.settimeout(timeout)
    data = b""
    end = time.monotonic() + timeout
    while not re.search(pattern, data):
        if time.monotonic() > end:
            raise AssertionError("no %r in %r" % (pattern, data))
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


class EnvTest(unittest.TestCase):
    def test_env_json_is_complete_and_files_exist(self):
        env = h.testbed()
        for key in ("dir", "host", "addr", "ports", "resolve", "urls", "ca_file", "ca", "users",
                    "mechanisms", "capabilities", "oauth", "client_cert", "mail_uid",
                    "mail_gid", "mail", env["server"], "server", "prefix", "separator"):
            self.assertIn(key, env)
        self.assertEqual(env["host"], HOST)
        self.assertEqual(set(env["ports"]), {"imaps", "starttls"})
        self.assertEqual(env["resolve"]["imaps"], "%s:%d:127.0.0.1" % (HOST, env["ports"]["imaps"]))
        self.assertTrue(os.path.isfile(env["ca_file"]))
        expected_cases = {"valid", "wildcard", "expired", "expired_intermediate", "not_yet_valid",
                          "wrong_host", "san_mismatch_cn", "cn_only", "wildcard_tld",
                          "partial_wildcard", "self_signed", "unknown_ca",
                          "missing_intermediate", "eku_client", "sha1", "rsa1024",
                          "expires_10d", "expires_3d", "ecdsa", "client", "san_nul"}
        self.assertEqual(set(env["ca"]["certs"]), expected_cases)
        for name, c in env["ca"]["certs"].items():
            for f in ("key", "cert", "chain"):
                self.assertTrue(os.path.isfile(c[f]), "%s %s" % (name, f))
        self.assertEqual(set(env["users"]), {"alice", "bob", "carol"})
        self.assertEqual(env["users"]["alice"]["password"], "correct horse")
        bob = env["users"]["bob"]["password"]
        self.assertTrue(" " in bob and '"' in bob and any(ord(ch) > 127 for ch in bob))
        info = env[env["server"]]
        for pid in info.get("pids", {"server": info.get("pid")}).values():
            self.assertTrue(os.path.isdir(os.path.join("/proc", str(pid))))
        self.assertNotEqual(env["mail_uid"], 0)

    def test_chains_hold_what_the_server_should_send(self):
        certs = h.testbed()["ca"]["certs"]

        def count(case):
            with open(certs[case]["chain"]) as f:
                return f.read().count("BEGIN CERTIFICATE")
        self.assertEqual(count("valid"), 2)
        self.assertEqual(count("expired_intermediate"), 2)
        for case in ("missing_intermediate", "self_signed", "unknown_ca"):
            self.assertEqual(count(case), 1, case)

    def test_certificate_properties(self):
        certs = h.testbed()["ca"]["certs"]

        def text(case):
            return subprocess.run(["openssl", "x509", "-noout", "-text", "-in",
                                   certs[case]["cert"]], stdout=subprocess.PIPE,
                                  check=True).stdout.decode()
        self.assertIn("sha1WithRSAEncryption", text("sha1"))
        self.assertIn("(1024 bit)", text("rsa1024"))
        self.assertNotIn("Subject Alternative Name", text("cn_only"))
        self.assertIn("DNS:other.example.test", text("san_mismatch_cn"))
        self.assertIn("CN = imap.example.test", text("san_mismatch_cn"))
        self.assertIn("TLS Web Client Authentication", text("eku_client"))
        self.assertNotIn("TLS Web Server Authentication", text("eku_client"))
        self.assertIn("Issuer: O = imapsh test bed, CN = Test CA 2", text("unknown_ca"))
        self.assertIn("DNS:*.test", text("wildcard_tld"))
        self.assertIn("DNS:im*.example.test", text("partial_wildcard"))

        def days_left(case):
            out = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in",
                                  certs[case]["cert"]], stdout=subprocess.PIPE,
                                 check=True).stdout.decode().split("=", 1)[1].strip()
            return (ssl.cert_time_to_seconds(out) - time.time()) / 86400
        self.assertEqual(int(days_left("expires_10d")), 10)
        self.assertEqual(int(days_left("expires_3d")), 3)
        self.assertEqual(int(-days_left("expired")), 3)


class DovecotTest(unittest.TestCase):
    """The test bed's server (Dovecot, or Cyrus/Courier with --server) as
    env.json describes it; what only Dovecot is set up for says so."""

    def setUp(self):
        self.env = h.testbed()

    def test_imaps_chain_is_leaf_plus_intermediate(self):
        out = subprocess.run(
            ["openssl", "s_client", "-connect", "127.0.0.1:%d" % self.env["ports"]["imaps"],
             "-servername", HOST, "-CAfile", self.env["ca_file"], "-showcerts",
             "-verify_return_error", "-verify_hostname", HOST],
            input=b"", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30).stdout
        self.assertEqual(out.count(b"BEGIN CERTIFICATE"), 2, out.decode(errors="replace"))
        self.assertIn(b"Verify return code: 0 (ok)", out)

    def test_by_name_and_localhost_both_verify(self):
        t = connect_by_name(self.env["ports"]["imaps"], tls_client())
        greeting = recv_until(t, rb"\r\n")
        t.close()
        self.assertTrue(greeting.startswith(b"* OK [CAPABILITY "), greeting)
        m = h.imap_connect(host="localhost")
        self.assertIn("AUTH=PLAIN", m.capabilities)
        m.logout()

    def test_greeting_offers_every_mechanism(self):
        caps = self.env["capabilities"]["greeting_imaps"]
        if h.server() == "dovecot":
            self.assertEqual(self.env["mechanisms"], ["PLAIN", "LOGIN", "SCRAM-SHA-256", "XOAUTH2",
                                                      "OAUTHBEARER", "EXTERNAL"])
        for mech in self.env["mechanisms"]:
            self.assertIn("AUTH=" + mech, caps)
        self.assertIn("STARTTLS", self.env["capabilities"]["greeting_plain"])

    def test_alice_login_and_inbox(self):
        m = h.imap_connect()
        typ, _ = m.login("alice", "correct horse")
        self.assertEqual(typ, "OK")
        typ, data = m.select("INBOX", readonly=True)
        self.assertEqual(typ, "OK")
        self.assertEqual(int(data[0]), 30)
        self.assertEqual(int(data[0]), self.env["mail"]["alice"]["folders"]["INBOX"]["messages"])
        typ, data = m.response("UIDVALIDITY")
        self.assertEqual(int(data[0]),
                         self.env["mail"]["alice"]["folders"]["INBOX"]["uidvalidity"])
        m.logout()

    def test_capabilities_after_login(self):
        m = h.imap_login("alice")
        typ, data = m.capability()
        caps = data[0].decode().split()
        want = ["IDLE", "NAMESPACE", "QUOTA", "UIDPLUS"]
        if h.server() != "courier":
            want += ["MOVE", "LIST-STATUS", "ESEARCH", "COMPRESS=DEFLATE", "ID", "SPECIAL-USE",
                     "LITERAL+"]
        for cap in want:
            self.assertIn(cap, caps)
        self.assertEqual(caps, self.env["capabilities"]["after_login"])
        m.logout()

    def test_bob_hard_password_plain_login_scram(self):
        pw = self.env["users"]["bob"]["password"]
        m = h.imap_connect()
        self.assertEqual(m.authenticate("PLAIN", lambda _: ("\0bob\0" + pw).encode())[0], "OK")
        m.logout()
        # LOGIN with the password as a literal (it has a quote and 8-bit).
        m = h.imap_connect()
        m.literal = pw.encode("utf-8")
        typ, _ = m._simple_command("LOGIN", "bob")
        self.assertEqual(typ, "OK")
        m.logout()
        if "SCRAM-SHA-256" not in self.env["mechanisms"]:
            return
        m = h.imap_connect()
        auth = h.scram_sha256("bob", pw)
        self.assertEqual(m.authenticate("SCRAM-SHA-256", auth)[0], "OK")
        self.assertTrue(auth.state.get("verified"))
        m.logout()

    def test_scram_for_every_user_and_wrong_password(self):
        if "SCRAM-SHA-256" not in self.env["mechanisms"]:
            self.skipTest("needs AUTH=SCRAM-SHA-256, which %s does not offer" % h.server_title())
        for user, u in self.env["users"].items():
            m = h.imap_connect()
            auth = h.scram_sha256(user, u["password"])
            self.assertEqual(m.authenticate("SCRAM-SHA-256", auth)[0], "OK", user)
            self.assertTrue(auth.state.get("verified"))
            m.logout()
        m = h.imap_connect()
        # the response code is Dovecot's; Cyrus says "authentication failure"
        code = "AUTHENTICATIONFAILED" if h.server() == "dovecot" else ""
        with self.assertRaisesRegex(imaplib.IMAP4.error, code):
            m.authenticate("PLAIN", lambda _: b"\0alice\0wrong horse")
        m.shutdown()

    @h.dovecot_only("the OAuth introspection passdb is Dovecot's")
    def test_oauth_tokens(self):
        tok = self.env["oauth"]["tokens"]["alice"]
        m = h.imap_connect()
        r = m.authenticate("XOAUTH2", lambda _: ("user=alice\x01auth=Bearer %s\x01\x01" % tok).encode())
        self.assertEqual(r[0], "OK")
        m.logout()
        m = h.imap_connect()
        r = m.authenticate("OAUTHBEARER",
                           lambda _: ("n,a=alice,\x01auth=Bearer %s\x01\x01" % tok).encode())
        self.assertEqual(r[0], "OK")
        m.logout()
        m = h.imap_connect()
        with self.assertRaises(imaplib.IMAP4.error):
            m.authenticate("XOAUTH2", lambda _: (
                "user=alice\x01auth=Bearer %s\x01\x01" % self.env["oauth"]["invalid_token"]).encode())
        m.shutdown()

    @h.dovecot_only("EXTERNAL from the client certificate is set up in Dovecot only")
    def test_external_with_client_certificate(self):
        c = self.env["client_cert"]
        ctx = h.ssl_context()
        ctx.load_cert_chain(c["chain"], c["key"])
        m = imaplib.IMAP4_SSL("localhost", self.env["ports"]["imaps"], ssl_context=ctx, timeout=30)
        self.assertEqual(m.authenticate("EXTERNAL", lambda _: b"")[0], "OK")
        m.logout()
        m = h.imap_connect()
        with self.assertRaises(imaplib.IMAP4.error):
            m.authenticate("EXTERNAL", lambda _: b"")
        m.shutdown()

    def test_folders_special_use_and_mutf7(self):
        m = h.imap_login("alice")
        typ, data = m.list('""', "*")
        self.assertEqual(typ, "OK")
        lines = [d.decode() for d in data]
        sep, prefix = self.env["separator"], self.env["prefix"]
        names = {re.sub(r'^\(.*?\) "[^"]*" ', "", ln).strip('"'): ln for ln in lines}
        jp = prefix + "&kAFP4W4IMH8-"
        self.assertIn(jp, names)
        self.assertRegex(names[jp], r'\) "%s" "?%s"?$' % (re.escape(sep), re.escape(jp)))
        self.assertIn(h.folder("Archive/2026"), names)
        self.assertIn(prefix + "Family &- Friends", names)
        if h.offers("SPECIAL-USE"):
            for folder, use in (("Sent", r"\Sent"), ("Drafts", r"\Drafts"), ("Trash", r"\Trash"),
                                ("Junk", r"\Junk"), ("Archive", r"\Archive")):
                self.assertIn(use, names[h.folder(folder)])
        self.assertEqual(len(names), len(self.env["mail"]["alice"]["folders"]))
        typ, data = m.status(jp, "(MESSAGES UIDVALIDITY)")
        f = self.env["mail"]["alice"]["folders"]["送信済み"]
        self.assertIn(b"MESSAGES %d" % f["messages"], data[0])
        self.assertIn(b"UIDVALIDITY %d" % f["uidvalidity"], data[0])
        if h.server() == "dovecot":  # Maildir++ on disk, names in modified UTF-7
            self.assertTrue(os.path.isdir(os.path.join(self.env["mail"]["alice"]["maildir"],
                                                       ".&kAFP4W4IMH8-")))
            self.assertTrue(os.path.isdir(os.path.join(self.env["mail"]["alice"]["maildir"],
                                                       ".Archive.2026")))
        m.logout()

    def test_fetch_is_byte_exact_with_flags(self):
        m = h.imap_login("alice")
        m.select("INBOX", readonly=True)
        for entry in self.env["mail"]["alice"]["folders"]["INBOX"]["list"]:
            typ, data = m.uid("FETCH", str(entry["uid"]), "(FLAGS RFC822.SIZE BODY.PEEK[])")
            self.assertEqual(typ, "OK")
            meta, body = data[0]
            with open(entry["file"], "rb") as f:
                self.assertEqual(body, f.read(), entry["subject"])
            flags = re.search(rb"FLAGS \(([^)]*)\)", meta).group(1).decode().split()
            self.assertEqual(sorted(flags), sorted(entry["flags"]), entry["uid"])
            self.assertIn(b"RFC822.SIZE %d" % entry["size"], meta)
        m.logout()

    def test_quota(self):
        m = h.imap_login("alice")
        typ, data = m.getquotaroot("INBOX")
        self.assertEqual(typ, "OK")
        quota = data[1][0].decode()
        limit = int(re.search(r"STORAGE (\d+) (\d+)", quota).group(2))
        self.assertEqual(limit, self.env["users"]["alice"]["quota_kb"])
        m.logout()
        # carol's quota is tiny: a 100 KB APPEND is refused.
        m = h.imap_login("carol")
        big = b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 100
        typ, data = m.append("INBOX", None, None, big)
        self.assertEqual(typ, "NO")
        if h.server() == "dovecot":
            self.assertIn(b"OVERQUOTA", data[0])
        m.logout()

    @h.needs_capability("COMPRESS=DEFLATE")
    def test_compress_deflate(self):
        t = connect_by_name(self.env["ports"]["imaps"], tls_client())
        recv_until(t, rb"\r\n")
        pw = self.env["users"]["alice"]["password"]
        ir = base64.b64encode(("\0alice\0" + pw).encode()).decode()
        t.sendall(b"a AUTHENTICATE PLAIN " + ir.encode() + b"\r\n")
        recv_until(t, rb"a OK")
        t.sendall(b"b COMPRESS DEFLATE\r\n")
        recv_until(t, rb"b OK[^\r]*\r\n")
        comp = zlib.compressobj(wbits=-15)
        decomp = zlib.decompressobj(wbits=-15)
        t.sendall(comp.compress(b"c NOOP\r\n") + comp.flush(zlib.Z_SYNC_FLUSH))
        out = b""
        t.settimeout(5)
        while b"c OK" not in out:
            chunk = t.recv(4096)
            self.assertTrue(chunk, "connection closed after COMPRESS")
            out += decomp.decompress(chunk)
        t.close()

    def test_starttls_on_plain_port(self):
        m = imaplib.IMAP4("127.0.0.1", self.env["ports"]["starttls"], timeout=30)
        self.assertIn("STARTTLS", m.capabilities)
        typ, _ = m.starttls(tls_client())
        self.assertEqual(typ, "OK")
        self.assertIn(m.sock.version(), ("TLSv1.2", "TLSv1.3"))
        self.assertEqual(m.login("alice", "correct horse")[0], "OK")
        typ, data = m.select("INBOX", readonly=True)
        self.assertEqual(int(data[0]), 30)
        m.logout()

    def test_idle_and_scratch_folder(self):
        sample = self.env["mail"]["alice"]["folders"]["INBOX"]["list"][0]["file"]
        with h.scratch_folder("alice", [sample]) as name:
            watcher = h.imap_login("alice")
            typ, data = watcher.select(name)
            self.assertEqual(int(data[0]), 1)
            tag = watcher._new_tag()
            watcher.send(tag + b" IDLE\r\n")
            self.assertTrue(watcher.readline().startswith(b"+"))
            writer = h.imap_login("alice")
            with open(sample, "rb") as f:
                self.assertEqual(writer.append(name, None, None, f.read())[0], "OK")
            writer.logout()
            watcher.sock.settimeout(10)
            line = watcher.readline()
            while not line.endswith(b"EXISTS\r\n"):
                line = watcher.readline()
            self.assertEqual(line, b"* 2 EXISTS\r\n")
            watcher.send(b"DONE\r\n")
            line = watcher.readline()
            while line.startswith(b"* "):
                line = watcher.readline()
            self.assertTrue(line.startswith(tag + b" OK"), line)
            watcher.logout()
        m = h.imap_login("alice")
        self.assertEqual(m.list('""', name)[1], [None])
        m.logout()


class MatrixTest(unittest.TestCase):
    """The fake server presents each matrix case, and OpenSSL's own verdict
    (hostname imap.example.test, trusting the test root) is what the case
    is meant to be.  cn_only passes here: OpenSSL falls back to the CN
    without a SAN; imapsh must not."""

    VERDICT = {
        "valid": None, "wildcard": None, "ecdsa": None, "expires_10d": None,
        "expires_3d": None, "cn_only": None,
        "expired": "expired", "expired_intermediate": "expired",
        "not_yet_valid": "not yet valid", "wrong_host": "Hostname mismatch",
        "san_mismatch_cn": "Hostname mismatch", "wildcard_tld": "Hostname mismatch",
        "partial_wildcard": "Hostname mismatch", "self_signed": "self-signed",
        "unknown_ca": "unable to get local issuer", "missing_intermediate":
        "unable to get local issuer", "eku_client": "unsuitable certificate purpose",
        "sha1": "too weak", "rsa1024": "too weak", "san_nul": "Hostname mismatch",
    }

    def test_every_case_is_presented_and_judged(self):
        certs = h.testbed()["ca"]["certs"]
        self.assertEqual(set(self.VERDICT) | {"client"}, set(certs))
        for case, want in self.VERDICT.items():
            with self.subTest(case=case):
                with h.fakeserver(tls=case, linger=0.2) as srv:
                    lax = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                    lax.check_hostname = False
                    lax.verify_mode = ssl.CERT_NONE
                    lax.set_ciphers("DEFAULT:@SECLEVEL=0")
                    t = connect_by_name(srv.port, lax)
                    der = t.getpeercert(True)
                    t.close()
                    with open(certs[case]["cert"]) as f:
                        self.assertEqual(der, ssl.PEM_cert_to_DER_cert(f.read()))
                    srv.wait(5)
                with h.fakeserver(tls=case, linger=0.2) as srv:
                    if want is None:
                        t = connect_by_name(srv.port, tls_client())
                        self.assertTrue(recv_until(t, rb"\r\n").startswith(b"* OK"))
                        t.close()
                    else:
                        with self.assertRaisesRegex(ssl.SSLCertVerificationError, want):
                            connect_by_name(srv.port, tls_client())
                    srv.wait(5)

    def test_unknown_ca_verifies_with_both_roots(self):
        with h.fakeserver(tls="unknown_ca", linger=0.2) as srv:
            t = connect_by_name(srv.port, tls_client(h.testbed()["ca"]["both_roots"]))
            t.close()
            srv.wait(5)


class FakeServerTest(unittest.TestCase):
    def _plain(self, srv):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        self.addCleanup(s.close)
        return s

    def test_starttls_injection_arrives_in_one_segment(self):
        with h.fake_case("starttls_injection") as srv:
            s = self._plain(srv)
            greeting = recv_until(s, rb"\r\n")
            self.assertIn(b"STARTTLS", greeting)
            s.sendall(b"a1 STARTTLS\r\n")
            data = recv_until(s, rb"injected before TLS\r\n")
            self.assertEqual(data, b"a1 OK Begin TLS negotiation now\r\n"
                                   b"* CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=INJECTED\r\n"
                                   b"* OK [ALERT] injected before TLS\r\n")
            t = tls_client().wrap_socket(s, server_hostname=HOST)
            t.sendall(b"b1 CAPABILITY\r\n")
            caps = recv_until(t, rb"b1 OK[^\r]*\r\n")
            self.assertIn(b"AUTH=PLAIN", caps)
            self.assertNotIn(b"INJECTED", caps)
            t.sendall(b"c1 LOGOUT\r\n")
            recv_until(t, rb"c1 OK")
            t.close()
            self.assertTrue(srv.wait(10))
        conn = srv.conn
        self.assertEqual(conn.errors, [])
        self.assertEqual(conn.client_plain, b"a1 STARTTLS\r\n")
        self.assertEqual(conn.client_tls, b"b1 CAPABILITY\r\nc1 LOGOUT\r\n")
        self.assertIn(conn.tls_version, ("TLSv1.2", "TLSv1.3"))
        # The OK and the forged lines were one write: one TCP segment.
        sends = [e[3] for e in conn.events if e[1] == "S"]
        self.assertTrue(any(x.startswith(b"a1 OK") and b"INJECTED" in x for x in sends))

    def test_client_side_injection_is_recorded(self):
        with h.fake_case("starttls_ok") as srv:
            s = self._plain(srv)
            recv_until(s, rb"\r\n")
            s.sendall(b"a1 STARTTLS\r\nb1 LOGIN alice secret\r\n")
            recv_until(s, rb"a1 OK[^\r]*\r\n")
            s.close()
            self.assertTrue(srv.wait(10))
        self.assertEqual(srv.conn.injected_after_starttls, b"b1 LOGIN alice secret\r\n")
        self.assertEqual(len(srv.conn.errors), 1)

    def test_untagged_before_ok_then_fresh_caps(self):
        with h.fake_case("starttls_untagged_before_ok") as srv:
            s = self._plain(srv)
            recv_until(s, rb"\r\n")
            s.sendall(b"a1 STARTTLS\r\n")
            data = recv_until(s, rb"a1 OK[^\r]*\r\n")
            self.assertTrue(data.startswith(b"* OK still here\r\n* CAPABILITY"))
            self.assertIn(b"AUTH=PRETLS", data)
            t = tls_client().wrap_socket(s, server_hostname=HOST)
            t.sendall(b"b1 CAPABILITY\r\n")
            self.assertNotIn(b"PRETLS", recv_until(t, rb"b1 OK"))
            t.close()
            srv.wait(10)
        self.assertEqual(srv.errors, [])

    def test_refusals_and_preauth(self):
        for case, greeting, reply in (
                ("starttls_not_offered", b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN]", rb"a1 BAD"),
                ("starttls_no", b"* OK [CAPABILITY IMAP4rev1 STARTTLS", rb"a1 NO \[UNAVAILABLE\]"),
                ("starttls_bad", b"* OK [CAPABILITY IMAP4rev1 STARTTLS", rb"a1 BAD"),
                ("preauth", b"* PREAUTH ", rb"a1 BAD")):
            with self.subTest(case=case):
                with h.fake_case(case) as srv:
                    s = self._plain(srv)
                    self.assertTrue(recv_until(s, rb"\r\n").startswith(greeting))
                    s.sendall(b"a1 STARTTLS\r\n")
                    recv_until(s, reply)
                    s.sendall(b"a2 LOGOUT\r\n")
                    self.assertIn(b"* BYE", recv_until(s, rb"a2 OK"))
                    s.close()
                    self.assertTrue(srv.wait(10))
                self.assertEqual(srv.errors, [])
                self.assertEqual(srv.conn.client_plain, b"a1 STARTTLS\r\na2 LOGOUT\r\n")
                self.assertIsNone(srv.conn.tls_version)

    def test_tls11_only(self):
        with h.fake_case("tls11_only", connections=2) as srv:
            with self.assertRaises(ssl.SSLError):
                connect_by_name(srv.port, tls_client())
            old = tls_client()
            old.set_ciphers("DEFAULT:@SECLEVEL=0")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                old.minimum_version = ssl.TLSVersion.TLSv1_1
            t = connect_by_name(srv.port, old)
            self.assertEqual(t.version(), "TLSv1.1")
            t.close()
            srv.wait(10)
        self.assertIsNotNone(srv.conns[0].tls_error)
        self.assertEqual(srv.conns[1].tls_version, "TLSv1.1")

    def test_script_steps_dribble_split_literal_drop(self):
        script = [
            ["dribble", "* OK hi\r\n", 0.005],
            ["command", r"^\S+ LOGIN (?P<user>\S+) "],
            ["split", ["{tag} OK [CAPABILITY IMAP4rev1] ", "Logged in as {user}\r\n"], 0.05],
            ["expect", r"(?i)^\S+ NOOP$"],
            ["send", "* 1 EXISTS\r\n{tag} OK literal {5}\r\n"],
            ["drop"]]
        with h.fakeserver(script) as srv:
            s = self._plain(srv)
            recv_until(s, rb"\* OK hi\r\n")
            s.sendall(b"x LOGIN bob {4}\r\n")
            self.assertEqual(recv_until(s, rb"\r\n"), b"+ OK\r\n")
            s.sendall(b"pass\r\n")
            self.assertEqual(recv_until(s, rb"as bob\r\n"),
                             b"x OK [CAPABILITY IMAP4rev1] Logged in as bob\r\n")
            s.sendall(b"y NOOP\r\n")
            self.assertEqual(recv_until(s, rb"\{5\}\r\n"), b"* 1 EXISTS\r\ny OK literal {5}\r\n")
            with self.assertRaises(OSError):
                while s.recv(100):
                    pass
            self.assertTrue(srv.wait(10))
        c = srv.conn
        self.assertEqual(c.errors, [])
        self.assertEqual(c.vars["user"], "bob")
        self.assertEqual(c.client_bytes, b"x LOGIN bob {4}\r\npass\r\ny NOOP\r\n")
        one_byte = [e for e in c.events if e[1] == "S" and len(e[3]) == 1]
        self.assertEqual(len(one_byte), len(b"* OK hi\r\n"))

    def test_expect_mismatch_is_an_error(self):
        with h.fakeserver([["send", "* OK\r\n"], ["expect", "^a LOGOUT$"]]) as srv:
            s = self._plain(srv)
            recv_until(s, rb"\r\n")
            s.sendall(b"a NOOP\r\n")
            self.assertTrue(srv.wait(10))
        self.assertEqual(len(srv.errors), 1)
        self.assertIn("a NOOP", srv.errors[0])

    def test_cli_with_record(self):
        home = h.fresh_home()
        self.addCleanup(home.cleanup)
        rec = os.path.join(home.root, "rec.json")
        p = subprocess.Popen([sys.executable, os.path.join(h.TESTBED_SRC, "fakeserver.py"),
                              "--case", "starttls_no", "--record", rec],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            port = int(p.stdout.readline().split()[1])
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            recv_until(s, rb"\r\n")
            s.sendall(b"t1 STARTTLS\r\n")
            recv_until(s, rb"t1 NO")
            s.sendall(b"t2 LOGOUT\r\n")
            recv_until(s, rb"t2 OK")
            s.close()
            self.assertEqual(p.wait(30), 0)
        finally:
            if p.poll() is None:
                p.kill()
            p.stdout.close()
            p.stderr.close()
        with open(rec) as f:
            doc = json.load(f)
        self.assertEqual(doc["port"], port)
        self.assertEqual(doc["connections"][0]["client_plain"], "t1 STARTTLS\r\nt2 LOGOUT\r\n")


if __name__ == "__main__":
    unittest.main()
