/* Authentication: LOGIN, and AUTHENTICATE with PLAIN, SCRAM-SHA-1 and
 * SCRAM-SHA-256 (and their -PLUS forms), XOAUTH2, OAUTHBEARER and
 * EXTERNAL (SASL-IR where offered), then the after-login steps.  Every
 * copy of a secret made here is wiped.  SASLprep (RFC 4013) is GNU SASL's
 * (gsasl_saslprep), not our own. */
#include "session_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gsasl.h>

#include "imapsh/caps.h"
#include "imapsh/crypto.h"
#include "imapsh/transport.h"

/* ---- names ---- */

static const struct {
	const char *name;
	const char *sasl;
	enum ims_auth_mech mech;
} mechs[] = {
    {"plain", "PLAIN", IMS_AUTH_PLAIN},
    {"login", "LOGIN", IMS_AUTH_LOGIN},
    {"scram-sha-256", "SCRAM-SHA-256", IMS_AUTH_SCRAM_SHA_256},
    {"scram-sha-1", "SCRAM-SHA-1", IMS_AUTH_SCRAM_SHA_1},
    {"scram-sha-256-plus", "SCRAM-SHA-256-PLUS", IMS_AUTH_SCRAM_SHA_256_PLUS},
    {"scram-sha-1-plus", "SCRAM-SHA-1-PLUS", IMS_AUTH_SCRAM_SHA_1_PLUS},
    {"xoauth2", "XOAUTH2", IMS_AUTH_XOAUTH2},
    {"oauthbearer", "OAUTHBEARER", IMS_AUTH_OAUTHBEARER},
    {"external", "EXTERNAL", IMS_AUTH_EXTERNAL},
};

ims_err ims_auth_mech_parse(const char *name, enum ims_auth_mech *mech_r)
{
	size_t i;

	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (strcasecmp(name, mechs[i].name) == 0) {
			*mech_r = mechs[i].mech;
			return IMS_OK;
		}
	if (strcasecmp(name, "auto") == 0) {
		*mech_r = IMS_AUTH_AUTO;
		return IMS_OK;
	}
	return IMS_ERR_USAGE;
}

const char *ims_auth_mech_name(enum ims_auth_mech mech)
{
	size_t i;

	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (mechs[i].mech == mech)
			return mechs[i].name;
	return "auto";
}

static const char *sasl_name(enum ims_auth_mech mech)
{
	size_t i;

	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (mechs[i].mech == mech)
			return mechs[i].sasl;
	return "";
}

static int is_scram(enum ims_auth_mech m)
{
	return m == IMS_AUTH_SCRAM_SHA_256 || m == IMS_AUTH_SCRAM_SHA_1 ||
	       m == IMS_AUTH_SCRAM_SHA_256_PLUS || m == IMS_AUTH_SCRAM_SHA_1_PLUS;
}

static int is_plus(enum ims_auth_mech m)
{
	return m == IMS_AUTH_SCRAM_SHA_256_PLUS || m == IMS_AUTH_SCRAM_SHA_1_PLUS;
}

void ims_auth_init(struct ims_auth *a)
{
	memset(a, 0, sizeof(*a));
}

/* ---- secret buffers ---- */

static void buf_wipe(struct ims_buf *b)
{
	if (b->data != NULL)
		ims_wipe(b->data, b->cap);
	ims_buf_release(b);
}

static void str_wipe_free(char *s)
{
	if (s != NULL) {
		ims_wipe(s, strlen(s));
		free(s);
	}
}

/* ---- SCRAM ---- */

void ims__scram_init(struct ims__scram *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->hash = IMS_HASH_SHA256;
	sc->cb_flag = 'n';
	ims_buf_init(&sc->auth_message, 0);
}

void ims__scram_setup(struct ims__scram *sc, enum ims_hash hash, char cb_flag,
                      const unsigned char *cb, size_t cb_len)
{
	sc->hash = hash;
	sc->cb_flag = cb_flag;
	sc->cb_len = cb_flag == 'p' && cb_len <= sizeof(sc->cb) ? cb_len : 0;
	if (sc->cb_len != 0)
		memcpy(sc->cb, cb, sc->cb_len);
}

/* SASLprep (RFC 4013, unassigned code points allowed as for a query) of
 * s, a copy the caller wipes and frees; NULL when s holds what SASLprep
 * forbids (a control character, say) or memory is short. */
static char *saslprep(const char *s)
{
	char *out = NULL;
	int rc2 = 0;

	if (gsasl_saslprep(s, GSASL_ALLOW_UNASSIGNED, &out, &rc2) != GSASL_OK)
		return NULL;
	return out;
}

void ims__scram_release(struct ims__scram *sc)
{
	str_wipe_free(sc->gs2);
	str_wipe_free(sc->client_first_bare);
	str_wipe_free(sc->nonce);
	buf_wipe(&sc->auth_message);
	ims_wipe(sc->server_sig, sizeof(sc->server_sig));
	ims_wipe(sc->cb, sizeof(sc->cb));
	ims__scram_init(sc);
}

/* saslname: ',' -> "=2C", '=' -> "=3D". */
static ims_err saslname(struct ims_buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		ims_err e = *s == ','   ? ims_buf_puts(b, "=2C")
		            : *s == '=' ? ims_buf_puts(b, "=3D")
		                        : ims_buf_putc(b, *s);

		if (e != IMS_OK)
			return e;
	}
	return IMS_OK;
}

