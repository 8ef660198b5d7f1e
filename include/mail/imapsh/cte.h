/* Content-Transfer-Encoding decoders (RFC 2045), streaming: fed chunks of
 * any size, they write decoded bytes to a struct ims_sink, so a 20 MB
 * attachment needs a few hundred bytes of state, not 20 MB.
 *
 *   base64      lenient about line breaks and blanks (skipped silently);
 *               strict about garbage: other characters are skipped and
 *               reported (IMS_CTE_GARBAGE); '=' ends a quantum, and base64
 *               after it starts a new one (concatenated encodings,
 *               IMS_CTE_GARBAGE); a missing '=' is tolerated; a lone last
 *               character is dropped (IMS_CTE_TRUNCATED).
 *   quoted-printable  "=XX" (hex digits in either case) -> byte; '='
 *               followed by optional blanks and a line break is a soft
 *               line break (removed); any other '=' is kept literally
 *               (IMS_CTE_GARBAGE); blanks at the end of a line are
 *               removed (RFC 2045 6.7 (3)); line breaks (CRLF or LF) are
 *               passed on as they came.
 *   7bit, 8bit, binary and anything unknown: passed through unchanged.
 *
 * The decoder owns no memory; the sink belongs to the caller and is
 * called with at most IMS_CTE_CHUNK bytes at a time.  An error from the
 * sink is returned as it is (the sink recorded its own words).
 *
 * Part of the mail library (src/mail/): uses base and iconv, never the protocol. */
#ifndef IMAPSH_CTE_H
#define IMAPSH_CTE_H

#include <stddef.h>
#include <stdint.h>

#include "imapsh/buf.h"
#include "imapsh/error.h"

enum ims_cte {
	IMS_CTE_IDENTITY, /* 7bit, 8bit, binary, absent */
	IMS_CTE_BASE64,
	IMS_CTE_QP,
	IMS_CTE_UNKNOWN /* x-uuencode and other labels: decoded as identity */
};

/* Decoder report flags */
#define IMS_CTE_GARBAGE   1u /* invalid characters were skipped or kept literally */
#define IMS_CTE_TRUNCATED 2u /* the input ended inside a quantum or escape */

#define IMS_CTE_CHUNK 1024

/* "base64", "Quoted-Printable", " 7bit " ... ignoring case and blanks;
 * NULL or "" is IMS_CTE_IDENTITY. */
enum ims_cte ims_cte_from_name(const char *name);

struct ims_cte_dec {
	enum ims_cte kind;
	struct ims_sink sink;
	unsigned flags; /* IMS_CTE_* seen so far */
	uint64_t out_total;
	/* private */
	uint32_t acc;
	unsigned nacc;
	int state;
	unsigned char pend[80]; /* QP: blanks or "=..." not yet decided */
	size_t npend;
	unsigned char obuf[IMS_CTE_CHUNK];
	size_t nobuf;
};

/* Cannot fail. */
void ims_cte_dec_init(struct ims_cte_dec *d, enum ims_cte kind, struct ims_sink sink);
/* Decode p[0..n).  Errors come only from the sink. */
ims_err ims_cte_dec_feed(struct ims_cte_dec *d, const void *p, size_t n) IMS_MUST_CHECK;
/* End of input: flush what is pending to the sink.  d->flags then says
 * what was wrong with the input, d->out_total how many bytes came out. */
ims_err ims_cte_dec_finish(struct ims_cte_dec *d) IMS_MUST_CHECK;

/* One call: decode p[0..n) and append to out.  *flags_r (may be NULL)
 * gets the IMS_CTE_* flags.  Fails only when out cannot grow; out then
 * keeps its previous length. */
ims_err ims_cte_decode(enum ims_cte kind, const void *p, size_t n, struct ims_buf *out,
                       unsigned *flags_r, struct ims_error *err) IMS_MUST_CHECK;

/* The number of decoded bytes p[0..n) gives, without keeping them. */
uint64_t ims_cte_decoded_size(enum ims_cte kind, const void *p, size_t n);

#endif
