/* The IMAP session over scripted streams.
 *
 * A transcript in tests/data/session/ is a list of lines:
 *   S: what the server sends (CRLF added)
 *   C: what the client must send (CRLF added)
 * "$" stands for the session's random tag prefix (learnt from the first
 * line the client writes), "\xNN" for a byte ("\x24" for a "$").  The
 * stream serves S: lines only when the script reaches them, so a client
 * that reads when it should write (or writes what it should not) fails
 * the test.  Every transcript runs twice: server bytes whole and one at a
 * time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "imapsh/crypto.h"
#include "imapsh/session.h"
#include "session/session_int.h"

/* ---- the scripted stream ---- */

struct script {
	struct ims_stream base;
	char **lines;
	int *client;
	size_t n, pos;
	size_t off;  /* bytes of the current S: line served */
	size_t woff; /* bytes of the current C: line matched */
	char prefix[16];
	int have_prefix;
	size_t chunk;
	char fail[1024];
	int closed;
};

static void unescape(const char *s, struct ims_buf *b, const char *prefix)
{
	while (*s) {
		if (s[0] == '\\' && s[1] == 'x' && s[2] && s[3]) {
			char hex[3] = {s[2], s[3], 0};

			assert_int_equal(ims_buf_putc(b, (char)strtol(hex, NULL, 16)), IMS_OK);
			s += 4;
		} else if (*s == '$' && prefix != NULL) {
			assert_int_equal(ims_buf_puts(b, prefix), IMS_OK);
			s++;
		} else {
			assert_int_equal(ims_buf_putc(b, *s++), IMS_OK);
		}
	}
}

/* The bytes of step i (with CRLF); "" prefix before it is known. */
static void step_bytes(struct script *sc, size_t i, struct ims_buf *b)
{
	ims_buf_reset(b);
	unescape(sc->lines[i], b, sc->have_prefix ? sc->prefix : "$");
	assert_int_equal(ims_buf_append(b, "\r\n", 2), IMS_OK);
}

static ims_err sc_read(struct ims_stream *s, void *p, size_t len, size_t *got_r)
{
	struct script *sc = (struct script *)s;
	struct ims_buf b;
	size_t n;

	*got_r = 0;
	if (sc->pos >= sc->n)
		return IMS_OK; /* EOF */
	if (sc->client[sc->pos]) {
		if (sc->fail[0] == '\0')
			snprintf(sc->fail, sizeof(sc->fail),
			         "script: the client waits for data but should send: %s",
			         sc->lines[sc->pos]);
		return ims_error_set(&s->err, IMS_ERR_NET, "%s", sc->fail);
	}
	ims_buf_init(&b, 0);
	step_bytes(sc, sc->pos, &b);
	n = b.len - sc->off;
	if (n > len)
		n = len;
	if (sc->chunk != 0 && n > sc->chunk)
		n = sc->chunk;
	memcpy(p, b.data + sc->off, n);
	sc->off += n;
	if (sc->off == b.len) {
		sc->pos++;
		sc->off = 0;
	}
	ims_buf_release(&b);
	*got_r = n;
	return IMS_OK;
}

static ims_err sc_write(struct ims_stream *s, const void *pv, size_t len)
{
	struct script *sc = (struct script *)s;
	const char *p = pv;
	struct ims_buf b;
	size_t i;

	ims_buf_init(&b, 0);
	if (!sc->have_prefix) {
		for (i = 0; i < len && i < sizeof(sc->prefix) - 1 && p[i] >= 'A' && p[i] <= 'Z';
		     i++)
			sc->prefix[i] = p[i];
		sc->prefix[i] = '\0';
		sc->have_prefix = 1;
	}
	for (i = 0; i < len; i++) {
		if (sc->pos >= sc->n || !sc->client[sc->pos]) {
			snprintf(sc->fail, sizeof(sc->fail),
			         "script: the client sent \"%.*s\" where the script has %s%s",
			         (int)(len - i), p + i, sc->pos < sc->n ? "S: " : "its end",
			         sc->pos < sc->n ? sc->lines[sc->pos] : "");
			ims_buf_release(&b);
			return ims_error_set(&s->err, IMS_ERR_NET, "%s", sc->fail);
		}
		step_bytes(sc, sc->pos, &b);
		if (b.data[sc->woff] != p[i]) {
			snprintf(
			    sc->fail, sizeof(sc->fail),
			    "script: the client sent \"%.*s\" where C: %s was due (at byte %zu)",
			    (int)(len - i > 80 ? 80 : len - i), p + i, sc->lines[sc->pos],
			    sc->woff);
			ims_buf_release(&b);
			return ims_error_set(&s->err, IMS_ERR_NET, "%s", sc->fail);
		}
		if (++sc->woff == b.len) {
			sc->pos++;
			sc->woff = 0;
		}
	}
	ims_buf_release(&b);
	return IMS_OK;
}

static size_t sc_pending(struct ims_stream *s)
{
	(void)s;
	return 0;
}

static void sc_close(struct ims_stream *s)
{
	((struct script *)s)->closed = 1;
}

static const struct ims_stream_ops sc_ops = {sc_read, sc_write, sc_pending, sc_close};

static struct script *script_load(const char *name, size_t chunk)
{
	const char *dir = getenv("IMAPSH_TEST_DATA");
	char path[1024];
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct script *sc = calloc(1, sizeof(*sc));

