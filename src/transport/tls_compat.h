/* The mbedTLS 2.28 / 3.6 differences the transport needs, in one place.
 *
 * Debian 12 ships 2.28 (TLS 1.2 only); 3.6 LTS adds TLS 1.3.  Covered:
 *  - configuration header: mbedtls/config.h (2.x) vs mbedtls/build_info.h (3.x)
 *  - PSA crypto must be initialised before a TLS 1.3 handshake (3.x)
 *  - minimum/maximum protocol version: conf_min_version(major, minor) (2.x)
 *    vs conf_min_tls_version(MBEDTLS_SSL_VERSION_TLS1_x) (3.x)
 *  - mbedtls_pk_parse_keyfile takes an RNG in 3.x
 *  - one-shot SHA-256: mbedtls_sha256_ret (2.x) vs mbedtls_sha256 (3.x)
 *  - certificate fields made private in 3.x (sig_md, sig_pk, ca_istrue),
 *    reached through MBEDTLS_PRIVATE()
 *  - 3.6 refuses to verify without a host name unless set_hostname(NULL)
 *    is called explicitly (we do our own name check for IP literals)
 *  - error codes renamed in 3.x: BAD_HS_CERTIFICATE -> BAD_CERTIFICATE,
 *    BAD_HS_PROTOCOL_VERSION -> BAD_PROTOCOL_VERSION (IMS_ERR_SSL_* here)
 *  - the key-exchange groups: conf_curves(mbedtls_ecp_group_id list) (2.x)
 *    vs conf_groups(IANA group numbers) (3.x); handshake signatures:
 *    conf_sig_hashes(md list) (2.x) vs conf_sig_algs(IANA numbers) (3.x)
 *  - the last alert received: ssl->in_msg, a private field in 3.x
 *  - 3.6.6 refuses a TLS 1.2 ServerKeyExchange signed with RSA-PSS
 *  - a refused ServerKeyExchange (DH group, curve or signature hash outside
 *    the profile): BAD_HS_SERVER_KEY_EXCHANGE (2.x) vs ILLEGAL_PARAMETER
 *    with the handshake still at that message, or HANDSHAKE_FAILURE (3.x) */
#ifndef IMAPSH_TLS_COMPAT_H
#define IMAPSH_TLS_COMPAT_H

#include <mbedtls/version.h>

#if MBEDTLS_VERSION_MAJOR >= 3
#include <mbedtls/build_info.h>
#include <psa/crypto.h>
#define IMS_MBEDTLS_PRIV(f) MBEDTLS_PRIVATE(f)
#else
#if !defined(MBEDTLS_CONFIG_FILE)
#include <mbedtls/config.h>
#else
#include MBEDTLS_CONFIG_FILE
#endif
#define IMS_MBEDTLS_PRIV(f) f
#endif

#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>

#if defined(MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE)
#define IMS_ERR_SSL_BAD_CERT MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE
#else
#define IMS_ERR_SSL_BAD_CERT MBEDTLS_ERR_SSL_BAD_CERTIFICATE
#endif
#if defined(MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION)
#define IMS_ERR_SSL_BAD_VERSION MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION
#else
#define IMS_ERR_SSL_BAD_VERSION MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION
#endif

static inline int ims_compat_crypto_init(void)
{
#if MBEDTLS_VERSION_MAJOR >= 3
	return psa_crypto_init() == PSA_SUCCESS ? 0 : -1;
#else
	return 0;
#endif
}

/* v: 12 for TLS 1.2, 13 for TLS 1.3.  Returns 0, or -1 when this build of
 * mbedTLS cannot speak v. */
static inline int ims_compat_conf_min_version(mbedtls_ssl_config *conf, int v)
{
#if MBEDTLS_VERSION_MAJOR >= 3
#if !defined(MBEDTLS_SSL_PROTO_TLS1_3)
	if (v >= 13)
		return -1;
#endif
	mbedtls_ssl_conf_min_tls_version(conf, v >= 13 ? MBEDTLS_SSL_VERSION_TLS1_3
	                                               : MBEDTLS_SSL_VERSION_TLS1_2);
	return 0;
#else
	if (v >= 13)
		return -1;
	mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3,
	                             MBEDTLS_SSL_MINOR_VERSION_3);
	return 0;
