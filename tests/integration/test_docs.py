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
        for code in range(0, 7):
            self.assertIn(".B %d\n" % code, text)

    def test_version(self):
        rc, out, _ = run("--version")
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"^imapsh \d+\.\d+\.\d+ \(mbedTLS \d+\.\d+\.\d+\)\n$")

    def test_usage_error_exit_code(self):
        rc, out, err = run("--port", "notaport", "check", "x")
        self.assertEqual(rc, 2)
        self.assertEqual(out, "")
        self.assertIn("imapsh: --port: 'notaport' is not a port number", err)
        rc, out, err = run("--no-such-option")
        self.assertEqual(rc, 2)
        self.assertIn("unknown option '--no-such-option'", err)


if __name__ == "__main__":
    unittest.main()
