/* The one option parser: a command line read against a command's
 * declared options (opts.h).  Pure. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/opts.h"
#include "imapsh/number.h"
#include "imapsh/sanitize.h"
#include "imapsh/words.h"

const struct cli_opt *cli_opts_find(const struct cli_opt *decl, const char *name)
{
	for (; decl != NULL && decl->name != NULL; decl++)
		if (strcmp(decl->name, name) == 0)
			return decl;
	return NULL;
}

int cli_opt_takes_value(const struct cli_opt *o)
{
	return o->kind != CLI_OPT_FLAG;
}

const struct cli_opt *cli_opts_find_long(const struct cli_opt *decl, const char *name, size_t len)
{
	for (; decl != NULL && decl->name != NULL; decl++)
		if (decl->name[0] != '\0' && strlen(decl->name) == len &&
		    strncmp(decl->name, name, len) == 0)
			return decl;
	return NULL;
}

const struct cli_opt *cli_opts_find_short(const struct cli_opt *decl, char c)
{
	for (; decl != NULL && decl->name != NULL; decl++)
		if (decl->shrt != 0 && decl->shrt == c)
			return decl;
	return NULL;
}

/* An unknown option: its name, the nearest declared one, the way out. */
static void unknown(const struct cli_opt *decl, const char *cmd, const char *word, char *why,
                    size_t n)
{
	char names[CLI_OPTS_MAX + 1][64], safe[128], key[64];
	const char *cands[CLI_OPTS_MAX + 1];
	const char *near;
	size_t k = 0;

	for (; decl != NULL && decl->name != NULL && k < CLI_OPTS_MAX; decl++) {
		snprintf(names[k], sizeof(names[k]), "--%s", decl->name);
		cands[k] = names[k];
		k++;
	}
	snprintf(names[k], sizeof(names[k]), "--help");
	cands[k] = names[k];
	k++;
	snprintf(key, sizeof(key), "%.*s", (int)strcspn(word, "="), word);
	near = ims_words_nearest(key, cands, k);
	ims_sanitize_fixed(word, strlen(word), safe, sizeof(safe));
	if (near != NULL && strcmp(near, "--help") != 0)
		snprintf(why, n,
		         "%s: unknown option '%s': did you mean '%s'? ('%s --help' lists "
		         "its options; '--' before an operand that starts with '-')",
		         cmd, safe, near, cmd);
	else
		snprintf(why, n,
		         "%s: unknown option '%s' ('%s --help' lists its options; '--' "
		         "before an operand that starts with '-')",
		         cmd, safe, cmd);
}

/* Whether v is one of the '|'-separated words of meta. */
static int word_ok(const char *meta, const char *v)
{
	size_t vl = strlen(v);

	while (meta != NULL && *meta != '\0') {
		size_t l = strcspn(meta, "|");

		if (l == vl && strncmp(meta, v, l) == 0)
			return 1;
		meta += l + (meta[l] == '|');
	}
	return 0;
}

/* Check and store the value of option o (index i). */
static int take(const struct cli_opt *o, size_t i, const char *cmd, const char *v,
                struct cli_parsed *p, char *why, size_t n)
{
	char safe[128];

	ims_sanitize_fixed(v, strlen(v), safe, sizeof(safe));
	if (o->kind == CLI_OPT_NUMBER &&
	    ims_number_parse(v, strlen(v), o->min, o->max, &p->num[i]) != 0) {
		snprintf(why, n, "%s: --%s: '%s' is not a number from %" PRIu64 " to %" PRIu64, cmd,
		         o->name, safe, o->min, o->max);
		return -1;
	}
	if (o->kind == CLI_OPT_WORD && !word_ok(o->meta, v)) {
		char alts[128];
		size_t k, a = 0;

		for (k = 0; o->meta[k] != '\0' && a + 5 < sizeof(alts); k++) {
			if (o->meta[k] == '|') {
				a += (size_t)snprintf(alts + a, sizeof(alts) - a, "%s",
				                      strchr(o->meta + k + 1, '|') ? ", " : " or ");
				continue;
			}
			alts[a++] = o->meta[k];
		}
		alts[a] = '\0';
		snprintf(why, n, "%s: --%s takes %s, not '%s'", cmd, o->name, alts, safe);
		return -1;
	}
	p->val[i] = v;
	return 0;
}

