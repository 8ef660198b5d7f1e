/* One body section of one message to a sink: ims_session_fetch_body()
 * (session.h).  The one place that decides which literal is the body
 * asked for and that writes a body the server sent in memory (a quoted
 * string, a small literal) to the same sink as a streamed one. */
#include "session_int.h"

#include <string.h>
#include <strings.h>

struct body_fetch {
	struct ims_body_fetch *b;
	uint32_t want; /* the UID, or the sequence number with seq; 0 for "*" */
	int streamed;
};

/* The message asked for: the one number, or any for "*".  A UID that has
 * not come yet (it may follow the body) is not ours: that body waits in
 * memory until the whole response says whose it is. */
static int is_ours(const struct body_fetch *x, uint32_t seq, uint32_t uid)
{
	if (x->want == 0)
		return x->b->seq || uid != 0;
	return x->b->seq ? seq == x->want : uid == x->want;
}

static int is_body_item(const char *item, int binary)
{
	return !binary && item != NULL && strncasecmp(item, "BODY[", 5) == 0;
}

static ims_err body_literal(void *ctx, const struct ims_literal_info *li, struct ims_sink *sink_r,
                            struct ims_error *err)
{
	struct body_fetch *x = ctx;

	(void)err;
	if (li->kind != IMS_DATA_FETCH || li->nested || !is_body_item(li->item, 0) || x->streamed ||
	    x->b->found)
		return IMS_OK;
	if (!is_ours(x, li->number, li->uid))
		return IMS_OK;
	x->streamed = 1;
	*sink_r = x->b->sink;
	return IMS_OK;
}

static ims_err body_message(void *ctx, const struct ims_fetch *f, struct ims_error *err)
{
	struct body_fetch *x = ctx;
	struct ims_body_fetch *b = x->b;
	size_t i;

	if (f->n_sections == 0 || b->found)
		return IMS_OK;
	if (!is_ours(x, f->seq, (f->have & IMS_FETCH_UID) ? f->uid : 0))
		return IMS_OK;
	for (i = 0; i < f->n_sections; i++) {
		const struct ims_value *v = f->sections[i].value;
		ims_err e;

		if (!is_body_item(f->sections[i].item, f->sections[i].binary))
			continue;
		if (v != NULL && v->type == IMS_V_NIL) {
			b->nil = 1; /* not the message: the atom NIL is never written */
			continue;
		}
		b->found = 1;
		b->uid = (f->have & IMS_FETCH_UID) ? f->uid : 0;
		if (v == NULL || (v->flags & IMS_VF_STREAMED) || v->s == NULL)
			break;
		/* A small value that came quoted, or in memory. */
		if ((e = b->sink.write(b->sink.ctx, v->s, v->len)) != IMS_OK)
			return ims_error_set(err, e, "writing the message failed");
		break;
	}
	return IMS_OK;
}

ims_err ims_session_fetch_body(struct ims_session *s, struct ims_body_fetch *b,
                               struct ims_error *err)
{
	struct body_fetch x;
	struct ims_fetch_handler h;
	struct ims_buf items;
	ims_err e;

	memset(&x, 0, sizeof(x));
	x.b = b;
	x.want = b->want;
	b->found = 0;
	b->nil = 0;
	b->uid = 0;
	ims_buf_init(&items, 0);
	if (ims_buf_printf(&items, "(UID BODY.PEEK[%s])", b->section) != IMS_OK)
		return ims_error_nomem(err);
	h.literal = body_literal;
	h.message = body_message;
	h.ctx = &x;
	if (b->seq)
		e = ims_session_seq_fetch(s, b->set, items.data, &h, err);
	else
		e = ims_session_uid_fetch(s, b->set, items.data, &h, err);
	ims_buf_release(&items);
	return e;
}
