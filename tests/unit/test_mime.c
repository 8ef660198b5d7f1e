/* The MIME parser and the text view: the corpus in tests/data/mime (each
 * NAME.eml against NAME.expected, byte for byte), the part tree and its
 * IMAP numbers, the caps, the roles and attachment list as the
 * BODYSTRUCTURE path uses them, HTML and format=flowed. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/mime.h"
#include "imapsh/sanitize.h"

static char *slurp(const char *path, size_t *len_r)
{
	FILE *fp = fopen(path, "rb");
	struct ims_buf b;
	char chunk[4096];
	size_t n;

	if (fp == NULL)
		return NULL;
	ims_buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		assert_int_equal(ims_buf_append(&b, chunk, n), IMS_OK);
	fclose(fp);
	return ims_buf_take(&b, len_r);
}

static void view(const char *raw, size_t len, unsigned flags, struct ims_buf *out)
{
	struct ims_mime_msg m;
	struct ims_error err;

	ims_mime_msg_init(&m);
	assert_int_equal(ims_mime_parse(&m, raw, len, &err), IMS_OK);
	assert_int_equal(ims_mime_view(&m, flags, out, &err), IMS_OK);
	assert_true(ims_utf8_valid(out->data, out->len));
	ims_mime_msg_release(&m);
}

static void test_corpus(void **state)
{
	const char *data = getenv("IMAPSH_TEST_DATA");
	char dir[4096], path[4096 + 256];
	struct dirent *de;
	DIR *d;
	int count = 0, failed = 0;

	(void)state;
	assert_non_null(data);
	snprintf(dir, sizeof(dir), "%s/mime", data);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		size_t nl = strlen(de->d_name), rl, el;
		char *raw, *exp;
		struct ims_buf out;

		if (nl < 5 || strcmp(de->d_name + nl - 4, ".eml") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		raw = slurp(path, &rl);
		assert_non_null(raw);
		snprintf(path, sizeof(path), "%s/%.*s.expected", dir, (int)(nl - 4), de->d_name);
		exp = slurp(path, &el);
		if (exp == NULL)
			fail_msg("%s has no .expected", de->d_name);
		ims_buf_init(&out, 0);
		view(raw, rl, 0, &out);
		if (out.len != el || memcmp(out.data, exp, el) != 0) {
			print_error("%s: view differs from the .expected file; got:\n%.*s\n",
			            de->d_name, (int)out.len, out.data);
			failed++;
		}
		/* the same message with LF line ends views the same */
		{
			size_t i, k = 0;
			struct ims_buf out2;

			for (i = 0; i < rl; i++)
				if (!(raw[i] == '\r' && i + 1 < rl && raw[i + 1] == '\n'))
					raw[k++] = raw[i];
			/* (attachment sizes change with the line ends: compare
			 * what comes before the list) */
			const char *att = strstr(exp, "\nAttachments:\n");
			size_t cmp = att != NULL ? (size_t)(att - exp) : el;

			ims_buf_init(&out2, 0);
			view(raw, k, 0, &out2);
			if (out2.len < cmp || memcmp(out2.data, exp, cmp) != 0 ||
			    (att == NULL && out2.len != el)) {
				print_error("%s with LF line ends differs; got:\n%.*s\n",
				            de->d_name, (int)out2.len, out2.data);
				failed++;
			}
			ims_buf_release(&out2);
		}
		ims_buf_release(&out);
		free(raw);
		free(exp);
		count++;
	}
	closedir(d);
	assert_true(count >= 16);
	assert_int_equal(failed, 0);
}

struct want_part {
	const char *section, *type, *subtype;
	size_t parent;
	const char *filename;
};

#define NP IMS_MIME_NO_PARENT

