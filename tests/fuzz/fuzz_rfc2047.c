/* Header text and charsets.  The input is a header value for
 * ims_rfc2047_decode() and ims_mime_view_headers(); its first byte also
 * picks a charset label under which the rest goes through
 * ims_charset_decode() whole, cut short (IMS_CHARSET_TRUNCATED) and
 * strictly.  Properties: every output is valid UTF-8 and at most 3 bytes
 * per input byte; on 8-bit input, a strict decode that succeeds gives
 * what the non-strict one gives unless that spotted a lie (7-bit input is
 * copied as ASCII whatever the label, while glibc's Shift_JISX0213 reads
 * 0x5c as YEN SIGN). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapsh/charset.h"
#include "imapsh/mime.h"
#include "imapsh/rfc2047.h"
#include "imapsh/sanitize.h"

static const char *const labels[] = {
    NULL,           "utf-8",      "us-ascii",    "shift_jis", "euc-jp",       "iso-2022-jp",
    "gb2312",       "big5",       "euc-kr",      "utf-16",    "utf-16le",     "utf-7",
    "koi8-r",       "iso-8859-1", "iso-2022-kr", "x-unknown", "euc-jisx0213", "shift_jisx0213",
    "windows-1258", "iso-8859-8", "utf-16be",    "ibm866",
};

static void valid(const struct ims_buf *b, size_t in_len)
{
	if (!ims_utf8_valid(b->data, b->len) || b->len > 3 * in_len + 3)
		abort();
}

static int has_8bit(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] >= 0x80)
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ims_buf a, b;
	struct ims_charset_info ci, cs;
	const char *label;
	unsigned f;

	ims_buf_init(&a, 0);
	ims_buf_init(&b, 0);
	if (ims_rfc2047_decode((const char *)data, size, &a, &f, NULL) != IMS_OK)
		abort();
	if (!ims_utf8_valid(a.data, a.len))
		abort();
	ims_buf_reset(&a);
	if (ims_mime_view_headers((const char *)data, size, IMS_MIME_VIEW_ALL_HEADERS, &a, NULL) !=
	    IMS_OK)
		abort();
	if (!ims_utf8_valid(a.data, a.len))
		abort();

	if (size > 0) {
		label = labels[data[0] % (sizeof(labels) / sizeof(labels[0]))];
		data++;
		size--;
		ims_buf_reset(&a);
		if (ims_charset_decode(label, data, size, 0, &a, &ci, NULL) != IMS_OK)
			abort();
		valid(&a, size);
		ims_buf_reset(&b);
		if (ims_charset_decode(label, data, size, IMS_CHARSET_TRUNCATED, &b, NULL, NULL) !=
		    IMS_OK)
			abort();
		valid(&b, size);
		ims_buf_reset(&b);
		if (ims_charset_decode(label, data, size, IMS_CHARSET_STRICT, &b, &cs, NULL) ==
		    IMS_OK) {
			valid(&b, size);
			/* strict success: the plain decode used the declared
			 * charset too, unless a known lie was spotted */
			if (!(ci.flags & IMS_CHARSET_FALLBACK) && has_8bit(data, size) &&
			    (a.len != b.len || memcmp(a.data, b.data, a.len) != 0))
				abort();
		} else if (b.len != 0) {
			abort(); /* a failed decode leaves the buffer alone */
		}
	}
	ims_buf_release(&a);
	ims_buf_release(&b);
	return 0;
}
