#include "imapsh/charset.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>

#include "imapsh/sanitize.h"
#include "imapsh/textutil.h"

/* Converters.  Only these names ever reach iconv_open(). */
enum cs_kind {
	K_ASCII,   /* us-ascii: 8-bit bytes are invalid */
	K_UTF8,    /* validated, copied */
	K_W1252,   /* windows-1252, undefined bytes -> C1 (never fails) */
	K_UTF16,   /* BOM, else big-endian */
	K_UTF16BE, /* BOM skipped if present */
	K_UTF16LE,
	K_JIS,   /* ISO-2022-JP family, own decoder */
	K_CP932, /* Shift_JIS labels */
	K_EUCJP, /* EUC-JP, then EUC-JP-MS */
	K_ICONV, /* glibc converter named in the table */
};

#define F_SB    1u /* single-byte, ASCII-compatible: accepts valid UTF-8 as a lie */
#define F_NOT7  2u /* ASCII bytes do not stand for themselves (UTF-7, ISO-2022-KR) */
#define F_WIDE  4u /* ASCII-incompatible (UTF-16) */
#define F_JAPAN 8u

struct cs_def {
	const char *label; /* lower case */
	const char *name;  /* canonical, lower case */
	enum cs_kind kind;
	const char *iconv; /* K_ICONV */
	unsigned flags;
};

#define SB(label, name, ic)                                                                        \
	{                                                                                          \
		label, name, K_ICONV, ic, F_SB                                                     \
	}

