/* TLS over TCP with mbedTLS, verified by default and stricter than the
 * library alone: subjectAltName-only name matching (RFC 6125 and the
 * CA/Browser baseline), SPKI pins, TLS 1.2 at least, no renegotiation, no
 * session tickets, a TLS profile chosen here (set_tls_profile).  One
 * verifier (verify_cb, then verdict) for a connection and for a chain from
 * a file (ims_tls_verify_chain).  The only file besides crypto.c that
 * includes mbedTLS. */
#include "imapsh/transport.h"
#include "imapsh/tlsname.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "imapsh/sanitize.h"
#include "transport/net_int.h"
#include "transport/tls_compat.h"

#include <mbedtls/base64.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/md.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509_crt.h>

#define SYSTEM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"
#define SYSTEM_CA_PATH "/etc/ssl/certs"

struct verify_ctx {
	const char *host; /* lowercase, no trailing dot, no brackets */
	int host_is_ip;
	unsigned char ip[16];
	size_t ip_len;
	const struct ims_tls_opts *o;
	struct ims_tls_info *info;
	uint32_t depth_flags[IMS_CHAIN_MAX];
	int max_depth;
	size_t presented; /* certificates the server sent */
	int pin_mismatch;
	int pin_cleared_trust; /* an untrusted chain was accepted by a pin */
	int no_san;
	int name_bad;
	int host_bad; /* the host is no DNS name a certificate can hold */
	int at_set;   /* validity is judged at `at`, not now (cert --chain --at) */
	int64_t at;
};

struct tls_stream {
	struct ims_stream base;
	int fd;
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;
	mbedtls_x509_crt ca;
	mbedtls_x509_crt own_cert;
	mbedtls_pk_context own_key;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509_crt_profile profile;
	struct verify_ctx vctx;
	char host[256];
};

const char *ims_tls_library_version(void)
{
	return MBEDTLS_VERSION_STRING;
}

/* ---- names ---------------------------------------------------------- */

static void lower_nodot(const char *in, char *out, size_t n)
{
	size_t i, len = strlen(in);

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len >= n)
		len = n - 1;
	for (i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[len] = '\0';
}

/* ---- certificate facts ---------------------------------------------- */

static int64_t x509_time_epoch(const mbedtls_x509_time *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = t->year - 1900;
	tm.tm_mon = t->mon - 1;
	tm.tm_mday = t->day;
	tm.tm_hour = t->hour;
	tm.tm_min = t->min;
	tm.tm_sec = t->sec;
	return (int64_t)timegm(&tm);
}

/* Whole days from now to t, counted as the words count them: toward zero,
 * so "expired 2 days ago" and days_left -2 say the same (2.5 days ago). */
static int64_t whole_days(int64_t t, int64_t now)
{
	return (t - now) / 86400;
}

static void hex_colon(const unsigned char *p, size_t n, char *out, size_t out_len)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 3 < out_len; i++)
		o += (size_t)snprintf(out + o, out_len - o, i ? ":%02X" : "%02X", p[i]);
	out[o] = '\0';
}

static int spki_sha256_b64(const mbedtls_x509_crt *crt, char *out, size_t out_len)
{
	unsigned char der[4096], h[32];
	size_t olen = 0;
	int len;

	len = mbedtls_pk_write_pubkey_der((mbedtls_pk_context *)&crt->pk, der, sizeof(der));
	if (len <= 0)
		return -1;
	if (ims_compat_sha256(der + sizeof(der) - (size_t)len, (size_t)len, h) != 0)
		return -1;
	if (mbedtls_base64_encode((unsigned char *)out, out_len, &olen, h, sizeof(h)) != 0)
		return -1;
	out[olen] = '\0';
	return 0;
}

/* ---- certificate text ------------------------------------------------
 *
 * Every string in a certificate is attacker text: a self-signed
 * certificate can put any byte in a name.  It leaves this file only
 * through cert_text(): the value (of known length; it may hold NUL) is
 * decoded from its ASN.1 string type to UTF-8 and made safe once, by
 * ims_sanitize_fixed(), so struct ims_cert_info, the verification words
 * and every error message hold display text only.  mbedtls_x509_dn_gets()
 * is not used: it lets some bytes through (and drops non-ASCII in 2.28).
 * The raw values stay in the mbedTLS certificate, for the verifier. */

static void put_utf8(struct ims_buf *b, uint32_t cp, ims_err *e)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else if (cp <= 0x10ffff) {
		u[0] = (unsigned char)(0xf0 | (cp >> 18));
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	} else {
		u[0] = 0xff; /* not UTF-8: shown as "\xFF" */
		n = 1;
	}
	if (*e == IMS_OK)
		*e = ims_buf_append(b, u, n);
}

/* Append the value p[0..len) of ASN.1 string type tag as UTF-8 (as far as
 * it is valid: the sanitiser marks what is not).  BMPString and
 * UniversalString are UCS-2 and UCS-4 (big-endian); the other types are
 * taken as their bytes.  With dn, the characters RFC 4514 escapes in a
 * distinguished name get a backslash, so a value cannot fake a
 * ", O=..." of its own and a literal backslash shows as "\\". */
static void asn1_text(int tag, const unsigned char *p, size_t len, int dn, struct ims_buf *b,
                      ims_err *e)
{
	size_t i, w = tag == MBEDTLS_ASN1_BMP_STRING         ? 2
	              : tag == MBEDTLS_ASN1_UNIVERSAL_STRING ? 4
	                                                     : 1;

	for (i = 0; i + w <= len && *e == IMS_OK; i += w) {
		uint32_t cp = p[i];

		if (w == 2)
			cp = (uint32_t)p[i] << 8 | p[i + 1];
		else if (w == 4)
			cp = (uint32_t)p[i] << 24 | (uint32_t)p[i + 1] << 16 |
			     (uint32_t)p[i + 2] << 8 | p[i + 3];
		if (dn && cp < 0x80 && strchr(",+\"\\<>;=", (int)cp) != NULL && cp != 0)
			*e = ims_buf_putc(b, '\\');
		if (w == 1)
			*e = *e == IMS_OK ? ims_buf_putc(b, (char)p[i]) : *e;
		else
			put_utf8(b, cp, e);
	}
	for (; i < len && *e == IMS_OK; i++) /* a ragged end */
		*e = ims_buf_putc(b, (char)p[i]);
}

/* The one way certificate text reaches the rest of imapsh: raw[0..len)
 * made safe into out[0..n). */
static void cert_text(const struct ims_buf *raw, ims_err e, char *out, size_t n)
{
	if (e != IMS_OK)
		snprintf(out, n, "(unprintable)");
	else
		ims_sanitize_fixed(raw->data != NULL ? raw->data : "", raw->len, out, n);
}

/* A distinguished name as "CN=a, O=b" ("+" joins the parts of a
 * multi-valued RDN), values escaped as RFC 4514 says, then made safe. */
