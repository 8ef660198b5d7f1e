#include "imapsh/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ims_error_init(struct ims_error *e)
{
	e->code = IMS_OK;
	e->msg[0] = '\0';
}

ims_err ims_error_set(struct ims_error *e, ims_err code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

ims_err ims_error_nomem(struct ims_error *e)
{
	return ims_error_set(e, IMS_ERR_NOMEM, "out of memory");
}

ims_err ims_error_prefix(struct ims_error *e, const char *fmt, ...)
{
	char head[256];
	char old[IMS_ERROR_MAX];
	va_list ap;

	if (e == NULL)
		return IMS_OK;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	{
		size_t h = strlen(head);
		size_t o = strlen(old);

		if (h > sizeof(e->msg) - 3)
			h = sizeof(e->msg) - 3;
		memcpy(e->msg, head, h);
		memcpy(e->msg + h, ": ", 2);
		if (o > sizeof(e->msg) - h - 3)
			o = sizeof(e->msg) - h - 3;
		memcpy(e->msg + h + 2, old, o);
		e->msg[h + 2 + o] = '\0';
	}
	return e->code;
}

ims_err ims_error_copy(struct ims_error *dst, const struct ims_error *src)
{
	if (dst != NULL && src != NULL && dst != src)
		memcpy(dst, src, sizeof(*dst));
	return src != NULL ? src->code : IMS_OK;
}

const char *ims_err_name(ims_err code)
{
	switch (code) {
	case IMS_OK: return "ok";
	case IMS_ERR_NO: return "server refused";
	case IMS_ERR_USAGE: return "usage";
	case IMS_ERR_NET: return "network";
	case IMS_ERR_TLS: return "tls";
	case IMS_ERR_AUTH: return "authentication";
	case IMS_ERR_IO: return "i/o";
	case IMS_ERR_PROTOCOL: return "protocol";
	case IMS_ERR_LIMIT: return "limit";
	case IMS_ERR_NOMEM: return "out of memory";
	case IMS_ERR_CANCELLED: return "cancelled";
	}
	return "unknown";
}
