/* append: upload a message from a file or standard input. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmd/cmd.h"
#include "cli/msgarg.h"
#include "imapsh/fsafe.h"
#include "imapsh/caps.h"
#include "cli/output.h"
#include "imapsh/json.h"
#include "imapsh/number.h"
#include "imapsh/rfc2047.h"
#include "imapsh/sanitize.h"
#include "imapsh/seqset.h"
#include "imapsh/session.h"
#include "imapsh/words.h"
#include "imapsh/textwidth.h"
#include "imapsh/search.h"
#include "imapsh/units.h"

struct fd_source {
	int fd;
	int errnum;
};

static ims_err fd_read(void *ctx, void *p, size_t len, size_t *got_r)
{
	struct fd_source *s = ctx;

	for (;;) {
		ssize_t r = read(s->fd, p, len);

		if (r < 0 && errno == EINTR && !cli_interrupted)
			continue;
		if (r < 0) {
			s->errnum = errno;
			return IMS_ERR_IO;
		}
		*got_r = (size_t)r;
		return IMS_OK;
	}
}

/* Standard input (or a pipe, a FIFO) into an unlinked temporary file, so
 * that the size is known before the upload starts. */
static ims_err spool(struct cli *c, int in, int *fd_r)
{
	char buf[64 * 1024];
	int fd = ims_fs_anon_tmp(&c->err);

	if (fd < 0)
		return ims_error_prefix(&c->err, "append: a temporary file");
	for (;;) {
		ssize_t r = read(in, buf, sizeof(buf));

		if (r < 0 && errno == EINTR && !cli_interrupted)
			continue;
		if (r < 0) {
			int en = errno;

			close(fd);
			return ims_error_set(&c->err, IMS_ERR_IO, "append: reading: %s",
			                     strerror(en));
		}
		if (r == 0)
			break;
		if (ims_fs_write_all(fd, buf, (size_t)r, &cli_interrupted) != 0) {
			int en = errno;

			close(fd);
			return ims_error_set(&c->err, IMS_ERR_IO, "append: a temporary file: %s",
			                     strerror(en));
		}
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return ims_error_set(&c->err, IMS_ERR_IO, "append: %s", strerror(errno));
	}
	*fd_r = fd;
	return IMS_OK;
}

/* --flags FLAG,...: the flag words into flags[0..*n_r); they may point
 * into buf, which holds a copy of the option's value. */
static ims_err append_flags(struct cli *c, const char *opt, char *buf, size_t bufn,
                            const char **flags, size_t *n_r)
{
	char *p, *save = NULL;
	size_t nf = 0;

	*n_r = 0;
	if (opt == NULL)
		return IMS_OK;
	if (strlen(opt) >= bufn)
		return ims_error_set(&c->err, IMS_ERR_USAGE, "append: --flags is too long");
	snprintf(buf, bufn, "%s", opt);
	for (p = strtok_r(buf, ", ", &save); p != NULL; p = strtok_r(NULL, ", ", &save)) {
		if (nf == MAX_FLAGS)
			return ims_error_set(&c->err, IMS_ERR_USAGE, "at most %d flags", MAX_FLAGS);
		if (cmd_flag_word(c, p, &flags[nf]) != IMS_OK)
			return c->err.code;
		/* flag_word may return p itself: it lives in buf. */
		nf++;
	}
	*n_r = nf;
	return IMS_OK;
}

/* The message to send, open in fs->fd with its size in st->st_size: a
 * regular file as it is; anything else (a pipe, a terminal) spooled to
 * a temporary file first.  Nothing is open after a failure. */