static void dn_text(const mbedtls_x509_name *n, char *out, size_t out_len)
{
	struct ims_buf b;
	ims_err e = IMS_OK;
	int merged = 0, first = 1;

	ims_buf_init(&b, 65536);
	for (; n != NULL && e == IMS_OK; n = n->next) {
		const char *sn = NULL;
		char oid[64];

		if (n->oid.p == NULL || n->oid.len == 0)
			continue;
		if (!first)
			e = ims_buf_puts(&b, merged ? " + " : ", ");
		first = 0;
		if (mbedtls_oid_get_attr_short_name(&n->oid, &sn) != 0 || sn == NULL) {
			if (mbedtls_oid_get_numeric_string(oid, sizeof(oid), &n->oid) < 0)
				snprintf(oid, sizeof(oid), "?");
			sn = oid;
		}
		if (e == IMS_OK)
			e = ims_buf_printf(&b, "%s=", sn);
		asn1_text(n->val.tag, n->val.p, n->val.len, 1, &b, &e);
		merged = n->IMS_MBEDTLS_PRIV(next_merged);
	}
	cert_text(&b, e, out, out_len);
	ims_buf_release(&b);
}

/* The value of the last CN in a name, made safe; empty when none. */
static void name_cn(const mbedtls_x509_name *n, char *out, size_t out_len)
{
	const mbedtls_x509_name *cn = NULL;
	struct ims_buf b;
	ims_err e = IMS_OK;

	out[0] = '\0';
	for (; n != NULL; n = n->next)
		if (n->oid.p != NULL && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0)
			cn = n;
	if (cn == NULL)
		return;
	ims_buf_init(&b, 65536);
	asn1_text(cn->val.tag, cn->val.p, cn->val.len, 0, &b, &e);
	cert_text(&b, e, out, out_len);
	ims_buf_release(&b);
}

/* A dNSName (IA5String) of the subjectAltName, made safe. */
static void san_text(const mbedtls_x509_buf *v, char *out, size_t out_len)
{
	struct ims_buf b;
	ims_err e = IMS_OK;

	ims_buf_init(&b, 65536);
	asn1_text(MBEDTLS_ASN1_IA5_STRING, v->p, v->len, 0, &b, &e);
	cert_text(&b, e, out, out_len);
	ims_buf_release(&b);
}

static void fill_cert(struct ims_cert_info *ci, const mbedtls_x509_crt *crt)
{
	unsigned char h[32];
	const mbedtls_x509_sequence *s;
	const mbedtls_md_info_t *md;
	int64_t now = (int64_t)time(NULL);

	memset(ci, 0, sizeof(*ci));
	dn_text(&crt->subject, ci->subject, sizeof(ci->subject));
	dn_text(&crt->issuer, ci->issuer, sizeof(ci->issuer));
	name_cn(&crt->subject, ci->cn, sizeof(ci->cn));
	name_cn(&crt->issuer, ci->issuer_cn, sizeof(ci->issuer_cn));
	for (s = &crt->subject_alt_names; s != NULL && ci->n_san < IMS_SAN_MAX; s = s->next) {
		const mbedtls_x509_buf *b = &s->buf;
		char *dst = ci->san[ci->n_san];

		if (b->p == NULL || b->len == 0)
			continue;
		if (b->tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2)) {
			san_text(b, dst, sizeof(ci->san[0]));
			ci->n_san++;
		} else if (b->tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) &&
		           (b->len == 4 || b->len == 16)) {
			char ip[INET6_ADDRSTRLEN];
			inet_ntop(b->len == 4 ? AF_INET : AF_INET6, b->p, ip, sizeof(ip));
			snprintf(dst, sizeof(ci->san[0]), "IP:%s", ip);
			ci->n_san++;
		}
	}
	snprintf(ci->not_before, sizeof(ci->not_before), "%04d-%02d-%02dT%02d:%02d:%02dZ",
	         crt->valid_from.year % 10000, crt->valid_from.mon % 100, crt->valid_from.day % 100,
	         crt->valid_from.hour % 100, crt->valid_from.min % 100, crt->valid_from.sec % 100);
	snprintf(ci->not_after, sizeof(ci->not_after), "%04d-%02d-%02dT%02d:%02d:%02dZ",
	         crt->valid_to.year % 10000, crt->valid_to.mon % 100, crt->valid_to.day % 100,
	         crt->valid_to.hour % 100, crt->valid_to.min % 100, crt->valid_to.sec % 100);
	ci->not_before_epoch = x509_time_epoch(&crt->valid_from);
	ci->not_after_epoch = x509_time_epoch(&crt->valid_to);
	ci->days_left = whole_days(ci->not_after_epoch, now);
	if (ims_compat_sha256(crt->raw.p, crt->raw.len, h) == 0)
		hex_colon(h, sizeof(h), ci->sha256, sizeof(ci->sha256));
	if (spki_sha256_b64(crt, ci->spki_sha256, sizeof(ci->spki_sha256)) != 0)
		ci->spki_sha256[0] = '\0';
	md = mbedtls_md_info_from_type(crt->IMS_MBEDTLS_PRIV(sig_md));
	snprintf(ci->sig_alg, sizeof(ci->sig_alg), "%s-%s",
	         crt->IMS_MBEDTLS_PRIV(sig_pk) == MBEDTLS_PK_ECDSA        ? "ECDSA"
	         : crt->IMS_MBEDTLS_PRIV(sig_pk) == MBEDTLS_PK_RSASSA_PSS ? "RSA-PSS"
	                                                                  : "RSA",
	         md != NULL ? mbedtls_md_get_name(md) : "?");
	snprintf(ci->key, sizeof(ci->key), "%s %zu", mbedtls_pk_get_name(&crt->pk),
	         mbedtls_pk_get_bitlen(&crt->pk));
	ci->self_signed = crt->issuer_raw.len == crt->subject_raw.len &&
	                  memcmp(crt->issuer_raw.p, crt->subject_raw.p, crt->issuer_raw.len) == 0;
	ci->is_ca = crt->IMS_MBEDTLS_PRIV(ca_istrue) != 0;
}

static int pin_matches(const struct ims_tls_opts *o, const char *spki)
{
	size_t i;

	for (i = 0; i < o->n_pins; i++) {
		const char *p = o->pins[i];

		/* curl's form: sha256//BASE64, several joined by ';'. */
		while (p != NULL && *p != '\0') {
			const char *end = strchr(p, ';');
			size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

			if (len > 8 && strncmp(p, "sha256//", 8) == 0 && len - 8 == strlen(spki) &&
			    strncmp(p + 8, spki, len - 8) == 0)
				return 1;
			p = end != NULL ? end + 1 : NULL;
		}
	}
	return 0;
}

