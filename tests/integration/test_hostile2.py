"""Hostile input to the newest features (setup EMAIL, oauth, export
--all, import, --share): bytes from servers and files that must not reach
a terminal, a config file or a path raw; files that change or are planted
while imapsh reads them.  Each test here failed before its fix, or holds
a line an outside review found worth checking."""
import imaplib
import json
import os
import shutil
import socket
import ssl
import sys
import tempfile
import threading
import time
import unittest
import uuid

import harness as h

sys.path.insert(0, h.TESTBED_SRC)
from test_setup import DiscoveryFixture  # noqa: E402

# What must never reach a terminal or a config file from a server: the
# bidi override, an 8-bit CSI as a character (U+009B), a zero-width space.
INVISIBLE = ("\u202e", "\u009b", "\u200b")


def make_mbox(path, n=60, lines=40):
    """An mbox of n messages of about 70 x lines bytes each."""
    with open(path, "wb") as f:
        for i in range(n):
            f.write(b"From a@example.test Thu Jan  1 00:00:00 2026\n"
                    b"Message-ID: <m%d@hostile2>\nSubject: %d\n\n" % (i, i))
            f.write((b"x" * 70 + b"\n") * lines + b"\n")


class HostileCase(h.TestbedCase):
    user = "alice"

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="imapsh-hostile2-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def run_as(self, *args, user="alice", **kw):
        return self.imapsh(*(h.imaps_args() + [h.target(user)] + list(args)),
                           env=h.password_env(user), **kw)

    def scratch_name(self):
        """A folder name nobody has; deleted at the end of the test."""
        name = "hostile2-" + uuid.uuid4().hex[:10]

        def drop():
            m = h.imap_login(self.user)
            try:
                m.delete(name)
                m.logout()
            except (imaplib.IMAP4.error, OSError):
                pass
        self.addCleanup(drop)
        return name


class TestImportSource(HostileCase):
    def test_mbox_cut_short_while_imported(self):
        """An mbox that another program truncates while imapsh imports it
        (a mail client compacting it): an error in words that says what
        to do, never a SIGBUS (the file used to be mapped)."""
        box = os.path.join(self.tmp, "box.mbox")
        make_mbox(box)

        def cut():
            # once the upload has begun (the journal says "sent")
            end = time.monotonic() + 30 * h.timeout_scale()
            while time.monotonic() < end:
                logs = [n for n in os.listdir(self.tmp) if ".imapsh-import-" in n]
                if logs:
                    with open(os.path.join(self.tmp, logs[0]), "rb") as f:
                        if b"sent " in f.read():
                            break
                time.sleep(0.05)
            time.sleep(0.3)
            with open(box, "r+b") as f:
                f.truncate(0)
        t = threading.Thread(target=cut)
        t.start()
        rc, out, err = self.run_as("import", box, self.scratch_name(), "--max-rate", "20000")
        t.join()
        self.assertGreater(rc, 0, "died by a signal: %d %r" % (rc, err))
        self.assertIn(b"changed while imapsh read it", err)
        self.assertIn(b"run the", err)

    def maildir(self, n):
        d = os.path.join(self.tmp, "md")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        for i in range(n):
            with open(os.path.join(d, "cur", "%d.hostile2:2,S" % i), "wb") as f:
                f.write(b"Message-ID: <md%d@hostile2>\r\nSubject: %d\r\n\r\nbody\r\n" % (i, i))
        return d

    def test_journal_planted_as_a_hard_link_or_fifo(self):
        """The journal is appended to in place, in the source's directory
        (which may be shared): a hard link planted at its name would have
        imapsh write into the file it names; a FIFO would block it."""
        d = self.maildir(1)
        folder = self.scratch_name()
        rc, out, err = self.run_as("import", d, folder)
        self.assertEqual(rc, 0, err)
        journal = [n for n in os.listdir(d) if n.startswith(".imapsh-import-")]
        self.assertEqual(len(journal), 1)
        journal = os.path.join(d, journal[0])
        victim = os.path.join(self.tmp, "victim")
        with open(victim, "wb") as f:
            f.write(b"precious\n")
        os.unlink(journal)
        os.link(victim, journal)
        self.maildir(2)  # one message more to send
        rc, out, err = self.run_as("import", d, folder)
        self.assertNotEqual(rc, 0)
        self.assertIn(b"hard link", err)
        with open(victim, "rb") as f:
            self.assertEqual(f.read(), b"precious\n")
        os.unlink(journal)
        os.mkfifo(journal, 0o600)
        rc, out, err = self.run_as("import", d, folder, timeout=20)
        self.assertNotEqual(rc, 0)
        self.assertIn(b"FIFO", err.upper())


