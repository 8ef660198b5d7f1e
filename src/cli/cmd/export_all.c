/* export --all DIR: every folder (or those the patterns choose), each into
 * its own Maildir DIR/NAME/ (or mbox DIR/NAME.mbox), NAME the folder's
 * name made a directory name by folderpath.h.  Each folder is an ordinary
 * single-folder export (its own state file, resumable, durable); the tree
 * has an index, DIR/.imapsh-backup, of every folder exported into it, so
 * a folder deleted or renamed on the server is reported on every later
 * run (its export is kept), never dropped in silence.  DIR is locked for
 * the run through DIR/.imapsh-backup.lock. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cmd/export.h"
#include "cli/output.h"
#include "imapsh/folderpath.h"
#include "imapsh/words.h"

#define INDEX_NAME ".imapsh-backup"
#define LOCK_NAME  ".imapsh-backup.lock"
/* An mbox's name, its state file and its temporaries must fit NAME_MAX. */
#define MBOX_BASE_MAX 200

struct entry {
	char *name;    /* UTF-8 */
	char *dirname; /* folderpath.h */
	char delim;
	int on_server, chosen;
	int done; /* --jobs: a worker reported it */
	/* the run's result */
	const char *status; /* "ok", "gone", "failed" */
	char why[IMS_ERROR_MAX];
	uint64_t fetched, skipped, bytes;
	uint64_t flags_changed, vanished, removed;
};

struct all {
	struct cli *c;
	const char *dir;
	enum fmt fmt;
	unsigned jobs;
	int index_dirty; /* a folder new to the index, or its name's spelling */
	int dirfd, lockfd;
	struct ims_words inc, exc;
	struct entry *v;
	size_t n, cap;
	uint64_t fetched, skipped, bytes;
	size_t failed, gone;
};

static struct entry *entry_add(struct all *a)
{
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 32;
		struct entry *nv = realloc(a->v, nc * sizeof(*nv));

		if (nv == NULL)
			return NULL;
		a->v = nv;
		a->cap = nc;
	}
	memset(&a->v[a->n], 0, sizeof(a->v[0]));
	a->v[a->n].status = "ok";
	return &a->v[a->n++];
}

static struct entry *entry_by_dirname(struct all *a, const char *dirname)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].dirname, dirname) == 0)
			return &a->v[i];
	return NULL;
}

/* ---- patterns ------------------------------------------------------------ */

/* IMAP LIST wildcards: '*' anything, '%' anything but the delimiter;
 * "INBOX" in any case is INBOX. */
static int wild(const char *p, const char *s, char delim)
{
	for (; *p != '\0'; p++, s++) {
		if (*p == '*' || *p == '%') {
			for (;; s++) {
				if (wild(p + 1, s, delim))
					return 1;
				if (*s == '\0' || (*p == '%' && delim != 0 && *s == delim))
					return 0;
			}
		}
		if (*s != *p)
			return 0;
	}
	return *s == '\0';
}

static int pattern_match(const char *pat, const char *name, char delim)
{
	if (strncasecmp(name, "INBOX", 5) == 0 && (name[5] == '\0' || name[5] == delim) &&
	    strncasecmp(pat, "INBOX", 5) == 0)
		return wild(pat + 5, name + 5, delim);
	return wild(pat, name, delim);
}

static int any_match(const struct ims_words *w, const char *name, char delim)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (pattern_match(w->v[i], name, delim))
			return 1;
	return 0;
}

static int chosen(const struct all *a, const char *name, char delim)
{
	if (a->inc.n > 0 && !any_match(&a->inc, name, delim))
		return 0;
	return !any_match(&a->exc, name, delim);
}

static ims_err split_patterns(struct cli *c, const char *opt, struct ims_words *w)
{
	const char *s = cli_opt_str(&c->args, opt), *rest = NULL;

	if (s == NULL)
		return IMS_OK;
	if (ims_words_split(s, &rest, w, &c->err) != IMS_OK || rest != NULL)
		return ims_error_set(&c->err, IMS_ERR_USAGE,
		                     "export: --%s: patterns are words, quoted where they hold "
		                     "spaces ('INBOX \"My Folder\" Archive/*')",
		                     opt);
	return IMS_OK;
}

