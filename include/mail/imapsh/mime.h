/* MIME for reading mail: header fields with parameters (RFC 2045, 2183,
 * 2231), a parser of whole messages, and the text view "for a person".
 *
 * Two ways in, one way out:
 *  - a whole message in memory: ims_mime_parse() fills a struct
 *    ims_mime_msg (a flat array of parts), ims_mime_view() formats it;
 *  - IMAP BODYSTRUCTURE plus separately fetched parts: the front end fills
 *    an array of struct ims_mime_part itself (ims_mime_part_set() takes the
 *    raw strings and parameters as the server sent them), then calls
 *    ims_mime_roles() to learn which parts are the text and which are
 *    attachments, ims_mime_view_headers() on BODY[HEADER],
 *    ims_mime_part_text() on each text part's BODY[n], and
 *    ims_mime_attachments_format() for the list.
 * ims_mime_view() is exactly those steps over a parsed message.
 *
 * Every byte of a message is hostile: counts, depth and sizes are capped
 * (IMS_MIME_MAX_*), nothing is trusted to be terminated or well formed,
 * and everything a person reads comes out as valid UTF-8 -- with control
 * characters kept for the terminal sanitiser to neutralise.
 *
 * Ownership: every struct here owns its strings (malloc'd, NUL-terminated)
 * and frees them in its _release; _init cannot fail and makes _release
 * safe.  A struct ims_mime_msg borrows the raw message: keep it alive and
 * unchanged while the msg is used.
 *
 * Part of the mail library (src/mail/): uses base and iconv, never the protocol. */
#ifndef IMAPSH_MIME_H
#define IMAPSH_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "imapsh/caps.h"
#include "imapsh/buf.h"
#include "imapsh/charset.h"
#include "imapsh/error.h"

#define IMS_MIME_MAX_DEPTH   32    /* multipart / message nesting */
#define IMS_MIME_MAX_PARTS   1000  /* parts in one message */
#define IMS_MIME_MAX_HEADERS 2000  /* header fields in one message */
#define IMS_MIME_MAX_PARAMS  256   /* raw parameters in one field */
#define IMS_MIME_MAX_VALUE   16384 /* bytes of one decoded parameter */
#define IMS_MIME_MAX_FIELD   65536 /* raw bytes of one header field shown */
#define IMS_MIME_SECTION_MAX 192

#define IMS_MIME_NO_PARENT    ((size_t)-1)
#define IMS_MIME_SIZE_UNKNOWN UINT64_MAX

/* ---- parameters ---- */

/* A parameter as sent: name and value bytes, value unquoted ("filename*0*"
 * and "UTF-8''%E2%82%AC" as they are).  Borrowed pointers. */