static const struct cs_def defs[] = {
    {"us-ascii", "us-ascii", K_ASCII, NULL, 0},
    {"ascii", "us-ascii", K_ASCII, NULL, 0},
    {"us", "us-ascii", K_ASCII, NULL, 0},
    {"ansi_x3.4-1968", "us-ascii", K_ASCII, NULL, 0},
    {"ansi_x3.4-1986", "us-ascii", K_ASCII, NULL, 0},
    {"iso646-us", "us-ascii", K_ASCII, NULL, 0},
    {"iso-ir-6", "us-ascii", K_ASCII, NULL, 0},
    {"csascii", "us-ascii", K_ASCII, NULL, 0},
    {"cp367", "us-ascii", K_ASCII, NULL, 0},
    {"ibm367", "us-ascii", K_ASCII, NULL, 0},
    {"utf-8", "utf-8", K_UTF8, NULL, 0},
    {"utf8", "utf-8", K_UTF8, NULL, 0},
    {"unicode-1-1-utf-8", "utf-8", K_UTF8, NULL, 0},
    {"x-unicode20utf8", "utf-8", K_UTF8, NULL, 0},
    {"csutf8", "utf-8", K_UTF8, NULL, 0},
    {"utf-7", "utf-7", K_ICONV, "UTF-7", F_NOT7},
    {"utf7", "utf-7", K_ICONV, "UTF-7", F_NOT7},
    {"unicode-1-1-utf-7", "utf-7", K_ICONV, "UTF-7", F_NOT7},
    {"csunicode11utf7", "utf-7", K_ICONV, "UTF-7", F_NOT7},
    {"x-unicode-2-0-utf-7", "utf-7", K_ICONV, "UTF-7", F_NOT7},
    {"utf-16", "utf-16", K_UTF16, NULL, F_WIDE},
    {"utf16", "utf-16", K_UTF16, NULL, F_WIDE},
    {"ucs-2", "utf-16", K_UTF16, NULL, F_WIDE},
    {"csunicode", "utf-16", K_UTF16, NULL, F_WIDE},
    {"utf-16be", "utf-16be", K_UTF16BE, NULL, F_WIDE},
    {"utf-16le", "utf-16le", K_UTF16LE, NULL, F_WIDE},
    {"unicodefffe", "utf-16be", K_UTF16BE, NULL, F_WIDE},
    {"iso-8859-1", "windows-1252", K_W1252, NULL, F_SB},
    {"iso8859-1", "windows-1252", K_W1252, NULL, F_SB},
    {"iso_8859-1", "windows-1252", K_W1252, NULL, F_SB},
    {"iso_8859-1:1987", "windows-1252", K_W1252, NULL, F_SB},
    {"iso-ir-100", "windows-1252", K_W1252, NULL, F_SB},
    {"latin1", "windows-1252", K_W1252, NULL, F_SB},
    {"l1", "windows-1252", K_W1252, NULL, F_SB},
    {"cp819", "windows-1252", K_W1252, NULL, F_SB},
    {"ibm819", "windows-1252", K_W1252, NULL, F_SB},
    {"csisolatin1", "windows-1252", K_W1252, NULL, F_SB},
    {"windows-1252", "windows-1252", K_W1252, NULL, F_SB},
    {"cp1252", "windows-1252", K_W1252, NULL, F_SB},
    {"x-cp1252", "windows-1252", K_W1252, NULL, F_SB},
    SB("iso-8859-2", "iso-8859-2", "ISO-8859-2"),
    SB("iso8859-2", "iso-8859-2", "ISO-8859-2"),
    SB("iso_8859-2", "iso-8859-2", "ISO-8859-2"),
    SB("latin2", "iso-8859-2", "ISO-8859-2"),
    SB("csisolatin2", "iso-8859-2", "ISO-8859-2"),
    SB("iso-8859-3", "iso-8859-3", "ISO-8859-3"),
    SB("iso_8859-3", "iso-8859-3", "ISO-8859-3"),
    SB("latin3", "iso-8859-3", "ISO-8859-3"),
    SB("iso-8859-4", "iso-8859-4", "ISO-8859-4"),
    SB("iso_8859-4", "iso-8859-4", "ISO-8859-4"),
    SB("latin4", "iso-8859-4", "ISO-8859-4"),
    SB("iso-8859-5", "iso-8859-5", "ISO-8859-5"),
    SB("iso_8859-5", "iso-8859-5", "ISO-8859-5"),
    SB("cyrillic", "iso-8859-5", "ISO-8859-5"),
    SB("iso-8859-6", "iso-8859-6", "ISO-8859-6"),
    SB("iso_8859-6", "iso-8859-6", "ISO-8859-6"),
    SB("arabic", "iso-8859-6", "ISO-8859-6"),
    SB("iso-8859-7", "iso-8859-7", "ISO-8859-7"),
    SB("iso_8859-7", "iso-8859-7", "ISO-8859-7"),
    SB("greek", "iso-8859-7", "ISO-8859-7"),
    SB("iso-8859-8", "iso-8859-8", "ISO-8859-8"),
    SB("iso_8859-8", "iso-8859-8", "ISO-8859-8"),
    SB("iso-8859-8-i", "iso-8859-8", "ISO-8859-8"),
    SB("hebrew", "iso-8859-8", "ISO-8859-8"),
    SB("iso-8859-9", "iso-8859-9", "ISO-8859-9"),
    SB("iso_8859-9", "iso-8859-9", "ISO-8859-9"),
    SB("latin5", "iso-8859-9", "ISO-8859-9"),
    SB("iso-8859-10", "iso-8859-10", "ISO-8859-10"),
    SB("latin6", "iso-8859-10", "ISO-8859-10"),
    SB("iso-8859-11", "windows-874", "WINDOWS-874"),
    SB("tis-620", "windows-874", "WINDOWS-874"),
    SB("windows-874", "windows-874", "WINDOWS-874"),
    SB("cp874", "windows-874", "WINDOWS-874"),
    SB("iso-8859-13", "iso-8859-13", "ISO-8859-13"),
    SB("latin7", "iso-8859-13", "ISO-8859-13"),
    SB("iso-8859-14", "iso-8859-14", "ISO-8859-14"),
    SB("latin8", "iso-8859-14", "ISO-8859-14"),
    SB("iso-8859-15", "iso-8859-15", "ISO-8859-15"),
    SB("iso8859-15", "iso-8859-15", "ISO-8859-15"),
    SB("iso_8859-15", "iso-8859-15", "ISO-8859-15"),
    SB("latin9", "iso-8859-15", "ISO-8859-15"),
    SB("latin-9", "iso-8859-15", "ISO-8859-15"),
    SB("iso-8859-16", "iso-8859-16", "ISO-8859-16"),
    SB("latin10", "iso-8859-16", "ISO-8859-16"),
    SB("windows-1250", "windows-1250", "CP1250"),
    SB("cp1250", "windows-1250", "CP1250"),
    SB("x-cp1250", "windows-1250", "CP1250"),
    SB("windows-1251", "windows-1251", "CP1251"),
    SB("cp1251", "windows-1251", "CP1251"),
    SB("x-cp1251", "windows-1251", "CP1251"),
    SB("windows-1253", "windows-1253", "CP1253"),
    SB("cp1253", "windows-1253", "CP1253"),
    SB("windows-1254", "windows-1254", "CP1254"),
    SB("cp1254", "windows-1254", "CP1254"),
    SB("windows-1255", "windows-1255", "CP1255"),
    SB("cp1255", "windows-1255", "CP1255"),
    SB("windows-1256", "windows-1256", "CP1256"),
    SB("cp1256", "windows-1256", "CP1256"),
    SB("windows-1257", "windows-1257", "CP1257"),
    SB("cp1257", "windows-1257", "CP1257"),
    SB("windows-1258", "windows-1258", "CP1258"),
    SB("cp1258", "windows-1258", "CP1258"),
    SB("koi8-r", "koi8-r", "KOI8-R"),
    SB("cskoi8r", "koi8-r", "KOI8-R"),
    SB("koi8-u", "koi8-u", "KOI8-U"),
    SB("ibm866", "ibm866", "CP866"),
    SB("cp866", "ibm866", "CP866"),
    SB("ibm437", "ibm437", "CP437"),
    SB("cp437", "ibm437", "CP437"),
    SB("ibm850", "ibm850", "CP850"),
    SB("cp850", "ibm850", "CP850"),
    SB("macintosh", "macintosh", "MACINTOSH"),
    SB("mac", "macintosh", "MACINTOSH"),
    SB("x-mac-roman", "macintosh", "MACINTOSH"),
    {"iso-2022-jp", "iso-2022-jp", K_JIS, NULL, F_JAPAN},
    {"csiso2022jp", "iso-2022-jp", K_JIS, NULL, F_JAPAN},
    {"iso-2022-jp-1", "iso-2022-jp", K_JIS, NULL, F_JAPAN},
    {"iso-2022-jp-2", "iso-2022-jp", K_JIS, NULL, F_JAPAN},
    {"csiso2022jp2", "iso-2022-jp", K_JIS, NULL, F_JAPAN},
    {"iso-2022-jp-3", "iso-2022-jp", K_JIS, NULL, F_JAPAN},
    {"iso-2022-jp-2004", "iso-2022-jp", K_JIS, NULL, F_JAPAN},
    {"cp50220", "iso-2022-jp", K_JIS, NULL, F_JAPAN},
    {"cp50221", "iso-2022-jp", K_JIS, NULL, F_JAPAN},
    {"cp50222", "iso-2022-jp", K_JIS, NULL, F_JAPAN},
    {"jis", "iso-2022-jp", K_JIS, NULL, F_JAPAN},
    {"shift_jis", "shift_jis", K_CP932, NULL, F_JAPAN},
    {"shift-jis", "shift_jis", K_CP932, NULL, F_JAPAN},
    {"sjis", "shift_jis", K_CP932, NULL, F_JAPAN},
    {"x-sjis", "shift_jis", K_CP932, NULL, F_JAPAN},
    {"ms_kanji", "shift_jis", K_CP932, NULL, F_JAPAN},
    {"csshiftjis", "shift_jis", K_CP932, NULL, F_JAPAN},
    {"cp932", "shift_jis", K_CP932, NULL, F_JAPAN},
    {"ms932", "shift_jis", K_CP932, NULL, F_JAPAN},
    {"windows-31j", "shift_jis", K_CP932, NULL, F_JAPAN},
    {"cswindows31j", "shift_jis", K_CP932, NULL, F_JAPAN},
    {"x-ms-cp932", "shift_jis", K_CP932, NULL, F_JAPAN},
    {"sjis-win", "shift_jis", K_CP932, NULL, F_JAPAN},
    {"sjis-open", "shift_jis", K_CP932, NULL, F_JAPAN},
    {"shift_jisx0213", "shift_jisx0213", K_ICONV, "SHIFT_JISX0213", F_JAPAN},
    {"shift_jis-2004", "shift_jisx0213", K_ICONV, "SHIFT_JISX0213", F_JAPAN},
    {"euc-jp", "euc-jp", K_EUCJP, NULL, F_JAPAN},
    {"eucjp", "euc-jp", K_EUCJP, NULL, F_JAPAN},
    {"x-euc-jp", "euc-jp", K_EUCJP, NULL, F_JAPAN},
    {"x-euc", "euc-jp", K_EUCJP, NULL, F_JAPAN},
    {"cseucpkdfmtjapanese", "euc-jp", K_EUCJP, NULL, F_JAPAN},
    {"euc-jp-ms", "euc-jp", K_EUCJP, NULL, F_JAPAN},
    {"eucjp-ms", "euc-jp", K_EUCJP, NULL, F_JAPAN},
    {"eucjp-win", "euc-jp", K_EUCJP, NULL, F_JAPAN},
    {"cp51932", "euc-jp", K_EUCJP, NULL, F_JAPAN},
    {"euc-jisx0213", "euc-jisx0213", K_ICONV, "EUC-JISX0213", F_JAPAN},
    {"euc-jis-2004", "euc-jisx0213", K_ICONV, "EUC-JISX0213", F_JAPAN},
    {"gb2312", "gb18030", K_ICONV, "GB18030", 0},
    {"csgb2312", "gb18030", K_ICONV, "GB18030", 0},
    {"gb_2312-80", "gb18030", K_ICONV, "GB18030", 0},
    {"iso-ir-58", "gb18030", K_ICONV, "GB18030", 0},
    {"chinese", "gb18030", K_ICONV, "GB18030", 0},
    {"euc-cn", "gb18030", K_ICONV, "GB18030", 0},
    {"x-euc-cn", "gb18030", K_ICONV, "GB18030", 0},
    {"gbk", "gb18030", K_ICONV, "GB18030", 0},
    {"x-gbk", "gb18030", K_ICONV, "GB18030", 0},
    {"cp936", "gb18030", K_ICONV, "GB18030", 0},
    {"ms936", "gb18030", K_ICONV, "GB18030", 0},
    {"windows-936", "gb18030", K_ICONV, "GB18030", 0},
    {"gb18030", "gb18030", K_ICONV, "GB18030", 0},
    {"big5", "big5", K_ICONV, "BIG5-HKSCS", 0},
    {"csbig5", "big5", K_ICONV, "BIG5-HKSCS", 0},
    {"cn-big5", "big5", K_ICONV, "BIG5-HKSCS", 0},
    {"x-x-big5", "big5", K_ICONV, "BIG5-HKSCS", 0},
    {"big5-hkscs", "big5", K_ICONV, "BIG5-HKSCS", 0},
    {"cp950", "big5", K_ICONV, "BIG5-HKSCS", 0},
    {"euc-kr", "euc-kr", K_ICONV, "CP949", 0},
    {"cseuckr", "euc-kr", K_ICONV, "CP949", 0},
    {"ks_c_5601-1987", "euc-kr", K_ICONV, "CP949", 0},
    {"ks_c_5601-1989", "euc-kr", K_ICONV, "CP949", 0},
    {"ksc_5601", "euc-kr", K_ICONV, "CP949", 0},
    {"ksc5601", "euc-kr", K_ICONV, "CP949", 0},
    {"csksc56011987", "euc-kr", K_ICONV, "CP949", 0},
    {"iso-ir-149", "euc-kr", K_ICONV, "CP949", 0},
    {"korean", "euc-kr", K_ICONV, "CP949", 0},
    {"cp949", "euc-kr", K_ICONV, "CP949", 0},
    {"windows-949", "euc-kr", K_ICONV, "CP949", 0},
    {"uhc", "euc-kr", K_ICONV, "CP949", 0},
    {"iso-2022-kr", "iso-2022-kr", K_ICONV, "ISO-2022-KR", F_NOT7},
    {"csiso2022kr", "iso-2022-kr", K_ICONV, "ISO-2022-KR", F_NOT7},
};

