#include "imapsh/seqset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ims_seqset_init(struct ims_seqset *s)
{
	s->r = NULL;
	s->n = 0;
	s->n_num = 0;
	s->cap = 0;
}

void ims_seqset_release(struct ims_seqset *s)
{
	free(s->r);
	ims_seqset_init(s);
}

void ims_seqset_clear(struct ims_seqset *s)
{
	s->n = 0;
	s->n_num = 0;
}

static ims_err grow(struct ims_seqset *s, struct ims_error *err)
{
	struct ims_seq_range *p;
	size_t ncap;

	if (s->n < s->cap)
		return IMS_OK;
	ncap = s->cap != 0 ? s->cap * 2 : 8;
	if (ncap > SIZE_MAX / sizeof(*p))
		return ims_error_set(err, IMS_ERR_NOMEM, "message set: out of memory");
	p = realloc(s->r, ncap * sizeof(*p));
	if (p == NULL)
		return ims_error_set(err, IMS_ERR_NOMEM, "message set: out of memory");
	s->r = p;
	s->cap = ncap;
	return IMS_OK;
}

/* Open a gap of one range at index i. */
static ims_err insert_at(struct ims_seqset *s, size_t i, uint32_t lo, uint32_t hi,
                         struct ims_error *err)
{
	ims_err e = grow(s, err);

	if (e != IMS_OK)
		return e;
	memmove(s->r + i + 1, s->r + i, (s->n - i) * sizeof(*s->r));
	s->r[i].lo = lo;
	s->r[i].hi = hi;
	s->n++;
	return IMS_OK;
}

static ims_err add_num(struct ims_seqset *s, uint32_t lo, uint32_t hi, struct ims_error *err)
{
	size_t a, b, mid, j;
	ims_err e;

	/* Fast paths: beyond the last numeric range, or touching it. */
	if (s->n_num == 0 || (uint64_t)s->r[s->n_num - 1].hi + 1 < lo) {
		e = insert_at(s, s->n_num, lo, hi, err);
		if (e == IMS_OK)
			s->n_num++;
		return e;
	}
	if (s->r[s->n_num - 1].lo <= lo) {
		if (hi > s->r[s->n_num - 1].hi)
			s->r[s->n_num - 1].hi = hi;
		return IMS_OK;
	}
	/* First range that ends at or after lo - 1. */
	a = 0;
	b = s->n_num;
	while (a < b) {
		mid = a + (b - a) / 2;
		if ((uint64_t)s->r[mid].hi + 1 < lo)
			a = mid + 1;
		else
			b = mid;
	}
	/* Ranges a..j-1 overlap or touch lo:hi. */
	for (j = a; j < s->n_num && s->r[j].lo <= (uint64_t)hi + 1; j++)
		;
	if (j == a) {
		e = insert_at(s, a, lo, hi, err);
		if (e == IMS_OK)
			s->n_num++;
		return e;
	}
	if (s->r[a].lo < lo)
		lo = s->r[a].lo;
	if (s->r[j - 1].hi > hi)
		hi = s->r[j - 1].hi;
	s->r[a].lo = lo;
	s->r[a].hi = hi;
	memmove(s->r + a + 1, s->r + j, (s->n - j) * sizeof(*s->r));
	s->n -= j - a - 1;
	s->n_num -= j - a - 1;
	return IMS_OK;
}

/* lo is a number ("lo:*") or IMS_SEQ_STAR ("*"). */
static ims_err add_star(struct ims_seqset *s, uint32_t lo, struct ims_error *err)
{
	size_t a, b, mid;

	if (s->n == s->n_num)
		return insert_at(s, s->n, lo, IMS_SEQ_STAR, err);
	if (lo == IMS_SEQ_STAR)
		return IMS_OK; /* already covered */
	if (s->r[s->n_num].lo == IMS_SEQ_STAR) {
		/* A lone "*" is the only star range; "lo:*" covers it. */
		s->r[s->n_num].lo = lo;
		return IMS_OK;
	}
	a = s->n_num;
	b = s->n;
	while (a < b) {
		mid = a + (b - a) / 2;
		if (s->r[mid].lo < lo)
			a = mid + 1;
		else
			b = mid;
	}
	if (a < s->n && s->r[a].lo == lo)
		return IMS_OK;
	return insert_at(s, a, lo, IMS_SEQ_STAR, err);
}

