/* The IMAP session: commands out, responses in, over a struct ims_stream
 * (TLS in real use, memory in tests).  It never prints and never exits:
 * every function returns an ims_err with words in a struct ims_error, and
 * results come back in structs.
 *
 * What it does for every caller:
 *  - tags: a random per-connection prefix and a counter ("QZKX12"); a
 *    tagged reply to a tag never sent (or already answered) is a protocol
 *    error;
 *  - pipelining: several commands may be in flight (ims_session_submit /
 *    ims_session_wait); replies are matched to their commands, untagged
 *    data is offered to the commands in flight, oldest first;
 *  - synchronizing literals: waits for "+" before sending literal data
 *    (or uses LITERAL+/LITERAL- when offered); a NO instead ends the
 *    command;
 *  - capabilities: from the greeting, CAPABILITY, or response codes;
 *    forgotten and read again after login;
 *  - after login: ENABLE UTF8=ACCEPT where offered, ID where offered,
 *    both in the background (see below);
 *  - round trips: a command whose answer nothing needs yet is sent in the
 *    background and the next command follows in the same flight: ENABLE,
 *    ID, a SELECT asked for with ims_session_select_ahead(), the login's
 *    tagged reply (opts.pipeline_login), LOGOUT (ims_session_logout_nowait).
 *    Every accessor whose answer depends on one of them (capabilities,
 *    ims_session_utf8(), ims_session_folder(), ims_session_server_id())
 *    reads that answer first, so nothing is decided on a guess;
 *  - selected-folder state (EXISTS, RECENT, EXPUNGE, VANISHED, FLAGS,
 *    UIDVALIDITY, UIDNEXT, PERMANENTFLAGS, HIGHESTMODSEQ, read-only) kept
 *    current from every response, solicited or not;
 *  - [ALERT] and BYE texts go to hooks (or are kept for the caller to
 *    read); text is raw server bytes: the front end sanitises for display;
 *  - a trace hook sees every line sent and received, with credentials and
 *    literal data already redacted ("***", "<n bytes>");
 *  - deadlines: stream->deadline_ms is set for the greeting and for login,
 *    so a server dribbling a byte a second cannot hold them forever.
 *
 * Errors are graded as error.h says: IMS_ERR_NO for a NO/BAD answer (the
 * session goes on), IMS_ERR_AUTH for failed authentication, IMS_ERR_IO
 * for a caller's sink that failed (the session goes on), IMS_ERR_NET /
 * IMS_ERR_PROTOCOL / IMS_ERR_LIMIT when the connection is lost or
 * unusable: the session is then broken and every later call returns that
 * error at once.
 *
 * Mailbox names are raw bytes: modified UTF-7, or UTF-8 once
 * ims_session_utf8() says UTF8=ACCEPT is enabled (utf7.h converts).
 *
 * Ownership: the session owns the stream given to ims_session_new() and
 * closes it in ims_session_free().  Pointers returned by accessors
 * (capabilities, folder, greeting) are owned by the session and valid
 * until the next call that talks to the server.  Result structs are owned
 * by the caller: _init before use (cannot fail), _release after; they
 * hold copies.  Strings the caller passes in are only borrowed for the
 * call; secrets (struct ims_auth) are not kept, and every copy the
 * session makes of them is wiped. */
#ifndef IMAPSH_SESSION_H
#define IMAPSH_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "imapsh/buf.h"
#include "imapsh/error.h"
#include "imapsh/parser.h"
#include "imapsh/stream.h"
#include "imapsh/writer.h"

struct ims_session;

/* Protocol state (RFC 9051 section 3). */
enum ims_state {
	IMS_STATE_GREETING = 0, /* connected, greeting not read */
	IMS_STATE_NOT_AUTHENTICATED,
	IMS_STATE_AUTHENTICATED,
	IMS_STATE_SELECTED,
	IMS_STATE_LOGOUT /* BYE seen or LOGOUT done */
};

const char *ims_state_name(enum ims_state st); /* "not authenticated", ... */

