#include "imapsh/cte.h"
#include "imapsh/textutil.h"

#include <string.h>

enum { QP_T, QP_TCR, QP_E, QP_E1, QP_EW, QP_ECR };
enum { B64_DATA, B64_PADDED };

enum ims_cte ims_cte_from_name(const char *name)
{
	static const struct {
		const char *name;
		enum ims_cte kind;
	} names[] = {
	    {"7bit", IMS_CTE_IDENTITY},       {"8bit", IMS_CTE_IDENTITY},
	    {"binary", IMS_CTE_IDENTITY},     {"base64", IMS_CTE_BASE64},
	    {"quoted-printable", IMS_CTE_QP},
	};
	size_t b = 0, e, i, k;

	if (name == NULL)
		return IMS_CTE_IDENTITY;
	e = strlen(name);
	while (b < e && (name[b] == ' ' || name[b] == '\t' || name[b] == '"'))
		b++;
	while (e > b && (name[e - 1] == ' ' || name[e - 1] == '\t' || name[e - 1] == '"'))
		e--;
	if (b == e)
		return IMS_CTE_IDENTITY;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i].name) != e - b)
			continue;
		for (k = 0; k < e - b; k++) {
			char c = name[b + k];

			if (c >= 'A' && c <= 'Z')
				c = (char)(c + 32);
			if (c != names[i].name[k])
				break;
		}
		if (k == e - b)
			return names[i].kind;
	}
	return IMS_CTE_UNKNOWN;
}

void ims_cte_dec_init(struct ims_cte_dec *d, enum ims_cte kind, struct ims_sink sink)
{
	d->kind = kind;
	d->sink = sink;
	d->flags = 0;
	d->out_total = 0;
	d->acc = 0;
	d->nacc = 0;
	d->state = 0;
	d->npend = 0;
	d->nobuf = 0;
}

static ims_err flush(struct ims_cte_dec *d)
{
	size_t n = d->nobuf;

	d->nobuf = 0;
	if (n == 0)
		return IMS_OK;
	d->out_total += n;
	if (d->sink.write == NULL)
		return IMS_OK;
	return d->sink.write(d->sink.ctx, d->obuf, n);
}

static ims_err put(struct ims_cte_dec *d, unsigned char c)
{
	if (d->nobuf == sizeof(d->obuf)) {
		ims_err e = flush(d);

		if (e != IMS_OK)
			return e;
	}
	d->obuf[d->nobuf++] = c;
	return IMS_OK;
}

static ims_err put_n(struct ims_cte_dec *d, const unsigned char *p, size_t n)
{
	ims_err e = IMS_OK;
	size_t i;

	for (i = 0; i < n && e == IMS_OK; i++)
		e = put(d, p[i]);
	return e;
}

/* ---- base64 ---- */

/* Emit the whole bytes of a partial quantum (2 or 3 sextets). */
static ims_err b64_partial(struct ims_cte_dec *d)
{
	ims_err e = IMS_OK;

	if (d->nacc == 2) {
		e = put(d, (unsigned char)(d->acc >> 4));
	} else if (d->nacc == 3) {
		e = put(d, (unsigned char)(d->acc >> 10));
		if (e == IMS_OK)
			e = put(d, (unsigned char)(d->acc >> 2));
	} else if (d->nacc == 1) {
		d->flags |= IMS_CTE_TRUNCATED;
	}
	d->acc = 0;
	d->nacc = 0;
	return e;
}

static ims_err b64_feed(struct ims_cte_dec *d, const unsigned char *p, size_t n)
{
	size_t i;
	int v;
	ims_err e;

	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		v = ims_b64_digit(c, '/');
		if (v >= 0) {
			if (d->state == B64_PADDED) {
				d->flags |= IMS_CTE_GARBAGE;
				d->state = B64_DATA;
			}
			d->acc = (d->acc << 6) | (uint32_t)v;
			if (++d->nacc == 4) {
				e = put(d, (unsigned char)(d->acc >> 16));
				if (e == IMS_OK)
					e = put(d, (unsigned char)(d->acc >> 8));
				if (e == IMS_OK)
					e = put(d, (unsigned char)d->acc);
				if (e != IMS_OK)
					return e;
				d->acc = 0;
				d->nacc = 0;
			}
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v')
			continue;
		if (c == '=') {
			if (d->nacc >= 2) {
				e = b64_partial(d);
				if (e != IMS_OK)
					return e;
				d->state = B64_PADDED;
			} else if (d->nacc == 1) {
				d->flags |= IMS_CTE_GARBAGE;
				d->acc = 0;
				d->nacc = 0;
				d->state = B64_PADDED;
			} else if (d->state != B64_PADDED) {
				d->flags |= IMS_CTE_GARBAGE;
			}
			continue;
		}
		d->flags |= IMS_CTE_GARBAGE;
	}
	return IMS_OK;
}

/* ---- quoted-printable ---- */

static ims_err pend_emit(struct ims_cte_dec *d)
{
	ims_err e = put_n(d, d->pend, d->npend);

	d->npend = 0;
	return e;
}

