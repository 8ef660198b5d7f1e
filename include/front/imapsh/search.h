/* The search language of the `search` command (man imapsh, the search command)
 * compiled to the keys of UID SEARCH.
 *
 * Words in, keys out: "from bob since 2026-01-01" becomes FROM "bob"
 * SINCE 31-Jan-2026... as struct ims_arg, ready for
 * ims_session_uid_search().  Key names are case-insensitive; "not KEY",
 * "or KEY KEY" and parentheses group (a parenthesis may touch a key or
 * a value: "(from", "bob)"); dates are 2026-01-31 or 31-Jan-2026, sizes
 * 12345, 10k, 1M (units.h); a word that starts with a digit, '*' or '#'
 * is a message set, read by the caller's grammar (set_fn), so that
 * `search` reads message numbers as every other command does.
 *
 * Errors are IMS_ERR_USAGE with words that start "search: " (or what
 * set_fn said), and IMS_ERR_NOMEM.
 *
 * Ownership: the keys point into words and into the program; words must
 * outlive the program.  ims_search_prog_release() frees what compile
 * made; init makes release safe.
 *
 * Part of the front-end library (src/front/): pure, uses base and imap;
 * only the front end uses it. */
#ifndef IMAPSH_SEARCH_H
#define IMAPSH_SEARCH_H

#include <stddef.h>

#include "imapsh/buf.h"
#include "imapsh/error.h"
#include "imapsh/writer.h"

/* The longest converted value (a date, a size, a canonical message set);
 * a longer canonical UID set is sent as the user wrote it. */
#define IMS_SEARCH_VALUE_MAX 48

/* A message set: append its canonical form to set_r and say whether it
 * names sequence numbers (*seq_r = 1, "#N") or UIDs.  On a bad word,
 * set err and return IMS_ERR_USAGE. */
typedef ims_err ims_search_set_fn(void *ctx, const char *word, int *seq_r, struct ims_buf *set_r,
                                  struct ims_error *err);

struct ims_search_prog {
	struct ims_arg *keys; /* n keys for UID SEARCH */
	size_t n;
	/* private */
	char (*store_)[IMS_SEARCH_VALUE_MAX];
	char **owned_;
	size_t nowned_;
};

void ims_search_prog_init(struct ims_search_prog *prog);
/* Compile words[0..n) into prog (init'ed).  On an error prog->n is 0. */
ims_err ims_search_compile(struct ims_search_prog *prog, char *const *words, size_t n,
                           ims_search_set_fn *set_fn, void *set_ctx,
                           struct ims_error *err) IMS_MUST_CHECK;
void ims_search_prog_release(struct ims_search_prog *prog);

#endif
