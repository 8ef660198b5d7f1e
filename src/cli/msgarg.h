/* The one message-argument grammar, for every command that takes
 * messages (list, fetch, flag, copy, move, delete, show, structure,
 * save...):
 *
 *   42          the message with UID 42
 *   1:100       UIDs 1 to 100 (either end may be "*")
 *   1,5,9:12    a set
 *   *           the highest UID: the newest message
 *   #7, #1:5, #*   the same with message sequence numbers
 *
 * The set syntax is RFC 9051's sequence-set (seqset.h: no 0, no leading
 * zeros, no spaces).  Commands that work on one message take any form
 * that names at most one message: a number, "*", "#N" or "#*".
 *
 * Pure: no I/O.  Ownership: the argument owns its canonical set text;
 * cli_msgarg_release() frees it. */
#ifndef IMAPSH_CLI_MSGARG_H
#define IMAPSH_CLI_MSGARG_H

#include <stdint.h>

#include "imapsh/buf.h"
#include "imapsh/error.h"

struct cli_msgarg {
	int seq;            /* "#": sequence numbers, not UIDs */
	struct ims_buf set; /* the canonical set, NUL-terminated ("1:3,7", "*") */
	uint32_t single;    /* the one number when the set is one number, else 0 */
	int star;           /* the set is just "*" */
};

/* Cannot fail; allocates nothing. */
void cli_msgarg_init(struct cli_msgarg *m);
void cli_msgarg_release(struct cli_msgarg *m);

/* Parse word into m (initialised).  IMS_ERR_USAGE with words naming the
 * forms accepted, IMS_ERR_NOMEM. */
ims_err cli_msgarg_parse(const char *word, struct cli_msgarg *m,
                         struct ims_error *err) IMS_MUST_CHECK;

/* 1 when m names at most one message (a number or "*"). */
int cli_msgarg_is_one(const struct cli_msgarg *m);

/* Parse word as one message (cli_msgarg_is_one); IMS_ERR_USAGE with
 * words, prefixed by what ("show"), for a set of several. */
ims_err cli_msgarg_parse_one(const char *what, const char *word, struct cli_msgarg *m,
                             struct ims_error *err) IMS_MUST_CHECK;

#endif
