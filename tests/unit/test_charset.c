/* Charset conversion to UTF-8: labels, the Japanese encodings byte by byte,
 * the fallback chain and what it reports, strict mode, limits.  Expected
 * strings were produced with Python's codecs (cp932, euc_jp, iso2022_jp,
 * gb18030, big5, cp949, utf-16, utf-7), not with this code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/charset.h"
#include "imapsh/sanitize.h"

static void check(const char *cs, const char *in, size_t n, unsigned flags, const char *want,
                  size_t want_len, unsigned want_flags, const char *want_used)
{
	struct ims_buf b;
	struct ims_error err;
	struct ims_charset_info ci;

	ims_buf_init(&b, 0);
	ims_error_init(&err);
	assert_int_equal(ims_charset_decode(cs, in, n, flags, &b, &ci, &err), IMS_OK);
	if (b.len != want_len || memcmp(b.len ? b.data : "", want, b.len) != 0)
		fail_msg("charset %s: got \"%.*s\", want \"%s\"", cs ? cs : "(none)", (int)b.len,
		         b.len ? b.data : "", want);
	assert_true(ims_utf8_valid(b.data, b.len));
	if (ci.flags != want_flags || strcmp(ci.used, want_used) != 0)
		fail_msg("charset %s: flags %u used %s, want %u %s", cs ? cs : "(none)", ci.flags,
		         ci.used, want_flags, want_used);
	ims_buf_release(&b);
}

#define DEC(cs, in, want, fl, used)                                                                \
	check(cs, in, sizeof(in) - 1, 0, want, sizeof(want) - 1, fl, used)
#define DECF(cs, in, f, want, used)                                                                \
	check(cs, in, sizeof(in) - 1, f, want, sizeof(want) - 1, 0, used)
#define FB    IMS_CHARSET_FALLBACK
#define LOSSY IMS_CHARSET_LOSSY
#define UNK   IMS_CHARSET_UNKNOWN

static void test_labels(void **state)
{
	static const char *const sjis[] = {"Shift_JIS",   "shift-jis",       "SJIS",    "x-sjis",
	                                   "csShiftJIS",  "MS_Kanji",        "cp932",   "MS932",
	                                   "Windows-31J", " \"Shift_JIS\" ", "'x-sjis'"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sjis) / sizeof(sjis[0]); i++)
		assert_string_equal(ims_charset_canonical(sjis[i]), "shift_jis");
	assert_string_equal(ims_charset_canonical("unicode-1-1-utf-7"), "utf-7");
	assert_string_equal(ims_charset_canonical("UTF8"), "utf-8");
	assert_string_equal(ims_charset_canonical("ks_c_5601-1987"), "euc-kr");
	assert_string_equal(ims_charset_canonical("GB2312"), "gb18030");
	assert_string_equal(ims_charset_canonical("x-gbk"), "gb18030");
	assert_string_equal(ims_charset_canonical("ISO-2022-JP-2"), "iso-2022-jp");
	assert_string_equal(ims_charset_canonical("CP50221"), "iso-2022-jp");
	assert_string_equal(ims_charset_canonical("x-euc-jp"), "euc-jp");
	assert_string_equal(ims_charset_canonical("EUCJP-MS"), "euc-jp");
	assert_string_equal(ims_charset_canonical("latin1"), "windows-1252");
	assert_string_equal(ims_charset_canonical("ISO_8859-15"), "iso-8859-15");
	assert_string_equal(ims_charset_canonical("Big5"), "big5");
	assert_null(ims_charset_canonical("x-unknown"));
	assert_null(ims_charset_canonical(""));
	assert_null(ims_charset_canonical(NULL));
	/* never handed to iconv as such */
	assert_null(ims_charset_canonical("IBM930"));
	assert_null(ims_charset_canonical("UTF-8//TRANSLIT"));
	assert_null(ims_charset_canonical("ISO-2022-CN-EXT"));
}

