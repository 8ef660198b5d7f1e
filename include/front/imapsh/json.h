/* A small streaming JSON writer (RFC 8259): objects, arrays, strings,
 * numbers, booleans and null, compact or pretty, and JSON Lines, written
 * as they come into an ims_buf, a FILE * or an ims_sink.  No parser.
 *
 *   struct ims_json j;
 *   ims_json_init_file(&j, stdout, IMS_JSON_PRETTY);
 *   ims_json_object_begin(&j);
 *   ims_json_key(&j, "name");  ims_json_string(&j, "INBOX");
 *   ims_json_key(&j, "count"); ims_json_int(&j, 42);
 *   ims_json_object_end(&j);
 *   if (ims_json_finish(&j, err) != IMS_OK) ...
 *
 * Strings: '"', '\\' and every control character are escaped (\n \t \r
 * \b \f, others \u00XX), as are DEL, C1 controls, U+2028/U+2029 and
 * the bidi and invisible characters of sanitize.h (U+202E -> \u202e);
 * each byte that is not UTF-8 becomes \ufffd; other characters are
 * written as UTF-8 (or \uXXXX, with surrogate pairs, with
 * IMS_JSON_ASCII).  Output is therefore always valid UTF-8 JSON and safe
 * to show on a terminal.
 *
 * Every complete top-level value is followed by a newline, and a FILE is
 * flushed then (so a full disk shows in ims_json_finish()).  Without
 * IMS_JSON_LINES a writer takes one top-level value; with it, any number,
 * each compact on its own line.
 *
 * Errors are sticky: the first failure (a write error, or a call out of
 * order such as a value in an object without a key) is recorded, every
 * later call does nothing and returns it, and ims_json_finish() reports
 * it.  The value calls may therefore be left unchecked.
 *
 * Ownership: the writer borrows the buffer, FILE or sink (they must
 * outlive it) and allocates nothing; there is nothing to release.
 *
 * Part of the front-end library (src/front/): pure, uses base only; only the
 * front end and the fs layer use it. */
#ifndef IMAPSH_JSON_H
#define IMAPSH_JSON_H

#include <stdint.h>
#include <stdio.h>

#include "imapsh/buf.h"
#include "imapsh/error.h"

#define IMS_JSON_PRETTY 1u /* two-space indent, "key": value */
#define IMS_JSON_LINES  2u /* JSON Lines: many compact values (overrides PRETTY) */
#define IMS_JSON_ASCII  4u /* escape every non-ASCII character */

#define IMS_JSON_MAX_DEPTH 64

struct ims_json {
	/* All private. */
	struct ims_buf *buf;
	FILE *file;
	struct ims_sink sink;
	unsigned flags;
	unsigned depth;
	unsigned char in_object[IMS_JSON_MAX_DEPTH];
	unsigned char nonempty[IMS_JSON_MAX_DEPTH];
	int key_done;         /* a key waits for its value */
	int done;             /* a top-level value is complete */
	struct ims_error err; /* the first failure */
};

/* Cannot fail. */
void ims_json_init_buf(struct ims_json *j, struct ims_buf *out, unsigned flags);
void ims_json_init_file(struct ims_json *j, FILE *f, unsigned flags);
void ims_json_init_sink(struct ims_json *j, struct ims_sink sink, unsigned flags);

ims_err ims_json_object_begin(struct ims_json *j);
ims_err ims_json_object_end(struct ims_json *j);
ims_err ims_json_array_begin(struct ims_json *j);
ims_err ims_json_array_end(struct ims_json *j);

/* A member name in an object; the next call writes its value. */
ims_err ims_json_key(struct ims_json *j, const char *key);
ims_err ims_json_key_n(struct ims_json *j, const void *key, size_t len);

/* Values.  string(NULL) writes null. */
ims_err ims_json_string(struct ims_json *j, const char *s);
ims_err ims_json_string_n(struct ims_json *j, const void *s, size_t len);
ims_err ims_json_int(struct ims_json *j, int64_t v);
ims_err ims_json_uint(struct ims_json *j, uint64_t v);
/* Shortest form that reads back as v; NaN and infinities are refused. */
ims_err ims_json_double(struct ims_json *j, double v);
ims_err ims_json_bool(struct ims_json *j, int v);
ims_err ims_json_null(struct ims_json *j);

/* The first error, or IMS_ERR_USAGE if a container is still open or a
 * key has no value; IMS_OK when all went well.  The writer stays usable
 * (JSON Lines writers call this after each record). */
ims_err ims_json_finish(const struct ims_json *j, struct ims_error *err) IMS_MUST_CHECK;

#endif
