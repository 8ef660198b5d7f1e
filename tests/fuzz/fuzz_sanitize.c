/* Terminal sanitising and file names.  Properties: the output is valid
 * UTF-8 with no byte below 0x20 but the kept TAB/LF, no DEL, no C1, bidi
 * or invisible character; it is clean and sanitises to itself; clean
 * input passes unchanged.  File names are never empty, ".", "..", never
 * hold '/', '\', "..", controls, start with '.', '-' or ' ', end with a
 * space, or exceed IMS_FILENAME_MAX bytes.  The fixed-size form (certificate
 * text, record fields) is a NUL-terminated prefix of the same output, or
 * a shorter one ending in "...", valid UTF-8, never past its buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapsh/sanitize.h"

static int invisible(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2060 ||
	       cp == 0xfeff;
}

static void check_text(const uint8_t *data, size_t size, unsigned flags)
{
	struct ims_buf b, b2;
	struct ims_error err;
	const unsigned char *p;
	size_t i, n;
	uint32_t cp;

	ims_buf_init(&b, 0);
	ims_buf_init(&b2, 0);
	if (ims_sanitize(data, size, flags, &b, &err) != IMS_OK)
		abort();
	p = (const unsigned char *)b.data;
	for (i = 0; i < b.len; i += n) {
		n = ims_utf8_decode(p + i, b.len - i, &cp);
		if (n == 0)
			abort();
		if (cp == 0x7f || invisible(cp))
			abort();
		if (cp < 0x20 && !(cp == '\t' && (flags & IMS_SANITIZE_KEEP_TAB)) &&
		    !(cp == '\n' && (flags & IMS_SANITIZE_KEEP_LF)))
			abort();
	}
	if (!ims_sanitize_is_clean(b.data, b.len, flags))
		abort();
	if (ims_sanitize(b.data, b.len, flags, &b2, &err) != IMS_OK || b2.len != b.len ||
	    (b.len > 0 && memcmp(b.data, b2.data, b.len) != 0))
		abort();
	if (ims_sanitize_is_clean(data, size, flags) &&
	    (b.len != size || (size > 0 && memcmp(b.data, data, size) != 0)))
		abort();
	ims_buf_release(&b);
	ims_buf_release(&b2);
}

static void check_filename(const uint8_t *data, size_t size)
{
	struct ims_buf b;
	struct ims_error err;
	const unsigned char *p;
	size_t i, n;
	uint32_t cp;

	ims_buf_init(&b, 0);
	if (ims_sanitize_filename((const char *)data, size, size > 3 ? "part.1" : NULL, &b, &err) !=
	    IMS_OK)
		abort();
	p = (const unsigned char *)b.data;
	if (b.len == 0 || b.len > IMS_FILENAME_MAX || strlen(b.data) != b.len)
		abort();
	if (p[0] == '.' || p[0] == '-' || p[0] == ' ' || p[b.len - 1] == ' ')
		abort();
	if (strstr(b.data, "..") || strchr(b.data, '/') || strchr(b.data, '\\'))
		abort();
	for (i = 0; i < b.len; i += n) {
		n = ims_utf8_decode(p + i, b.len - i, &cp);
		if (n == 0 || cp < 0x20 || cp == 0x7f || invisible(cp))
			abort();
	}
	ims_buf_release(&b);
}

static void check_fixed(const uint8_t *data, size_t size, size_t n)
{
	struct ims_buf b;
	struct ims_error err;
	char *out = malloc(n); /* exactly n bytes: ASan sees an overrun */
	size_t len;

	if (out == NULL)
		return;
	ims_buf_init(&b, 0);
	if (ims_sanitize(data, size, IMS_SANITIZE_LINE, &b, &err) != IMS_OK)
		abort();
	ims_sanitize_fixed(data, size, out, n);
	len = strlen(out);
	if (len >= n || !ims_utf8_valid(out, len) || !ims_sanitize_is_clean(out, len, 0))
		abort();
	if (b.len < n) {
		if (len != b.len || (len > 0 && memcmp(out, b.data, len) != 0))
			abort();
	} else if (len < 3 || memcmp(out + len - 3, "...", 3) != 0 ||
	           memcmp(out, b.data, len - 3) != 0) {
		abort();
	}
	ims_buf_release(&b);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_text(data, size, IMS_SANITIZE_LINE);
	check_text(data, size, IMS_SANITIZE_TEXT);
	check_text(data, size, IMS_SANITIZE_KEEP_TAB);
	check_filename(data, size);
	check_fixed(data, size, 4);
	check_fixed(data, size, 16);
	check_fixed(data, size, 128);
	return 0;
}
