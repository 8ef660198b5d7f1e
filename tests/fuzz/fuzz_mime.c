/* A whole message: parse, then every way of reading it.  Properties: the
 * part array is in pre-order within the caps, every text a person reads
 * (the view with and without all headers, each part's text, the
 * attachment list) is valid UTF-8, and releasing twice is safe. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapsh/mime.h"
#include "imapsh/sanitize.h"

static void valid(const struct ims_buf *b)
{
	if (!ims_utf8_valid(b->data, b->len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ims_mime_msg m;
	struct ims_buf out;
	unsigned char *roles;
	size_t i;

	ims_mime_msg_init(&m);
	ims_buf_init(&out, 0);
	if (ims_mime_parse(&m, (const char *)data, size, NULL) != IMS_OK)
		abort(); /* fails only for memory */
	if (m.nparts == 0 || m.nparts > IMS_MIME_MAX_PARTS || m.nhdrs > IMS_MIME_MAX_HEADERS)
		abort();
	for (i = 0; i < m.nparts; i++) {
		const struct ims_mime_part *p = &m.parts[i];

		if (i == 0 ? p->parent != IMS_MIME_NO_PARENT : p->parent >= i)
			abort();
		if (p->depth > IMS_MIME_MAX_DEPTH + 1 || p->type == NULL || p->subtype == NULL)
			abort();
		if (p->body_off > size || p->body_len > size - p->body_off ||
		    p->hdr_off + p->hdr_len > p->body_off)
			abort();
		if (p->filename != NULL && !ims_utf8_valid(p->filename, strlen(p->filename)))
			abort();
		ims_buf_reset(&out);
		if (ims_mime_part_text(p, data + p->body_off, p->body_len, IMS_MIME_TEXT_NOTES,
		                       &out, NULL, NULL) != IMS_OK)
			abort();
		valid(&out);
	}
	ims_buf_reset(&out);
	if (ims_mime_view(&m, 0, &out, NULL) != IMS_OK)
		abort();
	valid(&out);
	ims_buf_reset(&out);
	if (ims_mime_view(&m, IMS_MIME_VIEW_ALL_HEADERS, &out, NULL) != IMS_OK)
		abort();
	valid(&out);
	roles = malloc(m.nparts);
	if (roles != NULL) {
		ims_mime_roles(m.parts, m.nparts, roles);
		ims_buf_reset(&out);
		if (ims_mime_attachments_format(m.parts, m.nparts, NULL, &out, NULL) != IMS_OK)
			abort();
		valid(&out);
		free(roles);
	}
	ims_mime_msg_release(&m);
	ims_mime_msg_release(&m);
	ims_buf_release(&out);
	return 0;
}
