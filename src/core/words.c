/* Command lines into words (words.h). */
#include "imapsh/words.h"

#include <stdlib.h>
#include <string.h>

void ims_words_init(struct ims_words *w)
{
	memset(w, 0, sizeof(*w));
}

void ims_words_release(struct ims_words *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	ims_words_init(w);
}

static int push(struct ims_words *w, const char *s, size_t len)
{
	char *d;

	if (w->n + 2 > w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 8;
		char **nv = realloc(w->v, nc * sizeof(*nv));

		if (nv == NULL)
			return -1;
		w->v = nv;
		w->cap = nc;
	}
	d = malloc(len + 1);
	if (d == NULL)
		return -1;
	memcpy(d, s, len);
	d[len] = '\0';
	w->v[w->n++] = d;
	w->v[w->n] = NULL;
	return 0;
}

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Drop the words added since the call began (n0 of them were there). */
static void unwind(struct ims_words *w, size_t n0)
{
	while (w->n > n0)
		free(w->v[--w->n]);
	if (w->v != NULL)
		w->v[w->n] = NULL;
}

ims_err ims_words_split(const char *line, const char **rest_r, struct ims_words *w,
                        struct ims_error *err)
{
	const char *p = line;
	size_t n0 = w->n;
	char *buf;

	*rest_r = NULL;
	buf = malloc(strlen(line) + 1);
	if (buf == NULL)
		return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
	for (;;) {
		size_t len = 0;
		int in_word = 0;
		char q = 0;

		while (is_blank(*p))
			p++;
		if (*p == '#')
			p += strcspn(p, "\n");
		if (*p == '\0')
			break;
		if (*p == ';' || *p == '\n') {
			*rest_r = p + 1;
			break;
		}
		for (; *p != '\0'; p++) {
			if (q == 0 && (is_blank(*p) || *p == ';' || *p == '\n'))
				break;
			if (q == 0 && (*p == '\'' || *p == '"')) {
				q = *p;
				in_word = 1;
				continue;
			}
			if (q != 0 && *p == q) {
				q = 0;
				continue;
			}
			if (*p == '\\' && q != '\'' && p[1] != '\0')
				p++;
			buf[len++] = *p;
			in_word = 1;
		}
		if (q != 0) {
			free(buf);
			unwind(w, n0);
			return ims_error_set(err, IMS_ERR_USAGE, "unterminated %s quote",
			                     q == '"' ? "double" : "single");
		}
		if (in_word && push(w, buf, len) != 0) {
			free(buf);
			unwind(w, n0);
			return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
		}
	}
	free(buf);
	return IMS_OK;
}