ims_err ims_seqset_add(struct ims_seqset *s, uint32_t a, uint32_t b, struct ims_error *err)
{
	if (a == IMS_SEQ_STAR && b == IMS_SEQ_STAR)
		return add_star(s, IMS_SEQ_STAR, err);
	if (a == IMS_SEQ_STAR)
		return add_star(s, b, err);
	if (b == IMS_SEQ_STAR)
		return add_star(s, a, err);
	return a <= b ? add_num(s, a, b, err) : add_num(s, b, a, err);
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

ims_err ims_seqset_add_list(struct ims_seqset *s, const uint32_t *nums, size_t n,
                            struct ims_error *err)
{
	uint32_t *sorted;
	size_t i;
	ims_err e = IMS_OK;

	for (i = 0; i < n; i++)
		if (nums[i] == 0)
			return ims_error_set(err, IMS_ERR_USAGE,
			                     "message set: 0 is not a valid number");
	if (n == 0)
		return IMS_OK;
	if (n > SIZE_MAX / sizeof(*sorted))
		return ims_error_set(err, IMS_ERR_NOMEM, "message set: out of memory");
	sorted = malloc(n * sizeof(*sorted));
	if (sorted == NULL)
		return ims_error_set(err, IMS_ERR_NOMEM, "message set: out of memory");
	memcpy(sorted, nums, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_u32);
	for (i = 0; i < n && e == IMS_OK; i++)
		e = add_num(s, sorted[i], sorted[i], err);
	free(sorted);
	return e;
}

static void describe(const char *str, size_t len, size_t at, char *w, size_t wlen)
{
	unsigned char c;

	if (at >= len) {
		snprintf(w, wlen, "the end");
		return;
	}
	c = (unsigned char)str[at];
	if (c > 0x20 && c < 0x7f)
		snprintf(w, wlen, "'%c' at position %zu", c, at + 1);
	else if (c == ' ')
		snprintf(w, wlen, "a space at position %zu", at + 1);
	else
		snprintf(w, wlen, "byte 0x%02x at position %zu", c, at + 1);
}

static ims_err parse_fail(struct ims_seqset *s, struct ims_error *err, const char *str, size_t len,
                          size_t at, const char *expected)
{
	char w[64];

	ims_seqset_clear(s);
	describe(str, len, at, w, sizeof(w));
	return ims_error_set(err, IMS_ERR_USAGE, "bad message set: expected %s, found %s", expected,
	                     w);
}

/* A seq-number at str[*i]: a number or "*". */
static ims_err parse_number(struct ims_seqset *s, const char *str, size_t len, size_t *i,
                            uint32_t *num_r, struct ims_error *err)
{
	uint64_t v = 0;
	size_t at = *i;

	if (at < len && str[at] == '*') {
		*num_r = IMS_SEQ_STAR;
		*i = at + 1;
		return IMS_OK;
	}
	if (at >= len || str[at] < '0' || str[at] > '9')
		return parse_fail(s, err, str, len, at, "a number or '*'");
	if (str[at] == '0') {
		ims_seqset_clear(s);
		if (at + 1 < len && str[at + 1] >= '0' && str[at + 1] <= '9')
			return ims_error_set(err, IMS_ERR_USAGE,
			                     "bad message set: number with a leading zero at "
			                     "position %zu",
			                     at + 1);
		return ims_error_set(err, IMS_ERR_USAGE,
		                     "bad message set: 0 at position %zu (numbers start at 1)",
		                     at + 1);
	}
	while (at < len && str[at] >= '0' && str[at] <= '9') {
		v = v * 10 + (uint64_t)(str[at] - '0');
		if (v > IMS_SEQ_MAXNUM) {
			ims_seqset_clear(s);
			return ims_error_set(err, IMS_ERR_USAGE,
			                     "bad message set: number at position %zu is too large "
			                     "(the largest is 4294967295)",
			                     *i + 1);
		}
		at++;
	}
	*num_r = (uint32_t)v;
	*i = at;
	return IMS_OK;
}

ims_err ims_seqset_parse(struct ims_seqset *s, const char *str, size_t len, struct ims_error *err)
{
	size_t i = 0;
	uint32_t a = 0, b = 0;
	int ranged;
	ims_err e;

	ims_seqset_clear(s);
	if (len == 0)
		return ims_error_set(err, IMS_ERR_USAGE, "bad message set: empty");
	for (;;) {
		e = parse_number(s, str, len, &i, &a, err);
		if (e != IMS_OK)
			return e;
		b = a;
		ranged = i < len && str[i] == ':';
		if (ranged) {
			i++;
			e = parse_number(s, str, len, &i, &b, err);
			if (e != IMS_OK)
				return e;
		}
		e = ims_seqset_add(s, a, b, err);
		if (e != IMS_OK) {
			ims_seqset_clear(s);
			return e;
		}
		if (i == len)
			return IMS_OK;
		if (str[i] != ',')
			return parse_fail(s, err, str, len, i, ranged ? "','" : "',' or ':'");
		i++;
	}
}

int ims_seqset_has_star(const struct ims_seqset *s)
{
	return s->n > s->n_num;
}

int ims_seqset_equal(const struct ims_seqset *a, const struct ims_seqset *b)
{
	return a->n == b->n && a->n_num == b->n_num &&
	       (a->n == 0 || memcmp(a->r, b->r, a->n * sizeof(*a->r)) == 0);
}

/* All "*" ranges resolved with max: each "n:*" becomes the interval
 * between n and max, and all of them contain max, so their union is one
 * interval.  0 when there is none (or the mailbox is empty). */
static int star_interval(const struct ims_seqset *s, uint32_t max, uint32_t *lo_r, uint32_t *hi_r)
{
	uint32_t lo = max, hi = max, n;
	size_t i;

	if (max == 0 || s->n == s->n_num)
		return 0;
	for (i = s->n_num; i < s->n; i++) {
		n = s->r[i].lo == IMS_SEQ_STAR ? max : s->r[i].lo;
		if (n < lo)
			lo = n;
		if (n > hi)
			hi = n;
	}
	*lo_r = lo;
	*hi_r = hi;
	return 1;
}

/* Index of the first numeric range with hi >= num (n_num if none). */
static size_t find_num(const struct ims_seqset *s, uint64_t num)
{
	size_t a = 0, b = s->n_num, mid;

	while (a < b) {
		mid = a + (b - a) / 2;
		if (s->r[mid].hi < num)
			a = mid + 1;
		else
			b = mid;
	}
	return a;
}

int ims_seqset_contains(const struct ims_seqset *s, uint32_t max, uint32_t num)
{
	uint32_t lo, hi;
	size_t i;

	if (num == 0)
		return 0;
	i = find_num(s, num);
	if (i < s->n_num && s->r[i].lo <= num)
		return 1;
	return star_interval(s, max, &lo, &hi) && lo <= num && num <= hi;
}

uint64_t ims_seqset_count(const struct ims_seqset *s, uint32_t max, uint64_t cap)
{
	uint64_t total = 0, olo, ohi;
	uint32_t lo, hi;
	size_t i;

	for (i = 0; i < s->n_num; i++)
		total += (uint64_t)s->r[i].hi - s->r[i].lo + 1;
	if (star_interval(s, max, &lo, &hi)) {
		total += (uint64_t)hi - lo + 1;
		/* Less what the numeric ranges already counted. */
		for (i = find_num(s, lo); i < s->n_num && s->r[i].lo <= hi; i++) {
			olo = s->r[i].lo > lo ? s->r[i].lo : lo;
			ohi = s->r[i].hi < hi ? s->r[i].hi : hi;
			total -= ohi - olo + 1;
		}
	}
	if (cap != 0 && total > cap)
		total = cap;
	return total;
}

void ims_seqset_iter_init(struct ims_seqset_iter *it, const struct ims_seqset *s, uint32_t max)
{
	it->s = s;
	it->i = 0;
	it->next = 1;
	it->has_star = star_interval(s, max, &it->star_lo, &it->star_hi);
	if (!it->has_star) {
		it->star_lo = 0;
		it->star_hi = 0;
	}
}

int ims_seqset_next(struct ims_seqset_iter *it, uint32_t *num_r)
{
	const struct ims_seqset *s = it->s;
	uint64_t best = UINT64_MAX, c;

	if (it->next > IMS_SEQ_MAXNUM)
		return 0;
	while (it->i < s->n_num && s->r[it->i].hi < it->next)
		it->i++;
	if (it->i < s->n_num)
		best = s->r[it->i].lo > it->next ? s->r[it->i].lo : it->next;
	if (it->has_star && it->star_hi >= it->next) {
		c = it->star_lo > it->next ? it->star_lo : it->next;
		if (c < best)
			best = c;
	}
	if (best == UINT64_MAX)
		return 0;
	*num_r = (uint32_t)best;
	it->next = best + 1;
	return 1;
}

ims_err ims_seqset_format(const struct ims_seqset *s, struct ims_buf *out, struct ims_error *err)
{
	size_t start = out->len, i;
	const struct ims_seq_range *r;
	ims_err e = IMS_OK;

	if (s->n == 0)
		return ims_error_set(err, IMS_ERR_USAGE, "empty message set");
	for (i = 0; i < s->n && e == IMS_OK; i++) {
		r = &s->r[i];
		if (i > 0)
			e = ims_buf_putc(out, ',');
		if (e != IMS_OK)
			break;
		if (r->hi == IMS_SEQ_STAR) {
			if (r->lo == IMS_SEQ_STAR)
				e = ims_buf_putc(out, '*');
			else
				e = ims_buf_printf(out, "%u:*", (unsigned)r->lo);
		} else if (r->lo == r->hi) {
			e = ims_buf_printf(out, "%u", (unsigned)r->lo);
		} else {
			e = ims_buf_printf(out, "%u:%u", (unsigned)r->lo, (unsigned)r->hi);
		}
	}
	if (e != IMS_OK) {
		if (out->len > start) {
			out->len = start;
			out->data[start] = '\0';
		}
		return ims_error_set(err, e, "message set: %s",
		                     e == IMS_ERR_NOMEM ? "out of memory" : "too long");
	}
	return IMS_OK;
}
