/* HTML -> readable text, for mail that has no text/plain. */
#include "imapsh/mime.h"

#include <stdint.h>
#include <string.h>

#include "imapsh/charset.h"
#include "mime_int.h"
#include "imapsh/textutil.h"

struct ent {
	const char *name;
	uint32_t cp;
};

/* Sorted by name (strcmp order) for bsearch. */
static const struct ent entities[] = {
    {"AElig", 0xc6},    {"Aacute", 0xc1},   {"Acirc", 0xc2},    {"Agrave", 0xc0},
    {"Aring", 0xc5},    {"Atilde", 0xc3},   {"Auml", 0xc4},     {"Ccedil", 0xc7},
    {"Dagger", 0x2021}, {"ETH", 0xd0},      {"Eacute", 0xc9},   {"Ecirc", 0xca},
    {"Egrave", 0xc8},   {"Euml", 0xcb},     {"Iacute", 0xcd},   {"Icirc", 0xce},
    {"Igrave", 0xcc},   {"Iuml", 0xcf},     {"Ntilde", 0xd1},   {"OElig", 0x152},
    {"Oacute", 0xd3},   {"Ocirc", 0xd4},    {"Ograve", 0xd2},   {"Oslash", 0xd8},
    {"Otilde", 0xd5},   {"Ouml", 0xd6},     {"Prime", 0x2033},  {"Scaron", 0x160},
    {"THORN", 0xde},    {"Uacute", 0xda},   {"Ucirc", 0xdb},    {"Ugrave", 0xd9},
    {"Uuml", 0xdc},     {"Yacute", 0xdd},   {"Yuml", 0x178},    {"aacute", 0xe1},
    {"acirc", 0xe2},    {"acute", 0xb4},    {"aelig", 0xe6},    {"agrave", 0xe0},
    {"amp", 0x26},      {"apos", 0x27},     {"aring", 0xe5},    {"atilde", 0xe3},
    {"auml", 0xe4},     {"bdquo", 0x201e},  {"brvbar", 0xa6},   {"bull", 0x2022},
    {"ccedil", 0xe7},   {"cedil", 0xb8},    {"cent", 0xa2},     {"circ", 0x2c6},
    {"copy", 0xa9},     {"curren", 0xa4},   {"dagger", 0x2020}, {"darr", 0x2193},
    {"deg", 0xb0},      {"divide", 0xf7},   {"eacute", 0xe9},   {"ecirc", 0xea},
    {"egrave", 0xe8},   {"emsp", 0x2003},   {"ensp", 0x2002},   {"eth", 0xf0},
    {"euml", 0xeb},     {"euro", 0x20ac},   {"fnof", 0x192},    {"frac12", 0xbd},
    {"frac14", 0xbc},   {"frac34", 0xbe},   {"gt", 0x3e},       {"harr", 0x2194},
    {"hearts", 0x2665}, {"hellip", 0x2026}, {"iacute", 0xed},   {"icirc", 0xee},
    {"iexcl", 0xa1},    {"igrave", 0xec},   {"iquest", 0xbf},   {"iuml", 0xef},
    {"laquo", 0xab},    {"larr", 0x2190},   {"ldquo", 0x201c},  {"lrm", 0x200e},
    {"lsaquo", 0x2039}, {"lsquo", 0x2018},  {"lt", 0x3c},       {"macr", 0xaf},
    {"mdash", 0x2014},  {"micro", 0xb5},    {"middot", 0xb7},   {"nbsp", 0xa0},
    {"ndash", 0x2013},  {"not", 0xac},      {"ntilde", 0xf1},   {"oacute", 0xf3},
    {"ocirc", 0xf4},    {"oelig", 0x153},   {"ograve", 0xf2},   {"oline", 0x203e},
    {"ordf", 0xaa},     {"ordm", 0xba},     {"oslash", 0xf8},   {"otilde", 0xf5},
    {"ouml", 0xf6},     {"para", 0xb6},     {"permil", 0x2030}, {"plusmn", 0xb1},
    {"pound", 0xa3},    {"prime", 0x2032},  {"quot", 0x22},     {"raquo", 0xbb},
    {"rarr", 0x2192},   {"rdquo", 0x201d},  {"reg", 0xae},      {"rlm", 0x200f},
    {"rsaquo", 0x203a}, {"rsquo", 0x2019},  {"sbquo", 0x201a},  {"scaron", 0x161},
    {"sect", 0xa7},     {"shy", 0xad},      {"sup1", 0xb9},     {"sup2", 0xb2},
    {"sup3", 0xb3},     {"szlig", 0xdf},    {"thinsp", 0x2009}, {"thorn", 0xfe},
    {"tilde", 0x2dc},   {"times", 0xd7},    {"trade", 0x2122},  {"uacute", 0xfa},
    {"uarr", 0x2191},   {"ucirc", 0xfb},    {"ugrave", 0xf9},   {"uml", 0xa8},
    {"uuml", 0xfc},     {"yacute", 0xfd},   {"yen", 0xa5},      {"yuml", 0xff},
    {"zwj", 0x200d},    {"zwnj", 0x200c},
};

