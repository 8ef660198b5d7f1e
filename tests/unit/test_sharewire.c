/* --share's socket wire format (sharewire.h): requests and replies round
 * trip, and everything that is not exactly one is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/caps.h"
#include "imapsh/sharewire.h"

static void test_roundtrip(void **state)
{
	const char *argv[] = {"-a", "work", "list", "", "--json", "ünïcode"};
	struct ims_share_req r;
	struct ims_buf b;
	size_t i;

	(void)state;
	ims_buf_init(&b, 0);
	assert_int_equal(ims_share_req_encode(IMS_SHARE_RUN, 6, argv, &b), IMS_OK);
	assert_int_equal(ims_share_req_parse(b.data, b.len, &r), IMS_OK);
	assert_int_equal(r.kind, IMS_SHARE_RUN);
	assert_int_equal(r.argc, 6);
	for (i = 0; i < 6; i++)
		assert_string_equal(r.argv[i], argv[i]);
	assert_null(r.argv[6]);
	ims_share_req_release(&r);
	/* no words: a stop */
	ims_buf_reset(&b);
	assert_int_equal(ims_share_req_encode(IMS_SHARE_STOP, 0, NULL, &b), IMS_OK);
	assert_int_equal(b.len, 8);
	assert_int_equal(ims_share_req_parse(b.data, b.len, &r), IMS_OK);
	assert_int_equal(r.kind, IMS_SHARE_STOP);
	assert_int_equal(r.argc, 0);
	ims_share_req_release(&r);
	ims_buf_release(&b);
}

static void test_refused(void **state)
{
	const char *argv[] = {"list", "5"};
	struct ims_share_req r;
	struct ims_buf b;
	char *m;

	(void)state;
	ims_buf_init(&b, 0);
	assert_int_equal(ims_share_req_encode('X', 1, argv, &b), IMS_ERR_USAGE);
	assert_int_equal(ims_share_req_encode(IMS_SHARE_RUN, 2, argv, &b), IMS_OK);
	m = malloc(b.len + 1);
	assert_non_null(m);
	/* every cut is refused */
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(ims_share_req_parse(b.data, n, &r), IMS_ERR_PROTOCOL);
	/* a byte too many */
	memcpy(m, b.data, b.len);
	m[b.len] = 'x';
	assert_int_equal(ims_share_req_parse(m, b.len + 1, &r), IMS_ERR_PROTOCOL);
	/* wrong magic, version, kind */
	m[0] = 'J';
	assert_int_equal(ims_share_req_parse(m, b.len, &r), IMS_ERR_PROTOCOL);
	memcpy(m, b.data, b.len);
	m[4] = 2;
	assert_int_equal(ims_share_req_parse(m, b.len, &r), IMS_ERR_PROTOCOL);
	memcpy(m, b.data, b.len);
	m[5] = 'D';
	assert_int_equal(ims_share_req_parse(m, b.len, &r), IMS_ERR_PROTOCOL);
	/* a NUL inside a word */
	memcpy(m, b.data, b.len);
	m[13] = '\0';
	assert_int_equal(ims_share_req_parse(m, b.len, &r), IMS_ERR_PROTOCOL);
	/* a length past the end */
	memcpy(m, b.data, b.len);
	m[8] = 0x7f;
	assert_int_equal(ims_share_req_parse(m, b.len, &r), IMS_ERR_PROTOCOL);
	/* too many words announced */
	memcpy(m, b.data, b.len);
	m[6] = 0xff;
	assert_int_equal(ims_share_req_parse(m, b.len, &r), IMS_ERR_PROTOCOL);
	free(m);
	ims_buf_release(&b);
}

