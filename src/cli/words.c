/* Split a command line into words, as a shell would for simple quoting:
 * 'single' and "double" quotes, backslash escapes, ';' between commands
 * (for -c and the shell), '#' starting a comment at the start of a word. */
#include <stdlib.h>
#include <string.h>

#include "cli/words.h"

void words_init(struct words *w)
{
	memset(w, 0, sizeof(*w));
}

void words_release(struct words *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	words_init(w);
}

static int push(struct words *w, const char *s, size_t len)
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

ims_err words_split(const char *line, const char **rest_r, struct words *w, struct ims_error *err)
{
	const char *p = line;
	char *buf = malloc(strlen(line) + 1);
	size_t len;

	if (buf == NULL)
		return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
	*rest_r = NULL;
	for (;;) {
		int in_word = 0;
		char q = 0;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p == '\0' || (*p == '#' && q == 0))
			break;
		if (*p == ';') {
			*rest_r = p + 1;
			break;
		}
		len = 0;
		for (; *p != '\0'; p++) {
			if (q == 0 && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ';'))
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
			if (*p == '\\' && q != '\'' && p[1] != '\0') {
				p++;
				buf[len++] = *p;
				in_word = 1;
				continue;
			}
			buf[len++] = *p;
			in_word = 1;
		}
		if (q != 0) {
			free(buf);
			return ims_error_set(err, IMS_ERR_USAGE, "unterminated %c quote", q);
		}
		if (in_word && push(w, buf, len) != 0) {
			free(buf);
			return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
		}
	}
	free(buf);
	return IMS_OK;
}
