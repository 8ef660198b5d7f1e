/* Autoconfig XML through expat: a small state machine over the elements
 * that matter, every other element skipped. */
#include "imapsh/autoconfig.h"

/* The distributions' expat is built with DTD support; the header declares
 * its amplification guard only when told so. */
#ifndef XML_DTD
#define XML_DTD
#endif
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapsh/number.h"
#include "imapsh/sanitize.h"
#include "imapsh/tlsname.h"

enum tag {
	T_OTHER,
	T_ROOT, /* clientConfig */
	T_PROVIDER,
	T_IMAP,     /* incomingServer type="imap" */
	T_INCOMING, /* another incomingServer */
	T_OAUTH2,
	T_HOSTNAME,
	T_PORT,
	T_SOCKET,
	T_USERNAME,
	T_AUTH,
	T_ISSUER,
	T_SCOPE,
	T_AUTHURL,
	T_TOKENURL
};

struct raw_server {
	char hostname[IMS_CAP_XML_TEXT + 1];
	char port[16];
	char socket[32];
	char username[IMS_CAP_XML_TEXT + 1];
	unsigned auth;
	int bad_field; /* a field too long to keep */
};

struct ims_ac_parser {
	XML_Parser xp;
	char email[512];
	size_t fed;
	unsigned depth;
	enum tag stack[IMS_CAP_XML_DEPTH + 1];
	char text[IMS_CAP_XML_TEXT + 1];
	size_t text_len;
	int collecting;
	int failed;
	int seen_root;
	struct raw_server cur;
	struct ims_autoconfig out;
	struct ims_error err;
};

static void fail(struct ims_ac_parser *p, ims_err code, const char *msg)
{
	if (p->failed)
		return;
	p->failed = 1;
	ims_error_set(&p->err, code, "autoconfig: %s", msg);
	XML_StopParser(p->xp, XML_FALSE);
}

static enum tag tag_of(enum tag parent, const char *name, const char **attrs)
{
	size_t i;

	switch (parent) {
	case T_ROOT:
		if (strcmp(name, "emailProvider") == 0)
			return T_PROVIDER;
		return strcmp(name, "oAuth2") == 0 ? T_OAUTH2 : T_OTHER;
	case T_PROVIDER:
		if (strcmp(name, "oAuth2") == 0)
			return T_OAUTH2;
		if (strcmp(name, "incomingServer") != 0)
			return T_OTHER;
		for (i = 0; attrs[i] != NULL; i += 2)
			if (strcmp(attrs[i], "type") == 0 && strcasecmp(attrs[i + 1], "imap") == 0)
				return T_IMAP;
		return T_INCOMING;
	case T_IMAP:
		if (strcmp(name, "hostname") == 0)
			return T_HOSTNAME;
		if (strcmp(name, "port") == 0)
			return T_PORT;
		if (strcmp(name, "socketType") == 0)
			return T_SOCKET;
		if (strcmp(name, "username") == 0)
			return T_USERNAME;
		return strcmp(name, "authentication") == 0 ? T_AUTH : T_OTHER;
	case T_OAUTH2:
		if (strcmp(name, "issuer") == 0)
			return T_ISSUER;
		if (strcmp(name, "scope") == 0)
			return T_SCOPE;
		if (strcmp(name, "authURL") == 0)
			return T_AUTHURL;
		return strcmp(name, "tokenURL") == 0 ? T_TOKENURL : T_OTHER;
	default: return T_OTHER;
	}
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct ims_ac_parser *p = ud;
	enum tag t;

	if (p->failed)
		return;
	if (p->depth == IMS_CAP_XML_DEPTH) {
		fail(p, IMS_ERR_LIMIT, "elements nested deeper than the most imapsh reads");
		return;
	}
	if (p->depth == 0) {
		if (strcmp(name, "clientConfig") != 0) {
			char safe[64], msg[160];

			ims_sanitize_fixed(name, strlen(name), safe, sizeof(safe));
			snprintf(msg, sizeof(msg),
			         "not an autoconfig document (its root element is <%s>, not "
			         "<clientConfig>)",
			         safe);
			fail(p, IMS_ERR_PROTOCOL, msg);
			return;
		}
		p->seen_root = 1;
		t = T_ROOT;
	} else {
		t = tag_of(p->stack[p->depth - 1], name, attrs);
	}
	p->stack[p->depth++] = t;
	if (t == T_IMAP)
		memset(&p->cur, 0, sizeof(p->cur));
	p->collecting = t >= T_HOSTNAME;
	p->text_len = 0;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct ims_ac_parser *p = ud;

