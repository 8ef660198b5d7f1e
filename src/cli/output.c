#include "cli/output.h"

#include <inttypes.h>
#include <string.h>

#include "cli/cli.h"

void json_init(struct json_out *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	ims_buf_init(&j->buf, 0);
	j->f = f;
}

static void put(struct json_out *j, const char *s, size_t n)
{
	/* Out of memory here loses output; json_finish reports it. */
	if (ims_buf_append(&j->buf, s, n) != IMS_OK)
		j->depth = -1000;
}

static void sep(struct json_out *j)
{
	if (j->after_key) {
		j->after_key = 0;
		return;
	}
	if (j->depth > 0 && j->depth < 32) {
		if (j->need_comma[j->depth])
			put(j, ",", 1);
		j->need_comma[j->depth] = 1;
	}
}

static void open_(struct json_out *j, const char *c)
{
	sep(j);
	put(j, c, 1);
	j->depth++;
	if (j->depth > 0 && j->depth < 32)
		j->need_comma[j->depth] = 0;
}

static void close_(struct json_out *j, const char *c)
{
	put(j, c, 1);
	j->depth--;
}

void json_begin_object(struct json_out *j) { open_(j, "{"); }
void json_end_object(struct json_out *j) { close_(j, "}"); }
void json_begin_array(struct json_out *j) { open_(j, "["); }
void json_end_array(struct json_out *j) { close_(j, "]"); }

/* A JSON string: control characters escaped, invalid UTF-8 as U+FFFD. */
static void quote(struct json_out *j, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char tmp[8];

	put(j, "\"", 1);
	while (*p != '\0') {
		unsigned char ch = *p;
		size_t n = 0, k;

		if (ch == '"' || ch == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)ch;
			put(j, tmp, 2);
			p++;
			continue;
		}
		if (ch < 0x20 || ch == 0x7f) {
			snprintf(tmp, sizeof(tmp), "\\u%04x", ch);
			put(j, tmp, 6);
			p++;
			continue;
		}
		if (ch < 0x80) {
			put(j, (const char *)p, 1);
			p++;
			continue;
		}
		if (ch >= 0xc2 && ch <= 0xdf)
			n = 2;
		else if (ch >= 0xe0 && ch <= 0xef)
			n = 3;
		else if (ch >= 0xf0 && ch <= 0xf4)
			n = 4;
		for (k = 1; k < n; k++)
			if ((p[k] & 0xc0) != 0x80)
				break;
		if (n != 0 && k == n && !(ch == 0xe0 && p[1] < 0xa0) && !(ch == 0xed && p[1] > 0x9f) &&
		    !(ch == 0xf0 && p[1] < 0x90) && !(ch == 0xf4 && p[1] > 0x8f)) {
			put(j, (const char *)p, n);
			p += n;
		} else {
			put(j, "\\ufffd", 6);
			p++;
		}
	}
	put(j, "\"", 1);
}

void json_key(struct json_out *j, const char *k)
{
	sep(j);
	quote(j, k);
	put(j, ":", 1);
	j->after_key = 1;
}

void json_str(struct json_out *j, const char *s)
{
	sep(j);
	quote(j, s != NULL ? s : "");
}

void json_null(struct json_out *j)
{
	sep(j);
	put(j, "null", 4);
}

void json_kv_str(struct json_out *j, const char *k, const char *v)
{
	json_key(j, k);
	json_str(j, v);
}

void json_kv_int(struct json_out *j, const char *k, int64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);

	json_key(j, k);
	sep(j);
	put(j, tmp, (size_t)n);
}

void json_kv_bool(struct json_out *j, const char *k, int v)
{
	json_key(j, k);
	sep(j);
	put(j, v ? "true" : "false", v ? 4 : 5);
}

void json_finish(struct json_out *j)
{
	if (j->depth != 0)
		cli_warn("json: output incomplete (out of memory)");
	else if (j->buf.len > 0)
		fprintf(j->f, "%s\n", j->buf.data);
	ims_buf_release(&j->buf);
}

const char *cli_safe(const char *in, char *buf, size_t n)
{
	/* Control bytes shown in caret notation; bytes >= 0x80 passed as is
	 * until the core sanitiser lands. */
	size_t o = 0;
	const unsigned char *p = (const unsigned char *)in;

	for (; *p != '\0' && o + 3 < n; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			buf[o++] = '^';
			buf[o++] = *p == 0x7f ? '?' : (char)(*p + 0x40);
		} else {
			buf[o++] = (char)*p;
		}
	}
	buf[o] = '\0';
	return buf;
}
