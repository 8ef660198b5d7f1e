/* The export's transfer: the plan (UIDs not exported yet, their sizes)
 * and the pipelined UID FETCH whose literals stream into the writer. */
#define _GNU_SOURCE /* syncfs, copy_file_range */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmd/export.h"
#include "cli/output.h"
#include "imapsh/json.h"
#include "imapsh/sanitize.h"
#include "imapsh/transport.h"
#include "imapsh/units.h"

/* ---- receiving ------------------------------------------------------------ */

static ims_err sink_write(void *ctx, const void *p, size_t n)
{
	struct export *x = ctx;

	if (x->stop || x->cur_fd < 0)
		return IMS_OK;
	if (x->zmeasure && x->z_t0 == 0) {
		x->z_t0 = ims_now_ms();
		x->z_b0 = x->bytes + x->cur_bytes + n;
	}
	x->cur_bytes += n;
	/* A failed write stops everything: the response that ends this
	 * message must not finish a file that lacks data. */
	if (x->fmt == FMT_MBOX) {
		if (xp_mbox_feed(x, p, n) != IMS_OK) {
			x->stop = 1;
			return IMS_ERR_IO;
		}
	} else if (ims_fs_write_all(x->cur_fd, p, n, &cli_interrupted) != 0) {
		x->stop = 1;
		return xp_io_fail(x, "cannot write", x->cur_tmp);
	}
	xp_progress(x, 0);
	return IMS_OK;
}

static ims_err discard(void *ctx, const void *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
	return IMS_OK;
}

static ims_err on_literal(void *ctx, const struct ims_literal_info *li, struct ims_sink *sink_r,
                          struct ims_error *err)
{
	struct export *x = ctx;

	(void)err;
	sink_r->ctx = x;
	if (x->stop || x->cur_fd >= 0 || strcasecmp(li->item, "BODY[]") != 0) {
		sink_r->write = discard;
		return IMS_OK;
	}
	if ((x->fmt == FMT_MBOX ? xp_mbox_begin(x) : xp_open_tmp(x)) != IMS_OK) {
		x->stop = 1;
		sink_r->write = discard;
		return IMS_ERR_IO;
	}
	sink_r->write = sink_write;
	return IMS_OK;
}

static int todo_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct todo *)a)->uid, y = ((const struct todo *)b)->uid;

	return x < y ? -1 : x > y;
}

static const struct ims_fetch_section *body_of(const struct ims_fetch *f)
{
	size_t i;

	for (i = 0; i < f->n_sections; i++)
		if (!f->sections[i].binary && f->sections[i].section[0] == '\0' &&
		    strncasecmp(f->sections[i].item, "BODY[", 5) == 0)
			return &f->sections[i];
	return NULL;
}

static ims_err on_untagged(void *ctx, const struct ims_response *r, int *taken_r,
                           struct ims_error *err)
{
	struct export *x = ctx;
	const struct ims_fetch *f;
	const struct ims_fetch_section *b;
	struct todo key, *t;
	ims_err e;

	if (r->kind != IMS_DATA_FETCH)
		return IMS_OK;
	f = &r->u.fetch;
	b = body_of(f);
	if (b == NULL)
		return IMS_OK; /* a flag change, not ours */
	*taken_r = 1;
	if (x->stop) {
		xp_drop_current(x);
		return IMS_OK;
	}
	if (!(f->have & IMS_FETCH_UID) || b->value->type == IMS_V_NIL) {
		xp_drop_current(x);
		return IMS_OK;
	}
	/* Only a message asked for, once: a server cannot add mail to the
	 * export that the folder's search did not name. */
	key.uid = f->uid;
	t = bsearch(&key, x->todo, x->n_todo, sizeof(*t), todo_cmp);
	if (t == NULL || t->saved) {
		xp_drop_current(x);
		return IMS_OK;
	}
	if (!(b->value->flags & IMS_VF_STREAMED)) {
		/* Small enough to come as a quoted string: write it here. */
		if (x->cur_fd >= 0)
			xp_drop_current(x);
		e = x->fmt == FMT_MBOX ? xp_mbox_begin(x) : xp_open_tmp(x);
		if (e == IMS_OK)
			e = sink_write(x, b->value->s, b->value->len);
		if (e != IMS_OK)
			goto fail;
	}
	if (x->cur_fd < 0)
		return IMS_OK;
	e = x->fmt == FMT_MBOX ? xp_mbox_finish(x, f) : xp_maildir_finish(x, f);
	if (e == IMS_OK)
		e = xp_labels_take(x, f);
	if (e != IMS_OK)
		goto fail;
	t->saved = 1;
	x->fetched++;
	x->bytes += x->cur_bytes;
	x->cur_bytes = 0;
	xp_progress(x, 0);
	return IMS_OK;
fail:
	xp_drop_current(x);
	x->stop = 1;
	return ims_error_copy(err, &x->ioerr);
}

