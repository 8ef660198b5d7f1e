/* discover: addresses, the domain rule, merging candidates, their order,
 * and the trust rule of setup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/autoconfig.h"
#include "imapsh/discover.h"

static void test_addresses(void **state)
{
	struct ims_disc d;
	struct ims_error e;

	(void)state;
	assert_int_equal(ims_disc_init(&d, "alice@Example.COM", &e), IMS_OK);
	assert_string_equal(d.local, "alice");
	assert_string_equal(d.domain, "Example.COM");
	assert_int_equal(ims_disc_init(&d, "alice", &e), IMS_ERR_USAGE);
	assert_non_null(strstr(e.msg, "LOCAL@DOMAIN"));
	assert_int_equal(ims_disc_init(&d, "@example.com", &e), IMS_ERR_USAGE);
	assert_int_equal(ims_disc_init(&d, "a@b@example.com", &e), IMS_ERR_USAGE);
	assert_int_equal(ims_disc_init(&d, "a b@example.com", &e), IMS_ERR_USAGE);
	assert_int_equal(ims_disc_init(&d, "a@exa\x1bmple.com", &e), IMS_ERR_USAGE);
	assert_int_equal(ims_disc_init(&d, "a@localhost", &e), IMS_ERR_USAGE);
	assert_int_equal(ims_disc_init(&d, "a@1.2.3.4", &e), IMS_ERR_USAGE);
}

static void test_in_domain(void **state)
{
	(void)state;
	assert_true(ims_disc_in_domain("example.com", "example.com"));
	assert_true(ims_disc_in_domain("imap.EXAMPLE.com.", "example.com"));
	assert_false(ims_disc_in_domain("badexample.com", "example.com"));
	assert_false(ims_disc_in_domain("example.com.evil.test", "example.com"));
	assert_false(ims_disc_in_domain("com", "example.com"));
}

static void test_merge_and_order(void **state)
{
	struct ims_disc d;
	struct ims_error e;
	char buf[64];

	(void)state;
	assert_int_equal(ims_disc_init(&d, "alice@example.com", &e), IMS_OK);
	ims_disc_add(&d, IMS_SRC_SRV, "mail.provider.test.", 993, IMS_DISC_IMPLICIT, NULL, 0);
	ims_disc_add(&d, IMS_SRC_GUESS, "imap.example.com", 993, IMS_DISC_IMPLICIT, NULL, 0);
	ims_disc_add(&d, IMS_SRC_AUTOCONFIG, "imap.example.com", 143, IMS_DISC_PLAIN, "alice", 0);
	ims_disc_add(&d, IMS_SRC_ISPDB, "Mail.Provider.TEST", 993, IMS_DISC_IMPLICIT, "alice",
	             IMS_AC_AUTH_PASSWORD);
	assert_int_equal(d.n, 3);
	ims_disc_sort(&d);
	assert_string_equal(d.c[0].host, "mail.provider.test");
	assert_string_equal(ims_disc_sources(&d.c[0], buf, sizeof(buf)), "ispdb,srv");
	assert_string_equal(d.c[0].user, "alice");
	assert_true(d.c[0].outside);
	assert_false(ims_disc_needs_confirm(&d.c[0])); /* the ISPDB vouches for it */
	assert_string_equal(d.c[1].host, "imap.example.com");
	assert_int_equal(d.c[1].sources, 1u << IMS_SRC_GUESS);
	assert_int_equal(d.c[2].tls, IMS_DISC_PLAIN); /* plaintext last, whatever its source */
}

static void test_trust_rule(void **state)
{
	struct ims_disc d;
	struct ims_error e;

	(void)state;
	assert_int_equal(ims_disc_init(&d, "alice@example.com", &e), IMS_OK);
	ims_disc_add(&d, IMS_SRC_SRV, "imap.evil.test", 993, IMS_DISC_IMPLICIT, NULL, 0);
	ims_disc_add(&d, IMS_SRC_SRV, "imap.example.com", 993, IMS_DISC_IMPLICIT, NULL, 0);
	ims_disc_add(&d, IMS_SRC_MX_ISPDB, "imap.gmail.test", 993, IMS_DISC_IMPLICIT, NULL, 0);
	ims_disc_add(&d, IMS_SRC_AUTOCONFIG, "imap.hoster.test", 993, IMS_DISC_IMPLICIT, NULL, 0);
	assert_true(ims_disc_needs_confirm(&d.c[0]));  /* outside, plain DNS */
	assert_false(ims_disc_needs_confirm(&d.c[1])); /* inside */
	assert_true(ims_disc_needs_confirm(&d.c[2]));  /* outside, from the MX */
	assert_false(ims_disc_needs_confirm(&d.c[3])); /* the domain's own HTTPS said so */
}

static void test_cap(void **state)
{
	struct ims_disc d;
	struct ims_error e;
	char host[64];
	unsigned i;

	(void)state;
	assert_int_equal(ims_disc_init(&d, "alice@example.com", &e), IMS_OK);
	for (i = 0; i < IMS_CAP_SETUP_CANDIDATES + 3; i++) {
		snprintf(host, sizeof(host), "h%u.example.com", i);
		ims_disc_add(&d, IMS_SRC_SRV, host, 993, IMS_DISC_IMPLICIT, NULL, 0);
	}
	assert_int_equal(d.n, IMS_CAP_SETUP_CANDIDATES);
	assert_int_equal(d.dropped, 3);
}

static void test_mx_domain(void **state)
{
	(void)state;
	assert_string_equal(ims_disc_mx_domain("aspmx.l.google.com"), "google.com");
	assert_string_equal(ims_disc_mx_domain("mx.example.test."), "example.test.");
	assert_string_equal(ims_disc_mx_domain("example.test"), "example.test");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addresses),
	    cmocka_unit_test(test_in_domain),
	    cmocka_unit_test(test_merge_and_order),
	    cmocka_unit_test(test_trust_rule),
	    cmocka_unit_test(test_cap),
	    cmocka_unit_test(test_mx_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
