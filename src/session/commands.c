/* The session's commands: each builds its command with the writer, runs
 * it through the engine (session.c) and collects untagged data into the
 * caller's result struct. */
#include "session_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapsh/seqset.h"
#include "imapsh/utf7.h"

/* ---- helpers ---- */

/* "what name: " in front of an error (name sanitised and cut). */
static ims_err fail_on(ims_err e, struct ims_error *err, const char *what, const char *name,
                       size_t len)
{
	char w[120];
	char *t;

	if (e == IMS_OK)
		return e;
	if (name == NULL) {
		ims_error_prefix(err, "%s", what);
		return e;
	}
	t = ims__strndup(name, len > 100 ? 100 : len);
	ims__server_words(t != NULL ? t : "", w, sizeof(w));
	free(t);
	ims_error_prefix(err, "%s %s", what, w);
	return e;
}

/* fail_on for a folder name as sent: shown as the user knows it, UTF-8
 * (decoded from modified UTF-7 unless UTF8=ACCEPT is on; a name that does
 * not decode is shown as sent, sanitised). */
static ims_err fail_name(const struct ims_session *s, ims_err e, struct ims_error *err,
                         const char *what, const char *name, size_t len)
{
	struct ims_buf u;
	struct ims_error ue;
	ims_err r;

	if (e == IMS_OK || s->utf8)
		return fail_on(e, err, what, name, len);
	ims_buf_init(&u, 4096);
	ims_error_init(&ue);
	if (ims_utf7_decode(name, len, &u, &ue) == IMS_OK && u.data != NULL)
		r = fail_on(e, err, what, u.data, u.len);
	else
		r = fail_on(e, err, what, name, len);
	ims_buf_release(&u);
	return r;
}

static ims_err cmd_fail(struct ims_cmd *c, struct ims_error *err, const char *what)
{
	ims_error_copy(err, &c->err);
	ims_error_prefix(err, "%s", what);
	ims_cmd_release(c);
	return err->code != IMS_OK ? err->code : IMS_ERR_USAGE;
}

static ims_err begin(struct ims_session *s, struct ims_cmd *c, const char *verb,
                     enum ims_state need, struct ims_error *err)
{
	if (ims__check(s, err) != IMS_OK) {
		ims_cmd_init(c, NULL);
		return s->broken;
	}
	if (s->state < need || s->state == IMS_STATE_LOGOUT) {
		ims_cmd_init(c, NULL);
		return ims_error_set(err, IMS_ERR_USAGE, "%s: the session is %s", verb,
		                     ims_state_name(s->state));
	}
	if (ims_session_cmd_begin(s, c, verb, err) != IMS_OK) {
		ims_cmd_release(c);
		return err->code;
	}
	return IMS_OK;
}

static int same_name(const char *a, size_t al, const char *b, size_t bl)
{
	if (al == bl && memcmp(a, b, al) == 0)
		return 1;
	return al == 5 && bl == 5 && strncasecmp(a, "INBOX", 5) == 0 &&
	       strncasecmp(b, "INBOX", 5) == 0;
}

