/* Content-Type and Content-Disposition fields, their parameters, RFC 2231
 * (charsets, languages, continuations) and RFC 2047 in values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/mime.h"
#include "imapsh/sanitize.h"

static struct ims_mime_field f;

static void ct(const char *s)
{
	ims_mime_field_init(&f);
	assert_int_equal(ims_mime_content_type_parse(&f, s, strlen(s), NULL), IMS_OK);
}

static void cd(const char *s)
{
	ims_mime_field_init(&f);
	assert_int_equal(ims_mime_disposition_parse(&f, s, strlen(s), NULL), IMS_OK);
}

static void param(const char *name, const char *want)
{
	const char *v = ims_mime_params_get(&f.params, name);

	if (want == NULL) {
		assert_null(v);
		return;
	}
	if (v == NULL)
		fail_msg("no parameter %s", name);
	assert_string_equal(v, want);
	assert_true(ims_utf8_valid(v, strlen(v)));
}

static void test_content_type(void **state)
{
	(void)state;
	ct("text/plain; charset=us-ascii");
	assert_string_equal(f.type, "text");
	assert_string_equal(f.subtype, "plain");
	param("charset", "us-ascii");
	assert_int_equal(f.invalid, 0);
	ims_mime_field_release(&f);

	ct("  TEXT/HTML ; CHARSET=\"UTF-8\" ; Format=Flowed");
	assert_string_equal(f.type, "text");
	assert_string_equal(f.subtype, "html");
	param("charset", "UTF-8");
	param("format", "Flowed");
	assert_int_equal(f.params.n, 2);
	ims_mime_field_release(&f);

	/* comments anywhere, folding, blanks around '/' and '=' */
	ct("(c) multipart (x) / (y) mixed (z);\r\n\tboundary = \"=_a b;c\" (the boundary)");
	assert_string_equal(f.type, "multipart");
	assert_string_equal(f.subtype, "mixed");
	param("boundary", "=_a b;c");
	ims_mime_field_release(&f);

	ct("text/plain; charset=us-ascii (Plain text)");
	param("charset", "us-ascii");
	ims_mime_field_release(&f);

	/* quoted-pair, duplicates (first wins), empty and odd ones */
	ct("a/b; x=\"say \\\"hi\\\" \\\\o/\"; x=second; y=; =z; w; v=\"unterminated");
	param("x", "say \"hi\" \\o/");
	param("y", "");
	param("v", "unterminated");
	param("w", NULL);
	ims_mime_field_release(&f);

	/* unquoted values with blanks, as some mailers send */
	ct("application/pdf; name=Annual report 2025.pdf; x=1");
	param("name", "Annual report 2025.pdf");
	param("x", "1");
	ims_mime_field_release(&f);

	/* unreadable: text/plain (RFC 2045 5.2), parameters kept */
	ct("garbage; charset=utf-8");
	assert_string_equal(f.type, "text");
	assert_string_equal(f.subtype, "plain");
	assert_int_equal(f.invalid, 1);
	param("charset", "utf-8");
	ims_mime_field_release(&f);
	ct("");
	assert_int_equal(f.invalid, 1);
	ims_mime_field_release(&f);
	ct("text/");
	assert_int_equal(f.invalid, 1);
	ims_mime_field_release(&f);
}

static void test_disposition(void **state)
{
	(void)state;
	cd("Attachment; FileName=\"a b.txt\"; size=12");
	assert_string_equal(f.type, "attachment");
	assert_null(f.subtype);
	param("filename", "a b.txt");
	param("size", "12");
	ims_mime_field_release(&f);
	cd("inline");
	assert_string_equal(f.type, "inline");
	assert_int_equal(f.params.n, 0);
	ims_mime_field_release(&f);
	cd("; filename=x");
	assert_null(f.type);
	assert_int_equal(f.invalid, 1);
	param("filename", "x");
	ims_mime_field_release(&f);
}