static void check_parts(const struct ims_mime_msg *m, const struct want_part *w, size_t n)
{
	size_t i;

	assert_int_equal(m->nparts, n);
	for (i = 0; i < n; i++) {
		const struct ims_mime_part *p = &m->parts[i];

		if (strcmp(p->section, w[i].section) != 0 || strcmp(p->type, w[i].type) != 0 ||
		    strcmp(p->subtype, w[i].subtype) != 0 || p->parent != w[i].parent)
			fail_msg("part %zu: [%s] %s/%s parent %zu, want [%s] %s/%s parent %zu", i,
			         p->section, p->type, p->subtype, p->parent, w[i].section,
			         w[i].type, w[i].subtype, w[i].parent);
		if (w[i].filename == NULL)
			assert_null(p->filename);
		else
			assert_string_equal(p->filename, w[i].filename);
	}
}

static void test_structure(void **state)
{
	const char *data = getenv("IMAPSH_TEST_DATA");
	char path[4096];
	struct ims_mime_msg m;
	size_t len;
	char *raw;
	static const struct want_part want[] = {
	    {"", "multipart", "mixed", NP, NULL},
	    {"1", "multipart", "alternative", 0, NULL},
	    {"1.1", "text", "plain", 1, NULL},
	    {"1.2", "multipart", "related", 1, NULL},
	    {"1.2.1", "text", "html", 3, NULL},
	    {"1.2.2", "image", "png", 3, "logo.png"},
	    {"2", "application", "pdf", 0, "\xe8\xab\x8b\xe6\xb1\x82\xe6\x9b\xb8.pdf"},
	    {"3", "message", "rfc822", 0, NULL},
	    {"3.1", "text", "plain", 7, NULL},
	    {"4", "text", "plain", 0, "notes.txt"},
	    {"5", "text", "plain", 0, NULL},
	};

	(void)state;
	snprintf(path, sizeof(path), "%s/mime/nested-mixed.eml", data);
	raw = slurp(path, &len);
	assert_non_null(raw);
	ims_mime_msg_init(&m);
	assert_int_equal(ims_mime_parse(&m, raw, len, NULL), IMS_OK);
	check_parts(&m, want, sizeof(want) / sizeof(want[0]));
	assert_int_equal(m.flags, 0);
	/* the image: base64 body, decoded size exact */
	assert_string_equal(m.parts[5].encoding, "base64");
	assert_int_equal(m.parts[5].decoded_size, 308);
	assert_string_equal(m.parts[5].disposition, "inline");
	/* headers of each part are found by part */
	{
		size_t l;
		const char *v = ims_mime_msg_header(&m, 0, "SUBJECT", &l);

		assert_non_null(v);
		assert_int_equal(l, 18);
		assert_memory_equal(v, " Invoice for March", 18);
		assert_null(ims_mime_msg_header(&m, 0, "Content-ID", NULL));
		assert_non_null(ims_mime_msg_header(&m, 5, "content-id", NULL));
		/* the forwarded message's own header */
		v = ims_mime_msg_header(&m, 8, "From", &l);
		assert_non_null(v);
		assert_memory_equal(v, " Taro <taro@example.jp>", l);
	}
	ims_mime_msg_release(&m);
	ims_mime_msg_release(&m);
	free(raw);
}

#define MSG(s) s, sizeof(s) - 1

static void parse(struct ims_mime_msg *m, const char *raw, size_t len)
{
	ims_mime_msg_init(m);
	assert_int_equal(ims_mime_parse(m, raw, len, NULL), IMS_OK);
}

