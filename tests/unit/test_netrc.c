/* netrc: tokens, quotes, entries, and every malformed file an error with
 * its line, never a cut or a guess. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/netrc.h"

static char login[IMS_NETRC_TOKEN_MAX + 1], pass[IMS_NETRC_TOKEN_MAX + 1];
static struct ims_error err;

static ims_err look_n(const char *text, size_t len, const char *host, const char *user)
{
	login[0] = pass[0] = '\0';
	ims_error_init(&err);
	return ims_netrc_lookup(text, len, host, user, login, pass, &err);
}

static ims_err look(const char *text, const char *host, const char *user)
{
	return look_n(text, strlen(text), host, user);
}

static void test_plain_entries(void **state)
{
	const char *t = "machine a.example login alice password s1\n"
	                "machine b.example\n  login bob\n  password s2\n"
	                "default login anon password guest\n";

	(void)state;
	assert_int_equal(look(t, "a.example", NULL), IMS_OK);
	assert_string_equal(login, "alice");
	assert_string_equal(pass, "s1");
	assert_int_equal(look(t, "B.EXAMPLE", ""), IMS_OK); /* case of the host ignored */
	assert_string_equal(login, "bob");
	assert_string_equal(pass, "s2");
	assert_int_equal(look(t, "c.example", NULL), IMS_OK); /* default */
	assert_string_equal(login, "anon");
	/* with a user, the entry must be that user's */
	assert_int_equal(look(t, "a.example", "bob"), IMS_ERR_NO); /* alice's, anon's */
	assert_int_equal(look(t, "a.example", "anon"), IMS_OK);    /* the default is anon's */
	assert_string_equal(pass, "guest");
	assert_int_equal(look("machine a.example login alice password s1\n", "a.example", "bob"),
	                 IMS_ERR_NO);
	assert_int_equal(look("machine a.example login alice\n", "a.example", NULL), IMS_ERR_NO);
	assert_int_equal(look("", "a.example", NULL), IMS_ERR_NO);
}

static void test_second_entry_for_same_host(void **state)
{
	const char *t = "machine h login alice password one\nmachine h login bob password two\n";

	(void)state;
	assert_int_equal(look(t, "h", "bob"), IMS_OK);
	assert_string_equal(pass, "two");
	assert_int_equal(look(t, "h", NULL), IMS_OK);
	assert_string_equal(pass, "one");
}

static void test_quotes(void **state)
{
	(void)state;
	assert_int_equal(look("machine h login \"al ice\" password \"correct horse\"", "h", NULL),
	                 IMS_OK);
	assert_string_equal(login, "al ice");
	assert_string_equal(pass, "correct horse");
	assert_int_equal(look("machine h login a password \"q\\\"uote\\\\ \\t\\n\"", "h", NULL),
	                 IMS_OK);
	assert_string_equal(pass, "q\"uote\\ \t\n");
	assert_int_equal(look("machine h login a password \"\"", "h", NULL), IMS_OK);
	assert_string_equal(pass, "");
	/* a quote inside an unquoted word is just a character */
	assert_int_equal(look("machine h login a password pa\"ss", "h", NULL), IMS_OK);
	assert_string_equal(pass, "pa\"ss");
}

static void test_macdef_and_unknown_words(void **state)
{
	const char *t = "macdef init\ncd /pub\nmachine evil login x password y\n\n"
	                "machine h port 21 login a password b\n";

	(void)state;
	assert_int_equal(look(t, "evil", NULL), IMS_ERR_NO); /* inside the macro */
	assert_int_equal(look(t, "h", NULL), IMS_OK);
	assert_string_equal(pass, "b");
}

static void test_errors_name_the_line(void **state)
{
	char big[IMS_NETRC_TOKEN_MAX + 64];
	static const char nul[] = "machine h\nlogin a pass\0word b\n";

	(void)state;
	assert_int_equal(look("machine h\nlogin a\npassword \"open", "h", NULL), IMS_ERR_USAGE);
	assert_string_equal(err.msg, "line 3: a quoted token without its closing quote");
	assert_int_equal(look("machine h login a\npassword", "h", NULL), IMS_ERR_USAGE);
	assert_string_equal(err.msg, "line 2: 'password' without its value");
	assert_int_equal(look("machine", "h", NULL), IMS_ERR_USAGE);
	assert_int_equal(look_n(nul, sizeof(nul) - 1, "h", NULL), IMS_ERR_USAGE);
	assert_string_equal(err.msg, "line 2: a NUL byte");
	/* a long password is an error, never cut to a prefix */
	strcpy(big, "machine h login a password ");
	memset(big + strlen(big), 'x', IMS_NETRC_TOKEN_MAX + 1);
	big[27 + IMS_NETRC_TOKEN_MAX + 1] = '\0';
	assert_int_equal(look(big, "h", NULL), IMS_ERR_USAGE);
	assert_non_null(strstr(err.msg, "longer than"));
	big[27 + IMS_NETRC_TOKEN_MAX] = '\0'; /* exactly the limit: fine */
	assert_int_equal(look(big, "h", NULL), IMS_OK);
	assert_int_equal(strlen(pass), IMS_NETRC_TOKEN_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_entries),
	    cmocka_unit_test(test_second_entry_for_same_host),
	    cmocka_unit_test(test_quotes),
	    cmocka_unit_test(test_macdef_and_unknown_words),
	    cmocka_unit_test(test_errors_name_the_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
