/* The export's state file (what is safely exported), its checks against
 * the server, progress, and the shared I/O failure helper. */
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

ims_err xp_io_fail(struct export *x, const char *what, const char *name)
{
	int en = errno;

	if (x->ioerr.code == IMS_OK)
		ims_error_set(&x->ioerr, IMS_ERR_IO, "%s %s/%s: %s", what, x->dir, name,
		              strerror(en));
	return IMS_ERR_IO;
}

/* Make all data written so far durable: one syncfs() where Linux has it
 * (one journal commit for the whole batch), else fsync of fd. */
int xp_sync_all(int fd)
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

void xp_progress(struct export *x, int final)
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

ims_err xp_put_escaped(struct ims_buf *b, const char *s)
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

void xp_unescape(char *s)
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
			xp_unescape(v);
			snprintf(folder, folder_n, "%s", v);
		} else if (strcmp(line, "uidvalidity") == 0) {
			x->uidvalidity = (uint32_t)strtoul(v, NULL, 10);
		} else if (strcmp(line, "highestmodseq") == 0) {
			x->modseq = strtoull(v, NULL, 10);
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
ims_err xp_state_write(struct export *x)
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
		r = xp_put_escaped(&b, x->folder);
	if (r == IMS_OK)
		r = ims_buf_printf(&b, "\nuidvalidity %" PRIu32 "\n", x->uidvalidity);
	if (r == IMS_OK && x->fmt == FMT_MBOX)
		r = ims_buf_printf(&b, "mbox-size %" PRIu64 "\n", x->mbox_size);
	if (r == IMS_OK && x->modseq > 0)
		r = ims_buf_printf(&b, "highestmodseq %" PRIu64 "\n", x->modseq);
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

/* A UIDVALIDITY change: the old generation's files move from cur/ and
 * new/ into the Maildir DIR/.uidvalidity-OLD/ (a subfolder to Maildir++
 * readers), so the two are never mixed; named on stderr. */
static ims_err keep_aside(struct export *x)
{
	static const char *const subs[] = {"cur", "new"};
	char aside[64], shown[512];
	int afd, i;
	ims_err e = IMS_OK;

	snprintf(aside, sizeof(aside), ".uidvalidity-%" PRIu32, x->uidvalidity);
	afd = ims_fs_subdir(x->dirfd, aside, 1, &x->ioerr);
	if (afd < 0)
		return ims_error_prefix(&x->ioerr, "%s", x->dir);
	for (i = 0; i < 2 && e == IMS_OK; i++) {
		int from = ims_fs_subdir(x->dirfd, subs[i], 1, &x->ioerr);
		int to = from >= 0 ? ims_fs_subdir(afd, subs[i], 1, &x->ioerr) : -1;
		int fd = to >= 0 ? dup(from) : -1;
		DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
		struct dirent *de;

		if (d == NULL) {
			e = xp_io_fail(x, "cannot keep aside the old files of", subs[i]);
		} else {
			while ((de = readdir(d)) != NULL && e == IMS_OK)
				if (de->d_name[0] != '.' &&
				    renameat(from, de->d_name, to, de->d_name) != 0)
					e = xp_io_fail(x, "cannot keep aside", de->d_name);
			closedir(d);
			if (e == IMS_OK && (fsync(to) != 0 || fsync(from) != 0))
				e = xp_io_fail(x, "cannot sync", subs[i]);
		}
		if (from >= 0)
			close(from);
		if (to >= 0)
			close(to);
	}
	if (e == IMS_OK) {
		int tfd = ims_fs_subdir(afd, "tmp", 1, &x->ioerr);

		if (tfd >= 0)
			close(tfd);
	}
	close(afd);
	if (e == IMS_OK)
		cli_warn("export: %s: UIDVALIDITY changed from %" PRIu32 ": the old export is kept "
		         "aside in %s/%s",
		         cli_safe(x->folder, shown, sizeof(shown)), x->uidvalidity, x->dir, aside);
	return e;
}

/* What the state file says against what the server says. */
ims_err xp_check_state(struct export *x, uint32_t server_uidv)
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
		                       : "the old files are kept aside in DIR/.uidvalidity-OLD");
	if (x->fmt == FMT_MBOX) {
		char old[400];

		snprintf(old, sizeof(old), "%s.%" PRIu32, x->mbox_name, x->uidvalidity);
		if (ims_fs_kind(x->dirfd, old) != IMS_FS_NONE)
			return ims_error_set(&c->err, IMS_ERR_IO, "%s/%s exists already", x->dir,
			                     old);
		if (renameat(x->dirfd, x->mbox_name, x->dirfd, old) != 0 && errno != ENOENT)
			return ims_error_set(&c->err, IMS_ERR_IO, "cannot rename %s/%s: %s", x->dir,
			                     x->mbox_name, strerror(errno));
		cli_warn("export: %s: UIDVALIDITY changed: the old mbox is kept as %s/%s",
		         cli_safe(x->folder, s1, sizeof(s1)), x->dir, old);
	} else if (keep_aside(x) != IMS_OK) {
		return ims_error_copy(&c->err, &x->ioerr);
	}
	x->modseq = 0;
	ims_seqset_clear(&x->done);
	x->uidvalidity = server_uidv;
	/* Recorded now, so the next run does not ask again. */
	if (xp_state_write(x) != IMS_OK)
		return ims_error_copy(&c->err, &x->ioerr);
	return IMS_OK;
}
