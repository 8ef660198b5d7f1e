/* autoconfig: Thunderbird's config-v1.1 documents, whole and one byte at
 * a time; placeholders; hostile documents (a DTD, a billion laughs, too
 * big, too deep, control characters in a host, a plaintext server). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/autoconfig.h"

static struct ims_autoconfig ac;
static struct ims_error err;

static const char *GOOD =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<clientConfig version=\"1.1\">\n"
    " <emailProvider id=\"example.com\">\n"
    "  <domain>example.com</domain>\n"
    "  <displayName>Example &amp; Co</displayName>\n"
    "  <incomingServer type=\"pop3\"><hostname>pop.example.com</hostname>"
    "<port>995</port><socketType>SSL</socketType></incomingServer>\n"
    "  <incomingServer type=\"imap\">\n"
    "   <hostname> imap.%EMAILDOMAIN% </hostname>\n"
    "   <port>993</port>\n"
    "   <socketType>SSL</socketType>\n"
    "   <username>%EMAILLOCALPART%</username>\n"
    "   <authentication>password-cleartext</authentication>\n"
    "   <authentication>OAuth2</authentication>\n"
    "  </incomingServer>\n"
    "  <incomingServer type=\"imap\">\n"
    "   <hostname>imap2.example.com</hostname><port>143</port>\n"
    "   <socketType>STARTTLS</socketType><username>%EMAILADDRESS%</username>\n"
    "  </incomingServer>\n"
    "  <outgoingServer type=\"smtp\"><hostname>smtp.example.com</hostname></outgoingServer>\n"
    " </emailProvider>\n"
    " <oAuth2>\n"
    "  <issuer>login.example.com</issuer>\n"
    "  <scope>imap offline_access</scope>\n"
    "  <authURL>https://login.example.com/authorize</authURL>\n"
    "  <tokenURL>https://login.example.com/token</tokenURL>\n"
    " </oAuth2>\n"
    "</clientConfig>\n";

static ims_err parse(const char *xml)
{
	memset(&ac, 0, sizeof(ac));
	ims_error_init(&err);
	return ims_autoconfig_parse("alice@example.com", xml, strlen(xml), &ac, &err);
}

/* The same document fed one byte at a time. */
static ims_err parse_bytes(const char *xml, size_t len)
{
	struct ims_ac_parser *p = ims_ac_parser_new("alice@example.com");
	ims_err e = IMS_OK;
	size_t i;

	assert_non_null(p);
	memset(&ac, 0, sizeof(ac));
	ims_error_init(&err);
	for (i = 0; i < len && e == IMS_OK; i++)
		e = ims_ac_parser_feed(p, xml + i, 1, &err);
	if (e == IMS_OK)
		e = ims_ac_parser_finish(p, &ac, &err);
	ims_ac_parser_free(&p);
	assert_null(p);
	return e;
}

static void check_good(void)
{
	assert_int_equal(ac.n_servers, 2);
	assert_string_equal(ac.servers[0].hostname, "imap.example.com");
	assert_int_equal(ac.servers[0].port, 993);
	assert_int_equal(ac.servers[0].socket, IMS_AC_SSL);
	assert_string_equal(ac.servers[0].username, "alice");
	assert_int_equal(ac.servers[0].auth, IMS_AC_AUTH_PASSWORD | IMS_AC_AUTH_OAUTH2);
	assert_string_equal(ac.servers[1].hostname, "imap2.example.com");
	assert_int_equal(ac.servers[1].socket, IMS_AC_STARTTLS);
	assert_string_equal(ac.servers[1].username, "alice@example.com");
	assert_int_equal(ac.servers[1].auth, 0);
	assert_true(ac.oauth2.present);
	assert_true(ac.oauth2.usable);
	assert_string_equal(ac.oauth2.issuer, "login.example.com");
	assert_string_equal(ac.oauth2.scope, "imap offline_access");
	assert_string_equal(ac.oauth2.auth_url, "https://login.example.com/authorize");
	assert_string_equal(ac.oauth2.token_url, "https://login.example.com/token");
	assert_int_equal(ac.n_skipped, 0);
}

