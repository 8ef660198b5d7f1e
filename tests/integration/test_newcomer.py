"""A new user's first hour: a mistyped command is a usage error, never a
quiet success; every config block the README and the man page show loads
as pasted; config mistakes are reported with the file, the line and the
next step."""
import json
import os
import re
import shlex
import socket
import subprocess
import time

import harness as h

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def readme_ini_blocks():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    return re.findall(r"```ini\n(.*?)```", text, re.S)


def man_config_blocks():
    """The .nf/.fi blocks of the man page that hold an [account ...] section,
    with roff escapes undone as man(1) shows them."""
    with open(os.path.join(ROOT, "man", "imapsh.1"), encoding="utf-8") as f:
        text = f.read()
    blocks = re.findall(r"^\.nf\n(.*?)^\.fi\n", text, re.S | re.M)
    return [b.replace("\\-", "-").replace("\\e", "\\") for b in blocks if "[account " in b]


class Typos(h.TestbedCase):
    def usage_error(self, rc, err, word, near=None):
        self.assertEqual(rc, 2, err)
        text = err.decode()
        self.assertIn("'%s'" % word, text)
        if near:
            self.assertIn("did you mean '%s'?" % near, text)

    def test_typo_alone_is_a_usage_error(self):
        rc, out, err = self.imapsh("lsit")
        self.usage_error(rc, err, "lsit", "list")
        self.assertEqual(out, b"")

    def test_typo_with_arguments_names_the_word_not_the_argument(self):
        rc, out, err = self.imapsh("lsit", "1:5")
        self.usage_error(rc, err, "lsit", "list")
        self.assertNotIn(b"1:5", err)

    def test_typo_with_account_is_an_unknown_command(self):
        self.home.write_config("[account test]\nhost = imap.example.test\n")
        rc, out, err = self.imapsh("-a", "test", "lsit")
        self.usage_error(rc, err, "lsit", "list")
        self.assertIn(b"unknown command", err)
        # a word that looks like a host is still a command after -a
        rc, out, err = self.imapsh("-a", "test", "imap.example.test", "list")
        self.assertEqual(rc, 2, err)
        self.assertIn(b"unknown command 'imap.example.test'", err)

    def test_typo_with_default_account_is_an_unknown_command(self):
        self.home.write_config("default = test\n[account test]\nhost = imap.example.test\n")
        rc, out, err = self.imapsh("fetc", "3")
        self.usage_error(rc, err, "fetc", "fetch")
        self.assertIn(b"unknown command", err)

    def test_alias_typo_suggests_the_command(self):
        rc, out, err = self.imapsh("qiut")
        self.usage_error(rc, err, "qiut", "logout")

    def test_far_word_gets_no_suggestion(self):
        rc, out, err = self.imapsh("zzzzzzzz")
        self.assertEqual(rc, 2, err)
        self.assertNotIn(b"did you mean", err)
        self.assertIn(b"zzzzzzzz:993", err, "the error says how to write a bare host")

    def test_hosts_and_accounts_are_still_targets(self):
        # each of these is taken as a server, so the error is the network's (3)
        port = closed_port()
        for word in ("127.0.0.1:%d" % port, "localhost:%d" % port,
                     "imaps://127.0.0.1:%d" % port, "bob@127.0.0.1:%d" % port):
            rc, out, err = self.imapsh("--timeout", "5", word, "capability")
            self.assertEqual(rc, 3, (word, err))
        rc, out, err = self.imapsh("--timeout", "5", "-p", str(port), "localhost", "capability")
        self.assertEqual(rc, 3, err)
        self.home.write_config("[account work]\nhost = 127.0.0.1\nport = %d\n" % port)
        rc, out, err = self.imapsh("--timeout", "5", "work", "capability")
        self.assertEqual(rc, 3, err)

    def test_the_shell_is_not_opened_for_a_typo(self):
        # without input a target alone would run a batch of nothing (exit 0)
        rc, out, err = self.imapsh("lsit", input="capability\n")
        self.assertEqual(rc, 2, err)


