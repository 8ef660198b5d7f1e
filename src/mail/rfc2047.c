#include "imapsh/rfc2047.h"

#include <stdint.h>
#include <string.h>

#include "imapsh/charset.h"
#include "imapsh/textutil.h"

#define CHARSET_MAX 64 /* longest charset name in a word */

static int is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static ims_err buf_fail(struct ims_buf *out, size_t start, ims_err e, struct ims_error *err)
{
	ims_buf_truncate(out, start);
	return ims_error_set(err, e, "header: %s",
	                     e == IMS_ERR_NOMEM ? "out of memory" : "header too long");
}

static ims_err unfold(const char *in, size_t len, struct ims_buf *out)
{
	size_t b = 0, e = len, i, run;
	ims_err r;

	while (b < e && (is_blank(in[b]) || in[b] == '\r' || in[b] == '\n'))
		b++;
	while (e > b && (is_blank(in[e - 1]) || in[e - 1] == '\r' || in[e - 1] == '\n'))
		e--;
	run = b;
	for (i = b; i < e; i++) {
		size_t k;

		if (in[i] == '\r' && i + 1 < e && in[i + 1] == '\n')
			k = i + 2;
		else if (in[i] == '\n')
			k = i + 1;
		else
			continue;
		if (k >= e || !is_blank(in[k]))
			continue;
		r = ims_buf_append(out, in + run, i - run);
		if (r == IMS_OK)
			r = ims_buf_putc(out, ' ');
		if (r != IMS_OK)
			return r;
		run = k + 1;
		i = k;
	}
	return ims_buf_append(out, in + run, e - run);
}

ims_err ims_header_unfold(const char *in, size_t len, struct ims_buf *out, struct ims_error *err)
{
	size_t start = out->len;
	ims_err e = unfold(in, len, out);

	return e == IMS_OK ? IMS_OK : buf_fail(out, start, e, err);
}

/* ---- encoded words ---- */

struct word {
	size_t end;                /* offset just past "?=" */
	char charset[CHARSET_MAX]; /* without the language */
	char enc;                  /* 'B' or 'Q' */
	size_t text_off, text_len; /* the encoded text */
};

/* Parse an encoded word at s[i] ("=?" known); 1 when well formed. */
static int parse_word(const char *s, size_t len, size_t i, struct word *w)
{
	size_t p = i + 2, cs = p, n = 0, t;

	while (p < len && s[p] != '?') {
		unsigned char c = (unsigned char)s[p];

		if (c <= ' ' || c >= 0x7f || c == '=' || c == '"' || c == '(' || c == ')' ||
		    p - cs >= CHARSET_MAX)
			return 0;
		p++;
	}
	if (p >= len || p == cs || p - cs >= CHARSET_MAX)
		return 0;
	for (t = cs; t < p && s[t] != '*'; t++)
		w->charset[n++] = s[t];
	w->charset[n] = '\0';
	if (n == 0)
		return 0;
	p++;
	if (p + 1 >= len || s[p + 1] != '?')
		return 0;
	if (s[p] == 'B' || s[p] == 'b')
		w->enc = 'B';
	else if (s[p] == 'Q' || s[p] == 'q')
		w->enc = 'Q';
	else
		return 0;
	p += 2;
	w->text_off = p;
	while (p < len && s[p] != '?') {
		unsigned char c = (unsigned char)s[p];

		if (c <= ' ' || c >= 0x7f)
			return 0;
		p++;
	}
	if (p + 1 >= len || s[p + 1] != '=')
		return 0;
	w->text_len = p - w->text_off;
	w->end = p + 2;
	return 1;
}

/* Decode the text of a word into acc; returns 1 (ok), 0 (malformed: acc
 * unchanged) or -1 (buffer error in *e). */
static int word_bytes(const char *t, size_t n, char enc, struct ims_buf *acc, ims_err *e)
{
	size_t start = acc->len, i;
	uint32_t a = 0;
	unsigned na = 0;
	int v, pad = 0;
	char c;

	*e = IMS_OK;
	if (enc == 'B') {
		for (i = 0; i < n; i++) {
			if (t[i] == '=') {
				pad++;
				continue;
			}
			v = ims_b64_digit((unsigned char)t[i], '/');
			if (v < 0 || pad > 0)
				goto bad;
			a = (a << 6) | (uint32_t)v;
			if (++na == 4) {
				char b3[3] = {(char)(a >> 16), (char)(a >> 8), (char)a};

				*e = ims_buf_append(acc, b3, 3);
				if (*e != IMS_OK)
					return -1;
				a = 0;
				na = 0;
			}
		}
		if (na == 1 || pad > 2)
			goto bad;
		if (na == 2) {
			c = (char)(a >> 4);
			*e = ims_buf_append(acc, &c, 1);
		} else if (na == 3) {
			char b2[2] = {(char)(a >> 10), (char)(a >> 2)};

			*e = ims_buf_append(acc, b2, 2);
		}
		return *e == IMS_OK ? 1 : -1;
	}
	for (i = 0; i < n; i++) {
		c = t[i];
		if (c == '_') {
			c = ' ';
		} else if (c == '=' && i + 2 < n && ims_hex_digit((unsigned char)t[i + 1]) >= 0 &&
		           ims_hex_digit((unsigned char)t[i + 2]) >= 0) {
			c = (char)(ims_hex_digit((unsigned char)t[i + 1]) << 4 |
			           ims_hex_digit((unsigned char)t[i + 2]));
			i += 2;
		}
		*e = ims_buf_append(acc, &c, 1);
		if (*e != IMS_OK)
			return -1;
	}
	return 1;
bad:
	ims_buf_truncate(acc, start);
	return 0;
}

