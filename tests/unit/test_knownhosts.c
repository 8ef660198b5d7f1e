/* The known-hosts pin store: file format, lookup, editing, atomic save. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "imapsh/knownhosts.h"

#define PIN1 "sha256//n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
#define PIN2 "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define PIN3 "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

static void parse_ok(struct ims_kh *kh, const char *text)
{
	struct ims_error err;

	ims_error_init(&err);
	if (ims_kh_parse(kh, text, strlen(text), "kh", &err) != IMS_OK)
		fail_msg("%s: %s", text, err.msg);
}

static void parse_bad(const char *text, const char *msg)
{
	struct ims_kh kh;
	struct ims_error err;

	ims_kh_init(&kh);
	ims_error_init(&err);
	parse_ok(&kh, "# kept\n");
	assert_int_equal(ims_kh_parse(&kh, text, strlen(text), "kh", &err), IMS_ERR_USAGE);
	if (strcmp(err.msg, msg) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", text, err.msg, msg);
	assert_int_equal(kh.n, 1); /* as before the call */
	ims_kh_release(&kh);
}

static char *format(const struct ims_kh *kh)
{
	struct ims_buf b;
	struct ims_error err;
	size_t len;

	ims_buf_init(&b, 0);
	assert_int_equal(ims_kh_format(kh, &b, &err), IMS_OK);
	return ims_buf_take(&b, &len);
}

static void test_pin_valid(void **state)
{
	(void)state;
	assert_true(ims_kh_pin_valid(PIN1));
	assert_true(ims_kh_pin_valid(PIN2));
	assert_true(ims_kh_pin_valid(PIN3));
	assert_false(ims_kh_pin_valid(""));
	assert_false(ims_kh_pin_valid("sha256//"));
	assert_false(ims_kh_pin_valid("n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="));
	assert_false(ims_kh_pin_valid("SHA256//n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="));
	assert_false(ims_kh_pin_valid("sha256//n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg"));
	assert_false(ims_kh_pin_valid("sha256//n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=="));
	assert_false(ims_kh_pin_valid("sha256//n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg="));
	/* Not canonical: the last character carries bits beyond 32 bytes. */
	assert_false(ims_kh_pin_valid("sha256//n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgh="));
	assert_false(ims_kh_pin_valid("sha1//n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="));
}

static void test_hostport(void **state)
{
	char h[IMS_KH_HOST_MAX];
	unsigned port;
	struct ims_error err;

	(void)state;
	ims_error_init(&err);
	assert_int_equal(ims_kh_hostport_parse("Imap.Example.COM.", 993, h, sizeof(h), &port, &err),
	                 IMS_OK);
	assert_string_equal(h, "imap.example.com");
	assert_int_equal(port, 993);
	assert_int_equal(ims_kh_hostport_parse("mx_1.test:143", 993, h, sizeof(h), &port, &err),
	                 IMS_OK);
	assert_string_equal(h, "mx_1.test");
	assert_int_equal(port, 143);
	assert_int_equal(ims_kh_hostport_parse("[2001:DB8::7]:10993", 0, h, sizeof(h), &port, &err),
	                 IMS_OK);
	assert_string_equal(h, "2001:db8::7");
	assert_int_equal(port, 10993);
	assert_int_equal(ims_kh_hostport_parse("[::1]", 0, h, sizeof(h), &port, &err), IMS_OK);
	assert_string_equal(h, "::1");
	assert_int_equal(port, 0);
	assert_int_equal(ims_kh_hostport_parse("192.0.2.7:993", 0, h, sizeof(h), &port, &err),
	                 IMS_OK);
	assert_string_equal(h, "192.0.2.7");

	assert_int_equal(ims_kh_hostport_parse("::1", 0, h, sizeof(h), &port, &err), IMS_ERR_USAGE);
	assert_string_equal(err.msg, "'::1': write an IPv6 address in brackets, [::1]");
	assert_int_equal(ims_kh_hostport_parse("host:0", 0, h, sizeof(h), &port, &err),
	                 IMS_ERR_USAGE);
	assert_string_equal(err.msg, "'host:0': port must be 1 to 65535");
	assert_int_equal(ims_kh_hostport_parse("host:65536", 0, h, sizeof(h), &port, &err),
	                 IMS_ERR_USAGE);
	assert_int_equal(
	    ims_kh_hostport_parse("host:99999999999999999999", 0, h, sizeof(h), &port, &err),
	    IMS_ERR_USAGE);
	assert_int_equal(ims_kh_hostport_parse("host:", 0, h, sizeof(h), &port, &err),
	                 IMS_ERR_USAGE);
	assert_string_equal(err.msg, "'host:': empty port");
	assert_int_equal(ims_kh_hostport_parse(":993", 0, h, sizeof(h), &port, &err),
	                 IMS_ERR_USAGE);
	assert_string_equal(err.msg, "':993': empty host");
	assert_int_equal(ims_kh_hostport_parse("a..b", 0, h, sizeof(h), &port, &err),
	                 IMS_ERR_USAGE);
	assert_string_equal(err.msg, "'a..b': bad host name");
	assert_int_equal(ims_kh_hostport_parse("a b", 0, h, sizeof(h), &port, &err), IMS_ERR_USAGE);
	assert_int_equal(ims_kh_hostport_parse("h\x1b[2J", 0, h, sizeof(h), &port, &err),
	                 IMS_ERR_USAGE);
	assert_int_equal(ims_kh_hostport_parse("[::1", 0, h, sizeof(h), &port, &err),
	                 IMS_ERR_USAGE);
	assert_int_equal(ims_kh_hostport_parse("[::1]x", 0, h, sizeof(h), &port, &err),
	                 IMS_ERR_USAGE);
	assert_int_equal(ims_kh_hostport_parse("[host]", 0, h, sizeof(h), &port, &err),
	                 IMS_ERR_USAGE);
}