/* ---- the index ------------------------------------------------------------- */

/* The folders of earlier runs (a missing index is an empty one). */
static ims_err index_read(struct all *a)
{
	struct cli *c = a->c;
	char *line = NULL, shown[600];
	size_t cap = 0;
	unsigned long lineno = 0;
	ssize_t len;
	FILE *f;
	int fd = ims_fs_open_read(a->dirfd, INDEX_NAME, &c->err);
	ims_err e = IMS_OK;

	if (fd == IMS_FS_MISSING)
		return IMS_OK;
	if (fd < 0)
		return ims_error_prefix(&c->err, "%s", a->dir);
	f = fdopen(fd, "r");
	if (f == NULL) {
		close(fd);
		return ims_error_nomem(&c->err);
	}
	snprintf(shown, sizeof(shown), "%s/%s", a->dir, INDEX_NAME);
	while ((len = ims_fs_getline(f, &line, &cap, &lineno, shown, &c->err)) != -1) {
		char *dn, *name;
		struct entry *en;

		if (len == -2) {
			e = c->err.code;
			break;
		}
		if (strncmp(line, "folder ", 7) != 0)
			continue;
		dn = line + 7;
		name = strchr(dn, '\t');
		if (name == NULL)
			continue;
		*name++ = '\0';
		xp_unescape(name);
		if (entry_by_dirname(a, dn) != NULL)
			continue;
		en = entry_add(a);
		if (en == NULL || (en->dirname = strdup(dn)) == NULL ||
		    (en->name = strdup(name)) == NULL) {
			e = ims_error_nomem(&c->err);
			break;
		}
	}
	free(line);
	fclose(f);
	return e;
}

static ims_err index_write(struct all *a)
{
	struct ims_buf b;
	size_t i;
	ims_err e;

	ims_buf_init(&b, 0);
	e = ims_buf_printf(
	    &b,
	    "# imapsh export --all: every folder exported into this directory\n"
	    "# (folder DIRECTORY-NAME<TAB>FOLDER-NAME); a folder gone from the server\n"
	    "# is reported until its line is removed here\n"
	    "version 1\nformat %s\n",
	    a->fmt == FMT_MBOX ? "mbox" : "maildir");
	for (i = 0; i < a->n && e == IMS_OK; i++) {
		e = ims_buf_printf(&b, "folder %s\t", a->v[i].dirname);
		if (e == IMS_OK)
			e = xp_put_escaped(&b, a->v[i].name);
		if (e == IMS_OK)
			e = ims_buf_putc(&b, '\n');
	}
	if (e == IMS_OK)
		e = ims_fs_write_file(a->dirfd, INDEX_NAME, b.data, b.len, IMS_FS_SYNC, &a->c->err);
	else
		e = ims_error_nomem(&a->c->err);
	ims_buf_release(&b);
	return e;
}

static int entry_cmp(const void *p, const void *q)
{
	return strcmp(((const struct entry *)p)->dirname, ((const struct entry *)q)->dirname);
}

/* ---- the folders on the server ---------------------------------------------- */