	assert_non_null(dir);
	assert_non_null(sc);
	snprintf(path, sizeof(path), "%s/session/%s", dir, name);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	sc->lines = calloc(256, sizeof(char *));
	sc->client = calloc(256, sizeof(int));
	while ((n = getline(&line, &cap, f)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (line[0] == '#' || n == 0)
			continue;
		assert_true(sc->n < 256);
		assert_true(line[0] == 'S' || line[0] == 'C');
		assert_true(line[1] == ':');
		sc->client[sc->n] = line[0] == 'C';
		sc->lines[sc->n++] = strdup(line[2] == ' ' ? line + 3 : line + 2);
	}
	free(line);
	fclose(f);
	sc->base.ops = &sc_ops;
	ims_error_init(&sc->base.err);
	sc->chunk = chunk;
	return sc;
}

static void script_free(struct script *sc)
{
	size_t i;

	for (i = 0; i < sc->n; i++)
		free(sc->lines[i]);
	free(sc->lines);
	free(sc->client);
	free(sc);
}

static void script_done(struct script *sc)
{
	if (sc->pos != sc->n || sc->fail[0] != '\0')
		fail_msg("script stopped at step %zu of %zu (%s%s): %s", sc->pos, sc->n,
		         sc->pos < sc->n ? (sc->client[sc->pos] ? "C: " : "S: ") : "",
		         sc->pos < sc->n ? sc->lines[sc->pos] : "", sc->fail);
}

/* ---- a session over a script ---- */

struct t {
	struct script *sc;
	struct ims_session *s;
	struct ims_buf trace;
	char *alerts[8];
	size_t n_alerts;
	char bye[256];
	size_t untagged;
};

static void hook_trace(void *ctx, enum ims_trace_dir dir, const char *line, size_t len)
{
	struct t *t = ctx;

	assert_int_equal(ims_buf_puts(&t->trace, dir == IMS_TRACE_SEND   ? "C: "
	                                         : dir == IMS_TRACE_RECV ? "S: "
	                                                                 : "I: "),
	                 IMS_OK);
	assert_int_equal(ims_buf_append(&t->trace, line, len), IMS_OK);
	assert_int_equal(ims_buf_putc(&t->trace, '\n'), IMS_OK);
}

static void hook_alert(void *ctx, const char *text, size_t len)
{
	struct t *t = ctx;

	assert_true(t->n_alerts < 8);
	t->alerts[t->n_alerts++] = strndup(text, len);
}

static void hook_bye(void *ctx, const char *text, size_t len)
{
	struct t *t = ctx;

	snprintf(t->bye, sizeof(t->bye), "%.*s", (int)len, text);
}

static void hook_untagged(void *ctx, const struct ims_response *r)
{
	struct t *t = ctx;

	(void)r;
	t->untagged++;
}

static int t_pipeline_login; /* opts.pipeline_login for the next t_open */

static void t_open(struct t *t, const char *name, size_t chunk, int alert_hook)
{
	struct ims_session_opts o;

	memset(t, 0, sizeof(*t));
	ims_buf_init(&t->trace, 0);
	t->sc = script_load(name, chunk);
	ims_session_opts_init(&o);
	o.id_version = "test";
	o.hooks.trace = hook_trace;
	o.hooks.alert = alert_hook ? hook_alert : NULL;
	o.hooks.bye = hook_bye;
	o.hooks.untagged = hook_untagged;
	o.hooks.ctx = t;
	o.insecure_test_nonce = "rOprNGfwEbeRWgbNEkqO";
	o.pipeline_login = t_pipeline_login;
	t->s = ims_session_new(&t->sc->base, &o);
	assert_non_null(t->s);
}

static void t_close(struct t *t, int check_done)
{
	size_t i;

	if (check_done)
		script_done(t->sc);
	ims_session_free(&t->s);
	assert_null(t->s);
	assert_true(t->sc->closed);
	script_free(t->sc);
	for (i = 0; i < t->n_alerts; i++)
		free(t->alerts[i]);
	ims_buf_release(&t->trace);
}

static const char *trace_text(struct t *t)
{
	return t->trace.data != NULL ? t->trace.data : "";
}

#define CHUNKS_BEGIN                                                                               \
	static const size_t chunks_[] = {0, 1};                                                    \
	size_t ci_;                                                                                \
	for (ci_ = 0; ci_ < 2; ci_++) {                                                            \
		const size_t chunk = chunks_[ci_];
#define CHUNKS_END }

static void expect_ok(ims_err e, const struct ims_error *err, struct t *t)
{
	if (e != IMS_OK)
		fail_msg("unexpected error %s: %s [%s]\ntrace:\n%s", ims_err_name(e), err->msg,
		         t->sc->fail, trace_text(t));
}

static void start(struct t *t)
{
	struct ims_error err;

	expect_ok(ims_session_start(t->s, NULL, &err), &err, t);
}

static void login_pw(struct t *t, enum ims_auth_mech m, const char *user, const char *pw,
                     ims_err want, const char *words)
{
	struct ims_auth a;
	struct ims_error err;
	ims_err e;

	ims_auth_init(&a);
	a.mech = m;
	a.user = user;
	a.password = pw;
	ims_error_init(&err);
	e = ims_session_login(t->s, &a, &err);
	if (e != want)
		fail_msg("login: want %s, got %s: %s [%s]\ntrace:\n%s", ims_err_name(want),
		         ims_err_name(e), err.msg, t->sc->fail, trace_text(t));
	if (words != NULL && strstr(err.msg, words) == NULL)
		fail_msg("login: \"%s\" not in \"%s\"", words, err.msg);
}

/* ---- tests: login ---- */

static void test_login_command(void **state)
{
	struct t t;
	const struct ims_body_param *id;

	(void)state;
	CHUNKS_BEGIN
	t_open(&t, "login_command.txt", chunk, 1);
	start(&t);
	assert_int_equal(ims_session_state(t.s), IMS_STATE_NOT_AUTHENTICATED);
	assert_true(ims_session_has_cap(t.s, "utf8=accept"));
	assert_false(ims_session_has_cap(t.s, "IDLE"));
	login_pw(&t, IMS_AUTH_AUTO, "alice", "pass word", IMS_OK, NULL);
	assert_int_equal(ims_session_state(t.s), IMS_STATE_AUTHENTICATED);
	assert_int_equal(ims_session_auth_mech(t.s), IMS_AUTH_LOGIN);
	assert_true(ims_session_has_cap(t.s, "IDLE"));
	assert_true(ims_session_utf8(t.s));
	assert_int_equal(ims_session_server_id(t.s, &id), 1);
	assert_string_equal(id[0].value, "Dovecot");
	assert_null(strstr(trace_text(&t), "pass word"));
	assert_non_null(strstr(trace_text(&t), "LOGIN ***"));
	assert_non_null(strstr(trace_text(&t), "I: state: authenticated"));
	t_close(&t, 1);
	CHUNKS_END
}

static void test_login_plain(void **state)
{
	struct t t;

	(void)state;
	CHUNKS_BEGIN
	t_open(&t, "login_plain_ir.txt", chunk, 1);
	start(&t);
	login_pw(&t, IMS_AUTH_AUTO, "alice", "secret", IMS_OK, NULL);
	assert_int_equal(ims_session_auth_mech(t.s), IMS_AUTH_PLAIN);
	assert_true(ims_session_has_cap(t.s, "IDLE"));
	assert_false(ims_session_has_cap(t.s, "AUTH=PLAIN"));
	assert_null(strstr(trace_text(&t), "AGFsaWNlAHNlY3JldA"));
	t_close(&t, 1);

	t_open(&t, "login_plain_cont.txt", chunk, 1);
	start(&t);
	{
		struct ims_auth a;
		struct ims_error err;

		ims_auth_init(&a);
		a.user = "alice";
		a.authzid = "admin";
		a.password = "secret";
		a.mech = IMS_AUTH_PLAIN;
		expect_ok(ims_session_login(t.s, &a, &err), &err, &t);
	}
	assert_null(strstr(trace_text(&t), "YWRtaW4AYWxpY2UAc2VjcmV0"));
	assert_non_null(strstr(trace_text(&t), "C: ***"));
	t_close(&t, 1);
	CHUNKS_END
}

static void test_login_scram(void **state)
{
	struct t t;

	(void)state;
	CHUNKS_BEGIN
	t_open(&t, "login_scram.txt", chunk, 1);
	start(&t);
	login_pw(&t, IMS_AUTH_AUTO, "user", "pencil", IMS_OK, NULL);
	assert_int_equal(ims_session_auth_mech(t.s), IMS_AUTH_SCRAM_SHA_256);
	t_close(&t, 1);

	t_open(&t, "login_scram_nosaslir.txt", chunk, 1);
	start(&t);
	login_pw(&t, IMS_AUTH_SCRAM_SHA_256, "user", "pencil", IMS_OK, NULL);
	t_close(&t, 1);

	t_open(&t, "login_scram_impostor.txt", chunk, 1);
	start(&t);
	login_pw(&t, IMS_AUTH_AUTO, "user", "pencil", IMS_ERR_AUTH, "signature is wrong");
	assert_int_equal(ims_session_state(t.s), IMS_STATE_NOT_AUTHENTICATED);
	t_close(&t, 1);
	CHUNKS_END
}

/* Round trips: what goes out before which answer is read (the script
 * serves S: lines only once every C: line before them was sent). */
static void test_pipelining_order(void **state)
{
	struct t t;
	struct ims_error err;
	const struct ims_folder *f;

	(void)state;
	CHUNKS_BEGIN
	t_pipeline_login = 1;
	t_open(&t, "pipeline_oneshot.txt", chunk, 1);
	start(&t);
	login_pw(&t, IMS_AUTH_AUTO, "user", "pencil", IMS_OK, NULL);
	assert_int_equal(ims_session_select_ahead(t.s, "INBOX", 5, 1, &err), IMS_OK);
	assert_int_equal(ims_session_uid_fetch(t.s, "3", "(UID FLAGS)", NULL, &err), IMS_OK);
	assert_true(ims_session_utf8(t.s));
	assert_true(ims_session_has_cap(t.s, "UTF8=ACCEPT"));
	f = ims_session_folder(t.s);
	assert_non_null(f);
	assert_int_equal(f->exists, 5);
	assert_true(f->read_only);
	assert_int_equal(ims_session_logout_nowait(t.s, &err), IMS_OK);
	assert_int_equal(ims_session_state(t.s), IMS_STATE_LOGOUT);
	t_close(&t, 1);

	t_open(&t, "pipeline_login_refused.txt", chunk, 1);
	start(&t);
	login_pw(&t, IMS_AUTH_AUTO, "user", "pencil", IMS_OK, NULL);
	assert_int_equal(ims_session_select_ahead(t.s, "INBOX", 5, 1, &err), IMS_OK);
	assert_int_equal(ims_session_uid_fetch(t.s, "3", "(UID FLAGS)", NULL, &err), IMS_ERR_AUTH);
	assert_non_null(strstr(err.msg, "authentication failed"));
	assert_int_equal(ims_session_broken(t.s, &err), IMS_ERR_AUTH);
	t_close(&t, 1);
	t_pipeline_login = 0;

	t_open(&t, "pipeline_select_fails.txt", chunk, 1);
	start(&t);
	assert_int_equal(ims_session_select_ahead(t.s, "Nope", 4, 1, &err), IMS_OK);
	assert_int_equal(ims_session_uid_fetch(t.s, "3", "(UID FLAGS)", NULL, &err), IMS_ERR_NO);
	assert_non_null(strstr(err.msg, "examine Nope"));
	assert_non_null(strstr(err.msg, "NONEXISTENT"));
	assert_null(ims_session_folder(t.s));
	assert_int_equal(ims_session_state(t.s), IMS_STATE_AUTHENTICATED);
	t_close(&t, 1);
	CHUNKS_END
}

/* The RFC 7677 vector through the SCRAM functions directly. */
static void test_scram_vector(void **state)
{
	struct ims__scram sc;
	struct ims_buf out;
	struct ims_error err;
	const char *sf = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	                 "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
	const char *sfin = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

	(void)state;
	ims__scram_init(&sc);
	ims_buf_init(&out, 0);
	assert_int_equal(ims__scram_first(&sc, "user", NULL, "rOprNGfwEbeRWgbNEkqO", &out, &err),
	                 IMS_OK);
	assert_string_equal(out.data, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
	ims_buf_reset(&out);
	assert_int_equal(ims__scram_final(&sc, "pencil", sf, strlen(sf), &out, &err), IMS_OK);
	assert_string_equal(out.data, "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	                              "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
	assert_int_equal(ims__scram_verify(&sc, sfin, strlen(sfin), &err), IMS_OK);
	assert_int_equal(ims__scram_verify(&sc, "v=AAAA", 6, &err), IMS_ERR_AUTH);
	assert_int_equal(ims__scram_verify(&sc, "e=invalid-proof", 15, &err), IMS_ERR_AUTH);
	assert_non_null(strstr(err.msg, "invalid-proof"));
	ims__scram_release(&sc);

	/* hostile server-first messages */
	{
		static const char *const bad[] = {
		    "r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		    "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", /* not extended */
		    "r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0",
		    "r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999",
		    "r=rOprNGfwEbeRWgbNEkqOx,s=***,i=4096",
		    "m=ext,r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
		    "r=rOprNGfwEbeRWgbNEkqOx,i=4096",
		    "",
		};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			ims__scram_init(&sc);
			ims_buf_reset(&out);
			assert_int_equal(
			    ims__scram_first(&sc, "u,=v", "z", "rOprNGfwEbeRWgbNEkqO", &out, &err),
			    IMS_OK);
			assert_string_equal(out.data, "n,a=z,n=u=2C=3Dv,r=rOprNGfwEbeRWgbNEkqO");
			ims_buf_reset(&out);
			assert_int_equal(
			    ims__scram_final(&sc, "pencil", bad[i], strlen(bad[i]), &out, &err),
			    IMS_ERR_AUTH);
			ims__scram_release(&sc);
		}
	}
	ims_buf_release(&out);
}

/* One SCRAM exchange through the functions: first, final, verify. */
static void scram_run(enum ims_hash h, char flag, const unsigned char *cb, size_t cb_len,
                      const char *user, const char *pw, const char *nonce, const char *first,
                      const char *sf, const char *final, const char *sfin)
{
	struct ims__scram sc;
	struct ims_buf out;
	struct ims_error err;

	ims__scram_init(&sc);
	ims__scram_setup(&sc, h, flag, cb, cb_len);
	ims_buf_init(&out, 0);
	assert_int_equal(ims__scram_first(&sc, user, NULL, nonce, &out, &err), IMS_OK);
	assert_string_equal(out.data, first);
	ims_buf_reset(&out);
	assert_int_equal(ims__scram_final(&sc, pw, sf, strlen(sf), &out, &err), IMS_OK);
	assert_string_equal(out.data, final);
	assert_int_equal(ims__scram_verify(&sc, sfin, strlen(sfin), &err), IMS_OK);
	ims__scram_release(&sc);
	ims_buf_release(&out);
}

/* SCRAM-SHA-1 (the RFC 5802 vector), SASLprep of the password and the
 * user name (RFC 4013: U+00AD is mapped to nothing, U+2168 to "IX"), and
 * the gs2 header and c= of channel binding: "y" and
 * p=tls-server-end-point with its data (expected values from Python's
 * hashlib, an implementation of its own). */
static void test_scram_sha1_saslprep_and_binding(void **state)
{
	static const char sf[] = "r=abc123def,s=QSXCR+Q6sek8bf92,i=4096";
	unsigned char cb[32];
	struct ims__scram sc;
	struct ims_buf out;
	struct ims_error err;
	size_t i;

	(void)state;
	scram_run(
	    IMS_HASH_SHA1, 'n', NULL, 0, "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL",
	    "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
	    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
	    "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
	    "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
	/* "I<soft hyphen>X" and "<roman numeral nine>" are both "IX" */
	scram_run(IMS_HASH_SHA256, 'n', NULL, 0, "user", "I\xc2\xadX", "abc123",
	          "n,,n=user,r=abc123", sf,
	          "c=biws,r=abc123def,p=caf0pDoBuBejD03S900p4IE4K2piXnpCEFXlZfRwlJY=",
	          "v=/wjFr1MeD2NikmHv9aEX9h7CldLHxF5gmEHMEh3+pvE=");
	scram_run(IMS_HASH_SHA256, 'n', NULL, 0,
	          "us\xc2\xad"
	          "er",
	          "\xe2\x85\xa8", "abc123", "n,,n=user,r=abc123", sf,
	          "c=biws,r=abc123def,p=caf0pDoBuBejD03S900p4IE4K2piXnpCEFXlZfRwlJY=",
	          "v=/wjFr1MeD2NikmHv9aEX9h7CldLHxF5gmEHMEh3+pvE=");
	scram_run(
	    IMS_HASH_SHA1, 'y', NULL, 0, "user", "pencil", "abc123", "y,,n=user,r=abc123", sf,
	    "c=eSws,r=abc123def,p=fwsHySVhU5I7Au35CXOXYIKbxLM=", "v=oILJUY5sypRHHQMStxSsCODHvw4=");
	for (i = 0; i < sizeof(cb); i++)
		cb[i] = (unsigned char)i;
	scram_run(IMS_HASH_SHA256, 'p', cb, sizeof(cb), "user", "pencil", "abc123",
	          "p=tls-server-end-point,,n=user,r=abc123", sf,
	          "c=cD10bHMtc2VydmVyLWVuZC1wb2ludCwsAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=,"
	          "r=abc123def,p=MZCX4h8mhEaBYYEoNo+IW3+LoEf2LbhBACUrUhDiDVI=",
	          "v=YpyLemM1/bzmfCpLQAVi9AptwLxZK+sS/ZMr/cVJ3wI=");
	/* what SASLprep forbids is refused before anything is sent */
	ims__scram_init(&sc);
	ims_buf_init(&out, 0);
	assert_int_equal(ims__scram_first(&sc, "us\ber", NULL, "abc123", &out, &err),
	                 IMS_ERR_USAGE);
	assert_non_null(strstr(err.msg, "SASLprep"));
	assert_int_equal(out.len, 0);
	ims__scram_release(&sc);
	ims__scram_init(&sc);
	assert_int_equal(ims__scram_first(&sc, "user", NULL, "abc123", &out, &err), IMS_OK);
	ims_buf_reset(&out);
	assert_int_equal(ims__scram_final(&sc,
	                                  "pen\x7f"
	                                  "cil",
	                                  sf, strlen(sf), &out, &err),
	                 IMS_ERR_USAGE);
	assert_int_equal(out.len, 0);
	ims__scram_release(&sc);
	ims_buf_release(&out);
}

static void test_crypto(void **state)
{
	unsigned char h[32], k[32], r1[16], r2[16];
	struct ims_buf b;

	(void)state;
	/* SHA-256("abc"), HMAC (RFC 4231 case 2), PBKDF2 (RFC 7914 section 11) */
	assert_int_equal(ims_sha256("abc", 3, h), IMS_OK);
	assert_memory_equal(h, "\xba\x78\x16\xbf\x8f\x01\xcf\xea\x41\x41\x40\xde\x5d\xae\x22\x23",
	                    16);
	assert_int_equal(ims_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, h), IMS_OK);
	assert_memory_equal(h, "\x5b\xdc\xc1\x46\xbf\x60\x75\x4e\x6a\x04\x24\x26\x08\x95\x75\xc7",
	                    16);
	assert_int_equal(ims_pbkdf2_sha256("passwd", 6, "salt", 4, 1, k, 32), IMS_OK);
	assert_memory_equal(k, "\x55\xac\x04\x6e\x56\xe3\x08\x9f\xec\x16\x91\xc2\x25\x44\xb6\x05",
	                    16);
	assert_int_equal(ims_pbkdf2_sha256("p", 1, "s", 1, 0, k, 32), IMS_ERR_USAGE);
	ims_buf_init(&b, 0);
	assert_int_equal(ims_base64_encode("\0alice\0secret", 13, &b), IMS_OK);
	assert_string_equal(b.data, "AGFsaWNlAHNlY3JldA==");
	ims_buf_reset(&b);
	assert_int_equal(ims_base64_decode("AGFsaWNlAHNlY3JldA==", 20, &b), IMS_OK);
	assert_int_equal(b.len, 13);
	assert_memory_equal(b.data, "\0alice\0secret", 13);
	ims_buf_reset(&b);
	assert_int_equal(ims_base64_decode("", 0, &b), IMS_OK);
	assert_int_equal(b.len, 0);
	assert_int_equal(ims_base64_decode("abc", 3, &b), IMS_ERR_USAGE);
	assert_int_equal(ims_base64_decode("ab=c", 4, &b), IMS_ERR_USAGE);
	assert_int_equal(ims_base64_decode("a b=", 4, &b), IMS_ERR_USAGE);
	assert_int_equal(ims_base64_decode("a===", 4, &b), IMS_ERR_USAGE);
	assert_int_equal(b.len, 0);
	ims_buf_release(&b);
	assert_int_equal(ims_random(r1, sizeof(r1)), IMS_OK);
	assert_int_equal(ims_random(r2, sizeof(r2)), IMS_OK);
	assert_memory_not_equal(r1, r2, sizeof(r1));
}

static void test_login_oauth_external(void **state)
{
	struct t t;
	struct ims_auth a;
	struct ims_error err;

	(void)state;
	CHUNKS_BEGIN
	t_open(&t, "login_xoauth2_fail.txt", chunk, 1);
	start(&t);
	ims_auth_init(&a);
	a.user = "alice@example.com";
	a.token = "ya29.token";
	a.mech = IMS_AUTH_XOAUTH2;
	assert_int_equal(ims_session_login(t.s, &a, &err), IMS_ERR_AUTH);
	assert_non_null(strstr(err.msg, "the access token was refused"));
	assert_non_null(strstr(err.msg, "\"status\":\"401\""));
	assert_int_equal(ims_session_last_code(t.s), IMS_CODE_AUTHENTICATIONFAILED);
	assert_null(strstr(trace_text(&t), "ya29"));
	t_close(&t, 1);

	t_open(&t, "login_oauthbearer.txt", chunk, 1);
	start(&t);
	a.mech = IMS_AUTH_AUTO;
	a.host = "imap.example.com";
	a.port = 993;
	expect_ok(ims_session_login(t.s, &a, &err), &err, &t);
	assert_int_equal(ims_session_auth_mech(t.s), IMS_AUTH_OAUTHBEARER);
	t_close(&t, 1);

	t_open(&t, "login_external.txt", chunk, 1);
	start(&t);
	ims_auth_init(&a);
	expect_ok(ims_session_login(t.s, &a, &err), &err, &t);
	assert_int_equal(ims_session_auth_mech(t.s), IMS_AUTH_EXTERNAL);
	t_close(&t, 1);
	CHUNKS_END
}

static void test_login_failures(void **state)
{
	struct t t;
	struct ims_auth a;
	struct ims_error err;
	char unavailable[IMS_ERROR_MAX], expired[IMS_ERROR_MAX], failed[IMS_ERROR_MAX];

	(void)state;
	t_open(&t, "login_unavailable.txt", 0, 1);
	start(&t);
	login_pw(&t, IMS_AUTH_AUTO, "alice", "secret", IMS_ERR_AUTH, "try again later");
	assert_int_equal(ims_session_last_code(t.s), IMS_CODE_UNAVAILABLE);
	assert_int_equal(ims_session_state(t.s), IMS_STATE_NOT_AUTHENTICATED);
	t_close(&t, 1);

	ims_auth_init(&a);
	a.user = "alice";
	a.password = "secret";
	t_open(&t, "login_unavailable.txt", 0, 1);
	start(&t);
	assert_int_equal(ims_session_login(t.s, &a, &err), IMS_ERR_AUTH);
	snprintf(unavailable, sizeof(unavailable), "%s", err.msg);
	t_close(&t, 1);
	t_open(&t, "login_expired.txt", 0, 1);
	start(&t);
	assert_int_equal(ims_session_login(t.s, &a, &err), IMS_ERR_AUTH);
	snprintf(expired, sizeof(expired), "%s", err.msg);
	assert_non_null(strstr(expired, "expired"));
	t_close(&t, 1);
	t_open(&t, "login_failed.txt", 0, 1);
	start(&t);
	assert_int_equal(ims_session_login(t.s, &a, &err), IMS_ERR_AUTH);
	snprintf(failed, sizeof(failed), "%s", err.msg);
	assert_non_null(strstr(failed, "wrong user name or password"));
	t_close(&t, 1);
	assert_string_not_equal(unavailable, expired);
	assert_string_not_equal(expired, failed);
	assert_null(strstr(failed, "try again later"));

	/* LOGINDISABLED: never LOGIN, nothing sent */
	t_open(&t, "logindisabled.txt", 0, 1);
	start(&t);
	login_pw(&t, IMS_AUTH_LOGIN, "alice", "secret", IMS_ERR_AUTH, "LOGINDISABLED");
	login_pw(&t, IMS_AUTH_AUTO, "alice", "secret", IMS_ERR_AUTH, "offers: GSSAPI");
	login_pw(&t, IMS_AUTH_PLAIN, "alice", "secret", IMS_ERR_AUTH, "does not offer AUTH=PLAIN");
	login_pw(&t, IMS_AUTH_AUTO, "alice", NULL, IMS_ERR_USAGE, "no password");
	/* NUL can never reach a SASL message: the API takes C strings, and
	 * control characters are refused */
	login_pw(&t, IMS_AUTH_AUTO, "ali\001ce", "x", IMS_ERR_USAGE, "control character");
	t_close(&t, 1);
}

static void test_capability_bad(void **state)
{
	struct t t;
	struct ims_error err;

	(void)state;
	CHUNKS_BEGIN
	t_open(&t, "capability_bad.txt", chunk, 1);
	start(&t);
	assert_false(ims_session_caps_known(t.s));
	login_pw(&t, IMS_AUTH_AUTO, "alice", "secret", IMS_OK, NULL);
	assert_int_equal(ims_session_auth_mech(t.s), IMS_AUTH_LOGIN);
	assert_false(ims_session_caps_known(t.s));
	expect_ok(ims_session_noop(t.s, &err), &err, &t);
	t_close(&t, 1);
	CHUNKS_END
}

static void test_preauth_and_bye_greeting(void **state)
{
	struct t t;
	struct ims_error err;

	(void)state;
	CHUNKS_BEGIN
	t_open(&t, "preauth.txt", chunk, 1);
	start(&t);
	assert_int_equal(ims_session_state(t.s), IMS_STATE_AUTHENTICATED);
	assert_string_equal(ims_session_greeting(t.s), "* PREAUTH logged in as alice");
	{
		/* ID went in the background: asking for its answer reads it */
		const struct ims_body_param *v;

		assert_int_equal(ims_session_server_id(t.s, &v), 0);
	}
	t_close(&t, 1);

	t_open(&t, "greeting_bye.txt", chunk, 1);
	assert_int_equal(ims_session_start(t.s, NULL, &err), IMS_ERR_NET);
	assert_non_null(strstr(err.msg, "Too many connections"));
	assert_int_equal(ims_session_state(t.s), IMS_STATE_LOGOUT);
	assert_int_equal(ims_session_noop(t.s, &err), IMS_ERR_NET);
	t_close(&t, 1);
	CHUNKS_END
}

/* The plaintext greeting of a STARTTLS connection: capabilities in it are
 * not trusted and asked again. */
static void test_start_after_starttls(void **state)
{
	struct t t;
	struct ims_error err;

	(void)state;
	t_open(&t, "capability_bad.txt", 0, 1);
	/* the script's first line is the greeting: skip it, as ims_connect
	 * read it in plaintext */
	t.sc->pos = 1;
	expect_ok(ims_session_start(t.s, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] plaintext", &err),
	          &err, &t);
	assert_false(ims_session_has_cap(t.s, "AUTH=PLAIN"));
	assert_int_equal(ims_session_state(t.s), IMS_STATE_NOT_AUTHENTICATED);
	t_close(&t, 0);
}

/* ---- tests: the engine ---- */

static void test_pipelining(void **state)
{
	struct t t;
	struct ims_error err;
	const char *names[3] = {"INBOX", "Sent Items", "Nope"};
	size_t lens[3] = {5, 10, 4};
	struct ims_status_values v[3];
	ims_err errs[3];

	(void)state;
	CHUNKS_BEGIN
	t_open(&t, "pipeline_status.txt", chunk, 1);
	start(&t);
	assert_int_equal(ims_session_status_many(t.s, names, lens, 3,
	                                         IMS_STATUS_MESSAGES | IMS_STATUS_UNSEEN, v, errs,
	                                         &err),
	                 IMS_ERR_NO);
	assert_non_null(strstr(err.msg, "Nope"));
	assert_non_null(strstr(err.msg, "NONEXISTENT"));
	assert_int_equal(errs[0], IMS_OK);
	assert_int_equal(errs[1], IMS_OK);
	assert_int_equal(errs[2], IMS_ERR_NO);
	assert_int_equal(v[0].messages, 42);
	assert_int_equal(v[0].unseen, 3);
	assert_int_equal(v[1].messages, 7);
	assert_int_equal(v[1].have, IMS_STATUS_MESSAGES | IMS_STATUS_UNSEEN);
	t_close(&t, 1);
	CHUNKS_END
}

static void test_tag_errors(void **state)
{
	struct t t;
	struct ims_error err;

	(void)state;
	CHUNKS_BEGIN
	t_open(&t, "tag_mismatch.txt", chunk, 1);
	start(&t);
	assert_int_equal(ims_session_noop(t.s, &err), IMS_ERR_PROTOCOL);
	assert_non_null(strstr(err.msg, "never sent"));
	assert_int_equal(ims_session_broken(t.s, &err), IMS_ERR_PROTOCOL);
	assert_int_equal(ims_session_noop(t.s, &err), IMS_ERR_PROTOCOL);
	t_close(&t, 1);

	t_open(&t, "tag_twice.txt", chunk, 1);
	start(&t);
	expect_ok(ims_session_noop(t.s, &err), &err, &t);
	assert_int_equal(ims_session_noop(t.s, &err), IMS_ERR_PROTOCOL);
	assert_non_null(strstr(err.msg, "twice"));
	t_close(&t, 1);

	t_open(&t, "unexpected_continuation.txt", chunk, 1);
	start(&t);
	assert_int_equal(ims_session_noop(t.s, &err), IMS_ERR_PROTOCOL);
	assert_non_null(strstr(err.msg, "continuation"));
	t_close(&t, 1);
	CHUNKS_END
}

static void test_bye_mid_command(void **state)
{
	struct t t;
	struct ims_error err;

	(void)state;
	CHUNKS_BEGIN
	t_open(&t, "bye_mid_command.txt", chunk, 1);
	start(&t);
	assert_int_equal(ims_session_select(t.s, "INBOX", 5, 0, &err), IMS_ERR_NET);
	assert_non_null(strstr(err.msg, "Server shutting down"));
	assert_string_equal(t.bye, "Server shutting down for maintenance");
	assert_string_equal(ims_session_bye_text(t.s), "Server shutting down for maintenance");
	assert_int_equal(ims_session_state(t.s), IMS_STATE_LOGOUT);
	assert_null(ims_session_folder(t.s));
	t_close(&t, 1);
	CHUNKS_END
}

static void test_alert(void **state)
{
	struct t t;
	struct ims_error err;
	const char *const *v;

	(void)state;
	t_open(&t, "alert.txt", 0, 1);
	start(&t);
	expect_ok(ims_session_noop(t.s, &err), &err, &t);
	assert_int_equal(t.n_alerts, 2);
	assert_string_equal(t.alerts[0], "Your mailbox is 95% full");
	assert_string_equal(t.alerts[1], "Please delete old mail");
	t_close(&t, 1);

	/* without a hook they are kept */
	t_open(&t, "alert.txt", 1, 0);
	start(&t);
	expect_ok(ims_session_noop(t.s, &err), &err, &t);
	assert_int_equal(ims_session_alerts(t.s, &v), 2);
	assert_string_equal(v[0], "Your mailbox is 95% full");
	ims_session_clear_alerts(t.s);
	assert_int_equal(ims_session_alerts(t.s, &v), 0);
	t_close(&t, 1);
}

static void test_select(void **state)
{
	struct t t;
	struct ims_error err;
	const struct ims_folder *f;

	(void)state;
	CHUNKS_BEGIN
	t_open(&t, "select.txt", chunk, 1);
	start(&t);
	expect_ok(ims_session_select(t.s, "INBOX", 5, 0, &err), &err, &t);
	f = ims_session_folder(t.s);
	assert_non_null(f);
	assert_string_equal(f->name, "INBOX");
	assert_int_equal(f->exists, 172);
	assert_int_equal(f->recent, 1);
	assert_int_equal(f->unseen, 12);
	assert_int_equal(f->uidvalidity, 3857529045u);
	assert_int_equal(f->uidnext, 4392);
	assert_int_equal(f->n_flags, 5);
	assert_int_equal(f->n_permanentflags, 3);
	assert_string_equal(f->permanentflags[2], "\\*");
	assert_false(f->read_only);
	assert_int_equal(ims_session_state(t.s), IMS_STATE_SELECTED);
	t.untagged = 0;
	expect_ok(ims_session_noop(t.s, &err), &err, &t);
	f = ims_session_folder(t.s);
	assert_int_equal(f->exists, 171);
	assert_int_equal(f->expunged, 2);
	assert_int_equal(t.untagged, 4); /* EXPUNGE, EXPUNGE, EXISTS, FETCH */
	assert_int_equal(ims_session_select(t.s, "Missing", 7, 1, &err), IMS_ERR_NO);
	assert_non_null(strstr(err.msg, "examine Missing"));
	assert_null(ims_session_folder(t.s));
	assert_int_equal(ims_session_state(t.s), IMS_STATE_AUTHENTICATED);
	t_close(&t, 1);
	CHUNKS_END
}

/* ---- tests: messages ---- */

struct fetch_rec {
	struct ims_buf body;
	int fail_sink;
	size_t messages;
	uint32_t uid;
	char subject[32];
	size_t literals;
};

static ims_err rec_write(void *ctx, const void *p, size_t n)
{
	struct fetch_rec *r = ctx;

	if (r->fail_sink)
		return IMS_ERR_IO;
	return ims_buf_append(&r->body, p, n);
}

static ims_err rec_literal(void *ctx, const struct ims_literal_info *li, struct ims_sink *sink_r,
                           struct ims_error *err)
{
	struct fetch_rec *r = ctx;

	(void)err;
	r->literals++;
	assert_string_equal(li->item, "BODY[]");
	assert_int_equal(li->uid, 42);
	sink_r->write = rec_write;
	sink_r->ctx = r;
	return IMS_OK;
}

static ims_err rec_message(void *ctx, const struct ims_fetch *f, struct ims_error *err)
{
	struct fetch_rec *r = ctx;

	(void)err;
	r->messages++;
	if (f->have & IMS_FETCH_UID) {
		r->uid = f->uid;
		assert_int_equal(f->n_sections, 1);
		assert_true(f->sections[0].value->flags & IMS_VF_STREAMED);
		if (f->envelope != NULL)
			snprintf(r->subject, sizeof(r->subject), "%s", f->envelope->subject);
	}
	return IMS_OK;
}

static void test_fetch_sink(void **state)
{
	struct t t;
	struct ims_error err;
	struct fetch_rec rec;
	struct ims_fetch_handler h = {rec_literal, rec_message, &rec};

	(void)state;
	CHUNKS_BEGIN
	memset(&rec, 0, sizeof(rec));
	ims_buf_init(&rec.body, 0);
	t_open(&t, "fetch_sink.txt", chunk, 1);
	start(&t);
	expect_ok(ims_session_select(t.s, "INBOX", 5, 0, &err), &err, &t);
	expect_ok(ims_session_uid_fetch(t.s, "42", "(UID ENVELOPE BODY.PEEK[])", &h, &err), &err,
	          &t);
	assert_int_equal(rec.messages, 2);
	assert_int_equal(rec.literals, 1);
	assert_int_equal(rec.uid, 42);
	assert_string_equal(rec.subject, "hello");
	assert_int_equal(rec.body.len, 25);
	assert_memory_equal(rec.body.data, "Subject: x\r\n\r\nbody text\r\n", 25);
	/* the trace shows the literal's size, never its bytes */
	assert_null(strstr(trace_text(&t), "body text"));
	assert_non_null(strstr(trace_text(&t), "I: <25 bytes>"));
	t_close(&t, 1);
	ims_buf_release(&rec.body);

	memset(&rec, 0, sizeof(rec));
	rec.fail_sink = 1;
	ims_buf_init(&rec.body, 0);
	t_open(&t, "fetch_sink_fails.txt", chunk, 1);
	start(&t);
	expect_ok(ims_session_select(t.s, "INBOX", 5, 0, &err), &err, &t);
	assert_int_equal(ims_session_uid_fetch(t.s, "42", "BODY.PEEK[]", &h, &err), IMS_ERR_IO);
	assert_non_null(strstr(err.msg, "cannot write"));
	expect_ok(ims_session_noop(t.s, &err), &err, &t);
	t_close(&t, 1);
	ims_buf_release(&rec.body);
	CHUNKS_END
}

/* One body of one message to a sink (ims_session_fetch_body): only the
 * message asked for reaches it, streamed or from memory, once. */
static void fetch_body(struct t *t, struct ims_body_fetch *b, struct ims_buf *got, const char *set,
                       uint32_t want, int seq, const char *section)
{
	struct ims_error err;

	ims_buf_reset(got);
	memset(b, 0, sizeof(*b));
	b->set = set;
	b->want = want;
	b->seq = seq;
	b->section = section;
	b->sink = ims_sink_buf(got);
	expect_ok(ims_session_fetch_body(t->s, b, &err), &err, t);
}

static void test_fetch_body(void **state)
{
	struct ims_body_fetch b;
	struct ims_error err;
	struct ims_buf got;
	struct t t;

	(void)state;
	CHUNKS_BEGIN
	ims_buf_init(&got, 0);
	t_open(&t, "fetch_body.txt", chunk, 1);
	start(&t);
	expect_ok(ims_session_select(t.s, "INBOX", 5, 0, &err), &err, &t);
	fetch_body(&t, &b, &got, "7", 7, 0, "");
	assert_int_equal(b.found, 1);
	assert_int_equal(b.uid, 7);
	assert_int_equal(got.len, 7);
	assert_memory_equal(got.data, "RIGHT\r\n", 7);
	fetch_body(&t, &b, &got, "7", 7, 0, "TEXT");
	assert_int_equal(b.found, 1);
	assert_int_equal(got.len, 6);
	assert_memory_equal(got.data, "LATE\r\n", 6);
	fetch_body(&t, &b, &got, "7", 7, 0, "1");
	assert_int_equal(b.found, 0);
	assert_int_equal(b.nil, 1);
	assert_int_equal(got.len, 0);
	fetch_body(&t, &b, &got, "2", 2, 1, "HEADER");
	assert_int_equal(b.found, 1);
	assert_int_equal(b.uid, 7);
	assert_string_equal(got.data, "tiny");
	t_close(&t, 1);
	ims_buf_release(&got);
	CHUNKS_END
}

static int64_t seen_date;

static ims_err note_date(void *ctx, const struct ims_fetch *f, struct ims_error *err)
{
	(void)ctx;
	(void)err;
	if (f->have & IMS_FETCH_INTERNALDATE)
		seen_date = f->internaldate_epoch;
	return IMS_OK;
}

/* More sections in one fetch, each to its own sink (show's use). */
static void test_fetch_bodies(void **state)
{
	struct ims_body_part more[2];
	struct ims_body_fetch b;
	struct ims_error err;
	struct ims_buf hdr, one, two;
	struct t t;

	(void)state;
	CHUNKS_BEGIN
	ims_buf_init(&hdr, 0);
	ims_buf_init(&one, 0);
	ims_buf_init(&two, 0);
	seen_date = 0;
	t_open(&t, "fetch_bodies.txt", chunk, 1);
	start(&t);
	expect_ok(ims_session_select(t.s, "INBOX", 5, 0, &err), &err, &t);
	memset(&b, 0, sizeof(b));
	memset(more, 0, sizeof(more));
	b.set = "7";
	b.want = 7;
	b.section = "HEADER";
	b.sink = ims_sink_buf(&hdr);
	more[0].section = "1";
	more[0].sink = ims_sink_buf(&one);
	more[1].section = "2";
	more[1].max = 4;
	more[1].sink = ims_sink_buf(&two);
	b.more = more;
	b.n_more = 2;
	b.items = "INTERNALDATE";
	b.message = note_date;
	expect_ok(ims_session_fetch_body(t.s, &b, &err), &err, &t);
	assert_int_equal(b.found, 1);
	assert_int_equal(b.uid, 7);
	assert_int_equal(hdr.len, 4);
	assert_memory_equal(hdr.data, "HHHH", 4);
	assert_int_equal(more[0].found, 1);
	assert_int_equal(one.len, 3);
	assert_memory_equal(one.data, "one", 3);
	assert_int_equal(more[1].found, 1);
	assert_int_equal(two.len, 4);
	assert_memory_equal(two.data, "2222", 4);
	assert_int_equal(seen_date, 837596665);
	/* NIL for one section: that one is not found, the other is */
	ims_buf_reset(&hdr);
	ims_buf_reset(&one);
	b.n_more = 1;
	b.items = NULL;
	b.message = NULL;
	expect_ok(ims_session_fetch_body(t.s, &b, &err), &err, &t);
	assert_int_equal(b.found, 1);
	assert_int_equal(hdr.len, 1);
	assert_int_equal(more[0].found, 0);
	assert_int_equal(more[0].nil, 1);
	assert_int_equal(one.len, 0);
	t_close(&t, 1);
	ims_buf_release(&hdr);
	ims_buf_release(&one);
	ims_buf_release(&two);
	CHUNKS_END
}

struct src {
	const char *data;
	size_t len, pos;
};

static ims_err src_read(void *ctx, void *p, size_t len, size_t *got_r)
{
	struct src *s = ctx;
	size_t n = s->len - s->pos;

	if (n > len)
		n = len;
	if (n > 4)
		n = 4; /* in small pieces */
	memcpy(p, s->data + s->pos, n);
	s->pos += n;
	*got_r = n;
	return IMS_OK;
}

static void test_append(void **state)
{
	struct t t;
	struct ims_error err;
	struct src data = {"Hello World", 11, 0};
	struct ims_source src = {src_read, &data};
	struct ims_append_result res;
	static const char *const seen[] = {"\\Seen"};
	static const char *const badflag[] = {"\\Seen)"};

	(void)state;
	CHUNKS_BEGIN
	data.pos = 0;
	t_open(&t, "append_sync.txt", chunk, 1);
	start(&t);
	expect_ok(ims_session_append(t.s, "Sent", 4, seen, 1, " 7-Feb-1994 21:52:25 -0800", 11,
	                             &src, &res, &err),
	          &err, &t);
	assert_true(res.have_uid);
	assert_int_equal(res.uidvalidity, 38505);
	assert_int_equal(res.uid, 3955);
	assert_non_null(strstr(trace_text(&t), "{11}<11 bytes>"));
	assert_null(strstr(trace_text(&t), "Hello World"));
	t_close(&t, 1);

	data.pos = 0;
	t_open(&t, "append_refused.txt", chunk, 1);
	start(&t);
	assert_int_equal(ims_session_append(t.s, "Nope", 4, NULL, 0, NULL, 11, &src, &res, &err),
	                 IMS_ERR_NO);
	assert_non_null(strstr(err.msg, "TRYCREATE"));
	assert_int_equal(ims_session_last_code(t.s), IMS_CODE_TRYCREATE);
	assert_int_equal(data.pos, 0);
	expect_ok(ims_session_noop(t.s, &err), &err, &t);
	/* checked before anything is sent */
	assert_int_equal(ims_session_append(t.s, "X", 1, badflag, 1, NULL, 11, &src, &res, &err),
	                 IMS_ERR_USAGE);
	assert_int_equal(
	    ims_session_append(t.s, "X", 1, NULL, 0, "yesterday", 11, &src, &res, &err),
	    IMS_ERR_USAGE);
	t_close(&t, 1);

	data.pos = 0;
	t_open(&t, "append_literal_plus.txt", chunk, 1);
	start(&t);
	expect_ok(ims_session_append(t.s, "INBOX", 5, NULL, 0, NULL, 11, &src, &res, &err), &err,
	          &t);
	assert_false(res.have_uid);
	t_close(&t, 1);
	CHUNKS_END
}

static void test_idle(void **state)
{
	struct t t;
	struct ims_error err;
	int changed;

	(void)state;
	CHUNKS_BEGIN
	t_open(&t, "idle.txt", chunk, 1);
	start(&t);
	expect_ok(ims_session_select(t.s, "INBOX", 5, 0, &err), &err, &t);
	expect_ok(ims_session_idle_start(t.s, &err), &err, &t);
	expect_ok(ims_session_idle_wait(t.s, 5000, &changed, &err), &err, &t);
	assert_true(changed);
	assert_int_equal(ims_session_folder(t.s)->exists, 5);
	expect_ok(ims_session_idle_done(t.s, &err), &err, &t);
	t_close(&t, 1);
	CHUNKS_END
}

static void test_search(void **state)
{
	struct t t;
	struct ims_error err;
	struct ims_search_result res;
	struct ims_arg keys[3] = {{IMS_ARG_RAW, "SUBJECT", 0},
	                          {IMS_ARG_STRING,
	                           "Gr\xC3\xBC\xC3\x9F"
	                           "e",
	                           7},
	                          {IMS_ARG_RAW, "UNSEEN", 0}};
	struct ims_arg keys2[2] = {{IMS_ARG_RAW, "FROM", 0}, {IMS_ARG_STRING, "a b", 3}};
	struct ims_arg keys3[2] = {{IMS_ARG_RAW, "UNSEEN SINCE", 0},
	                           {IMS_ARG_STRING, "1-Feb-1994", 10}};
	struct ims_arg evil[1] = {{IMS_ARG_RAW, "ALL\r\nX LOGOUT", 0}};

	(void)state;
	CHUNKS_BEGIN
	t_open(&t, "search.txt", chunk, 1);
	start(&t);
	expect_ok(ims_session_select(t.s, "INBOX", 5, 0, &err), &err, &t);
	ims_search_result_init(&res);
	expect_ok(ims_session_uid_search(t.s, keys, 3, &res, &err), &err, &t);
	assert_int_equal(res.n, 6);
	assert_int_equal(res.uids[0], 1);
	assert_int_equal(res.uids[3], 7);
	assert_int_equal(res.uids[5], 10);
	ims_search_result_release(&res);
	ims_search_result_init(&res);
	expect_ok(ims_session_uid_search(t.s, keys2, 2, &res, &err), &err, &t);
	assert_int_equal(res.n, 0);
	/* a line break in a raw key can never split the command */
	assert_int_equal(ims_session_uid_search(t.s, evil, 1, &res, &err), IMS_ERR_USAGE);
	ims_search_result_release(&res);
	t_close(&t, 1);

	t_open(&t, "search_plain.txt", chunk, 1);
	start(&t);
	expect_ok(ims_session_select(t.s, "INBOX", 5, 0, &err), &err, &t);
	ims_search_result_init(&res);
	expect_ok(ims_session_uid_search(t.s, keys3, 2, &res, &err), &err, &t);
	assert_int_equal(res.n, 3); /* sorted, duplicates dropped */
	assert_int_equal(res.uids[0], 2);
	assert_int_equal(res.uids[1], 9);
	assert_int_equal(res.uids[2], 84);
	ims_search_result_release(&res);
	t_close(&t, 1);
	CHUNKS_END
}

static void test_move(void **state)
{
	struct t t;
	struct ims_error err;
	struct ims_copy_result res;

	(void)state;
	CHUNKS_BEGIN
	t_open(&t, "move_fallback.txt", chunk, 1);
	start(&t);
	expect_ok(ims_session_select(t.s, "INBOX", 5, 0, &err), &err, &t);
	ims_copy_result_init(&res);
	expect_ok(ims_session_uid_move(t.s, "4:5", "Archive", 7, &res, &err), &err, &t);
	assert_true(res.moved);
	assert_true(res.have_uids);
	assert_string_equal(res.dst_uids, "100:101");
	assert_int_equal(ims_session_folder(t.s)->exists, 8);
	ims_copy_result_release(&res);
	t_close(&t, 1);

	t_open(&t, "move.txt", chunk, 1);
	start(&t);
	expect_ok(ims_session_select(t.s, "INBOX", 5, 0, &err), &err, &t);
	ims_copy_result_init(&res);
	expect_ok(ims_session_uid_move(t.s, "42", "[Gmail]/Trash", 13, &res, &err), &err, &t);
	assert_true(res.moved);
	assert_int_equal(res.uidvalidity, 432432);
	assert_string_equal(res.src_uids, "42");
	assert_string_equal(res.dst_uids, "1202");
	assert_int_equal(ims_session_folder(t.s)->exists, 9);
	ims_copy_result_release(&res);
	t_close(&t, 1);
	CHUNKS_END
}

static void test_list_status(void **state)
{
	struct t t;
	struct ims_error err;
	struct ims_list_result res;

	(void)state;
	CHUNKS_BEGIN
	t_open(&t, "list_status.txt", chunk, 1);
	start(&t);
	ims_list_result_init(&res);
	expect_ok(
	    ims_session_list(t.s, "", "*", IMS_LISTF_STATUS | IMS_LISTF_SPECIAL_USE, &res, &err),
	    &err, &t);
	assert_int_equal(res.n, 3);
	assert_string_equal(res.v[0].name, "INBOX");
	assert_true(res.v[0].has_status);
	assert_int_equal(res.v[0].status.messages, 17);
	assert_int_equal(res.v[0].status.unseen, 16);
	assert_string_equal(res.v[1].special_use, "\\Sent");
	assert_int_equal(res.v[1].delim, '/');
	assert_false(res.v[2].has_status);
	assert_true(res.v[2].attrs & IMS_LIST_NOSELECT);
	ims_list_result_release(&res);
	t_close(&t, 1);
	CHUNKS_END
}

struct quote_rec {
	struct ims_buf all;
	size_t n;
};

static ims_err quote_cb(void *ctx, const struct ims_response *r, const char *raw, size_t len,
                        struct ims_error *err)
{
	struct quote_rec *q = ctx;

	(void)r;
	(void)err;
	q->n++;
	return ims_buf_append(&q->all, raw, len);
}

static void test_quote(void **state)
{
	struct t t;
	struct ims_error err;
	struct quote_rec q;

	(void)state;
	CHUNKS_BEGIN
	memset(&q, 0, sizeof(q));
	ims_buf_init(&q.all, 0);
	t_open(&t, "quote.txt", chunk, 1);
	start(&t);
	expect_ok(ims_session_select(t.s, "INBOX", 5, 0, &err), &err, &t);
	assert_int_equal(ims_session_quote(t.s, "FETCH 1 BODY[]\r\nX LOGOUT", quote_cb, &q, &err),
	                 IMS_ERR_USAGE);
	assert_int_equal(ims_session_quote(t.s, "APPEND x {5}", quote_cb, &q, &err), IMS_ERR_USAGE);
	expect_ok(ims_session_quote(t.s, "FETCH 1 BODY[]", quote_cb, &q, &err), &err, &t);
	assert_int_equal(q.n, 2);
	assert_non_null(strstr(q.all.data, "* 1 FETCH (BODY[] {5}\r\nabc\r\n)\r\n"));
	assert_non_null(strstr(q.all.data, " OK done\r\n"));
	t_close(&t, 1);
	ims_buf_release(&q.all);
	CHUNKS_END
}

/* quote of a login in every spelling a server reads: the trace keeps
 * none of the secret (the decision is ims_redact_visible's, made in the
 * session for every command it traces). */
static void test_quote_login_trace(void **state)
{
	static const char *const lines[] = {
	    "login\talice sekrit1", "  LoGiN alice \"sekrit2\"",
	    "AUTHENTICATE\tPLAIN c2Vrcml0Mw==", "x LOGIN alice sekrit4"};
	struct t t;
	struct ims_error err;
	struct quote_rec q;
	size_t i;

	(void)state;
	CHUNKS_BEGIN
	memset(&q, 0, sizeof(q));
	ims_buf_init(&q.all, 0);
	t_open(&t, "quote_login.txt", chunk, 1);
	start(&t);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		assert_int_equal(ims_session_quote(t.s, lines[i], quote_cb, &q, &err), IMS_ERR_NO);
	expect_ok(ims_session_quote(t.s, "NOOP", quote_cb, &q, &err), &err, &t);
	assert_null(strstr(trace_text(&t), "sekrit"));
	assert_null(strstr(trace_text(&t), "c2Vy"));
	assert_non_null(strstr(trace_text(&t), "1 login ***\n"));
	assert_non_null(strstr(trace_text(&t), "3 AUTHENTICATE\tPLAIN ***\n"));
	assert_non_null(strstr(trace_text(&t), "2   LoGiN ***\n"));
	assert_non_null(strstr(trace_text(&t), "4 x LOGIN ***\n"));
	assert_non_null(strstr(trace_text(&t), "5 NOOP\n"));
	t_close(&t, 1);
	ims_buf_release(&q.all);
	CHUNKS_END
}

static void test_quota_namespace_id_logout(void **state)
{
	struct t t;
	struct ims_error err;
	struct ims_quota_result q;
	struct ims_namespace_result ns;
	struct ims_id_result id;
	static const char *const kv[] = {"name", "x"};

	(void)state;
	CHUNKS_BEGIN
	t_open(&t, "quota_ns_id.txt", chunk, 1);
	start(&t);
	ims_quota_result_init(&q);
	expect_ok(ims_session_getquotaroot(t.s, "INBOX", 5, &q, &err), &err, &t);
	assert_int_equal(q.n_roots, 1);
	assert_string_equal(q.roots[0], "");
	assert_int_equal(q.n, 1);
	assert_string_equal(q.v[0].res[0].name, "STORAGE");
	assert_int_equal(q.v[0].res[0].usage, 10);
	assert_int_equal(q.v[0].res[0].limit, 512);
	ims_quota_result_release(&q);
	ims_namespace_result_init(&ns);
	expect_ok(ims_session_namespace(t.s, &ns, &err), &err, &t);
	assert_int_equal(ns.n[0], 1);
	assert_int_equal(ns.n[1], 0);
	assert_int_equal(ns.n[2], 1);
	assert_string_equal(ns.v[2][0].prefix, "#shared/");
	ims_namespace_result_release(&ns);
	ims_id_result_init(&id);
	expect_ok(ims_session_id(t.s, kv, 1, &id, &err), &err, &t);
	assert_int_equal(id.n, 2);
	assert_string_equal(id.values[0], "Cyrus IMAPd");
	assert_null(id.values[1]);
	ims_id_result_release(&id);
	expect_ok(ims_session_logout(t.s, &err), &err, &t);
	assert_int_equal(ims_session_state(t.s), IMS_STATE_LOGOUT);
	t_close(&t, 1);
	CHUNKS_END
}

struct store_rec {
	size_t n;
	uint32_t uids[4];
};

static ims_err store_message(void *ctx, const struct ims_fetch *f, struct ims_error *err)
{
	struct store_rec *r = ctx;

	(void)err;
	assert_true(r->n < 4);
	assert_true(f->have & IMS_FETCH_FLAGS);
	r->uids[r->n++] = f->uid;
	return IMS_OK;
}

static void test_folders(void **state)
{
	struct t t;
	struct ims_error err;
	struct ims_list_result res;
	struct store_rec rec;
	struct ims_fetch_handler h = {NULL, store_message, &rec};
	static const char *const flags[] = {"\\Seen", "$Junk"};
	static const char *const bad[] = {"a b"};
	uint64_t count;

	(void)state;
	CHUNKS_BEGIN
	memset(&rec, 0, sizeof(rec));
	t_open(&t, "folders.txt", chunk, 1);
	start(&t);
	expect_ok(ims_session_create(t.s, "Work/2024 Q1", 12, &err), &err, &t);
	assert_int_equal(ims_session_create(t.s, "a\r\nb\r\n", 6, &err), IMS_ERR_NO);
	assert_non_null(strstr(err.msg, "create a^M"));
	assert_non_null(strstr(err.msg, "CANNOT"));
	expect_ok(ims_session_rename(t.s, "Work", 4, "Old Work", 8, &err), &err, &t);
	assert_int_equal(ims_session_delete(t.s, "Old Work", 8, &err), IMS_ERR_NO);
	assert_int_equal(ims_session_last_code(t.s), IMS_CODE_INUSE);
	expect_ok(ims_session_subscribe(t.s, "Work", 4, &err), &err, &t);
	expect_ok(ims_session_unsubscribe(t.s, "Work", 4, &err), &err, &t);
	ims_list_result_init(&res);
	expect_ok(ims_session_list(t.s, NULL, "*", IMS_LISTF_SUBSCRIBED, &res, &err), &err, &t);
	assert_int_equal(res.n, 2);
	assert_true(res.v[1].attrs & IMS_LIST_SUBSCRIBED);
	assert_true(res.v[1].attrs & IMS_LIST_NOSELECT);
	ims_list_result_release(&res);
	assert_true(ims_session_has_cap(t.s, "AUTH=PLAIN") == 0);
	expect_ok(ims_session_capability(t.s, &err), &err, &t);
	assert_true(ims_session_has_cap(t.s, "IDLE"));
	expect_ok(ims_session_select(t.s, "INBOX", 5, 0, &err), &err, &t);
	assert_int_equal(ims_session_uid_store(t.s, "1:2", IMS_STORE_REMOVE, bad, 1, 0, &h, &err),
	                 IMS_ERR_USAGE);
	expect_ok(ims_session_uid_store(t.s, "1:2", IMS_STORE_REMOVE, flags, 2, 0, &h, &err), &err,
	          &t);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.uids[1], 2);
	expect_ok(ims_session_seq_fetch(t.s, "3", "(UID FLAGS)", &h, &err), &err, &t);
	assert_int_equal(rec.uids[2], 9);
	assert_int_equal(ims_session_uid_expunge(t.s, "1", &err), IMS_ERR_NO);
	assert_non_null(strstr(err.msg, "UIDPLUS"));
	expect_ok(ims_session_expunge(t.s, &count, &err), &err, &t);
	assert_int_equal(count, 2);
	assert_int_equal(ims_session_folder(t.s)->exists, 1);
	/* refused before anything is sent */
	assert_int_equal(ims_session_create(t.s, "a\0b", 3, &err), IMS_ERR_USAGE);
	t_close(&t, 1);
	CHUNKS_END
}

/* ---- deadlines ---- */

struct slow {
	struct ims_stream base;
	const char *data;
	size_t pos;
};

static ims_err slow_read(struct ims_stream *s, void *p, size_t len, size_t *got_r)
{
	struct slow *sl = (struct slow *)s;
	struct timespec ts = {0, 20 * 1000 * 1000};

	(void)len;
	nanosleep(&ts, NULL);
	if (sl->data[sl->pos] == '\0') {
		*got_r = 0;
		return IMS_OK;
	}
	memcpy(p, sl->data + sl->pos++, 1);
	*got_r = 1;
	return IMS_OK;
}

static ims_err slow_write(struct ims_stream *s, const void *p, size_t len)
{
	(void)s;
	(void)p;
	(void)len;
	return IMS_OK;
}

static void slow_close(struct ims_stream *s)
{
	free(s);
}

static const struct ims_stream_ops slow_ops = {slow_read, slow_write, NULL, slow_close};

/* A server dribbling a byte every 20 ms cannot hold the greeting past its
 * deadline, even though every single read succeeds. */
static void test_greeting_deadline(void **state)
{
	struct slow *sl = calloc(1, sizeof(*sl));
	struct ims_session_opts o;
	struct ims_session *s;
	struct ims_error err;
	int64_t t0 = ims_now_ms();

	(void)state;
	sl->base.ops = &slow_ops;
	sl->data = "* OK this greeting takes a long time to arrive, one byte at a time\r\n";
	ims_session_opts_init(&o);
	o.greeting_timeout_ms = 200;
	s = ims_session_new(&sl->base, &o);
	assert_int_equal(ims_session_start(s, NULL, &err), IMS_ERR_NET);
	assert_non_null(strstr(err.msg, "greeting"));
	assert_true(ims_now_ms() - t0 < 1000);
	assert_int_equal(ims_session_stream(s)->deadline_ms, 0);
	ims_session_free(&s);
}

/* Tags: a random prefix per connection. */
static void test_tags(void **state)
{
	struct ims_session *a, *b;
	struct ims_buf wa, wb;
	struct ims_error err;
	struct ims_cmd c1, c2;

	(void)state;
	ims_buf_init(&wa, 0);
	ims_buf_init(&wb, 0);
	a = ims_session_new(ims_stream_memory_new("", 0, 0, &wa), NULL);
	b = ims_session_new(ims_stream_memory_new("", 0, 0, &wb), NULL);
	assert_int_equal(ims_session_cmd_begin(a, &c1, "NOOP", &err), IMS_OK);
	assert_int_equal(ims_session_cmd_begin(b, &c2, "NOOP", &err), IMS_OK);
	/* 26^4 prefixes: two equal ones would be a 1 in 456976 event */
	assert_memory_not_equal(c1.out.data, c2.out.data, 4);
	assert_true(c1.out.data[4] == '1');
	ims_cmd_release(&c1);
	ims_cmd_release(&c2);
	ims_session_free(&a);
	ims_session_free(&b);
	ims_buf_release(&wa);
	ims_buf_release(&wb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crypto),
	    cmocka_unit_test(test_scram_vector),
	    cmocka_unit_test(test_scram_sha1_saslprep_and_binding),
	    cmocka_unit_test(test_login_command),
	    cmocka_unit_test(test_pipelining_order),
	    cmocka_unit_test(test_login_plain),
	    cmocka_unit_test(test_login_scram),
	    cmocka_unit_test(test_login_oauth_external),
	    cmocka_unit_test(test_login_failures),
	    cmocka_unit_test(test_capability_bad),
	    cmocka_unit_test(test_preauth_and_bye_greeting),
	    cmocka_unit_test(test_start_after_starttls),
	    cmocka_unit_test(test_pipelining),
	    cmocka_unit_test(test_tag_errors),
	    cmocka_unit_test(test_bye_mid_command),
	    cmocka_unit_test(test_alert),
	    cmocka_unit_test(test_select),
	    cmocka_unit_test(test_fetch_sink),
	    cmocka_unit_test(test_fetch_body),
	    cmocka_unit_test(test_fetch_bodies),
	    cmocka_unit_test(test_append),
	    cmocka_unit_test(test_idle),
	    cmocka_unit_test(test_search),
	    cmocka_unit_test(test_move),
	    cmocka_unit_test(test_list_status),
	    cmocka_unit_test(test_quote),
	    cmocka_unit_test(test_quote_login_trace),
	    cmocka_unit_test(test_quota_namespace_id_logout),
	    cmocka_unit_test(test_folders),
	    cmocka_unit_test(test_greeting_deadline),
	    cmocka_unit_test(test_tags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
