#!/bin/sh
# Build imapsh against mbedTLS 3.6 (TLS 1.3) and run the integration tests
# with that binary.  Debian 12 ships only mbedTLS 2.28, so this fetches
# Debian 13's mbedTLS 3.6 packages into a private folder (nothing is
# installed on the system) and links against them with an rpath.  The
# mirror is the one this machine's apt sources name.
#
#   sh tests/compat/mbedtls36.sh                 # build, then every integration test
#   sh tests/compat/mbedtls36.sh test_tls        # build, then the named tests
#
# Environment: COMPAT_DIR (default /tmp/imapsh-mbedtls36) holds the packages,
# the build and the test bed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=${COMPAT_DIR:-/tmp/imapsh-mbedtls36}
pkgs="libmbedtls-dev libmbedtls21 libmbedx509-7 libmbedcrypto16"
mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial" "$dir/debs" "$dir/root"

if [ ! -e "$dir/root/usr/include/mbedtls/build_info.h" ]; then
	# The Debian mirror this machine already uses (one-line or deb822
	# sources), with Debian 13's suite: no archive host is named here.
	mirror=$(
		{
			cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>"$dir/apt/sources.err" |
				awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) print $i }'
			cat /etc/apt/sources.list.d/*.sources 2>>"$dir/apt/sources.err" |
				awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }'
		} | grep -v -e '-security' -e '-ports' | grep -m1 '/debian/*$' || true
	)
	if [ -z "$mirror" ]; then
		echo "mbedtls36: no Debian mirror in this machine's apt sources" >&2
		exit 1
	fi
	# one source line: the machine's own mirror, Debian 13's suite
	printf '%s [signed-by=%s] %s trixie main\n' deb \
		/usr/share/keyrings/debian-archive-keyring.gpg "${mirror%/}" >"$dir/apt/sources.list"
	# (the folder's path must not hold spaces; an empty status file of its own)
	: >"$dir/apt/status"
	opts="-o Dir::Etc::sourcelist=$dir/apt/sources.list -o Dir::Etc::sourceparts=-
	      -o Dir::State::lists=$dir/apt/lists -o Dir::Cache=$dir/apt/cache
	      -o Dir::State::status=$dir/apt/status -o APT::Sandbox::User=root"
	# shellcheck disable=SC2086
	apt-get -q $opts update
	# shellcheck disable=SC2086
	(cd "$dir/debs" && apt-get -q $opts download $pkgs)
	for d in "$dir"/debs/*.deb; do dpkg-deb -x "$d" "$dir/root"; done
fi

lib="$dir/root/usr/lib/$(gcc -dumpmachine)"
cmake -S "$root" -B "$dir/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DMBEDTLS_INCLUDE_DIR="$dir/root/usr/include" -DMBEDTLS_LIB="$lib/libmbedtls.so" \
	-DMBEDX509_LIB="$lib/libmbedx509.so" -DMBEDCRYPTO_LIB="$lib/libmbedcrypto.so" \
	-DCMAKE_BUILD_RPATH="$lib" >"$dir/cmake.log"
cmake --build "$dir/build" -j"$(nproc)"
"$dir/build/imapsh" --version | grep -q "mbedTLS 3\." || {
	echo "mbedtls36: the build did not pick up mbedTLS 3.x" >&2
	exit 1
}
"$dir/build/imapsh" --version

tb="$dir/testbed"
python3 "$root/tests/testbed/testbed.py" stop "$tb" >"$dir/testbed-stop.log" 2>&1 || true
python3 "$root/tests/testbed/testbed.py" start "$tb"
trap 'python3 "$root/tests/testbed/testbed.py" stop "$tb" >>"$dir/testbed-stop.log" 2>&1 || true' EXIT
[ $# -gt 0 ] || set -- $(cd "$root/tests/integration" && ls test_*.py | sed 's/\.py$//')
cd "$root/tests/integration"
IMAPSH_TESTBED="$tb" IMAPSH_BIN="$dir/build/imapsh" python3 -m unittest "$@"
