"""The TLS transport against real TLS servers: Dovecot for the healthy cases,
the fake server (Python's ssl, OpenSSL) presenting each certificate of the
matrix made by the test bed, and scripted STARTTLS servers for what a real
server will not do.  Every refusal must name its reason and exit with 4."""
import base64
import contextlib
import hashlib
import os
import re
import socket
import ssl
import subprocess
import tempfile

import harness as h

HOST = "imap.example.test"
POST = "IMAP4rev1 SASL-IR ID AUTH=PLAIN AUTH=LOGIN"


def spki_pin(cert_file):
    """sha256//BASE64 of a certificate's SubjectPublicKeyInfo (as curl's --pinnedpubkey)."""
    pem = subprocess.run(["openssl", "x509", "-in", cert_file, "-pubkey", "-noout"],
                         check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pem,
                         check=True, capture_output=True).stdout
    return "sha256//" + base64.b64encode(hashlib.sha256(der).digest()).decode()


class Matrix(h.TestbedCase):
    """imapsh cert against a server presenting each case of the matrix."""

    def serve(self, case, host=HOST, extra=(), **kw):
        script = [["send", "* OK [CAPABILITY %s] fake ready\r\n" % POST], ["serve", {"caps": POST}]]
        kw.setdefault("tls", case)
        with h.fakeserver(script, **kw) as srv:
            rc, out, err = self.imapsh(
                "--ca-file", self.env["ca_file"], "--resolve",
                "%s:%d:127.0.0.1" % (host.rstrip("."), srv.port), *extra,
                "cert", "%s:%d" % (host, srv.port), timeout=60)
        return rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    def accepted(self, case, host=HOST, extra=(), **kw):
        rc, out, err = self.serve(case, host, extra, **kw)
        self.assertEqual(rc, 0, "%s: %s" % (case, err))
        self.assertRegex(out, r"verification ok")
        self.assertEqual(err.strip(), "")
        return out

    def refused(self, case, words, host=HOST, extra=(), **kw):
        rc, out, err = self.serve(case, host, extra, **kw)
        self.assertEqual(rc, 4, "%s: rc %d, stderr %s" % (case, rc, err))
        self.assertIn(words, err, case)
        self.assertTrue(err.startswith("imapsh: tls: "), err)
        if "handshake" not in words:
            # the fingerprints of the refused certificate are shown
            self.assertRegex(err, r"certificate sha256 ([0-9A-F]{2}:){31}[0-9A-F]{2}, "
                                  r"spki sha256//[A-Za-z0-9+/]{43}=")
            self.assertIn("verification refused", out)
        return out, err

    # accepted
    def test_valid_leaf_and_intermediate(self):
        out = self.accepted("valid")
        self.assertIn("subject    O=imapsh test bed, CN=imap.example.test", out)
        self.assertIn("issuer     O=imapsh test bed, CN=Test Intermediate CA", out)
        self.assertIn("(root)\n  subject    O=imapsh test bed, CN=Test Root CA", out)
        self.assertIn("san        imap.example.test, localhost, IP:127.0.0.1", out)
        self.assertRegex(out, r"tls          TLSv1\.[23] ")

    def test_wildcard(self):
        self.accepted("wildcard")

    def test_uppercase_host(self):
        self.accepted("valid", host="IMAP.EXAMPLE.TEST")

    def test_trailing_dot_host(self):
        self.accepted("valid", host="imap.example.test.")

    def test_ecdsa(self):
        self.accepted("ecdsa")

    # refused, each with its words
    def test_expired_leaf(self):
        self.refused("expired", "certificate expired ")

    def test_expired_intermediate(self):
        self.refused("expired_intermediate",
                     "intermediate certificate CN=Test Expired Intermediate CA expired ")

    def test_not_yet_valid(self):
        self.refused("not_yet_valid", "certificate is not valid until ")

    def test_wrong_host(self):
        self.refused("wrong_host", "certificate is for other.example.test, not imap.example.test")

    def test_san_mismatch_with_matching_cn(self):
        self.refused("san_mismatch_cn",
                     "certificate is for other.example.test, not imap.example.test")

    def test_cn_only_without_san(self):
        self.refused("cn_only", "certificate has no subjectAltName (only CN=imap.example.test)")

    def test_wildcard_over_single_label(self):
        self.refused("wildcard_tld", "certificate is for *.test, not imap.example.test")

    def test_partial_wildcard(self):
        self.refused("partial_wildcard",
                     "certificate is for im*.example.test, not imap.example.test")

    def test_self_signed(self):
        self.refused("self_signed", "self-signed certificate CN=imap.example.test is not trusted")

    def test_unknown_ca(self):
        self.refused("unknown_ca", "issuer not trusted: CN=Test CA 2")

    def test_missing_intermediate(self):
        self.refused("missing_intermediate",
                     "issuer not trusted: CN=Test Intermediate CA; the server sent only its own "
                     "certificate (is an intermediate certificate missing?)")

    def test_eku_client_auth_only(self):
        self.refused("eku_client", "is not for TLS servers")

    def test_sha1_signature(self):
        self.refused("sha1", "weak signature algorithm RSA-SHA1")

    def test_rsa_1024(self):
        self.refused("rsa1024", "weak key RSA 1024 bits")

    def test_nul_inside_san(self):
        # the only dNSName is "imap.example.test\0.evil.test": compared as
        # bytes it is no name for imap.example.test (a C string would be)
        out, err = self.refused("san_nul", "certificate is for ")
        self.assertIn(", not imap.example.test;", err)

    def test_tls_1_1_only(self):
        rc, out, err = self.serve("valid", tls_versions=("1.1", "1.1"))
        self.assertEqual(rc, 4, err)
        self.assertRegex(err, r"imapsh: tls: handshake failed: .*(below 1\.2|alert)")
        self.assertEqual(out, "")

    # pins
    def test_correct_pin_replaces_ca_trust(self):
        pin = spki_pin(self.env["ca"]["certs"]["unknown_ca"]["cert"])
        out = self.accepted("unknown_ca", extra=("--pin", pin))
        self.assertIn("verification ok (public key pin)", out)
        self.assertIn("spki       " + pin, out)

    def test_correct_pin_self_signed(self):
        pin = spki_pin(self.env["ca"]["certs"]["self_signed"]["cert"])
        self.accepted("self_signed", extra=("--pin", pin))

    def test_wrong_pin_with_trusted_ca(self):
        pin = spki_pin(self.env["ca"]["certs"]["unknown_ca"]["cert"])
        self.refused("valid", "public key pin mismatch", extra=("--pin", pin))

    def test_pin_does_not_excuse_a_wrong_name(self):
        pin = spki_pin(self.env["ca"]["certs"]["wrong_host"]["cert"])
        self.refused("wrong_host", "certificate is for other.example.test", extra=("--pin", pin))

    def test_insecure_warns_and_connects(self):
        rc, out, err = self.serve("self_signed", extra=("--insecure",))
        self.assertEqual(rc, 0, err)
        self.assertIn("warning: --insecure", err)
        self.assertIn("verification NOT verified (--insecure): self-signed", out)


