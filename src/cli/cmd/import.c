/* import SOURCE FOLDER and import --all DIR: messages of a Maildir or an
 * mbox uploaded by APPEND with their flags and INTERNALDATE.
 *
 *  1. The source is read whole once: each message's size, date, flags,
 *     SHA-256 and Message-ID (import_source.c).
 *  2. The journal (import_state.c) says which hashes the target folder
 *     already took; those are skipped, once per copy.  A batch whose
 *     outcome was unknown (sent, then the connection broke or imapsh was
 *     killed) is looked for on the server first (UID SEARCH by Message-ID,
 *     or by exact size without one; the candidates' bodies compared by
 *     hash): found is done, missing is sent again.  So a rerun after a
 *     crash at any point uploads what is missing and makes no duplicate.
 *  3. The rest goes in batches of up to IM_BATCH_MSGS messages or
 *     IM_BATCH_BYTES: "sent" lines made durable, then every APPEND of the
 *     batch written back to back (LITERAL+ makes each literal
 *     non-synchronising: no round trip per message; without it each
 *     literal waits for its "+"), then the replies read, then the "done"
 *     lines (with APPENDUID's UID under UIDPLUS) made durable.
 *  4. APPENDLIMIT (RFC 7889): a larger message is named and skipped.
 *     --max-rate BYTES: the upload is paced to BYTES a second.
 *     --dry-run: everything but CREATE and APPEND.
 *
 * import --all DIR reads an export --all tree: each DIR/NAME/ Maildir
 * and DIR/NAME.mbox into the folder NAME names (folderpath.h), joined
 * with this server's hierarchy delimiter, created where missing. */
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

/* Batches: long enough that the round trip between them is small against
 * the data (10,000 messages of 13 kB: 100 batches), short enough that a
 * crash leaves few messages of unknown outcome to look for. */
#define IM_BATCH_MSGS     100
#define IM_BATCH_BYTES    (8u * 1024 * 1024)
#define UNKNOWN_SETTLE_MS 2000

struct slot {
	int ok;
	uint32_t uid;
};

struct folder_result {
	char *folder, *source;
	const char *status;
	uint64_t sent, skipped, bytes, too_large, refused, found, labeled;
};

struct imp {
	struct cli *c;
	int dry_run;
	uint64_t max_rate, appendlimit;
	int64_t t0;
	uint64_t paced_bytes;
	char delim;
	/* the folder being imported */
	const char *folder;
	struct ims_buf wire;
	struct im_source src;
	struct im_state st;
	struct folder_result *r;
	int selected_rw; /* the folder is selected read-write (for labels) */
	/* every folder */
	struct folder_result *v;
	size_t n, cap;
	size_t failed;
};

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

