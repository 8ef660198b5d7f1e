/* The IMAP command writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/writer.h"

/* All segments joined, STREAM segments shown as "<STREAM n>", SYNC ends
 * marked "|". */
static void joined(const struct ims_cmd *c, char *out, size_t cap)
{
	const struct ims_segment *s;
	size_t n = ims_cmd_segments(c, &s), i, len = 0;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (s[i].kind == IMS_SEG_STREAM) {
			len += (size_t)snprintf(out + len, cap - len, "<STREAM %llu>",
			                        (unsigned long long)s[i].size);
			continue;
		}
		assert_true(len + s[i].len < cap);
		memcpy(out + len, ims_cmd_segment_data(c, &s[i]), s[i].len);
		len += s[i].len;
		out[len] = '\0';
		if (s[i].kind == IMS_SEG_SYNC)
			len += (size_t)snprintf(out + len, cap - len, "|");
	}
}

static void one_astring(const struct ims_writer_opts *o, const char *arg, size_t n,
                        const char *want)
{
	struct ims_cmd c;
	char buf[8192];

	ims_cmd_init(&c, o);
	assert_int_equal(ims_cmd_begin(&c, "A1", "SELECT"), IMS_OK);
	assert_int_equal(ims_cmd_astring(&c, arg, n), IMS_OK);
	assert_int_equal(ims_cmd_end(&c), IMS_OK);
	joined(&c, buf, sizeof(buf));
	assert_string_equal(buf, want);
	ims_cmd_release(&c);
}

static void test_astring_forms(void **state)
{
	struct ims_writer_opts o = {IMS_LITERAL_SYNC, 0, 0};

	(void)state;
	one_astring(&o, "INBOX", 5, "A1 SELECT INBOX\r\n");
	one_astring(&o, "Sent Items", 10, "A1 SELECT \"Sent Items\"\r\n");
	one_astring(&o, "a\"b\\c", 5, "A1 SELECT \"a\\\"b\\\\c\"\r\n");
	one_astring(&o, "", 0, "A1 SELECT \"\"\r\n");
	one_astring(&o, "NIL", 3, "A1 SELECT \"NIL\"\r\n");
	one_astring(&o, "nil", 3, "A1 SELECT \"nil\"\r\n");
	one_astring(&o, "NILS", 4, "A1 SELECT NILS\r\n");
	one_astring(&o, "foo]bar", 7, "A1 SELECT \"foo]bar\"\r\n");
	one_astring(&o, "[Gmail]", 7, "A1 SELECT \"[Gmail]\"\r\n");
	one_astring(&o, "[Gmail]/Sent Mail", 17, "A1 SELECT \"[Gmail]/Sent Mail\"\r\n");
	one_astring(&o, "foo(bar", 7, "A1 SELECT \"foo(bar\"\r\n");
	one_astring(&o, "50%", 3, "A1 SELECT \"50%\"\r\n");
	one_astring(&o, "a*", 2, "A1 SELECT \"a*\"\r\n");
	one_astring(&o, "{5}", 3, "A1 SELECT \"{5}\"\r\n");
	one_astring(&o, "&AMQ-pfel", 9, "A1 SELECT &AMQ-pfel\r\n");
	/* a line break can never end the command: a literal */
	one_astring(&o, "a\r\nb", 4, "A1 SELECT {4}\r\n|a\r\nb\r\n");
	one_astring(&o, "a\rb", 3, "A1 SELECT {3}\r\n|a\rb\r\n");
	one_astring(&o, "a\nb", 3, "A1 SELECT {3}\r\n|a\nb\r\n");
	/* 8-bit: a literal, unless UTF8=ACCEPT */
	one_astring(&o, "\xC3\x84pfel", 6, "A1 SELECT {6}\r\n|\xC3\x84pfel\r\n");
	o.utf8 = 1;
	one_astring(&o, "\xC3\x84pfel", 6, "A1 SELECT \"\xC3\x84pfel\"\r\n");
	one_astring(&o, "\xC3\x84\r\n", 4, "A1 SELECT {4}\r\n|\xC3\x84\r\n\r\n");
	o.utf8 = 0;
	/* LITERAL+ and LITERAL- */
	o.literal = IMS_LITERAL_PLUS;
	one_astring(&o, "a\r\nb", 4, "A1 SELECT {4+}\r\na\r\nb\r\n");
	o.literal = IMS_LITERAL_MINUS;
	one_astring(&o, "a\r\nb", 4, "A1 SELECT {4+}\r\na\r\nb\r\n");
	/* a long string goes as a literal */
	o.literal = IMS_LITERAL_SYNC;
	o.max_quoted = 8;
	one_astring(&o, "12345678 ", 9, "A1 SELECT {9}\r\n|12345678 \r\n");
	one_astring(&o, "1234567 ", 8, "A1 SELECT \"1234567 \"\r\n");
	one_astring(&o, "123456789", 9, "A1 SELECT 123456789\r\n");
	assert_int_equal(ims_cmd_astring_form(&o, "a\0b", 3), -1);
	assert_int_equal(ims_cmd_astring_form(&o, "ab", 2), 0);
	assert_int_equal(ims_cmd_astring_form(&o, "a b", 3), 1);
	assert_int_equal(ims_cmd_astring_form(&o, "a\nb", 3), 2);
}

