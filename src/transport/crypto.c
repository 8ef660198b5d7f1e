/* Cryptographic primitives on mbedTLS (2.28 and 3.6).  See
 * include/imapsh/crypto.h. */
#include "imapsh/crypto.h"

#include <string.h>

#include "transport/tls_compat.h"

#include <mbedtls/base64.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/ssl.h>
#include <zlib.h>

static mbedtls_md_type_t md_type(enum ims_hash h)
{
	return h == IMS_HASH_SHA1 ? MBEDTLS_MD_SHA1 : MBEDTLS_MD_SHA256;
}

size_t ims_hash_len(enum ims_hash h)
{
	return h == IMS_HASH_SHA1 ? 20 : 32;
}

ims_err ims_hash(enum ims_hash h, const void *p, size_t n, unsigned char *out)
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(md_type(h));

	if (md == NULL)
		return IMS_ERR_USAGE;
	return mbedtls_md(md, p, n, out) == 0 ? IMS_OK : IMS_ERR_NOMEM;
}

ims_err ims_hmac(enum ims_hash h, const void *key, size_t key_len, const void *p, size_t n,
                 unsigned char *out)
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(md_type(h));

	if (md == NULL)
		return IMS_ERR_USAGE;
	return mbedtls_md_hmac(md, key, key_len, p, n, out) == 0 ? IMS_OK : IMS_ERR_NOMEM;
}

ims_err ims_pbkdf2(enum ims_hash h, const void *password, size_t pw_len, const void *salt,
                   size_t salt_len, uint32_t iterations, unsigned char *out, size_t out_len)
{
	int r;

	if (iterations == 0 || out_len > UINT32_MAX)
		return IMS_ERR_USAGE;
#if MBEDTLS_VERSION_NUMBER >= 0x03030000
	r = mbedtls_pkcs5_pbkdf2_hmac_ext(md_type(h), password, pw_len, salt, salt_len, iterations,
	                                  (uint32_t)out_len, out);
#else
	{
		mbedtls_md_context_t ctx;
		const mbedtls_md_info_t *md = mbedtls_md_info_from_type(md_type(h));

		if (md == NULL)
			return IMS_ERR_USAGE;
		mbedtls_md_init(&ctx);
		r = mbedtls_md_setup(&ctx, md, 1);
		if (r == 0)
			r = mbedtls_pkcs5_pbkdf2_hmac(&ctx, password, pw_len, salt, salt_len,
			                              iterations, (uint32_t)out_len, out);
		mbedtls_md_free(&ctx);
	}
#endif
	return r == 0 ? IMS_OK : IMS_ERR_NOMEM;
}

ims_err ims_sha256(const void *p, size_t n, unsigned char out[IMS_SHA256_LEN])
{
	return ims_compat_sha256(p, n, out) == 0 ? IMS_OK : IMS_ERR_NOMEM;
}

ims_err ims_hmac_sha256(const void *key, size_t key_len, const void *p, size_t n,
                        unsigned char out[IMS_SHA256_LEN])
{
	return ims_hmac(IMS_HASH_SHA256, key, key_len, p, n, out);
}

ims_err ims_pbkdf2_sha256(const void *password, size_t pw_len, const void *salt, size_t salt_len,
                          uint32_t iterations, unsigned char *out, size_t out_len)
{
	return ims_pbkdf2(IMS_HASH_SHA256, password, pw_len, salt, salt_len, iterations, out,
	                  out_len);
}

ims_err ims_base64_encode(const void *p, size_t n, struct ims_buf *out)
{
	size_t need, olen;
	ims_err e;

	if (n > (SIZE_MAX - 4) / 4 * 3)
		return IMS_ERR_LIMIT;
	need = (n + 2) / 3 * 4;
	e = ims_buf_reserve(out, need + 1);
	if (e != IMS_OK)
		return e;
	if (mbedtls_base64_encode((unsigned char *)out->data + out->len, need + 1, &olen, p, n) !=
	    0)
		return IMS_ERR_USAGE;
	out->len += olen;
	out->data[out->len] = '\0';
	return IMS_OK;
}

static int b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

ims_err ims_base64_decode(const char *s, size_t n, struct ims_buf *out)
{
	size_t i, pad = 0, olen;
	ims_err e;

	if (n % 4 != 0)
		return IMS_ERR_USAGE;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '=') {
			if (i < n - 2)
				return IMS_ERR_USAGE;
			pad++;
		} else if (!b64_char(c) || pad != 0) {
			return IMS_ERR_USAGE;
		}
	}
	e = ims_buf_reserve(out, n / 4 * 3 + 1);
	if (e != IMS_OK)
		return e;
	if (mbedtls_base64_decode((unsigned char *)out->data + out->len, n / 4 * 3 + 1, &olen,
	                          (const unsigned char *)s, n) != 0)
		return IMS_ERR_USAGE;
	out->len += olen;
	out->data[out->len] = '\0';
	return IMS_OK;
}

static mbedtls_entropy_context rng_entropy;
static mbedtls_ctr_drbg_context rng_drbg;
static int rng_ready;

ims_err ims_random(void *p, size_t n)
{
	unsigned char *o = p;

	if (!rng_ready) {
		static const char pers[] = "imapsh random";

		if (ims_compat_crypto_init() != 0)
			return IMS_ERR_NOMEM;
		mbedtls_entropy_init(&rng_entropy);
		mbedtls_ctr_drbg_init(&rng_drbg);
		if (mbedtls_ctr_drbg_seed(&rng_drbg, mbedtls_entropy_func, &rng_entropy,
		                          (const unsigned char *)pers, sizeof(pers) - 1) != 0) {
			mbedtls_ctr_drbg_free(&rng_drbg);
			mbedtls_entropy_free(&rng_entropy);
			return IMS_ERR_IO;
		}
		rng_ready = 1;
	}
	while (n > 0) {
		size_t k = n > MBEDTLS_CTR_DRBG_MAX_REQUEST ? MBEDTLS_CTR_DRBG_MAX_REQUEST : n;

		if (mbedtls_ctr_drbg_random(&rng_drbg, o, k) != 0)
			return IMS_ERR_IO;
		o += k;
		n -= k;
	}
	return IMS_OK;
}

int ims_tls_has_tls13(void)
{
#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_SSL_PROTO_TLS1_3)
	return 1;
#else
	return 0;
#endif
}

const char *ims_zlib_version(void)
{
	return zlibVersion();
}
