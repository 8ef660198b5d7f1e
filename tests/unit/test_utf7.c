/* Modified UTF-7: round trips, and every kind of malformed input in both
 * directions.  Expected encodings were checked against an independent
 * encoder (Python's UTF-16 + base64). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/utf7.h"

struct pair {
	const char *utf8;
	const char *mutf7;
};

static const struct pair pairs[] = {
    {"", ""},
    {"INBOX", "INBOX"},
    {"Archive/2026", "Archive/2026"},
    {"\xe9\x80\x81\xe4\xbf\xa1\xe6\xb8\x88\xe3\x81\xbf", "&kAFP4W4IMH8-"}, /* 送信済み */
    /* RFC 3501 5.1.3: ~peter/mail/台北/日本語 */
    {"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
     "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
    {"Entw\xc3\xbcrfe", "Entw&APw-rfe"},
    {"\xf0\x9f\x98\x80", "&2D3eAA-"}, /* U+1F600 */
    {"a\xf0\x9f\x98\x80"
     "b\xf0\x9f\x8e\x89",
     "a&2D3eAA-b&2DzfiQ-"},           /* a😀b🎉 */
    {"\xf4\x8f\xbf\xbf", "&2,,f,w-"}, /* U+10FFFF */
    {"&", "&-"},
    {"a&b&&", "a&-b&-&-"},
    {"\xc3\xa1-", "&AOE--"},
    {"&\xc3\xa1", "&-&AOE-"},
    {"\t", "&AAk-"},
    {"\x7f", "&AH8-"},
    {"\xc2\x80", "&AIA-"},
    {"\xce\xa9\xce\xbc\xce\xad\xce\xb3\xce\xb1 & Co", "&A6kDvAOtA7MDsQ- &- Co"},
    {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
     "&AOkA6QDpAOkA6QDpAOkA6QDpAOk-"},
};

static void test_encode_pairs(void **state)
{
	struct ims_buf b;
	struct ims_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		ims_buf_init(&b, 0);
		ims_error_init(&err);
		assert_int_equal(ims_utf7_encode(pairs[i].utf8, strlen(pairs[i].utf8), &b, &err),
		                 IMS_OK);
		assert_int_equal(b.len, strlen(pairs[i].mutf7));
		assert_memory_equal(b.len ? b.data : "", pairs[i].mutf7, b.len);
		ims_buf_release(&b);
	}
}

static void test_decode_pairs(void **state)
{
	struct ims_buf b;
	struct ims_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		ims_buf_init(&b, 0);
		ims_error_init(&err);
		assert_int_equal(ims_utf7_decode(pairs[i].mutf7, strlen(pairs[i].mutf7), &b, &err),
		                 IMS_OK);
		assert_int_equal(b.len, strlen(pairs[i].utf8));
		assert_memory_equal(b.len ? b.data : "", pairs[i].utf8, b.len);
		ims_buf_release(&b);
	}
}

static void test_appends(void **state)
{
	struct ims_buf b;
	struct ims_error err;

	(void)state;
	ims_buf_init(&b, 0);
	assert_int_equal(ims_buf_puts(&b, "x/"), IMS_OK);
	assert_int_equal(ims_utf7_encode("\xc3\xa1", 2, &b, &err), IMS_OK);
	assert_string_equal(b.data, "x/&AOE-");
	assert_int_equal(ims_utf7_decode("&AOE-", 5, &b, &err), IMS_OK);
	assert_string_equal(b.data, "x/&AOE-\xc3\xa1");
	ims_buf_release(&b);
}

struct bad {
	const char *in;
	size_t len;
	const char *msg;
};

#define BAD(s, m)                                                                                  \
	{                                                                                          \
		s, sizeof(s) - 1, m                                                                \
	}

