/* The search compiler (search.h): words in, UID SEARCH keys out, checked
 * key by key and byte by byte, and every refusal with its words. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/search.h"
#include "imapsh/seqset.h"

/* The message-set grammar of the front end, in miniature: "#" for
 * sequence numbers, else UIDs; canonical as seqset.h writes it. */
static ims_err test_set(void *ctx, const char *word, int *seq_r, struct ims_buf *set_r,
                        struct ims_error *err)
{
	struct ims_seqset s;
	ims_err e;

	(void)ctx;
	*seq_r = word[0] == '#';
	ims_seqset_init(&s);
	e = ims_seqset_parse(&s, word + *seq_r, strlen(word + *seq_r), err);
	if (e == IMS_OK)
		e = ims_seqset_format(&s, set_r, err);
	ims_seqset_release(&s);
	if (e != IMS_OK)
		return ims_error_set(err, IMS_ERR_USAGE, "'%s' is not a message set", word);
	return IMS_OK;
}

/* Split a line at blanks into words (the tests' words have none inside),
 * compile, and write the keys as text: RAW as they are, STRING in <>. */
static ims_err compile(const char *line, char *out, size_t n, struct ims_error *err)
{
	char copy[1024], *words[256], *save = NULL, *w;
	struct ims_search_prog prog;
	size_t nw = 0, i, at = 0;
	ims_err e;

	snprintf(copy, sizeof(copy), "%s", line);
	for (w = strtok_r(copy, " ", &save); w != NULL && nw < 256; w = strtok_r(NULL, " ", &save))
		words[nw++] = w;
	ims_search_prog_init(&prog);
	ims_error_init(err);
	e = ims_search_compile(&prog, words, nw, test_set, NULL, err);
	out[0] = '\0';
	for (i = 0; e == IMS_OK && i < prog.n; i++) {
		const struct ims_arg *a = &prog.keys[i];

		if (a->kind == IMS_ARG_RAW)
			at += (size_t)snprintf(out + at, n - at, "%s%s", i ? " " : "", a->p);
		else
			at += (size_t)snprintf(out + at, n - at, "%s<%.*s>", i ? " " : "",
			                       (int)a->len, a->p);
		assert_true(at < n);
	}
	if (e != IMS_OK)
		assert_int_equal(prog.n, 0);
	ims_search_prog_release(&prog);
	return e;
}

static void good(const char *line, const char *want)
{
	struct ims_error err;
	char got[2048];

	if (compile(line, got, sizeof(got), &err) != IMS_OK)
		fail_msg("'%s': %s", line, err.msg);
	if (strcmp(got, want) != 0)
		fail_msg("'%s': got '%s', want '%s'", line, got, want);
}

static void bad(const char *line, const char *words)
{
	struct ims_error err;
	char got[2048];

	if (compile(line, got, sizeof(got), &err) == IMS_OK)
		fail_msg("'%s' compiled to '%s'", line, got);
	assert_int_equal(err.code, IMS_ERR_USAGE);
	if (strcmp(err.msg, words) != 0)
		fail_msg("'%s': said '%s', want '%s'", line, err.msg, words);
}

static void test_keys(void **state)
{
	(void)state;
	good("unseen", "UNSEEN");
	good("UnSeen read replied unreplied", "UNSEEN SEEN ANSWERED UNANSWERED");
	good("from bob", "FROM <bob>");
	good("from bob subject hello", "FROM <bob> SUBJECT <hello>");
	good("header X-Spam yes", "HEADER <X-Spam> <yes>");
	good("since 2026-01-31", "SINCE 31-Jan-2026");
	good("before 1-feb-2026 senton 2026-12-01", "BEFORE 1-Feb-2026 SENTON 1-Dec-2026");
	good("larger 10k smaller 1.5M", "LARGER 10240 SMALLER 1572864");
	good("older 3600 modseq 12345", "OLDER 3600 MODSEQ 12345");
	good("keyword $Junk unkeyword Work", "KEYWORD $Junk UNKEYWORD Work");
	good("uid 5:1", "UID 1:5");
	good("uid 1,2,3,4", "UID 1:4");
	good("text ''", "TEXT <''>");
	good("emailid M123 threadid T9", "EMAILID <M123> THREADID <T9>");
}

static void test_sets(void **state)
{
	(void)state;
	good("42", "UID 42");
	good("1:100,200", "UID 1:100,200");
	good("*", "UID *");
	good("#3", "3");
	good("#1:5 unseen", "1:5 UNSEEN");
	good("7,5,6 seen", "UID 5:7 SEEN");
	bad("uid #3", "search: uid takes UIDs, not '#'");
	bad("1:x", "'1:x' is not a message set");
	bad("uid 0", "'0' is not a message set");
}

static void test_groups(void **state)
{
	(void)state;
	good("not seen", "NOT SEEN");
	good("or from bob from alice", "OR FROM <bob> FROM <alice>");
	good("( from bob )", "( FROM <bob> )");
	good("(from bob)", "( FROM <bob> )");
	good("or (from bob) (to bob)", "OR ( FROM <bob> ) ( TO <bob> )");
	good("((seen))", "( ( SEEN ) )");
	good("not (seen flagged)", "NOT ( SEEN FLAGGED )");
	/* A ')' at the end of a value closes an open group; more than are
	 * open stay in the value. */
	good("(subject a))", "( SUBJECT <a)> )");
	/* Without an open group it is part of the value. */
	good("subject smile:)", "SUBJECT <smile:)>");
	good("(subject smile:))", "( SUBJECT <smile:)> )");
	good("((subject smile:)))", "( ( SUBJECT <smile:)> ) )");
	bad("(seen", "search: a '(' is not closed");
	bad("seen)", "search: a ')' without '('");
	bad("()", "search: empty parentheses");
	bad("or seen", "search: a search key is missing");
	bad("not", "search: a search key is missing");
	bad("(from )", "search: from needs a value");
}

static void test_refusals(void **state)
{
	(void)state;
	bad("", "search: no search keys");
	bad("bogus", "search: unknown search key 'bogus'");
	bad("from", "search: from needs a value");
	bad("header X-Spam", "search: header needs a value");
	bad("since 2026-13-01",
	    "search: since: '2026-13-01' is not a date (2026-01-31 or 31-Jan-2026)");
	bad("larger 5T", "search: larger: '5T' is not a size (12345, 10k, 1M)");
	bad("older 1h", "search: older: '1h' is not a number");
	bad("older 12345678901234567890", "search: older: '12345678901234567890' is not a number");
	bad("keyword \\Seen", "search: keyword: '\\Seen' is not a keyword");
	bad("keyword a(b", "search: keyword: 'a(b' is not a keyword");
	bad("keyword a\"b", "search: keyword: 'a\"b' is not a keyword");
	bad("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
	    "search: unknown search key 'abcdefghijklmnopqrstuvwxyzabcdefghijklmn'");
}

static void test_depth(void **state)
{
	char line[1024];
	size_t i, at = 0;

	(void)state;
	/* "not not ... seen": deep enough to be refused, never a crash. */
	for (i = 0; i < 120; i++)
		at += (size_t)snprintf(line + at, sizeof(line) - at, "not ");
	snprintf(line + at, sizeof(line) - at, "seen");
	bad(line, "search: nested too deeply");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys),   cmocka_unit_test(test_sets),
	    cmocka_unit_test(test_groups), cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_depth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