ims_err ims__scram_first(struct ims__scram *sc, const char *user, const char *authzid,
                         const char *nonce, struct ims_buf *out, struct ims_error *err)
{
	struct ims_buf b;
	unsigned char rnd[24];
	ims_err e = IMS_OK;
	char *puser = saslprep(user);

	if (puser == NULL)
		return ims_error_set(err, IMS_ERR_USAGE,
		                     "scram: the user name has a character SASLprep (RFC 4013) "
		                     "forbids; use --auth plain");
	ims_buf_init(&b, 0);
	if (nonce == NULL) {
		if (ims_random(rnd, sizeof(rnd)) != IMS_OK ||
		    ims_base64_encode(rnd, sizeof(rnd), &b) != IMS_OK) {
			buf_wipe(&b);
			str_wipe_free(puser);
			return ims_error_set(err, IMS_ERR_AUTH, "scram: no random nonce");
		}
		sc->nonce = ims_buf_take(&b, NULL);
	} else {
		sc->nonce = ims__strndup(nonce, strlen(nonce));
	}
	ims_buf_init(&b, 0);
	if (sc->nonce == NULL) {
		str_wipe_free(puser);
		return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
	}
	/* gs2 header: the channel binding flag, then the authzid */
	if (ims_buf_puts(&b, sc->cb_flag == 'p'   ? "p=tls-server-end-point,"
	                     : sc->cb_flag == 'y' ? "y,"
	                                          : "n,") != IMS_OK ||
	    (authzid != NULL && authzid[0] != '\0' &&
	     (ims_buf_puts(&b, "a=") != IMS_OK || saslname(&b, authzid) != IMS_OK)) ||
	    ims_buf_putc(&b, ',') != IMS_OK)
		e = IMS_ERR_NOMEM;
	if (e == IMS_OK)
		sc->gs2 = ims_buf_take(&b, NULL);
	ims_buf_init(&b, 0);
	if (e == IMS_OK &&
	    (ims_buf_puts(&b, "n=") != IMS_OK || saslname(&b, puser) != IMS_OK ||
	     ims_buf_puts(&b, ",r=") != IMS_OK || ims_buf_puts(&b, sc->nonce) != IMS_OK))
		e = IMS_ERR_NOMEM;
	if (e == IMS_OK)
		sc->client_first_bare = ims_buf_take(&b, NULL);
	buf_wipe(&b);
	str_wipe_free(puser);
	if (e != IMS_OK || sc->gs2 == NULL || sc->client_first_bare == NULL)
		return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
	if (ims_buf_puts(out, sc->gs2) != IMS_OK ||
	    ims_buf_puts(out, sc->client_first_bare) != IMS_OK)
		return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
	return IMS_OK;
}

/* The value of attribute a in a SCRAM message (a=value,...). */
static int scram_attr(const char *m, size_t n, char a, const char **v_r, size_t *len_r)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j < n && m[j] != ',')
			j++;
		if (j - i >= 2 && m[i] == a && m[i + 1] == '=') {
			*v_r = m + i + 2;
			*len_r = j - i - 2;
			return 1;
		}
		i = j + 1;
	}
	return 0;
}

#define SCRAM_MAX_ITERATIONS 10000000u

/* The checks of a server-first message; its nonce in r, rl and the
 * iteration count in *iter_r. */
static ims_err server_first(const struct ims__scram *sc, const char *sf, size_t n, const char **r_r,
                            size_t *rl_r, const char **salt_r, size_t *sl_r, unsigned long *iter_r,
                            struct ims_error *err)
{
	const char *r, *it;
	size_t rl, il, i;
	unsigned long iter = 0;

	if (n > 0 && sf[0] == 'm')
		return ims_error_set(err, IMS_ERR_AUTH,
		                     "scram: the server requires an unknown extension");
	if (memchr(sf, '\0', n) != NULL || !scram_attr(sf, n, 'r', &r, &rl) ||
	    !scram_attr(sf, n, 's', salt_r, sl_r) || !scram_attr(sf, n, 'i', &it, &il))
		return ims_error_set(err, IMS_ERR_AUTH, "scram: a malformed server-first message");
	if (sf[0] != 'r')
		return ims_error_set(err, IMS_ERR_AUTH, "scram: a malformed server-first message");
	if (rl <= strlen(sc->nonce) || strncmp(r, sc->nonce, strlen(sc->nonce)) != 0)
		return ims_error_set(
		    err, IMS_ERR_AUTH,
		    "scram: the server's nonce does not extend ours (possible impostor)");
	for (i = 0; i < rl; i++)
		if (r[i] <= 0x20 || r[i] >= 0x7f || r[i] == ',')
			return ims_error_set(err, IMS_ERR_AUTH, "scram: a malformed server nonce");
	if (il == 0 || il > 9)
		return ims_error_set(err, IMS_ERR_AUTH, "scram: a bad iteration count");
	for (i = 0; i < il; i++) {
		if (it[i] < '0' || it[i] > '9')
			return ims_error_set(err, IMS_ERR_AUTH, "scram: a bad iteration count");
		iter = iter * 10 + (unsigned long)(it[i] - '0');
	}
	if (iter == 0 || iter > SCRAM_MAX_ITERATIONS)
		return ims_error_set(err, IMS_ERR_AUTH,
		                     "scram: an iteration count out of range (%lu)", iter);
	*r_r = r, *rl_r = rl, *iter_r = iter;
	return IMS_OK;
}

/* client-final-without-proof: c=base64(gs2 header + channel binding data),r=nonce */
static ims_err final_without_proof(const struct ims__scram *sc, const char *r, size_t rl,
                                   struct ims_buf *msg)
{
	struct ims_buf cbind;
	ims_err e;