#endif
}

static inline int ims_compat_parse_keyfile(mbedtls_pk_context *pk, const char *path,
                                           int (*f_rng)(void *, unsigned char *, size_t),
                                           void *p_rng)
{
#if MBEDTLS_VERSION_MAJOR >= 3
	return mbedtls_pk_parse_keyfile(pk, path, NULL, f_rng, p_rng);
#else
	(void)f_rng;
	(void)p_rng;
	return mbedtls_pk_parse_keyfile(pk, path, NULL);
#endif
}

static inline int ims_compat_sha256(const unsigned char *in, size_t len, unsigned char out[32])
{
#if MBEDTLS_VERSION_MAJOR >= 3
	return mbedtls_sha256(in, len, out, 0);
#else
	return mbedtls_sha256_ret(in, len, out, 0);
#endif
}

/* Key exchange: x25519, P-256, P-384 and P-521, nothing else (P-192,
 * P-224, the Brainpool and Koblitz curves are refused). */
static inline void ims_compat_conf_groups(mbedtls_ssl_config *conf)
{
#if MBEDTLS_VERSION_MAJOR >= 3
	static const uint16_t groups[] = {
	    MBEDTLS_SSL_IANA_TLS_GROUP_X25519, MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
	    MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1, MBEDTLS_SSL_IANA_TLS_GROUP_SECP521R1,
	    MBEDTLS_SSL_IANA_TLS_GROUP_NONE};

	mbedtls_ssl_conf_groups(conf, groups);
#elif defined(MBEDTLS_ECP_C)
	/* 2.28 refuses a curve it was built without: list only those it has. */
	static const mbedtls_ecp_group_id curves[] = {
#if defined(MBEDTLS_ECP_DP_CURVE25519_ENABLED)
		MBEDTLS_ECP_DP_CURVE25519,
#endif
#if defined(MBEDTLS_ECP_DP_SECP256R1_ENABLED)
		MBEDTLS_ECP_DP_SECP256R1,
#endif
#if defined(MBEDTLS_ECP_DP_SECP384R1_ENABLED)
		MBEDTLS_ECP_DP_SECP384R1,
#endif
#if defined(MBEDTLS_ECP_DP_SECP521R1_ENABLED)
		MBEDTLS_ECP_DP_SECP521R1,
#endif
		MBEDTLS_ECP_DP_NONE
	};

	mbedtls_ssl_conf_curves(conf, curves);
#else
	(void)conf;
#endif
}

/* Handshake signatures with SHA-256, SHA-384 or SHA-512 only.  In 3.x
 * RSA PKCS#1 comes before RSA-PSS: one list serves TLS 1.3 (whose
 * CertificateVerify must be PSS, so a server picks PSS whatever the order)
 * and TLS 1.2, where mbedTLS 3.6.6's client refuses a ServerKeyExchange
 * signed with the rsa_pss_rsae schemes it offered itself (fixed upstream
 * after 3.6.6); a TLS 1.2 server that follows the client's order (OpenSSL's
 * default) then signs with PKCS#1. */
static inline void ims_compat_conf_sig_algs(mbedtls_ssl_config *conf)
{
#if MBEDTLS_VERSION_MAJOR >= 3
#if defined(MBEDTLS_SSL_HANDSHAKE_WITH_CERT_ENABLED)
	static const uint16_t algs[] = {
	    MBEDTLS_TLS1_3_SIG_ECDSA_SECP256R1_SHA256, MBEDTLS_TLS1_3_SIG_ECDSA_SECP384R1_SHA384,
	    MBEDTLS_TLS1_3_SIG_ECDSA_SECP521R1_SHA512, MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA256,
	    MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA384,       MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA512,
	    MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA256,    MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA384,
	    MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA512,    MBEDTLS_TLS1_3_SIG_NONE};

	mbedtls_ssl_conf_sig_algs(conf, algs);
#else
	(void)conf;
#endif
#elif defined(MBEDTLS_KEY_EXCHANGE_WITH_CERT_ENABLED)
	static const int hashes[] = {MBEDTLS_MD_SHA512, MBEDTLS_MD_SHA384, MBEDTLS_MD_SHA256,
	                             MBEDTLS_MD_NONE};

	mbedtls_ssl_conf_sig_hashes(conf, hashes);
#else
	(void)conf;
#endif
}

