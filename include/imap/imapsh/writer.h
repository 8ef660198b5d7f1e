/* The IMAP command writer: pure, no I/O.  A command is built argument by
 * argument; each string goes as an atom, a quoted string or a literal as
 * its bytes require, so that no byte of an argument can ever end or split
 * the command:
 *
 *  - NUL in a string is refused (IMS_ERR_USAGE): IMAP strings cannot hold
 *    it (only ims_cmd_literal_stream(binary) can, for APPEND data);
 *  - CR or LF, 8-bit bytes without UTF8=ACCEPT, or a very long string make
 *    a literal;
 *  - raw tokens and atoms (ims_cmd_raw, ims_cmd_atom) are checked and
 *    refused when they hold CR, LF, NUL or other controls: a literal is not
 *    possible there.
 *
 * A synchronizing literal {n} needs the server's "+" continuation before
 * its data is sent, so the command comes out as a list of segments: send
 * each in turn, and after an IMS_SEG_SYNC segment wait for "+" (or a
 * tagged NO/BAD, which ends the command).  With LITERAL+ every literal is
 * non-synchronizing ({n+}); with LITERAL- those up to 4096 bytes are.
 *
 * Besides the wire bytes the writer keeps a rendition for traces in which
 * literal data is shown as "<n bytes>" and arguments written while
 * ims_cmd_secret(c, 1) is in force as "***".
 *
 * Errors are sticky: after a failure every later call returns the same
 * code, and c->err says what went wrong in words.
 *
 * Ownership: struct ims_cmd owns its buffers; ims_cmd_release() wipes them
 * (a command may carry a password) and frees them.  Segment data points
 * into the command and stays valid until the next change or release.
 *
 * Part of the IMAP protocol library (src/imap/): uses base only. */
#ifndef IMAPSH_WRITER_H
#define IMAPSH_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "imapsh/buf.h"
#include "imapsh/error.h"

/* One argument of a command built by the caller (search keys): the session writes a RAW one
 * as it is and a STRING one as ims_cmd_string() does. */
enum ims_arg_kind {
	IMS_ARG_RAW,   /* a key or keyword as it is ("UNSEEN", "SINCE", "1:100") */
	IMS_ARG_STRING /* a value: atom, quoted or literal as its bytes need */
};

struct ims_arg {
	enum ims_arg_kind kind;
	const char *p;
	size_t len; /* IMS_ARG_STRING; RAW ones are NUL-terminated */
};

enum ims_literal_mode {
	IMS_LITERAL_SYNC = 0, /* {n}, wait for "+" */
	IMS_LITERAL_PLUS,     /* LITERAL+ (RFC 7888): {n+} always */
	IMS_LITERAL_MINUS     /* LITERAL- (RFC 7888): {n+} up to 4096 bytes */
};

#define IMS_LITERAL_MINUS_MAX 4096u

struct ims_writer_opts {
	enum ims_literal_mode literal;
	int utf8;          /* UTF8=ACCEPT is enabled: UTF-8 may go in quoted strings */
	size_t max_quoted; /* longer strings go as literals; 0 = 1024 */
};

enum ims_seg_kind {
	IMS_SEG_DATA,  /* send it and go on */
	IMS_SEG_SYNC,  /* send it (it ends in a literal header), then wait for "+" */
	IMS_SEG_STREAM /* send `size` bytes from the caller's source (APPEND data) */
};

struct ims_segment {
	enum ims_seg_kind kind;
	size_t off, len; /* DATA and SYNC: bytes in the command's output */
	uint64_t size;   /* STREAM */
};

struct ims_cmd {
	struct ims_writer_opts opts;
	struct ims_buf out;   /* the wire bytes of DATA and SYNC segments */
	struct ims_buf trace; /* the redacted rendition, one line */
	struct ims_segment *segs;
	size_t n_segs, cap_segs;
	size_t seg_start; /* start in out of the segment being built */
	int need_space;
	int depth; /* open lists */
	int secret;
	int ended;
	ims_err code; /* sticky */
	struct ims_error err;
};

/* Cannot fail; o may be NULL (synchronizing literals, no UTF-8). */
void ims_cmd_init(struct ims_cmd *c, const struct ims_writer_opts *o);
/* Wipes and frees everything; c can be used again after ims_cmd_init. */
void ims_cmd_release(struct ims_cmd *c);
/* Forget the command but keep options (and memory, wiped). */
void ims_cmd_reset(struct ims_cmd *c);

/* "tag verb": tag is an atom without '+'; verb one or more words
 * ("UID FETCH").  Both are checked. */
ims_err ims_cmd_begin(struct ims_cmd *c, const char *tag, const char *verb) IMS_MUST_CHECK;
/* An atom, checked: no specials, no controls, not empty. */
ims_err ims_cmd_atom(struct ims_cmd *c, const char *atom) IMS_MUST_CHECK;
/* Tokens written as they are (a sequence set, "(UID FLAGS)", search
 * keys, "+FLAGS.SILENT"): printable US-ASCII and spaces only. */
ims_err ims_cmd_raw(struct ims_cmd *c, const char *text) IMS_MUST_CHECK;
/* An astring (mailbox name, user name, password, search term): atom when
 * the bytes allow (never for "NIL", "" or with '[' or ']'), else quoted,
 * else literal. */
ims_err ims_cmd_astring(struct ims_cmd *c, const void *p, size_t n) IMS_MUST_CHECK;
/* A string: quoted or literal, never an atom. */
ims_err ims_cmd_string(struct ims_cmd *c, const void *p, size_t n) IMS_MUST_CHECK;
/* NULL gives NIL, anything else a string. */
ims_err ims_cmd_nstring(struct ims_cmd *c, const char *s) IMS_MUST_CHECK;
/* Always a literal with these bytes (NUL refused). */
ims_err ims_cmd_literal(struct ims_cmd *c, const void *p, size_t n) IMS_MUST_CHECK;
/* A literal whose size bytes the caller sends itself (an IMS_SEG_STREAM
 * segment): binary makes it ~{n} (RFC 3516; the data may hold NUL). */
ims_err ims_cmd_literal_stream(struct ims_cmd *c, uint64_t size, int binary) IMS_MUST_CHECK;
/* "(" and ")" around arguments: no space after "(" or before ")". */
ims_err ims_cmd_list_begin(struct ims_cmd *c) IMS_MUST_CHECK;
ims_err ims_cmd_list_end(struct ims_cmd *c) IMS_MUST_CHECK;
/* Arguments written from now on show as "***" in the trace. */
void ims_cmd_secret(struct ims_cmd *c, int on);
/* Finish with CRLF.  The segments are complete afterwards. */
ims_err ims_cmd_end(struct ims_cmd *c) IMS_MUST_CHECK;

/* The segments of an ended command. */
size_t ims_cmd_segments(const struct ims_cmd *c, const struct ims_segment **segs_r);
/* The bytes of a DATA or SYNC segment. */
const char *ims_cmd_segment_data(const struct ims_cmd *c, const struct ims_segment *s);
/* The redacted one-line rendition (no CRLF). */
const char *ims_cmd_trace(const struct ims_cmd *c);

/* What ims_cmd_astring() would choose, for callers that care (0 atom,
 * 1 quoted, 2 literal, -1 impossible: NUL). */
int ims_cmd_astring_form(const struct ims_writer_opts *o, const void *p, size_t n);

#endif