static const struct bad bad_decode[] = {
    BAD("&AGE", "invalid modified UTF-7 at byte 0: '&' without a closing '-'"),
    BAD("abc&", "invalid modified UTF-7 at byte 3: '&' without a closing '-'"),
    BAD("&AG!-", "invalid modified UTF-7 at byte 3: character not in the base64 alphabet"),
    BAD("&AOE=-", "invalid modified UTF-7 at byte 4: base64 padding '=' is not used"),
    BAD("&kAF/-", "invalid modified UTF-7 at byte 4: '/' is not in the base64 alphabet (',' is)"),
    BAD("&AOF-", "invalid modified UTF-7 at byte 4: base64 padding bits are not zero"),
    BAD("&AO-", "invalid modified UTF-7 at byte 3: base64 run does not end on a whole character"),
    BAD("&A-", "invalid modified UTF-7 at byte 2: base64 run does not end on a whole character"),
    BAD("&AOEA-", "invalid modified UTF-7 at byte 5: base64 run does not end on a whole character"),
    BAD("&AGE-",
        "invalid modified UTF-7 at byte 3: printable ASCII written in base64 (not canonical)"),
    BAD("&ACY-",
        "invalid modified UTF-7 at byte 3: printable ASCII written in base64 (not canonical)"),
    BAD("&AGE-&AGI-",
        "invalid modified UTF-7 at byte 3: printable ASCII written in base64 (not canonical)"),
    BAD("&AOE-&AOI-",
        "invalid modified UTF-7 at byte 5: two encoded runs back to back (not canonical)"),
    BAD("&2D0-", "invalid modified UTF-7 at byte 4: unpaired high surrogate"),
    BAD("&2D0A4Q-", "invalid modified UTF-7 at byte 6: unpaired high surrogate"),
    BAD("&3gA-", "invalid modified UTF-7 at byte 3: unpaired low surrogate"),
    BAD("&AAA-", "invalid modified UTF-7 at byte 3: NUL character"),
    BAD("\xc3\xa1", "invalid modified UTF-7 at byte 0: 8-bit byte (not encoded)"),
    BAD("a\tb", "invalid modified UTF-7 at byte 1: control character (not encoded)"),
    BAD("a\0b", "invalid modified UTF-7 at byte 1: control character (not encoded)"),
    BAD("x\x7f", "invalid modified UTF-7 at byte 1: control character (not encoded)"),
};

static void test_decode_errors(void **state)
{
	struct ims_buf b;
	struct ims_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_decode) / sizeof(bad_decode[0]); i++) {
		ims_buf_init(&b, 0);
		assert_int_equal(ims_buf_puts(&b, "keep"), IMS_OK);
		ims_error_init(&err);
		assert_int_equal(ims_utf7_decode(bad_decode[i].in, bad_decode[i].len, &b, &err),
		                 IMS_ERR_USAGE);
		assert_int_equal(err.code, IMS_ERR_USAGE);
		assert_string_equal(err.msg, bad_decode[i].msg);
		assert_int_equal(b.len, 4);
		assert_string_equal(b.data, "keep");
		ims_buf_release(&b);
	}
}

static const struct bad bad_encode[] = {
    BAD("a\xc3", "invalid UTF-8 at byte 1 of the name"),
    BAD("\xc0\xaf", "invalid UTF-8 at byte 0 of the name"),         /* overlong '/' */
    BAD("\xe0\x80\xaf", "invalid UTF-8 at byte 0 of the name"),     /* overlong */
    BAD("ab\xed\xa0\x80", "invalid UTF-8 at byte 2 of the name"),   /* surrogate */
    BAD("\xf4\x90\x80\x80", "invalid UTF-8 at byte 0 of the name"), /* > U+10FFFF */
    BAD("\xff", "invalid UTF-8 at byte 0 of the name"),
    BAD("\x80", "invalid UTF-8 at byte 0 of the name"),
    BAD("\xc3\xa1\x80", "invalid UTF-8 at byte 2 of the name"),
    BAD("a\0b", "NUL character at byte 1 of the name"),
};

static void test_encode_errors(void **state)
{
	struct ims_buf b;
	struct ims_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_encode) / sizeof(bad_encode[0]); i++) {
		ims_buf_init(&b, 0);
		assert_int_equal(ims_buf_puts(&b, "keep"), IMS_OK);
		ims_error_init(&err);
		assert_int_equal(ims_utf7_encode(bad_encode[i].in, bad_encode[i].len, &b, &err),
		                 IMS_ERR_USAGE);
		assert_string_equal(err.msg, bad_encode[i].msg);
		assert_string_equal(b.data, "keep");
		assert_int_equal(b.len, 4);
		ims_buf_release(&b);
	}
}

static void test_limit(void **state)
{
	struct ims_buf b;
	struct ims_error err;
	const char *s = "\xe9\x80\x81\xe4\xbf\xa1\xe6\xb8\x88\xe3\x81\xbf";

	(void)state;
	ims_buf_init(&b, 8);
	assert_int_equal(ims_buf_puts(&b, "ab"), IMS_OK);
	assert_int_equal(ims_utf7_encode(s, strlen(s), &b, &err), IMS_ERR_LIMIT);
	assert_string_equal(err.msg, "modified UTF-7: name too long");
	assert_string_equal(b.data, "ab");
	assert_int_equal(ims_utf7_decode("&kAFP4W4IMH8-", 13, &b, &err), IMS_ERR_LIMIT);
	assert_string_equal(b.data, "ab");
	assert_int_equal(ims_utf7_decode("&AOE-", 5, &b, &err), IMS_OK);
	assert_string_equal(b.data, "ab\xc3\xa1");
	ims_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encode_pairs),  cmocka_unit_test(test_decode_pairs),
	    cmocka_unit_test(test_appends),       cmocka_unit_test(test_decode_errors),
	    cmocka_unit_test(test_encode_errors), cmocka_unit_test(test_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
