/* The JSON documents of OAuth (oauth.h): the token endpoint's answer, the
 * device authorization answer and the saved tokens, read with jansson. */
#include <jansson.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imapsh/oauth.h"
#include "imapsh/sanitize.h"

static void wipe_free(char **p)
{
	if (*p != NULL) {
		ims_wipe(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

void ims_oauth_token_init(struct ims_oauth_token *t)
{
	memset(t, 0, sizeof(*t));
	t->expires_in = -1;
}

void ims_oauth_token_release(struct ims_oauth_token *t)
{
	wipe_free(&t->access_token);
	wipe_free(&t->refresh_token);
	ims_oauth_token_init(t);
}

void ims_oauth_device_init(struct ims_oauth_device *d)
{
	memset(d, 0, sizeof(*d));
	d->interval = 5;
}

void ims_oauth_device_release(struct ims_oauth_device *d)
{
	wipe_free(&d->device_code);
	ims_oauth_device_init(d);
}

void ims_oauth_saved_init(struct ims_oauth_saved *s)
{
	memset(s, 0, sizeof(*s));
}

void ims_oauth_saved_release(struct ims_oauth_saved *s)
{
	wipe_free(&s->refresh_token);
	wipe_free(&s->access_token);
	ims_oauth_saved_init(s);
}

/* jansson copies every string it reads or is given (tokens too): its
 * memory is wiped when freed. */
static void wiping_free(void *p)
{
	if (p != NULL) {
		ims_wipe(p, malloc_usable_size(p));
		free(p);
	}
}

static void wipe_jansson_memory(void)
{
	static int done;

	if (!done) {
		json_set_alloc_funcs(malloc, wiping_free);
		done = 1;
	}
}

/* Parse json[0..len) into an object; words name what (never the text). */
static json_t *load_object(const char *json, size_t len, const char *what, ims_err code,
                           struct ims_error *err)
{
	json_error_t je;
	json_t *root;

	wipe_jansson_memory();
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);

	if (root == NULL) {
		ims_error_set(err, code, "%s is not JSON (line %d, column %d)", what, je.line,
		              je.column);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		ims_error_set(err, code, "%s is JSON but not an object", what);
		return NULL;
	}
	return root;
}

/* A member that must be a string when present: 1 found, 0 absent, -1 of
 * another type. */
static int get_str(json_t *o, const char *key, const char **v_r, size_t *len_r)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*v_r = json_string_value(v);
	*len_r = json_string_length(v);
	return 1;
}

/* A count of seconds: an integer, or a string of digits (older Azure AD
 * endpoints send "3599").  1 found, 0 absent, -1 bad. */
static int get_secs(json_t *o, const char *key, long long *v_r)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		if (i < 0 || i > 100LL * 365 * 86400)
			return -1;
		*v_r = (long long)i;
		return 1;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v), i;
		long long x = 0;

		if (n == 0 || n > 10)
			return -1;
		for (i = 0; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			x = x * 10 + (s[i] - '0');
		}
		if (x > 100LL * 365 * 86400)
			return -1;
		*v_r = x;
		return 1;
	}
	return -1;
}

/* A token: printable ASCII, 1..IMS_OAUTH_TOKEN_MAX bytes. */
static int token_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > IMS_OAUTH_TOKEN_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

static char *dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* "AADSTS70000: ..." anywhere in the description: the number. */
static unsigned long aadsts_of(const char *s)
{
	const char *p = strstr(s, "AADSTS");
	unsigned long v = 0;
	int digits = 0;

	if (p == NULL)
		return 0;
	for (p += 6; *p >= '0' && *p <= '9' && digits < 9; p++, digits++)
		v = v * 10 + (unsigned long)(*p - '0');
	return digits > 0 ? v : 0;
}

/* Read the error members (RFC 6749 5.2) into t; 0 when the types are wrong. */
static int read_error(json_t *o, struct ims_oauth_token *t)
{
	const char *s;
	size_t n;
	int r = get_str(o, "error", &s, &n);

	if (r < 0)
		return 0;
	if (r > 0) {
		ims_sanitize_fixed(s, n, t->error, sizeof(t->error));
		if (t->error[0] == '\0')
			snprintf(t->error, sizeof(t->error), "(empty)");
	}
	r = get_str(o, "error_description", &s, &n);
	if (r < 0)
		return 0;
	if (r > 0) {
		ims_sanitize_fixed(s, n, t->error_description, sizeof(t->error_description));
		t->aadsts = aadsts_of(t->error_description);
	}
	return 1;
}

ims_err ims_oauth_token_parse(const char *json, size_t len, struct ims_oauth_token *t,
                              struct ims_error *err)
{
	static const char what[] = "the token endpoint's answer";
	json_t *o;
	const char *s;
	size_t n;
	int r;
	ims_err e = IMS_OK;

