/* Host name matching against certificate names (RFC 6125, CA/B baseline). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "imapsh/transport.h"

static int m1(const char *host, const char *san)
{
	const char *sans[1] = {san};

	return ims_tls_name_matches(host, sans, 1);
}

static void test_exact(void **state)
{
	(void)state;
	assert_true(m1("imap.example.test", "imap.example.test"));
	assert_true(m1("IMAP.Example.TEST", "imap.example.test"));
	assert_true(m1("imap.example.test.", "imap.example.test"));
	assert_true(m1("imap.example.test", "IMAP.EXAMPLE.TEST."));
	assert_false(m1("imap.example.test", "other.example.test"));
	assert_false(m1("imap.example.test", "example.test"));
	assert_false(m1("example.test", "imap.example.test"));
	assert_false(m1("", "imap.example.test"));
	assert_false(m1("imap.example.test", ""));
}

static void test_wildcard(void **state)
{
	(void)state;
	assert_true(m1("imap.example.test", "*.example.test"));
	assert_true(m1("IMAP.example.test.", "*.EXAMPLE.test"));
	/* only one label */
	assert_false(m1("a.imap.example.test", "*.example.test"));
	assert_false(m1("example.test", "*.example.test"));
	/* never over a single-label suffix */
	assert_false(m1("example.test", "*.test"));
	assert_false(m1("test", "*.test"));
	/* only as the whole left-most label */
	assert_false(m1("imap.example.test", "im*.example.test"));
	assert_false(m1("imap.example.test", "*map.example.test"));
	assert_false(m1("imap.example.test", "imap.*.test"));
	assert_false(m1("imap.example.test", "*.*.test"));
	assert_false(m1("imap.example.test", "*"));
	assert_false(m1(".example.test", "*.example.test"));
}

static void test_ip(void **state)
{
	(void)state;
	/* an IP address written as a DNS name never matches */
	assert_false(m1("127.0.0.1", "127.0.0.1"));
	assert_false(m1("::1", "::1"));
	assert_false(m1("127.0.0.1", "*.0.0.1"));
}

static void test_list(void **state)
{
	const char *sans[3] = {"a.example.test", "*.mail.example.test", "imap.example.test"};

	(void)state;
	assert_true(ims_tls_name_matches("imap.example.test", sans, 3));
	assert_true(ims_tls_name_matches("x.mail.example.test", sans, 3));
	assert_false(ims_tls_name_matches("b.example.test", sans, 3));
	assert_false(ims_tls_name_matches("imap.example.test", sans, 0));
	assert_false(ims_tls_name_matches(NULL, sans, 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exact),
	    cmocka_unit_test(test_wildcard),
	    cmocka_unit_test(test_ip),
	    cmocka_unit_test(test_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