int cli_opts_parse(const struct cli_opt *decl, unsigned flags, int argc, char **argv,
                   char **operands, struct cli_parsed *p, char *why, size_t why_n)
{
	const char *cmd = argc > 0 ? argv[0] : "";
	int i, dashdash = 0;

	memset(p, 0, sizeof(*p));
	p->decl = decl;
	p->operands = operands;
	if (why_n > 0)
		why[0] = '\0';
	if ((flags & CLI_OPTS_RAW) && argc == 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		p->help = 1;
		argc = 1;
	}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct cli_opt *o = NULL;
		const char *v = NULL;

		if (dashdash || a[0] != '-' || a[1] == '\0' || (flags & CLI_OPTS_RAW)) {
			operands[p->n_operands++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			p->help = 1;
			continue;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');

			o = cli_opts_find_long(decl, a + 2,
			                       eq != NULL ? (size_t)(eq - a - 2) : strlen(a + 2));
			if (o != NULL && eq != NULL) {
				if (!cli_opt_takes_value(o)) {
					snprintf(why, why_n, "%s: --%s takes no value", cmd,
					         o->name);
					return -1;
				}
				v = eq + 1;
			}
		} else if (a[2] == '\0') {
			o = cli_opts_find_short(decl, a[1]);
		}
		if (o == NULL) {
			if (flags & CLI_OPTS_DASH_OPERANDS) {
				operands[p->n_operands++] = argv[i];
				continue;
			}
			unknown(decl, cmd, a, why, why_n);
			return -1;
		}
		if (cli_opt_takes_value(o) && v == NULL) {
			if (i + 1 >= argc) {
				snprintf(why, why_n, "%s: --%s needs a value (%s)", cmd, o->name,
				         o->meta != NULL ? o->meta : "VALUE");
				return -1;
			}
			v = argv[++i];
		}
		if ((size_t)(o - decl) >= CLI_OPTS_MAX) {
			snprintf(why, why_n, "%s: --%s: too many options declared", cmd, o->name);
			return -1;
		}
		if (take(o, (size_t)(o - decl), cmd, v != NULL ? v : "", p, why, why_n) != 0)
			return -1;
	}
	operands[p->n_operands] = NULL;
	return 0;
}

static int index_of(const struct cli_parsed *p, const char *name)
{
	const struct cli_opt *o = cli_opts_find(p->decl, name);

	return o != NULL ? (int)(o - p->decl) : -1;
}

int cli_opt_flag(const struct cli_parsed *p, const char *name)
{
	int i = index_of(p, name);

	return i >= 0 && p->val[i] != NULL;
}

const char *cli_opt_str(const struct cli_parsed *p, const char *name)
{
	int i = index_of(p, name);

	return i >= 0 ? p->val[i] : NULL;
}

uint64_t cli_opt_num(const struct cli_parsed *p, const char *name, uint64_t dflt)
{
	int i = index_of(p, name);

	return i >= 0 && p->val[i] != NULL ? p->num[i] : dflt;
}

const char *cli_opt_synopsis(const struct cli_opt *o, char *buf, size_t n)
{
	char sh[8] = "";

	if (o->shrt != 0)
		snprintf(sh, sizeof(sh), "-%c, ", o->shrt);
	if (cli_opt_takes_value(o))
		snprintf(buf, n, "%s--%s %s", sh, o->name, o->meta != NULL ? o->meta : "VALUE");
	else if ((o->flags & CLI_OPTF_OPTVAL) != 0)
		snprintf(buf, n, "%s--%s[=%s]", sh, o->name, o->meta != NULL ? o->meta : "VALUE");
	else
		snprintf(buf, n, "%s--%s", sh, o->name);
	return buf;
}

const struct cli_opt cli_opts_json[] = {CLI_OPT_JSON, CLI_OPT_LIST_END};
