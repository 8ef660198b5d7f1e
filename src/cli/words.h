#ifndef IMAPSH_CLI_WORDS_H
#define IMAPSH_CLI_WORDS_H

#include <stddef.h>

#include "imapsh/error.h"

/* A NULL-terminated vector of owned strings. */
struct words {
	char **v;
	size_t n, cap;
};

void words_init(struct words *w);
void words_release(struct words *w);
/* Split one command off line into w (appending).  *rest_r points after a
 * ';' when more commands follow, else NULL. */
ims_err words_split(const char *line, const char **rest_r, struct words *w, struct ims_error *err)
	IMS_MUST_CHECK;

#endif
