/* Terminal sanitising and safe file names, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/sanitize.h"

static void check(const char *in, size_t len, unsigned flags, const char *want)
{
	struct ims_buf b;
	struct ims_error err;

	ims_buf_init(&b, 0);
	ims_error_init(&err);
	assert_int_equal(ims_sanitize(in, len, flags, &b, &err), IMS_OK);
	if (b.len != strlen(want) || memcmp(b.data ? b.data : "", want, b.len) != 0)
		fail_msg("got \"%s\", want \"%s\"", b.data ? b.data : "", want);
	assert_int_equal(ims_sanitize_is_clean(in, len, flags),
	                 strcmp(in, want) == 0 && len == strlen(in));
	ims_buf_release(&b);
}

#define LINE(in, want) check(in, sizeof(in) - 1, IMS_SANITIZE_LINE, want)
#define TEXT(in, want) check(in, sizeof(in) - 1, IMS_SANITIZE_TEXT, want)

static void test_plain(void **state)
{
	(void)state;
	LINE("", "");
	LINE("Hello, world", "Hello, world");
	LINE("Gr\xc3\xbc\xc3\x9f"
	     "e \xe9\x80\x81\xe4\xbf\xa1 \xf0\x9f\x98\x80",
	     "Gr\xc3\xbc\xc3\x9f"
	     "e \xe9\x80\x81\xe4\xbf\xa1 \xf0\x9f\x98\x80");
	LINE("^[ is text", "^[ is text");
	TEXT("a\tb\nc", "a\tb\nc");
}

static void test_controls(void **state)
{
	(void)state;
	LINE("a\x1b"
	     "b",
	     "a^[b");
	LINE("\x00\x01\x07\x08\x1a\x1c\x1d\x1e\x1f\x7f", "^@^A^G^H^Z^\\^]^^^_^?");
	LINE("a\tb\nc\rd", "a^Ib^Jc^Md");
	TEXT("a\tb\nc\rd", "a\tb\nc^Md");
	TEXT("line1\r\nline2\r\n", "line1\nline2\n");
	TEXT("cr\r\r\n", "cr^M\n");
	TEXT("end\r", "end^M");
	LINE("line1\r\nline2", "line1^M^Jline2");
	check("tab\there", 8, IMS_SANITIZE_KEEP_TAB, "tab\there");
	check("lf\nx\ty", 6, IMS_SANITIZE_KEEP_LF, "lf\nx^Iy");
}

static void test_escape_sequences(void **state)
{
	(void)state;
	/* CSI: colour, cursor movement, clear screen, title query. */
	LINE("\x1b[31mred\x1b[0m", "^[[31mred^[[0m");
	LINE("\x1b[2J\x1b[H", "^[[2J^[[H");
	/* OSC 8 hyperlink with BEL and with ST terminators. */
	LINE("\x1b]8;;https://evil.test/\x07"
	     "click\x1b]8;;\x07",
	     "^[]8;;https://evil.test/^Gclick^[]8;;^G");
	LINE("\x1b]8;;http://x/\x1b\\y\x1b]8;;\x1b\\", "^[]8;;http://x/^[\\y^[]8;;^[\\");
	/* OSC 52: write the clipboard. */
	LINE("\x1b]52;c;cm0gLXJmIH4=\x07", "^[]52;c;cm0gLXJmIH4=^G");
	/* OSC 0 title. */
	LINE("\x1b]0;pwned\x1b\\", "^[]0;pwned^[\\");
	/* DCS, APC, PM, SOS (7-bit). */
	LINE("\x1bPq#0\x1b\\", "^[Pq#0^[\\");
	LINE("\x1b_apc\x1b\\", "^[_apc^[\\");
	LINE("\x1b^pm\x1b\\", "^[^pm^[\\");
	LINE("\x1bXsos\x1b\\", "^[Xsos^[\\");
	/* 8-bit C1 as raw bytes (CSI 0x9b, OSC 0x9d, ST 0x9c, DCS 0x90). */
	LINE("\x9b"
	     "31m",
	     "\\x9B31m");
	LINE("\x9d"
	     "52;c;x\x9c",
	     "\\x9D52;c;x\\x9C");
	LINE("\x90q\x9c", "\\x90q\\x9C");
	/* C1 encoded as UTF-8. */
	LINE("\xc2\x9b"
	     "31m\xc2\x9d"
	     "0;t\xc2\x9c",
	     "<U+009B>31m<U+009D>0;t<U+009C>");
	LINE("\xc2\x80\xc2\x85\xc2\x9f", "<U+0080><U+0085><U+009F>");
	/* Not C1: U+00A0 and beyond pass. */
	LINE("\xc2\xa0\xc2\xa9", "\xc2\xa0\xc2\xa9");
}

