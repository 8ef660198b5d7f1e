/* export: a folder into a Maildir or an mbox, resumable (the driver; the
 * command table is bulk.c's, the other export_*.c files hold the parts).
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
 *     is committed, the rest is removed. */
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

void xp_summary(struct export *x, double secs)
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
		json_kv_int(&j, "flags_changed", (int64_t)x->flags_changed);
		json_kv_int(&j, "expunged", (int64_t)x->vanished);
		json_kv_int(&j, "removed", (int64_t)x->removed);
		json_key(&j, "seconds");
		(void)ims_json_double(&j.w, (double)(int64_t)(secs * 1000) / 1000.0);
		json_end_object(&j);
		json_finish(&j);
	} else if (x->progress) {
		fprintf(stderr,
		        "export: %" PRIu64 " new, %" PRIu64 " already there, %" PRIu64
		        " flag changes, %" PRIu64 " expunged on the server (%" PRIu64
		        " removed), %.1f MB in %.1f s\n",
		        x->fetched, x->skipped, x->flags_changed, x->vanished, x->removed,
		        (double)x->bytes / 1e6, secs);
	}
}

ims_err xp_stopped(struct export *x, ims_err e)
{
	struct cli *c = x->c;
	char why[IMS_ERROR_MAX];

	if (x->fetched == 0 && e != IMS_ERR_CANCELLED)
		return e;
	snprintf(why, sizeof(why), "%s", c->err.msg[0] ? c->err.msg : "interrupted");
	ims_error_set(&c->err, e,
	              "export stopped: %s; %" PRIu64
	              " messages saved, run the same command again to go on",
	              why, x->fetched);
	if (e == IMS_ERR_CANCELLED)
		cli_warn("%s", c->err.msg); /* the front end is silent on cancel */
	return e;
}

static void on_signal(int sig)
{
	(void)sig;
	cli_interrupted = 1;
}

/* The folder's HIGHESTMODSEQ (STATUS, before it is opened: a change made
 * after this is asked for again next time), 0 without CONDSTORE. */
static ims_err modseq_now(struct export *x, uint64_t *modseq_r)
{
	struct cli *c = x->c;
	struct ims_status_values sv;
	struct ims_buf wire;
	ims_err e;

	*modseq_r = 0;
	if (!ims_session_has_cap(c->sess, "CONDSTORE"))
		return IMS_OK;
	ims_buf_init(&wire, 0);
	memset(&sv, 0, sizeof(sv));
	e = cli_mbox_encode(c, x->folder, &wire);
	if (e == IMS_OK)
		e = ims_session_status(c->sess, wire.data, wire.len, IMS_STATUS_HIGHESTMODSEQ, &sv,
		                       &c->err);
	ims_buf_release(&wire);
	if (e == IMS_ERR_NO)
		return IMS_OK; /* the EXAMINE will say what is wrong */
	if (e == IMS_OK && (sv.have & IMS_STATUS_HIGHESTMODSEQ))
		*modseq_r = sv.highestmodseq;
	return e;
}

