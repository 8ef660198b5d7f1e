/* Sequence sets: parsing, normalisation, canonical formatting, membership,
 * counting and iteration, and every parse error with its words. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/seqset.h"

/* Parse in, format, compare with want. */
static void check_canon(const char *in, const char *want)
{
	struct ims_seqset s, s2;
	struct ims_buf b;
	struct ims_error err;

	ims_seqset_init(&s);
	ims_seqset_init(&s2);
	ims_buf_init(&b, 0);
	ims_error_init(&err);
	if (ims_seqset_parse(&s, in, strlen(in), &err) != IMS_OK)
		fail_msg("parse \"%s\": %s", in, err.msg);
	assert_int_equal(ims_seqset_format(&s, &b, &err), IMS_OK);
	if (strcmp(b.data, want) != 0)
		fail_msg("\"%s\" formats as \"%s\", want \"%s\"", in, b.data, want);
	/* The canonical form parses to the same set. */
	assert_int_equal(ims_seqset_parse(&s2, b.data, b.len, &err), IMS_OK);
	assert_true(ims_seqset_equal(&s, &s2));
	ims_buf_release(&b);
	ims_seqset_release(&s);
	ims_seqset_release(&s2);
}

static void test_canonical(void **state)
{
	(void)state;
	check_canon("42", "42");
	check_canon("1:100", "1:100");
	check_canon("1,5,9:12", "1,5,9:12");
	check_canon("*", "*");
	check_canon("5:3", "3:5");
	check_canon("1:4294967295", "1:4294967295");
	check_canon("4294967295", "4294967295");
	check_canon("4294967295,1", "1,4294967295");
	check_canon("1,2,3", "1:3");
	check_canon("3,1,2", "1:3");
	check_canon("1,3,5,2,4", "1:5");
	check_canon("5,1,9:12,2,7", "1:2,5,7,9:12");
	check_canon("1:5,3:8,10,9", "1:10");
	check_canon("100:200,1:1000", "1:1000");
	check_canon("10:20,1:3,5:9", "1:3,5:20");
	check_canon("7:*", "7:*");
	check_canon("*:7", "7:*");
	check_canon("*:*", "*");
	check_canon("*,5:*", "5:*");
	check_canon("5:*,*", "5:*");
	check_canon("*,*", "*");
	check_canon("10:*,2:*,10:*", "2:*,10:*");
	check_canon("1:3,*,2", "1:3,*");
	check_canon("9,*:4,1", "1,9,4:*");
	check_canon("4294967294:4294967295,1:4294967293", "1:4294967295");
}

static void check_bad(const char *in, size_t len, const char *msg)
{
	struct ims_seqset s;
	struct ims_error err;

	ims_seqset_init(&s);
	/* Leave something in the set: a failed parse empties it. */
	assert_int_equal(ims_seqset_add(&s, 1, 2, &err), IMS_OK);
	ims_error_init(&err);
	assert_int_equal(ims_seqset_parse(&s, in, len, &err), IMS_ERR_USAGE);
	assert_int_equal(err.code, IMS_ERR_USAGE);
	if (strcmp(err.msg, msg) != 0)
		fail_msg("\"%.*s\": got \"%s\", want \"%s\"", (int)len, in, err.msg, msg);
	assert_true(ims_seqset_empty(&s));
	ims_seqset_release(&s);
}

#define BAD(s, m) check_bad(s, sizeof(s) - 1, m)

static void test_errors(void **state)
{
	(void)state;
	BAD("", "bad message set: empty");
	BAD("0", "bad message set: 0 at position 1 (numbers start at 1)");
	BAD("1,0", "bad message set: 0 at position 3 (numbers start at 1)");
	BAD("0:5", "bad message set: 0 at position 1 (numbers start at 1)");
	BAD("01", "bad message set: number with a leading zero at position 1");
	BAD("4294967296",
	    "bad message set: number at position 1 is too large (the largest is 4294967295)");
	BAD("1:99999999999999999999",
	    "bad message set: number at position 3 is too large (the largest is 4294967295)");
	BAD("1,", "bad message set: expected a number or '*', found the end");
	BAD(",1", "bad message set: expected a number or '*', found ',' at position 1");
	BAD("1,,2", "bad message set: expected a number or '*', found ',' at position 3");
	BAD("1:", "bad message set: expected a number or '*', found the end");
	BAD("1::2", "bad message set: expected a number or '*', found ':' at position 3");
	BAD("1:2:3", "bad message set: expected ',', found ':' at position 4");
	BAD("**", "bad message set: expected ',' or ':', found '*' at position 2");
	BAD("1 ,2", "bad message set: expected ',' or ':', found a space at position 2");
	BAD(" 1", "bad message set: expected a number or '*', found a space at position 1");
	BAD("a", "bad message set: expected a number or '*', found 'a' at position 1");
	BAD("#5", "bad message set: expected a number or '*', found '#' at position 1");
	BAD("-1", "bad message set: expected a number or '*', found '-' at position 1");
	BAD("1\n", "bad message set: expected ',' or ':', found byte 0x0a at position 2");
	BAD("1\0", "bad message set: expected ',' or ':', found byte 0x00 at position 2");
	BAD("5\xc3\xa1", "bad message set: expected ',' or ':', found byte 0xc3 at position 2");
}

