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

/* No raw control byte (C0, DEL) in err.msg: the word is shown made safe. */
static void assert_clean(const char *msg)
{
	const unsigned char *p;

	for (p = (const unsigned char *)msg; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			fail_msg("raw byte 0x%02x in '%s'", *p, msg);
}

/* Every one-byte word: only a digit 1-9 and "*" name messages; every
 * other byte is a usage error whose words are safe to print. */
static void test_every_byte_alone(void **state)
{
	struct cli_msgarg m;
	struct ims_error err;
	char word[2];
	int b;

	(void)state;
	for (b = 1; b < 256; b++) {
		ims_err r;

		word[0] = (char)b;
		word[1] = '\0';
		cli_msgarg_init(&m);
		ims_error_init(&err);
		r = cli_msgarg_parse(word, &m, &err);
		if ((b >= '1' && b <= '9') || b == '*') {
			assert_int_equal(r, IMS_OK);
			assert_string_equal(m.set.data, word);
			assert_true(cli_msgarg_is_one(&m));
			assert_int_equal(m.star, b == '*');
			assert_int_equal(m.single, b == '*' ? 0 : (uint32_t)(b - '0'));
		} else {
			assert_int_equal(r, IMS_ERR_USAGE);
			assert_clean(err.msg);
			assert_null(m.set.data); /* nothing kept after a failure */
		}
		cli_msgarg_release(&m);
	}
}

/* Every byte put in every place of a valid set: each result is either
 * accepted, and then canonical text that parses to itself, or a usage
 * error with safe words; nothing else. */
static void test_every_byte_everywhere(void **state)
{
	static const char base[] = "#1:5,9,12:*";
	size_t len = sizeof(base) - 1, pos;
	int b;

	(void)state;
	for (pos = 0; pos <= len; pos++)
		for (b = 1; b < 256; b++) {
			struct cli_msgarg m, again;
			struct ims_error err;
			char word[sizeof(base) + 1];
			ims_err r;

			memcpy(word, base, pos);
			word[pos] = (char)b;
			memcpy(word + pos + 1, base + pos, len - pos + 1);
			cli_msgarg_init(&m);
			cli_msgarg_init(&again);
			ims_error_init(&err);
			r = cli_msgarg_parse(word, &m, &err);
			if (r != IMS_OK) {
				assert_int_equal(r, IMS_ERR_USAGE);
				assert_clean(err.msg);
				continue;
			}
			/* the canonical set is its own canonical form */
			assert_int_equal(cli_msgarg_parse(m.set.data, &again, &err), IMS_OK);
			assert_string_equal(again.set.data, m.set.data);
			cli_msgarg_release(&again);
			cli_msgarg_release(&m);
		}
}

/* Every prefix of a long valid word: the ones that end in a digit or "*"
 * parse, the others (ending in ':', ',' or '#') do not. */
static void test_every_prefix(void **state)
{
	static const char full[] = "#10:20,3,4294967295,7:*";
	size_t n;

	(void)state;
	for (n = 0; n <= sizeof(full) - 1; n++) {
		struct cli_msgarg m;
		struct ims_error err;
		char word[sizeof(full)];
		char last = n > 0 ? full[n - 1] : '\0';
		ims_err r;

		memcpy(word, full, n);
		word[n] = '\0';
		cli_msgarg_init(&m);
		r = cli_msgarg_parse(word, &m, &err);
		if ((last >= '0' && last <= '9') || last == '*')
			assert_int_equal(r, IMS_OK);
		else
			assert_int_equal(r, IMS_ERR_USAGE);
		cli_msgarg_release(&m);
	}
	bad("#10:20,3,42949672950");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_forms),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_one),
	    cmocka_unit_test(test_every_byte_alone),
	    cmocka_unit_test(test_every_byte_everywhere),
	    cmocka_unit_test(test_every_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