/* ---- the transfer ---------------------------------------------------------- */

static ims_err size_message(void *ctx, const struct ims_fetch *f, struct ims_error *err)
{
	struct export *x = ctx;
	struct todo key, *t;

	(void)err;
	if (!(f->have & IMS_FETCH_UID) || !(f->have & IMS_FETCH_SIZE))
		return IMS_OK;
	key.uid = f->uid;
	t = bsearch(&key, x->todo, x->n_todo, sizeof(*t), todo_cmp);
	if (t != NULL && t->size == 0) {
		t->size = f->rfc822_size;
		x->total_bytes += f->rfc822_size;
	}
	return IMS_OK;
}

/* The UIDs in the folder not exported yet, with their sizes. */
ims_err xp_plan(struct export *x)
{
	struct cli *c = x->c;
	struct ims_arg all = {IMS_ARG_RAW, "ALL", 3};
	struct ims_search_result sr;
	struct ims_fetch_handler h = {0};
	char set[32];
	ims_err e;
	size_t i;

	ims_search_result_init(&sr);
	e = ims_session_uid_search(c->sess, &all, 1, &sr, &c->err);
	if (e != IMS_OK) {
		ims_search_result_release(&sr);
		return e;
	}
	x->todo = calloc(sr.n ? sr.n : 1, sizeof(*x->todo));
	if (x->todo == NULL) {
		ims_search_result_release(&sr);
		return ims_error_nomem(&c->err);
	}
	for (i = 0; i < sr.n; i++) {
		if (ims_seqset_contains(&x->done, 0, sr.uids[i]))
			x->skipped++;
		else
			x->todo[x->n_todo++].uid = sr.uids[i];
	}
	/* kept: the expunges are what the state has and this does not */
	x->present = sr.uids;
	x->n_present = sr.n;
	sr.uids = NULL;
	sr.n = sr.cap = 0;
	ims_search_result_release(&sr);
	if (x->n_todo == 0)
		return IMS_OK;
	qsort(x->todo, x->n_todo, sizeof(*x->todo), todo_cmp);
	/* One range, however scattered the UIDs are: the command stays
	 * short (servers cap its length), and sizes of messages done already
	 * are ignored. */
	snprintf(set, sizeof(set), "%" PRIu32 ":%" PRIu32, x->todo[0].uid,
	         x->todo[x->n_todo - 1].uid);
	h.message = size_message;
	h.ctx = x;
	return ims_session_uid_fetch(c->sess, set, "(UID RFC822.SIZE)", &h, &c->err);
}

