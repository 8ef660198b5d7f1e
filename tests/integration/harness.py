"""Shared helpers for imapsh's Python integration tests.

Environment (set by CMake for ctest's it.* tests):
    IMAPSH_TESTBED    the test bed DIR (tests/testbed/testbed.py start DIR)
    IMAPSH_BIN        the imapsh executable
    IMAPSH_WRAPPER    words put before it, e.g. "valgrind --error-exitcode=99 -q"
    IMAPSH_TEST_DATA  tests/data

    import harness as h
    env = h.testbed()                              # DIR/env.json as a dict
    rc, out, err = h.run_imapsh(h.imaps_args() + ["alice@imap.example.test", "folders"],
                                env={"IMAPSH_PASSWORD": env["users"]["alice"]["password"]})
    with h.fakeserver(h.CASES["preauth"]) as srv: ...     # or h.fake_case("preauth")
    with h.fresh_home() as home: ... home.env ...
"""

import base64
import contextlib
import hashlib
import hmac
import imaplib
import json
import os
import secrets
import shlex
import shutil
import ssl
import subprocess
import sys
import tempfile
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
TESTBED_SRC = os.path.join(os.path.dirname(HERE), "testbed")
sys.path.insert(0, TESTBED_SRC)
from fakeserver import CASES, FakeServer  # noqa: E402,F401

_ENV = None


def testbed():
    """The test bed's env.json (cached)."""
    global _ENV
    if _ENV is None:
        d = os.environ.get("IMAPSH_TESTBED")
        if not d:
            raise RuntimeError("IMAPSH_TESTBED is not set: run tests/testbed/testbed.py start DIR "
                               "and export IMAPSH_TESTBED=DIR")
        with open(os.path.join(d, "env.json"), encoding="utf-8") as f:
            _ENV = json.load(f)
    return _ENV


def server():
    """Which server the test bed runs: "dovecot", "cyrus" or "courier"."""
    return testbed().get("server", "dovecot")


SERVER_TITLES = {"dovecot": "Dovecot", "cyrus": "Cyrus", "courier": "Courier"}


def server_title():
    """The word the server's greeting and ID carry: Dovecot, Cyrus, Courier."""
    return SERVER_TITLES[server()]


def folder(name):
    """mailgen's folder name ("Archive/2026", "送信済み") as the test bed's
    server shows it: Dovecot "Archive/2026", Cyrus and Courier
    "INBOX.Archive.2026" (personal namespace "INBOX.", separator ".")."""
    env = testbed()
    if name == "INBOX":
        return name
    return env.get("prefix", "") + name.replace("/", env["separator"])


def dovecot_only(reason):
    """Marks a test (or class) that is about Dovecot's own behaviour or
    set-up (OAuth, EXTERNAL, its log, its folder layout...).  It runs
    against Dovecot; against Cyrus or Courier it is reported as skipped
    with "dovecot only: REASON", never silently."""
    def deco(obj):
        if isinstance(obj, type):
            orig = obj.setUp

            def setUp(self):
                if server() != "dovecot":
                    self.skipTest("dovecot only: " + reason)
                orig(self)
            obj.setUp = setUp
            return obj

        def wrapped(self, *a, **kw):
            if server() != "dovecot":
                self.skipTest("dovecot only: " + reason)
            return obj(self, *a, **kw)
        wrapped.__name__ = obj.__name__
        wrapped.__doc__ = obj.__doc__
        return wrapped
    return deco


def offers(cap):
    """True when the test bed's server lists cap after login."""
    return cap in testbed()["capabilities"]["after_login"]


def needs_capability(cap):
    """Marks a test (or class) about an extension: against a server that
    does not offer cap after login it is reported as skipped with the reason."""
    def deco(obj):
        def check(self):
            if not offers(cap):
                self.skipTest("needs %s, which %s does not offer" % (cap, server_title()))
        if isinstance(obj, type):
            orig = obj.setUp

            def setUp(self):
                check(self)
                orig(self)
            obj.setUp = setUp
            return obj

        def wrapped(self, *a, **kw):
            check(self)
            return obj(self, *a, **kw)
        wrapped.__name__ = obj.__name__
        wrapped.__doc__ = obj.__doc__
        return wrapped
    return deco


def data_dir():
    return os.environ.get("IMAPSH_TEST_DATA") or os.path.join(os.path.dirname(HERE), "data")


def wrapper():
    return shlex.split(os.environ.get("IMAPSH_WRAPPER", ""))


# Tests never use the system's device nodes (/dev/null and the like): a
# child's empty standard input is an empty file of our own, and output
# nobody reads goes to a file of our own, both in a private folder.
_PRIVATE = {}


