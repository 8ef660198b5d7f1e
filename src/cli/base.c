/* The front end's smallest shared pieces: exit statuses and the numbers
 * the user types. */
#include <inttypes.h>
#include <string.h>

#include "cli/cli.h"
#include "imapsh/number.h"

int cli_exit_code(ims_err e)
{
	switch (e) {
	case IMS_OK: return 0;
	case IMS_ERR_NO: return 1;
	case IMS_ERR_USAGE: return 2;
	case IMS_ERR_NET:
	case IMS_ERR_CANCELLED: return 3;
	case IMS_ERR_PROTOCOL:
	case IMS_ERR_LIMIT: return 7;
	case IMS_ERR_TLS: return 4;
	case IMS_ERR_AUTH: return 5;
	case IMS_ERR_IO:
	case IMS_ERR_NOMEM: return 6;
	}
	return 3;
}

ims_err cli_number(struct cli *c, const char *what, const char *s, uint64_t min, uint64_t max,
                   uint64_t *v_r)
{
	char safe[128];

	if (s != NULL && ims_number_parse(s, strlen(s), min, max, v_r) == 0)
		return IMS_OK;
	return ims_error_set(&c->err, IMS_ERR_USAGE,
	                     "%s: '%s' is not a number from %" PRIu64 " to %" PRIu64, what,
	                     s != NULL ? cli_safe(s, safe, sizeof(safe)) : "", min, max);
}