	ims_oauth_token_release(t);
	o = load_object(json, len, what, IMS_ERR_PROTOCOL, err);
	if (o == NULL)
		return IMS_ERR_PROTOCOL;
	if (!read_error(o, t)) {
		e = ims_error_set(err, IMS_ERR_PROTOCOL,
		                  "%s: error or error_description is not "
		                  "a string",
		                  what);
		goto out;
	}
	if (t->error[0] != '\0')
		goto out; /* an error answer: the rest does not matter */
	r = get_str(o, "access_token", &s, &n);
	if (r <= 0 || !token_ok(s, n)) {
		e = ims_error_set(err, IMS_ERR_PROTOCOL,
		                  r == 0 ? "%s holds neither an access_token nor an error"
		                         : "%s: the access_token is not a token (a string of "
		                           "printable ASCII, at most 16384 bytes)",
		                  what);
		goto out;
	}
	if ((t->access_token = dup_n(s, n)) == NULL) {
		e = ims_error_nomem(err);
		goto out;
	}
	r = get_str(o, "refresh_token", &s, &n);
	if (r < 0 || (r > 0 && !token_ok(s, n))) {
		e = ims_error_set(err, IMS_ERR_PROTOCOL, "%s: the refresh_token is not a token",
		                  what);
		goto out;
	}
	if (r > 0 && (t->refresh_token = dup_n(s, n)) == NULL) {
		e = ims_error_nomem(err);
		goto out;
	}
	r = get_str(o, "token_type", &s, &n);
	if (r < 0) {
		e = ims_error_set(err, IMS_ERR_PROTOCOL, "%s: token_type is not a string", what);
		goto out;
	}
	if (r > 0)
		ims_sanitize_fixed(s, n, t->token_type, sizeof(t->token_type));
	r = get_str(o, "scope", &s, &n);
	if (r < 0) {
		e = ims_error_set(err, IMS_ERR_PROTOCOL, "%s: scope is not a string", what);
		goto out;
	}
	if (r > 0)
		ims_sanitize_fixed(s, n, t->scope, sizeof(t->scope));
	if (get_secs(o, "expires_in", &t->expires_in) < 0) {
		e = ims_error_set(err, IMS_ERR_PROTOCOL,
		                  "%s: expires_in is not a number of seconds", what);
		goto out;
	}
out:
	json_decref(o);
	if (e != IMS_OK)
		ims_oauth_token_release(t);
	return e;
}

/* ---- words ------------------------------------------------------------------------ */

static const struct {
	unsigned long code;
	const char *meaning;
} aadsts[] = {
    {16000, "the account is not in the tenant or needs choosing again"},
    {50011, "the redirect URI does not match the app registration's (add http://localhost "
            "under Mobile and desktop applications)"},
    {50020, "the account does not exist in this tenant"},
    {50034, "the account does not exist in this directory"},
    {50053, "the account is locked after too many sign-in attempts"},
    {50055, "the password has expired"},
    {50057, "the account is disabled"},
    {50058, "no user is signed in (silent sign-in failed)"},
    {50059, "no tenant found for this request"},
    {50076, "multi-factor authentication is required"},
    {50079, "the user must enrol in multi-factor authentication"},
    {50126, "the user name or password is wrong"},
    {50173, "the grant has expired because the password changed or the user signed out "
            "everywhere"},
    {53003, "access is blocked by a Conditional Access policy"},
    {65001, "the user or an administrator has not consented to the app"},
    {65004, "the user declined consent"},
    {70000, "the grant is invalid: expired, revoked, or issued for other scopes"},
    {70008, "the code or refresh token has expired"},
    {70011, "the scope is invalid for this app"},
    {70016, "the user has not completed the device sign-in yet"},
    {90014, "a required field is missing from the request"},
    {500011, "the resource (Exchange Online) was not found in the tenant"},
    {700016, "the client id is not an app registered in this directory"},
    {700082, "the refresh token has expired after 90 days without use"},
    {700084, "the refresh token of a single-page app has expired"},
    {7000215, "the client secret is wrong"},
    {7000218, "the app is not a public client: turn on 'Allow public client flows' in its "
              "registration, or give a secret with oauth-client-secret-command"},
};

const char *ims_oauth_aadsts_meaning(unsigned long code)
{
	size_t i;

	for (i = 0; i < sizeof(aadsts) / sizeof(aadsts[0]); i++)
		if (aadsts[i].code == code)
			return aadsts[i].meaning;
	return NULL;
}