static void test_utf8(void **state)
{
	(void)state;
	DEC("utf-8", "caf\xc3\xa9 \xe6\x97\xa5\xf0\x9f\x98\x80",
	    "caf\xc3\xa9 \xe6\x97\xa5\xf0\x9f\x98\x80", 0, "utf-8");
	DEC("UTF-8", "", "", 0, "utf-8");
	/* one bad byte in a long text: the declared charset, U+FFFD */
	DEC("utf-8",
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
	    "\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xff",
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
	    "\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xef\xbf\xbd",
	    LOSSY, "utf-8");
	/* overlong and surrogate forms are not UTF-8 (nor Japanese): U+FFFD
	 * for each maximal bad subpart */
	DEC("utf-8", "a\xc0\xafz\xff", "a\xef\xbf\xbd\xef\xbf\xbdz\xef\xbf\xbd", LOSSY, "utf-8");
	DEC("utf-8", "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", LOSSY, "utf-8");
	/* none declared: valid UTF-8 is no fallback */
	DEC(NULL, "\xc3\xa9", "\xc3\xa9", 0, "utf-8");
	DEC("", "\xc3\xa9", "\xc3\xa9", 0, "utf-8");
	/* us-ascii that is UTF-8 */
	DEC("us-ascii", "\xc3\xa9", "\xc3\xa9", FB, "utf-8");
	/* ASCII is ASCII whatever the label */
	DEC("x-unknown", "plain", "plain", UNK, "us-ascii");
	DEC("iso-8859-5", "plain", "plain", 0, "iso-8859-5");
	/* controls are kept for the sanitiser */
	DEC("utf-8", "\x1b[2J\x1b]52;c;eA==\x07\r\n\t\x00z", "\x1b[2J\x1b]52;c;eA==\x07\r\n\t\x00z",
	    0, "utf-8");
}

