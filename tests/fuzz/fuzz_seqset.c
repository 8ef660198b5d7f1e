/* Sequence sets.  Properties: format(parse(x)) parses to the same set and
 * formats to the same text; iteration is strictly ascending, agrees with
 * contains() and with count(); a list of numbers added in any order
 * holds exactly those numbers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapsh/seqset.h"

#define WALK_MAX 20000

static void check_walk(const struct ims_seqset *s, uint32_t max)
{
	struct ims_seqset_iter it;
	uint32_t v, prev = 0;
	uint64_t n = 0;

	ims_seqset_iter_init(&it, s, max);
	while (n < WALK_MAX && ims_seqset_next(&it, &v)) {
		if (v <= prev || !ims_seqset_contains(s, max, v))
			abort();
		if (v > 1 && v - 1 != prev && ims_seqset_contains(s, max, v - 1))
			abort(); /* skipped a member */
		prev = v;
		n++;
	}
	if (n < WALK_MAX && ims_seqset_count(s, max, 0) != n)
		abort();
	if (n == WALK_MAX && ims_seqset_count(s, max, WALK_MAX) != WALK_MAX)
		abort();
}

static int cmp16(const void *a, const void *b)
{
	return (int)*(const uint32_t *)a - (int)*(const uint32_t *)b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ims_seqset s, t;
	struct ims_buf f1, f2;
	struct ims_error err;
	uint32_t nums[512], maxes[4] = {0, 1, 7, 0};
	size_t n, i, distinct;
	int k;

	ims_seqset_init(&s);
	ims_seqset_init(&t);
	ims_buf_init(&f1, 0);
	ims_buf_init(&f2, 0);

	if (ims_seqset_parse(&s, (const char *)data, size, &err) == IMS_OK) {
		if (ims_seqset_format(&s, &f1, &err) != IMS_OK)
			abort();
		if (ims_seqset_parse(&t, f1.data, f1.len, &err) != IMS_OK)
			abort();
		if (!ims_seqset_equal(&s, &t))
			abort();
		if (ims_seqset_format(&t, &f2, &err) != IMS_OK || strcmp(f1.data, f2.data) != 0)
			abort();
		maxes[3] = size > 0 ? (uint32_t)data[0] * 3 + 1 : 5;
		for (k = 0; k < 4; k++)
			check_walk(&s, maxes[k]);
		check_walk(&s, 4294967295u);
	}

	/* The bytes as 16-bit numbers (collisions are likely), 0 skipped. */
	n = 0;
	for (i = 0; i + 1 < size && n < sizeof(nums) / sizeof(nums[0]); i += 2) {
		uint32_t v = (uint32_t)data[i] << 8 | data[i + 1];

		if (v != 0)
			nums[n++] = v;
	}
	ims_seqset_clear(&t);
	if (ims_seqset_add_list(&t, nums, n, &err) != IMS_OK)
		abort();
	for (i = 0; i < n; i++)
		if (!ims_seqset_contains(&t, 0, nums[i]))
			abort();
	qsort(nums, n, sizeof(nums[0]), cmp16);
	for (i = 0, distinct = 0; i < n; i++)
		if (i == 0 || nums[i] != nums[i - 1])
			distinct++;
	if (ims_seqset_count(&t, 0, 0) != distinct)
		abort();
	check_walk(&t, 0);
	/* One at a time, in input order, gives the same set. */
	ims_seqset_clear(&s);
	for (i = 0, k = 0; i + 1 < size && (size_t)k < sizeof(nums) / sizeof(nums[0]); i += 2) {
		uint32_t v = (uint32_t)data[i] << 8 | data[i + 1];

		if (v == 0)
			continue;
		if (ims_seqset_add(&s, v, v, &err) != IMS_OK)
			abort();
		k++;
	}
	if (!ims_seqset_equal(&s, &t))
		abort();

	ims_buf_release(&f1);
	ims_buf_release(&f2);
	ims_seqset_release(&s);
	ims_seqset_release(&t);
	return 0;
}
