/* Command lines into words: quotes, escapes, ';', comments and errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/words.h"

/* Split line into its commands (each a list of words) and compare with
 * want: words separated by '|', commands by '/'; an empty command is
 * written as "". */
static void check(const char *line, const char *want)
{
	char got[1024];
	const char *p = line, *rest;
	size_t o = 0, i;
	int first = 1;

	got[0] = '\0';
	do {
		struct ims_words w;
		struct ims_error err;

		ims_words_init(&w);
		ims_error_init(&err);
		if (ims_words_split(p, &rest, &w, &err) != IMS_OK)
			fail_msg("%s: %s", line, err.msg);
		if (w.n > 0)
			assert_null(w.v[w.n]);
		if (!first)
			o += (size_t)snprintf(got + o, sizeof(got) - o, "/");
		first = 0;
		for (i = 0; i < w.n; i++)
			o += (size_t)snprintf(got + o, sizeof(got) - o, "%s%s", i ? "|" : "",
			                      w.v[i]);
		ims_words_release(&w);
		assert_int_equal(w.n, 0);
		assert_null(w.v);
	} while ((p = rest) != NULL);
	if (strcmp(got, want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", line, got, want);
}

static void check_error(const char *line, const char *msg)
{
	struct ims_words w;
	struct ims_error err;
	const char *rest = line;

	ims_words_init(&w);
	ims_error_init(&err);
	/* Words from an earlier call stay; those of the failed call go. */
	assert_int_equal(ims_words_split("keep", &rest, &w, &err), IMS_OK);
	assert_int_equal(ims_words_split(line, &rest, &w, &err), IMS_ERR_USAGE);
	assert_null(rest);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.v[0], "keep");
	assert_null(w.v[1]);
	assert_string_equal(err.msg, msg);
	ims_words_release(&w);
}

static void test_plain(void **state)
{
	(void)state;
	check("", "");
	check("   \t ", "");
	check("list", "list");
	check("  copy  1:5\tArchive  ", "copy|1:5|Archive");
	check("a\r", "a");
	check("a\r\n", "a/");
	check("fetch 42 1.2", "fetch|42|1.2");
	check("gr\xc3\xbc\xc3\x9f dich", "gr\xc3\xbc\xc3\x9f|dich");
}

static void test_quotes(void **state)
{
	(void)state;
	check("select 'Sent Items'", "select|Sent Items");
	check("select \"Sent Items\"", "select|Sent Items");
	check("a'b c'd", "ab cd");
	check("\"a'b\" 'c\"d'", "a'b|c\"d");
	check("x '' \"\" y", "x|||y");
	check("''", "");
	check("'a;b' \"c;d\"", "a;b|c;d");
	check("'#not' \"#a comment\"", "#not|#a comment");
	check("'\\n'", "\\n");
	check("'a\\'", "a\\");
}

static void test_escapes(void **state)
{
	(void)state;
	check("a\\ b", "a b");
	check("a\\;b", "a;b");
	check("\\#x", "#x");
	check("\\'x", "'x");
	check("\"a \\\"b\\\" c\"", "a \"b\" c");
	check("\"C:\\\\dir\"", "C:\\dir");
	check("\"\\x\"", "x");
	check("trailing\\", "trailing\\");
	check("a\\\\", "a\\");
}

static void test_semicolons(void **state)
{
	(void)state;
	check("a; b", "a/b");
	check("a;b;c", "a/b/c");
	check("list 1:*; select Archive", "list|1:*/select|Archive");
	check(";", "/");
	check("a;;b", "a//b");
	check("a;", "a/");
	check("a ; ", "a/");
	/* A line end (a multi-line paste, a -c string) ends a command too. */
	check("help cert\nhelp help", "help|cert/help|help");
	check("a\r\nb\r\n", "a/b/");
	check("'a\nb' \"c\nd\"", "a\nb|c\nd");
	check("a\\\nb", "a\nb"); /* an escaped line end is kept */
}

static void test_comments(void **state)
{
	(void)state;
	check("# a comment", "");
	check("   # a comment", "");
	check("list # newest; select x", "list");
	check("list a#b", "list|a#b");
	check("a; # b; c", "a/");
	check("#", "");
	check("# c; x\nlist", "/list");
	check("list # c; x\nselect y # z", "list/select|y");
}

static void test_errors(void **state)
{
	(void)state;
	check_error("select 'Sent", "unterminated single quote");
	check_error("select \"Sent", "unterminated double quote");
	check_error("a b \"c\\\"", "unterminated double quote");
	check_error("ok 'x' \"", "unterminated double quote");
	check_error("'", "unterminated single quote");
}

static void test_rest(void **state)
{
	struct ims_words w;
	struct ims_error err;
	const char *line = "a b; c", *rest;

	(void)state;
	ims_words_init(&w);
	ims_error_init(&err);
	assert_int_equal(ims_words_split(line, &rest, &w, &err), IMS_OK);
	assert_ptr_equal(rest, line + 4);
	/* Appending: a second split adds to the same vector. */
	assert_int_equal(ims_words_split(rest, &rest, &w, &err), IMS_OK);
	assert_null(rest);
	assert_int_equal(w.n, 3);
	assert_string_equal(w.v[2], "c");
	ims_words_release(&w);
	ims_words_release(&w); /* twice is fine */
}

static void test_long(void **state)
{
	size_t n = 20000, i;
	char *line = malloc(2 * n + 1);
	struct ims_words w;
	struct ims_error err;
	const char *rest;

	(void)state;
	assert_non_null(line);
	for (i = 0; i < n; i++) {
		line[2 * i] = 'x';
		line[2 * i + 1] = ' ';
	}
	line[2 * n] = '\0';
	ims_words_init(&w);
	ims_error_init(&err);
	assert_int_equal(ims_words_split(line, &rest, &w, &err), IMS_OK);
	assert_int_equal(w.n, n);
	ims_words_release(&w);
	free(line);
}

static void test_nearest(void **state)
{
	static const char *const cmds[] = {"list", "logout", "fetch", "folders", "show", "quit"};
	static const char *const keys[] = {"host", "port", "password-command",
	                                   "oauth-token-command"};
	const size_t nc = sizeof(cmds) / sizeof(cmds[0]), nk = sizeof(keys) / sizeof(keys[0]);
	char longw[IMS_WORDS_NEAREST_MAX + 2];

	(void)state;
	assert_string_equal(ims_words_nearest("lsit", cmds, nc), "list");  /* transposition */
	assert_string_equal(ims_words_nearest("LIST", cmds, nc), "list");  /* case */
	assert_string_equal(ims_words_nearest("fetc", cmds, nc), "fetch"); /* deletion */
	assert_string_equal(ims_words_nearest("qiut", cmds, nc), "quit");
	assert_string_equal(ims_words_nearest("foldrs", cmds, nc), "folders");
	assert_string_equal(ims_words_nearest("fodlesr", cmds, nc), "folders"); /* two edits */
	assert_null(ims_words_nearest("lst2x", cmds, nc));                      /* three edits */
	assert_null(ims_words_nearest("xy", cmds, nc)); /* short words: one edit at most */
	assert_null(ims_words_nearest("", cmds, nc));
	assert_null(ims_words_nearest("list", cmds, 0));
	assert_string_equal(ims_words_nearest("passwrd-command", keys, nk), "password-command");
	assert_string_equal(ims_words_nearest("prot", keys, nk), "port");
	memset(longw, 'a', sizeof(longw) - 1);
	longw[sizeof(longw) - 1] = '\0';
	assert_null(ims_words_nearest(longw, keys, nk));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),    cmocka_unit_test(test_quotes),
	    cmocka_unit_test(test_escapes),  cmocka_unit_test(test_semicolons),
	    cmocka_unit_test(test_comments), cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_rest),     cmocka_unit_test(test_long),
	    cmocka_unit_test(test_nearest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
