/* Output for people and programs: JSON documents and safe server text. */
#ifndef IMAPSH_CLI_OUTPUT_H
#define IMAPSH_CLI_OUTPUT_H

#include <stdint.h>
#include <stdio.h>

#include "imapsh/buf.h"
#include "imapsh/json.h"

/* The front end's JSON document: the core writer into memory, written
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

#endif