static void test_rfc2231(void **state)
{
	(void)state;
	cd("attachment; filename*=UTF-8''%E2%82%AC%20rates.txt");
	param("filename", "\xe2\x82\xac rates.txt");
	ims_mime_field_release(&f);

	/* language, lower-case hex, charset case */
	cd("attachment; filename*=utf-8'en-us'%e2%82%ac.txt");
	param("filename", "\xe2\x82\xac.txt");
	ims_mime_field_release(&f);

	/* continuations: encoded, then plain, in a quoted string */
	cd("attachment; filename*0*=UTF-8''%E6%97%A5%E6%9C%AC; filename*1*=%E8%AA%9E;"
	   " filename*2=\".txt\"");
	param("filename", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.txt");
	ims_mime_field_release(&f);

	/* a character split across sections */
	cd("attachment; filename*0*=UTF-8''%E6%97; filename*1*=%A5.txt");
	param("filename", "\xe6\x97\xa5.txt");
	ims_mime_field_release(&f);

	/* out of order; a gap ends the value */
	cd("a; title*2=\"c\"; title*0=\"a\"; title*1=\"b\"; title*4=\"e\"");
	param("title", "abc");
	ims_mime_field_release(&f);

	/* plain continuations (RFC 2231 3) */
	cd("a; URL*0=\"ftp://\"; URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"");
	param("url", "ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar");
	ims_mime_field_release(&f);

	/* the RFC 2231 form wins over the plain one, whatever the order */
	cd("a; filename=\"old.txt\"; filename*=UTF-8''new.txt");
	param("filename", "new.txt");
	ims_mime_field_release(&f);
	cd("a; filename*=UTF-8''new.txt; filename=\"old.txt\"");
	param("filename", "new.txt");
	ims_mime_field_release(&f);

	/* Japanese charsets */
	cd("a; filename*=ISO-2022-JP'ja'%1B%24B%3BqNA%1B%28B.xls");
	param("filename", "\xe8\xb3\x87\xe6\x96\x99.xls");
	ims_mime_field_release(&f);
	cd("a; filename*=shift_jis''%8E%CA%90%5E.jpg");
	param("filename", "\xe5\x86\x99\xe7\x9c\x9f.jpg");
	ims_mime_field_release(&f);

	/* no charset: UTF-8 or a guess; an unknown one: the same */
	cd("a; filename*=''%E6%97%A5.txt");
	param("filename", "\xe6\x97\xa5.txt");
	ims_mime_field_release(&f);
	cd("a; filename*=x-foo''%93%fa.txt");
	param("filename", "\xe6\x97\xa5.txt");
	ims_mime_field_release(&f);

	/* malformed: no quotes, bad '%' */
	cd("a; filename*=%41%4.txt");
	param("filename", "A%4.txt");
	ims_mime_field_release(&f);
	cd("a; filename*=UTF-8'%41");
	param("filename", "UTF-8'A");
	ims_mime_field_release(&f);

	/* bytes a charset rejects still give UTF-8 */
	cd("a; filename*=us-ascii''%FF%FE");
	param("filename", "\xc3\xbf\xc3\xbe");
	ims_mime_field_release(&f);
	cd("a; filename*=utf-8''%00%1B[2J");
	assert_int_equal(memcmp(ims_mime_params_get(&f.params, "filename"), "\0", 1), 0);
	ims_mime_field_release(&f);
}

static void test_rfc2047_values(void **state)
{
	(void)state;
	/* RFC 2047 inside a quoted value, as common mailers send it */
	ct("application/pdf; name=\"=?UTF-8?B?6KuL5rGC5pu4LnBkZg==?=\"");
	param("name", "\xe8\xab\x8b\xe6\xb1\x82\xe6\x9b\xb8.pdf");
	ims_mime_field_release(&f);
	ct("application/pdf; name==?ISO-2022-JP?B?GyRCO3FOQRsoQg==?=.xls");
	param("name", "\xe8\xb3\x87\xe6\x96\x99.xls");
	ims_mime_field_release(&f);
	/* split over plain continuations */
	cd("a; filename*0=\"=?UTF-8?B?5pel?=\"; filename*1=\" =?UTF-8?B?5pys?=.txt\"");
	param("filename", "\xe6\x97\xa5\xe6\x9c\xac.txt");
	ims_mime_field_release(&f);
	/* raw 8-bit values */
	cd("a; filename=\"\xe6\x97\xa5.txt\"");
	param("filename", "\xe6\x97\xa5.txt");
	ims_mime_field_release(&f);
	cd("a; filename=\"\x93\xfa\x96\x7b\x82\xcc.txt\"");
	param("filename", "\xe6\x97\xa5\xe6\x9c\xac\xe3\x81\xae.txt");
	ims_mime_field_release(&f);
	/* no RFC 2047 inside an RFC 2231 encoded value */
	cd("a; filename*=UTF-8''=?UTF-8?Q?x?=");
	param("filename", "=?UTF-8?Q?x?=");
	ims_mime_field_release(&f);
}

static void test_limits(void **state)
{
	struct ims_buf s;
	size_t i;

	(void)state;
	/* many parameters: capped, no failure */
	ims_buf_init(&s, 0);
	assert_int_equal(ims_buf_puts(&s, "a/b"), IMS_OK);
	for (i = 0; i < 1000; i++)
		assert_int_equal(ims_buf_printf(&s, "; p%zu=%zu", i, i), IMS_OK);
	ct(s.data);
	assert_int_equal(f.params.n, IMS_MIME_MAX_PARAMS);
	param("p0", "0");
	param("p255", "255");
	param("p256", NULL);
	ims_mime_field_release(&f);

	/* a long value is cut on a character boundary */
	ims_buf_reset(&s);
	assert_int_equal(ims_buf_puts(&s, "a; filename*=UTF-8''x"), IMS_OK);
	for (i = 0; i < 10000; i++)
		assert_int_equal(ims_buf_puts(&s, "%E6%97%A5"), IMS_OK);
	cd(s.data);
	{
		const char *v = ims_mime_params_get(&f.params, "filename");

		assert_non_null(v);
		assert_true(strlen(v) <= IMS_MIME_MAX_VALUE);
		assert_true(strlen(v) > IMS_MIME_MAX_VALUE - 4);
		assert_true(ims_utf8_valid(v, strlen(v)));
	}
	ims_mime_field_release(&f);

	/* huge section numbers are not sections */
	cd("a; n*99999999999999999999=x; n*0=y");
	param("n", "y");
	param("n*99999999999999999999", "x");
	ims_mime_field_release(&f);
	ims_buf_release(&s);
}

/* The BODYSTRUCTURE path: raw strings as the server sent them. */
static void test_part_set(void **state)
{
	struct ims_mime_part p;
	struct ims_mime_rawparam ps[] = {
	    {"CHARSET", 7, "ISO-2022-JP", 11},
	    {"NAME", 4, "=?UTF-8?B?5pel?=.txt", 20},
	};
	struct ims_mime_rawparam ds[] = {
	    {"FILENAME*0*", 11, "UTF-8''%E6%9C", 13},
	    {"FILENAME*1*", 11, "%AC.txt", 7},
	};

	(void)state;
	ims_mime_part_init(&p);
	assert_int_equal(
	    ims_mime_part_set(&p, "TEXT", "PLAIN", ps, 2, "BASE64", "ATTACHMENT", ds, 2, NULL),
	    IMS_OK);
	assert_string_equal(p.type, "text");
	assert_string_equal(p.subtype, "plain");
	assert_string_equal(p.encoding, "base64");
	assert_string_equal(p.disposition, "attachment");
	assert_string_equal(ims_mime_params_get(&p.params, "charset"), "ISO-2022-JP");
	assert_string_equal(ims_mime_params_get(&p.params, "name"), "\xe6\x97\xa5.txt");
	assert_string_equal(p.filename, "\xe6\x9c\xac.txt");
	assert_true(ims_mime_part_is(&p, "Text", NULL));
	assert_true(ims_mime_part_is(&p, "text", "Plain"));
	assert_false(ims_mime_part_is(&p, "text", "html"));
	/* set again: replaced, nothing leaks; NIL type is text/plain */
	assert_int_equal(ims_mime_part_set(&p, NULL, NULL, NULL, 0, NULL, NULL, NULL, 0, NULL),
	                 IMS_OK);
	assert_string_equal(p.type, "text");
	assert_string_equal(p.subtype, "plain");
	assert_null(p.encoding);
	assert_null(p.filename);
	ims_mime_part_release(&p);
	ims_mime_part_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_content_type), cmocka_unit_test(test_disposition),
	    cmocka_unit_test(test_rfc2231),      cmocka_unit_test(test_rfc2047_values),
	    cmocka_unit_test(test_limits),       cmocka_unit_test(test_part_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
