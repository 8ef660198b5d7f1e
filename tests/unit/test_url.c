/* TARGET and --resolve parsing: every form, every field, every error's
 * words. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/url.h"

struct want {
	enum ims_target_kind kind;
	int starttls;
	const char *user, *auth, *host;
	int ipv6;
	unsigned port;
	int port_given;
	const char *mailbox;
	uint32_t uidvalidity, uid;
	const char *section, *word;
};

static void str_eq(const char *what, const char *in, const char *got, const char *want)
{
	if (got == NULL && want == NULL)
		return;
	if (got == NULL || want == NULL || strcmp(got, want) != 0)
		fail_msg("%s: %s is \"%s\", want \"%s\"", in, what, got ? got : "(null)",
		         want ? want : "(null)");
}

static void check(const char *in, struct want w)
{
	struct ims_url u;
	struct ims_error err;

	ims_url_init(&u);
	ims_error_init(&err);
	if (ims_url_parse(&u, in, &err) != IMS_OK)
		fail_msg("%s: %s", in, err.msg);
	assert_int_equal(u.kind, w.kind);
	assert_int_equal(u.starttls, w.starttls);
	str_eq("user", in, u.user, w.user);
	str_eq("auth", in, u.auth, w.auth);
	str_eq("host", in, u.host, w.host);
	assert_int_equal(u.host_ipv6, w.ipv6);
	assert_int_equal(u.port, w.port);
	assert_int_equal(u.port_given, w.port_given);
	str_eq("mailbox", in, u.mailbox, w.mailbox);
	assert_int_equal(u.uidvalidity, w.uidvalidity);
	assert_int_equal(u.uid, w.uid);
	str_eq("section", in, u.section, w.section);
	str_eq("word", in, u.word, w.word);
	ims_url_release(&u);
	assert_null(u.host);
	assert_int_equal(u.kind, IMS_TARGET_NONE);
}

#define URL  IMS_TARGET_URL
#define HOST IMS_TARGET_HOST
#define WORD IMS_TARGET_WORD

static void test_urls(void **state)
{
	(void)state;
	check("imaps://imap.example.com",
	      (struct want){.kind = URL, .host = "imap.example.com", .port = 993});
	check("imap://imap.example.com",
	      (struct want){.kind = URL, .starttls = 1, .host = "imap.example.com", .port = 143});
	check("IMAPS://alice@imap.example.com:1993/INBOX", (struct want){.kind = URL,
	                                                                 .user = "alice",
	                                                                 .host = "imap.example.com",
	                                                                 .port = 1993,
	                                                                 .port_given = 1,
	                                                                 .mailbox = "INBOX"});
	check("imap://h:993",
	      (struct want){.kind = URL, .starttls = 1, .host = "h", .port = 993, .port_given = 1});
	check(
	    "imaps://alice%40example.com@imap.example.com/",
	    (struct want){
	        .kind = URL, .user = "alice@example.com", .host = "imap.example.com", .port = 993});
	check(
	    "imaps://alice@example.com@imap.example.com",
	    (struct want){
	        .kind = URL, .user = "alice@example.com", .host = "imap.example.com", .port = 993});
	check("imaps://bob;AUTH=PLAIN@host/INBOX;UIDVALIDITY=385759045/;UID=20/;SECTION=1.2",
	      (struct want){.kind = URL,
	                    .user = "bob",
	                    .auth = "PLAIN",
	                    .host = "host",
	                    .port = 993,
	                    .mailbox = "INBOX",
	                    .uidvalidity = 385759045,
	                    .uid = 20,
	                    .section = "1.2"});
	check("imaps://;AUTH=*@host", (struct want){.kind = URL, .host = "host", .port = 993});
	check("imaps://;auth=XOAUTH2@host",
	      (struct want){.kind = URL, .auth = "XOAUTH2", .host = "host", .port = 993});
	check("imaps://u;AUTH=*@host",
	      (struct want){.kind = URL, .user = "u", .host = "host", .port = 993});
	check("imaps://[::1]:10993/Sent%20Items", (struct want){.kind = URL,
	                                                        .host = "::1",
	                                                        .ipv6 = 1,
	                                                        .port = 10993,
	                                                        .port_given = 1,
	                                                        .mailbox = "Sent Items"});
	check("imaps://[2001:db8::7]",
	      (struct want){.kind = URL, .host = "2001:db8::7", .ipv6 = 1, .port = 993});
	check("imaps://h/%E9%80%81%E4%BF%A1%E6%B8%88%E3%81%BF",
	      (struct want){.kind = URL,
	                    .host = "h",
	                    .port = 993,
	                    .mailbox = "\xe9\x80\x81\xe4\xbf\xa1\xe6\xb8\x88\xe3\x81\xbf"});
	check("imaps://h/~peter/mail/%E5%8F%B0%E5%8C%97/",
	      (struct want){.kind = URL,
	                    .host = "h",
	                    .port = 993,
	                    .mailbox = "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97"});
	check("imaps://h/INBOX;uid=5",
	      (struct want){.kind = URL, .host = "h", .port = 993, .mailbox = "INBOX", .uid = 5});
	check("imaps://h/Archive/2026/;UID=4294967295", (struct want){.kind = URL,
	                                                              .host = "h",
	                                                              .port = 993,
	                                                              .mailbox = "Archive/2026",
	                                                              .uid = 4294967295u});
	check("imaps://h/INBOX/;UID=7;SECTION=HEADER.FIELDS%20(FROM)",
	      (struct want){.kind = URL,
	                    .host = "h",
	                    .port = 993,
	                    .mailbox = "INBOX",
	                    .uid = 7,
	                    .section = "HEADER.FIELDS (FROM)"});
	check("imaps://h/Entw\xc3\xbcrfe",
	      (struct want){.kind = URL, .host = "h", .port = 993, .mailbox = "Entw\xc3\xbcrfe"});
	check("imaps://h/My Folder%2FSub%3B%23",
	      (struct want){.kind = URL, .host = "h", .port = 993, .mailbox = "My Folder/Sub;#"});
	check("imaps://imap.example.com.",
	      (struct want){.kind = URL, .host = "imap.example.com.", .port = 993});
	check("imaps://192.0.2.7:993",
	      (struct want){.kind = URL, .host = "192.0.2.7", .port = 993, .port_given = 1});
	check("imaps://h_1-x.test:00993",
	      (struct want){.kind = URL, .host = "h_1-x.test", .port = 993, .port_given = 1});
	check("imaps://%40@h", (struct want){.kind = URL, .user = "@", .host = "h", .port = 993});
	check("imaps://J%C3%BCrgen@h",
	      (struct want){.kind = URL, .user = "J\xc3\xbcrgen", .host = "h", .port = 993});
}

static void test_plain(void **state)
{
	(void)state;
	check(
	    "alice@imap.example.com",
	    (struct want){.kind = HOST, .user = "alice", .host = "imap.example.com", .port = 993});
	check("alice@example.com@imap.example.com:143", (struct want){.kind = HOST,
	                                                              .user = "alice@example.com",
	                                                              .host = "imap.example.com",
	                                                              .port = 143,
	                                                              .port_given = 1});
	check("imap.example.com",
	      (struct want){.kind = HOST, .host = "imap.example.com", .port = 993});
	check(
	    "imap.example.com:1143",
	    (struct want){.kind = HOST, .host = "imap.example.com", .port = 1143, .port_given = 1});
	check("localhost:993",
	      (struct want){.kind = HOST, .host = "localhost", .port = 993, .port_given = 1});
	check("[2001:db8::1]:993",
	      (struct want){
	          .kind = HOST, .host = "2001:db8::1", .ipv6 = 1, .port = 993, .port_given = 1});
	check("[::1]", (struct want){.kind = HOST, .host = "::1", .ipv6 = 1, .port = 993});
	check("a%40b@host",
	      (struct want){.kind = HOST, .user = "a%40b", .host = "host", .port = 993});
	check("work", (struct want){.kind = WORD, .host = "work", .port = 993, .word = "work"});
	check("localhost",
	      (struct want){.kind = WORD, .host = "localhost", .port = 993, .word = "localhost"});
	check("my work", (struct want){.kind = WORD, .port = 993, .word = "my work"});
	check("B\xc3\xbcro", (struct want){.kind = WORD, .port = 993, .word = "B\xc3\xbcro"});
}

static void check_bad(const char *in, const char *msg)
{
	struct ims_url u;
	struct ims_error err;

	ims_url_init(&u);
	ims_error_init(&err);
	if (ims_url_parse(&u, in, &err) != IMS_ERR_USAGE)
		fail_msg("%s: accepted", in);
	if (strcmp(err.msg, msg) != 0)
		fail_msg("%s: \"%s\", want \"%s\"", in, err.msg, msg);
	/* Released on failure. */
	assert_int_equal(u.kind, IMS_TARGET_NONE);
	assert_null(u.user);
	assert_null(u.host);
	assert_null(u.mailbox);
	assert_null(u.auth);
	assert_null(u.section);
	assert_null(u.word);
}

