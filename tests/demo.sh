#!/usr/bin/env bash
# The main job, on a fresh Debian 12 machine as root: install what imapsh
# needs, build it, start the bundled demo server (a private Dovecot on
# 127.0.0.1 with sample mail, Japanese included, and a CA made just now),
# and open the imapsh shell against it as alice.  Without a terminal it
# runs a few one-shot commands instead.  The server stops when you leave.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/deps
mkdir -p build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >build/demo-cmake.log
cmake --build build -j"$(nproc)" --target imapsh >>build/demo-cmake.log

dir=${IMAPSH_DEMO_DIR:-/tmp/imapsh-demo}
python3 tests/testbed/testbed.py start "$dir"
trap 'python3 tests/testbed/testbed.py stop "$dir" >>build/demo-cmake.log' EXIT

# A config of its own (nothing of yours is touched): an account "demo" whose
# password comes from a file readable by you alone, never from argv.
home="$dir/demo-home"
mkdir -p "$home/config/imapsh"
python3 - "$dir" "$home" <<'PY'
import json, os, sys
d, home = sys.argv[1], sys.argv[2]
env = json.load(open(os.path.join(d, "env.json")))
pw = os.path.join(home, "alice.pw")
with open(os.open(pw, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
    f.write(env["users"]["alice"]["password"] + "\n")
with open(os.path.join(home, "config", "imapsh", "config"), "w") as f:
    f.write("default = demo\n\n[account demo]\nhost = %s\nport = %d\nuser = alice\n"
            "ca-file = %s\npassword-command = cat %s\n"
            % (env["host"], env["ports"]["imaps"], env["ca_file"], pw))
with open(os.path.join(home, "resolve"), "w") as f:
    f.write(env["resolve"]["imaps"])
PY
export XDG_CONFIG_HOME="$home/config" XDG_STATE_HOME="$home/state" XDG_DATA_HOME="$home/data"
resolve=$(cat "$home/resolve")
imapsh() { ./build/imapsh --resolve "$resolve" "$@"; }

echo "demo server: imaps://alice@imap.example.test (127.0.0.1), account 'demo' in $XDG_CONFIG_HOME/imapsh/config"
if [ -t 0 ] && [ -t 1 ]; then
  echo "try: folders, list, show 3, cd 送信済み, check, cert, help; Ctrl-D leaves"
  imapsh
else
  set -x
  imapsh check
  imapsh cert | head -12
  imapsh -c 'namespace; id'
  imapsh folders
  imapsh list 1:8
  imapsh show 3
  imapsh -f 送信済み list
fi
