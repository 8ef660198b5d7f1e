/* The import's private header: the messages of a source (a Maildir or an
 * mbox, import_source.c), the journal of what was uploaded
 * (import_state.c), and the driver (import.c).  Nothing outside
 * src/cli/cmd/ includes it. */
#ifndef IMAPSH_CLI_CMD_IMPORT_H
#define IMAPSH_CLI_CMD_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "cli/cli.h"
#include "imapsh/buf.h"
#include "imapsh/crypto.h"
#include "imapsh/error.h"

/* One message of a source. */
struct im_msg {
	char *name;        /* Maildir: the file's name in cur/ or new/; mbox: NULL */
	int in_new;        /* Maildir: in new/ */
	uint64_t off, len; /* mbox: the message's raw bytes in the file */
	uint64_t size;     /* the bytes sent (CRLF line ends) */
	int64_t date;      /* INTERNALDATE to give, seconds since 1970; 0: none */
	char flags[8];     /* Maildir letters, sorted (D F P R S T) */
	unsigned char hash[IMS_SHA256_LEN]; /* of the bytes sent */
	char *msgid;                        /* Message-ID, for the unknown-outcome check */
	char *labels; /* Gmail labels from an export's sidecar (TAB-separated, %XX), or NULL */
};

struct im_source {
	const char *path; /* as typed */
	int is_mbox;
	int dirfd; /* Maildir: the directory; mbox: the file's directory */
	int curfd, newfd;
	char base[256]; /* mbox: the file's name in dirfd */
	int fd;         /* mbox: the file, read with pread() */
	uint64_t size;  /* mbox: its bytes when it was scanned */
	struct im_msg *v;
	size_t n, cap;
	uint64_t bytes;
};

/* Open path (a Maildir directory or an mbox file) and list its messages
 * with their sizes, dates, flags and hashes. */
ims_err im_source_open(struct im_source *s, const char *path, struct ims_error *err);
/* The bytes to send for m (CRLF line ends; an mbox's From quoting undone)
 * into out (reset first). */
ims_err im_source_read(struct im_source *s, const struct im_msg *m, struct ims_buf *out,
                       struct ims_error *err);
void im_source_release(struct im_source *s);
/* bytes to CRLF line ends (a lone LF gets a CR), appended to out. */
ims_err im_crlf(const char *p, size_t n, struct ims_buf *out);

/* The journal: SOURCE/.imapsh-import-ID (beside an mbox:
 * .NAME.imapsh-import-ID), ID naming the target account and folder.
 * Appended to and fdatasync()ed: "sent HASH" before a batch goes out,
 * "done HASH UID" when the server said OK, "clear HASH" when a message
 * sent with no known outcome was found missing on the server. */
struct im_count {
	unsigned char hash[IMS_SHA256_LEN];
	unsigned sent, done, cleared;
};

struct im_state {
	int fd;
	char name[300];
	uint32_t uidvalidity; /* of the target folder when the journal was begun */
	struct im_count *v;
	size_t n, cap;
	int sorted;
};

/* Read the journal for target ("USER@HOST/FOLDER": the port is not part of it, a relay or STARTTLS
 * reach the same folder) and open it for appending (readonly: only read, for --dry-run). */
ims_err im_state_open(struct im_state *st, struct im_source *src, const char *target, int readonly,
                      struct ims_error *err);
/* The counts for hash (NULL when it was never sent). */
struct im_count *im_state_find(struct im_state *st, const unsigned char *hash);
/* Append one line per message ("sent", "done" with its UID, "clear") and
 * make it durable. */
ims_err im_state_log(struct im_state *st, const char *what, const struct im_msg *const *m,
                     const uint32_t *uids, size_t n, struct ims_error *err);
ims_err im_state_uidvalidity(struct im_state *st, uint32_t uidvalidity, struct ims_error *err);
void im_state_release(struct im_state *st);

/* Batches: long enough that the round trip between them is small against
 * the data (10,000 messages of 13 kB: 100 batches), short enough that a
 * crash leaves few messages of unknown outcome to look for. */
#define IM_BATCH_MSGS  100
#define IM_BATCH_BYTES (8u * 1024 * 1024)

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
	/* --compress auto: a small command's round trip, the probe batches'
	 * sums, the bytes of the source and those behind the batch cut */
	int64_t rtt_ms, z_ms;
	int zmeasure;
	uint64_t z_bytes, z_total, z_done;
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

/* import_send.c: the messages of p->src not yet taken, uploaded. */
ims_err im_upload(struct imp *p);

/* import.c: the command and its options (in export.c's table). */
ims_err cli_cmd_import(struct cli *c, int argc, char **argv);
extern const struct cli_opt cli_import_opts[];

#endif
