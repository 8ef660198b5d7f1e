/* Range-checked decimal numbers.  See include/imapsh/number.h. */
#include "imapsh/number.h"

int ims_number_parse(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *v_r)
{
	uint64_t v = 0;
	size_t i;

	if (s == NULL || len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1; /* past 2^64: out of any range */
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -1;
	*v_r = v;
	return 0;
}
