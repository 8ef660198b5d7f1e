#include "imapsh/sanitize.h"

#include <stdio.h>
#include <string.h>

size_t ims_utf8_decode(const unsigned char *p, size_t len, uint32_t *cp_r)
{
	uint32_t cp;
	size_t n, i;
	unsigned char c;

	if (len == 0)
		return 0;
	c = p[0];
	if (c < 0x80) {
		*cp_r = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0; /* continuation byte, C0/C1 overlong lead, 0xf5.. */
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	if (cp >= 0xd800 && cp <= 0xdfff)
		return 0;
	*cp_r = cp;
	return n;
}

int ims_utf8_valid(const void *p, size_t len)
{
	const unsigned char *s = p;
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		n = ims_utf8_decode(s + i, len - i, &cp);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

int ims_sanitize_is_invisible(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x180e ||
	       (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2060 && cp <= 0x2069) || (cp >= 0x206a && cp <= 0x206f) || cp == 0xfeff ||
	       (cp >= 0xfff9 && cp <= 0xfffb) || (cp >= 0xe0000 && cp <= 0xe007f);
}

/* Output is collected in a small stack buffer and appended in chunks. */
struct out {
	struct ims_buf *b;
	char tmp[256];
	size_t n;
	ims_err e;
};

static void out_flush(struct out *o)
{
	if (o->n != 0 && o->e == IMS_OK)
		o->e = ims_buf_append(o->b, o->tmp, o->n);
	o->n = 0;
}

static void out_put(struct out *o, const void *p, size_t n)
{
	if (n > sizeof(o->tmp) - o->n) {
		out_flush(o);
		if (n > sizeof(o->tmp)) {
			if (o->e == IMS_OK)
				o->e = ims_buf_append(o->b, p, n);
			return;
		}
	}
	memcpy(o->tmp + o->n, p, n);
	o->n += n;
}

static void out_c(struct out *o, char c)
{
	out_put(o, &c, 1);
}

static ims_err out_done(struct out *o, size_t start, struct ims_error *err)
{
	out_flush(o);
	if (o->e == IMS_OK)
		return IMS_OK;
	if (o->b->len > start) {
		o->b->len = start;
		o->b->data[start] = '\0';
	}
	return ims_error_set(err, o->e, "sanitize: %s",
	                     o->e == IMS_ERR_NOMEM ? "out of memory" : "output too long");
}

static int keep_control(unsigned char c, unsigned flags)
{
	return (c == '\t' && (flags & IMS_SANITIZE_KEEP_TAB)) ||
	       (c == '\n' && (flags & IMS_SANITIZE_KEEP_LF));
}

int ims_sanitize_is_clean(const void *p, size_t len, unsigned flags)
{
	const unsigned char *s = p;
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		unsigned char c = s[i];

		if (c >= 0x20 && c < 0x7f) {
			i++;
			continue;
		}
		if (c < 0x80) {
			if (!keep_control(c, flags))
				return 0;
			i++;
			continue;
		}
		n = ims_utf8_decode(s + i, len - i, &cp);
		if (n == 0 || ims_sanitize_is_invisible(cp))
			return 0;
		i += n;
	}
	return 1;
}

ims_err ims_sanitize(const void *p, size_t len, unsigned flags, struct ims_buf *b,
                     struct ims_error *err)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = p;
	struct out o = {.b = b, .n = 0, .e = IMS_OK};
	size_t start = b->len, i = 0, n, run;
	uint32_t cp;
	char mark[16];

	while (i < len && o.e == IMS_OK) {
		unsigned char c = s[i];

		/* Printable ASCII in one go. */
		for (run = i; run < len && s[run] >= 0x20 && s[run] < 0x7f; run++)
			;
		if (run > i) {
			out_put(&o, s + i, run - i);
			i = run;
			continue;
		}
		if (c < 0x80) {
			if (c == '\r' && (flags & IMS_SANITIZE_KEEP_LF) && i + 1 < len &&
			    s[i + 1] == '\n') {
				i++;
				continue;
			}
			if (keep_control(c, flags)) {
				out_c(&o, (char)c);
			} else {
				mark[0] = '^';
				mark[1] = c == 0x7f ? '?' : (char)(c + 0x40);
				out_put(&o, mark, 2);
			}
			i++;
			continue;
		}
		n = ims_utf8_decode(s + i, len - i, &cp);
		if (n == 0) {
			mark[0] = '\\';
			mark[1] = 'x';
			mark[2] = hex[c >> 4];
			mark[3] = hex[c & 15];
			out_put(&o, mark, 4);
			i++;
			continue;
		}
		if (ims_sanitize_is_invisible(cp)) {
			int m = snprintf(mark, sizeof(mark), "<U+%04X>", (unsigned)cp);

			out_put(&o, mark, (size_t)m);
		} else {
			out_put(&o, s + i, n);
		}
		i += n;
	}
	return out_done(&o, start, err);
}

