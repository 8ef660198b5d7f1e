/* Trace redaction: what of a client command a trace may show, decided on
 * the words a server reads, never on how the line starts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/redact.h"

/* The shown part of cmd, as a trace line would have it. */
static const char *shown(const char *cmd, size_t len)
{
	static char out[1024];
	size_t keep = ims_redact_visible(cmd, len);

	assert_true(keep <= len);
	snprintf(out, sizeof(out), "%.*s%s", (int)keep, cmd, keep < len ? " ***" : "");
	return out;
}

static void want(const char *cmd, const char *expect)
{
	const char *got = shown(cmd, strlen(cmd));

	if (strcmp(got, expect) != 0)
		fail_msg("'%s': shown as '%s', want '%s'", cmd, got, expect);
}

static const char *find(const char *hay, size_t n, const char *needle)
{
	size_t k, m = strlen(needle);

	for (k = 0; k + m <= n; k++)
		if (memcmp(hay + k, needle, m) == 0)
			return hay + k;
	return NULL;
}

/* secret must never be in what is shown of cmd, nor of any prefix of it
 * (a command traced byte by byte, or cut short). */
static void hidden(const char *cmd, const char *secret)
{
	size_t n = strlen(cmd), k;

	for (k = 0; k <= n; k++) {
		char *copy = malloc(k + 1);
		size_t keep;

		assert_non_null(copy);
		memcpy(copy, cmd, k);
		copy[k] = '\0';
		keep = ims_redact_visible(copy, k);
		if (k == n && find(copy, keep, secret) != NULL)
			fail_msg("'%s' shows '%s'", cmd, secret);
		/* every byte of the secret that a prefix holds is hidden */
		if (k == n || keep < k) {
			const char *at = find(cmd, n, secret);

			if (at != NULL && keep > (size_t)(at - cmd))
				fail_msg("prefix %zu of '%s' shows part of the secret", k, cmd);
		}
		free(copy);
	}
}

static void test_plain_commands_shown_whole(void **state)
{
	(void)state;
	want("A1 SELECT INBOX", "A1 SELECT INBOX");
	want("A2 FETCH 1:* (FLAGS)", "A2 FETCH 1:* (FLAGS)");
	want("A3 SEARCH SUBJECT \"login now\"", "A3 SEARCH SUBJECT \"login now\"");
	want("A4 APPEND x {5}\r\nLOGIN", "A4 APPEND x {5}\r\nLOGIN"); /* payload is data */
	want("A5 APPEND x ~{6+}\r\nlogin!", "A5 APPEND x ~{6+}\r\nlogin!");
	want("", "");
	want("***", "***");
}

static void test_login_any_spelling(void **state)
{
	static const char *const cases[] = {
	    "A1 LOGIN alice sekrit",
	    "A1 login alice sekrit",
	    "A1 LoGiN alice sekrit",
	    "A1\tLOGIN\talice\tsekrit",
	    "A1  \t LOGIN   alice  sekrit",
	    " A1 LOGIN alice sekrit",
	    "tag.with:odd+chars LOGIN alice sekrit",
	    "A1 LOGIN \"alice\" \"sekrit\"",
	    "A1 LOGIN {5}\r\nalice {6}\r\nsekrit",
	    "A1 LOGIN {5+}\r\nalice {6+}\r\nsekrit",
	    "A1 LOGIN ~{5}\r\nalice \"sekrit\"",
	    "A1 LOGIN alice\v\fsekrit",
	    "A1 x LOGIN alice sekrit",
	    "A1 LOGIN(alice sekrit)",
	    "A1 LOGIN\"alice\" sekrit",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		hidden(cases[i], "sekrit");
	want("A1 LOGIN alice sekrit", "A1 LOGIN ***");
	want("A1\tlogin\talice sekrit", "A1\tlogin ***");
	want("A1 LOGIN", "A1 LOGIN");
	want("A1 LOGIN *** ***", "A1 LOGIN ***"); /* the writer's own trace again */
	/* not a command word: a longer atom, a quoted string */
	want("A1 LOGINS x", "A1 LOGINS x");
	want("A1 SELECT \"LOGIN\" x", "A1 SELECT \"LOGIN\" x");
}

static void test_authenticate(void **state)
{
	(void)state;
	want("A1 AUTHENTICATE PLAIN AGFsaWNlAHNla3JpdA==", "A1 AUTHENTICATE PLAIN ***");
	want("A1 authenticate\tplain\tAGFsaWNlAHNla3JpdA==", "A1 authenticate\tplain ***");
	want("A1 AUTHENTICATE SCRAM-SHA-256", "A1 AUTHENTICATE SCRAM-SHA-256");
	/* what cannot be a mechanism name is not shown as one */
	want("A1 AUTHENTICATE AGFsaWNlAHNla3JpdA==", "A1 AUTHENTICATE ***");
	want("A1 AUTHENTICATE {5}\r\nPLAIN", "A1 AUTHENTICATE ***");
	want("A1 AUTHENTICATE \"PLAIN\" x", "A1 AUTHENTICATE ***");
	want("A1 AUTHENTICATE ABCDEFGHIJKLMNOPQRSTUVWXYZ", "A1 AUTHENTICATE ***");
	hidden("A1 AUTHENTICATE PLAIN AGFsaWNlAHNla3JpdA==", "AGFsaWNlAHNla3JpdA==");
	hidden("A1 AuThEnTiCaTe\t\tXOAUTH2\tdXNlcj1hAWF1dGg9QmVhcmVy", "dXNlcj1h");
}

/* A literal's payload is skipped as data: a LOGIN inside it is no command,
 * and a length past the end of the text is no trouble. */
static void test_literals(void **state)
{
	(void)state;
	want("A1 APPEND x {3}\r\nabc LOGIN u p", "A1 APPEND x {3}\r\nabc LOGIN ***");
	want("A1 APPEND x {99}\r\nLOGIN u p", "A1 APPEND x {99}\r\nLOGIN u p");
	want("A1 APPEND x {99999999999999999999}\r\nLOGIN u p", "A1 APPEND x "
	                                                        "{99999999999999999999}\r\n"
	                                                        "LOGIN ***");
	want("A1 X {3} LOGIN u p", "A1 X {3} LOGIN ***"); /* no line end: not a literal */
	want("A1 X {3}\nab LOGIN u p", "A1 X {3}\nab LOGIN ***");
}

/* Every byte value around the command word: only blanks separate it. */
static void test_every_separator_byte(void **state)
{
	unsigned c;

	(void)state;
	for (c = 1; c < 256; c++) {
		char cmd[64];
		int n = snprintf(cmd, sizeof(cmd), "A1%cLOGIN%csekrit", (char)c, (char)c);
		size_t keep = ims_redact_visible(cmd, (size_t)n);
		int sep = c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';

		if (sep && keep != 8)
			fail_msg("byte 0x%02x: keep %zu", c, keep);
		/* otherwise one word "A1?LOGIN?sekrit": shown, and no server reads
		 * LOGIN out of it */
		if (!sep && c != '"' && c != '(' && c != ')' && keep != (size_t)n)
			fail_msg("byte 0x%02x: keep %zu of %d", c, keep, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_commands_shown_whole),
	    cmocka_unit_test(test_login_any_spelling),
	    cmocka_unit_test(test_authenticate),
	    cmocka_unit_test(test_literals),
	    cmocka_unit_test(test_every_separator_byte),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