static void test_errors(void **state)
{
	char big[IMS_TARGET_MAX + 2];

	(void)state;
	check_bad("", "bad target: empty");
	check_bad("imaps://", "bad URL: empty host name");
	check_bad("imaps://alice@", "bad URL: empty host name");
	check_bad("imaps:///INBOX", "bad URL: empty host name");
	check_bad("imaps://@host", "bad URL: empty user name before '@'");
	check_bad("imaps://alice:secret@host",
	          "bad URL: a password in the URL is not accepted (use --password-command, "
	          "IMAPSH_PASSWORD, netrc or the prompt)");
	check_bad("imaps://host:0", "bad URL: port 0 is out of range (1-65535)");
	check_bad("imaps://host:65536", "bad URL: port 65536 is out of range (1-65535)");
	check_bad("imaps://host:999999999999",
	          "bad URL: port 999999999999 is out of range (1-65535)");
	check_bad("imaps://host:", "bad URL: empty port after ':'");
	check_bad("imaps://host:99a", "bad URL: port \"99a\" is not a number");
	check_bad("imaps://host:-1", "bad URL: port \"-1\" is not a number");
	check_bad("imaps://ho st", "bad URL: invalid character ' ' in host name");
	check_bad("imaps://ho%41st", "bad URL: invalid character '%' in host name");
	check_bad("imaps://h\x01st", "bad target: control character (byte 0x01) at position 10");
	check_bad("imaps://h\x7fst", "bad target: control character (byte 0x7f) at position 10");
	check_bad("imaps://h\xc3\xa9st", "bad URL: non-ASCII host name (give it in its xn-- form)");
	check_bad("imaps://[::1", "bad URL: '[' without ']' around the IPv6 address");
	check_bad("imaps://[::g]", "bad URL: invalid IPv6 address \"::g\"");
	check_bad("imaps://[]", "bad URL: invalid IPv6 address");
	check_bad("imaps://[192.0.2.1]", "bad URL: invalid IPv6 address \"192.0.2.1\"");
	check_bad("imaps://[fe80::1%25eth0]", "bad URL: IPv6 zone identifiers are not supported");
	check_bad("imaps://[::1]x", "bad URL: unexpected 'x' after the IPv6 address");
	check_bad("imaps://[::1]:", "bad URL: empty port after ':'");
	check_bad("imaps://::1", "bad URL: an IPv6 address must be in brackets, as [::1]:993");
	check_bad("imaps://a..b", "bad URL: empty label in host name");
	check_bad("imaps://.a", "bad URL: empty label in host name");
	check_bad("imaps://.", "bad URL: empty label in host name");
	check_bad("imaps://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test",
	          "bad URL: host name label longer than 63 bytes");
	check_bad("http://host", "bad URL: unsupported scheme \"http://\" (imaps:// or imap://)");
	check_bad("://host", "bad URL: unsupported scheme \"://\" (imaps:// or imap://)");
	check_bad("imaps://host/INBOX?UNSEEN",
	          "bad URL: search URLs are not supported (write '?' as %3F)");
	check_bad("imaps://host?x", "bad URL: search URLs are not supported (write '?' as %3F)");
	check_bad("imaps://host/INBOX#x", "bad URL: '#' must be written %23 in a URL");
	check_bad("imaps://host/IN%ZZ",
	          "bad URL: bad percent-encoding in the mailbox name ('%' needs two hex digits; "
	          "write '%' as %25)");
	check_bad("imaps://host/IN%4",
	          "bad URL: bad percent-encoding in the mailbox name ('%' needs two hex digits; "
	          "write '%' as %25)");
	check_bad("imaps://host/IN%0A", "bad URL: control character (%0A) in the mailbox name");
	check_bad("imaps://host/IN%00", "bad URL: control character (%00) in the mailbox name");
	check_bad("imaps://host/%FF", "bad URL: the mailbox name is not valid UTF-8");
	check_bad("imaps://host/\xff", "bad URL: the mailbox name is not valid UTF-8");
	check_bad("imaps://host/;UID=5", "bad URL: ;UID= and ;UIDVALIDITY= need a mailbox");
	check_bad("imaps://host/INBOX/;UID=0",
	          "bad URL: UID must be a number from 1 to 4294967295");
	check_bad("imaps://host/INBOX/;UID=4294967296",
	          "bad URL: UID must be a number from 1 to 4294967295");
	check_bad("imaps://host/INBOX/;UID=", "bad URL: UID must be a number from 1 to 4294967295");
	check_bad("imaps://host/INBOX/;UID=1x",
	          "bad URL: UID must be a number from 1 to 4294967295");
	check_bad("imaps://host/INBOX;UIDVALIDITY=-1",
	          "bad URL: UIDVALIDITY must be a number from 1 to 4294967295");
	check_bad("imaps://host/INBOX/;SECTION=1", "bad URL: ;SECTION= needs a ;UID= before it");
	check_bad("imaps://host/INBOX/;UID=1/;UIDVALIDITY=5",
	          "bad URL: ;UIDVALIDITY= must come right after the mailbox");
	check_bad("imaps://host/INBOX/;UID=1/;UID=2",
	          "bad URL: ;UID= given twice or after ;SECTION=");
	check_bad("imaps://host/INBOX/;UID=1/;SECTION=", "bad URL: empty ;SECTION=");
	check_bad("imaps://host/INBOX/;UID=1/;PARTIAL=0.10",
	          "bad URL: partial fetch URLs (;PARTIAL=) are not supported");
	check_bad("imaps://host/INBOX/;URLAUTH=anonymous",
	          "bad URL: URLAUTH URLs are not supported");
	check_bad("imaps://host/INBOX/;FOO=1", "bad URL: unknown URL parameter \";FOO\"");
	check_bad("imaps://host/INBOX/;UID", "bad URL: URL parameter \";UID\" without '='");
	check_bad("imaps://u;FOO=1@host",
	          "bad URL: unknown parameter after the user name (only ;AUTH=)");
	check_bad("imaps://u;AUTH=@host", "bad URL: empty ;AUTH= mechanism");
	check_bad("imaps://u;AUTH=PL%20AIN@host", "bad URL: invalid ;AUTH= mechanism");
	check_bad("imaps://u[1]@host",
	          "bad URL: '[' and ']' must be percent-encoded in the user name");
	check_bad("imaps://%C3@host", "bad URL: the user name is not valid UTF-8");
	check_bad("@host", "bad target: empty user name before '@'");
	check_bad("alice@", "bad target: empty host name after '@'");
	check_bad("host:abc", "bad target: port \"abc\" is not a number");
	check_bad("host:70000", "bad target: port 70000 is out of range (1-65535)");
	check_bad("a b.example", "bad target: invalid character ' ' in host name");
	check_bad("a@b/c", "bad target: invalid character '/' in host name");
	check_bad("a@h\xc3\xa9.test", "bad target: non-ASCII host name (give it in its xn-- form)");
	check_bad("2001:db8::1", "bad target: an IPv6 address must be in brackets, as [::1]:993");
	check_bad("\xff", "bad target: not valid UTF-8");
	check_bad("a\tb", "bad target: control character (byte 0x09) at position 2");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	check_bad(big, "bad target: longer than 4096 bytes");
}