static int ip_san_matches(const struct verify_ctx *v, const mbedtls_x509_crt *crt)
{
	const mbedtls_x509_sequence *s;

	for (s = &crt->subject_alt_names; s != NULL; s = s->next)
		if (s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) && s->buf.len == v->ip_len &&
		    memcmp(s->buf.p, v->ip, v->ip_len) == 0)
			return 1;
	return 0;
}

/* The leaf's names, straight from the DER: does one cover the host?
 * *has_san_r: the certificate has a dNSName or an iPAddress at all. */
static int leaf_names_match(const struct verify_ctx *v, const mbedtls_x509_crt *crt, int *has_san_r)
{
	const mbedtls_x509_sequence *s;
	int ok = 0;

	*has_san_r = 0;
	for (s = &crt->subject_alt_names; s != NULL; s = s->next) {
		const mbedtls_x509_buf *b = &s->buf;

		if (b->p == NULL || b->len == 0)
			continue;
		if (b->tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2)) {
			*has_san_r = 1;
			if (!v->host_is_ip &&
			    ims_tls_name_match(v->host, strlen(v->host), b->p, b->len))
				ok = 1;
		} else if (b->tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) &&
		           (b->len == 4 || b->len == 16)) {
			*has_san_r = 1;
		}
	}
	if (v->host_is_ip)
		ok = ip_san_matches(v, crt);
	return ok;
}

/* Called by mbedTLS for each certificate of the chain it built, top first
 * and the leaf (depth 0) last; we record facts and apply our own rules.
 * imapsh only adds to what mbedTLS found: no flag mbedTLS set is cleared
 * (its name check included), except the date flags when cert --chain --at
 * judges another time (they are then set again against that time) and
 * the trust flag when a pin takes the place of the CA (the pin is then
 * required). */
static int verify_cb(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	struct verify_ctx *v = ctx;
	struct ims_tls_info *info = v->info;
	const uint32_t chain_flags = MBEDTLS_X509_BADCERT_NOT_TRUSTED;

	if (depth >= 0 && depth < IMS_CHAIN_MAX) {
		fill_cert(&info->chain[depth], crt);
		if (v->at_set)
			info->chain[depth].days_left =
			    whole_days(info->chain[depth].not_after_epoch, v->at);
		if ((size_t)depth + 1 > info->n_chain)
			info->n_chain = (size_t)depth + 1;
	}
	if (depth > v->max_depth)
		v->max_depth = depth;
	if (v->at_set) {
		/* mbedTLS compared the dates with the clock; compare with `at`. */
		*flags &= ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE);
		if (v->at > x509_time_epoch(&crt->valid_to))
			*flags |= MBEDTLS_X509_BADCERT_EXPIRED;
		if (v->at < x509_time_epoch(&crt->valid_from))
			*flags |= MBEDTLS_X509_BADCERT_FUTURE;
	}
	/* With pins, trust comes from the pin checked at depth 0 (last). */
	if (v->o->n_pins > 0 && (*flags & chain_flags) != 0) {
		*flags &= ~chain_flags;
		v->pin_cleared_trust = 1;
	}
	if (depth == 0) {
		struct ims_cert_info *ci = &info->chain[0];
		const mbedtls_x509_crt *c;
		int has_san, ok;

		for (c = crt; c != NULL; c = c->next)
			v->presented++;
		/* Both must accept the name: mbedTLS (its flag, when it
		 * checked) and imapsh's stricter rules. */
		ok = leaf_names_match(v, crt, &has_san);
		if (!has_san) {
			v->no_san = 1;
			ok = 0;
		}
		if (v->host_bad)
			ok = 0;
		if (*flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)
			ok = 0;
		if (!ok) {
			*flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
			v->name_bad = 1;
		}
		if (v->o->n_pins > 0) {
			if (pin_matches(v->o, ci->spki_sha256)) {
				info->pinned = 1;
			} else {
				v->pin_mismatch = 1;
				*flags |= MBEDTLS_X509_BADCERT_OTHER;
			}
		}
	}
	if (depth >= 0 && depth < IMS_CHAIN_MAX)
		v->depth_flags[depth] = *flags;
	return 0;
}

static void plural_days(char *out, size_t n, int64_t days)
{
	if (days < 1)
		snprintf(out, n, "less than a day");
	else
		snprintf(out, n, "%lld day%s", (long long)days, days == 1 ? "" : "s");
}

/* A certificate named for a person: "CN=name" when it has a CN, else its
 * whole subject. */
static const char *cert_label(const struct ims_cert_info *ci, char *buf, size_t n)
{
	if (ci->cn[0] != '\0')
		snprintf(buf, n, "CN=%s", ci->cn);
	else
		snprintf(buf, n, "%s", ci->subject[0] != '\0' ? ci->subject : "(no subject)");
	return buf;
}

static const char *issuer_label(const struct ims_cert_info *ci, char *buf, size_t n)
{
	if (ci->issuer_cn[0] != '\0')
		snprintf(buf, n, "CN=%s", ci->issuer_cn);
	else
		snprintf(buf, n, "%s", ci->issuer[0] != '\0' ? ci->issuer : "(no issuer)");
	return buf;
}

/* Each classify_* below looks for one kind of failure in the recorded
 * flags and, when it is there, sets the class and the words and returns
 * 1; classify_words() asks them in the order a person should hear about
 * the failures (the first is the one reported). */

/* The first certificate in the chain (0 the leaf) with flag, or -1. */
static int depth_with(const struct verify_ctx *v, uint32_t flag)
{
	int i;

	for (i = 0; i <= v->max_depth && i < IMS_CHAIN_MAX; i++)
		if (v->depth_flags[i] & flag)
			return i;
	return -1;
}

/* A certificate in the chain past its notAfter. */
static int classify_expired(struct verify_ctx *v, int64_t now)
{
	struct ims_tls_info *info = v->info;
	char *r = info->verify_reason, d[48], lb[300];
	size_t rn = sizeof(info->verify_reason);
	int i = depth_with(v, MBEDTLS_X509_BADCERT_EXPIRED);
	struct ims_cert_info *ci = &info->chain[i < 0 ? 0 : i];

	if (i < 0)
		return 0;
	info->verify_class = IMS_VERIFY_EXPIRED;
	plural_days(d, sizeof(d), (now - ci->not_after_epoch) / 86400);
	if (i == 0)
		snprintf(r, rn, "certificate expired %s ago (on %s)", d, ci->not_after);
	else
		snprintf(r, rn, "%s certificate %s expired %s ago (on %s)",
		         ci->self_signed ? "root" : "intermediate", cert_label(ci, lb, sizeof(lb)),
		         d, ci->not_after);
	return 1;
}

