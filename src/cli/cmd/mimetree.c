/* The MIME tree from BODYSTRUCTURE: the server's nested answer as the
 * MIME layer's flat array of parts (mime.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/child.h"
#include "cli/cli.h"
#include "cli/cmd/cmd.h"
#include "cli/msgarg.h"
#include "imapsh/fsafe.h"
#include "imapsh/caps.h"
#include "cli/output.h"
#include "imapsh/charset.h"
#include "imapsh/cte.h"
#include "imapsh/mime.h"
#include "imapsh/number.h"
#include "imapsh/rfc2047.h"
#include "imapsh/sanitize.h"
#include "imapsh/session.h"
#include "imapsh/units.h"

void cmd_tree_release(struct tree *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		ims_mime_part_release(&t->v[i]);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static ims_err raw_params(const struct ims_body_param *bp, size_t n,
                          struct ims_mime_rawparam **raw_r, size_t *n_r)
{
	struct ims_mime_rawparam *raw;
	size_t i, k = 0;

	*raw_r = NULL;
	*n_r = 0;
	if (n == 0 || bp == NULL)
		return IMS_OK;
	if (n > IMS_MIME_MAX_PARAMS)
		n = IMS_MIME_MAX_PARAMS;
	raw = calloc(n, sizeof(*raw));
	if (raw == NULL)
		return IMS_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		if (bp[i].name == NULL)
			continue;
		raw[k].name = bp[i].name;
		raw[k].name_len = strlen(bp[i].name);
		raw[k].value = bp[i].value != NULL ? bp[i].value : "";
		raw[k].value_len = strlen(raw[k].value);
		k++;
	}
	*raw_r = raw;
	*n_r = k;
	return IMS_OK;
}

static ims_err tree_add(struct tree *t, const struct ims_body *b, size_t parent, unsigned depth,
                        struct ims_error *err)
{
	struct ims_mime_rawparam *cp = NULL, *dp = NULL;
	size_t ncp = 0, ndp = 0, idx, i;
	struct ims_mime_part *p;
	const char *type;
	ims_err e;

	if (t->n >= IMS_MIME_MAX_PARTS) {
		t->capped = 1;
		return IMS_OK;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct ims_mime_part *v = realloc(t->v, cap * sizeof(*v));

		if (v == NULL)
			return ims_error_nomem(err);
		t->v = v;
		t->cap = cap;
	}
	idx = t->n++;
	p = &t->v[idx];
	ims_mime_part_init(p);
	snprintf(p->section, sizeof(p->section), "%s", b->part != NULL ? b->part : "");
	p->parent = parent;
	p->depth = depth;
	if (raw_params(b->params, b->n_params, &cp, &ncp) != IMS_OK ||
	    raw_params(b->disp_params, b->n_disp_params, &dp, &ndp) != IMS_OK) {
		free(cp);
		return ims_error_nomem(err);
	}
	type = b->type;
	if (b->multipart && type == NULL)
		type = "multipart";
	e = ims_mime_part_set(p, type, b->subtype, cp, ncp, b->encoding, b->disposition, dp, ndp,
	                      err);
	free(cp);
	free(dp);
	if (e != IMS_OK)
		return e;
	p->size = b->size;
	p->decoded_size = IMS_MIME_SIZE_UNKNOWN;
	if (b->n_parts > 0 && depth + 1 >= IMS_MIME_MAX_DEPTH) {
		t->v[idx].flags |= IMS_MIME_PART_TOO_DEEP;
		return IMS_OK;
	}
	for (i = 0; i < b->n_parts; i++)
		if ((e = tree_add(t, &b->parts[i], idx, depth + 1, err)) != IMS_OK)
			return e;
	return IMS_OK;
}

struct bs_ctx {
	uint32_t uid;
	int found;
	struct tree t;
};

static ims_err bs_message(void *ctx, const struct ims_fetch *f, struct ims_error *err)
{
	struct bs_ctx *x = ctx;

	if (x->found || !(f->have & IMS_FETCH_UID) || f->uid != x->uid ||
	    !(f->have & IMS_FETCH_BODY) || f->body == NULL)
		return IMS_OK;
	x->found = 1;
	return tree_add(&x->t, f->body, IMS_MIME_NO_PARENT, 0, err);
}

ims_err cmd_fetch_structure(struct cli *c, const char *what, uint32_t uid, struct tree *t)
{
	struct bs_ctx x;
	struct ims_fetch_handler h;
	char set[16], safe[512];
	ims_err e;

	memset(&x, 0, sizeof(x));
	x.uid = uid;
	h.literal = NULL;
	h.message = bs_message;
	h.ctx = &x;
	snprintf(set, sizeof(set), "%" PRIu32, uid);
	e = ims_session_uid_fetch(c->sess, set, "(UID BODYSTRUCTURE)", &h, &c->err);
	if (e == IMS_OK && !x.found)
		e = ims_error_set(&c->err, IMS_ERR_NO, "%s: no message with UID %" PRIu32 " in %s",
		                  what, uid, cmd_cur_folder(c, safe, sizeof(safe)));
	if (e != IMS_OK) {
		cmd_tree_release(&x.t);
		return e;
	}
	if (x.t.capped)
		cli_warn("%s: more than %d parts: the rest are left out", what, IMS_MIME_MAX_PARTS);
	*t = x.t;
	return IMS_OK;
}

int cmd_is_multipart(const struct ims_mime_part *p)
{
	return ims_mime_part_is(p, "multipart", NULL);
}