/* The description of the fatal alert the peer sent (valid right after a
 * handshake step returned MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE); -1 when
 * unknown. */
static inline int ims_compat_last_alert(const mbedtls_ssl_context *ssl)
{
	const unsigned char *m = ssl->IMS_MBEDTLS_PRIV(in_msg);

	if (m == NULL || ssl->IMS_MBEDTLS_PRIV(in_msgtype) != MBEDTLS_SSL_MSG_ALERT)
		return -1;
	return m[1];
}

/* Whether the handshake error r is mbedTLS refusing the server's key
 * exchange message: a Diffie-Hellman group under the minimum, a curve or a
 * signature algorithm not offered.  3.x says ILLEGAL_PARAMETER for each,
 * which it also says of other messages, so the handshake's state (not
 * advanced past the ServerKeyExchange on failure) tells them apart. */
static inline int ims_compat_key_exchange_refused(const mbedtls_ssl_context *ssl, int r)
{
#if MBEDTLS_VERSION_MAJOR >= 3
	return r == MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE ||
	       (r == MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER &&
	        ssl->IMS_MBEDTLS_PRIV(state) == MBEDTLS_SSL_SERVER_KEY_EXCHANGE);
#else
	(void)ssl;
	return r == MBEDTLS_ERR_SSL_BAD_HS_SERVER_KEY_EXCHANGE;
#endif
}

/* Whether the handshake error r (ILLEGAL_PARAMETER) stopped at a TLS 1.2
 * ServerKeyExchange that is
 * within imapsh's profile (a group it offered, Diffie-Hellman of 2048 bits
 * at least) but signed with rsa_pss_rsae (0x0804-0x0806): the schemes
 * mbedTLS 3.6.6's client offers and then refuses there.  Always 0 on 2.x,
 * which offers no PSS. */
static inline int ims_compat_key_exchange_signed_pss(const mbedtls_ssl_context *ssl, int r)
{
#if MBEDTLS_VERSION_MAJOR >= 3
	const unsigned char *m = ssl->MBEDTLS_PRIVATE(in_msg);
	size_t n = ssl->MBEDTLS_PRIVATE(in_hslen), i = 4, k, len;
	const mbedtls_ssl_session *s = ssl->MBEDTLS_PRIVATE(session_negotiate);
	const mbedtls_ssl_ciphersuite_t *cs;
	int kx, group;

	if (r != MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER || m == NULL || s == NULL || n < 4 ||
	    m[0] != MBEDTLS_SSL_HS_SERVER_KEY_EXCHANGE ||
	    ssl->MBEDTLS_PRIVATE(state) != MBEDTLS_SSL_SERVER_KEY_EXCHANGE)
		return 0;
	cs = mbedtls_ssl_ciphersuite_from_id(s->MBEDTLS_PRIVATE(ciphersuite));
	if (cs == NULL)
		return 0;
	kx = cs->MBEDTLS_PRIVATE(key_exchange);
	if (kx == MBEDTLS_KEY_EXCHANGE_ECDHE_RSA) {
		/* curve type, named group, the point with its one-byte length */
		if (n < i + 4)
			return 0;
		group = m[i + 1] << 8 | m[i + 2];
		if (group != MBEDTLS_SSL_IANA_TLS_GROUP_X25519 &&
		    group != MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1 &&
		    group != MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1 &&
		    group != MBEDTLS_SSL_IANA_TLS_GROUP_SECP521R1)
			return 0;
		i += 4 + m[i + 3];
	} else if (kx == MBEDTLS_KEY_EXCHANGE_DHE_RSA) {
		/* p, g and the server's public value, each with a two-byte length */
		for (k = 0; k < 3; k++) {
			if (n < i + 2)
				return 0;
			len = (size_t)m[i] << 8 | m[i + 1];
			if (k == 0 && len < 256)
				return 0;
			i += 2 + len;
		}
	} else
		return 0;
	return n >= i + 2 && m[i] == 0x08 && m[i + 1] >= 0x04 && m[i + 1] <= 0x06;
#else
	(void)ssl;
	(void)r;
	return 0;
#endif
}

#endif