static void test_bidi_invisible(void **state)
{
	(void)state;
	/* "invoice_RLO_fdp.exe" */
	LINE("invoice\xe2\x80\xae"
	     "fdp.exe",
	     "invoice<U+202E>fdp.exe");
	LINE("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad\xe2\x80\xae",
	     "<U+202A><U+202B><U+202C><U+202D><U+202E>");
	LINE("\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9",
	     "<U+2066><U+2067><U+2068><U+2069>");
	LINE("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", "<U+200E><U+200F><U+061C>");
	LINE("a\xe2\x80\x8b"
	     "b\xe2\x80\x8c"
	     "c\xe2\x80\x8d"
	     "d\xe2\x81\xa0"
	     "e\xef\xbb\xbf"
	     "f",
	     "a<U+200B>b<U+200C>c<U+200D>d<U+2060>e<U+FEFF>f");
	LINE("\xe2\x80\xa8\xe2\x80\xa9", "<U+2028><U+2029>");
	LINE("\xf3\xa0\x80\x81\xf3\xa0\x81\xbf", "<U+E0001><U+E007F>");
	LINE("\xe1\xa0\x8e\xef\xbf\xb9", "<U+180E><U+FFF9>");
	/* Neighbours that are fine. */
	LINE("\xe2\x80\x90\xe2\x80\xaf\xe2\x81\xb0", "\xe2\x80\x90\xe2\x80\xaf\xe2\x81\xb0");
	TEXT("\xe2\x80\xae\n", "<U+202E>\n");
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	LINE("\xff\xfe", "\\xFF\\xFE");
	LINE("a\xc3", "a\\xC3");
	LINE("\xc3(", "\\xC3(");
	LINE("\xc0\xaf", "\\xC0\\xAF");                   /* overlong '/' */
	LINE("\xe0\x80\x9b", "\\xE0\\x80\\x9B");          /* overlong CSI */
	LINE("\xed\xa0\x80", "\\xED\\xA0\\x80");          /* surrogate */
	LINE("\xf4\x90\x80\x80", "\\xF4\\x90\\x80\\x80"); /* > U+10FFFF */
	LINE("\xf0\x9f\x98", "\\xF0\\x9F\\x98");          /* truncated */
	LINE("\xc3\xa1\x80", "\xc3\xa1\\x80");
}

static void test_limit(void **state)
{
	struct ims_buf b;
	struct ims_error err;

	(void)state;
	ims_buf_init(&b, 8);
	assert_int_equal(ims_buf_puts(&b, "ab"), IMS_OK);
	assert_int_equal(ims_sanitize("\x1b\x1b\x1b\x1b", 4, 0, &b, &err), IMS_ERR_LIMIT);
	assert_string_equal(err.msg, "sanitize: output too long");
	assert_string_equal(b.data, "ab");
	assert_int_equal(ims_sanitize("\x1b\x1b\x1b", 3, 0, &b, &err), IMS_OK);
	assert_string_equal(b.data, "ab^[^[^[");
	ims_buf_release(&b);
}

static void check_name(const char *in, size_t len, const char *fallback, const char *want)
{
	struct ims_buf b;
	struct ims_error err;

	ims_buf_init(&b, 0);
	assert_int_equal(ims_sanitize_filename(in, len, fallback, &b, &err), IMS_OK);
	if (strcmp(b.data, want) != 0)
		fail_msg("\"%.*s\" -> \"%s\", want \"%s\"", (int)len, in, b.data, want);
	assert_int_equal(b.len, strlen(want));
	ims_buf_release(&b);
}

#define NAME(in, fb, want) check_name(in, sizeof(in) - 1, fb, want)