	ims_buf_init(&cbind, 0);
	e = ims_buf_puts(&cbind, sc->gs2);
	if (e == IMS_OK && sc->cb_flag == 'p')
		e = ims_buf_append(&cbind, sc->cb, sc->cb_len);
	if (e == IMS_OK)
		e = ims_buf_puts(msg, "c=");
	if (e == IMS_OK)
		e = ims_base64_encode(cbind.data, cbind.len, msg);
	if (e == IMS_OK)
		e = ims_buf_puts(msg, ",r=");
	if (e == IMS_OK)
		e = ims_buf_append(msg, r, rl);
	ims_buf_release(&cbind);
	return e;
}

ims_err ims__scram_final(struct ims__scram *sc, const char *password, const char *sf, size_t n,
                         struct ims_buf *out, struct ims_error *err)
{
	const char *r = NULL, *salt64 = NULL;
	size_t rl = 0, sl = 0, i, hl = ims_hash_len(sc->hash);
	struct ims_buf salt, msg;
	unsigned char salted[IMS_HASH_MAX], ckey[IMS_HASH_MAX], skey[IMS_HASH_MAX];
	unsigned char stored[IMS_HASH_MAX], csig[IMS_HASH_MAX], proof[IMS_HASH_MAX];
	unsigned long iter = 0;
	char *pw;
	ims_err e = IMS_OK;

	if (server_first(sc, sf, n, &r, &rl, &salt64, &sl, &iter, err) != IMS_OK)
		return err->code;
	ims_buf_init(&salt, IMS_CAP_SCRAM_SALT);
	ims_buf_init(&msg, 0);
	if (ims_base64_decode(salt64, sl, &salt) != IMS_OK || salt.len == 0) {
		ims_buf_release(&salt);
		return ims_error_set(err, IMS_ERR_AUTH, "scram: a malformed salt");
	}
	if ((pw = saslprep(password)) == NULL) {
		ims_buf_release(&salt);
		return ims_error_set(err, IMS_ERR_USAGE,
		                     "scram: the password has a character SASLprep (RFC 4013) "
		                     "forbids; use --auth plain");
	}
	sc->pw_prepped = strcmp(pw, password) != 0;
	if (ims_pbkdf2(sc->hash, pw, strlen(pw), salt.data, salt.len, (uint32_t)iter, salted, hl) !=
	        IMS_OK ||
	    ims_hmac(sc->hash, salted, hl, "Client Key", 10, ckey) != IMS_OK ||
	    ims_hash(sc->hash, ckey, hl, stored) != IMS_OK ||
	    ims_hmac(sc->hash, salted, hl, "Server Key", 10, skey) != IMS_OK)
		e = IMS_ERR_AUTH;
	str_wipe_free(pw);
	if (e == IMS_OK && final_without_proof(sc, r, rl, &msg) != IMS_OK)
		e = IMS_ERR_NOMEM;
	ims_buf_reset(&sc->auth_message);
	if (e == IMS_OK && (ims_buf_puts(&sc->auth_message, sc->client_first_bare) != IMS_OK ||
	                    ims_buf_putc(&sc->auth_message, ',') != IMS_OK ||
	                    ims_buf_append(&sc->auth_message, sf, n) != IMS_OK ||
	                    ims_buf_putc(&sc->auth_message, ',') != IMS_OK ||
	                    ims_buf_append(&sc->auth_message, msg.data, msg.len) != IMS_OK))
		e = IMS_ERR_NOMEM;
	if (e == IMS_OK && (ims_hmac(sc->hash, stored, hl, sc->auth_message.data,
	                             sc->auth_message.len, csig) != IMS_OK ||
	                    ims_hmac(sc->hash, skey, hl, sc->auth_message.data,
	                             sc->auth_message.len, sc->server_sig) != IMS_OK))
		e = IMS_ERR_AUTH;
	if (e == IMS_OK) {
		for (i = 0; i < hl; i++)
			proof[i] = ckey[i] ^ csig[i];
		if (ims_buf_append(out, msg.data, msg.len) != IMS_OK ||
		    ims_buf_puts(out, ",p=") != IMS_OK ||
		    ims_base64_encode(proof, hl, out) != IMS_OK)
			e = IMS_ERR_NOMEM;
	}
	ims_wipe(salted, sizeof(salted));
	ims_wipe(ckey, sizeof(ckey));
	ims_wipe(skey, sizeof(skey));
	ims_wipe(stored, sizeof(stored));
	ims_wipe(csig, sizeof(csig));
	ims_wipe(proof, sizeof(proof));
	buf_wipe(&msg);
	ims_buf_release(&salt);
	if (e != IMS_OK)
		return ims_error_set(err, e, "scram: cannot compute the proof");
	return IMS_OK;
}

ims_err ims__scram_verify(struct ims__scram *sc, const char *sfin, size_t n, struct ims_error *err)
{
	const char *v;
	size_t vl, i, hl = ims_hash_len(sc->hash);
	struct ims_buf sig;
	unsigned char diff = 0;

	if (scram_attr(sfin, n, 'e', &v, &vl)) {
		char w[200];
		char *t = ims__strndup(v, vl);

		ims__server_words(t != NULL ? t : "", w, sizeof(w));
		free(t);
		return ims_error_set(err, IMS_ERR_AUTH, "scram: the server refused: %s", w);
	}
	if (!scram_attr(sfin, n, 'v', &v, &vl))
		return ims_error_set(err, IMS_ERR_AUTH, "scram: a malformed server-final message");
	ims_buf_init(&sig, IMS_CAP_SCRAM_SIG);
	if (ims_base64_decode(v, vl, &sig) != IMS_OK || sig.len != hl) {
		ims_buf_release(&sig);
		return ims_error_set(err, IMS_ERR_AUTH, "scram: a malformed server signature");
	}
	for (i = 0; i < hl; i++)
		diff |= (unsigned char)(sig.data[i] ^ sc->server_sig[i]);
	ims_buf_release(&sig);
	if (diff != 0)
		return ims_error_set(err, IMS_ERR_AUTH,
		                     "scram: the server's signature is wrong: it does not know the "
		                     "password (possible impostor)");
	return IMS_OK;
}