static void appendlimit_read(struct imp *p)
{
	const char *const *caps;
	size_t i, n = ims_session_caps(p->c->sess, &caps);

	p->appendlimit = 0;
	for (i = 0; i < n; i++)
		if (strncasecmp(caps[i], "APPENDLIMIT=", 12) == 0)
			p->appendlimit = strtoull(caps[i] + 12, NULL, 10);
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

/* ---- the target folder ------------------------------------------------------- */

/* STATUS (UIDVALIDITY) of the folder, CREATE first where it is missing. */
static ims_err target_folder(struct imp *p, uint32_t *uidv_r)
{
	struct cli *c = p->c;
	struct ims_status_values sv;
	ims_err e;

	*uidv_r = 0;
	memset(&sv, 0, sizeof(sv));
	e = ims_session_status(c->sess, p->wire.data, p->wire.len, IMS_STATUS_UIDVALIDITY, &sv,
	                       &c->err);
	if (e == IMS_ERR_NO && !p->dry_run) {
		e = ims_session_create(c->sess, p->wire.data, p->wire.len, &c->err);
		if (e == IMS_OK)
			e = ims_session_status(c->sess, p->wire.data, p->wire.len,
			                       IMS_STATUS_UIDVALIDITY, &sv, &c->err);
	} else if (e == IMS_ERR_NO) {
		return IMS_OK; /* a dry run: it would be created */
	}
	if (e == IMS_OK)
		*uidv_r = sv.uidvalidity;
	return e;
}

/* ---- a batch whose outcome is unknown ---------------------------------------------- */

struct look {
	const unsigned char *hash;
	int found;
};

static ims_err look_message(void *ctx, const struct ims_fetch *f, struct ims_error *err)
{
	struct look *l = ctx;
	size_t i;

	for (i = 0; i < f->n_sections; i++) {
		const struct ims_value *v = f->sections[i].value;
		unsigned char h[IMS_SHA256_LEN];
		struct ims_buf b;

		if (f->sections[i].section[0] != '\0' || !ims_value_is_string(v))
			continue;
		ims_buf_init(&b, 0);
		if (im_crlf(v->s, v->len, &b) != IMS_OK) {
			ims_buf_release(&b);
			return ims_error_nomem(err);
		}
		if (ims_sha256(b.data != NULL ? b.data : "", b.len, h) == IMS_OK &&
		    memcmp(h, l->hash, IMS_SHA256_LEN) == 0)
			l->found = 1;
		ims_buf_release(&b);
	}
	return IMS_OK;
}

/* Is m in the selected folder?  Candidates by Message-ID (or exact size),
 * then their bodies compared by hash. */
static ims_err on_server(struct imp *p, const struct im_msg *m, int *found_r)
{
	struct cli *c = p->c;
	struct ims_search_result sr;
	struct ims_fetch_handler h = {0};
	struct look l = {m->hash, 0};
	char lo[24], hi[24];
	struct ims_arg by_id[3] = {{IMS_ARG_RAW, "HEADER", 6},
	                           {IMS_ARG_STRING, "Message-ID", 10},
	                           {IMS_ARG_STRING, m->msgid, m->msgid ? strlen(m->msgid) : 0}};
	struct ims_arg by_size[4] = {{IMS_ARG_RAW, "LARGER", 6},
	                             {IMS_ARG_RAW, lo, 0},
	                             {IMS_ARG_RAW, "SMALLER", 7},
	                             {IMS_ARG_RAW, hi, 0}};
	size_t i;
	ims_err e;

	snprintf(lo, sizeof(lo), "%" PRIu64, m->size > 0 ? m->size - 1 : 0);
	snprintf(hi, sizeof(hi), "%" PRIu64, m->size + 1);
	ims_search_result_init(&sr);
	e = m->msgid != NULL ? ims_session_uid_search(c->sess, by_id, 3, &sr, &c->err)
	                     : ims_session_uid_search(c->sess, by_size, 4, &sr, &c->err);
	h.message = look_message;
	h.ctx = &l;
	for (i = 0; e == IMS_OK && i < sr.n && !l.found; i++) {
		char set[16];

		snprintf(set, sizeof(set), "%" PRIu32, sr.uids[i]);
		e = ims_session_uid_fetch(c->sess, set, "(UID BODY.PEEK[])", &h, &c->err);
	}
	ims_search_result_release(&sr);
	*found_r = l.found;
	return e;
}

/* Record what the look for m found. */
static ims_err settled(struct imp *p, const struct im_msg *m, int found)
{
	struct im_count *k = im_state_find(&p->st, m->hash);
	uint32_t zero = 0;

	if (found) {
		k->done++;
		p->r->found++;
	} else {
		k->cleared++;
	}
	if (p->dry_run)
		return IMS_OK;
	return im_state_log(&p->st, found ? "done" : "clear", &m, found ? &zero : NULL, 1,
	                    &p->c->err);
}

/* Every message whose hash has a "sent" without a "done" or "clear" is
 * looked for on the server.  Those not found are looked for once more
 * after UNKNOWN_SETTLE_MS: the server may still be finishing the dead
 * connection's last APPENDs (Dovecot saves a pipelined run of APPENDs in
 * one transaction, committed as the connection ends). */
static ims_err settle_unknown(struct imp *p)
{
	struct cli *c = p->c;
	const struct im_msg **missing = NULL;
	size_t i, n_missing = 0;
	ims_err e = IMS_OK;

	for (i = 0; i < p->src.n && e == IMS_OK; i++) {
		const struct im_msg *m = &p->src.v[i];
		struct im_count *k = im_state_find(&p->st, m->hash);
		int found = 0;

		if (k == NULL || k->sent <= k->done + k->cleared)
			continue;
		if (missing == NULL) {
			missing = calloc(p->src.n, sizeof(*missing));
			if (missing == NULL)
				return ims_error_nomem(&c->err);
			if ((e = cli_select(c, p->folder, 0)) != IMS_OK)
				break;
		}
		e = on_server(p, m, &found);
		if (e == IMS_OK && found)
			e = settled(p, m, 1);
		else if (e == IMS_OK)
			missing[n_missing++] = m;
	}
	if (e == IMS_OK && n_missing > 0) {
		struct timespec ts = {UNKNOWN_SETTLE_MS / 1000,
		                      (UNKNOWN_SETTLE_MS % 1000) * 1000000};

		nanosleep(&ts, NULL);
		e = ims_session_noop(c->sess, &c->err);
	}
	for (i = 0; i < n_missing && e == IMS_OK; i++) {
		int found = 0;

		e = on_server(p, missing[i], &found);
		if (e == IMS_OK)
			e = settled(p, missing[i], found);
	}
	free(missing);
	return e;
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

/* The whole batch in one APPEND: one transaction on the server (Dovecot
 * syncs once for it, not once a message), all taken or none.  IMS_ERR_NO
 * when the server refused it (the caller sends each alone to learn which
 * one it will not take). */
static ims_err send_multi(struct imp *p, const struct im_msg *const *b, size_t n)
{
	struct cli *c = p->c;
	struct ims_buf bufs[IM_BATCH_MSGS];
	struct multi m;
	struct ims_handler h = {0};
	struct ims_source src = {multi_read, &m};
	struct ims_cmd cmd;
	unsigned id;
	size_t i, loaded = 0;
	ims_err e = IMS_OK;

	memset(&m, 0, sizeof(m));
	m.bufs = bufs;
	m.n = n;
	for (i = 0; i < n && e == IMS_OK; i++, loaded++) {
		ims_buf_init(&bufs[i], 0);
		e = read_checked(p, b[i], &bufs[i]);
		if (e == IMS_OK)
			pace(p, bufs[i].len);
	}
	if (e == IMS_OK && cli_interrupted)
		e = ims_error_set(&c->err, IMS_ERR_CANCELLED, "interrupted");
	if (e == IMS_OK) {
		e = multi_command(p, b, &m, &cmd);
		h.tagged = multi_tagged;
		h.ctx = &m;
		if (e == IMS_OK)
			e = ims_session_submit(c->sess, &cmd, &h, &src, &id, &c->err);
		ims_cmd_release(&cmd);
		if (e == IMS_OK)
			e = ims_session_wait(c->sess, id, &c->err);
		else
			drop_session(c);
	}
	for (i = 0; i < loaded; i++)
		ims_buf_release(&bufs[i]);
	if (e != IMS_OK)
		return e;
	for (i = 0; i < n; i++) {
		p->r->sent++;
		p->r->bytes += b[i]->size;
	}
	e = im_state_log(&p->st, "done", b, m.n_uids == n ? m.uids : (uint32_t[IM_BATCH_MSGS]){0},
	                 n, &c->err);
	if (e == IMS_OK)
		e = apply_labels(p, b, m.n_uids == n ? m.uids : NULL, n);
	return e;
}

static ims_err send_batch(struct imp *p, const struct im_msg *const *b, size_t n)
{
	struct cli *c = p->c;
	ims_err e = im_state_log(&p->st, "sent", b, NULL, n, &c->err);

	if (e != IMS_OK)
		return e;
	if (n > 1 && ims_session_has_cap(c->sess, "MULTIAPPEND")) {
		e = send_multi(p, b, n);
		if (e != IMS_ERR_NO)
			return e;
		/* refused as a whole: each alone names the one it will not take */
	}
	return send_each(p, b, n);
}

/* The messages to send, in batches. */
static ims_err upload(struct imp *p)
{
	struct cli *c = p->c;
	const struct im_msg *b[IM_BATCH_MSGS];
	size_t i, n = 0;
	uint64_t bytes = 0;
	ims_err e = IMS_OK;

	for (i = 0; i < p->src.n && e == IMS_OK; i++) {
		const struct im_msg *m = &p->src.v[i];
		struct im_count *k = im_state_find(&p->st, m->hash);
		char name[1200];

		if (k != NULL && k->done > 0) {
			k->done--; /* one copy taken already */
			p->r->skipped++;
			continue;
		}
		if (p->appendlimit > 0 && m->size > p->appendlimit) {
			cli_warn("import: %s: %" PRIu64
			         " bytes, larger than the server's APPENDLIMIT "
			         "(%" PRIu64 "): skipped",
			         msg_name(p, m, name, sizeof(name)), m->size, p->appendlimit);
			p->r->too_large++;
			continue;
		}
		if (p->dry_run) {
			p->r->sent++;
			p->r->bytes += m->size;
			continue;
		}
		if (n > 0 && (n == IM_BATCH_MSGS || bytes + m->size > IM_BATCH_BYTES)) {
			e = send_batch(p, b, n);
			n = 0;
			bytes = 0;
		}
		b[n++] = m;
		bytes += m->size;
	}
	if (e == IMS_OK && n > 0)
		e = send_batch(p, b, n);
	(void)c;
	return e;
}

/* ---- one folder -------------------------------------------------------------------------- */

static struct folder_result *result_add(struct imp *p, const char *folder, const char *source)
{
	struct folder_result *r;

	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 16;
		struct folder_result *nv = realloc(p->v, nc * sizeof(*nv));

		if (nv == NULL)
			return NULL;
		p->v = nv;
		p->cap = nc;
	}
	r = &p->v[p->n];
	memset(r, 0, sizeof(*r));
	r->status = "ok";
	r->folder = strdup(folder);
	r->source = strdup(source);
	if (r->folder == NULL || r->source == NULL) {
		free(r->folder);
		free(r->source);
		return NULL;
	}
	p->n++;
	return r;
}

static ims_err import_steps(struct imp *p, const char *source)
{
	struct cli *c = p->c;
	char target[1500];
	uint32_t uidv = 0;
	ims_err e;

	if ((e = im_source_open(&p->src, source, &c->err)) != IMS_OK)
		return e;
	snprintf(target, sizeof(target), "%s@%s/%s", c->t.user, c->t.host, p->folder);
	if ((e = cli_mbox_encode(c, p->folder, &p->wire)) != IMS_OK ||
	    (e = target_folder(p, &uidv)) != IMS_OK)
		return e;
	if ((e = im_state_open(&p->st, &p->src, target, p->dry_run, &c->err)) != IMS_OK)
		return e;
	if (p->st.uidvalidity != 0 && uidv != 0 && p->st.uidvalidity != uidv) {
		cli_warn("import: folder '%s' was made again on the server (UIDVALIDITY %" PRIu32
		         ", was %" PRIu32 "): every message is uploaded again",
		         p->folder, uidv, p->st.uidvalidity);
		p->st.n = 0;
	}
	if (uidv != 0 && p->st.uidvalidity != uidv && !p->dry_run &&
	    (e = im_state_uidvalidity(&p->st, uidv, &c->err)) != IMS_OK)
		return e;
	if ((e = settle_unknown(p)) != IMS_OK)
		return e;
	return upload(p);
}

static ims_err import_one(struct imp *p, const char *source, const char *folder)
{
	struct cli *c = p->c;
	ims_err e;

	p->folder = folder;
	p->selected_rw = 0;
	p->r = result_add(p, folder, source);
	if (p->r == NULL)
		return ims_error_nomem(&c->err);
	ims_buf_init(&p->wire, 0);
	e = import_steps(p, source);
	if (e != IMS_OK) {
		p->r->status = "failed";
		p->failed++;
	} else if (p->r->too_large > 0 || p->r->refused > 0) {
		p->r->status = "incomplete";
		p->failed++;
	} else if (p->dry_run) {
		p->r->status = "dry-run";
	}
	ims_buf_release(&p->wire);
	im_state_release(&p->st);
	im_source_release(&p->src);
	return e;
}

/* ---- import --all ---------------------------------------------------------------------- */

static ims_err server_delim(struct imp *p)
{
	struct ims_list_result res;
	ims_err e;

	ims_list_result_init(&res);
	e = ims_session_list(p->c->sess, "", "", 0, &res, &p->c->err);
	p->delim = e == IMS_OK && res.n > 0 ? res.v[0].delim : 0;
	ims_list_result_release(&res);
	return e;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The folders of an export --all tree, sorted: "NAME" (a Maildir) or
 * "NAME.mbox". */
static ims_err tree_entries(struct imp *p, const char *dir, char ***v_r, size_t *n_r)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t n = 0;

	*v_r = NULL;
	*n_r = 0;
	if (d == NULL)
		return ims_error_set(&p->c->err, IMS_ERR_USAGE, "import: %s: %s", dir,
		                     strerror(errno));
	while ((de = readdir(d)) != NULL) {
		char **nv;

		if (de->d_name[0] == '.')
			continue;
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (nv == NULL || (nv[n] = strdup(de->d_name)) == NULL) {
			v = nv != NULL ? nv : v;
			break;
		}
		v = nv;
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), name_cmp);
	*v_r = v;
	*n_r = n;
	return IMS_OK;
}

