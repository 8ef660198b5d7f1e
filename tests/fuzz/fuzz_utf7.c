/* Modified UTF-7 both ways.  Properties: a successful decode encodes back
 * to the very same bytes (strict, canonical decoding); encode succeeds
 * exactly for valid UTF-8 without NUL, yields printable ASCII only, and
 * decodes back to the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapsh/sanitize.h"
#include "imapsh/utf7.h"

static int same(const struct ims_buf *b, const uint8_t *p, size_t n)
{
	return b->len == n && (n == 0 || memcmp(b->data, p, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ims_buf a, b;
	struct ims_error err;
	ims_err e;
	size_t i;
	int valid;

	ims_buf_init(&a, 0);
	ims_buf_init(&b, 0);

	if (ims_utf7_decode((const char *)data, size, &a, &err) == IMS_OK) {
		if (!ims_utf8_valid(a.data, a.len) || (a.len > 0 && memchr(a.data, 0, a.len)))
			abort();
		if (ims_utf7_encode(a.data, a.len, &b, &err) != IMS_OK)
			abort();
		if (!same(&b, data, size))
			abort();
	}

	ims_buf_reset(&a);
	ims_buf_reset(&b);
	valid = ims_utf8_valid(data, size) && (size == 0 || memchr(data, 0, size) == NULL);
	e = ims_utf7_encode((const char *)data, size, &a, &err);
	if ((e == IMS_OK) != valid)
		abort();
	if (e == IMS_OK) {
		for (i = 0; i < a.len; i++)
			if ((unsigned char)a.data[i] < 0x20 || (unsigned char)a.data[i] > 0x7e)
				abort();
		if (ims_utf7_decode(a.data, a.len, &b, &err) != IMS_OK)
			abort();
		if (!same(&b, data, size))
			abort();
	}
	ims_buf_release(&a);
	ims_buf_release(&b);
	return 0;
}
