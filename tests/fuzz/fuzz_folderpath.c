/* Folder names as directory names.  Properties, for each delimiter the
 * input's first byte picks ('/', '.', none): an encoding is a safe
 * directory name (not empty, ".", "..", no leading '.', no '/', no
 * control byte, at most IMS_FOLDERPATH_MAX) that decodes back to the
 * name; a successful decode encodes back to the very same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapsh/folderpath.h"

static int same(const struct ims_buf *b, const uint8_t *p, size_t n)
{
	return b->len == n && (n == 0 || memcmp(b->data, p, n) == 0);
}

static void check_dir_name(const struct ims_buf *b)
{
	size_t i;

	if (b->len == 0 || b->len > IMS_FOLDERPATH_MAX || b->data[0] == '.')
		abort();
	for (i = 0; i < b->len; i++) {
		unsigned char ch = (unsigned char)b->data[i];

		if (ch == '/' || ch < 0x20 || ch == 0x7f)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char delims[] = {'/', '.', 0};
	struct ims_buf a, b;
	struct ims_error err;
	char delim;

	if (size == 0)
		return 0;
	delim = delims[data[0] % 3];
	data++;
	size--;
	ims_buf_init(&a, 0);
	ims_buf_init(&b, 0);
	if (ims_folderpath_encode((const char *)data, size, delim, &a, &err) == IMS_OK) {
		check_dir_name(&a);
		if (ims_folderpath_decode(a.data, a.len, delim, &b, &err) != IMS_OK)
			abort();
		if (!same(&b, data, size))
			abort();
	} else if (size > 0 && memchr(data, 0, size) == NULL &&
	           size <= (IMS_FOLDERPATH_MAX - 3) / 4) {
		abort(); /* short enough for any escaping (a run of delimiters costs 4
		          bytes each): must have worked */
	}
	ims_buf_reset(&a);
	ims_buf_reset(&b);
	if (ims_folderpath_decode((const char *)data, size, delim, &a, &err) == IMS_OK) {
		if (memchr(a.data, 0, a.len) != NULL)
			abort();
		if (ims_folderpath_encode(a.data, a.len, delim, &b, &err) != IMS_OK)
			abort();
		if (!same(&b, data, size))
			abort();
	}
	ims_buf_release(&a);
	ims_buf_release(&b);
	return 0;
}
