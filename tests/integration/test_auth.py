"""Authentication end to end against the real server: every mechanism the
test bed offers, every password source, the exit code for a refusal, and
no secret in the output, the trace or the command line."""
import os
import re
import shlex
import subprocess
import tempfile
import time

import harness as h

HOST = "imap.example.test"


class Auth(h.TestbedCase):
    def login(self, user, *opts, env=None, kind="imaps"):
        """Log in with `namespace` (needs a login) and return rc, stdout, stderr."""
        return self.imapsh(*h.imaps_args(kind), *opts, h.target(user, kind), "namespace",
                           env=env)

    def assert_logged_in(self, rc, out, err):
        self.assertEqual(rc, 0, err)
        self.assertRegex(out.decode(), r"^personal\t%s\t%s\n"
                         % (re.escape(self.env["prefix"]), re.escape(self.env["separator"])))

    def mechs(self, *names):
        """Those of names the server offers (LOGIN is the IMAP command)."""
        return [m for m in names if m == "login" or m.upper() in self.env["mechanisms"]]

    def test_default_mechanism_is_scram(self):
        rc, out, err = self.login("alice", "--trace", env=h.password_env("alice"))
        self.assert_logged_in(rc, out, err)
        best = "SCRAM-SHA-256" if "SCRAM-SHA-256" in self.env["mechanisms"] else "PLAIN"
        self.assertRegex(err.decode(), r"C: \S+ AUTHENTICATE " + best)

    def test_each_mechanism(self):
        for mech, wire in (("plain", "AUTHENTICATE PLAIN"), ("login", "LOGIN"),
                           ("scram-sha-256", "AUTHENTICATE SCRAM-SHA-256"),
                           ("scram-sha-1", "AUTHENTICATE SCRAM-SHA-1")):
            if mech not in self.mechs(mech):
                continue
            with self.subTest(mech=mech):
                rc, out, err = self.login("alice", "--auth", mech, "--trace",
                                          env=h.password_env("alice"))
                self.assert_logged_in(rc, out, err)
                self.assertRegex(err.decode(), r"C: \S+ %s\b" % wire)
                self.assertNotIn(b"correct horse", err)
                self.assertNotIn(b"Y29ycmVjdCBob3Jz", err)  # base64 of the password

    def test_hard_password_with_space_quote_and_umlaut(self):
        for mech in self.mechs("plain", "login", "scram-sha-256", "scram-sha-1"):
            with self.subTest(mech=mech):
                rc, out, err = self.login("bob", "--auth", mech, env=h.password_env("bob"))
                self.assert_logged_in(rc, out, err)

    def test_wrong_password_exit_code(self):
        for mech in self.mechs("plain", "login", "scram-sha-256", "scram-sha-1"):
            with self.subTest(mech=mech):
                rc, out, err = self.login("alice", "--auth", mech,
                                          env={"IMAPSH_PASSWORD": "wrong horse"})
                self.assertEqual(rc, 5, err)
                self.assertEqual(out, b"")
                self.assertRegex(err.decode(), r"^imapsh: .*authentication failed")
                self.assertNotIn(b"wrong horse", err)

    @h.dovecot_only("the test bed's OAuth introspection is Dovecot's passdb")
    def test_oauth_tokens(self):
        tokens = self.env["oauth"]["tokens"]
        for mech in ("xoauth2", "oauthbearer"):
            with self.subTest(mech=mech):
                rc, out, err = self.login("alice", "--auth", mech, "--trace",
                                          "--oauth-token-command", "echo %s" % tokens["alice"])
                self.assert_logged_in(rc, out, err)
                self.assertRegex(err.decode(), r"C: \S+ AUTHENTICATE %s" % mech.upper())
                self.assertNotIn(tokens["alice"].encode(), err)

    @h.dovecot_only("the test bed's OAuth introspection is Dovecot's passdb")
    def test_oauth_token_refused_is_retried_once_then_auth_error(self):
        counter = os.path.join(self.home.root, "count")
        cmd = "echo x >> %s; echo %s" % (shlex.quote(counter), self.env["oauth"]["invalid_token"])
        rc, out, err = self.login("alice", "--auth", "xoauth2", "--oauth-token-command", cmd)
        self.assertEqual(rc, 5, err)
        with open(counter) as f:
            self.assertEqual(len(f.read().split()), 2, "the token command runs twice")
        self.assertIn(b"a fresh token from --oauth-token-command was refused too", err)

    @h.dovecot_only("EXTERNAL from the client certificate is set up in Dovecot only")
    def test_external_with_client_certificate(self):
        cc = self.env["client_cert"]
        rc, out, err = self.login("alice", "--auth", "external", "--client-cert", cc["cert"],
                                  "--client-key", cc["key"])
        self.assert_logged_in(rc, out, err)

    def test_starttls_then_login(self):
        rc, out, err = self.login("alice", env=h.password_env("alice"), kind="starttls")
        self.assert_logged_in(rc, out, err)


