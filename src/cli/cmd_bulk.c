/* Bulk work: export (a folder into a Maildir or an mbox, resumable) and
 * idle (wait for new mail and print it).
 *
 * export FOLDER DIR [--format maildir|mbox] [--restart]
 *
 *  1. EXAMINE the folder; UID SEARCH ALL; the UIDs not yet in the state
 *     file are the work; UID FETCH of them (UID RFC822.SIZE) sizes it
 *     (progress, ETA, batches).
 *  2. Pipelined UID FETCH (UID FLAGS INTERNALDATE BODY.PEEK[]) in batches
 *     of BATCH_MSGS messages or BATCH_BYTES bytes, WINDOW commands in
 *     flight, so the server never waits for us between batches.  Literal
 *     data streams straight from the session's read buffer into its
 *     destination: a Maildir tmp/ file, or the mbox temp file through the
 *     From-quoting filter.
 *  3. Durability is batched: completed Maildir files stay in tmp/ until a
 *     commit (every COMMIT_MSGS messages, COMMIT_BYTES bytes or
 *     COMMIT_MS, and at the end or a stop), which makes the data durable
 *     with one syncfs() (fdatasync of each file where that is missing),
 *     renames each file into cur/ (flags in the name, mtime INTERNALDATE),
 *     fsyncs cur/ and only then rewrites the state file (temp + fsync +
 *     rename).  A file in cur/ is therefore always complete, and the
 *     state file never counts a file that is not durable.
 *     mbox: the whole new mbox (the old one copied, new messages
 *     appended) is a temp file renamed over DIR/NAME.mbox once, at the end
 *     or on a stop, cut back to the last complete message first: an mbox
 *     never ends in half a message.
 *  4. The state file (DIR/.imapsh-export, or DIR/.NAME.mbox.imapsh-export)
 *     is text, one "key value" a line: version, format, folder (UTF-8,
 *     %XX for controls and '%'), uidvalidity, uids (a sequence set),
 *     mbox-size.  A second run fetches only UIDs not in it.  A changed
 *     UIDVALIDITY is refused (exit 1) unless --restart.
 *  5. DIR is locked (flock) for the run; stale tmp/ files of an earlier
 *     run that died are removed under that lock.
 *  6. Ctrl-C (also in one-shot mode, where the handler is installed for
 *     the run) and a lost connection stop the transfer: what is complete
 *     is committed, the rest is removed.
 *
 * idle [SECONDS]: IDLE (re-issued every IDLE_REISSUE_MS) or NOOP every
 * POLL_MS without it; each new message (UID above the highest seen) is
 * printed as "UID<TAB>FROM<TAB>SUBJECT" (decoded, sanitised) or as a JSON
 * line.  With SECONDS: exit 0 once mail came, 1 on timeout. */
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

#include "cli/cli.h"
#include "cli/output.h"
#include "imapsh/fsafe.h"
#include "imapsh/json.h"
#include "imapsh/rfc2047.h"
#include "imapsh/sanitize.h"
#include "imapsh/seqset.h"
#include "imapsh/session.h"
#include "imapsh/transport.h"
#include "imapsh/units.h"

/* The window, measured with 10,000 messages (131 MB) from Dovecot over TLS
 * (tests/bench; seconds to tmpfs, batch of 250 unless said):
 *   RTT 20 ms (a delaying proxy): 1 in flight 2.2 (batch 50: 5.9), 2 in
 *   flight 1.6 (batch 50: 3.2), 4 in flight 1.33, 8 in flight 1.37, 4 of
 *   1000 messages 1.34;
 *   loopback: 1.1-1.3 whatever the window (the server is the limit).
 * So 4 batches of 250 in flight: one round trip per batch is hidden, a
 * batch stays a short command, and a commit point comes often. */
#define WINDOW       4
#define BATCH_MSGS   250
#define BATCH_BYTES  (16u * 1024 * 1024)
#define COMMIT_MSGS  2000
#define COMMIT_BYTES (128u * 1024 * 1024)
#define COMMIT_MS    3000
#define PROGRESS_MS  250

#define IDLE_REISSUE_MS   (28 * 60 * 1000) /* RFC 2177: before 29 minutes */
#define POLL_MS           (30 * 1000)
#define IDLE_OUT_CHECK_MS (2 * 1000) /* how soon idle sees its reader gone */

#define STATE_NAME  ".imapsh-export"
#define TMP_PREFIX  "imapsh."
#define FROM_DUMMY  "From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n"
#define MBOX_OUTBUF 65536

enum fmt { FMT_MAILDIR, FMT_MBOX };

struct todo {
	uint32_t uid;
	uint64_t size;
	int saved; /* a body was written for it (a repeat is ignored) */
};

struct pending {
	char tmp[64];   /* name under tmp/ */
	char name[128]; /* name under cur/ */
	uint32_t uid;
};

/* The From-quoting, CRLF-to-LF filter of the mbox writer. */
enum qstate { Q_BOL, Q_MID, Q_MATCH };

struct export
{
	struct cli *c;
	enum fmt fmt;
	const char *folder; /* UTF-8, as the user typed it */
	const char *dir;
	int restart;
	int dirfd, curfd, tmpfd;
	char state_path[400]; /* relative to dirfd */
	char mbox_name[300];  /* NAME.mbox */
	char mbox_tmp[320];   /* the prefix of its temporary names */
	char mbox_tmpname[IMS_FS_TMP_MAX + 320];

	uint32_t uidvalidity;
	struct ims_seqset done; /* UIDs safely exported (the state file) */
	uint64_t mbox_size;     /* mbox: its size when the state was written */

	struct todo *todo;
	size_t n_todo;
	uint64_t total_bytes;

	/* the message being received */
	int cur_fd;
	char cur_tmp[64];
	int stop; /* ignore everything from now on */
	struct ims_error ioerr;

	/* Maildir: complete files waiting for the commit */
	struct pending *pend;
	size_t n_pend, cap_pend;
	uint64_t pend_bytes;
	int64_t last_commit;

	/* mbox */
	int mbox_fd;
	uint64_t mbox_off;  /* bytes written to mbox_fd */
	uint64_t mbox_good; /* end of the last complete message */
	uint64_t msg_start; /* where the message being received began */
	uint32_t *mbox_uids;
	size_t n_mbox_uids, cap_mbox_uids;
	char *out;
	size_t out_len;
	enum qstate q;
	int q_k;  /* bytes of "From " matched */
	int q_cr; /* a CR held back */

