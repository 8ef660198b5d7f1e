/* The export's private header: the state of one folder's export and the
 * functions its files share (export.c the driver and the command table,
 * export_fetch.c the pipelined transfer, export_maildir.c and
 * export_mbox.c the two writers, export_state.c the state file and the
 * checks against the server).  Nothing outside src/cli/cmd/ includes it. */
#ifndef IMAPSH_CLI_CMD_EXPORT_H
#define IMAPSH_CLI_CMD_EXPORT_H

#include <signal.h>
#include <stdint.h>
#include <stddef.h>

#include "cli/cli.h"
#include "imapsh/error.h"
#include "imapsh/fsafe.h"
#include "imapsh/seqset.h"
#include "imapsh/session.h"

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
/* --compress auto: while it measures, one batch of this size at a time
 * (the switch needs no command in flight; compress_auto.c), timed from
 * its first byte of mail to its end: 0.4 s at 10 Mbit/s, 40 ms at 100. */
#define ZPROBE_BYTES (512u * 1024)

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

/* Gmail labels of one message (export_labels.c). */
struct xp_label {
	uint32_t uid;
	char *line; /* the sidecar line after "UID<TAB>" */
};
#define XP_LABELS_NAME ".imapsh-labels"

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
	char state_path[400];  /* relative to dirfd */
	const char *mbox_base; /* an --all tree: the mbox's name without .mbox */
	char mbox_name[300];   /* NAME.mbox */
	char mbox_tmp[320];    /* the prefix of its temporary names */
	char mbox_tmpname[IMS_FS_TMP_MAX + 320];

	uint32_t uidvalidity;
	struct ims_seqset done; /* UIDs safely exported (the state file) */
	uint64_t modseq;        /* HIGHESTMODSEQ of the last complete run, 0: none */
	int mirror;             /* --mirror: remove what the server expunged */
	uint32_t *present;      /* the folder's UIDs (UID SEARCH ALL), ascending */
	size_t n_present;
	uint64_t flags_changed, vanished, removed;
	int gm_labels; /* X-GM-EXT-1: labels fetched and kept in the sidecar */
	struct xp_label *lab;
	size_t n_lab, cap_lab;
	int lab_dirty;
	uint64_t mbox_size; /* mbox: its size when the state was written */

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

	/* --compress auto's measure: each probe batch from its first byte of
	 * mail to its end, summed */
	int zmeasure;
	int64_t z_t0, z_ms;
	uint64_t z_b0, z_bytes;
};

/* export.c */
void xp_init(struct export *x, struct cli *c, enum fmt fmt, int restart);
/* One folder's export into x->dir (x->folder, and x->mbox_base for an
 * --all tree's mbox, set by the caller). */
ims_err xp_run(struct export *x);
/* An error e after some messages were saved (or an interrupt): the
 * message says so and how to go on; returns e. */
ims_err xp_stopped(struct export *x, ims_err e);
/* The closing line of a finished export, on stderr (progress). */
void xp_summary(struct export *x, double secs);
void xp_release(struct export *x);

/* Ctrl-C and SIGTERM stop a transfer cleanly (also in one-shot mode). */
struct xp_signals {
	int own;
	struct sigaction old_int, old_term;
};
void xp_signals_begin(struct xp_signals *s, struct cli *c);
void xp_signals_end(struct xp_signals *s);

/* export_all.c: export --all DIR; --jobs N worker processes, each with its
 * own connection. */
#define XP_JOBS_MAX 16
/* Measured on the test bed (loopback, 9 folders, 41 messages; seconds for
 * a full export / an unchanged rerun): 1 job 0.41 / 0.19, 2 jobs 0.47 /
 * 0.31-0.43, 4 jobs 0.50-0.64 / 0.52-0.59: each worker pays a TLS
 * handshake and a login, which a near server does not repay.  More jobs
 * are for a far server with many folders. */
#define XP_JOBS_DEFAULT 1
ims_err xp_export_all(struct cli *c, const char *dir, enum fmt fmt);

/* export_state.c */
/* Record errno's words for WHAT DIR/NAME in x->ioerr (the first failure
 * wins); returns IMS_ERR_IO. */
ims_err xp_io_fail(struct export *x, const char *what, const char *name);
/* Make all data written so far durable: syncfs() where Linux has it. */
int xp_sync_all(int fd);
/* The progress line on stderr (at most every PROGRESS_MS unless final). */
void xp_progress(struct export *x, int final);
/* A name in a state file: %XX for controls and '%', and back in place. */
ims_err xp_put_escaped(struct ims_buf *b, const char *s);
void xp_unescape(char *s);
/* Replace the state file: temp, fsync, rename, fsync DIR. */
ims_err xp_state_write(struct export *x);
/* Read the state file and hold it against the server's UIDVALIDITY. */
ims_err xp_check_state(struct export *x, uint32_t server_uidv);
/* Remove the files named PREFIX* in dfd (DIR is locked). */
void xp_clean_tmp(struct export *x, int dfd, const char *prefix);

/* export_maildir.c */
ims_err xp_open_sub(struct export *x, const char *name, int *fd_r);
ims_err xp_open_tmp(struct export *x);
void xp_drop_current(struct export *x);
ims_err xp_maildir_finish(struct export *x, const struct ims_fetch *f);
ims_err xp_maildir_commit(struct export *x);

/* Maildir flag letters of a flag list, sorted (D F P R S T). */
void xp_maildir_flags(const struct ims_strings *fl, char *out);

/* export_labels.c: the Gmail labels sidecar. */
ims_err xp_labels_load(struct export *x);
ims_err xp_labels_take(struct export *x, const struct ims_fetch *f);
ims_err xp_labels_save(struct export *x);
void xp_labels_release(struct export *x);

/* export_sync.c: flag changes and expunges since the last run (Maildir). */
/* modseq: the folder's HIGHESTMODSEQ now, 0 without CONDSTORE. */
ims_err xp_sync(struct export *x, uint64_t modseq);

/* export_mbox.c */
ims_err xp_mbox_names(struct export *x);
ims_err xp_mbox_open(struct export *x);
ims_err xp_mbox_begin(struct export *x);
ims_err xp_mbox_feed(struct export *x, const char *p, size_t n);
ims_err xp_mbox_finish(struct export *x, const struct ims_fetch *f);
ims_err xp_mbox_commit(struct export *x);

/* export_fetch.c */
/* The UIDs in the folder not exported yet, with their sizes. */
ims_err xp_plan(struct export *x);
/* The pipelined UID FETCH of x->todo into the writer. */
ims_err xp_transfer(struct export *x);

/* idle.c */
ims_err cli_cmd_idle(struct cli *c, int argc, char **argv);

#endif