static const struct cs_def def_utf8 = {"utf-8", "utf-8", K_UTF8, NULL, 0};
static const struct cs_def def_w1252 = {"windows-1252", "windows-1252", K_W1252, NULL, F_SB};
static const struct cs_def def_jis = {"iso-2022-jp", "iso-2022-jp", K_JIS, NULL, F_JAPAN};
static const struct cs_def def_cp932 = {"shift_jis", "shift_jis", K_CP932, NULL, F_JAPAN};
static const struct cs_def def_eucjp = {"euc-jp", "euc-jp", K_EUCJP, NULL, F_JAPAN};

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Normalise a label into buf (lower case, no quotes or blanks around);
 * returns 0 when it does not fit or is empty. */
static int norm_label(const char *label, char *buf, size_t size)
{
	size_t b = 0, e, i, n = 0;

	if (label == NULL)
		return 0;
	e = strlen(label);
	while (b < e &&
	       (label[b] == ' ' || label[b] == '\t' || label[b] == '"' || label[b] == '\''))
		b++;
	while (e > b && (label[e - 1] == ' ' || label[e - 1] == '\t' || label[e - 1] == '"' ||
	                 label[e - 1] == '\''))
		e--;
	for (i = b; i < e; i++) {
		if (n + 1 >= size)
			return 0;
		buf[n++] = (char)lower((unsigned char)label[i]);
	}
	buf[n] = '\0';
	return n > 0;
}

static const struct cs_def *lookup(const char *label)
{
	char k[64];
	size_t i;

	if (!norm_label(label, k, sizeof(k)))
		return NULL;
	for (i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		if (strcmp(defs[i].label, k) == 0)
			return &defs[i];
	return NULL;
}

const char *ims_charset_canonical(const char *label)
{
	const struct cs_def *d = lookup(label);

	return d != NULL ? d->name : NULL;
}

void ims_charset_info_init(struct ims_charset_info *ci)
{
	ci->flags = 0;
	ci->used[0] = '\0';
	ci->declared[0] = '\0';
}

/* ---- UTF-8 output helpers ---- */

static const char REPL[] = "\xef\xbf\xbd";

/* Length of the maximal prefix of p[0..len) that could start a valid
 * UTF-8 character (at least 1), for one U+FFFD per bad subpart. */
static size_t bad_subpart(const unsigned char *p, size_t len)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 1;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	for (i = 1; i < n && i < len; i++) {
		if (p[i] < lo || p[i] > hi)
			return i;
		lo = 0x80;
		hi = 0xbf;
	}
	return i;
}

static ims_err repair(const unsigned char *s, size_t len, struct ims_buf *out, size_t *bad_r)
{
	size_t i = 0, run = 0, n;
	uint32_t cp;
	ims_err e;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		n = ims_utf8_decode(s + i, len - i, &cp);
		if (n != 0) {
			i += n;
			continue;
		}
		e = ims_buf_append(out, s + run, i - run);
		if (e == IMS_OK)
			e = ims_buf_append(out, REPL, 3);
		if (e != IMS_OK)
			return e;
		if (bad_r != NULL)
			(*bad_r)++;
		i += bad_subpart(s + i, len - i);
		run = i;
	}
	return ims_buf_append(out, s + run, len - run);
}

static ims_err buf_fail(struct ims_buf *out, size_t start, ims_err e, struct ims_error *err)
{
	ims_buf_truncate(out, start);
	return ims_error_set(err, e, "charset: %s",
	                     e == IMS_ERR_NOMEM ? "out of memory" : "text too long");
}

ims_err ims_utf8_repair(const void *p, size_t len, struct ims_buf *out, size_t *bad_r,
                        struct ims_error *err)
{
	size_t start = out->len;
	ims_err e;