static void test_reuse(void **state)
{
	struct ims_url u;
	struct ims_error err;

	(void)state;
	/* A second parse replaces (and frees) what the first left. */
	ims_url_init(&u);
	assert_int_equal(ims_url_parse(&u, "imaps://a@b/INBOX/;UID=1/;SECTION=1", &err), IMS_OK);
	assert_int_equal(ims_url_parse(&u, "host.test", &err), IMS_OK);
	assert_null(u.user);
	assert_null(u.mailbox);
	assert_null(u.section);
	assert_int_equal(u.uid, 0);
	assert_string_equal(u.host, "host.test");
	ims_url_release(&u);
	ims_url_release(&u);
}

static void test_resolve(void **state)
{
	struct ims_resolve r;
	struct ims_error err;
	char spec[600];
	int i;

	(void)state;
	assert_int_equal(ims_resolve_parse(&r, "*:993:192.0.2.9", &err), IMS_OK);
	assert_string_equal(r.host, "*");
	assert_int_equal(r.port, 993);
	assert_string_equal(r.addrs[0], "192.0.2.9");
	assert_int_equal(ims_resolve_parse(&r, "**:993:192.0.2.9", &err), IMS_ERR_USAGE);
	assert_int_equal(ims_resolve_parse(&r, "*.example:993:192.0.2.9", &err), IMS_ERR_USAGE);
	assert_int_equal(ims_resolve_parse(&r, "imap.example.com:993:192.0.2.7", &err), IMS_OK);
	assert_string_equal(r.host, "imap.example.com");
	assert_int_equal(r.port, 993);
	assert_int_equal(r.n_addrs, 1);
	assert_string_equal(r.addrs[0], "192.0.2.7");

	assert_int_equal(ims_resolve_parse(&r, "h:143:[2001:db8::7],192.0.2.7,[::1]", &err),
	                 IMS_OK);
	assert_string_equal(r.host, "h");
	assert_int_equal(r.port, 143);
	assert_int_equal(r.n_addrs, 3);
	assert_string_equal(r.addrs[0], "2001:db8::7");
	assert_string_equal(r.addrs[1], "192.0.2.7");
	assert_string_equal(r.addrs[2], "::1");

	strcpy(spec, "h:1:");
	for (i = 0; i < IMS_RESOLVE_MAX; i++)
		strcat(spec, i ? ",10.0.0.1" : "10.0.0.1");
	assert_int_equal(ims_resolve_parse(&r, spec, &err), IMS_OK);
	assert_int_equal(r.n_addrs, IMS_RESOLVE_MAX);
	strcat(spec, ",10.0.0.2");
	assert_int_equal(ims_resolve_parse(&r, spec, &err), IMS_ERR_USAGE);
	assert_string_equal(err.msg, "bad --resolve: more than 16 addresses");
	assert_int_equal(r.n_addrs, 0);
}

