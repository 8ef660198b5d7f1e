/* The option parser (src/cli/opts.c) over words cut at NUL bytes, against
 * a declaration with every kind of option; the first byte chooses the
 * parser flags.  Properties: a failure has words naming the command and
 * no raw control byte; on success the operands are the argv words in
 * order (NULL-terminated), every value read back is one of the words
 * (or inside one, after '='), a flag's is "", numbers are within their range and WORD
 * values are one of their words; parsing twice gives the same result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/opts.h"

#define MAX_WORDS 64

static const struct cli_opt decl[] = {
    CLI_FLAG("login", 'l', "a flag"),
    CLI_VALUE("folder", 'f', CLI_OPT_FOLDER, "FOLDER", "a folder"),
    CLI_NUMBER("days", 'd', "N", 3, 36500, "a number"),
    CLI_VALUE("format", 0, CLI_OPT_WORD, "maildir|mbox", "one of two words"),
    CLI_VALUE("output", 'o', CLI_OPT_FILE, "FILE", "a file"),
    CLI_VALUE("at", 0, CLI_OPT_TIME, "TIME", "a time"),
    CLI_OPT_JSON,
    CLI_OPT_LIST_END,
};

static void clean(const char *msg)
{
	const unsigned char *p;

	if (strncmp(msg, "cmd: ", 5) != 0)
		abort();
	for (p = (const unsigned char *)msg; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			abort();
}

/* s points into one of the argv words. */
static int in_words(const char *s, char **argv, int argc)
{
	int i;

	for (i = 1; i < argc; i++)
		if (s >= argv[i] && s <= argv[i] + strlen(argv[i]))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned flag_sets[4] = {0, CLI_OPTS_DASH_OPERANDS, CLI_OPTS_RAW,
	                                      CLI_OPTS_DASH_OPERANDS | CLI_OPTS_RAW};
	struct cli_parsed p, q;
	char *argv[MAX_WORDS + 2], *ops[MAX_WORDS + 2], *ops2[MAX_WORDS + 2];
	char why[256], why2[256];
	unsigned flags;
	char *buf;
	int argc = 1, rc, i, k;
	size_t start;

	if (size == 0)
		return 0;
	flags = flag_sets[data[0] & 3];
	buf = malloc(size);
	if (buf == NULL)
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	argv[0] = "cmd";
	for (start = 0; start < size - 1 && argc <= MAX_WORDS;) {
		argv[argc++] = buf + start;
		start += strlen(buf + start) + 1;
	}
	argv[argc] = NULL;
	rc = cli_opts_parse(decl, flags, argc, argv, ops, &p, why, sizeof(why));
	if (cli_opts_parse(decl, flags, argc, argv, ops2, &q, why2, sizeof(why2)) != rc)
		abort();
	if (rc != 0) {
		if (rc != -1 || strcmp(why, why2) != 0)
			abort();
		clean(why);
		free(buf);
		return 0;
	}
	if (p.n_operands != q.n_operands || p.help != q.help || ops[p.n_operands] != NULL)
		abort();
	/* the operands are argv words, in order */
	for (i = 0, k = 1; i < p.n_operands; i++) {
		while (k < argc && argv[k] != ops[i])
			k++;
		if (k == argc)
			abort();
		k++;
	}
	for (i = 0; decl[i].name != NULL; i++) {
		const char *v = cli_opt_str(&p, decl[i].name);

		if (v == NULL)
			continue;
		if (decl[i].kind == CLI_OPT_FLAG ? v[0] != '\0' : !in_words(v, argv, argc))
			abort();
		if (decl[i].kind == CLI_OPT_NUMBER) {
			uint64_t n = cli_opt_num(&p, decl[i].name, 0);

			if (n < decl[i].min || n > decl[i].max)
				abort();
		}
		if (decl[i].kind == CLI_OPT_WORD && strcmp(v, "maildir") != 0 &&
		    strcmp(v, "mbox") != 0)
			abort();
		if (q.val[i] != v)
			abort();
	}
	if ((flags & CLI_OPTS_RAW) && !p.help) {
		/* every word is an operand */
		if (p.n_operands != argc - 1)
			abort();
	}
	free(buf);
	return 0;
}