	if (bad_r != NULL)
		*bad_r = 0;
	e = repair(p, len, out, bad_r);
	if (e != IMS_OK)
		return buf_fail(out, start, e, err);
	return IMS_OK;
}

/* ---- converters ----
 *
 * Each appends to out and returns IMS_OK, IMS_ERR_USAGE (invalid input;
 * strict mode only), or a buffer error.  In lossy mode every invalid
 * sequence becomes U+FFFD and *bad counts them. */

struct conv {
	int lossy;
	int truncated; /* an incomplete character at the end is dropped */
	size_t bad;
	iconv_t cd[8]; /* opened lazily, indexed by enum ic_slot */
	const char *cd_name[8];
};

enum ic_slot { IC_EUCJP, IC_EUCJPMS, IC_CP932, IC_GB, IC_KR, IC_X0213, IC_GREEK, IC_OTHER };

static void conv_init(struct conv *c, int lossy, int truncated)
{
	size_t i;

	c->lossy = lossy;
	c->truncated = truncated;
	c->bad = 0;
	for (i = 0; i < 8; i++) {
		c->cd[i] = (iconv_t)-1;
		c->cd_name[i] = NULL;
	}
}

static void conv_release(struct conv *c)
{
	size_t i;

	for (i = 0; i < 8; i++) {
		if (c->cd[i] != (iconv_t)-1)
			iconv_close(c->cd[i]);
		c->cd[i] = (iconv_t)-1;
	}
}

static ims_err bad_seq(struct conv *c, struct ims_buf *out)
{
	if (!c->lossy)
		return IMS_ERR_USAGE;
	c->bad++;
	return ims_buf_append(out, REPL, 3);
}

/* Run iconv slot over in[0..len). */
static ims_err run_iconv(struct conv *c, enum ic_slot slot, const char *name,
                         const unsigned char *in, size_t len, int at_end, struct ims_buf *out)
{
	char obuf[4096];
	char *ip = (char *)in, *op;
	size_t il = len, ol, r;
	ims_err e;

	if (c->cd[slot] == (iconv_t)-1 || c->cd_name[slot] != name) {
		if (c->cd[slot] != (iconv_t)-1)
			iconv_close(c->cd[slot]);
		c->cd[slot] = iconv_open("UTF-8", name);
		c->cd_name[slot] = name;
		if (c->cd[slot] == (iconv_t)-1)
			return IMS_ERR_USAGE; /* not in this libc: treated as invalid */
	} else {
		iconv(c->cd[slot], NULL, NULL, NULL, NULL);
	}
	while (il > 0) {
		op = obuf;
		ol = sizeof(obuf);
		r = iconv(c->cd[slot], &ip, &il, &op, &ol);
		e = ims_buf_append(out, obuf, (size_t)(op - obuf));
		if (e != IMS_OK)
			return e;
		if (r != (size_t)-1)
			break;
		if (errno == E2BIG)
			continue;
		if (errno == EINVAL) {
			/* incomplete at the end */
			if (c->truncated && at_end)
				break;
			e = bad_seq(c, out);
			if (e != IMS_OK)
				return e;
			break;
		}
		/* EILSEQ (or anything else): skip one byte */
		e = bad_seq(c, out);
		if (e != IMS_OK)
			return e;
		ip++;
		il--;
	}
	/* flush a shift state (UTF-7, ISO-2022-KR) */
	op = obuf;
	ol = sizeof(obuf);
	iconv(c->cd[slot], NULL, NULL, &op, &ol);
	return ims_buf_append(out, obuf, (size_t)(op - obuf));
}

static ims_err conv_ascii(struct conv *c, const unsigned char *in, size_t len, struct ims_buf *out)
{
	size_t i, run = 0;
	ims_err e;

	for (i = 0; i < len; i++) {
		if (in[i] < 0x80)
			continue;
		if (!c->lossy)
			return IMS_ERR_USAGE;
		e = ims_buf_append(out, in + run, i - run);
		if (e == IMS_OK)
			e = bad_seq(c, out);
		if (e != IMS_OK)
			return e;
		run = i + 1;
	}
	return ims_buf_append(out, in + run, len - run);
}

static ims_err conv_utf8(struct conv *c, const unsigned char *in, size_t len, struct ims_buf *out)
{
	size_t n = len;

	if (c->truncated) {
		/* drop an incomplete character at the very end */
		size_t k = len, back = 0;

		while (k > 0 && back < 3 && (in[k - 1] & 0xc0) == 0x80) {
			k--;
			back++;
		}
		if (k > 0 && in[k - 1] >= 0xc2 && in[k - 1] <= 0xf4) {
			size_t need = in[k - 1] >= 0xf0 ? 4 : in[k - 1] >= 0xe0 ? 3 : 2;

			if (len - (k - 1) < need &&
			    bad_subpart(in + k - 1, len - (k - 1)) == len - (k - 1))
				n = k - 1;
		}
	}
	if (ims_utf8_valid(in, n))
		return ims_buf_append(out, in, n);
	if (!c->lossy)
		return IMS_ERR_USAGE;
	return repair(in, n, out, &c->bad);
}

static const uint16_t w1252[32] = {
    0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008d, 0x017d, 0x008f, 0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
};

static ims_err conv_w1252(const unsigned char *in, size_t len, struct ims_buf *out)
{
	size_t i, run = 0;
	uint32_t cp;
	ims_err e;

	for (i = 0; i < len; i++) {
		if (in[i] < 0x80)
			continue;
		e = ims_buf_append(out, in + run, i - run);
		if (e != IMS_OK)
			return e;
		cp = in[i] < 0xa0 ? w1252[in[i] - 0x80] : in[i];
		e = ims_buf_put_utf8(out, cp);
		if (e != IMS_OK)
			return e;
		run = i + 1;
	}
	return ims_buf_append(out, in + run, len - run);
}

static ims_err conv_utf16(struct conv *c, enum cs_kind kind, const unsigned char *in, size_t len,
                          struct ims_buf *out)
{
	const char *name = kind == K_UTF16LE ? "UTF-16LE" : "UTF-16BE";

	if (len >= 2 && in[0] == 0xfe && in[1] == 0xff && kind != K_UTF16LE) {
		in += 2;
		len -= 2;
		name = "UTF-16BE";
	} else if (len >= 2 && in[0] == 0xff && in[1] == 0xfe && kind != K_UTF16BE) {
		in += 2;
		len -= 2;
		name = "UTF-16LE";
	}
	return run_iconv(c, IC_OTHER, name, in, len, 1, out);
}

