/* Sizes and dates between people and IMAP (units.h): the formats every
 * command shows and the conversions of what a user types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "imapsh/units.h"

static void test_size_iec(void **state)
{
	char b[IMS_UNITS_MAX];

	(void)state;
	assert_string_equal(ims_size_iec(0, b, sizeof(b)), "0 B");
	assert_string_equal(ims_size_iec(1023, b, sizeof(b)), "1023 B");
	assert_string_equal(ims_size_iec(1024, b, sizeof(b)), "1.0 KiB");
	assert_string_equal(ims_size_iec(236442, b, sizeof(b)), "230.9 KiB");
	assert_string_equal(ims_size_iec(50ull << 20, b, sizeof(b)), "50.0 MiB");
	assert_string_equal(ims_size_iec(3ull << 40, b, sizeof(b)), "3.0 TiB");
	/* Past TiB the unit grows (show and quota once disagreed here). */
	assert_string_equal(ims_size_iec(1ull << 50, b, sizeof(b)), "1.0 PiB");
	assert_string_equal(ims_size_iec(UINT64_MAX, b, sizeof(b)), "16384.0 PiB");
}

static void test_size_short(void **state)
{
	char b[IMS_UNITS_MAX];

	(void)state;
	assert_string_equal(ims_size_short(0, b, sizeof(b)), "0");
	assert_string_equal(ims_size_short(368, b, sizeof(b)), "368");
	assert_string_equal(ims_size_short(999, b, sizeof(b)), "999");
	assert_string_equal(ims_size_short(1000, b, sizeof(b)), "1.0K");
	assert_string_equal(ims_size_short(1331, b, sizeof(b)), "1.3K");
	assert_string_equal(ims_size_short(222208, b, sizeof(b)), "217K");
	assert_string_equal(ims_size_short(12ull << 20, b, sizeof(b)), "12M");
	assert_string_equal(ims_size_short(1023ull << 10, b, sizeof(b)), "1.0M");
	assert_string_equal(ims_size_short(UINT64_MAX, b, sizeof(b)), "16384P");
	assert_string_equal(ims_size_mb(12345678, b, sizeof(b)), "12.3 MB");
	assert_string_equal(ims_size_mb(0, b, sizeof(b)), "0.0 MB");
}

static void test_size_parse(void **state)
{
	static const struct {
		const char *in, *out;
	} good[] = {
	    {"0", "0"},
	    {"12345", "12345"},
	    {"10k", "10240"},
	    {"10K", "10240"},
	    {"10KB", "10240"},
	    {"10KiB", "10240"},
	    {"1M", "1048576"},
	    {"1.5M", "1572864"},
	    {"1mib", "1048576"},
	    {"2G", "2147483648"},
	    {"4294967295", "4294967295"},
	    {"7b", "7"},
	};
	static const char *const bad[] = {"",     "k",  "-1", "+1", "1T",         "1 K",
	                                  "1Ki ", "1x", "4G", "1e", "4294967296", " 12"};
	char b[IMS_UNITS_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(ims_size_parse(good[i].in, b, sizeof(b)), 0);
		assert_string_equal(b, good[i].out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ims_size_parse(bad[i], b, sizeof(b)), -1);
}

static void test_date(void **state)
{
	static const struct {
		const char *in, *out;
	} good[] = {
	    {"2026-01-31", "31-Jan-2026"},  {"2026-12-01", "1-Dec-2026"},
	    {"31-Jan-2026", "31-Jan-2026"}, {"1-dec-1999", "1-Dec-1999"},
	    {"1900-01-01", "1-Jan-1900"},
	};
	static const char *const bad[] = {"",           "2026-13-01",  "2026-00-10",  "2026-01-32",
	                                  "1899-12-31", "2026-1-31",   "2026-01-31x", "31-Foo-2026",
	                                  "0-Jan-2026", "31-Jan-1899", "31/01/2026",  "2026-01-3"};
	char b[IMS_UNITS_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(ims_date_imap(good[i].in, b, sizeof(b)), 0);
		assert_string_equal(b, good[i].out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ims_date_imap(bad[i], b, sizeof(b)), -1);
}

static void test_datetime(void **state)
{
	static const struct {
		const char *in, *out;
	} good[] = {
	    {"2026-01-31T09:30Z", "31-Jan-2026 09:30:00 +0000"},
	    {"2026-01-31 09:30:15+01:00", "31-Jan-2026 09:30:15 +0100"},
	    {"2026-07-04T23:59:60-05:30", "04-Jul-2026 23:59:60 -0530"},
	    {"2026-01-31Z", "31-Jan-2026 00:00:00 +0000"},
	    {"31-Jan-2026 09:30:15 +0100", "31-Jan-2026 09:30:15 +0100"},
	};
	static const char *const bad[] = {"",
	                                  "2026-01-31T9:30Z",
	                                  "2026-01-31T09:30+0100",
	                                  "2026-13-01Z",
	                                  "2026-01-31T24:00Z",
	                                  "2026-01-31T09:60Z",
	                                  "2026-01-31T09:30+24:00",
	                                  "2026-01-31X",
	                                  "2026-01-31T09:30:1Z"};
	char b[IMS_UNITS_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(ims_datetime_imap(good[i].in, b, sizeof(b)), 0);
		assert_string_equal(b, good[i].out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ims_datetime_imap(bad[i], b, sizeof(b)), -1);
	/* No zone: the local one on that day. */
	assert_int_equal(setenv("TZ", "UTC-2", 1), 0);
	tzset();
	assert_int_equal(ims_datetime_imap("2026-01-31T09:30", b, sizeof(b)), 0);
	assert_string_equal(b, "31-Jan-2026 09:30:00 +0200");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_size_iec),   cmocka_unit_test(test_size_short),
	    cmocka_unit_test(test_size_parse), cmocka_unit_test(test_date),
	    cmocka_unit_test(test_datetime),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