static void test_literal_minus_limit(void **state)
{
	struct ims_writer_opts o = {IMS_LITERAL_MINUS, 0, 0};
	static char big[5000];
	struct ims_cmd c;
	const struct ims_segment *s;

	(void)state;
	memset(big, 'x', sizeof(big));
	big[0] = '\n';
	ims_cmd_init(&c, &o);
	assert_int_equal(ims_cmd_begin(&c, "A1", "SELECT"), IMS_OK);
	assert_int_equal(ims_cmd_astring(&c, big, 4096), IMS_OK);
	assert_int_equal(ims_cmd_end(&c), IMS_OK);
	assert_int_equal(ims_cmd_segments(&c, &s), 1);
	assert_memory_equal(ims_cmd_segment_data(&c, &s[0]), "A1 SELECT {4096+}\r\n", 19);
	ims_cmd_release(&c);

	ims_cmd_init(&c, &o);
	assert_int_equal(ims_cmd_begin(&c, "A1", "SELECT"), IMS_OK);
	assert_int_equal(ims_cmd_astring(&c, big, 4097), IMS_OK);
	assert_int_equal(ims_cmd_end(&c), IMS_OK);
	assert_int_equal(ims_cmd_segments(&c, &s), 2);
	assert_int_equal(s[0].kind, IMS_SEG_SYNC);
	assert_int_equal(s[0].len, 18);
	assert_memory_equal(ims_cmd_segment_data(&c, &s[0]), "A1 SELECT {4097}\r\n", 18);
	assert_int_equal(s[1].kind, IMS_SEG_DATA);
	assert_int_equal(s[1].len, 4099);
	ims_cmd_release(&c);
}

static void test_login_trace(void **state)
{
	struct ims_cmd c;
	char buf[256];

	(void)state;
	ims_cmd_init(&c, NULL);
	assert_int_equal(ims_cmd_begin(&c, "x1", "LOGIN"), IMS_OK);
	assert_int_equal(ims_cmd_astring(&c, "alice", 5), IMS_OK);
	ims_cmd_secret(&c, 1);
	assert_int_equal(ims_cmd_astring(&c, "s3cret", 6), IMS_OK);
	ims_cmd_secret(&c, 0);
	assert_int_equal(ims_cmd_end(&c), IMS_OK);
	joined(&c, buf, sizeof(buf));
	assert_string_equal(buf, "x1 LOGIN alice s3cret\r\n");
	assert_string_equal(ims_cmd_trace(&c), "x1 LOGIN alice ***");
	ims_cmd_release(&c);

	/* a password with a line break: a literal, still hidden */
	ims_cmd_init(&c, NULL);
	assert_int_equal(ims_cmd_begin(&c, "x2", "LOGIN"), IMS_OK);
	assert_int_equal(ims_cmd_astring(&c, "bob smith", 9), IMS_OK);
	ims_cmd_secret(&c, 1);
	assert_int_equal(ims_cmd_astring(&c, "pa\r\nss", 6), IMS_OK);
	assert_int_equal(ims_cmd_end(&c), IMS_OK);
	joined(&c, buf, sizeof(buf));
	assert_string_equal(buf, "x2 LOGIN \"bob smith\" {6}\r\n|pa\r\nss\r\n");
	assert_string_equal(ims_cmd_trace(&c), "x2 LOGIN \"bob smith\" ***");
	assert_null(strstr(ims_cmd_trace(&c), "pa"));
	ims_cmd_release(&c);

	/* quoted secret, then a visible literal */
	ims_cmd_init(&c, NULL);
	assert_int_equal(ims_cmd_begin(&c, "x3", "X"), IMS_OK);
	ims_cmd_secret(&c, 1);
	assert_int_equal(ims_cmd_astring(&c, "a b", 3), IMS_OK);
	ims_cmd_secret(&c, 0);
	assert_int_equal(ims_cmd_literal(&c, "body", 4), IMS_OK);
	assert_int_equal(ims_cmd_nstring(&c, NULL), IMS_OK);
	assert_int_equal(ims_cmd_string(&c, "atom", 4), IMS_OK);
	assert_int_equal(ims_cmd_end(&c), IMS_OK);
	assert_string_equal(ims_cmd_trace(&c), "x3 X *** {4}<4 bytes> NIL \"atom\"");
	ims_cmd_release(&c);
}