def _private_file(name, mode):
    if name not in _PRIVATE:
        d = _PRIVATE.get("dir")
        if d is None:
            d = _PRIVATE["dir"] = tempfile.mkdtemp(prefix="imapsh-private-")
        _PRIVATE[name] = open(os.path.join(d, name), mode)
    return _PRIVATE[name]


def empty_input():
    """An empty file of our own, open for reading: end of file at once."""
    return _private_file("empty", "w+b")


def discard():
    """A file of our own for output nobody reads."""
    return _private_file("discard", "ab")


_ASAN = {}


def is_asan(binary):
    """Whether binary is built with AddressSanitizer (it holds __asan_init)."""
    if binary not in _ASAN:
        try:
            with open(binary, "rb") as f:
                _ASAN[binary] = b"__asan_init" in f.read()
        except OSError:
            _ASAN[binary] = False
    return _ASAN[binary]


def timeout_scale():
    """How much slower the binary runs (valgrind: ~20x; ASan: ~3x, and CI
    runs it beside other work)."""
    s = os.environ.get("IMAPSH_TIMEOUT_SCALE")
    if s:
        return float(s)
    if any("valgrind" in w for w in wrapper()):
        return 10.0
    binary = os.environ.get("IMAPSH_BIN")
    return 3.0 if binary and is_asan(binary) else 1.0


# ---------------------------------------------------------------- homes