static void test_limits(void **state)
{
	static const char *many[IMS_CAP_SHARE_ARGS + 1];
	char *big = malloc(IMS_CAP_SHARE_MSG + 1);
	const char *one[1];
	struct ims_buf b;
	size_t i;

	(void)state;
	assert_non_null(big);
	memset(big, 'a', IMS_CAP_SHARE_MSG);
	big[IMS_CAP_SHARE_MSG] = '\0';
	one[0] = big;
	ims_buf_init(&b, 0);
	assert_int_equal(ims_share_req_encode(IMS_SHARE_RUN, 1, one, &b), IMS_ERR_LIMIT);
	for (i = 0; i <= IMS_CAP_SHARE_ARGS; i++)
		many[i] = "w";
	assert_int_equal(ims_share_req_encode(IMS_SHARE_RUN, IMS_CAP_SHARE_ARGS + 1, many, &b),
	                 IMS_ERR_LIMIT);
	ims_buf_reset(&b);
	assert_int_equal(ims_share_req_encode(IMS_SHARE_RUN, IMS_CAP_SHARE_ARGS, many, &b), IMS_OK);
	ims_buf_release(&b);
	free(big);
}

static void test_reply(void **state)
{
	unsigned char m[IMS_SHARE_REPLY_LEN];
	int kind, code;

	(void)state;
	ims_share_reply_encode(IMS_SHARE_DONE, 3, m);
	assert_int_equal(ims_share_reply_parse(m, sizeof(m), &kind, &code), IMS_OK);
	assert_int_equal(kind, IMS_SHARE_DONE);
	assert_int_equal(code, 3);
	ims_share_reply_encode(IMS_SHARE_DONE, 300, m);
	assert_int_equal(ims_share_reply_parse(m, sizeof(m), &kind, &code), IMS_OK);
	assert_int_equal(code, 255);
	ims_share_reply_encode(IMS_SHARE_GONE, 0, m);
	assert_int_equal(ims_share_reply_parse(m, sizeof(m), &kind, &code), IMS_OK);
	assert_int_equal(kind, IMS_SHARE_GONE);
	assert_int_equal(ims_share_reply_parse(m, sizeof(m) - 1, &kind, &code), IMS_ERR_PROTOCOL);
	m[5] = 'R';
	assert_int_equal(ims_share_reply_parse(m, sizeof(m), &kind, &code), IMS_ERR_PROTOCOL);
	m[5] = 'G';
	m[6] = 1;
	assert_int_equal(ims_share_reply_parse(m, sizeof(m), &kind, &code), IMS_ERR_PROTOCOL);
}

static void test_duration(void **state)
{
	unsigned s = 0;

	(void)state;
	assert_int_equal(ims_share_duration_parse("90", &s), 0);
	assert_int_equal(s, 90);
	assert_int_equal(ims_share_duration_parse("30s", &s), 0);
	assert_int_equal(s, 30);
	assert_int_equal(ims_share_duration_parse("5m", &s), 0);
	assert_int_equal(s, 300);
	assert_int_equal(ims_share_duration_parse("1h", &s), 0);
	assert_int_equal(s, 3600);
	assert_int_equal(ims_share_duration_parse("7d", &s), 0);
	assert_int_equal(s, 604800);
	assert_int_equal(ims_share_duration_parse("8d", &s), -1);
	assert_int_equal(ims_share_duration_parse("0", &s), -1);
	assert_int_equal(ims_share_duration_parse("", &s), -1);
	assert_int_equal(ims_share_duration_parse("m", &s), -1);
	assert_int_equal(ims_share_duration_parse("5mm", &s), -1);
	assert_int_equal(ims_share_duration_parse("5 m", &s), -1);
	assert_int_equal(ims_share_duration_parse("-5", &s), -1);
	assert_int_equal(ims_share_duration_parse("99999999999999999999", &s), -1);
	assert_int_equal(ims_share_duration_parse("stop", &s), -1);
	assert_int_equal(ims_share_duration_parse(NULL, &s), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip), cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_limits),    cmocka_unit_test(test_reply),
	    cmocka_unit_test(test_duration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
