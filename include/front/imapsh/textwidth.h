/* How many columns text takes on a terminal, and text cut or padded to a
 * width: the one rule the front end's columns (list, folders, quota)
 * measure with.  East Asian wide characters take two columns; combining
 * marks, variation selectors and zero-width characters (U+200B..U+200F)
 * none; everything else one.  The text is sanitised UTF-8 (sanitize.h);
 * an invalid byte counts as one column.
 *
 * Part of the front-end library (src/front/): pure, uses base only. */
#ifndef IMAPSH_TEXTWIDTH_H
#define IMAPSH_TEXTWIDTH_H

#include <stddef.h>
#include <stdint.h>

#include "imapsh/buf.h"
#include "imapsh/error.h"

/* Columns one code point takes: 0, 1 or 2. */
size_t ims_cp_width(uint32_t cp);
/* Columns s (NUL-terminated) takes. */
size_t ims_text_width(const char *s);
/* Append s to out in exactly cols columns: cut with an ellipsis (U+2026)
 * when wider, padded with spaces when pad is set. */
ims_err ims_text_fit(struct ims_buf *out, const char *s, size_t cols, int pad) IMS_MUST_CHECK;
/* Append s to out in at most cols columns, cut after a whole word (at a
 * space) with " …" when wider; a first word wider than cols is cut as
 * ims_text_fit() cuts.  For lists of words such as capabilities. */
ims_err ims_text_fit_words(struct ims_buf *out, const char *s, size_t cols) IMS_MUST_CHECK;

#endif
