/* An export brought up to date with the server beyond new messages
 * (Maildir): flag changes rename the message's file in cur/, messages
 * expunged on the server are kept (reported) or, with --mirror, removed.
 *
 * Flags: where the server keeps mod-sequences (CONDSTORE, RFC 7162: a
 * HIGHESTMODSEQ in the EXAMINE answer) and the state file holds the
 * HIGHESTMODSEQ of the last complete run, an unchanged value means no
 * flag changed (nothing is asked), and otherwise only the messages
 * changed since are asked for (UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE
 * H)).  Without it, every message's flags are asked for and compared with
 * the names in cur/.  The new HIGHESTMODSEQ is recorded only once every
 * change is applied, so a run that stops asks again.
 *
 * Expunges: the UIDs in the state file that UID SEARCH ALL (the plan's,
 * ESEARCH ranges where offered: a few bytes for any folder size) no
 * longer names. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/cmd/export.h"

struct named {
	uint32_t uid;
	char *name;
};

struct sync {
	struct export *x;
	struct named *v; /* cur/ by UID, sorted */
	size_t n, cap;
	int listed;
};

static int named_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct named *)a)->uid, y = ((const struct named *)b)->uid;

	return x < y ? -1 : x > y;
}

/* UID of a name this export made: "...U<uid>.imapsh:2,FLAGS". */
static uint32_t name_uid(const char *name)
{
	const char *u = strstr(name, ".imapsh:2,");
	uint32_t v = 0, mul = 1;

	if (u == NULL)
		return 0;
	while (u > name && u[-1] >= '0' && u[-1] <= '9' && mul < 1000000000u) {
		v += (uint32_t)(u[-1] - '0') * mul;
		mul *= 10;
		u--;
	}
	return u > name && u[-1] == 'U' ? v : 0;
}

/* cur/ read once, the first time a file must be found. */
static ims_err list_cur(struct sync *s)
{
	struct export *x = s->x;
	int fd = dup(x->curfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	s->listed = 1;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return xp_io_fail(x, "cannot read", "cur");
	}
	while ((de = readdir(d)) != NULL) {
		uint32_t uid = name_uid(de->d_name);

		if (uid == 0)
			continue;
		if (s->n == s->cap) {
			size_t nc = s->cap ? s->cap * 2 : 1024;
			struct named *nv = realloc(s->v, nc * sizeof(*nv));

			if (nv == NULL)
				break;
			s->v = nv;
			s->cap = nc;
		}
		s->v[s->n].uid = uid;
		s->v[s->n].name = strdup(de->d_name);
		if (s->v[s->n].name == NULL)
			break;
		s->n++;
	}
	closedir(d);
	if (de != NULL)
		return ims_error_nomem(&x->ioerr);
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(s->v[0]), named_cmp);
	return IMS_OK;
}

static struct named *find(struct sync *s, uint32_t uid)
{
	struct named key = {uid, NULL};

	if (!s->listed && list_cur(s) != IMS_OK)
		return NULL;
	if (s->n == 0)
		return NULL;
	return bsearch(&key, s->v, s->n, sizeof(key), named_cmp);
}

/* ---- flags ------------------------------------------------------------------ */

static ims_err flags_message(void *ctx, const struct ims_fetch *f, struct ims_error *err)
{
	struct sync *s = ctx;
	struct export *x = s->x;
	struct named *n;
	char letters[8], name[128];
	const char *sep;

	if (!(f->have & IMS_FETCH_UID) || !(f->have & IMS_FETCH_FLAGS) ||
	    !ims_seqset_contains(&x->done, 0, f->uid))
		return IMS_OK;
	n = find(s, f->uid);
	if (n == NULL) {
		if (x->ioerr.code != IMS_OK)
			return ims_error_copy(err, &x->ioerr);
		return IMS_OK; /* the file was removed by hand: not ours to make again */
	}
	sep = strstr(n->name, ":2,");
	xp_maildir_flags(&f->flags, letters);
	if (sep == NULL || strcmp(sep + 3, letters) == 0)
		return IMS_OK;
	snprintf(name, sizeof(name), "%.*s:2,%s", (int)(sep - n->name), n->name, letters);
	if (renameat(x->curfd, n->name, x->curfd, name) != 0) {
		xp_io_fail(x, "cannot rename in", "cur");
		return ims_error_copy(err, &x->ioerr);
	}
	free(n->name);
	n->name = strdup(name);
	x->flags_changed++;
	return n->name != NULL ? IMS_OK : ims_error_nomem(err);
}

