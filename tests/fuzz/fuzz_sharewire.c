/* --share's request parser (sharewire.h).  Properties: no crash; what is
 * accepted has a known kind, at most the capped number of words, each
 * NUL-terminated inside the message's size, and encodes back to the very
 * same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapsh/caps.h"
#include "imapsh/sharewire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ims_share_req r;
	struct ims_buf b;
	int kind, code;
	size_t i;

	if (ims_share_reply_parse(data, size, &kind, &code) == IMS_OK &&
	    (code < 0 || code > 255 || (kind != IMS_SHARE_DONE && kind != IMS_SHARE_GONE)))
		abort();
	if (ims_share_req_parse(data, size, &r) != IMS_OK)
		return 0;
	if ((r.kind != IMS_SHARE_RUN && r.kind != IMS_SHARE_STOP) || r.argc > IMS_CAP_SHARE_ARGS ||
	    r.argv[r.argc] != NULL)
		abort();
	for (i = 0; i < r.argc; i++)
		if (strlen(r.argv[i]) > size)
			abort();
	ims_buf_init(&b, 0);
	if (ims_share_req_encode(r.kind, r.argc, (const char *const *)r.argv, &b) != IMS_OK ||
	    b.len != size || memcmp(b.data, data, size) != 0)
		abort();
	ims_buf_release(&b);
	ims_share_req_release(&r);
	return 0;
}
