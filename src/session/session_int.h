/* Internals of the session, shared by session.c (the engine), auth.c and
 * commands.c.  Not a public header. */
#ifndef IMAPSH_SESSION_INT_H
#define IMAPSH_SESSION_INT_H

#include "imapsh/crypto.h"
#include "imapsh/session.h"

/* A command sent and not yet waited for. */
struct ims__pending {
	unsigned id;
	char tag[32];
	struct ims_handler h;
	int cont_wait; /* sent a literal header, waiting for "+" */
	int done;      /* the tagged reply came */
	enum ims_cond cond;
	enum ims_code_kind code;
	char *text;   /* the reply's text, raw */
	ims_err herr; /* a handler's or sink's error */
	struct ims_error err;
	/* A background command (IMS__BG_*): nobody waits for it; its reply is
	 * taken where it arrives (ims__bg_done) and the record freed there. */
	int bg;
	int bg_read_only; /* IMS__BG_SELECT: EXAMINE */
	struct ims__pending *next;
};

/* Background commands: sent and not waited for, so that what follows
 * goes out in the same flight.  Whatever depends on their answers waits
 * for them first (ims__settle), so no decision is made on a guess. */
enum {
	IMS__BG_NONE = 0,
	IMS__BG_LOGIN,  /* the tagged reply to a login whose last response is sent */
	IMS__BG_ENABLE, /* ENABLE UTF8=ACCEPT */
	IMS__BG_ID,     /* ID */
	IMS__BG_SELECT, /* SELECT/EXAMINE sent ahead of the folder's first command */
	IMS__BG_LOGOUT  /* LOGOUT at the end of a one-shot: never read */
};

#define IMS__MAX_ALERTS 16

struct ims_session {
	struct ims_stream *stream;
	struct ims_session_opts opts;
	struct ims_parser *parser;
	enum ims_state state;
	ims_err broken;
	struct ims_error broken_err;

	char tag_prefix[8];
	unsigned tag_seq;
	unsigned next_id;
	struct ims__pending *pend; /* in send order, done ones too until waited */
	struct ims__pending *sending;

	char rbuf[16384];
	size_t rpos, rlen;

	char **caps;
	size_t n_caps;
	int caps_known;
	int utf8;
	char *greeting;
	char *bye;
	char *alerts[IMS__MAX_ALERTS];
	size_t n_alerts;
	unsigned n_warnings; /* hooks.warning calls so far */
	enum ims_code_kind last_code;
	char *last_text;
	struct ims_folder folder; /* name != NULL: selected or being selected */
	enum ims_auth_mech mech;
	struct ims_body_param *sid;
	size_t n_sid;

	/* the literal being streamed to a caller's sink */
	struct ims_sink user_sink;
	struct ims__pending *sink_owner;

	unsigned caps_gen;
	int compressed; /* COMPRESS DEFLATE is on: stream is the compressing one */

	int trace_cont_secret; /* the last command traced was secret */

	/* background commands in flight (IMS__BG_*) */
	int bg_login, bg_enable, bg_id, bg_select;
	enum ims_auth_mech bg_login_mech;
	unsigned bg_login_caps_gen; /* caps_gen when the login was sent */
	int caps_stale;             /* logged in, the new capabilities not known yet */
	int sel_failed;             /* a background SELECT failed: sel_err is due */
	struct ims_error sel_err;

	/* IDLE */
	unsigned idle_id;
	int idle_started;
	int idle_changed;
};

void ims__set_state(struct ims_session *s, enum ims_state st);
/* Mark the session broken with e/words (returns the code). */
ims_err ims__break(struct ims_session *s, ims_err code, const struct ims_error *why,
                   struct ims_error *err);
/* Fail at once if broken. */
ims_err ims__check(struct ims_session *s, struct ims_error *err);
/* Process one response (reading as needed). */
ims_err ims__pump(struct ims_session *s, struct ims_error *err);
/* The same, but when until (ims_now_ms() time, 0 = none) passes while
 * waiting for data, return IMS_OK with *timed_out_r set (the session goes
 * on). */
ims_err ims__pump_until(struct ims_session *s, int64_t until, int *timed_out_r,
                        struct ims_error *err);
void ims__folder_clear(struct ims_folder *f);
/* Write raw bytes to the server (not traced). */
ims_err ims__write(struct ims_session *s, const void *p, size_t n, struct ims_error *err);
void ims__trace(struct ims_session *s, enum ims_trace_dir dir, const char *line, size_t len);
/* Trace a whole command the client sends (tag first): what may be shown
 * is decided by ims_redact_visible() alone, and a command found secret
 * makes the lines that continue it (ims_session_send_line) secret too,
 * until the next command. */