	/* progress */
	uint64_t fetched, bytes, skipped, cur_bytes;
	int64_t t0, last_progress;
	int progress;
};

static ims_err io_fail(struct export *x, const char *what, const char *name)
{
	int en = errno;

	if (x->ioerr.code == IMS_OK)
		ims_error_set(&x->ioerr, IMS_ERR_IO, "%s %s/%s: %s", what, x->dir, name,
		              strerror(en));
	return IMS_ERR_IO;
}

/* Make all data written so far durable: one syncfs() where Linux has it
 * (one journal commit for the whole batch), else fsync of fd. */
static int sync_all(int fd)
{
#ifdef __linux__
	if (syncfs(fd) == 0)
		return 0;
	if (errno != ENOSYS)
		return -1;
#endif
	return fsync(fd);
}

/* ---- progress ---------------------------------------------------------- */

static void progress(struct export *x, int final)
{
	int64_t now = ims_now_ms();
	double secs, rate;
	uint64_t done_b = x->bytes + x->cur_bytes;
	char a[32], b[32], eta[32] = "";

	if (!x->progress)
		return;
	if (!final && now - x->last_progress < PROGRESS_MS)
		return;
	x->last_progress = now;
	secs = (double)(now - x->t0) / 1000.0;
	rate = secs > 0 ? (double)done_b / secs : 0;
	ims_size_mb(done_b, a, sizeof(a));
	ims_size_mb(x->total_bytes, b, sizeof(b));
	if (!final && rate > 0 && x->total_bytes > done_b) {
		uint64_t left = (uint64_t)((double)(x->total_bytes - done_b) / rate);

		snprintf(eta, sizeof(eta), ", ETA %" PRIu64 ":%02" PRIu64, left / 60, left % 60);
	}
	fprintf(stderr, "\rexport: %" PRIu64 "/%zu messages, %s of %s, %.1f MB/s%s\033[K",
	        x->fetched, x->n_todo, a, b, rate / 1e6, eta);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

/* ---- the state file ------------------------------------------------------ */

static ims_err put_escaped(struct ims_buf *b, const char *s)
{
	ims_err e = IMS_OK;

	for (; *s != '\0' && e == IMS_OK; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch == 0x7f || ch == '%')
			e = ims_buf_printf(b, "%%%02X", ch);
		else
			e = ims_buf_putc(b, (char)ch);
	}
	return e;
}