enum ims_trace_dir {
	IMS_TRACE_SEND, /* a line the client sent (redacted) */
	IMS_TRACE_RECV, /* a line the server sent (literal data left out) */
	IMS_TRACE_INFO  /* a note from the session: "state: selected", "<1234 bytes>" */
};

struct ims_session_hooks {
	/* Every line, without CRLF.  Raw server bytes: sanitise to show. */
	void (*trace)(void *ctx, enum ims_trace_dir dir, const char *line, size_t len);
	/* [ALERT] text (RFC 9051 7.1): must be shown to the user. */
	void (*alert)(void *ctx, const char *text, size_t len);
	/* A grammar slip the session forgave (struct ims_response's lenient:
	 * a QUOTA without its list, say), in words; at most 8 a session, then
	 * one saying more were left out.  May hold server bytes: sanitise. */
	void (*warning)(void *ctx, const char *text);
	/* The server said BYE; the connection is closing. */
	void (*bye)(void *ctx, const char *text, size_t len);
	/* Untagged responses no command in flight took (EXISTS during IDLE,
	 * unsolicited FETCH FLAGS, ...), after the session updated its state. */
	void (*untagged)(void *ctx, const struct ims_response *r);
	void *ctx;
};

struct ims_session_opts {
	struct ims_session_hooks hooks;
	struct ims_parser_limits limits; /* for the server's responses */
	int greeting_timeout_ms;         /* deadline for the greeting (default 30000) */
	int login_timeout_ms;            /* deadline for authentication (default 60000) */
	const char *id_name;             /* sent in ID where offered; NULL = no ID */
	const char *id_version;
	int no_enable_utf8; /* do not ENABLE UTF8=ACCEPT */
	/* SCRAM-SHA-256: once the server's signature is checked and the last
	 * (empty) response sent, ims_session_login() returns without waiting
	 * for the tagged OK, so the first commands after login go in the same
	 * flight.  Nothing secret follows a login.  Should the server still
	 * say NO, the session breaks with the login's words (IMS_ERR_AUTH) at
	 * the next call that reads. */
	int pipeline_login;
	/* Tests only: a fixed SCRAM client nonce instead of a random one,
	 * and a fixed tag prefix (letters) instead of a random one. */
	const char *insecure_test_nonce;
	const char *insecure_test_tag_prefix;
};

/* Cannot fail: defaults (ID name "imapsh" and the program version). */
void ims_session_opts_init(struct ims_session_opts *o);

/* A session over s; ownership of s passes in (it is closed when the
 * session is freed, or now when out of memory: NULL then). opts may be
 * NULL. */
struct ims_session *ims_session_new(struct ims_stream *s, const struct ims_session_opts *opts);
/* Frees everything and closes the stream (without LOGOUT); sets *s NULL. */
void ims_session_free(struct ims_session **s);

/* The stream (borrowed): to read byte counters or adjust timeouts.  After
 * ims_session_compress() it is the compressing stream (compress.h). */
struct ims_stream *ims_session_stream(struct ims_session *s);

enum ims_state ims_session_state(const struct ims_session *s);
/* IMS_OK, or the error that broke the session. */
ims_err ims_session_broken(const struct ims_session *s, struct ims_error *err);

/* ---- greeting and capabilities ---- */

/* Read the greeting (greeting == NULL), or, after STARTTLS, take the
 * plaintext greeting ims_connect() already read (its capabilities are not
 * trusted and asked again over TLS).  OK: not authenticated; PREAUTH:
 * authenticated (the after-login steps run); BYE: IMS_ERR_NET with the
 * server's words.  Capabilities are known afterwards (CAPABILITY is sent
 * when the greeting has none). */
ims_err ims_session_start(struct ims_session *s, const char *greeting,
                          struct ims_error *err) IMS_MUST_CHECK;
/* The greeting line as received (without CRLF), "" before. */
const char *ims_session_greeting(const struct ims_session *s);

/* 1 when the server announced cap (ignoring case), e.g. "IDLE",
 * "AUTH=PLAIN". */
