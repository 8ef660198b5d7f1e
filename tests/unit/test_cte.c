/* Content-Transfer-Encoding decoders, fed whole, one byte at a time and in
 * odd chunks: the output and the flags must not depend on the chunking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/cte.h"

/* Decode in[0..n) fed in chunks of `step` bytes (0: whole). */
static unsigned run(enum ims_cte kind, const char *in, size_t n, size_t step, struct ims_buf *out)
{
	struct ims_cte_dec d;
	size_t i = 0;

	ims_cte_dec_init(&d, kind, ims_sink_buf(out));
	if (step == 0)
		step = n > 0 ? n : 1;
	while (i < n) {
		size_t k = n - i < step ? n - i : step;

		assert_int_equal(ims_cte_dec_feed(&d, in + i, k), IMS_OK);
		i += k;
	}
	assert_int_equal(ims_cte_dec_finish(&d), IMS_OK);
	assert_int_equal(d.out_total, out->len);
	return d.flags;
}

static void check(enum ims_cte kind, const char *in, size_t n, const char *want, size_t wn,
                  unsigned want_flags)
{
	static const size_t steps[] = {0, 1, 2, 3, 5, 7, 64};
	struct ims_buf b;
	size_t s;
	unsigned f;

	for (s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		ims_buf_init(&b, 0);
		f = run(kind, in, n, steps[s], &b);
		if (b.len != wn || memcmp(b.len ? b.data : "", want, wn) != 0)
			fail_msg("step %zu: got \"%.*s\" want \"%.*s\"", steps[s], (int)b.len,
			         b.len ? b.data : "", (int)wn, want);
		if (f != want_flags)
			fail_msg("step %zu: flags %u want %u (input \"%.*s\")", steps[s], f,
			         want_flags, (int)n, in);
		ims_buf_release(&b);
	}
	assert_int_equal(ims_cte_decoded_size(kind, in, n), wn);
}

#define B64(in, want, fl) check(IMS_CTE_BASE64, in, sizeof(in) - 1, want, sizeof(want) - 1, fl)
#define QP(in, want, fl)  check(IMS_CTE_QP, in, sizeof(in) - 1, want, sizeof(want) - 1, fl)
#define GARBAGE           IMS_CTE_GARBAGE
#define TRUNC             IMS_CTE_TRUNCATED

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(ims_cte_from_name(NULL), IMS_CTE_IDENTITY);
	assert_int_equal(ims_cte_from_name(""), IMS_CTE_IDENTITY);
	assert_int_equal(ims_cte_from_name("7bit"), IMS_CTE_IDENTITY);
	assert_int_equal(ims_cte_from_name("8BIT"), IMS_CTE_IDENTITY);
	assert_int_equal(ims_cte_from_name("Binary"), IMS_CTE_IDENTITY);
	assert_int_equal(ims_cte_from_name(" BASE64 "), IMS_CTE_BASE64);
	assert_int_equal(ims_cte_from_name("\"base64\""), IMS_CTE_BASE64);
	assert_int_equal(ims_cte_from_name("Quoted-Printable"), IMS_CTE_QP);
	assert_int_equal(ims_cte_from_name("x-uuencode"), IMS_CTE_UNKNOWN);
	assert_int_equal(ims_cte_from_name("base6"), IMS_CTE_UNKNOWN);
	assert_int_equal(ims_cte_from_name("base644"), IMS_CTE_UNKNOWN);
}

static void test_base64(void **state)
{
	(void)state;
	/* RFC 4648 section 10 */
	B64("", "", 0);
	B64("Zg==", "f", 0);
	B64("Zm8=", "fo", 0);
	B64("Zm9v", "foo", 0);
	B64("Zm9vYg==", "foob", 0);
	B64("Zm9vYmE=", "fooba", 0);
	B64("Zm9vYmFy", "foobar", 0);
	/* line breaks and blanks anywhere, CRLF or LF */
	B64("Zm9v\r\nYmFy\r\n", "foobar", 0);
	B64("Zm\n9v Ym\tFy\n", "foobar", 0);
	B64(" Z m 9 v Y g = = ", "foob", 0);
	/* missing padding is tolerated */
	B64("Zm9vYg", "foob", 0);
	B64("Zm9vYmE", "fooba", 0);
	/* all bytes */
	B64("AP8Agf7/", "\x00\xff\x00\x81\xfe\xff", 0);
	/* garbage is skipped and reported */
	B64("Zm9v!YmFy", "foobar", GARBAGE);
	B64("Zm9v\x80YmFy", "foobar", GARBAGE);
	B64("Zm-9v_YmFy", "foobar", GARBAGE);
	/* '=' too early: the lone sextet goes, decoding goes on */
	B64("Z=m9v", "\x9b\xdb", GARBAGE);
	/* data after padding: a new quantum (concatenated encodings) */
	B64("Zg==Zm8=", "ffo", GARBAGE);
	/* extra '=' after padding is harmless */
	B64("Zg====", "f", 0);
	/* a lone last character */
	B64("Zm9vY", "foo", TRUNC);
	/* '=' alone */
	B64("=", "", GARBAGE);
}