class FakeFolders:
    """A scripted server whose LIST names hostile folders (all empty):
    what Dovecot would refuse to create."""
    CAPS = "IMAP4rev1 SASL-IR LITERAL+ UIDPLUS AUTH=PLAIN"

    def __init__(self, names):
        self.names = names  # [(delimiter or None, modified UTF-7 name)]

    def __call__(self, conn):
        conn.send("* OK [CAPABILITY %s] fake\r\n" % self.CAPS)
        while True:
            raw = conn.read_command()
            line = raw.split(b"\r\n", 1)[0].decode("utf-8", "replace")
            tag, _, rest = line.partition(" ")
            verb = rest.upper().split(" ", 1)[0]
            if verb == "AUTHENTICATE":
                if len(rest.split(" ")) < 3:
                    conn.send("+ \r\n")
                    conn.readline()
                conn.send("%s OK [CAPABILITY %s] Logged in\r\n" % (tag, self.CAPS))
            elif verb == "LIST":
                out = ""
                for delim, name in self.names:
                    d = "NIL" if delim is None else '"%s"' % delim
                    out += '* LIST (\\HasNoChildren) %s {%d}\r\n%s\r\n' % (d, len(name), name)
                conn.send(out + "%s OK done\r\n" % tag)
            elif verb in ("SELECT", "EXAMINE"):
                conn.send("* 0 EXISTS\r\n* OK [UIDVALIDITY 1] ok\r\n* OK [UIDNEXT 1] ok\r\n"
                          "%s OK done\r\n" % tag)
            elif verb == "LOGOUT":
                conn.send("* BYE bye\r\n%s OK done\r\n" % tag)
                conn.close()
                return
            else:
                conn.send("%s OK done\r\n" % tag)


class TestExportTree(HostileCase):
    def fake_args(self, port):
        return ["--ca-file", self.env["ca_file"], "--resolve",
                "%s:%d:127.0.0.1" % (self.env["host"], port),
                "imaps://alice@%s:%d" % (self.env["host"], port)]

    def test_hostile_folder_names_stay_inside_and_read_as_they_are(self):
        """Folder names turned into directory names: "..", "/", a leading
        dot or dash, Maildir's own cur/new/tmp, the index's name, an
        ESC, a bidi override (U+202E: "Inbox<RLO>txt.exe" shows as
        "Inboxexe.txt"), a zero-width space, a C1 CSI, a NIL delimiter."""
        names = [("/", ".."), ("/", "../x"), ("/", "/"), (None, "a/b"), ("/", "-rf"),
                 ("/", "cur"), ("/", ".imapsh-backup"), ("/", "esc&ABs-[31m"),
                 ("/", "Inbox&IC4-txt.exe"), ("/", "&IAs-INBOX"), ("/", "x&AJs-31m"),
                 ("/", "INBOX")]
        outer = os.path.join(self.tmp, "outer")
        d = os.path.join(outer, "tree")
        os.makedirs(d)
        with h.fakeserver(FakeFolders(names), tls="valid") as srv:
            rc, out, err = self.imapsh(*(self.fake_args(srv.port) + ["export", "--all", d]),
                                       env=h.password_env("alice"))
        self.assertEqual(rc, 0, err)
        self.assertEqual(os.listdir(outer), ["tree"])  # nothing beside the tree
        made = sorted(os.listdir(d))
        text = out.decode("utf-8") + err.decode("utf-8", "replace") + "\n".join(made)
        for ch in INVISIBLE + ("\x1b",):
            self.assertNotIn(ch, text)
        for n in made:
            st = os.lstat(os.path.join(d, n))
            if n.startswith("."):
                self.assertIn(n, (".imapsh-backup", ".imapsh-backup.lock"))
                continue
            self.assertTrue(os.path.isdir(os.path.join(d, n)) and not os.path.islink(
                os.path.join(d, n)), n)
            self.assertEqual(sorted(os.listdir(os.path.join(d, n)))[:3], ["cur", "new", "tmp"])
        self.assertIn("Inbox%E2%80%AEtxt%2Eexe", made)
        self.assertIn("%E2%80%8BINBOX", made)
        self.assertIn("x%C2%9B31m", made)
        self.assertIn("esc%1B[31m", made)
        self.assertIn("%2E%2E", made)
        self.assertIn("%2Eimapsh-backup", made)
        self.assertEqual(len(made), len(names) + 2)
        # the records name the folders with the characters made visible
        self.assertIn("Inbox<U+202E>txt.exe\tInbox%E2%80%AEtxt%2Eexe\tok", out.decode())

    def test_planted_links_in_the_tree_are_not_followed(self):
        """A symbolic link planted at a folder's directory (Maildir) or
        file (mbox), and the index replaced by a FIFO: refused in words,
        nothing written where they point, no wait."""
        victim = os.path.join(self.tmp, "victim")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(victim, sub))
        with open(os.path.join(victim, "secret"), "wb") as f:
            f.write(b"secret\n")
        tree = os.path.join(self.tmp, "tree")
        os.mkdir(tree)
        os.symlink(victim, os.path.join(tree, "INBOX"))
        rc, out, err = self.run_as("export", "--all", tree, "--folders", "INBOX")
        self.assertNotEqual(rc, 0)
        self.assertIn(b"is a symbolic link, which imapsh does not follow", err)
        self.assertEqual(sorted(os.listdir(victim)), ["cur", "new", "secret", "tmp"])
        for sub in ("cur", "new", "tmp"):
            self.assertEqual(os.listdir(os.path.join(victim, sub)), [])
        mtree = os.path.join(self.tmp, "mtree")
        os.mkdir(mtree)
        os.symlink(os.path.join(victim, "secret"), os.path.join(mtree, "INBOX.mbox"))
        rc, out, err = self.run_as("export", "--all", mtree, "--folders", "INBOX",
                                   "--format", "mbox")
        self.assertNotEqual(rc, 0)
        self.assertIn(b"INBOX.mbox is a symbolic link", err)
        with open(os.path.join(victim, "secret"), "rb") as f:
            self.assertEqual(f.read(), b"secret\n")
        os.unlink(os.path.join(tree, "INBOX"))
        os.unlink(os.path.join(tree, ".imapsh-backup"))
        os.mkfifo(os.path.join(tree, ".imapsh-backup"), 0o600)
        rc, out, err = self.run_as("export", "--all", tree, "--folders", "INBOX", timeout=20)
        self.assertNotEqual(rc, 0)
        self.assertIn(b"FIFO", err)

