"""The discovery test bed: a DNS server (dnsserver.py) and an HTTPS server
(autoconfigserver.py) on loopback, for `imapsh setup`.

    bed = DiscoveryBed(workdir, imaps_port)   # starts both
    bed.zone(records)                         # the DNS answers, now
    bed.put("autoconfig.example.test", "mail/config-v1.1.xml", xml)
    bed.args()      # ["--dns-server", "127.0.0.1:PORT", "--ca-file", CA, "--ispdb-url", URL]
    bed.stop()

The URLs imapsh fetches name hosts such as autoconfig.example.test on port
443, so the HTTPS server listens on port 443 of an address of its own, a
random one in 127.0.0.0/8 (loopback on Linux: no set-up, and no clash with
another run), and the zone points those names there (bed.web_addr).  The
same address carries a relay from port 993 to the test bed's Dovecot, for
the guesses (imap.DOMAIN:993).  Binding ports below 1024 needs root (or
CAP_NET_BIND_SERVICE): the tests run as root here and in CI.

The HTTPS certificate comes from a small CA made here (openssl), for the
names in NAMES; bed.ca_file is that CA and the test bed's root together, so
one --ca-file serves the HTTPS fetches and the IMAP connections alike.
"""

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import threading

import private
import time

HERE = os.path.dirname(os.path.abspath(__file__))

NAMES = ["autoconfig.example.test", "example.test", "ispdb.test",
         "autoconfig.other.test", "other.test"]


def _openssl(*args, cwd):
    with private.discard(cwd) as out:
        subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=out, stderr=out)


def make_cert(d, names):
    """A CA and a leaf for names in d: returns (ca.pem, chain.pem, key.pem)."""
    os.makedirs(d, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
             "-subj", "/O=imapsh discovery test/CN=Discovery Test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "leaf.key", "-out", "leaf.csr",
             "-subj", "/O=imapsh discovery test/CN=" + names[0], cwd=d)
    with open(os.path.join(d, "leaf.ext"), "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=" + ",".join("DNS:" + n for n in names) + "\n")
    _openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "leaf.pem", "-days", "30", "-extfile", "leaf.ext", cwd=d)
    with open(os.path.join(d, "chain.pem"), "w") as out:
        for n in ("leaf.pem", "ca.pem"):
            with open(os.path.join(d, n)) as f:
                out.write(f.read())
    return os.path.join(d, "ca.pem"), os.path.join(d, "chain.pem"), os.path.join(d, "leaf.key")


def _wait_file(path, proc, what, seconds=15):
    end = time.monotonic() + seconds
    while not os.path.exists(path):
        if proc.poll() is not None:
            raise RuntimeError("%s exited (%s)" % (what, proc.returncode))
        if time.monotonic() > end:
            raise RuntimeError("%s did not start" % what)
        time.sleep(0.05)
    with open(path) as f:
        return int(f.read())


class Relay:
    """addr:port -> target (host, port), a thread a connection."""

    def __init__(self, addr, port, target):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(16)
        self.target = target
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _pipe(self, a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _both(self, c, u):
        t = threading.Thread(target=self._pipe, args=(u, c), daemon=True)
        t.start()
        self._pipe(c, u)
        t.join()
        c.close()
        u.close()

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(self.target, timeout=5)
                u.settimeout(None)
            except OSError:
                c.close()
                continue
            threading.Thread(target=self._both, args=(c, u), daemon=True).start()

    def close(self):
        self.closed = True
        self.sock.close()


class DiscoveryBed:
    def __init__(self, workdir, imaps_port, testbed_ca):
        self.dir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.www = os.path.join(workdir, "www")
        os.makedirs(self.www, exist_ok=True)
        self.zone_file = os.path.join(workdir, "zone.json")
        self.zone([])
        self.procs = []
        self.relay = None
        ca, chain, key = make_cert(os.path.join(workdir, "pki"), NAMES)
        self.ca_file = os.path.join(workdir, "ca-all.pem")
        with open(self.ca_file, "w") as out:
            for c in (testbed_ca, ca):
                with open(c) as f:
                    out.write(f.read())
        try:
            portf = os.path.join(workdir, "dns.port")
            p = subprocess.Popen([sys.executable, os.path.join(HERE, "dnsserver.py"),
                                  self.zone_file, portf], stdin=private.empty_input(workdir))
            self.procs.append(p)
            self.dns_port = _wait_file(portf, p, "dnsserver.py")
            # port 443 (and 993) of an address of our own in 127/8
            for _ in range(20):
                self.web_addr = "127.%d.%d.%d" % (random.randint(1, 254), random.randint(0, 255),
                                                  random.randint(2, 254))
                try:
                    self.relay = Relay(self.web_addr, 993, ("127.0.0.1", imaps_port))
                    break
                except OSError:
                    continue
            ready = os.path.join(workdir, "https.port")
            p = subprocess.Popen([sys.executable, os.path.join(HERE, "autoconfigserver.py"),
                                  self.www, chain, key, self.web_addr, "443", ready],
                                 stdin=private.empty_input(workdir))
            self.procs.append(p)
            _wait_file(ready, p, "autoconfigserver.py")
        except BaseException:
            self.stop()
            raise

    def zone(self, records, truncate=False):
        tmp = self.zone_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"records": records, "truncate": truncate}, f)
        os.replace(tmp, self.zone_file)

    def clear_www(self):
        shutil.rmtree(self.www)
        os.makedirs(self.www)

    def put(self, host, path, data):
        full = os.path.join(self.www, host, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)

    def requests(self):
        try:
            with open(os.path.join(self.www, "requests.log")) as f:
                return [json.loads(line) for line in f]
        except FileNotFoundError:
            return []

    def dns_server(self):
        return "127.0.0.1:%d" % self.dns_port

    def args(self):
        return ["--dns-server", self.dns_server(), "--ca-file", self.ca_file,
                "--ispdb-url", "https://ispdb.test/v1.1/"]

    def stop(self):
        if self.relay is not None:
            self.relay.close()
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs = []
