/* PKCE, state, presets, the authorization URL and the loopback request
 * line (oauth.h).  The JSON answers are read in oauth_json.c. */
#include "imapsh/oauth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "imapsh/crypto.h"
#include "imapsh/sanitize.h"
#include "imapsh/textutil.h"

void ims_oauth_b64url(const void *p, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *s = p;
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		out[o++] = a[s[i] >> 2];
		out[o++] = a[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		out[o++] = a[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
		out[o++] = a[s[i + 2] & 63];
	}
	if (n - i == 1) {
		out[o++] = a[s[i] >> 2];
		out[o++] = a[(s[i] & 3) << 4];
	} else if (n - i == 2) {
		out[o++] = a[s[i] >> 2];
		out[o++] = a[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		out[o++] = a[(s[i + 1] & 15) << 2];
	}
	out[o] = '\0';
}

ims_err ims_oauth_pkce_from(const unsigned char rnd[IMS_OAUTH_PKCE_BYTES],
                            char verifier[IMS_OAUTH_B64_43], char challenge[IMS_OAUTH_B64_43])
{
	unsigned char h[IMS_SHA256_LEN];
	ims_err e;

	ims_oauth_b64url(rnd, IMS_OAUTH_PKCE_BYTES, verifier);
	e = ims_sha256(verifier, strlen(verifier), h);
	if (e == IMS_OK)
		ims_oauth_b64url(h, sizeof(h), challenge);
	ims_wipe(h, sizeof(h));
	return e;
}

ims_err ims_oauth_pkce_new(char verifier[IMS_OAUTH_B64_43], char challenge[IMS_OAUTH_B64_43])
{
	unsigned char rnd[IMS_OAUTH_PKCE_BYTES];
	ims_err e = ims_random(rnd, sizeof(rnd));

	if (e == IMS_OK)
		e = ims_oauth_pkce_from(rnd, verifier, challenge);
	ims_wipe(rnd, sizeof(rnd));
	return e;
}

ims_err ims_oauth_state_new(char state[IMS_OAUTH_STATE_LEN])
{
	unsigned char rnd[16];
	ims_err e = ims_random(rnd, sizeof(rnd));

	if (e == IMS_OK)
		ims_oauth_b64url(rnd, sizeof(rnd), state);
	return e;
}

/* ---- providers ---------------------------------------------------------------- */

static const struct ims_oauth_provider providers[] = {
    {"google", "https://accounts.google.com/o/oauth2/v2/auth",
     "https://oauth2.googleapis.com/token", "https://oauth2.googleapis.com/device/code",
     "https://oauth2.googleapis.com/revoke", "https://mail.google.com/", "127.0.0.1"},
    {"microsoft", "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
     "https://login.microsoftonline.com/common/oauth2/v2.0/token",
     "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode", NULL,
     "https://outlook.office.com/IMAP.AccessAsUser.All offline_access", "localhost"},
};

const struct ims_oauth_provider *ims_oauth_provider_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(providers) / sizeof(providers[0]); i++)
		if (strcasecmp(providers[i].name, name) == 0)
			return &providers[i];
	return NULL;
}

/* ---- the authorization URL --------------------------------------------------- */

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

ims_err ims_oauth_pct_encode(const char *s, struct ims_buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	ims_err e = IMS_OK;

	for (; *s != '\0' && e == IMS_OK; s++) {
		unsigned char c = (unsigned char)*s;

		if (unreserved(c)) {
			e = ims_buf_putc(out, (char)c);
		} else {
			char t[3] = {'%', hex[c >> 4], hex[c & 15]};

			e = ims_buf_append(out, t, 3);
		}
	}
	return e;
}

static ims_err param(struct ims_buf *out, const char *key, const char *value)
{
	ims_err e;

	if (value == NULL || value[0] == '\0')
		return IMS_OK;
	e = ims_buf_printf(out, "&%s=", key);
	if (e == IMS_OK)
		e = ims_oauth_pct_encode(value, out);
	return e;
}

ims_err ims_oauth_authorize_url(const struct ims_oauth_authz *a, struct ims_buf *out,
                                struct ims_error *err)
{
	size_t i;
	ims_err e;

