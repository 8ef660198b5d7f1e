/* RFC 3676 format=flowed -> plain lines. */
#include "imapsh/mime.h"

#include <string.h>

#include "imapsh/charset.h"

ims_err ims_flowed_decode(const char *text, size_t len, int delsp, struct ims_buf *out,
                          struct ims_error *err)
{
	struct ims_buf valid;
	const char *s;
	size_t n, i = 0, start = out->len, para_depth = 0;
	int in_para = 0;
	ims_err e;

	ims_buf_init(&valid, 0);
	e = ims_utf8_repair(text, len, &valid, NULL, err);
	if (e != IMS_OK)
		return e;
	s = valid.data != NULL ? valid.data : "";
	n = valid.len;
	while (i < n && e == IMS_OK) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t le = nl != NULL ? (size_t)(nl - s) : n, b = i, end = le, depth = 0;
		int sig, flowed;

		if (end > b && s[end - 1] == '\r')
			end--;
		while (b < end && s[b] == '>') {
			b++;
			depth++;
		}
		if (b < end && s[b] == ' ')
			b++; /* space-stuffing */
		sig = end - b == 3 && memcmp(s + b, "-- ", 3) == 0;
		flowed = !sig && end > b && s[end - 1] == ' ';
		if (in_para && depth != para_depth) {
			/* a quote depth change ends a paragraph */
			e = ims_buf_putc(out, '\n');
			in_para = 0;
		}
		if (!in_para && e == IMS_OK) {
			size_t k;

			for (k = 0; k < depth && e == IMS_OK; k++)
				e = ims_buf_putc(out, '>');
			if (depth > 0 && end > b && e == IMS_OK)
				e = ims_buf_putc(out, ' ');
		}
		if (flowed && delsp)
			end--;
		if (e == IMS_OK)
			e = ims_buf_append(out, s + b, end - b);
		if (flowed) {
			in_para = 1;
			para_depth = depth;
		} else {
			in_para = 0;
			if (e == IMS_OK && (nl != NULL || le > i))
				e = ims_buf_putc(out, '\n');
		}
		i = le + 1;
	}
	if (in_para && e == IMS_OK)
		e = ims_buf_putc(out, '\n');
	ims_buf_release(&valid);
	if (e != IMS_OK) {
		if (out->len > start) {
			out->len = start;
			out->data[start] = '\0';
		}
		return ims_error_set(err, e, "flowed: %s",
		                     e == IMS_ERR_NOMEM ? "out of memory" : "text too long");
	}
	return IMS_OK;
}