class Home:
    """A temporary HOME with XDG directories, so a test never reads or
    writes the real user's config, history or known_hosts."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="imapsh-home-")
        self.home = self.root
        self.config = os.path.join(self.root, ".config")
        self.data = os.path.join(self.root, ".local", "share")
        self.state = os.path.join(self.root, ".local", "state")
        self.cache = os.path.join(self.root, ".cache")
        # a runtime folder of its own too (--share's sockets): never the
        # user's, nor the shared /tmp/imapsh-UID when none is set
        self.runtime = os.path.join(self.root, "run")
        for p in (self.config, self.data, self.state, self.cache):
            os.makedirs(p)
        os.makedirs(self.runtime, mode=0o700)
        self.env = {"HOME": self.home, "XDG_CONFIG_HOME": self.config,
                    "XDG_DATA_HOME": self.data, "XDG_STATE_HOME": self.state,
                    "XDG_CACHE_HOME": self.cache, "XDG_RUNTIME_DIR": self.runtime}

    @property
    def config_file(self):
        return os.path.join(self.config, "imapsh", "config")

    @property
    def known_hosts(self):
        return os.path.join(self.data, "imapsh", "known_hosts")

    @property
    def history(self):
        return os.path.join(self.state, "imapsh", "history")

    def write_config(self, text):
        os.makedirs(os.path.dirname(self.config_file), exist_ok=True)
        with open(self.config_file, "w", encoding="utf-8") as f:
            f.write(text)
        return self.config_file

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False


def fresh_home():
    """A Home; use as a context manager or call .cleanup()."""
    return Home()


# ---------------------------------------------------------------- running

# Variables a test run must not inherit from the developer's shell.
_SCRUB = ("IMAPSH_PASSWORD", "IMAPSH_CONFIG", "NETRC", "PAGER", "NO_COLOR", "LESS",
          "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME",
          "XDG_CONFIG_DIRS", "XDG_RUNTIME_DIR", "SSL_CERT_FILE", "SSL_CERT_DIR")


def base_env(home=None):
    e = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    e["LC_ALL"] = "C.UTF-8"
    e["TZ"] = "UTC"
    if home is not None:
        e.update(home.env)
    return e


def run_imapsh(args, input=None, env=None, timeout=60, home=None, cwd=None):
    """Run IMAPSH_BIN (after IMAPSH_WRAPPER's words) with args.  input is
    str or bytes for stdin (default: empty, never the terminal).  env
    entries are added to a scrubbed environment with a fresh HOME/XDG
    tree (or `home`'s).  Returns (rc, stdout bytes, stderr bytes)."""
    binary = os.environ.get("IMAPSH_BIN")
    if not binary:
        raise RuntimeError("IMAPSH_BIN is not set")
    own_home = None
    if home is None:
        home = own_home = Home()
    try:
        e = base_env(home)
        if env:
            for k, v in env.items():
                if v is None:
                    e.pop(k, None)
                else:
                    e[k] = v
        if isinstance(input, str):
            input = input.encode("utf-8")
        p = subprocess.run(wrapper() + [binary] + [str(a) for a in args],
                           input=input if input is not None else b"",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, cwd=cwd,
                           timeout=timeout * timeout_scale())
        return p.returncode, p.stdout, p.stderr
    finally:
        if own_home:
            own_home.cleanup()


def imaps_args(kind="imaps"):
    """Options to reach the test bed Dovecot by name: CA file + --resolve."""
    env = testbed()
    return ["--ca-file", env["ca_file"], "--resolve", env["resolve"][kind]]


def target(user=None, kind="imaps", mailbox=None):
    """imaps://alice@imap.example.test:PORT (or imap://... for kind="starttls")."""
    env = testbed()
    url = env["urls"][kind]
    if user:
        scheme, rest = url.split("://", 1)
        url = "%s://%s@%s" % (scheme, user, rest)
    if mailbox:
        url += "/" + mailbox
    return url


def password_env(user):
    return {"IMAPSH_PASSWORD": testbed()["users"][user]["password"]}


# ---------------------------------------------------------------- fake server

def fakeserver(script=None, **kw):
    """A started FakeServer (context manager); kwargs as FakeServer's.
    A dict from CASES may be passed as `script`."""
    if isinstance(script, dict):
        kw = dict({k: v for k, v in script.items() if k != "doc"}, **kw)
        script = kw.pop("script", None)
    kw.setdefault("testbed", os.environ.get("IMAPSH_TESTBED"))
    return FakeServer(script, **kw).start()


def fake_case(name, **kw):
    return fakeserver(CASES[name], **kw)


# ---------------------------------------------------------------- python IMAP

def ssl_context(cafile=None):
    return ssl.create_default_context(cafile=cafile or testbed()["ca_file"])


def imap_connect(kind="imaps", host="localhost"):
    """A python imaplib connection to the test bed, verified against the test root."""
    env = testbed()
    if kind == "imaps":
        return imaplib.IMAP4_SSL(host, env["ports"]["imaps"], ssl_context=ssl_context(),
                                 timeout=30)
    m = imaplib.IMAP4(host, env["ports"]["starttls"], timeout=30)
    m.starttls(ssl_context())
    return m


def imap_login(user, kind="imaps"):
    """Logged-in imaplib connection (AUTHENTICATE PLAIN, UTF-8 safe)."""
    m = imap_connect(kind)
    pw = testbed()["users"][user]["password"]
    m.authenticate("PLAIN", lambda _: ("\0%s\0%s" % (user, pw)).encode("utf-8"))
    return m


def scram_sha256(user, password):
    """An imaplib authobject for SCRAM-SHA-256 (RFC 5802/7677) that checks
    the server signature.  Use: m.authenticate("SCRAM-SHA-256", scram_sha256(u, p))."""
    nonce = base64.b64encode(secrets.token_bytes(18)).decode()
    first_bare = "n=%s,r=%s" % (user.replace("=", "=3D").replace(",", "=2C"), nonce)
    state = {"step": 0}

    def step(challenge):
        if state["step"] == 0:
            state["step"] = 1
            return ("n,," + first_bare).encode()
        if state["step"] == 1:
            state["step"] = 2
            server_first = challenge.decode()
            f = dict(kv.split("=", 1) for kv in server_first.split(","))
            if not f["r"].startswith(nonce):
                raise ValueError("server nonce does not extend ours")
            salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"),
                                         base64.b64decode(f["s"]), int(f["i"]))
            client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
            stored = hashlib.sha256(client_key).digest()
            final_wo_proof = "c=biws,r=" + f["r"]
            auth_msg = ",".join((first_bare, server_first, final_wo_proof)).encode()
            sig = hmac.new(stored, auth_msg, hashlib.sha256).digest()
            proof = bytes(a ^ b for a, b in zip(client_key, sig))
            server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
            state["verifier"] = base64.b64encode(
                hmac.new(server_key, auth_msg, hashlib.sha256).digest()).decode()
            return (final_wo_proof + ",p=" + base64.b64encode(proof).decode()).encode()
        if challenge.decode() != "v=" + state["verifier"]:
            raise ValueError("bad server signature")
        state["verified"] = True
        return b""

    step.state = state
    return step


@contextlib.contextmanager
def scratch_folder(user="alice", sources=()):
    """A new folder (unique name) for tests that modify mail, filled with
    the given .eml files by APPEND, deleted afterwards.  Yields its name."""
    name = folder("scratch-" + uuid.uuid4().hex[:12])
    m = imap_login(user)
    try:
        typ, data = m.create(name)
        if typ != "OK":
            raise RuntimeError("CREATE %s: %r" % (name, data))
        for src in sources:
            with open(src, "rb") as f:
                typ, data = m.append(name, None, None, f.read())
            if typ != "OK":
                raise RuntimeError("APPEND: %r" % (data,))
        yield name
    finally:
        try:
            m.delete(name)
            m.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


class TestbedCase(unittest.TestCase):
    """Base class: self.env (env.json) and self.home (fresh, cleaned up)."""

    def setUp(self):
        self.env = testbed()
        self.home = fresh_home()
        self.addCleanup(self.home.cleanup)

    def imapsh(self, *args, **kw):
        kw.setdefault("home", self.home)
        return run_imapsh(list(args), **kw)
