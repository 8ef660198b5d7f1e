/* The few cryptographic primitives the session needs for SASL (SCRAM,
 * PLAIN, XOAUTH2, OAUTHBEARER) and for random tags and nonces.
 * Implemented on mbedTLS in the transport layer (src/transport/crypto.c),
 * the only code allowed to include mbedTLS headers.
 *
 * Ownership: outputs go to caller-provided memory or are appended to a
 * caller-owned ims_buf.  Nothing is kept; callers wipe secrets
 * (ims_wipe) when done. */
#ifndef IMAPSH_CRYPTO_H
#define IMAPSH_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "imapsh/buf.h"
#include "imapsh/error.h"

#define IMS_SHA256_LEN 32
#define IMS_HASH_MAX   64 /* the longest digest any function here gives */

/* The hash functions SASL needs: SCRAM-SHA-1 and SCRAM-SHA-256. */
enum ims_hash { IMS_HASH_SHA1, IMS_HASH_SHA256 };

/* The digest length of h (20 or 32). */
size_t ims_hash_len(enum ims_hash h);

/* h, HMAC-h (RFC 2104) and PBKDF2-HMAC-h (RFC 8018) with the rules of
 * the SHA-256 functions below; out holds ims_hash_len(h) bytes. */
ims_err ims_hash(enum ims_hash h, const void *p, size_t n, unsigned char *out) IMS_MUST_CHECK;
ims_err ims_hmac(enum ims_hash h, const void *key, size_t key_len, const void *p, size_t n,
                 unsigned char *out) IMS_MUST_CHECK;
ims_err ims_pbkdf2(enum ims_hash h, const void *password, size_t pw_len, const void *salt,
                   size_t salt_len, uint32_t iterations, unsigned char *out,
                   size_t out_len) IMS_MUST_CHECK;

/* SHA-256 of p[0..n). */
ims_err ims_sha256(const void *p, size_t n, unsigned char out[IMS_SHA256_LEN]) IMS_MUST_CHECK;

/* HMAC-SHA-256 (RFC 2104). */
ims_err ims_hmac_sha256(const void *key, size_t key_len, const void *p, size_t n,
                        unsigned char out[IMS_SHA256_LEN]) IMS_MUST_CHECK;

/* PBKDF2-HMAC-SHA-256 (RFC 8018) into out[0..out_len).  iterations >= 1. */
ims_err ims_pbkdf2_sha256(const void *password, size_t pw_len, const void *salt, size_t salt_len,
                          uint32_t iterations, unsigned char *out, size_t out_len) IMS_MUST_CHECK;

/* Standard base64 (RFC 4648, with '=' padding), appended to out. */
ims_err ims_base64_encode(const void *p, size_t n, struct ims_buf *out) IMS_MUST_CHECK;

/* Strict decoding: the alphabet, length a multiple of 4, padding only at
 * the end; no white space.  Appended to out (which keeps its length on
 * failure).  IMS_ERR_USAGE when malformed. */
ims_err ims_base64_decode(const char *s, size_t n, struct ims_buf *out) IMS_MUST_CHECK;

/* n bytes from a cryptographically secure generator. */
ims_err ims_random(void *p, size_t n) IMS_MUST_CHECK;

#endif