	if (a->authorize_url == NULL || strncasecmp(a->authorize_url, "https://", 8) != 0)
		return ims_error_set(err, IMS_ERR_USAGE,
		                     "the authorization endpoint must be an https:// URL");
	for (i = 0; a->authorize_url[i] != '\0'; i++) {
		unsigned char c = (unsigned char)a->authorize_url[i];

		if (c <= ' ' || c >= 0x7f || c == '#')
			return ims_error_set(err, IMS_ERR_USAGE,
			                     "the authorization endpoint holds a space, a control "
			                     "character, a '#' or a non-ASCII byte");
	}
	if (a->client_id == NULL || a->client_id[0] == '\0')
		return ims_error_set(err, IMS_ERR_USAGE, "no client id");
	e = ims_buf_puts(out, a->authorize_url);
	if (e == IMS_OK)
		e = ims_buf_puts(out, strchr(a->authorize_url, '?') != NULL ? "&" : "?");
	if (e == IMS_OK)
		e = ims_buf_puts(out, "response_type=code");
	if (e == IMS_OK)
		e = param(out, "client_id", a->client_id);
	if (e == IMS_OK)
		e = param(out, "redirect_uri", a->redirect_uri);
	if (e == IMS_OK)
		e = param(out, "scope", a->scope);
	if (e == IMS_OK)
		e = param(out, "state", a->state);
	if (e == IMS_OK)
		e = param(out, "code_challenge", a->challenge);
	if (e == IMS_OK && a->challenge != NULL)
		e = ims_buf_puts(out, "&code_challenge_method=S256");
	if (e == IMS_OK)
		e = param(out, "login_hint", a->login_hint);
	if (e != IMS_OK)
		return ims_error_set(err, e, "the authorization URL: out of memory");
	return IMS_OK;
}

/* ---- the loopback request line ----------------------------------------------- */

/* Percent-decode s[0..n) ('+' is a space, as a form is written) into
 * out[0..cap); -1 when malformed, too long, or holding a NUL (%00). */
