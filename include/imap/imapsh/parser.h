/* The IMAP response parser (RFC 3501, RFC 9051 and the extensions imapsh
 * uses): pure, no I/O.  The caller feeds the bytes it has read and gets
 * back one complete response at a time.
 *
 * Design: two layers.
 *  1. Framing and a generic value tree.  Bytes are cut into lines (CRLF;
 *     NUL, a bare CR or a bare LF is a protocol error); a line ending in a
 *     literal header ({n}, ~{n}, {n+}) continues after n bytes of literal
 *     data.  Each response becomes a head (tag, condition, response code,
 *     text, keyword, number) and a tree of struct ims_value (atom, number,
 *     quoted string, literal, NIL, list) built without recursion.
 *  2. A typed layer on top, chosen by the keyword: struct ims_fetch
 *     (FLAGS, UID, INTERNALDATE, RFC822.SIZE, ENVELOPE, BODY/BODYSTRUCTURE
 *     as a tree, BODY[section]<origin>, BINARY[...], BINARY.SIZE, MODSEQ),
 *     LIST/LSUB entries, STATUS, SEARCH, ESEARCH, FLAGS, CAPABILITY,
 *     ENABLED, QUOTA, QUOTAROOT, NAMESPACE, ID, VANISHED, and typed
 *     response codes.  Anything else stays available as the value tree.
 *
 * Literals: when a literal header is seen, the literal callback (if set)
 * is told what the literal is ("FETCH item BODY[] of message 3, UID 42")
 * and may return a struct ims_sink to stream the data to (a file, stdout).
 * Otherwise the data is kept in memory, up to limits.max_literal_mem bytes
 * per response; a literal too large for that is IMS_ERR_LIMIT before any
 * byte of it is stored.  So a 1 GB body needs no 1 GB of memory.
 *
 * Need more: ims_parser_feed() returns IMS_OK with *resp_r == NULL when it
 * used all the bytes and the response is not complete yet.  That is not an
 * error.
 *
 * Limits: every size the server controls is capped (line length without
 * literal data, literal size, literal bytes in memory, list nesting,
 * values per response); numbers are range-checked where the grammar says
 * (a message number is 1..4294967295, a count 0..4294967295, a mod-sequence
 * 1..2^63-1).  A violation is IMS_ERR_LIMIT or IMS_ERR_PROTOCOL with words,
 * after which the parser is broken (as is the connection): later feeds
 * return the same error.
 *
 * Ownership: the parser owns every response, value and string it hands
 * out; they stay valid until the next call of ims_parser_feed(),
 * ims_parser_reset() or ims_parser_free().  Strings are NUL-terminated
 * and may contain NUL bytes where a length is given (literal data).
 * Mailbox names are raw bytes as sent (modified UTF-7, or UTF-8 after
 * ENABLE UTF8=ACCEPT): converting them is the caller's business (utf7.h).
 * Server text (resp-text, ALERT) is kept raw: the front end sanitises.
 *
 * Part of the IMAP protocol library (src/imap/): uses base only. */
#ifndef IMAPSH_PARSER_H
#define IMAPSH_PARSER_H

#include <stddef.h>
#include <stdint.h>

#include "imapsh/caps.h"
#include "imapsh/buf.h"
#include "imapsh/error.h"

/* ---- limits ---- */

struct ims_parser_limits {
	size_t max_line;        /* bytes of one response outside literal data */
	uint64_t max_literal;   /* largest literal accepted at all (also to a sink) */
	size_t max_literal_mem; /* literal bytes kept in memory, per response */
	size_t max_depth;       /* list nesting (at most IMS_PARSER_DEPTH_CEILING) */
	size_t max_items;       /* values in one response */
};

/* The defaults are IMS_PARSER_DEFAULT_MAX_* in caps.h. */
#define IMS_PARSER_DEPTH_CEILING 1000u

/* Cannot fail: fills in the defaults (caps.h). */
void ims_parser_limits_init(struct ims_parser_limits *l);

/* ---- the generic value tree ---- */

enum ims_vtype {
	IMS_V_NIL,     /* NIL (s is "NIL") */
	IMS_V_ATOM,    /* atom, flag (\Seen), fetch item name (BODY[1]<0>), ... */
	IMS_V_NUMBER,  /* all digits; s is the text, num the value */
	IMS_V_QUOTED,  /* quoted string, unescaped */
	IMS_V_LITERAL, /* literal; s is NULL when it was streamed to a sink */
	IMS_V_LIST     /* parenthesised list */
};