static void test_shapes(void **state)
{
	struct ims_mime_msg m;

	(void)state;
	/* a single part is part 1 */
	parse(&m, MSG("Subject: x\r\n\r\nbody\r\n"));
	assert_int_equal(m.nparts, 1);
	assert_string_equal(m.parts[0].section, "1");
	assert_string_equal(m.parts[0].type, "text");
	assert_int_equal(m.parts[0].body_len, 6);
	ims_mime_msg_release(&m);

	/* headers only, no blank line */
	parse(&m, MSG("Subject: x\r\nFrom: y"));
	assert_int_equal(m.nparts, 1);
	assert_int_equal(m.parts[0].body_len, 0);
	assert_non_null(ims_mime_msg_header(&m, 0, "from", NULL));
	ims_mime_msg_release(&m);

	/* no header at all */
	parse(&m, MSG("just text\nmore\n"));
	assert_int_equal(m.parts[0].hdr_len, 0);
	assert_int_equal(m.parts[0].body_len, 15);
	ims_mime_msg_release(&m);

	/* empty message */
	parse(&m, "", 0);
	assert_int_equal(m.nparts, 1);
	ims_mime_msg_release(&m);

	/* message/rfc822 holding a multipart: its children are 2.1, 2.2 */
	{
		static const char raw[] = "Content-Type: multipart/mixed; boundary=o\n\n"
		                          "--o\n\nfirst\n"
		                          "--o\nContent-Type: message/rfc822\n\n"
		                          "Subject: inner\nContent-Type: multipart/alternative; "
		                          "boundary=i\n\n--i\n\nA\n--i\n\nB\n--i--\n"
		                          "--o--\n";
		static const struct want_part want[] = {
		    {"", "multipart", "mixed", NP, NULL},
		    {"1", "text", "plain", 0, NULL},
		    {"2", "message", "rfc822", 0, NULL},
		    {"2", "multipart", "alternative", 2, NULL},
		    {"2.1", "text", "plain", 3, NULL},
		    {"2.2", "text", "plain", 3, NULL},
		};

		parse(&m, MSG(raw));
		check_parts(&m, want, 6);
		assert_int_equal(m.parts[4].body_len, 1);
		ims_mime_msg_release(&m);
	}

	/* multipart/digest: parts default to message/rfc822 */
	{
		static const char raw[] = "Content-Type: multipart/digest; boundary=d\n\n"
		                          "--d\n\nSubject: one\n\nbody one\n"
		                          "--d\nContent-Type: text/plain\n\nnot a message\n--d--\n";
		static const struct want_part want[] = {
		    {"", "multipart", "digest", NP, NULL},
		    {"1", "message", "rfc822", 0, NULL},
		    {"1.1", "text", "plain", 1, NULL},
		    {"2", "text", "plain", 0, NULL},
		};

		parse(&m, MSG(raw));
		check_parts(&m, want, 4);
		ims_mime_msg_release(&m);
	}

	/* preamble and epilogue ignored; boundary lines with trailing blanks;
	 * a line that only starts like the boundary is content */
	{
		static const char raw[] = "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
		                          "preamble\r\n--b  \r\n\r\none\r\n--bx\r\n--b\r\n\r\ntwo"
		                          "\r\n--b--\t\r\nepilogue\r\n--b\r\n\r\nthree\r\n";

		parse(&m, MSG(raw));
		assert_int_equal(m.nparts, 3);
		assert_int_equal(m.parts[1].body_len, 9);
		assert_memory_equal(raw + m.parts[1].body_off, "one\r\n--bx", 9);
		assert_int_equal(m.parts[2].body_len, 3);
		assert_int_equal(m.parts[0].flags, 0);
		ims_mime_msg_release(&m);
	}

	/* no close delimiter: the last part runs to the end */
	parse(&m, MSG("Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\n\ntwo\n"));
	assert_int_equal(m.nparts, 3);
	assert_int_equal(m.parts[2].body_len, 4);
	assert_true(m.parts[0].flags & IMS_MIME_PART_NO_END);
	ims_mime_msg_release(&m);

	/* a boundary that never appears: shown as text */
	parse(&m, MSG("Content-Type: multipart/mixed; boundary=b\n\nhello\n"));
	assert_int_equal(m.nparts, 1);
	assert_string_equal(m.parts[0].type, "text");
	assert_true(m.parts[0].flags & IMS_MIME_PART_NO_PARTS);
	ims_mime_msg_release(&m);

	/* an empty multipart */
	parse(&m, MSG("Content-Type: multipart/mixed; boundary=b\n\n--b--\n"));
	assert_int_equal(m.nparts, 1);
	assert_string_equal(m.parts[0].type, "multipart");
	ims_mime_msg_release(&m);

	/* mbox "From " line, header field oddities */
	parse(&m, MSG("From a@b Sat Jan  1 00:00:00 2000\nSubject : spaced\n"
	              " continued nothing\nbad line\nX-Empty:\n\nbody"));
	assert_non_null(ims_mime_msg_header(&m, 0, "subject", NULL));
	assert_non_null(ims_mime_msg_header(&m, 0, "x-empty", NULL));
	assert_int_equal(m.nhdrs, 2);
	ims_mime_msg_release(&m);
}

