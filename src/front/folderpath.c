/* Folder names as directory names (folderpath.h). */
#include <string.h>

#include "imapsh/folderpath.h"
#include "imapsh/sanitize.h"

#define EMPTY_COMPONENT "%00"

static const char hexdig[] = "0123456789ABCDEF";

/* 1 if byte ch (valid UTF-8 around it) stands for itself. */
static int plain(unsigned char ch)
{
	return ch >= 0x20 && ch != 0x7f && ch != '%' && ch != '.' && ch != '/';
}

static ims_err put_hex(struct ims_buf *out, unsigned char ch)
{
	char h[3] = {'%', hexdig[ch >> 4], hexdig[ch & 15]};

	return ims_buf_append(out, h, 3);
}

/* One component (no delimiter in it). */
static ims_err encode_component(const unsigned char *p, size_t n, struct ims_buf *out)
{
	size_t i = 0;
	ims_err e = IMS_OK;

	if (n == 0)
		return ims_buf_puts(out, EMPTY_COMPONENT);
	while (i < n && e == IMS_OK) {
		uint32_t cp;
		size_t k = p[i] < 0x80 ? 1 : ims_utf8_decode(p + i, n - i, &cp);

		if (k == 0) { /* not UTF-8: this byte escaped */
			e = put_hex(out, p[i++]);
		} else if (k == 1) {
			e = plain(p[i]) ? ims_buf_putc(out, (char)p[i]) : put_hex(out, p[i]);
			i++;
		} else if (ims_sanitize_is_invisible(cp)) {
			/* C1, bidi and invisible characters: a directory name
			 * that reads otherwise than it is, each byte escaped */
			for (; k > 0 && e == IMS_OK; k--)
				e = put_hex(out, p[i++]);
		} else {
			e = ims_buf_append(out, p + i, k);
			i += k;
		}
	}
	return e;
}

ims_err ims_folderpath_encode(const char *name, size_t len, char delim, struct ims_buf *out,
                              struct ims_error *err)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t start = out->len, i = 0;
	ims_err e = IMS_OK;

	if (len == 0)
		return ims_error_set(err, IMS_ERR_USAGE,
		                     "an empty folder name has no directory name");
	if (memchr(name, 0, len) != NULL)
		return ims_error_set(err, IMS_ERR_USAGE, "a folder name holds a NUL byte");
	while (e == IMS_OK) {
		size_t j = i;

		while (j < len && (delim == 0 || p[j] != (unsigned char)delim))
			j++;
		e = encode_component(p + i, j - i, out);
		if (e != IMS_OK || j == len)
			break;
		e = ims_buf_putc(out, '.');
		i = j + 1;
		if (i == len) { /* a trailing delimiter: an empty last component */
			e = ims_buf_puts(out, EMPTY_COMPONENT);
			break;
		}
	}
	if (e != IMS_OK)
		return ims_error_nomem(err);
	if (out->len - start > IMS_FOLDERPATH_MAX) {
		out->len = start;
		out->data[start] = '\0';
		return ims_error_set(
		    err, IMS_ERR_USAGE,
		    "the folder name is too long for a directory name (%d bytes at "
		    "most once escaped)",
		    IMS_FOLDERPATH_MAX);
	}
	return IMS_OK;
}

static int hexval(char ch)
{
	const char *q = ch != '\0' ? strchr(hexdig, ch) : NULL;

	return q != NULL ? (int)(q - hexdig) : -1;
}

/* One component of dir[0..n) (no '.' in it) onto out; it may not hold
 * delim (it would become two). */
static ims_err decode_component(const char *d, size_t n, char delim, struct ims_buf *out,
                                struct ims_error *err)
{
	size_t i, start = out->len;
	struct ims_buf again;
	ims_err e = IMS_OK;

	if (n == 3 && memcmp(d, EMPTY_COMPONENT, 3) == 0)
		return IMS_OK;
	if (n == 0)
		return ims_error_set(err, IMS_ERR_USAGE, "an empty part between dots");
	for (i = 0; i < n && e == IMS_OK; i++) {
		unsigned char ch = (unsigned char)d[i];

		if (ch == '%') {
			int hi = i + 2 < n ? hexval(d[i + 1]) : -1,
			    lo = hi >= 0 ? hexval(d[i + 2]) : -1;

			if (lo < 0)
				return ims_error_set(
				    err, IMS_ERR_USAGE,
				    "'%%' is not followed by two upper-case hex digits");
			ch = (unsigned char)(hi * 16 + lo);
			if (ch == 0)
				return ims_error_set(err, IMS_ERR_USAGE, "%%00 inside a part");
			e = ims_buf_putc(out, (char)ch);
			i += 2;
		} else if (ch < 0x80 && !plain(ch)) {
			return ims_error_set(err, IMS_ERR_USAGE, "byte 0x%02X must be escaped", ch);
		} else {
			e = ims_buf_putc(out, (char)ch);
		}
	}
	if (e != IMS_OK)
		return ims_error_nomem(err);
	if (delim != 0 && memchr(out->data + start, delim, out->len - start) != NULL)
		return ims_error_set(err, IMS_ERR_USAGE,
		                     "a part holds '%c', the hierarchy delimiter of this server",
		                     delim);
	/* Canonical: the component encodes back to exactly these bytes (a
	 * byte >= 0x80 escaped where it was valid UTF-8, or raw where it was
	 * not, is refused). */
	ims_buf_init(&again, 0);
	e = encode_component((const unsigned char *)out->data + start, out->len - start, &again);
	if (e == IMS_OK && (again.len != n || memcmp(again.data, d, n) != 0))
		e = ims_error_set(err, IMS_ERR_USAGE, "not a name imapsh makes (not canonical)");
	else if (e != IMS_OK)
		e = ims_error_nomem(err);
	ims_buf_release(&again);
	return e;
}

ims_err ims_folderpath_decode(const char *dir, size_t len, char delim, struct ims_buf *out,
                              struct ims_error *err)
{
	size_t start = out->len, i = 0;
	ims_err e = IMS_OK;

	if (len == 0 || len > IMS_FOLDERPATH_MAX)
		return ims_error_set(err, IMS_ERR_USAGE, "'%.*s' is not a folder's directory name",
		                     (int)(len > 64 ? 64 : len), dir);
	while (e == IMS_OK) {
		const char *dot = memchr(dir + i, '.', len - i);
		size_t j = dot != NULL ? (size_t)(dot - dir) : len;

		e = decode_component(dir + i, j - i, delim, out, err);
		if (e != IMS_OK || j == len)
			break;
		if (delim == 0) {
			e = ims_error_set(err, IMS_ERR_USAGE,
			                  "a folder with a hierarchy, but the server has none");
			break;
		}
		if (ims_buf_putc(out, delim) != IMS_OK)
			e = ims_error_nomem(err);
		i = j + 1;
	}
	if (e == IMS_OK && out->len == start)
		e = ims_error_set(err, IMS_ERR_USAGE, "an empty folder name");
	if (e != IMS_OK) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
	}
	return e;
}
