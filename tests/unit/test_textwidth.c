/* Terminal columns (textwidth.h): the one rule list, folders and quota
 * measure and cut with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/textwidth.h"

static void test_cp_width(void **state)
{
	(void)state;
	assert_int_equal(ims_cp_width('a'), 1);
	assert_int_equal(ims_cp_width(0xe9), 1);    /* é */
	assert_int_equal(ims_cp_width(0x301), 0);   /* combining acute */
	assert_int_equal(ims_cp_width(0xfe0f), 0);  /* variation selector */
	assert_int_equal(ims_cp_width(0x200b), 0);  /* zero width space */
	assert_int_equal(ims_cp_width(0x200f), 0);  /* right-to-left mark */
	assert_int_equal(ims_cp_width(0x2010), 1);  /* hyphen */
	assert_int_equal(ims_cp_width(0x4e2d), 2);  /* CJK */
	assert_int_equal(ims_cp_width(0xac00), 2);  /* Hangul */
	assert_int_equal(ims_cp_width(0xff21), 2);  /* fullwidth A */
	assert_int_equal(ims_cp_width(0x1f600), 2); /* emoji */
	assert_int_equal(ims_cp_width(0x303f), 1);
}

static void test_text_width(void **state)
{
	(void)state;
	assert_int_equal(ims_text_width(""), 0);
	assert_int_equal(ims_text_width("Inbox"), 5);
	assert_int_equal(ims_text_width("e\xcc\x81t\xc3\xa9"), 3);       /* e+acute, t, é */
	assert_int_equal(ims_text_width("\xe4\xb8\xad\xe6\x96\x87"), 4); /* two CJK */
	assert_int_equal(ims_text_width("a\xe2\x80\x8b"
	                                "b"),
	                 2);                             /* a ZWSP b */
	assert_int_equal(ims_text_width("\xff\xfe"), 2); /* invalid: a column a byte */
}

static void fit(const char *s, size_t cols, int pad, const char *want)
{
	struct ims_buf b;

	ims_buf_init(&b, 0);
	assert_int_equal(ims_text_fit(&b, s, cols, pad), IMS_OK);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	ims_buf_release(&b);
}

static void test_fit(void **state)
{
	(void)state;
	fit("Inbox", 5, 1, "Inbox");
	fit("Inbox", 8, 1, "Inbox   ");
	fit("Inbox", 8, 0, "Inbox");
	fit("Archive", 5, 1, "Arch\xe2\x80\xa6");
	fit("Archive", 1, 1, "\xe2\x80\xa6");
	fit("Archive", 0, 1, "");
	/* A wide character is never cut in two: the column is padded. */
	fit("\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97", 4, 1, "\xe4\xb8\xad\xe2\x80\xa6 ");
	fit("\xe4\xb8\xad\xe6\x96\x87", 4, 1, "\xe4\xb8\xad\xe6\x96\x87");
	/* Zero-width characters take no column (list once counted one). */
	fit("a\xe2\x80\x8b"
	    "b",
	    2, 1,
	    "a\xe2\x80\x8b"
	    "b");
}

static void fit_words(const char *s, size_t cols, const char *want)
{
	struct ims_buf b;

	ims_buf_init(&b, 0);
	assert_int_equal(ims_text_fit_words(&b, s, cols), IMS_OK);
	assert_string_equal(b.data != NULL ? b.data : "", want);
	assert_true(ims_text_width(b.data != NULL ? b.data : "") <= cols);
	ims_buf_release(&b);
}

static void test_fit_words(void **state)
{
	(void)state;
	fit_words("IMAP4rev1 IDLE QUOTA", 20, "IMAP4rev1 IDLE QUOTA");
	fit_words("IMAP4rev1 IDLE QUOTA", 19, "IMAP4rev1 IDLE \xe2\x80\xa6");
	fit_words("IMAP4rev1 IDLE QUOTA", 16, "IMAP4rev1 IDLE \xe2\x80\xa6");
	fit_words("IMAP4rev1 IDLE QUOTA", 15, "IMAP4rev1 \xe2\x80\xa6");
	fit_words("IMAP4rev1 IDLE QUOTA", 11, "IMAP4rev1 \xe2\x80\xa6");
	/* a first word too long for the columns: cut inside it */
	fit_words("IMAP4rev1 IDLE QUOTA", 6, "IMAP4\xe2\x80\xa6");
	/* spaces in a row: the cut keeps none of them before " …" */
	fit_words("A  B   CCCCCCCCCC", 8, "A  B \xe2\x80\xa6");
	/* wide characters count two columns */
	fit_words("\xe6\x97\xa5\xe6\x9c\xac \xe8\xaa\x9e\xe8\xaa\x9e\xe8\xaa\x9e", 7,
	          "\xe6\x97\xa5\xe6\x9c\xac \xe2\x80\xa6");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cp_width),
	    cmocka_unit_test(test_text_width),
	    cmocka_unit_test(test_fit),
	    cmocka_unit_test(test_fit_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