int ims_session_has_cap(const struct ims_session *s, const char *cap);
/* All capabilities, as sent. */
size_t ims_session_caps(const struct ims_session *s, const char *const **caps_r);
/* 1 when capabilities are known (a CAPABILITY answer or code was seen). */
int ims_session_caps_known(const struct ims_session *s);
/* Forget them (after STARTTLS, before login); CAPABILITY asks again. */
void ims_session_forget_capabilities(struct ims_session *s);
/* Send CAPABILITY and replace the known set. */
ims_err ims_session_capability(struct ims_session *s, struct ims_error *err) IMS_MUST_CHECK;
/* 1 once ENABLE UTF8=ACCEPT succeeded: mailbox names are UTF-8. */
int ims_session_utf8(const struct ims_session *s);

/* ---- compression ---- */

/* COMPRESS DEFLATE (RFC 4978): when authenticated (or selected) with no
 * command in flight.  IMS_ERR_NO with words when the server does not
 * offer COMPRESS=DEFLATE or answers NO/BAD (the session goes on
 * uncompressed); IMS_ERR_USAGE before login, while idling or when it is
 * on already.  On OK every later byte both ways is compressed: the
 * session's stream is replaced by a compressing stream over it, and bytes
 * already read past the OK line are inflated first.  The trace notes
 * "compression: deflate on". */
ims_err ims_session_compress(struct ims_session *s, struct ims_error *err) IMS_MUST_CHECK;
/* 1 once ims_session_compress() succeeded. */
int ims_session_compressed(const struct ims_session *s);

/* ---- authentication ---- */

enum ims_auth_mech {
	IMS_AUTH_AUTO = 0,      /* the best the server offers for the credentials given */
	IMS_AUTH_PLAIN,         /* AUTHENTICATE PLAIN (RFC 4616), SASL-IR when offered */
	IMS_AUTH_LOGIN,         /* the LOGIN command; never when LOGINDISABLED */
	IMS_AUTH_SCRAM_SHA_256, /* RFC 7677; user name and password SASLprep'd (RFC 4013) */
	IMS_AUTH_XOAUTH2,       /* Google/Microsoft */
	IMS_AUTH_OAUTHBEARER,   /* RFC 7628 */
	IMS_AUTH_EXTERNAL,      /* RFC 4422: the TLS client certificate */
	IMS_AUTH_SCRAM_SHA_1,   /* RFC 5802, as SCRAM-SHA-256 */
	/* with tls-server-end-point channel binding (RFC 5929): the proof is
	 * bound to the certificate this TLS connection saw, so a proxy that
	 * holds another certificate cannot relay the login.  Chosen only when
	 * asked for: a server may bind to another type (tls-unique,
	 * tls-exporter) the TLS library does not expose. */
	IMS_AUTH_SCRAM_SHA_1_PLUS,
	IMS_AUTH_SCRAM_SHA_256_PLUS
};

/* "plain", "login", "scram-sha-256", "xoauth2", "oauthbearer",
 * "external" (any case) -> mechanism; IMS_ERR_USAGE otherwise. */
ims_err ims_auth_mech_parse(const char *name, enum ims_auth_mech *mech_r) IMS_MUST_CHECK;
const char *ims_auth_mech_name(enum ims_auth_mech mech); /* "scram-sha-256" */

struct ims_auth {
	enum ims_auth_mech mech;
	const char *user;     /* authentication identity */
	const char *authzid;  /* act as this user (PLAIN, SCRAM, EXTERNAL); NULL = none */
	const char *password; /* PLAIN, LOGIN, SCRAM-SHA-256 */
	const char *token;    /* XOAUTH2, OAUTHBEARER: an OAuth 2.0 access token */
	const char *host;     /* OAUTHBEARER: host and port the token is for (optional) */
	unsigned port;
};

/* Cannot fail: all NULL, IMS_AUTH_AUTO. */
void ims_auth_init(struct ims_auth *a);

/* Authenticate.  AUTO picks: with a token OAUTHBEARER, else XOAUTH2; with
 * a password SCRAM-SHA-256, else PLAIN, else LOGIN (never when
 * LOGINDISABLED); with neither EXTERNAL.  A chosen mechanism the server
 * does not offer is refused without trying.  On success the capabilities
 * are read again, UTF8=ACCEPT enabled and ID sent where offered.
 * Failure: IMS_ERR_AUTH, with words that tell AUTHENTICATIONFAILED,
 * AUTHORIZATIONFAILED, EXPIRED, UNAVAILABLE (try later), PRIVACYREQUIRED
 * and CONTACTADMIN apart (ims_session_last_code() has the code). */
