#include "imapsh/utf7.h"

#include <stdint.h>
#include <string.h>

#include "imapsh/sanitize.h"
#include "imapsh/textutil.h"

/* The modified base64 alphabet: ',' where RFC 4648 has '/'. */
static const char b64_chars[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int printable(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

static void truncate_to(struct ims_buf *b, size_t len)
{
	if (b->len > len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

static ims_err fail_buf(struct ims_buf *out, size_t start, ims_err e, struct ims_error *err)
{
	truncate_to(out, start);
	return ims_error_set(err, e, "modified UTF-7: %s",
	                     e == IMS_ERR_NOMEM ? "out of memory" : "name too long");
}

ims_err ims_utf7_encode(const char *utf8, size_t len, struct ims_buf *out, struct ims_error *err)
{
	const unsigned char *s = (const unsigned char *)utf8;
	size_t start = out->len, i = 0, n;
	uint32_t cp, bits;
	unsigned nbits;
	uint16_t units[2];
	int k, nunits;
	ims_err e = IMS_OK;

	while (i < len) {
		if (printable(s[i])) {
			e = ims_buf_putc(out, (char)s[i]);
			if (e == IMS_OK && s[i] == '&')
				e = ims_buf_putc(out, '-');
			if (e != IMS_OK)
				return fail_buf(out, start, e, err);
			i++;
			continue;
		}
		/* A run of characters that need base64, up to the next
		 * printable ASCII character. */
		e = ims_buf_putc(out, '&');
		bits = 0;
		nbits = 0;
		while (e == IMS_OK && i < len && !printable(s[i])) {
			n = ims_utf8_decode(s + i, len - i, &cp);
			if (n == 0) {
				truncate_to(out, start);
				return ims_error_set(err, IMS_ERR_USAGE,
				                     "invalid UTF-8 at byte %zu of the name", i);
			}
			if (cp == 0) {
				truncate_to(out, start);
				return ims_error_set(err, IMS_ERR_USAGE,
				                     "NUL character at byte %zu of the name", i);
			}
			if (cp >= 0x10000) {
				units[0] = (uint16_t)(0xd800 | ((cp - 0x10000) >> 10));
				units[1] = (uint16_t)(0xdc00 | ((cp - 0x10000) & 0x3ff));
				nunits = 2;
			} else {
				units[0] = (uint16_t)cp;
				nunits = 1;
			}
			for (k = 0; k < nunits && e == IMS_OK; k++) {
				bits = (bits << 16) | units[k];
				nbits += 16;
				while (nbits >= 6 && e == IMS_OK) {
					nbits -= 6;
					e = ims_buf_putc(out, b64_chars[(bits >> nbits) & 63]);
				}
				bits &= (1u << nbits) - 1;
			}
			i += n;
		}
		if (e == IMS_OK && nbits > 0)
			e = ims_buf_putc(out, b64_chars[(bits << (6 - nbits)) & 63]);
		if (e == IMS_OK)
			e = ims_buf_putc(out, '-');
		if (e != IMS_OK)
			return fail_buf(out, start, e, err);
	}
	return IMS_OK;
}

static ims_err bad(struct ims_buf *out, size_t start, struct ims_error *err, size_t at,
                   const char *why)
{
	truncate_to(out, start);
	return ims_error_set(err, IMS_ERR_USAGE, "invalid modified UTF-7 at byte %zu: %s", at, why);
}

ims_err ims_utf7_decode(const char *mutf7, size_t len, struct ims_buf *out, struct ims_error *err)
{
	const unsigned char *s = (const unsigned char *)mutf7;
	size_t start = out->len, i = 0, j, end, run_end = SIZE_MAX, nunits;
	const unsigned char *dash;
	uint32_t bits, high, u;
	unsigned nbits;
	int v;
	ims_err e;

	while (i < len) {
		if (s[i] != '&') {
			if (!printable(s[i]))
				return bad(out, start, err, i,
				           s[i] >= 0x80 ? "8-bit byte (not encoded)"
				                        : "control character (not encoded)");
			e = ims_buf_putc(out, (char)s[i]);
			if (e != IMS_OK)
				return fail_buf(out, start, e, err);
			i++;
			continue;
		}
		if (i + 1 < len && s[i + 1] == '-') {
			e = ims_buf_putc(out, '&');
			if (e != IMS_OK)
				return fail_buf(out, start, e, err);
			i += 2;
			continue;
		}
		if (i == run_end)
			return bad(out, start, err, i,
			           "two encoded runs back to back (not canonical)");
		dash = memchr(s + i + 1, '-', len - i - 1);
		if (dash == NULL)
			return bad(out, start, err, i, "'&' without a closing '-'");
		end = (size_t)(dash - s);
		bits = 0;
		nbits = 0;
		high = 0;
		nunits = 0;
		for (j = i + 1; j < end; j++) {
			v = ims_b64_digit((unsigned char)s[j], ',');
			if (v < 0)
				return bad(out, start, err, j,
				           s[j] == '=' ? "base64 padding '=' is not used"
				           : s[j] == '/'
				               ? "'/' is not in the base64 alphabet (',' is)"
				               : "character not in the base64 alphabet");
			bits = (bits << 6) | (uint32_t)v;
			nbits += 6;
			if (nbits < 16)
				continue;
			nbits -= 16;
			u = (bits >> nbits) & 0xffff;
			bits &= (1u << nbits) - 1;
			nunits++;
			if (high != 0) {
				if (u < 0xdc00 || u > 0xdfff)
					return bad(out, start, err, j, "unpaired high surrogate");
				e = ims_buf_put_utf8(out, 0x10000 + ((high - 0xd800) << 10) +
				                              (u - 0xdc00));
				high = 0;
			} else if (u >= 0xd800 && u <= 0xdbff) {
				high = u;
				continue;
			} else if (u >= 0xdc00 && u <= 0xdfff) {
				return bad(out, start, err, j, "unpaired low surrogate");
			} else if (u >= 0x20 && u <= 0x7e) {
				return bad(out, start, err, j,
				           "printable ASCII written in base64 (not canonical)");
			} else if (u == 0) {
				return bad(out, start, err, j, "NUL character");
			} else {
				e = ims_buf_put_utf8(out, u);
			}
			if (e != IMS_OK)
				return fail_buf(out, start, e, err);
		}
		if (nunits == 0 || nbits >= 6)
			return bad(out, start, err, j,
			           "base64 run does not end on a whole character");
		if (bits != 0)
			return bad(out, start, err, j, "base64 padding bits are not zero");
		if (high != 0)
			return bad(out, start, err, j, "unpaired high surrogate");
		i = j + 1;
		run_end = i;
	}
	return IMS_OK;
}
