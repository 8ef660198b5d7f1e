#include "imapsh/textwidth.h"
#include "imapsh/sanitize.h"

#include <string.h>

size_t ims_cp_width(uint32_t cp)
{
	if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0xfe00 && cp <= 0xfe0f))
		return 0;
	if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf && cp != 0x303f) ||
	    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
	    (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd))
		return 2;
	return 1;
}

/* The next character of p[0..n): its length (at least 1) and width. */
static size_t next_char(const unsigned char *p, size_t n, size_t *width_r)
{
	uint32_t cp;
	size_t k = ims_utf8_decode(p, n, &cp);

	if (k == 0) {
		k = 1;
		cp = '?';
	}
	*width_r = ims_cp_width(cp);
	return k;
}

size_t ims_text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), w = 0, cw, i, k;

	for (i = 0; i < n; i += k) {
		k = next_char(p + i, n - i, &cw);
		w += cw;
	}
	return w;
}

ims_err ims_text_fit_words(struct ims_buf *out, const char *s, size_t cols)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), w = 0, cw, i, k, cut = 0;

	if (ims_text_width(s) <= cols)
		return ims_buf_append(out, s, n);
	/* the last space before which the text and " …" fit */
	for (i = 0; i < n; i += k) {
		k = next_char(p + i, n - i, &cw);
		if (p[i] == ' ' && w + 2 <= cols)
			cut = i;
		if (w + cw + 2 > cols)
			break;
		w += cw;
	}
	while (cut > 0 && p[cut - 1] == ' ')
		cut--;
	if (cut == 0)
		return ims_text_fit(out, s, cols, 0);
	if (ims_buf_append(out, s, cut) != IMS_OK)
		return IMS_ERR_NOMEM;
	return ims_buf_puts(out, " \xe2\x80\xa6");
}

ims_err ims_text_fit(struct ims_buf *out, const char *s, size_t cols, int pad)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), w = ims_text_width(s), cw, i, k;
	ims_err e = IMS_OK;

	if (w <= cols) {
		e = ims_buf_append(out, s, n);
	} else {
		w = 0;
		for (i = 0; i < n && e == IMS_OK; i += k) {
			k = next_char(p + i, n - i, &cw);
			if (w + cw + 1 > cols)
				break;
			w += cw;
			e = ims_buf_append(out, s + i, k);
		}
		if (e == IMS_OK && cols > 0) {
			e = ims_buf_puts(out, "\xe2\x80\xa6"); /* U+2026 */
			w++;
		}
	}
	for (; pad && e == IMS_OK && w < cols; w++)
		e = ims_buf_putc(out, ' ');
	return e;
}
