#!/usr/bin/env python3
"""Make the test certificate authority and its certificate matrix, now.

    mkca.py DIR        writes DIR/ca/... and prints the matrix as JSON

Everything is generated at test time with the openssl command line (no
key is ever committed).  Trust anchors:

    DIR/ca/root.crt         "Test Root CA": the only anchor tests trust
    DIR/ca/root2.crt        "Test CA 2": a second root nobody trusts

Each case is a folder DIR/ca/CASE/ with key.pem, cert.pem (the leaf alone)
and chain.pem (what a server should send: leaf first, then intermediates).
Validity in the past or future comes from `openssl ca -startdate/-enddate`
(openssl 3.0 `x509` cannot set notBefore).
"""

import datetime
import json
import os
import subprocess
import sys

HOST = "imap.example.test"
GOOD_SANS = ["DNS:imap.example.test", "DNS:localhost", "IP:127.0.0.1"]

CA_CONF = """\
[ ca ]
default_ca = testca

[ testca ]
dir = {dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
default_md = sha256

[ policy_any ]
organizationName = optional
commonName = supplied
"""

# name -> description, for env.json and for people reading a failing test.
CASES = {
    "valid": "leaf for imap.example.test, localhost, 127.0.0.1 via the intermediate (Dovecot serves it)",
    "wildcard": "leaf for *.example.test",
    "expired": "leaf expired 3.5 days ago (3 whole days)",
    "expired_intermediate": "valid leaf under an intermediate that expired 2 days ago",
    "not_yet_valid": "leaf valid from 10 days in the future",
    "wrong_host": "leaf for other.example.test only (CN and SAN)",
    "san_mismatch_cn": "CN=imap.example.test but SAN only other.example.test",
    "cn_only": "CN=imap.example.test and no subjectAltName at all",
    "wildcard_tld": "leaf for *.test (wildcard over a single-label suffix)",
    "partial_wildcard": "leaf for im*.example.test (partial-label wildcard)",
    "self_signed": "self-signed leaf for imap.example.test",
    "unknown_ca": "leaf issued directly by Test CA 2, a root not in the trust file",
    "missing_intermediate": "valid leaf, but the chain holds the leaf alone",
    "eku_client": "leaf whose extendedKeyUsage is clientAuth only",
    "sha1": "leaf signed with sha1WithRSAEncryption",
    "rsa1024": "leaf with an RSA-1024 key",
    "expires_10d": "valid leaf expiring in 10.5 days (10 whole days left)",
    "expires_3d": "valid leaf expiring in 3.5 days (3 whole days left)",
    "ecdsa": "valid leaf with a P-256 key",
    "client": "client certificate CN=alice (clientAuth) via the intermediate",
    "san_nul": "leaf whose only dNSName is imap.example.test, a NUL, then .evil.test",
}


def _der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def san_der(dns_names):
    """subjectAltName as openssl's DER: form, dNSNames taken as raw bytes
    (so they may hold what the config syntax cannot: a NUL)."""
    body = b"".join(b"\x82" + _der_len(len(n)) + n for n in dns_names)
    der = b"\x30" + _der_len(len(body)) + body
    return "DER:" + ":".join("%02X" % b for b in der)


def _openssl(*args, cwd=None):
    p = subprocess.run(["openssl", *args], cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (" ".join(args),
                                                      p.stderr.decode(errors="replace")))
    return p.stdout


def _asn1_time(days, now):
    t = now + datetime.timedelta(days=days)
    return t.strftime("%y%m%d%H%M%SZ")


class Matrix:
    def __init__(self, cadir):
        self.dir = os.path.abspath(cadir)
        self.now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        os.makedirs(os.path.join(self.dir, "newcerts"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "work"), exist_ok=True)
        open(os.path.join(self.dir, "index.txt"), "w").close()
        with open(os.path.join(self.dir, "index.txt.attr"), "w") as f:
            f.write("unique_subject = no\n")
        with open(os.path.join(self.dir, "serial"), "w") as f:
            f.write("1000\n")
        self.conf = os.path.join(self.dir, "openssl-ca.cnf")
        with open(self.conf, "w") as f:
            f.write(CA_CONF.format(dir=self.dir))
        self.cases = {}

    def _key(self, path, kind="rsa2048"):
        if kind == "p256":
            _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-out", path)
        else:
            bits = kind[3:]
            _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:" + bits,
                     "-out", path)
        os.chmod(path, 0o600)

    def issue(self, name, cn, issuer=None, sans=None, ca=False, pathlen=None,
              start=-1, end=365, md="sha256", eku="serverAuth", key="rsa2048",
              org="imapsh test bed", outdir=None, san_raw=None):
        """Make key + certificate NAME; issuer is a dict from a previous
        issue() or None for self-signed.  start/end are days from now."""
        d = outdir or os.path.join(self.dir, name)
        os.makedirs(d, exist_ok=True)
        keyf = os.path.join(d, "key.pem")
        certf = os.path.join(d, "cert.pem")
        csrf = os.path.join(self.dir, "work", name + ".csr")
        extf = os.path.join(self.dir, "work", name + ".ext")
        self._key(keyf, key)
        ext = []
        if ca:
            bc = "critical,CA:TRUE" + ("" if pathlen is None else ",pathlen:%d" % pathlen)
            ext += ["basicConstraints = " + bc,
                    "keyUsage = critical, keyCertSign, cRLSign"]
        else:
            ku = "digitalSignature" if key == "p256" else "digitalSignature, keyEncipherment"
            ext += ["basicConstraints = critical,CA:FALSE",
                    "keyUsage = critical, " + ku]
            if eku:
                ext.append("extendedKeyUsage = " + eku)
            if sans:
                ext.append("subjectAltName = " + ", ".join(sans))
            elif san_raw:
                ext.append("subjectAltName = " + san_der(san_raw))
        ext += ["subjectKeyIdentifier = hash", "authorityKeyIdentifier = keyid"]
        with open(extf, "w") as f:
            f.write("[ ext ]\n" + "\n".join(ext) + "\n")
        subj = "/O=%s/CN=%s" % (org, cn)
        _openssl("req", "-new", "-key", keyf, "-subj", subj, "-out", csrf)
        args = ["ca", "-batch", "-config", self.conf, "-in", csrf, "-out", certf,
                "-notext", "-rand_serial", "-preserveDN", "-md", md,
                "-startdate", _asn1_time(start, self.now),
                "-enddate", _asn1_time(end, self.now),
                "-extfile", extf, "-extensions", "ext"]
        if issuer is None:
            args += ["-selfsign", "-keyfile", keyf]
        else:
            args += ["-cert", issuer["cert"], "-keyfile", issuer["key"]]
        _openssl(*args)
        rec = {"key": keyf, "cert": certf, "dir": d, "cn": cn, "sans": sans or [],
               "issuer": issuer["cn"] if issuer else cn}
        return rec

    def add_case(self, name, rec, chain_certs):
        chainf = os.path.join(rec["dir"], "chain.pem")
        with open(chainf, "w") as out:
            for c in chain_certs:
                with open(c) as f:
                    out.write(f.read())
        rec = dict(rec, chain=chainf, description=CASES[name])
        self.cases[name] = rec
        return rec