#define IMS_VF_BINARY   1u /* literal8 (~{n}) */
#define IMS_VF_STREAMED 2u /* literal data went to the caller's sink */
#define IMS_VF_BIG      4u /* number above 2^64-1: num is UINT64_MAX */

struct ims_value {
	enum ims_vtype type;
	unsigned flags;            /* IMS_VF_* */
	const char *s;             /* text; NULL for lists and streamed literals */
	size_t len;                /* bytes in s (0 for lists, streamed literals) */
	uint64_t num;              /* NUMBER: the value; LITERAL: its declared size */
	size_t n;                  /* LIST: number of items */
	const struct ims_value *v; /* LIST: the items */
};

/* 1 for a quoted string or a literal held in memory. */
int ims_value_is_string(const struct ims_value *v);
/* 1 for an atom (or number) equal to word, ignoring ASCII case. */
int ims_value_is_atom(const struct ims_value *v, const char *word);

/* ---- response codes ---- */

enum ims_code_kind {
	IMS_CODE_NONE = 0, /* no [code] */
	IMS_CODE_OTHER,    /* a code imapsh does not interpret (name, raw) */
	IMS_CODE_ALERT,
	IMS_CODE_CAPABILITY,     /* list */
	IMS_CODE_PERMANENTFLAGS, /* list */
	IMS_CODE_UIDNEXT,        /* num */
	IMS_CODE_UIDVALIDITY,    /* num */
	IMS_CODE_UNSEEN,         /* num */
	IMS_CODE_READ_ONLY,
	IMS_CODE_READ_WRITE,
	IMS_CODE_TRYCREATE,
	IMS_CODE_APPENDUID, /* num = uidvalidity, set1 = uid(s) */
	IMS_CODE_COPYUID,   /* num = uidvalidity, set1 = source, set2 = destination */
	IMS_CODE_UIDNOTSTICKY,
	IMS_CODE_HIGHESTMODSEQ, /* modseq */
	IMS_CODE_NOMODSEQ,
	IMS_CODE_MODIFIED, /* set1 */
	IMS_CODE_CLOSED,
	IMS_CODE_PARSE,
	IMS_CODE_BADCHARSET, /* list (may be empty) */
	IMS_CODE_REFERRAL,   /* raw = the URL */
	IMS_CODE_AUTHENTICATIONFAILED,
	IMS_CODE_AUTHORIZATIONFAILED,
	IMS_CODE_EXPIRED,
	IMS_CODE_UNAVAILABLE,
	IMS_CODE_PRIVACYREQUIRED,
	IMS_CODE_CONTACTADMIN,
	IMS_CODE_NOPERM,
	IMS_CODE_INUSE,
	IMS_CODE_EXPUNGEISSUED,
	IMS_CODE_CORRUPTION,
	IMS_CODE_SERVERBUG,
	IMS_CODE_CLIENTBUG,
	IMS_CODE_CANNOT,
	IMS_CODE_LIMIT,
	IMS_CODE_OVERQUOTA,
	IMS_CODE_ALREADYEXISTS,
	IMS_CODE_NONEXISTENT,
	IMS_CODE_HASCHILDREN,
	IMS_CODE_WEBALERT /* Gmail: raw = the URL */
};

struct ims_code {
	enum ims_code_kind kind;
	const char *name; /* as sent ("" when none) */
	const char *raw;  /* text after the name up to ']' ("" when none) */
	uint32_t num;
	uint64_t modseq;
	const char *const *list; /* atoms or strings */
	size_t n_list;
	const char *set1; /* sequence sets as sent, NULL when absent */
	const char *set2;
};

/* ---- typed untagged data ---- */

enum ims_resp_type {
	IMS_RESP_UNTAGGED,    /* "* ..." */
	IMS_RESP_TAGGED,      /* "A1 OK ..." */
	IMS_RESP_CONTINUATION /* "+ ..." */
};

/* The condition of a status response. */
enum ims_cond {
	IMS_COND_NONE = 0, /* a data response or a continuation */
	IMS_COND_OK,
	IMS_COND_NO,
	IMS_COND_BAD,
	IMS_COND_BYE,
	IMS_COND_PREAUTH
};

