/* The import's upload: batches of up to IM_BATCH_MSGS messages or
 * IM_BATCH_BYTES, "sent" made durable before a batch goes out and "done"
 * after the server took it; one MULTIAPPEND a batch where offered (one
 * transaction on the server), else each message its own APPEND written
 * back to back (LITERAL+: no round trip per message); Gmail labels given
 * back once the server named the new UIDs. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmd/export.h"
#include "cli/cmd/import.h"
#include "cli/output.h"
#include "imapsh/folderpath.h"
#include "imapsh/json.h"
#include "imapsh/seqset.h"
#include "imapsh/transport.h"
#include "imapsh/writer.h"

/* ---- small helpers -------------------------------------------------------- */

static void flag_list(const char *letters, char *out, size_t n)
{
	static const char *const names[] = {"\\Draft",    "\\Flagged", "$Forwarded",
	                                    "\\Answered", "\\Seen",    "\\Deleted"};
	static const char order[] = "DFPRST";
	size_t i, k = 0;

	out[k++] = '(';
	for (i = 0; order[i] != '\0'; i++)
		if (strchr(letters, order[i]) != NULL)
			k += (size_t)snprintf(out + k, n - k, "%s%s", k > 1 ? " " : "", names[i]);
	snprintf(out + k, n - k, ")");
}

static void imap_date(int64_t when, char *out, size_t n)
{
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t t = (time_t)when;
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, n, "%02d-%s-%04d %02d:%02d:%02d +0000", tm.tm_mday, mon[tm.tm_mon],
	         tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static const char *msg_name(const struct imp *p, const struct im_msg *m, char *buf, size_t n)
{
	if (m->name != NULL)
		snprintf(buf, n, "%s/%s/%s", p->src.path, m->in_new ? "new" : "cur", m->name);
	else
		snprintf(buf, n, "%s (the message at byte %" PRIu64 ")", p->src.path, m->off);
	return buf;
}

/* Sleep so that no more than max_rate bytes a second go out. */
static void pace(struct imp *p, uint64_t size)
{
	int64_t due, now;

	if (p->max_rate == 0)
		return;
	p->paced_bytes += size;
	due = p->t0 + (int64_t)(p->paced_bytes * 1000 / p->max_rate);
	now = ims_now_ms();
	if (due > now) {
		struct timespec ts = {(time_t)((due - now) / 1000),
		                      (long)((due - now) % 1000) * 1000000};

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !cli_interrupted)
			;
	}
}

/* ---- the upload ------------------------------------------------------------------------- */

static ims_err appended(void *ctx, const struct ims_response *r, struct ims_error *err)
{
	struct slot *s = ctx;
	const char *q;
	uint64_t v = 0;

	(void)err;
	if (r->cond != IMS_COND_OK)
		return IMS_OK;
	s->ok = 1;
	if (r->code.kind != IMS_CODE_APPENDUID || r->code.set1 == NULL)
		return IMS_OK;
	for (q = r->code.set1; *q >= '0' && *q <= '9' && v <= UINT32_MAX; q++)
		v = v * 10 + (uint64_t)(*q - '0');
	if (*q == '\0' && v <= UINT32_MAX)
		s->uid = (uint32_t)v;
	return IMS_OK;
}

struct membuf {
	const char *p;
	size_t left;
};

static ims_err mem_read(void *ctx, void *dst, size_t len, size_t *got_r)
{
	struct membuf *m = ctx;
	size_t k = len < m->left ? len : m->left;

	memcpy(dst, m->p, k);
	m->p += k;
	m->left -= k;
	*got_r = k;
	return IMS_OK;
}

static ims_err submit_one(struct imp *p, const struct im_msg *m, const struct ims_buf *data,
                          const struct ims_handler *h, unsigned *id_r)
{
	struct cli *c = p->c;
	struct ims_cmd cmd;
	struct membuf mb = {data->data != NULL ? data->data : "", data->len};
	struct ims_source src = {mem_read, &mb};
	char flags[80], date[40];
	ims_err e;

	flag_list(m->flags, flags, sizeof(flags));
	imap_date(m->date > 0 ? m->date : (int64_t)time(NULL), date, sizeof(date));
	e = ims_session_cmd_begin(c->sess, &cmd, "APPEND", &c->err);
	if (e == IMS_OK &&
	    (ims_cmd_astring(&cmd, p->wire.data, p->wire.len) != IMS_OK ||
	     ims_cmd_raw(&cmd, flags) != IMS_OK ||
	     ims_cmd_string(&cmd, date, strlen(date)) != IMS_OK ||
	     ims_cmd_literal_stream(&cmd, data->len, 0) != IMS_OK || ims_cmd_end(&cmd) != IMS_OK))
		e = ims_error_copy(&c->err, &cmd.err);
	if (e == IMS_OK)
		e = ims_session_submit(c->sess, &cmd, h, &src, id_r, &c->err);
	ims_cmd_release(&cmd);
	return e;
}