ims_err ims_session_login(struct ims_session *s, const struct ims_auth *a,
                          struct ims_error *err) IMS_MUST_CHECK;
/* The mechanism the last login used (IMS_AUTH_AUTO before). */
enum ims_auth_mech ims_session_auth_mech(const struct ims_session *s);

/* The server's ID answer after login (name/value pairs, NULL values for
 * NIL), n = 0 when none. */
size_t ims_session_server_id(const struct ims_session *s, const struct ims_body_param **v_r);

/* ---- completion of the last command ---- */

/* The response code and text of the last tagged reply (text raw). */
enum ims_code_kind ims_session_last_code(const struct ims_session *s);
const char *ims_session_last_text(const struct ims_session *s);

/* Alerts kept when no alert hook is set (oldest first, at most 16). */
size_t ims_session_alerts(const struct ims_session *s, const char *const **v_r);
void ims_session_clear_alerts(struct ims_session *s);
/* The text of a BYE the server sent, or NULL. */
const char *ims_session_bye_text(const struct ims_session *s);

/* ---- the selected folder ---- */

#define IMS_FOLDER_UIDVALIDITY    (1u << 0)
#define IMS_FOLDER_UIDNEXT        (1u << 1)
#define IMS_FOLDER_UNSEEN         (1u << 2)
#define IMS_FOLDER_HIGHESTMODSEQ  (1u << 3)
#define IMS_FOLDER_PERMANENTFLAGS (1u << 4)

struct ims_folder {
	char *name; /* raw bytes as given to select */
	size_t name_len;
	int read_only;
	unsigned have;   /* IMS_FOLDER_* */
	uint32_t exists; /* message count */
	uint32_t recent;
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint32_t unseen; /* sequence number of the first unseen message ([UNSEEN]) */
	uint64_t highestmodseq;
	char **flags; /* FLAGS */
	size_t n_flags;
	char **permanentflags;
	size_t n_permanentflags;
	uint64_t expunged; /* EXPUNGE/VANISHED seen since it was selected */
};

/* The selected folder, or NULL (owned by the session). */
const struct ims_folder *ims_session_folder(const struct ims_session *s);

/* SELECT (read_only 0) or EXAMINE.  A failed attempt leaves no folder
 * selected (RFC 9051 6.3.2). */
ims_err ims_session_select(struct ims_session *s, const char *mbox, size_t len, int read_only,
                           struct ims_error *err) IMS_MUST_CHECK;

/* The same, in the background: the command goes out now and the next
 * command follows it in the same flight.  ims_session_folder() waits for
 * the answer; when the folder cannot be selected, the next
 * ims_session_wait() (that of the first command sent after it) returns
 * the SELECT's error, and later commands find no folder selected. */
ims_err ims_session_select_ahead(struct ims_session *s, const char *mbox, size_t len, int read_only,
                                 struct ims_error *err) IMS_MUST_CHECK;

/* ---- folders ---- */

struct ims_status_values {
	unsigned have; /* IMS_STATUS_* (parser.h) */
	uint32_t messages, recent, uidnext, uidvalidity, unseen, deleted;
	uint64_t size, highestmodseq;
};

struct ims_mailbox_info {
	char *name; /* raw bytes, NUL-terminated */
	size_t name_len;
	char delim;        /* 0 when none */
	unsigned attrs;    /* IMS_LIST_* (parser.h) */
	char *special_use; /* "\\Sent", ... or NULL */
	int has_status;    /* LIST-STATUS answered for it */
	struct ims_status_values status;
};

struct ims_list_result {
	struct ims_mailbox_info *v;
	size_t n, cap;
};

void ims_list_result_init(struct ims_list_result *r);
void ims_list_result_release(struct ims_list_result *r);