class ByeWhileShared(FakeFolders):
    """One folder; once idle for 1.5 s after LIST, an ALERT and a BYE with words
    that would act on a terminal (a title change, a colour, a bidi
    override, an 8-bit CSI), then the connection closed."""
    WORDS = b"\x1b]0;pwned\x07 \x1b[31mred \xe2\x80\xae \xc2\x9b"

    def __call__(self, conn):
        last = [None]

        def bye():  # once the session has been idle for 1.5 s
            while last[0] is None or time.monotonic() - last[0] < 1.5:
                time.sleep(0.05)
            try:
                conn.send(b"* OK [ALERT] " + self.WORDS + b"\r\n* BYE " + self.WORDS
                          + b"\r\n")
                conn.close()
            except Exception:  # closed by the script, or by the client
                pass
        conn.send("* OK [CAPABILITY %s] fake\r\n" % self.CAPS)
        while True:
            try:
                raw = conn.read_command()
            except (OSError, ValueError):
                return
            if not raw:
                return
            tag, _, rest = raw.split(b"\r\n", 1)[0].decode().partition(" ")
            verb = rest.upper().split(" ", 1)[0]
            if verb == "AUTHENTICATE" and len(rest.split(" ")) < 3:
                conn.send("+ \r\n")
                conn.readline()
            if verb == "LIST":
                conn.send('* LIST () "/" INBOX\r\n')
                threading.Thread(target=bye, daemon=True).start()
            conn.send("%s OK [CAPABILITY %s] done\r\n" % (tag, self.CAPS))
            last[0] = time.monotonic()


class TestShareLog(HostileCase):
    def test_master_log_never_holds_raw_server_words(self):
        """The --share master writes a log beside its socket (made safe
        as a whole, like every warning): a server that alerts and says
        BYE with terminal sequences while the master holds its session
        leaves none of them raw there."""
        rt = os.path.join(self.tmp, "rt")
        os.mkdir(rt, 0o700)
        env = dict(h.password_env("alice"), XDG_RUNTIME_DIR=rt)
        text = b""
        with h.fakeserver(ByeWhileShared([]), tls="valid") as srv:
            args = TestExportTree.fake_args(self, srv.port)
            rc, out, err = self.imapsh(*(args + ["--share", "folders"]), env=env)
            self.assertEqual(rc, 0, err)
            end = time.monotonic() + 10 * h.timeout_scale()
            while time.monotonic() < end:
                text = b""
                for n in os.listdir(os.path.join(rt, "imapsh")):
                    if n.endswith(".log"):
                        with open(os.path.join(rt, "imapsh", n), "rb") as f:
                            text += f.read()
                if b"ended" in text:
                    break
                time.sleep(0.05)
        self.assertIn(b"the server closed the connection", text)
        self.assertIn(b"ended", text)
        for bad in (b"\x1b", b"\x07", b"\xe2\x80\xae", b"\xc2\x9b"):
            self.assertNotIn(bad, text)