static int safe_raw(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/* ---- result structs ---- */

void ims_list_result_init(struct ims_list_result *r)
{
	memset(r, 0, sizeof(*r));
}

void ims_list_result_release(struct ims_list_result *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->v[i].name);
		free(r->v[i].special_use);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

void ims_quota_result_init(struct ims_quota_result *r)
{
	memset(r, 0, sizeof(*r));
}

void ims_quota_result_release(struct ims_quota_result *r)
{
	size_t i, j;

	ims__free_strv(r->roots, r->n_roots);
	for (i = 0; i < r->n; i++) {
		free(r->v[i].root);
		for (j = 0; j < r->v[i].n; j++)
			free(r->v[i].res[j].name);
		free(r->v[i].res);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

void ims_search_result_init(struct ims_search_result *r)
{
	memset(r, 0, sizeof(*r));
}

void ims_search_result_release(struct ims_search_result *r)
{
	free(r->uids);
	memset(r, 0, sizeof(*r));
}

void ims_copy_result_init(struct ims_copy_result *r)
{
	memset(r, 0, sizeof(*r));
}

void ims_copy_result_release(struct ims_copy_result *r)
{
	free(r->src_uids);
	free(r->dst_uids);
	memset(r, 0, sizeof(*r));
}

void ims_namespace_result_init(struct ims_namespace_result *r)
{
	memset(r, 0, sizeof(*r));
}

void ims_namespace_result_release(struct ims_namespace_result *r)
{
	size_t k, i;

	for (k = 0; k < 3; k++) {
		for (i = 0; i < r->n[k]; i++)
			free(r->v[k][i].prefix);
		free(r->v[k]);
	}
	memset(r, 0, sizeof(*r));
}

void ims_id_result_init(struct ims_id_result *r)
{
	memset(r, 0, sizeof(*r));
}

void ims_id_result_release(struct ims_id_result *r)
{
	ims__free_strv(r->names, r->n);
	ims__free_strv(r->values, r->n);
	memset(r, 0, sizeof(*r));
}

/* ---- SELECT / EXAMINE ---- */

struct select_ctx {
	int read_only;
};

static ims_err select_tagged(void *ctx, const struct ims_response *r, struct ims_error *err)
{
	struct select_ctx *x = ctx;

	(void)err;
	if (r->code.kind == IMS_CODE_READ_ONLY)
		x->read_only = 1;
	else if (r->code.kind == IMS_CODE_READ_WRITE)
		x->read_only = 0;
	return IMS_OK;
}

/* SELECT or EXAMINE mbox begun in c, for select and select_ahead alike:
 * one SELECT at a time (an earlier one's answer would change this one's). */
static ims_err select_begin(struct ims_session *s, struct ims_cmd *c, const char *verb,
                            const char *mbox, size_t len, struct ims_error *err)
{
	if (s->bg_select && ims__settle(s, IMS__BG_SELECT, err) != IMS_OK)
		return err->code;
	s->sel_failed = 0;
	if (begin(s, c, verb, IMS_STATE_AUTHENTICATED, err) != IMS_OK)
		return err->code;
	if (ims_cmd_astring(c, mbox, len) != IMS_OK)
		return cmd_fail(c, err, verb[0] == 'E' ? "examine" : "select");
	return IMS_OK;
}

ims_err ims_session_select(struct ims_session *s, const char *mbox, size_t len, int read_only,
                           struct ims_error *err)
{
	const char *verb = read_only ? "EXAMINE" : "SELECT";
	struct select_ctx x = {read_only};
	struct ims_handler h = {0};
	struct ims_cmd c;
	ims_err e;

	if (select_begin(s, &c, verb, mbox, len, err) != IMS_OK)
		return err->code;
	/* Trying to select deselects (RFC 9051 6.3.2). */
	ims__folder_clear(&s->folder);
	ims__set_state(s, IMS_STATE_AUTHENTICATED);
	s->folder.name = ims__strndup(mbox, len);
	if (s->folder.name == NULL) {
		ims_cmd_release(&c);
		return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
	}
	s->folder.name_len = len;
	h.tagged = select_tagged;
	h.ctx = &x;
	e = ims__run(s, &c, &h, err);
	if (e == IMS_OK) {
		s->folder.read_only = x.read_only;
		ims__set_state(s, IMS_STATE_SELECTED);
	} else {
		ims__folder_clear(&s->folder);
	}
	return fail_name(s, e, err, read_only ? "examine" : "select", mbox, len);
}

ims_err ims_session_select_ahead(struct ims_session *s, const char *mbox, size_t len, int read_only,
                                 struct ims_error *err)
{
	const char *verb = read_only ? "EXAMINE" : "SELECT";
	struct ims__pending *p;
	struct ims_cmd c;
	unsigned id;
	ims_err e;

	if (select_begin(s, &c, verb, mbox, len, err) != IMS_OK)
		return err->code;
	if (ims_cmd_end(&c) != IMS_OK)
		return cmd_fail(&c, err, read_only ? "examine" : "select");
	ims__folder_clear(&s->folder);
	ims__set_state(s, IMS_STATE_AUTHENTICATED);
	s->folder.name = ims__strndup(mbox, len);
	if (s->folder.name == NULL) {
		ims_cmd_release(&c);
		return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
	}
	s->folder.name_len = len;
	s->folder.read_only = read_only;
	s->sel_failed = 0;
	e = ims_session_submit(s, &c, NULL, NULL, &id, err);
	ims_cmd_release(&c);
	if (e != IMS_OK) {
		ims__folder_clear(&s->folder);
		return e;
	}
	ims__background(s, id, IMS__BG_SELECT);
	p = ims__find(s, id);
	if (p != NULL)
		p->bg_read_only = read_only;
	/* selected until its answer says otherwise (ims__settle) */
	ims__set_state(s, IMS_STATE_SELECTED);
	return IMS_OK;
}

/* ---- LIST ---- */

struct list_ctx {
	struct ims_list_result *res;
};

static void status_copy(struct ims_status_values *d, const struct ims_mbox_status *st)
{
	d->have = st->have;
	d->messages = st->messages;
	d->recent = st->recent;
	d->uidnext = st->uidnext;
	d->uidvalidity = st->uidvalidity;
	d->unseen = st->unseen;
	d->deleted = st->deleted;
	d->size = st->size;
	d->highestmodseq = st->highestmodseq;
}

static ims_err list_untagged(void *ctx, const struct ims_response *r, int *taken_r,
                             struct ims_error *err)
{
	struct list_ctx *x = ctx;
	struct ims_list_result *res = x->res;
	struct ims_mailbox_info *mi;
	size_t i;

	if (r->kind == IMS_DATA_STATUS) {
		for (i = res->n; i-- > 0;)
			if (same_name(res->v[i].name, res->v[i].name_len, r->u.status.name,
			              r->u.status.name_len)) {
				res->v[i].has_status = 1;
				status_copy(&res->v[i].status, &r->u.status);
				*taken_r = 1;
				break;
			}
		return IMS_OK;
	}
	if (r->kind != IMS_DATA_LIST && r->kind != IMS_DATA_LSUB)
		return IMS_OK;
	*taken_r = 1;
	if (res->n == res->cap) {
		size_t ncap = res->cap ? res->cap * 2 : 16;
		struct ims_mailbox_info *v = realloc(res->v, ncap * sizeof(*v));

		if (v == NULL)
			return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
		res->v = v;
		res->cap = ncap;
	}
	mi = &res->v[res->n];
	memset(mi, 0, sizeof(*mi));
	mi->name = ims__strndup(r->u.list.name, r->u.list.name_len);
	mi->name_len = r->u.list.name_len;
	mi->delim = r->u.list.delim;
	mi->attrs = r->u.list.attr_bits;
	if (r->kind == IMS_DATA_LSUB)
		mi->attrs |= IMS_LIST_SUBSCRIBED;
	if (r->u.list.special_use != NULL)
		mi->special_use =
		    ims__strndup(r->u.list.special_use, strlen(r->u.list.special_use));
	if (mi->name == NULL || (r->u.list.special_use != NULL && mi->special_use == NULL)) {
		free(mi->name);
		free(mi->special_use);
		return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
	}
	res->n++;
	return IMS_OK;
}

ims_err ims_session_list(struct ims_session *s, const char *ref, const char *pattern,
                         unsigned flags, struct ims_list_result *res, struct ims_error *err)
{
	struct list_ctx x = {res};
	struct ims_handler h = {0};
	struct ims_cmd c;
	int extended =
	    ims_session_has_cap(s, "LIST-EXTENDED") || ims_session_has_cap(s, "IMAP4rev2");
	int sub = (flags & IMS_LISTF_SUBSCRIBED) != 0;
	int want_status = (flags & IMS_LISTF_STATUS) && ims_session_has_cap(s, "LIST-STATUS");
	int want_su =
	    (flags & IMS_LISTF_SPECIAL_USE) && ims_session_has_cap(s, "SPECIAL-USE") && extended;
	const char *verb = sub && !extended ? "LSUB" : "LIST";

	if (begin(s, &c, verb, IMS_STATE_AUTHENTICATED, err) != IMS_OK)
		return err->code;
	if (ref == NULL)
		ref = "";
	if (sub && extended &&
	    (ims_cmd_list_begin(&c) != IMS_OK || ims_cmd_atom(&c, "SUBSCRIBED") != IMS_OK ||
	     ims_cmd_list_end(&c) != IMS_OK))
		return cmd_fail(&c, err, "list");
	if (ims_cmd_string(&c, ref, strlen(ref)) != IMS_OK ||
	    ims_cmd_string(&c, pattern, strlen(pattern)) != IMS_OK)
		return cmd_fail(&c, err, "list");
	if ((want_status || want_su) && strcmp(verb, "LIST") == 0) {
		if (ims_cmd_atom(&c, "RETURN") != IMS_OK || ims_cmd_list_begin(&c) != IMS_OK ||
		    (want_su && ims_cmd_atom(&c, "SPECIAL-USE") != IMS_OK) ||
		    (want_status && (ims_cmd_atom(&c, "STATUS") != IMS_OK ||
		                     ims_cmd_raw(&c, "(MESSAGES UNSEEN)") != IMS_OK)) ||
		    ims_cmd_list_end(&c) != IMS_OK)
			return cmd_fail(&c, err, "list");
	}
	h.untagged = list_untagged;
	h.ctx = &x;
	return fail_on(ims__run(s, &c, &h, err), err, "list", NULL, 0);
}

/* ---- STATUS ---- */

struct status_ctx {
	const char *name;
	size_t len;
	struct ims_status_values *res;
	int got;
};

static ims_err status_untagged(void *ctx, const struct ims_response *r, int *taken_r,
                               struct ims_error *err)
{
	struct status_ctx *x = ctx;

	(void)err;
	if (r->kind != IMS_DATA_STATUS || x->got ||
	    !same_name(x->name, x->len, r->u.status.name, r->u.status.name_len))
		return IMS_OK;
	status_copy(x->res, &r->u.status);
	x->got = 1;
	*taken_r = 1;
	return IMS_OK;
}

static const struct {
	unsigned bit;
	const char *name;
} status_items[] = {
    {IMS_STATUS_MESSAGES, "MESSAGES"}, {IMS_STATUS_RECENT, "RECENT"},
    {IMS_STATUS_UIDNEXT, "UIDNEXT"},   {IMS_STATUS_UIDVALIDITY, "UIDVALIDITY"},
    {IMS_STATUS_UNSEEN, "UNSEEN"},     {IMS_STATUS_DELETED, "DELETED"},
    {IMS_STATUS_SIZE, "SIZE"},         {IMS_STATUS_HIGHESTMODSEQ, "HIGHESTMODSEQ"},
};

static ims_err status_submit(struct ims_session *s, const char *mbox, size_t len, unsigned items,
                             struct status_ctx *x, unsigned *id_r, struct ims_error *err)
{
	struct ims_handler h = {0};
	struct ims_cmd c;
	size_t i;
	ims_err e;

	if (items == 0) {
		items = IMS_STATUS_MESSAGES | IMS_STATUS_RECENT | IMS_STATUS_UIDNEXT |
		        IMS_STATUS_UIDVALIDITY | IMS_STATUS_UNSEEN;
		if (ims_session_has_cap(s, "STATUS=SIZE"))
			items |= IMS_STATUS_SIZE;
	}
	if (begin(s, &c, "STATUS", IMS_STATE_AUTHENTICATED, err) != IMS_OK)
		return err->code;
	if (ims_cmd_astring(&c, mbox, len) != IMS_OK || ims_cmd_list_begin(&c) != IMS_OK)
		return cmd_fail(&c, err, "status");
	for (i = 0; i < sizeof(status_items) / sizeof(status_items[0]); i++)
		if ((items & status_items[i].bit) &&
		    ims_cmd_atom(&c, status_items[i].name) != IMS_OK)
			return cmd_fail(&c, err, "status");
	if (ims_cmd_list_end(&c) != IMS_OK || ims_cmd_end(&c) != IMS_OK)
		return cmd_fail(&c, err, "status");
	x->name = mbox;
	x->len = len;
	h.untagged = status_untagged;
	h.ctx = x;
	e = ims_session_submit(s, &c, &h, NULL, id_r, err);
	ims_cmd_release(&c);
	return e;
}

ims_err ims_session_status(struct ims_session *s, const char *mbox, size_t len, unsigned items,
                           struct ims_status_values *res, struct ims_error *err)
{
	struct status_ctx x = {NULL, 0, res, 0};
	unsigned id;
	ims_err e;

	memset(res, 0, sizeof(*res));
	e = status_submit(s, mbox, len, items, &x, &id, err);
	if (e == IMS_OK)
		e = ims_session_wait(s, id, err);
	if (e == IMS_OK && !x.got)
		e = ims_error_set(err, IMS_ERR_NO,
		                  "the server answered OK but sent no STATUS data");
	return fail_name(s, e, err, "status", mbox, len);
}

ims_err ims_session_status_many(struct ims_session *s, const char *const *mboxes,
                                const size_t *lens, size_t n, unsigned items,
                                struct ims_status_values *res, ims_err *errs, struct ims_error *err)
{
	struct status_ctx *x = calloc(n + 1, sizeof(*x));
	unsigned *ids = calloc(n + 1, sizeof(*ids));
	size_t i, sent = 0;
	ims_err first = IMS_OK, e = IMS_OK;
	struct ims_error one;

	if (x == NULL || ids == NULL) {
		free(x);
		free(ids);
		return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		x[i].res = &res[i];
		if (errs != NULL)
			errs[i] = IMS_ERR_NO;
	}
	for (i = 0; i < n; i++) {
		e = status_submit(s, mboxes[i], lens[i], items, &x[i], &ids[i], &one);
		if (e != IMS_OK) {
			if (errs != NULL)
				errs[i] = e;
			if (first == IMS_OK)
				ims_error_copy(err, &one), first = e;
			if (ims__check(s, err) != IMS_OK)
				break;
			ids[i] = 0;
		}
		sent = i + 1;
	}
	for (i = 0; i < sent; i++) {
		if (ids[i] == 0)
			continue;
		e = ims_session_wait(s, ids[i], &one);
		if (e == IMS_OK && !x[i].got)
			e = ims_error_set(&one, IMS_ERR_NO, "no STATUS data");
		if (errs != NULL)
			errs[i] = e;
		if (e != IMS_OK && (first == IMS_OK || (first == IMS_ERR_NO && e != IMS_ERR_NO))) {
			ims_error_copy(err, &one);
			fail_name(s, e, err, "status", mboxes[i], lens[i]);
			first = e;
		}
		if (ims__check(s, err) != IMS_OK)
			break;
	}
	free(x);
	free(ids);
	return ims__check(s, err) != IMS_OK ? s->broken : first;
}

/* ---- CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE ---- */

static ims_err simple_mbox(struct ims_session *s, const char *verb, const char *what,
                           const char *mbox, size_t len, struct ims_error *err)
{
	struct ims_cmd c;

	if (begin(s, &c, verb, IMS_STATE_AUTHENTICATED, err) != IMS_OK)
		return err->code;
	if (ims_cmd_astring(&c, mbox, len) != IMS_OK)
		return cmd_fail(&c, err, what);
	return fail_name(s, ims__run(s, &c, NULL, err), err, what, mbox, len);
}

ims_err ims_session_create(struct ims_session *s, const char *mbox, size_t len,
                           struct ims_error *err)
{
	return simple_mbox(s, "CREATE", "create", mbox, len, err);
}

ims_err ims_session_delete(struct ims_session *s, const char *mbox, size_t len,
                           struct ims_error *err)
{
	return simple_mbox(s, "DELETE", "delete", mbox, len, err);
}

ims_err ims_session_subscribe(struct ims_session *s, const char *mbox, size_t len,
                              struct ims_error *err)
{
	return simple_mbox(s, "SUBSCRIBE", "subscribe", mbox, len, err);
}

ims_err ims_session_unsubscribe(struct ims_session *s, const char *mbox, size_t len,
                                struct ims_error *err)
{
	return simple_mbox(s, "UNSUBSCRIBE", "unsubscribe", mbox, len, err);
}

ims_err ims_session_rename(struct ims_session *s, const char *from, size_t from_len, const char *to,
                           size_t to_len, struct ims_error *err)
{
	struct ims_cmd c;

	if (begin(s, &c, "RENAME", IMS_STATE_AUTHENTICATED, err) != IMS_OK)
		return err->code;
	if (ims_cmd_astring(&c, from, from_len) != IMS_OK ||
	    ims_cmd_astring(&c, to, to_len) != IMS_OK)
		return cmd_fail(&c, err, "rename");
	return fail_name(s, ims__run(s, &c, NULL, err), err, "rename", from, from_len);
}

/* ---- GETQUOTAROOT ---- */

static ims_err quota_untagged(void *ctx, const struct ims_response *r, int *taken_r,
                              struct ims_error *err)
{
	struct ims_quota_result *q = ctx;
	size_t i;

	if (r->kind == IMS_DATA_QUOTAROOT) {
		char **v = calloc(r->u.quotaroot.roots.n + 1, sizeof(*v));

		*taken_r = 1;
		if (v == NULL)
			return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
		for (i = 0; i < r->u.quotaroot.roots.n; i++)
			if ((v[i] = ims__strndup(r->u.quotaroot.roots.v[i],
			                         strlen(r->u.quotaroot.roots.v[i]))) == NULL) {
				ims__free_strv(v, i);
				return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
			}
		ims__free_strv(q->roots, q->n_roots);
		q->roots = v;
		q->n_roots = r->u.quotaroot.roots.n;
		return IMS_OK;
	}
	if (r->kind == IMS_DATA_QUOTA) {
		struct ims_quota_info *nv = realloc(q->v, (q->n + 1) * sizeof(*nv)), *qi;

		*taken_r = 1;
		if (nv == NULL)
			return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
		q->v = nv;
		qi = &q->v[q->n];
		memset(qi, 0, sizeof(*qi));
		qi->root = ims__strndup(r->u.quota.root, strlen(r->u.quota.root));
		qi->res = calloc(r->u.quota.n + 1, sizeof(*qi->res));
		if (qi->root == NULL || qi->res == NULL) {
			free(qi->root);
			free(qi->res);
			return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
		}
		q->n++;
		for (i = 0; i < r->u.quota.n; i++) {
			qi->res[i].name =
			    ims__strndup(r->u.quota.res[i].name, strlen(r->u.quota.res[i].name));
			if (qi->res[i].name == NULL)
				return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
			qi->res[i].usage = r->u.quota.res[i].usage;
			qi->res[i].limit = r->u.quota.res[i].limit;
			qi->n++;
		}
	}
	return IMS_OK;
}

ims_err ims_session_getquotaroot(struct ims_session *s, const char *mbox, size_t len,
                                 struct ims_quota_result *res, struct ims_error *err)
{
	struct ims_handler h = {0};
	struct ims_cmd c;

	if (ims__check(s, err) != IMS_OK)
		return s->broken;
	if (!ims_session_has_cap(s, "QUOTA"))
		return ims_error_set(err, IMS_ERR_NO, "quota: the server does not offer QUOTA");
	if (begin(s, &c, "GETQUOTAROOT", IMS_STATE_AUTHENTICATED, err) != IMS_OK)
		return err->code;
	if (ims_cmd_astring(&c, mbox, len) != IMS_OK)
		return cmd_fail(&c, err, "quota");
	h.untagged = quota_untagged;
	h.ctx = res;
	return fail_name(s, ims__run(s, &c, &h, err), err, "quota", mbox, len);
}

/* ---- FETCH ---- */

struct fetch_ctx {
	const struct ims_fetch_handler *h;
};

static ims_err fetch_untagged(void *ctx, const struct ims_response *r, int *taken_r,
                              struct ims_error *err)
{
	struct fetch_ctx *x = ctx;

	if (r->kind != IMS_DATA_FETCH)
		return IMS_OK;
	*taken_r = 1;
	if (x->h != NULL && x->h->message != NULL)
		return x->h->message(x->h->ctx, &r->u.fetch, err);
	return IMS_OK;
}

static ims_err fetch_literal(void *ctx, const struct ims_literal_info *li, struct ims_sink *sink_r,
                             struct ims_error *err)
{
	struct fetch_ctx *x = ctx;

	if (x->h != NULL && x->h->literal != NULL)
		return x->h->literal(x->h->ctx, li, sink_r, err);
	return IMS_OK;
}

static ims_err do_fetch(struct ims_session *s, const char *verb, const char *set, const char *items,
                        const struct ims_fetch_handler *fh, struct ims_error *err)
{
	struct fetch_ctx x = {fh};
	struct ims_handler h = {0};
	struct ims_cmd c;

	if (!safe_raw(set) || !safe_raw(items))
		return ims_error_set(err, IMS_ERR_USAGE, "fetch: a bad message set or item list");
	if (begin(s, &c, verb, IMS_STATE_SELECTED, err) != IMS_OK)
		return err->code;
	if (ims_cmd_raw(&c, set) != IMS_OK || ims_cmd_raw(&c, items) != IMS_OK)
		return cmd_fail(&c, err, "fetch");
	h.untagged = fetch_untagged;
	h.literal = fetch_literal;
	h.ctx = &x;
	return fail_on(ims__run(s, &c, &h, err), err, "fetch", set, strlen(set));
}

ims_err ims_session_uid_fetch(struct ims_session *s, const char *uids, const char *items,
                              const struct ims_fetch_handler *h, struct ims_error *err)
{
	return do_fetch(s, "UID FETCH", uids, items, h, err);
}

ims_err ims_session_seq_fetch(struct ims_session *s, const char *seqs, const char *items,
                              const struct ims_fetch_handler *h, struct ims_error *err)
{
	return do_fetch(s, "FETCH", seqs, items, h, err);
}

/* ---- SEARCH ---- */

#define MAX_SEARCH_RESULTS (64u * 1024 * 1024)

struct search_ctx {
	struct ims_search_result *res;
	char tag[32];
};

static ims_err add_uid(struct ims_search_result *r, uint32_t uid, struct ims_error *err)
{
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 64;
		uint32_t *v;

		if (ncap > MAX_SEARCH_RESULTS)
			return ims_error_set(err, IMS_ERR_LIMIT, "search: more than %u results",
			                     MAX_SEARCH_RESULTS);
		v = realloc(r->uids, ncap * sizeof(*v));
		if (v == NULL)
			return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
		r->uids = v;
		r->cap = ncap;
	}
	r->uids[r->n++] = uid;
	return IMS_OK;
}

static ims_err search_untagged(void *ctx, const struct ims_response *r, int *taken_r,
                               struct ims_error *err)
{
	struct search_ctx *x = ctx;
	size_t i;
	ims_err e;

	if (r->kind == IMS_DATA_SEARCH) {
		*taken_r = 1;
		for (i = 0; i < r->u.search.n; i++)
			if ((e = add_uid(x->res, r->u.search.nums[i], err)) != IMS_OK)
				return e;
		if (r->u.search.modseq)
			x->res->modseq = r->u.search.modseq;
		return IMS_OK;
	}
	if (r->kind == IMS_DATA_ESEARCH &&
	    (r->u.esearch.tag == NULL || strcmp(r->u.esearch.tag, x->tag) == 0)) {
		*taken_r = 1;
		if (r->u.esearch.have & IMS_ESEARCH_MODSEQ)
			x->res->modseq = r->u.esearch.modseq;
		if (r->u.esearch.have & IMS_ESEARCH_ALL) {
			struct ims_seqset set;
			struct ims_seqset_iter it;
			uint32_t uid;

			ims_seqset_init(&set);
			if (ims_seqset_parse(&set, r->u.esearch.all, strlen(r->u.esearch.all),
			                     err) != IMS_OK) {
				ims_seqset_release(&set);
				return ims_error_set(
				    err, IMS_ERR_PROTOCOL,
				    "search: a malformed ESEARCH ALL from the server");
			}
			if (ims_seqset_count(&set, 0, MAX_SEARCH_RESULTS + 1) >
			    MAX_SEARCH_RESULTS) {
				ims_seqset_release(&set);
				return ims_error_set(err, IMS_ERR_LIMIT,
				                     "search: more than %u results",
				                     MAX_SEARCH_RESULTS);
			}
			ims_seqset_iter_init(&it, &set, 0);
			while (ims_seqset_next(&it, &uid))
				if ((e = add_uid(x->res, uid, err)) != IMS_OK) {
					ims_seqset_release(&set);
					return e;
				}
			ims_seqset_release(&set);
		}
	}
	return IMS_OK;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

ims_err ims_session_uid_search(struct ims_session *s, const struct ims_arg *keys, size_t n,
                               struct ims_search_result *res, struct ims_error *err)
{
	struct search_ctx x;
	struct ims_handler h = {0};
	struct ims_cmd c;
	size_t i, j, k;
	int eight = 0;
	ims_err e;

	if (n == 0)
		return ims_error_set(err, IMS_ERR_USAGE, "search: no search keys");
	for (i = 0; i < n; i++)
		if (keys[i].kind == IMS_ARG_STRING)
			for (j = 0; j < keys[i].len; j++)
				if ((unsigned char)keys[i].p[j] >= 0x80)
					eight = 1;
	if (begin(s, &c, "UID SEARCH", IMS_STATE_SELECTED, err) != IMS_OK)
		return err->code;
	memset(&x, 0, sizeof(x));
	x.res = res;
	k = strcspn(c.out.data, " ");
	if (k >= sizeof(x.tag))
		k = sizeof(x.tag) - 1;
	memcpy(x.tag, c.out.data, k);
	if (ims_session_has_cap(s, "ESEARCH") && ims_cmd_raw(&c, "RETURN (ALL)") != IMS_OK)
		return cmd_fail(&c, err, "search");
	if (eight && !s->utf8 && ims_cmd_raw(&c, "CHARSET UTF-8") != IMS_OK)
		return cmd_fail(&c, err, "search");
	for (i = 0; i < n; i++) {
		/* A parenthesised group is a list: "(FROM x SUBJECT y)", no space
		 * inside the parentheses (RFC 3501's search-key; Cyrus refuses
		 * "( FROM x )" with BAD). */
		if (keys[i].kind == IMS_ARG_RAW && strcmp(keys[i].p, "(") == 0)
			e = ims_cmd_list_begin(&c);
		else if (keys[i].kind == IMS_ARG_RAW && strcmp(keys[i].p, ")") == 0)
			e = ims_cmd_list_end(&c);
		else if (keys[i].kind == IMS_ARG_RAW)
			e = ims_cmd_raw(&c, keys[i].p);
		else
			e = ims_cmd_astring(&c, keys[i].p, keys[i].len);
		if (e != IMS_OK)
			return cmd_fail(&c, err, "search");
	}
	h.untagged = search_untagged;
	h.ctx = &x;
	e = ims__run(s, &c, &h, err);
	if (e == IMS_OK && res->n > 1) {
		qsort(res->uids, res->n, sizeof(res->uids[0]), cmp_u32);
		for (i = 1, j = 1; i < res->n; i++)
			if (res->uids[i] != res->uids[j - 1])
				res->uids[j++] = res->uids[i];
		res->n = j;
	}
	return fail_on(e, err, "search", NULL, 0);
}

/* ---- STORE ---- */

ims_err ims_session_uid_store(struct ims_session *s, const char *uids, enum ims_store_op op,
                              const char *const *flags, size_t n, int silent,
                              const struct ims_fetch_handler *fh, struct ims_error *err)
{
	struct fetch_ctx x = {fh};
	struct ims_handler h = {0};
	struct ims_cmd c;
	struct ims_buf fl;
	char item[32];
	ims_err e;

	if (!safe_raw(uids))
		return ims_error_set(err, IMS_ERR_USAGE, "store: a bad UID set");
	ims_buf_init(&fl, 0);
	if (ims__flag_list(flags, n, &fl, err) != IMS_OK) {
		ims_buf_release(&fl);
		return fail_on(err->code, err, "store", NULL, 0);
	}
	snprintf(item, sizeof(item), "%sFLAGS%s",
	         op == IMS_STORE_ADD      ? "+"
	         : op == IMS_STORE_REMOVE ? "-"
	                                  : "",
	         silent ? ".SILENT" : "");
	if (begin(s, &c, "UID STORE", IMS_STATE_SELECTED, err) != IMS_OK) {
		ims_buf_release(&fl);
		return err->code;
	}
	if (ims_cmd_raw(&c, uids) != IMS_OK || ims_cmd_raw(&c, item) != IMS_OK ||
	    ims_cmd_raw(&c, fl.data) != IMS_OK) {
		ims_buf_release(&fl);
		return cmd_fail(&c, err, "store");
	}
	ims_buf_release(&fl);
	h.untagged = fetch_untagged;
	h.ctx = &x;
	e = ims__run(s, &c, &h, err);
	return fail_on(e, err, "store", uids, strlen(uids));
}

/* ---- COPY, MOVE, EXPUNGE ---- */

struct copy_ctx {
	struct ims_copy_result *res;
	uint64_t expunged;
};

static ims_err take_copyuid(struct copy_ctx *x, const struct ims_code *code, struct ims_error *err)
{
	struct ims_copy_result *r = x->res;

	if (r == NULL || code->kind != IMS_CODE_COPYUID)
		return IMS_OK;
	free(r->src_uids);
	free(r->dst_uids);
	r->src_uids = ims__strndup(code->set1, strlen(code->set1));
	r->dst_uids = ims__strndup(code->set2, strlen(code->set2));
	if (r->src_uids == NULL || r->dst_uids == NULL)
		return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
	r->uidvalidity = code->num;
	r->have_uids = 1;
	return IMS_OK;
}

static ims_err copy_untagged(void *ctx, const struct ims_response *r, int *taken_r,
                             struct ims_error *err)
{
	struct copy_ctx *x = ctx;

	(void)taken_r;
	if (r->kind == IMS_DATA_EXPUNGE)
		x->expunged++;
	else if (r->kind == IMS_DATA_VANISHED && !r->u.vanished.earlier)
		x->expunged++;
	if (r->cond == IMS_COND_OK)
		return take_copyuid(x, &r->code, err);
	return IMS_OK;
}

static ims_err copy_tagged(void *ctx, const struct ims_response *r, struct ims_error *err)
{
	struct copy_ctx *x = ctx;

	if (r->cond == IMS_COND_OK)
		return take_copyuid(x, &r->code, err);
	return IMS_OK;
}

static ims_err copy_or_move(struct ims_session *s, const char *verb, const char *what,
                            const char *uids, const char *mbox, size_t len,
                            struct ims_copy_result *res, struct ims_error *err)
{
	struct copy_ctx x = {res, 0};
	struct ims_handler h = {0};
	struct ims_cmd c;

	if (!safe_raw(uids))
		return ims_error_set(err, IMS_ERR_USAGE, "%s: a bad UID set", what);
	if (begin(s, &c, verb, IMS_STATE_SELECTED, err) != IMS_OK)
		return err->code;
	if (ims_cmd_raw(&c, uids) != IMS_OK || ims_cmd_astring(&c, mbox, len) != IMS_OK)
		return cmd_fail(&c, err, what);
	h.untagged = copy_untagged;
	h.tagged = copy_tagged;
	h.ctx = &x;
	return fail_name(s, ims__run(s, &c, &h, err), err, what, mbox, len);
}

ims_err ims_session_uid_copy(struct ims_session *s, const char *uids, const char *mbox, size_t len,
                             struct ims_copy_result *res, struct ims_error *err)
{
	return copy_or_move(s, "UID COPY", "copy to", uids, mbox, len, res, err);
}

ims_err ims_session_uid_expunge(struct ims_session *s, const char *uids, struct ims_error *err)
{
	struct ims_cmd c;

	if (ims__check(s, err) != IMS_OK)
		return s->broken;
	if (!ims_session_has_cap(s, "UIDPLUS") && !ims_session_has_cap(s, "IMAP4rev2"))
		return ims_error_set(
		    err, IMS_ERR_NO,
		    "expunge: the server cannot expunge single messages (no UIDPLUS)");
	if (!safe_raw(uids))
		return ims_error_set(err, IMS_ERR_USAGE, "expunge: a bad UID set");
	if (begin(s, &c, "UID EXPUNGE", IMS_STATE_SELECTED, err) != IMS_OK)
		return err->code;
	if (ims_cmd_raw(&c, uids) != IMS_OK)
		return cmd_fail(&c, err, "expunge");
	return fail_on(ims__run(s, &c, NULL, err), err, "expunge", uids, strlen(uids));
}

ims_err ims_session_uid_move(struct ims_session *s, const char *uids, const char *mbox, size_t len,
                             struct ims_copy_result *res, struct ims_error *err)
{
	static const char *const deleted[] = {"\\Deleted"};
	ims_err e;

	if (ims_session_has_cap(s, "MOVE") || ims_session_has_cap(s, "IMAP4rev2")) {
		e = copy_or_move(s, "UID MOVE", "move to", uids, mbox, len, res, err);
		if (e == IMS_OK && res != NULL)
			res->moved = 1;
		return e;
	}
	e = copy_or_move(s, "UID COPY", "move to", uids, mbox, len, res, err);
	if (e != IMS_OK)
		return e;
	e = ims_session_uid_store(s, uids, IMS_STORE_ADD, deleted, 1, 1, NULL, err);
	if (e != IMS_OK)
		return fail_on(e, err, "move (copied, but flagging the originals failed)", NULL, 0);
	if (!ims_session_has_cap(s, "UIDPLUS")) {
		if (res != NULL)
			res->left_deleted = 1;
		return IMS_OK;
	}
	e = ims_session_uid_expunge(s, uids, err);
	if (e == IMS_OK && res != NULL)
		res->moved = 1;
	return e;
}

static ims_err expunge_untagged(void *ctx, const struct ims_response *r, int *taken_r,
                                struct ims_error *err)
{
	uint64_t *count = ctx;

	(void)taken_r;
	(void)err;
	if (r->kind == IMS_DATA_EXPUNGE)
		(*count)++;
	return IMS_OK;
}

ims_err ims_session_expunge(struct ims_session *s, uint64_t *count_r, struct ims_error *err)
{
	struct ims_handler h = {0};
	struct ims_cmd c;
	uint64_t count = 0, before = s->folder.expunged;
	ims_err e;

	if (begin(s, &c, "EXPUNGE", IMS_STATE_SELECTED, err) != IMS_OK)
		return err->code;
	h.untagged = expunge_untagged;
	h.ctx = &count;
	e = ims__run(s, &c, &h, err);
	if (count_r != NULL)
		*count_r =
		    s->folder.expunged - before > count ? s->folder.expunged - before : count;
	return fail_on(e, err, "expunge", NULL, 0);
}

/* ---- APPEND ---- */

static ims_err append_tagged(void *ctx, const struct ims_response *r, struct ims_error *err)
{
	struct ims_append_result *res = ctx;
	const char *p;
	uint64_t v = 0;

	(void)err;
	if (res == NULL || r->cond != IMS_COND_OK || r->code.kind != IMS_CODE_APPENDUID)
		return IMS_OK;
	for (p = r->code.set1; *p >= '0' && *p <= '9' && v <= UINT32_MAX; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (*p != '\0' || v == 0 || v > UINT32_MAX)
		return IMS_OK; /* a range (MULTIAPPEND): not one UID */
	res->have_uid = 1;
	res->uidvalidity = r->code.num;
	res->uid = (uint32_t)v;
	return IMS_OK;
}

ims_err ims_session_append(struct ims_session *s, const char *mbox, size_t len,
                           const char *const *flags, size_t n_flags, const char *date,
                           uint64_t size, const struct ims_source *src,
                           struct ims_append_result *res, struct ims_error *err)
{
	struct ims_handler h = {0};
	struct ims_cmd c;
	struct ims_buf fl;
	unsigned id;
	ims_err e;

	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if (date != NULL) {
		int64_t t;

		if (ims_parse_date_time(date, &t) != IMS_OK)
			return ims_error_set(
			    err, IMS_ERR_USAGE,
			    "append: a bad date (want \"17-Jul-1996 02:44:25 -0700\")");
	}
	ims_buf_init(&fl, 0);
	if (n_flags > 0 && ims__flag_list(flags, n_flags, &fl, err) != IMS_OK) {
		ims_buf_release(&fl);
		return fail_on(err->code, err, "append", NULL, 0);
	}
	if (begin(s, &c, "APPEND", IMS_STATE_AUTHENTICATED, err) != IMS_OK) {
		ims_buf_release(&fl);
		return err->code;
	}
	if (ims_cmd_astring(&c, mbox, len) != IMS_OK ||
	    (n_flags > 0 && ims_cmd_raw(&c, fl.data) != IMS_OK) ||
	    (date != NULL && ims_cmd_string(&c, date, strlen(date)) != IMS_OK) ||
	    ims_cmd_literal_stream(&c, size, 0) != IMS_OK || ims_cmd_end(&c) != IMS_OK) {
		ims_buf_release(&fl);
		return cmd_fail(&c, err, "append");
	}
	ims_buf_release(&fl);
	h.tagged = append_tagged;
	h.ctx = res;
	e = ims_session_submit(s, &c, &h, src, &id, err);
	ims_cmd_release(&c);
	if (e == IMS_OK)
		e = ims_session_wait(s, id, err);
	return fail_name(s, e, err, "append to", mbox, len);
}

/* ---- IDLE ---- */

static ims_err idle_cont(void *ctx, const struct ims_response *r, struct ims_error *err)
{
	struct ims_session *s = ctx;

	(void)r;
	(void)err;
	s->idle_started = 1;
	return IMS_OK;
}

static ims_err idle_untagged(void *ctx, const struct ims_response *r, int *taken_r,
                             struct ims_error *err)
{
	struct ims_session *s = ctx;

	(void)taken_r;
	(void)err;
	switch (r->kind) {
	case IMS_DATA_EXISTS:
	case IMS_DATA_EXPUNGE:
	case IMS_DATA_VANISHED:
	case IMS_DATA_FETCH:
	case IMS_DATA_RECENT: s->idle_changed = 1; break;
	default: break;
	}
	return IMS_OK;
}

ims_err ims_session_idle_start(struct ims_session *s, struct ims_error *err)
{
	struct ims_handler h = {0};
	struct ims__pending *p;
	struct ims_cmd c;
	ims_err e;

	if (ims__check(s, err) != IMS_OK)
		return s->broken;
	if (!ims_session_has_cap(s, "IDLE") && !ims_session_has_cap(s, "IMAP4rev2"))
		return ims_error_set(err, IMS_ERR_NO, "idle: the server does not offer IDLE");
	if (s->idle_id != 0)
		return ims_error_set(err, IMS_ERR_USAGE, "idle: already idling");
	if (begin(s, &c, "IDLE", IMS_STATE_AUTHENTICATED, err) != IMS_OK)
		return err->code;
	if (ims_cmd_end(&c) != IMS_OK)
		return cmd_fail(&c, err, "idle");
	h.continuation = idle_cont;
	h.untagged = idle_untagged;
	h.ctx = s;
	s->idle_started = 0;
	s->idle_changed = 0;
	e = ims_session_submit(s, &c, &h, NULL, &s->idle_id, err);
	ims_cmd_release(&c);
	if (e != IMS_OK)
		return e;
	for (;;) {
		for (p = s->pend; p != NULL && p->id != s->idle_id; p = p->next)
			;
		if (s->idle_started || p == NULL || p->done)
			break;
		if (ims__pump(s, err) != IMS_OK)
			return s->broken;
	}
	if (!s->idle_started) {
		unsigned id = s->idle_id;

		s->idle_id = 0;
		e = ims_session_wait(s, id, err);
		if (e == IMS_OK)
			e = ims_error_set(err, IMS_ERR_PROTOCOL,
			                  "idle: the server ended IDLE at once");
		return fail_on(e, err, "idle", NULL, 0);
	}
	return IMS_OK;
}

ims_err ims_session_idle_wait(struct ims_session *s, int timeout_ms, int *changed_r,
                              struct ims_error *err)
{
	int64_t until = timeout_ms >= 0 ? ims_now_ms() + timeout_ms : 0;
	int64_t old_deadline = s->stream->deadline_ms;
	int old_timeout = s->stream->timeout_ms;
	int timed_out = 0;
	ims_err e = IMS_OK;

	*changed_r = 0;
	if (ims__check(s, err) != IMS_OK)
		return s->broken;
	if (s->idle_id == 0)
		return ims_error_set(err, IMS_ERR_USAGE, "idle: not idling");
	s->idle_changed = 0;
	s->stream->timeout_ms = 0;
	s->stream->deadline_ms = until;
	while (!s->idle_changed) {
		e = ims__pump_until(s, until, &timed_out, err);
		if (e != IMS_OK || timed_out)
			break;
	}
	s->stream->timeout_ms = old_timeout;
	s->stream->deadline_ms = old_deadline;
	if (e != IMS_OK)
		return e;
	*changed_r = s->idle_changed;
	return IMS_OK;
}

ims_err ims_session_idle_done(struct ims_session *s, struct ims_error *err)
{
	unsigned id = s->idle_id;
	ims_err e;

	if (ims__check(s, err) != IMS_OK)
		return s->broken;
	if (id == 0)
		return ims_error_set(err, IMS_ERR_USAGE, "idle: not idling");
	s->idle_id = 0;
	e = ims_session_send_line(s, "DONE", 4, 0, err);
	if (e == IMS_OK)
		e = ims_session_wait(s, id, err);
	return fail_on(e, err, "idle", NULL, 0);
}

/* ---- NOOP, NAMESPACE, ID, LOGOUT ---- */

ims_err ims_session_noop(struct ims_session *s, struct ims_error *err)
{
	struct ims_cmd c;

	if (begin(s, &c, "NOOP", IMS_STATE_NOT_AUTHENTICATED, err) != IMS_OK)
		return err->code;
	return fail_on(ims__run(s, &c, NULL, err), err, "noop", NULL, 0);
}

static ims_err ns_untagged(void *ctx, const struct ims_response *r, int *taken_r,
                           struct ims_error *err)
{
	struct ims_namespace_result *res = ctx;
	const struct ims_ns_list *ls[3];
	size_t k, i;

	if (r->kind != IMS_DATA_NAMESPACE)
		return IMS_OK;
	*taken_r = 1;
	ims_namespace_result_release(res);
	ls[0] = &r->u.ns.personal;
	ls[1] = &r->u.ns.other;
	ls[2] = &r->u.ns.shared;
	for (k = 0; k < 3; k++) {
		res->v[k] = calloc(ls[k]->n + 1, sizeof(*res->v[k]));
		if (res->v[k] == NULL)
			return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
		for (i = 0; i < ls[k]->n; i++) {
			res->v[k][i].prefix =
			    ims__strndup(ls[k]->v[i].prefix, ls[k]->v[i].prefix_len);
			if (res->v[k][i].prefix == NULL)
				return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
			res->v[k][i].delim = ls[k]->v[i].delim;
			res->n[k]++;
		}
	}
	return IMS_OK;
}

ims_err ims_session_namespace(struct ims_session *s, struct ims_namespace_result *res,
                              struct ims_error *err)
{
	struct ims_handler h = {0};
	struct ims_cmd c;

	if (begin(s, &c, "NAMESPACE", IMS_STATE_AUTHENTICATED, err) != IMS_OK)
		return err->code;
	h.untagged = ns_untagged;
	h.ctx = res;
	return fail_on(ims__run(s, &c, &h, err), err, "namespace", NULL, 0);
}

static ims_err id_untagged(void *ctx, const struct ims_response *r, int *taken_r,
                           struct ims_error *err)
{
	struct ims_id_result *res = ctx;
	size_t i;

	if (r->kind != IMS_DATA_ID)
		return IMS_OK;
	*taken_r = 1;
	ims_id_result_release(res);
	res->names = calloc(r->u.id.n + 1, sizeof(char *));
	res->values = calloc(r->u.id.n + 1, sizeof(char *));
	if (res->names == NULL || res->values == NULL)
		return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
	for (i = 0; i < r->u.id.n; i++) {
		const struct ims_body_param *p = &r->u.id.v[i];

		res->names[i] = ims__strndup(p->name, strlen(p->name));
		res->values[i] = p->value != NULL ? ims__strndup(p->value, strlen(p->value)) : NULL;
		res->n++;
		if (res->names[i] == NULL || (p->value != NULL && res->values[i] == NULL))
			return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
	}
	return IMS_OK;
}

ims_err ims_session_id(struct ims_session *s, const char *const *kv, size_t n,
                       struct ims_id_result *res, struct ims_error *err)
{
	struct ims_handler h = {0};
	struct ims_cmd c;
	size_t i;

	if (!ims_session_has_cap(s, "ID") && s->caps_known)
		return ims_error_set(err, IMS_ERR_NO, "id: the server does not offer ID");
	if (begin(s, &c, "ID", IMS_STATE_NOT_AUTHENTICATED, err) != IMS_OK)
		return err->code;
	if (n == 0) {
		if (ims_cmd_nstring(&c, NULL) != IMS_OK)
			return cmd_fail(&c, err, "id");
	} else {
		if (ims_cmd_list_begin(&c) != IMS_OK)
			return cmd_fail(&c, err, "id");
		for (i = 0; i < n; i++)
			if (ims_cmd_string(&c, kv[2 * i], strlen(kv[2 * i])) != IMS_OK ||
			    ims_cmd_nstring(&c, kv[2 * i + 1]) != IMS_OK)
				return cmd_fail(&c, err, "id");
		if (ims_cmd_list_end(&c) != IMS_OK)
			return cmd_fail(&c, err, "id");
	}
	h.untagged = id_untagged;
	h.ctx = res;
	return fail_on(ims__run(s, &c, &h, err), err, "id", NULL, 0);
}

ims_err ims_session_logout(struct ims_session *s, struct ims_error *err)
{
	struct ims_cmd c;
	ims_err e;

	if (ims__check(s, err) != IMS_OK)
		return s->broken;
	if (s->state == IMS_STATE_LOGOUT)
		return IMS_OK;
	ims_cmd_init(&c, NULL);
	if (ims_session_cmd_begin(s, &c, "LOGOUT", err) != IMS_OK) {
		ims_cmd_release(&c);
		return err->code;
	}
	e = ims__run(s, &c, NULL, err);
	if (e == IMS_OK) {
		ims__folder_clear(&s->folder);
		ims__set_state(s, IMS_STATE_LOGOUT);
	}
	return fail_on(e, err, "logout", NULL, 0);
}

ims_err ims_session_logout_nowait(struct ims_session *s, struct ims_error *err)
{
	struct ims_cmd c;
	unsigned id;
	ims_err e;

	if (ims__check(s, err) != IMS_OK)
		return s->broken;
	if (s->state == IMS_STATE_LOGOUT)
		return IMS_OK;
	if (ims_session_cmd_begin(s, &c, "LOGOUT", err) != IMS_OK) {
		ims_cmd_release(&c);
		return err->code;
	}
	if (ims_cmd_end(&c) != IMS_OK)
		return cmd_fail(&c, err, "logout");
	e = ims_session_submit(s, &c, NULL, NULL, &id, err);
	ims_cmd_release(&c);
	if (e != IMS_OK)
		return fail_on(e, err, "logout", NULL, 0);
	ims__background(s, id, IMS__BG_LOGOUT);
	ims__folder_clear(&s->folder);
	ims__set_state(s, IMS_STATE_LOGOUT);
	return IMS_OK;
}

/* ---- quote ---- */

struct quote_ctx {
	struct ims_session *s;
	ims_quote_fn fn;
	void *ctx;
};

static ims_err quote_untagged(void *ctx, const struct ims_response *r, int *taken_r,
                              struct ims_error *err)
{
	struct quote_ctx *q = ctx;
	size_t len;
	const char *raw = ims_parser_raw(q->s->parser, &len);

	*taken_r = 1;
	return q->fn(q->ctx, r, raw, len, err);
}

static ims_err quote_tagged(void *ctx, const struct ims_response *r, struct ims_error *err)
{
	return quote_untagged(ctx, r, &(int){0}, err);
}

ims_err ims_quote_check(const char *line, struct ims_error *err)
{
	size_t n = strlen(line);

	if (n == 0)
		return ims_error_set(err, IMS_ERR_USAGE, "quote: an empty command");
	if (strpbrk(line, "\r\n") != NULL)
		return ims_error_set(err, IMS_ERR_USAGE, "quote: a line break in the command");
	if (line[n - 1] == '}')
		return ims_error_set(err, IMS_ERR_USAGE,
		                     "quote: a literal cannot be sent (the command ends in '}')");
	return IMS_OK;
}

ims_err ims_session_quote(struct ims_session *s, const char *line, ims_quote_fn fn, void *ctx,
                          struct ims_error *err)
{
	struct quote_ctx q = {s, fn, ctx};
	struct ims_handler h = {0};
	struct ims_cmd c;
	char tag[32];
	size_t n = strlen(line), i;
	unsigned id;
	ims_err e;

	if (ims__check(s, err) != IMS_OK)
		return s->broken;
	if (ims_quote_check(line, err) != IMS_OK)
		return err->code;
	/* Every response goes to fn: none may belong to a background command. */
	if (ims__settle(s, IMS__SETTLE_ALL, err) != IMS_OK)
		return err->code;
	/* A tag from the session; the rest as it is. */
	if (ims_session_cmd_begin(s, &c, "X", err) != IMS_OK) {
		ims_cmd_release(&c);
		return err->code;
	}
	i = strcspn(c.out.data, " ");
	snprintf(tag, sizeof(tag), "%.*s", (int)i, c.out.data);
	ims_cmd_release(&c);
	{
		size_t len = strlen(tag) + 1 + n + 2;
		char *wire = malloc(len + 1);
		struct ims__pending *p;

		p = calloc(1, sizeof(*p));
		if (wire == NULL || p == NULL) {
			free(wire);
			free(p);
			return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
		}
		snprintf(wire, len + 1, "%s %s\r\n", tag, line);
		h.untagged = quote_untagged;
		h.tagged = quote_tagged;
		h.ctx = &q;
		/* what ims_session_submit does, for a line built by hand */
		snprintf(p->tag, sizeof(p->tag), "%s", tag);
		p->id = id = s->next_id++;
		p->h = h;
		ims_error_init(&p->err);
		{
			struct ims__pending **tail;

			for (tail = &s->pend; *tail != NULL; tail = &(*tail)->next)
				;
			*tail = p;
		}
		ims__trace_command(s, wire, len - 2); /* without the CRLF */
		e = ims__write(s, wire, strlen(wire), err);
		ims_wipe(wire, len);
		free(wire);
	}
	if (e != IMS_OK)
		return e;
	/* Shown as received: a slip of the typed grammar is no reason to
	 * drop what the server said (framing and limits stay strict). */
	ims_parser_keep_raw(s->parser, 1);
	ims_parser_lenient(s->parser, 1);
	e = ims_session_wait(s, id, err);
	ims_parser_lenient(s->parser, 0);
	ims_parser_keep_raw(s->parser, 0);
	return fail_on(e, err, "quote", NULL, 0);
}
