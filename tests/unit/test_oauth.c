/* OAuth without I/O: PKCE against RFC 7636's own vector, the authorization
 * URL byte by byte, token and device answers (good, error, hostile), the
 * loopback request line, the saved-token document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/oauth.h"

static void test_b64url(void **state)
{
	char out[16];

	(void)state;
	ims_oauth_b64url("", 0, out);
	assert_string_equal(out, "");
	ims_oauth_b64url("f", 1, out);
	assert_string_equal(out, "Zg");
	ims_oauth_b64url("fo", 2, out);
	assert_string_equal(out, "Zm8");
	ims_oauth_b64url("foo", 3, out);
	assert_string_equal(out, "Zm9v");
	ims_oauth_b64url("\xfb\xff\xbf", 3, out);
	assert_string_equal(out, "-_-_");
}

/* RFC 7636 appendix B. */
static void test_pkce_rfc7636(void **state)
{
	static const unsigned char rnd[32] = {116, 24,  223, 180, 151, 153, 224, 37,  79,  250, 96,
	                                      125, 216, 173, 187, 186, 22,  212, 37,  77,  105, 214,
	                                      191, 240, 91,  88,  5,   88,  83,  132, 141, 121};
	char v[IMS_OAUTH_B64_43], c[IMS_OAUTH_B64_43];

	(void)state;
	assert_int_equal(ims_oauth_pkce_from(rnd, v, c), IMS_OK);
	assert_string_equal(v, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
	assert_string_equal(c, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

static void test_pkce_and_state_fresh(void **state)
{
	char v1[IMS_OAUTH_B64_43], c1[IMS_OAUTH_B64_43], v2[IMS_OAUTH_B64_43], c2[IMS_OAUTH_B64_43],
	    s1[IMS_OAUTH_STATE_LEN], s2[IMS_OAUTH_STATE_LEN];

	(void)state;
	assert_int_equal(ims_oauth_pkce_new(v1, c1), IMS_OK);
	assert_int_equal(ims_oauth_pkce_new(v2, c2), IMS_OK);
	assert_int_equal(strlen(v1), 43);
	assert_int_equal(strlen(c1), 43);
	assert_string_not_equal(v1, v2);
	assert_string_not_equal(c1, c2);
	assert_int_equal(ims_oauth_state_new(s1), IMS_OK);
	assert_int_equal(ims_oauth_state_new(s2), IMS_OK);
	assert_int_equal(strlen(s1), 22);
	assert_string_not_equal(s1, s2);
	assert_int_equal(
	    strspn(s1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 22);
}

static void test_providers(void **state)
{
	const struct ims_oauth_provider *g = ims_oauth_provider_find("google");
	const struct ims_oauth_provider *m = ims_oauth_provider_find("Microsoft");

	(void)state;
	assert_non_null(g);
	assert_string_equal(g->authorize_url, "https://accounts.google.com/o/oauth2/v2/auth");
	assert_string_equal(g->token_url, "https://oauth2.googleapis.com/token");
	assert_string_equal(g->device_url, "https://oauth2.googleapis.com/device/code");
	assert_string_equal(g->scope, "https://mail.google.com/");
	assert_non_null(m);
	assert_string_equal(m->authorize_url,
	                    "https://login.microsoftonline.com/common/oauth2/v2.0/authorize");
	assert_string_equal(m->token_url,
	                    "https://login.microsoftonline.com/common/oauth2/v2.0/token");
	assert_string_equal(m->device_url,
	                    "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode");
	assert_string_equal(m->scope,
	                    "https://outlook.office.com/IMAP.AccessAsUser.All offline_access");
	assert_null(m->revoke_url);
	assert_null(ims_oauth_provider_find("custom"));
	assert_null(ims_oauth_provider_find(""));
}

static void test_authorize_url(void **state)
{
	struct ims_oauth_authz a = {"https://as.example/auth",
	                            "id 1&x",
	                            "http://127.0.0.1:5000/",
	                            "https://mail.google.com/ offline_access",
	                            "st~_-.",
	                            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
	                            "alice@example.com"};
	struct ims_buf b;
	struct ims_error err;

	(void)state;
	ims_buf_init(&b, 0);
	ims_error_init(&err);
	assert_int_equal(ims_oauth_authorize_url(&a, &b, &err), IMS_OK);
	assert_string_equal(b.data,
	                    "https://as.example/auth?response_type=code&client_id=id%201%26x"
	                    "&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2F"
	                    "&scope=https%3A%2F%2Fmail.google.com%2F%20offline_access"
	                    "&state=st~_-."
	                    "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	                    "&code_challenge_method=S256&login_hint=alice%40example.com");
	ims_buf_reset(&b);
	/* an endpoint with a query of its own; no scope, no hint */
	a.authorize_url = "https://as.example/auth?tenant=x";
	a.scope = "";
	a.login_hint = NULL;
	assert_int_equal(ims_oauth_authorize_url(&a, &b, &err), IMS_OK);
	assert_string_equal(
	    b.data, "https://as.example/auth?tenant=x&response_type=code&client_id=id%201%26x"
	            "&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2F&state=st~_-."
	            "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	            "&code_challenge_method=S256");
	ims_buf_reset(&b);
	a.authorize_url = "http://as.example/auth";
	assert_int_equal(ims_oauth_authorize_url(&a, &b, &err), IMS_ERR_USAGE);
	assert_non_null(strstr(err.msg, "https://"));
	a.authorize_url = "https://as.example/a b";
	assert_int_equal(ims_oauth_authorize_url(&a, &b, &err), IMS_ERR_USAGE);
	a.authorize_url = "https://as.example/a#frag";
	assert_int_equal(ims_oauth_authorize_url(&a, &b, &err), IMS_ERR_USAGE);
	a.authorize_url = "https://as.example/a";
	a.client_id = "";
	assert_int_equal(ims_oauth_authorize_url(&a, &b, &err), IMS_ERR_USAGE);
	ims_buf_release(&b);
}

static ims_err tok(const char *json, struct ims_oauth_token *t, struct ims_error *err)
{
	ims_error_init(err);
	return ims_oauth_token_parse(json, strlen(json), t, err);
}

static void test_token_ok(void **state)
{
	struct ims_oauth_token t;
	struct ims_error err;

	(void)state;
	ims_oauth_token_init(&t);
	assert_int_equal(tok("{\"access_token\":\"ya29.a0A-b_c\",\"expires_in\":3599,"
	                     "\"refresh_token\":\"1//0g\",\"scope\":\"https://mail.google.com/\","
	                     "\"token_type\":\"Bearer\",\"id_token\":{\"x\":[1,2]}}",
	                     &t, &err),
	                 IMS_OK);
	assert_string_equal(t.access_token, "ya29.a0A-b_c");
	assert_string_equal(t.refresh_token, "1//0g");
	assert_int_equal(t.expires_in, 3599);
	assert_string_equal(t.scope, "https://mail.google.com/");
	assert_string_equal(t.token_type, "Bearer");
	assert_string_equal(t.error, "");
	/* expires_in as a string (old Azure AD), no refresh token */
	assert_int_equal(tok("{\"access_token\":\"x\",\"expires_in\":\"3600\"}", &t, &err), IMS_OK);
	assert_int_equal(t.expires_in, 3600);
	assert_null(t.refresh_token);
	assert_int_equal(tok("{\"access_token\":\"x\"}", &t, &err), IMS_OK);
	assert_int_equal(t.expires_in, -1);
	assert_string_equal(t.scope, "");
	ims_oauth_token_release(&t);
	assert_null(t.access_token);
}

static void test_token_errors(void **state)
{
	struct ims_oauth_token t;
	struct ims_error err;
	char words[1024];

	(void)state;
	ims_oauth_token_init(&t);
	assert_int_equal(tok("{\"error\":\"invalid_grant\",\"error_description\":\"Token has been "
	                     "expired or revoked.\"}",
	                     &t, &err),
	                 IMS_OK);
	assert_null(t.access_token);
	assert_string_equal(t.error, "invalid_grant");
	assert_string_equal(t.error_description, "Token has been expired or revoked.");
	assert_int_equal(t.aadsts, 0);
	ims_oauth_error_words(&t, "google", words, sizeof(words));
	assert_non_null(strstr(words, "invalid_grant"));
	assert_non_null(strstr(words, "revoked"));
	assert_non_null(strstr(words, "7 days"));
	assert_non_null(strstr(words, "imapsh oauth login"));
	ims_oauth_error_words(&t, "microsoft", words, sizeof(words));
	assert_null(strstr(words, "7 days"));
	assert_non_null(strstr(words, "imapsh oauth login"));

	assert_int_equal(tok("{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS70008: "
	                     "The provided authorization code or refresh token has expired due "
	                     "to inactivity.\\r\\nTrace ID: 1\",\"error_codes\":[70008]}",
	                     &t, &err),
	                 IMS_OK);
	assert_int_equal(t.aadsts, 70008);
	assert_non_null(strstr(t.error_description, "^M^J")); /* controls made visible */
	ims_oauth_error_words(&t, "microsoft", words, sizeof(words));
	assert_non_null(strstr(words, "AADSTS70008: the code or refresh token has expired"));

	assert_int_equal(tok("{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000218: "
	                     "x\"}",
	                     &t, &err),
	                 IMS_OK);
	assert_int_equal(t.aadsts, 7000218);
	ims_oauth_error_words(&t, NULL, words, sizeof(words));
	assert_non_null(strstr(words, "public client"));

	assert_int_equal(tok("{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS65001: "
	                     "The user or administrator has not consented\"}",
	                     &t, &err),
	                 IMS_OK);
	ims_oauth_error_words(&t, NULL, words, sizeof(words));
	assert_non_null(strstr(words, "consent"));

	assert_int_equal(tok("{\"error\":\"invalid_scope\"}", &t, &err), IMS_OK);
	ims_oauth_error_words(&t, NULL, words, sizeof(words));
	assert_non_null(strstr(words, "scope"));
	assert_non_null(strstr(words, "oauth-scope"));

	assert_int_equal(tok("{\"error\":\"consent_required\"}", &t, &err), IMS_OK);
	ims_oauth_error_words(&t, NULL, words, sizeof(words));
	assert_non_null(strstr(words, "consent required"));

	assert_int_equal(tok("{\"error\":\"weird\\u001b[31m\"}", &t, &err), IMS_OK);
	assert_string_equal(t.error, "weird^[[31m");
	ims_oauth_error_words(&t, NULL, words, sizeof(words));
	assert_string_equal(words, "the server refused (weird^[[31m)");

	assert_string_equal(ims_oauth_aadsts_meaning(50076),
	                    "multi-factor authentication is required");
	assert_null(ims_oauth_aadsts_meaning(1));
	ims_oauth_token_release(&t);
}

static void test_token_hostile(void **state)
{
	static const char *const bad[] = {
	    "",
	    "not json",
	    "{\"access_token\":\"x\"",
	    "[\"access_token\"]",
	    "{}",
	    "{\"token_type\":\"Bearer\"}",
	    "{\"access_token\":42}",
	    "{\"access_token\":\"\"}",
	    "{\"access_token\":\"a b\"}",
	    "{\"access_token\":\"a\\u0000b\"}",
	    "{\"access_token\":\"x\",\"refresh_token\":7}",
	    "{\"access_token\":\"x\",\"expires_in\":-1}",
	    "{\"access_token\":\"x\",\"expires_in\":\"12a\"}",
	    "{\"access_token\":\"x\",\"expires_in\":1.5}",
	    "{\"access_token\":\"x\",\"scope\":[]}",
	    "{\"access_token\":\"x\",\"access_token\":\"y\"}",
	    "{\"error\":5}",
	    "{\"access_token\":\"x\"} trailing",
	};
	struct ims_oauth_token t;
	struct ims_error err;
	char *big;
	size_t i;

	(void)state;
	ims_oauth_token_init(&t);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tok(bad[i], &t, &err), IMS_ERR_PROTOCOL);
		assert_true(err.msg[0] != '\0');
		assert_null(t.access_token);
		assert_non_null(strstr(err.msg, "the token endpoint's answer"));
	}
	/* a token longer than the cap, never taken or quoted */
	big = malloc(IMS_OAUTH_TOKEN_MAX + 64);
	assert_non_null(big);
	strcpy(big, "{\"access_token\":\"");
	memset(big + 17, 'A', IMS_OAUTH_TOKEN_MAX + 1);
	strcpy(big + 17 + IMS_OAUTH_TOKEN_MAX + 1, "\"}");
	assert_int_equal(tok(big, &t, &err), IMS_ERR_PROTOCOL);
	assert_null(strstr(err.msg, "AAAA"));
	free(big);
	/* a malformed answer never quotes its text (it may hold a token) */
	assert_int_equal(tok("{\"access_token\":\"SECRET\",", &t, &err), IMS_ERR_PROTOCOL);
	assert_null(strstr(err.msg, "SECRET"));
	assert_non_null(strstr(err.msg, "not JSON"));
	ims_oauth_token_release(&t);
}

static ims_err dev(const char *json, struct ims_oauth_device *d, struct ims_error *err)
{
	ims_error_init(err);
	return ims_oauth_device_parse(json, strlen(json), d, err);
}

static void test_device(void **state)
{
	struct ims_oauth_device d;
	struct ims_error err;

	(void)state;
	ims_oauth_device_init(&d);
	assert_int_equal(dev("{\"device_code\":\"GmRh-mHX\",\"user_code\":\"WDJB-MJHT\","
	                     "\"verification_uri\":\"https://example.com/device\","
	                     "\"verification_uri_complete\":\"https://example.com/device?u=W\","
	                     "\"expires_in\":1800,\"interval\":7}",
	                     &d, &err),
	                 IMS_OK);
	assert_string_equal(d.device_code, "GmRh-mHX");
	assert_string_equal(d.user_code, "WDJB-MJHT");
	assert_string_equal(d.verification_uri, "https://example.com/device");
	assert_string_equal(d.verification_uri_complete, "https://example.com/device?u=W");
	assert_int_equal(d.expires_in, 1800);
	assert_int_equal(d.interval, 7);
	/* Google's verification_url, no interval: 5 */
	assert_int_equal(dev("{\"device_code\":\"A\",\"user_code\":\"B\",\"verification_url\":"
	                     "\"https://www.google.com/device\",\"expires_in\":\"1800\"}",
	                     &d, &err),
	                 IMS_OK);
	assert_string_equal(d.verification_uri, "https://www.google.com/device");
	assert_string_equal(d.verification_uri_complete, "");
	assert_int_equal(d.interval, 5);
	/* hostile: a plain-http or control-laden URI, a user code with an escape */
	assert_int_equal(dev("{\"device_code\":\"A\",\"user_code\":\"B\",\"verification_uri\":"
	                     "\"http://evil/\",\"expires_in\":5}",
	                     &d, &err),
	                 IMS_ERR_PROTOCOL);
	assert_null(d.device_code);
	assert_int_equal(dev("{\"device_code\":\"A\",\"user_code\":\"B\",\"verification_uri\":"
	                     "\"https://e/\\u001b]8;;\",\"expires_in\":5}",
	                     &d, &err),
	                 IMS_ERR_PROTOCOL);
	assert_int_equal(dev("{\"device_code\":\"A\",\"user_code\":\"B\\u001b[2J\","
	                     "\"verification_uri\":\"https://e/\",\"expires_in\":5}",
	                     &d, &err),
	                 IMS_ERR_PROTOCOL);
	assert_int_equal(dev("{\"device_code\":\"A\",\"user_code\":\"B\","
	                     "\"verification_uri\":\"https://e/\"}",
	                     &d, &err),
	                 IMS_ERR_PROTOCOL);
	assert_non_null(strstr(err.msg, "expires_in"));
	assert_int_equal(dev("{\"device_code\":\"A\",\"user_code\":\"B\",\"verification_uri\":"
	                     "\"https://e/\",\"expires_in\":5,\"interval\":99999}",
	                     &d, &err),
	                 IMS_ERR_PROTOCOL);
	assert_int_equal(dev("{\"error\":\"invalid_client\"}", &d, &err), IMS_ERR_AUTH);
	assert_non_null(strstr(err.msg, "oauth-client-id"));
	assert_int_equal(dev("nope", &d, &err), IMS_ERR_PROTOCOL);
	ims_oauth_device_release(&d);
}

static enum ims_oauth_redirect red(const char *line, char *code, char *why)
{
	return ims_oauth_redirect_parse(line, strlen(line), "/", "S1", code, 64, why, 256);
}

static void test_redirect(void **state)
{
	char code[64], why[256];

	(void)state;
	assert_int_equal(red("GET /?code=4%2F0Ab&state=S1 HTTP/1.1", code, why),
	                 IMS_OAUTH_REDIRECT_CODE);
	assert_string_equal(code, "4/0Ab");
	assert_int_equal(red("GET /?state=S1&scope=x+y&code=c HTTP/1.0", code, why),
	                 IMS_OAUTH_REDIRECT_CODE);
	assert_string_equal(code, "c");
	/* the state of another request, or none */
	assert_int_equal(red("GET /?code=c&state=S2 HTTP/1.1", code, why),
	                 IMS_OAUTH_REDIRECT_BAD_STATE);
	assert_string_equal(code, "");
	assert_non_null(strstr(why, "another request"));
	assert_int_equal(red("GET /?code=c HTTP/1.1", code, why), IMS_OAUTH_REDIRECT_BAD_STATE);
	assert_int_equal(red("GET /? HTTP/1.1", code, why), IMS_OAUTH_REDIRECT_BAD_STATE);
	assert_int_equal(red("GET /?code=c&state=S1x HTTP/1.1", code, why),
	                 IMS_OAUTH_REDIRECT_BAD_STATE);
	/* a NUL (%00) would cut a value short in C: "S1%00x" is not "S1" */
	assert_int_equal(red("GET /?code=c&state=S1%00x HTTP/1.1", code, why),
	                 IMS_OAUTH_REDIRECT_MALFORMED);
	assert_string_equal(code, "");
	assert_int_equal(red("GET /?code=c%00x&state=S1 HTTP/1.1", code, why),
	                 IMS_OAUTH_REDIRECT_MALFORMED);
	assert_string_equal(code, "");
	/* denied */
	assert_int_equal(
	    red("GET /?error=access_denied&error_description=no%1B&state=S1 HTTP/1.1", code, why),
	    IMS_OAUTH_REDIRECT_DENIED);
	assert_string_equal(why, "access_denied: no^[");
	assert_int_equal(red("GET /?error=&state=S1 HTTP/1.1", code, why),
	                 IMS_OAUTH_REDIRECT_DENIED);
	assert_string_equal(why, "(an empty error)");
	/* another path: not ours */
	assert_int_equal(red("GET /favicon.ico HTTP/1.1", code, why), IMS_OAUTH_REDIRECT_NOT_OURS);
	assert_int_equal(red("GET /x?code=c&state=S1 HTTP/1.1", code, why),
	                 IMS_OAUTH_REDIRECT_NOT_OURS);
	assert_int_equal(red("GET //?code=c&state=S1 HTTP/1.1", code, why),
	                 IMS_OAUTH_REDIRECT_NOT_OURS);
	/* malformed */
	static const char *const bad[] = {
	    "POST /?code=c&state=S1 HTTP/1.1",
	    "get /?code=c&state=S1 HTTP/1.1",
	    "GET /?code=c&state=S1",
	    "GET /?code=c&state=S1 HTTP/2",
	    "GET /?code=c&state=S1 HTTP/1.1 ",
	    "GET  /?code=c&state=S1 HTTP/1.1",
	    "GET / HTTP/1.1",
	    "GET /?code=c&code=d&state=S1 HTTP/1.1",
	    "GET /?code=c&state=S1&state=S1 HTTP/1.1",
	    "GET /?code=%zz&state=S1 HTTP/1.1",
	    "GET /?code=%4&state=S1 HTTP/1.1",
	    "GET /?code=a%0Ab&state=S1 HTTP/1.1",
	    "GET /?code=a%20b&state=S1 HTTP/1.1",
	    "GET /?code=&state=S1 HTTP/1.1",
	    "GET /?state=S1 HTTP/1.1",
	    "GET /?code&state=S1 HTTP/1.1",
	    "GET /?code=c\x01&state=S1 HTTP/1.1",
	    "GET /?code=\xc3\xa9&state=S1 HTTP/1.1",
	    "",
	    "GET",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(red(bad[i], code, why), IMS_OAUTH_REDIRECT_MALFORMED);
		assert_string_equal(code, "");
		assert_true(why[0] != '\0');
	}
	/* a code longer than the room for it */
	{
		char line[256];

		snprintf(line, sizeof(line), "GET /?code=%070d&state=S1 HTTP/1.1", 1);
		assert_int_equal(red(line, code, why), IMS_OAUTH_REDIRECT_MALFORMED);
		assert_string_equal(code, "");
	}
	/* the length is the caller's: no NUL needed, nothing read past it */
	assert_int_equal(ims_oauth_redirect_parse("GET /?code=c&state=S1 HTTP/1.1XYZ", 30, "/",
	                                          "S1", code, sizeof(code), why, sizeof(why)),
	                 IMS_OAUTH_REDIRECT_CODE);

	assert_true(ims_oauth_redirect_host_ok("127.0.0.1:5000", 5000));
	assert_true(ims_oauth_redirect_host_ok("LOCALHOST:5000", 5000));
	assert_true(ims_oauth_redirect_host_ok("[::1]:5000", 5000));
	assert_false(ims_oauth_redirect_host_ok("127.0.0.1:5001", 5000));
	assert_false(ims_oauth_redirect_host_ok("127.0.0.1", 5000));
	assert_false(ims_oauth_redirect_host_ok("evil.example:5000", 5000));
}

static void test_saved(void **state)
{
	struct ims_oauth_saved s, r;
	struct ims_buf b;
	struct ims_error err;

	(void)state;
	ims_oauth_saved_init(&s);
	ims_oauth_saved_init(&r);
	ims_buf_init(&b, 0);
	s.refresh_token = strdup("1//rt");
	s.access_token = strdup("at.x");
	s.expires_at = 1700000000;
	s.obtained_at = 1690000000;
	snprintf(s.scope, sizeof(s.scope), "https://mail.google.com/");
	snprintf(s.token_url, sizeof(s.token_url), "https://oauth2.googleapis.com/token");
	assert_int_equal(ims_oauth_saved_dump(&s, &b), IMS_OK);
	assert_string_equal(b.data,
	                    "{\n \"access_token\": \"at.x\",\n \"expires_at\": 1700000000,\n"
	                    " \"obtained_at\": 1690000000,\n \"refresh_token\": \"1//rt\",\n"
	                    " \"scope\": \"https://mail.google.com/\",\n"
	                    " \"token_url\": \"https://oauth2.googleapis.com/token\"\n}\n");
	ims_error_init(&err);
	assert_int_equal(ims_oauth_saved_parse(b.data, b.len, &r, &err), IMS_OK);
	assert_string_equal(r.refresh_token, "1//rt");
	assert_string_equal(r.access_token, "at.x");
	assert_int_equal(r.expires_at, 1700000000);
	assert_int_equal(r.obtained_at, 1690000000);
	assert_string_equal(r.scope, "https://mail.google.com/");
	assert_int_equal(ims_oauth_saved_parse("[]", 2, &r, &err), IMS_ERR_USAGE);
	assert_null(r.refresh_token);
	assert_int_equal(ims_oauth_saved_parse("{}", 2, &r, &err), IMS_OK);
	assert_null(r.refresh_token);
	ims_oauth_saved_release(&s);
	ims_oauth_saved_release(&r);
	ims_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_b64url),
	    cmocka_unit_test(test_pkce_rfc7636),
	    cmocka_unit_test(test_pkce_and_state_fresh),
	    cmocka_unit_test(test_providers),
	    cmocka_unit_test(test_authorize_url),
	    cmocka_unit_test(test_token_ok),
	    cmocka_unit_test(test_token_errors),
	    cmocka_unit_test(test_token_hostile),
	    cmocka_unit_test(test_device),
	    cmocka_unit_test(test_redirect),
	    cmocka_unit_test(test_saved),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