static ims_err import_entry(struct imp *p, const char *dir, const char *entry)
{
	struct cli *c = p->c;
	char path[4200];
	struct ims_buf folder;
	struct ims_error de;
	struct stat st;
	size_t len = strlen(entry);
	int mbox = len > 5 && strcmp(entry + len - 5, ".mbox") == 0;
	ims_err e = IMS_OK;

	snprintf(path, sizeof(path), "%s/%s", dir, entry);
	if (lstat(path, &st) != 0 || (!S_ISDIR(st.st_mode) && !(mbox && S_ISREG(st.st_mode))))
		return IMS_OK; /* not a folder of the tree */
	if (S_ISDIR(st.st_mode))
		mbox = 0;
	ims_buf_init(&folder, 0);
	if (ims_folderpath_decode(entry, mbox ? len - 5 : len, p->delim, &folder, &de) != IMS_OK) {
		char shown[300];

		cli_warn("import: %s: not a folder's name (%s): skipped",
		         cli_safe(path, shown, sizeof(shown)), de.msg);
		p->failed++;
	} else {
		e = import_one(p, path, folder.data);
		if (e == IMS_ERR_NO || e == IMS_ERR_USAGE) {
			char shown[300];

			cli_warn("import: folder '%s': %s",
			         cli_safe(folder.data, shown, sizeof(shown)), c->err.msg);
			e = IMS_OK;
		}
	}
	ims_buf_release(&folder);
	return e;
}

