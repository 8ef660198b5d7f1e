/* --compress auto: whether COMPRESS=DEFLATE pays for the rest of a bulk
 * transfer, decided from the rate the link gave the first part of it.
 *
 * Compressing can only make a transfer faster where the link, not the
 * deflate at the sending end, is the limit: where the measured rate is
 * below what that deflate sustains (in bytes before compression), mail
 * shrinks to about half and the link carries it in less time; where the
 * link is as fast as the deflate or faster (loopback, a LAN), compressing
 * only adds work.  And the switch itself costs the transfer a pause (the
 * commands in flight finish, COMPRESS is one round trip), so what is left
 * must be large enough to win that back.
 *
 * Part of the front-end library (src/front/): pure. */
#ifndef IMAPSH_ZAUTO_H
#define IMAPSH_ZAUTO_H

#include <stddef.h>
#include <stdint.h>

/* Deflate's speed in bytes before compression, measured on loopback:
 * Dovecot's (an export, the server compresses) about 34 MB/s, imapsh's own
 * zlib at level 6 (an import) about as fast. */
#define IMS_ZAUTO_DEFLATE_BPS 34000000u
/* Compress only where the link is below deflate / this: a switch cannot
 * be undone (RFC 4978 has no way back), the server's deflate slows with
 * its load (34 MB/s on a quiet machine, 7-10 MB/s on one whose two cores
 * are busy: a link of 12.5 MB/s compressed then goes slower, not
 * faster), and mail with attachments shrinks less.  So 10 Mbit/s
 * compresses, 100 Mbit/s (12.5 MB/s) and faster do not: the bar is
 * 8.5 MB/s, 68 Mbit/s. */
#define IMS_ZAUTO_MARGIN 4u
/* The least measured before a decision: bytes and milliseconds. */
#define IMS_ZAUTO_MIN_BYTES (256u * 1024)
#define IMS_ZAUTO_MIN_MS    50
/* What is left must take at least this long at the measured rate. */
#define IMS_ZAUTO_MIN_LEFT_MS 500

#define IMS_ZAUTO_WHY_MAX 160

enum ims_zauto {
	IMS_ZAUTO_MEASURE = 0, /* too little measured yet: ask again later */
	IMS_ZAUTO_ON,          /* compress the rest */
	IMS_ZAUTO_OFF          /* go on without */
};

/* bytes came in ms milliseconds; left bytes are still to come; deflate_bps
 * is the sending end's deflate (0: IMS_ZAUTO_DEFLATE_BPS).  The reason,
 * with the numbers, into why[0..n) ("1.2 MB/s measured over 2.1 MB, below
 * 8.5 MB/s: deflate on"). */
enum ims_zauto ims_zauto_decide(uint64_t bytes, int64_t ms, uint64_t left, uint64_t deflate_bps,
                                char *why, size_t n);

#endif
