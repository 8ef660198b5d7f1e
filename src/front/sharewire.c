/* The wire format of --share's socket (sharewire.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapsh/caps.h"
#include "imapsh/sharewire.h"

static const unsigned char magic[5] = {'I', 'M', 'S', 'H', 1};

ims_err ims_share_req_encode(int kind, size_t argc, const char *const *argv, struct ims_buf *out)
{
	size_t i, total = sizeof(magic) + 3;
	unsigned char hd[8];

	if (kind != IMS_SHARE_RUN && kind != IMS_SHARE_STOP)
		return IMS_ERR_USAGE;
	if (argc > IMS_CAP_SHARE_ARGS)
		return IMS_ERR_LIMIT;
	for (i = 0; i < argc; i++) {
		size_t len = strlen(argv[i]);

		if (len > IMS_CAP_SHARE_MSG || total + 4 + len > IMS_CAP_SHARE_MSG)
			return IMS_ERR_LIMIT;
		total += 4 + len;
	}
	memcpy(hd, magic, sizeof(magic));
	hd[5] = (unsigned char)kind;
	hd[6] = (unsigned char)(argc >> 8);
	hd[7] = (unsigned char)argc;
	if (ims_buf_append(out, hd, 8) != IMS_OK)
		return IMS_ERR_NOMEM;
	for (i = 0; i < argc; i++) {
		size_t len = strlen(argv[i]);
		unsigned char l[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16),
		                      (unsigned char)(len >> 8), (unsigned char)len};

		if (ims_buf_append(out, l, 4) != IMS_OK ||
		    ims_buf_append(out, argv[i], len) != IMS_OK)
			return IMS_ERR_NOMEM;
	}
	return IMS_OK;
}

void ims_share_req_release(struct ims_share_req *r)
{
	free(r->argv);
	free(r->store);
	memset(r, 0, sizeof(*r));
}

ims_err ims_share_req_parse(const void *p, size_t n, struct ims_share_req *r)
{
	const unsigned char *b = p;
	size_t argc, i, at, words = 0, k;

	memset(r, 0, sizeof(*r));
	if (n < 8 || n > IMS_CAP_SHARE_MSG || memcmp(b, magic, sizeof(magic)) != 0)
		return IMS_ERR_PROTOCOL;
	if (b[5] != IMS_SHARE_RUN && b[5] != IMS_SHARE_STOP)
		return IMS_ERR_PROTOCOL;
	argc = ((size_t)b[6] << 8) | b[7];
	if (argc > IMS_CAP_SHARE_ARGS)
		return IMS_ERR_PROTOCOL;
	/* First pass: the lengths add up to exactly n, no NUL inside. */
	for (i = 0, at = 8; i < argc; i++) {
		size_t len;

		if (n - at < 4)
			return IMS_ERR_PROTOCOL;
		len = ((size_t)b[at] << 24) | ((size_t)b[at + 1] << 16) | ((size_t)b[at + 2] << 8) |
		      b[at + 3];
		at += 4;
		if (len > n - at || memchr(b + at, '\0', len) != NULL)
			return IMS_ERR_PROTOCOL;
		at += len;
		words += len + 1;
	}
	if (at != n)
		return IMS_ERR_PROTOCOL;
	r->argv = calloc(argc + 1, sizeof(*r->argv));
	r->store = malloc(words + 1);
	if (r->argv == NULL || r->store == NULL) {
		ims_share_req_release(r);
		return IMS_ERR_NOMEM;
	}
	for (i = 0, at = 8, k = 0; i < argc; i++) {
		size_t len = ((size_t)b[at] << 24) | ((size_t)b[at + 1] << 16) |
		             ((size_t)b[at + 2] << 8) | b[at + 3];

		at += 4;
		memcpy(r->store + k, b + at, len);
		r->store[k + len] = '\0';
		r->argv[i] = r->store + k;
		k += len + 1;
		at += len;
	}
	r->argc = argc;
	r->kind = b[5];
	return IMS_OK;
}

void ims_share_reply_encode(int kind, int code, unsigned char out[IMS_SHARE_REPLY_LEN])
{
	memcpy(out, magic, sizeof(magic));
	out[5] = (unsigned char)kind;
	out[6] = (unsigned char)(code < 0 ? 255 : code > 255 ? 255 : code);
	out[7] = 0;
}

ims_err ims_share_reply_parse(const void *p, size_t n, int *kind_r, int *code_r)
{
	const unsigned char *b = p;

	if (n != IMS_SHARE_REPLY_LEN || memcmp(b, magic, sizeof(magic)) != 0 || b[7] != 0)
		return IMS_ERR_PROTOCOL;
	if (b[5] != IMS_SHARE_DONE && b[5] != IMS_SHARE_GONE)
		return IMS_ERR_PROTOCOL;
	if (b[5] == IMS_SHARE_GONE && b[6] != 0)
		return IMS_ERR_PROTOCOL;
	*kind_r = b[5];
	*code_r = b[6];
	return IMS_OK;
}

int ims_share_duration_parse(const char *s, unsigned *secs_r)
{
	uint64_t v = 0, mul = 1;
	size_t i = 0;

	if (s == NULL || s[0] < '0' || s[0] > '9')
		return -1;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > 7u * 86400)
			return -1;
	}
	if (s[i] != '\0') {
		switch (s[i]) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		default: return -1;
		}
		if (s[i + 1] != '\0')
			return -1;
	}
	v *= mul;
	if (v < 1 || v > 7u * 86400)
		return -1;
	*secs_r = (unsigned)v;
	return 0;
}
