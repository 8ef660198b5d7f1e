#!/bin/sh
# imapsh against mbsync, python3 imaplib, curl and openssl s_client on a
# test-bed Dovecot with generated mail.  Not run by CI.
#
#   tests/bench/bench.sh                       # 10,000 messages, 5 runs each
#   BENCH_MESSAGES=2000 BENCH_RUNS=3 tests/bench/bench.sh
#
# Environment: BENCH_RUNS, BENCH_MESSAGES, BENCH_BIG_MB, BENCH_DIR (see
# bench.py); IMAPSH_BIN to time a given binary instead of a RelWithDebInfo build
# made here in build-bench/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

need=""
have() { [ -n "$(command -v "$1" || true)" ]; }
have mbsync || need="$need isync"
[ -x /usr/bin/time ] || need="$need time"
have curl || need="$need curl"
have openssl || need="$need openssl"
have dovecot || [ -x /usr/sbin/dovecot ] || need="$need dovecot-imapd"
if [ -n "$need" ]; then
	apt-get update -q
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need
fi

if [ -z "${IMAPSH_BIN:-}" ]; then
	mkdir -p "$root/build-bench"
	cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIMAPSH_TESTS=OFF \
		>"$root/build-bench/cmake.log"
	cmake --build "$root/build-bench" --target imapsh -j 2 >>"$root/build-bench/cmake.log"
	IMAPSH_BIN="$root/build-bench/imapsh"
fi
export IMAPSH_BIN
exec python3 "$here/${BENCH_PY:-bench.py}"
