#include "imapsh/json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "imapsh/sanitize.h"

static ims_err file_write(void *ctx, const void *p, size_t n)
{
	return fwrite(p, 1, n, ctx) == n ? IMS_OK : IMS_ERR_IO;
}

static void init(struct ims_json *j, unsigned flags)
{
	j->buf = NULL;
	j->file = NULL;
	j->sink.write = NULL;
	j->sink.ctx = NULL;
	j->flags = (flags & IMS_JSON_LINES) ? flags & ~IMS_JSON_PRETTY : flags;
	j->depth = 0;
	j->key_done = 0;
	j->done = 0;
	ims_error_init(&j->err);
}

void ims_json_init_buf(struct ims_json *j, struct ims_buf *out, unsigned flags)
{
	init(j, flags);
	j->buf = out;
	j->sink = ims_sink_buf(out);
}

void ims_json_init_file(struct ims_json *j, FILE *f, unsigned flags)
{
	init(j, flags);
	j->file = f;
	j->sink.write = file_write;
	j->sink.ctx = f;
}

void ims_json_init_sink(struct ims_json *j, struct ims_sink sink, unsigned flags)
{
	init(j, flags);
	j->sink = sink;
}

static ims_err misuse(struct ims_json *j, const char *what)
{
	if (j->err.code == IMS_OK)
		ims_error_set(&j->err, IMS_ERR_USAGE, "json: %s", what);
	return j->err.code;
}

static ims_err emit(struct ims_json *j, const void *p, size_t n)
{
	ims_err e;

	if (j->err.code != IMS_OK)
		return j->err.code;
	if (n == 0)
		return IMS_OK;
	errno = 0;
	e = j->sink.write(j->sink.ctx, p, n);
	if (e == IMS_OK)
		return IMS_OK;
	if (j->file != NULL)
		return ims_error_set(&j->err, IMS_ERR_IO, "json: write: %s",
		                     errno != 0 ? strerror(errno) : "failed");
	if (e == IMS_ERR_LIMIT)
		return ims_error_set(&j->err, e, "json: output too large");
	if (e == IMS_ERR_NOMEM)
		return ims_error_set(&j->err, e, "json: out of memory");
	return ims_error_set(&j->err, e, "json: write failed (%s)", ims_err_name(e));
}

static ims_err emits(struct ims_json *j, const char *s)
{
	return emit(j, s, strlen(s));
}

static ims_err newline_indent(struct ims_json *j, unsigned depth)
{
	static const char spaces[] = "                                ";
	unsigned n = depth * 2;

	emit(j, "\n", 1);
	while (n > 0) {
		unsigned k = n < sizeof(spaces) - 1 ? n : (unsigned)sizeof(spaces) - 1;

		emit(j, spaces, k);
		n -= k;
	}
	return j->err.code;
}

/* Separator and indent before a value (or a key) at the current level. */
static ims_err before(struct ims_json *j, int is_key)
{
	unsigned d = j->depth;

	if (j->err.code != IMS_OK)
		return j->err.code;
	if (d == 0) {
		if (is_key)
			return misuse(j, "a key outside an object");
		if (j->done && !(j->flags & IMS_JSON_LINES))
			return misuse(j, "a second top-level value (use JSON Lines)");
		return IMS_OK;
	}
	if (j->in_object[d - 1]) {
		if (j->key_done) {
			if (is_key)
				return misuse(j, "a key where its value was due");
			return IMS_OK; /* the key wrote the separator */
		}
		if (!is_key)
			return misuse(j, "a value in an object without a key");
	} else if (is_key) {
		return misuse(j, "a key in an array");
	}
	if (j->nonempty[d - 1])
		emit(j, ",", 1);
	if (j->flags & IMS_JSON_PRETTY)
		newline_indent(j, d);
	return j->err.code;
}

/* Bookkeeping after a complete value. */
static ims_err after(struct ims_json *j)
{
	if (j->err.code != IMS_OK)
		return j->err.code;
	if (j->depth > 0) {
		j->nonempty[j->depth - 1] = 1;
		j->key_done = 0;
		return IMS_OK;
	}
	j->done = 1;
	emit(j, "\n", 1);
	if (j->file != NULL && j->err.code == IMS_OK && fflush(j->file) != 0)
		ims_error_set(&j->err, IMS_ERR_IO, "json: write: %s", strerror(errno));
	return j->err.code;
}

static ims_err begin(struct ims_json *j, int object)
{
	if (before(j, 0) != IMS_OK)
		return j->err.code;
	if (j->depth >= IMS_JSON_MAX_DEPTH)
		return misuse(j, "nested too deep");
	emit(j, object ? "{" : "[", 1);
	j->in_object[j->depth] = (unsigned char)object;
	j->nonempty[j->depth] = 0;
	j->depth++;
	j->key_done = 0;
	return j->err.code;
}

static ims_err end(struct ims_json *j, int object)
{
	if (j->err.code != IMS_OK)
		return j->err.code;
	if (j->depth == 0 || j->in_object[j->depth - 1] != object)
		return misuse(j, object ? "object end without an open object"
		                        : "array end without an open array");
	if (j->key_done)
		return misuse(j, "a key without a value");
	j->depth--;
	if (j->nonempty[j->depth] && (j->flags & IMS_JSON_PRETTY))
		newline_indent(j, j->depth);
	emit(j, object ? "}" : "]", 1);
	return after(j);
}

ims_err ims_json_object_begin(struct ims_json *j)
{
	return begin(j, 1);
}

