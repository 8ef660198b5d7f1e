/* The one message-argument grammar (src/cli/msgarg.c): UIDs, "#N"
 * sequence numbers, ranges, "*" and sets, for every command. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli/msgarg.h"

/* word parses; its canonical set, '#' and single/star are as given. */
static void ok(const char *word, const char *set, int seq, uint32_t single, int star)
{
	struct cli_msgarg m;
	struct ims_error err;

	cli_msgarg_init(&m);
	ims_error_init(&err);
	if (cli_msgarg_parse(word, &m, &err) != IMS_OK)
		fail_msg("%s: %s", word, err.msg);
	assert_string_equal(m.set.data, set);
	assert_int_equal(m.seq, seq);
	assert_int_equal(m.single, single);
	assert_int_equal(m.star, star);
	assert_int_equal(cli_msgarg_is_one(&m), single != 0 || star);
	cli_msgarg_release(&m);
}

static void bad(const char *word)
{
	struct cli_msgarg m;
	struct ims_error err;

	cli_msgarg_init(&m);
	ims_error_init(&err);
	assert_int_equal(cli_msgarg_parse(word, &m, &err), IMS_ERR_USAGE);
	assert_non_null(strstr(err.msg, "is not a message set"));
	assert_non_null(strstr(err.msg, "#N for a sequence number"));
	cli_msgarg_release(&m);
}

static void test_forms(void **state)
{
	(void)state;
	ok("42", "42", 0, 42, 0);
	ok("4294967295", "4294967295", 0, 4294967295u, 0);
	ok("1:100", "1:100", 0, 0, 0);
	ok("100:1", "1:100", 0, 0, 0);
	ok("1,5,9:12", "1,5,9:12", 0, 0, 0);
	ok("1,2,3", "1:3", 0, 0, 0);
	ok("*", "*", 0, 0, 1);
	ok("7:*", "7:*", 0, 0, 0);
	ok("#7", "7", 1, 7, 0);
	ok("#*", "*", 1, 0, 1);
	ok("#1:5", "1:5", 1, 0, 0);
}

static void test_errors(void **state)
{
	(void)state;
	bad("");
	bad("0");
	bad("01");
	bad("#");
	bad("##1");
	bad("1:");
	bad("1 2");
	bad("abc");
	bad("-1");
	bad("4294967296");
	bad("1,,2");
}

static void test_one(void **state)
{
	struct cli_msgarg m;
	struct ims_error err;

	(void)state;
	cli_msgarg_init(&m);
	ims_error_init(&err);
	assert_int_equal(cli_msgarg_parse_one("show", "*", &m, &err), IMS_OK);
	assert_true(m.star);
	assert_int_equal(cli_msgarg_parse_one("show", "#3", &m, &err), IMS_OK);
	assert_int_equal(m.single, 3);
	assert_true(m.seq);
	assert_int_equal(cli_msgarg_parse_one("show", "9", &m, &err), IMS_OK);
	assert_int_equal(m.single, 9);
	assert_int_equal(cli_msgarg_parse_one("show", "1:5", &m, &err), IMS_ERR_USAGE);
	assert_string_equal(err.msg, "show: '1:5' names more than one message (one UID, * for the "
	                             "newest, or #N for a sequence number)");
	assert_int_equal(cli_msgarg_parse_one("show", "x", &m, &err), IMS_ERR_USAGE);
	assert_true(strncmp(err.msg, "show: 'x' is not a message set", 30) == 0);
	/* a control character in the word is not echoed raw */
	assert_int_equal(cli_msgarg_parse_one("show", "1\x1b[2J", &m, &err), IMS_ERR_USAGE);
	assert_null(strchr(err.msg, '\x1b'));
	cli_msgarg_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_forms),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_one),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
