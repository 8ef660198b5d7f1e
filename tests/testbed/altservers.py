"""Cyrus IMAPd and Courier-IMAP for the test bed (testbed.py --server).

Both conflict with dovecot-imapd as Debian packages (Conflicts: imap-server),
so they are never installed: `apt-get download` fetches the .debs into a
cache folder ($IMAPSH_TESTBED_CACHE, else /var/tmp/imapsh-testbed-cache: the
servers' unprivileged processes must reach it, which a home folder may
forbid) and
`dpkg -x` unpacks them there.  Their shared-library dependencies are
ordinary packages (.ci/deps installs them).

Cyrus takes every path from its configuration (-C imapd.conf, -M
cyrus.conf) and runs as `cyrus_user` (nobody).  The users live in a
private sasldb; the mail is loaded over IMAP (APPEND with flags and
INTERNALDATE), so UIDs are 1..n per folder as in mailgen's manifest.

Courier has its paths built in (/etc/courier, /run/courier,
/usr/lib/courier-authlib), so it runs in a private mount namespace
(`unshare -m`): overlay mounts put the unpacked /usr and a private
/etc/courier over the system's, and a private folder over /run.  Nothing
outside the namespace changes.  The users live in a private userdb; the
mail is mailgen's Maildir++ (which is Courier's own format) with a
courierimapuiddb per folder, so UIDs and UIDVALIDITY are mailgen's.

Both use the Debian defaults for the namespace: personal folders under
"INBOX." with "." as the separator.
"""

import base64
import crypt
import email.utils
import imaplib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time

import private

CACHE = os.environ.get("IMAPSH_TESTBED_CACHE") or "/var/tmp/imapsh-testbed-cache"

DEBS = {
    "cyrus": ["cyrus-imapd", "cyrus-common"],
    "courier": ["courier-imap", "courier-base", "courier-authlib", "courier-authdaemon",
                "courier-authlib-userdb", "libcourier-unicode4"],
}

CYRUS_ADMIN, CYRUS_ADMIN_PW = "cyrus", "testbed-admin"

# Folder name as the server shows it, for a mailgen folder name.
PREFIX, SEP = "INBOX.", "."


def log(msg):
    print("testbed: " + msg, file=sys.stderr, flush=True)


def die(msg):
    log(msg)
    sys.exit(1)


def server_name(folder):
    """mailgen's folder name ("Archive/2026") as Cyrus/Courier name it."""
    if folder == "INBOX":
        return folder
    return PREFIX + folder.replace("/", SEP)