/* ---- the SASL exchange ---- */

struct sasl {
	struct ims_session *s;
	const struct ims_auth *a;
	enum ims_auth_mech mech;
	int step;
	int sent_initial; /* the initial response went with the command */
	struct ims__scram sc;
	ims_err fail; /* our own verdict (server signature, bad challenge) */
	struct ims_error ferr;
	char server_err[300]; /* XOAUTH2/OAUTHBEARER error JSON, sanitised */
};

/* The initial client response (raw bytes) for the mechanism. */
static ims_err initial_response(struct sasl *x, struct ims_buf *out, struct ims_error *err)
{
	const struct ims_auth *a = x->a;
	const char *user = a->user != NULL ? a->user : "";
	ims_err e = IMS_OK;

	switch (x->mech) {
	case IMS_AUTH_PLAIN:
		if (a->authzid != NULL && (e = ims_buf_puts(out, a->authzid)) != IMS_OK)
			break;
		if ((e = ims_buf_putc(out, '\0')) != IMS_OK ||
		    (e = ims_buf_puts(out, user)) != IMS_OK ||
		    (e = ims_buf_putc(out, '\0')) != IMS_OK ||
		    (e = ims_buf_puts(out, a->password)) != IMS_OK)
			break;
		break;
	case IMS_AUTH_XOAUTH2:
		if ((e = ims_buf_puts(out, "user=")) != IMS_OK ||
		    (e = ims_buf_puts(out, user)) != IMS_OK ||
		    (e = ims_buf_puts(out, "\001auth=Bearer ")) != IMS_OK ||
		    (e = ims_buf_puts(out, a->token)) != IMS_OK ||
		    (e = ims_buf_puts(out, "\001\001")) != IMS_OK)
			break;
		break;
	case IMS_AUTH_OAUTHBEARER:
		if ((e = ims_buf_puts(out, "n,")) != IMS_OK)
			break;
		if (a->user != NULL && ((e = ims_buf_puts(out, "a=")) != IMS_OK ||
		                        (e = saslname(out, a->user)) != IMS_OK))
			break;
		if ((e = ims_buf_puts(out, ",\001")) != IMS_OK)
			break;
		if (a->host != NULL && (e = ims_buf_printf(out, "host=%s\001", a->host)) != IMS_OK)
			break;
		if (a->port != 0 && (e = ims_buf_printf(out, "port=%u\001", a->port)) != IMS_OK)
			break;
		if ((e = ims_buf_puts(out, "auth=Bearer ")) != IMS_OK ||
		    (e = ims_buf_puts(out, a->token)) != IMS_OK ||
		    (e = ims_buf_puts(out, "\001\001")) != IMS_OK)
			break;
		break;
	case IMS_AUTH_EXTERNAL:
		if (a->authzid != NULL)
			e = ims_buf_puts(out, a->authzid);
		break;
	case IMS_AUTH_SCRAM_SHA_256:
	case IMS_AUTH_SCRAM_SHA_1:
	case IMS_AUTH_SCRAM_SHA_256_PLUS:
	case IMS_AUTH_SCRAM_SHA_1_PLUS:
		return ims__scram_first(&x->sc, user, a->authzid, x->s->opts.insecure_test_nonce,
		                        out, err);
	default: break;
	}
	if (e != IMS_OK)
		return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
	return IMS_OK;
}

static ims_err send_b64(struct sasl *x, const void *p, size_t n, struct ims_error *err)
{
	struct ims_buf b;
	ims_err e;

	ims_buf_init(&b, 0);
	if (ims_base64_encode(p, n, &b) != IMS_OK) {
		buf_wipe(&b);
		return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
	}
	e = ims_session_send_line(x->s, b.data != NULL ? b.data : "", b.len, 1, err);
	buf_wipe(&b);
	return e;
}

/* Give up: tell the server with "*" (it answers BAD); our words win. */
static ims_err cancel(struct sasl *x, ims_err code, const struct ims_error *why,
                      struct ims_error *err)
{
	if (x->fail == IMS_OK) {
		x->fail = code;
		ims_error_copy(&x->ferr, why);
	}
	return ims_session_send_line(x->s, "*", 1, 0, err);
}