/* ---- Gmail labels ---------------------------------------------------------- */

/* 1 for a system label (\\Inbox, \\Starred): written as the flag it is. */
static int system_label(const char *lab)
{
	size_t k = 1;

	if (lab[0] != '\\')
		return 0;
	while (lab[k] != '\0' && strchr("(){ %*\"\\]", lab[k]) == NULL &&
	       (unsigned char)lab[k] > 0x20 && (unsigned char)lab[k] < 0x7f)
		k++;
	return k > 1 && lab[k] == '\0';
}

/* UID STORE uid +X-GM-LABELS (labels), labels as the sidecar has them. */
static ims_err store_labels(struct imp *p, uint32_t uid, const char *labels)
{
	struct cli *c = p->c;
	struct ims_cmd cmd;
	char set[16], *copy = strdup(labels), *lab, *save = NULL;
	unsigned id;
	ims_err e;

	if (copy == NULL)
		return ims_error_nomem(&c->err);
	snprintf(set, sizeof(set), "%" PRIu32, uid);
	e = ims_session_cmd_begin(c->sess, &cmd, "UID STORE", &c->err);
	if (e == IMS_OK &&
	    (ims_cmd_raw(&cmd, set) != IMS_OK || ims_cmd_raw(&cmd, "+X-GM-LABELS") != IMS_OK ||
	     ims_cmd_list_begin(&cmd) != IMS_OK))
		e = ims_error_copy(&c->err, &cmd.err);
	for (lab = strtok_r(copy, "\t", &save); e == IMS_OK && lab != NULL;
	     lab = strtok_r(NULL, "\t", &save)) {
		xp_unescape(lab);
		if ((system_label(lab) ? ims_cmd_raw(&cmd, lab)
		                       : ims_cmd_astring(&cmd, lab, strlen(lab))) != IMS_OK)
			e = ims_error_copy(&c->err, &cmd.err);
	}
	if (e == IMS_OK && (ims_cmd_list_end(&cmd) != IMS_OK || ims_cmd_end(&cmd) != IMS_OK))
		e = ims_error_copy(&c->err, &cmd.err);
	if (e == IMS_OK)
		e = ims_session_submit(c->sess, &cmd, NULL, NULL, &id, &c->err);
	ims_cmd_release(&cmd);
	if (e == IMS_OK)
		e = ims_session_wait(c->sess, id, &c->err);
	free(copy);
	return e;
}

/* The labels of the messages just taken (uids from APPENDUID), where the
 * server is Gmail (X-GM-EXT-1).  A label the server refuses is named; the
 * messages stay uploaded. */
static ims_err apply_labels(struct imp *p, const struct im_msg *const *b, const uint32_t *uids,
                            size_t n)
{
	struct cli *c = p->c;
	size_t i;
	ims_err e = IMS_OK;

	if (!ims_session_has_cap(c->sess, "X-GM-EXT-1"))
		return IMS_OK;
	for (i = 0; i < n && e == IMS_OK; i++) {
		char name[1200];

		if (b[i]->labels == NULL || b[i]->labels[0] == '\0')
			continue;
		if (uids == NULL || uids[i] == 0) {
			cli_warn("import: %s: its labels cannot be given back (the server named no "
			         "UID: no UIDPLUS)",
			         msg_name(p, b[i], name, sizeof(name)));
			continue;
		}
		if (!p->selected_rw) {
			e = cli_select(c, p->folder, 1);
			p->selected_rw = e == IMS_OK;
		}
		if (e == IMS_OK)
			e = store_labels(p, uids[i], b[i]->labels);
		if (e == IMS_ERR_NO) {
			cli_warn("import: %s: its labels: %s",
			         msg_name(p, b[i], name, sizeof(name)), c->err.msg);
			e = IMS_OK;
		} else if (e == IMS_OK) {
			p->r->labeled++;
		}
	}
	return e;
}

/* Replies not read: the connection cannot go on (the next command
 * connects again). */
static void drop_session(struct cli *c)
{
	if (c->sess == NULL)
		return;
	ims_session_free(&c->sess);
	c->connected = 0;
	c->folder[0] = '\0';
}

