/* The shell's Tab completion, made from the command table: command
 * names, the options each command declares (and nothing else), the words
 * of a WORD option, folder names (the cache in foldercache.c, filled at
 * the first Tab that needs it), command names and files, as the usage
 * line's metavariables say. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <readline/readline.h>

#include "cli/cli.h"
#include "cli/tabcomplete.h"
#include "imapsh/words.h"
static struct cli *repl_cli; /* for the completion callbacks */

struct strv {
	char **v;
	size_t n, cap;
};

static void strv_add(struct strv *s, const char *str, size_t len)
{
	size_t i;
	char *d;

	for (i = 0; i < s->n; i++)
		if (strlen(s->v[i]) == len && strncmp(s->v[i], str, len) == 0)
			return;
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 32;
		char **nv = realloc(s->v, nc * sizeof(*nv));

		if (nv == NULL)
			return;
		s->v = nv;
		s->cap = nc;
	}
	d = malloc(len + 1);
	if (d == NULL)
		return;
	memcpy(d, str, len);
	d[len] = '\0';
	s->v[s->n++] = d;
}

static void strv_free(struct strv *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static struct strv comp; /* the candidates of the completion under way */
static size_t comp_next;

static char *comp_gen(const char *text, int state)
{
	(void)text;
	if (state == 0)
		comp_next = 0;
	if (comp_next < comp.n)
		return strdup(comp.v[comp_next++]);
	return NULL;
}

static void add_if_prefix(struct strv *s, const char *cand, size_t clen, const char *text, int fold)
{
	size_t tl = strlen(text);

	if (clen < tl)
		return;
	if (fold ? strncasecmp(cand, text, tl) != 0 : strncmp(cand, text, tl) != 0)
		return;
	strv_add(s, cand, clen);
}

static void add_commands(const char *text)
{
	size_t i, k, n;
	const struct cli_cmd *t = cli_cmd_table(&n);

	for (i = 0; i < n; i++) {
		add_if_prefix(&comp, t[i].name, strlen(t[i].name), text, 1);
		for (k = 0; k < 3 && t[i].aliases[k] != NULL; k++)
			add_if_prefix(&comp, t[i].aliases[k], strlen(t[i].aliases[k]), text, 1);
	}
	add_if_prefix(&comp, "exit", 4, text, 1);
	add_if_prefix(&comp, "quit", 4, text, 1);
}

/* The options cmd declares (opts.h) and --help: nothing else is
 * accepted on a shell command's line, so nothing else is offered. */
static void add_options(const struct cli_cmd *cmd, const char *text)
{
	const struct cli_opt *o;
	char buf[64];

	for (o = cmd->options; o != NULL && o->name != NULL; o++) {
		snprintf(buf, sizeof(buf), "--%s", o->name);
		add_if_prefix(&comp, buf, strlen(buf), text, 0);
	}
	add_if_prefix(&comp, "--help", 6, text, 0);
}

/* A folder name as a word: within the quote the user opened, or in
 * double quotes when any candidate needs them. */
static int needs_quotes(const char *s)
{
	return s[0] == '\0' || strpbrk(s, " \t;#'\"\\") != NULL;
}

static void add_quoted(const char *name, char inq, int force)
{
	size_t len = strlen(name), i, o = 0;
	char *d = malloc(2 * len + 3);

	if (d == NULL)
		return;
	if (inq == '\'') {
		strv_add(&comp, name, len);
		free(d);
		return;
	}
	if (inq == 0 && force)
		d[o++] = '"';
	for (i = 0; i < len; i++) {
		if ((inq == '"' || force) && (name[i] == '"' || name[i] == '\\'))
			d[o++] = '\\';
		d[o++] = name[i];
	}
	if (inq == 0 && force)
		d[o++] = '"';
	strv_add(&comp, d, o);
	free(d);
}

static void add_folders(struct cli *c, const char *text, char inq)
{
	size_t i, tl = strlen(text);
	int force = 0;

	/* the special-use roles: ":sent", ":trash"... */
	for (i = 0; text[0] == ':' && cli_folder_roles[i] != NULL; i++) {
		char role[32];

		snprintf(role, sizeof(role), ":%s", cli_folder_roles[i]);
		if (strncasecmp(role, text, tl) == 0)
			add_quoted(role, inq, 0);
	}

	for (i = 0; i < c->n_folders; i++) {
		const char *f = c->folders[i];
		int fold = strcasecmp(f, "INBOX") == 0;

		if (fold ? strncasecmp(f, text, tl) == 0 : strncmp(f, text, tl) == 0)
			force |= inq == 0 && needs_quotes(f);
	}
	for (i = 0; i < c->n_folders; i++) {
		const char *f = c->folders[i];
		int fold = strcasecmp(f, "INBOX") == 0;

		if (fold ? strncasecmp(f, text, tl) == 0 : strncmp(f, text, tl) == 0)
			add_quoted(f, inq, force);
	}
}

enum arg_kind { ARG_NOTHING, ARG_FOLDER, ARG_COMMAND, ARG_FILE };

static enum arg_kind metavar_kind(const char *m, size_t len)
{
	if (len >= 3 && strncmp(m + len - 3, "...", 3) == 0)
		len -= 3;
	if ((len == 6 && strncmp(m, "FOLDER", 6) == 0) || (len == 3 && strncmp(m, "OLD", 3) == 0) ||
	    (len == 3 && strncmp(m, "NEW", 3) == 0))
		return ARG_FOLDER;
	if (len == 7 && strncmp(m, "COMMAND", 7) == 0)
		return ARG_COMMAND;
	if ((len == 4 && (strncmp(m, "FILE", 4) == 0 || strncmp(m, "PATH", 4) == 0)) ||
	    (len == 3 && strncmp(m, "DIR", 3) == 0))
		return ARG_FILE;
	return ARG_NOTHING;
}

/* Whether the option word a takes a value, and what kind of value. */
static int option_value(const struct cli_cmd *cmd, const char *a, enum arg_kind *kind_r)
{
	const struct cli_opt *o;

	if (strchr(a, '=') != NULL)
		return 0;
	for (o = cmd->options; o != NULL && o->name != NULL; o++) {
		if (!((a[1] == '-' && strcmp(a + 2, o->name) == 0) ||
		      (o->shrt != 0 && a[1] == o->shrt && a[2] == '\0')))
			continue;
		if (!cli_opt_takes_value(o))
			return 0;
		switch (o->kind) {
		case CLI_OPT_FOLDER: *kind_r = ARG_FOLDER; break;
		case CLI_OPT_FILE:
		case CLI_OPT_DIR: *kind_r = ARG_FILE; break;
		case CLI_OPT_WORD: *kind_r = ARG_NOTHING; break;
		default: *kind_r = ARG_NOTHING; break;
		}
		return 1;
	}
	return 0;
}

/* The words of a WORD option's value ("maildir|mbox"). */
static void add_option_words(const struct cli_cmd *cmd, const char *a, const char *text)
{
	const struct cli_opt *o;

	for (o = cmd->options; o != NULL && o->name != NULL; o++) {
		const char *w;

		if (o->kind != CLI_OPT_WORD || !((a[1] == '-' && strcmp(a + 2, o->name) == 0) ||
		                                 (o->shrt != 0 && a[1] == o->shrt && a[2] == '\0')))
			continue;
		for (w = o->meta; *w != '\0';) {
			size_t l = strcspn(w, "|");

			add_if_prefix(&comp, w, l, text, 0);
			w += l + (w[l] == '|');
		}
	}
}

/* Operand pos of cmd, from its usage: the words after the name, brackets
 * dropped; '|' separates alternatives ("list | add HOST PIN"), the first
 * word of one in lower case is a keyword that selects it; a last word
 * ending in "..." repeats.  Keywords for pos go into comp. */
static enum arg_kind usage_kind(const struct cli_cmd *cmd, char **ops, size_t pos, const char *text)
{
	char toks[32][64];
	size_t nt = 0, start;
	const char *p = cmd->usage + strcspn(cmd->usage, " ");
	enum arg_kind kind = ARG_NOTHING;

	/* Tokens, brackets and parentheses dropped; "|" kept as its own. */
	while (*p != '\0' && nt < 32) {
		size_t n = 0;

		while (*p == ' ' || *p == '[' || *p == ']' || *p == '(' || *p == ')')
			p++;
		if (*p == '|') {
			snprintf(toks[nt++], 64, "|");
			p++;
			continue;
		}
		while (*p != '\0' && *p != ' ' && *p != '|' && n < 63) {
			if (*p != '[' && *p != ']' && *p != '(' && *p != ')')
				toks[nt][n++] = *p;
			p++;
		}
		if (n > 0) {
			toks[nt][n] = '\0';
			nt++;
		}
	}
	for (start = 0; start <= nt;) {
		size_t end = start, len, k;
		int fits = 1;

		while (end < nt && strcmp(toks[end], "|") != 0)
			end++;
		len = end - start;
		for (k = 0; k < pos && fits; k++) {
			const char *t = k < len ? toks[start + k] : NULL;

			if (t == NULL && len > 0 && strstr(toks[end - 1], "...") != NULL)
				t = toks[end - 1];
			if (t == NULL || (t[0] >= 'a' && t[0] <= 'z' && strcmp(t, ops[k]) != 0))
				fits = 0;
		}
		if (fits) {
			const char *t = pos < len ? toks[start + pos] : NULL;

			if (t == NULL && len > 0 && strstr(toks[end - 1], "...") != NULL)
				t = toks[end - 1];
			if (t != NULL && t[0] >= 'a' && t[0] <= 'z')
				add_if_prefix(&comp, t, strlen(t), text, 0);
			else if (t != NULL && kind == ARG_NOTHING)
				kind = metavar_kind(t, strlen(t));
		}
		start = end + 1;
	}
	return kind;
}

char **cli_tab_complete(const char *text, int start, int end)
{
	struct cli *c = repl_cli;
	char inq = (char)rl_completion_quote_character;
	struct ims_words w;
	struct ims_error err;
	const struct cli_cmd *cmd;
	enum arg_kind kind = ARG_NOTHING;
	const char *p, *rest, *opt = NULL;
	enum arg_kind vkind = ARG_NOTHING;
	char *prefix, **ops = NULL;
	char **matches = NULL;
	size_t plen = (size_t)start, i, nops = 0;
	int pending = 0;

	(void)end;
	rl_attempted_completion_over = 1;
	strv_free(&comp);
	if (inq != 0 && plen > 0 && rl_line_buffer[plen - 1] == inq)
		plen--;
	prefix = strndup(rl_line_buffer, plen);
	if (prefix == NULL)
		return NULL;
	/* The words of the command being typed: the last ';' part. */
	ims_words_init(&w);
	ims_error_init(&err);
	p = prefix;
	for (;;) {
		ims_words_release(&w);
		if (ims_words_split(p, &rest, &w, &err) != IMS_OK)
			goto out;
		if (rest == NULL)
			break;
		p = rest;
	}
	if (w.n == 0) {
		add_commands(text);
		goto done;
	}
	cmd = cli_cmd_find(w.v[0]);
	if (cmd == NULL)
		goto out;
	ops = calloc(w.n, sizeof(*ops));
	if (ops == NULL)
		goto out;
	for (i = 1; i < w.n; i++) {
		const char *a = w.v[i];

		if (pending) {
			pending = 0;
			continue;
		}
		if (a[0] == '-' && a[1] != '\0') {
			pending = option_value(cmd, a, &vkind);
			opt = a;
			continue;
		}
		ops[nops++] = w.v[i];
	}
	if (pending) {
		kind = vkind;
		add_option_words(cmd, opt, text);
	} else if (text[0] == '-' && inq == 0)
		add_options(cmd, text);
	else
		kind = usage_kind(cmd, ops, nops, text);
	switch (kind) {
	case ARG_FOLDER:
		cli_folders_fill(c); /* the first Tab of a session asks the server */
		add_folders(c, text, inq);
		break;
	case ARG_COMMAND: add_commands(text); break;
	case ARG_FILE:
		rl_attempted_completion_over = 0; /* readline's file names */
		goto out;
	case ARG_NOTHING: break;
	}
done:
	if (comp.n > 0)
		matches = rl_completion_matches(text, comp_gen);
out:
	free(ops);
	ims_words_release(&w);
	free(prefix);
	return matches;
}

void cli_tab_begin(struct cli *c)
{
	repl_cli = c;
}

void cli_tab_end(void)
{
	strv_free(&comp);
	repl_cli = NULL;
}
