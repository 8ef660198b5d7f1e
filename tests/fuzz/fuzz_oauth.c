/* OAuth's JSON answers: the token endpoint's, the device authorization
 * answer and the saved-token document.  Properties: never reads past the
 * input, an error always carries words, a token taken is printable ASCII
 * within the cap, every string meant for a person is free of controls. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapsh/oauth.h"
#include "imapsh/sanitize.h"

static void clean(const char *s)
{
	size_t i;

	if (!ims_sanitize_is_clean(s, strlen(s), 0))
		abort();
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20)
			abort();
}

static void token_text(const char *s)
{
	size_t i, n;

	if (s == NULL)
		return;
	n = strlen(s);
	if (n == 0 || n > IMS_OAUTH_TOKEN_MAX)
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	struct ims_oauth_token t;
	struct ims_oauth_device d;
	struct ims_oauth_saved s;
	struct ims_error err;
	ims_err e;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size); /* exactly size bytes: ASan sees an over-read */
	ims_oauth_token_init(&t);
	ims_error_init(&err);
	e = ims_oauth_token_parse(copy, size, &t, &err);
	if (e == IMS_OK) {
		char words[1024];

		if (t.error[0] == '\0' && t.access_token == NULL)
			abort();
		token_text(t.access_token);
		token_text(t.refresh_token);
		clean(t.error);
		clean(t.error_description);
		clean(t.scope);
		clean(t.token_type);
		ims_oauth_error_words(&t, "google", words, sizeof(words));
		clean(words);
	} else if (e != IMS_ERR_PROTOCOL && e != IMS_ERR_NOMEM) {
		abort();
	} else if (err.msg[0] == '\0' || t.access_token != NULL) {
		abort();
	}
	ims_oauth_token_release(&t);

	ims_oauth_device_init(&d);
	ims_error_init(&err);
	e = ims_oauth_device_parse(copy, size, &d, &err);
	if (e == IMS_OK) {
		token_text(d.device_code);
		clean(d.user_code);
		clean(d.verification_uri);
		clean(d.verification_uri_complete);
		if (strncmp(d.verification_uri, "https://", 8) != 0 || d.interval < 1 ||
		    d.expires_in < 1)
			abort();
	} else if (err.msg[0] == '\0' || d.device_code != NULL) {
		abort();
	}
	ims_oauth_device_release(&d);

	ims_oauth_saved_init(&s);
	ims_error_init(&err);
	e = ims_oauth_saved_parse(copy, size, &s, &err);
	if (e == IMS_OK) {
		token_text(s.refresh_token);
		token_text(s.access_token);
		clean(s.scope);
	} else if (err.msg[0] == '\0') {
		abort();
	}
	ims_oauth_saved_release(&s);
	free(copy);
	return 0;
}
