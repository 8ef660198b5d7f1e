/* The message-argument grammar (src/cli/msgarg.c), the word cut at its
 * first NUL.  Properties: a failure is IMS_ERR_USAGE with words that hold
 * no raw control byte, and leaves nothing allocated; an accepted word's
 * canonical set parses to itself; single and star agree with the set;
 * "#" is kept as seq; the one-message form accepts exactly the words
 * cli_msgarg_is_one() says name one message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/msgarg.h"

static void clean(const char *msg)
{
	const unsigned char *p;

	if (msg[0] == '\0')
		abort(); /* a failure has words */
	for (p = (const unsigned char *)msg; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cli_msgarg m, again, one;
	struct ims_error err;
	char *word = malloc(size + 1);
	ims_err r;

	if (word == NULL)
		return 0;
	memcpy(word, data, size);
	word[size] = '\0';
	cli_msgarg_init(&m);
	cli_msgarg_init(&again);
	cli_msgarg_init(&one);
	ims_error_init(&err);
	r = cli_msgarg_parse(word, &m, &err);
	if (r != IMS_OK) {
		if (r != IMS_ERR_USAGE || m.set.data != NULL)
			abort();
		clean(err.msg);
		if (cli_msgarg_parse_one("show", word, &one, &err) != IMS_ERR_USAGE)
			abort();
		clean(err.msg);
		free(word);
		return 0;
	}
	if (m.set.data == NULL || m.seq != (word[0] == '#'))
		abort();
	if (cli_msgarg_parse(m.set.data, &again, &err) != IMS_OK ||
	    strcmp(again.set.data, m.set.data) != 0 || again.single != m.single ||
	    again.star != m.star)
		abort();
	if (m.star && strcmp(m.set.data, "*") != 0)
		abort();
	if (m.single != 0 && strchr(m.set.data, ':') != NULL)
		abort();
	if (m.single != 0 && strtoul(m.set.data, NULL, 10) != m.single)
		abort();
	r = cli_msgarg_parse_one("show", word, &one, &err);
	if ((r == IMS_OK) != cli_msgarg_is_one(&m))
		abort();
	if (r != IMS_OK)
		clean(err.msg);
	cli_msgarg_release(&one);
	cli_msgarg_release(&again);
	cli_msgarg_release(&m);
	cli_msgarg_release(&m); /* twice is safe */
	free(word);
	return 0;
}
