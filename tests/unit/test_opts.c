/* The one option parser (src/cli/opts.c): a command line read against a
 * declaration, values checked, options read back by name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli/opts.h"

static const struct cli_opt decl[] = {
    CLI_FLAG("login", 0, "log in"),
    CLI_VALUE("folder", 'f', CLI_OPT_FOLDER, "FOLDER", "a folder"),
    CLI_NUMBER("warn-days", 0, "N", 0, 36500, "days"),
    CLI_VALUE("format", 0, CLI_OPT_WORD, "maildir|mbox|eml", "kind"),
    CLI_OPT_JSON,
    CLI_OPT_LIST_END,
};

struct run {
	struct cli_parsed p;
	char *ops[32];
	char why[512];
	int rc;
};

/* Parse the words of line (split on spaces; "_" stands for an empty word)
 * as the command "check". */
static void parse(struct run *r, unsigned flags, const char *line)
{
	static char buf[512];
	char *argv[32];
	int argc = 0;
	char *w;

	snprintf(buf, sizeof(buf), "%s", line);
	argv[argc++] = "check";
	for (w = strtok(buf, " "); w != NULL && argc < 31; w = strtok(NULL, " "))
		argv[argc++] = strcmp(w, "_") == 0 ? w + 1 : w;
	argv[argc] = NULL;
	memset(r, 0, sizeof(*r));
	r->rc = cli_opts_parse(decl, flags, argc, argv, r->ops, &r->p, r->why, sizeof(r->why));
}

static void test_flags_values_operands(void **state)
{
	struct run r;

	(void)state;
	parse(&r, 0, "host --login -f INBOX --warn-days=30 --format mbox x");
	assert_int_equal(r.rc, 0);
	assert_true(cli_opt_flag(&r.p, "login"));
	assert_false(cli_opt_flag(&r.p, "json"));
	assert_string_equal(cli_opt_str(&r.p, "folder"), "INBOX");
	assert_int_equal(cli_opt_num(&r.p, "warn-days", 21), 30);
	assert_string_equal(cli_opt_str(&r.p, "format"), "mbox");
	assert_int_equal(r.p.n_operands, 2);
	assert_string_equal(r.ops[0], "host");
	assert_string_equal(r.ops[1], "x");
	assert_null(r.ops[2]);
	/* not given: the default; not declared: never given */
	parse(&r, 0, "host");
	assert_int_equal(cli_opt_num(&r.p, "warn-days", 21), 21);
	assert_null(cli_opt_str(&r.p, "folder"));
	assert_false(cli_opt_flag(&r.p, "no-such"));
	assert_null(cli_opt_str(&r.p, "no-such"));
	/* --folder=VALUE, and a value that starts with '-' after its option */
	parse(&r, 0, "--folder=-odd --folder -x");
	assert_int_equal(r.rc, 0);
	assert_string_equal(cli_opt_str(&r.p, "folder"), "-x");
}

static void test_dashdash_and_dash(void **state)
{
	struct run r;

	(void)state;
	parse(&r, 0, "- --login -- --json -f");
	assert_int_equal(r.rc, 0);
	assert_true(cli_opt_flag(&r.p, "login"));
	assert_false(cli_opt_flag(&r.p, "json"));
	assert_int_equal(r.p.n_operands, 3);
	assert_string_equal(r.ops[0], "-");
	assert_string_equal(r.ops[1], "--json");
	assert_string_equal(r.ops[2], "-f");
}

static void test_help(void **state)
{
	struct run r;

	(void)state;
	parse(&r, 0, "host --help");
	assert_int_equal(r.rc, 0);
	assert_true(r.p.help);
	parse(&r, 0, "-h");
	assert_true(r.p.help);
	parse(&r, 0, "-- -h");
	assert_false(r.p.help);
	assert_string_equal(r.ops[0], "-h");
}

static void test_unknown_suggests(void **state)
{
	struct run r;

	(void)state;
	parse(&r, 0, "--warn-dayz 3");
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.why, "check: unknown option '--warn-dayz'"));
	assert_non_null(strstr(r.why, "did you mean '--warn-days'?"));
	parse(&r, 0, "--logn=1");
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.why, "did you mean '--login'?"));
	parse(&r, 0, "-z");
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.why, "unknown option '-z'"));
	/* a control character in the word is not echoed raw */
	parse(&r, 0, "--\x1b[31m");
	assert_int_equal(r.rc, -1);
	assert_null(strchr(r.why, '\x1b'));
}

