/* --compress auto's decision (zauto.h): from the rate measured on the
 * first part of a bulk transfer and what is left of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/zauto.h"

#define MB 1000000ull

static void test_slow_link_compresses(void **state)
{
	char why[IMS_ZAUTO_WHY_MAX];

	(void)state;
	/* 10 Mbit/s: 1.25 MB/s, 1 MB in 800 ms, 25 MB left */
	assert_int_equal(ims_zauto_decide(1 * MB, 800, 25 * MB, 0, why, sizeof(why)), IMS_ZAUTO_ON);
	assert_non_null(strstr(why, "1.2 MB/s measured over 1.0 MB"));
	assert_non_null(strstr(why, "deflate on"));
	/* 50 Mbit/s: 6.25 MB/s, below deflate's 34 / 4 */
	assert_int_equal(ims_zauto_decide(5 * MB, 800, 20 * MB, 0, why, sizeof(why)), IMS_ZAUTO_ON);
}

static void test_fast_link_does_not(void **state)
{
	char why[IMS_ZAUTO_WHY_MAX];

	(void)state;
	/* loopback: 60 MB/s */
	assert_int_equal(ims_zauto_decide(6 * MB, 100, 100 * MB, 0, why, sizeof(why)),
	                 IMS_ZAUTO_OFF);
	assert_non_null(strstr(why, "60.0 MB/s measured over 6.0 MB, not below 8.5 MB/s"));
	assert_non_null(strstr(why, "deflate off"));
	/* 100 Mbit/s: 12.5 MB/s, not below 34 / 4 */
	assert_int_equal(ims_zauto_decide(5 * MB, 400, 20 * MB, 0, why, sizeof(why)),
	                 IMS_ZAUTO_OFF);
	/* exactly at the bar: off */
	assert_int_equal(ims_zauto_decide(17 * MB, 2000, 100 * MB, 0, why, sizeof(why)),
	                 IMS_ZAUTO_OFF);
	/* a slower deflate lowers the bar: 6.25 MB/s against 20 / 4 */
	assert_int_equal(ims_zauto_decide(5 * MB, 800, 20 * MB, 20 * MB, why, sizeof(why)),
	                 IMS_ZAUTO_OFF);
}

static void test_too_little_measured(void **state)
{
	char why[IMS_ZAUTO_WHY_MAX];

	(void)state;
	assert_int_equal(ims_zauto_decide(100000, 800, 25 * MB, 0, why, sizeof(why)),
	                 IMS_ZAUTO_MEASURE);
	assert_non_null(strstr(why, "too few"));
	assert_int_equal(ims_zauto_decide(1 * MB, 10, 25 * MB, 0, why, sizeof(why)),
	                 IMS_ZAUTO_MEASURE);
	/* nothing left: never compress */
	assert_int_equal(ims_zauto_decide(100000, 800, 0, 0, why, sizeof(why)), IMS_ZAUTO_OFF);
	assert_non_null(strstr(why, "too little to pay"));
}

static void test_too_little_left(void **state)
{
	char why[IMS_ZAUTO_WHY_MAX];

	(void)state;
	/* 1.25 MB/s, 0.5 MB left: 400 ms, less than the switch is worth */
	assert_int_equal(ims_zauto_decide(1 * MB, 800, MB / 2, 0, why, sizeof(why)), IMS_ZAUTO_OFF);
	assert_non_null(strstr(why, "too little to pay"));
	/* no room for the reason: the decision still comes */
	assert_int_equal(ims_zauto_decide(1 * MB, 800, 25 * MB, 0, NULL, 0), IMS_ZAUTO_ON);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_slow_link_compresses),
	    cmocka_unit_test(test_fast_link_does_not),
	    cmocka_unit_test(test_too_little_measured),
	    cmocka_unit_test(test_too_little_left),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