static void test_caps(void **state)
{
	struct ims_buf raw;
	struct ims_mime_msg m;
	size_t i;

	(void)state;
	/* nesting deeper than the cap */
	ims_buf_init(&raw, 0);
	for (i = 0; i < 100; i++)
		assert_int_equal(ims_buf_printf(&raw,
		                                "Content-Type: multipart/mixed; boundary=b%zu\n"
		                                "\n--b%zu\n",
		                                i, i),
		                 IMS_OK);
	assert_int_equal(ims_buf_puts(&raw, "\ndeep\n"), IMS_OK);
	parse(&m, raw.data, raw.len);
	assert_true(m.flags & IMS_MIME_MSG_TOO_DEEP);
	assert_true(m.nparts <= IMS_MIME_MAX_DEPTH + 1);
	{
		struct ims_buf out;

		ims_buf_init(&out, 0);
		assert_int_equal(ims_mime_view(&m, 0, &out, NULL), IMS_OK);
		assert_non_null(strstr(out.data, "[message structure too large"));
		ims_buf_release(&out);
	}
	ims_mime_msg_release(&m);

	/* too many parts */
	ims_buf_reset(&raw);
	assert_int_equal(ims_buf_puts(&raw, "Content-Type: multipart/mixed; boundary=b\n\n"),
	                 IMS_OK);
	for (i = 0; i < 3000; i++)
		assert_int_equal(ims_buf_puts(&raw, "--b\n\nx\n"), IMS_OK);
	parse(&m, raw.data, raw.len);
	assert_int_equal(m.nparts, IMS_MIME_MAX_PARTS);
	assert_true(m.flags & IMS_MIME_MSG_TOO_MANY_PARTS);
	ims_mime_msg_release(&m);

	/* too many header fields; the Content-Type after them still counts */
	ims_buf_reset(&raw);
	for (i = 0; i < 5000; i++)
		assert_int_equal(ims_buf_puts(&raw, "X-A: b\n"), IMS_OK);
	assert_int_equal(ims_buf_puts(&raw, "Content-Type: text/html\n\n<b>x</b>"), IMS_OK);
	parse(&m, raw.data, raw.len);
	assert_int_equal(m.nhdrs, IMS_MIME_MAX_HEADERS);
	assert_true(m.flags & IMS_MIME_MSG_TOO_MANY_HEADERS);
	assert_string_equal(m.parts[0].subtype, "html");
	ims_mime_msg_release(&m);
	ims_buf_release(&raw);
}

/* Fill a part as the BODYSTRUCTURE path does. */
static void set(struct ims_mime_part *p, const char *section, size_t parent, const char *type,
                const char *subtype, const char *disp, const char *name, uint64_t size,
                const char *enc)
{
	struct ims_mime_rawparam dp = {"filename", 8, name, name ? strlen(name) : 0};

	ims_mime_part_init(p);
	snprintf(p->section, sizeof(p->section), "%s", section);
	p->parent = parent;
	p->size = size;
	assert_int_equal(ims_mime_part_set(p, type, subtype, NULL, 0, enc, disp, &dp,
	                                   name != NULL ? 1 : 0, NULL),
	                 IMS_OK);
}