def build_tls():
    """(mbedTLS version, whether the build offers TLS 1.3), from the first
    two lines of `imapsh --version` ("tls: 1.2 yes, 1.3 yes|no")."""
    out = subprocess.run([os.environ["IMAPSH_BIN"], "--version"],
                         capture_output=True, check=True).stdout.decode()
    lib = re.search(r"^imapsh \S+ \(mbedTLS (\d+\.\d+\.\d+)\)$", out, re.M).group(1)
    tls = re.search(r"^tls: 1\.2 yes, 1\.3 (yes|no)$", out, re.M).group(1)
    return lib, tls == "yes"


@contextlib.contextmanager
def s_server(env, *args):
    """openssl s_server on a free loopback port presenting the valid chain,
    configured by args; yields the port."""
    certs = env["ca"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    p = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:%d" % port,
                          "-cert", certs["certs"]["valid"]["cert"],
                          "-key", certs["certs"]["valid"]["key"],
                          "-cert_chain", certs["intermediate"], *args],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        line = p.stdout.readline()  # "Using default temp DH parameters" or "ACCEPT"
        while line and b"ACCEPT" not in line:
            line = p.stdout.readline()
        if not line:
            raise RuntimeError("openssl s_server %s did not start" % " ".join(args))
        yield port
    finally:
        p.kill()
        p.wait()
        p.stdin.close()
        p.stdout.close()