#define IMS_LISTF_SUBSCRIBED  (1u << 0) /* only subscribed folders (LSUB or LIST (SUBSCRIBED)) */
#define IMS_LISTF_STATUS      (1u << 1) /* LIST-STATUS where offered (messages, unseen) */
#define IMS_LISTF_SPECIAL_USE (1u << 2) /* RETURN (SPECIAL-USE) where offered */

/* LIST ref pattern (pattern may hold % and *).  Results are appended. */
ims_err ims_session_list(struct ims_session *s, const char *ref, const char *pattern,
                         unsigned flags, struct ims_list_result *res,
                         struct ims_error *err) IMS_MUST_CHECK;

/* STATUS for one folder; items IMS_STATUS_* or 0 for MESSAGES RECENT
 * UIDNEXT UIDVALIDITY UNSEEN (and SIZE where STATUS=SIZE is offered). */
ims_err ims_session_status(struct ims_session *s, const char *mbox, size_t len, unsigned items,
                           struct ims_status_values *res, struct ims_error *err) IMS_MUST_CHECK;
/* STATUS for n folders, pipelined.  errs[i] (may be NULL) gets each
 * folder's result; the return value is the first connection-level error,
 * else IMS_ERR_NO when any folder failed, else IMS_OK. */
ims_err ims_session_status_many(struct ims_session *s, const char *const *mboxes,
                                const size_t *lens, size_t n, unsigned items,
                                struct ims_status_values *res, ims_err *errs,
                                struct ims_error *err) IMS_MUST_CHECK;

ims_err ims_session_create(struct ims_session *s, const char *mbox, size_t len,
                           struct ims_error *err) IMS_MUST_CHECK;
ims_err ims_session_delete(struct ims_session *s, const char *mbox, size_t len,
                           struct ims_error *err) IMS_MUST_CHECK;
ims_err ims_session_rename(struct ims_session *s, const char *from, size_t from_len, const char *to,
                           size_t to_len, struct ims_error *err) IMS_MUST_CHECK;
ims_err ims_session_subscribe(struct ims_session *s, const char *mbox, size_t len,
                              struct ims_error *err) IMS_MUST_CHECK;
ims_err ims_session_unsubscribe(struct ims_session *s, const char *mbox, size_t len,
                                struct ims_error *err) IMS_MUST_CHECK;

struct ims_quota_info {
	char *root;
	struct ims_quota_resource_info {
		char *name; /* "STORAGE" (in KiB), "MESSAGE", ... */
		uint64_t usage, limit;
	} * res;
	size_t n;
};

struct ims_quota_result {
	char **roots; /* from QUOTAROOT */
	size_t n_roots;
	struct ims_quota_info *v; /* from QUOTA */
	size_t n;
};

void ims_quota_result_init(struct ims_quota_result *r);
void ims_quota_result_release(struct ims_quota_result *r);

/* GETQUOTAROOT (needs QUOTA; IMS_ERR_NO with words when not offered). */
ims_err ims_session_getquotaroot(struct ims_session *s, const char *mbox, size_t len,
                                 struct ims_quota_result *res,
                                 struct ims_error *err) IMS_MUST_CHECK;

/* ---- messages ---- */

/* FETCH results go to the caller as they arrive. */
struct ims_fetch_handler {
	/* A literal in a FETCH body item (BODY[...], BINARY[...], RFC822*)
	 * begins: set *sink_r to stream it (a file, stdout), or leave it for
	 * memory (up to limits.max_literal_mem).  A sink that fails makes the
	 * command fail with IMS_ERR_IO; the rest of the data is read and
	 * dropped, and the session goes on.  May be NULL. */
	ims_literal_fn literal;
	/* Each FETCH response, complete (also unsolicited ones while the
	 * command runs); the data is valid during the call.  An error stops
	 * further calls and is the command's result (the session goes on). */
	ims_err (*message)(void *ctx, const struct ims_fetch *f, struct ims_error *err);
	void *ctx;
};

/* UID FETCH uids items: uids a sequence set ("1:5,9", "*"), items the
 * fetch attributes as IMAP writes them ("(UID FLAGS BODY.PEEK[])"). */
ims_err ims_session_uid_fetch(struct ims_session *s, const char *uids, const char *items,
                              const struct ims_fetch_handler *h,
                              struct ims_error *err) IMS_MUST_CHECK;