static ims_err on_continuation(void *ctx, const struct ims_response *r, struct ims_error *err)
{
	struct sasl *x = ctx;
	struct ims_buf in, out;
	struct ims_error why;
	ims_err e = IMS_OK;

	ims_buf_init(&in, IMS_CAP_SASL_LINE);
	ims_buf_init(&out, 0);
	ims_error_init(&why);
	if (x->fail != IMS_OK) {
		e = ims_session_send_line(x->s, "*", 1, 0, err);
		goto out;
	}
	if (ims_base64_decode(r->text, r->text_len, &in) != IMS_OK) {
		ims_error_set(&why, IMS_ERR_AUTH, "the server sent a challenge that is not base64");
		e = cancel(x, IMS_ERR_AUTH, &why, err);
		goto out;
	}
	switch (x->mech) {
	case IMS_AUTH_PLAIN:
	case IMS_AUTH_EXTERNAL:
	case IMS_AUTH_XOAUTH2:
	case IMS_AUTH_OAUTHBEARER:
		if (x->step == 0 && !x->sent_initial) {
			/* "+ " without SASL-IR: now the initial response */
			if (initial_response(x, &out, &why) != IMS_OK) {
				e = cancel(x, why.code, &why, err);
				break;
			}
			e = out.len != 0 ? send_b64(x, out.data, out.len, err)
			                 : ims_session_send_line(x->s, "", 0, 0, err);
			x->step = 1;
			break;
		}
		if (x->mech == IMS_AUTH_XOAUTH2 || x->mech == IMS_AUTH_OAUTHBEARER) {
			/* the error details (JSON); then the server says NO */
			ims__server_words(in.data != NULL ? in.data : "", x->server_err,
			                  sizeof(x->server_err));
			if (x->mech == IMS_AUTH_XOAUTH2)
				e = ims_session_send_line(x->s, "", 0, 0, err);
			else
				e = send_b64(x, "\001", 1, err);
			break;
		}
		ims_error_set(&why, IMS_ERR_AUTH, "the server sent an unexpected challenge");
		e = cancel(x, IMS_ERR_AUTH, &why, err);
		break;
	case IMS_AUTH_SCRAM_SHA_256:
	case IMS_AUTH_SCRAM_SHA_1:
	case IMS_AUTH_SCRAM_SHA_256_PLUS:
	case IMS_AUTH_SCRAM_SHA_1_PLUS:
		if (x->step == 0 && !x->sent_initial && in.len == 0) {
			if (initial_response(x, &out, &why) != IMS_OK) {
				e = cancel(x, why.code, &why, err);
				break;
			}
			e = send_b64(x, out.data, out.len, err);
			x->sent_initial = 1;
			break;
		}
		if (x->step == 0) {
			if (ims__scram_final(&x->sc, x->a->password, in.data != NULL ? in.data : "",
			                     in.len, &out, &why) != IMS_OK) {
				e = cancel(x, IMS_ERR_AUTH, &why, err);
				break;
			}
			e = send_b64(x, out.data, out.len, err);
			x->step = 1;
			break;
		}
		if (x->step == 1) {
			if (ims__scram_verify(&x->sc, in.data != NULL ? in.data : "", in.len,
			                      &why) != IMS_OK) {
				e = cancel(x, IMS_ERR_AUTH, &why, err);
				break;
			}
			e = ims_session_send_line(x->s, "", 0, 0, err);
			x->step = 2;
			break;
		}
		ims_error_set(&why, IMS_ERR_AUTH, "the server sent an unexpected challenge");
		e = cancel(x, IMS_ERR_AUTH, &why, err);
		break;
	default:
		ims_error_set(&why, IMS_ERR_AUTH, "unexpected challenge");
		e = cancel(x, IMS_ERR_AUTH, &why, err);
		break;
	}
out:
	buf_wipe(&in);
	buf_wipe(&out);
	return e;
}

/* ---- failure words ---- */

ims_err ims__auth_failed(struct ims_session *s, enum ims_auth_mech mech, const char *extra,
                         struct ims_error *err)
{
	char w[400];
	const char *why;

	ims__server_words(ims_session_last_text(s), w, sizeof(w));
	switch (ims_session_last_code(s)) {
	case IMS_CODE_AUTHENTICATIONFAILED:
		why = "authentication failed: wrong user name or password (or the account may not "
		      "use this mechanism)";
		break;
	case IMS_CODE_AUTHORIZATIONFAILED:
		why = "authenticated, but not allowed to act as the requested user "
		      "(AUTHORIZATIONFAILED)";
		break;
	case IMS_CODE_EXPIRED:
		why = "the password or account has expired (EXPIRED): renew it before logging in";
		break;
	case IMS_CODE_UNAVAILABLE:
		why = "the authentication service is temporarily unavailable (UNAVAILABLE): try "
		      "again later";
		break;
	case IMS_CODE_PRIVACYREQUIRED:
		why = "the server requires a protected connection for this (PRIVACYREQUIRED)";
		break;
	case IMS_CODE_CONTACTADMIN:
		why = "the account needs attention from the administrator (CONTACTADMIN)";
		break;
	default: why = "authentication failed"; break;
	}
	if (mech == IMS_AUTH_XOAUTH2 || mech == IMS_AUTH_OAUTHBEARER)
		why = "authentication failed: the access token was refused (expired, revoked, for "
		      "another user, or without the mail scope)";
	/* The server's words are labelled as such: they may say anything. */
	return ims_error_set(err, IMS_ERR_AUTH, "%s %s%s%s%s%s", ims_auth_mech_name(mech), why,
	                     w[0] ? "; the server said: " : "", w,
	                     extra != NULL && extra[0] ? "; details: " : "", extra ? extra : "");
}

/* ---- choosing ---- */

static int offered(const struct ims_session *s, enum ims_auth_mech m)
{
	char cap[40];

	if (m == IMS_AUTH_LOGIN)
		return !ims_session_has_cap(s, "LOGINDISABLED");
	snprintf(cap, sizeof(cap), "AUTH=%s", sasl_name(m));
	return ims_session_has_cap(s, cap);
}

static void offered_list(const struct ims_session *s, char *out, size_t cap)
{
	const char *const *caps;
	size_t n = ims_session_caps(s, &caps), i, len = 0;

	out[0] = '\0';
	for (i = 0; i < n && len + 1 < cap; i++)
		if (strncasecmp(caps[i], "AUTH=", 5) == 0)
			len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? " " : "",
			                        caps[i] + 5);
	if (!ims_session_has_cap(s, "LOGINDISABLED") && len + 1 < cap)
		snprintf(out + len, cap - len, "%sLOGIN command", len ? ", " : "");
}

