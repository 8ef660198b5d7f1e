/* Command lines into words (words.h). */
#include "imapsh/words.h"

#include <stdlib.h>
#include <string.h>

static char lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

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

/* Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions), ASCII case-insensitive. */
static size_t distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t d[IMS_WORDS_NEAREST_MAX + 1][IMS_WORDS_NEAREST_MAX + 1];
	size_t i, j;

	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			size_t cost = lower(a[i - 1]) != lower(b[j - 1]);
			size_t v = d[i - 1][j] + 1;

			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

const char *ims_words_nearest(const char *word, const char *const *cands, size_t n)
{
	size_t i, lw = strlen(word), best_d = (size_t)-1;
	size_t limit = lw >= 5 ? 2 : 1;
	const char *best = NULL;

	if (lw == 0 || lw > IMS_WORDS_NEAREST_MAX)
		return NULL;
	for (i = 0; i < n; i++) {
		size_t lc = strlen(cands[i]), d;

		if (lc > IMS_WORDS_NEAREST_MAX)
			continue;
		d = distance(word, lw, cands[i], lc);
		if (d < best_d) {
			best_d = d;
			best = cands[i];
		}
	}
	return best_d <= limit ? best : NULL;
}
