"""The man page renders cleanly and agrees with --help and the command table."""
import os
import re
import subprocess
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAN = os.path.join(ROOT, "man", "imapsh.1")
BIN = os.environ.get("IMAPSH_BIN", os.path.join(ROOT, "build", "imapsh"))


def run(*args):
    p = subprocess.run([BIN, *args], capture_output=True, timeout=30)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def man_text():
    with open(MAN, encoding="utf-8") as f:
        # groff escapes: \- is a minus; \fB...\fR fonts
        return f.read().replace("\\-", "-")


class ManPage(unittest.TestCase):
    def test_renders_without_warnings(self):
        p = subprocess.run(["groff", "-man", "-z", "-ww", MAN], capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stderr.decode(), "", "groff warnings")

    def test_every_option_in_help_is_documented(self):
        rc, out, err = run("--help")
        self.assertEqual(rc, 0, err)
        opts = set(re.findall(r"(--[a-z][a-z0-9-]+)", out))
        self.assertGreater(len(opts), 20)
        text = man_text()
        missing = sorted(o for o in opts if o not in text)
        self.assertEqual(missing, [], "options in --help but not in the man page")

    def test_every_command_is_documented(self):
        rc, out, err = run("help")
        self.assertEqual(rc, 0, err)
        names = [line.split()[0] for line in out.splitlines() if line.strip()]
        self.assertIn("check", names)
        self.assertIn("cert", names)
        text = man_text()
        for n in names:
            self.assertTrue(re.search(r"\.BR? %s\b" % re.escape(n), text),
                            "command %s not in the man page" % n)

    def test_exit_codes_documented(self):
        text = man_text()
        for code in range(0, 8):
            self.assertIn(".B %d\n" % code, text)

    def test_version(self):
        rc, out, _ = run("--version")
        self.assertEqual(rc, 0)
        lines = out.splitlines()
        self.assertRegex(lines[0], r"^imapsh \d+\.\d+\.\d+ \(mbedTLS \d+\.\d+\.\d+\)$")
        self.assertRegex(lines[1], r"^tls: 1\.2 yes, 1\.3 (yes|no)$")
        if lines[0].split("mbedTLS ")[1].startswith("2."):
            self.assertEqual(lines[1], "tls: 1.2 yes, 1.3 no")
        self.assertRegex(lines[2], r"^features: COMPRESS=DEFLATE \(zlib \d[\d.]*\), SASL .*SCRAM-SHA-256")
        self.assertEqual(len(lines), 3)

    def test_usage_error_exit_code(self):
        rc, out, err = run("--port", "notaport", "check", "x")
        self.assertEqual(rc, 2)
        self.assertEqual(out, "")
        self.assertIn("imapsh: --port: 'notaport' is not a number from 1 to 65535", err)
        rc, out, err = run("--no-such-option")
        self.assertEqual(rc, 2)
        self.assertIn("unknown option '--no-such-option'", err)


class NoSecretInArgv(unittest.TestCase):
    """No documented usage puts a password or token on the command line."""

    def documented_lines(self):
        """Every imapsh invocation shown in README.md, the man page, --help
        and the demo script."""
        texts = []
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
            texts.append(f.read())
        texts.append(man_text().replace("\\fB", "").replace("\\fR", "").replace("\\fI", ""))
        texts.append(run("--help")[1])
        with open(os.path.join(ROOT, "tests", "demo.sh"), encoding="utf-8") as f:
            texts.append(f.read())
        lines = [ln for t in texts for ln in t.splitlines() if re.search(r"\bimapsh\b", ln)]
        self.assertGreater(len(lines), 30)
        return lines

    def test_no_password_option_exists(self):
        _, out, _ = run("--help")
        opts = set(re.findall(r"(--[a-z][a-z0-9-]+)", out))
        secretish = sorted(o for o in opts
                           if re.search(r"pass|secret|token|cred", o) and
                           not o.endswith("-command"))
        self.assertEqual(secretish, [], "an option that would take a secret in argv")
        for opt in ("--password", "--pass", "--token", "--oauth-token"):
            rc, out, err = run(opt, "hunter2", "capability")
            self.assertEqual(rc, 2, (opt, err))
            self.assertIn("unknown option", err)

    def test_no_password_in_a_url(self):
        rc, out, err = run("imaps://alice:hunter2@localhost", "capability")
        self.assertEqual((rc, out), (2, ""), err)
        self.assertIn("a password in the URL is not accepted", err)
        self.assertNotIn("hunter2", err)

    def test_examples_take_secrets_from_elsewhere(self):
        for ln in self.documented_lines():
            # user:password@host in a URL or target
            self.assertNotRegex(ln, r"://[^/\s:@]+:[^/\s@]+@", ln)
            # an option followed by a literal secret (only *-command options take one)
            self.assertNotRegex(ln, r"--(password|pass|token|secret)(?!-command)[= ]", ln)
            # -c / batch lines that log in with the password inline
            self.assertNotRegex(ln.upper(), r"QUOTE\s+'?(LOGIN|AUTHENTICATE)\s+\S+\s+\S+", ln)


if __name__ == "__main__":
    unittest.main()


class NoSystemDeviceInTests(unittest.TestCase):
    """Tests make their own device nodes and files (mknod, an empty file of
    their own): none opens /dev/null, /dev/full or another of the system's,
    and none is handed one by subprocess's DEVNULL or os's devnull."""

    USE = re.compile(r"""subprocess\.DEVNULL|os\.devnull|["'][^"'\s]*/dev/(?!shm\b)\w+"""
                     r"""|[<>]&?\s*/dev/\w+""")

    def test_no_test_uses_a_system_device(self):
        bad = []
        for top in ("tests", ".ci"):
            for d, dirs, files in os.walk(os.path.join(ROOT, top)):
                dirs[:] = [x for x in dirs if x not in ("corpus", "data")]
                for name in files:
                    if not name.endswith((".py", ".sh", ".c")) and name not in ("run",):
                        continue
                    path = os.path.join(d, name)
                    with open(path, encoding="utf-8", errors="replace") as f:
                        for no, line in enumerate(f, 1):
                            if self.USE.search(line):
                                bad.append("%s:%d: %s" % (os.path.relpath(path, ROOT), no,
                                                          line.strip()))
        self.assertEqual(bad, [], "\n".join(bad))