void ims_oauth_error_words(const struct ims_oauth_token *t, const char *provider, char *out,
                           size_t n)
{
	const char *e = t->error;
	const char *next = "";
	const char *what;
	char aad[256] = "";
	int google = provider != NULL && strcmp(provider, "google") == 0;

	if (strcmp(e, "invalid_grant") == 0) {
		what = "the grant was refused (invalid_grant): the refresh token or code was "
		       "revoked, has expired, or was issued to another client";
		next = google ? "; Google expires refresh tokens after 7 days while the app's "
		                "consent screen is in \"Testing\" (publish it to keep them); run "
		                "'imapsh oauth login'"
		              : "; run 'imapsh oauth login'";
	} else if (strcmp(e, "consent_required") == 0 || strcmp(e, "interaction_required") == 0) {
		what = "the account has not consented to this app (consent required)";
		next = "; run 'imapsh oauth login' and accept the access asked for, or ask an "
		       "administrator to consent for the organisation";
	} else if (strcmp(e, "invalid_scope") == 0) {
		what = "the scope is wrong or not allowed for this app (invalid_scope)";
		next = "; check oauth-scope (Google: https://mail.google.com/, Microsoft: "
		       "https://outlook.office.com/IMAP.AccessAsUser.All offline_access)";
	} else if (strcmp(e, "invalid_client") == 0 || strcmp(e, "unauthorized_client") == 0) {
		what = "the client was refused (a wrong oauth-client-id or client secret)";
		next = "; check oauth-client-id and oauth-client-secret-command";
	} else if (strcmp(e, "access_denied") == 0) {
		what = "access was denied (the user declined, or the app may not be used by this "
		       "account)";
		next = "; run 'imapsh oauth login' again and allow access (Google: add the account "
		       "as a test user of an app in \"Testing\")";
	} else if (strcmp(e, "expired_token") == 0) {
		what = "the device code expired before the sign-in was completed";
		next = "; run 'imapsh oauth login --device' again";
	} else if (strcmp(e, "invalid_request") == 0) {
		what = "the server refused the request as malformed (invalid_request)";
		next = "; check the endpoints (oauth-token-url...) and oauth-client-id";
	} else {
		what = "the server refused";
	}
	if (t->aadsts != 0) {
		const char *m = ims_oauth_aadsts_meaning(t->aadsts);

		snprintf(aad, sizeof(aad), " [AADSTS%lu: %s]", t->aadsts,
		         m != NULL ? m : "see the description");
		if (t->aadsts == 65001 || t->aadsts == 65004)
			what = "the account has not consented to this app (consent required)";
	}
	snprintf(out, n, "%s%s%s%s%s%s%s", what,
	         strcmp(what, "the server refused") == 0 ? " (" : "",
	         strcmp(what, "the server refused") == 0 ? e : "",
	         strcmp(what, "the server refused") == 0 ? ")" : "", aad,
	         t->aadsts == 0 && t->error_description[0] != '\0' ? ": " : "",
	         t->aadsts == 0 ? t->error_description : "");
	if (strlen(out) + strlen(next) < n)
		strcat(out, next);
}

/* ---- the device authorization answer ------------------------------------------- */