static ims_err sync_flags(struct sync *s, uint64_t modseq)
{
	struct export *x = s->x;
	struct cli *c = x->c;
	struct ims_fetch_handler h = {0};
	char items[96], set[32];

	if (ims_seqset_empty(&x->done) || x->n_present == 0)
		return IMS_OK;
	if (modseq == 0 || x->modseq == 0) {
		snprintf(items, sizeof(items), "(UID FLAGS)");
	} else if (modseq == x->modseq) {
		return IMS_OK; /* nothing changed since the last run */
	} else {
		snprintf(items, sizeof(items), "(UID FLAGS) (CHANGEDSINCE %" PRIu64 ")", x->modseq);
	}
	snprintf(set, sizeof(set), "%" PRIu32 ":%" PRIu32, x->present[0],
	         x->present[x->n_present - 1]);
	h.message = flags_message;
	h.ctx = s;
	return ims_session_uid_fetch(c->sess, set, items, &h, &c->err);
}

/* ---- expunges ------------------------------------------------------------------ */

static int present(const struct export *x, uint32_t uid)
{
	size_t lo = 0, hi = x->n_present;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (x->present[mid] == uid)
			return 1;
		if (x->present[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* The UIDs exported that the server no longer has: counted; with
 * --mirror their files are removed and the state forgets them. */
static ims_err sync_expunged(struct sync *s)
{
	struct export *x = s->x;
	struct ims_seqset keep;
	struct ims_seqset_iter it;
	uint32_t uid;
	ims_err e = IMS_OK;

	ims_seqset_init(&keep);
	ims_seqset_iter_init(&it, &x->done, 0);
	while (e == IMS_OK && ims_seqset_next(&it, &uid)) {
		struct named *n;

		if (present(x, uid)) {
			e = ims_seqset_add(&keep, uid, uid, &x->ioerr);
			continue;
		}
		x->vanished++;
		if (!x->mirror) {
			e = ims_seqset_add(&keep, uid, uid, &x->ioerr);
			continue;
		}
		n = find(s, uid);
		if (n == NULL && x->ioerr.code != IMS_OK)
			e = x->ioerr.code;
		else if (n != NULL && unlinkat(x->curfd, n->name, 0) != 0 && errno != ENOENT)
			e = xp_io_fail(x, "cannot remove a file in", "cur");
		else
			x->removed++;
	}
	if (e == IMS_OK && x->removed > 0) {
		if (fsync(x->curfd) != 0)
			e = xp_io_fail(x, "cannot sync", "cur");
		ims_seqset_release(&x->done);
		x->done = keep; /* forgotten only once the files are gone */
		return e;
	}
	ims_seqset_release(&keep);
	return e;
}

ims_err xp_sync(struct export *x, uint64_t modseq_now)
{
	struct sync s;
	size_t i;
	uint64_t modseq = x->modseq;
	ims_err e;

	memset(&s, 0, sizeof(s));
	s.x = x;
	e = sync_expunged(&s);
	if (e == IMS_OK)
		e = sync_flags(&s, modseq_now);
	for (i = 0; i < s.n; i++)
		free(s.v[i].name);
	free(s.v);
	if (e == IMS_ERR_IO && x->ioerr.code != IMS_OK)
		ims_error_copy(&x->c->err, &x->ioerr);
	if (e != IMS_OK)
		return e;
	/* Every change applied: the next run asks from here. */
	x->modseq = modseq_now;
	if (x->modseq != modseq || x->removed > 0) {
		if (xp_state_write(x) != IMS_OK)
			return ims_error_copy(&x->c->err, &x->ioerr);
	}
	return IMS_OK;
}