static ims_err conv_eucjp(struct conv *c, const unsigned char *in, size_t len, struct ims_buf *out)
{
	size_t start = out->len;
	int lossy = c->lossy;
	ims_err e;

	if (lossy) {
		/* lossy: the wider table, so that fewer bytes are lost */
		return run_iconv(c, IC_EUCJPMS, "EUC-JP-MS", in, len, 1, out);
	}
	e = run_iconv(c, IC_EUCJP, "EUC-JP", in, len, 1, out);
	if (e != IMS_ERR_USAGE)
		return e;
	ims_buf_truncate(out, start);
	return run_iconv(c, IC_EUCJPMS, "EUC-JP-MS", in, len, 1, out);
}

/* ---- ISO-2022-JP family ---- */

enum jis_set {
	J_ASCII,
	J_ROMAN, /* JIS X 0201 Roman: 0x5c = YEN, 0x7e = OVERLINE */
	J_KANA,  /* JIS X 0201 katakana */
	J_X0208, /* also 0208-1978 */
	J_X0212,
	J_GB2312,
	J_KSC,
	J_X0213_1,
	J_X0213_2,
};

/* Routes: where pending bytes go. */
enum jis_route { R_NONE, R_EUCJP, R_CP932, R_GB, R_KR, R_X0213, R_LATIN1, R_GREEK };

struct jis {
	struct conv *c;
	struct ims_buf *out;
	enum jis_route route;
	size_t unit; /* bytes per character in pend */
	unsigned char pend[512];
	size_t npend;
};

/* Convert the pending units; in lossy mode a bad unit (a whole 1-, 2- or
 * 3-byte character) becomes one U+FFFD, so that the output stays within
 * 3 bytes per input byte. */
static ims_err jis_run(struct jis *j, enum ic_slot slot, const char *name, size_t n)
{
	struct conv *c = j->c;
	size_t start = j->out->len, k;
	int lossy = c->lossy;
	ims_err e;

	c->lossy = 0;
	e = run_iconv(c, slot, name, j->pend, n, 1, j->out);
	if (e == IMS_ERR_USAGE && lossy) {
		ims_buf_truncate(j->out, start);
		e = IMS_OK;
		for (k = 0; k + j->unit <= n && e == IMS_OK; k += j->unit) {
			size_t before = j->out->len;

			e = run_iconv(c, slot, name, j->pend + k, j->unit, 1, j->out);
			if (e == IMS_ERR_USAGE) {
				ims_buf_truncate(j->out, before);
				c->bad++;
				e = ims_buf_append(j->out, REPL, 3);
			}
		}
	}
	c->lossy = lossy;
	return e;
}

static ims_err jis_flush(struct jis *j)
{
	ims_err e = IMS_OK;
	size_t n = j->npend;

	j->npend = 0;
	if (n == 0)
		return IMS_OK;
	switch (j->route) {
	case R_EUCJP: e = jis_run(j, IC_EUCJP, "EUC-JP", n); break;
	case R_CP932: e = jis_run(j, IC_CP932, "CP932", n); break;
	case R_GB: e = jis_run(j, IC_GB, "GB18030", n); break;
	case R_KR: e = jis_run(j, IC_KR, "CP949", n); break;
	case R_X0213: e = jis_run(j, IC_X0213, "EUC-JISX0213", n); break;
	case R_GREEK: e = jis_run(j, IC_GREEK, "ISO-8859-7", n); break;
	case R_LATIN1: {
		size_t i;

		for (i = 0; i < n && e == IMS_OK; i++)
			e = ims_buf_put_utf8(j->out, j->pend[i]);
		break;
	}
	case R_NONE: break;
	}
	return e;
}

static ims_err jis_put(struct jis *j, enum jis_route r, const unsigned char *b, size_t n)
{
	ims_err e;

	if ((r != j->route || n != j->unit || j->npend + n > sizeof(j->pend)) && j->npend > 0) {
		e = jis_flush(j);
		if (e != IMS_OK)
			return e;
	}
	j->route = r;
	j->unit = n;
	memcpy(j->pend + j->npend, b, n);
	j->npend += n;
	return IMS_OK;
}

static ims_err jis_direct(struct jis *j, const void *p, size_t n)
{
	ims_err e = jis_flush(j);

	if (e != IMS_OK)
		return e;
	return ims_buf_append(j->out, p, n);
}

static ims_err jis_bad(struct jis *j)
{
	ims_err e = jis_flush(j);

	if (e != IMS_OK)
		return e;
	return bad_seq(j->c, j->out);
}

/* Recognise a designation at p (p[0] == ESC); returns its length and sets
 * *set_r, or 0.  ESC . A / ESC . F set *g2_r instead (1 Latin-1, 2 Greek);
 * ESC N is a single shift (*ss2_r). ESC & @ (announcer) is skipped. */
static size_t jis_escape(const unsigned char *p, size_t len, enum jis_set *set_r, int *g2_r,
                         int *ss2_r)
{
	if (len < 2)
		return 0;
	*g2_r = 0;
	*ss2_r = 0;
	if (p[1] == '(' && len >= 3) {
		switch (p[2]) {
		case 'B': *set_r = J_ASCII; return 3;
		case 'J': *set_r = J_ROMAN; return 3;
		case 'H': *set_r = J_ROMAN; return 3; /* old, seen in the wild */
		case 'I': *set_r = J_KANA; return 3;
		}
		return 0;
	}
	if (p[1] == '$' && len >= 3) {
		switch (p[2]) {
		case '@':
		case 'B': *set_r = J_X0208; return 3;
		case 'A': *set_r = J_GB2312; return 3;
		case '(':
			if (len < 4)
				return 0;
			switch (p[3]) {
			case '@':
			case 'B': *set_r = J_X0208; return 4;
			case 'D': *set_r = J_X0212; return 4;
			case 'C': *set_r = J_KSC; return 4;
			case 'O':
			case 'Q': *set_r = J_X0213_1; return 4;
			case 'P': *set_r = J_X0213_2; return 4;
			}
			return 0;
		}
		return 0;
	}
	if (p[1] == '.' && len >= 3) {
		if (p[2] == 'A') {
			*g2_r = 1;
			return 3;
		}
		if (p[2] == 'F') {
			*g2_r = 2;
			return 3;
		}
		return 0;
	}
	if (p[1] == 'N') {
		*ss2_r = 1;
		return 2;
	}
	if (p[1] == '&' && len >= 3 && p[2] == '@') {
		*g2_r = -1; /* announcer: nothing to do */
		return 3;
	}
	return 0;
}

/* 1 if p[0..len) holds an ISO-2022-JP designation of a double-byte or
 * katakana set (what makes 7-bit text Japanese). */
static int has_jis_escape(const unsigned char *p, size_t len)
{
	size_t i;
	enum jis_set s;
	int g2, ss2;

	for (i = 0; i + 2 < len; i++) {
		if (p[i] != 0x1b)
			continue;
		if (jis_escape(p + i, len - i, &s, &g2, &ss2) != 0 && g2 == 0 && !ss2 &&
		    s != J_ASCII && s != J_ROMAN)
			return 1;
	}
	return 0;
}

