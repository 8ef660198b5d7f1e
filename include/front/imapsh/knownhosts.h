/* The known-hosts pin store: the SPKI pins the user chose to trust for a
 * server ("always" at the shell's trust question, or `trust add`).
 *
 * File format, one entry a line (LF or CRLF):
 *
 *   # comment
 *   imap.example.com:993 sha256//n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=
 *   [2001:db8::7]:993 sha256//...
 *
 * HOST:PORT, blanks, then the pin in curl's --pinnedpubkey form: sha256//
 * and the standard base64 (with its '=') of the SHA-256 of the
 * certificate's SubjectPublicKeyInfo.  HOST is a DNS name or an IPv6
 * literal in brackets, compared without regard to case or a trailing
 * dot; it is written in lower case without the dot.  A host and port may
 * have several pins (key rollover): a connection is accepted when any of
 * them matches, and refused when none does.  Blank lines and lines whose
 * first non-blank character is '#' are kept as they are when the file is
 * rewritten.  Any other line is an error naming the line: a pin store
 * that cannot be read is never silently ignored.
 *
 * Parsing, lookup and editing are pure (src/front/knownhosts.c); ims_kh_load() and
 * ims_kh_save() read and write the file through fsafe.h, in the fs layer
 * (src/fs/knownhosts_file.c): never through a symbolic link, a regular
 * file only, saved atomically with mode 0600.
 *
 * Ownership: struct ims_kh owns its entries; ims_kh_release() frees them.
 * Pointers returned by ims_kh_lookup() point into kh and live until kh
 * is changed or released.
 *
 * Part of the front-end library (src/front/): pure, uses base only; only the
 * front end and the fs layer use it. */
#ifndef IMAPSH_KNOWNHOSTS_H
#define IMAPSH_KNOWNHOSTS_H

#include <stddef.h>

#include "imapsh/caps.h"
#include "imapsh/buf.h"
#include "imapsh/error.h"

#define IMS_KH_HOST_MAX 254 /* 253 bytes and the NUL */
#define IMS_KH_PIN_MAX  64  /* "sha256//" + 44 base64 characters fit */

struct ims_kh_entry {
	char *text;                 /* comment or blank line as read (no line
	                               end), or NULL for a pin entry */
	char host[IMS_KH_HOST_MAX]; /* lower case, no trailing dot, IPv6
	                               without brackets */
	unsigned port;
	char pin[IMS_KH_PIN_MAX]; /* "sha256//BASE64" */
};

/* Entries in file order; read them freely, change them only through the
 * functions below. */
struct ims_kh {
	struct ims_kh_entry *v;
	size_t n, cap;
};

/* Cannot fail; allocates nothing. */
void ims_kh_init(struct ims_kh *kh);
/* Frees the entries; kh is as after ims_kh_init() afterwards. */
void ims_kh_release(struct ims_kh *kh);

/* Parse text[0..len) and append its entries to kh.  name ("known_hosts"
 * or a path) starts the words of an error: "NAME:3: bad pin ...".  On
 * failure kh holds what it held before.  IMS_ERR_USAGE, IMS_ERR_NOMEM. */
ims_err ims_kh_parse(struct ims_kh *kh, const char *text, size_t len, const char *name,
                     struct ims_error *err) IMS_MUST_CHECK;

/* Append the file's text to out. */
ims_err ims_kh_format(const struct ims_kh *kh, struct ims_buf *out,
                      struct ims_error *err) IMS_MUST_CHECK;

/* 1 if pin is "sha256//" and the canonical base64 of 32 bytes, else 0. */
int ims_kh_pin_valid(const char *pin);

/* 1 if a and b name the same host: case ignored, a trailing dot ignored. */
int ims_kh_host_equal(const char *a, const char *b);

/* Parse HOST, HOST:PORT, [IPV6] or [IPV6]:PORT; a missing port is
 * default_port (0 allowed: "any port" for removal).  host_r gets the
 * normalised host (lower case, no trailing dot, no brackets).  A bare
 * IPv6 address is refused (write it in brackets).  IMS_ERR_USAGE. */
ims_err ims_kh_hostport_parse(const char *s, unsigned default_port, char *host_r, size_t n,
                              unsigned *port_r, struct ims_error *err) IMS_MUST_CHECK;

/* The pins recorded for host:port: up to max of them into pins[] (which
 * may be NULL when max is 0); returns how many there are in all. */
size_t ims_kh_lookup(const struct ims_kh *kh, const char *host, unsigned port, const char **pins,
                     size_t max);

/* Record pin for host:port (both checked: a valid host, a port in
 * 1..65535, a valid pin).  *added_r (may be NULL) is 0 when it was
 * already there.  IMS_ERR_USAGE, IMS_ERR_NOMEM. */
ims_err ims_kh_add(struct ims_kh *kh, const char *host, unsigned port, const char *pin,
                   int *added_r, struct ims_error *err) IMS_MUST_CHECK;

/* Remove the pins for host:port (port 0: every port of host; pin NULL:
 * every pin).  Returns how many entries went. */
size_t ims_kh_remove(struct ims_kh *kh, const char *host, unsigned port, const char *pin);

/* Read path into kh (appending).  A missing file is an empty store; a
 * symbolic link, a FIFO or anything but a regular file is IMS_ERR_IO.
 * IMS_ERR_IO (cannot read), IMS_ERR_LIMIT (over IMS_KH_FILE_MAX),
 * IMS_ERR_USAGE (a bad line), IMS_ERR_NOMEM. */
ims_err ims_kh_load(struct ims_kh *kh, const char *path, struct ims_error *err) IMS_MUST_CHECK;

/* Replace path with kh's text atomically: a new file beside it under a
 * random name (mode 0600), fsync, rename over path (a link there is
 * replaced, never followed), fsync of the folder.  A reader
 * sees the old file or the new one, never a part.  IMS_ERR_IO. */
ims_err ims_kh_save(const struct ims_kh *kh, const char *path,
                    struct ims_error *err) IMS_MUST_CHECK;

#endif
