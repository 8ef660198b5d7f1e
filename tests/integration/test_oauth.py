"""Built-in OAuth 2.0 against the test bed's real authorization server
(oauthserver.py over HTTPS with the test CA) and the real Dovecot, whose
oauth2 passdb introspects the tokens that server issued.

The test plays the browser: it reads the URL imapsh prints, GETs it from
the authorization server, and follows the 302 to imapsh's loopback
listener.  Settings of the server (auto-approve, deny, hostile answers)
are changed through its control hook.
"""
import http.client
import json
import os
import re
import select
import ssl
import stat
import subprocess
import time
import unittest
import urllib.parse
import urllib.request

import harness as h


def control(req=None):
    data = json.dumps(req or {}).encode()
    r = urllib.request.urlopen(urllib.request.Request(h.testbed()["oauth"]["control_url"],
                                                      data=data), timeout=10)
    return json.loads(r.read())


def reset_server():
    control({"set": {"authorize": "approve", "user": "alice", "access_ttl": 3600,
                     "next_token": "", "device_interval": 1, "device_expires": 60,
                     "slow_down": 0, "issue_refresh": True, "dead_tokens": False}})


def browser_get(url):
    """GET a URL of the authorization server (imap.example.test:PORT over
    TLS verified with the test CA); returns (status, Location)."""
    env = h.testbed()
    u = urllib.parse.urlsplit(url)
    assert u.scheme == "https" and u.hostname == env["host"], url
    ctx = ssl.create_default_context(cafile=env["ca_file"])
    c = http.client.HTTPSConnection("127.0.0.1", env["oauth"]["https_port"], context=ctx,
                                    timeout=10)
    try:
        c.request("GET", u.path + "?" + u.query, headers={"Host": u.netloc})
        r = c.getresponse()
        r.read()
        return r.status, r.getheader("Location")
    finally:
        c.close()


def loopback_get(url, host=None):
    """The browser's request to imapsh's listener: (status, body)."""
    u = urllib.parse.urlsplit(url)
    assert u.hostname in ("127.0.0.1", "localhost"), url
    c = http.client.HTTPConnection("127.0.0.1", u.port, timeout=10)
    try:
        c.request("GET", u.path + ("?" + u.query if u.query else ""),
                  headers={"Host": host or u.netloc})
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        c.close()


CONFIG = """\
[account work]
host = imap.example.test
port = {port}
user = alice
auth = oauth
oauth-provider = {provider}
oauth-client-id = {client_id}
oauth-authorize-url = {authorize_url}
oauth-token-url = {token_url}
oauth-device-url = {device_url}
oauth-revoke-url = {revoke_url}
"""


