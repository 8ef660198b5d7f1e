/* The JSON writer: exact bytes in compact, pretty and JSON Lines form,
 * string escaping, numbers, misuse and output errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "imapsh/json.h"

static void sample(struct ims_json *j)
{
	ims_json_object_begin(j);
	ims_json_key(j, "name");
	ims_json_string(j, "INBOX");
	ims_json_key(j, "count");
	ims_json_int(j, 42);
	ims_json_key(j, "flags");
	ims_json_array_begin(j);
	ims_json_string(j, "\\Seen");
	ims_json_string(j, "$Junk");
	ims_json_array_end(j);
	ims_json_key(j, "empty");
	ims_json_object_begin(j);
	ims_json_object_end(j);
	ims_json_key(j, "none");
	ims_json_array_begin(j);
	ims_json_array_end(j);
	ims_json_key(j, "ok");
	ims_json_bool(j, 1);
	ims_json_key(j, "no");
	ims_json_bool(j, 0);
	ims_json_key(j, "nil");
	ims_json_string(j, NULL);
	ims_json_key(j, "neg");
	ims_json_int(j, INT64_MIN);
	ims_json_key(j, "big");
	ims_json_uint(j, UINT64_MAX);
	ims_json_key(j, "f");
	ims_json_double(j, 1.5);
	ims_json_object_end(j);
}

static void test_compact(void **state)
{
	struct ims_buf b;
	struct ims_json j;
	struct ims_error err;

	(void)state;
	ims_buf_init(&b, 0);
	ims_json_init_buf(&j, &b, 0);
	sample(&j);
	assert_int_equal(ims_json_finish(&j, &err), IMS_OK);
	assert_string_equal(b.data,
	                    "{\"name\":\"INBOX\",\"count\":42,\"flags\":[\"\\\\Seen\",\"$Junk\"],"
	                    "\"empty\":{},\"none\":[],\"ok\":true,\"no\":false,\"nil\":null,"
	                    "\"neg\":-9223372036854775808,\"big\":18446744073709551615,"
	                    "\"f\":1.5}\n");
	ims_buf_release(&b);
}

static void test_pretty(void **state)
{
	struct ims_buf b;
	struct ims_json j;
	struct ims_error err;

	(void)state;
	ims_buf_init(&b, 0);
	ims_json_init_buf(&j, &b, IMS_JSON_PRETTY);
	sample(&j);
	assert_int_equal(ims_json_finish(&j, &err), IMS_OK);
	assert_string_equal(b.data, "{\n"
	                            "  \"name\": \"INBOX\",\n"
	                            "  \"count\": 42,\n"
	                            "  \"flags\": [\n"
	                            "    \"\\\\Seen\",\n"
	                            "    \"$Junk\"\n"
	                            "  ],\n"
	                            "  \"empty\": {},\n"
	                            "  \"none\": [],\n"
	                            "  \"ok\": true,\n"
	                            "  \"no\": false,\n"
	                            "  \"nil\": null,\n"
	                            "  \"neg\": -9223372036854775808,\n"
	                            "  \"big\": 18446744073709551615,\n"
	                            "  \"f\": 1.5\n"
	                            "}\n");
	ims_buf_release(&b);
}

static void test_lines(void **state)
{
	struct ims_buf b;
	struct ims_json j;
	struct ims_error err;
	int i;

	(void)state;
	ims_buf_init(&b, 0);
	/* LINES overrides PRETTY. */
	ims_json_init_buf(&j, &b, IMS_JSON_LINES | IMS_JSON_PRETTY);
	for (i = 1; i <= 3; i++) {
		ims_json_object_begin(&j);
		ims_json_key(&j, "uid");
		ims_json_int(&j, i);
		ims_json_key(&j, "a");
		ims_json_array_begin(&j);
		ims_json_int(&j, i);
		ims_json_array_end(&j);
		ims_json_object_end(&j);
		assert_int_equal(ims_json_finish(&j, &err), IMS_OK);
	}
	ims_json_string(&j, "x");
	assert_int_equal(ims_json_finish(&j, &err), IMS_OK);
	assert_string_equal(b.data, "{\"uid\":1,\"a\":[1]}\n{\"uid\":2,\"a\":[2]}\n"
	                            "{\"uid\":3,\"a\":[3]}\n\"x\"\n");
	ims_buf_release(&b);
}