static void test_roles(void **state)
{
	struct ims_mime_part p[9];
	unsigned char roles[9];
	struct ims_buf out;
	size_t i;

	(void)state;
	/* mixed(alternative(html, plain), related(html, png), pdf, rfc822(...)) */
	set(&p[0], "", NP, "MULTIPART", "MIXED", NULL, NULL, 0, NULL);
	set(&p[1], "1", 0, "multipart", "alternative", NULL, NULL, 0, NULL);
	set(&p[2], "1.1", 1, "text", "html", NULL, NULL, 100, "quoted-printable");
	set(&p[3], "1.2", 1, "text", "plain", NULL, NULL, 50, "7bit");
	set(&p[4], "2", 0, "multipart", "related", NULL, NULL, 0, NULL);
	set(&p[5], "2.1", 4, "text", "html", NULL, NULL, 10, NULL);
	set(&p[6], "2.2", 4, "image", "png", "inline", "a.png", 4096, "base64");
	set(&p[7], "3", 0, "application", "pdf", "attachment", "=?UTF-8?B?5pel?=.pdf", 1500000,
	    "BASE64");
	set(&p[8], "4", 0, "message", "rfc822", NULL, NULL, 2000, "7bit");
	ims_mime_roles(p, 9, roles);
	assert_int_equal(roles[0], IMS_MIME_ROLE_NONE);
	assert_int_equal(roles[1], IMS_MIME_ROLE_NONE);
	assert_int_equal(roles[2], IMS_MIME_ROLE_NONE); /* the plain alternative wins */
	assert_int_equal(roles[3], IMS_MIME_ROLE_TEXT);
	assert_int_equal(roles[4], IMS_MIME_ROLE_NONE);
	assert_int_equal(roles[5], IMS_MIME_ROLE_TEXT);
	assert_int_equal(roles[6], IMS_MIME_ROLE_ATTACHMENT);
	assert_int_equal(roles[7], IMS_MIME_ROLE_ATTACHMENT);
	assert_int_equal(roles[8], IMS_MIME_ROLE_ATTACHMENT);
	ims_buf_init(&out, 0);
	assert_int_equal(ims_mime_attachments_format(p, 9, roles, &out, NULL), IMS_OK);
	/* sizes estimated from the transferred size: base64 lines of 76 + CRLF */
	assert_string_equal(out.data, "Attachments:\n"
	                              "[2.2] a.png (image/png, ~2.9 KiB)\n"
	                              "[3] \xe6\x97\xa5.pdf (application/pdf, ~1.0 MiB)\n"
	                              "[4] (message/rfc822, 2.0 KiB)\n");
	ims_buf_release(&out);
	for (i = 0; i < 9; i++)
		ims_mime_part_release(&p[i]);

	/* alternative without plain: html; html with a name is an attachment */
	set(&p[0], "", NP, "multipart", "alternative", NULL, NULL, 0, NULL);
	set(&p[1], "1", 0, "text", "enriched", NULL, NULL, 0, NULL);
	set(&p[2], "2", 0, "text", "html", NULL, NULL, 0, NULL);
	ims_mime_roles(p, 3, roles);
	assert_int_equal(roles[1], IMS_MIME_ROLE_NONE);
	assert_int_equal(roles[2], IMS_MIME_ROLE_TEXT);
	for (i = 0; i < 3; i++)
		ims_mime_part_release(&p[i]);
	set(&p[0], "1", NP, "text", "html", "inline", "page.html", 5, NULL);
	ims_mime_roles(p, 1, roles);
	assert_int_equal(roles[0], IMS_MIME_ROLE_ATTACHMENT);
	ims_mime_part_release(&p[0]);

	/* alternative(plain, related(html)) where plain sits deeper:
	 * alternative(related(plain)), html) picks the related */
	set(&p[0], "", NP, "multipart", "alternative", NULL, NULL, 0, NULL);
	set(&p[1], "1", 0, "multipart", "related", NULL, NULL, 0, NULL);
	set(&p[2], "1.1", 1, "text", "plain", NULL, NULL, 0, NULL);
	set(&p[3], "2", 0, "text", "html", NULL, NULL, 0, NULL);
	ims_mime_roles(p, 4, roles);
	assert_int_equal(roles[2], IMS_MIME_ROLE_TEXT);
	assert_int_equal(roles[3], IMS_MIME_ROLE_NONE);
	for (i = 0; i < 4; i++)
		ims_mime_part_release(&p[i]);

	/* hostile arrays: parents after the child, self-parents */
	set(&p[0], "1", 5, "text", "plain", NULL, NULL, 0, NULL);
	set(&p[1], "2", 1, "multipart", "mixed", NULL, NULL, 0, NULL);
	ims_mime_roles(p, 2, roles);
	assert_int_equal(roles[0], IMS_MIME_ROLE_TEXT);
	assert_int_equal(roles[1], IMS_MIME_ROLE_ATTACHMENT);
	ims_mime_part_release(&p[0]);
	ims_mime_part_release(&p[1]);
}

