/* The export's mbox writer (mboxrd): the old mbox copied into a temp
 * file, new messages appended through the From-quoting, CRLF-to-LF
 * filter, renamed over NAME.mbox once at the end or on a stop. */
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

/* ---- mbox ---------------------------------------------------------------- */

static ims_err mbox_flush(struct export *x)
{
	if (x->out_len == 0)
		return IMS_OK;
	if (ims_fs_write_all(x->mbox_fd, x->out, x->out_len, &cli_interrupted) != 0)
		return xp_io_fail(x, "cannot write", x->mbox_tmpname);
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
ims_err xp_mbox_feed(struct export *x, const char *p, size_t n)
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

ims_err xp_mbox_begin(struct export *x)
{
	x->msg_start = x->mbox_off + x->out_len;
	x->q = Q_BOL;
	x->q_k = 0;
	x->q_cr = 0;
	x->cur_fd = x->mbox_fd;
	x->cur_bytes = 0;
	return mbox_put(x, FROM_DUMMY, strlen(FROM_DUMMY));
}

ims_err xp_mbox_finish(struct export *x, const struct ims_fetch *f)
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
		return xp_io_fail(x, "cannot write", x->mbox_tmpname);
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
			return xp_io_fail(x, "cannot copy", x->mbox_name);
#endif
		n = read(from, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return xp_io_fail(x, "cannot read", x->mbox_name);
		if (n == 0)
			break;
		if (ims_fs_write_all(x->mbox_fd, buf, (size_t)n, &cli_interrupted) != 0)
			return xp_io_fail(x, "cannot write", x->mbox_tmpname);
		x->mbox_off += (uint64_t)n;
	}
	x->mbox_good = x->mbox_off;
	return IMS_OK;
}

ims_err xp_mbox_open(struct export *x)
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
ims_err xp_mbox_commit(struct export *x)
{
	size_t i;
	struct ims_error se;

	if (x->mbox_fd < 0)
		return IMS_OK;
	x->out_len = 0; /* a partial message still buffered */
	if (ftruncate(x->mbox_fd, (off_t)x->mbox_good) != 0 || fdatasync(x->mbox_fd) != 0)
		return xp_io_fail(x, "cannot write", x->mbox_tmpname);
	close(x->mbox_fd);
	x->mbox_fd = -1;
	if (x->n_mbox_uids == 0) {
		unlinkat(x->dirfd, x->mbox_tmpname, 0);
		return IMS_OK;
	}
	if (ims_fs_place(x->dirfd, x->mbox_tmpname, x->dirfd, x->mbox_name, IMS_FS_SYNC, &se) !=
	    IMS_OK)
		return xp_io_fail(x, "cannot rename", x->mbox_tmpname);
	x->mbox_size = x->mbox_good;
	for (i = 0; i < x->n_mbox_uids; i++)
		if (ims_seqset_add(&x->done, x->mbox_uids[i], x->mbox_uids[i], &se) != IMS_OK)
			return ims_error_nomem(&x->ioerr);
	x->n_mbox_uids = 0;
	if (xp_labels_save(x) != IMS_OK)
		return IMS_ERR_IO;
	return xp_state_write(x);
}

/* DIR/NAME.mbox: the folder name made a file name ('/' becomes '.'). */
ims_err xp_mbox_names(struct export *x)
{
	struct ims_buf b;
	struct ims_error e;
	char tmp[512];
	char *p;

	if (x->mbox_base != NULL) { /* already a safe name (folderpath.h) */
		snprintf(x->mbox_name, sizeof(x->mbox_name), "%s.mbox", x->mbox_base);
		snprintf(x->mbox_tmp, sizeof(x->mbox_tmp), ".%s.imapsh-tmp", x->mbox_name);
		snprintf(x->state_path, sizeof(x->state_path), ".%s.imapsh-export", x->mbox_name);
		return IMS_OK;
	}
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
