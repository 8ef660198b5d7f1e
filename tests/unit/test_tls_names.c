/* Host name matching against certificate names (RFC 6125, CA/B baseline),
 * on length-counted bytes as they come from the certificate's DER. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/tlsname.h"

/* Names given with their length, so they may hold NUL. */
#define N(lit) ((const unsigned char *)(lit)), (sizeof(lit) - 1)

static int m1(const char *host, const char *san)
{
	return ims_tls_name_match(host, strlen(host), (const unsigned char *)san, strlen(san));
}

static int mb(const char *host, const unsigned char *name, size_t len)
{
	return ims_tls_name_match(host, strlen(host), name, len);
}

static void test_exact(void **state)
{
	(void)state;
	assert_true(m1("imap.example.test", "imap.example.test"));
	assert_true(m1("IMAP.Example.TEST", "imap.example.test"));
	assert_true(m1("imap.example.test.", "imap.example.test"));
	assert_true(m1("imap.example.test", "IMAP.EXAMPLE.TEST."));
	assert_true(m1("a-b.example.test", "A-B.example.test"));
	assert_true(m1("localhost", "localhost"));
	assert_false(m1("imap.example.test", "other.example.test"));
	assert_false(m1("imap.example.test", "example.test"));
	assert_false(m1("example.test", "imap.example.test"));
	assert_false(m1("", "imap.example.test"));
	assert_false(m1("imap.example.test", ""));
	assert_false(m1("imap.example.test", "."));
	assert_false(m1(".", "."));
	assert_false(ims_tls_name_match(NULL, 0, N("a.test")));
	assert_false(ims_tls_name_match("a.test", 6, NULL, 0));
}

/* The bytes a name is compared as: a NUL or any byte outside letters,
 * digits, '-' and '.' makes it match nothing, wherever it stands. */
static void test_nul_inside(void **state)
{
	(void)state;
	assert_false(mb("imap.example.test", N("imap.example.test\0.evil.test")));
	assert_false(mb("imap.example.test", N("imap.example.test\0")));
	assert_false(mb("imap.example.test", N("\0imap.example.test")));
	assert_false(mb("imap.example.test", N("imap\0.example.test")));
	assert_false(mb("imap.example.test", N("*.example.test\0.evil")));
	assert_false(mb("x.example.test", N("*\0.example.test")));
	assert_false(mb("imap.example.test", N("imap.example.test.\0")));
}

static void test_every_bad_byte(void **state)
{
	unsigned c;

	(void)state;
	/* Every byte value added in the middle, at the end and at the start:
	 * only a letter, a digit, '-' (and '.' where it makes well-formed
	 * labels) leaves a name that can match anything. */
	for (c = 0; c < 256; c++) {
		unsigned char mid[] = "imap.ex?ample.test";
		unsigned char end[] = "imap.example.test?";
		unsigned char start[] = "?imap.example.test";
		int ldh = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '-';

		mid[7] = (unsigned char)c;
		end[17] = (unsigned char)c;
		start[0] = (unsigned char)c;
		assert_false(mb("imap.example.test", mid, sizeof(mid) - 1));
		assert_false(mb("imap.example.test", start, sizeof(start) - 1));
		assert_int_equal(mb("imap.example.test", end, sizeof(end) - 1), c == '.');
		/* the name against itself as a host */
		assert_int_equal(mb((const char *)mid, mid, sizeof(mid) - 1), ldh || c == '.');
		assert_int_equal(mb((const char *)end, end, sizeof(end) - 1), ldh || c == '.');
		assert_int_equal(mb((const char *)start, start, sizeof(start) - 1), ldh);
	}
	/* controls, space, DEL, high bytes, punctuation */
	assert_false(mb("imap.example.test", N("imap.example.test\n")));
	assert_false(mb("imap.example.test", N("imap.example.test\r\n")));
	assert_false(mb("imap.example.test", N("imap.example.test ")));
	assert_false(mb("imap.example.test", N("imap\t.example.test")));
	assert_false(mb("imap.example.test", N("imap.example.test\x7f")));
	assert_false(mb("imap.example.test", N("imap.example.t\xc3\xa9st")));
	assert_false(mb("imap.example.test", N("imap.example.test\x80")));
	assert_false(mb("imap.example.test", N("imap.example.test\xff")));
	assert_false(mb("imap.example.test", N("imap_x.example.test")));
	assert_false(m1("imap_x.example.test", "imap_x.example.test"));
	assert_false(m1("imap.example.test", "imap.example.test/"));
	assert_false(m1("a:b.test", "a:b.test"));
}