static void test_filename(void **state)
{
	(void)state;
	NAME("report.pdf", "part-2", "report.pdf");
	NAME("Gr\xc3\xbc\xc3\x9f"
	     "e.txt",
	     NULL,
	     "Gr\xc3\xbc\xc3\x9f"
	     "e.txt");
	NAME("../../etc/passwd", NULL, "passwd");
	NAME("..\\..\\windows\\system.ini", NULL, "system.ini");
	NAME("/abs/path/x.doc", NULL, "x.doc");
	NAME("dir/", "part-2", "part-2");
	NAME("", "part-2", "part-2");
	NAME(".", "part-2", "part-2");
	NAME("..", "part-2", "part-2");
	NAME("...", NULL, "attachment");
	NAME("", NULL, "attachment");
	NAME("", "../..", "attachment");
	NAME("", "..\x1b", "_");
	NAME(".bashrc", NULL, "bashrc");
	NAME("-rf", NULL, "rf");
	NAME(" - .-x", NULL, "x");
	NAME("a..b...c.txt", NULL, "a.b.c.txt");
	NAME("name.txt   ", NULL, "name.txt");
	NAME("tab\there", NULL, "tab_here");
	NAME("esc\x1b[31m.txt", NULL, "esc_[31m.txt");
	NAME("nul\0x", NULL, "nul_x");
	NAME("del\x7f", NULL, "del_");
	NAME("c1\xc2\x9b", NULL, "c1_");
	NAME("bad\xff\xfe.txt", NULL, "bad__.txt");
	NAME("invoice\xe2\x80\xae"
	     "fdp.exe",
	     NULL, "invoice_fdp.exe");
	NAME("zw\xe2\x80\x8b.txt", NULL, "zw_.txt");
	NAME("\xe2\x80\xae.txt", NULL, "_.txt");
	NAME("a:b*c?.txt", NULL, "a:b*c?.txt");
}

static void test_filename_long(void **state)
{
	char in[600], want[IMS_FILENAME_MAX + 1];
	size_t i;

	(void)state;
	/* 300 'a' + ".pdf": 196 'a' + ".pdf". */
	memset(in, 'a', 300);
	memcpy(in + 300, ".pdf", 4);
	memset(want, 'a', 196);
	memcpy(want + 196, ".pdf", 5);
	check_name(in, 304, NULL, want);

	/* 'é' (2 bytes) x 150 + ".txt": the cut falls inside a character. */
	for (i = 0; i < 150; i++)
		memcpy(in + 2 * i, "\xc3\xa9", 2);
	memcpy(in + 300, ".txt", 4);
	for (i = 0; i < 98; i++)
		memcpy(want + 2 * i, "\xc3\xa9", 2);
	memcpy(want + 196, ".txt", 5);
	check_name(in, 304, NULL, want);

	/* 3-byte characters: 196 is not a boundary, 195 is. */
	for (i = 0; i < 100; i++)
		memcpy(in + 3 * i, "\xe9\x80\x81", 3);
	memcpy(in + 300, ".txt", 4);
	for (i = 0; i < 65; i++)
		memcpy(want + 3 * i, "\xe9\x80\x81", 3);
	memcpy(want + 195, ".txt", 5);
	check_name(in, 304, NULL, want);

	/* No extension: plain cut. */
	memset(in, 'b', 300);
	memset(want, 'b', 200);
	want[200] = '\0';
	check_name(in, 300, NULL, want);

	/* An "extension" longer than 32 bytes is not kept. */
	memset(in, 'c', 200);
	in[200] = '.';
	memset(in + 201, 'd', 50);
	memset(want, 'c', 200);
	want[200] = '\0';
	check_name(in, 251, NULL, want);

	/* The cut lands right after a dot: no ".." appears. */
	memset(in, 'e', 300);
	in[195] = '.';
	memcpy(in + 300, ".pdf", 4);
	memset(want, 'e', 195);
	memcpy(want + 195, ".pdf", 5);
	check_name(in, 304, NULL, want);

	/* Exactly 200 bytes: unchanged. */
	memset(in, 'f', 196);
	memcpy(in + 196, ".pdf", 4);
	memcpy(want, in, 200);
	want[200] = '\0';
	check_name(in, 200, NULL, want);
}

