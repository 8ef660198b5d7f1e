"""Installed like a real tool: `cmake --install` lays out the binary, the
man page, bash and zsh completion, README and licence; CPack builds a
Debian package whose dependencies this Debian 12 machine satisfies, which
dpkg installs (into a private root, never the system's) and which then
runs and has its man page.  A build against unpacked mbedTLS packages
(tests/compat/mbedtls36.sh: Debian 13's 3.6, whose runtime packages need
only what Debian 12 has) names them in IMAPSH_DEB_TLS_DEBS; the package
depends on them and they are installed beside it.  The completion scripts are driven by bash and
zsh themselves."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness as h

BUILD = os.environ.get("IMAPSH_BUILD_DIR", "")


def run(cmd, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.STDOUT)
    kw.setdefault("timeout", 300)
    return subprocess.run(cmd, **kw)


def tls_debs():
    """The unpacked mbedTLS runtime packages the build links against (its
    CMake cache's IMAPSH_DEB_TLS_DEBS), or [] for the system's."""
    with open(os.path.join(BUILD, "CMakeCache.txt"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("IMAPSH_DEB_TLS_DEBS:"):
                value = line.split("=", 1)[1].strip()
                return [d for d in value.split(";") if d]
    return []


def commands_from_help():
    """Command names as `imapsh --help` lists them (from the command table)."""
    rc, out, err = h.run_imapsh(["--help"])
    text = out.decode()
    body = text.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return {line.split()[0] for line in body.splitlines() if line.strip()}


class Install(unittest.TestCase):
    def setUp(self):
        self.assertTrue(BUILD and os.path.isfile(os.path.join(BUILD, "CMakeCache.txt")),
                        "IMAPSH_BUILD_DIR must name the build folder")
        self.tmp = tempfile.mkdtemp(prefix="imapsh-pkg-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_cmake_install_layout(self):
        dest = os.path.join(self.tmp, "dest")
        p = run(["cmake", "--install", BUILD, "--prefix", "/usr"],
                env=dict(os.environ, DESTDIR=dest))
        self.assertEqual(p.returncode, 0, p.stdout)
        for f in ("usr/bin/imapsh", "usr/share/man/man1/imapsh.1",
                  "usr/share/bash-completion/completions/imapsh",
                  "usr/share/zsh/vendor-completions/_imapsh",
                  "usr/share/doc/imapsh/README.md", "usr/share/doc/imapsh/COPYING"):
            self.assertTrue(os.path.isfile(os.path.join(dest, f)), f)
        self.assertTrue(os.access(os.path.join(dest, "usr/bin/imapsh"), os.X_OK))

    def test_deb_installs_and_runs(self):
        p = run(["cpack", "-G", "DEB", "-B", os.path.join(self.tmp, "out")], cwd=BUILD)
        self.assertEqual(p.returncode, 0, p.stdout)
        debs = [f for f in os.listdir(os.path.join(self.tmp, "out")) if f.endswith(".deb")]
        self.assertEqual(len(debs), 1, debs)
        deb = os.path.join(self.tmp, "out", debs[0])
        depends = run(["dpkg-deb", "-f", deb, "Depends"]).stdout.decode()
        # libcurl4: opened at run time (dlopen), named by hand
        for lib in ("libmbedtls", "libreadline8", "libinih1", "zlib1g", "libc6", "libcurl4"):
            self.assertIn(lib, depends)
        # dpkg in a private root whose package database is a copy of this
        # machine's, so the dependencies are checked for real
        root = os.path.join(self.tmp, "root")
        admin = os.path.join(root, "var", "lib", "dpkg")
        for d in ("updates", "info", "triggers"):
            os.makedirs(os.path.join(admin, d))
        shutil.copyfile("/var/lib/dpkg/status", os.path.join(admin, "status"))
        extra = tls_debs()
        for d in extra:
            name = run(["dpkg-deb", "-f", d, "Package"]).stdout.decode().strip()
            self.assertRegex(depends, r"(^|, )%s \(>= " % re.escape(name))
        p = run(["dpkg", "--root=" + root, "--force-not-root", "--force-script-chrootless",
                 "--log=" + os.path.join(self.tmp, "dpkg.log"), "-i"] + extra + [deb])
        self.assertEqual(p.returncode, 0, p.stdout)
        p = run(["dpkg-query", "--admindir=" + admin, "-W", "-f=${Status}", "imapsh"])
        self.assertEqual(p.stdout.decode(), "install ok installed")
        binary = os.path.join(root, "usr", "bin", "imapsh")
        env = dict(os.environ)
        if extra:
            # the mbedTLS installed beside it, not the build's rpath (stripped)
            arch = run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"]).stdout.decode().strip()
            env["LD_LIBRARY_PATH"] = os.path.join(root, "usr", "lib", arch)
        p = run([binary, "--version"], env=env)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertRegex(p.stdout.decode(), r"^imapsh \d+\.\d+\.\d+ \(mbedTLS ")
        rc, out, err = h.run_imapsh(["--version"])
        self.assertEqual(p.stdout.splitlines()[0], out.splitlines()[0])
        env = dict(os.environ, MANPATH=os.path.join(root, "usr", "share", "man"),
                   MANPAGER="cat", PAGER="cat", MANWIDTH="80")
        p = run(["man", "imapsh"], env=env)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn(b"imapsh", p.stdout)
        self.assertIn(b"SECURITY", p.stdout)
        # apt on this machine would take the package with its dependencies
        p = run(["apt-get", "install", "--simulate", "--no-install-recommends"] + extra + [deb])
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertRegex(p.stdout.decode(), r"(?m)^Inst imapsh ")


class Completion(unittest.TestCase):
    def setUp(self):
        self.home = h.fresh_home()
        self.addCleanup(self.home.cleanup)
        self.home.write_config("default = work\n[account work]\nhost = a.example\n"
                               "[account home]  # mine\nhost = b.example\n")
        self.scripts = {}
        for shell in ("bash", "zsh"):
            rc, out, err = h.run_imapsh(["--completion", shell])
            self.assertEqual(rc, 0, err)
            path = os.path.join(self.home.root, "completion." + shell)
            with open(path, "wb") as f:
                f.write(out)
            self.scripts[shell] = path

    def bash(self, *words):
        """COMPREPLY for the command line `words` (the last is being typed)."""
        script = ('source %s\nCOMP_WORDS=(%s)\nCOMP_CWORD=%d\n_imapsh\n'
                  'printf "%%s\\n" "${COMPREPLY[@]}"\n'
                  % (self.scripts["bash"], " ".join("'%s'" % w for w in words), len(words) - 1))
        p = run(["bash", "--norc", "--noprofile", "-c", script],
                env=h.base_env(self.home), stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, 0, p.stderr)
        return [l for l in p.stdout.decode().splitlines() if l]

    def zsh(self, *words):
        """What the zsh completion offers (compadd stubbed to print)."""
        script = ('compadd() { [[ $1 == -- ]] && shift; print -rl -- "$@"; }\n'
                  '_files() { print -r -- "<files $*>"; }\ncompdef() { :; }\n'
                  'source %s\nwords=(%s)\nCURRENT=%d\n_imapsh\n'
                  % (self.scripts["zsh"], " ".join("'%s'" % w for w in words), len(words)))
        p = run(["zsh", "-f", "-c", script], env=h.base_env(self.home), stderr=subprocess.PIPE)
        # the status is zsh's "matches or not"; errors would show on stderr
        self.assertEqual(p.stderr, b"")
        return [l for l in p.stdout.decode().splitlines() if l]

    def test_bash_commands_match_the_command_table(self):
        offered = set(self.bash("imapsh", ""))
        cmds = commands_from_help()
        self.assertGreater(len(cmds), 30)
        self.assertTrue(cmds <= offered, cmds - offered)
        self.assertIn("work", offered)
        self.assertIn("home", offered)
        self.assertEqual(self.bash("imapsh", "lis"), ["list"])
        p = run(["bash", "--norc", "-c", "source %s; complete -p imapsh" % self.scripts["bash"]])
        self.assertIn(b"complete -F _imapsh imapsh", p.stdout)

    def test_bash_options_and_values(self):
        self.assertEqual(self.bash("imapsh", "--tls"), ["--tls-min"])
        self.assertEqual(sorted(self.bash("imapsh", "--tls-min", "")), ["1.2", "1.3"])
        self.assertEqual(sorted(self.bash("imapsh", "-a", "")), ["home", "work"])
        self.assertEqual(self.bash("imapsh", "check", "--nag"), ["--nagios"])
        # a command's own options only after that command
        self.assertEqual(self.bash("imapsh", "--nag"), [])
        # after a command no command names; after an option's value no guess
        self.assertEqual(self.bash("imapsh", "list", "fo"), [])
        self.assertEqual(self.bash("imapsh", "--port", "li"), [])
        # an option's value is not taken for the command
        self.assertEqual(self.bash("imapsh", "-a", "list", "check", "--nag"), ["--nagios"])

    def test_bash_every_global_option_is_accepted(self):
        opts = [o for o in self.bash("imapsh", "-") if o.startswith("--")]
        self.assertIn("--cacert", opts)
        for o in opts:
            rc, out, err = h.run_imapsh([o, "--help"] if o not in self.takes_value()
                                        else [o, "x", "--help"])
            self.assertNotIn(b"unknown option", err, o)

    def takes_value(self):
        p = run(["bash", "--norc", "-c",
                 "source %s; echo $_imapsh_options_arg" % self.scripts["bash"]])
        return set(p.stdout.decode().split())

    def test_zsh(self):
        p = run(["zsh", "-n", self.scripts["zsh"]])
        self.assertEqual(p.returncode, 0, p.stdout)
        offered = set(self.zsh("imapsh", ""))
        self.assertTrue(commands_from_help() <= offered)
        self.assertIn("work", offered)
        self.assertEqual(self.zsh("imapsh", "--tls-min", ""), ["1.2", "1.3"])
        self.assertEqual(self.zsh("imapsh", "--ca-file", ""), ["<files >"])
        self.assertIn("--nagios", self.zsh("imapsh", "check", "-"))
        self.assertNotIn("--nagios", self.zsh("imapsh", "-"))
        self.assertEqual(self.zsh("imapsh", "list", "x"), [])

    def test_completion_usage(self):
        rc, out, err = h.run_imapsh(["--completion", "fish"])
        self.assertEqual(rc, 2)
        self.assertIn(b"expected bash or zsh", err)
