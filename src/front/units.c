#include "imapsh/units.h"
#include "imapsh/parser.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

const char *ims_size_iec(uint64_t bytes, char *out, size_t n)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1024) {
		snprintf(out, n, "%" PRIu64 " B", bytes);
		return out;
	}
	v /= 1024;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(out, n, "%.1f %s", v, units[u]);
	return out;
}

const char *ims_size_short(uint64_t bytes, char *out, size_t n)
{
	static const char units[] = "KMGTP";
	double d = (double)bytes;
	size_t u = 0;

	if (bytes < 1000) {
		snprintf(out, n, "%u", (unsigned)bytes);
		return out;
	}
	d /= 1024;
	while (d >= 999.5 && u + 1 < sizeof(units) - 1) {
		d /= 1024;
		u++;
	}
	if (d < 9.95)
		snprintf(out, n, "%.1f%c", d, units[u]);
	else
		snprintf(out, n, "%.0f%c", d, units[u]);
	return out;
}

const char *ims_size_mb(uint64_t bytes, char *out, size_t n)
{
	snprintf(out, n, "%.1f MB", (double)bytes / 1e6);
	return out;
}

int ims_size_parse(const char *v, char *out, size_t n)
{
	char *end;
	double d, mul = 1;

	if (!(v[0] >= '0' && v[0] <= '9'))
		return -1;
	errno = 0;
	d = strtod(v, &end);
	if (errno != 0 || end == v)
		return -1;
	switch (*end) {
	case 'k':
	case 'K': mul = 1024.0; break;
	case 'm':
	case 'M': mul = 1024.0 * 1024; break;
	case 'g':
	case 'G': mul = 1024.0 * 1024 * 1024; break;
	default: break;
	}
	if (mul > 1)
		end++;
	if (mul > 1 && *end == 'i')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end != '\0')
		return -1;
	d *= mul;
	if (d < 0 || d > 4294967295.0)
		return -1;
	snprintf(out, n, "%.0f", d);
	return 0;
}

int ims_date_imap(const char *v, char *out, size_t n)
{
	int y, m, d, k = 0;
	char ms[4];

	if (sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &k) == 3 && v[k] == '\0' && strlen(v) == 10 &&
	    y >= 1900 && m >= 1 && m <= 12 && d >= 1 && d <= 31) {
		snprintf(out, n, "%d-%s-%04d", d, mon[m - 1], y);
		return 0;
	}
	k = 0;
	if (sscanf(v, "%2d-%3[A-Za-z]-%4d%n", &d, ms, &y, &k) == 3 && v[k] == '\0' && d >= 1 &&
	    d <= 31 && y >= 1900) {
		for (m = 0; m < 12; m++)
			if (strcasecmp(ms, mon[m]) == 0) {
				snprintf(out, n, "%d-%s-%04d", d, mon[m], y);
				return 0;
			}
	}
	return -1;
}

/* "T09:30[:15]" or " 09:30[:15]" at *pp, if there. */
static int parse_clock(const char **pp, int *hh, int *mi, int *ss)
{
	const char *p = *pp;
	int k = 0;

	if (*p != 'T' && *p != ' ')
		return 0;
	if (sscanf(p + 1, "%2d:%2d%n", hh, mi, &k) != 2 || k != 5)
		return -1;
	p += 1 + k;
	if (*p == ':') {
		k = 0;
		if (sscanf(p + 1, "%2d%n", ss, &k) != 1 || k != 2)
			return -1;
		p += 1 + k;
	}
	*pp = p;
	return 0;
}

/* The zone at p (Z, +HH:MM, -HH:MM, or nothing: the local zone on that
 * day) in minutes east of UTC. */
static int parse_zone(const char *p, int y, int mo, int d, int hh, int mi, int ss, long *off_r)
{
	struct tm tm;

	if (*p == 'Z' && p[1] == '\0') {
		*off_r = 0;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		int oh, om;

		if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2 || oh > 23 || om > 59)
			return -1;
		*off_r = (oh * 60 + om) * (*p == '-' ? -1 : 1);
	} else if (*p == '\0') {
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_hour = hh;
		tm.tm_min = mi;
		tm.tm_sec = ss;
		tm.tm_isdst = -1;
		if (mktime(&tm) == (time_t)-1)
			return -1;
		*off_r = tm.tm_gmtoff / 60;
	} else {
		return -1;
	}
	return 0;
}

int ims_datetime_imap(const char *v, char *out, size_t n)
{
	int y, mo, d, hh = 0, mi = 0, ss = 0, k = 0;
	long off, a;
	const char *p;
	int64_t epoch;

	if (ims_parse_date_time(v, &epoch) == IMS_OK) {
		snprintf(out, n, "%s", v);
		return 0;
	}
	if (sscanf(v, "%4d-%2d-%2d%n", &y, &mo, &d, &k) != 3 || k != 10)
		return -1;
	p = v + k;
	if (parse_clock(&p, &hh, &mi, &ss) != 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mi > 59 || ss > 60 || y < 1900)
		return -1;
	if (parse_zone(p, y, mo, d, hh, mi, ss, &off) != 0)
		return -1;
	a = off < 0 ? -off : off;
	snprintf(out, n, "%02d-%s-%04d %02d:%02d:%02d %c%02ld%02ld", d, mon[mo - 1], y, hh, mi, ss,
	         off < 0 ? '-' : '+', a / 60, a % 60);
	return 0;
}
