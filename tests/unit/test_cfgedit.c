/* cfgedit: an account section added to the config file's text, every
 * other line (comments too) kept; a section there already never replaced
 * unless asked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cfgedit.h"

static const char *CFG = "# my imapsh config\n"
                         "default = work\n"
                         "[defaults]\n"
                         "ca-file = /etc/ca.pem ; the company CA\n"
                         "\n"
                         "  [account work]  \n"
                         "# the office\n"
                         "host = imap.work.example\n"
                         "[account home]\n"
                         "host = imap.home.example\n";

static void test_add_keeps_everything(void **state)
{
	struct ims_buf b;
	struct ims_error e;

	(void)state;
	ims_buf_init(&b, 0);
	assert_int_equal(cfgedit_put_account(CFG, strlen(CFG), "alice@example.test", "added",
	                                     "host = imap.example.test\n", 0, &b, &e),
	                 IMS_OK);
	assert_int_equal(strncmp(b.data, CFG, strlen(CFG)), 0);
	assert_string_equal(b.data + strlen(CFG),
	                    "\n# added\n[account alice@example.test]\nhost = imap.example.test\n");
	ims_buf_release(&b);
}

static void test_no_final_newline_and_empty(void **state)
{
	struct ims_buf b;
	struct ims_error e;

	(void)state;
	ims_buf_init(&b, 0);
	assert_int_equal(cfgedit_put_account("default = x", 11, "n", NULL, "host = h\n", 0, &b, &e),
	                 IMS_OK);
	assert_string_equal(b.data, "default = x\n\n[account n]\nhost = h\n");
	ims_buf_release(&b);
	ims_buf_init(&b, 0);
	assert_int_equal(cfgedit_put_account("", 0, "n", NULL, "host = h\n", 0, &b, &e), IMS_OK);
	assert_string_equal(b.data, "[account n]\nhost = h\n");
	ims_buf_release(&b);
}

static void test_existing_refused_or_replaced(void **state)
{
	struct ims_buf b;
	struct ims_error e;

	(void)state;
	assert_true(cfgedit_has_account(CFG, strlen(CFG), "work"));
	assert_false(cfgedit_has_account(CFG, strlen(CFG), "wor"));
	assert_false(cfgedit_has_account(CFG, strlen(CFG), "defaults"));
	ims_buf_init(&b, 0);
	assert_int_equal(
	    cfgedit_put_account(CFG, strlen(CFG), "work", NULL, "host = new\n", 0, &b, &e),
	    IMS_ERR_USAGE);
	assert_non_null(strstr(e.msg, "there already"));
	ims_buf_release(&b);
	ims_buf_init(&b, 0);
	assert_int_equal(
	    cfgedit_put_account(CFG, strlen(CFG), "work", NULL, "host = new\n", 1, &b, &e), IMS_OK);
	assert_null(strstr(b.data, "imap.work.example"));
	assert_non_null(strstr(b.data, "# my imapsh config\n"));
	assert_non_null(strstr(b.data, "; the company CA\n"));
	assert_non_null(strstr(b.data, "[account home]\nhost = imap.home.example\n"));
	assert_non_null(strstr(b.data, "[account work]\nhost = new\n"));
	ims_buf_release(&b);
}

static void test_values(void **state)
{
	(void)state;
	assert_true(cfgedit_value_ok("alice@example.test"));
	assert_false(cfgedit_value_ok(""));
	assert_false(cfgedit_value_ok(" a"));
	assert_false(cfgedit_value_ok("a\nhost = evil"));
	assert_false(cfgedit_value_ok("a #b"));
	assert_false(cfgedit_value_ok("a;b"));
	assert_true(cfgedit_name_ok("work"));
	assert_false(cfgedit_name_ok("a]b"));
	assert_false(
	    cfgedit_name_ok("0123456789012345678901234567890123456789012345678901234567890123"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_keeps_everything),
	    cmocka_unit_test(test_no_final_newline_and_empty),
	    cmocka_unit_test(test_existing_refused_or_replaced),
	    cmocka_unit_test(test_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