static ims_err jis_double(struct jis *j, enum jis_set set, unsigned char b1, unsigned char b2)
{
	unsigned char t[3];

	switch (set) {
	case J_X0208:
		if (b1 == 0x2d || (b1 >= 0x79 && b1 <= 0x7c)) {
			/* NEC row 13, NEC-selected IBM rows 89..92: CP932 */
			t[0] = (unsigned char)(((b1 + 1) >> 1) + (b1 <= 0x5e ? 0x70 : 0xb0));
			t[1] = (unsigned char)(b2 + ((b1 & 1) ? (b2 >= 0x60 ? 0x20 : 0x1f) : 0x7e));
			return jis_put(j, R_CP932, t, 2);
		}
		t[0] = b1 | 0x80;
		t[1] = b2 | 0x80;
		return jis_put(j, R_EUCJP, t, 2);
	case J_X0212:
		t[0] = 0x8f;
		t[1] = b1 | 0x80;
		t[2] = b2 | 0x80;
		return jis_put(j, R_EUCJP, t, 3);
	case J_GB2312:
		t[0] = b1 | 0x80;
		t[1] = b2 | 0x80;
		return jis_put(j, R_GB, t, 2);
	case J_KSC:
		t[0] = b1 | 0x80;
		t[1] = b2 | 0x80;
		return jis_put(j, R_KR, t, 2);
	case J_X0213_1:
		t[0] = b1 | 0x80;
		t[1] = b2 | 0x80;
		return jis_put(j, R_X0213, t, 2);
	case J_X0213_2:
		t[0] = 0x8f;
		t[1] = b1 | 0x80;
		t[2] = b2 | 0x80;
		return jis_put(j, R_X0213, t, 3);
	default: return jis_bad(j);
	}
}

static ims_err conv_jis(struct conv *c, const unsigned char *in, size_t len, struct ims_buf *out)
{
	struct jis j;
	enum jis_set set = J_ASCII, saved = J_ASCII, ns;
	int g2 = 0, ng2, ss2, so = 0;
	size_t i = 0, n;
	unsigned char b, t;
	ims_err e = IMS_OK;

	j.c = c;
	j.out = out;
	j.route = R_NONE;
	j.unit = 1;
	j.npend = 0;
	while (i < len && e == IMS_OK) {
		b = in[i];
		if (b == 0x1b) {
			n = jis_escape(in + i, len - i, &ns, &ng2, &ss2);
			if (n == 0) {
				/* not ours: the ESC stands for itself */
				e = jis_direct(&j, in + i, 1);
				i++;
				continue;
			}
			i += n;
			if (ss2) {
				if (i >= len || in[i] < 0x20 || in[i] > 0x7f || g2 <= 0) {
					e = jis_bad(&j);
					continue;
				}
				t = in[i] | 0x80;
				e = jis_put(&j, g2 == 2 ? R_GREEK : R_LATIN1, &t, 1);
				i++;
			} else if (ng2 > 0) {
				g2 = ng2;
			} else if (ng2 == 0) {
				set = ns;
				so = 0;
			}
			continue;
		}
		if (b == '\n' || b == '\r') {
			/* a line never continues a shift state (RFC 1468) */
			set = J_ASCII;
			so = 0;
			e = jis_direct(&j, in + i, 1);
			i++;
			continue;
		}
		if (b == 0x0e) { /* SO: katakana (CP50222) */
			if (!so)
				saved = set;
			so = 1;
			set = J_KANA;
			i++;
			continue;
		}
		if (b == 0x0f) { /* SI */
			if (so)
				set = saved;
			so = 0;
			i++;
			continue;
		}
		if (b >= 0x80) {
			e = jis_bad(&j);
			i++;
			continue;
		}
		if (b < 0x21 || b == 0x7f) {
			/* controls and space pass in any set */
			e = jis_direct(&j, in + i, 1);
			i++;
			continue;
		}
		switch (set) {
		case J_ASCII:
			e = jis_direct(&j, in + i, 1);
			i++;
			break;
		case J_ROMAN:
			if (b == 0x5c)
				e = jis_direct(&j, "\xc2\xa5", 2);
			else if (b == 0x7e)
				e = jis_direct(&j, "\xe2\x80\xbe", 3);
			else
				e = jis_direct(&j, in + i, 1);
			i++;
			break;
		case J_KANA:
			if (b > 0x5f) {
				e = jis_bad(&j);
			} else {
				t = b + 0x80;
				e = jis_put(&j, R_CP932, &t, 1);
			}
			i++;
			break;
		default:
			if (i + 1 >= len || in[i + 1] < 0x21 || in[i + 1] > 0x7e) {
				if (i + 1 >= len && c->truncated) {
					i++;
					break;
				}
				e = jis_bad(&j);
				i++;
				break;
			}
			e = jis_double(&j, set, b, in[i + 1]);
			i += 2;
			break;
		}
	}
	if (e == IMS_OK)
		e = jis_flush(&j);
	return e;
}

/* ---- dispatch ---- */

static ims_err run_kind(struct conv *c, const struct cs_def *d, const unsigned char *in, size_t len,
                        struct ims_buf *out)
{
	switch (d->kind) {
	case K_ASCII: return conv_ascii(c, in, len, out);
	case K_UTF8: return conv_utf8(c, in, len, out);
	case K_W1252: return conv_w1252(in, len, out);
	case K_UTF16:
	case K_UTF16BE:
	case K_UTF16LE: return conv_utf16(c, d->kind, in, len, out);
	case K_JIS: return conv_jis(c, in, len, out);
	case K_CP932: return run_iconv(c, IC_CP932, "CP932", in, len, 1, out);
	case K_EUCJP: return conv_eucjp(c, in, len, out);
	case K_ICONV: return run_iconv(c, IC_OTHER, d->iconv, in, len, 1, out);
	}
	return IMS_ERR_USAGE;
}

/* Decode with d into out; on IMS_ERR_USAGE out is back at its start. */
static ims_err try_kind(const struct cs_def *d, const unsigned char *in, size_t len, int lossy,
                        int truncated, struct ims_buf *out, size_t *bad_r)
{
	struct conv c;
	size_t start = out->len;
	ims_err e;

	conv_init(&c, lossy, truncated);
	e = run_kind(&c, d, in, len, out);
	conv_release(&c);
	if (e != IMS_OK)
		ims_buf_truncate(out, start);
	if (bad_r != NULL)
		*bad_r = c.bad;
	return e;
}

/* How a UTF-8 text decoded from Japanese bytes looks: good counts kanji,
 * kana and full-width forms; bad counts what EUC-JP bytes read as
 * Shift_JIS give (U+FF64 and U+FF65 for every kana lead byte 0xa4/0xa5),
 * private use, C1 and U+FFFD; other half-width katakana are neutral
 * (mobile mail is full of them). */