static ims_err append_open(struct cli *c, const char *file, struct fd_source *fs, struct stat *st)
{
	const char *name = strcmp(file, "-") == 0 ? "standard input" : file;
	off_t pos;
	ims_err e;

	fs->fd = strcmp(file, "-") == 0 ? dup(STDIN_FILENO) : open(file, O_RDONLY | O_CLOEXEC);
	if (fs->fd < 0)
		return ims_error_set(&c->err, IMS_ERR_IO, "append: %s: %s", name, strerror(errno));
	if (fstat(fs->fd, st) != 0 || !S_ISREG(st->st_mode)) {
		int sp;

		if (fstat(fs->fd, st) == 0 && S_ISDIR(st->st_mode)) {
			close(fs->fd);
			return ims_error_set(&c->err, IMS_ERR_USAGE, "append: %s is a directory",
			                     file);
		}
		e = spool(c, fs->fd, &sp);
		close(fs->fd);
		if (e != IMS_OK)
			return e;
		fs->fd = sp;
		if (fstat(fs->fd, st) != 0) {
			close(fs->fd);
			return ims_error_set(&c->err, IMS_ERR_IO, "append: %s", strerror(errno));
		}
	}
	/* Standard input may be a file read in part already. */
	pos = lseek(fs->fd, 0, SEEK_CUR);
	if (pos > 0 && pos <= st->st_size)
		st->st_size -= pos;
	if (st->st_size == 0) {
		close(fs->fd);
		return ims_error_set(&c->err, IMS_ERR_USAGE, "append: %s is empty", name);
	}
	return IMS_OK;
}

/* Where the message went: its UID (UIDPLUS) when the server said. */
static ims_err append_report(struct cli *c, const char *folder, int json,
                             const struct ims_append_result *ar, int64_t size)
{
	char safe[512];

	cli_safe(folder, safe, sizeof(safe));
	if (json) {
		struct json_out j;

		json_init(&j, stdout);
		json_begin_object(&j);
		json_kv_str(&j, "folder", folder);
		json_key(&j, "uidvalidity");
		if (ar->have_uid)
			(void)ims_json_uint(&j.w, ar->uidvalidity);
		else
			json_null(&j);
		json_key(&j, "uid");
		if (ar->have_uid)
			(void)ims_json_uint(&j.w, ar->uid);
		else
			json_null(&j);
		json_kv_int(&j, "size", size);
		json_end_object(&j);
		json_finish(&j);
	} else if (c->out_tty) {
		if (!c->o.quiet) {
			if (ar->have_uid)
				printf("appended to %s as UID %u\n", safe, (unsigned)ar->uid);
			else
				printf("appended to %s\n", safe);
		}
	} else if (ar->have_uid) {
		printf("%u\n", (unsigned)ar->uid);
	}
	return cli_stdout_check(c);
}

ims_err cmd_append(struct cli *c, int argc, char **argv)
{
	static const char u[] = "append FOLDER FILE [--flags FLAG,...] [--date DATE]";
	const char *flags[MAX_FLAGS];
	char flagbuf[1024], date[64];
	struct ims_append_result ar;
	struct ims_source src;
	struct fd_source fs = {-1, 0};
	struct ims_buf wire;
	struct lopts lo;
	struct stat st;
	size_t nf = 0;
	const char *file;
	ims_err e;

	cmd_read_lopts(c, argc, argv, &lo);
	if (lo.npos != 2)
		return cmd_usage(c, u);
	file = lo.pos[1];
	if (append_flags(c, lo.flags, flagbuf, sizeof(flagbuf), flags, &nf) != IMS_OK)
		return c->err.code;
	if (lo.date != NULL && ims_datetime_imap(lo.date, date, sizeof(date)) != 0)
		return ims_error_set(
		    &c->err, IMS_ERR_USAGE,
		    "append: --date '%s': want 2026-01-31, 2026-01-31T10:00:00+01:00 "
		    "or 31-Jan-2026 10:00:00 +0100",
		    lo.date);
	if ((e = append_open(c, file, &fs, &st)) != IMS_OK)
		return e;
	if ((e = cli_ready(c)) != IMS_OK) {
		close(fs.fd);
		return e;
	}
	ims_buf_init(&wire, 0);
	e = cli_mbox_encode(c, lo.pos[0], &wire);
	src.read = fd_read;
	src.ctx = &fs;
	if (e == IMS_OK) {
		e = ims_session_append(c->sess, wire.data, wire.len, nf > 0 ? flags : NULL, nf,
		                       lo.date != NULL ? date : NULL, (uint64_t)st.st_size, &src,
		                       &ar, &c->err);
		e = cmd_folder_hint(c, e);
		if (e != IMS_OK && fs.errnum != 0)
			e = ims_error_set(&c->err, IMS_ERR_IO, "append: reading %s: %s", file,
			                  strerror(fs.errnum));
	}
	close(fs.fd);
	ims_buf_release(&wire);
	if (e != IMS_OK)
		return e;
	return append_report(c, lo.pos[0], lo.json, &ar, (int64_t)st.st_size);
}