/* FETCH by message sequence numbers ("#N" in the front end). */
ims_err ims_session_seq_fetch(struct ims_session *s, const char *seqs, const char *items,
                              const struct ims_fetch_handler *h,
                              struct ims_error *err) IMS_MUST_CHECK;

/* One body section of one message, to a sink, whether the server sends
 * it as a literal (streamed as it arrives) or in memory (a quoted string,
 * a small literal): the sink sees its bytes once, in order.  The body of
 * another message, or one whose UID is not known yet when it arrives,
 * is never streamed to the sink.  fetch, show and save use it.
 *
 * More sections of the same message may come in the same command (show:
 * the header and every text part), each to its own sink, and other fetch
 * items beside them (INTERNALDATE ENVELOPE), which the message callback
 * sees.  With one section any body item of the answer is its; with more,
 * each is matched by the section name the item carries. */
#define IMS_BODY_MORE_MAX 65 /* sections besides the first in one fetch */

struct ims_body_part {
	/* in */
	const char *section; /* as ims_body_fetch's */
	uint32_t max;        /* > 0: only its first max bytes (BODY.PEEK[S]<0.MAX>) */
	struct ims_sink sink;
	/* out */
	int found;
	int nil;
};

struct ims_body_fetch {
	/* in */
	const char *set;     /* one UID, "*", or (seq) one sequence number */
	uint32_t want;       /* that number; 0 for "*" (the first that comes) */
	int seq;             /* set and want are sequence numbers */
	const char *section; /* "" for the whole message, "1.2", "HEADER" ... */
	struct ims_sink sink;
	/* in, optional (zero: none) */
	uint32_t max;               /* > 0: only the first max bytes of section */
	struct ims_body_part *more; /* n_more more sections (IMS_BODY_MORE_MAX at most) */
	size_t n_more;
	const char *items; /* other fetch items ("INTERNALDATE ENVELOPE") */
	/* each FETCH response of the message asked for, before its bodies
	 * are taken (for items); an error stops the fetch */
	ims_err (*message)(void *ctx, const struct ims_fetch *f, struct ims_error *err);
	void *ctx;
	/* out */
	int found;    /* the section came */
	int nil;      /* the server sent NIL for it (not found) */
	uint32_t uid; /* the message's UID (0: the server did not say) */
};

/* UID FETCH (or FETCH) set (UID [items] BODY.PEEK[section] ...) into the
 * sinks.  A sink that fails makes it fail with IMS_ERR_IO (its words are
 * the sink's to keep).  Nothing found is IMS_OK with found 0. */
ims_err ims_session_fetch_body(struct ims_session *s, struct ims_body_fetch *b,
                               struct ims_error *err) IMS_MUST_CHECK;

struct ims_search_result {
	uint32_t *uids; /* ascending */
	size_t n, cap;
	uint64_t modseq; /* 0 when not given */
};

void ims_search_result_init(struct ims_search_result *r);
void ims_search_result_release(struct ims_search_result *r);

/* UID SEARCH keys (ESEARCH RETURN (ALL) where offered).  CHARSET UTF-8 is
 * added when a string holds 8-bit bytes and UTF8=ACCEPT is not enabled. */
ims_err ims_session_uid_search(struct ims_session *s, const struct ims_arg *keys, size_t n,
                               struct ims_search_result *res, struct ims_error *err) IMS_MUST_CHECK;

enum ims_store_op {
	IMS_STORE_ADD,    /* +FLAGS */
	IMS_STORE_REMOVE, /* -FLAGS */
	IMS_STORE_SET     /* FLAGS */
};

/* UID STORE uids (+|-)FLAGS[.SILENT] (flags).  Flags are "\\Seen" or
 * keywords; checked.  h (may be NULL) sees the FETCH responses. */
ims_err ims_session_uid_store(struct ims_session *s, const char *uids, enum ims_store_op op,
                              const char *const *flags, size_t n, int silent,
                              const struct ims_fetch_handler *h,
                              struct ims_error *err) IMS_MUST_CHECK;

