/* Header unfolding and RFC 2047 encoded words, byte by byte.  Encoded
 * forms were made with Python's base64 and codecs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/charset.h"
#include "imapsh/rfc2047.h"
#include "imapsh/sanitize.h"

static void check(const char *in, size_t n, const char *want, size_t wn, unsigned want_flags)
{
	struct ims_buf b;
	struct ims_error err;
	unsigned f = 99;

	ims_buf_init(&b, 0);
	assert_int_equal(ims_rfc2047_decode(in, n, &b, &f, &err), IMS_OK);
	if (b.len != wn || memcmp(b.len ? b.data : "", want, wn) != 0)
		fail_msg("\"%.*s\": got \"%.*s\", want \"%.*s\"", (int)n, in, (int)b.len,
		         b.len ? b.data : "", (int)wn, want);
	assert_true(ims_utf8_valid(b.data, b.len));
	if (f != want_flags)
		fail_msg("\"%.*s\": flags %u, want %u", (int)n, in, f, want_flags);
	ims_buf_release(&b);
}

#define D(in, want)      check(in, sizeof(in) - 1, want, sizeof(want) - 1, 0)
#define DF(in, want, fl) check(in, sizeof(in) - 1, want, sizeof(want) - 1, fl)

static void unfold(const char *in, const char *want)
{
	struct ims_buf b;

	ims_buf_init(&b, 0);
	assert_int_equal(ims_header_unfold(in, strlen(in), &b, NULL), IMS_OK);
	assert_string_equal(b.len ? b.data : "", want);
	ims_buf_release(&b);
}

static void test_unfold(void **state)
{
	(void)state;
	unfold("", "");
	unfold(" plain ", "plain");
	unfold("a\r\n b", "a b");
	unfold("a\r\n\tb", "a b");
	unfold("a\n b\n\tc", "a b c");
	unfold("a\r\n  b", "a  b");
	unfold("a\r\nb", "a\r\nb"); /* not a fold: kept */
	unfold("a\r\n", "a");
	unfold(" \r\n x \r\n", "x");
	unfold("a\r\n \r\n b", "a  b");
}

