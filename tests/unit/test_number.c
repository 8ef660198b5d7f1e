/* The one parser for numbers the user types: digits only, range-checked,
 * never wrapped or clamped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/number.h"

static int parse(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	return ims_number_parse(s, strlen(s), min, max, v);
}

static void test_good(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(parse("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse("10", 0, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(parse("007", 0, 10, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(parse("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(parse("4294967295", 1, UINT32_MAX, &v), 0);
	assert_true(v == UINT32_MAX);
}

static void test_bad(void **state)
{
	static const char *const bad[] = {
	    "",
	    "-1",
	    "+1",
	    " 1",
	    "1 ",
	    "1x",
	    "0x10",
	    "1e3",
	    "1.0",
	    "١",
	    "11", /* above max */
	    "18446744073709551616",
	    "18446744073709551617",
	    "99999999999999999999999999",
	};
	size_t i;
	uint64_t v = 42;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], 0, 10, &v) != -1)
			fail_msg("'%s' was taken", bad[i]);
		assert_true(v == 42); /* untouched */
	}
	assert_int_equal(parse("0", 1, 10, &v), -1);
	assert_int_equal(parse("18446744073709551616", 0, UINT64_MAX, &v), -1);
	assert_int_equal(ims_number_parse(NULL, 0, 0, 1, &v), -1);
	/* a length, not a C string: a NUL inside is a bad digit */
	assert_int_equal(ims_number_parse("1\0002", 3, 0, 1000, &v), -1);
	assert_int_equal(ims_number_parse("12", 1, 0, 1000, &v), 0);
	assert_true(v == 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