enum ims_data_kind {
	IMS_DATA_NONE = 0,   /* a status response or a continuation */
	IMS_DATA_EXISTS,     /* number */
	IMS_DATA_RECENT,     /* number */
	IMS_DATA_EXPUNGE,    /* number */
	IMS_DATA_FETCH,      /* number, u.fetch */
	IMS_DATA_LIST,       /* u.list */
	IMS_DATA_LSUB,       /* u.list */
	IMS_DATA_STATUS,     /* u.status */
	IMS_DATA_SEARCH,     /* u.search */
	IMS_DATA_ESEARCH,    /* u.esearch */
	IMS_DATA_FLAGS,      /* u.strings */
	IMS_DATA_CAPABILITY, /* u.strings */
	IMS_DATA_ENABLED,    /* u.strings */
	IMS_DATA_QUOTA,      /* u.quota */
	IMS_DATA_QUOTAROOT,  /* u.quotaroot */
	IMS_DATA_NAMESPACE,  /* u.ns */
	IMS_DATA_ID,         /* u.id */
	IMS_DATA_VANISHED,   /* u.vanished */
	IMS_DATA_OTHER       /* anything else: keyword, number, args */
};

struct ims_strings {
	const char *const *v;
	size_t n;
};

struct ims_address {
	const char *name; /* NULL when NIL; group syntax as RFC 3501 */
	const char *adl;
	const char *mailbox;
	const char *host;
};

struct ims_addresses {
	const struct ims_address *v;
	size_t n;
};

struct ims_envelope {
	const char *date; /* each NULL when NIL */
	const char *subject;
	struct ims_addresses from, sender, reply_to, to, cc, bcc;
	const char *in_reply_to;
	const char *message_id;
};

struct ims_body_param {
	const char *name;
	const char *value;
};

/* A node of BODY / BODYSTRUCTURE.  Strings are as sent (compare types
 * ignoring case) and NULL when NIL or absent. */
struct ims_body {
	const char *part; /* section number: "1", "2.1"; "" for a top multipart */
	int multipart;
	const char *type;    /* "TEXT", "MULTIPART", ... */
	const char *subtype; /* "PLAIN", "MIXED", ... */
	const struct ims_body_param *params;
	size_t n_params;
	const char *id;
	const char *description;
	const char *encoding;
	uint64_t size;                       /* octets (single part) */
	uint64_t lines;                      /* text and message parts */
	const struct ims_envelope *envelope; /* message/rfc822 */
	/* extension data (BODYSTRUCTURE) */
	int extended;
	const char *md5;
	const char *disposition;
	const struct ims_body_param *disp_params;
	size_t n_disp_params;
	const char *const *language;
	size_t n_language;
	const char *location;
	/* children: the parts of a multipart, or the one body of a
	 * message/rfc822 part */
	const struct ims_body *parts;
	size_t n_parts;
};

/* BODY[section]<origin>, BINARY[section]<origin>, RFC822, RFC822.HEADER,
 * RFC822.TEXT. */
struct ims_fetch_section {
	const char *item; /* the item name as sent: "BODY[HEADER.FIELDS (FROM)]" */
	const char
	    *section; /* inside the brackets ("" for BODY[]), or "HEADER"/"TEXT"/"" for RFC822* */
	int binary;   /* BINARY[...] */
	int has_origin;
	uint32_t origin;
	const struct ims_value *value; /* quoted, literal (maybe streamed) or NIL */
};

#define IMS_FETCH_UID          (1u << 0)
#define IMS_FETCH_FLAGS        (1u << 1)
#define IMS_FETCH_INTERNALDATE (1u << 2)
#define IMS_FETCH_SIZE         (1u << 3)
#define IMS_FETCH_ENVELOPE     (1u << 4)
#define IMS_FETCH_BODY         (1u << 5) /* body holds BODY or BODYSTRUCTURE */
#define IMS_FETCH_MODSEQ       (1u << 6)

struct ims_fetch {
	uint32_t seq;  /* message sequence number */
	unsigned have; /* IMS_FETCH_* */
	uint32_t uid;
	struct ims_strings flags;
	const char *internaldate;   /* as sent, "17-Jul-1996 02:44:25 -0700" */
	int64_t internaldate_epoch; /* seconds since 1970 UTC; 0 if unparsable */
	uint64_t rfc822_size;
	uint64_t modseq;
	const struct ims_envelope *envelope;
	const struct ims_body *body;
	int body_extended; /* it came as BODYSTRUCTURE */
	const struct ims_fetch_section *sections;
	size_t n_sections;
	const struct ims_value *items; /* the whole list: name value name value ... */
};

