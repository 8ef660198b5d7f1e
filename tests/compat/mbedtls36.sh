#!/bin/sh
# Build imapsh against mbedTLS 3.6 (TLS 1.3) and run the integration tests
# with that binary.  Debian 12 ships only mbedTLS 2.28, so this fetches
# Debian 13's mbedTLS 3.6 packages into a private folder (nothing is
# installed on the system) and links against them with an rpath.  The
# mirror is the one this machine's apt sources name.
#
#   sh tests/compat/mbedtls36.sh                 # build, then every integration test
#   sh tests/compat/mbedtls36.sh test_tls        # build, then the named tests
#   sh tests/compat/mbedtls36.sh --build-only    # build into $COMPAT_DIR/build and stop
#
# After --build-only the build folder is an ordinary one with its own test
# bed fixture: ctest --test-dir "$COMPAT_DIR/build" -L integration
#
# Environment: COMPAT_DIR (default /tmp/imapsh-mbedtls36) holds the packages,
# the build and the test bed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=${COMPAT_DIR:-/tmp/imapsh-mbedtls36}
pkgs="libmbedtls-dev libmbedtls21 libmbedx509-7 libmbedcrypto16"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
build_only=0
if [ "${1:-}" = --build-only ]; then
	build_only=1
	shift
fi

die() {
	echo "mbedtls36: $*" >&2
	exit 1
}

case $dir in
*[[:space:]]*) die "COMPAT_DIR must not hold spaces (apt's options are split on them): $dir" ;;
/*) ;;
*) die "COMPAT_DIR must be an absolute path: $dir" ;;
esac
mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial" "$dir/debs" "$dir/root"

# The first Debian mirror this machine's apt sources name, one-line
# (sources.list, *.list) or deb822 (*.sources: stanzas with Types/URIs,
# those with "Enabled: no" left out); security and ports archives are not
# mirrors of the main one.  No archive host is named in this file.
find_mirror() {
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\//) { print $i; next } }' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk '
			function flush() { if (deb && !off) for (i = 1; i <= n; i++) print u[i]; deb = off = n = 0 }
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
			tolower($1) == "enabled:" { off = (tolower($2) == "no") }
			tolower($1) == "uris:" { for (i = 2; i <= NF; i++) u[++n] = $i }
			END { flush() }' "$f"
	done
}

if [ ! -e "$dir/root/usr/include/mbedtls/build_info.h" ]; then
	for t in apt-get dpkg-deb; do
		command -v "$t" >>"$dir/tools.log" || die "$t not found: this script needs a Debian (or derived) machine with apt"
	done
	[ -r "$keyring" ] || die "$keyring missing: install debian-archive-keyring"
	mirror=$(find_mirror | grep -v -e '-security' -e '-ports' | grep -m1 '/debian/*$' || true)
	[ -n "$mirror" ] || die "no Debian mirror (a deb line or URIs: field ending in /debian) in /etc/apt/sources.list or /etc/apt/sources.list.d/*.list|*.sources; add one, or put Debian 13's $pkgs unpacked under $dir/root"
	# one source line: the machine's own mirror, Debian 13's suite
	printf '%s [signed-by=%s] %s trixie main\n' deb "$keyring" "${mirror%/}" >"$dir/apt/sources.list"
	# an empty status file of its own: nothing of the system's apt state is used
	: >"$dir/apt/status"
	opts="-o Dir::Etc::sourcelist=$dir/apt/sources.list -o Dir::Etc::sourceparts=-
	      -o Dir::State::lists=$dir/apt/lists -o Dir::Cache=$dir/apt/cache
	      -o Dir::State::status=$dir/apt/status -o APT::Sandbox::User=root"
	# shellcheck disable=SC2086
	apt-get -q $opts update || die "apt-get update of Debian 13's suite from ${mirror%/} failed (see above)"
	rm -f "$dir"/debs/*.deb
	# shellcheck disable=SC2086
	(cd "$dir/debs" && apt-get -q $opts download $pkgs) || die "downloading $pkgs failed (see above)"
	for d in "$dir"/debs/*.deb; do dpkg-deb -x "$d" "$dir/root"; done
	[ -e "$dir/root/usr/include/mbedtls/build_info.h" ] || die "the packages hold no mbedtls/build_info.h: not mbedTLS 3.x"
fi

lib="$dir/root/usr/lib/$(gcc -dumpmachine)"
[ -e "$lib/libmbedtls.so" ] || die "no $lib/libmbedtls.so: remove $dir/root and run again"
# the runtime packages, for the Debian package's dependencies (CPack)
debs=
for d in "$dir"/debs/*.deb; do
	case $d in
	*-dev_*) ;;
	*) debs="$debs${debs:+;}$d" ;;
	esac
done
[ -n "$debs" ] || die "no packages in $dir/debs: remove $dir/root and run again"
cmake -S "$root" -B "$dir/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DMBEDTLS_INCLUDE_DIR="$dir/root/usr/include" -DMBEDTLS_LIB="$lib/libmbedtls.so" \
	-DMBEDX509_LIB="$lib/libmbedx509.so" -DMBEDCRYPTO_LIB="$lib/libmbedcrypto.so" \
	-DCMAKE_BUILD_RPATH="$lib" -DIMAPSH_DEB_TLS_DEBS="$debs" >"$dir/cmake.log" || die "cmake failed; see $dir/cmake.log"
cmake --build "$dir/build" -j"$(nproc)"
"$dir/build/imapsh" --version | grep -q "mbedTLS 3\." ||
	die "the build did not pick up mbedTLS 3.x"
"$dir/build/imapsh" --version
[ "$build_only" = 0 ] || exit 0

# The system's Python: the test bed's DNS server needs Debian's python3-dnslib.
py=python3
[ ! -x /usr/bin/python3 ] || py=/usr/bin/python3
tb="$dir/testbed"
"$py" "$root/tests/testbed/testbed.py" stop "$tb" >"$dir/testbed-stop.log" 2>&1 || true
"$py" "$root/tests/testbed/testbed.py" start "$tb"
trap '"$py" "$root/tests/testbed/testbed.py" stop "$tb" >>"$dir/testbed-stop.log" 2>&1 || true' EXIT
# shellcheck disable=SC2046,SC2012
[ $# -gt 0 ] || set -- $(cd "$root/tests/integration" && ls test_*.py | sed 's/\.py$//')
cd "$root/tests/integration"
IMAPSH_TESTBED="$tb" IMAPSH_BIN="$dir/build/imapsh" IMAPSH_BUILD_DIR="$dir/build" \
	IMAPSH_TEST_DATA="$root/tests/data" "$py" -m unittest "$@"