static void check_string(const char *in, size_t len, unsigned flags, const char *want)
{
	struct ims_buf b;
	struct ims_json j;
	struct ims_error err;

	ims_buf_init(&b, 0);
	ims_json_init_buf(&j, &b, flags);
	assert_int_equal(ims_json_string_n(&j, in, len), IMS_OK);
	assert_int_equal(ims_json_finish(&j, &err), IMS_OK);
	if (strcmp(b.data, want) != 0)
		fail_msg("got %s want %s", b.data, want);
	ims_buf_release(&b);
}

#define STR(in, want) check_string(in, sizeof(in) - 1, 0, want "\n")

static void test_escaping(void **state)
{
	char all[32];
	char big[1000];
	char want[6100];
	int i;

	(void)state;
	for (i = 0; i < 32; i++)
		all[i] = (char)i;
	check_string(all, 32, 0,
	             "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b"
	             "\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016"
	             "\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\"\n");
	STR("", "\"\"");
	STR("say \"hi\" \\o/", "\"say \\\"hi\\\" \\\\o/\"");
	STR("\x7f", "\"\\u007f\"");
	STR("\xc2\x85\xc2\x9b", "\"\\u0085\\u009b\"");
	STR("\xe2\x80\xa8\xe2\x80\xa9", "\"\\u2028\\u2029\"");
	/* bidi override, zero-width space, BOM, a tag character: escaped */
	STR("a\xe2\x80\xae"
	    "b\xe2\x80\x8b\xef\xbb\xbf",
	    "\"a\\u202eb\\u200b\\ufeff\"");
	STR("\xf3\xa0\x80\x81", "\"\\udb40\\udc01\"");
	/* printable non-ASCII stays UTF-8 */
	STR("\xe9\x80\x81\xe2\x80\x99", "\"\xe9\x80\x81\xe2\x80\x99\"");
	STR("\xc3\xa9\xf0\x9f\x98\x80\xe2\x80\xae", "\"\xc3\xa9\xf0\x9f\x98\x80\\u202e\"");
	STR("a\xff"
	    "b",
	    "\"a\\ufffdb\"");
	STR("\xc3", "\"\\ufffd\"");
	STR("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	STR("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	STR("\xf0\x9f\x98", "\"\\ufffd\\ufffd\\ufffd\"");
	check_string("\xc3\xa9\xf0\x9f\x98\x80~", 7, IMS_JSON_ASCII,
	             "\"\\u00e9\\ud83d\\ude00~\"\n");
	/* Longer than the internal chunk. */
	memset(big, '\x1b', sizeof(big));
	want[0] = '"';
	for (i = 0; i < 1000; i++)
		memcpy(want + 1 + 6 * i, "\\u001b", 6);
	memcpy(want + 6001, "\"\n", 3);
	check_string(big, sizeof(big), 0, want);
}

static void check_double(double v, const char *want)
{
	struct ims_buf b;
	struct ims_json j;
	struct ims_error err;

	ims_buf_init(&b, 0);
	ims_json_init_buf(&j, &b, 0);
	assert_int_equal(ims_json_double(&j, v), IMS_OK);
	assert_int_equal(ims_json_finish(&j, &err), IMS_OK);
	assert_string_equal(b.data, want);
	ims_buf_release(&b);
}

static void test_numbers(void **state)
{
	struct ims_buf b;
	struct ims_json j;
	struct ims_error err;

	(void)state;
	check_double(0.1, "0.1\n");
	check_double(3.0, "3\n");
	check_double(-2.5, "-2.5\n");
	check_double(1.0 / 3.0, "0.3333333333333333\n");
	check_double(1e21, "1e+21\n");
	check_double(5e-324, "5e-324\n");
	check_double(123456789012.25, "123456789012.25\n");
	check_double(-0.0, "-0\n");

	ims_buf_init(&b, 0);
	ims_json_init_buf(&j, &b, 0);
	assert_int_equal(ims_json_double(&j, NAN), IMS_ERR_USAGE);
	assert_int_equal(ims_json_finish(&j, &err), IMS_ERR_USAGE);
	assert_string_equal(err.msg, "json: NaN and infinity have no JSON form");
	ims_json_init_buf(&j, &b, 0);
	assert_int_equal(ims_json_double(&j, -INFINITY), IMS_ERR_USAGE);
	assert_int_equal(b.len, 0);
	ims_buf_release(&b);
}

/* Run f on a fresh writer and expect misuse with these words. */
static void check_misuse(void (*f)(struct ims_json *), const char *msg, const char *out, int sticky)
{
	struct ims_buf b;
	struct ims_json j;
	struct ims_error err;

	ims_buf_init(&b, 0);
	ims_json_init_buf(&j, &b, 0);
	f(&j);
	ims_error_init(&err);
	assert_int_equal(ims_json_finish(&j, &err), IMS_ERR_USAGE);
	assert_string_equal(err.msg, msg);
	assert_string_equal(b.data != NULL ? b.data : "", out);
	/* Sticky: later calls do nothing and return the first error. */
	if (!sticky) {
		ims_buf_release(&b);
		return;
	}
	assert_int_equal(ims_json_null(&j), IMS_ERR_USAGE);
	assert_int_equal(ims_json_object_end(&j), IMS_ERR_USAGE);
	assert_string_equal(b.data != NULL ? b.data : "", out);
	assert_int_equal(ims_json_finish(&j, &err), IMS_ERR_USAGE);
	assert_string_equal(err.msg, msg);
	ims_buf_release(&b);
}

static void m_two_top(struct ims_json *j)
{
	ims_json_int(j, 1);
	ims_json_int(j, 2);
}

static void m_value_no_key(struct ims_json *j)
{
	ims_json_object_begin(j);
	ims_json_int(j, 1);
}

static void m_key_in_array(struct ims_json *j)
{
	ims_json_array_begin(j);
	ims_json_key(j, "k");
}

static void m_key_top(struct ims_json *j)
{
	ims_json_key(j, "k");
}

static void m_key_key(struct ims_json *j)
{
	ims_json_object_begin(j);
	ims_json_key(j, "a");
	ims_json_key(j, "b");
}

static void m_key_no_value_end(struct ims_json *j)
{
	ims_json_object_begin(j);
	ims_json_key(j, "a");
	ims_json_object_end(j);
}

static void m_mismatch(struct ims_json *j)
{
	ims_json_object_begin(j);
	ims_json_array_end(j);
}

static void m_end_top(struct ims_json *j)
{
	ims_json_object_end(j);
}

static void m_open(struct ims_json *j)
{
	ims_json_array_begin(j);
	ims_json_array_begin(j);
	ims_json_array_end(j);
}

static void m_dangling_key(struct ims_json *j)
{
	ims_json_object_begin(j);
	ims_json_key(j, "a");
}

static void m_deep(struct ims_json *j)
{
	int i;

	for (i = 0; i < IMS_JSON_MAX_DEPTH + 1; i++)
		ims_json_array_begin(j);
}

static void test_misuse(void **state)
{
	char deep[IMS_JSON_MAX_DEPTH + 1];

	(void)state;
	check_misuse(m_two_top, "json: a second top-level value (use JSON Lines)", "1\n", 1);
	check_misuse(m_value_no_key, "json: a value in an object without a key", "{", 1);
	check_misuse(m_key_in_array, "json: a key in an array", "[", 1);
	check_misuse(m_key_top, "json: a key outside an object", "", 1);
	check_misuse(m_key_key, "json: a key where its value was due", "{\"a\":", 1);
	check_misuse(m_key_no_value_end, "json: a key without a value", "{\"a\":", 1);
	check_misuse(m_mismatch, "json: array end without an open array", "{", 1);
	check_misuse(m_end_top, "json: object end without an open object", "", 1);
	check_misuse(m_open, "json: an object or array was left open", "[[]", 0);
	check_misuse(m_dangling_key, "json: a key without a value", "{\"a\":", 0);
	memset(deep, '[', IMS_JSON_MAX_DEPTH);
	deep[IMS_JSON_MAX_DEPTH] = '\0';
	check_misuse(m_deep, "json: nested too deep", deep, 1);
}

static void test_buf_limit(void **state)
{
	struct ims_buf b;
	struct ims_json j;
	struct ims_error err;

	(void)state;
	ims_buf_init(&b, 16);
	ims_json_init_buf(&j, &b, 0);
	ims_json_array_begin(&j);
	assert_int_equal(ims_json_string(&j, "0123456789abcdefghij"), IMS_ERR_LIMIT);
	assert_int_equal(ims_json_array_end(&j), IMS_ERR_LIMIT);
	assert_int_equal(ims_json_finish(&j, &err), IMS_ERR_LIMIT);
	assert_string_equal(err.msg, "json: output too large");
	assert_string_equal(b.data, "[");
	ims_buf_release(&b);
}

static void test_file(void **state)
{
	struct ims_json j;
	struct ims_error err;
	char got[128], dir[] = "/tmp/imapsh-test-json-XXXXXX", dev[64];
	size_t n;
	FILE *f = tmpfile();

	(void)state;
	assert_non_null(f);
	ims_json_init_file(&j, f, IMS_JSON_LINES);
	ims_json_object_begin(&j);
	ims_json_key(&j, "k\n");
	ims_json_string(&j, "v\x1b");
	ims_json_object_end(&j);
	ims_json_array_begin(&j);
	ims_json_array_end(&j);
	assert_int_equal(ims_json_finish(&j, &err), IMS_OK);
	rewind(f);
	n = fread(got, 1, sizeof(got) - 1, f);
	got[n] = '\0';
	assert_string_equal(got, "{\"k\\n\":\"v\\u001b\"}\n[]\n");
	fclose(f);

	/* A full disk: each complete value is flushed, so the error shows.  A
	 * private full device (1,7) in a temporary folder, never the
	 * system's /dev/full. */
	assert_non_null(mkdtemp(dir));
	snprintf(dev, sizeof(dev), "%s/full", dir);
	assert_int_equal(mknod(dev, S_IFCHR | 0600, makedev(1, 7)), 0);
	f = fopen(dev, "w");
	assert_non_null(f);
	ims_json_init_file(&j, f, IMS_JSON_LINES);
	assert_int_equal(ims_json_string(&j, "x"), IMS_ERR_IO);
	assert_int_equal(ims_json_finish(&j, &err), IMS_ERR_IO);
	assert_string_equal(err.msg, "json: write: No space left on device");
	fclose(f);
	f = fopen(dev, "w");
	assert_non_null(f);
	ims_json_init_file(&j, f, IMS_JSON_PRETTY);
	ims_json_object_begin(&j);
	ims_json_key(&j, "a");
	ims_json_int(&j, 1);
	assert_int_equal(ims_json_object_end(&j), IMS_ERR_IO);
	assert_int_equal(ims_json_finish(&j, &err), IMS_ERR_IO);
	assert_string_equal(err.msg, "json: write: No space left on device");
	fclose(f);
	unlink(dev);
	rmdir(dir);
}

static ims_err failing_write(void *ctx, const void *p, size_t n)
{
	(void)p;
	(void)n;
	return ++*(int *)ctx > 2 ? IMS_ERR_NET : IMS_OK;
}

static void test_sink(void **state)
{
	struct ims_json j;
	struct ims_error err;
	int calls = 0;
	struct ims_sink s = {failing_write, &calls};

	(void)state;
	ims_json_init_sink(&j, s, 0);
	ims_json_array_begin(&j);
	ims_json_int(&j, 1);
	assert_int_equal(ims_json_int(&j, 2), IMS_ERR_NET);
	assert_int_equal(ims_json_finish(&j, &err), IMS_ERR_NET);
	assert_string_equal(err.msg, "json: write failed (network)");
	assert_int_equal(calls, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_compact),   cmocka_unit_test(test_pretty),
	    cmocka_unit_test(test_lines),     cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_numbers),   cmocka_unit_test(test_misuse),
	    cmocka_unit_test(test_buf_limit), cmocka_unit_test(test_file),
	    cmocka_unit_test(test_sink),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