/* A certificate in the chain before its notBefore. */
static int classify_future(struct verify_ctx *v, int64_t now)
{
	struct ims_tls_info *info = v->info;
	char *r = info->verify_reason, d[48], lb[300];
	size_t rn = sizeof(info->verify_reason);
	int i = depth_with(v, MBEDTLS_X509_BADCERT_FUTURE);
	struct ims_cert_info *ci = &info->chain[i < 0 ? 0 : i];

	if (i < 0)
		return 0;
	info->verify_class = IMS_VERIFY_NOT_YET_VALID;
	plural_days(d, sizeof(d), (ci->not_before_epoch - now) / 86400);
	if (i != 0)
		snprintf(r, rn, "intermediate certificate %s is not valid until %s (in %s)",
		         cert_label(ci, lb, sizeof(lb)), ci->not_before, d);
	else
		snprintf(r, rn, "certificate is not valid until %s (in %s)", ci->not_before, d);
	return 1;
}

/* The leaf is not for the host: no subjectAltName, or other names. */
static int classify_name(struct verify_ctx *v)
{
	struct ims_tls_info *info = v->info;
	struct ims_cert_info *leaf = &info->chain[0];
	char *r = info->verify_reason;
	size_t rn = sizeof(info->verify_reason), k, o;

	if (v->no_san) {
		info->verify_class = IMS_VERIFY_NO_SAN;
		snprintf(r, rn,
		         "certificate has no subjectAltName (only CN=%s); a server name must be in "
		         "subjectAltName, %s is not checked against the CN",
		         leaf->cn, v->host);
		return 1;
	}
	if (!v->name_bad)
		return 0;
	info->verify_class = IMS_VERIFY_NAME;
	o = (size_t)snprintf(r, rn, "certificate is for ");
	for (k = 0; k < leaf->n_san && o < rn; k++)
		o += (size_t)snprintf(r + o, rn - o, "%s%s", k ? ", " : "", leaf->san[k]);
	if (o < rn)
		snprintf(r + o, rn - o, ", not %s", v->host);
	return 1;
}

/* A weak signature algorithm or key anywhere in the chain. */
static int classify_weak(struct verify_ctx *v)
{
	struct ims_tls_info *info = v->info;
	char *r = info->verify_reason, lb[300];
	size_t rn = sizeof(info->verify_reason);
	int i;

	for (i = 0; i <= v->max_depth && i < IMS_CHAIN_MAX; i++) {
		struct ims_cert_info *ci = &info->chain[i];
		uint32_t f = v->depth_flags[i];

		if (f & MBEDTLS_X509_BADCERT_BAD_MD) {
			info->verify_class = IMS_VERIFY_WEAK;
			snprintf(r, rn, "weak signature algorithm %s on %s", ci->sig_alg,
			         cert_label(ci, lb, sizeof(lb)));
			return 1;
		}
		if (f & (MBEDTLS_X509_BADCERT_BAD_KEY | MBEDTLS_X509_BADCERT_BAD_PK)) {
			info->verify_class = IMS_VERIFY_WEAK;
			snprintf(r, rn, "weak key %s bits in %s", ci->key,
			         cert_label(ci, lb, sizeof(lb)));
			return 1;
		}
	}
	return 0;
}

/* A leaf whose key usage does not allow a TLS server. */
static int classify_usage(struct verify_ctx *v, uint32_t all)
{
	struct ims_tls_info *info = v->info;
	char lb[300];

	if (!(all & (MBEDTLS_X509_BADCERT_EXT_KEY_USAGE | MBEDTLS_X509_BADCERT_KEY_USAGE |
	             MBEDTLS_X509_BADCERT_NS_CERT_TYPE)))
		return 0;
	info->verify_class = IMS_VERIFY_USAGE;
	snprintf(info->verify_reason, sizeof(info->verify_reason),
	         "certificate %s is not for TLS servers (its key usage or extended key "
	         "usage lacks serverAuth)",
	         cert_label(&info->chain[0], lb, sizeof(lb)));
	return 1;
}

/* No trust anchor: self-signed, an intermediate missing, or an issuer
 * nobody trusts here. */
static int classify_untrusted(struct verify_ctx *v, uint32_t all)
{
	struct ims_tls_info *info = v->info;
	struct ims_cert_info *leaf = &info->chain[0];
	struct ims_cert_info *top = &info->chain[v->max_depth < IMS_CHAIN_MAX ? v->max_depth : 0];
	char *r = info->verify_reason, lb[300];
	size_t rn = sizeof(info->verify_reason);

	if (!(all & MBEDTLS_X509_BADCERT_NOT_TRUSTED))
		return 0;
	if (v->max_depth == 0 && leaf->self_signed) {
		info->verify_class = IMS_VERIFY_SELF_SIGNED;
		snprintf(r, rn, "self-signed certificate %s is not trusted",
		         cert_label(leaf, lb, sizeof(lb)));
	} else if (v->presented == 1 && v->max_depth == 0) {
		info->verify_class = IMS_VERIFY_MISSING_INTERMEDIATE;
		snprintf(r, rn,
		         "issuer not trusted: %s; the server sent only its own certificate "
		         "(is an intermediate certificate missing?)",
		         issuer_label(leaf, lb, sizeof(lb)));
	} else {
		info->verify_class = IMS_VERIFY_UNTRUSTED;
		snprintf(r, rn, "issuer not trusted: %s",
		         top->self_signed ? cert_label(top, lb, sizeof(lb))
		                          : issuer_label(top, lb, sizeof(lb)));
	}
	return 1;
}

/* Anything else: mbedTLS's own words, on one line. */
static void classify_other(struct verify_ctx *v, uint32_t all)
{
	struct ims_tls_info *info = v->info;
	char buf[400];
	int n = mbedtls_x509_crt_verify_info(buf, sizeof(buf), "", all);
	size_t k;

	info->verify_class = IMS_VERIFY_OTHER;
	if (n < 0)
		buf[0] = '\0';
	for (k = 0; buf[k] != '\0'; k++)
		if (buf[k] == '\n')
			buf[k] = buf[k + 1] != '\0' ? ';' : '\0';
	snprintf(info->verify_reason, sizeof(info->verify_reason),
	         "certificate verification failed: %s", buf);
}

/* Turn the recorded flags into one class and words. */
static void classify_words(struct verify_ctx *v, uint32_t all)
{
	struct ims_tls_info *info = v->info;
	int64_t now = v->at_set ? v->at : (int64_t)time(NULL);

	if (v->pin_mismatch) {
		info->verify_class = IMS_VERIFY_PIN;
		snprintf(
		    info->verify_reason, sizeof(info->verify_reason),
		    "public key pin mismatch: the server's key is sha256//%s, which no --pin names",
		    info->chain[0].spki_sha256);
		return;
	}
	if (classify_expired(v, now) || classify_future(v, now) || classify_name(v) ||
	    classify_weak(v) || classify_usage(v, all) || classify_untrusted(v, all))
		return;
	classify_other(v, all);
}

/* The words are made of safe certificate text, but snprintf may have cut
 * them inside a character: drop a partial one at the end. */