@h.dovecot_only("the OAuth servers run beside Dovecot only")
class OAuthCase(h.TestbedCase):
    def setUp(self):
        super().setUp()
        reset_server()
        self.addCleanup(reset_server)
        o = self.env["oauth"]
        self.write_config()
        self.gopts = ["--ca-file", self.env["ca_file"], "--resolve", self.env["resolve"]["imaps"],
                      "--resolve", o["resolve"]]
        self.outputs = []

    def write_config(self, provider="custom", extra=""):
        o = self.env["oauth"]
        self.home.write_config(CONFIG.format(port=self.env["ports"]["imaps"], provider=provider,
                                             **o) + extra)

    def run_(self, *args, **kw):
        rc, out, err = self.imapsh(*(self.gopts + list(args)), **kw)
        self.outputs.append(out + err)
        return rc, out.decode(), err.decode()

    def spawn(self, *args, env=None):
        e = h.base_env(self.home)
        e.pop("DISPLAY", None)
        e.pop("WAYLAND_DISPLAY", None)
        e.update(env or {})
        p = subprocess.Popen(h.wrapper() + [os.environ["IMAPSH_BIN"]] + self.gopts + list(args),
                             stdin=h.empty_input(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=e, bufsize=0)
        def reap():
            if p.poll() is None:
                p.kill()
            p.communicate()
        self.addCleanup(reap)
        return p

    def line(self, p, timeout=15):
        r, _, _ = select.select([p.stdout], [], [], timeout * h.timeout_scale())
        self.assertTrue(r, "imapsh printed no line")
        line = p.stdout.readline().decode().rstrip("\n")
        if not line and p.poll() is not None:
            self.fail("imapsh ended (%d): %s" % (p.returncode, p.stderr.read().decode()))
        return line

    def finish(self, p, timeout=30):
        out, err = p.communicate(timeout=timeout * h.timeout_scale())
        self.outputs.append(out + err)
        return p.returncode, out.decode(), err.decode()

    def state_file(self):
        return os.path.join(self.home.state, "imapsh", "oauth-work.json")

    def saved(self):
        with open(self.state_file()) as f:
            return json.load(f)

    def login(self, *extra):
        """oauth login, the test being the browser; returns (rc, out, err)."""
        p = self.spawn("oauth", "login", "--no-browser", "work", *extra)
        url = self.line(p)
        self.assertTrue(url.startswith(self.env["oauth"]["authorize_url"] + "?"), url)
        status, loc = browser_get(url)
        self.assertEqual(status, 302)
        st, body = loopback_get(loc)
        self.assertEqual(st, 200)
        self.assertIn("You can close this tab", body)
        return self.finish(p)

    def assert_no_secret_leaked(self):
        """No token the login saved appears in anything imapsh printed."""
        d = self.saved() if os.path.exists(self.state_file()) else {}
        for k in ("access_token", "refresh_token"):
            if d.get(k):
                for o in self.outputs:
                    self.assertNotIn(d[k].encode(), o, "%s in imapsh's output" % k)

    def grants(self):
        return [(e["grant"], e.get("status"), e.get("error")) for e in control()["log"]]


class Login(OAuthCase):
    def test_pkce_login_then_folders_over_xoauth2_and_oauthbearer(self):
        before = len(control()["log"])
        rc, out, err = self.login()
        self.assertEqual(rc, 0, err)
        self.assertIn("account work is logged in", err)
        log = control()["log"][before:]
        self.assertEqual([e["grant"] for e in log], ["authorization_code"])
        self.assertEqual(log[0]["status"], 200)  # the PKCE verifier matched the challenge
        st = os.stat(self.state_file())
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(self.state_file())).st_mode), 0o700)
        d = self.saved()
        self.assertTrue(d["refresh_token"].startswith("rt-"))
        self.assertTrue(d["access_token"].startswith("at-"))
        self.assertGreater(d["expires_at"], time.time() + 3000)

        rc, out, err = self.run_("oauth", "status", "work")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"refresh-token\tstored")
        self.assertRegex(out, r"access-token\tvalid until 20")
        for form in (["-a", "work", "oauth", "status"], ["work", "oauth", "status"]):
            rc, out2, err = self.run_(*form)
            self.assertEqual((rc, out2), (0, out), err)
        rc, out, err = self.run_("--json", "oauth", "status", "work")
        doc = json.loads(out)
        self.assertTrue(doc["logged_in"])
        self.assertTrue(doc["access_token_valid"])

        active = control()["counts"].get("introspect_active", 0)
        for mech in ("xoauth2", "oauthbearer"):
            rc, out, err = self.run_("-a", "work", "--auth", mech, "-v", "folders")
            self.assertEqual(rc, 0, err)
            self.assertIn("INBOX", out)
        # auth = oauth alone: the mechanism the token decides (OAUTHBEARER)
        rc, out, err = self.run_("-a", "work", "--trace", "folders")
        self.assertEqual(rc, 0, err)
        self.assertIn("AUTHENTICATE OAUTHBEARER", err + out)
        self.assertGreaterEqual(control()["counts"]["introspect_active"], active + 3)
        # the saved access token was used: no refresh happened
        self.assertEqual([g for g, _, _ in self.grants()[before:]], ["authorization_code"])
        self.assert_no_secret_leaked()

    def test_browser_started_only_with_a_display(self):
        bindir = os.path.join(self.home.root, "bin")
        os.makedirs(bindir)
        seen = os.path.join(self.home.root, "opened")
        with open(os.path.join(bindir, "xdg-open"), "w") as f:
            f.write('#!/bin/sh\nprintf "%%s\\n" "$1" >> %s\n' % seen)
        os.chmod(os.path.join(bindir, "xdg-open"), 0o755)
        path = bindir + ":" + os.environ.get("PATH", "/usr/bin:/bin")
        for extra, opened in ((["--no-browser"], False), ([], True)):
            p = self.spawn("oauth", "login", "work", "--timeout", "2", *extra,
                           env={"DISPLAY": ":99", "PATH": path})
            url = self.line(p)
            rc, out, err = self.finish(p)
            self.assertEqual(rc, 3, err)
            if opened:
                with open(seen) as f:
                    self.assertEqual(f.read(), url + "\n")
            else:
                self.assertFalse(os.path.exists(seen))

    def test_device_grant_with_pending_and_slow_down(self):
        control({"set": {"slow_down": 1}})
        before = len(control()["log"])
        p = self.spawn("oauth", "login", "--device", "work")
        uri = self.line(p)
        code = self.line(p)
        self.assertEqual(uri, "https://imap.example.test:%d/verify" % self.env["oauth"]["https_port"])
        self.assertRegex(code, r"^\d{4}-\d{4}$")
        # let it poll: slow_down first, then pending (interval 1 + 5)
        deadline = time.time() + 20 * h.timeout_scale()
        while time.time() < deadline:
            errs = [e.get("error") for e in control()["log"][before:]]
            if "authorization_pending" in errs:
                break
            time.sleep(0.2)
        control({"approve": code})
        rc, out, err = self.finish(p)
        self.assertEqual(rc, 0, err)
        log = control()["log"][before:]
        errs = [e.get("error") for e in log]
        self.assertEqual(errs[0], "slow_down")
        self.assertIn("authorization_pending", errs)
        self.assertEqual(log[-1]["status"], 200)
        # RFC 8628: after slow_down the interval grows by 5 s
        self.assertGreaterEqual(log[1]["t"] - log[0]["t"], 5.5)
        rc, out, err = self.run_("-a", "work", "folders")
        self.assertEqual(rc, 0, err)
        self.assert_no_secret_leaked()

    def test_device_code_expiry(self):
        control({"set": {"device_expires": 3}})
        p = self.spawn("oauth", "login", "--device", "work")
        self.line(p)
        self.line(p)
        rc, out, err = self.finish(p)
        self.assertEqual(rc, 5, err)
        self.assertIn("expired", err)
        self.assertIn("oauth login --device", err)


