/* Helpers shared by the MIME sources (not public API). */
#ifndef IMAPSH_MIME_INT_H
#define IMAPSH_MIME_INT_H

#include <stddef.h>

#include "imapsh/mime.h"

/* malloc'd NUL-terminated copies; NULL when out of memory. */
char *ims__mime_dupn(const char *s, size_t n);
char *ims__mime_dup_lower(const char *s, size_t n);
/* 1 if a[0..alen) equals the C string b, ignoring ASCII case. */
int ims__mime_eq_nocase(const char *a, size_t alen, const char *b);
/* p->filename from the disposition's filename, else the type's name. */
ims_err ims__mime_part_fill_filename(struct ims_mime_part *p, struct ims_error *err) IMS_MUST_CHECK;

/* Walk the header fields of hdr[0..len): fn gets each field's name and
 * raw value (offsets relative to hdr).  Lines that are not fields are
 * skipped.  Stops when fn returns non-zero. */
typedef int (*ims__mime_hdr_fn)(void *ctx, size_t name_off, size_t name_len, size_t value_off,
                                size_t value_len);
void ims__mime_headers_walk(const char *hdr, size_t len, ims__mime_hdr_fn fn, void *ctx);

#endif
