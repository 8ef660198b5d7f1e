/* Body sections of one message to sinks: ims_session_fetch_body()
 * (session.h).  The one place that decides which literal is a body asked
 * for and that writes a body the server sent in memory (a quoted string,
 * a small literal) to the same sink as a streamed one. */
#include "session_int.h"

#include <string.h>
#include <strings.h>

#define BODY_SLOTS_MAX 66 /* the section asked for and IMS_BODY_MORE_MAX more */

/* One section asked for: where its bytes go and what became of it. */
struct body_slot {
	const char *section;
	struct ims_sink sink;
	int *found, *nil;
	int streamed;
};

struct body_fetch {
	struct ims_body_fetch *b;
	uint32_t want; /* the UID, or the sequence number with seq; 0 for "*" */
	struct body_slot slot[BODY_SLOTS_MAX];
	size_t n;
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

/* The slot an item ("BODY[1.2]<0>") is for: with one section asked for,
 * any body item is its answer; with several, the one whose name the item
 * carries.  NULL for none. */
static struct body_slot *slot_for(struct body_fetch *x, const char *item, int binary)
{
	const char *name, *rb;
	size_t i, len;

	if (!is_body_item(item, binary))
		return NULL;
	if (x->n == 1)
		return &x->slot[0];
	name = item + 5;
	rb = strchr(name, ']');
	if (rb == NULL)
		return NULL;
	len = (size_t)(rb - name);
	for (i = 0; i < x->n; i++)
		if (strlen(x->slot[i].section) == len &&
		    strncasecmp(x->slot[i].section, name, len) == 0)
			return &x->slot[i];
	return NULL;
}

static ims_err body_literal(void *ctx, const struct ims_literal_info *li, struct ims_sink *sink_r,
                            struct ims_error *err)
{
	struct body_fetch *x = ctx;
	struct body_slot *sl;

	(void)err;
	if (li->kind != IMS_DATA_FETCH || li->nested)
		return IMS_OK;
	sl = slot_for(x, li->item, 0);
	if (sl == NULL || sl->streamed || *sl->found)
		return IMS_OK;
	if (!is_ours(x, li->number, li->uid))
		return IMS_OK;
	sl->streamed = 1;
	*sink_r = sl->sink;
	return IMS_OK;
}

/* One body item of our message: NIL (not found), or found, its bytes
 * written now when they came in memory. */
static ims_err body_value(struct body_slot *sl, const struct ims_value *v, struct ims_error *err)
{
	ims_err e;

	if (v != NULL && v->type == IMS_V_NIL) {
		*sl->nil = 1; /* not the message: the atom NIL is never written */
		return IMS_OK;
	}
	*sl->found = 1;
	if (v == NULL || (v->flags & IMS_VF_STREAMED) || v->s == NULL)
		return IMS_OK;
	/* A small value that came quoted, or in memory. */
	if ((e = sl->sink.write(sl->sink.ctx, v->s, v->len)) != IMS_OK)
		return ims_error_set(err, e, "writing the message failed");
	return IMS_OK;
}

static ims_err body_message(void *ctx, const struct ims_fetch *f, struct ims_error *err)
{
	struct body_fetch *x = ctx;
	struct ims_body_fetch *b = x->b;
	uint32_t uid = (f->have & IMS_FETCH_UID) ? f->uid : 0;
	size_t i;
	ims_err e;

	if (!is_ours(x, f->seq, uid))
		return IMS_OK;
	if (b->message != NULL && (e = b->message(b->ctx, f, err)) != IMS_OK)
		return e;
	for (i = 0; i < f->n_sections; i++) {
		struct body_slot *sl = slot_for(x, f->sections[i].item, f->sections[i].binary);

		if (sl == NULL || *sl->found)
			continue;
		if ((e = body_value(sl, f->sections[i].value, err)) != IMS_OK)
			return e;
		if (sl == &x->slot[0] && (*sl->found || *sl->nil))
			b->uid = uid; /* whose answer it was, NIL included */
		if (x->n == 1 && *sl->found)
			break;
	}
	return IMS_OK;
}

/* "(UID [ITEMS] BODY.PEEK[S]<0.MAX> ...)" */
static ims_err body_items(const struct ims_body_fetch *b, struct ims_buf *items)
{
	ims_err e = ims_buf_puts(items, "(UID");
	size_t i;

	if (e == IMS_OK && b->items != NULL)
		e = ims_buf_printf(items, " %s", b->items);
	for (i = 0; i <= b->n_more && e == IMS_OK; i++) {
		const char *s = i == 0 ? b->section : b->more[i - 1].section;
		uint32_t max = i == 0 ? b->max : b->more[i - 1].max;

		if (max > 0)
			e = ims_buf_printf(items, " BODY.PEEK[%s]<0.%u>", s, (unsigned)max);
		else
			e = ims_buf_printf(items, " BODY.PEEK[%s]", s);
	}
	if (e == IMS_OK)
		e = ims_buf_putc(items, ')');
	return e;
}

ims_err ims_session_fetch_body(struct ims_session *s, struct ims_body_fetch *b,
                               struct ims_error *err)
{
	struct body_fetch x;
	struct ims_fetch_handler h;
	struct ims_buf items;
	size_t i;
	ims_err e;

	if (b->n_more > IMS_BODY_MORE_MAX)
		return ims_error_set(err, IMS_ERR_USAGE, "at most %d more sections in one fetch",
		                     IMS_BODY_MORE_MAX);
	memset(&x, 0, sizeof(x));
	x.b = b;
	x.want = b->want;
	b->found = 0;
	b->nil = 0;
	b->uid = 0;
	x.slot[0] = (struct body_slot){b->section, b->sink, &b->found, &b->nil, 0};
	for (i = 0; i < b->n_more; i++) {
		struct ims_body_part *p = &b->more[i];

		p->found = 0;
		p->nil = 0;
		x.slot[i + 1] = (struct body_slot){p->section, p->sink, &p->found, &p->nil, 0};
	}
	x.n = b->n_more + 1;
	ims_buf_init(&items, 0);
	if (body_items(b, &items) != IMS_OK) {
		ims_buf_release(&items);
		return ims_error_nomem(err);
	}
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