const char *ims_sanitize_fixed(const void *p, size_t len, char *out, size_t n)
{
	struct ims_buf b;
	struct ims_error e;
	size_t k;

	if (n < 4) {
		if (n > 0)
			out[0] = '\0';
		return out;
	}
	/* Every input byte makes at least one output byte: n bytes of input
	 * are enough to fill out (and to know it was cut). */
	if (len > n)
		len = n;
	ims_buf_init(&b, 0);
	if (ims_sanitize(p, len, IMS_SANITIZE_LINE, &b, &e) != IMS_OK) {
		snprintf(out, n, "(unprintable)");
	} else if (b.len < n) {
		if (b.len > 0)
			memcpy(out, b.data, b.len);
		out[b.len] = '\0';
	} else {
		/* Room for "..." and the NUL; never split a character. */
		k = n - 4;
		while (k > 0 && ((unsigned char)b.data[k] & 0xc0) == 0x80)
			k--;
		memcpy(out, b.data, k);
		memcpy(out + k, "...", 4);
	}
	ims_buf_release(&b);
	return out;
}

/* One pass of the file-name rules over name[0..len) into o: basename,
 * replacements, dot runs, leading junk.  Trailing spaces are removed by
 * the caller, which also caps the length. */
static void filename_clean(const unsigned char *s, size_t len, struct ims_buf *t, ims_err *e)
{
	size_t i, n, base = 0;
	uint32_t cp;
	int lead = 1;

	for (i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == '\\')
			base = i + 1;
	for (i = base; i < len && *e == IMS_OK; i += n) {
		n = ims_utf8_decode(s + i, len - i, &cp);
		if (n == 0) {
			n = 1;
			cp = '_';
		} else if (cp < 0x20 || cp == 0x7f || ims_sanitize_is_invisible(cp)) {
			cp = '_';
		}
		if (lead && (cp == '.' || cp == '-' || cp == ' '))
			continue;
		lead = 0;
		if (cp == '.' && t->len > 0 && t->data[t->len - 1] == '.')
			continue;
		if (cp == '_')
			*e = ims_buf_putc(t, '_');
		else
			*e = ims_buf_append(t, s + i, n);
	}
}

/* The largest cut <= at that does not split a UTF-8 character of s. */
static size_t utf8_cut(const char *s, size_t at)
{
	while (at > 0 && ((unsigned char)s[at] & 0xc0) == 0x80)
		at--;
	return at;
}

static void trim_right(struct ims_buf *t, size_t *len)
{
	while (*len > 0 && (t->data[*len - 1] == ' ' || t->data[*len - 1] == '.'))
		(*len)--;
}

ims_err ims_sanitize_filename(const char *name, size_t len, const char *fallback,
                              struct ims_buf *out, struct ims_error *err)
{
	struct ims_buf t;
	ims_err e = IMS_OK;
	size_t n, dot, ext_len, stem;
	const char *src = name;
	size_t src_len = len;
	int pass;

	ims_buf_init(&t, 0);
	for (pass = 0; pass < 3; pass++) {
		if (pass == 1) {
			if (fallback == NULL)
				continue;
			src = fallback;
			src_len = strlen(fallback);
		} else if (pass == 2) {
			src = "attachment";
			src_len = strlen(src);
		}
		ims_buf_reset(&t);
		filename_clean((const unsigned char *)src, src_len, &t, &e);
		if (e != IMS_OK)
			break;
		n = t.len;
		while (n > 0 && t.data[n - 1] == ' ')
			n--;
		if (n > IMS_FILENAME_MAX) {
			dot = n;
			while (dot > 0 && t.data[dot - 1] != '.')
				dot--;
			ext_len = dot > 1 ? n - (dot - 1) : 0;
			if (ext_len >= 2 && ext_len <= 32) {
				/* stem[0..stem) + ".ext" */
				stem = utf8_cut(t.data, IMS_FILENAME_MAX - ext_len);
				trim_right(&t, &stem);
				if (stem == 0) {
					/* Only the extension fits: drop its dot. */
					memmove(t.data, t.data + dot, ext_len - 1);
					n = ext_len - 1;
				} else {
					memmove(t.data + stem, t.data + dot - 1, ext_len);
					n = stem + ext_len;
				}
			} else {
				n = utf8_cut(t.data, IMS_FILENAME_MAX);
				while (n > 0 && t.data[n - 1] == ' ')
					n--;
			}
		}
		if (n > 0) {
			e = ims_buf_append(out, t.data, n);
			break;
		}
	}
	ims_buf_release(&t);
	if (e != IMS_OK)
		return ims_error_set(err, e, "file name: %s",
		                     e == IMS_ERR_NOMEM ? "out of memory" : "output too long");
	return IMS_OK;
}