#define IMS_LIST_NOINFERIORS   (1u << 0)
#define IMS_LIST_NOSELECT      (1u << 1)
#define IMS_LIST_MARKED        (1u << 2)
#define IMS_LIST_UNMARKED      (1u << 3)
#define IMS_LIST_HASCHILDREN   (1u << 4)
#define IMS_LIST_HASNOCHILDREN (1u << 5)
#define IMS_LIST_NONEXISTENT   (1u << 6)
#define IMS_LIST_SUBSCRIBED    (1u << 7)
#define IMS_LIST_REMOTE        (1u << 8)

struct ims_list_entry {
	struct ims_strings attrs; /* as sent: "\\HasNoChildren", "\\Sent" */
	unsigned attr_bits;       /* IMS_LIST_* */
	const char *special_use;  /* the first RFC 6154 attribute ("\\Sent"), or NULL */
	char delim;               /* hierarchy delimiter; 0 when NIL */
	const char *name;         /* raw bytes */
	size_t name_len;
	const char *oldname; /* LIST-EXTENDED OLDNAME, or NULL */
	size_t oldname_len;
	int child_subscribed;        /* CHILDINFO ("SUBSCRIBED") */
	const struct ims_value *ext; /* extended data list, or NULL */
};

#define IMS_STATUS_MESSAGES      (1u << 0)
#define IMS_STATUS_RECENT        (1u << 1)
#define IMS_STATUS_UIDNEXT       (1u << 2)
#define IMS_STATUS_UIDVALIDITY   (1u << 3)
#define IMS_STATUS_UNSEEN        (1u << 4)
#define IMS_STATUS_DELETED       (1u << 5)
#define IMS_STATUS_SIZE          (1u << 6)
#define IMS_STATUS_HIGHESTMODSEQ (1u << 7)

struct ims_mbox_status {
	const char *name; /* raw bytes */
	size_t name_len;
	unsigned have; /* IMS_STATUS_* */
	uint32_t messages, recent, uidnext, uidvalidity, unseen, deleted;
	uint64_t size, highestmodseq;
};

struct ims_search {
	const uint32_t *nums; /* UIDs or sequence numbers as the command asked */
	size_t n;
	uint64_t modseq; /* 0 when absent */
};

#define IMS_ESEARCH_MIN    (1u << 0)
#define IMS_ESEARCH_MAX    (1u << 1)
#define IMS_ESEARCH_COUNT  (1u << 2)
#define IMS_ESEARCH_ALL    (1u << 3)
#define IMS_ESEARCH_MODSEQ (1u << 4)

struct ims_esearch {
	const char *tag; /* the correlator (TAG "A1"), or NULL */
	int uid;
	unsigned have; /* IMS_ESEARCH_* */
	uint32_t min, max, count;
	const char *all; /* sequence set as sent */
	uint64_t modseq;
};

struct ims_quota_resource {
	const char *name; /* "STORAGE" (KiB), "MESSAGE", ... */
	uint64_t usage;
	uint64_t limit;
};

struct ims_quota {
	const char *root;
	const struct ims_quota_resource *res;
	size_t n;
};

struct ims_quotaroot {
	const char *mailbox;
	size_t mailbox_len;
	struct ims_strings roots;
};

struct ims_ns_entry {
	const char *prefix; /* raw bytes */
	size_t prefix_len;
	char delim; /* 0 when NIL */
};

struct ims_ns_list {
	const struct ims_ns_entry *v;
	size_t n;
};

struct ims_namespace {
	struct ims_ns_list personal, other, shared;
};

struct ims_id {
	const struct ims_body_param *v; /* name, value (value NULL when NIL) */
	size_t n;                       /* 0 for ID NIL */
};

struct ims_vanished {
	int earlier;
	const char *uids; /* sequence set as sent */
};

struct ims_response {
	enum ims_resp_type type;
	const char *tag;    /* the tag; "*" or "+" */
	enum ims_cond cond; /* status responses */
	struct ims_code code;
	const char *text; /* status and continuation text, raw ("" when none) */
	size_t text_len;
	enum ims_data_kind kind; /* data responses */
	const char *keyword;     /* "FETCH", "LIST", ... as sent; NULL for status/continuation */
	uint32_t number;         /* EXISTS, RECENT, EXPUNGE, FETCH; also any "* n WORD" */
	int has_number;
	const struct ims_value *args; /* a list: the values after the keyword (data),
	                               * or the code's arguments (status) */
	/* Words when a grammar slip in a response whose meaning survives was
	 * forgiven (see ims_parser_lenient), else NULL: a QUOTA without its
	 * resource list, a CAPABILITY, PERMANENTFLAGS, BADCHARSET or UNSEEN
	 * code with arguments that cannot be read (then IMS_CODE_OTHER; the
	 * codes sync rests on, UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, MODIFIED,
	 * APPENDUID and COPYUID, stay strict), a malformed QUOTAROOT, ID or
	 * NAMESPACE (then IMS_DATA_OTHER, its typed content left out). */
	const char *lenient;
	union {
		struct ims_fetch fetch;
		struct ims_list_entry list;
		struct ims_mbox_status status;
		struct ims_search search;
		struct ims_esearch esearch;
		struct ims_strings strings;
		struct ims_quota quota;
		struct ims_quotaroot quotaroot;
		struct ims_namespace ns;
		struct ims_id id;
		struct ims_vanished vanished;
	} u;
};