def make(outdir):
    """Build DIR/ca; return the dict stored under env.json's "ca"."""
    m = Matrix(os.path.join(outdir, "ca"))
    cadir = m.dir
    root = m.issue("root", "Test Root CA", ca=True, start=-30, end=3650)
    root2 = m.issue("root2", "Test CA 2", ca=True, start=-30, end=3650)
    inter = m.issue("intermediate", "Test Intermediate CA", issuer=root, ca=True,
                    pathlen=0, start=-30, end=1825)
    old_inter = m.issue("expired_intermediate_ca", "Test Expired Intermediate CA",
                        issuer=root, ca=True, pathlen=0, start=-400, end=-2)
    for who in ("root", "root2", "intermediate"):
        os.replace(os.path.join(cadir, who, "cert.pem"), os.path.join(cadir, who + ".crt"))
    root["cert"] = os.path.join(cadir, "root.crt")
    root2["cert"] = os.path.join(cadir, "root2.crt")
    inter["cert"] = os.path.join(cadir, "intermediate.crt")
    ic = inter["cert"]

    def leaf(name, cn=HOST, sans=GOOD_SANS, issuer=inter, chain_extra=(ic,), **kw):
        rec = m.issue(name, cn, issuer=issuer, sans=sans, **kw)
        m.add_case(name, rec, [rec["cert"], *chain_extra])

    leaf("valid")
    leaf("wildcard", cn="*.example.test", sans=["DNS:*.example.test"])
    leaf("expired", start=-90, end=-3.5)
    leaf("expired_intermediate", issuer=old_inter, chain_extra=(old_inter["cert"],))
    leaf("not_yet_valid", start=10, end=400)
    leaf("wrong_host", cn="other.example.test", sans=["DNS:other.example.test"])
    leaf("san_mismatch_cn", sans=["DNS:other.example.test"])
    leaf("cn_only", sans=None)
    leaf("wildcard_tld", cn="*.test", sans=["DNS:*.test"])
    leaf("partial_wildcard", cn="im*.example.test", sans=["DNS:im*.example.test"])
    leaf("self_signed", issuer=None, chain_extra=())
    leaf("unknown_ca", issuer=root2, chain_extra=())
    leaf("missing_intermediate", chain_extra=())
    leaf("eku_client", eku="clientAuth")
    leaf("sha1", md="sha1")
    leaf("rsa1024", key="rsa1024")
    leaf("expires_10d", end=10.5)
    leaf("expires_3d", end=3.5)
    leaf("ecdsa", key="p256")
    leaf("client", cn="alice", sans=["email:alice@example.test"], eku="clientAuth")
    leaf("san_nul", sans=None, san_raw=[HOST.encode() + b"\0.evil.test"])

    # One trust file with the root alone; one with both roots for tests
    # that want "Test CA 2" trusted too.
    both = os.path.join(cadir, "both-roots.crt")
    with open(both, "w") as out:
        for c in (root["cert"], root2["cert"]):
            with open(c) as f:
                out.write(f.read())
    # --ca-path wants a hashed directory.
    hashed = os.path.join(cadir, "capath")
    os.makedirs(hashed, exist_ok=True)
    h = _openssl("x509", "-noout", "-subject_hash", "-in", root["cert"]).decode().strip()
    link = os.path.join(hashed, h + ".0")
    if not os.path.exists(link):
        os.symlink(root["cert"], link)

    def public(rec):
        return {k: rec[k] for k in ("cert", "key", "cn") if k in rec}

    return {
        "dir": cadir,
        "root": root["cert"],
        "root2": root2["cert"],
        "both_roots": both,
        "capath": hashed,
        "intermediate": inter["cert"],
        "expired_intermediate": old_inter["cert"],
        "authorities": {"root": public(root), "root2": public(root2),
                        "intermediate": public(inter),
                        "expired_intermediate": public(old_inter)},
        "certs": {name: {"key": r["key"], "cert": r["cert"], "chain": r["chain"],
                         "cn": r["cn"], "sans": r["sans"], "issuer": r["issuer"],
                         "description": r["description"]}
                  for name, r in m.cases.items()},
    }


def main(argv):
    if len(argv) != 2:
        print("usage: mkca.py DIR", file=sys.stderr)
        return 2
    print(json.dumps(make(argv[1]), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
