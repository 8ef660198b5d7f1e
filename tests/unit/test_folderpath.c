/* Folder names as directory names: the documented mapping, round trips
 * with and without a hierarchy delimiter, the names that cannot be files,
 * and every decoding that encoding would not make. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/folderpath.h"

struct vec {
	const char *name;
	char delim;
	const char *dir;
};

static const struct vec vecs[] = {
    {"INBOX", '/', "INBOX"},
    {"Archive/2024", '/', "Archive.2024"},
    {"Archive.2024", '.', "Archive.2024"},
    {"Archive.2024", '/', "Archive%2E2024"},
    {"a/b", 0, "a%2Fb"},
    {"a/b", '.', "a%2Fb"},
    {"\xe9\x80\x81\xe4\xbf\xa1\xe6\xb8\x88\xe3\x81\xbf", '/',
     "\xe9\x80\x81\xe4\xbf\xa1\xe6\xb8\x88\xe3\x81\xbf"}, /* 送信済み stays */
    {"Projekte/\xc3\x9c"
     "bersicht",
     '/',
     "Projekte.\xc3\x9c"
     "bersicht"},
    {".", '/', "%2E"},
    {"..", '/', "%2E%2E"},
    {"..", '.', "%00.%00.%00"},
    {"/", '/', "%00.%00"},
    {"/x", '/', "%00.x"},
    {"x/", '/', "x.%00"},
    {"a//b", '/', "a.%00.b"},
    {".hidden", 0, "%2Ehidden"},
    {"50%", '/', "50%25"},
    {"tab\there", '/', "tab%09here"},
    {"nl\r\n", '/', "nl%0D%0A"},
    {"del\x7f", '/', "del%7F"},
    {"bad\xff\xc3", '/', "bad%FF%C3"},
    {"-rf ~ *", '/', "-rf ~ *"},
    {"cur", '/', "cur"},
    /* C1, bidi and invisible characters: escaped byte by byte */
    {"Inbox\xe2\x80\xaetxt.exe", 0, "Inbox%E2%80%AEtxt%2Eexe"},
    {"x\xc2\x9b"
     "31m",
     '/', "x%C2%9B31m"},
    {"\xe2\x80\x8bINBOX", '/', "%E2%80%8BINBOX"},
    {"\xef\xbb\xbf\xc3\xa9", '/', "%EF%BB%BF\xc3\xa9"},
};

static void test_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		struct ims_buf b;
		struct ims_error e;

		ims_buf_init(&b, 0);
		assert_int_equal(ims_folderpath_encode(vecs[i].name, strlen(vecs[i].name),
		                                       vecs[i].delim, &b, &e),
		                 IMS_OK);
		assert_string_equal(b.data, vecs[i].dir);
		ims_buf_reset(&b);
		assert_int_equal(
		    ims_folderpath_decode(vecs[i].dir, strlen(vecs[i].dir), vecs[i].delim, &b, &e),
		    IMS_OK);
		assert_string_equal(b.data, vecs[i].name);
		ims_buf_release(&b);
	}
}

/* Into another server's delimiter: the hierarchy is kept. */
static void test_other_delimiter(void **state)
{
	struct ims_buf b;
	struct ims_error e;

	(void)state;
	ims_buf_init(&b, 0);
	assert_int_equal(ims_folderpath_decode("Archive.2024.Q1", 15, '.', &b, &e), IMS_OK);
	assert_string_equal(b.data, "Archive.2024.Q1");
	ims_buf_reset(&b);
	assert_int_equal(ims_folderpath_decode("Archive.2024.Q1", 15, '/', &b, &e), IMS_OK);
	assert_string_equal(b.data, "Archive/2024/Q1");
	ims_buf_reset(&b);
	/* a part holding the target's delimiter would become two folders */
	assert_int_equal(ims_folderpath_decode("a%2Fb", 5, '/', &b, &e), IMS_ERR_USAGE);
	assert_non_null(strstr(e.msg, "delimiter"));
	/* several parts, but the server has no hierarchy */
	assert_int_equal(ims_folderpath_decode("a.b", 3, 0, &b, &e), IMS_ERR_USAGE);
	ims_buf_release(&b);
}

static void test_refused_names(void **state)
{
	struct ims_buf b;
	struct ims_error e;
	char longname[300];

	(void)state;
	ims_buf_init(&b, 0);
	assert_int_equal(ims_folderpath_encode("", 0, '/', &b, &e), IMS_ERR_USAGE);
	assert_int_equal(ims_folderpath_encode("a\0b", 3, '/', &b, &e), IMS_ERR_USAGE);
	memset(longname, 'x', sizeof(longname));
	assert_int_equal(ims_folderpath_encode(longname, 255, '/', &b, &e), IMS_OK);
	ims_buf_reset(&b);
	assert_int_equal(ims_folderpath_encode(longname, 256, '/', &b, &e), IMS_ERR_USAGE);
	assert_non_null(strstr(e.msg, "too long"));
	/* 86 control characters escape to 258 bytes */
	memset(longname, '\t', 86);
	assert_int_equal(ims_folderpath_encode(longname, 86, '/', &b, &e), IMS_ERR_USAGE);
	assert_int_equal(b.len, 0);
	ims_buf_release(&b);
}

static void test_not_canonical(void **state)
{
	static const char *const bad[] = {
	    "",
	    ".",
	    "..",
	    ".x",
	    "x.",
	    "a..b",
	    "%",
	    "%2",
	    "%2e",
	    "%41",
	    "%g0",
	    "a%00b",
	    "%00",
	    "%00.%00" /* ok, "/" */,
	    "\x01",
	    "\x7f",
	    "a/b",
	    "%E9%80%81%E4%BF%A1",
	    "\xff",
	    "%2F%2",
	    "a\xe2\x80\xae"
	    "b" /* a bidi override must be escaped */,
	    "\xc2\x9b",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ims_buf b;
		struct ims_error e;
		ims_err r;

		ims_buf_init(&b, 0);
		r = ims_folderpath_decode(bad[i], strlen(bad[i]), '/', &b, &e);
		if (strcmp(bad[i], "%00.%00") == 0) {
			assert_int_equal(r, IMS_OK);
			assert_string_equal(b.data, "/");
		} else {
			assert_int_equal(r, IMS_ERR_USAGE);
			assert_true(b.len == 0);
		}
		ims_buf_release(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_other_delimiter),
	    cmocka_unit_test(test_refused_names),
	    cmocka_unit_test(test_not_canonical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