struct ims_copy_result {
	int have_uids;        /* COPYUID came */
	uint32_t uidvalidity; /* of the destination */
	char *src_uids;       /* sequence sets as sent */
	char *dst_uids;
	int moved;        /* the messages are gone from the source (MOVE or expunged) */
	int left_deleted; /* no MOVE, no UIDPLUS: copied and flagged \Deleted, not expunged */
};

void ims_copy_result_init(struct ims_copy_result *r);
void ims_copy_result_release(struct ims_copy_result *r);

/* UID COPY uids mbox. */
ims_err ims_session_uid_copy(struct ims_session *s, const char *uids, const char *mbox, size_t len,
                             struct ims_copy_result *res, struct ims_error *err) IMS_MUST_CHECK;
/* UID MOVE where offered; else UID COPY, STORE +FLAGS.SILENT \Deleted and
 * UID EXPUNGE of just those (UIDPLUS), or left flagged without UIDPLUS. */
ims_err ims_session_uid_move(struct ims_session *s, const char *uids, const char *mbox, size_t len,
                             struct ims_copy_result *res, struct ims_error *err) IMS_MUST_CHECK;
/* UID EXPUNGE uids (needs UIDPLUS; IMS_ERR_NO with words otherwise). */
ims_err ims_session_uid_expunge(struct ims_session *s, const char *uids,
                                struct ims_error *err) IMS_MUST_CHECK;
/* EXPUNGE; *count_r (may be NULL) = messages removed. */
ims_err ims_session_expunge(struct ims_session *s, uint64_t *count_r,
                            struct ims_error *err) IMS_MUST_CHECK;

/* Where APPEND data comes from: read fills 1..len bytes (*got_r), 0 only
 * at the end. */
struct ims_source {
	ims_err (*read)(void *ctx, void *p, size_t len, size_t *got_r);
	void *ctx;
};

struct ims_append_result {
	int have_uid; /* APPENDUID came */
	uint32_t uidvalidity;
	uint32_t uid;
};

/* APPEND mbox (flags) "date" {size}: exactly size bytes are read from
 * src.  flags (may be NULL/0) and date ("17-Jul-1996 02:44:25 -0700", may
 * be NULL) are checked.  A source that ends early or fails breaks the
 * session (the literal cannot be completed). */
ims_err ims_session_append(struct ims_session *s, const char *mbox, size_t len,
                           const char *const *flags, size_t n_flags, const char *date,
                           uint64_t size, const struct ims_source *src,
                           struct ims_append_result *res, struct ims_error *err) IMS_MUST_CHECK;

/* ---- waiting ---- */

/* IDLE (needs IDLE): start, wait for changes, done. */
ims_err ims_session_idle_start(struct ims_session *s, struct ims_error *err) IMS_MUST_CHECK;
/* Read responses for up to timeout_ms (< 0: no limit) and return when the
 * folder changed (EXISTS, EXPUNGE, VANISHED, FETCH, RECENT: *changed_r 1)
 * or the time is up (*changed_r 0, IMS_OK).  The hooks see each response. */
ims_err ims_session_idle_wait(struct ims_session *s, int timeout_ms, int *changed_r,
                              struct ims_error *err) IMS_MUST_CHECK;
/* DONE, and wait for the IDLE command to end. */
ims_err ims_session_idle_done(struct ims_session *s, struct ims_error *err) IMS_MUST_CHECK;

ims_err ims_session_noop(struct ims_session *s, struct ims_error *err) IMS_MUST_CHECK;

/* ---- information ---- */

struct ims_namespace_result {
	struct ims_ns_info {
		char *prefix;
		char delim;
	} * v[3]; /* personal, other users', shared */
	size_t n[3];
};

void ims_namespace_result_init(struct ims_namespace_result *r);
void ims_namespace_result_release(struct ims_namespace_result *r);

ims_err ims_session_namespace(struct ims_session *s, struct ims_namespace_result *res,
                              struct ims_error *err) IMS_MUST_CHECK;

struct ims_id_result {
	char **names;
	char **values; /* NULL for NIL */
	size_t n;
};

void ims_id_result_init(struct ims_id_result *r);
void ims_id_result_release(struct ims_id_result *r);