static void test_qp(void **state)
{
	(void)state;
	QP("", "", 0);
	QP("plain text\r\n", "plain text\r\n", 0);
	QP("caf=C3=A9", "caf\xc3\xa9", 0);
	QP("caf=c3=a9", "caf\xc3\xa9", 0); /* lower-case hex, seen in the wild */
	QP("=00=FF=0D=0A", "\x00\xff\r\n", 0);
	/* soft line breaks: CRLF, LF, with blanks after '=' */
	QP("long=\r\nline", "longline", 0);
	QP("long=\nline", "longline", 0);
	QP("long= \t\r\nline", "longline", 0);
	QP("long=  \nline", "longline", 0);
	/* a soft break inside a character */
	QP("=E6=97=\r\n=A5", "\xe6\x97\xa5", 0);
	/* blanks at the end of a line are transport padding */
	QP("a  \r\nb\t\nc \t ", "a\r\nb\nc", 0);
	QP("a = b", "a = b", GARBAGE);
	/* malformed '=' kept literally */
	QP("a=ZZb", "a=ZZb", GARBAGE);
	QP("a=3", "a=3", TRUNC);
	QP("a=3g", "a=3g", GARBAGE);
	QP("1+1=3D2", "1+1=2", 0);
	QP("x=\ry", "x=\ry", GARBAGE);
	QP("x= \ry", "x= \ry", GARBAGE);
	QP("x==41", "x=A", GARBAGE);
	/* '=' at the very end: a soft break */
	QP("end=", "end", 0);
	QP("end= ", "end", 0);
	/* a lone CR is data */
	QP("a\rb", "a\rb", 0);
	QP("a \rb", "a \rb", 0);
	/* 8-bit passes */
	QP("\xe6\x97\xa5", "\xe6\x97\xa5", 0);
}

static void test_identity(void **state)
{
	char big[5000];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	check(IMS_CTE_IDENTITY, big, sizeof(big), big, sizeof(big), 0);
	check(IMS_CTE_UNKNOWN, "begin 644 x\n", 12, "begin 644 x\n", 12, 0);
}

/* A long run of blanks in QP does not grow state without bound. */
static void test_qp_long_blanks(void **state)
{
	char in[1000], want[1000];
	struct ims_buf b;

	(void)state;
	memset(in, ' ', sizeof(in));
	in[sizeof(in) - 1] = 'x';
	memcpy(want, in, sizeof(want));
	ims_buf_init(&b, 0);
	assert_int_equal(run(IMS_CTE_QP, in, sizeof(in), 1, &b), 0);
	assert_int_equal(b.len, sizeof(in));
	assert_memory_equal(b.data, want, sizeof(want));
	ims_buf_release(&b);
}

/* 3 MB of base64 through a sink that only counts: nothing is kept. */
static ims_err count_sink(void *ctx, const void *p, size_t n)
{
	size_t *total = ctx;

	(void)p;
	assert_true(n <= IMS_CTE_CHUNK);
	*total += n;
	return IMS_OK;
}

static void test_streaming(void **state)
{
	struct ims_cte_dec d;
	size_t total = 0, i;
	struct ims_sink sink = {count_sink, &total};
	const char *line =
	    "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx\r\n";

	(void)state;
	ims_cte_dec_init(&d, IMS_CTE_BASE64, sink);
	for (i = 0; i < 40000; i++)
		assert_int_equal(ims_cte_dec_feed(&d, line, strlen(line)), IMS_OK);
	assert_int_equal(ims_cte_dec_finish(&d), IMS_OK);
	assert_int_equal(total, 40000 * 54);
	assert_int_equal(d.out_total, 40000 * 54);
	assert_int_equal(d.flags, 0);
}

static ims_err failing_sink(void *ctx, const void *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
	return IMS_ERR_IO;
}

static void test_sink_error(void **state)
{
	struct ims_cte_dec d;
	struct ims_sink sink = {failing_sink, NULL};
	struct ims_buf b;
	struct ims_error err;
	char big[3000];

	(void)state;
	memset(big, 'A', sizeof(big));
	ims_cte_dec_init(&d, IMS_CTE_BASE64, sink);
	assert_int_equal(ims_cte_dec_feed(&d, big, sizeof(big)), IMS_ERR_IO);
	ims_cte_dec_init(&d, IMS_CTE_QP, sink);
	assert_int_equal(ims_cte_dec_feed(&d, "x", 1), IMS_OK);
	assert_int_equal(ims_cte_dec_finish(&d), IMS_ERR_IO);
	/* the one-shot form keeps the buffer as it was */
	ims_buf_init(&b, 4);
	assert_int_equal(ims_buf_puts(&b, "ab"), IMS_OK);
	assert_int_equal(ims_cte_decode(IMS_CTE_BASE64, "Zm9vYmFy", 8, &b, NULL, &err),
	                 IMS_ERR_LIMIT);
	assert_string_equal(err.msg, "transfer encoding: body too long");
	assert_string_equal(b.data, "ab");
	ims_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_qp),
	    cmocka_unit_test(test_identity),
	    cmocka_unit_test(test_qp_long_blanks),
	    cmocka_unit_test(test_streaming),
	    cmocka_unit_test(test_sink_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