static ims_err import_all(struct imp *p, const char *dir)
{
	char **v;
	size_t i, n;
	ims_err e = server_delim(p);

	if (e == IMS_OK)
		e = tree_entries(p, dir, &v, &n);
	if (e != IMS_OK)
		return e;
	for (i = 0; i < n && e == IMS_OK; i++)
		e = import_entry(p, dir, v[i]);
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return e;
}

/* ---- the report ------------------------------------------------------------------------- */

static void report(struct imp *p)
{
	size_t i;

	if (p->c->o.json) {
		struct json_out j;

		json_init(&j, stdout);
		json_begin_object(&j);
		json_kv_bool(&j, "dry_run", p->dry_run);
		json_key(&j, "folders");
		json_begin_array(&j);
		for (i = 0; i < p->n; i++) {
			const struct folder_result *r = &p->v[i];

			json_begin_object(&j);
			json_kv_str(&j, "folder", r->folder);
			json_kv_str(&j, "source", r->source);
			json_kv_str(&j, "status", r->status);
			json_kv_int(&j, "uploaded", (int64_t)r->sent);
			json_kv_int(&j, "skipped", (int64_t)r->skipped);
			json_kv_int(&j, "found", (int64_t)r->found);
			json_kv_int(&j, "too_large", (int64_t)r->too_large);
			json_kv_int(&j, "refused", (int64_t)r->refused);
			json_kv_int(&j, "bytes", (int64_t)r->bytes);
			json_kv_int(&j, "labeled", (int64_t)r->labeled);
			json_end_object(&j);
		}
		json_end_array(&j);
		json_end_object(&j);
		json_finish(&j);
		return;
	}
	for (i = 0; i < p->n; i++) {
		const struct folder_result *r = &p->v[i];
		struct tsv t;

		tsv_begin(&t, stdout);
		tsv_field(&t, r->folder);
		tsv_field(&t, r->source);
		tsv_field(&t, r->status);
		tsv_fieldf(&t, "%" PRIu64, r->sent);
		tsv_fieldf(&t, "%" PRIu64, r->skipped);
		(void)tsv_end(&t);
	}
}