static void test_labels(void **state)
{
	static const char l63[] =
	    "a23456789012345678901234567890123456789012345678901234567890123.test";
	static const char l64[] =
	    "a234567890123456789012345678901234567890123456789012345678901234.test";
	char big[300];

	(void)state;
	/* empty labels, leading and doubled dots */
	assert_false(m1("a..b.test", "a..b.test"));
	assert_false(m1("a.b.test", "a..b.test"));
	assert_false(m1(".a.test", ".a.test"));
	assert_false(m1("a.test", ".a.test"));
	assert_false(m1("a.test..", "a.test.."));
	assert_false(m1("a.test", "a.test.."));
	/* label and name lengths */
	assert_true(m1(l63, l63));
	assert_false(m1(l64, l64));
	memset(big, 'a', sizeof(big));
	for (size_t i = 1; i < sizeof(big); i += 2)
		big[i] = '.';
	big[253] = '\0'; /* 253 bytes: a.a. ... a */
	assert_true(m1(big, big));
	big[253] = 'a';
	big[254] = '\0'; /* 254 bytes */
	assert_false(m1(big, big));
}

static void test_wildcard(void **state)
{
	(void)state;
	assert_true(m1("imap.example.test", "*.example.test"));
	assert_true(m1("IMAP.example.test.", "*.EXAMPLE.test"));
	assert_true(m1("imap.example.test", "*.example.test."));
	/* only one label */
	assert_false(m1("a.imap.example.test", "*.example.test"));
	assert_false(m1("example.test", "*.example.test"));
	/* never over a single-label suffix */
	assert_false(m1("example.test", "*.test"));
	assert_false(m1("test", "*.test"));
	assert_false(m1("a.test", "*.test."));
	/* only as the whole left-most label */
	assert_false(m1("imap.example.test", "im*.example.test"));
	assert_false(m1("imap.example.test", "*map.example.test"));
	assert_false(m1("imap.example.test", "imap.*.test"));
	assert_false(m1("imap.example.test", "*.*.test"));
	assert_false(m1("imap.example.test", "**.example.test"));
	assert_false(m1("imap.example.test", "*"));
	assert_false(m1("imap.example.test", "*."));
	assert_false(m1("imap.example.test", "*.."));
	assert_false(m1("imap.example.test", "*..example.test"));
	assert_false(m1("imap.example.test", ".*.example.test"));
	assert_false(m1("imap.example.test", "imap.example.*"));
	assert_false(m1(".example.test", "*.example.test"));
	/* a host never holds a wildcard */
	assert_false(m1("*.example.test", "*.example.test"));
	assert_false(m1("*.example.test", "imap.example.test"));
}

static void test_ip(void **state)
{
	(void)state;
	/* an IP address written as a DNS name never matches */
	assert_false(m1("127.0.0.1", "127.0.0.1"));
	assert_false(m1("::1", "::1"));
	assert_false(m1("127.0.0.1", "*.0.0.1"));
	assert_false(m1("1.2.3", "1.2.3"));
	/* digits are fine in other labels, or mixed in the last */
	assert_true(m1("10.example.test", "10.example.test"));
	assert_true(m1("a.b2", "a.b2"));
}

static void test_host_ok(void **state)
{
	(void)state;
	assert_true(ims_tls_host_ok("imap.example.test", 17));
	assert_true(ims_tls_host_ok("imap.example.test.", 18));
	assert_true(ims_tls_host_ok("localhost", 9));
	assert_false(ims_tls_host_ok("imap.example.test\0x", 19));
	assert_false(ims_tls_host_ok("imap\x1b.test", 10));
	assert_false(ims_tls_host_ok("imap example.test", 17));
	assert_false(ims_tls_host_ok("*.example.test", 14));
	assert_false(ims_tls_host_ok("a..test", 7));
	assert_false(ims_tls_host_ok("", 0));
	assert_false(ims_tls_host_ok(NULL, 0));
	assert_false(ims_tls_host_ok("127.0.0.1", 9));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exact),          cmocka_unit_test(test_nul_inside),
	    cmocka_unit_test(test_every_bad_byte), cmocka_unit_test(test_labels),
	    cmocka_unit_test(test_wildcard),       cmocka_unit_test(test_ip),
	    cmocka_unit_test(test_host_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