static void test_words(void **state)
{
	(void)state;
	D("plain text", "plain text");
	D("=?UTF-8?B?5pel5pys6Kqe?=", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	D("=?utf-8?b?5pel5pys6Kqe?=", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	D("=?UTF-8?Q?caf=C3=A9_au_lait?=", "caf\xc3\xa9 au lait");
	D("=?iso-8859-1?q?caf=E9?=", "caf\xc3\xa9");
	/* RFC 2231 language suffix */
	D("=?UTF-8*ja?B?5pel5pys?=", "\xe6\x97\xa5\xe6\x9c\xac");
	D("=?ISO-2022-JP*ja-JP?B?GyRCRnxLXBsoQg==?=", "\xe6\x97\xa5\xe6\x9c\xac");
	/* Japanese charsets */
	D("=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	D("=?Shift_JIS?B?k/qWe4zq?=", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	D("=?EUC-JP?B?xvzL3Ljs?=", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	/* text around words keeps its blanks */
	D("Re: =?UTF-8?Q?caf=C3=A9?= now", "Re: caf\xc3\xa9 now");
	D("(=?UTF-8?Q?a?=)", "(a)");
	/* glued to text, as in the wild */
	D("x=?UTF-8?Q?a?=y", "xay");
	D("\"=?UTF-8?B?5pel5pys?=\" <a@b.example>", "\"\xe6\x97\xa5\xe6\x9c\xac\" <a@b.example>");
	/* Q: '_' is a space, "=XX" a byte, a bad '=' stays */
	D("=?UTF-8?Q?a_b=20c=5Fd?=", "a b c_d");
	D("=?UTF-8?Q?100=25=?=", "100%=");
	D("=?UTF-8?Q?=ZZ?=", "=ZZ");
	D("=?UTF-8?Q?"
	  "?=",
	  "");
	D("=?UTF-8?B?"
	  "?=",
	  "");
}

static void test_adjacent(void **state)
{
	(void)state;
	/* blanks (and folds) between words go */
	D("=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab");
	D("=?UTF-8?Q?a?=\r\n =?UTF-8?Q?b?=", "ab");
	D("=?UTF-8?Q?a?=\r\n\t  =?UTF-8?Q?b?=", "ab");
	D("=?UTF-8?Q?a?==?UTF-8?Q?b?=", "ab");
	D("=?UTF-8?Q?a?= x =?UTF-8?Q?b?=", "a x b");
	/* a character split across words (UTF-8 日本語, bytes 4 + 5) */
	D("=?UTF-8?B?5pel5g==?= =?UTF-8?B?nKzoqp4=?=", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	/* Shift_JIS split inside 日 (0x93 | 0xfa) */
	D("=?Shift_JIS?B?kw==?= =?shift_jis?B?+g==?=", "\xe6\x97\xa5");
	/* UTF-16 halves */
	D("=?UTF-16BE?B?ZQ==?= =?UTF-16BE?B?5Q==?=", "\xe6\x97\xa5");
	/* ISO-2022-JP words each self-contained */
	D("=?ISO-2022-JP?B?GyRCRnwbKEI=?=\r\n =?ISO-2022-JP?B?GyRCS1wbKEI=?=",
	  "\xe6\x97\xa5\xe6\x9c\xac");
	/* different charsets: each on its own */
	D("=?ISO-8859-1?Q?=E9?= =?UTF-8?Q?=C3=A9?=", "\xc3\xa9\xc3\xa9");
	/* a malformed word between two good ones keeps its blanks */
	D("=?UTF-8?Q?a?= =?UTF-8?B?!?= =?UTF-8?Q?b?=", "a =?UTF-8?B?!?= b");
}

static void test_malformed(void **state)
{
	(void)state;
	D("=?UTF-8?B?not base64?=", "=?UTF-8?B?not base64?=");
	D("=?UTF-8?B?5pe!?=", "=?UTF-8?B?5pe!?=");
	D("=?UTF-8?B?5p=l?=", "=?UTF-8?B?5p=l?=");
	D("=?UTF-8?B?5?=", "=?UTF-8?B?5?=");
	D("=?UTF-8?X?abc?=", "=?UTF-8?X?abc?=");
	D("=?UTF-8?Q?abc", "=?UTF-8?Q?abc");
	D("=??Q?abc?=", "=??Q?abc?=");
	D("=?*ja?Q?abc?=", "=?*ja?Q?abc?=");
	D("=?UTF-8?Q?a b?=", "=?UTF-8?Q?a b?=");
	D("=?", "=?");
	D("=?=?UTF-8?Q?x?=", "=?x");
	/* undecodable bytes from a word still give UTF-8 */
	DF("=?UTF-8?B?/w==?=", "\xef\xbf\xbd", IMS_CHARSET_LOSSY);
	/* unknown charsets: decoded bytes are guessed */
	DF("=?X-FOO?Q?plain?=", "plain", IMS_CHARSET_UNKNOWN);
	DF("=?X-FOO?B?5pel?=", "\xe6\x97\xa5", IMS_CHARSET_UNKNOWN | IMS_CHARSET_FALLBACK);
}

static void test_raw(void **state)
{
	(void)state;
	/* raw 8-bit UTF-8 */
	D("caf\xc3\xa9 =?UTF-8?Q?=C3=A9?=", "caf\xc3\xa9 \xc3\xa9");
	/* raw Shift_JIS and EUC-JP (with kana) are guessed */
	DF("\x93\xfa\x96\x7b\x8c\xea\x82\xcc", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae",
	   IMS_CHARSET_FALLBACK);
	DF("\xc6\xfc\xcb\xdc\xb8\xec\xa4\xce", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae",
	   IMS_CHARSET_FALLBACK);
	/* raw ISO-2022-JP (7-bit, with designations) */
	DF("Re: \x1b$BF|K\\\x1b(B", "Re: \xe6\x97\xa5\xe6\x9c\xac", IMS_CHARSET_FALLBACK);
	/* Latin-1 last */
	DF("caf\xe9", "caf\xc3\xa9", IMS_CHARSET_FALLBACK);
}

static void test_controls_kept(void **state)
{
	(void)state;
	/* escapes raw, in B and in Q words: kept as decoded bytes */
	D("\x1b[2J", "\x1b[2J");
	D("=?UTF-8?B?G1sySg==?=", "\x1b[2J");
	D("=?UTF-8?Q?=1B]52;c;eA=3D=3D=07?=", "\x1b]52;c;eA==\x07");
	D("=?UTF-8?Q?a=0D=0Ab=00c?=", "a\r\nb\x00"
	                              "c");
	/* C1 CSI as UTF-8 */
	D("=?UTF-8?B?wps=?=", "\xc2\x9b");
}

static void test_limit(void **state)
{
	struct ims_buf b;
	struct ims_error err;
	const char *in = "=?UTF-8?B?5pel5pys6Kqe?=";

	(void)state;
	ims_buf_init(&b, 8);
	assert_int_equal(ims_buf_puts(&b, "ab"), IMS_OK);
	assert_int_equal(ims_rfc2047_decode(in, strlen(in), &b, NULL, &err), IMS_ERR_LIMIT);
	assert_string_equal(err.msg, "header: header too long");
	assert_string_equal(b.data, "ab");
	ims_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unfold),   cmocka_unit_test(test_words),
	    cmocka_unit_test(test_adjacent), cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_raw),      cmocka_unit_test(test_controls_kept),
	    cmocka_unit_test(test_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