static void part_text(const char *type, const char *subtype, const char *params, const char *enc,
                      const char *body, const char *want)
{
	struct ims_mime_part p;
	struct ims_mime_field f;
	struct ims_buf out;

	ims_mime_part_init(&p);
	ims_mime_field_init(&f);
	assert_int_equal(ims_mime_content_type_parse(&f, params, strlen(params), NULL), IMS_OK);
	p.type = strdup(type);
	p.subtype = strdup(subtype);
	p.params = f.params;
	p.encoding = enc != NULL ? strdup(enc) : NULL;
	ims_buf_init(&out, 0);
	assert_int_equal(
	    ims_mime_part_text(&p, body, strlen(body), IMS_MIME_TEXT_NOTES, &out, NULL, NULL),
	    IMS_OK);
	assert_string_equal(out.len ? out.data : "", want);
	assert_true(ims_utf8_valid(out.data, out.len));
	ims_buf_release(&out);
	free(f.type);
	free(f.subtype);
	ims_mime_part_release(&p);
}

static void test_part_text(void **state)
{
	(void)state;
	part_text("text", "plain", "x/y; charset=utf-8", NULL, "a\r\nb\r\n", "a\nb\n");
	part_text("text", "plain", "x/y; charset=utf-8", NULL, "no newline", "no newline\n");
	part_text("text", "plain", "x/y", NULL, "", "");
	part_text("text", "plain", "x/y; charset=iso-2022-jp", "base64",
	          "GyRCRnxLXBsoQg==", "\xe6\x97\xa5\xe6\x9c\xac\n");
	part_text("text", "plain", "x/y; charset=shift_jis", "quoted-printable", "=93=FA=96=7B",
	          "\xe6\x97\xa5\xe6\x9c\xac\n");
	/* a lone CR stays for the sanitiser; CRLF in UTF-16 too */
	part_text("text", "plain", "x/y; charset=utf-8", NULL, "a\rb\r\n", "a\rb\n");
	part_text("text", "plain", "x/y; charset=utf-16be", "base64", "AGEADQAKAGI=", "a\nb\n");
	/* notes */
	part_text("text", "plain", "x/y; charset=utf-8", "base64",
	          "Y?WI=", "ab\n[transfer encoding: invalid base64 skipped]\n");
	part_text("text", "plain", "x/y; charset=x-mac-klingon", NULL, "caf\xc3\xa9",
	          "caf\xc3\xa9\n[charset: unknown \"x-mac-klingon\", shown as utf-8]\n");
	part_text("text", "plain", "x/y; charset=\"utf-8\x1b\"", NULL, "caf\xe9",
	          "caf\xc3\xa9\n[charset: unknown \"utf-8?\", shown as windows-1252]\n");
	part_text("text", "plain", "x/y; charset=big5", NULL, "\xa4\xa4\xff\xff",
	          "\xe4\xb8\xad\xef\xbf\xbd\xef\xbf\xbd\n[charset: bytes not valid in big5 were "
	          "replaced]\n");
	/* flowed and html through the same door */
	part_text("text", "plain", "x/y; format=flowed; delsp=yes", NULL, "a \r\nb\r\n", "ab\n");
	part_text("text", "plain", "x/y; format=FLOWED", NULL, "a \r\nb\r\n", "a b\n");
	part_text("text", "html", "x/y; charset=utf-8", "quoted-printable",
	          "<p>caf=C3=A9</p><p>x&amp;y</p>", "caf\xc3\xa9\n\nx&y\n");
}

