/* The transport: TCP connect (every address in turn, with a timeout) and
 * TLS over it, verified by default.  This is the only layer built on
 * mbedTLS; everything above it sees a struct ims_stream (stream.h).
 *
 * Ownership: ims_tcp_connect() hands the caller a connected socket;
 * ims_stream_fd_new() and ims_tls_wrap() take ownership of that socket (it
 * is closed when the stream is closed, or on failure). */
#ifndef IMAPSH_TRANSPORT_H
#define IMAPSH_TRANSPORT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "imapsh/error.h"
#include "imapsh/stream.h"

#define IMS_MAX_ADDRS 16
#define IMS_ADDR_MAX  64

struct ims_addr_attempt {
	char addr[IMS_ADDR_MAX]; /* "192.0.2.7:993" or "[2001:db8::7]:993" */
	int ok;
	int64_t ms;
	char why[160]; /* empty when ok */
};

struct ims_connect_report {
	int64_t resolve_ms;
	int64_t connect_ms; /* all attempts together */
	size_t n_addrs;     /* addresses the name resolved to (or --resolve gave) */
	char addrs[IMS_MAX_ADDRS][IMS_ADDR_MAX]; /* numeric, without port */
	size_t n_attempts;
	struct ims_addr_attempt attempts[IMS_MAX_ADDRS];
	char peer[IMS_ADDR_MAX]; /* the address connected to */
};

struct ims_connect_opts {
	const char *host;
	unsigned port;
	/* From --resolve: numeric addresses to use instead of DNS for this
	 * host and port; NULL/0 = resolve host. */
	const char *const *addrs;
	size_t n_addrs;
	int timeout_ms; /* per address; <= 0 means 30 s */
};

/* Resolve and connect, trying each address in turn until one answers.
 * rep (may be NULL) records every address and attempt. */
ims_err ims_tcp_connect(const struct ims_connect_opts *o, int *fd_r, struct ims_connect_report *rep,
                        struct ims_error *err) IMS_MUST_CHECK;

/* A plaintext stream over fd (only for the STARTTLS exchange and tests).
 * Returns NULL when out of memory (fd is closed then). */
struct ims_stream *ims_stream_fd_new(int fd, int timeout_ms);

/* A flag (set by a SIGINT handler) that makes every blocking wait of the
 * transport give up with IMS_ERR_CANCELLED; NULL = none.  Process-wide,
 * as signals are. */
void ims_transport_set_cancel_flag(const volatile sig_atomic_t *flag);
int ims_transport_cancelled(void);

/* Give back the socket of a plaintext stream (for the TLS upgrade after
 * STARTTLS); the stream is freed.  Returns -1 if s is not a plain stream. */
int ims_stream_fd_release(struct ims_stream **s);

/* The socket under a TLS or plaintext stream, still owned by it (for
 * poll: --share's master watches it for the server's close), or -1. */
int ims_stream_socket(const struct ims_stream *s);

#define IMS_CHAIN_MAX 8
#define IMS_SAN_MAX   16

/* What a certificate says, for people and programs.  Every string here
 * is display text: the transport made it safe where it parsed the
 * certificate (ims_sanitize_fixed(), sanitize.h: no control character,
 * no TAB, CR, LF or NUL, no bidi or invisible character, valid UTF-8,
 * cut with "..." when long), so it may be printed, put in a TSV field,
 * a Nagios line or JSON as it is.  The raw bytes are never copied out of
 * the parsed certificate.
 * subject and issuer are "CN=a, O=b" with RFC 4514 escapes ("\,") in
 * the values; BMPString and UniversalString values are decoded. */
struct ims_cert_info {
	char subject[256];
	char issuer[256];
	char cn[128];               /* subject CN, may be empty */
	char issuer_cn[128];        /* issuer CN, may be empty */
	char san[IMS_SAN_MAX][128]; /* dNSName (and iPAddress) entries */
	size_t n_san;
	char not_before[32]; /* "2026-01-01T00:00:00Z" */
	char not_after[32];
	int64_t not_before_epoch;
	int64_t not_after_epoch;
	int64_t days_left;    /* floor((not_after - now) / 1 day) */
	char sha256[96];      /* certificate, "AB:CD:…" hex */
	char spki_sha256[48]; /* base64 of SHA-256 of the SPKI DER */
	char sig_alg[32];     /* "RSA-SHA256", … */
	char key[32];         /* "RSA 2048", "EC 256" */
	int self_signed;
	int is_ca;
};