class Profile(h.TestbedCase):
    """imapsh's own TLS profile: forward-secret AEAD suites, x25519, P-256,
    P-384, P-521, Diffie-Hellman of 2048 bits at least, SHA-2 handshake
    signatures.  A server (openssl s_server) that can do no better than
    something refused is refused with words, by cert and by check."""

    REFUSED = "tls: handshake failed: the server offers only key exchange or ciphers that " \
              "imapsh refuses ("

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="imapsh-profile-")
        cls.dh1024 = os.path.join(cls.tmp, "dh1024.pem")
        subprocess.run(["openssl", "dhparam", "-out", cls.dh1024, "1024"], check=True,
                       capture_output=True)

    @classmethod
    def tearDownClass(cls):
        import shutil
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def cert(self, *server_args, cmd="cert"):
        with s_server(self.env, *server_args) as port:
            rc, out, err = self.imapsh(
                "--ca-file", self.env["ca_file"], "--timeout", "10",
                "--resolve", "%s:%d:127.0.0.1" % (HOST, port), cmd, "%s:%d" % (HOST, port),
                timeout=60)
        return rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    def refused(self, *server_args):
        rc, out, err = self.cert(*server_args)
        self.assertEqual(rc, 4, err)
        self.assertTrue(err.startswith("imapsh: " + self.REFUSED), err)
        self.assertIn("ask the server's administrator for ECDHE", err)
        self.assertEqual(out, "")
        return err

    # The positive controls leave the server's TLS 1.3 on, so that with
    # mbedTLS 3.6 they pass over TLS 1.3 (the server's -cipher list is
    # TLS 1.2's only); with mbedTLS 2.28 they are TLS 1.2 with exactly the
    # suite named.  Versions.test_tls_12_only_server holds a server to 1.2.
    def test_positive_control_ecdhe_p256_aes_gcm(self):
        rc, out, err = self.cert("-cipher", "ECDHE-RSA-AES128-GCM-SHA256", "-groups", "P-256")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"tls +(TLSv1\.2 TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256|TLSv1\.3 )")
        self.assertIn("verification ok", out)

    def test_positive_control_x25519_chacha20(self):
        rc, out, err = self.cert("-cipher", "ECDHE-RSA-CHACHA20-POLY1305",
                                 "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256",
                                 "-groups", "X25519")
        self.assertEqual(rc, 0, err)
        self.assertIn("CHACHA20-POLY1305", out)

    def test_positive_control_dhe_2048(self):
        rc, out, err = self.cert("-cipher", "DHE-RSA-AES128-GCM-SHA256")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"tls +(TLSv1\.2 TLS-DHE-RSA-WITH-AES-128-GCM-SHA256|TLSv1\.3 )")

    def test_static_rsa_key_exchange(self):
        self.refused("-tls1_2", "-cipher", "AES128-SHA256")

    def test_static_rsa_cbc_sha1(self):
        self.refused("-tls1_2", "-cipher", "AES256-SHA")

    def test_ecdhe_with_cbc_sha1(self):
        self.refused("-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA")

    def test_curve_p224_only(self):
        self.refused("-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256", "-groups", "P-224")

    def test_curve_p192_only(self):
        self.refused("-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0",
                     "-groups", "P-192")

    def test_dhe_1024(self):
        err = self.refused("-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0",
                           "-dhparam", self.dh1024)
        self.assertIn("Diffie-Hellman group under 2048 bits", err)

    def test_sha1_handshake_signature(self):
        self.refused("-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0",
                     "-sigalgs", "RSA+SHA1")

    def test_check_says_it_too(self):
        rc, out, err = self.cert("-tls1_2", "-cipher", "AES128-SHA256", cmd="check")
        self.assertEqual(rc, 2, out + err)  # CRITICAL
        tls = [l for l in out.splitlines() if l.startswith("tls\t")]
        self.assertEqual(len(tls), 1, out)
        self.assertIn("\tfail\t", tls[0])
        self.assertIn(self.REFUSED, tls[0])
        self.assertIn(self.REFUSED, out.splitlines()[-1])