struct jscore {
	size_t good, bad, total;
};

static void jp_score(const unsigned char *s, size_t len, struct jscore *js)
{
	size_t i = 0, n;
	uint32_t cp;

	js->good = js->bad = js->total = 0;
	while (i < len) {
		n = ims_utf8_decode(s + i, len - i, &cp);
		if (n == 0) {
			i++;
			js->bad++;
			js->total++;
			continue;
		}
		i += n;
		if (cp < 0x80)
			continue;
		js->total++;
		if ((cp >= 0x3000 && cp <= 0x30ff) || (cp >= 0x4e00 && cp <= 0x9fff) ||
		    (cp >= 0xff01 && cp <= 0xff5e))
			js->good++;
		else if (cp == 0xff64 || cp == 0xff65 || (cp >= 0xe000 && cp <= 0xf8ff) ||
		         (cp >= 0x80 && cp <= 0x9f) || cp == 0xfffd)
			js->bad++;
	}
}

/* Shift_JIS output that looks like EUC-JP bytes misread. */
static int garbled_sjis(const struct jscore *js)
{
	return js->bad > 0 && js->bad * 6 >= js->total;
}

/* Decoded text that reads as Japanese. */
static int plausible(const struct jscore *js)
{
	return js->good > 0 && js->bad * 8 <= js->good;
}

static int has_8bit(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] >= 0x80)
			return 1;
	return 0;
}

static size_t count_8bit(const unsigned char *p, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += p[i] >= 0x80;
	return n;
}

/* 1 if the text has a half-width voiced sound mark (U+FF9E, U+FF9F) right
 * after a katakana that takes it: a sign of real half-width katakana. */
static int voiced_kana(const unsigned char *s, size_t len)
{
	uint32_t cp, prev = 0;
	size_t i = 0, n;

	while (i < len) {
		n = ims_utf8_decode(s + i, len - i, &cp);
		if (n == 0) {
			i++;
			prev = 0;
			continue;
		}
		i += n;
		if (cp == 0xff9e && (prev == 0xff73 || (prev >= 0xff76 && prev <= 0xff84) ||
		                     (prev >= 0xff8a && prev <= 0xff8e)))
			return 1;
		if (cp == 0xff9f && prev >= 0xff8a && prev <= 0xff8e)
			return 1;
		prev = cp;
	}
	return 0;
}

/* out->data + off, also for a buffer that never held anything. */
static const unsigned char *at(const struct ims_buf *b, size_t off)
{
	return b->data != NULL ? (const unsigned char *)b->data + off : (const unsigned char *)"";
}

/* Move out[from..len) to out[to..) and cut. */
static void keep_tail(struct ims_buf *out, size_t to, size_t from)
{
	size_t n = out->len - from;

	if (n != 0)
		memmove(out->data + to, out->data + from, n);
	ims_buf_truncate(out, to + n);
}

/* Decode as CP932; when that fails or reads as garbled EUC-JP, and
 * EUC-JP decodes plausibly, use EUC-JP.  *used_r gets the def used; on
 * IMS_ERR_USAGE neither decoded (out unchanged). */
static ims_err sjis_or_euc(const unsigned char *in, size_t len, int truncated, int declared,
                           struct ims_buf *out, const struct cs_def **used_r)
{
	struct jscore js, je;
	size_t start = out->len, mid;
	ims_err es, ee;

	es = try_kind(&def_cp932, in, len, 0, truncated, out, NULL);
	if (es != IMS_OK && es != IMS_ERR_USAGE)
		return es;
	mid = out->len;
	if (es == IMS_OK) {
		const unsigned char *u = at(out, start);

		jp_score(u, mid - start, &js);
		/* Undeclared bytes that read as half-width katakana only,
		 * without one voiced mark in its place, are likelier EUC-JP
		 * kanji ("山本" is BB B3 CB DC: "ｻｳﾋﾜ" in Shift_JIS). */
		if (!garbled_sjis(&js) &&
		    (declared || js.good != 0 || js.total == 0 || voiced_kana(u, mid - start))) {
			*used_r = &def_cp932;
			return IMS_OK;
		}
	}
	ee = try_kind(&def_eucjp, in, len, 0, truncated, out, NULL);
	if (ee != IMS_OK && ee != IMS_ERR_USAGE) {
		ims_buf_truncate(out, start);
		return ee;
	}
	if (ee == IMS_OK) {
		jp_score(at(out, mid), out->len - mid, &je);
		if (es != IMS_OK || plausible(&je)) {
			keep_tail(out, start, mid);
			*used_r = &def_eucjp;
			return IMS_OK;
		}
		ims_buf_truncate(out, mid);
	}
	if (es == IMS_OK) {
		*used_r = &def_cp932;
		return IMS_OK;
	}
	return IMS_ERR_USAGE;
}

/* The Japanese guess: ISO-2022-JP when it has designations, else
 * Shift_JIS or EUC-JP.  Returns the def used, or NULL (out unchanged). */
static const struct cs_def *guess_japanese(const unsigned char *in, size_t len, int truncated,
                                           struct ims_buf *out, ims_err *e_r)
{
	const struct cs_def *used = NULL;
	ims_err e;

	*e_r = IMS_OK;
	if (has_jis_escape(in, len)) {
		e = try_kind(&def_jis, in, len, 0, truncated, out, NULL);
		if (e == IMS_OK)
			return &def_jis;
		if (e != IMS_ERR_USAGE) {
			*e_r = e;
			return NULL;
		}
	}
	e = sjis_or_euc(in, len, truncated, 0, out, &used);
	if (e == IMS_OK)
		return used;
	if (e != IMS_ERR_USAGE)
		*e_r = e;
	return NULL;
}