class ConfigBlocks(h.TestbedCase):
    def test_readme_and_man_blocks_load_as_pasted(self):
        blocks = readme_ini_blocks() + man_config_blocks()
        self.assertGreaterEqual(len(readme_ini_blocks()), 1)
        self.assertGreaterEqual(len(man_config_blocks()), 1)
        for text in blocks:
            path = self.home.write_config(text)
            rc, out, err = self.imapsh("--config", path, "help")
            self.assertEqual((rc, err), (0, b""), text)
            names = re.findall(r"^\s*\[account (\S+)\]", text, re.M)
            for name in names:
                rc, out, err = self.imapsh("--config", path, "-a", name, "help")
                self.assertEqual((rc, err), (0, b""), (name, text))

    def test_readme_block_logs_in_with_its_comments(self):
        """The README's block, comments and all, pointed at the test bed."""
        text = readme_ini_blocks()[0]
        pw = self.env["users"]["alice"]["password"]
        host, port = self.env["resolve"]["imaps"].split(":")[:2]
        text = re.sub(r"(?m)^host = .*?(\s+#.*)?$", r"host = %s\1" % host, text)
        text = re.sub(r"(?m)^user = .*", "user = alice    # the login name", text)
        text = re.sub(r"(?m)^password-command = .*",
                      "password-command = printf '%%s\\\\n' %s   ; from a store"
                      % shlex.quote(pw), text)
        text = text.replace("[account work]\n", "[account work]\nport = %s\n" % port)
        self.assertIn("# COMPRESS=DEFLATE", text)
        path = self.home.write_config(text)
        rc, out, err = self.imapsh(*h.imaps_args(), "--config", path, "capability")
        self.assertEqual(rc, 0, err)
        self.assertIn(b"IMAP4rev1", out)

    def test_indented_block_is_read_as_written(self):
        path = self.home.write_config("  [account work]\n    host = imap.example.test\n"
                                      "    port = 993\n")
        rc, out, err = self.imapsh("--config", path, "-a", "work", "help")
        self.assertEqual((rc, err), (0, b""))


class ConfigErrors(h.TestbedCase):
    def check(self, text, *want):
        path = self.home.write_config(text)
        rc, out, err = self.imapsh("--config", path, "capability")
        self.assertEqual(rc, 2, err)
        msg = err.decode()
        for w in want:
            self.assertIn(w, msg)
        return msg

    def test_unknown_key_is_told_from_a_bad_value(self):
        msg = self.check("[account work]\nhost = a.example\npasswrd-command = x\n",
                         "config:3:", "unknown key 'passwrd-command' in [account work]",
                         "did you mean 'password-command'?")
        self.assertNotIn("bad value", msg)
        self.check("[account work]\nport = 4O763\n", "config:2:", "port: '4O763'",
                   "is not a port number")
        self.check("[account work]\ntls = ssl\n", "config:2:", "tls: 'ssl'", "imaps or starttls")
        self.check("[account work]\ncompress = maybe\n", "config:2:", "auto, yes or no")
        self.check("[account work]\npin = abc\n", "config:2:", "sha256//")

    def test_broken_section_header(self):
        self.check("default = w\n\n[account work\nhost = a.example\n", "config:3:",
                   "section header without its closing ']'")
        self.check("[acount work]\nhost = a.example\n", "config:1:", "unknown section [acount work]",
                   "[account NAME]")

    def test_key_outside_a_section_and_other_lines(self):
        self.check("port = 993\n", "config:1:", "'port' belongs in a [defaults]")
        self.check("defualt = work\n", "config:1:", "did you mean 'default'?")
        self.check("[account work]\nhost imap.example.test\n", "config:2:", "KEY = VALUE")

    def test_nul_and_long_lines_are_refused_not_cut(self):
        path = self.home.write_config("[account work]\nhost = x\n")
        with open(path, "wb") as f:
            f.write(b"[account work]\nhost = a.example\x00.evil\n")
        rc, out, err = self.imapsh("--config", path, "capability")
        self.assertEqual(rc, 2, err)
        self.assertIn(b"config:2: a NUL byte", err)
        self.check("[account work]\npassword-command = " + "x" * 300 + "\n", "config:2:",
                   "longer than")