class Versions(h.TestbedCase):
    """The TLS versions the binary offers, as `--version`'s tls: line says:
    with mbedTLS 3.6 TLS 1.3 is negotiated with Dovecot and --tls-min 1.3
    connects; with 2.28 (TLS 1.2 only) --tls-min 1.3 is a usage error that
    says what to do."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lib, cls.tls13 = build_tls()

    def connect(self, *extra):
        return self.imapsh("-v", *extra, *h.imaps_args(), h.target("alice"), "capability",
                           env=h.password_env("alice"))

    def test_version_line_matches_the_library(self):
        self.assertEqual(self.tls13, not self.lib.startswith("2."), self.lib)

    def test_dovecot_negotiates_the_newest_version(self):
        rc, out, err = self.connect()
        self.assertEqual(rc, 0, err)
        self.assertIn(b"IMAP4rev1", out)
        want = b"TLSv1.3 TLS1-3-" if self.tls13 else b"TLSv1.2 TLS-ECDHE-"
        self.assertRegex(err, rb"(?m)^imapsh: connected to imap\.example\.test \(127\.0\.0\.1:\d+\), "
                              + re.escape(want) + rb"[A-Z0-9-]+, certificate verified$")

    def test_tls_min_13(self):
        rc, out, err = self.connect("--tls-min", "1.3")
        if self.tls13:
            self.assertEqual(rc, 0, err)
            self.assertIn(b"IMAP4rev1", out)
            self.assertIn(b", TLSv1.3 TLS1-3-", err)
        else:
            self.assertEqual(rc, 2, err)
            self.assertEqual(out, b"")
            self.assertIn(b"imapsh: --tls-min 1.3: this imapsh is built on mbedTLS %s, which "
                          b"speaks TLS 1.2 only; use --tls-min 1.2 (the default), or an imapsh "
                          b"built on mbedTLS 3.6" % self.lib.encode(), err)
            self.assertNotIn(b"connected", err)

    def cert_tls12_server(self, *extra, server=()):
        """cert against openssl s_server held to TLS 1.2 (its defaults
        otherwise: an RSA key, signature schemes in the client's order)."""
        with s_server(self.env, "-tls1_2", *server) as port:
            return self.imapsh(
                *extra, "--ca-file", self.env["ca_file"], "--timeout", "10",
                "--resolve", "%s:%d:127.0.0.1" % (HOST, port), "cert", "%s:%d" % (HOST, port),
                timeout=60)

    def test_tls_12_only_server(self):
        # with mbedTLS 3.6 too: its TLS 1.2 client refuses a key exchange
        # signed with RSA-PSS, so imapsh offers PKCS#1 first
        rc, out, err = self.cert_tls12_server()
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, rb"tls +TLSv1\.2 TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384\n")
        self.assertIn(b"verification ok", out)

    def test_tls_12_server_that_prefers_rsa_pss(self):
        # its own order (-serverpref): RSA-PSS, which 2.28 does not offer
        # and 3.6.6 offers but refuses in TLS 1.2
        rc, out, err = self.cert_tls12_server(server=("-serverpref",))
        if self.lib == "3.6.6" or rc == 4:
            self.assertTrue(self.lib.startswith("3."), err)
            self.assertEqual(rc, 4, err)
            self.assertIn(b"imapsh: tls: handshake failed: the server signs its TLS 1.2 key "
                          b"exchange with RSA-PSS, which mbedTLS %s refuses (a library bug, "
                          b"fixed after 3.6.6); ask the server's administrator for TLS 1.3"
                          % self.lib.encode(), err)
        else:
            self.assertEqual(rc, 0, err)
            self.assertRegex(out, rb"tls +TLSv1\.2 TLS-ECDHE-RSA-")

    def test_tls_min_13_against_a_tls_12_server(self):
        if not self.tls13:
            rc, out, err = self.cert_tls12_server("--tls-min", "1.3")
            self.assertEqual(rc, 2, err)  # refused before connecting
            self.assertIn(b"speaks TLS 1.2 only; use --tls-min 1.2", err)
            return
        rc, out, err = self.cert_tls12_server("--tls-min", "1.3")
        self.assertEqual(rc, 4, err)
        self.assertIn(b"imapsh: tls: handshake failed: the server offers only a TLS version "
                      b"below 1.3, which imapsh refuses; leave out --tls-min 1.3 to accept "
                      b"TLS 1.2", err)
        self.assertEqual(out, b"")