/* Why verification failed, one class a case. */
enum ims_verify_class {
	IMS_VERIFY_OK = 0,
	IMS_VERIFY_EXPIRED,
	IMS_VERIFY_NOT_YET_VALID,
	IMS_VERIFY_NAME,
	IMS_VERIFY_NO_SAN,
	IMS_VERIFY_UNTRUSTED,
	IMS_VERIFY_SELF_SIGNED,
	IMS_VERIFY_MISSING_INTERMEDIATE,
	IMS_VERIFY_WEAK,
	IMS_VERIFY_USAGE,
	IMS_VERIFY_PIN,
	IMS_VERIFY_OTHER
};

struct ims_tls_info {
	char version[16]; /* "TLSv1.2" */
	char cipher[80];
	int64_t handshake_ms;
	size_t n_chain; /* as built or presented, leaf first */
	struct ims_cert_info chain[IMS_CHAIN_MAX];
	int verified; /* 1: chain, dates and name (or a pin) all good */
	int pinned;   /* the leaf matched a --pin */
	int insecure; /* verification was skipped on request */
	enum ims_verify_class verify_class;
	char verify_reason[512]; /* words, empty when verified; display text
	                            (certificate names in it are safe) */
};

struct ims_tls_opts {
	const char *ca_file;     /* PEM bundle; NULL with ca_path NULL = system store */
	const char *ca_path;     /* directory of PEM files */
	const char *const *pins; /* "sha256//BASE64", a pin alone may replace CA trust */
	size_t n_pins;
	int insecure_noverify; /* skip verification (the caller must warn) */
	int tls_min;           /* 12 or 13; 0 = 12 */
	const char *client_cert;
	const char *client_key;
	int timeout_ms; /* handshake and later inactivity timeout */
};

/* The TLS handshake over a connected socket fd (ownership passes in), with
 * SNI and verification against host.  On success *s_r is a TLS stream.
 * info (may be NULL) is filled as far as the handshake got, also on
 * failure, so a caller can show the chain that was refused. */
ims_err ims_tls_wrap(int fd, const char *host, const struct ims_tls_opts *o,
                     struct ims_stream **s_r, struct ims_tls_info *info,
                     struct ims_error *err) IMS_MUST_CHECK;

/* RFC 5929 tls-server-end-point channel binding of a TLS stream made by
 * ims_tls_wrap(): the hash of the server's certificate (DER) with the
 * hash of its signature algorithm, SHA-256 for MD5 or SHA-1.  Into
 * out[0..cap), its length in *len_r.  IMS_ERR_USAGE when s is not a TLS
 * stream, IMS_ERR_TLS when the certificate's hash is unknown. */
ims_err ims_tls_channel_binding(struct ims_stream *s, unsigned char *out, size_t cap,
                                size_t *len_r) IMS_MUST_CHECK;

/* The verifier of ims_tls_wrap() on its own, offline: the PEM chain in
 * chain_file (the server's certificate first, then intermediates) checked
 * against host with o's trust anchors and pins (o->insecure_noverify is
 * ignored), by the same rules and with the same words.  at (may be NULL:
 * now) is the time validity is judged at.  info is filled as by
 * ims_tls_wrap (no version or cipher); IMS_OK when the chain is accepted,
 * IMS_ERR_TLS with the words when it is refused or cannot be read. */
ims_err ims_tls_verify_chain(const char *chain_file, const char *host, const struct ims_tls_opts *o,
                             const int64_t *at, struct ims_tls_info *info,
                             struct ims_error *err) IMS_MUST_CHECK;

/* The mbedTLS version the transport was built with ("2.28.3"). */
const char *ims_tls_library_version(void);
/* 1 when this build of mbedTLS speaks TLS 1.3 (3.x with it enabled). */
int ims_tls_has_tls13(void);
/* The zlib version COMPRESS=DEFLATE runs on ("1.2.13"). */
const char *ims_zlib_version(void);

#endif