struct dec {
	struct ims_buf *out;
	struct ims_buf acc;  /* bytes of the current run of words */
	struct ims_buf word; /* bytes of the word being looked at */
	char charset[CHARSET_MAX];
	unsigned flags;
};

static ims_err flush_run(struct dec *d)
{
	struct ims_charset_info ci;
	ims_err e;

	if (d->charset[0] == '\0')
		return IMS_OK;
	e = ims_charset_decode(d->charset, d->acc.data != NULL ? d->acc.data : "", d->acc.len, 0,
	                       d->out, &ci, NULL);
	d->flags |= ci.flags;
	d->charset[0] = '\0';
	ims_buf_reset(&d->acc);
	return e;
}

static ims_err put_raw(struct dec *d, const char *p, size_t n)
{
	struct ims_charset_info ci;
	ims_err e;

	if (n == 0)
		return IMS_OK;
	e = flush_run(d);
	if (e != IMS_OK)
		return e;
	e = ims_charset_decode(NULL, p, n, 0, d->out, &ci, NULL);
	d->flags |= ci.flags;
	return e;
}

static int same_charset(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		char x = *a, y = *b;

		if (x >= 'A' && x <= 'Z')
			x = (char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (char)(y + 32);
		if (x != y)
			return 0;
	}
	return *a == *b;
}

static ims_err decode_words(const char *s, size_t len, struct dec *d)
{
	size_t i = 0, raw = 0, k;
	int after_word = 0;
	struct word w;
	ims_err e;
	int r;

	while (i + 1 < len) {
		if (s[i] != '=' || s[i + 1] != '?' || !parse_word(s, len, i, &w)) {
			i++;
			continue;
		}
		ims_buf_reset(&d->word);
		r = word_bytes(s + w.text_off, w.text_len, w.enc, &d->word, &e);
		if (r < 0)
			return e;
		if (r == 0) {
			/* malformed: shown as it was, blanks before it too */
			e = put_raw(d, s + raw, w.end - raw);
			if (e != IMS_OK)
				return e;
			after_word = 0;
			i = w.end;
			raw = i;
			continue;
		}
		/* only blanks since the last word: they go */
		if (after_word) {
			for (k = raw; k < i && is_blank((unsigned char)s[k]); k++)
				;
			if (k == i)
				raw = i;
		}
		if (d->charset[0] != '\0' && (raw < i || !same_charset(d->charset, w.charset))) {
			e = flush_run(d);
			if (e != IMS_OK)
				return e;
		}
		e = put_raw(d, s + raw, i - raw);
		if (e == IMS_OK)
			e = ims_buf_append(&d->acc, d->word.data, d->word.len);
		if (e != IMS_OK)
			return e;
		memcpy(d->charset, w.charset, sizeof(w.charset));
		after_word = 1;
		i = w.end;
		raw = i;
	}
	return put_raw(d, s + raw, len - raw);
}

ims_err ims_rfc2047_decode(const char *in, size_t len, struct ims_buf *out, unsigned *cs_flags_r,
                           struct ims_error *err)
{
	struct ims_buf unf;
	struct dec d;
	size_t start = out->len;
	ims_err e;

	if (cs_flags_r != NULL)
		*cs_flags_r = 0;
	ims_buf_init(&unf, 0);
	ims_buf_init(&d.acc, 0);
	ims_buf_init(&d.word, 0);
	d.out = out;
	d.charset[0] = '\0';
	d.flags = 0;
	e = unfold(in, len, &unf);
	if (e == IMS_OK)
		e = decode_words(unf.data != NULL ? unf.data : "", unf.len, &d);
	if (e == IMS_OK)
		e = flush_run(&d);
	ims_buf_release(&unf);
	ims_buf_release(&d.acc);
	ims_buf_release(&d.word);
	if (cs_flags_r != NULL)
		*cs_flags_r = d.flags;
	if (e != IMS_OK)
		return buf_fail(out, start, e, err);
	return IMS_OK;
}