void ims__trace_command(struct ims_session *s, const char *cmd, size_t len);
/* The record of command id, or NULL. */
struct ims__pending *ims__find(struct ims_session *s, unsigned id);
/* Make command id a background command of kind bg (IMS__BG_*). */
void ims__background(struct ims_session *s, unsigned id, int bg);
/* Wait for what the answers of background commands decide:
 * IMS__SETTLE_CAPS (the login's reply, and CAPABILITY when it had none),
 * or one kind (IMS__BG_*), or IMS__SETTLE_ALL. */
#define IMS__SETTLE_CAPS 100
#define IMS__SETTLE_ALL  101
ims_err ims__settle(struct ims_session *s, int what, struct ims_error *err);
/* The capability as known now, without waiting for anything. */
int ims__cap_now(const struct ims_session *s, const char *cap);
/* The words for a failed login (the last tagged reply's code and text). */
ims_err ims__auth_failed(struct ims_session *s, enum ims_auth_mech mech, const char *extra,
                         struct ims_error *err);
/* Begin, end, submit and wait in one go. */
ims_err ims__run(struct ims_session *s, struct ims_cmd *c, const struct ims_handler *h,
                 struct ims_error *err);
/* Set a deadline ms from now on the stream (0: none), returning the old. */
int64_t ims__deadline(struct ims_session *s, int ms);
void ims__deadline_restore(struct ims_session *s, int64_t old);
/* Copy server text into words for an error message (sanitised, cut). */
void ims__server_words(const char *text, char *out, size_t cap);
/* Replace the capability list with strings v[0..n). */
ims_err ims__set_caps(struct ims_session *s, const char *const *v, size_t n);
/* The after-login steps: capabilities, ENABLE UTF8=ACCEPT, ID. */
ims_err ims__after_login(struct ims_session *s, struct ims_error *err);
/* The writer options for this session. */
void ims__writer_opts(const struct ims_session *s, struct ims_writer_opts *o);
/* Checked flag list "(\\Seen $x)" into out; IMS_ERR_USAGE with words. */
ims_err ims__flag_list(const char *const *flags, size_t n, struct ims_buf *out,
                       struct ims_error *err);
char *ims__strndup(const char *p, size_t n);
/* Bump on every change of the capability list. */
unsigned ims__caps_generation(const struct ims_session *s);

/* SCRAM client (RFC 5802, RFC 7677, channel binding RFC 5929), exposed
 * for tests.  After ims__scram_init() it is SCRAM-SHA-256 without channel
 * binding (gs2 flag "n"); ims__scram_setup() chooses otherwise. */
struct ims__scram {
	enum ims_hash hash;
	char cb_flag;                   /* 'n', 'y' or 'p' (tls-server-end-point) */
	unsigned char cb[IMS_HASH_MAX]; /* the channel binding data, for 'p' */
	size_t cb_len;
	int pw_prepped;          /* SASLprep changed the password */
	char *gs2;               /* "n,," or "p=tls-server-end-point,a=authzid," */
	char *client_first_bare; /* "n=user,r=nonce" */
	char *nonce;
	struct ims_buf auth_message;
	unsigned char server_sig[IMS_HASH_MAX];
};

void ims__scram_init(struct ims__scram *sc);
/* Hash, gs2 flag and, for 'p', the channel binding data (cb_len at most
 * IMS_HASH_MAX). */
void ims__scram_setup(struct ims__scram *sc, enum ims_hash hash, char cb_flag,
                      const unsigned char *cb, size_t cb_len);
/* Wipes and frees. */
void ims__scram_release(struct ims__scram *sc);
/* The client-first message into out; nonce NULL for a random one. */
ims_err ims__scram_first(struct ims__scram *sc, const char *user, const char *authzid,
                         const char *nonce, struct ims_buf *out,
                         struct ims_error *err) IMS_MUST_CHECK;
/* From the server-first message, the client-final message into out. */
ims_err ims__scram_final(struct ims__scram *sc, const char *password, const char *server_first,
                         size_t n, struct ims_buf *out, struct ims_error *err) IMS_MUST_CHECK;
/* Check the server-final message (v=...); IMS_ERR_AUTH when wrong. */
ims_err ims__scram_verify(struct ims__scram *sc, const char *server_final, size_t n,
                          struct ims_error *err) IMS_MUST_CHECK;
void ims__free_strv(char **v, size_t n);

#endif
