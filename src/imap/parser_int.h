/* Internals shared by parser.c (framing, tokens, value tree) and
 * parser_typed.c (the typed layer).  Not a public header. */
#ifndef IMAPSH_PARSER_INT_H
#define IMAPSH_PARSER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "imapsh/parser.h"

/* A block allocator: everything of one response, freed at once. */
struct ims__ablock;
struct ims__arena {
	struct ims__ablock *head;
	size_t total;
	size_t max; /* bytes; 0 = no limit */
};

void ims__arena_init(struct ims__arena *a, size_t max);
void ims__arena_release(struct ims__arena *a);
/* Zeroed, aligned memory, or NULL (out of memory or over max). */
void *ims__arena_alloc(struct ims__arena *a, size_t n);
/* A NUL-terminated copy. */
char *ims__arena_strndup(struct ims__arena *a, const char *s, size_t n);

/* Build the typed part of r from r->args (and the code).  IMS_ERR_PROTOCOL
 * with words when the data does not fit the grammar. */
/* s[0..n) equals the upper-case word w, ignoring ASCII case. */
int ims__eq_ci(const char *s, size_t n, const char *w);

ims_err ims__parse_typed(struct ims__arena *a, struct ims_response *r, int lenient_all,
                         struct ims_error *err) IMS_MUST_CHECK;
/* args_bad: the code's arguments could not be tokenised. */
ims_err ims__parse_code(struct ims__arena *a, struct ims_response *r, int args_bad,
                        struct ims_error *err) IMS_MUST_CHECK;

/* The data kind for a keyword (IMS_DATA_OTHER when unknown). */
enum ims_data_kind ims__data_kind(const char *kw, size_t len);

#endif