static void test_parse_lookup(void **state)
{
	struct ims_kh kh;
	const char *pins[4];
	char *text;

	(void)state;
	ims_kh_init(&kh);
	parse_ok(&kh, "# imapsh known hosts\r\n"
	              "\n"
	              "imap.example.com:993 " PIN1 "\n"
	              "  IMAP.example.com.:993\t" PIN2 "  \r\n"
	              "imap.example.com:143 " PIN3 "\n"
	              "[2001:db8::7]:993 " PIN3 "\n"
	              "   # indented comment");
	assert_int_equal(kh.n, 7);
	assert_string_equal(kh.v[0].text, "# imapsh known hosts");
	assert_string_equal(kh.v[1].text, "");
	assert_null(kh.v[2].text);
	assert_string_equal(kh.v[3].host, "imap.example.com");

	assert_int_equal(ims_kh_lookup(&kh, "imap.example.com", 993, pins, 4), 2);
	assert_string_equal(pins[0], PIN1);
	assert_string_equal(pins[1], PIN2);
	assert_int_equal(ims_kh_lookup(&kh, "IMAP.EXAMPLE.COM.", 993, pins, 1), 2);
	assert_string_equal(pins[0], PIN1);
	assert_int_equal(ims_kh_lookup(&kh, "imap.example.com", 143, pins, 4), 1);
	assert_string_equal(pins[0], PIN3);
	assert_int_equal(ims_kh_lookup(&kh, "imap.example.com", 994, pins, 4), 0);
	assert_int_equal(ims_kh_lookup(&kh, "example.com", 993, pins, 4), 0);
	assert_int_equal(ims_kh_lookup(&kh, "2001:DB8::7", 993, NULL, 0), 1);

	text = format(&kh);
	assert_string_equal(text, "# imapsh known hosts\n"
	                          "\n"
	                          "imap.example.com:993 " PIN1 "\n"
	                          "imap.example.com:993 " PIN2 "\n"
	                          "imap.example.com:143 " PIN3 "\n"
	                          "[2001:db8::7]:993 " PIN3 "\n"
	                          "   # indented comment\n");
	free(text);
	ims_kh_release(&kh);
	assert_int_equal(kh.n, 0);
	ims_kh_release(&kh);
}