static ims_err choose(struct ims_session *s, const struct ims_auth *a, enum ims_auth_mech *m_r,
                      struct ims_error *err)
{
	int has_pw = a->password != NULL, has_tok = a->token != NULL;
	enum ims_auth_mech m = a->mech;
	char list[300];

	if (m == IMS_AUTH_AUTO) {
		if (has_tok) {
			if (!s->caps_known || offered(s, IMS_AUTH_OAUTHBEARER))
				m = IMS_AUTH_OAUTHBEARER;
			else if (offered(s, IMS_AUTH_XOAUTH2))
				m = IMS_AUTH_XOAUTH2;
		} else if (has_pw) {
			if (!s->caps_known)
				m = IMS_AUTH_LOGIN;
			else if (offered(s, IMS_AUTH_SCRAM_SHA_256))
				m = IMS_AUTH_SCRAM_SHA_256;
			else if (offered(s, IMS_AUTH_SCRAM_SHA_1))
				m = IMS_AUTH_SCRAM_SHA_1;
			else if (offered(s, IMS_AUTH_PLAIN))
				m = IMS_AUTH_PLAIN;
			else if (offered(s, IMS_AUTH_LOGIN))
				m = IMS_AUTH_LOGIN;
		} else if (offered(s, IMS_AUTH_EXTERNAL)) {
			m = IMS_AUTH_EXTERNAL;
		} else {
			return ims_error_set(
			    err, IMS_ERR_USAGE,
			    "login: no password or token, and the server does not offer EXTERNAL");
		}
		if (m == IMS_AUTH_AUTO) {
			offered_list(s, list, sizeof(list));
			return ims_error_set(err, IMS_ERR_AUTH,
			                     "login: the server offers no mechanism usable with a "
			                     "%s (it offers: %s)",
			                     has_tok ? "token" : "password",
			                     list[0] ? list : "nothing");
		}
	} else if (m == IMS_AUTH_LOGIN && ims_session_has_cap(s, "LOGINDISABLED")) {
		return ims_error_set(
		    err, IMS_ERR_AUTH,
		    "login: the server does not allow the LOGIN command (LOGINDISABLED)");
	} else if (m != IMS_AUTH_LOGIN && s->caps_known && !offered(s, m)) {
		offered_list(s, list, sizeof(list));
		return ims_error_set(err, IMS_ERR_AUTH,
		                     "login: the server does not offer AUTH=%s (it offers: %s)",
		                     sasl_name(m), list[0] ? list : "nothing");
	}
	switch (m) {
	case IMS_AUTH_PLAIN:
	case IMS_AUTH_LOGIN:
	case IMS_AUTH_SCRAM_SHA_256:
	case IMS_AUTH_SCRAM_SHA_1:
	case IMS_AUTH_SCRAM_SHA_256_PLUS:
	case IMS_AUTH_SCRAM_SHA_1_PLUS:
		if (!has_pw || a->user == NULL)
			return ims_error_set(err, IMS_ERR_USAGE,
			                     "login: %s needs a user name and a password",
			                     ims_auth_mech_name(m));
		if (strlen(a->password) == 0 && m != IMS_AUTH_LOGIN)
			break;
		break;
	case IMS_AUTH_XOAUTH2:
	case IMS_AUTH_OAUTHBEARER:
		if (!has_tok || (m == IMS_AUTH_XOAUTH2 && a->user == NULL))
			return ims_error_set(err, IMS_ERR_USAGE,
			                     "login: %s needs a user name and a token",
			                     ims_auth_mech_name(m));
		break;
	default: break;
	}
	*m_r = m;
	return IMS_OK;
}

/* Strings that go into a SASL message must not hold NUL, and the PLAIN
 * separators make NUL in a password impossible anyway. */
static ims_err check_strings(const struct ims_auth *a, struct ims_error *err)
{
	const char *v[] = {a->user, a->authzid, a->password, a->token, a->host};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i] != NULL && (strchr(v[i], '\001') != NULL ||
		                     (i == 3 && (strchr(v[i], '\r') || strchr(v[i], '\n')))))
			return ims_error_set(err, IMS_ERR_USAGE,
			                     "login: a control character in the credentials");
	return IMS_OK;
}

/* ---- running the mechanism ---- */

static ims_err do_login_command(struct ims_session *s, const struct ims_auth *a,
                                struct ims_error *err)
{
	struct ims_cmd c;
	ims_err e;

	if (ims_session_cmd_begin(s, &c, "LOGIN", err) != IMS_OK) {
		ims_cmd_release(&c);
		return err->code;
	}
	if (ims_cmd_astring(&c, a->user, strlen(a->user)) != IMS_OK)
		goto bad;
	ims_cmd_secret(&c, 1);
	if (ims_cmd_astring(&c, a->password, strlen(a->password)) != IMS_OK)
		goto bad;
	ims_cmd_secret(&c, 0);
	e = ims__run(s, &c, NULL, err);
	return e;
bad:
	ims_error_copy(err, &c.err);
	ims_error_prefix(err, "login");
	ims_cmd_release(&c);
	return err->code;
}

static ims_err do_authenticate(struct ims_session *s, const struct ims_auth *a,
                               enum ims_auth_mech m, struct sasl *x, int *pending_r,
                               struct ims_error *err)
{
	struct ims_handler h;
	struct ims_cmd c;
	struct ims_buf ir, b64;
	char verb[64];
	unsigned id;
	ims_err e;
	int sasl_ir = ims_session_has_cap(s, "SASL-IR");

