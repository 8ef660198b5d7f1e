/* Sizes and dates between people and IMAP: the one place that formats a
 * byte count for a person and converts what a user types ("10k",
 * "2026-01-31", "2026-01-31T09:30") into what IMAP writes.  Pure: the
 * only outside state read is the local time zone (ims_datetime_imap).
 *
 * Every function writes a NUL-terminated string into out[0..n); the
 * IMS_UNITS_MAX bytes are always enough.
 *
 * Part of the front-end library (src/front/): pure, uses base and imap
 * (the date-time grammar); only the front end uses it. */
#ifndef IMAPSH_UNITS_H
#define IMAPSH_UNITS_H

#include <stddef.h>
#include <stdint.h>

#define IMS_UNITS_MAX 48

/* Binary units for a person: "512 B", "230.9 KiB", "50.0 MiB" ... PiB. */
const char *ims_size_iec(uint64_t bytes, char *out, size_t n);
/* Three or four characters for a column: "368", "1.3K", "217K", "12M". */
const char *ims_size_short(uint64_t bytes, char *out, size_t n);
/* Decimal megabytes for progress lines: "12.3 MB". */
const char *ims_size_mb(uint64_t bytes, char *out, size_t n);

/* A size typed by the user: 12345, 10k, 1.5M, 2G (powers of 1024; a
 * trailing B or iB is allowed) -> its bytes in decimal, at most
 * 4294967295 (SEARCH LARGER/SMALLER).  0, or -1 when it is not one. */
int ims_size_parse(const char *v, char *out, size_t n);
/* A date typed by the user: 2026-01-31 or 31-Jan-2026 -> IMAP's date
 * ("31-Jan-2026").  0, or -1. */
int ims_date_imap(const char *v, char *out, size_t n);
/* A date and time typed by the user: IMAP's own date-time as it is, or
 * 2026-01-31, 2026-01-31T09:30[:15] (or a blank for T), followed by Z,
 * +HH:MM, -HH:MM or nothing (local time) -> IMAP's date-time
 * ("31-Jan-2026 09:30:15 +0100").  0, or -1. */
int ims_datetime_imap(const char *v, char *out, size_t n);

#endif
