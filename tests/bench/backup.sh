#!/bin/sh
# Backup and restore: imapsh import against mbsync pushing the same
# Maildir, export --all reruns (nothing changed; 1% of the flags changed)
# against a full export and against mbsync's reruns, each beside its
# physical floor (openssl s_client fed the protocol script, no parsing).
# Not run by CI.
#
#   tests/bench/backup.sh                          # 10,000 messages, 3 runs each
#   BENCH_MESSAGES=2000 BENCH_RUNS=1 tests/bench/backup.sh
#   BENCH_ONLY=rerun tests/bench/backup.sh        # the export reruns alone
#
# Environment as bench.sh (BENCH_RUNS, BENCH_MESSAGES, BENCH_DIR, IMAPSH_BIN).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
BENCH_PY=backup.py
BENCH_RUNS=${BENCH_RUNS:-3}
export BENCH_PY BENCH_RUNS
exec sh "$here/bench.sh"
