/* IMAP sequence sets (RFC 3501/9051 sequence-set): "42", "1:100",
 * "1,5,9:12", "*", "7:*".  The same syntax serves UIDs and sequence
 * numbers; "#N" is the front end's business, not this module's.
 *
 * A set is kept normalised: numeric ranges sorted, merged and disjoint
 * (so "5:3" is 3:5 and "1,2,3" is 1:3), followed by the ranges that
 * involve "*", which is IMS_SEQ_STAR (0 is never a valid number).  "*"
 * stands for the largest number in use, only known later, so ranges with
 * "*" are kept apart: "n:*" is the range from n to that largest number
 * (which may be below n), a lone "*" is dropped when some "n:*" is there
 * (each one contains it).  Formatting prints this canonical form, which
 * is how "UID FETCH 1:5,7" is built from a list of UIDs.
 *
 * Ownership: the set owns its range array; ims_seqset_release() frees
 * it.  The fields are for reading only.
 *
 * Part of the IMAP protocol library (src/imap/): uses base only. */
#ifndef IMAPSH_SEQSET_H
#define IMAPSH_SEQSET_H

#include <stddef.h>
#include <stdint.h>

#include "imapsh/buf.h"
#include "imapsh/error.h"

#define IMS_SEQ_STAR   0u          /* "*" in a range */
#define IMS_SEQ_MAXNUM 4294967295u /* the largest number (2^32 - 1) */

/* A numeric range has 1 <= lo <= hi.  A range with "*" has hi ==
 * IMS_SEQ_STAR and lo either a number ("n:*") or IMS_SEQ_STAR ("*"). */
struct ims_seq_range {
	uint32_t lo;
	uint32_t hi;
};

struct ims_seqset {
	struct ims_seq_range *r; /* n_num numeric ranges, then the star ones */
	size_t n;                /* all ranges */
	size_t n_num;            /* numeric ranges */
	size_t cap;
};

/* Cannot fail; allocates nothing. */
void ims_seqset_init(struct ims_seqset *s);
/* Frees the ranges; s is an empty set afterwards. */
void ims_seqset_release(struct ims_seqset *s);
/* Empties s, keeping its memory. */
void ims_seqset_clear(struct ims_seqset *s);

/* Replace s with the set str[0..len) describes.  Strict RFC syntax: no
 * spaces, no empty elements, no 0, no leading zeros, numbers up to
 * 4294967295.  IMS_ERR_USAGE with words for bad input (s is then empty),
 * IMS_ERR_NOMEM. */
ims_err ims_seqset_parse(struct ims_seqset *s, const char *str, size_t len,
                         struct ims_error *err) IMS_MUST_CHECK;

/* Add the range a:b (either may be IMS_SEQ_STAR; order does not matter).
 * Adding in ascending order is O(1) each. */
ims_err ims_seqset_add(struct ims_seqset *s, uint32_t a, uint32_t b,
                       struct ims_error *err) IMS_MUST_CHECK;
/* Add n numbers (any order; 0 is refused with IMS_ERR_USAGE). */
ims_err ims_seqset_add_list(struct ims_seqset *s, const uint32_t *nums, size_t n,
                            struct ims_error *err) IMS_MUST_CHECK;

static inline int ims_seqset_empty(const struct ims_seqset *s)
{
	return s->n == 0;
}

/* 1 if the set uses "*" (its meaning then depends on the mailbox). */
int ims_seqset_has_star(const struct ims_seqset *s);

/* 1 if both describe the same normalised set. */
int ims_seqset_equal(const struct ims_seqset *a, const struct ims_seqset *b);

/* Membership, counting and iteration take max, the value of "*" (the
 * highest UID or the message count); max == 0 means an empty mailbox,
 * where ranges with "*" match nothing.  Numbers above max written out
 * explicitly still count: max only gives "*" its value. */
int ims_seqset_contains(const struct ims_seqset *s, uint32_t max, uint32_t num);

/* The number of distinct members, but at most cap (0 = no cap). */
uint64_t ims_seqset_count(const struct ims_seqset *s, uint32_t max, uint64_t cap);

/* Walk the distinct members in ascending order:
 *   struct ims_seqset_iter it;  uint32_t uid;
 *   ims_seqset_iter_init(&it, &set, max);
 *   while (ims_seqset_next(&it, &uid)) ...
 * The set must not change during the walk. */
struct ims_seqset_iter {
	const struct ims_seqset *s;
	size_t i;         /* current numeric range */
	uint64_t next;    /* smallest candidate not yet returned */
	uint32_t star_lo; /* "*" ranges resolved: one interval */
	uint32_t star_hi;
	int has_star;
};
void ims_seqset_iter_init(struct ims_seqset_iter *it, const struct ims_seqset *s, uint32_t max);
/* 1 and *num_r set, or 0 at the end. */
int ims_seqset_next(struct ims_seqset_iter *it, uint32_t *num_r);

/* Append the canonical text ("1:5,7,10:*") to out.  An empty set is
 * IMS_ERR_USAGE (IMAP has no empty sequence set); IMS_ERR_LIMIT,
 * IMS_ERR_NOMEM.  On failure out keeps its previous length. */
ims_err ims_seqset_format(const struct ims_seqset *s, struct ims_buf *out,
                          struct ims_error *err) IMS_MUST_CHECK;

#endif