ims_err ims_json_object_end(struct ims_json *j)
{
	return end(j, 1);
}

ims_err ims_json_array_begin(struct ims_json *j)
{
	return begin(j, 0);
}

ims_err ims_json_array_end(struct ims_json *j)
{
	return end(j, 0);
}

/* The quoted, escaped form of s[0..len), written in chunks. */
static ims_err put_string(struct ims_json *j, const unsigned char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[256];
	size_t t = 0, i = 0, n, k;
	uint32_t cp, u[2];
	int nu;
	unsigned char c;

	tmp[t++] = '"';
	while (i < len) {
		c = s[i];
		if (t > sizeof(tmp) - 16) {
			emit(j, tmp, t);
			t = 0;
		}

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			tmp[t++] = (char)c;
			i++;
			continue;
		}
		if (c == '"' || c == '\\') {
			tmp[t++] = '\\';
			tmp[t++] = (char)c;
			i++;
			continue;
		}
		if (c < 0x80) {
			tmp[t++] = '\\';
			switch (c) {
			case '\n': tmp[t++] = 'n'; break;
			case '\r': tmp[t++] = 'r'; break;
			case '\t': tmp[t++] = 't'; break;
			case '\b': tmp[t++] = 'b'; break;
			case '\f': tmp[t++] = 'f'; break;
			default:
				tmp[t++] = 'u';
				tmp[t++] = '0';
				tmp[t++] = '0';
				tmp[t++] = hex[c >> 4];
				tmp[t++] = hex[c & 15];
			}
			i++;
			continue;
		}
		n = ims_utf8_decode(s + i, len - i, &cp);
		if (n == 0) {
			memcpy(tmp + t, "\\ufffd", 6);
			t += 6;
			i++;
			continue;
		}
		if ((j->flags & IMS_JSON_ASCII) || ims_sanitize_is_invisible(cp)) {
			if (cp >= 0x10000) {
				u[0] = 0xd800 | ((cp - 0x10000) >> 10);
				u[1] = 0xdc00 | ((cp - 0x10000) & 0x3ff);
				nu = 2;
			} else {
				u[0] = cp;
				nu = 1;
			}
			for (k = 0; k < (size_t)nu; k++) {
				tmp[t++] = '\\';
				tmp[t++] = 'u';
				tmp[t++] = hex[(u[k] >> 12) & 15];
				tmp[t++] = hex[(u[k] >> 8) & 15];
				tmp[t++] = hex[(u[k] >> 4) & 15];
				tmp[t++] = hex[u[k] & 15];
			}
		} else {
			memcpy(tmp + t, s + i, n);
			t += n;
		}
		i += n;
	}
	tmp[t++] = '"';
	return emit(j, tmp, t);
}

ims_err ims_json_key_n(struct ims_json *j, const void *key, size_t len)
{
	if (before(j, 1) != IMS_OK)
		return j->err.code;
	put_string(j, key, len);
	emits(j, (j->flags & IMS_JSON_PRETTY) ? ": " : ":");
	j->key_done = 1;
	return j->err.code;
}

ims_err ims_json_key(struct ims_json *j, const char *key)
{
	return ims_json_key_n(j, key, strlen(key));
}

ims_err ims_json_string_n(struct ims_json *j, const void *s, size_t len)
{
	if (before(j, 0) != IMS_OK)
		return j->err.code;
	put_string(j, s, len);
	return after(j);
}

ims_err ims_json_string(struct ims_json *j, const char *s)
{
	if (s == NULL)
		return ims_json_null(j);
	return ims_json_string_n(j, s, strlen(s));
}

static ims_err scalar(struct ims_json *j, const char *text)
{
	if (before(j, 0) != IMS_OK)
		return j->err.code;
	emits(j, text);
	return after(j);
}

ims_err ims_json_int(struct ims_json *j, int64_t v)
{
	char t[32];

	snprintf(t, sizeof(t), "%" PRId64, v);
	return scalar(j, t);
}

ims_err ims_json_uint(struct ims_json *j, uint64_t v)
{
	char t[32];

	snprintf(t, sizeof(t), "%" PRIu64, v);
	return scalar(j, t);
}

ims_err ims_json_double(struct ims_json *j, double v)
{
	char t[40];
	int prec;
	size_t i;

	if (j->err.code != IMS_OK)
		return j->err.code;
	if (!isfinite(v))
		return misuse(j, "NaN and infinity have no JSON form");
	for (prec = 1; prec <= 17; prec++) {
		snprintf(t, sizeof(t), "%.*g", prec, v);
		/* Whatever the locale's decimal point, JSON wants '.'. */
		for (i = 0; t[i] != '\0'; i++)
			if (!(t[i] >= '0' && t[i] <= '9') && t[i] != '-' && t[i] != '+' &&
			    t[i] != 'e')
				t[i] = '.';
		if (prec == 17 || strtod(t, NULL) == v)
			break;
	}
	return scalar(j, t);
}

ims_err ims_json_bool(struct ims_json *j, int v)
{
	return scalar(j, v ? "true" : "false");
}

ims_err ims_json_null(struct ims_json *j)
{
	return scalar(j, "null");
}

ims_err ims_json_finish(const struct ims_json *j, struct ims_error *err)
{
	if (j->err.code != IMS_OK)
		return ims_error_copy(err, &j->err);
	if (j->depth > 0 || j->key_done)
		return ims_error_set(err, IMS_ERR_USAGE, "json: %s",
		                     j->key_done ? "a key without a value"
		                                 : "an object or array was left open");
	return IMS_OK;
}