static void test_parse_errors(void **state)
{
	(void)state;
	parse_bad("host:993\n", "kh:1: expected HOST:PORT sha256//BASE64");
	parse_bad("# ok\nhost " PIN1 "\n", "kh:2: 'host' has no port");
	parse_bad("host:993 " PIN1 " extra\n", "kh:1: text after the pin");
	parse_bad("host:993 sha256//short=\n",
	          "kh:1: bad pin (want sha256// and 44 base64 characters)");
	parse_bad("host:993 " PIN1 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
	          "kh:1: bad pin (want sha256// and 44 base64 characters)");
	parse_bad("ok:1 " PIN1 "\nbad..host:993 " PIN1 "\n",
	          "kh:2: 'bad..host:993': bad host name");
	parse_bad("host:70000 " PIN1, "kh:1: 'host:70000': port must be 1 to 65535");
	parse_bad("::1:993 " PIN1, "kh:1: '::1:993': write an IPv6 address in brackets, [::1:993]");
}

static void test_add_remove(void **state)
{
	struct ims_kh kh;
	struct ims_error err;
	int added;
	char *text;

	(void)state;
	ims_kh_init(&kh);
	ims_error_init(&err);
	parse_ok(&kh, "# mine\nold.test:993 " PIN1 "\n");
	assert_int_equal(ims_kh_add(&kh, "New.Test.", 993, PIN2, &added, &err), IMS_OK);
	assert_int_equal(added, 1);
	assert_int_equal(ims_kh_add(&kh, "new.test", 993, PIN2, &added, &err), IMS_OK);
	assert_int_equal(added, 0);
	assert_int_equal(ims_kh_add(&kh, "new.test", 993, PIN3, &added, &err), IMS_OK);
	assert_int_equal(added, 1);
	assert_int_equal(ims_kh_add(&kh, "new.test", 143, PIN3, NULL, &err), IMS_OK);
	assert_int_equal(ims_kh_add(&kh, "2001:DB8::1", 993, PIN3, NULL, &err), IMS_OK);
	assert_int_equal(ims_kh_add(&kh, "bad host", 993, PIN3, NULL, &err), IMS_ERR_USAGE);
	assert_int_equal(ims_kh_add(&kh, "new.test", 0, PIN3, NULL, &err), IMS_ERR_USAGE);
	assert_int_equal(ims_kh_add(&kh, "new.test", 993, "sha256//x", NULL, &err), IMS_ERR_USAGE);
	text = format(&kh);
	assert_string_equal(text, "# mine\n"
	                          "old.test:993 " PIN1 "\n"
	                          "new.test:993 " PIN2 "\n"
	                          "new.test:993 " PIN3 "\n"
	                          "new.test:143 " PIN3 "\n"
	                          "[2001:db8::1]:993 " PIN3 "\n");
	free(text);

	assert_int_equal(ims_kh_remove(&kh, "NEW.test.", 993, PIN3), 1);
	assert_int_equal(ims_kh_remove(&kh, "new.test", 993, PIN3), 0);
	assert_int_equal(ims_kh_remove(&kh, "new.test", 0, NULL), 2);
	assert_int_equal(ims_kh_remove(&kh, "new.test", 0, NULL), 0);
	assert_int_equal(ims_kh_remove(&kh, "2001:db8::1", 993, NULL), 1);
	text = format(&kh);
	assert_string_equal(text, "# mine\nold.test:993 " PIN1 "\n");
	free(text);
	ims_kh_release(&kh);
}

