#!/bin/sh
# imapsh and its peers over a simulated WAN link (see wan.py).  Not run by
# CI.  Gets the peers and builds imapsh as bench.sh does.
#
#   tests/bench/wan.sh                                   # 2,000 messages, both profiles
#   WAN_PROFILES=30:100 WAN_MESSAGES=100 tests/bench/wan.sh
#   WAN_TASKS=export,import WAN_TOOLS=imapsh,imapsh-z,s_client tests/bench/wan.sh
#   IMAPSH_TESTBED=/tmp/tb IMAPSH_BIN=build/imapsh tests/bench/wan.sh  # a running test bed
set -eu
here=$(cd "$(dirname "$0")" && pwd)
BENCH_PY=wan.py exec "$here/bench.sh"