class Refresh(OAuthCase):
    def test_refresh_after_expiry_and_after_refusal(self):
        control({"set": {"access_ttl": 30}})  # under a minute: imapsh refreshes at once
        rc, out, err = self.login()
        self.assertEqual(rc, 0, err)
        first = self.saved()["access_token"]
        before = len(control()["log"])
        control({"set": {"access_ttl": 3600}})
        rc, out, err = self.run_("-a", "work", "folders")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.grants()[before:], [("refresh_token", 200, None)])
        second = self.saved()["access_token"]
        self.assertNotEqual(first, second)
        # the server ends the token before its time: refused, refreshed once
        control({"expire": "alice"})
        before = len(control()["log"])
        rc, out, err = self.run_("-a", "work", "folders")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.grants()[before:], [("refresh_token", 200, None)])
        self.assertNotEqual(self.saved()["access_token"], second)
        self.assert_no_secret_leaked()

    def test_refused_after_one_refresh_the_user_is_told_to_log_in(self):
        rc, out, err = self.login()
        self.assertEqual(rc, 0, err)
        control({"set": {"dead_tokens": True}, "expire": "alice"})
        before = len(control()["log"])
        rc, out, err = self.run_("-a", "work", "folders")
        self.assertEqual(rc, 5, err)
        self.assertEqual(self.grants()[before:], [("refresh_token", 200, None)])  # once
        self.assertIn("refused too", err)
        self.assertIn("imapsh oauth login", err)
        self.assert_no_secret_leaked()

    def test_revoked_refresh_token_is_refused_with_words(self):
        self.write_config(provider="google")  # the endpoints given win over the preset
        rc, out, err = self.login()
        self.assertEqual(rc, 0, err)
        control({"revoke": "alice"})
        rc, out, err = self.run_("-a", "work", "folders")
        self.assertEqual(rc, 5, err)
        self.assertIn("invalid_grant", err)
        self.assertIn("revoked", err)
        self.assertIn("7 days", err)  # Google's apps in Testing
        self.assertIn("imapsh oauth login", err)
        self.assert_no_secret_leaked()

    def test_logout_revokes_and_deletes(self):
        rc, out, err = self.login()
        self.assertEqual(rc, 0, err)
        revoked = control()["counts"].get("revoked", 0)
        rc, out, err = self.run_("oauth", "logout", "work")
        self.assertEqual(rc, 0, err)
        self.assertIn("revoked", err)
        self.assertEqual(control()["counts"]["revoked"], revoked + 1)
        self.assertFalse(os.path.exists(self.state_file()))
        rc, out, err = self.run_("oauth", "status", "work")
        self.assertEqual(rc, 1)
        self.assertIn("not logged in", err)
        rc, out, err = self.run_("-a", "work", "folders")
        self.assertEqual(rc, 5)
        self.assertIn("run 'imapsh oauth login work'", err)


class TokenStore(OAuthCase):
    def test_store_command_gets_the_token_on_stdin_never_argv(self):
        d = self.home.root
        script = os.path.join(d, "store.sh")
        with open(script, "w") as f:
            f.write('case "$IMAPSH_TOKEN_OP" in\n'
                    'store) cat > {d}/rt; cat /proc/$$/cmdline > {d}/argv;;\n'
                    'load) cat {d}/rt;;\n'
                    'erase) rm -f {d}/rt;;\n'
                    'esac\n'.format(d=d))
        self.write_config(extra="token-store-command = sh %s\n" % script)
        rc, out, err = self.login()
        self.assertEqual(rc, 0, err)
        with open(os.path.join(d, "rt")) as f:
            rt = f.read().strip()
        self.assertTrue(rt.startswith("rt-"), rt)
        with open(os.path.join(d, "argv"), "rb") as f:
            self.assertNotIn(rt.encode(), f.read())
        saved = self.saved()
        self.assertNotIn("refresh_token", saved)
        self.assertNotIn("access_token", saved)
        before = len(control()["log"])
        rc, out, err = self.run_("-a", "work", "folders")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.grants()[before:], [("refresh_token", 200, None)])
        for o in self.outputs:
            self.assertNotIn(rt.encode(), o)
        rc, out, err = self.run_("oauth", "logout", "work")
        self.assertEqual(rc, 0, err)
        self.assertFalse(os.path.exists(os.path.join(d, "rt")))


