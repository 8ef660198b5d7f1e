/* The IMAP response parser.  Properties: no crash, no leak, no unbounded
 * use of memory; the input fed whole and fed in small pieces (sizes taken
 * from the first input byte) gives the same responses and the same error;
 * every string is NUL-terminated at its length; typed data is consistent
 * with the value tree. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapsh/parser.h"

struct sum {
	uint64_t h;
	uint64_t streamed;
};

static void mix(struct sum *s, uint64_t v)
{
	s->h = (s->h ^ v) * 0x100000001b3ull;
}

static void mix_bytes(struct sum *s, const char *p, size_t n)
{
	size_t i;

	if (p == NULL) {
		mix(s, 0xdead);
		return;
	}
	if (p[n] != '\0')
		abort();
	for (i = 0; i < n; i++)
		mix(s, (unsigned char)p[i]);
	mix(s, n);
}

static void walk(struct sum *s, const struct ims_value *v, size_t depth)
{
	size_t i;

	if (depth > IMS_PARSER_DEFAULT_MAX_DEPTH + 1)
		abort();
	mix(s, v->type);
	mix(s, v->flags);
	mix(s, v->num);
	if (v->type == IMS_V_LIST) {
		mix(s, v->n);
		for (i = 0; i < v->n; i++)
			walk(s, &v->v[i], depth + 1);
	} else if (!(v->flags & IMS_VF_STREAMED)) {
		mix_bytes(s, v->s, v->len);
	}
}

static void body_walk(struct sum *s, const struct ims_body *b, size_t depth)
{
	size_t i;

	if (depth > IMS_PARSER_DEFAULT_MAX_DEPTH)
		abort();
	mix_bytes(s, b->part, strlen(b->part));
	mix(s, b->size);
	mix(s, b->n_parts);
	if (b->multipart && b->n_parts == 0)
		abort();
	for (i = 0; i < b->n_parts; i++)
		body_walk(s, &b->parts[i], depth + 1);
}

static void summarise(struct sum *s, const struct ims_response *r)
{
	size_t i;

	mix(s, r->type);
	mix(s, r->cond);
	mix(s, r->kind);
	mix(s, r->number);
	mix_bytes(s, r->tag, strlen(r->tag));
	mix_bytes(s, r->text, r->text_len);
	mix(s, r->code.kind);
	mix(s, r->code.num);
	mix(s, r->code.n_list);
	walk(s, r->args, 0);
	if (r->args->type != IMS_V_LIST)
		abort();
	switch (r->kind) {
	case IMS_DATA_FETCH:
		if (r->number == 0 || r->u.fetch.seq != r->number)
			abort();
		if ((r->u.fetch.have & IMS_FETCH_UID) && r->u.fetch.uid == 0)
			abort();
		for (i = 0; i < r->u.fetch.n_sections; i++) {
			const struct ims_value *v = r->u.fetch.sections[i].value;

			if (v->type != IMS_V_NIL && v->type != IMS_V_QUOTED &&
			    v->type != IMS_V_LITERAL)
				abort();
			mix(s, v->num);
		}
		if (r->u.fetch.body != NULL)
			body_walk(s, r->u.fetch.body, 0);
		break;
	case IMS_DATA_EXPUNGE:
		if (r->number == 0)
			abort();
		break;
	case IMS_DATA_SEARCH:
		for (i = 0; i < r->u.search.n; i++)
			if (r->u.search.nums[i] == 0)
				abort();
		break;
	case IMS_DATA_LIST:
	case IMS_DATA_LSUB: mix_bytes(s, r->u.list.name, r->u.list.name_len); break;
	default: break;
	}
}

static ims_err sink_write(void *ctx, const void *p, size_t n)
{
	struct sum *s = ctx;

	(void)p;
	s->streamed += n;
	return IMS_OK;
}

static ims_err lit_cb(void *ctx, const struct ims_literal_info *li, struct ims_sink *sink_r,
                      struct ims_error *err)
{
	(void)err;
	if (li->item != NULL && li->item[0] == '\0')
		abort();
	/* Stream odd-sized literals, keep even ones in memory. */
	if (li->size % 2 == 1) {
		sink_r->write = sink_write;
		sink_r->ctx = ctx;
	}
	return IMS_OK;
}

static ims_err run(const uint8_t *data, size_t size, size_t piece, struct sum *s, size_t *count)
{
	struct ims_parser_limits l;
	struct ims_parser *p;
	struct ims_error err;
	size_t pos = 0;
	ims_err e = IMS_OK;

	ims_parser_limits_init(&l);
	l.max_literal_mem = 1 << 16;
	l.max_line = 1 << 16;
	l.max_items = 10000;
	p = ims_parser_new(&l);
	if (p == NULL)
		abort();
	ims_parser_set_literal_fn(p, lit_cb, s);
	ims_parser_keep_raw(p, piece % 3 == 0);
	*count = 0;
	while (pos < size) {
		size_t n = piece == 0 || size - pos < piece ? size - pos : piece, used;
		const struct ims_response *r;

		e = ims_parser_feed(p, data + pos, n, &used, &r, &err);
		if (e != IMS_OK) {
			if (err.code != e || err.msg[0] == '\0')
				abort();
			break;
		}
		if (used > n || (r == NULL && used != n))
			abort();
		pos += used;
		if (r != NULL) {
			summarise(s, r);
			(*count)++;
		}
	}
	ims_parser_free(&p);
	return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sum a = {0xcbf29ce484222325ull, 0}, b = {0xcbf29ce484222325ull, 0};
	size_t na, nb, piece;
	ims_err ea, eb;

	if (size < 1)
		return 0;
	piece = data[0] % 7 + 1;
	data++;
	size--;
	ea = run(data, size, 0, &a, &na);
	eb = run(data, size, piece, &b, &nb);
	if (ea != eb || na != nb || a.h != b.h || a.streamed != b.streamed)
		abort();
	return 0;
}