static int https_text(const char *s, size_t n)
{
	size_t i;

	if (n < 9 || strncmp(s, "https://", 8) != 0)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

ims_err ims_oauth_device_parse(const char *json, size_t len, struct ims_oauth_device *d,
                               struct ims_error *err)
{
	static const char what[] = "the device authorization answer";
	struct ims_oauth_token t;
	json_t *o;
	const char *s;
	size_t n;
	int r;
	ims_err e = IMS_OK;

	ims_oauth_device_release(d);
	o = load_object(json, len, what, IMS_ERR_PROTOCOL, err);
	if (o == NULL)
		return IMS_ERR_PROTOCOL;
	ims_oauth_token_init(&t);
	if (!read_error(o, &t)) {
		e = ims_error_set(err, IMS_ERR_PROTOCOL, "%s: error is not a string", what);
		goto out;
	}
	if (t.error[0] != '\0') {
		char words[1024];

		ims_oauth_error_words(&t, NULL, words, sizeof(words));
		e = ims_error_set(err, IMS_ERR_AUTH, "%s", words);
		goto out;
	}
	r = get_str(o, "device_code", &s, &n);
	if (r <= 0 || !token_ok(s, n)) {
		e = ims_error_set(err, IMS_ERR_PROTOCOL, "%s: no usable device_code", what);
		goto out;
	}
	if ((d->device_code = dup_n(s, n)) == NULL) {
		e = ims_error_nomem(err);
		goto out;
	}
	r = get_str(o, "user_code", &s, &n);
	if (r <= 0 || n == 0 || n >= sizeof(d->user_code) || !ims_sanitize_is_clean(s, n, 0) ||
	    memchr(s, '\0', n) != NULL) {
		e = ims_error_set(err, IMS_ERR_PROTOCOL, "%s: no usable user_code", what);
		goto out;
	}
	memcpy(d->user_code, s, n);
	d->user_code[n] = '\0';
	r = get_str(o, "verification_uri", &s, &n);
	if (r == 0)
		r = get_str(o, "verification_url", &s, &n); /* Google's name */
	if (r <= 0 || n >= sizeof(d->verification_uri) || !https_text(s, n)) {
		e = ims_error_set(err, IMS_ERR_PROTOCOL,
		                  "%s: no verification_uri, or not an https:// URL", what);
		goto out;
	}
	memcpy(d->verification_uri, s, n);
	d->verification_uri[n] = '\0';
	r = get_str(o, "verification_uri_complete", &s, &n);
	if (r < 0 || (r > 0 && (n >= sizeof(d->verification_uri_complete) || !https_text(s, n)))) {
		e = ims_error_set(err, IMS_ERR_PROTOCOL,
		                  "%s: verification_uri_complete is not an https:// URL", what);
		goto out;
	}
	if (r > 0) {
		memcpy(d->verification_uri_complete, s, n);
		d->verification_uri_complete[n] = '\0';
	}
	if (get_secs(o, "expires_in", &d->expires_in) <= 0 || d->expires_in == 0) {
		e = ims_error_set(err, IMS_ERR_PROTOCOL, "%s: no usable expires_in", what);
		goto out;
	}
	if ((r = get_secs(o, "interval", &d->interval)) < 0 || (r > 0 && d->interval > 3600)) {
		e = ims_error_set(err, IMS_ERR_PROTOCOL,
		                  "%s: interval is not a number of "
		                  "seconds up to 3600",
		                  what);
		goto out;
	}
	if (r == 0 || d->interval == 0)
		d->interval = 5;
out:
	ims_oauth_token_release(&t);
	json_decref(o);
	if (e != IMS_OK)
		ims_oauth_device_release(d);
	return e;
}

/* ---- the saved tokens ---------------------------------------------------------------- */

ims_err ims_oauth_saved_dump(const struct ims_oauth_saved *s, struct ims_buf *out)
{
	json_t *o;
	char *text;
	ims_err e;

	wipe_jansson_memory();
	if ((o = json_object()) == NULL)
		return IMS_ERR_NOMEM;
	if ((s->refresh_token != NULL &&
	     json_object_set_new(o, "refresh_token", json_string(s->refresh_token)) != 0) ||
	    (s->access_token != NULL &&
	     json_object_set_new(o, "access_token", json_string(s->access_token)) != 0) ||
	    json_object_set_new(o, "expires_at", json_integer(s->expires_at)) != 0 ||
	    json_object_set_new(o, "obtained_at", json_integer(s->obtained_at)) != 0 ||
	    json_object_set_new(o, "scope", json_string(s->scope)) != 0 ||
	    json_object_set_new(o, "token_url", json_string(s->token_url)) != 0) {
		json_decref(o);
		return IMS_ERR_NOMEM;
	}
	text = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(o); /* its copies of the tokens are wiped (wiping_free) */
	if (text == NULL)
		return IMS_ERR_NOMEM;
	e = ims_buf_puts(out, text);
	if (e == IMS_OK)
		e = ims_buf_putc(out, '\n');
	wiping_free(text);
	return e;
}

ims_err ims_oauth_saved_parse(const char *json, size_t len, struct ims_oauth_saved *s,
                              struct ims_error *err)
{
	static const char what[] = "the saved tokens";
	json_t *o;
	const char *v;
	size_t n;
	json_int_t i;
	ims_err e = IMS_OK;

	ims_oauth_saved_release(s);
	o = load_object(json, len, what, IMS_ERR_USAGE, err);
	if (o == NULL)
		return IMS_ERR_USAGE;
	if (get_str(o, "refresh_token", &v, &n) > 0 && token_ok(v, n) &&
	    (s->refresh_token = dup_n(v, n)) == NULL)
		e = ims_error_nomem(err);
	if (e == IMS_OK && get_str(o, "access_token", &v, &n) > 0 && token_ok(v, n) &&
	    (s->access_token = dup_n(v, n)) == NULL)
		e = ims_error_nomem(err);
	if (e == IMS_OK && get_str(o, "scope", &v, &n) > 0)
		ims_sanitize_fixed(v, n, s->scope, sizeof(s->scope));
	if (e == IMS_OK && get_str(o, "token_url", &v, &n) > 0)
		ims_sanitize_fixed(v, n, s->token_url, sizeof(s->token_url));
	if (json_is_integer(json_object_get(o, "expires_at")) &&
	    (i = json_integer_value(json_object_get(o, "expires_at"))) >= 0)
		s->expires_at = (long long)i;
	if (json_is_integer(json_object_get(o, "obtained_at")) &&
	    (i = json_integer_value(json_object_get(o, "obtained_at"))) >= 0)
		s->obtained_at = (long long)i;
	json_decref(o);
	if (e != IMS_OK)
		ims_oauth_saved_release(s);
	return e;
}
