/* dns: the RFC 2782 order of SRV records, the "no service" answer, host
 * names and --dns-server values.  The lookups themselves run against the
 * test bed's DNS server (tests/integration/test_setup.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/dns.h"

struct seq {
	const uint32_t *v;
	size_t n, i;
};

static uint32_t next(void *ctx)
{
	struct seq *s = ctx;

	return s->v[s->i++ % s->n];
}

static void set(struct ims_dns_srv *r, const char *t, unsigned prio, unsigned weight)
{
	snprintf(r->target, sizeof(r->target), "%s", t);
	r->priority = prio;
	r->weight = weight;
	r->port = 993;
}

static void test_priority_first(void **state)
{
	struct ims_dns_srv v[3];
	uint32_t zero = 0;
	struct seq s = {&zero, 1, 0};

	(void)state;
	set(&v[0], "c", 30, 0);
	set(&v[1], "a", 10, 5);
	set(&v[2], "b", 20, 0);
	ims_dns_srv_order(v, 3, next, &s);
	assert_string_equal(v[0].target, "a");
	assert_string_equal(v[1].target, "b");
	assert_string_equal(v[2].target, "c");
}

static void test_weight_chooses(void **state)
{
	struct ims_dns_srv v[3];
	/* sum 1+2+7 = 10: a pick of 10 is past a (1) and b (3): c first;
	 * then sum 3 over a, b: a pick of 0 takes a (run 1 >= 0) */
	uint32_t picks[] = {10, 0};
	struct seq s = {picks, 2, 0};

	(void)state;
	set(&v[0], "a", 1, 1);
	set(&v[1], "b", 1, 2);
	set(&v[2], "c", 1, 7);
	ims_dns_srv_order(v, 3, next, &s);
	assert_string_equal(v[0].target, "c");
	assert_string_equal(v[1].target, "a");
	assert_string_equal(v[2].target, "b");
}

static void test_weight_zero_first_in_sum(void **state)
{
	struct ims_dns_srv v[2];
	uint32_t zero = 0;
	struct seq s = {&zero, 1, 0};

	(void)state;
	/* a pick of 0 takes the first record whose running sum reaches 0:
	 * the weight-0 one, placed first (RFC 2782) */
	set(&v[0], "heavy", 5, 10);
	set(&v[1], "zero", 5, 0);
	ims_dns_srv_order(v, 2, next, &s);
	assert_string_equal(v[0].target, "zero");
}

static void test_weights_share(void **state)
{
	/* over many random picks, a record of weight 3 leads about three
	 * times as often as one of weight 1 */
	uint32_t r = 12345;
	int first_a = 0, i;

	(void)state;
	for (i = 0; i < 4000; i++) {
		struct ims_dns_srv v[2];
		uint32_t pick;
		struct seq s = {&pick, 1, 0};

		r = r * 1103515245u + 12345u;
		pick = r >> 8;
		set(&v[0], "a", 0, 3);
		set(&v[1], "b", 0, 1);
		ims_dns_srv_order(v, 2, next, &s);
		first_a += strcmp(v[0].target, "a") == 0;
	}
	assert_true(first_a > 2700 && first_a < 3300);
}

static void test_no_service(void **state)
{
	struct ims_dns_srv v[2];

	(void)state;
	set(&v[0], ".", 0, 0);
	assert_true(ims_dns_srv_none(v, 1));
	set(&v[1], "imap.example.com", 0, 0);
	assert_false(ims_dns_srv_none(v, 2)); /* "." among others is not the rule */
	set(&v[0], "imap.example.com", 0, 0);
	assert_false(ims_dns_srv_none(v, 1));
	assert_false(ims_dns_srv_none(v, 0));
}

static void test_names(void **state)
{
	char longname[300];

	(void)state;
	assert_true(ims_dns_name_ok("imap.example.com", 16));
	assert_true(ims_dns_name_ok("imap.example.com.", 17));
	assert_true(ims_dns_name_ok("_imaps._tcp.example.com", 23));
	assert_false(ims_dns_name_ok("", 0));
	assert_false(ims_dns_name_ok(".", 1));
	assert_false(ims_dns_name_ok("a..b", 4));
	assert_false(ims_dns_name_ok(".a", 2));
	assert_false(ims_dns_name_ok("imap\x1b[31m.example", 17));
	assert_false(ims_dns_name_ok("imap\n.example", 13));
	assert_false(ims_dns_name_ok("a b", 3));
	assert_false(ims_dns_name_ok("a\\032b", 6));
	assert_false(ims_dns_name_ok("a\0b", 3));
	memset(longname, 'a', 64);
	assert_false(ims_dns_name_ok(longname, 64)); /* a label over 63 */
	assert_true(ims_dns_name_ok(longname, 63));
	memset(longname, 'a', sizeof(longname));
	for (size_t i = 50; i < sizeof(longname); i += 51)
		longname[i] = '.';
	assert_true(ims_dns_name_ok(longname, IMS_CAP_DNS_NAME));
	assert_false(ims_dns_name_ok(longname, IMS_CAP_DNS_NAME + 1));
}

static void test_server_spec(void **state)
{
	struct ims_error e;

	(void)state;
	assert_int_equal(ims_dns_server_check("127.0.0.1", &e), IMS_OK);
	assert_int_equal(ims_dns_server_check("127.0.0.1:5353", &e), IMS_OK);
	assert_int_equal(ims_dns_server_check("::1", &e), IMS_OK);
	assert_int_equal(ims_dns_server_check("[::1]:53", &e), IMS_OK);
	assert_int_equal(ims_dns_server_check("[::1]", &e), IMS_OK);
	assert_int_equal(ims_dns_server_check("dns.example.com", &e), IMS_ERR_USAGE);
	assert_non_null(strstr(e.msg, "ADDR:PORT"));
	assert_int_equal(ims_dns_server_check("127.0.0.1:0", &e), IMS_ERR_USAGE);
	assert_int_equal(ims_dns_server_check("127.0.0.1:65536", &e), IMS_ERR_USAGE);
	assert_int_equal(ims_dns_server_check("127.0.0.1:", &e), IMS_ERR_USAGE);
	assert_int_equal(ims_dns_server_check("127.0.0.1:53x", &e), IMS_ERR_USAGE);
	assert_int_equal(ims_dns_server_check("[::1]x", &e), IMS_ERR_USAGE);
	assert_int_equal(ims_dns_server_check("", &e), IMS_ERR_USAGE);
	assert_int_equal(ims_dns_server_check("1.2.3.4,5.6.7.8", &e), IMS_ERR_USAGE);
}

static void test_bad_name_refused_before_lookup(void **state)
{
	struct ims_dns d = {"127.0.0.1:9", 0};
	struct ims_dns_srv v[4];
	struct ims_error e;
	size_t n = 99;

	(void)state;
	assert_int_equal(ims_dns_srv(&d, "a\x01.example", v, 4, &n, &e), IMS_ERR_USAGE);
	assert_int_equal(n, 0);
	assert_non_null(strstr(e.msg, "not a host name"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_priority_first),
	    cmocka_unit_test(test_weight_chooses),
	    cmocka_unit_test(test_weight_zero_first_in_sum),
	    cmocka_unit_test(test_weights_share),
	    cmocka_unit_test(test_no_service),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_server_spec),
	    cmocka_unit_test(test_bad_name_refused_before_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