static void test_refusals(void **state)
{
	struct ims_cmd c;

	(void)state;
	/* NUL never goes anywhere; the error is sticky */
	ims_cmd_init(&c, NULL);
	assert_int_equal(ims_cmd_begin(&c, "A1", "LOGIN"), IMS_OK);
	assert_int_equal(ims_cmd_astring(&c, "u", 1), IMS_OK);
	assert_int_equal(ims_cmd_astring(&c, "p\0w", 3), IMS_ERR_USAGE);
	assert_non_null(strstr(c.err.msg, "NUL"));
	assert_int_equal(ims_cmd_end(&c), IMS_ERR_USAGE);
	ims_cmd_release(&c);

	ims_cmd_init(&c, NULL);
	assert_int_equal(ims_cmd_begin(&c, "A1", "X"), IMS_OK);
	assert_int_equal(ims_cmd_literal(&c, "a\0", 2), IMS_ERR_USAGE);
	ims_cmd_release(&c);

	/* raw and atoms cannot be literals: line breaks are refused */
	ims_cmd_init(&c, NULL);
	assert_int_equal(ims_cmd_begin(&c, "A1", "UID FETCH"), IMS_OK);
	assert_int_equal(ims_cmd_raw(&c, "1:5\r\nA2 LOGOUT"), IMS_ERR_USAGE);
	assert_non_null(strstr(c.err.msg, "line break"));
	ims_cmd_release(&c);

	ims_cmd_init(&c, NULL);
	assert_int_equal(ims_cmd_begin(&c, "A1", "X"), IMS_OK);
	assert_int_equal(ims_cmd_raw(&c, "a\tb"), IMS_ERR_USAGE);
	ims_cmd_release(&c);

	ims_cmd_init(&c, NULL);
	assert_int_equal(ims_cmd_begin(&c, "A1", "X"), IMS_OK);
	assert_int_equal(ims_cmd_raw(&c, "caf\xC3\xA9"), IMS_ERR_USAGE);
	ims_cmd_release(&c);

	ims_cmd_init(&c, NULL);
	assert_int_equal(ims_cmd_begin(&c, "A1", "X"), IMS_OK);
	assert_int_equal(ims_cmd_atom(&c, "a b"), IMS_ERR_USAGE);
	ims_cmd_release(&c);

	ims_cmd_init(&c, NULL);
	assert_int_equal(ims_cmd_begin(&c, "A1", "X"), IMS_OK);
	assert_int_equal(ims_cmd_atom(&c, ""), IMS_ERR_USAGE);
	ims_cmd_release(&c);

	ims_cmd_init(&c, NULL);
	assert_int_equal(ims_cmd_begin(&c, "A+1", "X"), IMS_ERR_USAGE);
	ims_cmd_release(&c);

	ims_cmd_init(&c, NULL);
	assert_int_equal(ims_cmd_begin(&c, "A1", "X\r\nA2 LOGOUT"), IMS_ERR_USAGE);
	ims_cmd_release(&c);

	ims_cmd_init(&c, NULL);
	assert_int_equal(ims_cmd_begin(&c, "A1", "UID  FETCH"), IMS_ERR_USAGE);
	ims_cmd_release(&c);

	ims_cmd_init(&c, NULL);
	assert_int_equal(ims_cmd_begin(&c, "", "X"), IMS_ERR_USAGE);
	ims_cmd_release(&c);

	/* order */
	ims_cmd_init(&c, NULL);
	assert_int_equal(ims_cmd_atom(&c, "x"), IMS_ERR_USAGE);
	ims_cmd_release(&c);
	ims_cmd_init(&c, NULL);
	assert_int_equal(ims_cmd_end(&c), IMS_ERR_USAGE);
	ims_cmd_release(&c);
	ims_cmd_init(&c, NULL);
	assert_int_equal(ims_cmd_begin(&c, "A1", "NOOP"), IMS_OK);
	assert_int_equal(ims_cmd_end(&c), IMS_OK);
	assert_int_equal(ims_cmd_atom(&c, "x"), IMS_ERR_USAGE);
	ims_cmd_release(&c);
}

