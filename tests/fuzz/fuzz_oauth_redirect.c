/* The loopback listener's request line.  Properties: never reads past the
 * input; a code is returned only for the expected path (the state is
 * checked by the unit tests, as it may come percent-encoded), and is
 * printable ASCII; every refusal carries words and leaves no code. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapsh/oauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	char code[64], why[256];
	enum ims_oauth_redirect r;
	size_t i;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size); /* exactly size bytes: ASan sees an over-read */
	r = ims_oauth_redirect_parse(copy, size, "/", "S1", code, sizeof(code), why, sizeof(why));
	if (r == IMS_OAUTH_REDIRECT_CODE) {
		if (code[0] == '\0' || size < 6 || memcmp(copy, "GET /?", 6) != 0)
			abort();
		for (i = 0; code[i] != '\0'; i++)
			if ((unsigned char)code[i] < 0x21 || (unsigned char)code[i] > 0x7e)
				abort();
	} else {
		if (code[0] != '\0' || why[0] == '\0')
			abort();
		for (i = 0; why[i] != '\0'; i++)
			if ((unsigned char)why[i] < 0x20)
				abort();
	}
	free(copy);
	return 0;
}