static long pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int h, l;

			if (i + 2 >= n)
				return -1;
			h = ims_hex_digit((unsigned char)s[i + 1]);
			l = ims_hex_digit((unsigned char)s[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			c = h * 16 + l;
			if (c == 0) /* it would cut the value short: "S%00x" read as "S" */
				return -1;
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (long)o;
}

static void say(char *why, size_t n, const char *s)
{
	if (n > 0)
		snprintf(why, n, "%s", s);
}

static int printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

static enum ims_oauth_redirect redirect_parse(const char *line, size_t len, const char *path,
                                              const char *state, char *code, size_t code_n,
                                              char *why, size_t why_n)
{
	const char *target, *sp, *q, *end;
	size_t plen = strlen(path);
	char got_state[128], err_v[IMS_OAUTH_ERROR_MAX], desc[256];
	int have_code = 0, have_state = 0, have_error = 0, have_desc = 0;

	if (code_n > 0)
		code[0] = '\0';
	say(why, why_n, "");
	if (len < 4 || memcmp(line, "GET ", 4) != 0) {
		say(why, why_n, "not a GET request");
		return IMS_OAUTH_REDIRECT_MALFORMED;
	}
	target = line + 4;
	end = line + len;
	sp = memchr(target, ' ', (size_t)(end - target));
	if (sp == NULL || sp == target || (size_t)(end - sp) != 9 ||
	    (memcmp(sp, " HTTP/1.1", 9) != 0 && memcmp(sp, " HTTP/1.0", 9) != 0)) {
		say(why, why_n, "not an HTTP/1.x request line");
		return IMS_OAUTH_REDIRECT_MALFORMED;
	}
	{
		const char *p;

		for (p = target; p < sp; p++)
			if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e) {
				say(why, why_n,
				    "a control character or a non-ASCII byte in the "
				    "request");
				return IMS_OAUTH_REDIRECT_MALFORMED;
			}
	}
	q = memchr(target, '?', (size_t)(sp - target));
	if ((size_t)((q != NULL ? q : sp) - target) != plen || memcmp(target, path, plen) != 0) {
		say(why, why_n, "another path");
		return IMS_OAUTH_REDIRECT_NOT_OURS;
	}
	if (q == NULL) {
		say(why, why_n, "no query: neither a code nor an error");
		return IMS_OAUTH_REDIRECT_MALFORMED;
	}
	got_state[0] = err_v[0] = desc[0] = '\0';
	q++;
	while (q < sp) {
		const char *amp = memchr(q, '&', (size_t)(sp - q));
		const char *pe = amp != NULL ? amp : sp;
		const char *eq = memchr(q, '=', (size_t)(pe - q));
		size_t klen;
		char *dst = NULL;
		size_t cap = 0;
		int *seen = NULL;

		if (eq == NULL) {
			say(why, why_n, "a query parameter without '='");
			return IMS_OAUTH_REDIRECT_MALFORMED;
		}
		klen = (size_t)(eq - q);
		if (klen == 4 && memcmp(q, "code", 4) == 0)
			dst = code, cap = code_n, seen = &have_code;
		else if (klen == 5 && memcmp(q, "state", 5) == 0)
			dst = got_state, cap = sizeof(got_state), seen = &have_state;
		else if (klen == 5 && memcmp(q, "error", 5) == 0)
			dst = err_v, cap = sizeof(err_v), seen = &have_error;
		else if (klen == 17 && memcmp(q, "error_description", 17) == 0)
			dst = desc, cap = sizeof(desc), seen = &have_desc;
		if (seen != NULL) {
			if (*seen) {
				say(why, why_n, "a query parameter given twice");
				return IMS_OAUTH_REDIRECT_MALFORMED;
			}
			*seen = 1;
			if (pct_decode(eq + 1, (size_t)(pe - eq - 1), dst, cap) < 0) {
				if (code_n > 0)
					code[0] = '\0';
				say(why, why_n, "a query parameter badly encoded or too long");
				return IMS_OAUTH_REDIRECT_MALFORMED;
			}
		}
		q = amp != NULL ? amp + 1 : sp;
	}
	if (!have_state || strcmp(got_state, state) != 0) {
		if (code_n > 0)
			ims_wipe(code, code_n);
		say(why, why_n,
		    have_state ? "the state does not match this login's: the redirect belongs to "
		                 "another request"
		               : "the redirect carries no state");
		return IMS_OAUTH_REDIRECT_BAD_STATE;
	}
	if (have_error) {
		char se[IMS_OAUTH_ERROR_MAX], sd[256];

		if (code_n > 0)
			ims_wipe(code, code_n);
		ims_sanitize_fixed(err_v, strlen(err_v), se, sizeof(se));
		if (se[0] == '\0')
			snprintf(se, sizeof(se), "(an empty error)");
		ims_sanitize_fixed(desc, strlen(desc), sd, sizeof(sd));
		if (why_n > 0)
			snprintf(why, why_n, "%s%s%.200s", se, have_desc ? ": " : "",
			         have_desc ? sd : "");
		return IMS_OAUTH_REDIRECT_DENIED;
	}
	if (!have_code || code[0] == '\0' || !printable(code)) {
		if (code_n > 0)
			ims_wipe(code, code_n);
		say(why, why_n, "no usable code in the redirect");
		return IMS_OAUTH_REDIRECT_MALFORMED;
	}
	return IMS_OAUTH_REDIRECT_CODE;
}

enum ims_oauth_redirect ims_oauth_redirect_parse(const char *line, size_t len, const char *path,
                                                 const char *state, char *code, size_t code_n,
                                                 char *why, size_t why_n)
{
	enum ims_oauth_redirect r =
	    redirect_parse(line, len, path, state, code, code_n, why, why_n);

	/* A refusal leaves no code behind, whole or in part. */
	if (r != IMS_OAUTH_REDIRECT_CODE && code_n > 0)
		ims_wipe(code, code_n);
	return r;
}

int ims_oauth_redirect_host_ok(const char *host, unsigned port)
{
	static const char *const names[] = {"127.0.0.1", "localhost", "[::1]"};
	char want[64];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "%s:%u", names[i], port);
		if (strcasecmp(host, want) == 0)
			return 1;
	}
	return 0;
}
