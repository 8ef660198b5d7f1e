/* The IMAP session engine: tags, sending, reading, matching replies to
 * commands, capabilities, the selected folder's state, the greeting.
 * Authentication is in auth.c, the commands in commands.c. */
#include "session_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "imapsh/crypto.h"
#include "imapsh/redact.h"
#include "imapsh/sanitize.h"
#include "imapsh/seqset.h"

#ifndef IMAPSH_VERSION
#define IMAPSH_VERSION "0"
#endif

/* ---- small helpers ---- */

char *ims__strndup(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		if (n != 0)
			memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

void ims__free_strv(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static char **strv_dup(const char *const *v, size_t n)
{
	char **r = calloc(n + 1, sizeof(*r));
	size_t i;

	if (r == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		r[i] = ims__strndup(v[i], strlen(v[i]));
		if (r[i] == NULL) {
			ims__free_strv(r, i);
			return NULL;
		}
	}
	return r;
}

void ims__server_words(const char *text, char *out, size_t cap)
{
	struct ims_buf b;
	struct ims_error e;
	size_t n = strlen(text);

	ims_buf_init(&b, cap * 2 + 64);
	if (n > cap)
		n = cap;
	if (ims_sanitize(text, n, IMS_SANITIZE_LINE, &b, &e) != IMS_OK || b.data == NULL) {
		snprintf(out, cap, "%s", "(unprintable)");
	} else {
		snprintf(out, cap, "%s", b.data);
	}
	ims_buf_release(&b);
}

static const char *const state_names[] = {
    [IMS_STATE_GREETING] = "greeting",
    [IMS_STATE_NOT_AUTHENTICATED] = "not authenticated",
    [IMS_STATE_AUTHENTICATED] = "authenticated",
    [IMS_STATE_SELECTED] = "selected",
    [IMS_STATE_LOGOUT] = "logout",
};

const char *ims_state_name(enum ims_state st)
{
	if ((unsigned)st < sizeof(state_names) / sizeof(state_names[0]))
		return state_names[st];
	return "unknown";
}

void ims__trace(struct ims_session *s, enum ims_trace_dir dir, const char *line, size_t len)
{
	if (s->opts.hooks.trace != NULL)
		s->opts.hooks.trace(s->opts.hooks.ctx, dir, line, len);
}

void ims__trace_command(struct ims_session *s, const char *cmd, size_t len)
{
	size_t keep = ims_redact_visible(cmd, len);
	char *t;

	s->trace_cont_secret = keep < len;
	if (s->opts.hooks.trace == NULL)
		return;
	if (keep == len) {
		ims__trace(s, IMS_TRACE_SEND, cmd, len);
		return;
	}
	t = malloc(keep + 5);
	if (t == NULL) {
		ims__trace(s, IMS_TRACE_SEND, "***", 3);
		return;
	}
	memcpy(t, cmd, keep);
	memcpy(t + keep, " ***", 5);
	ims__trace(s, IMS_TRACE_SEND, t, keep + 4);
	ims_wipe(t, keep + 5);
	free(t);
}

/* The one place the protocol state changes. */
void ims__set_state(struct ims_session *s, enum ims_state st)
{
	char note[64];
	int n;

	if (s->state == st)
		return;
	s->state = st;
	n = snprintf(note, sizeof(note), "state: %s", ims_state_name(st));
	ims__trace(s, IMS_TRACE_INFO, note, (size_t)n);
}

void ims_session_opts_init(struct ims_session_opts *o)
{
	memset(o, 0, sizeof(*o));
	ims_parser_limits_init(&o->limits);
	o->greeting_timeout_ms = 30000;
	o->login_timeout_ms = 60000;
	o->id_name = "imapsh";
	o->id_version = IMAPSH_VERSION;
}

/* ---- parser callbacks ---- */

static void on_line(void *ctx, const char *line, size_t len)
{
	ims__trace(ctx, IMS_TRACE_RECV, line, len);
}

static int body_item(const char *item)
{
	return strncasecmp(item, "BODY[", 5) == 0 || strncasecmp(item, "BINARY[", 7) == 0 ||
	       strncasecmp(item, "RFC822", 6) == 0;
}

static ims_err discard_write(void *ctx, const void *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
	return IMS_OK;
}

/* Literal data to a caller's sink: a failing sink makes its command fail
 * but the data is still read (and dropped), so the session survives. */
static ims_err wrap_write(void *ctx, const void *p, size_t n)
{
	struct ims_session *s = ctx;
	struct ims__pending *pd = s->sink_owner;
	ims_err e;

	if (pd == NULL || pd->herr != IMS_OK)
		return IMS_OK;
	e = s->user_sink.write(s->user_sink.ctx, p, n);
	if (e != IMS_OK) {
		pd->herr = e;
		ims_error_set(&pd->err, e, "cannot write the message data (%s)", ims_err_name(e));
	}
	return IMS_OK;
}

static ims_err on_literal(void *ctx, const struct ims_literal_info *li, struct ims_sink *sink_r,
                          struct ims_error *err)
{
	struct ims_session *s = ctx;
	struct ims__pending *p;
	char note[80];
	int n;

	(void)err;
	n = snprintf(note, sizeof(note), "<%" PRIu64 " bytes>", li->size);
	ims__trace(s, IMS_TRACE_INFO, note, (size_t)n);
	if (li->kind != IMS_DATA_FETCH || li->nested || li->item == NULL || !body_item(li->item))
		return IMS_OK;
	for (p = s->pend; p != NULL; p = p->next) {
		struct ims_sink user = {NULL, NULL};
		ims_err e;

		if (p->done || p->h.literal == NULL)
			continue;
		if (p->herr != IMS_OK) {
			/* that command failed already: drop its data */
			sink_r->write = discard_write;
			return IMS_OK;
		}
		e = p->h.literal(p->h.ctx, li, &user, &p->err);
		if (e != IMS_OK) {
			p->herr = e;
			if (p->err.code == IMS_OK)
				ims_error_set(&p->err, e, "the literal callback failed");
			sink_r->write = discard_write;
			return IMS_OK;
		}
		if (user.write != NULL) {
			s->user_sink = user;
			s->sink_owner = p;
			sink_r->write = wrap_write;
			sink_r->ctx = s;
		}
		return IMS_OK;
	}
	return IMS_OK;
}

/* ---- lifetime ---- */

struct ims_session *ims_session_new(struct ims_stream *stream, const struct ims_session_opts *opts)
{
	struct ims_session *s = calloc(1, sizeof(*s));
	unsigned char rnd[4];
	size_t i;

	if (s == NULL) {
		ims_stream_close(&stream);
		return NULL;
	}
	if (opts != NULL)
		s->opts = *opts;
	else
		ims_session_opts_init(&s->opts);
	s->stream = stream;
	s->parser = ims_parser_new(&s->opts.limits);
	if (s->parser == NULL) {
		ims_stream_close(&stream);
		free(s);
		return NULL;
	}
	ims_parser_set_line_fn(s->parser, on_line, s);
	ims_parser_set_literal_fn(s->parser, on_literal, s);
	ims_error_init(&s->broken_err);
	if (ims_random(rnd, sizeof(rnd)) != IMS_OK) {
		unsigned v = (unsigned)getpid() ^ (unsigned)ims_now_ms();

		memcpy(rnd, &v, sizeof(rnd));
	}
	for (i = 0; i < 4; i++)
		s->tag_prefix[i] = (char)('A' + rnd[i] % 26);
	s->tag_prefix[4] = '\0';
	if (s->opts.insecure_test_tag_prefix != NULL) {
		for (i = 0; i < sizeof(s->tag_prefix) - 1; i++) {
			char ch = s->opts.insecure_test_tag_prefix[i];

			if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')))
				break;
			s->tag_prefix[i] = ch;
		}
		s->tag_prefix[i > 0 ? i : 4] = '\0';
	}
	s->next_id = 1;
	s->state = IMS_STATE_GREETING;
	return s;
}

void ims__folder_clear(struct ims_folder *f)
{
	free(f->name);
	ims__free_strv(f->flags, f->n_flags);
	ims__free_strv(f->permanentflags, f->n_permanentflags);
	memset(f, 0, sizeof(*f));
}

static void free_sid(struct ims_session *s)
{
	size_t i;

	for (i = 0; i < s->n_sid; i++) {
		free((char *)s->sid[i].name);
		free((char *)s->sid[i].value);
	}
	free(s->sid);
	s->sid = NULL;
	s->n_sid = 0;
}

void ims_session_free(struct ims_session **sp)
{
	struct ims_session *s = *sp;
	size_t i;

	if (s == NULL)
		return;
	while (s->pend != NULL) {
		struct ims__pending *p = s->pend;

		s->pend = p->next;
		free(p->text);
		free(p);
	}
	ims_parser_free(&s->parser);
	ims_stream_close(&s->stream);
	ims__free_strv(s->caps, s->n_caps);
	free(s->greeting);
	free(s->bye);
	for (i = 0; i < s->n_alerts; i++)
		free(s->alerts[i]);
	free(s->last_text);
	ims__folder_clear(&s->folder);
	free_sid(s);
	ims_wipe(s->rbuf, sizeof(s->rbuf));
	free(s);
	*sp = NULL;
}

struct ims_stream *ims_session_stream(struct ims_session *s)
{
	return s->stream;
}

enum ims_state ims_session_state(const struct ims_session *s)
{
	return s->state;
}

ims_err ims_session_broken(const struct ims_session *s, struct ims_error *err)
{
	if (s->broken != IMS_OK)
		return ims_error_copy(err, &s->broken_err);
	return IMS_OK;
}

ims_err ims__break(struct ims_session *s, ims_err code, const struct ims_error *why,
                   struct ims_error *err)
{
	if (s->broken == IMS_OK) {
		s->broken = code;
		if (why != NULL && why->msg[0] != '\0')
			ims_error_copy(&s->broken_err, why);
		else
			ims_error_set(&s->broken_err, code, "the connection failed");
		s->broken_err.code = code;
	}
	return ims_error_copy(err, &s->broken_err);
}

ims_err ims__check(struct ims_session *s, struct ims_error *err)
{
	if (s->broken != IMS_OK)
		return ims_error_copy(err, &s->broken_err);
	return IMS_OK;
}

int64_t ims__deadline(struct ims_session *s, int ms)
{
	int64_t old = s->stream->deadline_ms;

	s->stream->deadline_ms = ms > 0 ? ims_now_ms() + ms : 0;
	return old;
}

void ims__deadline_restore(struct ims_session *s, int64_t old)
{
	s->stream->deadline_ms = old;
}

/* ---- accessors ---- */

const char *ims_session_greeting(const struct ims_session *s)
{
	return s->greeting != NULL ? s->greeting : "";
}

int ims__cap_now(const struct ims_session *s, const char *cap)
{
	size_t i;

	for (i = 0; i < s->n_caps; i++)
		if (strcasecmp(s->caps[i], cap) == 0)
			return 1;
	return 0;
}

/* The accessors below answer from what the server said: when that answer
 * is still on its way (a login, ENABLE, ID or SELECT sent in the
 * background), they read it first.  A session that breaks meanwhile
 * reports it at its next call. */
static struct ims_session *unconst(const struct ims_session *s)
{
	return (struct ims_session *)(uintptr_t)s;
}

static void settle_quietly(const struct ims_session *s, int what)
{
	struct ims_error ign;

	(void)ims__settle(unconst(s), what, &ign);
}

int ims_session_has_cap(const struct ims_session *s, const char *cap)
{
	settle_quietly(s, IMS__SETTLE_CAPS);
	return ims__cap_now(s, cap);
}

size_t ims_session_caps(const struct ims_session *s, const char *const **caps_r)
{
	settle_quietly(s, IMS__SETTLE_CAPS);
	*caps_r = (const char *const *)s->caps;
	return s->n_caps;
}

int ims_session_caps_known(const struct ims_session *s)
{
	settle_quietly(s, IMS__SETTLE_CAPS);
	return s->caps_known;
}

void ims_session_forget_capabilities(struct ims_session *s)
{
	ims__free_strv(s->caps, s->n_caps);
	s->caps = NULL;
	s->n_caps = 0;
	s->caps_known = 0;
}

ims_err ims__set_caps(struct ims_session *s, const char *const *v, size_t n)
{
	char **c = strv_dup(v, n);

	if (c == NULL)
		return IMS_ERR_NOMEM;
	ims__free_strv(s->caps, s->n_caps);
	s->caps = c;
	s->n_caps = n;
	s->caps_known = 1;
	s->caps_gen++;
	return IMS_OK;
}

unsigned ims__caps_generation(const struct ims_session *s)
{
	return s->caps_gen;
}

int ims_session_utf8(const struct ims_session *s)
{
	settle_quietly(s, IMS__BG_ENABLE);
	return s->utf8;
}

enum ims_code_kind ims_session_last_code(const struct ims_session *s)
{
	return s->last_code;
}

const char *ims_session_last_text(const struct ims_session *s)
{
	return s->last_text != NULL ? s->last_text : "";
}

size_t ims_session_alerts(const struct ims_session *s, const char *const **v_r)
{
	*v_r = (const char *const *)s->alerts;
	return s->n_alerts;
}

void ims_session_clear_alerts(struct ims_session *s)
{
	size_t i;

	for (i = 0; i < s->n_alerts; i++)
		free(s->alerts[i]);
	s->n_alerts = 0;
}

const char *ims_session_bye_text(const struct ims_session *s)
{
	return s->bye;
}

const struct ims_folder *ims_session_folder(const struct ims_session *s)
{
	settle_quietly(s, IMS__BG_SELECT);
	return s->state == IMS_STATE_SELECTED && s->folder.name != NULL ? &s->folder : NULL;
}

enum ims_auth_mech ims_session_auth_mech(const struct ims_session *s)
{
	return s->mech;
}

size_t ims_session_server_id(const struct ims_session *s, const struct ims_body_param **v_r)
{
	settle_quietly(s, IMS__BG_ID);
	*v_r = s->sid;
	return s->n_sid;
}

void ims__writer_opts(const struct ims_session *s, struct ims_writer_opts *o)
{
	memset(o, 0, sizeof(*o));
	/* As known now: a synchronizing literal is always safe. */
	if (ims__cap_now(s, "LITERAL+"))
		o->literal = IMS_LITERAL_PLUS;
	else if (ims__cap_now(s, "LITERAL-") || ims__cap_now(s, "IMAP4rev2"))
		o->literal = IMS_LITERAL_MINUS;
	else
		o->literal = IMS_LITERAL_SYNC;
	o->utf8 = s->utf8;
}

/* ---- writing ---- */

ims_err ims__write(struct ims_session *s, const void *p, size_t n, struct ims_error *err)
{
	if (ims_stream_write(s->stream, p, n) != IMS_OK)
		return ims__break(s,
		                  s->stream->err.code != IMS_OK ? s->stream->err.code : IMS_ERR_NET,
		                  &s->stream->err, err);
	return IMS_OK;
}

ims_err ims_session_send_line(struct ims_session *s, const char *data, size_t len, int secret,
                              struct ims_error *err)
{
	char *line;
	ims_err e;

	if (ims__check(s, err) != IMS_OK)
		return s->broken;
	if (memchr(data, '\r', len) || memchr(data, '\n', len) || memchr(data, '\0', len))
		return ims_error_set(err, IMS_ERR_USAGE, "a line break or NUL in a line to send");
	secret = secret || s->trace_cont_secret;
	ims__trace(s, IMS_TRACE_SEND, secret ? "***" : data, secret ? 3 : len);
	line = malloc(len + 2);
	if (line == NULL)
		return ims_error_nomem(err);
	memcpy(line, data, len);
	memcpy(line + len, "\r\n", 2);
	e = ims__write(s, line, len + 2, err);
	ims_wipe(line, len + 2);
	free(line);
	return e;
}

/* ---- reading and dispatching ---- */

static void add_alert(struct ims_session *s, const char *text, size_t len)
{
	if (s->opts.hooks.alert != NULL) {
		s->opts.hooks.alert(s->opts.hooks.ctx, text, len);
		return;
	}
	if (s->n_alerts == IMS__MAX_ALERTS) {
		free(s->alerts[0]);
		memmove(s->alerts, s->alerts + 1, (IMS__MAX_ALERTS - 1) * sizeof(s->alerts[0]));
		s->n_alerts--;
	}
	s->alerts[s->n_alerts] = ims__strndup(text, len);
	if (s->alerts[s->n_alerts] != NULL)
		s->n_alerts++;
}

static ims_err set_strv(char ***v, size_t *n, const char *const *src, size_t m)
{
	char **c = strv_dup(src, m);

	if (c == NULL)
		return IMS_ERR_NOMEM;
	ims__free_strv(*v, *n);
	*v = c;
	*n = m;
	return IMS_OK;
}

/* Response codes that change the session, in any status response. */
static ims_err apply_code(struct ims_session *s, const struct ims_response *r)
{
	const struct ims_code *c = &r->code;
	struct ims_folder *f = &s->folder;

	switch (c->kind) {
	case IMS_CODE_ALERT: add_alert(s, r->text, r->text_len); break;
	case IMS_CODE_CAPABILITY: return ims__set_caps(s, c->list, c->n_list);
	default: break;
	}
	if (f->name == NULL || r->type != IMS_RESP_UNTAGGED)
		return IMS_OK;
	switch (c->kind) {
	case IMS_CODE_UIDVALIDITY:
		f->uidvalidity = c->num;
		f->have |= IMS_FOLDER_UIDVALIDITY;
		break;
	case IMS_CODE_UIDNEXT:
		f->uidnext = c->num;
		f->have |= IMS_FOLDER_UIDNEXT;
		break;
	case IMS_CODE_UNSEEN:
		f->unseen = c->num;
		f->have |= IMS_FOLDER_UNSEEN;
		break;
	case IMS_CODE_HIGHESTMODSEQ:
		f->highestmodseq = c->modseq;
		f->have |= IMS_FOLDER_HIGHESTMODSEQ;
		break;
	case IMS_CODE_PERMANENTFLAGS:
		f->have |= IMS_FOLDER_PERMANENTFLAGS;
		return set_strv(&f->permanentflags, &f->n_permanentflags, c->list, c->n_list);
	default: break;
	}
	return IMS_OK;
}

static uint64_t vanished_count(const char *uids)
{
	struct ims_seqset set;
	struct ims_error e;
	uint64_t n = 0;

	ims_seqset_init(&set);
	if (ims_seqset_parse(&set, uids, strlen(uids), &e) == IMS_OK)
		n = ims_seqset_count(&set, 0, 0);
	ims_seqset_release(&set);
	return n;
}

/* What every untagged response does to the session. */
static ims_err apply_untagged(struct ims_session *s, const struct ims_response *r)
{
	struct ims_folder *f = &s->folder;
	size_t i;

	if (r->cond != IMS_COND_NONE) {
		if (r->cond == IMS_COND_BYE) {
			free(s->bye);
			s->bye = ims__strndup(r->text, r->text_len);
			ims__set_state(s, IMS_STATE_LOGOUT);
			if (s->opts.hooks.bye != NULL)
				s->opts.hooks.bye(s->opts.hooks.ctx, r->text, r->text_len);
		}
		return apply_code(s, r);
	}
	switch (r->kind) {
	case IMS_DATA_CAPABILITY: return ims__set_caps(s, r->u.strings.v, r->u.strings.n);
	case IMS_DATA_ENABLED:
		for (i = 0; i < r->u.strings.n; i++)
			if (strcasecmp(r->u.strings.v[i], "UTF8=ACCEPT") == 0)
				s->utf8 = 1;
		return IMS_OK;
	default: break;
	}
	if (f->name == NULL)
		return IMS_OK;
	switch (r->kind) {
	case IMS_DATA_EXISTS: f->exists = r->number; break;
	case IMS_DATA_RECENT: f->recent = r->number; break;
	case IMS_DATA_EXPUNGE:
		if (f->exists > 0)
			f->exists--;
		f->expunged++;
		break;
	case IMS_DATA_VANISHED:
		if (!r->u.vanished.earlier) {
			uint64_t n = vanished_count(r->u.vanished.uids);

			f->exists = n >= f->exists ? 0 : f->exists - (uint32_t)n;
			f->expunged += n;
		}
		break;
	case IMS_DATA_FLAGS:
		return set_strv(&f->flags, &f->n_flags, r->u.strings.v, r->u.strings.n);
	default: break;
	}
	return IMS_OK;
}

static struct ims__pending *find_tag(struct ims_session *s, const char *tag)
{
	struct ims__pending *p;

	for (p = s->pend; p != NULL; p = p->next)
		if (!p->done && strcmp(p->tag, tag) == 0)
			return p;
	return NULL;
}

/* A tag of ours that was handed out before (its command has completed). */
static int tag_was_sent(const struct ims_session *s, const char *tag)
{
	size_t n = strlen(s->tag_prefix);
	unsigned long v = 0;
	const char *p;

	if (strncmp(tag, s->tag_prefix, n) != 0 || tag[n] < '1' || tag[n] > '9')
		return 0;
	for (p = tag + n; *p >= '0' && *p <= '9' && v <= s->tag_seq; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	return *p == '\0' && v >= 1 && v <= s->tag_seq;
}

static ims_err handler_failed(struct ims__pending *p, ims_err e)
{
	if (p->herr == IMS_OK) {
		p->herr = e;
		if (p->err.code == IMS_OK)
			ims_error_set(&p->err, e, "the command's handler failed");
	}
	return IMS_OK;
}

static ims_err reply_error(const struct ims__pending *p, struct ims_error *err);

static void unlink_pending(struct ims_session *s, struct ims__pending *p)
{
	struct ims__pending **pp;

	for (pp = &s->pend; *pp != NULL && *pp != p; pp = &(*pp)->next)
		;
	if (*pp == p)
		*pp = p->next;
	free(p->text);
	free(p);
}

/* The tagged reply to a background command. */
static ims_err bg_done(struct ims_session *s, struct ims__pending *p, const struct ims_response *r,
                       struct ims_error *err)
{
	struct ims_error why;
	int ok = p->cond == IMS_COND_OK;

	ims_error_init(&why);
	switch (p->bg) {
	case IMS__BG_LOGIN:
		s->bg_login = 0;
		unlink_pending(s, p);
		if (!ok) {
			/* What was sent after it fails harmlessly: the session ends
			 * with the login's own words. */
			ims__auth_failed(s, s->bg_login_mech, NULL, &why);
			return ims__break(s, IMS_ERR_AUTH, &why, err);
		}
		if (s->caps_gen == s->bg_login_caps_gen)
			s->caps_stale = 1; /* no CAPABILITY in the OK: ask when needed */
		return IMS_OK;
	case IMS__BG_ENABLE: s->bg_enable = 0; break;
	case IMS__BG_ID: s->bg_id = 0; break;
	case IMS__BG_SELECT:
		s->bg_select = 0;
		if (ok) {
			s->folder.read_only = r->code.kind == IMS_CODE_READ_ONLY ? 1
			                      : r->code.kind == IMS_CODE_READ_WRITE
			                          ? 0
			                          : p->bg_read_only;
		} else {
			char w[120];
			char *t = ims__strndup(s->folder.name != NULL ? s->folder.name : "",
			                       s->folder.name_len > 100 ? 100 : s->folder.name_len);

			reply_error(p, &s->sel_err);
			ims__server_words(t != NULL ? t : "", w, sizeof(w));
			free(t);
			ims_error_prefix(&s->sel_err, "%s %s",
			                 p->bg_read_only ? "examine" : "select", w);
			s->sel_failed = 1;
			ims__folder_clear(&s->folder);
			ims__set_state(s, IMS_STATE_AUTHENTICATED);
		}
		break;
	default: break;
	}
	unlink_pending(s, p);
	return IMS_OK;
}

struct ims__pending *ims__find(struct ims_session *s, unsigned id)
{
	struct ims__pending *p;

	for (p = s->pend; p != NULL && p->id != id; p = p->next)
		;
	return p;
}

void ims__background(struct ims_session *s, unsigned id, int bg)
{
	struct ims__pending *p = ims__find(s, id);

	if (p == NULL)
		return;
	p->bg = bg;
	memset(&p->h, 0, sizeof(p->h)); /* its handlers' context is gone */
	switch (bg) {
	case IMS__BG_LOGIN: s->bg_login = 1; break;
	case IMS__BG_ENABLE: s->bg_enable = 1; break;
	case IMS__BG_ID: s->bg_id = 1; break;
	case IMS__BG_SELECT: s->bg_select = 1; break;
	default: break;
	}
}

static int bg_any(const struct ims_session *s)
{
	const struct ims__pending *p;

	for (p = s->pend; p != NULL; p = p->next)
		if (p->bg != IMS__BG_NONE && p->bg != IMS__BG_LOGOUT)
			return 1;
	return 0;
}

ims_err ims__settle(struct ims_session *s, int what, struct ims_error *err)
{
	for (;;) {
		int busy;

		if (s->broken != IMS_OK)
			return ims__check(s, err);
		switch (what) {
		case IMS__SETTLE_CAPS: busy = s->bg_login; break;
		case IMS__BG_ENABLE: busy = s->bg_enable; break;
		case IMS__BG_ID: busy = s->bg_id; break;
		case IMS__BG_SELECT: busy = s->bg_select; break;
		default: busy = bg_any(s); break;
		}
		if (!busy)
			break;
		if (ims__pump(s, err) != IMS_OK)
			return s->broken;
	}
	if ((what == IMS__SETTLE_CAPS || what == IMS__SETTLE_ALL) && s->caps_stale) {
		struct ims_error ign;
		ims_err e;

		s->caps_stale = 0;
		ims_session_forget_capabilities(s);
		e = ims_session_capability(s, &ign);
		if (e != IMS_OK && e != IMS_ERR_NO)
			return ims_error_copy(err, &ign);
	}
	return IMS_OK;
}

#define IMS__MAX_WARNINGS 8

/* A slip the parser forgave, told once per response, a few a session. */
static void warn_lenient(struct ims_session *s, const struct ims_response *r)
{
	char w[IMS_ERROR_MAX + 64];

	if (s->opts.hooks.warning == NULL || s->n_warnings > IMS__MAX_WARNINGS)
		return;
	if (s->n_warnings++ == IMS__MAX_WARNINGS) {
		s->opts.hooks.warning(s->opts.hooks.ctx,
		                      "more responses broke the grammar and were read anyway; "
		                      "--trace shows them");
		return;
	}
	snprintf(w, sizeof(w),
	         "a response from the server broke the grammar and was read anyway: %s",
	         r->lenient);
	s->opts.hooks.warning(s->opts.hooks.ctx, w);
}

static ims_err dispatch(struct ims_session *s, const struct ims_response *r, struct ims_error *err)
{
	struct ims__pending *p;
	struct ims_error why;
	ims_err e;

	ims_error_init(&why);
	if (r->lenient != NULL)
		warn_lenient(s, r);
	if (r->type == IMS_RESP_CONTINUATION) {
		if (s->sending != NULL && s->sending->cont_wait) {
			s->sending->cont_wait = 0;
			return IMS_OK;
		}
		for (p = s->pend; p != NULL; p = p->next) {
			if (p->done || p->h.continuation == NULL)
				continue;
			e = p->h.continuation(p->h.ctx, r, &why);
			if (e != IMS_OK)
				return ims__break(s, e, &why, err);
			return ims__check(s, err);
		}
		ims_error_set(&why, IMS_ERR_PROTOCOL,
		              "the server asked for a continuation no command is waiting for");
		return ims__break(s, IMS_ERR_PROTOCOL, &why, err);
	}
	if (r->type == IMS_RESP_TAGGED) {
		p = find_tag(s, r->tag);
		if (p == NULL) {
			char t[64];

			ims__server_words(r->tag, t, 40);
			if (tag_was_sent(s, r->tag))
				ims_error_set(&why, IMS_ERR_PROTOCOL,
				              "the server answered a command twice (tag %s)", t);
			else
				ims_error_set(
				    &why, IMS_ERR_PROTOCOL,
				    "the server answered a command that was never sent (tag %s)",
				    t);
			return ims__break(s, IMS_ERR_PROTOCOL, &why, err);
		}
		if (apply_code(s, r) != IMS_OK) {
			ims_error_nomem(&why);
			return ims__break(s, IMS_ERR_NOMEM, &why, err);
		}
		free(s->last_text);
		s->last_text = ims__strndup(r->text, r->text_len);
		s->last_code = r->code.kind;
		p->cond = r->cond;
		p->code = r->code.kind;
		p->text = ims__strndup(r->text, r->text_len);
		if (p->h.tagged != NULL && p->herr == IMS_OK) {
			e = p->h.tagged(p->h.ctx, r, &p->err);
			if (e != IMS_OK)
				handler_failed(p, e);
		}
		p->done = 1;
		if (p->bg != IMS__BG_NONE)
			return bg_done(s, p, r, err);
		return IMS_OK;
	}
	if (apply_untagged(s, r) != IMS_OK) {
		ims_error_nomem(&why);
		return ims__break(s, IMS_ERR_NOMEM, &why, err);
	}
	for (p = s->pend; p != NULL; p = p->next) {
		int taken = 0;

		if (p->done || p->h.untagged == NULL)
			continue;
		e = p->h.untagged(p->h.ctx, r, &taken, &p->err);
		if (e != IMS_OK)
			handler_failed(p, e);
		if (taken)
			return IMS_OK;
	}
	if (s->opts.hooks.untagged != NULL)
		s->opts.hooks.untagged(s->opts.hooks.ctx, r);
	return IMS_OK;
}

ims_err ims__pump(struct ims_session *s, struct ims_error *err)
{
	return ims__pump_until(s, 0, NULL, err);
}

ims_err ims__pump_until(struct ims_session *s, int64_t until, int *timed_out_r,
                        struct ims_error *err)
{
	struct ims_error why;

	if (ims__check(s, err) != IMS_OK)
		return s->broken;
	ims_error_init(&why);
	for (;;) {
		if (s->rpos < s->rlen) {
			const struct ims_response *r;
			size_t used;
			ims_err e = ims_parser_feed(s->parser, s->rbuf + s->rpos, s->rlen - s->rpos,
			                            &used, &r, &why);

			s->rpos += used;
			if (e != IMS_OK) {
				s->sink_owner = NULL;
				return ims__break(s, e, &why, err);
			}
			if (r != NULL) {
				s->sink_owner = NULL; /* literals end with their response */
				return dispatch(s, r, err);
			}
			continue;
		}
		{
			size_t got;

			s->rpos = s->rlen = 0;
			if (timed_out_r != NULL) {
				*timed_out_r = 0;
				if (until != 0 && ims_now_ms() >= until) {
					*timed_out_r = 1;
					return IMS_OK;
				}
			}
			if (ims_stream_read(s->stream, s->rbuf, sizeof(s->rbuf), &got) != IMS_OK) {
				if (timed_out_r != NULL && until != 0 && ims_now_ms() >= until &&
				    s->stream->err.code == IMS_ERR_NET) {
					*timed_out_r = 1; /* our own deadline: not a failure */
					return IMS_OK;
				}
				ims_error_copy(&why, &s->stream->err);
				if (why.code == IMS_OK)
					ims_error_set(&why, IMS_ERR_NET,
					              "reading from the server failed");
				/* Interrupted in IDLE between two responses: nothing
				 * is lost, the session stands and the caller ends
				 * IDLE with DONE (RFC 2177). */
				if (why.code == IMS_ERR_CANCELLED && s->idle_id != 0 &&
				    ims_parser_between(s->parser))
					return ims_error_copy(err, &why);
				return ims__break(s, why.code, &why, err);
			}
			if (got == 0) {
				if (s->bye != NULL) {
					char w[300];

					ims__server_words(s->bye, w, sizeof(w));
					ims_error_set(&why, IMS_ERR_NET,
					              "the server closed the connection: %s", w);
				} else {
					ims_error_set(&why, IMS_ERR_NET,
					              "the server closed the connection");
				}
				return ims__break(s, IMS_ERR_NET, &why, err);
			}
			s->rlen = got;
		}
	}
}

/* ---- submit and wait ---- */

ims_err ims_session_cmd_begin(struct ims_session *s, struct ims_cmd *c, const char *verb,
                              struct ims_error *err)
{
	struct ims_writer_opts o;
	char tag[32];

	ims__writer_opts(s, &o);
	ims_cmd_init(c, &o);
	if (ims__check(s, err) != IMS_OK)
		return s->broken;
	snprintf(tag, sizeof(tag), "%s%u", s->tag_prefix, ++s->tag_seq);
	if (ims_cmd_begin(c, tag, verb) != IMS_OK)
		return ims_error_copy(err, &c->err);
	return IMS_OK;
}

static ims_err stream_segment(struct ims_session *s, const struct ims_source *src, uint64_t size,
                              struct ims_error *err)
{
	char buf[16384];
	struct ims_error why;

	ims_error_init(&why);
	while (size > 0) {
		size_t want = size < sizeof(buf) ? (size_t)size : sizeof(buf), got = 0;
		ims_err e;

		if (src == NULL || src->read == NULL) {
			ims_error_set(&why, IMS_ERR_USAGE, "a literal to stream without a source");
			return ims__break(s, IMS_ERR_USAGE, &why, err);
		}
		e = src->read(src->ctx, buf, want, &got);
		if (e != IMS_OK || got == 0 || got > want) {
			ims_error_set(&why, e != IMS_OK ? e : IMS_ERR_IO,
			              "the data to upload %s; the connection cannot go on",
			              e != IMS_OK ? "could not be read" : "ended early");
			return ims__break(s, why.code, &why, err);
		}
		if (ims__write(s, buf, got, err) != IMS_OK)
			return s->broken;
		size -= got;
	}
	return IMS_OK;
}

ims_err ims_session_submit(struct ims_session *s, struct ims_cmd *c, const struct ims_handler *h,
                           const struct ims_source *src, unsigned *id_r, struct ims_error *err)
{
	const struct ims_segment *segs;
	size_t n, i, tl;
	struct ims__pending *p, **tail;
	const char *out;

	*id_r = 0;
	if (ims__check(s, err) != IMS_OK)
		return s->broken;
	if (c->code != IMS_OK)
		return ims_error_copy(err, &c->err);
	n = ims_cmd_segments(c, &segs);
	if (n == 0)
		return ims_error_set(err, IMS_ERR_USAGE, "submit: the command is not ended");
	if (s->sending != NULL)
		return ims_error_set(err, IMS_ERR_USAGE, "submit: another command is being sent");
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return ims_error_nomem(err);
	out = ims_cmd_segment_data(c, &segs[0]);
	tl = strcspn(out, " ");
	if (tl >= sizeof(p->tag))
		tl = sizeof(p->tag) - 1;
	memcpy(p->tag, out, tl);
	p->id = s->next_id++;
	if (h != NULL)
		p->h = *h;
	ims_error_init(&p->err);
	for (tail = &s->pend; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = p;
	*id_r = p->id;
	ims__trace_command(s, ims_cmd_trace(c), strlen(ims_cmd_trace(c)));
	s->sending = p;
	for (i = 0; i < n; i++) {
		const struct ims_segment *g = &segs[i];

		if (g->kind == IMS_SEG_STREAM) {
			if (stream_segment(s, src, g->size, err) != IMS_OK)
				break;
			continue;
		}
		if (ims__write(s, ims_cmd_segment_data(c, g), g->len, err) != IMS_OK)
			break;
		if (g->kind == IMS_SEG_SYNC) {
			p->cont_wait = 1;
			while (p->cont_wait && !p->done)
				if (ims__pump(s, err) != IMS_OK)
					break;
			if (s->broken != IMS_OK || p->done)
				break; /* a NO ends it: the rest is not sent */
		}
	}
	s->sending = NULL;
	p->cont_wait = 0;
	return ims__check(s, err);
}

static ims_err reply_error(const struct ims__pending *p, struct ims_error *err)
{
	char w[400];

	ims__server_words(p->text != NULL ? p->text : "", w, sizeof(w));
	if (p->code != IMS_CODE_NONE && p->code != IMS_CODE_OTHER)
		return ims_error_set(err, IMS_ERR_NO, "the server said %s [%s]: %s",
		                     ims_cond_name(p->cond), ims_code_name(p->code), w);
	return ims_error_set(err, IMS_ERR_NO, "the server said %s: %s", ims_cond_name(p->cond), w);
}

ims_err ims_session_wait(struct ims_session *s, unsigned id, struct ims_error *err)
{
	struct ims__pending **pp, *p;
	ims_err e;

	for (pp = &s->pend; *pp != NULL && (*pp)->id != id; pp = &(*pp)->next)
		;
	if (*pp == NULL)
		return ims_error_set(err, IMS_ERR_USAGE, "wait: no such command");
	p = *pp;
	while (!p->done)
		if (ims__pump(s, err) != IMS_OK)
			return s->broken;
	if (p->herr != IMS_OK)
		e = ims_error_copy(err, &p->err);
	else if (p->cond == IMS_COND_OK)
		e = IMS_OK;
	else
		e = reply_error(p, err);
	for (pp = &s->pend; *pp != p; pp = &(*pp)->next)
		;
	*pp = p->next;
	free(p->text);
	free(p);
	if (s->sel_failed) {
		/* the folder this command was sent for could not be selected */
		s->sel_failed = 0;
		e = ims_error_copy(err, &s->sel_err);
	}
	return e;
}

ims_err ims__run(struct ims_session *s, struct ims_cmd *c, const struct ims_handler *h,
                 struct ims_error *err)
{
	unsigned id;
	ims_err e;

	if (ims_cmd_end(c) != IMS_OK)
		return ims_error_copy(err, &c->err);
	e = ims_session_submit(s, c, h, NULL, &id, err);
	ims_cmd_release(c);
	if (e != IMS_OK)
		return e;
	return ims_session_wait(s, id, err);
}

/* ---- greeting and CAPABILITY ---- */

static ims_err greeting_fail(struct ims_session *s, ims_err code, const char *what, const char *w,
                             struct ims_error *err)
{
	struct ims_error why;

	ims_error_set(&why, code, "%s%s%s", what, w[0] ? ": " : "", w);
	return ims__break(s, code, &why, err);
}

/* The greeting as the next response on the stream. */
static ims_err read_greeting(struct ims_session *s, const struct ims_response **r_r,
                             struct ims_error *err)
{
	struct ims_error why;

	ims_error_init(&why);
	*r_r = NULL;
	for (;;) {
		if (s->rpos < s->rlen) {
			size_t used;
			ims_err e = ims_parser_feed(s->parser, s->rbuf + s->rpos, s->rlen - s->rpos,
			                            &used, r_r, &why);

			s->rpos += used;
			if (e != IMS_OK)
				return ims__break(s, e, &why, err);
			if (*r_r != NULL)
				return IMS_OK;
			continue;
		}
		{
			size_t got;

			s->rpos = s->rlen = 0;
			if (ims_stream_read(s->stream, s->rbuf, sizeof(s->rbuf), &got) != IMS_OK) {
				ims_error_copy(&why, &s->stream->err);
				ims_error_prefix(&why, "waiting for the greeting");
				return ims__break(s, why.code != IMS_OK ? why.code : IMS_ERR_NET,
				                  &why, err);
			}
			if (got == 0) {
				ims_error_set(
				    &why, IMS_ERR_NET,
				    "the server closed the connection before its greeting");
				return ims__break(s, IMS_ERR_NET, &why, err);
			}
			s->rlen = got;
		}
	}
}

ims_err ims_session_capability(struct ims_session *s, struct ims_error *err)
{
	struct ims_cmd c;
	ims_err e;

	if (ims_session_cmd_begin(s, &c, "CAPABILITY", err) != IMS_OK) {
		ims_cmd_release(&c);
		return err->code;
	}
	e = ims__run(s, &c, NULL, err);
	if (e == IMS_ERR_NO)
		ims_error_prefix(err, "capability");
	return e;
}

ims_err ims_session_start(struct ims_session *s, const char *greeting, struct ims_error *err)
{
	const struct ims_response *r;
	struct ims_parser *gp = NULL;
	int64_t old;
	ims_err e;
	char w[400];
	int trusted = greeting == NULL;

	if (ims__check(s, err) != IMS_OK)
		return s->broken;
	if (s->state != IMS_STATE_GREETING)
		return ims_error_set(err, IMS_ERR_USAGE, "the session was already started");
	old = ims__deadline(s, s->opts.greeting_timeout_ms);
	if (greeting == NULL) {
		e = read_greeting(s, &r, err);
	} else {
		/* The plaintext greeting of a STARTTLS connection. */
		size_t used, n = strlen(greeting);
		struct ims_error why;

		gp = ims_parser_new(&s->opts.limits);
		if (gp == NULL) {
			ims__deadline_restore(s, old);
			return ims_error_nomem(err);
		}
		ims__trace(s, IMS_TRACE_RECV, greeting, n);
		e = ims_parser_feed(gp, greeting, n, &used, &r, &why);
		if (e == IMS_OK)
			e = ims_parser_feed(gp, "\r\n", 2, &used, &r, &why);
		if (e == IMS_OK && r == NULL)
			e = ims_error_set(&why, IMS_ERR_PROTOCOL, "an incomplete greeting");
		if (e != IMS_OK)
			e = ims__break(s, e, &why, err);
	}
	if (e != IMS_OK)
		goto out;
	if (r->type != IMS_RESP_UNTAGGED || r->cond == IMS_COND_NONE ||
	    (r->cond != IMS_COND_OK && r->cond != IMS_COND_PREAUTH && r->cond != IMS_COND_BYE &&
	     r->cond != IMS_COND_NO)) {
		e = greeting_fail(s, IMS_ERR_PROTOCOL,
		                  "the server's first line is not an IMAP greeting", "", err);
		goto out;
	}
	{
		struct ims_buf line;

		ims_buf_init(&line, 0);
		if (ims_buf_puts(&line, "* ") == IMS_OK &&
		    ims_buf_puts(&line, ims_cond_name(r->cond)) == IMS_OK &&
		    ims_buf_puts(&line, " ") == IMS_OK &&
		    ims_buf_append(&line, r->text, r->text_len) == IMS_OK) {
			free(s->greeting);
			s->greeting = ims_buf_take(&line, NULL);
		}
		ims_buf_release(&line);
	}
	ims__server_words(r->text, w, sizeof(w));
	if (r->cond == IMS_COND_NO) {
		/* not in the grammar, but sent (an overloaded or blocking server):
		 * a refusal, in the server's words */
		ims__set_state(s, IMS_STATE_LOGOUT);
		e = greeting_fail(s, IMS_ERR_NET, "the server refused the connection", w, err);
		goto out;
	}
	if (r->cond == IMS_COND_BYE) {
		free(s->bye);
		s->bye = ims__strndup(r->text, r->text_len);
		ims__set_state(s, IMS_STATE_LOGOUT);
		e = greeting_fail(s, IMS_ERR_NET, "the server refused the connection", w, err);
		goto out;
	}
	/* A plaintext greeting (before STARTTLS) is untrusted: no alert from it. */
	if (trusted && r->code.kind == IMS_CODE_ALERT)
		add_alert(s, r->text, r->text_len);
	if (trusted && r->code.kind == IMS_CODE_CAPABILITY &&
	    ims__set_caps(s, r->code.list, r->code.n_list) != IMS_OK) {
		e = ims_error_nomem(err);
		goto out;
	}
	ims__set_state(s, r->cond == IMS_COND_PREAUTH ? IMS_STATE_AUTHENTICATED
	                                              : IMS_STATE_NOT_AUTHENTICATED);
	if (gp != NULL) {
		ims_parser_free(&gp);
		r = NULL;
	}
	if (!s->caps_known) {
		struct ims_error cerr;

		/* A server that will not say: go on without (LOGIN still works). */
		e = ims_session_capability(s, &cerr);
		if (e != IMS_OK && e != IMS_ERR_NO) {
			ims_error_copy(err, &cerr);
			goto out;
		}
	}
	e = IMS_OK;
	if (s->state == IMS_STATE_AUTHENTICATED) {
		ims__deadline_restore(s, old);
		old = ims__deadline(s, s->opts.login_timeout_ms);
		e = ims__after_login(s, err);
	}
out:
	if (gp != NULL)
		ims_parser_free(&gp);
	ims__deadline_restore(s, old);
	return e;
}

/* ---- flags ---- */

ims_err ims__flag_list(const char *const *flags, size_t n, struct ims_buf *out,
                       struct ims_error *err)
{
	size_t i, j;

	if (ims_buf_putc(out, '(') != IMS_OK)
		return ims_error_nomem(err);
	for (i = 0; i < n; i++) {
		const char *f = flags[i];
		size_t start = f[0] == '\\' ? 1 : 0;

		if (f[start] == '\0')
			return ims_error_set(err, IMS_ERR_USAGE, "an empty flag");
		for (j = start; f[j] != '\0'; j++) {
			unsigned char ch = (unsigned char)f[j];

			if (ch <= 0x20 || ch >= 0x7f || strchr("(){%*\"\\]", ch) != NULL)
				return ims_error_set(
				    err, IMS_ERR_USAGE,
				    "a flag may not contain '%c' or control characters",
				    ch > 0x20 && ch < 0x7f ? ch : '?');
		}
		if (f[0] == '\\' && strcmp(f, "\\*") == 0)
			return ims_error_set(err, IMS_ERR_USAGE, "\\* is not a flag");
		if ((i && ims_buf_putc(out, ' ') != IMS_OK) || ims_buf_puts(out, f) != IMS_OK)
			return ims_error_nomem(err);
	}
	if (ims_buf_putc(out, ')') != IMS_OK)
		return ims_error_nomem(err);
	return IMS_OK;
}