class TestSetup(DiscoveryFixture, unittest.TestCase):
    """setup EMAIL: what a domain's autoconfig says goes into the config
    file and onto the terminal; bidi overrides and C1 controls (XML 1.0
    lets &#x9b; through) must do neither."""
    tmp_prefix = "imapsh-hostile2-setup-"

    def setup(self, *args):
        rc, out, err = h.run_imapsh(self.bed.args() + ["--config", self.cfg, "setup",
                                                       "alice@example.test"] + list(args),
                                    home=self.home)
        return rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    def serve(self, user, oauth=""):
        xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<clientConfig version=\"1.1\"><emailProvider id=\"example.test\">"
               "<domain>example.test</domain>"
               "<incomingServer type=\"imap\"><hostname>imap.example.test</hostname>"
               "<port>%d</port><socketType>SSL</socketType><username>%s</username>"
               "<authentication>%s</authentication></incomingServer>"
               "</emailProvider>%s</clientConfig>\n"
               % (self.port, user, "OAuth2" if oauth else "password-cleartext", oauth))
        self.bed.zone([{"name": "autoconfig.example.test", "type": "A",
                        "addr": self.bed.web_addr},
                       {"name": "imap.example.test", "type": "A", "addr": "127.0.0.1"}])
        self.bed.put("autoconfig.example.test", "mail/config-v1.1.xml", xml)

    def assert_clean(self, text):
        for ch in INVISIBLE:
            self.assertNotIn(ch, text)

    def test_username_with_bidi_and_c1_never_written(self):
        """The server is passed over (as for a control character) and the
        reason shown with the characters made visible."""
        for user, shown in (("alice&#x202e;gpj.exe", "<U+202E>"), ("alice&#x9b;31m", "<U+009B>"),
                            ("al&#x200b;ice", "<U+200B>")):
            with self.subTest(user=user):
                self.serve(user)
                rc, out, err = self.setup("--yes", "--json")
                self.assertEqual(rc, 1, err)
                self.assert_clean(out + err)
                self.assertFalse(os.path.exists(self.cfg))
                doc = json.loads(out)
                self.assertFalse(doc["written"])
                auto = [r for r in doc["sources"] if r["source"] == "autoconfig"][0]
                self.assertIn("unusable username", auto["result"])
                self.assertIn(shown, auto["result"])

    def test_oauth_urls_with_bidi_never_written(self):
        oauth = ("<oAuth2><issuer>login.example.test</issuer><scope>imap&#x202e;</scope>"
                 "<authURL>https://login.example.test/auth&#x202e;orize</authURL>"
                 "<tokenURL>https://login.example.test/t&#x9b;oken</tokenURL></oAuth2>")
        self.serve("%EMAILADDRESS%", oauth)
        rc, out, err = self.setup("--yes")
        self.assertEqual(rc, 0, err)
        with open(self.cfg, encoding="utf-8") as f:
            text = f.read()
        self.assert_clean(text + out + err)
        self.assertNotIn("oauth-authorize-url", text)
        self.assertNotIn("oauth-token-url", text)

    def test_srv_target_with_a_nul_byte(self):
        """A DNS name may hold any byte: an SRV target
        "imap.example.test<NUL>.evil.test" read as a C string would be
        imap.example.test, inside the address's domain; it is not a host
        name and is not used."""
        self.bed.zone([{"name": "_imaps._tcp.example.test", "type": "SRV", "priority": 0,
                        "weight": 0, "port": self.port,
                        "target": "imap.example.test\x00.evil.test"},
                       {"name": "imap.example.test", "type": "A", "addr": "127.0.0.1"}])
        rc, out, err = self.setup("--yes", "--json")
        self.assertEqual(rc, 1, err)
        doc = json.loads(out)
        self.assertFalse(doc["written"])
        self.assertFalse([c for c in doc["candidates"] if "srv" in c["sources"]])
        self.assertFalse(os.path.exists(self.cfg))
        self.assert_clean(out + err)
        self.assertNotIn("\x00", out + err)
        srv = [r for r in doc["sources"] if r["asked"].startswith("_imaps")][0]
        self.assertIn("no usable SRV record", srv["result"])  # seen, and not used
    def test_ports_and_host_names_out_of_range(self):
        """Port 0 and 65536, a host name with a space, or with a Cyrillic
        letter that looks Latin (a homograph): never used or written;
        the reason is shown."""
        for host, port in (("imap.example.test", "0"), ("imap.example.test", "65536"),
                           ("imap example.test", "993"), ("imap.ex\u0430mple.test", "993")):
            with self.subTest(host=host, port=port):
                xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">"
                       "<emailProvider id=\"example.test\"><incomingServer type=\"imap\">"
                       "<hostname>%s</hostname><port>%s</port><socketType>SSL</socketType>"
                       "<username>%%EMAILADDRESS%%</username></incomingServer>"
                       "</emailProvider></clientConfig>\n" % (host, port))
                self.bed.zone([{"name": "autoconfig.example.test", "type": "A",
                                "addr": self.bed.web_addr}])
                self.bed.put("autoconfig.example.test", "mail/config-v1.1.xml", xml)
                rc, out, err = self.setup("--yes", "--json")
                self.assertEqual(rc, 1, err)
                doc = json.loads(out)
                self.assertFalse(doc["written"])
                auto = [r for r in doc["sources"] if r["source"] == "autoconfig"][0]
                self.assertTrue("not a port" in auto["result"] or
                                "not a host name" in auto["result"], auto["result"])
                self.assertFalse(os.path.exists(self.cfg))

