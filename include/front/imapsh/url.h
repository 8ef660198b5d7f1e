/* The command line's TARGET (man imapsh, TARGET) and --resolve.
 *
 * TARGET forms:
 *   imaps://[USER[;AUTH=MECH]@]HOST[:PORT][/MAILBOX[;UIDVALIDITY=N][/;UID=N[/;SECTION=S]]]
 *   imap://...                       the same, port 143 and mandatory STARTTLS
 *   USER@HOST[:PORT]  HOST:PORT  HOST  [IPv6]  [IPv6]:PORT
 *   WORD                             an account name or a host ("localhost")
 *
 * URLs follow RFC 5092 as curl takes them: the scheme is case-blind,
 * USER, MECH, MAILBOX and SECTION are percent-decoded (MAILBOX is UTF-8,
 * the "/" of the hierarchy kept; a trailing "/" is dropped; raw UTF-8 and
 * spaces are accepted there), ";UID=" and ";SECTION=" may also come
 * without their "/", parameter names are case-blind.  A password
 * ("user:pw@") is refused: passwords never come from argv.  Search
 * ("?"), fragments ("#", write %23), ";PARTIAL=" and ";URLAUTH=" are
 * refused.  In every form the LAST "@" ends USER, so USER may hold "@"
 * (alice@example.com@imap.example.com); outside URLs USER is taken as
 * written.  HOST is a DNS name (letters, digits, '-', '_', '.', at most
 * 253 bytes; non-ASCII names must be given as xn--) or an IPv6 literal in
 * brackets (no zone).  Control characters anywhere, an empty host or
 * user, a port outside 1..65535 and trailing garbage are refused with
 * IMS_ERR_USAGE and words ("bad URL: port 99999 is out of range").
 *
 * Ownership: the strings in struct ims_url are allocated by the parser
 * and freed by ims_url_release(); struct ims_resolve holds no pointers.
 *
 * Part of the front-end library (src/front/): pure, uses base only; only the
 * front end and the fs layer use it. */
#ifndef IMAPSH_URL_H
#define IMAPSH_URL_H

#include <stddef.h>
#include <stdint.h>

#include "imapsh/error.h"

#define IMS_PORT_IMAPS 993
#define IMS_PORT_IMAP  143
#define IMS_TARGET_MAX 4096 /* longest TARGET accepted, in bytes */

enum ims_target_kind {
	IMS_TARGET_NONE = 0, /* nothing parsed yet */
	IMS_TARGET_URL,      /* imaps:// or imap:// */
	IMS_TARGET_HOST,     /* has '@', ':', '.' or '[': certainly a server */
	IMS_TARGET_WORD      /* one word: the front end looks for an account of
	                        that name first, then uses host (if not NULL) */
};

struct ims_url {
	enum ims_target_kind kind;
	int starttls;  /* imap://: STARTTLS on port 143, never plaintext */
	char *user;    /* NULL when absent */
	char *auth;    /* ";AUTH=" mechanism as written; NULL when absent or "*" */
	char *host;    /* IPv6 without brackets; WORD: NULL unless a valid host name */
	int host_ipv6; /* host was a bracketed IPv6 literal */
	unsigned port; /* as given, else 993 (143 for imap://) */
	int port_given;
	char *mailbox;        /* URL only: UTF-8 name, NULL when absent */
	uint32_t uidvalidity; /* 0 when absent */
	uint32_t uid;         /* 0 when absent */
	char *section;        /* NULL when absent */
	char *word;           /* WORD: the word as given (an account name?) */
};

/* Cannot fail; allocates nothing. */
void ims_url_init(struct ims_url *u);
/* Frees the strings; u is as after ims_url_init() afterwards. */
void ims_url_release(struct ims_url *u);

/* Parse target (a C string) into u, replacing what u held.  On failure u
 * is released.  IMS_ERR_USAGE (bad input), IMS_ERR_NOMEM. */
ims_err ims_url_parse(struct ims_url *u, const char *target, struct ims_error *err) IMS_MUST_CHECK;

/* --resolve HOST:PORT:ADDR[,ADDR...] (curl's form; an IPv6 ADDR in
 * brackets).  The addresses are numeric (IPv4 dotted quad or IPv6) and
 * stored without brackets, as struct ims_connect_opts wants them.  HOST
 * "*" (curl's wildcard) stands for every host on that port. */
#define IMS_RESOLVE_MAX      16
#define IMS_RESOLVE_ADDR_MAX 46 /* INET6_ADDRSTRLEN */

struct ims_resolve {
	char host[254];
	unsigned port;
	size_t n_addrs;
	char addrs[IMS_RESOLVE_MAX][IMS_RESOLVE_ADDR_MAX];
};

/* IMS_ERR_USAGE with words on bad input (r is then zeroed). */
ims_err ims_resolve_parse(struct ims_resolve *r, const char *spec,
                          struct ims_error *err) IMS_MUST_CHECK;

#endif