static void unescape(char *s)
{
	char *o = s;

	for (; *s != '\0'; s++) {
		unsigned v;

		if (*s == '%' && sscanf(s + 1, "%2x", &v) == 1) {
			*o++ = (char)v;
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* Read the state file; *found_r 0 when there is none. */
static ims_err state_read(struct export *x, char *folder, size_t folder_n, char *fmt, size_t fmt_n,
                          int *found_r)
{
	struct cli *c = x->c;
	char *line = NULL, shown[700];
	size_t cap = 0;
	unsigned long lineno = 0;
	ssize_t len;
	FILE *f;
	int fd, version = 0;
	ims_err e = IMS_OK;

	*found_r = 0;
	folder[0] = fmt[0] = '\0';
	fd = ims_fs_open_read(x->dirfd, x->state_path, &c->err);
	if (fd == IMS_FS_MISSING)
		return IMS_OK;
	if (fd < 0)
		return ims_error_prefix(&c->err, "%s", x->dir);
	f = fdopen(fd, "r");
	if (f == NULL) {
		close(fd);
		return ims_error_nomem(&c->err);
	}
	snprintf(shown, sizeof(shown), "%s/%s", x->dir, x->state_path);
	while (e == IMS_OK &&
	       (len = ims_fs_getline(f, &line, &cap, &lineno, shown, &c->err)) != -1) {
		char *v;

		if (len == -2) {
			e = c->err.code;
			break;
		}
		if (line[0] == '#' || line[0] == '\0')
			continue;
		v = strchr(line, ' ');
		if (v == NULL)
			continue;
		*v++ = '\0';
		if (strcmp(line, "version") == 0) {
			version = atoi(v);
		} else if (strcmp(line, "format") == 0) {
			snprintf(fmt, fmt_n, "%s", v);
		} else if (strcmp(line, "folder") == 0) {
			unescape(v);
			snprintf(folder, folder_n, "%s", v);
		} else if (strcmp(line, "uidvalidity") == 0) {
			x->uidvalidity = (uint32_t)strtoul(v, NULL, 10);
		} else if (strcmp(line, "mbox-size") == 0) {
			x->mbox_size = strtoull(v, NULL, 10);
		} else if (strcmp(line, "uids") == 0 && strcmp(v, "none") != 0) {
			struct ims_error pe;

			if (ims_seqset_parse(&x->done, v, strlen(v), &pe) != IMS_OK)
				e = ims_error_set(&c->err, IMS_ERR_IO, "%s/%s is damaged: %s",
				                  x->dir, x->state_path, pe.msg);
		}
	}
	free(line);
	fclose(f);
	if (e != IMS_OK)
		return e;
	if (version != 1)
		return ims_error_set(&c->err, IMS_ERR_IO,
		                     "%s/%s: unknown state file version %d (a newer imapsh?)",
		                     x->dir, x->state_path, version);
	*found_r = 1;
	return IMS_OK;
}

/* Replace the state file: temp, fsync, rename, fsync DIR. */
static ims_err state_write(struct export *x)
{
	struct ims_buf set, b;
	struct ims_error e;
	ims_err r;

	ims_buf_init(&set, 0);
	ims_buf_init(&b, 0);
	if (!ims_seqset_empty(&x->done) && ims_seqset_format(&x->done, &set, &e) != IMS_OK) {
		ims_buf_release(&set);
		return ims_error_nomem(&x->ioerr);
	}
	r = ims_buf_printf(&b,
	                   "# imapsh export state: what is safely exported; delete to start over\n"
	                   "version 1\nformat %s\nfolder ",
	                   x->fmt == FMT_MBOX ? "mbox" : "maildir");
	if (r == IMS_OK)
		r = put_escaped(&b, x->folder);
	if (r == IMS_OK)
		r = ims_buf_printf(&b, "\nuidvalidity %" PRIu32 "\n", x->uidvalidity);
	if (r == IMS_OK && x->fmt == FMT_MBOX)
		r = ims_buf_printf(&b, "mbox-size %" PRIu64 "\n", x->mbox_size);
	if (r == IMS_OK)
		r = ims_buf_printf(&b, "uids %s\n", set.len > 0 ? set.data : "none");
	ims_buf_release(&set);
	if (r != IMS_OK) {
		ims_buf_release(&b);
		return ims_error_nomem(&x->ioerr);
	}
	/* A new file, fsynced, renamed over the old one, DIR fsynced. */
	ims_error_init(&e);
	r = ims_fs_write_file(x->dirfd, x->state_path, b.data, b.len, IMS_FS_SYNC, &e);
	ims_buf_release(&b);
	if (r != IMS_OK && x->ioerr.code == IMS_OK) {
		ims_error_copy(&x->ioerr, &e);
		ims_error_prefix(&x->ioerr, "cannot write %s", x->dir);
	}
	return r;
}

/* ---- Maildir ------------------------------------------------------------- */

/* Maildir flag letters, sorted: D F P R S T. */
static void maildir_flags(const struct ims_strings *fl, char *out)
{
	static const struct {
		const char *flag;
		char letter;
	} map[] = {{"\\Draft", 'D'},    {"\\Flagged", 'F'}, {"$Forwarded", 'P'},
	           {"\\Answered", 'R'}, {"\\Seen", 'S'},    {"\\Deleted", 'T'}};
	size_t i, k, n = 0;

	for (k = 0; k < sizeof(map) / sizeof(map[0]); k++)
		for (i = 0; i < fl->n; i++)
			if (strcasecmp(fl->v[i], map[k].flag) == 0) {
				out[n++] = map[k].letter;
				break;
			}
	out[n] = '\0';
}

static ims_err open_tmp(struct export *x)
{
	struct ims_error e;

	ims_error_init(&e);
	x->cur_fd = ims_fs_tmp_create(x->tmpfd, TMP_PREFIX, 0, x->cur_tmp, sizeof(x->cur_tmp), &e);
	if (x->cur_fd < 0)
		return io_fail(x, "cannot create a file in", "tmp");
	x->cur_bytes = 0;
	return IMS_OK;
}

/* The message being received did not complete: remove its file. */
static void drop_current(struct export *x)
{
	if (x->cur_fd < 0)
		return;
	if (x->fmt == FMT_MAILDIR) {
		close(x->cur_fd);
		unlinkat(x->tmpfd, x->cur_tmp, 0);
	} else {
		/* back to the end of the last complete message */
		x->out_len = 0;
		if (x->mbox_off > x->mbox_good && ftruncate(x->mbox_fd, (off_t)x->mbox_good) == 0 &&
		    lseek(x->mbox_fd, (off_t)x->mbox_good, SEEK_SET) >= 0)
			x->mbox_off = x->mbox_good;
	}
	x->cur_fd = -1;
	x->cur_bytes = 0;
}

/* Durable, then visible, then counted. */
static ims_err maildir_commit(struct export *x)
{
	size_t i;
	ims_err e = IMS_OK;
	struct ims_error se;

	if (x->n_pend == 0)
		return IMS_OK;
	if (sync_all(x->tmpfd) != 0)
		return io_fail(x, "cannot sync", "tmp");
	for (i = 0; i < x->n_pend && e == IMS_OK; i++)
		if (ims_fs_place(x->tmpfd, x->pend[i].tmp, x->curfd, x->pend[i].name, 0, &se) !=
		    IMS_OK)
			e = io_fail(x, "cannot rename into", "cur");
	if (fsync(x->curfd) != 0 && e == IMS_OK)
		e = io_fail(x, "cannot sync", "cur");
	if (e == IMS_OK)
		for (i = 0; i < x->n_pend; i++)
			if (ims_seqset_add(&x->done, x->pend[i].uid, x->pend[i].uid, &se) != IMS_OK)
				e = ims_error_nomem(&x->ioerr);
	if (e == IMS_OK)
		e = state_write(x);
	/* What failed to be renamed stays in tmp/ and is removed next time. */
	x->n_pend = 0;
	x->pend_bytes = 0;
	x->last_commit = ims_now_ms();
	return e;
}

static ims_err maildir_finish(struct export *x, const struct ims_fetch *f)
{
	struct pending *p;
	char flags[8];
	int64_t when = f->internaldate_epoch;

	if (x->n_pend == x->cap_pend) {
		size_t nc = x->cap_pend ? x->cap_pend * 2 : 256;
		struct pending *np = realloc(x->pend, nc * sizeof(*np));

		if (np == NULL)
			return ims_error_nomem(&x->ioerr);
		x->pend = np;
		x->cap_pend = nc;
	}
	if (when > 0) {
		struct timespec ts[2] = {{(time_t)when, 0}, {(time_t)when, 0}};

		if (futimens(x->cur_fd, ts) != 0)
			return io_fail(x, "cannot set the time of", x->cur_tmp);
	}
	/* No sync_file_range() here: starting writeback file by file made
	 * the export 15-25% slower (ext4, 10,000 messages); the commit's one
	 * syncfs() writes the batch at once. */
	if (close(x->cur_fd) != 0) {
		x->cur_fd = -1;
		return io_fail(x, "cannot write", x->cur_tmp);
	}
	x->cur_fd = -1;
	maildir_flags(&f->flags, flags);
	p = &x->pend[x->n_pend++];
	snprintf(p->tmp, sizeof(p->tmp), "%s", x->cur_tmp);
	snprintf(p->name, sizeof(p->name), "%" PRId64 ".V%" PRIu32 "U%" PRIu32 ".imapsh:2,%s",
	         when > 0 ? when : (int64_t)time(NULL), x->uidvalidity, f->uid, flags);
	p->uid = f->uid;
	x->pend_bytes += x->cur_bytes;
	return IMS_OK;
}

/* Remove what an earlier run left (DIR is locked: no other
 * export is writing there). */
static void clean_tmp(struct export *x, int dfd, const char *prefix)
{
	int fd = dup(dfd);
	DIR *d;
	struct dirent *de;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			unlinkat(dfd, de->d_name, 0);
	closedir(d);
}

/* ---- mbox ---------------------------------------------------------------- */

static ims_err mbox_flush(struct export *x)
{
	if (x->out_len == 0)
		return IMS_OK;
	if (ims_fs_write_all(x->mbox_fd, x->out, x->out_len, &cli_interrupted) != 0)
		return io_fail(x, "cannot write", x->mbox_tmpname);
	x->mbox_off += x->out_len;
	x->out_len = 0;
	return IMS_OK;
}

static ims_err mbox_put(struct export *x, const char *p, size_t n)
{
	while (n > 0) {
		size_t room = MBOX_OUTBUF - x->out_len, k = n < room ? n : room;

		memcpy(x->out + x->out_len, p, k);
		x->out_len += k;
		p += k;
		n -= k;
		if (x->out_len == MBOX_OUTBUF && mbox_flush(x) != IMS_OK)
			return IMS_ERR_IO;
	}
	return IMS_OK;
}

/* Message data into the mbox: CRLF becomes LF, and a line that matches
 * ^>*From  gets one more '>' (mboxrd). */
static ims_err mbox_feed(struct export *x, const char *p, size_t n)
{
	static const char from[] = "From ";
	size_t i = 0;

	while (i < n) {
		char ch = p[i];

		if (x->q_cr) {
			x->q_cr = 0;
			if (ch != '\n' && mbox_put(x, "\r", 1) != IMS_OK)
				return IMS_ERR_IO;
		}
		if (x->q == Q_BOL) {
			if (ch == '>') {
				if (mbox_put(x, ">", 1) != IMS_OK)
					return IMS_ERR_IO;
				i++;
				continue;
			}
			if (ch == 'F') {
				x->q = Q_MATCH;
				x->q_k = 1;
				i++;
				continue;
			}
			x->q = Q_MID;
		} else if (x->q == Q_MATCH) {
			if (ch == from[x->q_k]) {
				i++;
				if (++x->q_k == 5) {
					if (mbox_put(x, ">From ", 6) != IMS_OK)
						return IMS_ERR_IO;
					x->q = Q_MID;
				}
				continue;
			}
			if (mbox_put(x, from, (size_t)x->q_k) != IMS_OK)
				return IMS_ERR_IO;
			x->q = Q_MID;
		}
		/* Q_MID: copy up to the line end */
		{
			size_t j = i;

			while (j < n && p[j] != '\n' && p[j] != '\r')
				j++;
			if (mbox_put(x, p + i, j - i) != IMS_OK)
				return IMS_ERR_IO;
			i = j;
			if (i == n)
				break;
			if (p[i] == '\n') {
				if (mbox_put(x, "\n", 1) != IMS_OK)
					return IMS_ERR_IO;
				x->q = Q_BOL;
			} else {
				x->q_cr = 1;
			}
			i++;
		}
	}
	return IMS_OK;
}

static ims_err mbox_begin(struct export *x)
{
	x->msg_start = x->mbox_off + x->out_len;
	x->q = Q_BOL;
	x->q_k = 0;
	x->q_cr = 0;
	x->cur_fd = x->mbox_fd;
	x->cur_bytes = 0;
	return mbox_put(x, FROM_DUMMY, strlen(FROM_DUMMY));
}

static ims_err mbox_finish(struct export *x, const struct ims_fetch *f)
{
	static const char from[] = "From ";
	char line[80];
	time_t when = (time_t)f->internaldate_epoch;
	struct tm tm;

	if (x->q_cr && mbox_put(x, "\r", 1) != IMS_OK)
		return IMS_ERR_IO;
	if (x->q == Q_MATCH && mbox_put(x, from, (size_t)x->q_k) != IMS_OK)
		return IMS_ERR_IO;
	if (x->q != Q_BOL && mbox_put(x, "\n", 1) != IMS_OK)
		return IMS_ERR_IO;
	if (mbox_put(x, "\n", 1) != IMS_OK || mbox_flush(x) != IMS_OK)
		return IMS_ERR_IO;
	if (when <= 0)
		when = time(NULL);
	gmtime_r(&when, &tm);
	strftime(line, sizeof(line), "From MAILER-DAEMON %a %b %e %H:%M:%S %Y\n", &tm);
	if (strlen(line) == strlen(FROM_DUMMY) &&
	    pwrite(x->mbox_fd, line, strlen(line), (off_t)x->msg_start) != (ssize_t)strlen(line))
		return io_fail(x, "cannot write", x->mbox_tmpname);
	x->mbox_good = x->mbox_off;
	x->cur_fd = -1;
	if (x->n_mbox_uids == x->cap_mbox_uids) {
		size_t nc = x->cap_mbox_uids ? x->cap_mbox_uids * 2 : 1024;
		uint32_t *nu = realloc(x->mbox_uids, nc * sizeof(*nu));

		if (nu == NULL)
			return ims_error_nomem(&x->ioerr);
		x->mbox_uids = nu;
		x->cap_mbox_uids = nc;
	}
	x->mbox_uids[x->n_mbox_uids++] = f->uid;
	return IMS_OK;
}

/* Copy the existing mbox into the temp file (in the kernel where it can). */
static ims_err mbox_copy_old(struct export *x, int from)
{
	char buf[65536];

	for (;;) {
		ssize_t n;
#ifdef __linux__
		n = copy_file_range(from, NULL, x->mbox_fd, NULL, 1u << 30, 0);
		if (n > 0) {
			x->mbox_off += (uint64_t)n;
			continue;
		}
		if (n == 0)
			break;
		if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
			return io_fail(x, "cannot copy", x->mbox_name);
#endif
		n = read(from, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return io_fail(x, "cannot read", x->mbox_name);
		if (n == 0)
			break;
		if (ims_fs_write_all(x->mbox_fd, buf, (size_t)n, &cli_interrupted) != 0)
			return io_fail(x, "cannot write", x->mbox_tmpname);
		x->mbox_off += (uint64_t)n;
	}
	x->mbox_good = x->mbox_off;
	return IMS_OK;
}

static ims_err mbox_open(struct export *x)
{
	int old;
	ims_err e = IMS_OK;

	x->out = malloc(MBOX_OUTBUF);
	if (x->out == NULL)
		return ims_error_nomem(&x->ioerr);
	/* Only a regular file is copied (and its mode, the owner's choice);
	 * a link or a FIFO planted at NAME.mbox is refused. */
	old = ims_fs_open_read(x->dirfd, x->mbox_name, &x->ioerr);
	if (old == -1)
		return ims_error_prefix(&x->ioerr, "%s", x->dir);
	x->mbox_fd = ims_fs_tmp_create(x->dirfd, x->mbox_tmp, IMS_FS_RDWR, x->mbox_tmpname,
	                               sizeof(x->mbox_tmpname), &x->ioerr);
	if (x->mbox_fd < 0) {
		if (old >= 0)
			close(old);
		return ims_error_prefix(&x->ioerr, "cannot create a file in %s", x->dir);
	}
	if (old >= 0) {
		struct stat st;

		if (fstat(old, &st) == 0)
			(void)fchmod(x->mbox_fd, st.st_mode & 0777);
		e = mbox_copy_old(x, old);
		close(old);
	}
	return e;
}

/* Cut back to the last complete message, make it durable, put it in
 * place, then count it. */
static ims_err mbox_commit(struct export *x)
{
	size_t i;
	struct ims_error se;

	if (x->mbox_fd < 0)
		return IMS_OK;
	x->out_len = 0; /* a partial message still buffered */
	if (ftruncate(x->mbox_fd, (off_t)x->mbox_good) != 0 || fdatasync(x->mbox_fd) != 0)
		return io_fail(x, "cannot write", x->mbox_tmpname);
	close(x->mbox_fd);
	x->mbox_fd = -1;
	if (x->n_mbox_uids == 0) {
		unlinkat(x->dirfd, x->mbox_tmpname, 0);
		return IMS_OK;
	}
	if (ims_fs_place(x->dirfd, x->mbox_tmpname, x->dirfd, x->mbox_name, IMS_FS_SYNC, &se) !=
	    IMS_OK)
		return io_fail(x, "cannot rename", x->mbox_tmpname);
	x->mbox_size = x->mbox_good;
	for (i = 0; i < x->n_mbox_uids; i++)
		if (ims_seqset_add(&x->done, x->mbox_uids[i], x->mbox_uids[i], &se) != IMS_OK)
			return ims_error_nomem(&x->ioerr);
	x->n_mbox_uids = 0;
	return state_write(x);
}

/* ---- receiving ------------------------------------------------------------ */

static ims_err sink_write(void *ctx, const void *p, size_t n)
{
	struct export *x = ctx;

	if (x->stop || x->cur_fd < 0)
		return IMS_OK;
	x->cur_bytes += n;
	/* A failed write stops everything: the response that ends this
	 * message must not finish a file that lacks data. */
	if (x->fmt == FMT_MBOX) {
		if (mbox_feed(x, p, n) != IMS_OK) {
			x->stop = 1;
			return IMS_ERR_IO;
		}
	} else if (ims_fs_write_all(x->cur_fd, p, n, &cli_interrupted) != 0) {
		x->stop = 1;
		return io_fail(x, "cannot write", x->cur_tmp);
	}
	progress(x, 0);
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
	if ((x->fmt == FMT_MBOX ? mbox_begin(x) : open_tmp(x)) != IMS_OK) {
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
		drop_current(x);
		return IMS_OK;
	}
	if (!(f->have & IMS_FETCH_UID) || b->value->type == IMS_V_NIL) {
		drop_current(x);
		return IMS_OK;
	}
	/* Only a message asked for, once: a server cannot add mail to the
	 * export that the folder's search did not name. */
	key.uid = f->uid;
	t = bsearch(&key, x->todo, x->n_todo, sizeof(*t), todo_cmp);
	if (t == NULL || t->saved) {
		drop_current(x);
		return IMS_OK;
	}
	if (!(b->value->flags & IMS_VF_STREAMED)) {
		/* Small enough to come as a quoted string: write it here. */
		if (x->cur_fd >= 0)
			drop_current(x);
		e = x->fmt == FMT_MBOX ? mbox_begin(x) : open_tmp(x);
		if (e == IMS_OK)
			e = sink_write(x, b->value->s, b->value->len);
		if (e != IMS_OK)
			goto fail;
	}
	if (x->cur_fd < 0)
		return IMS_OK;
	e = x->fmt == FMT_MBOX ? mbox_finish(x, f) : maildir_finish(x, f);
	if (e != IMS_OK)
		goto fail;
	t->saved = 1;
	x->fetched++;
	x->bytes += x->cur_bytes;
	x->cur_bytes = 0;
	progress(x, 0);
	return IMS_OK;
fail:
	drop_current(x);
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
static ims_err plan(struct export *x)
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
	if (e == IMS_OK && (ims_cmd_raw(&cmd, set.data) != IMS_OK ||
	                    ims_cmd_raw(&cmd, "(UID FLAGS INTERNALDATE BODY.PEEK[])") != IMS_OK ||
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

static ims_err transfer(struct export *x)
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
	while (e == IMS_OK && (next < x->n_todo || n_fly > 0)) {
		while (n_fly < WINDOW && next < x->n_todo && e == IMS_OK) {
			size_t to = next;
			uint64_t bytes = 0;

			while (to < x->n_todo && to - next < BATCH_MSGS &&
			       (to == next || bytes + x->todo[to].size <= BATCH_BYTES))
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
			e = maildir_commit(x);
		if (e == IMS_ERR_IO && x->ioerr.code != IMS_OK)
			ims_error_copy(&c->err, &x->ioerr);
	}
	x->stop = 1;
	drop_current(x);
	if (n_fly > 0) {
		/* Commands still in flight would go on into a stopped export:
		 * drop the connection (the next command connects again). */
		ims_session_free(&c->sess);
		c->connected = 0;
		c->folder[0] = '\0';
	}
	return e;
}

/* ---- setting up ------------------------------------------------------------ */

/* DIR/cur, DIR/new, DIR/tmp: made 0700 if missing, never a link. */
static ims_err open_sub(struct export *x, const char *name, int *fd_r)
{
	*fd_r = ims_fs_subdir(x->dirfd, name, 1, &x->c->err);
	if (*fd_r < 0)
		return ims_error_prefix(&x->c->err, "%s", x->dir);
	return IMS_OK;
}

/* DIR/NAME.mbox: the folder name made a file name ('/' becomes '.'). */
static ims_err mbox_names(struct export *x)
{
	struct ims_buf b;
	struct ims_error e;
	char tmp[512];
	char *p;

	snprintf(tmp, sizeof(tmp), "%s", x->folder);
	for (p = tmp; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			*p = '.';
	ims_buf_init(&b, 0);
	if (ims_sanitize_filename(tmp, strlen(tmp), "folder", &b, &e) != IMS_OK) {
		ims_buf_release(&b);
		return ims_error_nomem(&x->c->err);
	}
	snprintf(x->mbox_name, sizeof(x->mbox_name), "%s.mbox", b.data);
	snprintf(x->mbox_tmp, sizeof(x->mbox_tmp), ".%s.imapsh-tmp", x->mbox_name);
	snprintf(x->state_path, sizeof(x->state_path), ".%s.imapsh-export", x->mbox_name);
	ims_buf_release(&b);
	return IMS_OK;
}

/* What the state file says against what the server says. */
static ims_err check_state(struct export *x, uint32_t server_uidv)
{
	struct cli *c = x->c;
	char folder[1024], fmt[32];
	int found;
	ims_err e = state_read(x, folder, sizeof(folder), fmt, sizeof(fmt), &found);
	char s1[512], s2[512];

	if (e != IMS_OK)
		return e;
	if (!found) {
		x->uidvalidity = server_uidv;
		return IMS_OK;
	}
	if (strcmp(folder, x->folder) != 0 &&
	    !(strcasecmp(folder, "INBOX") == 0 && strcasecmp(x->folder, "INBOX") == 0))
		return ims_error_set(&c->err, IMS_ERR_USAGE,
		                     "%s holds an export of folder '%s', not '%s': choose another "
		                     "directory",
		                     x->dir, cli_safe(folder, s1, sizeof(s1)),
		                     cli_safe(x->folder, s2, sizeof(s2)));
	if (x->fmt == FMT_MBOX && ims_fs_kind(x->dirfd, x->mbox_name) == IMS_FS_NONE) {
		/* The mbox was removed: start over. */
		ims_seqset_clear(&x->done);
		x->uidvalidity = server_uidv;
		return IMS_OK;
	}
	if (x->uidvalidity == server_uidv)
		return IMS_OK;
	if (!x->restart)
		return ims_error_set(
		    &c->err, IMS_ERR_NO,
		    "the UIDVALIDITY of %s changed from %" PRIu32 " to %" PRIu32
		    ": the server renumbered its messages, so the UIDs recorded in %s/%s no longer "
		    "name the same messages; export into a new directory, or add --restart to "
		    "fetch every message again (%s)",
		    cli_safe(x->folder, s1, sizeof(s1)), x->uidvalidity, server_uidv, x->dir,
		    x->state_path,
		    x->fmt == FMT_MBOX ? "the old mbox is kept as NAME.mbox.OLD-UIDVALIDITY"
		                       : "the files already in cur/ are kept");
	if (x->fmt == FMT_MBOX) {
		char old[400];

		snprintf(old, sizeof(old), "%s.%" PRIu32, x->mbox_name, x->uidvalidity);
		if (ims_fs_kind(x->dirfd, old) != IMS_FS_NONE)
			return ims_error_set(&c->err, IMS_ERR_IO, "%s/%s exists already", x->dir,
			                     old);
		if (renameat(x->dirfd, x->mbox_name, x->dirfd, old) != 0 && errno != ENOENT)
			return ims_error_set(&c->err, IMS_ERR_IO, "cannot rename %s/%s: %s", x->dir,
			                     x->mbox_name, strerror(errno));
		if (c->o.verbose)
			cli_warn("export: the old mbox is now %s/%s", x->dir, old);
	}
	ims_seqset_clear(&x->done);
	x->uidvalidity = server_uidv;
	/* Recorded now, so the next run does not ask again. */
	if (state_write(x) != IMS_OK)
		return ims_error_copy(&c->err, &x->ioerr);
	return IMS_OK;
}

static void summary(struct export *x, double secs)
{
	struct cli *c = x->c;

	if (c->o.json) {
		struct json_out j;

		json_init(&j, stdout);
		json_begin_object(&j);
		json_kv_str(&j, "folder", x->folder);
		json_kv_str(&j, "format", x->fmt == FMT_MBOX ? "mbox" : "maildir");
		json_kv_str(&j, "directory", x->dir);
		json_kv_int(&j, "uidvalidity", x->uidvalidity);
		json_kv_int(&j, "fetched", (int64_t)x->fetched);
		json_kv_int(&j, "skipped", (int64_t)x->skipped);
		json_kv_int(&j, "bytes", (int64_t)x->bytes);
		json_key(&j, "seconds");
		(void)ims_json_double(&j.w, (double)(int64_t)(secs * 1000) / 1000.0);
		json_end_object(&j);
		json_finish(&j);
	} else if (x->progress) {
		fprintf(stderr,
		        "export: %" PRIu64 " new, %" PRIu64 " already there, %.1f MB in %.1f s\n",
		        x->fetched, x->skipped, (double)x->bytes / 1e6, secs);
	}
}

static void on_signal(int sig)
{
	(void)sig;
	cli_interrupted = 1;
}

static ims_err export_run(struct export *x)
{
	struct cli *c = x->c;
	const struct ims_folder *f;
	ims_err e;

	/* Everything below happens through this descriptor. */
	x->dirfd = ims_fs_dir_open(x->dir, 1, &c->err);
	if (x->dirfd < 0)
		return ims_error_prefix(&c->err, "export");
	/* (A file system without locks gets none.) */
	if (flock(x->dirfd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK)
		return ims_error_set(&c->err, IMS_ERR_IO, "%s is in use by another export", x->dir);
	if (x->fmt == FMT_MBOX) {
		if (mbox_names(x) != IMS_OK)
			return c->err.code;
		/* left by a run that died (the state file is not one of them) */
		clean_tmp(x, x->dirfd, x->mbox_tmp);
	} else {
		snprintf(x->state_path, sizeof(x->state_path), "%s", STATE_NAME);
		if (open_sub(x, "tmp", &x->tmpfd) != IMS_OK ||
		    open_sub(x, "new", &x->curfd) != IMS_OK)
			return c->err.code;
		close(x->curfd);
		if (open_sub(x, "cur", &x->curfd) != IMS_OK)
			return c->err.code;
		clean_tmp(x, x->tmpfd, TMP_PREFIX);
	}
	{
		/* the state file's temporaries left by a run that died */
		char pre[64];

		ims_fs_write_file_prefix(x->state_path, pre, sizeof(pre));
		clean_tmp(x, x->dirfd, pre);
	}
	/* The directory is ready: now the server. */
	e = cli_need(c, CMD_LOGIN);
	if (e == IMS_OK)
		e = cli_select(c, x->folder, 0);
	if (e != IMS_OK)
		return e;
	f = ims_session_folder(c->sess);
	if (f == NULL || !(f->have & IMS_FOLDER_UIDVALIDITY))
		return ims_error_set(&c->err, IMS_ERR_NO,
		                     "the server gave no UIDVALIDITY for this folder: an export "
		                     "could not be resumed safely");
	e = check_state(x, f->uidvalidity);
	if (e == IMS_OK)
		e = plan(x);
	if (e != IMS_OK || x->n_todo == 0)
		return e;
	if (x->fmt == FMT_MBOX && mbox_open(x) != IMS_OK)
		return ims_error_copy(&c->err, &x->ioerr);
	x->progress = c->err_tty && !c->o.quiet;
	x->last_progress = ims_now_ms(); /* the first line once there is a rate */
	e = transfer(x);
	/* Whatever happened, what is complete is kept. */
	{
		ims_err ce = x->fmt == FMT_MBOX ? mbox_commit(x) : maildir_commit(x);

		if (ce != IMS_OK && e == IMS_OK)
			e = ims_error_copy(&c->err, &x->ioerr);
	}
	if (x->progress)
		progress(x, 1);
	return e;
}

static ims_err cmd_export(struct cli *c, int argc, char **argv)
{
	struct export x;
	struct sigaction sa, old_int, old_term;
	const char *pos[2] = {NULL, NULL};
	int i, npos = 0, own_signals = !c->interactive;
	ims_err e;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.fmt = FMT_MAILDIR;
	x.dirfd = x.curfd = x.tmpfd = x.cur_fd = x.mbox_fd = -1;
	if (cli_opt_str(&c->args, "format") != NULL &&
	    strcmp(cli_opt_str(&c->args, "format"), "mbox") == 0)
		x.fmt = FMT_MBOX;
	x.restart = cli_opt_flag(&c->args, "restart");
	for (i = 1; i < argc && npos < 2; i++)
		pos[npos++] = argv[i];
	if (npos != 2 && !(npos == 1 && c->o.output != NULL))
		return ims_error_set(
		    &c->err, IMS_ERR_USAGE,
		    "usage: export FOLDER DIR [--format maildir|mbox] [--restart]");
	x.folder = pos[0];
	x.dir = npos == 2 ? pos[1] : c->o.output;
	ims_error_init(&x.ioerr);
	ims_seqset_init(&x.done);
	if (own_signals) {
		/* Ctrl-C ends the transfer cleanly, also outside the shell. */
		memset(&sa, 0, sizeof(sa));
		sigemptyset(&sa.sa_mask);
		sa.sa_handler = on_signal;
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
		cli_interrupted = 0;
		ims_transport_set_cancel_flag(&cli_interrupted);
	}
	x.t0 = ims_now_ms();
	e = export_run(&x);
	if (x.progress && x.fetched == 0)
		fputs("\r\033[K", stderr);
	if (e == IMS_OK) {
		summary(&x, (double)(ims_now_ms() - x.t0) / 1000.0);
	} else if (x.fetched > 0 || e == IMS_ERR_CANCELLED) {
		char why[IMS_ERROR_MAX];

		snprintf(why, sizeof(why), "%s", c->err.msg[0] ? c->err.msg : "interrupted");
		ims_error_set(&c->err, e,
		              "export stopped: %s; %" PRIu64
		              " messages saved, run the same command again to go on",
		              why, x.fetched);
		if (e == IMS_ERR_CANCELLED)
			cli_warn("%s", c->err.msg); /* the front end is silent on cancel */
	}
	if (own_signals) {
		ims_transport_set_cancel_flag(NULL);
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	if (x.cur_fd >= 0 && x.fmt == FMT_MAILDIR)
		drop_current(&x);
	if (x.mbox_fd >= 0) {
		close(x.mbox_fd);
		unlinkat(x.dirfd, x.mbox_tmpname, 0);
	}
	if (x.tmpfd >= 0)
		close(x.tmpfd);
	if (x.curfd >= 0)
		close(x.curfd);
	if (x.dirfd >= 0)
		close(x.dirfd); /* and the lock */
	ims_seqset_release(&x.done);
	free(x.todo);
	free(x.pend);
	free(x.mbox_uids);
	free(x.out);
	return e;
}

/* ---- idle -------------------------------------------------------------------- */

struct watch {
	struct cli *c;
	uint32_t next_uid; /* the lowest UID not shown yet */
	int shown;
	struct ims_json j; /* --json: JSON Lines */
};

static void addr_text(const struct ims_address *a, struct ims_buf *out)
{
	struct ims_error e;

	if (a->name != NULL && a->name[0] != '\0' &&
	    ims_rfc2047_decode(a->name, strlen(a->name), out, NULL, &e) == IMS_OK)
		return;
	if (a->mailbox != NULL && ims_buf_puts(out, a->mailbox) == IMS_OK && a->host != NULL &&
	    ims_buf_putc(out, '@') == IMS_OK && ims_buf_puts(out, a->host) != IMS_OK)
		ims_buf_reset(out);
}

static ims_err watch_message(void *ctx, const struct ims_fetch *f, struct ims_error *err)
{
	struct watch *w = ctx;
	struct ims_buf from, subj;
	struct ims_error e;
	const struct ims_envelope *env = f->envelope;

	(void)err;
	if (!(f->have & IMS_FETCH_UID) || f->uid < w->next_uid)
		return IMS_OK;
	ims_buf_init(&from, 0);
	ims_buf_init(&subj, 0);
	if (env != NULL && env->from.n > 0)
		addr_text(&env->from.v[0], &from);
	if (env != NULL && env->subject != NULL &&
	    ims_rfc2047_decode(env->subject, strlen(env->subject), &subj, NULL, &e) != IMS_OK)
		ims_buf_reset(&subj);
	if (w->c->o.json) {
		(void)ims_json_object_begin(&w->j);
		(void)ims_json_key(&w->j, "uid");
		(void)ims_json_uint(&w->j, f->uid);
		(void)ims_json_key(&w->j, "from");
		(void)ims_json_string_n(&w->j, from.data ? from.data : "", from.len);
		(void)ims_json_key(&w->j, "subject");
		(void)ims_json_string_n(&w->j, subj.data ? subj.data : "", subj.len);
		(void)ims_json_object_end(&w->j);
	} else {
		/* One line, one record (output.h). */
		struct tsv t;

		tsv_begin(&t, stdout);
		tsv_fieldf(&t, "%" PRIu32, f->uid);
		tsv_field_n(&t, from.data, from.data != NULL ? from.len : 0);
		tsv_field_n(&t, subj.data, subj.data != NULL ? subj.len : 0);
		(void)tsv_end(&t);
	}
	ims_buf_release(&from);
	ims_buf_release(&subj);
	if (cli_stdout_check(w->c) != IMS_OK) { /* nobody reads: stop watching */
		ims_error_copy(err, &w->c->err);
		return err->code;
	}
	w->shown++;
	if (f->uid >= w->next_uid)
		w->next_uid = f->uid + 1;
	return IMS_OK;
}

/* Show the messages with UIDs from w->next_uid on. */
static ims_err watch_fetch(struct watch *w)
{
	struct cli *c = w->c;
	struct ims_fetch_handler h = {0};
	char set[32];

	h.message = watch_message;
	h.ctx = w;
	snprintf(set, sizeof(set), "%" PRIu32 ":*", w->next_uid);
	return ims_session_uid_fetch(c->sess, set, "(UID ENVELOPE)", &h, &c->err);
}

static ims_err cmd_idle(struct cli *c, int argc, char **argv)
{
	struct watch w;
	const struct ims_folder *f;
	int64_t deadline = 0, now;
	uint32_t exists;
	int use_idle;
	ims_err e = IMS_OK;

	memset(&w, 0, sizeof(w));
	w.c = c;
	if (argc > 1) {
		uint64_t v;

		if (cli_number(c, "idle: SECONDS", argv[1], 1, 100000000, &v) != IMS_OK)
			return c->err.code;
		deadline = (int64_t)v * 1000;
	}
	if ((e = cli_ready(c)) != IMS_OK)
		return e;
	if (deadline != 0)
		deadline += ims_now_ms();
	f = ims_session_folder(c->sess);
	if (c->o.json)
		ims_json_init_file(&w.j, stdout, IMS_JSON_LINES);
	if (f == NULL)
		return ims_error_set(&c->err, IMS_ERR_USAGE, "idle: no folder selected");
	if (f->have & IMS_FOLDER_UIDNEXT) {
		w.next_uid = f->uidnext;
	} else {
		struct ims_arg all = {IMS_ARG_RAW, "ALL", 3};
		struct ims_search_result sr;

		ims_search_result_init(&sr);
		e = ims_session_uid_search(c->sess, &all, 1, &sr, &c->err);
		w.next_uid = sr.n > 0 ? sr.uids[sr.n - 1] + 1 : 1;
		ims_search_result_release(&sr);
		if (e != IMS_OK)
			return e;
	}
	use_idle =
	    ims_session_has_cap(c->sess, "IDLE") || ims_session_has_cap(c->sess, "IMAP4rev2");
	exists = f->exists;
	while (e == IMS_OK && !(deadline != 0 && w.shown > 0)) {
		int changed = 0, gone = 0;
		int64_t chunk;

		if (cli_stdout_closed(c))
			return IMS_ERR_IO;
		now = ims_now_ms();
		if (deadline != 0 && now >= deadline)
			break;
		chunk = use_idle ? IDLE_REISSUE_MS : POLL_MS;
		if (deadline != 0 && deadline - now < chunk)
			chunk = deadline - now;
		if (use_idle) {
			int64_t until = now + chunk;

			e = ims_session_idle_start(c->sess, &c->err);
			while (e == IMS_OK && !changed) {
				int64_t left = until - ims_now_ms();

				if (left <= 0)
					break;
				/* nobody reads any more (| head): stop, log out */
				if (cli_stdout_closed(c)) {
					gone = 1;
					break;
				}
				if (left > IDLE_OUT_CHECK_MS)
					left = IDLE_OUT_CHECK_MS;
				e = ims_session_idle_wait(c->sess, (int)left, &changed, &c->err);
				f = ims_session_folder(c->sess);
				if (e == IMS_OK && changed && f != NULL && f->exists == exists)
					changed = 0; /* flags or an expunge and nothing new */
			}
			if (e == IMS_OK)
				e = ims_session_idle_done(c->sess, &c->err);
			if (e == IMS_OK && gone)
				return IMS_ERR_IO; /* quiet: cli_stdout_closed() said why */
		} else {
			struct timespec ts = {(time_t)(chunk / 1000),
			                      (long)(chunk % 1000) * 1000000};

			while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !cli_interrupted)
				;
			if (cli_interrupted)
				return IMS_ERR_CANCELLED;
			e = ims_session_noop(c->sess, &c->err);
			changed = 1;
		}
		f = ims_session_folder(c->sess);
		if (e == IMS_OK && changed && f != NULL && f->exists != exists) {
			e = watch_fetch(&w);
			f = ims_session_folder(c->sess);
			exists = f != NULL ? f->exists : 0;
		}
	}
	if (e != IMS_OK)
		return e;
	if (deadline != 0 && w.shown == 0)
		return ims_error_set(&c->err, IMS_ERR_NO, "idle: no new mail within %s seconds",
		                     argv[1]);
	return IMS_OK;
}

/* ---- the table ------------------------------------------------------------------ */

/* clang-format off */
static const struct cli_opt export_opts[] = {
	CLI_VALUE("format", 0, CLI_OPT_WORD, "maildir|mbox", "the kind of DIR (default maildir)"),
	CLI_FLAG("restart", 0, "when UIDVALIDITY changed: forget the state, fetch everything again"),
	CLI_OPT_OUTPUT_DIR("DIR when it is not given as an operand"),
	CLI_OPT_JSON,
	CLI_OPT_LIST_END,
};
/* clang-format on */

/* clang-format off */
static const struct cli_cmd bulk_cmds[] = {
	{ .name = "export", .usage = "export FOLDER DIR [--format maildir|mbox] [--restart]",
	  .summary = "download every message into a Maildir or an mbox; a second run fetches "
	             "only what is new",
	  .min_args = 1, .max_args = 2, .run = cmd_export, /* logs in after checking its words */
	  .options = export_opts },
	{ .name = "idle", .aliases = { "watch" }, .usage = "idle [SECONDS]",
	  .summary = "wait for new mail and print each new message (SECONDS: exit 1 if none came)",
	  .max_args = 1, .flags = CMD_FOLDER | CMD_ARGS_FIRST, .run = cmd_idle,
	  .options = cli_opts_json },
};
/* clang-format on */

const struct cli_cmd_group cli_group_bulk = {bulk_cmds, sizeof(bulk_cmds) / sizeof(bulk_cmds[0])};
