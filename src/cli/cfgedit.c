/* The config file as lines: find, take out and add an account section. */
#include "cli/cfgedit.h"

#include <stdio.h>
#include <string.h>

#include "imapsh/sanitize.h"

/* The line at text[*pos..), without its end and the white space around
 * it, as [*b, *e); *pos moves past it.  0 at the end of text. */
static int next_line(const char *text, size_t len, size_t *pos, size_t *b, size_t *e, size_t *start)
{
	size_t i = *pos;

	if (i >= len)
		return 0;
	*start = i;
	while (i < len && text[i] != '\n')
		i++;
	*pos = i < len ? i + 1 : i;
	*b = *start;
	*e = i;
	while (*b < *e && (text[*b] == ' ' || text[*b] == '\t'))
		(*b)++;
	while (*e > *b && (text[*e - 1] == ' ' || text[*e - 1] == '\t' || text[*e - 1] == '\r'))
		(*e)--;
	return 1;
}

static int is_header(const char *text, size_t b, size_t e, const char *name)
{
	size_t n = strlen(name);

	if (e - b < 2 || text[b] != '[')
		return 0;
	return e - b == n + 10 && memcmp(text + b, "[account ", 9) == 0 &&
	       memcmp(text + b + 9, name, n) == 0 && text[e - 1] == ']';
}

int cfgedit_has_account(const char *text, size_t len, const char *name)
{
	size_t pos = 0, b, e, st;

	while (next_line(text, len, &pos, &b, &e, &st))
		if (is_header(text, b, e, name))
			return 1;
	return 0;
}

ims_err cfgedit_put_account(const char *text, size_t len, const char *name, const char *comment,
                            const char *body, int replace, struct ims_buf *out,
                            struct ims_error *err)
{
	size_t pos = 0, b, e, st;
	int skipping = 0;

	if (!replace && cfgedit_has_account(text, len, name))
		return ims_error_set(err, IMS_ERR_USAGE, "[account %s] is there already", name);
	while (next_line(text, len, &pos, &b, &e, &st)) {
		if (b < e && text[b] == '[')
			skipping = is_header(text, b, e, name);
		if (skipping)
			continue;
		if (ims_buf_append(out, text + st, pos - st) != IMS_OK)
			return ims_error_nomem(err);
	}
	/* the kept text ends with a line end, then one blank line */
	if (out->len > 0 && out->data[out->len - 1] != '\n' && ims_buf_puts(out, "\n") != IMS_OK)
		return ims_error_nomem(err);
	if (out->len > 0 && ims_buf_puts(out, "\n") != IMS_OK)
		return ims_error_nomem(err);
	if ((comment != NULL && ims_buf_printf(out, "# %s\n", comment) != IMS_OK) ||
	    ims_buf_printf(out, "[account %s]\n%s", name, body) != IMS_OK)
		return ims_error_nomem(err);
	return IMS_OK;
}

int cfgedit_value_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t')
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] == '#' || s[i] == ';')
			return 0;
	/* no control (C0, DEL, C1), bidi or invisible character, valid UTF-8:
	 * what is written here is shown on terminals later */
	return ims_sanitize_is_clean(s, n, IMS_SANITIZE_LINE);
}

int cfgedit_name_ok(const char *s)
{
	return cfgedit_value_ok(s) && strchr(s, ']') == NULL && strchr(s, '[') == NULL &&
	       strlen(s) < 64;
}