ims_err xp_run(struct export *x)
{
	struct cli *c = x->c;
	const struct ims_folder *f;
	uint64_t modseq = 0;
	ims_err e;

	/* Everything below happens through this descriptor. */
	x->dirfd = ims_fs_dir_open(x->dir, 1, &c->err);
	if (x->dirfd < 0)
		return ims_error_prefix(&c->err, "export");
	/* (A file system without locks gets none.)  The mbox files of an
	 * --all tree share DIR: the tree's own lock covers them. */
	if (x->mbox_base == NULL && flock(x->dirfd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK)
		return ims_error_set(&c->err, IMS_ERR_IO, "%s is in use by another export", x->dir);
	if (x->fmt == FMT_MBOX) {
		if (xp_mbox_names(x) != IMS_OK)
			return c->err.code;
		/* left by a run that died (the state file is not one of them) */
		xp_clean_tmp(x, x->dirfd, x->mbox_tmp);
	} else {
		snprintf(x->state_path, sizeof(x->state_path), "%s", STATE_NAME);
		if (xp_open_sub(x, "tmp", &x->tmpfd) != IMS_OK ||
		    xp_open_sub(x, "new", &x->curfd) != IMS_OK)
			return c->err.code;
		close(x->curfd);
		if (xp_open_sub(x, "cur", &x->curfd) != IMS_OK)
			return c->err.code;
		xp_clean_tmp(x, x->tmpfd, TMP_PREFIX);
	}
	{
		/* the state file's temporaries left by a run that died */
		char pre[64];

		ims_fs_write_file_prefix(x->state_path, pre, sizeof(pre));
		xp_clean_tmp(x, x->dirfd, pre);
	}
	/* The directory is ready: now the server. */
	e = cli_need(c, CMD_LOGIN);
	if (e == IMS_OK && x->fmt == FMT_MAILDIR)
		e = modseq_now(x, &modseq);
	if (e == IMS_OK)
		e = cli_select(c, x->folder, 0);
	if (e != IMS_OK)
		return e;
	f = ims_session_folder(c->sess);
	if (f == NULL || !(f->have & IMS_FOLDER_UIDVALIDITY))
		return ims_error_set(&c->err, IMS_ERR_NO,
		                     "the server gave no UIDVALIDITY for this folder: an export "
		                     "could not be resumed safely");
	e = xp_check_state(x, f->uidvalidity);
	if (e == IMS_OK)
		e = xp_labels_load(x);
	if (e == IMS_OK)
		e = xp_plan(x);
	if (e == IMS_OK && x->fmt == FMT_MAILDIR)
		e = xp_sync(x, modseq);
	if (e != IMS_OK || x->n_todo == 0)
		return e;
	if (x->fmt == FMT_MBOX && xp_mbox_open(x) != IMS_OK)
		return ims_error_copy(&c->err, &x->ioerr);
	x->progress = c->err_tty && !c->o.quiet;
	x->last_progress = ims_now_ms(); /* the first line once there is a rate */
	e = xp_transfer(x);
	/* Whatever happened, what is complete is kept. */
	{
		ims_err ce = x->fmt == FMT_MBOX ? xp_mbox_commit(x) : xp_maildir_commit(x);

		if (ce != IMS_OK && e == IMS_OK)
			e = ims_error_copy(&c->err, &x->ioerr);
	}
	if (x->progress)
		xp_progress(x, 1);
	return e;
}

void xp_init(struct export *x, struct cli *c, enum fmt fmt, int restart)
{
	memset(x, 0, sizeof(*x));
	x->c = c;
	x->fmt = fmt;
	x->restart = restart;
	x->dirfd = x->curfd = x->tmpfd = x->cur_fd = x->mbox_fd = -1;
	ims_error_init(&x->ioerr);
	ims_seqset_init(&x->done);
}

void xp_release(struct export *x)
{
	if (x->cur_fd >= 0 && x->fmt == FMT_MAILDIR)
		xp_drop_current(x);
	if (x->mbox_fd >= 0) {
		close(x->mbox_fd);
		unlinkat(x->dirfd, x->mbox_tmpname, 0);
	}
	if (x->tmpfd >= 0)
		close(x->tmpfd);
	if (x->curfd >= 0)
		close(x->curfd);
	if (x->dirfd >= 0)
		close(x->dirfd); /* and the lock */
	ims_seqset_release(&x->done);
	free(x->todo);
	free(x->pend);
	free(x->mbox_uids);
	free(x->out);
	free(x->present);
	x->present = NULL;
	xp_labels_release(x);
	x->todo = NULL;
	x->pend = NULL;
	x->mbox_uids = NULL;
	x->out = NULL;
	x->dirfd = x->curfd = x->tmpfd = x->cur_fd = x->mbox_fd = -1;
}

void xp_signals_begin(struct xp_signals *s, struct cli *c)
{
	struct sigaction sa;

	s->own = !c->interactive;
	if (!s->own)
		return;
	/* Ctrl-C ends the transfer cleanly, also outside the shell. */
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, &s->old_int);
	sigaction(SIGTERM, &sa, &s->old_term);
	cli_interrupted = 0;
	ims_transport_set_cancel_flag(&cli_interrupted);
}

void xp_signals_end(struct xp_signals *s)
{
	if (!s->own)
		return;
	ims_transport_set_cancel_flag(NULL);
	sigaction(SIGINT, &s->old_int, NULL);
	sigaction(SIGTERM, &s->old_term, NULL);
}
