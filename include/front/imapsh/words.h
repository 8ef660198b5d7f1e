/* Split a command line into words, as a shell does for simple quoting:
 *
 *   'single quotes'   everything literal up to the next '
 *   "double quotes"   literal, but a backslash takes the next character
 *                     as it is ("a \"b\" c", "C:\\dir")
 *   \x                outside quotes: x itself (a\ b is one word)
 *   ; or LF           outside quotes: ends a command (-c 'CMD; CMD', the
 *                     shell, a multi-line paste)
 *   #                 at the start of a word, outside quotes: a comment to
 *                     the end of the line (a later ';' included)
 *
 * Words are separated by spaces, tabs and CR; quotes join with what
 * touches them (a"b c"d is one word, "a'b c'd"); '' and "" give an empty
 * word.  A backslash at the very end of the line is kept as it is.  An
 * unterminated quote is an IMS_ERR_USAGE with words.  There is no
 * expansion of any kind ($, ~, *, `).
 *
 * Pure: no I/O.  Ownership: struct ims_words owns its strings and the
 * vector; ims_words_release() frees them.
 *
 * Part of the front-end library (src/front/): pure, uses base only; only the
 * front end and the fs layer use it. */
#ifndef IMAPSH_WORDS_H
#define IMAPSH_WORDS_H

#include <stddef.h>

#include "imapsh/error.h"

/* A NULL-terminated vector of owned strings: v[0..n), v[n] == NULL once a
 * word was added (v itself is NULL while n == 0). */
struct ims_words {
	char **v;
	size_t n, cap;
};

/* Cannot fail; allocates nothing. */
void ims_words_init(struct ims_words *w);
/* Frees the words; w is as after ims_words_init() afterwards. */
void ims_words_release(struct ims_words *w);

/* Split the first command off line and append its words to w.  *rest_r
 * points just after the ';' or LF that ended it when one did (the rest
 * may be empty or hold only blanks), else NULL (the end of the text was
 * reached).  A command may have no words ("", "# x", ";").
 * On failure w holds the words it held before the call (release it as
 * always) and *rest_r is NULL.
 * IMS_ERR_USAGE (unterminated quote), IMS_ERR_NOMEM. */
ims_err ims_words_split(const char *line, const char **rest_r, struct ims_words *w,
                        struct ims_error *err) IMS_MUST_CHECK;

/* The candidate nearest to word (a typo's likely meaning: "lsit" ->
 * "list", "passwrd-command" -> "password-command"), by edit distance with
 * adjacent transpositions, ASCII case ignored: within one edit for words
 * of up to four letters, two from five on.  NULL when none is that near,
 * or word is empty or longer than IMS_WORDS_NEAREST_MAX.  The first of
 * equally near candidates wins.  Returns one of cands. */
#define IMS_WORDS_NEAREST_MAX 40
const char *ims_words_nearest(const char *word, const char *const *cands, size_t n);

#endif