/* More than IMS_MIME_TEXT_MAX: cut, said so, still UTF-8. */
static void test_part_text_cap(void **state)
{
	struct ims_mime_part p;
	struct ims_buf out;
	size_t n = IMS_MIME_TEXT_MAX + 1000, i;
	char *body = malloc(n);
	static const char tail[] = "\n[... truncated]\n";

	(void)state;
	assert_non_null(body);
	for (i = 0; i < n; i += 3)
		memcpy(body + i, "\xe6\x97\xa5", n - i < 3 ? n - i : 3);
	ims_mime_part_init(&p);
	p.type = strdup("text");
	p.subtype = strdup("plain");
	ims_buf_init(&out, 0);
	assert_int_equal(ims_mime_part_text(&p, body, n, 0, &out, NULL, NULL), IMS_OK);
	assert_true(out.len <= IMS_MIME_TEXT_MAX + sizeof(tail));
	assert_true(ims_utf8_valid(out.data, out.len));
	assert_int_equal(memcmp(out.data + out.len - (sizeof(tail) - 1), tail, sizeof(tail) - 1),
	                 0);
	ims_buf_release(&out);
	ims_mime_part_release(&p);
	free(body);
}

static void headers(const char *hdr, unsigned flags, const char *want)
{
	struct ims_buf out;

	ims_buf_init(&out, 0);
	assert_int_equal(ims_mime_view_headers(hdr, strlen(hdr), flags, &out, NULL), IMS_OK);
	assert_string_equal(out.len ? out.data : "", want);
	ims_buf_release(&out);
}

static void test_headers(void **state)
{
	static const char hdr[] = "Received: from x\r\n\tby y\r\n"
	                          "Subject: =?UTF-8?B?5pel?=\r\n =?UTF-8?B?5pys?=\r\n"
	                          "to: a@b\r\n"
	                          "From: =?UTF-8?Q?A=0AB?= <c@d>\r\n"
	                          "Date: Mon, 1 Jan 2026 00:00:00 +0000\r\n"
	                          "Subject: second\r\n"
	                          "X-\xff: not a field name\r\n"
	                          "\r\n"
	                          "Cc: not a header\r\n";

	(void)state;
	headers(hdr, 0,
	        "Date: Mon, 1 Jan 2026 00:00:00 +0000\n"
	        "From: A\xe2\x90\x8a"
	        "B <c@d>\n"
	        "To: a@b\n"
	        "Subject: \xe6\x97\xa5\xe6\x9c\xac\n");
	headers(hdr, IMS_MIME_VIEW_ALL_HEADERS,
	        "Received: from x by y\n"
	        "Subject: \xe6\x97\xa5\xe6\x9c\xac\n"
	        "to: a@b\n"
	        "From: A\xe2\x90\x8a"
	        "B <c@d>\n"
	        "Date: Mon, 1 Jan 2026 00:00:00 +0000\n"
	        "Subject: second\n");
	headers("", 0, "");
	/* a huge field is cut */
	{
		struct ims_buf big, out;
		size_t i;

		ims_buf_init(&big, 0);
		ims_buf_init(&out, 0);
		assert_int_equal(ims_buf_puts(&big, "Subject: "), IMS_OK);
		for (i = 0; i < 100000; i++)
			assert_int_equal(ims_buf_putc(&big, 'x'), IMS_OK);
		assert_int_equal(ims_mime_view_headers(big.data, big.len, 0, &out, NULL), IMS_OK);
		assert_int_equal(out.len, 9 + IMS_MIME_MAX_FIELD - 1 + 6 + 1);
		assert_memory_equal(out.data + out.len - 7, " [...]\n", 7);
		ims_buf_release(&big);
		ims_buf_release(&out);
	}
}

static void html(const char *in, const char *want)
{
	struct ims_buf out;

	ims_buf_init(&out, 0);
	assert_int_equal(ims_html_to_text(in, strlen(in), &out, NULL), IMS_OK);
	assert_string_equal(out.len ? out.data : "", want);
	assert_true(ims_utf8_valid(out.data, out.len));
	ims_buf_release(&out);
}

