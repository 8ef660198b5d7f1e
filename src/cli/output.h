/* Output for people and programs: the ways out for untrusted text.
 *
 * Text from a server or a certificate reaches the user through one of
 * these and nothing else:
 *   - a tab-separated record (struct tsv): every field is made safe by
 *     the sanitiser's line rule (sanitize.h, IMS_SANITIZE_LINE): TAB, CR,
 *     LF, NUL, ESC and every other control, C1, bidi and invisible
 *     characters and bytes that are not UTF-8 become visible markers (^I,
 *     ^J, ^[, <U+202E>, \xFF), so a record is always one line with its
 *     fixed number of fields, whatever the bytes;
 *   - a JSON document or JSON Lines (struct json_out, json.h): every
 *     control escaped, bytes that are not UTF-8 replaced;
 *   - a line for people: cli_safe() (the same line rule), and cli_warn()
 *     for stderr, which applies the rule to the whole message. */
#ifndef IMAPSH_CLI_OUTPUT_H
#define IMAPSH_CLI_OUTPUT_H

#include <stdint.h>
#include <stdio.h>

#include "imapsh/buf.h"
#include "imapsh/json.h"

/* The front end's JSON document: the front library's writer (json.h) into memory, written
 * whole (pretty on a terminal) by json_finish. */
struct json_out {
	struct ims_json w;
	struct ims_buf buf;
	FILE *f;
};

void json_init(struct json_out *j, FILE *f);
void json_begin_object(struct json_out *j);
void json_end_object(struct json_out *j);
void json_begin_array(struct json_out *j);
void json_end_array(struct json_out *j);
void json_key(struct json_out *j, const char *k);
void json_str(struct json_out *j, const char *s);
void json_null(struct json_out *j);
void json_kv_str(struct json_out *j, const char *k, const char *v);
void json_kv_int(struct json_out *j, const char *k, int64_t v);
void json_kv_bool(struct json_out *j, const char *k, int v);
/* Writes the document and a newline to f, releases memory. */
void json_finish(struct json_out *j);

/* One tab-separated record: tsv_begin, a tsv_field* call a field (in
 * order; the writer puts the TABs), tsv_end writes the record and its LF
 * in one go.  Fields are untrusted text of known length (NUL allowed,
 * shown as ^@); tsv_fieldf formats first, then applies the same rule.
 * Ownership: the record's memory is the writer's, released by tsv_end. */
struct tsv {
	FILE *f;
	struct ims_buf line;
	size_t n; /* fields so far */
	ims_err e;
};

void tsv_begin(struct tsv *t, FILE *f);
void tsv_field(struct tsv *t, const char *s); /* NULL: an empty field */
void tsv_field_n(struct tsv *t, const void *p, size_t len);
void tsv_fieldf(struct tsv *t, const char *fmt, ...) IMS_PRINTF(2, 3);
/* 0 when the record was written, -1 when it was not (out of memory, or a
 * write error: errno). */
int tsv_end(struct tsv *t);

/* A whole record of n C-string fields (NULL: empty). */
int tsv_row(FILE *f, size_t n, const char *const *fields);

/* A "key TAB value" record; on a terminal "key         value". */
void tsv_kv(FILE *f, int tty, const char *key, const char *value);

/* With --json, a failure as one JSON object on f (stdout), besides the
 * words on stderr: {"error": {"kind": "auth", "exit": 5, "message":
 * "...", "where": "stdin:3"}}; kind is one of ok no usage network tls
 * auth io protocol limit nomem cancelled; where only for a batch line.
 * Nothing when the command already wrote a JSON document of its own
 * (cli_json_docs() is no longer docs_before): cert and check report their
 * verdict there, and stdout stays one document a command. */
void cli_json_error(FILE *f, const char *where, ims_err e, int exit_code, const char *msg,
                    unsigned long docs_before);
/* Fields that several commands print, written one way everywhere (the
 * man page's JSON section lists them):
 *   date  ISO 8601 with the local offset ("2025-03-17T23:22:00+09:00"),
 *         the message's arrival (INTERNALDATE), or null;
 *   from  {"name": decoded display name or null, "address":
 *         "mailbox@host" or null}, or null when the message has none. */
void cli_iso_date(int64_t t, char *buf, size_t n);
void cli_json_date(struct ims_json *j, int64_t t);
void cli_json_from(struct ims_json *j, int have, const char *name, size_t name_len,
                   const char *addr, size_t addr_len);

/* "tls": {"version", "cipher"} (null before a handshake): one shape in
 * cert and check. */
struct ims_tls_info;
void cli_json_tls(struct json_out *j, const struct ims_tls_info *ti);

/* How many JSON documents json_finish() has written. */
unsigned long cli_json_docs(void);

/* Rows and columns of the terminal on standard output (else LINES and
 * COLUMNS, else 24 by 80). */
void cli_term_size(int *rows_r, int *cols_r);

#endif
