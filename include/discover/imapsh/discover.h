/* The candidate servers of `imapsh setup EMAIL`: where each came from, the
 * merge of what several sources say, and the trust rule.
 *
 * Sources, in the order their candidates are preferred: the domain's own
 * autoconfig (https://autoconfig.DOMAIN/..., then
 * https://DOMAIN/.well-known/...), the ISPDB entry of the domain, the
 * RFC 6186 SRV records, the ISPDB entry of the MX host's domain, and last
 * the guessed imap.DOMAIN and mail.DOMAIN.
 *
 * Trust: an answer over HTTPS from the domain's own host or the ISPDB is
 * authenticated; SRV records and the MX (plain DNS) are not.  A candidate
 * host outside the address's domain (neither the domain nor under it) that
 * only unauthenticated sources named needs the user's explicit
 * confirmation (ims_disc_needs_confirm).  Whatever the source, the
 * connection verifies the certificate against the host finally chosen.
 *
 * Pure: no I/O.  Part of the discover library (src/discover/).
 * Ownership: everything lives in the caller's struct ims_disc. */
#ifndef IMAPSH_DISCOVER_H
#define IMAPSH_DISCOVER_H

#include <stddef.h>

#include "imapsh/caps.h"
#include "imapsh/error.h"

enum ims_disc_source {
	IMS_SRC_AUTOCONFIG, /* https://autoconfig.DOMAIN/mail/config-v1.1.xml */
	IMS_SRC_WELLKNOWN,  /* https://DOMAIN/.well-known/autoconfig/... */
	IMS_SRC_ISPDB,      /* ISPDB/DOMAIN */
	IMS_SRC_SRV,        /* _imaps._tcp / _imap._tcp */
	IMS_SRC_MX_ISPDB,   /* ISPDB/(the MX host's domain) */
	IMS_SRC_GUESS,      /* imap.DOMAIN, mail.DOMAIN */
	IMS_SRC_N
};

enum ims_disc_tls { IMS_DISC_IMPLICIT = 1, IMS_DISC_STARTTLS, IMS_DISC_PLAIN };

struct ims_disc_cand {
	char host[IMS_CAP_DNS_NAME + 1];
	unsigned port;
	enum ims_disc_tls tls; /* IMS_DISC_PLAIN: reported, never used */
	char user[256];        /* from autoconfig; "" when no source said */
	unsigned auth;         /* IMS_AC_AUTH_* (autoconfig.h) the sources named */
	unsigned sources;      /* 1 << enum ims_disc_source */
	int outside;           /* the host is outside the address's domain */
	/* the probe (the caller fills these) */
	int probed;
	int usable;       /* TLS verified, an IMAP greeting, CAPABILITY */
	char result[256]; /* the probe's words, sanitised */
	char mechs[256];  /* the SASL mechanisms offered, space-separated */
	int oauth_only;   /* only XOAUTH2 / OAUTHBEARER offered */
};

struct ims_disc {
	char email[320];
	char local[256];
	char domain[IMS_CAP_DNS_NAME + 1];
	struct ims_disc_cand c[IMS_CAP_SETUP_CANDIDATES];
	size_t n;
	size_t dropped; /* candidates past the cap */
};

/* Check email (LOCAL@DOMAIN: one '@', a non-empty local part without
 * control characters or spaces, a domain that is a host name) and start
 * d for it.  IMS_ERR_USAGE with words. */
ims_err ims_disc_init(struct ims_disc *d, const char *email, struct ims_error *err) IMS_MUST_CHECK;

/* Add what a source says (a host already checked to be a host name):
 * merged with a candidate of the same host, port and TLS mode (its
 * sources joined, a user name or auth kept from the first that gave
 * one).  Past the cap the candidate is counted in d->dropped. */
void ims_disc_add(struct ims_disc *d, enum ims_disc_source src, const char *host, unsigned port,
                  enum ims_disc_tls tls, const char *user, unsigned auth);

/* Order the candidates: the best source first (the enum's order), the
 * order of adding within one source; plaintext ones last. */
void ims_disc_sort(struct ims_disc *d);

/* 1 when host is domain or a name under it (case ignored, a final dot
 * ignored). */
int ims_disc_in_domain(const char *host, const char *domain);
/* 1 when src is an authenticated source (HTTPS from the domain or the
 * ISPDB, or a guess under the domain itself). */
int ims_disc_source_authenticated(enum ims_disc_source src);
/* 1 when c needs the user's explicit confirmation: outside the domain
 * and named by no authenticated source. */
int ims_disc_needs_confirm(const struct ims_disc_cand *c);
/* "autoconfig", "well-known", "ispdb", "srv", "mx-ispdb", "guess" */
const char *ims_disc_source_name(enum ims_disc_source src);
/* The sources of c as "srv,ispdb" into buf. */
const char *ims_disc_sources(const struct ims_disc_cand *c, char *buf, size_t n);

/* The domain whose ISPDB entry stands for an MX host: its last two labels
 * ("aspmx.l.google.com" -> "google.com"); the host itself when it has two
 * labels or fewer. */
const char *ims_disc_mx_domain(const char *mx_host);

#endif