static void classify(struct verify_ctx *v, uint32_t all)
{
	char *r = v->info->verify_reason;
	size_t n;

	classify_words(v, all);
	n = strlen(r);
	while (n > 0 && !ims_utf8_valid(r, n)) {
		while (n > 0 && ((unsigned char)r[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > 0)
			n--; /* the lead byte */
		r[n] = '\0';
	}
}

/* ---- stream --------------------------------------------------------- */

static int bio_send(void *ctx, const unsigned char *p, size_t len)
{
	struct tls_stream *t = ctx;
	ssize_t r = send(t->fd, p, len, MSG_NOSIGNAL);

	if (r >= 0)
		return (int)r;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *p, size_t len)
{
	struct tls_stream *t = ctx;
	ssize_t r = recv(t->fd, p, len, 0);

	if (r >= 0)
		return (int)r;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_READ;
	if (errno == ECONNRESET || errno == EPIPE)
		return MBEDTLS_ERR_NET_CONN_RESET;
	return MBEDTLS_ERR_NET_RECV_FAILED;
}

/* Wait as mbedTLS asks; IMS_OK to retry. */
static ims_err tls_wait(struct tls_stream *t, int ret, const char *what)
{
	int w = ims_net_wait(t->fd, ret == MBEDTLS_ERR_SSL_WANT_WRITE ? POLLOUT : POLLIN,
	                     ims_stream_wait_ms(&t->base));

	if (w == -2)
		return ims_error_set(&t->base.err, IMS_ERR_CANCELLED, "interrupted");
	if (w == 0)
		return ims_error_set(&t->base.err, IMS_ERR_NET, "timed out %s", what);
	if (w < 0)
		return ims_error_set(&t->base.err, IMS_ERR_NET, "poll: %s", strerror(errno));
	return IMS_OK;
}

static ims_err tls_read(struct ims_stream *s, void *p, size_t len, size_t *got_r)
{
	struct tls_stream *t = (struct tls_stream *)s;

	for (;;) {
		int r = mbedtls_ssl_read(&t->ssl, p, len);
		char eb[120];

		if (r > 0) {
			*got_r = (size_t)r;
			return IMS_OK;
		}
		if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
		    r == MBEDTLS_ERR_SSL_CONN_EOF) {
			*got_r = 0;
			return IMS_OK;
		}
		if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
			if (tls_wait(t, r, "waiting for the server") != IMS_OK)
				return s->err.code;
			continue;
		}
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
		if (r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
			continue;
#endif
		if (r == MBEDTLS_ERR_NET_CONN_RESET)
			return ims_error_set(&s->err, IMS_ERR_NET,
			                     "connection reset by the server");
		mbedtls_strerror(r, eb, sizeof(eb));
		return ims_error_set(&s->err, IMS_ERR_NET, "connection lost: %s", eb);
	}
}

static ims_err tls_write(struct ims_stream *s, const void *p, size_t len)
{
	struct tls_stream *t = (struct tls_stream *)s;
	const unsigned char *c = p;

	while (len > 0) {
		int r = mbedtls_ssl_write(&t->ssl, c, len);
		char eb[120];

		if (r > 0) {
			c += r;
			len -= (size_t)r;
			continue;
		}
		if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
			if (tls_wait(t, r, "sending to the server") != IMS_OK)
				return s->err.code;
			continue;
		}
		mbedtls_strerror(r, eb, sizeof(eb));
		return ims_error_set(&s->err, IMS_ERR_NET, "connection lost: %s", eb);
	}
	return IMS_OK;
}

static size_t tls_pending(struct ims_stream *s)
{
	return mbedtls_ssl_get_bytes_avail(&((struct tls_stream *)s)->ssl);
}

static void tls_free(struct tls_stream *t)
{
	if (t->fd >= 0)
		close(t->fd);
	mbedtls_ssl_free(&t->ssl);
	mbedtls_ssl_config_free(&t->conf);
	mbedtls_x509_crt_free(&t->ca);
	mbedtls_x509_crt_free(&t->own_cert);
	mbedtls_pk_free(&t->own_key);
	mbedtls_ctr_drbg_free(&t->drbg);
	mbedtls_entropy_free(&t->entropy);
	free(t);
}

static void tls_close(struct ims_stream *s)
{
	struct tls_stream *t = (struct tls_stream *)s;

	/* One attempt at close_notify; the socket is non-blocking. */
	(void)mbedtls_ssl_close_notify(&t->ssl);
	tls_free(t);
}

static const struct ims_stream_ops tls_ops = {tls_read, tls_write, tls_pending, tls_close};

int ims_tls__socket(const struct ims_stream *s)
{
	return s != NULL && s->ops == &tls_ops ? ((const struct tls_stream *)s)->fd : -1;
}

/* ---- set-up --------------------------------------------------------- */

static ims_err load_trust(mbedtls_x509_crt *ca, const struct ims_tls_opts *o, struct ims_error *err)
{
	int r, loaded = 0;
	char eb[120];

	if (o->ca_file != NULL) {
		r = mbedtls_x509_crt_parse_file(ca, o->ca_file);
		if (r < 0) {
			mbedtls_strerror(r, eb, sizeof(eb));
			return ims_error_set(err, IMS_ERR_TLS, "cannot read CA file %s: %s",
			                     o->ca_file, eb);
		}
		loaded = 1;
	}
	if (o->ca_path != NULL) {
		r = mbedtls_x509_crt_parse_path(ca, o->ca_path);
		if (r < 0) {
			mbedtls_strerror(r, eb, sizeof(eb));
			return ims_error_set(err, IMS_ERR_TLS, "cannot read CA directory %s: %s",
			                     o->ca_path, eb);
		}
		loaded = 1;
	}
	if (!loaded) {
		struct stat st;

		if (stat(SYSTEM_CA_FILE, &st) == 0)
			r = mbedtls_x509_crt_parse_file(ca, SYSTEM_CA_FILE);
		else
			r = mbedtls_x509_crt_parse_path(ca, SYSTEM_CA_PATH);
		/* A partly unreadable system store still counts (r > 0). */
		if (r < 0 && o->n_pins == 0 && !o->insecure_noverify)
			return ims_error_set(
			    err, IMS_ERR_TLS,
			    "no trust anchors: cannot read the system store %s (use --ca-file)",
			    SYSTEM_CA_FILE);
	}
	return IMS_OK;
}

static ims_err load_client_cert(struct tls_stream *t, const struct ims_tls_opts *o,
                                struct ims_error *err)
{
	int r;
	char eb[120];