/* ---- the parser ---- */

/* What a literal is, told to the literal callback when its header is seen
 * (before any of its data).  Strings are valid during the call only. */
struct ims_literal_info {
	uint64_t size;
	int binary; /* ~{n} */
	enum ims_resp_type type;
	enum ims_data_kind kind; /* IMS_DATA_FETCH, IMS_DATA_LIST, ... */
	const char *keyword;
	uint32_t number;  /* FETCH: the message sequence number */
	uint32_t uid;     /* FETCH: the UID if it came earlier in the response, else 0 */
	const char *item; /* FETCH: the item whose value holds the literal ("BODY[]") */
	int nested;       /* 1 when inside a list within that item (ENVELOPE, ...) */
};

/* Choose where a literal goes.  Leave sink_r->write NULL for memory (the
 * default); set it to stream the data.  An error stops the parse (and the
 * error is returned from ims_parser_feed). */
typedef ims_err (*ims_literal_fn)(void *ctx, const struct ims_literal_info *li,
                                  struct ims_sink *sink_r, struct ims_error *err);

/* Each line as it is completed (without CRLF; a line ending in a literal
 * header ends with it; literal data is never passed).  For traces. */
typedef void (*ims_line_fn)(void *ctx, const char *line, size_t len);

struct ims_parser;

/* limits may be NULL (defaults).  Returns NULL when out of memory. */
struct ims_parser *ims_parser_new(const struct ims_parser_limits *limits);
/* Frees everything; sets *p to NULL. */
void ims_parser_free(struct ims_parser **p);

void ims_parser_set_literal_fn(struct ims_parser *p, ims_literal_fn fn, void *ctx);
void ims_parser_set_line_fn(struct ims_parser *p, ims_line_fn fn, void *ctx);
/* Grammar slips in responses that change no state (QUOTA, QUOTAROOT, ID,
 * NAMESPACE, response codes) are always forgiven, with words in
 * r->lenient.  With all on, a typed parse that fails for any kind is
 * forgiven the same way (the framing, literals and limits stay strict):
 * for showing what a server sent as it sent it (quote). */
void ims_parser_lenient(struct ims_parser *p, int all);
/* Keep the bytes of each response as received (lines with CRLF, literal
 * data held in memory), readable with ims_parser_raw(). */
void ims_parser_keep_raw(struct ims_parser *p, int on);
/* The raw bytes of the last complete response (keep_raw on). */
const char *ims_parser_raw(const struct ims_parser *p, size_t *len_r);

/* Feed bytes.  Stops after one complete response: *used_r says how many
 * bytes were consumed (feed the rest again).  On IMS_OK, *resp_r is the
 * response, or NULL when all bytes were used and more are needed.
 * Errors: IMS_ERR_PROTOCOL, IMS_ERR_LIMIT, IMS_ERR_NOMEM, or what a
 * literal callback or sink returned; the parser is then broken. */
ims_err ims_parser_feed(struct ims_parser *p, const void *data, size_t len, size_t *used_r,
                        const struct ims_response **resp_r, struct ims_error *err) IMS_MUST_CHECK;

/* 1 when no partial response is pending (between responses). */
int ims_parser_between(const struct ims_parser *p);

/* Forget any partial response and a broken state (a new connection). */
void ims_parser_reset(struct ims_parser *p);

/* ---- helpers ---- */

/* "17-Jul-1996 02:44:25 -0700" (day may be space-padded) to seconds since
 * the epoch, UTC.  IMS_ERR_USAGE when malformed. */
ims_err ims_parse_date_time(const char *s, int64_t *epoch_r) IMS_MUST_CHECK;

const char *ims_cond_name(enum ims_cond c);      /* "OK", "NO", ... */
const char *ims_code_name(enum ims_code_kind k); /* "TRYCREATE", ... */

#endif