class Hostile(OAuthCase):
    def start(self, *extra):
        p = self.spawn("oauth", "login", "--no-browser", "work", *extra)
        return p, self.line(p)

    def test_state_from_another_request_is_refused(self):
        control({"set": {"authorize": "wrong_state"}})
        p, url = self.start()
        status, loc = browser_get(url)
        st, body = loopback_get(loc)
        self.assertEqual(st, 400)
        # the real redirect still works afterwards
        control({"set": {"authorize": "approve"}})
        status, loc = browser_get(url)
        st, body = loopback_get(loc)
        self.assertEqual(st, 200)
        rc, out, err = self.finish(p)
        self.assertEqual(rc, 0, err)
        self.assertIn("another request", err)

    def test_redirect_never_comes(self):
        p, url = self.start("--timeout", "2")
        rc, out, err = self.finish(p)
        self.assertEqual(rc, 3, err)
        self.assertIn("never came within 2 s", err)
        self.assertIn("--timeout", err)

    def test_redirect_to_a_non_loopback_address(self):
        control({"set": {"authorize": "elsewhere"}})
        p, url = self.start("--timeout", "3")
        status, loc = browser_get(url)
        self.assertEqual(urllib.parse.urlsplit(loc).hostname, "evil.example.test")
        # a page elsewhere replays it at the listener under its own name
        port = urllib.parse.urlsplit(urllib.parse.parse_qs(
            urllib.parse.urlsplit(url).query)["redirect_uri"][0]).port
        q = urllib.parse.urlsplit(loc).query
        st, body = loopback_get("http://127.0.0.1:%d/?%s" % (port, q), host="evil.example.test")
        self.assertEqual(st, 400)
        rc, out, err = self.finish(p)
        self.assertEqual(rc, 3, err)
        self.assertIn("another host name", err)
        self.assertFalse(os.path.exists(self.state_file()))

    def test_denied(self):
        control({"set": {"authorize": "deny"}})
        p, url = self.start()
        status, loc = browser_get(url)
        st, body = loopback_get(loc)
        rc, out, err = self.finish(p)
        self.assertEqual(rc, 5, err)
        self.assertIn("access_denied", err)

    def exchange_fails(self, next_token):
        control({"set": {"next_token": next_token}})
        p, url = self.start()
        status, loc = browser_get(url)
        loopback_get(loc)
        rc, out, err = self.finish(p)
        self.assertFalse(os.path.exists(self.state_file()))
        return rc, err

    def test_ten_megabyte_token_answer(self):
        rc, err = self.exchange_fails("big")
        self.assertEqual(rc, 7, err)  # the server broke the protocol
        self.assertIn("more than 64 KiB", err)

    def test_malformed_json(self):
        rc, err = self.exchange_fails("malformed")
        self.assertEqual(rc, 7, err)
        self.assertIn("not JSON", err)
        self.assertNotIn("at-x", err)

    def test_aadsts_code_in_words(self):
        rc, err = self.exchange_fails("error:invalid_grant:AADSTS70008: The refresh token "
                                      "has expired due to inactivity.")
        self.assertEqual(rc, 5, err)
        self.assertIn("AADSTS70008: the code or refresh token has expired", err)
        rc, err = self.exchange_fails("error:invalid_scope")
        self.assertIn("scope", err)
        self.assertIn("oauth-scope", err)
        rc, err = self.exchange_fails("error:consent_required")
        self.assertIn("consent required", err)

    def test_usage(self):
        rc, out, err = self.run_("oauth", "status", "nope")
        self.assertEqual(rc, 2)
        self.assertIn("no [account nope]", err)
        rc, out, err = self.run_("oauth", "frobnicate")
        self.assertEqual(rc, 2)
        self.assertIn("login, status or logout", err)
        rc, out, err = self.run_("oauth", "status", "--device")
        self.assertEqual(rc, 2)
        self.home.write_config("[account bare]\nhost = imap.example.test\nauth = oauth\n")
        rc, out, err = self.run_("oauth", "login", "bare")
        self.assertEqual(rc, 2)
        self.assertIn("oauth-client-id", err)


if __name__ == "__main__":
    unittest.main()