	if (o->client_cert == NULL && o->client_key == NULL)
		return IMS_OK;
	if (o->client_cert == NULL || o->client_key == NULL)
		return ims_error_set(err, IMS_ERR_USAGE,
		                     "--client-cert and --client-key go together");
	r = mbedtls_x509_crt_parse_file(&t->own_cert, o->client_cert);
	if (r != 0) {
		mbedtls_strerror(r, eb, sizeof(eb));
		return ims_error_set(err, IMS_ERR_TLS, "cannot read client certificate %s: %s",
		                     o->client_cert, eb);
	}
	r = ims_compat_parse_keyfile(&t->own_key, o->client_key, mbedtls_ctr_drbg_random, &t->drbg);
	if (r != 0) {
		mbedtls_strerror(r, eb, sizeof(eb));
		return ims_error_set(err, IMS_ERR_TLS, "cannot read client key %s: %s",
		                     o->client_key, eb);
	}
	r = mbedtls_ssl_conf_own_cert(&t->conf, &t->own_cert, &t->own_key);
	if (r != 0)
		return ims_error_set(err, IMS_ERR_TLS,
		                     "client certificate and key do not go together");
	return IMS_OK;
}

/* ---- the verifier: one for connections and for cert --chain ---------- */

/* Certificates: SHA-2 signatures only, RSA keys of 2048 bits at least, EC
 * keys on P-256, P-384 or P-521. */
static void set_x509_profile(mbedtls_x509_crt_profile *p)
{
	memset(p, 0, sizeof(*p));
	p->allowed_mds = MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA256) |
	                 MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA384) |
	                 MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA512);
	p->allowed_pks = 0xFFFFFFF;
	p->allowed_curves = MBEDTLS_X509_ID_FLAG(MBEDTLS_ECP_DP_SECP256R1) |
	                    MBEDTLS_X509_ID_FLAG(MBEDTLS_ECP_DP_SECP384R1) |
	                    MBEDTLS_X509_ID_FLAG(MBEDTLS_ECP_DP_SECP521R1);
	p->rsa_min_bitlen = 2048;
}

/* The host a chain is checked against: brackets and a trailing dot
 * dropped, lowercase; an IP literal, or a DNS name (one that no
 * certificate can hold matches nothing). */
static ims_err vctx_init(struct verify_ctx *v, char *host, size_t host_n, const char *host_in,
                         const struct ims_tls_opts *o, struct ims_tls_info *info,
                         struct ims_error *err)
{
	size_t i, hl = strlen(host_in);

	for (i = 0; i < hl; i++) {
		unsigned char c = (unsigned char)host_in[i];

		if (c <= ' ' || c >= 0x7f)
			return ims_error_set(err, IMS_ERR_USAGE,
			                     "bad host name: it holds a control character, a space "
			                     "or a non-ASCII byte (write an international name "
			                     "as xn--)");
	}
	if (hl == 0 || hl >= host_n)
		return ims_error_set(err, IMS_ERR_USAGE,
		                     "bad host name: empty or longer than 253 bytes");
	if (hl >= 2 && host_in[0] == '[' && host_in[hl - 1] == ']') {
		char tmp[256];
		snprintf(tmp, sizeof(tmp), "%.*s", (int)(hl - 2), host_in + 1);
		lower_nodot(tmp, host, host_n);
	} else {
		lower_nodot(host_in, host, host_n);
	}
	v->host = host;
	v->o = o;
	v->info = info;
	if (inet_pton(AF_INET, host, v->ip) == 1) {
		v->host_is_ip = 1;
		v->ip_len = 4;
	} else if (inet_pton(AF_INET6, host, v->ip) == 1) {
		v->host_is_ip = 1;
		v->ip_len = 16;
	} else {
		v->host_bad = !ims_tls_host_ok(host, strlen(host));
	}
	return IMS_OK;
}

/* The verdict on a chain mbedTLS checked with verify_cb (flags: all it
 * and verify_cb found): accepted, or refused with words.  The one place a
 * connection and cert --chain decide. */
static ims_err verdict(struct verify_ctx *v, uint32_t flags, struct ims_error *err)
{
	struct ims_tls_info *info = v->info;

	if (flags == 0 && !v->pin_mismatch) {
		info->verified = 1;
		info->insecure = v->o->insecure_noverify;
		return IMS_OK;
	}
	classify(v, flags);
	if (v->o->insecure_noverify && !v->pin_mismatch) {
		info->insecure = 1;
		return IMS_OK;
	}
	if (info->n_chain > 0)
		return ims_error_set(
		    err, IMS_ERR_TLS, "tls: %s; certificate sha256 %s, spki sha256//%s",
		    info->verify_reason, info->chain[0].sha256, info->chain[0].spki_sha256);
	return ims_error_set(err, IMS_ERR_TLS, "tls: %s", info->verify_reason);
}

/* What the TLS layer adds to the chain check for a server's certificate
 * (mbedtls_ssl_check_cert_usage): every key exchange imapsh offers is
 * signed, so the key must be allowed to sign, and serverAuth when the
 * certificate lists its purposes. */
static uint32_t server_usage_flags(const mbedtls_x509_crt *leaf)
{
	uint32_t f = 0;

	/* (3.x always checks; 2.28 does where it was built to) */
#if MBEDTLS_VERSION_MAJOR >= 3 || defined(MBEDTLS_X509_CHECK_KEY_USAGE)
	if (mbedtls_x509_crt_check_key_usage(leaf, MBEDTLS_X509_KU_DIGITAL_SIGNATURE) != 0)
		f |= MBEDTLS_X509_BADCERT_KEY_USAGE;
#endif
#if MBEDTLS_VERSION_MAJOR >= 3 || defined(MBEDTLS_X509_CHECK_EXTENDED_KEY_USAGE)
	if (mbedtls_x509_crt_check_extended_key_usage(
	        leaf, MBEDTLS_OID_SERVER_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)) != 0)
		f |= MBEDTLS_X509_BADCERT_EXT_KEY_USAGE;
#endif
	return f;
}

ims_err ims_tls_verify_chain(const char *chain_file, const char *host_in,
                             const struct ims_tls_opts *o, const int64_t *at,
                             struct ims_tls_info *info, struct ims_error *err)
{
	mbedtls_x509_crt chain, ca;
	mbedtls_x509_crt_profile profile;
	struct verify_ctx v;
	struct ims_tls_opts vo = *o;
	uint32_t flags = 0;
	char host[256], eb[120];
	ims_err e;
	int r;

