/* netrc.  Properties: never reads past the input, never returns a login or
 * password longer than the limit, errors always carry words; a password
 * found is a substring-derived token: when the input has no backslash and
 * no quote, the password found occurs in the input as it is. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapsh/netrc.h"

static int occurs(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const hosts[] = {"h", "imap.example.com", "machine"};
	static const char *const users[] = {NULL, "", "alice"};
	char login[IMS_NETRC_TOKEN_MAX + 1], pass[IMS_NETRC_TOKEN_MAX + 1];
	struct ims_error err;
	char *copy = malloc(size ? size : 1);
	size_t i, k;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size); /* exactly size bytes: ASan sees an over-read */
	for (i = 0; i < 3; i++) {
		for (k = 0; k < 3; k++) {
			ims_err e;

			ims_error_init(&err);
			e = ims_netrc_lookup(copy, size, hosts[i], users[k], login, pass, &err);
			if (e == IMS_OK) {
				if (strlen(login) > IMS_NETRC_TOKEN_MAX ||
				    strlen(pass) > IMS_NETRC_TOKEN_MAX)
					abort();
				if (users[k] != NULL && users[k][0] != '\0' &&
				    strcmp(login, users[k]) != 0)
					abort();
				if (memchr(copy, '"', size) == NULL &&
				    memchr(copy, '\\', size) == NULL && pass[0] != '\0' &&
				    !occurs(copy, size, pass))
					abort();
			} else if (e == IMS_ERR_USAGE && err.msg[0] == '\0') {
				abort();
			} else if (e != IMS_ERR_NO && e != IMS_ERR_USAGE) {
				abort();
			}
		}
	}
	free(copy);
	return 0;
}