class Dovecot(h.TestbedCase):
    """The healthy path against the real server, implicit TLS and STARTTLS."""

    def test_cert_json(self):
        import json
        rc, out, err = self.imapsh(*h.imaps_args(), "--json", "cert",
                                   "%s:%d" % (HOST, self.env["ports"]["imaps"]))
        self.assertEqual(rc, 0, err)
        d = json.loads(out)
        self.assertTrue(d["verified"])
        self.assertFalse(d["insecure"])
        self.assertEqual(d["verify_error"], "")
        self.assertEqual(d["host"], HOST)
        self.assertRegex(d["tls"]["version"], r"^TLSv1\.[23]$")
        self.assertTrue(d["tls"]["cipher"])
        leaf = d["chain"][0]
        self.assertEqual(leaf["subject"], "O=imapsh test bed, CN=imap.example.test")
        self.assertIn("imap.example.test", leaf["san"])
        with open(self.env["ca"]["certs"]["valid"]["cert"], "rb") as f:
            der = ssl.PEM_cert_to_DER_cert(f.read().decode())
        want = ":".join("%02X" % b for b in hashlib.sha256(der).digest())
        self.assertEqual(leaf["sha256"], want)
        self.assertEqual("sha256//" + leaf["spki_sha256"],
                         spki_pin(self.env["ca"]["certs"]["valid"]["cert"]))
        self.assertGreater(leaf["days_left"], 300)

    def test_untrusted_by_default_without_ca_file(self):
        rc, out, err = self.imapsh("--resolve", self.env["resolve"]["imaps"],
                                   "%s:%d" % (HOST, self.env["ports"]["imaps"]), "capability")
        self.assertEqual(rc, 4, err)
        self.assertIn(b"imapsh: tls: issuer not trusted", err)
        self.assertEqual(out, b"")

    def test_starttls_against_dovecot(self):
        rc, out, err = self.imapsh(*h.imaps_args("starttls"), h.target(kind="starttls"),
                                   "capability")
        self.assertEqual(rc, 0, err)
        caps = out.decode().split()
        self.assertIn("IMAP4rev1", caps)
        self.assertNotIn("STARTTLS", caps)  # asked again over TLS
        self.assertIn("AUTH=PLAIN", caps)

    def test_starttls_option_with_host_port(self):
        rc, out, err = self.imapsh(*h.imaps_args("starttls"), "--starttls",
                                   "%s:%d" % (HOST, self.env["ports"]["starttls"]), "capability")
        self.assertEqual(rc, 0, err)
        self.assertIn(b"IMAP4rev1", out)

    def test_implicit_tls_to_a_plaintext_port_fails_cleanly(self):
        rc, out, err = self.imapsh(*h.imaps_args("starttls"), "--timeout", "5",
                                   "%s:%d" % (HOST, self.env["ports"]["starttls"]), "capability")
        self.assertEqual(rc, 4, err)
        self.assertIn(b"imapsh: tls: imap.example.test port %d speaks plaintext IMAP" % self.env["ports"]["starttls"], err)