static void test_utf8_decode(void **state)
{
	uint32_t cp = 0;

	(void)state;
	assert_int_equal(ims_utf8_decode((const unsigned char *)"A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(ims_utf8_decode((const unsigned char *)"\xc3\xa9", 2, &cp), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(ims_utf8_decode((const unsigned char *)"\xe2\x80\xae", 3, &cp), 3);
	assert_int_equal(cp, 0x202e);
	assert_int_equal(ims_utf8_decode((const unsigned char *)"\xf4\x8f\xbf\xbf", 4, &cp), 4);
	assert_int_equal(cp, 0x10ffff);
	assert_int_equal(ims_utf8_decode((const unsigned char *)"\xc3\xa9", 1, &cp), 0);
	assert_int_equal(ims_utf8_decode((const unsigned char *)"\xc1\xbf", 2, &cp), 0);
	assert_int_equal(ims_utf8_decode((const unsigned char *)"\xe0\x9f\xbf", 3, &cp), 0);
	assert_int_equal(ims_utf8_decode((const unsigned char *)"\xed\xbf\xbf", 3, &cp), 0);
	assert_int_equal(ims_utf8_decode((const unsigned char *)"\xf0\x8f\xbf\xbf", 4, &cp), 0);
	assert_int_equal(ims_utf8_decode((const unsigned char *)"\xf5\x80\x80\x80", 4, &cp), 0);
	assert_int_equal(ims_utf8_decode((const unsigned char *)"", 0, &cp), 0);
	assert_true(ims_utf8_valid("a\xc3\xa9\xf0\x9f\x98\x80", 7));
	assert_false(ims_utf8_valid("a\xc3", 2));
	assert_true(ims_utf8_valid("", 0));
}

/* ims_sanitize_fixed: the one rule for certificate text and TSV fields. */
static int has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static void test_fixed(void **state)
{
	/* Every hostile byte a certificate name can hold, length-counted. */
	static const char evil[] = "cn\x1b[31mred\x07"
	                           "bel\t\r\n\0nul\xc2\x9b\x9b\xe2\x80\xae"
	                           "rlo\xe2\x80\x8bzw\xff";
	char out[256], small[16];
	unsigned char all[256];
	size_t i;

	(void)state;
	assert_string_equal(ims_sanitize_fixed(evil, sizeof(evil) - 1, out, sizeof(out)),
	                    "cn^[[31mred^Gbel^I^M^J^@nul<U+009B>\\x9B<U+202E>rlo<U+200B>zw\\xFF");
	assert_false(has_control(out));
	assert_true(ims_utf8_valid(out, strlen(out)));
	/* Clean text passes unchanged, NUL inside is not an end. */
	assert_string_equal(ims_sanitize_fixed("imap.example.test", 17, out, sizeof(out)),
	                    "imap.example.test");
	assert_string_equal(ims_sanitize_fixed("a\0b", 3, out, sizeof(out)), "a^@b");
	assert_string_equal(ims_sanitize_fixed("", 0, out, sizeof(out)), "");
	/* Safe text stays as it is: the rule may be applied twice. */
	ims_sanitize_fixed(evil, sizeof(evil) - 1, out, sizeof(out));
	{
		char again[256];

		assert_string_equal(ims_sanitize_fixed(out, strlen(out), again, sizeof(again)),
		                    out);
	}
	/* Cut with "...", never inside a character, never past n. */
	assert_string_equal(
	    ims_sanitize_fixed("abcdefghijklmnopqrstuvwxyz", 26, small, sizeof(small)),
	    "abcdefghijkl...");
	assert_string_equal(
	    ims_sanitize_fixed("abcdefghij\xc3\xa9\xc3\xa9xyz", 17, small, sizeof(small)),
	    "abcdefghij\xc3\xa9...");
	assert_string_equal(ims_sanitize_fixed("abcdefghijk\xc3\xa9xyzw", 17, small, sizeof(small)),
	                    "abcdefghijk...");
	assert_true(strlen(ims_sanitize_fixed("\x1b\x1b\x1b\x1b\x1b\x1b\x1b\x1b", 8, small,
	                                      sizeof(small))) < sizeof(small));
	/* Every byte value: no control, valid UTF-8. */
	for (i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)i;
	for (i = 0; i < sizeof(all); i++) {
		ims_sanitize_fixed(all + i, sizeof(all) - i, out, sizeof(out));
		assert_false(has_control(out));
		assert_true(ims_utf8_valid(out, strlen(out)));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_controls),
	    cmocka_unit_test(test_escape_sequences),
	    cmocka_unit_test(test_bidi_invisible),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_limit),
	    cmocka_unit_test(test_filename),
	    cmocka_unit_test(test_filename_long),
	    cmocka_unit_test(test_utf8_decode),
	    cmocka_unit_test(test_fixed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