	memset(&h, 0, sizeof(h));
	h.continuation = on_continuation;
	h.ctx = x;
	ims_buf_init(&ir, 0);
	ims_buf_init(&b64, 0);
	snprintf(verb, sizeof(verb), "AUTHENTICATE %s", sasl_name(m));
	if (ims_session_cmd_begin(s, &c, verb, err) != IMS_OK) {
		ims_cmd_release(&c);
		return err->code;
	}
	if (sasl_ir) {
		e = initial_response(x, &ir, err);
		if (e == IMS_OK && ir.len != 0 &&
		    ims_base64_encode(ir.data, ir.len, &b64) != IMS_OK)
			e = ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
		if (e == IMS_OK) {
			ims_cmd_secret(&c, 1);
			if (ims_cmd_raw(&c, b64.len != 0 ? b64.data : "=") != IMS_OK)
				e = ims_error_copy(err, &c.err);
			x->sent_initial = 1;
		}
		buf_wipe(&ir);
		buf_wipe(&b64);
		if (e != IMS_OK) {
			ims_cmd_release(&c);
			return e;
		}
	}
	if (ims_cmd_end(&c) != IMS_OK) {
		ims_error_copy(err, &c.err);
		ims_cmd_release(&c);
		return err->code;
	}
	e = ims_session_submit(s, &c, &h, NULL, &id, err);
	ims_cmd_release(&c);
	if (e != IMS_OK)
		return e;
	if (s->opts.pipeline_login && is_scram(m)) {
		/* Once the server has proved it knows the password (step 2: its
		 * signature checked, our last, empty response sent), its tagged
		 * reply need not be waited for here. */
		struct ims__pending *p;

		while ((p = ims__find(s, id)) != NULL && !p->done && x->step < 2 &&
		       x->fail == IMS_OK)
			if (ims__pump(s, err) != IMS_OK)
				return s->broken;
		if (p != NULL && !p->done && x->step == 2 && x->fail == IMS_OK) {
			ims__background(s, id, IMS__BG_LOGIN);
			*pending_r = 1;
			return IMS_OK;
		}
	}
	return ims_session_wait(s, id, err);
}

/* SCRAM's hash and channel binding for mechanism m on this connection:
 * -PLUS binds to the certificate (tls-server-end-point); otherwise the gs2
 * flag says whether we could have ("y": we can, the server does not
 * offer -PLUS; a server that does and sees "y" knows the list was cut). */
static ims_err scram_setup(struct ims_session *s, enum ims_auth_mech m, struct ims__scram *sc,
                           struct ims_error *err)
{
	enum ims_hash h = m == IMS_AUTH_SCRAM_SHA_1 || m == IMS_AUTH_SCRAM_SHA_1_PLUS
	                      ? IMS_HASH_SHA1
	                      : IMS_HASH_SHA256;
	unsigned char cb[IMS_HASH_MAX];
	size_t len = 0;
	int have = ims_tls_channel_binding(s->stream, cb, sizeof(cb), &len) == IMS_OK;
	char plus[64];
	char flag;

	if (is_plus(m)) {
		if (!have)
			return ims_error_set(
			    err, IMS_ERR_AUTH,
			    "%s: this connection has no TLS channel binding to offer; "
			    "use --auth %s",
			    ims_auth_mech_name(m),
			    h == IMS_HASH_SHA1 ? "scram-sha-1" : "scram-sha-256");
		flag = 'p';
	} else {
		snprintf(plus, sizeof(plus), "AUTH=%s-PLUS", sasl_name(m));
		flag = have && !ims_session_has_cap(s, plus) ? 'y' : 'n';
	}
	ims__scram_setup(sc, h, flag, cb, len);
	ims_wipe(cb, sizeof(cb));
	return IMS_OK;
}

/* The words of a SCRAM refusal when SASLprep changed the password. */
static void prepped_hint(struct ims_error *err)
{
	char was[IMS_ERROR_MAX];

	memcpy(was, err->msg, sizeof(was));
	ims_error_set(err, err->code,
	              "%s; the password was normalised by SASLprep (RFC 4013) as SCRAM requires: "
	              "if the server does not normalise it, use --auth plain",
	              was);
}

ims_err ims_session_login(struct ims_session *s, const struct ims_auth *a, struct ims_error *err)
{
	enum ims_auth_mech m = IMS_AUTH_AUTO;
	struct sasl x;
	int64_t old;
	unsigned gen;
	int pending = 0;
	ims_err e;

	if (ims__check(s, err) != IMS_OK)
		return s->broken;
	if (s->state != IMS_STATE_NOT_AUTHENTICATED)
		return ims_error_set(err, IMS_ERR_USAGE, "login: the session is %s",
		                     ims_state_name(s->state));
	if (check_strings(a, err) != IMS_OK)
		return err->code;
	e = choose(s, a, &m, err);
	if (e != IMS_OK)
		return e;
	memset(&x, 0, sizeof(x));
	x.s = s;
	x.a = a;
	x.mech = m;
	ims__scram_init(&x.sc);
	ims_error_init(&x.ferr);
	if (is_scram(m) && scram_setup(s, m, &x.sc, err) != IMS_OK) {
		ims__scram_release(&x.sc);
		return err->code;
	}
	old = ims__deadline(s, s->opts.login_timeout_ms);
	gen = ims__caps_generation(s);
	if (m == IMS_AUTH_LOGIN)
		e = do_login_command(s, a, err);
	else
		e = do_authenticate(s, a, m, &x, &pending, err);
	if (x.fail != IMS_OK && e != IMS_OK && s->broken == IMS_OK)
		e = ims_error_copy(err, &x.ferr);
	else if (x.fail != IMS_OK && e == IMS_OK)
		e = ims_error_copy(err, &x.ferr); /* OK despite a bad server signature */
	else if (e == IMS_ERR_NO) {
		e = ims__auth_failed(s, m, x.server_err, err);
		if (is_scram(m) && x.sc.pw_prepped)
			prepped_hint(err);
	}
	if (is_scram(m) && e == IMS_OK && x.step < 2)
		e = ims_error_set(
		    err, IMS_ERR_AUTH,
		    "scram: the server said OK without proving it knows the password");
	ims__scram_release(&x.sc);
	ims_wipe(&x, sizeof(x));
	if (e == IMS_OK) {
		s->mech = m;
		ims__set_state(s, IMS_STATE_AUTHENTICATED);
		if (pending) {
			/* the capabilities come with the reply, or are asked for
			 * when first needed (ims__settle) */
			s->bg_login_mech = m;
			s->bg_login_caps_gen = gen;
		} else if (ims__caps_generation(s) == gen) {
			ims_session_forget_capabilities(s);
		}
		e = ims__after_login(s, err);
	}
	ims__deadline_restore(s, old);
	return e;
}