static void set_name(char *dst, const char *src)
{
	size_t n = strlen(src);

	if (n >= IMS_CHARSET_NAME_MAX)
		n = IMS_CHARSET_NAME_MAX - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int multibyte_utf8(const unsigned char *p, size_t len)
{
	return has_8bit(p, len) && ims_utf8_valid(p, len);
}

/* 7-bit text in a charset that may be read as ASCII: as it is, unless
 * ISO-2022-JP escapes say otherwise. */
static ims_err decode_7bit(const struct cs_def *d, const unsigned char *in, size_t len,
                           int truncated, struct ims_buf *out, struct ims_charset_info *ci)
{
	size_t bad = 0;
	ims_err e;

	if (d != NULL && d->kind == K_JIS) {
		set_name(ci->used, d->name);
		e = try_kind(d, in, len, 0, truncated, out, NULL);
		if (e != IMS_ERR_USAGE)
			return e;
		e = try_kind(d, in, len, 1, truncated, out, &bad);
		if (e == IMS_OK && bad != 0)
			ci->flags |= IMS_CHARSET_LOSSY;
		return e;
	}
	if (has_jis_escape(in, len) && (d == NULL || d->kind == K_ASCII || d->kind == K_UTF8)) {
		e = try_kind(&def_jis, in, len, 0, truncated, out, NULL);
		if (e == IMS_OK) {
			set_name(ci->used, def_jis.name);
			ci->flags |= IMS_CHARSET_FALLBACK;
			return IMS_OK;
		}
		if (e != IMS_ERR_USAGE)
			return e;
	}
	set_name(ci->used, d != NULL ? d->name : "us-ascii");
	return ims_buf_append(out, in, len);
}

/* Steps 1 and 2 of decode(): the declared charset strictly (with the
 * known lies), then with a few U+FFFD.  1 with *e_r when decided, 0 to
 * try the others (out as it was at start). */
static int decode_declared(const struct cs_def *d, const unsigned char *in, size_t len,
                           int truncated, size_t start, struct ims_buf *out,
                           struct ims_charset_info *ci, ims_err *e_r)
{
	const struct cs_def *g;
	size_t bad = 0;
	ims_err e;

	if ((d->flags & F_SB) && multibyte_utf8(in, len)) {
		set_name(ci->used, def_utf8.name);
		ci->flags |= IMS_CHARSET_FALLBACK;
		*e_r = ims_buf_append(out, in, len);
		return 1;
	}
	if (d->kind == K_CP932) {
		e = sjis_or_euc(in, len, truncated, 1, out, &g);
		if (e == IMS_OK) {
			set_name(ci->used, g->name);
			if (g != &def_cp932)
				ci->flags |= IMS_CHARSET_FALLBACK;
		}
	} else {
		e = try_kind(d, in, len, 0, truncated, out, NULL);
		if (e == IMS_OK)
			set_name(ci->used, d->name);
	}
	if (e != IMS_ERR_USAGE) {
		*e_r = e;
		return 1;
	}
	/* not for Japanese: there a wrong guess of the other encoding is
	 * likelier */
	if (d->flags & F_JAPAN)
		return 0;
	e = try_kind(d, in, len, 1, truncated, out, &bad);
	if (e != IMS_OK) {
		*e_r = e;
		return 1;
	}
	if (bad * 32 <= count_8bit(in, len)) {
		set_name(ci->used, d->name);
		if (bad != 0)
			ci->flags |= IMS_CHARSET_LOSSY;
		*e_r = IMS_OK;
		return 1;
	}
	ims_buf_truncate(out, start);
	return 0;
}

static ims_err decode(const char *charset, const unsigned char *in, size_t len, unsigned flags,
                      struct ims_buf *out, struct ims_charset_info *ci)
{
	const struct cs_def *d = lookup(charset), *g;
	int truncated = (flags & IMS_CHARSET_TRUNCATED) != 0;
	int declared = charset != NULL && norm_label(charset, ci->declared, sizeof(ci->declared));
	size_t start = out->len, bad = 0;
	ims_err e;

	if (!declared)
		ci->declared[0] = '\0';
	if (declared && d == NULL)
		ci->flags |= IMS_CHARSET_UNKNOWN;
	if (flags & IMS_CHARSET_STRICT) {
		if (d == NULL)
			return IMS_ERR_USAGE;
		set_name(ci->used, d->name);
		return try_kind(d, in, len, 0, truncated, out, NULL);
	}
	if (!has_8bit(in, len) && (d == NULL || !(d->flags & (F_NOT7 | F_WIDE))))
		return decode_7bit(d, in, len, truncated, out, ci);

	/* 1, 2. the declared charset */
	if (d != NULL && d->kind != K_ASCII &&
	    decode_declared(d, in, len, truncated, start, out, ci, &e))
		return e;

	/* 3. UTF-8 */
	if (d == NULL || d->kind != K_UTF8) {
		e = try_kind(&def_utf8, in, len, 0, truncated, out, NULL);
		if (e == IMS_OK) {
			set_name(ci->used, def_utf8.name);
			if (declared || d != NULL)
				ci->flags |= IMS_CHARSET_FALLBACK;
			return IMS_OK;
		}
		if (e != IMS_ERR_USAGE)
			return e;
	}

	/* 4. Japanese */
	g = guess_japanese(in, len, truncated, out, &e);
	if (e != IMS_OK)
		return e;
	if (g != NULL) {
		set_name(ci->used, g->name);
		if (d != g && !(d != NULL && strcmp(d->name, g->name) == 0))
			ci->flags |= IMS_CHARSET_FALLBACK;
		return IMS_OK;
	}

	/* 5. lossy */
	if (d != NULL && d->kind != K_ASCII) {
		e = try_kind(d, in, len, 1, truncated, out, &bad);
		if (e != IMS_OK)
			return e;
		set_name(ci->used, d->name);
		if (bad)
			ci->flags |= IMS_CHARSET_LOSSY;
		return IMS_OK;
	}
	set_name(ci->used, def_w1252.name);
	ci->flags |= IMS_CHARSET_FALLBACK;
	return conv_w1252(in, len, out);
}

ims_err ims_charset_decode(const char *charset, const void *in, size_t len, unsigned flags,
                           struct ims_buf *out, struct ims_charset_info *info_r,
                           struct ims_error *err)
{
	struct ims_charset_info tmp;
	struct ims_charset_info *ci = info_r != NULL ? info_r : &tmp;
	size_t start = out->len;
	ims_err e;

	ims_charset_info_init(ci);
	e = decode(charset, in, len, flags, out, ci);
	if (e == IMS_ERR_USAGE) {
		ims_buf_truncate(out, start);
		if (ci->flags & IMS_CHARSET_UNKNOWN)
			return ims_error_set(err, e, "charset: unknown charset \"%s\"",
			                     ci->declared);
		return ims_error_set(err, e, "charset: bytes are not valid %s", ci->used);
	}
	if (e != IMS_OK)
		return buf_fail(out, start, e, err);
	/* belt and braces: whatever a converter did, the result is UTF-8 */
	if (out->len > start && !ims_utf8_valid(out->data + start, out->len - start)) {
		struct ims_buf fix;
		size_t bad = 0;

		ims_buf_init(&fix, 0);
		e = repair((const unsigned char *)out->data + start, out->len - start, &fix, &bad);
		ims_buf_truncate(out, start);
		if (e == IMS_OK)
			e = ims_buf_append(out, fix.data, fix.len);
		ims_buf_release(&fix);
		if (e != IMS_OK)
			return buf_fail(out, start, e, err);
		ci->flags |= IMS_CHARSET_LOSSY;
	}
	return IMS_OK;
}
