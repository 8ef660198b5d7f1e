/* Folder names as directory names, both ways, for an export --all tree.
 *
 * A folder name (UTF-8, as decoded from modified UTF-7) is split at the
 * server's hierarchy delimiter into components; each component is
 * escaped and the components are joined with '.'.  Escaped as %XX
 * (upper-case hex): '%', '.', '/', bytes below 0x20, 0x7f, every byte of
 * a C1 control, bidi or invisible character (sanitize.h: a name must read
 * as what it is in a file manager or `ls`), and every byte of a sequence
 * that is not valid UTF-8.  An empty component is "%00"
 * (NUL is never part of a folder name).  So a directory name:
 *   - is never empty, ".", "..", never starts with '.', never holds '/',
 *     a control, bidi or invisible character (no hidden file, no
 *     separator confusion, no name that shows as another);
 *   - holds the folder's other characters as they are ("送信済み" stays
 *     "送信済み", "Archive/2024" with delimiter '/' is "Archive.2024");
 *   - names exactly one folder: decoding accepts only what encoding
 *     makes (canonical), so decode(encode(n)) == n and
 *     encode(decode(d)) == d.
 * Decoding joins the components with the delimiter of the server being
 * written to, which may differ from the one the export came from.
 *
 * Pure: no I/O.  Ownership: out is the caller's; it is appended to and
 * NUL-terminated (out->data). */
#ifndef IMAPSH_FOLDERPATH_H
#define IMAPSH_FOLDERPATH_H

#include <stddef.h>

#include "imapsh/buf.h"
#include "imapsh/error.h"

/* The longest directory name made (NAME_MAX on Linux and the BSDs). */
#define IMS_FOLDERPATH_MAX 255

/* name[0..len) with hierarchy delimiter delim (0: none) to a directory
 * name.  IMS_ERR_USAGE with words for an empty name, a NUL in it, or a
 * result longer than IMS_FOLDERPATH_MAX. */
ims_err ims_folderpath_encode(const char *name, size_t len, char delim, struct ims_buf *out,
                              struct ims_error *err) IMS_MUST_CHECK;

/* A directory name made by ims_folderpath_encode back to the folder name,
 * components joined by delim.  IMS_ERR_USAGE with words for a name that
 * encoding would not make, or one of several components when delim is 0
 * (no hierarchy on that server). */
ims_err ims_folderpath_decode(const char *dir, size_t len, char delim, struct ims_buf *out,
                              struct ims_error *err) IMS_MUST_CHECK;

#endif
