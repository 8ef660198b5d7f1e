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

#define UNKNOWN_SETTLE_MS 2000

static void appendlimit_read(struct imp *p)
{
	const char *const *caps;
	size_t i, n = ims_session_caps(p->c->sess, &caps);

	p->appendlimit = 0;
	for (i = 0; i < n; i++)
		if (strncasecmp(caps[i], "APPENDLIMIT=", 12) == 0)
			p->appendlimit = strtoull(caps[i] + 12, NULL, 10);
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
	p->rtt_ms = ims_now_ms();
	e = ims_session_status(c->sess, p->wire.data, p->wire.len, IMS_STATUS_UIDVALIDITY, &sv,
	                       &c->err);
	p->rtt_ms = ims_now_ms() - p->rtt_ms; /* for --compress auto */
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
	return im_upload(p);
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