static void check_bad_resolve(const char *in, const char *msg)
{
	struct ims_resolve r;
	struct ims_error err;

	ims_error_init(&err);
	if (ims_resolve_parse(&r, in, &err) != IMS_ERR_USAGE)
		fail_msg("%s: accepted", in);
	if (strcmp(err.msg, msg) != 0)
		fail_msg("%s: \"%s\", want \"%s\"", in, err.msg, msg);
	assert_int_equal(r.n_addrs, 0);
	assert_string_equal(r.host, "");
	assert_int_equal(r.port, 0);
}

static void test_resolve_errors(void **state)
{
	(void)state;
	check_bad_resolve("", "bad --resolve: expected HOST:PORT:ADDR[,ADDR...]");
	check_bad_resolve("host", "bad --resolve: expected HOST:PORT:ADDR[,ADDR...]");
	check_bad_resolve("host:993", "bad --resolve: expected HOST:PORT:ADDR[,ADDR...]");
	check_bad_resolve("host:0:1.2.3.4", "bad --resolve: port 0 is out of range (1-65535)");
	check_bad_resolve("host::1.2.3.4", "bad --resolve: empty port after ':'");
	check_bad_resolve("host:x:1.2.3.4", "bad --resolve: port \"x\" is not a number");
	check_bad_resolve("host:993:", "bad --resolve: empty address");
	check_bad_resolve("host:993:1.2.3.4,", "bad --resolve: empty address");
	check_bad_resolve("host:993:,1.2.3.4", "bad --resolve: empty address");
	check_bad_resolve("host:993:2001:db8::1",
	                  "bad --resolve: an IPv6 address must be in brackets, as [::1]");
	check_bad_resolve("host:993:[2001:db8::1",
	                  "bad --resolve: '[' without ']' around an IPv6 address");
	check_bad_resolve("host:993:[]", "bad --resolve: '[' without ']' around an IPv6 address");
	check_bad_resolve("host:993:[1.2.3.4]", "bad --resolve: invalid IPv6 address \"1.2.3.4\"");
	check_bad_resolve("host:993:[fe80::1%eth0]",
	                  "bad --resolve: IPv6 zone identifiers are not supported");
	check_bad_resolve("host:993:1.2.3", "bad --resolve: invalid IPv4 address \"1.2.3\"");
	check_bad_resolve("host:993:999.1.1.1",
	                  "bad --resolve: invalid IPv4 address \"999.1.1.1\"");
	check_bad_resolve("host:993:example.org",
	                  "bad --resolve: invalid IPv4 address \"example.org\"");
	check_bad_resolve("host:993:1111.2222.3333.4444", "bad --resolve: invalid IPv4 address");
	check_bad_resolve("+host:993:1.2.3.4",
	                  "bad --resolve: the '+' and '-' forms are not supported");
	check_bad_resolve("-host:993", "bad --resolve: the '+' and '-' forms are not supported");
	check_bad_resolve(":993:1.2.3.4", "bad --resolve: empty host name");
	check_bad_resolve("*x:993:1.2.3.4", "bad --resolve: invalid character '*' in host name");
	check_bad_resolve("bad host:993:1.1.1.1",
	                  "bad --resolve: invalid character ' ' in host name");
	check_bad_resolve("h:993:1.1.1.1\n", "bad --resolve: control character at position 14");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_urls),    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_errors),  cmocka_unit_test(test_reuse),
	    cmocka_unit_test(test_resolve), cmocka_unit_test(test_resolve_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