/* A message's bytes, as they were when the source was read. */
static ims_err read_checked(struct imp *p, const struct im_msg *m, struct ims_buf *data)
{
	ims_err e = im_source_read(&p->src, m, data, &p->c->err);

	if (e == IMS_OK && data->len != m->size)
		e = ims_error_set(&p->c->err, IMS_ERR_IO, "import: %s changed while imapsh read it",
		                  p->src.path);
	return e;
}

/* Read the replies of n submitted APPENDs; "done" for those the server
 * took, "clear" for those it refused (named). */
static ims_err batch_replies(struct imp *p, const struct im_msg *const *b, struct slot *slots,
                             const unsigned *ids, size_t n)
{
	struct cli *c = p->c;
	const struct im_msg *ok[IM_BATCH_MSGS], *no[IM_BATCH_MSGS];
	uint32_t uids[IM_BATCH_MSGS];
	size_t i, n_ok = 0, n_no = 0;
	ims_err e = IMS_OK, le;

	for (i = 0; i < n; i++) {
		e = ims_session_wait(c->sess, ids[i], &c->err);
		if (e == IMS_ERR_NO) {
			char name[1200];

			cli_warn("import: %s: the server refused it: %s",
			         msg_name(p, b[i], name, sizeof(name)), c->err.msg);
			no[n_no++] = b[i];
			p->r->refused++;
			e = IMS_OK;
			continue;
		}
		if (e != IMS_OK)
			break;
		uids[n_ok] = slots[i].uid;
		ok[n_ok++] = b[i];
		p->r->sent++;
		p->r->bytes += b[i]->size;
	}
	/* What is known is recorded even when the connection broke. */
	le = im_state_log(&p->st, "done", ok, uids, n_ok, &c->err);
	if (le == IMS_OK)
		le = im_state_log(&p->st, "clear", no, NULL, n_no, &c->err);
	if (e == IMS_OK && le == IMS_OK)
		le = apply_labels(p, ok, uids, n_ok);
	return e != IMS_OK ? e : le;
}

/* Each message of the batch its own APPEND, written back to back. */
static ims_err send_each(struct imp *p, const struct im_msg *const *b, size_t n)
{
	struct cli *c = p->c;
	struct slot slots[IM_BATCH_MSGS];
	struct ims_handler hs[IM_BATCH_MSGS];
	unsigned ids[IM_BATCH_MSGS];
	struct ims_buf data;
	size_t i, n_sub = 0;
	ims_err e = IMS_OK;

	ims_buf_init(&data, 0);
	for (i = 0; i < n && e == IMS_OK; i++) {
		memset(&slots[i], 0, sizeof(slots[i]));
		memset(&hs[i], 0, sizeof(hs[i]));
		hs[i].tagged = appended;
		hs[i].ctx = &slots[i];
		e = read_checked(p, b[i], &data);
		if (e == IMS_OK) {
			pace(p, data.len);
			e = submit_one(p, b[i], &data, &hs[i], &ids[i]);
		}
		if (e == IMS_OK)
			n_sub++;
		if (e == IMS_OK && cli_interrupted)
			e = ims_error_set(&c->err, IMS_ERR_CANCELLED, "interrupted");
	}
	ims_buf_release(&data);
	if (e == IMS_OK)
		e = batch_replies(p, b, slots, ids, n_sub);
	if (e != IMS_OK && n_sub > 0)
		drop_session(c);
	return e;
}

/* ---- MULTIAPPEND (RFC 3502) ---- */

struct multi {
	struct ims_buf *bufs;
	size_t n, at, off;
	uint32_t uids[IM_BATCH_MSGS];
	size_t n_uids;
};

static ims_err multi_read(void *ctx, void *dst, size_t len, size_t *got_r)
{
	struct multi *m = ctx;
	size_t k = 0;

	while (k == 0 && m->at < m->n) {
		const struct ims_buf *b = &m->bufs[m->at];

		k = b->len - m->off < len ? b->len - m->off : len;
		memcpy(dst, b->data + m->off, k);
		m->off += k;
		if (m->off == b->len) {
			m->at++;
			m->off = 0;
		}
	}
	*got_r = k;
	return IMS_OK;
}

static ims_err multi_tagged(void *ctx, const struct ims_response *r, struct ims_error *err)
{
	struct multi *m = ctx;
	struct ims_seqset set;
	struct ims_seqset_iter it;
	struct ims_error pe;
	uint32_t uid;

	(void)err;
	if (r->cond != IMS_COND_OK || r->code.kind != IMS_CODE_APPENDUID || r->code.set1 == NULL)
		return IMS_OK;
	ims_seqset_init(&set);
	if (ims_seqset_parse(&set, r->code.set1, strlen(r->code.set1), &pe) == IMS_OK) {
		/* the UIDs in the order of the messages (RFC 4315) */
		ims_seqset_iter_init(&it, &set, 0);
		while (m->n_uids < IM_BATCH_MSGS && ims_seqset_next(&it, &uid))
			m->uids[m->n_uids++] = uid;
	}
	ims_seqset_release(&set);
	return IMS_OK;
}

