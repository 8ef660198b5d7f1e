"""imapsh setup EMAIL against real servers: the test bed's Dovecot as the
server found, a real DNS server (dnsserver.py) and a real HTTPS server
(autoconfigserver.py) on loopback (tests/testbed/discoverybed.py).

Every test writes the zone and the documents it needs, runs setup with
--dns-server, --ca-file and --ispdb-url pointing at them, and checks what
was written to a config file of its own."""

import json
import os
import shutil
import sys
import tempfile
import time
import unittest

import harness as h

sys.path.insert(0, h.TESTBED_SRC)
from discoverybed import DiscoveryBed  # noqa: E402

EMAIL = "alice@example.test"


def autoconfig_xml(host, port, socket="SSL", user="%EMAILLOCALPART%", auth="password-cleartext",
                   extra=""):
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<clientConfig version=\"1.1\"><emailProvider id=\"example.test\">"
            "<domain>example.test</domain>"
            "<incomingServer type=\"imap\"><hostname>%s</hostname><port>%d</port>"
            "<socketType>%s</socketType><username>%s</username>"
            "<authentication>%s</authentication></incomingServer>"
            "</emailProvider>%s</clientConfig>\n" % (host, port, socket, user, auth, extra))


class DiscoveryFixture:
    """A discovery bed (DNS, autoconfig and ISPDB on loopback) for a test
    class, emptied before each test, and a fresh home with its config
    file's path (test_hostile2 uses it too)."""
    tmp_prefix = "imapsh-setup-"

    @classmethod
    def setUpClass(cls):
        cls.env = h.testbed()
        cls.tmp = tempfile.mkdtemp(prefix=cls.tmp_prefix)
        cls.bed = DiscoveryBed(os.path.join(cls.tmp, "bed"), cls.env["ports"]["imaps"],
                               cls.env["ca_file"])
        cls.port = cls.env["ports"]["imaps"]

    @classmethod
    def tearDownClass(cls):
        cls.bed.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.bed.clear_www()
        self.bed.zone([])
        self.home = h.fresh_home()
        self.addCleanup(self.home.cleanup)
        self.cfg = os.path.join(self.home.root, "config")