static void test_html(void **state)
{
	(void)state;
	html("", "");
	html("plain", "plain\n");
	html("a  b\n\tc", "a b c\n");
	html("<P>one</P><p>two<BR>three</p>", "one\n\ntwo\nthree\n");
	html("a<br><br><br><br>b", "a\n\nb\n");
	html("<div>x</div><div>y</div>", "x\ny\n");
	html("<h2>T</h2>text", "T\n\ntext\n");
	html("<ul><li>a<li>b</ul>", "* a\n* b\n");
	html("&lt;&gt;&amp;&quot;&apos;&nbsp;&copy;&eacute;&hellip;",
	     "<>&\"' \xc2\xa9\xc3\xa9\xe2\x80\xa6\n");
	html("&#65;&#x42;&#X43;&#0;&#xD800;&#x110000;&#150;&#27;",
	     "ABC\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xe2\x80\x93\x1b\n");
	html("&unknown; &amp &#; & x", "&unknown; &amp &#; & x\n");
	html("a < b > c", "a < b > c\n");
	html("<script>x</script><style>y</style><title>t</title>z", "z\n");
	html("<SCRIPT type=x>if (a</b) {}</SCRIPT >ok", "ok\n");
	html("<head><meta x><title>t</title>hidden</head><body>shown</body>", "shown\n");
	html("<!-- c <p> --><!DOCTYPE html><?xml x?>v", "v\n");
	html("<a href=\"https://x.example/?a=1&amp;b=2\">site</a>",
	     "site <https://x.example/?a=1&b=2>\n");
	html("go <a href='https://x.example/'>https://x.example/</a> now",
	     "go https://x.example/ now\n");
	html("<a href=mailto:a@b.example>a@b.example</a>", "a@b.example\n");
	html("<a href=\"#top\">top</a> <a href=\"javascript:evil()\">js</a>", "top js\n");
	html("<a href=\"https://x.example/\"><img src=x></a>", "<https://x.example/>\n");
	html("<img alt=\"logo &amp; co\" src=x><img alt=\"\">", "[logo & co]\n");
	html("<table><tr><td>a</td><td>b</td></tr><tr><th>c</th><td>d</td></tr></table>",
	     "a b\nc d\n");
	html("<pre>  a  b\n c</pre>after", "  a  b\n c\n\nafter\n");
	html("<p title=\"x>y\">q</p>", "q\n");
	/* unterminated things end the text, nothing more */
	html("a<b", "a\n");
	html("a<!-- b", "a\n");
	html("a<script>b", "a\n");
	html("a<p x=\"b", "a\n");
	/* invalid UTF-8 in: repaired */
	html("\xff<b>x</b>", "\xef\xbf\xbdx\n");
	/* controls kept for the sanitiser */
	html("\x1b[2Jx", "\x1b[2Jx\n");
}

static void flowed(const char *in, int delsp, const char *want)
{
	struct ims_buf out;

	ims_buf_init(&out, 0);
	assert_int_equal(ims_flowed_decode(in, strlen(in), delsp, &out, NULL), IMS_OK);
	assert_string_equal(out.len ? out.data : "", want);
	ims_buf_release(&out);
}

static void test_flowed(void **state)
{
	(void)state;
	flowed("", 0, "");
	flowed("a\nb\n", 0, "a\nb\n");
	flowed("a \nb \nc\n", 0, "a b c\n");
	flowed("a \nb \nc\n", 1, "abc\n");
	/* the empty line ends the paragraph (RFC 3676 4.2): no blank line */
	flowed("a \n\nb\n", 0, "a \nb\n");
	flowed("> a \n> b\n", 0, "> a b\n");
	flowed(">a \n>b\n", 0, "> a b\n");
	flowed(">> a \n> b\n", 0, ">> a \n> b\n");
	flowed("a \n> b\n", 0, "a \n> b\n");
	flowed(">\n", 0, ">\n");
	flowed(" From\n  two\n", 0, "From\n two\n");
	flowed("-- \nsig\n", 0, "-- \nsig\n");
	flowed("a \n-- \n", 0, "a -- \n");
	flowed("last \n", 0, "last \n");
	flowed("no newline", 0, "no newline\n");
	flowed("a \r\nb\r\n", 0, "a b\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_corpus),        cmocka_unit_test(test_structure),
	    cmocka_unit_test(test_shapes),        cmocka_unit_test(test_caps),
	    cmocka_unit_test(test_roles),         cmocka_unit_test(test_part_text),
	    cmocka_unit_test(test_part_text_cap), cmocka_unit_test(test_headers),
	    cmocka_unit_test(test_html),          cmocka_unit_test(test_flowed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