	memset(info, 0, sizeof(*info));
	memset(&v, 0, sizeof(v));
	mbedtls_x509_crt_init(&chain);
	mbedtls_x509_crt_init(&ca);
	vo.insecure_noverify = 0; /* a verdict is what is asked */
	e = vctx_init(&v, host, sizeof(host), host_in, &vo, info, err);
	if (e != IMS_OK)
		goto done;
	if (at != NULL) {
		v.at_set = 1;
		v.at = *at;
	}
	if (ims_compat_crypto_init() != 0) {
		e = ims_error_set(err, IMS_ERR_TLS, "cannot initialise the crypto library");
		goto done;
	}
	r = mbedtls_x509_crt_parse_file(&chain, chain_file);
	if (r != 0) {
		if (r > 0)
			snprintf(eb, sizeof(eb), "%d of its certificates cannot be parsed", r);
		else
			mbedtls_strerror(r, eb, sizeof(eb));
		e = ims_error_set(err, IMS_ERR_TLS, "cannot read certificate chain %s: %s",
		                  chain_file, eb);
		goto done;
	}
	e = load_trust(&ca, &vo, err);
	if (e != IMS_OK)
		goto done;
	set_x509_profile(&profile);
	r = mbedtls_x509_crt_verify_with_profile(
	    &chain, &ca, NULL, &profile, v.host_is_ip ? NULL : v.host, &flags, verify_cb, &v);
	if (r != 0 && r != MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
		mbedtls_strerror(r, eb, sizeof(eb));
		e = ims_error_set(err, IMS_ERR_TLS, "tls: certificate verification failed: %s", eb);
		goto done;
	}
	flags |= server_usage_flags(&chain);
	e = verdict(&v, flags, err);
done:
	mbedtls_x509_crt_free(&chain);
	mbedtls_x509_crt_free(&ca);
	return e;
}

/* ---- the TLS profile ------------------------------------------------ */

/* Chosen here, not inherited from the library's defaults, and at least as
 * strict as Mozilla's "intermediate": forward-secret AEAD suites only
 * (TLS 1.3's, ECDHE and DHE with AES-GCM or ChaCha20-Poly1305; no static
 * RSA key exchange, no CBC, no SHA-1 MAC), x25519, P-256, P-384 and P-521
 * for key exchange, Diffie-Hellman groups of 2048 bits at least, SHA-2
 * handshake signatures. */
static const int profile_suites[] = {
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
    MBEDTLS_TLS1_3_AES_256_GCM_SHA384,
    MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
#endif
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
#if defined(MBEDTLS_DHM_C)
    MBEDTLS_TLS_DHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,
#endif
    0};

static void set_tls_profile(mbedtls_ssl_config *conf)
{
	mbedtls_ssl_conf_ciphersuites(conf, profile_suites);
	ims_compat_conf_groups(conf);
	ims_compat_conf_sig_algs(conf);
#if defined(MBEDTLS_DHM_C) && defined(MBEDTLS_SSL_CLI_C)
	mbedtls_ssl_conf_dhm_min_bitlen(conf, 2048);
#endif
}

#define PROFILE_NEXT_STEP                                                                          \
	"; ask the server's administrator for ECDHE with AES-GCM or ChaCha20-Poly1305 (TLS 1.2) "  \
	"or "                                                                                      \
	"TLS 1.3"

static ims_err handshake_error(struct tls_stream *t, int r, struct ims_tls_info *info,
                               struct ims_error *err)
{
	char eb[160];

	if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED ||
	    (r == IMS_ERR_SSL_BAD_CERT && t->vctx.max_depth >= 0 && info->n_chain > 0 &&
	     mbedtls_ssl_get_verify_result(&t->ssl) != 0 &&
	     mbedtls_ssl_get_verify_result(&t->ssl) != 0xFFFFFFFFu))
		return verdict(&t->vctx, mbedtls_ssl_get_verify_result(&t->ssl), err);
	/* no version in common: the server said so (a protocol_version alert)
	 * or answered with an older one */
	if (r == IMS_ERR_SSL_BAD_VERSION ||
	    (r == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE &&
	     ims_compat_last_alert(&t->ssl) == MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION))
		return ims_error_set(err, IMS_ERR_TLS,
		                     "tls: handshake failed: the server offers only a TLS version "
		                     "below %s, which imapsh refuses; %s",
		                     t->vctx.o->tls_min >= 13 ? "1.3" : "1.2",
		                     t->vctx.o->tls_min >= 13
		                         ? "leave out --tls-min 1.3 to accept TLS 1.2"
		                         : "ask the server's administrator for TLS 1.2 or 1.3");
	if (r == MBEDTLS_ERR_SSL_CONN_EOF || r == MBEDTLS_ERR_NET_CONN_RESET)
		return ims_error_set(err, IMS_ERR_TLS,
		                     "tls: handshake failed: the server closed the connection "
		                     "(does it speak TLS on this port?)");
	if (r == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
		int alert = ims_compat_last_alert(&t->ssl);

		if (alert == MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE ||
		    alert == MBEDTLS_SSL_ALERT_MSG_INSUFFICIENT_SECURITY)
			return ims_error_set(
			    err, IMS_ERR_TLS,
			    "tls: handshake failed: the server offers only key exchange or ciphers "
			    "that imapsh refuses (no forward-secret AEAD suite, key-exchange group "
			    "or TLS version from 1.2 on in common: it answered with a handshake "
			    "failure alert)" PROFILE_NEXT_STEP);
		return ims_error_set(err, IMS_ERR_TLS,
		                     "tls: handshake failed: the server sent a fatal alert (no "
		                     "common protocol version or cipher?)");
	}
	if (ims_compat_key_exchange_signed_pss(&t->ssl, r))
		return ims_error_set(
		    err, IMS_ERR_TLS,
		    "tls: handshake failed: the server signs its TLS 1.2 key exchange with "
		    "RSA-PSS, "
		    "which mbedTLS %s refuses (a library bug, fixed after 3.6.6); ask the server's "
		    "administrator for TLS 1.3, or use an imapsh built on a fixed mbedTLS",
		    MBEDTLS_VERSION_STRING);
	if (ims_compat_key_exchange_refused(&t->ssl, r))
		return ims_error_set(
		    err, IMS_ERR_TLS,
		    "tls: handshake failed: the server offers only key exchange or ciphers that "
		    "imapsh refuses (a Diffie-Hellman group under 2048 bits, a curve other than "
		    "x25519, P-256, P-384 and P-521, or a signature hash weaker than "
		    "SHA-256)" PROFILE_NEXT_STEP);
	mbedtls_strerror(r, eb, sizeof(eb));
	return ims_error_set(err, IMS_ERR_TLS, "tls: handshake failed: %s", eb);
}

/* The stream around fd with every mbedTLS object initialised (nothing
 * configured yet); NULL when out of memory. */
static struct tls_stream *tls_new(int fd, const struct ims_tls_opts *o)
{
	struct tls_stream *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->fd = fd;
	t->base.ops = &tls_ops;
	ims_error_init(&t->base.err);
	t->base.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
	mbedtls_ssl_init(&t->ssl);
	mbedtls_ssl_config_init(&t->conf);
	mbedtls_x509_crt_init(&t->ca);
	mbedtls_x509_crt_init(&t->own_cert);
	mbedtls_pk_init(&t->own_key);
	mbedtls_ctr_drbg_init(&t->drbg);
	mbedtls_entropy_init(&t->entropy);
	return t;
}