static void test_load_save(void **state)
{
	char dir[] = "/tmp/imapsh-kh-XXXXXX";
	char path[256], buf[512];
	struct ims_kh kh, kh2;
	struct ims_error err;
	struct stat st;
	FILE *f;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/known_hosts", dir);
	ims_kh_init(&kh);
	ims_error_init(&err);
	/* A missing file is an empty store. */
	assert_int_equal(ims_kh_load(&kh, path, &err), IMS_OK);
	assert_int_equal(kh.n, 0);
	assert_int_equal(ims_kh_add(&kh, "a.test", 993, PIN1, NULL, &err), IMS_OK);
	umask(022);
	assert_int_equal(ims_kh_save(&kh, path, &err), IMS_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_string_equal(buf, "a.test:993 " PIN1 "\n");

	/* Replacing a wider file leaves 0600 and no temporary behind. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(ims_kh_add(&kh, "b.test", 993, PIN2, NULL, &err), IMS_OK);
	assert_int_equal(ims_kh_save(&kh, path, &err), IMS_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	ims_kh_init(&kh2);
	assert_int_equal(ims_kh_load(&kh2, path, &err), IMS_OK);
	assert_int_equal(kh2.n, 2);
	assert_int_equal(ims_kh_lookup(&kh2, "b.test", 993, NULL, 0), 1);
	ims_kh_release(&kh2);

	/* A bad line names the file and the line. */
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("garbage\n", f);
	fclose(f);
	ims_kh_init(&kh2);
	assert_int_equal(ims_kh_load(&kh2, path, &err), IMS_ERR_USAGE);
	snprintf(buf, sizeof(buf), "%s:3: expected HOST:PORT sha256//BASE64", path);
	assert_string_equal(err.msg, buf);
	ims_kh_release(&kh2);

	/* A folder is not a store. */
	ims_kh_init(&kh2);
	assert_int_equal(ims_kh_load(&kh2, dir, &err), IMS_ERR_IO);
	/* Saving into a missing folder fails with words. */
	snprintf(buf, sizeof(buf), "%s/missing/known_hosts", dir);
	assert_int_equal(ims_kh_save(&kh, buf, &err), IMS_ERR_IO);

	snprintf(buf, sizeof(buf), "rm -rf '%s'", dir);
	assert_int_equal(system(buf), 0);
	ims_kh_release(&kh);
}

/* A link or a FIFO planted at known_hosts is neither followed nor read
 * (nor waited on); saving replaces the link, never its target. */
static void test_planted(void **state)
{
	char dir[] = "/tmp/imapsh-kh-XXXXXX", path[256], target[256], buf[256];
	struct ims_kh kh;
	struct ims_error err;
	struct stat st;
	FILE *f;
	size_t n;

	(void)state;
	alarm(20); /* the FIFO must not block */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/known_hosts", dir);
	snprintf(target, sizeof(target), "%s/target", dir);
	f = fopen(target, "w");
	assert_non_null(f);
	fputs("a.test:993 " PIN1 "\n", f);
	fclose(f);
	assert_int_equal(symlink(target, path), 0);
	ims_kh_init(&kh);
	ims_error_init(&err);
	assert_int_equal(ims_kh_load(&kh, path, &err), IMS_ERR_IO);
	assert_non_null(strstr(err.msg, "symbolic link"));
	assert_int_equal(kh.n, 0);
	assert_int_equal(ims_kh_add(&kh, "b.test", 993, PIN2, NULL, &err), IMS_OK);
	assert_int_equal(ims_kh_save(&kh, path, &err), IMS_OK);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	f = fopen(target, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_string_equal(buf, "a.test:993 " PIN1 "\n");

	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(ims_kh_load(&kh, path, &err), IMS_ERR_IO);
	assert_non_null(strstr(err.msg, "FIFO"));
	alarm(0);
	ims_kh_release(&kh);
	snprintf(buf, sizeof(buf), "rm -rf '%s'", dir);
	assert_int_equal(system(buf), 0);
}

/* A NUL in any line, a comment too, is refused: never cut short. */
static void test_nul_comment(void **state)
{
	struct ims_kh kh;
	struct ims_error err;
	static const char text[] = "# note\0hidden\na.test:993 " PIN1 "\n";

	(void)state;
	ims_kh_init(&kh);
	ims_error_init(&err);
	assert_int_equal(ims_kh_parse(&kh, text, sizeof(text) - 1, "kh", &err), IMS_ERR_USAGE);
	assert_string_equal(err.msg, "kh:1: NUL byte");
	ims_kh_release(&kh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pin_valid),    cmocka_unit_test(test_hostport),
	    cmocka_unit_test(test_parse_lookup), cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_add_remove),   cmocka_unit_test(test_load_save),
	    cmocka_unit_test(test_planted),      cmocka_unit_test(test_nul_comment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