class WeakTLSServer:
    """An HTTPS server on loopback with the test bed's certificate that
    offers TLS 1.2 with the given OpenSSL cipher list only; it records the
    requests that reach it and answers each with an OAuth error."""

    def __init__(self, ciphers):
        env = h.testbed()
        ca = os.path.dirname(env["ca_file"])
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        self.ctx.set_ciphers(ciphers)
        self.ctx.load_cert_chain(os.path.join(ca, "valid", "chain.pem"),
                                 os.path.join(ca, "valid", "key.pem"))
        self.requests = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                c.settimeout(10)
                s = self.ctx.wrap_socket(c, server_side=True)
                data = s.recv(65536)
                self.requests.append(data)
                body = b'{"error": "invalid_client"}'
                s.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
                s.close()
            except (OSError, ssl.SSLError):
                c.close()

    def close(self):
        self.sock.close()


class TestHttpsKeyExchange(h.TestbedCase):
    """The HTTPS fetches (OAuth endpoints, autoconfig, ISPDB) hold the
    IMAP connection's TLS profile: forward-secret AEAD suites only.  A
    server that offers only static RSA key exchange or CBC gets no
    request (the device code request would carry the client id)."""

    def login_device(self, srv):
        host = self.env["host"]
        url = "https://%s:%d" % (host, srv.port)
        self.home.write_config(
            "[account work]\nhost = %s\nuser = alice\nauth = oauth\noauth-provider = custom\n"
            "oauth-client-id = hostile2\noauth-authorize-url = %s/authorize\n"
            "oauth-token-url = %s/token\noauth-device-url = %s/device\n" % (host, url, url, url))
        return self.imapsh("--ca-file", self.env["ca_file"], "--resolve",
                           "%s:%d:127.0.0.1" % (host, srv.port), "-a", "work", "oauth", "login",
                           "--device", timeout=30)

    def test_static_rsa_and_cbc_refused(self):
        for ciphers in ("AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA", "AES128-SHA256"):
            with self.subTest(ciphers=ciphers):
                srv = WeakTLSServer(ciphers)
                self.addCleanup(srv.close)
                rc, out, err = self.login_device(srv)
                self.assertNotEqual(rc, 0)
                self.assertEqual(srv.requests, [], err)
                self.assertIn(b"TLS", err)

    def test_forward_secret_aead_accepted(self):
        """The control: the same server with ECDHE and AES-GCM gets the
        request."""
        srv = WeakTLSServer("ECDHE-RSA-AES128-GCM-SHA256")
        self.addCleanup(srv.close)
        rc, out, err = self.login_device(srv)
        self.assertNotEqual(rc, 0)  # the server refuses the client
        self.assertEqual(len(srv.requests), 1, err)
        self.assertIn(b"POST /device", srv.requests[0])

if __name__ == "__main__":
    unittest.main()