class ScriptsAndCurlNames(h.TestbedCase):
    def run_(self, *args, **kw):
        kw.setdefault("env", h.password_env("alice"))
        return self.imapsh(*args, **kw)

    def test_repeated_c_runs_every_one_in_order(self):
        has_id = h.offers("ID")
        rc, out, err = self.run_(*h.imaps_args(), "--trace", h.target("alice"),
                                 "-c", "capability", "-c", "namespace; id" if has_id else "namespace")
        self.assertEqual(rc, 0, err)
        text = out.decode()
        self.assertLess(text.index("IMAP4rev1"), text.index("personal"))
        if has_id:
            self.assertLess(text.index("personal"), text.index(h.server_title()))
        self.assertEqual(err.count(b"* OK [CAPABILITY"), 1, "one connection for all")
        # a failure stops the rest and says which -c; --keep-going goes on
        rc, out, err = self.run_(*h.imaps_args(), h.target("alice"),
                                 "-c", "quote FROBNICATE", "-c", "namespace")
        self.assertEqual(rc, 1, err)
        self.assertRegex(err, rb"imapsh: -c #1: quote: the server said (BAD|NO)")
        self.assertNotIn(b"personal", out)
        rc, out, err = self.run_(*h.imaps_args(), "--keep-going", h.target("alice"),
                                 "-c", "quote FROBNICATE", "-c", "namespace")
        self.assertEqual(rc, 1, err)
        self.assertIn(b"personal", out)

    def test_curl_option_names(self):
        ca = self.env["ca_file"]
        resolve = self.env["resolve"]["imaps"]
        rc, out, err = self.run_("--cacert", ca, "--resolve", resolve, "--connect-timeout",
                                 "20", h.target("alice"), "capability")
        self.assertEqual(rc, 0, err)
        self.assertIn(b"IMAP4rev1", out)
        rc, out, err = self.run_("--cacert", ca, "--resolve", resolve, "--connect-timeout",
                                 "zero", h.target("alice"), "capability")
        self.assertEqual(rc, 2, err)

    def test_resolve_wildcard_host(self):
        host, port, addr = self.env["resolve"]["imaps"].split(":", 2)
        rc, out, err = self.run_("--ca-file", self.env["ca_file"], "--resolve",
                                 "*:%s:%s" % (port, addr), h.target("alice"), "capability")
        self.assertEqual(rc, 0, err)
        self.assertIn(b"IMAP4rev1", out)
        # a wildcard for another port does not apply: the name is looked up and fails
        rc, out, err = self.run_("--timeout", "5", "--ca-file", self.env["ca_file"], "--resolve",
                                 "*:1:%s" % addr, h.target("alice"), "capability")
        self.assertEqual(rc, 3, err)

    def test_version_lists_what_the_build_enables(self):
        rc, out, err = self.imapsh("--version")
        self.assertEqual(rc, 0, err)
        self.assertIn(b"tls: 1.2 yes, 1.3 ", out)
        self.assertIn(b"COMPRESS=DEFLATE (zlib ", out)
        self.assertIn(b"SCRAM-SHA-256", out)
        for word in (b"SCRAM-SHA-1 ", b"SCRAM-SHA-256-PLUS", b"OAuth 2.0 login", b"--share"):
            self.assertIn(word, out)

    def test_a_one_shot_start_does_not_load_libcurl(self):
        """HTTPS (setup, the OAuth login) opens libcurl when it is first
        needed: linked, it and its libraries cost every start 20 ms and
        5 MB.  The dynamic loader's own log names each file it loads
        (the binary is run bare here: a wrapper's loader would log too)."""
        env = h.base_env()
        env["LD_DEBUG"] = "files"
        p = subprocess.run([os.environ["IMAPSH_BIN"], "--version"], input=b"",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        loaded = set(re.findall(rb"file=(\S+)", p.stderr))
        self.assertTrue(any(f.startswith(b"libmbedtls") for f in loaded), loaded)
        self.assertFalse([f for f in loaded if b"curl" in f or b"gnutls" in f], loaded)


@h.needs_capability("SPECIAL-USE")
class FolderRoles(h.TestbedCase):
    """:sent, :trash... name the folder the server marks with that role."""

    def run_(self, *args):
        return self.imapsh(*h.imaps_args(), h.target("alice"), *args,
                           env=h.password_env("alice"))

    def test_roles_in_commands_and_select(self):
        rc, out, err = self.run_("status", ":sent")
        self.assertEqual(rc, 0, err)
        rc2, out2, err2 = self.run_("status", h.folder("Sent"))
        self.assertEqual(rc2, 0, err2)
        # the same folder: the same uidvalidity and counts
        want = [l for l in out2.decode().splitlines() if not l.startswith("name")]
        got = [l for l in out.decode().splitlines() if not l.startswith("name")]
        self.assertEqual(got, want)
        self.assertIn(b"name\t%s\n" % h.folder("Sent").encode(), out)
        rc, out, err = self.run_("-f", ":trash", "-c", "status")
        self.assertEqual(rc, 0, err)
        self.assertIn(b"name\t%s" % h.folder("Trash").encode(), out,
                      "the selected folder is shown by its own name")
        rc, out, err = self.run_("--json", "list", "1:*", "-f", ":inbox")
        self.assertEqual(rc, 0, err)

    def test_unknown_and_missing_roles(self):
        rc, out, err = self.run_("status", ":sentt")
        self.assertEqual(rc, 2, err)
        self.assertIn(b"no such folder role", err)
        self.assertIn(b"'::sentt'", err)
        rc, out, err = self.run_("status", ":flagged")
        self.assertEqual(rc, 1, err)
        self.assertIn(b"\\Flagged role", err)
        # '::x' is the folder named ':x', sent as such
        rc, out, err = self.run_("--trace", "status", "::x")
        self.assertEqual(rc, 1, err)
        self.assertRegex(err, rb'C: \S+ STATUS ":x"|C: \S+ STATUS :x')

    def test_roles_complete_in_the_shell(self):
        from test_shell import Pty
        env = h.base_env(self.home)
        env["TERM"] = "xterm"
        env.update(h.password_env("alice"))
        p = Pty(list(h.imaps_args()) + [h.target("alice")], env)
        self.addCleanup(p.close)
        p.read_until(rb"imap\.example\.test> $")
        p.send("select :se\t")
        p.read_until(rb"select :sent $")
        p.send("\r")
        p.read_until(rb"alice@imap\.example\.test:%s> $" % re.escape(h.folder("Sent").encode()))
        p.send("logout\r")
        p.read_until(rb"logout[\s\S]*> $")
        p.send("\x04")
        self.assertEqual(p.wait_exit(), 0)


class WrongKindOfPort(h.TestbedCase):
    """imaps:// on the STARTTLS port, imap:// on the TLS port: recognised
    at once, with the URL to use, not a record error or a 60 s wait."""

    def test_tls_expected_plaintext_found(self):
        port = self.env["ports"]["starttls"]
        t0 = time.monotonic()
        rc, out, err = self.imapsh("--timeout", "60", "imaps://127.0.0.1:%d" % port,
                                   "capability")
        took = time.monotonic() - t0
        self.assertEqual(rc, 4, err)
        self.assertIn(b"speaks plaintext IMAP, not TLS", err)
        self.assertIn(b"use imap://127.0.0.1:%d or --starttls" % port, err)
        self.assertIn(b'it greets "* OK', err)
        self.assertLess(took, 30)

    def test_plaintext_expected_tls_found(self):
        port = self.env["ports"]["imaps"]
        t0 = time.monotonic()
        rc, out, err = self.imapsh("--timeout", "60", "imap://127.0.0.1:%d" % port,
                                   "capability")
        took = time.monotonic() - t0
        self.assertEqual(rc, 4, err)
        self.assertIn(b"speaks TLS from the first byte", err)
        self.assertIn(b"use imaps://127.0.0.1:%d" % port, err)
        self.assertLess(took, 30, "not the 60 s timeout")
        # --starttls on a URL without a scheme: the same words
        rc, out, err = self.imapsh("--timeout", "60", "--starttls", "-p", str(port),
                                   "127.0.0.1", "capability")
        self.assertEqual(rc, 4, err)
        self.assertIn(b"speaks TLS from the first byte", err)

    def test_check_says_it_too(self):
        port = self.env["ports"]["starttls"]
        rc, out, err = self.imapsh("check", "127.0.0.1:%d" % port)
        self.assertEqual(rc, 2, (out, err))
        self.assertIn(b"speaks plaintext IMAP", out + err)


class JsonErrors(h.TestbedCase):
    """With --json a failure is one JSON object on stdout too."""

    def error_of(self, out):
        d = json.loads(out)
        self.assertEqual(set(d), {"error"})
        return d["error"]

    def test_usage_network_and_server_errors(self):
        rc, out, err = self.imapsh("--json", "lsit")
        self.assertEqual(rc, 2)
        e = self.error_of(out)
        self.assertEqual((e["kind"], e["exit"]), ("usage", 2))
        self.assertIn("did you mean 'list'", e["message"])
        self.assertIn(b"did you mean", err, "the words stay on stderr")
        rc, out, err = self.imapsh("--json", "--timeout", "5", "127.0.0.1:%d" % closed_port(),
                                   "capability")
        self.assertEqual(rc, 3)
        self.assertEqual(self.error_of(out)["kind"], "network")
        rc, out, err = self.imapsh("--json", *h.imaps_args(), h.target("alice"), "namespace",
                                   env={"IMAPSH_PASSWORD": "wrong"})
        self.assertEqual(rc, 5)
        self.assertEqual(self.error_of(out)["kind"], "auth")

    def test_batch_errors_are_json_lines_with_their_place(self):
        rc, out, err = self.imapsh("--json", *h.imaps_args(), h.target("alice"), "--keep-going",
                                   input="capability\nstatus NoSuchFolder\nnamespace\n",
                                   env=h.password_env("alice"))
        self.assertEqual(rc, 1, err)
        docs = []
        dec = json.JSONDecoder()
        text = out.decode().strip()
        while text:
            d, i = dec.raw_decode(text)
            docs.append(d)
            text = text[i:].strip()
        self.assertEqual(len(docs), 3, docs)
        self.assertIsInstance(docs[0], list)  # capability
        self.assertEqual(docs[1]["error"]["where"], "stdin:2")
        self.assertEqual(docs[1]["error"]["kind"], "no")
        self.assertEqual(docs[1]["error"]["exit"], 1)
        self.assertIn("personal", docs[2])  # namespace, after the failure


class ConfigFileKinds(h.TestbedCase):
    def test_fifo_config_is_refused_at_once(self):
        path = os.path.join(self.home.root, "fifo-config")
        os.mkfifo(path)
        rc, out, err = self.imapsh("--config", path, "help", timeout=20)
        self.assertEqual(rc, 2, err)
        self.assertIn(b"not a regular file", err)

    def test_symlinked_config_is_read(self):
        real = os.path.join(self.home.root, "dotfiles-config")
        with open(real, "w") as f:
            f.write("[account work]\nhost = imap.example.test\n")
        link = os.path.join(self.home.root, "linked-config")
        os.symlink(real, link)
        rc, out, err = self.imapsh("--config", link, "-a", "work", "help")
        self.assertEqual((rc, err), (0, b""))


class TlsNextStep(h.TestbedCase):
    """Every TLS refusal ends with the next step, as a command to copy."""

    def spki(self):
        rc, out, err = self.imapsh(*h.imaps_args(), "--json", "cert", h.target())
        self.assertEqual(rc, 0, err)
        return "sha256//" + json.loads(out)["chain"][0]["spki_sha256"]

    def host_port(self):
        return "imap.example.test:%d" % self.env["ports"]["imaps"]

    def test_untrusted_issuer_names_ca_file_pin_and_trust_add(self):
        pin = self.spki()
        rc, out, err = self.imapsh("--resolve", self.env["resolve"]["imaps"], h.target(),
                                   "capability")
        self.assertEqual(rc, 4, err)
        text = err.decode()
        self.assertIn("; next: ", text)
        self.assertIn("--ca-file", text)
        self.assertIn("--pin %s" % pin, text)
        self.assertIn("'imapsh trust add %s %s'" % (self.host_port(), pin), text)
        # the command it names works
        rc, out, err = self.imapsh("trust", "add", self.host_port(), pin)
        self.assertEqual(rc, 0, err)
        rc, out, err = self.imapsh("--resolve", self.env["resolve"]["imaps"], h.target("alice"),
                                   "capability", env=h.password_env("alice"))
        self.assertEqual(rc, 0, err)

    def test_changed_key_names_known_hosts_line_and_trust_rm(self):
        os.makedirs(os.path.dirname(self.home.known_hosts), exist_ok=True)
        with open(self.home.known_hosts, "w") as f:
            f.write("# my servers\n\n%s sha256//%s\n" % (self.host_port(), "A" * 43 + "="))
        rc, out, err = self.imapsh(*h.imaps_args(), h.target(), "capability")
        self.assertEqual(rc, 4, err)
        text = err.decode()
        self.assertIn("at %s:3 no longer matches" % self.home.known_hosts, text)
        self.assertIn("'imapsh trust rm %s'" % self.host_port(), text)
        rc, out, err = self.imapsh("trust", "rm", self.host_port())
        self.assertEqual(rc, 0, err)
        rc, out, err = self.imapsh(*h.imaps_args(), h.target("alice"), "capability",
                                   env=h.password_env("alice"))
        self.assertEqual(rc, 0, err)

    def test_wrong_name_and_cert_command(self):
        port = self.env["ports"]["imaps"]
        rc, out, err = self.imapsh("--ca-file", self.env["ca_file"], "--resolve",
                                   "other.example.test:%d:127.0.0.1" % port,
                                   "other.example.test:%d" % port, "capability")
        self.assertEqual(rc, 4, err)
        self.assertIn(b"next: connect with a name the certificate holds ('imapsh cert "
                      b"other.example.test:%d' shows the chain)" % port, err)
        rc, out, err = self.imapsh("--resolve", self.env["resolve"]["imaps"], "cert",
                                   h.target())
        self.assertEqual(rc, 4, err)
        self.assertIn(b"; next: if you trust the authority", err)


class JsonFieldShapes(h.TestbedCase):
    """The same field has the same shape in every command."""

    def run_json(self, *args):
        rc, out, err = self.imapsh("--json", *h.imaps_args(), h.target("alice"), *args,
                                   env=h.password_env("alice"))
        self.assertEqual(rc, 0, err)
        return out.decode()

    def test_from_and_date_in_list_and_show(self):
        listed = [json.loads(l) for l in self.run_json("list", "1:3").splitlines()]
        for row in listed:
            shown = json.loads(self.run_json("show", str(row["uid"])))
            self.assertEqual(shown["date"], row["date"])
            self.assertEqual(shown["from"], row["from"])
            self.assertEqual(set(shown["from"]), {"name", "address"})
            self.assertRegex(shown["date"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")

    def test_tls_in_cert_and_check(self):
        cert = json.loads(self.run_json("cert"))
        rc, out, err = self.imapsh("--json", *h.imaps_args(), "check", h.target())
        self.assertEqual(rc, 0, err)
        check = json.loads(out)
        self.assertEqual(set(cert["tls"]), {"version", "cipher"})
        self.assertEqual(set(cert["tls"]), set(check["tls"]))
        self.assertEqual(cert["tls"]["version"], check["tls"]["version"])


class DotfileLinks(h.TestbedCase):
    def test_data_folder_may_be_a_link_to_the_users_own(self):
        """~/.local/share/imapsh as a dotfile manager's link: trust add works,
        and the file inside is still made through fsafe (mode 0600)."""
        real = os.path.join(self.home.root, "dotfiles", "imapsh-data")
        os.makedirs(real)
        os.symlink(real, os.path.join(self.home.data, "imapsh"))
        rc, out, err = self.imapsh("trust", "add", "imap.example.test:993",
                                   "sha256//" + "A" * 43 + "=")
        self.assertEqual(rc, 0, err)
        st = os.lstat(os.path.join(real, "known_hosts"))
        self.assertEqual(st.st_mode & 0o777, 0o600)


class SaveMakesItsFolder(h.TestbedCase):
    def test_save_o_dir_is_created(self):
        uid = next(m["uid"] for m in self.env["mail"]["alice"]["folders"]["INBOX"]["list"]
                   if m["subject"] == "Invoice with attachments")
        d = os.path.join(self.home.root, "new", "deeper")
        rc, out, err = self.imapsh(*h.imaps_args(), h.target("alice"), "-o", d, "save", str(uid),
                                   env=h.password_env("alice"))
        self.assertEqual(rc, 0, err)
        self.assertTrue(os.listdir(d))
        self.assertEqual(os.stat(d).st_mode & 0o777, 0o700)