/* ID with n name/value pairs (kv[2i], kv[2i+1]; n = 0 sends ID NIL). */
ims_err ims_session_id(struct ims_session *s, const char *const *kv, size_t n,
                       struct ims_id_result *res, struct ims_error *err) IMS_MUST_CHECK;

/* LOGOUT: BYE, the tagged OK, state LOGOUT.  The stream stays open until
 * ims_session_free(). */
ims_err ims_session_logout(struct ims_session *s, struct ims_error *err) IMS_MUST_CHECK;
/* Send LOGOUT and do not read the answer (state LOGOUT): for the end of a
 * session whose every command has completed, just before
 * ims_session_free(). */
ims_err ims_session_logout_nowait(struct ims_session *s, struct ims_error *err) IMS_MUST_CHECK;

/* ---- raw access ---- */

/* Called with every response to a quoted command (untagged, and the
 * tagged reply last) and its raw bytes, every literal whole. */
typedef ims_err (*ims_quote_fn)(void *ctx, const struct ims_response *r, const char *raw,
                                size_t raw_len, struct ims_error *err);

/* Send "tag line" (one line, no CR/LF/NUL, no literal header at its end)
 * and pass every response to fn.  IMS_OK when the server said OK,
 * IMS_ERR_NO for NO/BAD.  The trace shows what ims_redact_visible()
 * allows (nothing after LOGIN or AUTHENTICATE's mechanism). */
ims_err ims_session_quote(struct ims_session *s, const char *line, ims_quote_fn fn, void *ctx,
                          struct ims_error *err) IMS_MUST_CHECK;
/* The checks ims_session_quote() makes on line, without a session (so a
 * front end can refuse a bad line before it connects): IMS_ERR_USAGE
 * with words, or IMS_OK. */
ims_err ims_quote_check(const char *line, struct ims_error *err) IMS_MUST_CHECK;

/* ---- pipelining: build, submit, wait ---- */

/* What a submitted command wants to see.  All members may be NULL. */
struct ims_handler {
	/* An untagged response while the command is in flight: set *taken_r
	 * to keep later commands from seeing it. */
	ims_err (*untagged)(void *ctx, const struct ims_response *r, int *taken_r,
	                    struct ims_error *err);
	/* A "+" continuation the command asked for (AUTHENTICATE, IDLE).  It
	 * must answer on the stream as the command needs; an error breaks the
	 * session. */
	ims_err (*continuation)(void *ctx, const struct ims_response *r, struct ims_error *err);
	/* The tagged reply (codes such as APPENDUID), before wait returns. */
	ims_err (*tagged)(void *ctx, const struct ims_response *r, struct ims_error *err);
	/* Literals of FETCH body items while the command is the oldest in
	 * flight with this set (see ims_fetch_handler). */
	ims_literal_fn literal;
	void *ctx;
};

/* Begin a command in c with a fresh tag and the session's literal and
 * UTF-8 options: c is initialised here (release it after submit). */
ims_err ims_session_cmd_begin(struct ims_session *s, struct ims_cmd *c, const char *verb,
                              struct ims_error *err) IMS_MUST_CHECK;
/* Send an ended command (waiting for "+" where a literal needs it; a
 * STREAM segment reads from src).  *id_r identifies it for wait. h and
 * its ctx must stay valid until the command completes. */
ims_err ims_session_submit(struct ims_session *s, struct ims_cmd *c, const struct ims_handler *h,
                           const struct ims_source *src, unsigned *id_r,
                           struct ims_error *err) IMS_MUST_CHECK;
/* Send data and CRLF as one line (an answer to a continuation: a SASL
 * response, DONE).  Line breaks and NUL in data are refused.  secret
 * shows it as "***" in the trace. */
ims_err ims_session_send_line(struct ims_session *s, const char *data, size_t len, int secret,
                              struct ims_error *err) IMS_MUST_CHECK;
/* Read until command id completes.  IMS_OK for OK; IMS_ERR_NO with the
 * server's words for NO/BAD; a handler's error; or a connection error. */
ims_err ims_session_wait(struct ims_session *s, unsigned id, struct ims_error *err) IMS_MUST_CHECK;

#endif