static ims_err multi_command(struct imp *p, const struct im_msg *const *b, struct multi *m,
                             struct ims_cmd *cmd)
{
	struct cli *c = p->c;
	size_t i;
	ims_err e = ims_session_cmd_begin(c->sess, cmd, "APPEND", &c->err);

	if (e == IMS_OK && ims_cmd_astring(cmd, p->wire.data, p->wire.len) != IMS_OK)
		return ims_error_copy(&c->err, &cmd->err);
	for (i = 0; i < m->n && e == IMS_OK; i++) {
		char flags[80], date[40];

		flag_list(b[i]->flags, flags, sizeof(flags));
		imap_date(b[i]->date > 0 ? b[i]->date : (int64_t)time(NULL), date, sizeof(date));
		if (ims_cmd_raw(cmd, flags) != IMS_OK ||
		    ims_cmd_string(cmd, date, strlen(date)) != IMS_OK ||
		    ims_cmd_literal_stream(cmd, m->bufs[i].len, 0) != IMS_OK)
			e = ims_error_copy(&c->err, &cmd->err);
	}
	if (e == IMS_OK && ims_cmd_end(cmd) != IMS_OK)
		e = ims_error_copy(&c->err, &cmd->err);
	return e;
}

/* A MULTIAPPEND batch in flight: its messages and what its reply says.
 * Two are in flight at a time, so the round trip and the server's storing
 * of one overlap the sending of the next. */
struct flight {
	const struct im_msg *b[IM_BATCH_MSGS];
	size_t n;
	struct multi m;
	struct ims_handler h;
	unsigned id;
	int busy;
};

/* The whole batch in one APPEND: one transaction on the server (Dovecot
 * syncs once for it, not once a message), all taken or none.  Sent here;
 * multi_finish() reads the reply. */
static ims_err multi_submit(struct imp *p, struct flight *f)
{
	struct cli *c = p->c;
	struct ims_buf bufs[IM_BATCH_MSGS];
	struct ims_source src = {multi_read, &f->m};
	struct ims_cmd cmd;
	size_t i, loaded = 0;
	ims_err e = IMS_OK;

	memset(&f->m, 0, sizeof(f->m));
	memset(&f->h, 0, sizeof(f->h));
	f->m.bufs = bufs;
	f->m.n = f->n;
	for (i = 0; i < f->n && e == IMS_OK; i++, loaded++) {
		ims_buf_init(&bufs[i], 0);
		e = read_checked(p, f->b[i], &bufs[i]);
		if (e == IMS_OK)
			pace(p, bufs[i].len);
	}
	if (e == IMS_OK && cli_interrupted)
		e = ims_error_set(&c->err, IMS_ERR_CANCELLED, "interrupted");
	if (e == IMS_OK) {
		e = multi_command(p, f->b, &f->m, &cmd);
		f->h.tagged = multi_tagged;
		f->h.ctx = &f->m;
		if (e == IMS_OK)
			e = ims_session_submit(c->sess, &cmd, &f->h, &src, &f->id, &c->err);
		ims_cmd_release(&cmd);
		if (e == IMS_OK)
			f->busy = 1;
		else
			drop_session(c);
	}
	for (i = 0; i < loaded; i++)
		ims_buf_release(&bufs[i]);
	f->m.bufs = NULL;
	return e;
}

/* The reply to a batch multi_submit() sent: "done" and its labels.
 * IMS_ERR_NO when the server refused it (the caller sends each alone to
 * learn which one it will not take). */
static ims_err multi_finish(struct imp *p, struct flight *f)
{
	struct cli *c = p->c;
	size_t i;
	ims_err e;

	f->busy = 0;
	e = ims_session_wait(c->sess, f->id, &c->err);
	if (e != IMS_OK && e != IMS_ERR_NO)
		drop_session(c);
	if (e != IMS_OK)
		return e;
	for (i = 0; i < f->n; i++) {
		p->r->sent++;
		p->r->bytes += f->b[i]->size;
	}
	e = im_state_log(&p->st, "done", f->b,
	                 f->m.n_uids == f->n ? f->m.uids : (uint32_t[IM_BATCH_MSGS]){0}, f->n,
	                 &c->err);
	if (e == IMS_OK)
		e = apply_labels(p, f->b, f->m.n_uids == f->n ? f->m.uids : NULL, f->n);
	return e;
}