static const uint16_t c1_1252[32] = {
    0x20ac, 0x81,   0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x8d,   0x017d, 0x8f,   0x90,   0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d,   0x017e, 0x0178,
};

static int lookup_entity(const char *s, size_t n, uint32_t *cp_r)
{
	size_t lo = 0, hi = sizeof(entities) / sizeof(entities[0]);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strncmp(entities[mid].name, s, n);

		if (c == 0 && entities[mid].name[n] != '\0')
			c = 1;
		if (c == 0) {
			*cp_r = entities[mid].cp;
			return 1;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Decode an entity at s[0] == '&'; returns bytes consumed (0: not an
 * entity, '&' is literal) and the character in *cp_r. */
static size_t entity(const char *s, size_t n, uint32_t *cp_r)
{
	size_t i = 1;

	if (n >= 3 && s[1] == '#') {
		uint32_t v = 0;
		int hex = 0, digits = 0;

		i = 2;
		if (i < n && (s[i] == 'x' || s[i] == 'X')) {
			hex = 1;
			i++;
		}
		for (; i < n; i++) {
			int d;
			char c = s[i];

			if (c >= '0' && c <= '9')
				d = c - '0';
			else if (hex && c >= 'a' && c <= 'f')
				d = c - 'a' + 10;
			else if (hex && c >= 'A' && c <= 'F')
				d = c - 'A' + 10;
			else
				break;
			digits++;
			if (v <= 0x10ffff)
				v = v * (hex ? 16 : 10) + (uint32_t)d;
		}
		if (digits == 0)
			return 0;
		if (i < n && s[i] == ';')
			i++;
		if (v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
			v = 0xfffd;
		else if (v >= 0x80 && v <= 0x9f)
			v = c1_1252[v - 0x80];
		*cp_r = v;
		return i;
	}
	while (i < n && i < 10 &&
	       ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
	        (s[i] >= '0' && s[i] <= '9')))
		i++;
	if (i == 1 || i >= n || s[i] != ';')
		return 0;
	if (!lookup_entity(s + 1, i - 1, cp_r))
		return 0;
	return i + 1;
}

struct h2t {
	struct ims_buf *out;
	int space;           /* a blank is pending */
	int nl;              /* newlines at the end of out (2 = paragraph start) */
	int pre;             /* inside <pre> */
	int head;            /* inside <head> */
	struct ims_buf href; /* the open link's target */
	size_t link_text;    /* out->len where its text began */
	int in_link;
	ims_err e;
};

static void emit(struct h2t *h, const char *p, size_t n)
{
	if (h->e != IMS_OK || n == 0)
		return;
	if (h->head)
		return;
	if (h->space && h->nl == 0)
		h->e = ims_buf_putc(h->out, ' ');
	h->space = 0;
	if (h->e == IMS_OK)
		h->e = ims_buf_append(h->out, p, n);
	h->nl = 0;
}

static void newline(struct h2t *h, int want)
{
	if (h->head)
		return;
	h->space = 0;
	while (h->nl < want && h->e == IMS_OK) {
		h->e = ims_buf_putc(h->out, '\n');
		h->nl++;
	}
}

static void br(struct h2t *h)
{
	if (h->head)
		return;
	h->space = 0;
	if (h->nl >= 2 || h->e != IMS_OK)
		return;
	h->e = ims_buf_putc(h->out, '\n');
	h->nl++;
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int lc(char c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int name_is(const char *s, size_t n, const char *w)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (w[i] == '\0' || lc(s[i]) != w[i])
			return 0;
	return w[n] == '\0';
}

static int in_list(const char *s, size_t n, const char *const *list)
{
	for (; *list != NULL; list++)
		if (name_is(s, n, *list))
			return 1;
	return 0;
}

static const char *const para_tags[] = {"p",   "h1", "h2",      "h3",     "h4",     "h5",
                                        "h6",  "ul", "ol",      "dl",     "table",  "blockquote",
                                        "pre", "hr", "address", "figure", "center", NULL};
static const char *const line_tags[] = {
    "div",    "li",    "tr",    "dt",   "dd",    "section",  "article", "header",
    "footer", "nav",   "aside", "main", "form",  "fieldset", "caption", "tbody",
    "thead",  "tfoot", "body",  "html", "title", "option",   "summary", NULL};

/* Append text decoded from entities (an attribute value) to b. */
static ims_err attr_decode(const char *s, size_t n, struct ims_buf *b)
{
	size_t i = 0, run = 0, k;
	uint32_t cp;
	char u[4];
	ims_err e;

	while (i < n) {
		if (s[i] != '&' || (k = entity(s + i, n - i, &cp)) == 0) {
			i++;
			continue;
		}
		e = ims_buf_append(b, s + run, i - run);
		if (e == IMS_OK)
			e = ims_buf_append(b, u, ims_utf8_encode(cp, u));
		if (e != IMS_OK)
			return e;
		i += k;
		run = i;
	}
	return ims_buf_append(b, s + run, n - run);
}

/* Find attribute name in the tag text t[0..n); sets value span. */
static int attr_find(const char *t, size_t n, const char *name, size_t *vo, size_t *vl)
{
	size_t i = 0;

	/* skip the tag name */
	while (i < n && !is_ws(t[i]) && t[i] != '/')
		i++;
	while (i < n) {
		size_t nb, ne;

		while (i < n && (is_ws(t[i]) || t[i] == '/'))
			i++;
		nb = i;
		while (i < n && !is_ws(t[i]) && t[i] != '=' && t[i] != '/')
			i++;
		ne = i;
		while (i < n && is_ws(t[i]))
			i++;
		if (i < n && t[i] == '=') {
			size_t b;

			i++;
			while (i < n && is_ws(t[i]))
				i++;
			if (i < n && (t[i] == '"' || t[i] == '\'')) {
				char q = t[i++];

				b = i;
				while (i < n && t[i] != q)
					i++;
				*vo = b;
				*vl = i - b;
				if (i < n)
					i++;
			} else {
				b = i;
				while (i < n && !is_ws(t[i]))
					i++;
				*vo = b;
				*vl = i - b;
			}
			if (name_is(t + nb, ne - nb, name))
				return 1;
		} else if (ne == nb) {
			i++;
		}
	}
	return 0;
}

/* The end of a tag starting at s[0] == '<' (index just past '>'), quotes
 * respected; n when unterminated. */
static size_t tag_end(const char *s, size_t n)
{
	size_t i = 1;
	char q = 0;

	for (; i < n; i++) {
		if (q) {
			if (s[i] == q)
				q = 0;
		} else if (s[i] == '"' || s[i] == '\'') {
			/* quotes only count inside attribute values */
			if (i > 0 && (s[i - 1] == '=' || is_ws(s[i - 1])))
				q = s[i];
		} else if (s[i] == '>') {
			return i + 1;
		}
	}
	return n;
}

/* Find "</name" (any case) from s[i]; returns its index or n. */
static size_t find_close(const char *s, size_t n, size_t i, const char *name)
{
	size_t k = strlen(name);

	for (; i + 2 + k <= n; i++) {
		if (s[i] == '<' && s[i + 1] == '/' && name_is(s + i + 2, k, name) &&
		    (i + 2 + k == n || is_ws(s[i + 2 + k]) || s[i + 2 + k] == '>'))
			return i;
	}
	return n;
}

static int useful_href(const char *u, size_t n)
{
	if (n == 0 || u[0] == '#')
		return 0;
	if (n >= 11 && name_is(u, 11, "javascript:"))
		return 0;
	return 1;
}

static void link_close(struct h2t *h)
{
	const char *href = h->href.data;
	size_t hl = h->href.len, tl;
	const char *text;

	if (!h->in_link)
		return;
	h->in_link = 0;
	if (h->e != IMS_OK || href == NULL || !useful_href(href, hl))
		return;
	if (h->out->data == NULL)
		h->e = ims_buf_reserve(h->out, 1);
	if (h->e != IMS_OK)
		return;
	text = h->out->data + h->link_text;
	tl = h->out->len - h->link_text;
	while (tl > 0 && is_ws(*text)) {
		text++;
		tl--;
	}
	while (tl > 0 && is_ws(text[tl - 1]))
		tl--;
	/* the text is the address already */
	if (tl == hl && memcmp(text, href, hl) == 0)
		return;
	if (hl > 7 && name_is(href, 7, "mailto:") && tl == hl - 7 &&
	    memcmp(text, href + 7, tl) == 0)
		return;
	if (tl == 0) {
		emit(h, "<", 1);
	} else {
		h->space = 1;
		emit(h, "<", 1);
	}
	emit(h, href, hl);
	emit(h, ">", 1);
}

static void tag(struct h2t *h, const char *t, size_t n, int closing)
{
	size_t nl = 0, vo = 0, vl = 0;

	while (nl < n && !is_ws(t[nl]) && t[nl] != '/' && t[nl] != '>')
		nl++;
	if (name_is(t, nl, "head")) {
		h->head = !closing;
		return;
	}
	if (name_is(t, nl, "body") && !closing)
		h->head = 0;
	if (name_is(t, nl, "br")) {
		br(h);
		return;
	}
	if (name_is(t, nl, "pre")) {
		newline(h, 2);
		h->pre = !closing;
		return;
	}
	if (in_list(t, nl, para_tags)) {
		newline(h, 2);
		return;
	}
	if (name_is(t, nl, "li") && !closing) {
		newline(h, 1);
		emit(h, "* ", 2);
		return;
	}
	if (in_list(t, nl, line_tags)) {
		newline(h, 1);
		return;
	}
	if ((name_is(t, nl, "td") || name_is(t, nl, "th")) && !closing) {
		if (h->nl == 0)
			h->space = 1;
		return;
	}
	if (name_is(t, nl, "a")) {
		if (closing) {
			link_close(h);
			return;
		}
		link_close(h);
		ims_buf_reset(&h->href);
		if (attr_find(t, n, "href", &vo, &vl)) {
			size_t b = 0, e = vl;

			while (b < e && is_ws(t[vo + b]))
				b++;
			while (e > b && is_ws(t[vo + e - 1]))
				e--;
			if (h->e == IMS_OK)
				h->e = attr_decode(t + vo + b, e - b, &h->href);
			/* a pending blank belongs before the link text */
			if (h->space && h->nl == 0 && !h->head && h->e == IMS_OK) {
				h->e = ims_buf_putc(h->out, ' ');
				h->space = 0;
			}
			h->in_link = 1;
			h->link_text = h->out->len;
		}
		return;
	}
	if (name_is(t, nl, "img") && !closing && attr_find(t, n, "alt", &vo, &vl)) {
		struct ims_buf alt;
		size_t b = 0, e;

		ims_buf_init(&alt, 0);
		if (attr_decode(t + vo, vl, &alt) != IMS_OK) {
			h->e = IMS_ERR_NOMEM;
			ims_buf_release(&alt);
			return;
		}
		e = alt.len;
		while (b < e && is_ws(alt.data[b]))
			b++;
		while (e > b && is_ws(alt.data[e - 1]))
			e--;
		if (e > b) {
			emit(h, "[", 1);
			emit(h, alt.data + b, e - b);
			emit(h, "]", 1);
		}
		ims_buf_release(&alt);
	}
}

static void convert(struct h2t *h, const char *s, size_t n)
{
	size_t i = 0, run, k;
	uint32_t cp;
	char u[4];

	while (i < n && h->e == IMS_OK) {
		char c = s[i];

		if (c == '<') {
			if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
				const char *end = NULL;
				size_t j;

				for (j = i + 4; j + 2 < n; j++) {
					if (s[j] == '-' && s[j + 1] == '-' && s[j + 2] == '>') {
						end = s + j + 3;
						break;
					}
				}
				i = end != NULL ? (size_t)(end - s) : n;
				continue;
			}
			if (i + 1 < n && (s[i + 1] == '!' || s[i + 1] == '?')) {
				i += tag_end(s + i, n - i);
				continue;
			}
			if (i + 1 < n && (s[i + 1] == '/' || (s[i + 1] >= 'a' && s[i + 1] <= 'z') ||
			                  (s[i + 1] >= 'A' && s[i + 1] <= 'Z'))) {
				int closing = s[i + 1] == '/';
				size_t b = i + 1 + (size_t)closing, e = i + tag_end(s + i, n - i);
				size_t te = e > b && s[e - 1] == '>' ? e - 1 : e, nl = 0;

				while (b + nl < te && !is_ws(s[b + nl]) && s[b + nl] != '/' &&
				       s[b + nl] != '>')
					nl++;
				if (!closing &&
				    (name_is(s + b, nl, "script") || name_is(s + b, nl, "style") ||
				     name_is(s + b, nl, "title") ||
				     name_is(s + b, nl, "template") ||
				     name_is(s + b, nl, "textarea"))) {
					/* raw text: skip to its end tag */
					char nm[16];
					size_t c2;

					memcpy(nm, s + b, nl);
					nm[nl] = '\0';
					for (c2 = 0; c2 < nl; c2++)
						nm[c2] = (char)lc(nm[c2]);
					k = find_close(s, n, e, nm);
					i = k < n ? k + tag_end(s + k, n - k) : n;
					continue;
				}
				tag(h, s + b, te - b, closing);
				i = e;
				continue;
			}
			emit(h, "<", 1);
			i++;
			continue;
		}
		if (c == '&') {
			k = entity(s + i, n - i, &cp);
			if (k == 0) {
				emit(h, "&", 1);
				i++;
				continue;
			}
			if (cp == 0xa0)
				cp = ' ';
			emit(h, u, ims_utf8_encode(cp, u));
			i += k;
			continue;
		}
		if (is_ws(c)) {
			if (h->pre) {
				if (c == '\n') {
					if (!h->head && h->e == IMS_OK)
						h->e = ims_buf_putc(h->out, '\n');
					h->nl++;
					h->space = 0;
				} else if (c != '\r') {
					emit(h, &c, 1);
				}
			} else {
				h->space = 1;
			}
			i++;
			continue;
		}
		run = i;
		while (i < n && s[i] != '<' && s[i] != '&' && !is_ws(s[i]))
			i++;
		emit(h, s + run, i - run);
	}
	link_close(h);
}

/* Strip blanks at line ends, keep at most one blank line in a row, none
 * at either end; end with one newline. */
static ims_err tidy(const char *s, size_t n, struct ims_buf *out)
{
	size_t i = 0, blank = 0, lines = 0;
	ims_err e = IMS_OK;

	while (i < n && e == IMS_OK) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t le = nl != NULL ? (size_t)(nl - s) : n, end = le;

		while (end > i && (s[end - 1] == ' ' || s[end - 1] == '\t'))
			end--;
		if (end == i) {
			blank++;
		} else {
			if (lines > 0 && blank > 0)
				e = ims_buf_putc(out, '\n');
			if (e == IMS_OK)
				e = ims_buf_append(out, s + i, end - i);
			if (e == IMS_OK)
				e = ims_buf_putc(out, '\n');
			lines++;
			blank = 0;
		}
		i = le + 1;
	}
	return e;
}

ims_err ims_html_to_text(const char *html, size_t len, struct ims_buf *out, struct ims_error *err)
{
	struct ims_buf raw, valid;
	struct h2t h;
	size_t start = out->len;
	ims_err e;

	ims_buf_init(&raw, 0);
	ims_buf_init(&valid, 0);
	e = ims_utf8_repair(html, len, &valid, NULL, err);
	if (e != IMS_OK)
		return e;
	h.out = &raw;
	h.space = 0;
	h.nl = 2;
	h.pre = 0;
	h.head = 0;
	ims_buf_init(&h.href, 0);
	h.link_text = 0;
	h.in_link = 0;
	h.e = IMS_OK;
	convert(&h, valid.data != NULL ? valid.data : "", valid.len);
	e = h.e;
	if (e == IMS_OK)
		e = tidy(raw.data != NULL ? raw.data : "", raw.len, out);
	ims_buf_release(&h.href);
	ims_buf_release(&raw);
	ims_buf_release(&valid);
	if (e != IMS_OK) {
		if (out->len > start) {
			out->len = start;
			out->data[start] = '\0';
		}
		return ims_error_set(err, e, "html: %s",
		                     e == IMS_ERR_NOMEM ? "out of memory" : "text too long");
	}
	return IMS_OK;
}