class PasswordSources(h.TestbedCase):
    def run_ns(self, *opts, env=None):
        return self.imapsh(*h.imaps_args(), *opts, h.target("alice"), "namespace", env=env)

    def test_password_command_first_line_only(self):
        rc, out, err = self.run_ns("--password-command", "printf 'correct horse\\nignored\\n'")
        self.assertEqual(rc, 0, err)

    def test_password_command_wins_over_environment(self):
        rc, out, err = self.run_ns("--password-command", "echo correct horse",
                                   env={"IMAPSH_PASSWORD": "wrong"})
        self.assertEqual(rc, 0, err)

    def test_failing_password_command(self):
        rc, out, err = self.run_ns("--password-command", "exit 3")
        self.assertEqual(rc, 5, err)
        self.assertIn(b"--password-command failed (exit status 3)", err)

    def test_netrc(self):
        path = os.path.join(self.home.root, "netrc")
        # netrc tokens have no spaces: use a user whose password has none
        with open(path, "w") as f:
            f.write("machine other.example.test login x password y\n"
                    "machine %s login carol password carol-pw\n" % HOST)
        os.chmod(path, 0o600)
        rc, out, err = self.imapsh(*h.imaps_args(), "--netrc-file", path, h.target("carol"),
                                   "namespace")
        self.assertEqual(rc, 0, err)

    def test_netrc_quoted_password_and_its_login(self):
        """curl's netrc: a quoted password with a space; the entry's login
        used when no user is given; bob's password has a '"' and non-ASCII."""
        path = os.path.join(self.home.root, "netrc")
        bob = self.env["users"]["bob"]["password"]
        quoted = '"%s"' % bob.replace("\\", "\\\\").replace('"', '\\"')
        with open(path, "w", encoding="utf-8") as f:
            f.write('machine %s\n  login alice\n  password "correct horse"\n' % HOST)
        os.chmod(path, 0o600)
        url = h.target().replace("imaps://", "imaps://")
        rc, out, err = self.imapsh(*h.imaps_args(), "--netrc-file", path, url, "namespace",
                                   env={"IMAPSH_PASSWORD": None})
        self.assertEqual(rc, 0, err)
        with open(path, "w", encoding="utf-8") as f:
            f.write("machine %s login bob password %s\n" % (HOST, quoted))
        rc, out, err = self.imapsh(*h.imaps_args(), "--netrc-file", path, h.target("bob"),
                                   "namespace", env={"IMAPSH_PASSWORD": None})
        self.assertEqual(rc, 0, err)

    def test_netrc_mistakes_name_the_line(self):
        path = os.path.join(self.home.root, "netrc")
        with open(path, "w") as f:
            f.write('machine %s\nlogin alice\npassword "correct horse\n' % HOST)
        os.chmod(path, 0o600)
        rc, out, err = self.imapsh(*h.imaps_args(), "--netrc-file", path, h.target(),
                                   "namespace", env={"IMAPSH_PASSWORD": None})
        self.assertEqual(rc, 2, err)
        self.assertIn(b"line 3: a quoted token without its closing quote", err)

    def test_no_password_and_no_terminal(self):
        rc, out, err = self.run_ns(env={"IMAPSH_PASSWORD": None})
        self.assertEqual(rc, 5, err)
        self.assertIn(b"no password", err)

    def test_config_account(self):
        self.home.write_config(
            "default = work\n[defaults]\nca-file = %s\n[account work]\nhost = %s\nport = %d\n"
            "user = alice\npassword-command = echo correct horse\n"
            % (self.env["ca_file"], HOST, self.env["ports"]["imaps"]))
        rc, out, err = self.imapsh("--resolve", self.env["resolve"]["imaps"], "namespace")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.imapsh("--resolve", self.env["resolve"]["imaps"], "-a", "work",
                                   "namespace")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.imapsh("--resolve", self.env["resolve"]["imaps"], "work", "namespace")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.imapsh("-a", "nosuch", "namespace")
        self.assertEqual(rc, 2, err)
        self.assertIn(b"no account 'nosuch'", err)

    def test_bad_config_is_a_usage_error(self):
        self.home.write_config("[account x]\nhost = a\nbogus = 1\n")
        rc, out, err = self.imapsh("help")
        self.assertEqual(rc, 2, err)
        self.assertIn(b"config:3: unknown key 'bogus' in [account x]", err)

    def test_password_never_in_cmdline(self):
        """While imapsh runs, /proc/PID/cmdline holds no secret: there is no
        option that takes one."""
        import harness
        env = harness.base_env(self.home)
        env["IMAPSH_PASSWORD"] = "correct horse"
        p = subprocess.Popen([os.environ["IMAPSH_BIN"], *h.imaps_args(), h.target("alice"),
                              "-c", "namespace; quote NOOP"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        seen = b""
        for _ in range(50):
            try:
                with open("/proc/%d/cmdline" % p.pid, "rb") as f:
                    seen += f.read()
            except OSError:
                break
            time.sleep(0.01)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err)
        self.assertIn(b"namespace", seen)
        self.assertNotIn(b"correct horse", seen)
        self.assertNotIn(b"correct horse", out + err)


if __name__ == "__main__":
    import unittest
    unittest.main()