static ims_err add_server_folder(struct all *a, const struct ims_mailbox_info *mi)
{
	struct cli *c = a->c;
	struct ims_buf name, dn;
	struct ims_error pe;
	struct entry *en;
	char shown[300];
	ims_err e;

	if (mi->attrs & (IMS_LIST_NOSELECT | IMS_LIST_NONEXISTENT))
		return IMS_OK;
	ims_buf_init(&name, 0);
	ims_buf_init(&dn, 0);
	e = cli_mbox_from_server(c, mi->name, mi->name_len, &name);
	if (e == IMS_ERR_PROTOCOL) {
		cli_warn("export: the server's folder '%s' has a name imapsh cannot send back: "
		         "skipped",
		         cli_safe(mi->name, shown, sizeof(shown)));
		a->failed++;
		e = IMS_OK;
		goto out;
	}
	if (e != IMS_OK || !chosen(a, name.data, mi->delim))
		goto out;
	if (ims_folderpath_encode(name.data, name.len, mi->delim, &dn, &pe) != IMS_OK ||
	    (a->fmt == FMT_MBOX && dn.len > MBOX_BASE_MAX)) {
		cli_warn(
		    "export: folder '%s': %s: skipped", cli_safe(name.data, shown, sizeof(shown)),
		    pe.code != IMS_OK && dn.len == 0 ? pe.msg : "its name is too long for a file");
		a->failed++;
		goto out;
	}
	en = entry_by_dirname(a, dn.data);
	if (en == NULL) {
		en = entry_add(a);
		if (en == NULL || (en->dirname = strdup(dn.data)) == NULL) {
			e = ims_error_nomem(&c->err);
			goto out;
		}
	}
	if (en->name == NULL || strcmp(en->name, name.data) != 0)
		a->index_dirty = 1;
	free(en->name); /* the server's spelling (INBOX's case) wins */
	en->name = strdup(name.data);
	if (en->name == NULL)
		e = ims_error_nomem(&c->err);
	en->delim = mi->delim;
	en->on_server = en->chosen = 1;
out:
	ims_buf_release(&name);
	ims_buf_release(&dn);
	return e;
}

static ims_err list_folders(struct all *a)
{
	struct cli *c = a->c;
	struct ims_list_result res;
	size_t i;
	ims_err e;

	ims_list_result_init(&res);
	e = ims_session_list(c->sess, "", "*", 0, &res, &c->err);
	for (i = 0; e == IMS_OK && i < res.n; i++) {
		e = add_server_folder(a, &res.v[i]);
	}
	ims_list_result_release(&res);
	if (a->n > 1)
		qsort(a->v, a->n, sizeof(a->v[0]), entry_cmp);
	/* What the index knows and the server no longer has: reported. */
	for (i = 0; e == IMS_OK && i < a->n; i++) {
		struct entry *en = &a->v[i];

		if (en->on_server || !chosen(a, en->name, en->delim ? en->delim : '/'))
			continue;
		en->chosen = 1;
		en->status = "gone";
		snprintf(en->why, sizeof(en->why),
		         "no longer on the server (deleted or renamed): its export is kept");
		a->gone++;
	}
	return e;
}

/* ---- one folder ---------------------------------------------------------------- */

/* Errors that end the run (the connection, the local disk, Ctrl-C) and
 * those that end one folder (it cannot be selected, its state disagrees). */
static int run_ending(ims_err e)
{
	return e != IMS_ERR_NO && e != IMS_ERR_USAGE;
}

static ims_err export_one(struct all *a, struct entry *en)
{
	struct cli *c = a->c;
	struct export x;
	char path[4200];
	ims_err e;

	/* A changed UIDVALIDITY: the old export is kept aside, named, and
	 * the folder fetched again (a backup goes on). */
	xp_init(&x, c, a->fmt, 1);
	x.mirror = cli_opt_flag(&c->args, "mirror");
	x.folder = en->name;
	if (a->fmt == FMT_MBOX) {
		x.dir = a->dir;
		x.mbox_base = en->dirname;
	} else {
		snprintf(path, sizeof(path), "%s/%s", a->dir, en->dirname);
		x.dir = path;
	}
	x.t0 = ims_now_ms();
	ims_error_init(&c->err);
	e = xp_run(&x);
	if (x.progress && x.fetched == 0)
		fputs("\r\033[K", stderr);
	en->fetched = x.fetched;
	en->skipped = x.skipped;
	en->bytes = x.bytes;
	en->flags_changed = x.flags_changed;
	en->vanished = x.vanished;
	en->removed = x.removed;
	a->fetched += x.fetched;
	a->skipped += x.skipped;
	a->bytes += x.bytes;
	if (e != IMS_OK) {
		e = xp_stopped(&x, e);
		en->status = "failed";
		snprintf(en->why, sizeof(en->why), "%s", c->err.msg);
		a->failed++;
	}
	xp_release(&x);
	return e;
}

/* ---- the report -------------------------------------------------------------------- */