class SetupTest(DiscoveryFixture, unittest.TestCase):

    # -- helpers

    def a(self, name, addr=None):
        return {"name": name, "type": "A", "addr": addr or self.bed.web_addr}

    def imap_a(self):
        return self.a("imap.example.test", "127.0.0.1")

    def setup(self, *args, input=None, email=EMAIL, timeout=60):
        t0 = time.monotonic()
        rc, out, err = h.run_imapsh(self.bed.args() + ["--config", self.cfg, "setup", email]
                                    + list(args), input=input, home=self.home, timeout=timeout)
        self.elapsed = time.monotonic() - t0
        return rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    def written(self):
        with open(self.cfg, encoding="utf-8") as f:
            return f.read()

    def folders(self, account):
        return h.run_imapsh(["--dns-server", self.bed.dns_server(), "--ca-file", self.bed.ca_file,
                             "--config", self.cfg, "-a", account, "folders"],
                            env={"IMAPSH_PASSWORD": self.env["users"]["alice"]["password"]},
                            home=self.home)

    # -- the sources, one at a time

    def test_from_srv_only(self):
        self.bed.zone([{"name": "_imaps._tcp.example.test", "type": "SRV", "priority": 0,
                        "weight": 1, "port": self.port, "target": "imap.example.test"},
                       self.imap_a()])
        rc, out, err = self.setup("--yes")
        self.assertEqual(rc, 0, err)
        text = self.written()
        self.assertIn("[account alice@example.test]\nhost = imap.example.test\nport = %d\n"
                      "tls = imaps\nuser = alice@example.test\n" % self.port, text)
        self.assertIn("found by srv", text)
        self.assertIn("srv", out)
        # no autoconfig host in the zone: nothing was fetched from it
        self.assertFalse([r for r in self.bed.requests() if r["host"].startswith("autoconfig")])

    def test_from_autoconfig_only_then_folders(self):
        with open(self.cfg, "w") as f:
            f.write("# my own words\n[account other]\nhost = imap.other.example ; a note\n")
        self.bed.zone([self.a("autoconfig.example.test"), self.imap_a()])
        self.bed.put("autoconfig.example.test", "mail/config-v1.1.xml",
                     autoconfig_xml("imap.example.test", self.port))
        rc, out, err = self.setup("--yes", "--name", "work")
        self.assertEqual(rc, 0, err)
        text = self.written()
        self.assertTrue(text.startswith("# my own words\n[account other]\n"
                                        "host = imap.other.example ; a note\n"), text)
        self.assertIn("[account work]\nhost = imap.example.test\nport = %d\ntls = imaps\n"
                      "user = alice\n" % self.port, text)
        self.assertEqual(os.stat(self.cfg).st_mode & 0o077, 0)
        reqs = self.bed.requests()
        self.assertIn({"host": "autoconfig.example.test", "path": "/mail/config-v1.1.xml",
                       "query": "emailaddress=alice%40example.test"}, reqs)
        rc, out, err = self.folders("work")
        self.assertEqual(rc, 0, err)
        self.assertIn(b"INBOX", out)

    def test_default_account_does_not_leak_into_setup(self):
        # a default account with a pin for another key: setup probes with
        # the certificate's own verification, not that pin
        with open(self.cfg, "w") as f:
            f.write("default = old\n[account old]\nhost = imap.old.example\n"
                    "pin = sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
        self.bed.zone([self.a("autoconfig.example.test"), self.imap_a()])
        self.bed.put("autoconfig.example.test", "mail/config-v1.1.xml",
                     autoconfig_xml("imap.example.test", self.port))
        rc, out, err = self.setup("--yes", "--name", "new")
        self.assertEqual(rc, 0, err)
        self.assertTrue(self.written().startswith("default = old\n[account old]\n"))
        rc, out, err = self.setup("--yes", "--insecure", "--name", "other")
        self.assertEqual(rc, 2, err)
        self.assertIn("--insecure is not taken", err)

    def test_resolve_serves_the_https_fetches(self):
        # the zone knows neither host: --resolve names both
        self.bed.put("autoconfig.example.test", "mail/config-v1.1.xml",
                     autoconfig_xml("imap.example.test", self.port))
        rc, out, err = self.setup(
            "--yes", "--resolve", "autoconfig.example.test:443:" + self.bed.web_addr,
            "--resolve", "imap.example.test:%d:127.0.0.1" % self.port)
        self.assertEqual(rc, 0, err)
        self.assertIn("found by autoconfig", self.written())

    def test_from_well_known(self):
        self.bed.zone([self.a("example.test"), self.imap_a()])
        self.bed.put("example.test", ".well-known/autoconfig/mail/config-v1.1.xml",
                     autoconfig_xml("imap.example.test", self.port))
        rc, out, err = self.setup("--yes")
        self.assertEqual(rc, 0, err)
        self.assertIn("found by well-known", self.written())

    def test_from_ispdb_only(self):
        self.bed.zone([self.a("ispdb.test"), self.imap_a()])
        self.bed.put("ispdb.test", "v1.1/example.test",
                     autoconfig_xml("imap.example.test", self.port, user="%EMAILADDRESS%"))
        rc, out, err = self.setup("--yes")
        self.assertEqual(rc, 0, err)
        self.assertIn("found by ispdb", self.written())
        self.assertIn("user = alice@example.test\n", self.written())

    def test_from_the_mx_hosts_ispdb_entry(self):
        self.bed.zone([{"name": "example.test", "type": "MX", "preference": 10,
                        "host": "mx1.mail.other.test"},
                       self.a("ispdb.test"), self.imap_a()])
        self.bed.put("ispdb.test", "v1.1/other.test",
                     autoconfig_xml("imap.example.test", self.port))
        rc, out, err = self.setup("--yes")
        self.assertEqual(rc, 0, err)
        self.assertIn("found by mx-ispdb", self.written())

    def test_from_guessing(self):
        # imap.example.test:993 is the relay to Dovecot on the bed's address
        self.bed.zone([self.a("imap.example.test")])
        rc, out, err = self.setup("--yes", "--json")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        chosen = [c for c in doc["candidates"] if c["chosen"]]
        self.assertEqual(len(chosen), 1)
        self.assertEqual((chosen[0]["host"], chosen[0]["port"], chosen[0]["sources"]),
                         ("imap.example.test", 993, ["guess"]))
        self.assertTrue(chosen[0]["probe"]["ok"])
        self.assertIn("PLAIN", chosen[0]["probe"]["mechanisms"])
        self.assertTrue(doc["written"])
        self.assertIn("host = imap.example.test\nport = 993\n", self.written())

    def test_guess_with_a_certificate_for_another_name_is_not_used(self):
        # mail.example.test reaches Dovecot, whose certificate does not name it
        self.bed.zone([self.a("mail.example.test")])
        rc, out, err = self.setup("--yes", "--json")
        self.assertEqual(rc, 1, err)
        doc = json.loads(out)
        probed = [c for c in doc["candidates"] if c["host"] == "mail.example.test"
                  and c["port"] == 993]
        self.assertFalse(probed[0]["probe"]["ok"])
        self.assertIn("mail.example.test", probed[0]["probe"]["result"])
        self.assertFalse(os.path.exists(self.cfg))

    def test_dns_server_serves_the_imap_connection_too(self):
        target = "imaps://imap.example.test:%d" % self.port
        args = ["--dns-server", self.bed.dns_server(), "--ca-file", self.bed.ca_file, target,
                "capability"]
        rc, out, err = h.run_imapsh(args, home=self.home)
        self.assertEqual(rc, 3, err)
        self.assertIn(b"dns: no A/AAAA record for imap.example.test (asked 127.0.0.1:", err)
        self.bed.zone([self.imap_a()])
        rc, out, err = h.run_imapsh(args, home=self.home)
        self.assertEqual(rc, 0, err)
        self.assertIn(b"IMAP4rev1", out)
        # a truncated answer over UDP is asked again over TCP
        self.bed.zone([self.imap_a()], truncate=True)
        rc, out, err = h.run_imapsh(args, home=self.home)
        self.assertEqual(rc, 0, err)

    # -- the trust rule

    def outside_zone(self):
        self.bed.zone([{"name": "_imaps._tcp.other.test", "type": "SRV", "priority": 0,
                        "weight": 0, "port": self.port, "target": "imap.example.test"},
                       self.imap_a()])

    def test_outside_host_from_dns_needs_explicit_yes(self):
        self.outside_zone()
        rc, out, err = self.setup("--yes", email="bob@other.test")
        self.assertEqual(rc, 1, err)
        self.assertIn("outside other.test", err)
        self.assertIn("--trust-discovery", err)
        self.assertFalse(os.path.exists(self.cfg))
        rc, out, err = self.setup("--yes", email="bob@other.test", input="y\n")
        self.assertEqual(rc, 1, err)  # the word, not a letter
        rc, out, err = self.setup("--yes", email="bob@other.test", input="yes\n")
        self.assertEqual(rc, 0, err)
        self.assertIn("host = imap.example.test\n", self.written())

    def test_outside_host_with_trust_discovery(self):
        self.outside_zone()
        rc, out, err = self.setup("--yes", "--trust-discovery", "--json", email="bob@other.test")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        c = [c for c in doc["candidates"] if c["chosen"]][0]
        self.assertTrue(c["outside_domain"])
        self.assertTrue(c["needs_confirmation"])

    def test_outside_host_from_the_domains_autoconfig_is_trusted(self):
        self.bed.zone([self.a("autoconfig.other.test"), self.imap_a()])
        self.bed.put("autoconfig.other.test", "mail/config-v1.1.xml",
                     autoconfig_xml("imap.example.test", self.port))
        rc, out, err = self.setup("--yes", email="bob@other.test")
        self.assertEqual(rc, 0, err)

    def test_without_yes_asks_and_no_answer_declines(self):
        self.bed.zone([self.a("autoconfig.example.test"), self.imap_a()])
        self.bed.put("autoconfig.example.test", "mail/config-v1.1.xml",
                     autoconfig_xml("imap.example.test", self.port))
        rc, out, err = self.setup()
        self.assertEqual(rc, 1, err)
        self.assertIn("declined", err)
        self.assertFalse(os.path.exists(self.cfg))
        rc, out, err = self.setup(input="y\n")
        self.assertEqual(rc, 0, err)

    def test_existing_section_is_never_replaced_silently(self):
        self.bed.zone([self.a("autoconfig.example.test"), self.imap_a()])
        self.bed.put("autoconfig.example.test", "mail/config-v1.1.xml",
                     autoconfig_xml("imap.example.test", self.port))
        rc, out, err = self.setup("--yes")
        self.assertEqual(rc, 0, err)
        before = self.written()
        rc, out, err = self.setup("--yes")
        self.assertEqual(rc, 1, err)
        self.assertIn("already", err)
        self.assertEqual(self.written(), before)
        rc, out, err = self.setup("--yes", input="yes\n")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.written().count("[account alice@example.test]"), 1)

    def test_config_behind_a_link_is_edited_where_it_points(self):
        real = os.path.join(self.home.root, "dotfiles-config")
        with open(real, "w") as f:
            f.write("[account alice@example.test]\nhost = imap.old.example\n")
        os.symlink(real, self.cfg)
        self.bed.zone([self.a("autoconfig.example.test"), self.imap_a()])
        self.bed.put("autoconfig.example.test", "mail/config-v1.1.xml",
                     autoconfig_xml("imap.example.test", self.port))
        rc, out, err = self.setup("--yes")
        self.assertEqual(rc, 1, err)
        self.assertIn("already", err)
        rc, out, err = self.setup("--yes", "--name", "new")
        self.assertEqual(rc, 0, err)
        self.assertTrue(os.path.islink(self.cfg))
        with open(real) as f:
            self.assertIn("[account new]\nhost = imap.example.test\n", f.read())

    def test_oauth_only_writes_auth_oauth(self):
        oauth = ("<oAuth2><issuer>login.example.test</issuer><scope>imap offline_access</scope>"
                 "<authURL>https://login.example.test/authorize</authURL>"
                 "<tokenURL>https://login.example.test/token</tokenURL></oAuth2>")
        self.bed.zone([self.a("autoconfig.example.test"), self.imap_a()])
        self.bed.put("autoconfig.example.test", "mail/config-v1.1.xml",
                     autoconfig_xml("imap.example.test", self.port, auth="OAuth2", extra=oauth))
        rc, out, err = self.setup("--yes")
        self.assertEqual(rc, 0, err)
        text = self.written()
        self.assertIn("auth = oauth\noauth-provider = custom\n"
                      "oauth-authorize-url = https://login.example.test/authorize\n"
                      "oauth-token-url = https://login.example.test/token\n"
                      "oauth-scope = imap offline_access\n", text)
        self.assertIn("oauth login", out)

    def test_server_offering_only_oauth_writes_auth_oauth(self):
        # what Dovecot will not do: offer XOAUTH2 and OAUTHBEARER and nothing else
        script = [["send", "* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2 AUTH=OAUTHBEARER] fake\r\n"],
                  ["expect_eof", 10]]
        with h.fakeserver(script, tls="valid") as srv:
            self.bed.zone([{"name": "_imaps._tcp.example.test", "type": "SRV", "priority": 0,
                            "weight": 0, "port": srv.port, "target": "imap.example.test"},
                           self.imap_a()])
            rc, out, err = self.setup("--yes", "--json")
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertTrue(doc["oauth"])
        c = [c for c in doc["candidates"] if c["chosen"]][0]
        self.assertTrue(c["probe"]["oauth_only"])
        self.assertEqual(c["probe"]["mechanisms"], "XOAUTH2 OAUTHBEARER")
        self.assertIn("auth = oauth\noauth-provider = custom\n", self.written())

    # -- hostile

    def test_xml_bomb_refused(self):
        bomb = ("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n"
                + "".join("<!ENTITY lol%d \"%s\">\n" % (i, ("&lol%s;" % (i - 1 if i > 1 else ""))
                                                          * 10) for i in range(1, 10))
                + "]>\n<clientConfig>&lol9;</clientConfig>\n")
        self.bed.zone([self.a("autoconfig.example.test")])
        self.bed.put("autoconfig.example.test", "mail/config-v1.1.xml", bomb)
        rc, out, err = self.setup("--yes")
        self.assertEqual(rc, 1, err)
        self.assertIn("DTD", out)
        self.assertLess(self.elapsed, 20)
        self.assertFalse(os.path.exists(self.cfg))

    def test_autoconfig_pointing_to_a_plaintext_port(self):
        self.bed.zone([self.a("autoconfig.example.test"), self.imap_a()])
        self.bed.put("autoconfig.example.test", "mail/config-v1.1.xml",
                     autoconfig_xml("imap.example.test", self.env["ports"]["starttls"],
                                    socket="plain"))
        rc, out, err = self.setup("--yes", "--json")
        self.assertEqual(rc, 1, err)
        doc = json.loads(out)
        plain = [c for c in doc["candidates"] if c["tls"] == "plain"]
        self.assertEqual(len(plain), 1)
        self.assertFalse(plain[0]["probe"]["ok"])
        self.assertIn("plaintext", plain[0]["probe"]["result"])
        self.assertFalse(doc["written"])
        self.assertFalse(os.path.exists(self.cfg))

    def test_srv_target_dot_means_no_service(self):
        self.bed.zone([{"name": "_imaps._tcp.example.test", "type": "SRV", "priority": 0,
                        "weight": 0, "port": 0, "target": "."},
                       {"name": "_imap._tcp.example.test", "type": "SRV", "priority": 0,
                        "weight": 0, "port": 0, "target": "."}])
        rc, out, err = self.setup("--yes")
        self.assertEqual(rc, 1, err)
        self.assertIn("no such service", out)
        self.assertFalse(os.path.exists(self.cfg))

    def test_ten_megabyte_autoconfig_refused(self):
        big = autoconfig_xml("imap.example.test", self.port,
                             extra="<!--" + "x" * (10 * 1024 * 1024) + "-->")
        self.bed.zone([self.a("autoconfig.example.test")])
        self.bed.put("autoconfig.example.test", "mail/config-v1.1.xml", big)
        rc, out, err = self.setup("--yes")
        self.assertEqual(rc, 1, err)
        self.assertIn("larger than", out)
        self.assertFalse(os.path.exists(self.cfg))

    def test_https_certificate_for_another_name_refused(self):
        # the bed's certificate does not name autoconfig.elsewhere.test
        self.bed.zone([self.a("autoconfig.elsewhere.test"), self.imap_a()])
        self.bed.put("autoconfig.elsewhere.test", "mail/config-v1.1.xml",
                     autoconfig_xml("imap.example.test", self.port))
        rc, out, err = self.setup("--yes", "--json", email="carol@elsewhere.test")
        self.assertEqual(rc, 1, err)
        doc = json.loads(out)
        auto = [r for r in doc["sources"] if r["source"] == "autoconfig"][0]
        self.assertFalse(auto["ok"])
        self.assertIn("autoconfig.elsewhere.test", auto["result"])
        self.assertEqual(doc["candidates"][0]["sources"], ["guess"])
        self.assertFalse(self.bed.requests())  # nothing reached the server's handler

    def test_control_characters_in_a_host_never_printed(self):
        self.bed.zone([self.a("autoconfig.example.test")])
        self.bed.put("autoconfig.example.test", "mail/config-v1.1.xml",
                     autoconfig_xml("imap\u202e.example.test", self.port))
        rc, out, err = self.setup("--yes")
        self.assertEqual(rc, 1, err)
        self.assertNotIn("\u202e", out + err)
        self.assertIn("not a host name", out)

    def test_one_deadline_for_everything(self):
        # a DNS server that takes every question and never answers
        import socket
        # a UDP and a TCP socket on one port number: the free UDP port the
        # kernel picks may be taken for TCP by another process (CI runs
        # stages side by side), so try again until both are ours
        for _ in range(50):
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind(("127.0.0.1", 0))
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                t.bind(("127.0.0.1", u.getsockname()[1]))
                break
            except OSError:
                u.close()
                t.close()
        else:
            self.fail("no port free for both UDP and TCP in 50 tries")
        t.listen(8)
        try:
            t0 = time.monotonic()
            rc, out, err = h.run_imapsh(
                ["--dns-server", "127.0.0.1:%d" % u.getsockname()[1], "--ca-file",
                 self.bed.ca_file, "--timeout", "2", "--config", self.cfg, "setup", EMAIL,
                 "--yes"], home=self.home)
            elapsed = time.monotonic() - t0
        finally:
            u.close()
            t.close()
        self.assertEqual(rc, 1, err)
        self.assertIn(b"in time", out)
        self.assertLess(elapsed, 8 * h.timeout_scale())

    def test_usage(self):
        rc, out, err = self.setup("--yes", email="not-an-address")
        self.assertEqual(rc, 2)
        self.assertIn("LOCAL@DOMAIN", err)
        rc, out, err = self.setup("--name", "a]b")
        self.assertEqual(rc, 2)
        rc, out, err = h.run_imapsh(["--dns-server", "dns.example", "setup", EMAIL])
        self.assertEqual(rc, 2)
        self.assertIn(b"ADDR:PORT", err)


if __name__ == "__main__":
    unittest.main()