static char *fmt(const struct ims_seqset *s)
{
	struct ims_buf b;
	struct ims_error err;

	ims_buf_init(&b, 0);
	assert_int_equal(ims_seqset_format(s, &b, &err), IMS_OK);
	return ims_buf_take(&b, NULL);
}

static void test_add(void **state)
{
	static const uint32_t uids[] = {7, 1, 2, 3, 5, 4, 10, 9, 3};
	struct ims_seqset s;
	struct ims_error err;
	uint32_t zero[] = {4, 0};
	uint32_t i;
	char *t;

	(void)state;
	ims_seqset_init(&s);
	assert_int_equal(ims_seqset_add_list(&s, uids, 9, &err), IMS_OK);
	t = fmt(&s);
	assert_string_equal(t, "1:5,7,9:10");
	free(t);

	assert_int_equal(ims_seqset_add_list(&s, zero, 2, &err), IMS_ERR_USAGE);
	assert_string_equal(err.msg, "message set: 0 is not a valid number");

	assert_int_equal(ims_seqset_add(&s, 30, 20, &err), IMS_OK);
	assert_int_equal(ims_seqset_add(&s, IMS_SEQ_STAR, 50, &err), IMS_OK);
	assert_int_equal(ims_seqset_add(&s, IMS_SEQ_STAR, IMS_SEQ_STAR, &err), IMS_OK);
	assert_int_equal(ims_seqset_add(&s, 8, 8, &err), IMS_OK);
	assert_true(ims_seqset_has_star(&s));
	t = fmt(&s);
	assert_string_equal(t, "1:5,7:10,20:30,50:*");
	free(t);

	/* Descending adds still merge. */
	ims_seqset_clear(&s);
	assert_false(ims_seqset_has_star(&s));
	for (i = 1000; i >= 1; i--)
		assert_int_equal(ims_seqset_add(&s, i, i, &err), IMS_OK);
	assert_int_equal(s.n, 1);
	t = fmt(&s);
	assert_string_equal(t, "1:1000");
	free(t);

	/* Every other UID: nothing to compress. */
	ims_seqset_clear(&s);
	for (i = 1; i <= 9; i += 2)
		assert_int_equal(ims_seqset_add(&s, i, i, &err), IMS_OK);
	t = fmt(&s);
	assert_string_equal(t, "1,3,5,7,9");
	free(t);
	/* Fill a gap in the middle: joins both neighbours. */
	assert_int_equal(ims_seqset_add(&s, 4, 4, &err), IMS_OK);
	t = fmt(&s);
	assert_string_equal(t, "1,3:5,7,9");
	free(t);
	assert_int_equal(ims_seqset_add(&s, 2, 8, &err), IMS_OK);
	t = fmt(&s);
	assert_string_equal(t, "1:9");
	free(t);
	ims_seqset_release(&s);
}

static void test_format_errors(void **state)
{
	struct ims_seqset s;
	struct ims_buf b;
	struct ims_error err;

	(void)state;
	ims_seqset_init(&s);
	ims_buf_init(&b, 10);
	assert_int_equal(ims_seqset_format(&s, &b, &err), IMS_ERR_USAGE);
	assert_string_equal(err.msg, "empty message set");
	assert_int_equal(ims_seqset_parse(&s, "1,3,5,7,9,11", 12, &err), IMS_OK);
	assert_int_equal(ims_buf_puts(&b, "UID "), IMS_OK);
	assert_int_equal(ims_seqset_format(&s, &b, &err), IMS_ERR_LIMIT);
	assert_string_equal(err.msg, "message set: too long");
	assert_string_equal(b.data, "UID ");
	ims_buf_release(&b);
	ims_seqset_release(&s);
}

static struct ims_seqset parsed(const char *in)
{
	struct ims_seqset s;
	struct ims_error err;

	ims_seqset_init(&s);
	assert_int_equal(ims_seqset_parse(&s, in, strlen(in), &err), IMS_OK);
	return s;
}

