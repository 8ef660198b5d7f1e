/* OAuth 2.0 for a native mail client, without I/O: PKCE (RFC 7636, S256),
 * the state value, the authorization URL (RFC 6749 4.1.1, RFC 8252), the
 * token endpoint's answer (RFC 6749 5.1 and 5.2, with Microsoft's AADSTS
 * codes told in words), the device authorization answer (RFC 8628 3.2),
 * the first line of the request that the browser sends to the loopback
 * redirect listener, the saved-token document, and the provider presets.
 *
 * Everything that comes from a server (a JSON answer, a request line) is
 * untrusted: sizes are capped (caps.h), strings shown to a person are made
 * safe with the sanitiser, and a malformed input is an error with words,
 * never a guess.
 *
 * Part of the oauth library (src/oauth/): on base, jansson (JSON) and the
 * transport's crypto helpers (crypto.h: SHA-256 and the random bytes, both
 * mbedTLS); no network, no files.
 *
 * Ownership: strings in the structs below that hold secrets (tokens,
 * device codes) are malloc'd and owned by the struct: its _release()
 * wipes and frees them.  Everything else is in fixed arrays. */
#ifndef IMAPSH_OAUTH_H
#define IMAPSH_OAUTH_H

#include <stddef.h>

#include "imapsh/buf.h"
#include "imapsh/error.h"

/* ---- PKCE and state -------------------------------------------------------- */

#define IMS_OAUTH_PKCE_BYTES 32 /* random bytes behind a verifier */
#define IMS_OAUTH_B64_43     44 /* 32 bytes in base64url without '=', and a NUL */
#define IMS_OAUTH_STATE_LEN  23 /* 16 random bytes in base64url, and a NUL */

/* base64url (RFC 4648 section 5) of p[0..n) without padding, into out,
 * which has room for (4 * n + 2) / 3 + 1 bytes. */
void ims_oauth_b64url(const void *p, size_t n, char *out);

/* The verifier made from rnd (its base64url, 43 characters) and its S256
 * challenge (base64url of the verifier's SHA-256). */
ims_err ims_oauth_pkce_from(const unsigned char rnd[IMS_OAUTH_PKCE_BYTES],
                            char verifier[IMS_OAUTH_B64_43],
                            char challenge[IMS_OAUTH_B64_43]) IMS_MUST_CHECK;
/* The same from fresh random bytes (crypto.h). */
ims_err ims_oauth_pkce_new(char verifier[IMS_OAUTH_B64_43],
                           char challenge[IMS_OAUTH_B64_43]) IMS_MUST_CHECK;
/* A fresh state value: 16 random bytes in base64url. */
ims_err ims_oauth_state_new(char state[IMS_OAUTH_STATE_LEN]) IMS_MUST_CHECK;

/* ---- providers --------------------------------------------------------------- */

struct ims_oauth_provider {
	const char *name; /* "google", "microsoft" */
	const char *authorize_url, *token_url, *device_url;
	const char *revoke_url;    /* RFC 7009 endpoint, NULL when the provider has none */
	const char *scope;         /* space-separated */
	const char *redirect_host; /* the loopback name its registrations expect */
};

/* The preset named name ("google", "microsoft", any case), or NULL. */
const struct ims_oauth_provider *ims_oauth_provider_find(const char *name);

/* ---- the authorization request ------------------------------------------------ */

struct ims_oauth_authz {
	const char *authorize_url; /* https://...; may already hold a query */
	const char *client_id;
	const char *redirect_uri;
	const char *scope;      /* NULL or "": none sent */
	const char *state;      /* ims_oauth_state_new() */
	const char *challenge;  /* the S256 PKCE challenge */
	const char *login_hint; /* the account's user name, or NULL */
};

/* The URL to open in the browser, appended to out: the endpoint, then
 * response_type=code, client_id, redirect_uri, scope, state,
 * code_challenge, code_challenge_method=S256 and login_hint, each value
 * percent-encoded (only RFC 3986 unreserved characters stay).  The
 * endpoint must start with https:// (IMS_ERR_USAGE otherwise). */
ims_err ims_oauth_authorize_url(const struct ims_oauth_authz *a, struct ims_buf *out,
                                struct ims_error *err) IMS_MUST_CHECK;

/* Append s percent-encoded (unreserved characters kept) to out. */
ims_err ims_oauth_pct_encode(const char *s, struct ims_buf *out) IMS_MUST_CHECK;

/* ---- the token endpoint's answer --------------------------------------------- */

#define IMS_OAUTH_ERROR_MAX 64
#define IMS_OAUTH_DESC_MAX  512
#define IMS_OAUTH_SCOPE_MAX 1024
#define IMS_OAUTH_TOKEN_MAX 16384 /* the longest access or refresh token taken */

struct ims_oauth_token {
	char *access_token;  /* owned; NULL when absent */
	char *refresh_token; /* owned; NULL when absent */
	char token_type[32];
	char scope[IMS_OAUTH_SCOPE_MAX]; /* sanitised; "" when absent */
	long long expires_in;            /* seconds; -1 when absent */
	/* An error answer (RFC 6749 5.2): error is "" on success. */
	char error[IMS_OAUTH_ERROR_MAX];            /* sanitised */
	char error_description[IMS_OAUTH_DESC_MAX]; /* sanitised, cut with "..." */
	unsigned long aadsts; /* the AADSTS code in the description, 0 when none */
};

