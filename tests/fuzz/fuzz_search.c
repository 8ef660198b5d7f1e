/* The search compiler (search.h), fed words cut from the input at NUL and
 * newline bytes.  Properties: a failure has words and no keys; the keys'
 * parentheses balance and never close before they open; a RAW key (sent
 * to the server as it is) is "(", ")" or printable ASCII without a blank
 * or any of (){"\ , so no user word can end or split the command; a
 * STRING key is (the start of) a word; compiling again gives the same keys. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapsh/search.h"
#include "imapsh/seqset.h"

#define WORDS_MAX 64

/* The front end's message-set grammar in miniature ("#" for sequence
 * numbers). */
static ims_err set_fn(void *ctx, const char *word, int *seq_r, struct ims_buf *set_r,
                      struct ims_error *err)
{
	struct ims_seqset s;
	ims_err e;

	(void)ctx;
	*seq_r = word[0] == '#';
	ims_seqset_init(&s);
	e = ims_seqset_parse(&s, word + *seq_r, strlen(word + *seq_r), err);
	if (e == IMS_OK)
		e = ims_seqset_format(&s, set_r, err);
	ims_seqset_release(&s);
	return e == IMS_OK ? IMS_OK : ims_error_set(err, IMS_ERR_USAGE, "not a message set");
}

static void check_raw(const char *p)
{
	size_t i, n = strlen(p);

	if (n == 0)
		abort();
	if (n == 1 && (p[0] == '(' || p[0] == ')'))
		return;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch <= 0x20 || ch >= 0x7f || strchr("(){\"\\", ch) != NULL)
			abort();
	}
}

/* A STRING key is a word or a word's start (closing parentheses cut). */
static int inside(const char *p, size_t len, const char *buf, size_t size)
{
	size_t i;

	if (p == NULL)
		return 0;
	for (i = 0; i + len <= size; i++)
		if (memcmp(buf + i, p, len) == 0)
			return 1;
	return 0;
}

static void compile(char *const *words, size_t nw, const char *buf, size_t size,
                    struct ims_search_prog *prog, ims_err *e_r)
{
	struct ims_error err;
	size_t i;
	long depth = 0;

	ims_search_prog_init(prog);
	ims_error_init(&err);
	*e_r = ims_search_compile(prog, words, nw, set_fn, NULL, &err);
	if (*e_r != IMS_OK) {
		if (prog->n != 0 || err.msg[0] == '\0' ||
		    (*e_r != IMS_ERR_USAGE && *e_r != IMS_ERR_NOMEM))
			abort();
		return;
	}
	if (prog->n == 0)
		abort();
	for (i = 0; i < prog->n; i++) {
		const struct ims_arg *a = &prog->keys[i];

		if (a->kind == IMS_ARG_RAW) {
			check_raw(a->p);
			if (strcmp(a->p, "(") == 0)
				depth++;
			else if (strcmp(a->p, ")") == 0 && --depth < 0)
				abort();
		} else if (a->kind != IMS_ARG_STRING || !inside(a->p, a->len, buf, size)) {
			abort();
		}
	}
	if (depth != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ims_search_prog p1, p2;
	char *buf, *words[WORDS_MAX];
	size_t nw = 0, i, start = 0;
	ims_err e1, e2;

	if (size > 4096)
		return 0;
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (i = 0; i <= size && nw < WORDS_MAX; i++)
		if (i == size || buf[i] == '\0' || buf[i] == '\n') {
			buf[i] = '\0';
			words[nw++] = buf + start;
			start = i + 1;
		}
	compile(words, nw, buf, size + 1, &p1, &e1);
	compile(words, nw, buf, size + 1, &p2, &e2);
	if (e1 != e2 || p1.n != p2.n)
		abort();
	for (i = 0; i < p1.n; i++)
		if (p1.keys[i].kind != p2.keys[i].kind ||
		    (p1.keys[i].kind == IMS_ARG_RAW
		         ? strcmp(p1.keys[i].p, p2.keys[i].p) != 0
		         : p1.keys[i].len != p2.keys[i].len ||
		               memcmp(p1.keys[i].p, p2.keys[i].p, p1.keys[i].len) != 0))
			abort();
	ims_search_prog_release(&p1);
	ims_search_prog_release(&p2);
	ims_search_prog_release(&p1); /* release twice is safe */
	free(buf);
	return 0;
}