static void test_good_whole(void **state)
{
	(void)state;
	assert_int_equal(parse(GOOD), IMS_OK);
	check_good();
}

static void test_good_byte_by_byte(void **state)
{
	(void)state;
	assert_int_equal(parse_bytes(GOOD, strlen(GOOD)), IMS_OK);
	check_good();
}

static void test_placeholders(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(
	    ims_ac_expand("%EMAILLOCALPART%+x@%EMAILDOMAIN%", "a.b@ex.com", out, sizeof(out)), 0);
	assert_string_equal(out, "a.b+x@ex.com");
	assert_int_equal(ims_ac_expand("%EMAILADDRESS%", "a@b.c", out, sizeof(out)), 0);
	assert_string_equal(out, "a@b.c");
	assert_int_equal(ims_ac_expand("plain", "a@b.c", out, sizeof(out)), 0);
	assert_string_equal(out, "plain");
	assert_int_equal(ims_ac_expand("%REALNAME%", "a@b.c", out, sizeof(out)), -1);
	assert_int_equal(ims_ac_expand("50%", "a@b.c", out, sizeof(out)), -1);
	assert_int_equal(ims_ac_expand("%EMAILADDRESS%", "a@b.c", out, 5), -1); /* no room */
	assert_int_equal(ims_ac_expand("%EMAILADDRESS%", "a@b.c", out, 6), 0);
}

static void test_plaintext_kept_marked(void **state)
{
	(void)state;
	assert_int_equal(parse("<clientConfig><emailProvider><incomingServer type='imap'>"
	                       "<hostname>imap.example.com</hostname><port>143</port>"
	                       "<socketType>plain</socketType></incomingServer>"
	                       "</emailProvider></clientConfig>"),
	                 IMS_OK);
	assert_int_equal(ac.n_servers, 1);
	assert_int_equal(ac.servers[0].socket, IMS_AC_PLAIN);
}

static void test_bad_servers_skipped(void **state)
{
	(void)state;
	assert_int_equal(
	    parse("<clientConfig><emailProvider>"
	          "<incomingServer type='imap'><hostname>imap&#x202e;\t.evil</hostname>"
	          "<port>993</port><socketType>SSL</socketType></incomingServer>"
	          "<incomingServer type='imap'><hostname>imap.example.com</hostname>"
	          "<port>99999</port><socketType>SSL</socketType></incomingServer>"
	          "<incomingServer type='imap'><hostname>imap.example.com</hostname>"
	          "<port>993</port><socketType>SSLv2</socketType></incomingServer>"
	          "<incomingServer type='imap'><hostname>%FOO%.example.com</hostname>"
	          "<port>993</port><socketType>SSL</socketType></incomingServer>"
	          "<incomingServer type='imap'><hostname>ok.example.com</hostname>"
	          "<port>993</port><socketType>SSL</socketType>"
	          "<username>a&#x0a;b</username></incomingServer>"
	          "<incomingServer type='imap'><hostname>good.example.com</hostname>"
	          "<port>993</port><socketType>SSL</socketType></incomingServer>"
	          "</emailProvider></clientConfig>"),
	    IMS_OK);
	assert_int_equal(ac.n_servers, 1);
	assert_string_equal(ac.servers[0].hostname, "good.example.com");
	assert_int_equal(ac.n_skipped, 5);
	assert_non_null(strstr(ac.skipped, "not a host name"));
	assert_null(strstr(ac.skipped, "\xe2\x80\xae")); /* sanitised */
	assert_null(strchr(ac.skipped, '\t'));
	/* an escape character is not even XML 1.0 */
	assert_int_equal(parse("<clientConfig><emailProvider><incomingServer type='imap'>"
	                       "<hostname>imap&#x1b;[31m.evil</hostname></incomingServer>"
	                       "</emailProvider></clientConfig>"),
	                 IMS_ERR_PROTOCOL);
}