static void report_json(struct all *a, double secs)
{
	struct json_out j;
	size_t i;

	json_init(&j, stdout);
	json_begin_object(&j);
	json_kv_str(&j, "directory", a->dir);
	json_kv_str(&j, "format", a->fmt == FMT_MBOX ? "mbox" : "maildir");
	json_key(&j, "folders");
	json_begin_array(&j);
	for (i = 0; i < a->n; i++) {
		const struct entry *en = &a->v[i];

		if (!en->chosen)
			continue;
		json_begin_object(&j);
		json_kv_str(&j, "folder", en->name);
		json_kv_str(&j, "name", en->dirname);
		json_kv_str(&j, "status", en->status);
		if (en->why[0] != '\0')
			json_kv_str(&j, "why", en->why);
		json_kv_int(&j, "fetched", (int64_t)en->fetched);
		json_kv_int(&j, "skipped", (int64_t)en->skipped);
		json_kv_int(&j, "bytes", (int64_t)en->bytes);
		json_kv_int(&j, "flags_changed", (int64_t)en->flags_changed);
		json_kv_int(&j, "expunged", (int64_t)en->vanished);
		json_kv_int(&j, "removed", (int64_t)en->removed);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_kv_int(&j, "fetched", (int64_t)a->fetched);
	json_kv_int(&j, "skipped", (int64_t)a->skipped);
	json_kv_int(&j, "bytes", (int64_t)a->bytes);
	json_kv_int(&j, "gone", (int64_t)a->gone);
	json_kv_int(&j, "failed", (int64_t)a->failed);
	json_key(&j, "seconds");
	(void)ims_json_double(&j.w, (double)(int64_t)(secs * 1000) / 1000.0);
	json_end_object(&j);
	json_finish(&j);
}

/* One record a folder: FOLDER, NAME (under DIR), STATUS, new, already
 * there; and the reasons on stderr. */
static void report(struct all *a, double secs)
{
	struct cli *c = a->c;
	size_t i;

	for (i = 0; i < a->n; i++) {
		const struct entry *en = &a->v[i];
		char shown[300];

		if (!en->chosen)
			continue;
		if (strcmp(en->status, "ok") != 0)
			cli_warn("export: folder '%s' (%s/%s): %s",
			         cli_safe(en->name, shown, sizeof(shown)), a->dir, en->dirname,
			         en->why);
	}
	if (c->o.json) {
		report_json(a, secs);
		return;
	}
	for (i = 0; i < a->n; i++) {
		const struct entry *en = &a->v[i];
		struct tsv t;

		if (!en->chosen)
			continue;
		tsv_begin(&t, stdout);
		tsv_field(&t, en->name);
		tsv_field(&t, en->dirname);
		tsv_field(&t, en->status);
		tsv_fieldf(&t, "%" PRIu64, en->fetched);
		tsv_fieldf(&t, "%" PRIu64, en->skipped);
		(void)tsv_end(&t);
	}
	if (c->err_tty && !c->o.quiet)
		fprintf(stderr,
		        "export: %" PRIu64 " new, %" PRIu64 " already there, %.1f MB in %.1f s; "
		        "%zu folders gone from the server, %zu failed\n",
		        a->fetched, a->skipped, (double)a->bytes / 1e6, secs, a->gone, a->failed);
}

/* ---- the run ------------------------------------------------------------------------ */

static ims_err open_tree(struct all *a)
{
	struct cli *c = a->c;

	a->dirfd = ims_fs_dir_open(a->dir, 1, &c->err);
	if (a->dirfd < 0)
		return ims_error_prefix(&c->err, "export");
	a->lockfd = openat(a->dirfd, LOCK_NAME, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (a->lockfd < 0)
		return ims_error_set(&c->err, IMS_ERR_IO, "cannot create %s/%s: %s", a->dir,
		                     LOCK_NAME, strerror(errno));
	if (flock(a->lockfd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK)
		return ims_error_set(&c->err, IMS_ERR_IO, "%s is in use by another export", a->dir);
	return IMS_OK;
}

/* ---- --jobs N ------------------------------------------------------------------------- */

/* In a worker, the parent's session: its TLS stream is never touched
 * there (nor freed: that would end the parent's session), and it stays
 * reachable for leak checkers. */
static struct ims_session *volatile worker_parent_sess;

/* A worker: its own connection (the parent's is left alone), folders
 * taken one at a time from the queue (indexes, 4 bytes each: a pipe's
 * reads of that size are whole), a result line each on out. */
static int worker(struct all *a, int queue, FILE *out)
{
	struct cli *c = a->c;
	uint32_t idx;
	int rc = 0;

	worker_parent_sess = c->sess;
	c->sess = NULL;
	c->connected = 0;
	c->folder[0] = '\0';
	c->err_tty = 0; /* one progress view: the parent's */
	while (read(queue, &idx, sizeof(idx)) == (ssize_t)sizeof(idx) && idx < a->n) {
		struct entry *en = &a->v[idx];
		ims_err e = export_one(a, en);
		struct ims_buf why;

		ims_buf_init(&why, 0);
		(void)xp_put_escaped(&why, en->why);
		fprintf(out,
		        "%" PRIu32 " %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
		        " %" PRIu64 " %s\n",
		        idx, en->status, en->fetched, en->skipped, en->bytes, en->flags_changed,
		        en->vanished, en->removed, why.len > 0 ? why.data : "-");
		fflush(out);
		ims_buf_release(&why);
		if (e != IMS_OK && run_ending(e)) {
			rc = 1;
			break;
		}
	}
	if (c->sess != NULL)
		cli_close(c);
	return rc;
}

/* A worker's result line into its entry. */
static void job_result(struct all *a, char *line)
{
	uint32_t idx;
	char status[16], why[IMS_ERROR_MAX];
	uint64_t v[6];
	struct entry *en;

	if (sscanf(line,
	           "%" SCNu32 " %15s %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
	           " %" SCNu64 " %1023[^\n]",
	           &idx, status, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], why) != 9 ||
	    idx >= a->n)
		return;
	en = &a->v[idx];
	en->status = strcmp(status, "ok") == 0 ? "ok" : "failed";
	en->fetched = v[0];
	en->skipped = v[1];
	en->bytes = v[2];
	en->flags_changed = v[3];
	en->vanished = v[4];
	en->removed = v[5];
	xp_unescape(why);
	snprintf(en->why, sizeof(en->why), "%s", strcmp(why, "-") == 0 ? "" : why);
	en->done = 1;
	a->fetched += v[0];
	a->skipped += v[1];
	a->bytes += v[2];
	if (en->status[0] == 'f')
		a->failed++;
}

static void job_progress(const struct all *a, size_t done, size_t total, int final)
{
	if (!a->c->err_tty || a->c->o.quiet)
		return;
	fprintf(stderr,
	        "\rexport: %zu/%zu folders (%u connections), %" PRIu64 " new messages, %.1f MB"
	        "\033[K%s",
	        done, total, a->jobs, a->fetched, (double)a->bytes / 1e6, final ? "\n" : "");
	fflush(stderr);
}

static ims_err run_jobs(struct all *a)
{
	struct cli *c = a->c;
	int queue[2], res[2];
	pid_t pids[XP_JOBS_MAX];
	unsigned k, n_pids = 0;
	size_t i, total = 0, done = 0;
	char *line = NULL;
	size_t cap = 0;
	FILE *in;
	int failed = 0;

	if (pipe(queue) != 0 || pipe(res) != 0)
		return ims_error_set(&c->err, IMS_ERR_IO, "export: pipe: %s", strerror(errno));
	/* INBOX (commonly the largest) first, then in order */
	for (k = 0; k < 2; k++)
		for (i = 0; i < a->n; i++) {
			uint32_t idx = (uint32_t)i;
			int inbox = strcasecmp(a->v[i].name, "INBOX") == 0;

			if (!a->v[i].on_server || !a->v[i].chosen || inbox != (k == 0))
				continue;
			total++;
			if (write(queue[1], &idx, sizeof(idx)) != (ssize_t)sizeof(idx))
				return ims_error_set(&c->err, IMS_ERR_IO, "export: pipe: %s",
				                     strerror(errno));
		}
	close(queue[1]);
	fflush(NULL);
	for (k = 0; k < a->jobs && k < total; k++) {
		pid_t pid = fork();

		if (pid == 0) {
			FILE *out = fdopen(res[1], "w");

			close(res[0]);
			_exit(out != NULL ? worker(a, queue[0], out) : 1);
		}
		if (pid > 0)
			pids[n_pids++] = pid;
	}
	close(queue[0]);
	close(res[1]);
	in = fdopen(res[0], "r");
	while (in != NULL && getline(&line, &cap, in) > 0) {
		job_result(a, line);
		job_progress(a, ++done, total, 0);
	}
	free(line);
	if (in != NULL)
		fclose(in);
	for (k = 0; k < n_pids; k++) {
		int st;

		if (waitpid(pids[k], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed = 1;
	}
	job_progress(a, done, total, 1);
	for (i = 0; i < a->n; i++)
		if (a->v[i].on_server && a->v[i].chosen && !a->v[i].done) {
			a->v[i].status = "failed";
			snprintf(a->v[i].why, sizeof(a->v[i].why), "not reached: the run stopped");
			a->failed++;
		}
	if (n_pids == 0 && total > 0)
		return ims_error_set(&c->err, IMS_ERR_IO, "export: fork: %s", strerror(errno));
	return failed ? ims_error_set(&c->err, IMS_ERR_NET,
	                              "export: a connection stopped (named above); run the same "
	                              "command again to go on")
	              : IMS_OK;
}

static ims_err run_all(struct all *a)
{
	struct cli *c = a->c;
	size_t i;
	ims_err e;

	if ((e = split_patterns(c, "folders", &a->inc)) != IMS_OK ||
	    (e = split_patterns(c, "exclude", &a->exc)) != IMS_OK)
		return e;
	if ((e = open_tree(a)) != IMS_OK || (e = index_read(a)) != IMS_OK)
		return e;
	if ((e = cli_need(c, CMD_LOGIN)) != IMS_OK || (e = list_folders(a)) != IMS_OK)
		return e;
	/* Recorded before any folder is written: a run that dies still
	 * leaves every folder it began in the index.  (Unchanged: not
	 * written, a rerun with nothing new costs no sync.) */
	if (a->index_dirty && (e = index_write(a)) != IMS_OK)
		return e;
	if (a->jobs > 1)
		return run_jobs(a);
	for (i = 0; i < a->n; i++) {
		struct entry *en = &a->v[i];

		if (!en->on_server || !en->chosen)
			continue;
		e = export_one(a, en);
		if (e != IMS_OK && run_ending(e))
			return e;
		e = IMS_OK;
	}
	return IMS_OK;
}

ims_err xp_export_all(struct cli *c, const char *dir, enum fmt fmt)
{
	struct all a;
	struct xp_signals sig;
	int64_t t0 = ims_now_ms();
	size_t i;
	ims_err e;

	memset(&a, 0, sizeof(a));
	a.c = c;
	a.dir = dir;
	a.fmt = fmt;
	a.jobs = (unsigned)cli_opt_num(&c->args, "jobs", XP_JOBS_DEFAULT);
	a.dirfd = a.lockfd = -1;
	ims_words_init(&a.inc);
	ims_words_init(&a.exc);
	xp_signals_begin(&sig, c);
	e = run_all(&a);
	xp_signals_end(&sig);
	if (e == IMS_OK || run_ending(e)) {
		char why[IMS_ERROR_MAX];

		snprintf(why, sizeof(why), "%s", c->err.msg);
		report(&a, (double)(ims_now_ms() - t0) / 1000.0);
		if (e == IMS_OK && a.failed > 0)
			e = ims_error_set(
			    &c->err, IMS_ERR_NO,
			    "export: %zu folders failed (named above); the others are "
			    "exported, run the same command again to retry",
			    a.failed);
		else if (e != IMS_OK)
			ims_error_set(&c->err, e, "%s", why);
	}
	for (i = 0; i < a.n; i++) {
		free(a.v[i].name);
		free(a.v[i].dirname);
	}
	free(a.v);
	ims_words_release(&a.inc);
	ims_words_release(&a.exc);
	if (a.lockfd >= 0)
		close(a.lockfd);
	if (a.dirfd >= 0)
		close(a.dirfd);
	return e;
}