class StartTLS(h.TestbedCase):
    """Scripted servers: every way STARTTLS can go wrong ends the connection
    with exit code 4 and nothing sent after."""

    def run_case(self, name):
        with h.fake_case(name) as srv:
            rc, out, err = self.imapsh(
                "--ca-file", self.env["ca_file"], "--resolve", "%s:%d:127.0.0.1" % (HOST, srv.port),
                "--timeout", "10", "--password-command", "echo secret-pw",
                "imap://alice@%s:%d" % (HOST, srv.port), "namespace", timeout=60)
            srv.wait(15)
        return rc, out, err.decode("utf-8", "replace"), srv.conn

    def assert_nothing_after_starttls(self, conn):
        sent = conn.client_bytes
        self.assertNotIn(b"secret-pw", sent)
        self.assertNotIn(b"LOGIN", sent.upper().replace(b"LOGINDISABLED", b""))
        self.assertNotIn(b"AUTHENTICATE", sent.upper())
        lines = [l for l in sent.split(b"\r\n") if l]
        self.assertTrue(lines and re.match(rb"^\S+ STARTTLS$", lines[-1]), sent)
        self.assertEqual(conn.client_tls, b"")

    def test_positive_control(self):
        with h.fake_case("starttls_ok") as srv:
            rc, out, err = self.imapsh(
                "--ca-file", self.env["ca_file"], "--resolve", "%s:%d:127.0.0.1" % (HOST, srv.port),
                "imap://%s:%d" % (HOST, srv.port), "capability", timeout=60)
            srv.wait(15)
        self.assertEqual(rc, 0, err)
        caps = out.decode().split()
        # the capabilities are those sent over TLS, not the plaintext ones
        self.assertIn("AUTH=PLAIN", caps)
        self.assertNotIn("LOGINDISABLED", caps)
        self.assertNotIn("STARTTLS", caps)

    def test_injection_after_ok(self):
        rc, out, err, conn = self.run_case("starttls_injection")
        self.assertEqual(rc, 4, err)
        self.assertIn("imapsh: starttls: the server sent data after its STARTTLS reply", err)
        self.assertNotIn("INJECTED", out.decode() + err)
        self.assertNotIn("injected before TLS", err)
        self.assert_nothing_after_starttls(conn)

    def test_untagged_before_ok(self):
        rc, out, err, conn = self.run_case("starttls_untagged_before_ok")
        self.assertEqual(rc, 4, err)
        self.assertIn("the server sent data before its STARTTLS reply", err)
        self.assert_nothing_after_starttls(conn)

    def test_not_offered(self):
        rc, out, err, conn = self.run_case("starttls_not_offered")
        self.assertEqual(rc, 4, err)
        self.assertIn("the server does not offer STARTTLS; imapsh never falls back to plaintext",
                      err)
        self.assertEqual(conn.client_bytes, b"")

    def test_answered_no(self):
        rc, out, err, conn = self.run_case("starttls_no")
        self.assertEqual(rc, 4, err)
        self.assertIn("the server refused STARTTLS", err)
        self.assert_nothing_after_starttls(conn)

    def test_answered_bad(self):
        rc, out, err, conn = self.run_case("starttls_bad")
        self.assertEqual(rc, 4, err)
        self.assertIn("the server refused STARTTLS", err)
        self.assert_nothing_after_starttls(conn)

    def test_preauth_greeting(self):
        rc, out, err, conn = self.run_case("preauth")
        self.assertEqual(rc, 4, err)
        self.assertIn("PREAUTH greeting", err)
        self.assertEqual(conn.client_bytes, b"")


if __name__ == "__main__":
    import unittest
    unittest.main()