static void test_dtd_refused(void **state)
{
	const char *bomb =
	    "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE lolz [\n"
	    " <!ENTITY lol \"lol\">\n"
	    " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	    " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	    " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
	    "]>\n"
	    "<clientConfig><emailProvider><displayName>&lol4;</displayName>"
	    "</emailProvider></clientConfig>\n";

	(void)state;
	assert_int_equal(parse(bomb), IMS_ERR_PROTOCOL);
	assert_non_null(strstr(err.msg, "DTD"));
	assert_int_equal(parse_bytes(bomb, strlen(bomb)), IMS_ERR_PROTOCOL);
	assert_int_equal(parse("<!DOCTYPE clientConfig SYSTEM \"http://evil.test/x.dtd\">"
	                       "<clientConfig/>"),
	                 IMS_ERR_PROTOCOL);
	/* an entity used without a declaration is not well-formed */
	assert_int_equal(parse("<clientConfig>&lol;</clientConfig>"), IMS_ERR_PROTOCOL);
}

static void test_too_big(void **state)
{
	size_t n = IMS_CAP_AUTOCONFIG_XML + 100, i;
	char *big = malloc(n + 1);

	(void)state;
	assert_non_null(big);
	strcpy(big, "<clientConfig><!--");
	for (i = strlen(big); i < n; i++)
		big[i] = 'x';
	big[n] = '\0';
	assert_int_equal(parse(big), IMS_ERR_LIMIT);
	assert_non_null(strstr(err.msg, "larger than"));
	free(big);
}

static void test_too_deep_and_long(void **state)
{
	char doc[4096] = "<clientConfig>";
	char text[IMS_CAP_XML_TEXT + 200];
	int i;

	(void)state;
	for (i = 0; i < 40; i++)
		strcat(doc, "<a>");
	assert_int_equal(parse(doc), IMS_ERR_LIMIT);
	snprintf(text, sizeof(text), "%s",
	         "<clientConfig><emailProvider><incomingServer "
	         "type='imap'><hostname>");
	memset(text + strlen(text), 'a', IMS_CAP_XML_TEXT + 10);
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(parse(text), IMS_ERR_LIMIT);
}

static void test_not_autoconfig(void **state)
{
	(void)state;
	assert_int_equal(parse("<html><body>not found</body></html>"), IMS_ERR_PROTOCOL);
	assert_non_null(strstr(err.msg, "<html>"));
	assert_int_equal(parse(""), IMS_ERR_PROTOCOL);
	assert_int_equal(parse("<clientConfig>"), IMS_ERR_PROTOCOL); /* unfinished */
	assert_int_equal(parse("{\"json\": 1}"), IMS_ERR_PROTOCOL);
}

static void test_oauth2_must_be_https(void **state)
{
	(void)state;
	assert_int_equal(parse("<clientConfig><oAuth2><issuer>x.example</issuer>"
	                       "<authURL>http://x.example/a</authURL>"
	                       "<tokenURL>https://x.example/t</tokenURL></oAuth2></clientConfig>"),
	                 IMS_OK);
	assert_true(ac.oauth2.present);
	assert_false(ac.oauth2.usable);
	assert_non_null(strstr(ac.oauth2.why, "https://"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_whole),
	    cmocka_unit_test(test_good_byte_by_byte),
	    cmocka_unit_test(test_placeholders),
	    cmocka_unit_test(test_plaintext_kept_marked),
	    cmocka_unit_test(test_bad_servers_skipped),
	    cmocka_unit_test(test_dtd_refused),
	    cmocka_unit_test(test_too_big),
	    cmocka_unit_test(test_too_deep_and_long),
	    cmocka_unit_test(test_not_autoconfig),
	    cmocka_unit_test(test_oauth2_must_be_https),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