static ims_err qp_byte(struct ims_cte_dec *d, unsigned char c)
{
	ims_err e;

again:
	switch (d->state) {
	case QP_T:
		if (c == ' ' || c == '\t') {
			if (d->npend == sizeof(d->pend)) {
				e = pend_emit(d);
				if (e != IMS_OK)
					return e;
			}
			d->pend[d->npend++] = c;
			return IMS_OK;
		}
		if (c == '\r') {
			if (d->npend == sizeof(d->pend)) {
				e = pend_emit(d);
				if (e != IMS_OK)
					return e;
			}
			d->pend[d->npend++] = c;
			d->state = QP_TCR;
			return IMS_OK;
		}
		if (c == '\n') {
			d->npend = 0; /* blanks at the end of a line go */
			return put(d, c);
		}
		e = pend_emit(d);
		if (e != IMS_OK)
			return e;
		if (c == '=') {
			d->pend[0] = c;
			d->npend = 1;
			d->state = QP_E;
			return IMS_OK;
		}
		return put(d, c);
	case QP_TCR:
		if (c == '\n') {
			d->npend = 0;
			d->state = QP_T;
			e = put(d, '\r');
			return e == IMS_OK ? put(d, '\n') : e;
		}
		e = pend_emit(d);
		if (e != IMS_OK)
			return e;
		d->state = QP_T;
		goto again;
	case QP_E:
		if (ims_hex_digit(c) >= 0) {
			d->pend[d->npend++] = c;
			d->state = QP_E1;
			return IMS_OK;
		}
		if (c == ' ' || c == '\t') {
			d->pend[d->npend++] = c;
			d->state = QP_EW;
			return IMS_OK;
		}
		if (c == '\r') {
			d->pend[d->npend++] = c;
			d->state = QP_ECR;
			return IMS_OK;
		}
		if (c == '\n') {
			d->npend = 0;
			d->state = QP_T;
			return IMS_OK;
		}
		break; /* literal '=' */
	case QP_E1:
		if (ims_hex_digit(c) >= 0) {
			d->npend = 0;
			d->state = QP_T;
			return put(
			    d, (unsigned char)(ims_hex_digit(d->pend[1]) << 4 | ims_hex_digit(c)));
		}
		break;
	case QP_EW:
		if ((c == ' ' || c == '\t') && d->npend < sizeof(d->pend)) {
			d->pend[d->npend++] = c;
			return IMS_OK;
		}
		if (c == '\r' && d->npend < sizeof(d->pend)) {
			d->pend[d->npend++] = c;
			d->state = QP_ECR;
			return IMS_OK;
		}
		if (c == '\n') {
			d->npend = 0;
			d->state = QP_T;
			return IMS_OK;
		}
		break;
	case QP_ECR:
		if (c == '\n') {
			d->npend = 0;
			d->state = QP_T;
			return IMS_OK;
		}
		break;
	}
	/* a malformed '=' sequence: keep it literally */
	d->flags |= IMS_CTE_GARBAGE;
	e = pend_emit(d);
	if (e != IMS_OK)
		return e;
	d->state = QP_T;
	goto again;
}

static ims_err qp_finish(struct ims_cte_dec *d)
{
	ims_err e = IMS_OK;

	switch (d->state) {
	case QP_T:
		d->npend = 0; /* blanks at the very end */
		break;
	case QP_TCR: e = pend_emit(d); break;
	case QP_E:
	case QP_EW:
	case QP_ECR:
		d->npend = 0; /* "=" at the end: a soft break */
		break;
	case QP_E1:
		d->flags |= IMS_CTE_TRUNCATED;
		e = pend_emit(d);
		break;
	}
	d->state = QP_T;
	return e;
}

ims_err ims_cte_dec_feed(struct ims_cte_dec *d, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;
	ims_err e;

	switch (d->kind) {
	case IMS_CTE_BASE64: return b64_feed(d, s, n);
	case IMS_CTE_QP:
		for (i = 0; i < n; i++) {
			e = qp_byte(d, s[i]);
			if (e != IMS_OK)
				return e;
		}
		return IMS_OK;
	case IMS_CTE_IDENTITY:
	case IMS_CTE_UNKNOWN: break;
	}
	/* identity: pass through in chunks */
	while (n > 0) {
		size_t k;

		if (d->nobuf == sizeof(d->obuf)) {
			e = flush(d);
			if (e != IMS_OK)
				return e;
		}
		k = sizeof(d->obuf) - d->nobuf;
		if (k > n)
			k = n;
		memcpy(d->obuf + d->nobuf, s, k);
		d->nobuf += k;
		s += k;
		n -= k;
	}
	return IMS_OK;
}

ims_err ims_cte_dec_finish(struct ims_cte_dec *d)
{
	ims_err e = IMS_OK;

	if (d->kind == IMS_CTE_BASE64)
		e = b64_partial(d);
	else if (d->kind == IMS_CTE_QP)
		e = qp_finish(d);
	if (e != IMS_OK)
		return e;
	return flush(d);
}

ims_err ims_cte_decode(enum ims_cte kind, const void *p, size_t n, struct ims_buf *out,
                       unsigned *flags_r, struct ims_error *err)
{
	struct ims_cte_dec d;
	size_t start = out->len;
	ims_err e;

	ims_cte_dec_init(&d, kind, ims_sink_buf(out));
	e = ims_cte_dec_feed(&d, p, n);
	if (e == IMS_OK)
		e = ims_cte_dec_finish(&d);
	if (flags_r != NULL)
		*flags_r = d.flags;
	if (e != IMS_OK) {
		if (out->len > start) {
			out->len = start;
			out->data[start] = '\0';
		}
		return ims_error_set(err, e, "transfer encoding: %s",
		                     e == IMS_ERR_NOMEM ? "out of memory" : "body too long");
	}
	return IMS_OK;
}

uint64_t ims_cte_decoded_size(enum ims_cte kind, const void *p, size_t n)
{
	struct ims_cte_dec d;
	struct ims_sink none = {NULL, NULL};

	if (kind == IMS_CTE_IDENTITY || kind == IMS_CTE_UNKNOWN)
		return n;
	ims_cte_dec_init(&d, kind, none);
	if (ims_cte_dec_feed(&d, p, n) != IMS_OK || ims_cte_dec_finish(&d) != IMS_OK)
		return 0;
	return d.out_total;
}