/* Submit UID FETCH for todo[from..to). */
static ims_err submit_batch(struct export *x, size_t from, size_t to, const struct ims_handler *h,
                            unsigned *id_r)
{
	struct cli *c = x->c;
	struct ims_seqset s;
	struct ims_buf set;
	struct ims_cmd cmd;
	size_t i;
	ims_err e = IMS_OK;

	ims_seqset_init(&s);
	ims_buf_init(&set, 0);
	for (i = from; i < to && e == IMS_OK; i++)
		e = ims_seqset_add(&s, x->todo[i].uid, x->todo[i].uid, &c->err);
	if (e == IMS_OK)
		e = ims_seqset_format(&s, &set, &c->err);
	ims_seqset_release(&s);
	if (e != IMS_OK) {
		ims_buf_release(&set);
		return e;
	}
	e = ims_session_cmd_begin(c->sess, &cmd, "UID FETCH", &c->err);
	if (e == IMS_OK &&
	    (ims_cmd_raw(&cmd, set.data) != IMS_OK ||
	     ims_cmd_raw(&cmd, x->gm_labels ? "(UID FLAGS INTERNALDATE X-GM-LABELS BODY.PEEK[])"
	                                    : "(UID FLAGS INTERNALDATE BODY.PEEK[])") != IMS_OK ||
	     ims_cmd_end(&cmd) != IMS_OK))
		e = ims_error_copy(&c->err, &cmd.err);
	if (e == IMS_OK)
		e = ims_session_submit(c->sess, &cmd, h, NULL, id_r, &c->err);
	ims_cmd_release(&cmd);
	ims_buf_release(&set);
	return e;
}

static int commit_due(const struct export *x)
{
	return x->n_pend >= COMMIT_MSGS || x->pend_bytes >= COMMIT_BYTES ||
	       (x->n_pend > 0 && ims_now_ms() - x->last_commit >= COMMIT_MS);
}

ims_err xp_transfer(struct export *x)
{
	struct cli *c = x->c;
	struct ims_handler h = {0};
	unsigned ids[WINDOW];
	size_t head = 0, n_fly = 0, next = 0;
	ims_err e = IMS_OK;

	h.untagged = on_untagged;
	h.literal = on_literal;
	h.ctx = x;
	x->last_commit = ims_now_ms();
	x->zmeasure = cli_zauto_pending(c);
	while (e == IMS_OK && (next < x->n_todo || n_fly > 0)) {
		/* --compress auto measures on one batch at a time */
		size_t window = x->zmeasure ? 1 : WINDOW;
		uint64_t cap = x->zmeasure ? ZPROBE_BYTES : BATCH_BYTES;

		while (n_fly < window && next < x->n_todo && e == IMS_OK) {
			size_t to = next;
			uint64_t bytes = 0;

			while (to < x->n_todo && to - next < BATCH_MSGS &&
			       (to == next || bytes + x->todo[to].size <= cap))
				bytes += x->todo[to++].size;
			e = submit_batch(x, next, to, &h, &ids[(head + n_fly) % WINDOW]);
			if (e == IMS_OK)
				n_fly++;
			next = to;
		}
		if (e != IMS_OK)
			break;
		e = ims_session_wait(c->sess, ids[head], &c->err);
		head = (head + 1) % WINDOW;
		n_fly--;
		if (e == IMS_OK && cli_interrupted)
			e = ims_error_set(&c->err, IMS_ERR_CANCELLED, "interrupted");
		if (e == IMS_OK && x->fmt == FMT_MAILDIR && commit_due(x))
			e = xp_maildir_commit(x);
		if (e == IMS_OK && x->zmeasure && n_fly == 0 && x->z_t0 != 0) {
			x->z_ms += ims_now_ms() - x->z_t0;
			x->z_bytes += x->bytes - x->z_b0;
			x->z_t0 = 0;
			e = cli_zauto_decide(c, x->z_bytes, x->z_ms,
			                     x->total_bytes > x->bytes ? x->total_bytes - x->bytes
			                                               : 0,
			                     0, &x->zmeasure);
		}
		if (e == IMS_ERR_IO && x->ioerr.code != IMS_OK)
			ims_error_copy(&c->err, &x->ioerr);
	}
	x->stop = 1;
	xp_drop_current(x);
	if (n_fly > 0) {
		/* Commands still in flight would go on into a stopped export:
		 * drop the connection (the next command connects again). */
		ims_session_free(&c->sess);
		c->connected = 0;
		c->folder[0] = '\0';
	}
	return e;
}