void ims_oauth_token_init(struct ims_oauth_token *t);
void ims_oauth_token_release(struct ims_oauth_token *t);

/* Read a token endpoint's answer (json[0..len), not necessarily
 * NUL-terminated).  IMS_OK when it is either a token (access_token set) or
 * an error answer (error set): the caller looks at which.  A JSON object
 * that is neither, a value of the wrong type, a token longer than
 * IMS_OAUTH_TOKEN_MAX or holding anything but printable ASCII, or text
 * that is not JSON: IMS_ERR_PROTOCOL with words (nothing of the answer is
 * quoted: it may hold a token). */
ims_err ims_oauth_token_parse(const char *json, size_t len, struct ims_oauth_token *t,
                              struct ims_error *err) IMS_MUST_CHECK;

/* What an AADSTS code means, in words, or NULL for a code not known. */
const char *ims_oauth_aadsts_meaning(unsigned long code);

/* The words for an error answer: what happened and the next step,
 * "run 'imapsh oauth login'" where logging in again is the cure.
 * provider may be NULL.  Written to out[0..n). */
void ims_oauth_error_words(const struct ims_oauth_token *t, const char *provider, char *out,
                           size_t n);

/* ---- the device authorization answer (RFC 8628 3.2) --------------------------- */

struct ims_oauth_device {
	char *device_code;                    /* owned */
	char user_code[128];                  /* sanitised */
	char verification_uri[1024];          /* https:// only */
	char verification_uri_complete[1024]; /* "" when absent */
	long long expires_in;                 /* seconds */
	long long interval;                   /* seconds; 5 when absent */
};

void ims_oauth_device_init(struct ims_oauth_device *d);
void ims_oauth_device_release(struct ims_oauth_device *d);
/* Read the answer.  device_code, user_code, verification_uri (Google
 * says verification_url) and expires_in are required; the URIs must be
 * https:// and free of control characters.  IMS_ERR_PROTOCOL with words
 * otherwise; an error answer (error set) is IMS_ERR_AUTH with the words
 * of ims_oauth_error_words(). */
ims_err ims_oauth_device_parse(const char *json, size_t len, struct ims_oauth_device *d,
                               struct ims_error *err) IMS_MUST_CHECK;

/* ---- the loopback redirect ---------------------------------------------------- */

enum ims_oauth_redirect {
	IMS_OAUTH_REDIRECT_CODE,      /* GET PATH?code=...&state=STATE: the code is in code */
	IMS_OAUTH_REDIRECT_DENIED,    /* GET PATH?error=...&state=STATE: words in why */
	IMS_OAUTH_REDIRECT_BAD_STATE, /* the right path, another request's state (or none) */
	IMS_OAUTH_REDIRECT_NOT_OURS,  /* another path (a favicon...): answer 404, keep waiting */
	IMS_OAUTH_REDIRECT_MALFORMED  /* not a GET request line this listener takes */
};

/* The request line line[0..len) (without its CRLF) as the loopback
 * listener must judge it: only "GET PATH?QUERY HTTP/1.x" where PATH is
 * path exactly, the query parameters are well-formed, each at most once,
 * and state equals the expected one.  code (code_n bytes) receives the
 * decoded code (printable ASCII only), why (why_n bytes) the words of a
 * refusal. */
enum ims_oauth_redirect ims_oauth_redirect_parse(const char *line, size_t len, const char *path,
                                                 const char *state, char *code, size_t code_n,
                                                 char *why, size_t why_n);

/* 1 when the Host header value names the listener itself: 127.0.0.1,
 * localhost or [::1], with port, else 0 (a request for another name
 * reached the port through a DNS rebinding: refused). */
int ims_oauth_redirect_host_ok(const char *host, unsigned port);

/* ---- the saved tokens ---------------------------------------------------------- */

struct ims_oauth_saved {
	char *refresh_token;   /* owned; NULL when none */
	char *access_token;    /* owned; NULL when none */
	long long expires_at;  /* Unix time the access token ends; 0 unknown */
	long long obtained_at; /* Unix time of the login */
	char scope[IMS_OAUTH_SCOPE_MAX];
	char token_url[1024]; /* the endpoint that issued them */
};

void ims_oauth_saved_init(struct ims_oauth_saved *s);
void ims_oauth_saved_release(struct ims_oauth_saved *s);
/* The document (JSON) for s, appended to out (the caller wipes it). */
ims_err ims_oauth_saved_dump(const struct ims_oauth_saved *s, struct ims_buf *out) IMS_MUST_CHECK;
/* Read a document made by ims_oauth_saved_dump().  IMS_ERR_USAGE with
 * words when it is not one. */
ims_err ims_oauth_saved_parse(const char *json, size_t len, struct ims_oauth_saved *s,
                              struct ims_error *err) IMS_MUST_CHECK;

#endif