static void test_append_stream(void **state)
{
	struct ims_writer_opts plus = {IMS_LITERAL_PLUS, 0, 0};
	struct ims_cmd c;
	char buf[512];

	(void)state;
	ims_cmd_init(&c, NULL);
	assert_int_equal(ims_cmd_begin(&c, "A7", "APPEND"), IMS_OK);
	assert_int_equal(ims_cmd_astring(&c, "INBOX", 5), IMS_OK);
	assert_int_equal(ims_cmd_raw(&c, "(\\Seen)"), IMS_OK);
	assert_int_equal(ims_cmd_literal_stream(&c, 310, 0), IMS_OK);
	assert_int_equal(ims_cmd_end(&c), IMS_OK);
	joined(&c, buf, sizeof(buf));
	assert_string_equal(buf, "A7 APPEND INBOX (\\Seen) {310}\r\n|<STREAM 310>\r\n");
	assert_string_equal(ims_cmd_trace(&c), "A7 APPEND INBOX (\\Seen) {310}<310 bytes>");
	ims_cmd_release(&c);

	ims_cmd_init(&c, &plus);
	assert_int_equal(ims_cmd_begin(&c, "A8", "APPEND"), IMS_OK);
	assert_int_equal(ims_cmd_astring(&c, "Sent", 4), IMS_OK);
	assert_int_equal(ims_cmd_literal_stream(&c, 5000000000ull, 1), IMS_OK);
	assert_int_equal(ims_cmd_end(&c), IMS_OK);
	joined(&c, buf, sizeof(buf));
	assert_string_equal(buf, "A8 APPEND Sent ~{5000000000+}\r\n<STREAM 5000000000>\r\n");
	ims_cmd_reset(&c);
	assert_int_equal(ims_cmd_begin(&c, "A9", "NOOP"), IMS_OK);
	assert_int_equal(ims_cmd_end(&c), IMS_OK);
	joined(&c, buf, sizeof(buf));
	assert_string_equal(buf, "A9 NOOP\r\n");
	ims_cmd_release(&c);
}

/* Walk the wire bytes as a server would: skip literal data, and count
 * the line ends outside literals.  Exactly one, at the very end. */
static void check_one_line(const char *p, size_t n)
{
	size_t i = 0, ends = 0;

	while (i < n) {
		assert_true(p[i] != '\0');
		if (p[i] == '{') {
			size_t j = i + 1;
			unsigned long long v = 0;

			while (j < n && p[j] >= '0' && p[j] <= '9')
				v = v * 10 + (unsigned)(p[j++] - '0');
			if (j < n && p[j] == '+')
				j++;
			assert_true(j + 2 < n && p[j] == '}' && p[j + 1] == '\r' &&
			            p[j + 2] == '\n');
			i = j + 3 + (size_t)v;
		} else if (p[i] == '"') {
			for (i++; i < n && p[i] != '"'; i++) {
				assert_true(p[i] != '\r' && p[i] != '\n' && p[i] != '\0');
				if (p[i] == '\\')
					i++;
			}
			assert_true(i < n);
			i++;
		} else if (p[i] == '\r' || p[i] == '\n') {
			assert_true(p[i] == '\r' && i + 1 < n && p[i + 1] == '\n');
			ends++;
			assert_int_equal(i + 2, n);
			i += 2;
		} else {
			i++;
		}
	}
	assert_int_equal(ends, 1);
}

static void test_random_strings_never_split(void **state)
{
	static const unsigned char alphabet[] = "aZ09 \"\\(){}[]%*\r\n\x01\x7f\x80\xC3\xA9+~NIL";
	unsigned seed = 12345;
	size_t iter;

	(void)state;
	for (iter = 0; iter < 20000; iter++) {
		struct ims_writer_opts o = {(enum ims_literal_mode)(iter % 3), (int)(iter / 3 % 2),
		                            16};
		struct ims_cmd c;
		unsigned char arg[40];
		size_t n, i, total = 0;
		const struct ims_segment *s;
		char wire[4096];

		seed = seed * 1103515245u + 12345u;
		n = (seed >> 16) % sizeof(arg);
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			arg[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		ims_cmd_init(&c, &o);
		assert_int_equal(ims_cmd_begin(&c, "T1", "LOGIN"), IMS_OK);
		assert_int_equal(ims_cmd_astring(&c, arg, n), IMS_OK);
		assert_int_equal(ims_cmd_string(&c, arg, n), IMS_OK);
		assert_int_equal(ims_cmd_end(&c), IMS_OK);
		n = ims_cmd_segments(&c, &s);
		for (i = 0; i < n; i++) {
			assert_true(total + s[i].len < sizeof(wire));
			memcpy(wire + total, ims_cmd_segment_data(&c, &s[i]), s[i].len);
			total += s[i].len;
			/* a SYNC segment ends right after a literal header */
			if (s[i].kind == IMS_SEG_SYNC)
				assert_memory_equal(wire + total - 3, "}\r\n", 3);
		}
		check_one_line(wire, total);
		ims_cmd_release(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_astring_forms), cmocka_unit_test(test_literal_minus_limit),
	    cmocka_unit_test(test_login_trace),   cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_append_stream), cmocka_unit_test(test_random_strings_never_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