def unpacked(kind):
    """The folder holding the unpacked packages of kind, fetching them
    once (apt-get download; dpkg -x)."""
    root = os.path.join(CACHE, kind, "root")
    stamp = os.path.join(CACHE, kind, "unpacked")
    if os.path.exists(stamp):
        return root
    debs = os.path.join(CACHE, kind, "debs")
    os.makedirs(debs, exist_ok=True)
    for p in (CACHE, os.path.join(CACHE, kind)):
        os.chmod(p, 0o755)
    os.makedirs(root, exist_ok=True)
    cmd = ["apt-get", "download", "-q"] + DEBS[kind]
    r = subprocess.run(cmd, cwd=debs, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        log("apt-get download failed, updating the package lists once")
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        r = subprocess.run(cmd, cwd=debs, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            die("apt-get download %s failed: %s" % (" ".join(DEBS[kind]), r.stdout.decode()))
    for f in sorted(os.listdir(debs)):
        if f.endswith(".deb"):
            subprocess.run(["dpkg", "-x", os.path.join(debs, f), root], check=True)
    open(stamp, "w").close()
    return root


def _wait_port(port, seconds=20):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.settimeout(3)
                if s.recv(4096).startswith(b"* OK"):
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def _imap(ports, ca, host):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    return imaplib.IMAP4_SSL("127.0.0.1", ports["imaps"], ssl_context=ctx, timeout=30)


def _login(m, user, password):
    """AUTHENTICATE PLAIN: imaplib's LOGIN cannot send non-ASCII."""
    blob = ("\0%s\0%s" % (user, password)).encode("utf-8")
    m.authenticate("PLAIN", lambda _: blob)


def _imap_date(when_rfc2822):
    t = email.utils.parsedate_to_datetime(when_rfc2822)
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    off = t.utcoffset().total_seconds() // 60
    sign = "+" if off >= 0 else "-"
    off = abs(int(off))
    return '"%02d-%s-%04d %02d:%02d:%02d %s%02d%02d"' % (
        t.day, months[t.month - 1], t.year, t.hour, t.minute, t.second, sign, off // 60, off % 60)


SPECIAL = {"Sent": "\\Sent", "Drafts": "\\Drafts", "Trash": "\\Trash", "Junk": "\\Junk",
           "Archive": "\\Archive"}


def load_mail_over_imap(ports, ca, host, users, mail):
    """Create every user's folders and APPEND mailgen's messages; update the
    manifest with the server's UIDVALIDITY."""
    for user, u in users.items():
        m = _imap(ports, ca, host)
        _login(m, user, u["password"])
        for folder, f in mail[user]["folders"].items():
            wire = server_name(folder)
            mw = PREFIX + f["mutf7"].replace("/", SEP) if folder != "INBOX" else "INBOX"
            if folder != "INBOX":
                use = SPECIAL.get(folder)
                args = '"%s"' % mw.replace("\\", "\\\\").replace('"', '\\"')
                if use:
                    typ, data = m._simple_command("CREATE", args + " (USE (%s))" % use)
                else:
                    typ, data = m._simple_command("CREATE", args)
                if typ != "OK":
                    die("CREATE %s for %s: %s %s" % (wire, user, typ, data))
                m._simple_command("SUBSCRIBE", args)
            for msg in f["list"]:
                data = open(msg["file"], "rb").read()
                flags = "(%s)" % " ".join(msg["flags"])
                typ, resp = m.append('"%s"' % mw, flags, _imap_date(msg["date"]), data)
                if typ != "OK":
                    die("APPEND to %s for %s: %s %s" % (wire, user, typ, resp))
            # One SELECT takes \Recent away, as mailgen's Maildir has none.
            m.select('"%s"' % mw)
            m.close()
            typ, st = m.status('"%s"' % mw, "(UIDVALIDITY UIDNEXT MESSAGES)")
            words = st[0].decode().rsplit("(", 1)[1].rstrip(")").split()
            vals = dict(zip(words[0::2], words[1::2]))
            f["uidvalidity"] = int(vals["UIDVALIDITY"])
            f["uidnext"] = int(vals["UIDNEXT"])
            if int(vals["MESSAGES"]) != f["messages"]:
                die("%s/%s holds %s messages, not %d" % (user, wire, vals["MESSAGES"], f["messages"]))
        m.logout()


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def kill_pidfile(path, what, stopped):
    try:
        pid = int(open(path).read().split()[0])
    except (OSError, ValueError, IndexError):
        return
    if pid_alive(pid):
        os.kill(pid, signal.SIGTERM)
        end = time.monotonic() + 10
        while pid_alive(pid) and time.monotonic() < end:
            time.sleep(0.05)
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
        stopped.append("%s %d" % (what, pid))
    os.unlink(path)


# ---------------------------------------------------------------- Cyrus

CYRUS_CONF = """\
# Generated by tests/testbed/testbed.py: a private test Cyrus, do not edit.
# The master passes no -C to what it runs: each command names imapd.conf.
START {{
  recover cmd="{bin}/ctl_cyrusdb -C {conf} -r"
}}
SERVICES {{
  imap  cmd="{bin}/imapd -C {conf}" listen="{addr}:{port_starttls}" prefork=0 maxchild=200
  imaps cmd="{bin}/imapd -C {conf} -s" listen="{addr}:{port_imaps}" prefork=0 maxchild=200
}}
EVENTS {{
}}
"""

IMAPD_CONF = """\
# Generated by tests/testbed/testbed.py: a private test Cyrus, do not edit.
configdirectory: {dir}/cyrus/lib
proc_path: {dir}/cyrus/run/proc
mboxname_lockpath: {dir}/cyrus/run/lock
defaultpartition: default
partition-default: {dir}/cyrus/spool
altnamespace: no
unixhierarchysep: no
hashimapspool: true
admins: {admin}
cyrus_user: {mail_user}
cyrus_group: {mail_group}
allowplaintext: no
allowanonymouslogin: no
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: {dir}/cyrus/sasldb2
sasl_mech_list: PLAIN LOGIN SCRAM-SHA-1 SCRAM-SHA-256
sasl_auto_transition: no
tls_server_cert: {dir}/ca/valid/chain.pem
tls_server_key: {dir}/ca/valid/key.pem
tls_client_ca_file: {dir}/ca/client-ca.pem
tls_versions: tls1_2 tls1_3
tls_session_timeout: 0
idlesocket: {dir}/cyrus/run/socket/idle
notifysocket: {dir}/cyrus/run/socket/notify
lmtpsocket: {dir}/cyrus/run/socket/lmtp
imapidresponse: no
umask: 077
syslog_prefix: cyrus-testbed
quotawarn: 90
# IDLE without idled polls; the tests expect news within seconds
imapidlepoll: 1
"""


def cyrus_env(root):
    e = dict(os.environ)
    libs = [os.path.join(root, "usr/lib/x86_64-linux-gnu"), os.path.join(root, "usr/lib")]
    e["LD_LIBRARY_PATH"] = ":".join(libs + [p for p in [e.get("LD_LIBRARY_PATH")] if p])
    return e


def cyrus_start(d, ports, users, mail, uid, gid, mail_user, mail_group, ca):
    root = unpacked("cyrus")
    b = os.path.join(root, "usr/lib/cyrus/bin")
    env = cyrus_env(root)
    for sub in ("cyrus", "cyrus/lib", "cyrus/spool", "cyrus/run", "cyrus/run/proc",
                "cyrus/run/lock", "cyrus/run/socket", "cyrus/lib/db", "cyrus/lib/user",
                "cyrus/lib/quota", "cyrus/lib/sieve", "cyrus/lib/log", "cyrus/lib/msg",
                "cyrus/lib/proc", "cyrus/lib/lock", "cyrus/lib/socket"):
        p = os.path.join(d, sub)
        os.makedirs(p, exist_ok=True)
        os.chown(p, uid, gid)
        os.chmod(p, 0o750)
    os.chmod(os.path.join(d, "cyrus"), 0o755)
    conf = os.path.join(d, "cyrus", "imapd.conf")
    mconf = os.path.join(d, "cyrus", "cyrus.conf")
    with open(conf, "w") as f:
        f.write(IMAPD_CONF.format(dir=d, admin=CYRUS_ADMIN, mail_user=mail_user,
                                  mail_group=mail_group))
    with open(mconf, "w") as f:
        f.write(CYRUS_CONF.format(bin=b, conf=conf, addr="127.0.0.1", port_imaps=ports["imaps"],
                                  port_starttls=ports["starttls"]))
    # The users: a private sasldb with every password (SCRAM needs them).
    sasldb = os.path.join(d, "cyrus", "sasldb2")
    for user, pw in [(CYRUS_ADMIN, CYRUS_ADMIN_PW)] + [(u, users[u]["password"]) for u in users]:
        r = subprocess.run(["saslpasswd2", "-f", sasldb, "-c", "-p", "-u", "", user],
                           input=pw.encode("utf-8"), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        if r.returncode != 0:
            die("saslpasswd2 for %s failed: %s" % (user, r.stdout.decode(errors="replace")))
    os.chown(sasldb, uid, gid)
    os.chmod(sasldb, 0o600)
    # The key is read after the switch to cyrus_user.
    key = os.path.join(d, "ca", "valid", "key.pem")
    os.chown(key, uid, gid)
    pidf = os.path.join(d, "cyrus", "run", "master.pid")
    logf = open(os.path.join(d, "cyrus.log"), "ab")
    subprocess.run([os.path.join(b, "master"), "-C", conf, "-M", mconf, "-p", pidf, "-d"],
                   env=env, stdin=private.empty_input(d), stdout=logf, stderr=logf, check=True)
    logf.close()
    for port in (ports["starttls"],):
        if not _wait_port(port):
            die("Cyrus never greeted on %d (see %s/cyrus.log and syslog)" % (port, d))
    # Users' mailboxes and quotas, as the admin.
    m = _imap(ports, ca, None)
    _login(m, CYRUS_ADMIN, CYRUS_ADMIN_PW)
    for user, u in users.items():
        typ, data = m.create("user.%s" % user)
        if typ != "OK":
            die("CREATE user.%s: %s" % (user, data))
        typ, data = m._simple_command("SETQUOTA", "user.%s" % user, "(STORAGE %d)" % u["quota_kb"])
        if typ != "OK":
            die("SETQUOTA user.%s: %s" % (user, data))
    m.logout()
    load_mail_over_imap(ports, ca, None, users, mail)
    version = subprocess.run([os.path.join(b, "cyr_info"), "-C", conf, "version"], env=env,
                             stdout=subprocess.PIPE, stderr=private.discard(d)).stdout.decode()
    pid = int(open(pidf).read().split()[0])
    return {"pid": pid, "config": conf, "cyrus_conf": mconf, "pidfile": pidf,
            "root": root, "version": version.strip() or "3.6", "admin": CYRUS_ADMIN,
            "admin_password": CYRUS_ADMIN_PW, "log": os.path.join(d, "cyrus.log")}


def cyrus_stop(d, stopped):
    kill_pidfile(os.path.join(d, "cyrus", "run", "master.pid"), "cyrus master", stopped)


# ---------------------------------------------------------------- Courier

AUTHDAEMONRC = """\
authmodulelist="authuserdb"
daemons=3
authdaemonvar=/run/courier/authdaemon
DEBUG_LOGIN=0
DEFAULTOPTIONS=""
LOGGEROPTS=""
"""

# Run by `unshare -m --propagation private sh -c`: the mounts exist only in
# the namespace, which lives as long as the daemons started in it.
COURIER_NS = """\
set -e
mount -t overlay overlay -o lowerdir={root}/usr:/usr /usr
mount -t overlay overlay -o lowerdir=/etc,upperdir={c}/etc-upper,workdir={c}/etc-work /etc
mount --bind {c}/run /run
# imaplogin runs couriertls for STARTTLS as the built-in user "courier":
# the namespace's /etc (an overlay: the system's file is untouched) has one.
grep -q '^courier:' /etc/passwd || echo 'courier:x:{uid}:{gid}:Courier test bed:/nonexistent:/usr/sbin/nologin' >> /etc/passwd
grep -q '^courier:' /etc/group || echo 'courier:x:{gid}:' >> /etc/group
mkdir -p /run/courier/authdaemon
cd /etc/courier && /usr/sbin/makeuserdb
/usr/sbin/courierlogger -pid={c}/authdaemond.pid -start /usr/lib/courier/courier-authlib/authdaemond
for i in $(seq 100); do [ -S /run/courier/authdaemon/socket ] && break; sleep 0.05; done
export IMAP_TLS=1 IMAP_TLS_REQUIRED=0 IMAP_STARTTLS=NO
/usr/sbin/courierlogger -pid={c}/imapd-ssl.pid -start -name=imapd-ssl \\
  /usr/sbin/couriertcpd -address={addr} -maxprocs=200 -maxperip=200 -nodnslookup -noidentlookup \\
  {port_imaps} /usr/bin/couriertls -server -tcpd \\
  /usr/lib/courier/courier/imaplogin /usr/bin/imapd Maildir
export IMAP_TLS=0 IMAP_TLS_REQUIRED=1 IMAP_STARTTLS=YES
/usr/sbin/courierlogger -pid={c}/imapd.pid -start -name=imapd \\
  /usr/sbin/couriertcpd -address={addr} -maxprocs=200 -maxperip=200 -nodnslookup -noidentlookup \\
  {port_starttls} /usr/lib/courier/courier/imaplogin /usr/bin/imapd Maildir
"""

COURIER_ENV = {
    "IMAP_CAPABILITY": "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT "
                       "THREAD=REFERENCES SORT QUOTA IDLE",
    "IMAP_CAPABILITY_TLS": "IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT "
                           "THREAD=REFERENCES SORT QUOTA IDLE AUTH=PLAIN",
    "IMAP_KEYWORDS": "1", "IMAP_ACL": "1", "IMAP_PROXY": "0", "IMAP_IDLE_TIMEOUT": "1",
    "IMAP_MAILBOX_SANITY_CHECK": "1", "IMAP_DISABLETHREADSORT": "0",
    "IMAP_CHECK_ALL_FOLDERS": "0", "IMAP_OBSOLETE_CLIENT": "0", "IMAP_UMASK": "022",
    "IMAP_USELOCKS": "1", "IMAP_ENHANCEDIDLE": "0", "IMAP_TRASHFOLDERNAME": "Trash",
    "IMAP_MOVE_EXPUNGE_TO_TRASH": "0", "IMAP_STARTTLS": "YES", "IMAP_TLS_REQUIRED": "1",
    "COURIERTLS": "/usr/bin/couriertls", "TLS_PROTOCOL": "TLS1_2+",
    "TLS_STARTTLS_PROTOCOL": "TLS1_2+", "TLS_VERIFYPEER": "NONE", "TLS_CACHEFILE": "",
    "MAILDIRPATH": "Maildir", "HEADERFROM": "X-IMAP-Sender", "SENDMAIL": "/bin/false",
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
}


def courier_uiddb(folder_dir, f):
    """courierimapuiddb (version 1): UIDVALIDITY, next UID, then each
    message's UID and file name (without the :2, info)."""
    lines = ["1 %d %d" % (f["uidvalidity"], f["uidnext"])]
    names = {}
    for fn in os.listdir(os.path.join(folder_dir, "cur")):
        base = fn.split(":2,", 1)[0]
        names[int(base.split(".M", 1)[1].split("P", 1)[0])] = base
    for i in sorted(names):
        lines.append("%d %s" % (i, names[i]))
    return "\n".join(lines) + "\n"


def courier_start(d, ports, users, mail, uid, gid, ca, homes):
    root = unpacked("courier")
    c = os.path.join(d, "courier")
    for sub in ("", "etc-upper", "etc-upper/courier", "etc-work", "run"):
        os.makedirs(os.path.join(c, sub), exist_ok=True)
    etc = os.path.join(c, "etc-upper", "courier")
    with open(os.path.join(etc, "authdaemonrc"), "w") as f:
        f.write(AUTHDAEMONRC)
    lines = []
    for user, u in users.items():
        pw = crypt.crypt(u["password"], crypt.mksalt(crypt.METHOD_SHA512))
        lines.append("%s\tuid=%d|gid=%d|home=%s|mail=%s|systempw=%s" % (
            user, uid, gid, homes[user], mail[user]["maildir"], pw))
    with open(os.path.join(etc, "userdb"), "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(os.path.join(etc, "userdb"), 0o600)
    # Courier 5 keeps folder names in UTF-8 on disk (mailgen writes
    # modified UTF-7, as Dovecot does); UIDs as mailgen numbered them, and
    # Maildir++ quotas.
    for user in users:
        for folder, f in mail[user]["folders"].items():
            # Courier stores messages with LF line ends (it sends CRLF).
            for fn in os.listdir(os.path.join(f["disk"], "cur")):
                path = os.path.join(f["disk"], "cur", fn)
                st = os.stat(path)
                with open(path, "rb") as fh:
                    data = fh.read()
                with open(path, "wb") as fh:
                    fh.write(data.replace(b"\r\n", b"\n"))
                os.utime(path, (st.st_atime, st.st_mtime))
            if folder != "INBOX":
                disk = os.path.join(mail[user]["maildir"], "." + folder.replace("/", "."))
                if disk != f["disk"]:
                    os.rename(f["disk"], disk)
                    f["disk"] = disk
            p = os.path.join(f["disk"], "courierimapuiddb")
            with open(p, "w") as out:
                out.write(courier_uiddb(f["disk"], f))
            os.chown(p, uid, gid)
        size = sum(x["size"] for f in mail[user]["folders"].values() for x in f["list"])
        count = sum(len(f["list"]) for f in mail[user]["folders"].values())
        p = os.path.join(mail[user]["maildir"], "maildirsize")
        with open(p, "w") as out:
            out.write("%dS\n%d %d\n" % (users[user]["quota_kb"] * 1024, size, count))
        os.chown(p, uid, gid)
    # couriertls wants the key and the chain in one file.
    pem = os.path.join(c, "imapd.pem")
    with open(pem, "w") as out:
        out.write(open(os.path.join(d, "ca", "valid", "key.pem")).read())
        out.write(open(os.path.join(d, "ca", "valid", "chain.pem")).read())
    os.chmod(pem, 0o600)
    env = dict(COURIER_ENV)
    env["TLS_CERTFILE"] = pem
    env["TLS_TRUSTCERTS"] = os.path.join(d, "ca", "client-ca.pem")
    os.chown(pem, uid, gid)
    script = COURIER_NS.format(root=root, c=c, uid=uid, gid=gid, addr="127.0.0.1", port_imaps=ports["imaps"],
                               port_starttls=ports["starttls"])
    logf = open(os.path.join(d, "courier.log"), "ab")
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                       env=env, stdin=private.empty_input(d), stdout=logf, stderr=logf)
    logf.close()
    if r.returncode != 0:
        die("starting Courier failed (%d); see %s/courier.log" % (r.returncode, d))
    if not _wait_port(ports["starttls"]):
        die("Courier never greeted on %d; see %s/courier.log" % (ports["starttls"], d))
    # The manifest's UIDVALIDITY must be what Courier reports.
    m = _imap(ports, ca, None)
    _login(m, "alice", users["alice"]["password"])
    for folder, f in mail["alice"]["folders"].items():
        mw = PREFIX + f["mutf7"].replace("/", SEP) if folder != "INBOX" else "INBOX"
        typ, st = m.status('"%s"' % mw, "(UIDVALIDITY UIDNEXT MESSAGES)")
        if typ != "OK":
            die("STATUS %s: %s" % (mw, st))
        words = st[0].decode().rsplit("(", 1)[1].rstrip(")").split()
        vals = dict(zip(words[0::2], words[1::2]))
        if int(vals["UIDVALIDITY"]) != f["uidvalidity"] or int(vals["MESSAGES"]) != f["messages"] \
                or int(vals["UIDNEXT"]) != f["uidnext"]:
            die("Courier's %s is not mailgen's: %s" % (mw, vals))
    m.logout()
    return {"pids": {k: int(open(os.path.join(c, k + ".pid")).read().split()[0])
                     for k in ("authdaemond", "imapd", "imapd-ssl")},
            "root": root, "version": "5.0.13", "log": os.path.join(d, "courier.log")}


def courier_stop(d, stopped):
    c = os.path.join(d, "courier")
    for k in ("imapd", "imapd-ssl", "authdaemond"):
        kill_pidfile(os.path.join(c, k + ".pid"), "courier " + k, stopped)
