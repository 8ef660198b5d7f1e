/* Autoconfig documents (Thunderbird's config-v1.1 format, also the ISPDB's):
 * the IMAP servers of <incomingServer type="imap"> and the <oAuth2> block.
 *
 *   <clientConfig version="1.1"><emailProvider id="example.com">
 *     <incomingServer type="imap">
 *       <hostname>imap.example.com</hostname> <port>993</port>
 *       <socketType>SSL</socketType> <username>%EMAILADDRESS%</username>
 *       <authentication>password-cleartext</authentication>
 *     </incomingServer></emailProvider>
 *   <oAuth2><issuer>..</issuer><scope>..</scope><authURL>https://..</authURL>
 *     <tokenURL>https://..</tokenURL></oAuth2></clientConfig>
 *
 * Hostile documents: read with expat; a document type declaration (DTD),
 * and so every entity declaration, is refused outright (no billion laughs,
 * no external entity), and where expat has it its amplification guard is
 * on as well; the document is capped at IMS_CAP_AUTOCONFIG_XML bytes, its
 * nesting at IMS_CAP_XML_DEPTH, each element's text at IMS_CAP_XML_TEXT,
 * its IMAP servers at IMS_CAP_AUTOCONFIG_SRV.  An IMAP server whose host
 * is not a host name (control characters, spaces...), whose port is not a
 * number from 1 to 65535 or whose socket type is unknown is skipped and
 * counted, its reason kept (sanitised); a plaintext one (socketType
 * "plain") is kept, marked IMS_AC_PLAIN, for the caller to report and
 * never use.
 *
 * Placeholders %EMAILADDRESS%, %EMAILLOCALPART% and %EMAILDOMAIN% in the
 * host and the user name are replaced from the address given to the
 * parser; any other %WORD% skips the server.
 *
 * Pure: no I/O; bytes may be fed in any pieces (one at a time too).
 * Part of the discover library (src/discover/), on base and expat.
 * Ownership: the parser owns its state until ims_ac_parser_free(); the
 * result is copied into the caller's struct. */
#ifndef IMAPSH_AUTOCONFIG_H
#define IMAPSH_AUTOCONFIG_H

#include <stddef.h>

#include "imapsh/caps.h"
#include "imapsh/error.h"

enum ims_ac_socket { IMS_AC_SSL = 1, IMS_AC_STARTTLS, IMS_AC_PLAIN };

/* <authentication> values, as bits */
enum {
	IMS_AC_AUTH_PASSWORD = 1u << 0,  /* password-cleartext, plain */
	IMS_AC_AUTH_ENCRYPTED = 1u << 1, /* password-encrypted, secure (CRAM-MD5) */
	IMS_AC_AUTH_OAUTH2 = 1u << 2,    /* OAuth2 */
	IMS_AC_AUTH_CERT = 1u << 3,      /* TLS-client-cert */
	IMS_AC_AUTH_OTHER = 1u << 4      /* GSSAPI, NTLM, client-IP-address, none... */
};

struct ims_ac_server {
	char hostname[IMS_CAP_DNS_NAME + 1]; /* placeholders replaced, checked */
	unsigned port;
	enum ims_ac_socket socket;
	char username[256]; /* placeholders replaced; "" when none given */
	unsigned auth;      /* IMS_AC_AUTH_* bits; 0 when none given */
};

struct ims_ac_oauth2 {
	int present; /* an <oAuth2> block was there */
	int usable;  /* with https:// authURL and tokenURL */
	char issuer[IMS_CAP_DNS_NAME + 1];
	char scope[1024];
	char auth_url[1024];
	char token_url[1024];
	char why[160]; /* when present but not usable: why (sanitised) */
};

struct ims_autoconfig {
	struct ims_ac_server servers[IMS_CAP_AUTOCONFIG_SRV];
	size_t n_servers;
	size_t n_skipped;  /* IMAP servers refused */
	char skipped[160]; /* the first one's reason, sanitised */
	struct ims_ac_oauth2 oauth2;
};

struct ims_ac_parser;

/* A parser for the address email (placeholders); NULL when out of memory. */
struct ims_ac_parser *ims_ac_parser_new(const char *email);
/* Feed the next bytes.  IMS_ERR_PROTOCOL (not XML, a DTD, not an
 * autoconfig document), IMS_ERR_LIMIT (a cap), IMS_ERR_NOMEM; after an
 * error the parser takes nothing more. */
ims_err ims_ac_parser_feed(struct ims_ac_parser *p, const void *data, size_t len,
                           struct ims_error *err) IMS_MUST_CHECK;
/* The end of the document: the result into out. */
ims_err ims_ac_parser_finish(struct ims_ac_parser *p, struct ims_autoconfig *out,
                             struct ims_error *err) IMS_MUST_CHECK;
void ims_ac_parser_free(struct ims_ac_parser **p);

/* The three calls at once. */
ims_err ims_autoconfig_parse(const char *email, const void *xml, size_t len,
                             struct ims_autoconfig *out, struct ims_error *err) IMS_MUST_CHECK;

/* Replace the placeholders of tmpl for email into out[0..n).  0, or -1 for
 * an unknown placeholder, a result that does not fit, or an address
 * without '@'. */
int ims_ac_expand(const char *tmpl, const char *email, char *out, size_t n);

#endif