static void test_repair(void **state)
{
	struct ims_buf b;
	size_t bad = 9;

	(void)state;
	ims_buf_init(&b, 0);
	assert_int_equal(ims_utf8_repair("a\xe3\x81"
	                                 "b\xff\xc3\xa9\xf0\x9f\x98",
	                                 10, &b, &bad, NULL),
	                 IMS_OK);
	/* "\xe3\x81" is one maximal subpart, "\xf0\x9f\x98" another */
	assert_string_equal(b.data, "a\xef\xbf\xbd"
	                            "b\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd");
	assert_int_equal(bad, 3);
	ims_buf_reset(&b);
	assert_int_equal(ims_utf8_repair("\xe0\x80\x80", 3, &b, &bad, NULL), IMS_OK);
	assert_string_equal(b.data, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	ims_buf_release(&b);
}

static void test_cp932(void **state)
{
	(void)state;
	/* ① ㈱ 髙 﨑 ～ － ｱ: NEC, IBM and half-width, as real mail has them */
	DEC("Shift_JIS", "\x87\x40\x87\x8a\xfb\xfc\xfa\xb1\x81\x60\x81\x7c\xb1",
	    "\xe2\x91\xa0\xe3\x88\xb1\xe9\xab\x99\xef\xa8\x91\xef\xbd\x9e\xef\xbc\x8d\xef\xbd\xb1",
	    0, "shift_jis");
	/* こんにちは */
	DEC("x-sjis", "\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd",
	    "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf", 0, "shift_jis");
	/* half-width katakana only, with a voiced mark: ｶﾞｯｺｳ */
	DEC("shift_jis", "\xb6\xde\xaf\xba\xb3",
	    "\xef\xbd\xb6\xef\xbe\x9e\xef\xbd\xaf\xef\xbd\xba\xef\xbd\xb3", 0, "shift_jis");
	/* declared: half-width katakana stay even without a voiced mark (ｺﾝﾆﾁﾊ) */
	DEC("shift_jis", "\xba\xdd\xc6\xc1\xca",
	    "\xef\xbd\xba\xef\xbe\x9d\xef\xbe\x86\xef\xbe\x81\xef\xbe\x8a", 0, "shift_jis");
}

static void test_eucjp(void **state)
{
	(void)state;
	/* 日本語〜 (A1C1 is U+301C in EUC-JP) */
	DEC("EUC-JP", "\xc6\xfc\xcb\xdc\xb8\xec\xa1\xc1",
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x80\x9c", 0, "euc-jp");
	/* NEC row 13 needs EUC-JP-MS: ① ㈱ */
	DEC("euc-jp", "\xad\xa1\xad\xea", "\xe2\x91\xa0\xe3\x88\xb1", 0, "euc-jp");
	/* half-width katakana (SS2) and JIS X 0212 (SS3): ｱ ˘ */
	DEC("euc-jp", "\x8e\xb1\x8f\xa2\xaf", "\xef\xbd\xb1\xcb\x98", 0, "euc-jp");
}

static void test_iso2022jp(void **state)
{
	(void)state;
	/* 日本語 */
	DEC("ISO-2022-JP", "\x1b$BF|K\\8l\x1b(B", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 0,
	    "iso-2022-jp");
	/* ESC $ @ (1978) and the long form ESC $ ( B */
	DEC("iso-2022-jp", "\x1b$@F|\x1b(B \x1b$(BK\\\x1b(B", "\xe6\x97\xa5 \xe6\x9c\xac", 0,
	    "iso-2022-jp");
	/* NEC row 13 (CP50221): ① ㈱ ; IBM row 89: 纊 */
	DEC("iso-2022-jp", "\x1b$B-!-j\x1b(B", "\xe2\x91\xa0\xe3\x88\xb1", 0, "iso-2022-jp");
	DEC("iso-2022-jp", "\x1b$By!\x1b(B", "\xe7\xba\x8a", 0, "iso-2022-jp");
	/* half-width katakana: ESC ( I, and SO/SI (CP50222): ｱｲ */
	DEC("iso-2022-jp", "\x1b(I12\x1b(B", "\xef\xbd\xb1\xef\xbd\xb2", 0, "iso-2022-jp");
	DEC("iso-2022-jp",
	    "a\x0e\x31\x32\x0f"
	    "b",
	    "a\xef\xbd\xb1\xef\xbd\xb2"
	    "b",
	    0, "iso-2022-jp");
	/* JIS X 0201 Roman: YEN SIGN and OVERLINE */
	DEC("iso-2022-jp", "\x1b(Ja\\b~\x1b(B\\",
	    "a\xc2\xa5"
	    "b\xe2\x80\xbe\\",
	    0, "iso-2022-jp");
	/* ISO-2022-JP-1/2: JIS X 0212, GB 2312 (中), KS C 5601 (한), G2
	 * Latin-1 and Greek via ESC N */
	DEC("ISO-2022-JP-2", "\x1b$(D\"/\x1b(B", "\xcb\x98", 0, "iso-2022-jp");
	DEC("ISO-2022-JP-2", "\x1b$AVP\x1b(B", "\xe4\xb8\xad", 0, "iso-2022-jp");
	DEC("ISO-2022-JP-2", "\x1b$(CGQ\x1b(B", "\xed\x95\x9c", 0, "iso-2022-jp");
	DEC("ISO-2022-JP-2", "caf\x1b.A\x1bNi \x1b.F\x1bNa", "caf\xc3\xa9 \xce\xb1", 0,
	    "iso-2022-jp");
	/* ISO-2022-JP-3: JIS X 0213 plane 1 */
	DEC("ISO-2022-JP-3", "\x1b$(QF|\x1b(B", "\xe6\x97\xa5", 0, "iso-2022-jp");
	/* a line never continues the shift state: no ESC ( B before CRLF */
	DEC("iso-2022-jp", "\x1b$BF|\r\nF|", "\xe6\x97\xa5\r\nF|", 0, "iso-2022-jp");
	/* escapes that are not designations stand for themselves */
	DEC("iso-2022-jp", "\x1b[2J\x1b]52;c;eA==\x07", "\x1b[2J\x1b]52;c;eA==\x07", 0,
	    "iso-2022-jp");
	/* a broken double-byte character: U+FFFD, still ISO-2022-JP */
	DEC("iso-2022-jp", "\x1b$BF|K", "\xe6\x97\xa5\xef\xbf\xbd", LOSSY, "iso-2022-jp");
	/* a bad character is one U+FFFD, whatever its width (JIS X 0212
	 * row 13 is empty: 3 EUC bytes, one replacement each) */
	DEC("iso-2022-jp", "\x1b$(D----\x1b(Bx", "\xef\xbf\xbd\xef\xbf\xbdx", LOSSY, "iso-2022-jp");
	/* DEL is a control in any set; then '!' lacks its second byte */
	DEC("iso-2022-jp", "\x1b$B\x7f\x21\x1b(Bx", "\x7f\xef\xbf\xbdx", LOSSY, "iso-2022-jp");
}

static void test_others(void **state)
{
	(void)state;
	/* GB2312 label, GBK character 镕 (0xE946); 简体 */
	DEC("gb2312", "\xbc\xf2\xcc\xe5\xe9\x46", "\xe7\xae\x80\xe4\xbd\x93\xe9\x95\x95", 0,
	    "gb18030");
	/* Big5 中文 */
	DEC("big5", "\xa4\xa4\xa4\xe5", "\xe4\xb8\xad\xe6\x96\x87", 0, "big5");
	/* EUC-KR label, CP949 extension 똠 (0x8C63); 한국 */
	DEC("ks_c_5601-1987", "\xc7\xd1\xb1\xb9\x8c\x63", "\xed\x95\x9c\xea\xb5\xad\xeb\x98\xa0", 0,
	    "euc-kr");
	/* windows-1252 for ISO-8859-1; undefined 0x81 is U+0081 */
	DEC("ISO-8859-1", "\x80\x81\x93q\x94\xe9",
	    "\xe2\x82\xac\xc2\x81\xe2\x80\x9cq\xe2\x80\x9d\xc3\xa9", 0, "windows-1252");
	DEC("iso-8859-15", "\xa4", "\xe2\x82\xac", 0, "iso-8859-15");
	DEC("koi8-r", "\xf0\xd2\xc9\xd7\xc5\xd4",
	    "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", 0, "koi8-r");
	DEC("windows-1251", "\xcf\xf0\xe8", "\xd0\x9f\xd1\x80\xd0\xb8", 0, "windows-1251");
	/* UTF-16: BOMs, none (big-endian), labels with an order */
	DEC("utf-16", "\xff\xfe\xe5\x65\x2c\x67", "\xe6\x97\xa5\xe6\x9c\xac", 0, "utf-16");
	DEC("utf-16", "\xfe\xff\x65\xe5\x67\x2c", "\xe6\x97\xa5\xe6\x9c\xac", 0, "utf-16");
	DEC("utf-16", "\x65\xe5\x67\x2c", "\xe6\x97\xa5\xe6\x9c\xac", 0, "utf-16");
	DEC("UTF-16LE", "a\x00\x3d\xd8\x00\xde", "a\xf0\x9f\x98\x80", 0, "utf-16le");
	DEC("utf-16be",
	    "\x00"
	    "a\x00"
	    "b",
	    "ab", 0, "utf-16be");
	/* UTF-7, all its labels */
	DEC("utf-7", "Hi +ZeVnLIqe-!", "Hi \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e!", 0, "utf-7");
	DEC("unicode-1-1-utf-7", "a+-b", "a+b", 0, "utf-7");
	DEC("utf-7", "+ZeU", "\xe6\x97\xa5", 0, "utf-7");
}

static void test_fallbacks(void **state)
{
	(void)state;
	/* says ISO-8859-1, is UTF-8 */
	DEC("iso-8859-1",
	    "Gr\xc3\xbc\xc3\x9f"
	    "e",
	    "Gr\xc3\xbc\xc3\x9f"
	    "e",
	    FB, "utf-8");
	DEC("windows-1251", "\xd0\x9f", "\xd0\x9f", FB, "utf-8");
	/* says Shift_JIS, is EUC-JP: こんにちは、日本語のテスト */
	DEC("shift_jis",
	    "\xa4\xb3\xa4\xf3\xa4\xcb\xa4\xc1\xa4\xcf\xa1\xa2\xc6\xfc\xcb\xdc\xb8\xec\xa4\xce\xa5"
	    "\xc6"
	    "\xa5\xb9\xa5\xc8",
	    "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf\xe3\x80\x81\xe6\x97\xa5"
	    "\xe6"
	    "\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88",
	    FB, "euc-jp");
	/* says EUC-JP, is Shift_JIS: こんにちは */
	DEC("euc-jp", "\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd",
	    "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf", FB, "shift_jis");
	/* says ISO-2022-JP, is 8-bit Shift_JIS */
	DEC("iso-2022-jp", "\x93\xfa\x96\x7b", "\xe6\x97\xa5\xe6\x9c\xac", FB, "shift_jis");
	/* 7-bit ISO-2022-JP declared as us-ascii, utf-8 or nothing */
	DEC("us-ascii", "\x1b$BF|K\\\x1b(B", "\xe6\x97\xa5\xe6\x9c\xac", FB, "iso-2022-jp");
	DEC("utf-8", "\x1b$BF|K\\\x1b(B", "\xe6\x97\xa5\xe6\x9c\xac", FB, "iso-2022-jp");
	DEC(NULL, "\x1b$BF|K\\\x1b(B", "\xe6\x97\xa5\xe6\x9c\xac", FB, "iso-2022-jp");
	/* nothing declared: Shift_JIS, EUC-JP */
	DEC(NULL, "\x93\xfa\x96\x7b\x8c\xea", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", FB,
	    "shift_jis");
	DEC(NULL, "\xc6\xfc\xcb\xdc\xb8\xec\xa4\xc7\xa4\xb9",
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xa7\xe3\x81\x99", FB, "euc-jp");
	/* kanji only in EUC-JP (山本) also read as Shift_JIS half-width
	 * katakana "ｻｳﾋﾜ": without a voiced mark, EUC-JP wins */
	DEC(NULL, "\xbb\xb3\xcb\xdc", "\xe5\xb1\xb1\xe6\x9c\xac", FB, "euc-jp");
	/* ... with one, Shift_JIS (ｶﾞｯｺｳ) */
	DEC(NULL, "\xb6\xde\xaf\xba\xb3\xb6",
	    "\xef\xbd\xb6\xef\xbe\x9e\xef\xbd\xaf\xef\xbd\xba\xef\xbd\xb3\xef\xbd\xb6", FB,
	    "shift_jis");
	/* unknown label: UTF-8, then a guess, then windows-1252 */
	DEC("x-unknown", "\xc3\xa9", "\xc3\xa9", UNK | FB, "utf-8");
	DEC("x-unknown", "caf\xe9", "caf\xc3\xa9", UNK | FB, "windows-1252");
	DEC("us-ascii", "caf\xe9", "caf\xc3\xa9", FB, "windows-1252");
	DEC(NULL, "\xff\xfe\xfd", "\xc3\xbf\xc3\xbe\xc3\xbd", FB, "windows-1252");
	/* Big5 with many bad bytes and nothing better: U+FFFD */
	DEC("big5", "\xa4\xa4\xff\xff", "\xe4\xb8\xad\xef\xbf\xbd\xef\xbf\xbd", LOSSY, "big5");
}

static void test_truncated(void **state)
{
	(void)state;
	/* input cut inside a character: dropped silently */
	DECF("utf-8", "\xe6\x97\xa5\xe6\x9c", IMS_CHARSET_TRUNCATED, "\xe6\x97\xa5", "utf-8");
	DECF("shift_jis", "\x93\xfa\x96", IMS_CHARSET_TRUNCATED, "\xe6\x97\xa5", "shift_jis");
	DECF("iso-2022-jp", "\x1b$BF|K", IMS_CHARSET_TRUNCATED, "\xe6\x97\xa5", "iso-2022-jp");
	DECF("euc-jp", "\xc6\xfc\xcb", IMS_CHARSET_TRUNCATED, "\xe6\x97\xa5", "euc-jp");
}

static void test_strict(void **state)
{
	struct ims_buf b;
	struct ims_error err;
	struct ims_charset_info ci;

	(void)state;
	ims_buf_init(&b, 0);
	assert_int_equal(ims_buf_puts(&b, "x"), IMS_OK);
	assert_int_equal(ims_charset_decode("x-foo", "a", 1, IMS_CHARSET_STRICT, &b, &ci, &err),
	                 IMS_ERR_USAGE);
	assert_string_equal(err.msg, "charset: unknown charset \"x-foo\"");
	assert_int_equal(ims_charset_decode("utf-8", "a\xff", 2, IMS_CHARSET_STRICT, &b, &ci, &err),
	                 IMS_ERR_USAGE);
	assert_string_equal(err.msg, "charset: bytes are not valid utf-8");
	assert_int_equal(
	    ims_charset_decode("shift_jis", "\x93", 1, IMS_CHARSET_STRICT, &b, &ci, &err),
	    IMS_ERR_USAGE);
	assert_string_equal(b.data, "x");
	assert_int_equal(
	    ims_charset_decode("cp932", "\x93\xfa", 2, IMS_CHARSET_STRICT, &b, &ci, &err), IMS_OK);
	assert_string_equal(b.data, "x\xe6\x97\xa5");
	ims_buf_release(&b);
}

static void test_limit(void **state)
{
	struct ims_buf b;
	struct ims_error err;

	(void)state;
	ims_buf_init(&b, 6);
	assert_int_equal(ims_buf_puts(&b, "ab"), IMS_OK);
	assert_int_equal(ims_charset_decode("shift_jis", "\x93\xfa\x96\x7b", 4, 0, &b, NULL, &err),
	                 IMS_ERR_LIMIT);
	assert_string_equal(err.msg, "charset: text too long");
	assert_string_equal(b.data, "ab");
	assert_int_equal(ims_charset_decode("iso-2022-jp", "\x1b$BF|K\\", 7, 0, &b, NULL, &err),
	                 IMS_ERR_LIMIT);
	assert_string_equal(b.data, "ab");
	assert_int_equal(ims_charset_decode("shift_jis", "\x93\xfa", 2, 0, &b, NULL, &err), IMS_OK);
	assert_string_equal(b.data, "ab\xe6\x97\xa5");
	ims_buf_release(&b);
}

/* Whatever the bytes and the label, the output is UTF-8. */
static void test_always_utf8(void **state)
{
	static const char *const labels[] = {
	    NULL,     "utf-8",      "us-ascii",    "shift_jis", "euc-jp",       "iso-2022-jp",
	    "gb2312", "big5",       "euc-kr",      "utf-16",    "utf-16le",     "utf-7",
	    "koi8-r", "iso-8859-1", "iso-2022-kr", "x-unknown", "euc-jisx0213", "shift_jisx0213"};
	static const unsigned char alphabet[] = {0x1b, '$',  '(',  'B',  'J',  'I',  '@',  'D',
	                                         'N',  '.',  'A',  'F',  0x0e, 0x0f, '\n', '+',
	                                         '-',  0x8e, 0x8f, 0xa4, 0xc6, 0x82, 0xad, 0xff,
	                                         0xfe, 0x00, 0xe6, 0x97, 0x21, 0x7e, 0x7f, 0x80};
	unsigned char in[24];
	struct ims_buf b;
	uint32_t seed = 12345;
	size_t i, k, l, n;

	(void)state;
	ims_buf_init(&b, 0);
	for (i = 0; i < 3000; i++) {
		seed = seed * 1103515245u + 12345u;
		n = (seed >> 16) % sizeof(in);
		for (k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			in[k] = (seed >> 20) & 1 ? alphabet[(seed >> 8) % sizeof(alphabet)]
			                         : (unsigned char)(seed >> 8);
		}
		for (l = 0; l < sizeof(labels) / sizeof(labels[0]); l++) {
			ims_buf_reset(&b);
			assert_int_equal(ims_charset_decode(labels[l], in, n, 0, &b, NULL, NULL),
			                 IMS_OK);
			assert_true(ims_utf8_valid(b.data, b.len));
			assert_true(b.len <= 3 * n);
		}
	}
	ims_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_labels),    cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_repair),    cmocka_unit_test(test_cp932),
	    cmocka_unit_test(test_eucjp),     cmocka_unit_test(test_iso2022jp),
	    cmocka_unit_test(test_others),    cmocka_unit_test(test_fallbacks),
	    cmocka_unit_test(test_truncated), cmocka_unit_test(test_strict),
	    cmocka_unit_test(test_limit),     cmocka_unit_test(test_always_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
