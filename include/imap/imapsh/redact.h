/* What a trace may show of a command the client sends.
 *
 * The decision is taken on the command as an IMAP server will read it,
 * not on how it starts: the bytes are cut into words the way a server
 * cuts them (any run of blanks, tabs or line ends between words; a quoted
 * string is one word; a literal {N}, {N+}, {N-} or ~{N} at the end of a
 * line is one word together with the N bytes after its line end), and a
 * bare word LOGIN or AUTHENTICATE, in any case and in any place (the
 * command name after any tag, or a word a user typed by hand through
 * quote), makes the rest of the command secret.  After AUTHENTICATE the
 * mechanism name stays visible when it is one (letters, digits, "-", "_",
 * at most 20); everything after it
 * (an initial response, a literal) does not.  Saying too much "secret" is
 * harmless; so the rule errs that way.
 *
 * Pure: no allocation, no I/O.
 *
 * Part of the IMAP protocol library (src/imap/): uses base only. */
#ifndef IMAPSH_REDACT_H
#define IMAPSH_REDACT_H

#include <stddef.h>

/* How many leading bytes of cmd (len bytes: one command, its tag first,
 * possibly with line ends and literal contents) a trace may show.  When
 * the answer is less than len the rest is secret: show it as "***", and
 * treat the lines that continue this command (SASL responses, literal
 * contents sent later) as secret too. */
size_t ims_redact_visible(const char *cmd, size_t len);

#endif