	if (p->failed || !p->collecting || len <= 0)
		return;
	if (p->text_len + (size_t)len > IMS_CAP_XML_TEXT) {
		fail(p, IMS_ERR_LIMIT, "an element's text is longer than the most imapsh reads");
		return;
	}
	memcpy(p->text + p->text_len, s, (size_t)len);
	p->text_len += (size_t)len;
}

/* The collected text without surrounding white space. */
static const char *trimmed(struct ims_ac_parser *p)
{
	char *s = p->text;
	size_t n = p->text_len;

	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	s[n] = '\0';
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

static void put(char *dst, size_t n, const char *v, int *bad)
{
	size_t len = strlen(v);

	if (len >= n) {
		*bad = 1;
		return;
	}
	memcpy(dst, v, len + 1);
}

static unsigned auth_bit(const char *v)
{
	if (strcasecmp(v, "password-cleartext") == 0 || strcasecmp(v, "plain") == 0)
		return IMS_AC_AUTH_PASSWORD;
	if (strcasecmp(v, "password-encrypted") == 0 || strcasecmp(v, "secure") == 0)
		return IMS_AC_AUTH_ENCRYPTED;
	if (strcasecmp(v, "OAuth2") == 0)
		return IMS_AC_AUTH_OAUTH2;
	if (strcasecmp(v, "TLS-client-cert") == 0)
		return IMS_AC_AUTH_CERT;
	return IMS_AC_AUTH_OTHER;
}

/* Text that may go into the config file and onto a terminal as it is:
 * the sanitiser's line rule leaves it unchanged (no control character,
 * C0 or C1 (XML 1.0 lets "&#x9b;" through), no bidi override or
 * invisible character, valid UTF-8). */
static int printable(const char *s)
{
	return ims_sanitize_is_clean(s, strlen(s), IMS_SANITIZE_LINE);
}

/* A URL: printable ASCII, no space. */
static int url_text(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static void skip(struct ims_ac_parser *p, const char *why, const char *what)
{
	char safe[64];

	if (p->out.n_skipped++ == 0) {
		ims_sanitize_fixed(what, strlen(what), safe, sizeof(safe));
		snprintf(p->out.skipped, sizeof(p->out.skipped), "%s '%s'", why, safe);
	}
}

/* The end of an <incomingServer type="imap">: checked, then kept. */
static void server_done(struct ims_ac_parser *p)
{
	struct raw_server *r = &p->cur;
	struct ims_ac_server s;
	uint64_t port;

	memset(&s, 0, sizeof(s));
	if (r->bad_field)
		return skip(p, "a field too long in server", r->hostname);
	if (ims_ac_expand(r->hostname, p->email, s.hostname, sizeof(s.hostname)) != 0 ||
	    !ims_tls_host_ok(s.hostname, strlen(s.hostname)))
		return skip(p, "not a host name:", r->hostname);
	if (ims_number_parse(r->port, strlen(r->port), 1, 65535, &port) != 0)
		return skip(p, "not a port from 1 to 65535:", r->port);
	s.port = (unsigned)port;
	if (strcasecmp(r->socket, "SSL") == 0 || strcasecmp(r->socket, "TLS") == 0)
		s.socket = IMS_AC_SSL;
	else if (strcasecmp(r->socket, "STARTTLS") == 0)
		s.socket = IMS_AC_STARTTLS;
	else if (strcasecmp(r->socket, "plain") == 0)
		s.socket = IMS_AC_PLAIN;
	else
		return skip(p, "an unknown socketType:", r->socket);
	if (ims_ac_expand(r->username, p->email, s.username, sizeof(s.username)) != 0 ||
	    !printable(s.username))
		return skip(p, "an unusable username:", r->username);
	s.auth = r->auth;
	if (p->out.n_servers == IMS_CAP_AUTOCONFIG_SRV) {
		fail(p, IMS_ERR_LIMIT, "more IMAP servers than the most imapsh reads");
		return;
	}
	p->out.servers[p->out.n_servers++] = s;
}

static int https_url(const char *v)
{
	return strncmp(v, "https://", 8) == 0 && v[8] != '\0' && v[8] != '/' && url_text(v);
}

static void oauth2_done(struct ims_ac_parser *p)
{
	struct ims_ac_oauth2 *o = &p->out.oauth2;

	o->present = 1;
	o->usable = 0;
	if (!https_url(o->auth_url) || !https_url(o->token_url))
		snprintf(o->why, sizeof(o->why), "its authURL and tokenURL must be https:// URLs");
	else if (!printable(o->scope))
		snprintf(o->why, sizeof(o->why),
		         "its scope holds control, bidi or invisible characters");
	else if (o->issuer[0] != '\0' && !ims_tls_host_ok(o->issuer, strlen(o->issuer)))
		snprintf(o->why, sizeof(o->why), "its issuer is not a host name");
	else
		o->usable = 1;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct ims_ac_parser *p = ud;
	struct ims_ac_oauth2 *o = &p->out.oauth2;
	enum tag t;
	int bad = 0;

	(void)name;
	if (p->failed || p->depth == 0)
		return;
	t = p->stack[--p->depth];
	p->collecting = 0;
	switch (t) {
	case T_HOSTNAME:
		put(p->cur.hostname, sizeof(p->cur.hostname), trimmed(p), &p->cur.bad_field);
		break;
	case T_PORT: put(p->cur.port, sizeof(p->cur.port), trimmed(p), &p->cur.bad_field); break;
	case T_SOCKET:
		put(p->cur.socket, sizeof(p->cur.socket), trimmed(p), &p->cur.bad_field);
		break;
	case T_USERNAME:
		put(p->cur.username, sizeof(p->cur.username), trimmed(p), &p->cur.bad_field);
		break;
	case T_AUTH: p->cur.auth |= auth_bit(trimmed(p)); break;
	case T_ISSUER: put(o->issuer, sizeof(o->issuer), trimmed(p), &bad); break;
	case T_SCOPE: put(o->scope, sizeof(o->scope), trimmed(p), &bad); break;
	case T_AUTHURL: put(o->auth_url, sizeof(o->auth_url), trimmed(p), &bad); break;
	case T_TOKENURL: put(o->token_url, sizeof(o->token_url), trimmed(p), &bad); break;
	case T_IMAP: server_done(p); break;
	case T_OAUTH2: oauth2_done(p); break;
	default: break;
	}
	if (bad)
		fail(p, IMS_ERR_LIMIT, "an <oAuth2> field is too long");
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal)
{
	(void)name, (void)sysid, (void)pubid, (void)has_internal;
	fail(ud, IMS_ERR_PROTOCOL,
	     "the document has a document type declaration (DTD), which imapsh refuses");
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *name, int is_param,
                                   const XML_Char *value, int value_len, const XML_Char *base,
                                   const XML_Char *sysid, const XML_Char *pubid,
                                   const XML_Char *notation)
{
	(void)name, (void)is_param, (void)value, (void)value_len, (void)base, (void)sysid;
	(void)pubid, (void)notation;
	fail(ud, IMS_ERR_PROTOCOL, "the document declares an entity, which imapsh refuses");
}

struct ims_ac_parser *ims_ac_parser_new(const char *email)
{
	struct ims_ac_parser *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	snprintf(p->email, sizeof(p->email), "%s", email != NULL ? email : "");
	p->xp = XML_ParserCreate(NULL);
	if (p->xp == NULL) {
		free(p);
		return NULL;
	}
	XML_SetUserData(p->xp, p);
	XML_SetElementHandler(p->xp, on_start, on_end);
	XML_SetCharacterDataHandler(p->xp, on_text);
	XML_SetStartDoctypeDeclHandler(p->xp, on_doctype);
	XML_SetEntityDeclHandler(p->xp, on_entity_decl);
	XML_SetParamEntityParsing(p->xp, XML_PARAM_ENTITY_PARSING_NEVER);
#if XML_MAJOR_VERSION > 2 || (XML_MAJOR_VERSION == 2 && XML_MINOR_VERSION >= 4)
	/* never reached with the DTD refused; a second wall all the same */
	XML_SetBillionLaughsAttackProtectionMaximumAmplification(p->xp, 2.0f);
	XML_SetBillionLaughsAttackProtectionActivationThreshold(p->xp, 64u * 1024);
#endif
	ims_error_init(&p->err);
	return p;
}

static ims_err failed(struct ims_ac_parser *p, struct ims_error *err)
{
	return ims_error_copy(err, &p->err);
}

ims_err ims_ac_parser_feed(struct ims_ac_parser *p, const void *data, size_t len,
                           struct ims_error *err)
{
	if (p->failed)
		return failed(p, err);
	if (len > IMS_CAP_AUTOCONFIG_XML - p->fed) {
		p->failed = 1;
		ims_error_set(
		    &p->err, IMS_ERR_LIMIT,
		    "autoconfig: the document is larger than %u KiB, the most imapsh reads",
		    IMS_CAP_AUTOCONFIG_XML / 1024);
		return failed(p, err);
	}
	p->fed += len;
	if (XML_Parse(p->xp, data, (int)len, XML_FALSE) != XML_STATUS_OK && !p->failed) {
		enum XML_Error code = XML_GetErrorCode(p->xp);

		p->failed = 1;
		ims_error_set(
		    &p->err, code == XML_ERROR_NO_MEMORY ? IMS_ERR_NOMEM : IMS_ERR_PROTOCOL,
		    "autoconfig: not well-formed XML (line %lu): %s",
		    (unsigned long)XML_GetCurrentLineNumber(p->xp), XML_ErrorString(code));
	}
	return p->failed ? failed(p, err) : IMS_OK;
}

ims_err ims_ac_parser_finish(struct ims_ac_parser *p, struct ims_autoconfig *out,
                             struct ims_error *err)
{
	if (!p->failed && XML_Parse(p->xp, "", 0, XML_TRUE) != XML_STATUS_OK && !p->failed) {
		p->failed = 1;
		ims_error_set(&p->err, IMS_ERR_PROTOCOL,
		              "autoconfig: not well-formed XML (line %lu): %s",
		              (unsigned long)XML_GetCurrentLineNumber(p->xp),
		              XML_ErrorString(XML_GetErrorCode(p->xp)));
	}
	if (!p->failed && !p->seen_root) {
		p->failed = 1;
		ims_error_set(&p->err, IMS_ERR_PROTOCOL, "autoconfig: an empty document");
	}
	if (p->failed)
		return failed(p, err);
	*out = p->out;
	return IMS_OK;
}

void ims_ac_parser_free(struct ims_ac_parser **pp)
{
	struct ims_ac_parser *p = *pp;

	if (p == NULL)
		return;
	XML_ParserFree(p->xp);
	free(p);
	*pp = NULL;
}

ims_err ims_autoconfig_parse(const char *email, const void *xml, size_t len,
                             struct ims_autoconfig *out, struct ims_error *err)
{
	struct ims_ac_parser *p = ims_ac_parser_new(email);
	ims_err e;

	if (p == NULL)
		return ims_error_nomem(err);
	e = ims_ac_parser_feed(p, xml, len, err);
	if (e == IMS_OK)
		e = ims_ac_parser_finish(p, out, err);
	ims_ac_parser_free(&p);
	return e;
}

int ims_ac_expand(const char *tmpl, const char *email, char *out, size_t n)
{
	const char *at = strrchr(email, '@');
	size_t o = 0;

	if (n == 0)
		return -1;
	while (*tmpl != '\0') {
		const char *v = NULL;
		size_t vlen = 0, skiplen = 0;

		if (*tmpl == '%') {
			if (strncmp(tmpl, "%EMAILADDRESS%", 14) == 0)
				v = email, vlen = strlen(email), skiplen = 14;
			else if (strncmp(tmpl, "%EMAILLOCALPART%", 16) == 0 && at != NULL)
				v = email, vlen = (size_t)(at - email), skiplen = 16;
			else if (strncmp(tmpl, "%EMAILDOMAIN%", 13) == 0 && at != NULL)
				v = at + 1, vlen = strlen(at + 1), skiplen = 13;
			else
				return -1;
			if ((at == NULL && skiplen != 14) || o + vlen >= n)
				return -1;
			memcpy(out + o, v, vlen);
			o += vlen;
			tmpl += skiplen;
			continue;
		}
		if (o + 1 >= n)
			return -1;
		out[o++] = *tmpl++;
	}
	out[o] = '\0';
	return 0;
}