static void test_bad_values(void **state)
{
	struct run r;

	(void)state;
	parse(&r, 0, "--folder");
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.why, "check: --folder needs a value (FOLDER)");
	parse(&r, 0, "--warn-days soon");
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.why, "check: --warn-days: 'soon' is not a number from 0 to 36500");
	parse(&r, 0, "--warn-days 36501");
	assert_int_equal(r.rc, -1);
	parse(&r, 0, "--warn-days -1");
	assert_int_equal(r.rc, -1);
	parse(&r, 0, "--warn-days 36500");
	assert_int_equal(r.rc, 0);
	assert_int_equal(cli_opt_num(&r.p, "warn-days", 0), 36500);
	parse(&r, 0, "--format maildirs");
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.why, "check: --format takes maildir, mbox or eml, not 'maildirs'");
	parse(&r, 0, "--format _");
	assert_int_equal(r.rc, -1);
	parse(&r, 0, "--login=yes");
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.why, "check: --login takes no value");
}

static void test_dash_operands_and_raw(void **state)
{
	struct run r;

	(void)state;
	parse(&r, CLI_OPTS_DASH_OPERANDS, "-x not --json --bogus");
	assert_int_equal(r.rc, 0);
	assert_true(cli_opt_flag(&r.p, "json"));
	assert_int_equal(r.p.n_operands, 3);
	assert_string_equal(r.ops[0], "-x");
	assert_string_equal(r.ops[2], "--bogus");
	parse(&r, CLI_OPTS_RAW, "SEARCH -- --json -h");
	assert_int_equal(r.rc, 0);
	assert_false(r.p.help);
	assert_false(cli_opt_flag(&r.p, "json"));
	assert_int_equal(r.p.n_operands, 4);
	parse(&r, CLI_OPTS_RAW, "--help");
	assert_true(r.p.help);
	assert_int_equal(r.p.n_operands, 0);
}

static void test_no_declaration(void **state)
{
	struct cli_parsed p;
	char *argv[] = {"mkdir", "--", "-x", "--json", NULL};
	char *ops[5], why[256];

	(void)state;
	assert_int_equal(cli_opts_parse(NULL, 0, 4, argv, ops, &p, why, sizeof(why)), 0);
	assert_int_equal(p.n_operands, 2);
	assert_int_equal(
	    cli_opts_parse(NULL, 0, 3, (char *[]){"mkdir", "-x", NULL}, ops, &p, why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "mkdir: unknown option '-x'"));
	assert_non_null(strstr(why, "'--' before an operand"));
}

static void test_synopsis(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(cli_opt_synopsis(&decl[0], buf, sizeof(buf)), "--login");
	assert_string_equal(cli_opt_synopsis(&decl[1], buf, sizeof(buf)), "-f, --folder FOLDER");
	assert_string_equal(cli_opt_synopsis(&decl[3], buf, sizeof(buf)),
	                    "--format maildir|mbox|eml");
	assert_ptr_equal(cli_opts_find(decl, "json"), &decl[4]);
	assert_null(cli_opts_find(decl, "jso"));
}