/* ---- the command ---------------------------------------------------------------------------- */

static ims_err import_run(struct imp *p, int argc, char **argv, int all)
{
	struct cli *c = p->c;
	ims_err e = cli_need(c, CMD_LOGIN);

	if (e != IMS_OK)
		return e;
	appendlimit_read(p);
	if (all)
		return import_all(p, argv[1]);
	return import_one(p, argv[1], argv[2]);
}

ims_err cli_cmd_import(struct cli *c, int argc, char **argv)
{
	struct imp p;
	struct xp_signals sig;
	int all = cli_opt_flag(&c->args, "all");
	size_t i;
	ims_err e;

	if ((all && argc != 2) || (!all && argc != 3))
		return ims_error_set(&c->err, IMS_ERR_USAGE,
		                     "usage: import SOURCE FOLDER, or import --all DIR "
		                     "[--dry-run] [--max-rate BYTES]");
	memset(&p, 0, sizeof(p));
	p.c = c;
	p.dry_run = cli_opt_flag(&c->args, "dry-run");
	p.max_rate = cli_opt_num(&c->args, "max-rate", 0);
	p.t0 = ims_now_ms();
	xp_signals_begin(&sig, c);
	e = import_run(&p, argc, argv, all);
	xp_signals_end(&sig);
	if (e == IMS_OK || p.n > 0) {
		char why[IMS_ERROR_MAX];

		snprintf(why, sizeof(why), "%s", c->err.msg);
		report(&p);
		if (e == IMS_OK && p.failed > 0)
			e = ims_error_set(
			    &c->err, IMS_ERR_NO,
			    "import: %zu folders not complete (named above); run the same "
			    "command again to retry",
			    p.failed);
		else if (e != IMS_OK)
			ims_error_set(
			    &c->err, e,
			    "import stopped: %s; what the server took is recorded, run the "
			    "same command again to go on",
			    why);
	}
	for (i = 0; i < p.n; i++) {
		free(p.v[i].folder);
		free(p.v[i].source);
	}
	free(p.v);
	return e;
}

/* clang-format off */
const struct cli_opt cli_import_opts[] = {
	CLI_FLAG("all", 0, "DIR is an export --all tree: every folder in it"),
	CLI_FLAG("dry-run", 'n', "say what would be uploaded, upload nothing"),
	CLI_NUMBER("max-rate", 0, "N", 1, UINT64_C(1) << 40, "upload at most N bytes a second"),
	CLI_OPT_JSON,
	CLI_OPT_LIST_END,
};
/* clang-format on */