struct ims_mime_rawparam {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

/* A decoded parameter. */
struct ims_mime_param {
	char *name;  /* lower case, RFC 2231 '*' and sections removed */
	char *value; /* UTF-8 */
};

struct ims_mime_params {
	struct ims_mime_param *v;
	size_t n;
	size_t cap;
	unsigned cs_flags; /* IMS_CHARSET_* flags from decoding the values */
};

void ims_mime_params_init(struct ims_mime_params *ps);
void ims_mime_params_release(struct ims_mime_params *ps);

/* Decode raw[0..n) and add the results to ps:
 * - RFC 2231: "name*=charset'lang'%XX..", continuations "name*0*=",
 *   "name*1=" in any order (up to the first missing section), charset
 *   conversion with fallback; an RFC 2231 value wins over a plain one of
 *   the same name;
 * - a plain value carrying RFC 2047 words is decoded as a header is;
 *   raw 8-bit values are decoded as UTF-8 or guessed (charset.h);
 * - names compare ignoring case; the first of duplicates wins.
 * Values are cut at IMS_MIME_MAX_VALUE bytes (on a character boundary).
 * Fails only for memory (IMS_ERR_NOMEM). */
ims_err ims_mime_params_decode(struct ims_mime_params *ps, const struct ims_mime_rawparam *raw,
                               size_t n, struct ims_error *err) IMS_MUST_CHECK;

/* The value of the parameter called name (ignoring case), or NULL. */
const char *ims_mime_params_get(const struct ims_mime_params *ps, const char *name);

/* ---- Content-Type, Content-Disposition ---- */

struct ims_mime_field {
	char *type;    /* lower case: "text" (Content-Type), "attachment" (disposition) */
	char *subtype; /* lower case: "plain"; NULL for a disposition */
	struct ims_mime_params params;
	int invalid; /* the value was unreadable and the default was used */
};

void ims_mime_field_init(struct ims_mime_field *f);
void ims_mime_field_release(struct ims_mime_field *f);

/* Parse a Content-Type value (folded or not): "type/subtype; params",
 * comments and quoted strings allowed, names ignoring case, unquoted
 * values with blanks tolerated.  An unreadable type gives text/plain
 * (RFC 2045 5.2) with invalid set.  f is released first.  Fails only for
 * memory. */
ims_err ims_mime_content_type_parse(struct ims_mime_field *f, const char *s, size_t len,
                                    struct ims_error *err) IMS_MUST_CHECK;
/* The same for Content-Disposition: "attachment; filename=...". */
ims_err ims_mime_disposition_parse(struct ims_mime_field *f, const char *s, size_t len,
                                   struct ims_error *err) IMS_MUST_CHECK;

/* ---- parts ---- */

/* One node of the MIME tree, as the whole-message parser or a
 * BODYSTRUCTURE fills it.  An array of parts is in pre-order: a part's
 * children follow it, in order, each with parent set to its index. */
struct ims_mime_part {
	/* IMAP part number: "1", "2.1"; "" for a top-level multipart.  The
	 * body of a message/rfc822 part "2" is "2.1" (single part) or its
	 * children are "2.1", "2.2" (multipart, whose own section is "2"). */
	char section[IMS_MIME_SECTION_MAX];
	size_t parent;                 /* index, or IMS_MIME_NO_PARENT */
	unsigned depth;                /* 0 for the top */
	char *type;                    /* lower case, never NULL once set ("text") */
	char *subtype;                 /* lower case, never NULL once set ("plain") */
	struct ims_mime_params params; /* Content-Type parameters, decoded */
	char *encoding;                /* lower case Content-Transfer-Encoding, or NULL (7bit) */
	char *disposition;             /* lower case, or NULL */
	struct ims_mime_params disp_params;
	char *filename;        /* decoded: disposition filename, else type name; or NULL */
	uint64_t size;         /* body octets as transferred */
	uint64_t decoded_size; /* IMS_MIME_SIZE_UNKNOWN when not known */
	/* whole-message parser only: where the part lies in the message */
	size_t hdr_off, hdr_len, body_off, body_len;
	unsigned flags; /* IMS_MIME_PART_* */
};

#define IMS_MIME_PART_NO_END   1u /* multipart without its close delimiter */
#define IMS_MIME_PART_TOO_DEEP 2u /* not looked into: nesting cap */
#define IMS_MIME_PART_NO_PARTS 4u /* a multipart with no delimiter: shown as text */

void ims_mime_part_init(struct ims_mime_part *p);
void ims_mime_part_release(struct ims_mime_part *p);

/* Set type, subtype, parameters, encoding and disposition from raw values
 * (NULL for absent; case and quotes as sent); fills filename.  Missing
 * type/subtype give text/plain.  Fails only for memory. */
ims_err ims_mime_part_set(struct ims_mime_part *p, const char *type, const char *subtype,
                          const struct ims_mime_rawparam *params, size_t n_params,
                          const char *encoding, const char *disposition,
                          const struct ims_mime_rawparam *disp_params, size_t n_disp_params,
                          struct ims_error *err) IMS_MUST_CHECK;

/* 1 if p is type/subtype (ignoring case; subtype NULL matches any). */
int ims_mime_part_is(const struct ims_mime_part *p, const char *type, const char *subtype);

/* ---- whole messages ---- */

struct ims_mime_header {
	size_t part;                 /* index of the part whose header it is */
	size_t name_off, name_len;   /* into the raw message */
	size_t value_off, value_len; /* raw: folded, undecoded */
};

#define IMS_MIME_MSG_TOO_MANY_PARTS   1u
#define IMS_MIME_MSG_TOO_MANY_HEADERS 2u
#define IMS_MIME_MSG_TOO_DEEP         4u

struct ims_mime_msg {
	const char *raw; /* borrowed */
	size_t raw_len;
	struct ims_mime_part *parts;
	size_t nparts, pcap;
	struct ims_mime_header *hdrs;
	size_t nhdrs, hcap;
	unsigned flags; /* IMS_MIME_MSG_* */
};

void ims_mime_msg_init(struct ims_mime_msg *m);
void ims_mime_msg_release(struct ims_mime_msg *m);

/* Parse raw[0..len) (CRLF or LF line ends; an mbox "From " line first is
 * skipped): headers, nested multiparts (a missing close delimiter is
 * tolerated), message/rfc822 parts; decoded sizes of leaf parts.  Caps
 * are recorded in m->flags, not errors.  m is released first; raw is
 * borrowed.  Fails only for memory. */
ims_err ims_mime_parse(struct ims_mime_msg *m, const char *raw, size_t len,
                       struct ims_error *err) IMS_MUST_CHECK;

/* The raw (folded) value of the first header called name (ignoring case)
 * of part, or NULL; *len_r gets its length. */
const char *ims_mime_msg_header(const struct ims_mime_msg *m, size_t part, const char *name,
                                size_t *len_r);

/* ---- the text view ---- */

#define IMS_MIME_VIEW_ALL_HEADERS 1u /* every header, in order, decoded */

enum ims_mime_role {
	IMS_MIME_ROLE_NONE = 0,   /* a container, or an alternative not chosen */
	IMS_MIME_ROLE_TEXT,       /* shown as text */
	IMS_MIME_ROLE_ATTACHMENT, /* listed */
};

/* Which parts are the text and which are attachments: text/plain is
 * preferred in multipart/alternative, text/html is shown (as text) when it
 * is the only text; the root of multipart/related is the text and its
 * other parts attachments; message/rfc822 is an attachment (not looked
 * into); text with a file name or disposition "attachment" is an
 * attachment.  roles_r has n entries (enum ims_mime_role). */
void ims_mime_roles(const struct ims_mime_part *parts, size_t n, unsigned char *roles_r);

/* Date, From, To, Cc and Subject (in that order, those present) of the
 * header block hdr[0..len) decoded, one "Name: value\n" line each; with
 * IMS_MIME_VIEW_ALL_HEADERS every field as it comes.  A CR or LF inside a
 * value (decoded from a word) is shown as U+240D or U+240A, so that no
 * value can fake a line of the view; other controls stay for the
 * sanitiser.  A field longer than IMS_MIME_MAX_FIELD bytes is cut and
 * ends in " [...]".  Fails only when out cannot grow (out keeps its length). */
ims_err ims_mime_view_headers(const char *hdr, size_t len, unsigned flags, struct ims_buf *out,
                              struct ims_error *err) IMS_MUST_CHECK;

/* ims_mime_part_text() flags */
#define IMS_MIME_TEXT_NOTES 1u /* append "[charset: ...]" lines when a fallback happened */

/* Decode one text part's body as transferred (body[0..len), e.g. BODY[1])
 * into UTF-8 text for a person: transfer encoding, charset (with
 * fallback; info_r may be NULL), CRLF -> LF, text/html -> text,
 * format=flowed (DelSp) joined.  At most IMS_MIME_TEXT_MAX decoded bytes
 * are used ("[... truncated]" follows).  The text ends with one newline
 * unless empty.  Fails only when out cannot grow (out keeps its
 * length). */
ims_err ims_mime_part_text(const struct ims_mime_part *p, const void *body, size_t len,
                           unsigned flags, struct ims_buf *out, struct ims_charset_info *info_r,
                           struct ims_error *err) IMS_MUST_CHECK;

/* "Attachments:\n" and one line per part whose role is
 * IMS_MIME_ROLE_ATTACHMENT (roles NULL: every part that is not a
 * multipart), as "[2.1] name (type/subtype, 12.3 KiB)\n"; a size that is
 * only estimated from the transferred size reads "~12.3 KiB"; CR and LF
 * in a name as in ims_mime_view_headers().  Nothing when there is none.
 * Fails only when out cannot grow. */
ims_err ims_mime_attachments_format(const struct ims_mime_part *parts, size_t n,
                                    const unsigned char *roles, struct ims_buf *out,
                                    struct ims_error *err) IMS_MUST_CHECK;

/* The whole view of a parsed message: headers, a blank line, the text
 * parts (a blank line between two), then the attachment list after a
 * blank line.  Fails only when out cannot grow (out keeps its length). */
ims_err ims_mime_view(const struct ims_mime_msg *m, unsigned flags, struct ims_buf *out,
                      struct ims_error *err) IMS_MUST_CHECK;

/* ---- text converters (UTF-8 in, UTF-8 out; invalid input repaired) ---- */

/* HTML -> readable text: tags stripped; script, style, head dropped;
 * entities decoded (named, &#N; and &#xN;); br, p, div, li, tr, h1..h6
 * and friends -> line breaks; links as "text <url>"; images as "[alt]";
 * pre kept; blanks collapsed; at most one blank line in a row. */
ims_err ims_html_to_text(const char *html, size_t len, struct ims_buf *out,
                         struct ims_error *err) IMS_MUST_CHECK;

/* RFC 3676 format=flowed (LF line ends) -> plain lines: soft-broken lines
 * joined, space-stuffing removed, DelSp=yes honoured (delsp != 0), quote
 * depth kept as "> " prefixes; "-- " stays a hard line. */
ims_err ims_flowed_decode(const char *text, size_t len, int delsp, struct ims_buf *out,
                          struct ims_error *err) IMS_MUST_CHECK;

#endif