/* Configure: the random generator, a client's defaults, the lowest
 * version, imapsh's TLS and X.509 profiles; no renegotiation and no
 * session tickets. */
static ims_err tls_config(struct tls_stream *t, const struct ims_tls_opts *o, struct ims_error *err)
{
	static const char pers[] = "imapsh tls";
	int r;

	if (ims_compat_crypto_init() != 0)
		return ims_error_set(err, IMS_ERR_TLS, "cannot initialise the crypto library");
	r = mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy,
	                          (const unsigned char *)pers, sizeof(pers) - 1);
	if (r != 0)
		return ims_error_set(err, IMS_ERR_TLS, "cannot seed the random generator");
	r = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT,
	                                MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (r != 0)
		return ims_error_set(err, IMS_ERR_TLS, "cannot set up TLS defaults");
	if (ims_compat_conf_min_version(&t->conf, o->tls_min != 0 ? o->tls_min : 12) != 0)
		return ims_error_set(err, IMS_ERR_USAGE,
		                     "tls: TLS 1.3 is not available in mbedTLS %s: ask for TLS 1.2 "
		                     "at least instead",
		                     MBEDTLS_VERSION_STRING);
	set_tls_profile(&t->conf);
	mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
#if defined(MBEDTLS_SSL_RENEGOTIATION)
	mbedtls_ssl_conf_renegotiation(&t->conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#endif
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
	mbedtls_ssl_conf_session_tickets(&t->conf, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
#endif
	set_x509_profile(&t->profile);
	mbedtls_ssl_conf_cert_profile(&t->conf, &t->profile);
	return IMS_OK;
}

/* Configure trust: the anchors, verification (required unless
 * --insecure) through verify_cb, and a client certificate if given. */
static ims_err tls_config_trust(struct tls_stream *t, const struct ims_tls_opts *o,
                                struct ims_error *err)
{
	ims_err e = load_trust(&t->ca, o, err);

	if (e != IMS_OK)
		return e;
	mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
	mbedtls_ssl_conf_authmode(&t->conf, o->insecure_noverify ? MBEDTLS_SSL_VERIFY_OPTIONAL
	                                                         : MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_verify(&t->conf, verify_cb, &t->vctx);
	return load_client_cert(t, o, err);
}

/* The connection's context from the configuration, its name and its
 * socket.  SNI and mbedTLS's own name check stay in force beside
 * imapsh's (verify_cb requires both); an IP literal gets no SNI (RFC
 * 6066) and is checked against iPAddress names by verify_cb. */
static ims_err tls_setup(struct tls_stream *t, struct ims_error *err)
{
	if (mbedtls_ssl_setup(&t->ssl, &t->conf) != 0)
		return ims_error_set(err, IMS_ERR_TLS, "cannot set up the TLS context");
	if (mbedtls_ssl_set_hostname(&t->ssl, t->vctx.host_is_ip ? NULL : t->host) != 0)
		return ims_error_set(err, IMS_ERR_USAGE, "bad host name: mbedTLS refuses it");
	mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
	return IMS_OK;
}

/* Describe: the version and cipher agreed, once there are some. */
static void tls_describe(struct tls_stream *t, struct ims_tls_info *info)
{
	if (mbedtls_ssl_get_ciphersuite(&t->ssl) == NULL)
		return;
	snprintf(info->version, sizeof(info->version), "%s", mbedtls_ssl_get_version(&t->ssl));
	snprintf(info->cipher, sizeof(info->cipher), "%s", mbedtls_ssl_get_ciphersuite(&t->ssl));
}

/* The handshake within the stream's timeout; its time and, as far as
 * it got, what it agreed go into info. */
static ims_err tls_handshake(struct tls_stream *t, struct ims_tls_info *info, struct ims_error *err)
{
	int64_t t0 = ims_now_ms();
	int r;

	t->base.deadline_ms = t0 + t->base.timeout_ms;
	for (;;) {
		r = mbedtls_ssl_handshake(&t->ssl);
		if (r == 0)
			break;
		if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
			if (tls_wait(t, r, "during the TLS handshake") != IMS_OK)
				return ims_error_copy(err, &t->base.err);
			continue;
		}
		info->handshake_ms = ims_now_ms() - t0;
		tls_describe(t, info);
		return handshake_error(t, r, info, err);
	}
	t->base.deadline_ms = 0;
	info->handshake_ms = ims_now_ms() - t0;
	tls_describe(t, info);
	return IMS_OK;
}

/* libtls's shape: normalise the host (vctx_init), configure, connect
 * (the handshake), inspect (describe, and the verdict on the chain). */
ims_err ims_tls_wrap(int fd, const char *host_in, const struct ims_tls_opts *o,
                     struct ims_stream **s_r, struct ims_tls_info *info_r, struct ims_error *err)
{
	struct ims_tls_info local_info;
	struct ims_tls_info *info = info_r != NULL ? info_r : &local_info;
	struct tls_stream *t;
	ims_err e;

	*s_r = NULL;
	memset(info, 0, sizeof(*info));
	t = tls_new(fd, o);
	if (t == NULL) {
		close(fd);
		return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
	}
	e = vctx_init(&t->vctx, t->host, sizeof(t->host), host_in, o, info, err);
	if (e == IMS_OK)
		e = tls_config(t, o, err);
	if (e == IMS_OK)
		e = tls_config_trust(t, o, err);
	if (e == IMS_OK)
		e = tls_setup(t, err);
	if (e == IMS_OK)
		e = tls_handshake(t, info, err);
	if (e == IMS_OK)
		e = verdict(&t->vctx, mbedtls_ssl_get_verify_result(&t->ssl), err);
	if (e != IMS_OK) {
		tls_free(t);
		return e;
	}
	*s_r = &t->base;
	return IMS_OK;
}

ims_err ims_tls_channel_binding(struct ims_stream *s, unsigned char *out, size_t cap, size_t *len_r)
{
	const mbedtls_x509_crt *crt;
	const mbedtls_md_info_t *md;
	mbedtls_md_type_t type;

	if (s == NULL || s->ops != &tls_ops)
		return IMS_ERR_USAGE;
	crt = mbedtls_ssl_get_peer_cert(&((struct tls_stream *)s)->ssl);
	if (crt == NULL)
		return IMS_ERR_TLS;
	type = crt->IMS_MBEDTLS_PRIV(sig_md);
	if (type == MBEDTLS_MD_MD5 || type == MBEDTLS_MD_SHA1)
		type = MBEDTLS_MD_SHA256;
	md = mbedtls_md_info_from_type(type);
	if (md == NULL || mbedtls_md_get_size(md) > cap ||
	    mbedtls_md(md, crt->raw.p, crt->raw.len, out) != 0)
		return IMS_ERR_TLS;
	*len_r = mbedtls_md_get_size(md);
	return IMS_OK;
}