/* ---- after login ---- */

static ims_err id_untagged(void *ctx, const struct ims_response *r, int *taken_r,
                           struct ims_error *err)
{
	struct ims_session *s = ctx;
	size_t i;

	(void)err;
	if (r->kind != IMS_DATA_ID)
		return IMS_OK;
	*taken_r = 1;
	for (i = 0; i < s->n_sid; i++) {
		free((char *)s->sid[i].name);
		free((char *)s->sid[i].value);
	}
	free(s->sid);
	s->n_sid = 0;
	s->sid = calloc(r->u.id.n + 1, sizeof(*s->sid));
	if (s->sid == NULL)
		return IMS_ERR_NOMEM;
	for (i = 0; i < r->u.id.n; i++) {
		s->sid[i].name = ims__strndup(r->u.id.v[i].name, strlen(r->u.id.v[i].name));
		s->sid[i].value = r->u.id.v[i].value != NULL
		                      ? ims__strndup(r->u.id.v[i].value, strlen(r->u.id.v[i].value))
		                      : NULL;
		s->n_sid++;
	}
	return IMS_OK;
}

/* ENABLE UTF8=ACCEPT and ID go out in the background: the next command
 * follows in the same flight, and whatever depends on their answers
 * (ims_session_utf8(), ims_session_server_id()) reads them first.  While
 * the login's own reply is still on its way the capabilities after login
 * are not known: ENABLE is then sent where the server knows ENABLE
 * (RFC 5161: a server ignores what it does not support, and says ENABLED
 * only for what it turned on). */
ims_err ims__after_login(struct ims_session *s, struct ims_error *err)
{
	struct ims_cmd c;
	struct ims_error ign;
	struct ims_handler h;
	unsigned id;
	int has_enable, want_utf8;
	ims_err e;

	if (!s->caps_known && !s->bg_login) {
		e = ims_session_capability(s, &ign);
		if (e != IMS_OK && e != IMS_ERR_NO)
			return ims_error_copy(err, &ign);
	}
	has_enable = ims__cap_now(s, "ENABLE") || ims__cap_now(s, "IMAP4rev2");
	want_utf8 = s->bg_login ? has_enable : has_enable && ims__cap_now(s, "UTF8=ACCEPT");
	if (!s->opts.no_enable_utf8 && want_utf8) {
		if (ims_session_cmd_begin(s, &c, "ENABLE", err) != IMS_OK ||
		    ims_cmd_atom(&c, "UTF8=ACCEPT") != IMS_OK || ims_cmd_end(&c) != IMS_OK ||
		    ims_session_submit(s, &c, NULL, NULL, &id, err) != IMS_OK) {
			ims_cmd_release(&c);
			return ims__check(s, err) != IMS_OK ? s->broken : IMS_OK;
		}
		ims_cmd_release(&c);
		ims__background(s, id, IMS__BG_ENABLE);
	}
	if (s->opts.id_name != NULL && ims__cap_now(s, "ID")) {
		memset(&h, 0, sizeof(h));
		h.untagged = id_untagged;
		h.ctx = s;
		e = ims_session_cmd_begin(s, &c, "ID", err);
		/* ("name" "imapsh" "version" "x") */
		if (e == IMS_OK &&
		    (ims_cmd_list_begin(&c) != IMS_OK || ims_cmd_string(&c, "name", 4) != IMS_OK ||
		     ims_cmd_string(&c, s->opts.id_name, strlen(s->opts.id_name)) != IMS_OK ||
		     (s->opts.id_version != NULL &&
		      (ims_cmd_string(&c, "version", 7) != IMS_OK ||
		       ims_cmd_string(&c, s->opts.id_version, strlen(s->opts.id_version)) !=
		           IMS_OK)) ||
		     ims_cmd_list_end(&c) != IMS_OK || ims_cmd_end(&c) != IMS_OK))
			e = ims_error_copy(err, &c.err);
		if (e == IMS_OK && ims_session_submit(s, &c, &h, NULL, &id, err) == IMS_OK) {
			struct ims__pending *p = ims__find(s, id);

			ims__background(s, id, IMS__BG_ID);
			if (p != NULL)
				p->h = h; /* its context is the session: it stays */
		}
		ims_cmd_release(&c);
		if (ims__check(s, err) != IMS_OK)
			return s->broken;
	}
	return IMS_OK;
}