/* The batch in flight, if any, answered: refused as a whole, each alone
 * names the one the server will not take. */
static ims_err land(struct imp *p, struct flight *f)
{
	ims_err e;

	if (!f->busy)
		return IMS_OK;
	e = multi_finish(p, f);
	if (e == IMS_ERR_NO)
		e = send_each(p, f->b, f->n);
	return e;
}

/* Send a batch: with MULTIAPPEND in flight beside the one before (then
 * that one's reply is read); else each message its own APPEND, after the
 * one before has landed. */
static ims_err send_batch(struct imp *p, const struct im_msg *const *b, size_t n, struct flight *f,
                          struct flight *before)
{
	struct cli *c = p->c;
	ims_err e;

	if (n <= 1 || !ims_session_has_cap(c->sess, "MULTIAPPEND")) {
		e = land(p, before);
		if (e == IMS_OK)
			e = im_state_log(&p->st, "sent", b, NULL, n, &c->err);
		return e == IMS_OK ? send_each(p, b, n) : e;
	}
	e = im_state_log(&p->st, "sent", b, NULL, n, &c->err);
	if (e != IMS_OK)
		return e;
	memcpy(f->b, b, n * sizeof(*b));
	f->n = n;
	e = multi_submit(p, f);
	if (e != IMS_OK)
		return e;
	return land(p, before);
}

/* --compress auto on the first batches, sent alone: their bytes over the
 * time from sending to the reply, less the round trip a small command took
 * (p->rtt_ms), against imapsh's own deflate. */
static ims_err zprobe(struct imp *p, struct flight *f, int64_t t0, uint64_t bytes)
{
	int64_t ms;
	ims_err e = land(p, f);

	if (e != IMS_OK)
		return e;
	ms = ims_now_ms() - t0 - p->rtt_ms;
	p->z_ms += ms > 1 ? ms : 1;
	p->z_bytes += bytes;
	return cli_zauto_decide(p->c, p->z_bytes, p->z_ms,
	                        p->z_total > p->z_done ? p->z_total - p->z_done : 0, 0,
	                        &p->zmeasure);
}

/* The messages to send, in batches. */
ims_err im_upload(struct imp *p)
{
	struct cli *c = p->c;
	const struct im_msg *b[IM_BATCH_MSGS];
	struct flight *fl = calloc(2, sizeof(*fl));
	size_t i, n = 0, k = 0;
	uint64_t bytes = 0;
	ims_err e = IMS_OK;

	if (fl == NULL)
		return ims_error_nomem(&c->err);
	p->zmeasure = !p->dry_run && cli_zauto_pending(c);
	p->z_total = 0;
	for (i = 0; i < p->src.n; i++)
		p->z_total += p->src.v[i].size;
	p->z_done = 0;
	for (i = 0; i <= p->src.n && e == IMS_OK; i++) {
		const struct im_msg *m = i < p->src.n ? &p->src.v[i] : NULL;
		uint64_t cap = p->zmeasure ? ZPROBE_BYTES : IM_BATCH_BYTES;
		char name[1200];

		if (m != NULL) {
			struct im_count *cnt = im_state_find(&p->st, m->hash);

			p->z_done += m->size;
			if (cnt != NULL && cnt->done > 0) {
				cnt->done--; /* one copy taken already */
				p->r->skipped++;
				continue;
			}
			if (p->appendlimit > 0 && m->size > p->appendlimit) {
				cli_warn("import: %s: %" PRIu64
				         " bytes, larger than the server's APPENDLIMIT "
				         "(%" PRIu64 "): skipped",
				         msg_name(p, m, name, sizeof(name)), m->size,
				         p->appendlimit);
				p->r->too_large++;
				continue;
			}
			if (p->dry_run) {
				p->r->sent++;
				p->r->bytes += m->size;
				continue;
			}
		}
		if (n > 0 && (m == NULL || n == IM_BATCH_MSGS || bytes + m->size > cap)) {
			int64_t t0 = ims_now_ms();

			e = send_batch(p, b, n, &fl[k], &fl[k ^ 1]);
			if (e == IMS_OK && p->zmeasure)
				e = zprobe(p, &fl[k], t0, bytes);
			k ^= 1;
			n = 0;
			bytes = 0;
		}
		if (m != NULL) {
			b[n++] = m;
			bytes += m->size;
		}
	}
	if (e == IMS_OK)
		e = land(p, &fl[k ^ 1]);
	free(fl);
	return e;
}