static void test_contains(void **state)
{
	struct ims_seqset s = parsed("1:5,7,10:*");

	(void)state;
	assert_true(ims_seqset_contains(&s, 20, 1));
	assert_true(ims_seqset_contains(&s, 20, 5));
	assert_false(ims_seqset_contains(&s, 20, 6));
	assert_true(ims_seqset_contains(&s, 20, 7));
	assert_false(ims_seqset_contains(&s, 20, 9));
	assert_true(ims_seqset_contains(&s, 20, 10));
	assert_true(ims_seqset_contains(&s, 20, 20));
	assert_false(ims_seqset_contains(&s, 20, 21));
	assert_false(ims_seqset_contains(&s, 20, 0));
	/* * below 10: "10:*" is 8:10. */
	assert_true(ims_seqset_contains(&s, 8, 8));
	assert_true(ims_seqset_contains(&s, 8, 10));
	assert_false(ims_seqset_contains(&s, 8, 11));
	/* Empty mailbox: * matches nothing, explicit numbers still do. */
	assert_false(ims_seqset_contains(&s, 0, 10));
	assert_true(ims_seqset_contains(&s, 0, 3));
	ims_seqset_release(&s);

	s = parsed("*");
	assert_true(ims_seqset_contains(&s, 50, 50));
	assert_false(ims_seqset_contains(&s, 50, 49));
	assert_false(ims_seqset_contains(&s, 0, 1));
	ims_seqset_release(&s);

	s = parsed("4294967295");
	assert_true(ims_seqset_contains(&s, 1, 4294967295u));
	assert_false(ims_seqset_contains(&s, 1, 4294967294u));
	ims_seqset_release(&s);
}

static void check_count(const char *in, uint32_t max, uint64_t cap, uint64_t want)
{
	struct ims_seqset s = parsed(in);
	uint64_t got = ims_seqset_count(&s, max, cap);

	if (got != want)
		fail_msg("count(\"%s\", max %u, cap %llu) = %llu, want %llu", in, (unsigned)max,
		         (unsigned long long)cap, (unsigned long long)got,
		         (unsigned long long)want);
	ims_seqset_release(&s);
}

static void test_count(void **state)
{
	(void)state;
	check_count("1:5,7,10:*", 20, 0, 17);
	check_count("1:5,7,10:*", 20, 10, 10);
	check_count("1:5,7,10:*", 0, 0, 6);
	check_count("1:5,7,10:*", 8, 0, 9);
	check_count("1:10,*", 5, 0, 10);
	check_count("1:10,*", 15, 0, 11);
	check_count("3:*,1:10", 5, 0, 10);
	check_count("3:*,1:10", 12, 0, 12);
	check_count("20:*,2:*", 10, 0, 19);
	check_count("1:4294967295", 0, 0, 4294967295u);
	check_count("1:4294967295,*", 4294967295u, 0, 4294967295u);
	check_count("*", 4294967295u, 0, 1);
	check_count("1:4294967295", 1, 1000, 1000);
}

static void check_iter(const char *in, uint32_t max, const uint32_t *want, size_t n)
{
	struct ims_seqset s = parsed(in);
	struct ims_seqset_iter it;
	uint32_t v;
	size_t i = 0;

	ims_seqset_iter_init(&it, &s, max);
	while (ims_seqset_next(&it, &v)) {
		assert_true(i < n);
		assert_int_equal(v, want[i]);
		i++;
	}
	assert_int_equal(i, n);
	assert_false(ims_seqset_next(&it, &v));
	assert_int_equal(ims_seqset_count(&s, max, 0), n);
	ims_seqset_release(&s);
}

static void test_iterate(void **state)
{
	static const uint32_t a[] = {1, 2, 3, 7, 10, 11, 12};
	static const uint32_t b[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 16, 17, 18, 19, 20};
	static const uint32_t c[] = {3, 5, 6, 7, 8};
	static const uint32_t d[] = {4294967294u, 4294967295u};
	static const uint32_t e[] = {6};

	(void)state;
	check_iter("1:3,7,10:*", 12, a, 7);
	check_iter("1:10,*:20", 15, b, 16);
	check_iter("8:*,3", 5, c, 5);
	check_iter("4294967294:*", 4294967295u, d, 2);
	check_iter("4294967295,4294967294", 1, d, 2);
	check_iter("*", 0, NULL, 0);
	check_iter("*", 6, e, 1);
	check_iter("6,*", 6, e, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_canonical), cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_add),       cmocka_unit_test(test_format_errors),
	    cmocka_unit_test(test_contains),  cmocka_unit_test(test_count),
	    cmocka_unit_test(test_iterate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