/* No raw control byte (C0, DEL) in a message. */
static void assert_clean(const char *msg)
{
	const unsigned char *p;

	for (p = (const unsigned char *)msg; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			fail_msg("raw byte 0x%02x in '%s'", *p, msg);
}

/* Read argv = {"check", words...} (words may hold any byte). */
static int parse_v(struct run *r, unsigned flags, int n, char **words)
{
	char *argv[8];
	int i;

	argv[0] = "check";
	for (i = 0; i < n; i++)
		argv[i + 1] = words[i];
	argv[n + 1] = NULL;
	memset(r, 0, sizeof(*r));
	r->rc = cli_opts_parse(decl, flags, n + 1, argv, r->ops, &r->p, r->why, sizeof(r->why));
	return r->rc;
}

/* "-X" for every byte X: the declared short form (-f, which then needs
 * its value) and -h are options, every other byte is an unknown option
 * named safely, or with CLI_OPTS_DASH_OPERANDS an operand. */
static void test_every_short_byte(void **state)
{
	struct run r;
	char word[3], *w[2] = {word, "INBOX"};
	int b;

	(void)state;
	for (b = 1; b < 256; b++) {
		word[0] = '-';
		word[1] = (char)b;
		word[2] = '\0';
		if (b == 'f') {
			assert_int_equal(parse_v(&r, 0, 2, w), 0);
			assert_string_equal(cli_opt_str(&r.p, "folder"), "INBOX");
			assert_int_equal(parse_v(&r, 0, 1, w), -1);
			assert_string_equal(r.why, "check: --folder needs a value (FOLDER)");
		} else if (b == 'h') {
			assert_int_equal(parse_v(&r, 0, 1, w), 0);
			assert_true(r.p.help);
		} else if (b == '-') {
			/* "--" ends the options */
			assert_int_equal(parse_v(&r, 0, 2, w), 0);
			assert_int_equal(r.p.n_operands, 1);
		} else {
			assert_int_equal(parse_v(&r, 0, 1, w), -1);
			assert_non_null(strstr(r.why, "check: unknown option '-"));
			assert_clean(r.why);
			assert_int_equal(parse_v(&r, CLI_OPTS_DASH_OPERANDS, 1, w), 0);
			assert_int_equal(r.p.n_operands, 1);
			assert_ptr_equal(r.ops[0], word);
		}
	}
}

/* "--X" and "--json=X" for every byte X: never an option but the
 * declared ones, a flag never takes a value, and the words are safe. */
static void test_every_long_byte(void **state)
{
	struct run r;
	char word[16], *w[1] = {word};
	int b;

	(void)state;
	for (b = 1; b < 256; b++) {
		snprintf(word, sizeof(word), "--%c", b);
		assert_int_equal(parse_v(&r, 0, 1, w), -1);
		assert_clean(r.why);
		snprintf(word, sizeof(word), "--json=%c", b);
		assert_int_equal(parse_v(&r, 0, 1, w), -1);
		assert_string_equal(r.why, "check: --json takes no value");
		snprintf(word, sizeof(word), "--warn-days=%c", b);
		assert_int_equal(parse_v(&r, 0, 1, w), b >= '0' && b <= '9' ? 0 : -1);
		assert_clean(r.why);
	}
}

/* Every prefix of "--warn-days=30": only the whole word is the option
 * (no abbreviations), "--" ends the options, and "--warn-days=" is an
 * empty value, not a number. */
static void test_every_prefix(void **state)
{
	static const char full[] = "--warn-days=30";
	struct run r;
	char word[sizeof(full)], *w[1] = {word};
	size_t n;

	(void)state;
	for (n = 1; n <= sizeof(full) - 1; n++) {
		memcpy(word, full, n);
		word[n] = '\0';
		if (n == 1) { /* "-" is an operand */
			assert_int_equal(parse_v(&r, 0, 1, w), 0);
			assert_int_equal(r.p.n_operands, 1);
		} else if (n == 2) {
			assert_int_equal(parse_v(&r, 0, 1, w), 0);
			assert_int_equal(r.p.n_operands, 0);
		} else if (n == 11) { /* "--warn-days": needs its value */
			assert_int_equal(parse_v(&r, 0, 1, w), -1);
			assert_string_equal(r.why, "check: --warn-days needs a value (N)");
		} else if (n >= 13) {
			assert_int_equal(parse_v(&r, 0, 1, w), 0);
			assert_int_equal(cli_opt_num(&r.p, "warn-days", 0), n == 13 ? 3 : 30);
		} else {
			assert_int_equal(parse_v(&r, 0, 1, w), -1);
		}
	}
}

/* An option with only a short form has the long name "" (the global -c):
 * no long word finds it, its short form does. */
static void test_short_only(void **state)
{
	static const struct cli_opt g[] = {
	    CLI_VALUE("", 'c', CLI_OPT_STRING, "'CMD'", "commands"),
	    CLI_FLAG("json", 0, "json"),
	    CLI_OPT_LIST_END,
	};

	(void)state;
	assert_null(cli_opts_find_long(g, "", 0));
	assert_null(cli_opts_find_long(g, "=x", 0));
	assert_ptr_equal(cli_opts_find_long(g, "json=1", 4), &g[1]);
	assert_null(cli_opts_find_long(g, "jso", 3));
	assert_ptr_equal(cli_opts_find_short(g, 'c'), &g[0]);
	assert_null(cli_opts_find_short(g, 'j'));
	assert_null(cli_opts_find_short(g, '\0'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flags_values_operands),
	    cmocka_unit_test(test_dashdash_and_dash),
	    cmocka_unit_test(test_help),
	    cmocka_unit_test(test_unknown_suggests),
	    cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_dash_operands_and_raw),
	    cmocka_unit_test(test_no_declaration),
	    cmocka_unit_test(test_synopsis),
	    cmocka_unit_test(test_every_short_byte),
	    cmocka_unit_test(test_every_long_byte),
	    cmocka_unit_test(test_every_prefix),
	    cmocka_unit_test(test_short_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
