/* Content-Type / Content-Disposition values and their parameters
 * (RFC 2045, 2231, 2047 in values).  The input is parsed as both fields;
 * it is also cut at NUL bytes into raw name/value pairs for
 * ims_mime_part_set() (the BODYSTRUCTURE path).  Properties: a type and
 * subtype always for Content-Type, lower case; every value valid UTF-8 and
 * within IMS_MIME_MAX_VALUE; parameter names unique (ignoring case) and
 * without '*' sections; the file name, when any, one of the values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapsh/mime.h"
#include "imapsh/sanitize.h"

static void check_params(const struct ims_mime_params *ps)
{
	size_t i, j;

	if (ps->n > IMS_MIME_MAX_PARAMS)
		abort();
	for (i = 0; i < ps->n; i++) {
		const char *v = ps->v[i].value;

		if (!ims_utf8_valid(v, strlen(v)) || strlen(v) > IMS_MIME_MAX_VALUE)
			abort();
		if (ps->v[i].name[0] == '\0')
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(ps->v[i].name, ps->v[j].name) == 0)
				abort();
	}
}

static void check_lower(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ims_mime_field f;
	struct ims_mime_part p;
	struct ims_mime_rawparam raw[64];
	size_t n = 0, i = 0;

	ims_mime_field_init(&f);
	if (ims_mime_content_type_parse(&f, (const char *)data, size, NULL) != IMS_OK)
		abort();
	if (f.type == NULL || f.subtype == NULL || f.type[0] == '\0' || f.subtype[0] == '\0')
		abort();
	check_lower(f.type);
	check_lower(f.subtype);
	check_params(&f.params);
	if (ims_mime_disposition_parse(&f, (const char *)data, size, NULL) != IMS_OK)
		abort();
	check_lower(f.type);
	check_params(&f.params);
	ims_mime_field_release(&f);

	/* NUL-separated name, value, name, value ... */
	while (i < size && n < 64) {
		const uint8_t *nul = memchr(data + i, 0, size - i);
		size_t end = nul != NULL ? (size_t)(nul - data) : size;

		if ((n & 1) == 0) {
			raw[n / 2].name = (const char *)data + i;
			raw[n / 2].name_len = end - i;
			raw[n / 2].value = "";
			raw[n / 2].value_len = 0;
		} else {
			raw[n / 2].value = (const char *)data + i;
			raw[n / 2].value_len = end - i;
		}
		n++;
		i = end + 1;
	}
	ims_mime_part_init(&p);
	if (ims_mime_part_set(&p, "text", "plain", raw, (n + 1) / 2, "base64", "attachment", raw,
	                      (n + 1) / 2, NULL) != IMS_OK)
		abort();
	check_params(&p.params);
	check_params(&p.disp_params);
	if (p.filename != NULL) {
		const char *a = ims_mime_params_get(&p.disp_params, "filename");
		const char *b = ims_mime_params_get(&p.params, "name");

		if (p.filename[0] == '\0' || ((a == NULL || strcmp(p.filename, a) != 0) &&
		                              (b == NULL || strcmp(p.filename, b) != 0)))
			abort();
	}
	ims_mime_part_release(&p);
	return 0;
}
