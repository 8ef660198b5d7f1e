/* The message commands: list, search, fetch, flag, unflag, copy, move,
 * delete, expunge and append.
 *
 * Message arguments are UIDs ("42", "1:100", "1,5,9:12", "*"); "#N" (or a
 * set after '#') means message sequence numbers.  Commands that change
 * messages first ask the server which of the given messages exist (UID
 * SEARCH), so a UID that is not there is an error (exit 1) and the command
 * then works on explicit UIDs only.
 *
 * list and search print one line a message: UID, flags, date, from,
 * subject, size.  Flags are the letters of the Maildir info field, in its
 * order: D \Draft, F \Flagged, R \Answered (replied), S \Seen, T \Deleted
 * (trashed), and '+' when keywords are set; '-' when none.  The date is
 * INTERNALDATE (when the server received the message) in local time.  On a
 * terminal: aligned columns, from and subject cut to the width, sizes in
 * K/M; elsewhere the six fields tab-separated with the date in ISO 8601
 * and the size in bytes; with --json one object a line.  Server text is
 * sanitised in both text forms (a TAB or LF in a subject shows as ^I or
 * ^J, so a record is always one line); --json is the lossless form. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "imapsh/fsafe.h"
#include "cli/output.h"
#include "imapsh/json.h"
#include "imapsh/number.h"
#include "imapsh/rfc2047.h"
#include "imapsh/sanitize.h"
#include "imapsh/seqset.h"
#include "imapsh/session.h"
#include "imapsh/words.h"

#define FETCH_WINDOW   500 /* UIDs in one UID FETCH of search results */
#define PIPE_LIST_SIZE 50  /* messages "list" shows on a pipe */
#define MAX_FLAGS      32  /* flags in one flag/unflag/append */

static const char *const no_opts[] = {NULL};
static const char *const fetch_opts[] = {"-o FILE", NULL};
static const char *const delete_opts[] = {"--expunge", NULL};
static const char *const append_opts[] = {"--flags FLAGS", "--date DATE", NULL};

/* ---- helpers ------------------------------------------------------------ */

static ims_err nomem(struct cli *c)
{
	return ims_error_set(&c->err, IMS_ERR_NOMEM, "out of memory");
}

static ims_err usage(struct cli *c, const char *u)
{
	return ims_error_set(&c->err, IMS_ERR_USAGE, "usage: %s", u);
}

/* The options a message command takes on its own line (in the shell the
 * global ones are not parsed for it): --json, -o/--output FILE,
 * --expunge, --flags LIST, --date DATE; which ones is up to the caller.
 * Other words are operands; "--" ends the options.  A word that starts
 * with '-' is an error unless loose (search keys may start with '-'). */
struct lopts {
	int json;
	const char *output;
	int expunge;
	const char *flags;
	const char *date;
	char *pos[64];
	int npos;
};

#define LO_OUTPUT  1u
#define LO_EXPUNGE 2u
#define LO_APPEND  4u
#define LO_LOOSE   8u

static ims_err parse_lopts(struct cli *c, int argc, char **argv, unsigned allow, const char *u,
                           struct lopts *lo)
{
	int i, dashdash = 0;

	memset(lo, 0, sizeof(*lo));
	lo->json = c->o.json;
	lo->output = c->o.output;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **val = NULL;

		if (!dashdash && a[0] == '-' && a[1] != '\0') {
			const char *eq = strchr(a, '=');
			size_t n = eq != NULL ? (size_t)(eq - a) : strlen(a);

			if (strcmp(a, "--") == 0) {
				dashdash = 1;
				continue;
			}
			if (n == 6 && strncmp(a, "--json", n) == 0 && eq == NULL) {
				lo->json = 1;
				continue;
			}
			if ((allow & LO_EXPUNGE) && strcmp(a, "--expunge") == 0) {
				lo->expunge = 1;
				continue;
			}
			if ((allow & LO_OUTPUT) && ((n == 2 && strncmp(a, "-o", n) == 0) ||
			                            (n == 8 && strncmp(a, "--output", n) == 0)))
				val = &lo->output;
			else if ((allow & LO_APPEND) && n == 7 && strncmp(a, "--flags", n) == 0)
				val = &lo->flags;
			else if ((allow & LO_APPEND) && n == 6 && strncmp(a, "--date", n) == 0)
				val = &lo->date;
			if (val != NULL) {
				if (eq != NULL) {
					*val = eq + 1;
				} else if (i + 1 < argc) {
					*val = argv[++i];
				} else {
					return ims_error_set(&c->err, IMS_ERR_USAGE,
					                     "option '%s' needs a value", a);
				}
				continue;
			}
			if (!(allow & LO_LOOSE))
				return ims_error_set(&c->err, IMS_ERR_USAGE,
				                     "unknown option '%s' (usage: %s)", a, u);
		}
		if (lo->npos == (int)(sizeof(lo->pos) / sizeof(lo->pos[0])))
			return ims_error_set(&c->err, IMS_ERR_USAGE, "too many words (usage: %s)",
			                     u);
		lo->pos[lo->npos++] = argv[i];
	}
	if (lo->output != NULL && strcmp(lo->output, "-") == 0)
		lo->output = NULL;
	return IMS_OK;
}

/* The folder the command works on, for messages ("INBOX"). */
static const char *cur_folder(struct cli *c, char *buf, size_t n)
{
	return cli_safe(c->folder[0] != '\0' ? c->folder : "the folder", buf, n);
}

/* ---- message arguments ---------------------------------------------------- */

/* A message argument: UIDs, or sequence numbers after '#'.  set is the
 * canonical sequence set. */
struct msgarg {
	int seq;
	struct ims_buf set;
	uint32_t single; /* the one number when the set is one number, else 0 */
	int star;        /* the set is just "*" */
};

static void msgarg_release(struct msgarg *m)
{
	ims_buf_release(&m->set);
}

static ims_err msgarg_parse(struct cli *c, const char *word, struct msgarg *m)
{
	struct ims_seqset s;
	struct ims_error e;
	const char *p = word;
	ims_err r;

	memset(m, 0, sizeof(*m));
	ims_buf_init(&m->set, 0);
	if (*p == '#') {
		m->seq = 1;
		p++;
	}
	ims_seqset_init(&s);
	r = ims_seqset_parse(&s, p, strlen(p), &e);
	if (r == IMS_OK)
		r = ims_seqset_format(&s, &m->set, &e);
	if (r == IMS_OK) {
		if (s.n == 1 && s.n_num == 1 && s.r[0].lo == s.r[0].hi)
			m->single = s.r[0].lo;
		m->star = s.n == 1 && s.n_num == 0 && s.r[0].lo == IMS_SEQ_STAR;
	}
	ims_seqset_release(&s);
	if (r == IMS_ERR_NOMEM)
		return nomem(c);
	if (r != IMS_OK)
		return ims_error_set(&c->err, IMS_ERR_USAGE,
		                     "'%s' is not a message set: %s (UIDs such as 42, 1:100, "
		                     "1,5,9:12 or *; #N for a sequence number)",
		                     word, e.msg);
	return IMS_OK;
}

/* The UIDs of the messages m names that exist now (UID SEARCH), ascending.
 * None is IMS_ERR_NO with words. */
static ims_err resolve_uids(struct cli *c, const char *what, const struct msgarg *m,
                            struct ims_search_result *res)
{
	struct ims_arg keys[2];
	size_t n = 0;
	char safe[512];
	ims_err e;

	if (!m->seq)
		keys[n++] = (struct ims_arg){IMS_ARG_RAW, "UID", 0};
	keys[n++] = (struct ims_arg){IMS_ARG_RAW, m->set.data, 0};
	e = ims_session_uid_search(c->sess, keys, n, res, &c->err);
	if (e != IMS_OK)
		return e;
	if (res->n == 0)
		return ims_error_set(&c->err, IMS_ERR_NO, "%s: no message %s%s in %s", what,
		                     m->seq ? "#" : "with UID ", m->set.data,
		                     cur_folder(c, safe, sizeof(safe)));
	return IMS_OK;
}

/* UIDs as a compact sequence set ("1:5,9"). */
static ims_err uids_format(struct cli *c, const uint32_t *uids, size_t n, struct ims_buf *out)
{
	struct ims_seqset s;
	struct ims_error e;
	ims_err r;

	ims_seqset_init(&s);
	r = ims_seqset_add_list(&s, uids, n, &e);
	if (r == IMS_OK)
		r = ims_seqset_format(&s, out, &e);
	ims_seqset_release(&s);
	if (r != IMS_OK)
		return ims_error_set(&c->err, r, "%s", e.msg);
	return IMS_OK;
}

/* A flag word: seen, flagged, answered, deleted, draft (any case) or the
 * system flag itself (\Seen), else a keyword of atom characters. */
static ims_err flag_word(struct cli *c, const char *w, const char **flag_r)
{
	static const char *const sys[][2] = {{"seen", "\\Seen"},
	                                     {"flagged", "\\Flagged"},
	                                     {"answered", "\\Answered"},
	                                     {"deleted", "\\Deleted"},
	                                     {"draft", "\\Draft"}};
	const char *p;
	size_t i;

	for (i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
		if (strcasecmp(w, sys[i][0]) == 0 || strcasecmp(w, sys[i][1]) == 0) {
			*flag_r = sys[i][1];
			return IMS_OK;
		}
	if (w[0] == '\\')
		return ims_error_set(&c->err, IMS_ERR_USAGE,
		                     "'%s' is not a flag that can be set (seen, flagged, answered, "
		                     "deleted, draft, or a keyword)",
		                     w);
	if (w[0] == '\0')
		return ims_error_set(&c->err, IMS_ERR_USAGE, "an empty flag");
	for (p = w; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch <= 0x20 || ch >= 0x7f || strchr("(){%*\"\\]", ch) != NULL)
			return ims_error_set(
			    &c->err, IMS_ERR_USAGE,
			    "keyword '%s': only printable ASCII without spaces and "
			    "(){%%*\"\\]",
			    ch >= 0x20 && ch < 0x7f ? w : "(unprintable)");
	}
	*flag_r = w;
	return IMS_OK;
}

/* A session failure about FOLDER, with a hint for TRYCREATE. */
static ims_err folder_hint(struct cli *c, ims_err e)
{
	if (e == IMS_ERR_NO && c->sess != NULL &&
	    ims_session_last_code(c->sess) == IMS_CODE_TRYCREATE) {
		char msg[IMS_ERROR_MAX];

		snprintf(msg, sizeof(msg), "%s", c->err.msg);
		return ims_error_set(&c->err, e,
		                     "%s (the folder does not exist: create it with mkdir)", msg);
	}
	return e;
}

static ims_err stdout_check(struct cli *c)
{
	return cli_stdout_check(c);
}

static void term_size(int *rows_r, int *cols_r)
{
	struct winsize ws;
	const char *s;
	uint64_t v;

	*rows_r = 24;
	*cols_r = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
		*rows_r = ws.ws_row;
		*cols_r = ws.ws_col;
		return;
	}
	if ((s = getenv("LINES")) != NULL && ims_number_parse(s, strlen(s), 1, 100000, &v) == 0)
		*rows_r = (int)v;
	if ((s = getenv("COLUMNS")) != NULL && ims_number_parse(s, strlen(s), 1, 100000, &v) == 0)
		*cols_r = (int)v;
}

/* ---- text for the columns ------------------------------------------------- */

/* Columns one character takes on a terminal: East Asian wide characters
 * two, combining marks none. */
static size_t cp_width(uint32_t cp)
{
	if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0xfe00 && cp <= 0xfe0f))
		return 0;
	if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf && cp != 0x303f) ||
	    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
	    (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd))
		return 2;
	return 1;
}

/* Append s (sanitised UTF-8) to out in exactly cols columns: cut with an
 * ellipsis when longer, padded with spaces when pad. */
static ims_err put_cols(struct ims_buf *out, const char *s, size_t cols, int pad)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), w = 0, total = 0, i;
	ims_err e = IMS_OK;

	/* The whole width first: does it fit? */
	for (i = 0; i < n;) {
		uint32_t cp;
		size_t k = ims_utf8_decode(p + i, n - i, &cp);

		if (k == 0) {
			k = 1;
			cp = '?';
		}
		total += cp_width(cp);
		i += k;
	}
	if (total <= cols) {
		e = ims_buf_append(out, s, n);
		w = total;
	} else {
		for (i = 0; i < n && e == IMS_OK;) {
			uint32_t cp;
			size_t k = ims_utf8_decode(p + i, n - i, &cp);

			if (k == 0) {
				k = 1;
				cp = '?';
			}
			if (w + cp_width(cp) + 1 > cols)
				break;
			w += cp_width(cp);
			e = ims_buf_append(out, s + i, k);
			i += k;
		}
		if (e == IMS_OK && cols > 0) {
			e = ims_buf_puts(out, "\xe2\x80\xa6"); /* U+2026 */
			w++;
		}
	}
	for (; pad && e == IMS_OK && w < cols; w++)
		e = ims_buf_putc(out, ' ');
	return e;
}

/* "368", "1.3K", "217K", "12M". */
static void short_size(uint64_t v, char *buf, size_t n)
{
	static const char units[] = "KMGTP";
	double d = (double)v;
	size_t u = 0;

	if (v < 1000) {
		snprintf(buf, n, "%u", (unsigned)v);
		return;
	}
	d /= 1024;
	while (d >= 999.5 && u + 1 < sizeof(units) - 1) {
		d /= 1024;
		u++;
	}
	if (d < 9.95)
		snprintf(buf, n, "%.1f%c", d, units[u]);
	else
		snprintf(buf, n, "%.0f%c", d, units[u]);
}

/* ISO 8601 in local time with the offset: "2026-06-30T20:45:00+02:00". */

/* Flags as Maildir letters (see the file comment). */
static void flag_letters(const struct ims_strings *f, char *buf)
{
	int d = 0, fl = 0, r = 0, s = 0, t = 0, kw = 0;
	size_t i, n = 0;

	for (i = 0; i < f->n; i++) {
		const char *x = f->v[i];

		if (strcasecmp(x, "\\Draft") == 0)
			d = 1;
		else if (strcasecmp(x, "\\Flagged") == 0)
			fl = 1;
		else if (strcasecmp(x, "\\Answered") == 0)
			r = 1;
		else if (strcasecmp(x, "\\Seen") == 0)
			s = 1;
		else if (strcasecmp(x, "\\Deleted") == 0)
			t = 1;
		else if (x[0] != '\\')
			kw = 1;
	}
	if (d)
		buf[n++] = 'D';
	if (fl)
		buf[n++] = 'F';
	if (r)
		buf[n++] = 'R';
	if (s)
		buf[n++] = 'S';
	if (t)
		buf[n++] = 'T';
	if (kw)
		buf[n++] = '+';
	if (n == 0)
		buf[n++] = '-';
	buf[n] = '\0';
}

static int has_flag(const struct ims_strings *f, const char *flag)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcasecmp(f->v[i], flag) == 0)
			return 1;
	return 0;
}

/* ---- list output ------------------------------------------------------------ */

struct lister {
	struct cli *c;
	int json;
	size_t cols; /* terminal width; 0 on a pipe */
	int uidw;
	uint64_t count;
	struct ims_json j;
	struct ims_buf from, addr, subj, tmp, line;
};

static void lister_init(struct lister *l, struct cli *c, int json)
{
	const struct ims_folder *f = ims_session_folder(c->sess);
	uint32_t top = f != NULL && (f->have & IMS_FOLDER_UIDNEXT) ? f->uidnext : 0;
	int rows, cols;

	memset(l, 0, sizeof(*l));
	l->c = c;
	l->json = json;
	if (c->out_tty && !json) {
		term_size(&rows, &cols);
		l->cols = (size_t)cols;
	}
	for (l->uidw = 1; top >= 10; top /= 10)
		l->uidw++;
	if (l->uidw < 3)
		l->uidw = 3;
	ims_json_init_file(&l->j, stdout, IMS_JSON_LINES);
	ims_buf_init(&l->from, 64 * 1024);
	ims_buf_init(&l->addr, 64 * 1024);
	ims_buf_init(&l->subj, 256 * 1024);
	ims_buf_init(&l->tmp, 256 * 1024);
	ims_buf_init(&l->line, 512 * 1024);
}

static void lister_release(struct lister *l)
{
	ims_buf_release(&l->from);
	ims_buf_release(&l->addr);
	ims_buf_release(&l->subj);
	ims_buf_release(&l->tmp);
	ims_buf_release(&l->line);
}

/* Decoded (RFC 2047) text into out; a failure leaves what fits. */
static void decode_into(const char *s, struct ims_buf *out)
{
	struct ims_error e;

	ims_buf_reset(out);
	if (s != NULL && ims_rfc2047_decode(s, strlen(s), out, NULL, &e) != IMS_OK)
		ims_buf_reset(out);
}

static const char *bufstr(const struct ims_buf *b)
{
	return b->data != NULL ? b->data : "";
}

/* Sanitised text (a header line) into out. */
static void safe_into(const char *s, struct ims_buf *out)
{
	struct ims_error e;

	ims_buf_reset(out);
	if (ims_sanitize(s, strlen(s), IMS_SANITIZE_LINE, out, &e) != IMS_OK)
		ims_buf_reset(out);
}

static ims_err list_json(struct lister *l, const struct ims_fetch *f, struct ims_error *err)
{
	struct ims_json *j = &l->j;
	const struct ims_address *a = NULL;
	size_t i;

	(void)ims_json_object_begin(j);
	(void)ims_json_key(j, "uid");
	(void)ims_json_uint(j, f->uid);
	(void)ims_json_key(j, "flags");
	(void)ims_json_array_begin(j);
	for (i = 0; i < f->flags.n; i++)
		(void)ims_json_string(j, f->flags.v[i]);
	(void)ims_json_array_end(j);
	(void)ims_json_key(j, "date");
	cli_json_date(j, (f->have & IMS_FETCH_INTERNALDATE) ? f->internaldate_epoch : 0);
	if (f->envelope != NULL && f->envelope->from.n > 0)
		a = &f->envelope->from.v[0];
	(void)ims_json_key(j, "from");
	cli_json_from(j, a != NULL,
	              a != NULL && a->name != NULL && a->name[0] != '\0' ? l->from.data : NULL,
	              l->from.len, l->addr.data, l->addr.len);
	(void)ims_json_key(j, "subject");
	if (f->envelope != NULL && f->envelope->subject != NULL)
		(void)ims_json_string_n(j, bufstr(&l->subj), l->subj.len);
	else
		(void)ims_json_null(j);
	(void)ims_json_key(j, "size");
	(void)ims_json_uint(j, f->rfc822_size);
	(void)ims_json_object_end(j);
	if (ims_json_finish(j, err) != IMS_OK)
		return ims_error_set(err, IMS_ERR_IO, "writing to standard output: %s", err->msg);
	return IMS_OK;
}

static ims_err list_text(struct lister *l, const struct ims_fetch *f, struct ims_error *err)
{
	struct cli *c = l->c;
	const char *from = l->from.len > 0 ? bufstr(&l->from) : bufstr(&l->addr);
	char flags[8], date[40], size[32];
	struct ims_buf *line = &l->line;
	ims_err e = IMS_OK;

	flag_letters(&f->flags, flags);
	ims_buf_reset(line);
	if (l->cols == 0) {
		/* A pipe: uid, flags, date, from, subject, size. */
		if ((f->have & IMS_FETCH_INTERNALDATE) && f->internaldate_epoch != 0)
			cli_iso_date(f->internaldate_epoch, date, sizeof(date));
		else
			snprintf(date, sizeof(date), "-");
		struct tsv t;

		tsv_begin(&t, stdout);
		tsv_fieldf(&t, "%u", (unsigned)f->uid);
		tsv_field(&t, flags);
		tsv_field(&t, date);
		tsv_field(&t, from);
		tsv_field_n(&t, bufstr(&l->subj), l->subj.len);
		tsv_fieldf(&t, "%llu", (unsigned long long)f->rfc822_size);
		if (tsv_end(&t) != 0)
			return ims_error_set(err, IMS_ERR_IO, "writing to standard output: %s",
			                     strerror(errno));
		return IMS_OK;
	} else {
		/* A terminal: UID FLAGS DATE FROM SUBJECT SIZE in columns. */
		size_t fixed, fromw = 20, subjw;
		int unseen = !has_flag(&f->flags, "\\Seen");
		int deleted = has_flag(&f->flags, "\\Deleted");

		if ((f->have & IMS_FETCH_INTERNALDATE) && f->internaldate_epoch != 0) {
			time_t tt = (time_t)f->internaldate_epoch;
			struct tm tm;

			if (localtime_r(&tt, &tm) == NULL ||
			    strftime(date, sizeof(date), "%Y-%m-%d %H:%M", &tm) == 0)
				snprintf(date, sizeof(date), "?");
		} else {
			snprintf(date, sizeof(date), "-");
		}
		short_size(f->rfc822_size, size, sizeof(size));
		fixed = (size_t)l->uidw + 2 + 5 + 1 + 16 + 2 + 2 + 5;
		if (l->cols < fixed + 3 * fromw)
			fromw = l->cols > fixed + 24 ? (l->cols - fixed) / 3 : 8;
		subjw = l->cols > fixed + fromw + 2 ? l->cols - fixed - fromw - 2 : 10;
		if (c->color && (unseen || deleted))
			e = ims_buf_puts(line, deleted ? "\033[2m" : "\033[1m");
		if (e == IMS_OK)
			e = ims_buf_printf(line, "%*u  %-5s %-16s  ", l->uidw, (unsigned)f->uid,
			                   flags, date);
		safe_into(from, &l->tmp);
		if (e == IMS_OK)
			e = put_cols(line, bufstr(&l->tmp), fromw, 1);
		if (e == IMS_OK)
			e = ims_buf_puts(line, "  ");
		safe_into(bufstr(&l->subj), &l->tmp);
		if (e == IMS_OK)
			e = put_cols(line, bufstr(&l->tmp), subjw, 1);
		if (e == IMS_OK)
			e = ims_buf_printf(line, "  %5s%s\n", size,
			                   c->color && (unseen || deleted) ? "\033[0m" : "");
	}
	if (e != IMS_OK)
		return ims_error_set(err, e, "list: a line too long to show");
	if (fwrite(line->data, 1, line->len, stdout) != line->len)
		return ims_error_set(err, IMS_ERR_IO, "writing to standard output: %s",
		                     strerror(errno));
	return IMS_OK;
}

/* Each FETCH response of a list: one record, printed as it arrives. */
static ims_err list_message(void *ctx, const struct ims_fetch *f, struct ims_error *err)
{
	struct lister *l = ctx;
	const struct ims_address *a = NULL;

	if (cli_interrupted)
		return ims_error_set(err, IMS_ERR_CANCELLED, "interrupted");
	if (cli_stdout_failed() && cli_stdout_check(l->c) != IMS_OK) {
		ims_error_copy(err, &l->c->err);
		return err->code; /* stop printing; the rest is drained */
	}
	/* Unsolicited FETCH (flags changed elsewhere) has no envelope. */
	if (!(f->have & IMS_FETCH_UID) || !(f->have & IMS_FETCH_ENVELOPE))
		return IMS_OK;
	if (f->envelope != NULL && f->envelope->from.n > 0)
		a = &f->envelope->from.v[0];
	decode_into(a != NULL ? a->name : NULL, &l->from);
	ims_buf_reset(&l->addr);
	if (a != NULL && a->mailbox != NULL &&
	    ims_buf_printf(&l->addr, "%s%s%s", a->mailbox, a->host != NULL ? "@" : "",
	                   a->host != NULL ? a->host : "") != IMS_OK)
		ims_buf_reset(&l->addr);
	decode_into(f->envelope != NULL ? f->envelope->subject : NULL, &l->subj);
	l->count++;
	if (l->json)
		return list_json(l, f, err);
	return list_text(l, f, err);
}

#define LIST_ITEMS "(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)"

static ims_err list_fetch(struct cli *c, struct lister *l, int seq, const char *set)
{
	struct ims_fetch_handler h = {NULL, list_message, l};

	if (seq)
		return ims_session_seq_fetch(c->sess, set, LIST_ITEMS, &h, &c->err);
	return ims_session_uid_fetch(c->sess, set, LIST_ITEMS, &h, &c->err);
}

/* List the messages with these UIDs (ascending), in windows. */
static ims_err list_uids(struct cli *c, struct lister *l, const uint32_t *uids, size_t n)
{
	struct ims_buf set;
	size_t i, k;
	ims_err e = IMS_OK;

	ims_buf_init(&set, 0);
	for (i = 0; i < n && e == IMS_OK; i += k) {
		k = n - i < FETCH_WINDOW ? n - i : FETCH_WINDOW;
		ims_buf_reset(&set);
		e = uids_format(c, uids + i, k, &set);
		if (e == IMS_OK)
			e = list_fetch(c, l, 0, set.data);
	}
	ims_buf_release(&set);
	return e;
}

/* list [UIDS] */
static ims_err cmd_list(struct cli *c, int argc, char **argv)
{
	static const char u[] = "list [UIDS]";
	const struct ims_folder *f;
	struct lopts lo;
	struct lister l;
	struct msgarg m;
	char safe[512];
	ims_err e;

	if (parse_lopts(c, argc, argv, 0, u, &lo) != IMS_OK)
		return c->err.code;
	if (lo.npos > 1)
		return usage(c, u);
	memset(&m, 0, sizeof(m));
	if (lo.npos == 1 && (e = msgarg_parse(c, lo.pos[0], &m)) != IMS_OK)
		return e;
	if ((e = cli_ready(c)) != IMS_OK) {
		msgarg_release(&m);
		return e;
	}
	f = ims_session_folder(c->sess);
	lister_init(&l, c, lo.json);
	if (lo.npos == 0) {
		/* The newest screenful: the last messages by sequence number. */
		uint32_t exists = f != NULL ? f->exists : 0, want = PIPE_LIST_SIZE;
		char set[32];

		if (c->out_tty && !lo.json) {
			int rows, cols;

			term_size(&rows, &cols);
			want = rows > 3 ? (uint32_t)rows - 2 : 1;
		}
		e = IMS_OK;
		if (exists > 0) {
			snprintf(set, sizeof(set), "%u:*",
			         (unsigned)(exists > want ? exists - want + 1 : 1));
			e = list_fetch(c, &l, 1, set);
		}
	} else {
		e = IMS_OK;
		if (f != NULL && f->exists > 0)
			e = list_fetch(c, &l, m.seq, m.set.data);
		if (e == IMS_OK && l.count == 0)
			e = ims_error_set(&c->err, IMS_ERR_NO, "list: no message %s%s in %s",
			                  m.seq ? "#" : "with UID ", m.set.data,
			                  cur_folder(c, safe, sizeof(safe)));
		msgarg_release(&m);
	}
	lister_release(&l);
	if (e == IMS_OK)
		e = stdout_check(c);
	return e;
}

/* ---- search ------------------------------------------------------------------ */

enum skind {
	SK_NONE,   /* no argument */
	SK_STR,    /* a string */
	SK_DATE,   /* a date: 2026-01-31 or 31-Jan-2026 */
	SK_SIZE,   /* a size: 1M, 10k, 12345 */
	SK_NUM,    /* a number */
	SK_ATOM,   /* a keyword */
	SK_HEADER, /* a field name and a string */
	SK_UIDSET, /* a UID set */
	SK_NOT,
	SK_OR
};

static const struct skey {
	const char *name;
	const char *imap;
	enum skind kind;
} skeys[] = {
    {"all", "ALL", SK_NONE},
    {"answered", "ANSWERED", SK_NONE},
    {"replied", "ANSWERED", SK_NONE},
    {"deleted", "DELETED", SK_NONE},
    {"draft", "DRAFT", SK_NONE},
    {"flagged", "FLAGGED", SK_NONE},
    {"new", "NEW", SK_NONE},
    {"old", "OLD", SK_NONE},
    {"recent", "RECENT", SK_NONE},
    {"seen", "SEEN", SK_NONE},
    {"read", "SEEN", SK_NONE},
    {"unanswered", "UNANSWERED", SK_NONE},
    {"unreplied", "UNANSWERED", SK_NONE},
    {"undeleted", "UNDELETED", SK_NONE},
    {"undraft", "UNDRAFT", SK_NONE},
    {"unflagged", "UNFLAGGED", SK_NONE},
    {"unseen", "UNSEEN", SK_NONE},
    {"unread", "UNSEEN", SK_NONE},
    {"bcc", "BCC", SK_STR},
    {"body", "BODY", SK_STR},
    {"cc", "CC", SK_STR},
    {"from", "FROM", SK_STR},
    {"subject", "SUBJECT", SK_STR},
    {"text", "TEXT", SK_STR},
    {"to", "TO", SK_STR},
    {"emailid", "EMAILID", SK_STR},
    {"threadid", "THREADID", SK_STR},
    {"before", "BEFORE", SK_DATE},
    {"on", "ON", SK_DATE},
    {"since", "SINCE", SK_DATE},
    {"sentbefore", "SENTBEFORE", SK_DATE},
    {"senton", "SENTON", SK_DATE},
    {"sentsince", "SENTSINCE", SK_DATE},
    {"savedbefore", "SAVEDBEFORE", SK_DATE},
    {"savedon", "SAVEDON", SK_DATE},
    {"savedsince", "SAVEDSINCE", SK_DATE},
    {"larger", "LARGER", SK_SIZE},
    {"smaller", "SMALLER", SK_SIZE},
    {"older", "OLDER", SK_NUM},
    {"younger", "YOUNGER", SK_NUM},
    {"modseq", "MODSEQ", SK_NUM},
    {"keyword", "KEYWORD", SK_ATOM},
    {"unkeyword", "UNKEYWORD", SK_ATOM},
    {"header", "HEADER", SK_HEADER},
    {"uid", "UID", SK_UIDSET},
    {"not", "NOT", SK_NOT},
    {"or", "OR", SK_OR},
};

enum tkind { T_WORD, T_OPEN, T_CLOSE };

struct token {
	enum tkind kind;
	int word;      /* the argv word it came from */
	int glued;     /* T_CLOSE: at the end of a word with text */
	const char *p; /* T_WORD: text (not NUL-terminated: len) */
	size_t len;
};

/* The search parser: words cut into tokens (parentheses may touch keys
 * and values: "(from", "bob)"), then keys parsed by recursive descent
 * into the arguments of UID SEARCH. */
struct sparse {
	struct cli *c;
	char **words;
	struct token *t;
	size_t nt, i;
	int depth;
	struct ims_arg *out;
	size_t nout, cap;
	char (*store)[48]; /* converted values (dates, sizes), one per output */
	char **owned;      /* values cut from words, freed at the end */
	size_t nowned;
};

static ims_err sp_emit(struct sparse *sp, enum ims_arg_kind kind, const char *p, size_t len)
{
	if (sp->nout == sp->cap)
		return ims_error_set(&sp->c->err, IMS_ERR_USAGE, "search: too many keys");
	sp->out[sp->nout++] = (struct ims_arg){kind, p, len};
	return IMS_OK;
}

/* A converted value kept for the command's lifetime. */
static char *sp_slot(struct sparse *sp)
{
	return sp->store[sp->nout];
}

static int all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* 2026-01-31 (or 31-Jan-2026 as IMAP writes it) -> "31-Jan-2026". */
static int conv_date(const char *v, char *out, size_t n)
{
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
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

/* 1M, 10k, 1.5M, 12345 (K, M, G are powers of 1024; a trailing B or iB
 * is allowed) -> bytes, at most 4294967295. */
static int conv_size(const char *v, char *out, size_t n)
{
	char *end;
	double d;
	double mul = 1;

	if (!(v[0] >= '0' && v[0] <= '9'))
		return -1;
	errno = 0;
	d = strtod(v, &end);
	if (errno != 0 || end == v)
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		mul = 1024.0;
		end++;
		break;
	case 'm':
	case 'M':
		mul = 1024.0 * 1024;
		end++;
		break;
	case 'g':
	case 'G':
		mul = 1024.0 * 1024 * 1024;
		end++;
		break;
	default: break;
	}
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

static int is_atom(const char *p, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch <= 0x20 || ch >= 0x7f || strchr("(){%*\"\\]", ch) != NULL)
			return 0;
	}
	return 1;
}

/* The next value: a whole word, except that closing parentheses at its
 * end close open groups.  *v_r is NUL-terminated. */
static ims_err sp_value(struct sparse *sp, const char *key, const char **v_r, size_t *len_r)
{
	struct token *t;
	const char *w;
	size_t len, closes = 0;
	int wi;

	if (sp->i >= sp->nt)
		return ims_error_set(&sp->c->err, IMS_ERR_USAGE, "search: %s needs a value", key);
	t = &sp->t[sp->i];
	wi = t->word;
	w = sp->words[wi];
	len = strlen(w);
	if (t->kind == T_WORD) {
		size_t j = sp->i + 1;

		while (j < sp->nt && sp->t[j].word == wi && sp->t[j].kind == T_CLOSE)
			j++, closes++;
		if (closes > (size_t)sp->depth)
			closes = (size_t)sp->depth;
		len -= closes;
	} else if (t->kind == T_CLOSE && !t->glued && sp->depth > 0) {
		return ims_error_set(&sp->c->err, IMS_ERR_USAGE, "search: %s needs a value", key);
	}
	/* Skip the tokens of this word, but for the closes kept as closes. */
	while (sp->i < sp->nt && sp->t[sp->i].word == wi)
		sp->i++;
	sp->i -= closes;
	if (len != strlen(w)) {
		char *copy = strndup(w, len);

		if (copy == NULL)
			return nomem(sp->c);
		sp->owned[sp->nowned++] = copy;
		w = copy;
	}
	*v_r = w;
	*len_r = len;
	return IMS_OK;
}

static ims_err sp_key(struct sparse *sp, int level);

static ims_err sp_keys_until_close(struct sparse *sp, int level)
{
	size_t before = sp->nout;
	ims_err e;

	for (;;) {
		if (sp->i >= sp->nt)
			return ims_error_set(&sp->c->err, IMS_ERR_USAGE,
			                     "search: a '(' is not closed");
		if (sp->t[sp->i].kind == T_CLOSE) {
			sp->i++;
			if (sp->nout == before)
				return ims_error_set(&sp->c->err, IMS_ERR_USAGE,
				                     "search: empty parentheses");
			sp->depth--;
			return sp_emit(sp, IMS_ARG_RAW, ")", 1);
		}
		e = sp_key(sp, level + 1);
		if (e != IMS_OK)
			return e;
	}
}

static ims_err sp_key(struct sparse *sp, int level)
{
	const struct token *t;
	const struct skey *k = NULL;
	char word[64], *slot;
	const char *v, *v2;
	size_t i, len, len2;
	ims_err e;

	if (level > 100)
		return ims_error_set(&sp->c->err, IMS_ERR_USAGE, "search: nested too deeply");
	if (sp->i >= sp->nt)
		return ims_error_set(&sp->c->err, IMS_ERR_USAGE, "search: a search key is missing");
	t = &sp->t[sp->i];
	if (t->kind == T_OPEN) {
		sp->i++;
		sp->depth++;
		if ((e = sp_emit(sp, IMS_ARG_RAW, "(", 1)) != IMS_OK)
			return e;
		return sp_keys_until_close(sp, level);
	}
	if (t->kind == T_CLOSE)
		return ims_error_set(&sp->c->err, IMS_ERR_USAGE, "search: a ')' without '('");
	len = t->len < sizeof(word) ? t->len : sizeof(word) - 1;
	memcpy(word, t->p, len);
	word[len] = '\0';
	sp->i++;
	slot = sp_slot(sp);
	/* A message set: UIDs, or sequence numbers after '#'. */
	if (word[0] == '#' || (word[0] >= '0' && word[0] <= '9') || word[0] == '*') {
		struct msgarg m;

		if (t->len >= sizeof(word) - 1)
			return ims_error_set(&sp->c->err, IMS_ERR_USAGE,
			                     "search: a message set too long");
		if ((e = msgarg_parse(sp->c, word, &m)) != IMS_OK)
			return e;
		if (!m.seq && (e = sp_emit(sp, IMS_ARG_RAW, "UID", 0)) != IMS_OK) {
			msgarg_release(&m);
			return e;
		}
		slot = sp_slot(sp);
		if (m.set.len >= 48) {
			msgarg_release(&m);
			return ims_error_set(&sp->c->err, IMS_ERR_USAGE,
			                     "search: a message set too long");
		}
		memcpy(slot, m.set.data, m.set.len + 1);
		msgarg_release(&m);
		return sp_emit(sp, IMS_ARG_RAW, slot, 0);
	}
	for (i = 0; i < sizeof(skeys) / sizeof(skeys[0]); i++)
		if (strcasecmp(word, skeys[i].name) == 0) {
			k = &skeys[i];
			break;
		}
	if (k == NULL || t->len >= sizeof(word))
		return ims_error_set(&sp->c->err, IMS_ERR_USAGE,
		                     "search: unknown search key '%.*s'",
		                     (int)(t->len > 40 ? 40 : t->len), t->p);
	if ((e = sp_emit(sp, IMS_ARG_RAW, k->imap, 0)) != IMS_OK)
		return e;
	switch (k->kind) {
	case SK_NONE: return IMS_OK;
	case SK_NOT: return sp_key(sp, level + 1);
	case SK_OR:
		if ((e = sp_key(sp, level + 1)) != IMS_OK)
			return e;
		return sp_key(sp, level + 1);
	case SK_STR:
		if ((e = sp_value(sp, k->name, &v, &len)) != IMS_OK)
			return e;
		return sp_emit(sp, IMS_ARG_STRING, v, len);
	case SK_HEADER:
		if ((e = sp_value(sp, k->name, &v, &len)) != IMS_OK)
			return e;
		if ((e = sp_value(sp, k->name, &v2, &len2)) != IMS_OK)
			return e;
		if ((e = sp_emit(sp, IMS_ARG_STRING, v, len)) != IMS_OK)
			return e;
		return sp_emit(sp, IMS_ARG_STRING, v2, len2);
	case SK_DATE:
		if ((e = sp_value(sp, k->name, &v, &len)) != IMS_OK)
			return e;
		slot = sp_slot(sp);
		if (conv_date(v, slot, 48) != 0)
			return ims_error_set(&sp->c->err, IMS_ERR_USAGE,
			                     "search: %s: '%.40s' is not a date (2026-01-31 or "
			                     "31-Jan-2026)",
			                     k->name, v);
		return sp_emit(sp, IMS_ARG_RAW, slot, 0);
	case SK_SIZE:
	case SK_NUM:
		if ((e = sp_value(sp, k->name, &v, &len)) != IMS_OK)
			return e;
		slot = sp_slot(sp);
		if (k->kind == SK_SIZE && conv_size(v, slot, 48) != 0)
			return ims_error_set(&sp->c->err, IMS_ERR_USAGE,
			                     "search: %s: '%.40s' is not a size (12345, 10k, 1M)",
			                     k->name, v);
		if (k->kind == SK_NUM) {
			if (!all_digits(v) || len > 19)
				return ims_error_set(&sp->c->err, IMS_ERR_USAGE,
				                     "search: %s: '%.40s' is not a number", k->name,
				                     v);
			snprintf(slot, 48, "%s", v);
		}
		return sp_emit(sp, IMS_ARG_RAW, slot, 0);
	case SK_ATOM:
		if ((e = sp_value(sp, k->name, &v, &len)) != IMS_OK)
			return e;
		if (!is_atom(v, len) || v[0] == '\\')
			return ims_error_set(&sp->c->err, IMS_ERR_USAGE,
			                     "search: %s: '%.40s' is not a keyword", k->name, v);
		return sp_emit(sp, IMS_ARG_RAW, v, 0);
	case SK_UIDSET: {
		struct msgarg m;

		if ((e = sp_value(sp, k->name, &v, &len)) != IMS_OK)
			return e;
		if (v[0] == '#')
			return ims_error_set(&sp->c->err, IMS_ERR_USAGE,
			                     "search: uid takes UIDs, not '#'");
		if ((e = msgarg_parse(sp->c, v, &m)) != IMS_OK)
			return e;
		slot = sp_slot(sp);
		if (m.set.len >= 48) {
			msgarg_release(&m);
			return sp_emit(sp, IMS_ARG_RAW, v, 0); /* valid, as written */
		}
		memcpy(slot, m.set.data, m.set.len + 1);
		msgarg_release(&m);
		return sp_emit(sp, IMS_ARG_RAW, slot, 0);
	}
	}
	return IMS_OK;
}

/* Cut the words into tokens. */
static ims_err sp_tokenize(struct sparse *sp, int n)
{
	int wi;

	for (wi = 0; wi < n; wi++) {
		const char *w = sp->words[wi];
		size_t len = strlen(w), a = 0, b = len, k;

		while (a < len && w[a] == '(')
			sp->t[sp->nt++] = (struct token){T_OPEN, wi, 0, w + a++, 1};
		while (b > a && w[b - 1] == ')')
			b--;
		if (b > a)
			sp->t[sp->nt++] = (struct token){T_WORD, wi, 0, w + a, b - a};
		for (k = b; k < len; k++)
			sp->t[sp->nt++] = (struct token){T_CLOSE, wi, b > a, w + k, 1};
		if (len == 0)
			sp->t[sp->nt++] = (struct token){T_WORD, wi, 0, w, 0};
	}
	return IMS_OK;
}

static ims_err build_search(struct cli *c, char **words, int n, struct sparse *sp)
{
	size_t chars = 0;
	int i;
	ims_err e;

	memset(sp, 0, sizeof(*sp));
	sp->c = c;
	sp->words = words;
	for (i = 0; i < n; i++)
		chars += strlen(words[i]) + 2;
	sp->cap = chars + 8;
	sp->t = calloc(chars + 8, sizeof(*sp->t));
	sp->out = calloc(sp->cap, sizeof(*sp->out));
	sp->store = calloc(sp->cap + 1, sizeof(*sp->store));
	sp->owned = calloc((size_t)n + 1, sizeof(*sp->owned));
	if (sp->t == NULL || sp->out == NULL || sp->store == NULL || sp->owned == NULL)
		return nomem(c);
	if ((e = sp_tokenize(sp, n)) != IMS_OK)
		return e;
	while (sp->i < sp->nt)
		if ((e = sp_key(sp, 0)) != IMS_OK)
			return e;
	if (sp->nout == 0)
		return ims_error_set(&c->err, IMS_ERR_USAGE, "search: no search keys");
	return IMS_OK;
}

static void sparse_release(struct sparse *sp)
{
	size_t i;

	for (i = 0; i < sp->nowned; i++)
		free(sp->owned[i]);
	free(sp->owned);
	free(sp->t);
	free(sp->out);
	free(sp->store);
}

/* search KEY... */
static ims_err cmd_search(struct cli *c, int argc, char **argv)
{
	static const char u[] = "search KEY...";
	struct ims_search_result res;
	struct ims_words w;
	struct sparse sp;
	struct lopts lo;
	struct lister l;
	char **words;
	int n;
	ims_err e;

	if (parse_lopts(c, argc, argv, LO_LOOSE, u, &lo) != IMS_OK)
		return c->err.code;
	if (lo.npos == 0)
		return usage(c, u);
	words = lo.pos;
	n = lo.npos;
	/* One word with blanks or quotes is a whole query, as typed:
	 * imapsh search 'from "Bob Example" since 2026-01-01'. */
	ims_words_init(&w);
	if (n == 1 && strpbrk(words[0], " \t\"'") != NULL) {
		const char *rest = NULL;

		if (ims_words_split(words[0], &rest, &w, &c->err) != IMS_OK) {
			ims_words_release(&w);
			return c->err.code;
		}
		if (rest != NULL || w.n == 0 || w.n > 64) {
			ims_words_release(&w);
			return ims_error_set(&c->err, IMS_ERR_USAGE,
			                     "search: a query of 1 to 64 words without ';'");
		}
		words = w.v;
		n = (int)w.n;
	}
	e = build_search(c, words, n, &sp);
	if (e == IMS_OK)
		e = cli_ready(c);
	if (e != IMS_OK) {
		sparse_release(&sp);
		ims_words_release(&w);
		return e;
	}
	ims_search_result_init(&res);
	e = ims_session_uid_search(c->sess, sp.out, sp.nout, &res, &c->err);
	sparse_release(&sp);
	ims_words_release(&w);
	if (e == IMS_OK && res.n == 0) {
		ims_search_result_release(&res);
		/* grep's convention: nothing found is exit 1 (-q: silently). */
		if (c->o.quiet) {
			ims_error_init(&c->err);
			c->err.code = IMS_ERR_NO;
			return IMS_ERR_NO;
		}
		return ims_error_set(&c->err, IMS_ERR_NO, "search: no messages matched");
	}
	if (e == IMS_OK) {
		lister_init(&l, c, lo.json);
		e = list_uids(c, &l, res.uids, res.n);
		lister_release(&l);
	}
	ims_search_result_release(&res);
	if (e == IMS_OK)
		e = stdout_check(c);
	return e;
}

/* ---- fetch -------------------------------------------------------------------- */

struct fetcher {
	struct cli *c;
	int fd;
	int tty; /* sanitise for a terminal */
	int seq;
	uint32_t want; /* the UID, or the sequence number with seq */
	int found;
	int nil;      /* the server sent NIL for the body */
	uint32_t uid; /* of the message found (0: not told) */
	int streamed;
	int errnum;
	uint64_t bytes;
	struct ims_buf pend; /* tty: the unfinished line */
	struct ims_buf safe;
};

static int write_all(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0) {
			if (errno == EINTR && !cli_interrupted)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static ims_err fetch_flush(struct fetcher *x)
{
	struct ims_error e;

	ims_buf_reset(&x->safe);
	if (ims_sanitize(x->pend.data, x->pend.len, IMS_SANITIZE_TEXT, &x->safe, &e) != IMS_OK)
		return IMS_ERR_NOMEM;
	ims_buf_reset(&x->pend);
	if (write_all(x->fd, x->safe.data, x->safe.len) != 0) {
		x->errnum = errno;
		return IMS_ERR_IO;
	}
	return IMS_OK;
}

static ims_err fetch_write(void *ctx, const void *p, size_t n)
{
	struct fetcher *x = ctx;
	const char *s = p;

	if (cli_interrupted)
		return IMS_ERR_CANCELLED;
	x->bytes += n;
	if (!x->tty) {
		if (write_all(x->fd, p, n) != 0) {
			x->errnum = errno;
			return IMS_ERR_IO;
		}
		return IMS_OK;
	}
	/* A terminal: whole lines through the sanitiser, so that a
	 * character or an escape sequence is never cut in two. */
	while (n > 0) {
		const char *nl = memchr(s, '\n', n);
		size_t k = nl != NULL ? (size_t)(nl - s) + 1 : n;
		ims_err e;

		if (ims_buf_append(&x->pend, s, k) != IMS_OK)
			return IMS_ERR_NOMEM;
		if ((nl != NULL || x->pend.len >= 64 * 1024) && (e = fetch_flush(x)) != IMS_OK)
			return e;
		s += k;
		n -= k;
	}
	return IMS_OK;
}

/* The message asked for: the one number, or any for "*" (one message). */
static int fetch_is_ours(const struct fetcher *x, uint32_t seq, uint32_t uid)
{
	if (x->want == 0)
		return x->seq || uid != 0;
	return x->seq ? seq == x->want : uid == x->want;
}

static ims_err fetch_literal(void *ctx, const struct ims_literal_info *li, struct ims_sink *sink_r,
                             struct ims_error *err)
{
	struct fetcher *x = ctx;

	(void)err;
	if (li->kind != IMS_DATA_FETCH || li->nested || li->item == NULL ||
	    strncasecmp(li->item, "BODY[", 5) != 0 || x->streamed)
		return IMS_OK;
	/* UID comes before the body in the items we ask for. */
	if (!x->seq && li->uid == 0)
		return IMS_OK;
	if (!fetch_is_ours(x, li->number, li->uid))
		return IMS_OK;
	x->streamed = 1;
	sink_r->write = fetch_write;
	sink_r->ctx = x;
	return IMS_OK;
}

static ims_err fetch_message(void *ctx, const struct ims_fetch *f, struct ims_error *err)
{
	struct fetcher *x = ctx;
	size_t i;

	if (f->n_sections == 0 || x->found)
		return IMS_OK;
	if (!fetch_is_ours(x, f->seq, (f->have & IMS_FETCH_UID) ? f->uid : 0))
		return IMS_OK;
	for (i = 0; i < f->n_sections; i++) {
		const struct ims_value *v = f->sections[i].value;
		ims_err e;

		if (f->sections[i].binary || strncasecmp(f->sections[i].item, "BODY[", 5) != 0)
			continue;
		if (v != NULL && v->type == IMS_V_NIL) {
			x->nil = 1; /* not the message: the atom NIL is never written */
			continue;
		}
		x->found = 1;
		x->uid = (f->have & IMS_FETCH_UID) ? f->uid : 0;
		if (v == NULL || (v->flags & IMS_VF_STREAMED) || v->s == NULL)
			break;
		/* A small value that came quoted, or in memory. */
		if ((e = fetch_write(x, v->s, v->len)) != IMS_OK)
			return ims_error_set(err, e, "fetch: writing: %s", strerror(x->errnum));
		break;
	}
	if (x->found && x->tty && x->pend.len > 0)
		return fetch_flush(x);
	return IMS_OK;
}

/* A part number ("1", "1.2"), HEADER, TEXT, or a part's HEADER, TEXT or
 * MIME ("1.2.MIME"); upper-cased into out. */
static int section_ok(const char *s, char *out, size_t n)
{
	const char *p = s;
	size_t i;

	if (strlen(s) + 1 > n)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		out[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 32) : s[i];
	out[i] = '\0';
	p = out;
	while (*p >= '1' && *p <= '9') {
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p == '\0')
			return 1;
		if (*p != '.')
			return 0;
		p++;
		if (strcmp(p, "HEADER") == 0 || strcmp(p, "TEXT") == 0 || strcmp(p, "MIME") == 0)
			return 1;
	}
	if (p != out)
		return 0;
	return strcmp(p, "HEADER") == 0 || strcmp(p, "TEXT") == 0;
}

/* fetch UID [SECTION] */
static ims_err cmd_fetch(struct cli *c, int argc, char **argv)
{
	static const char u[] = "fetch UID [SECTION] [-o FILE]";
	struct fetcher x;
	struct lopts lo;
	struct msgarg m;
	struct ims_fetch_handler h;
	char section[64] = "", items[128], safe[512];
	struct ims_fs_out out;
	int to_file = 0;
	ims_err e;

	if (parse_lopts(c, argc, argv, LO_OUTPUT, u, &lo) != IMS_OK)
		return c->err.code;
	if (lo.npos < 1 || lo.npos > 2)
		return usage(c, u);
	if (lo.npos == 2 && !section_ok(lo.pos[1], section, sizeof(section)))
		return ims_error_set(
		    &c->err, IMS_ERR_USAGE,
		    "fetch: '%s' is not a section (1, 1.2, HEADER, TEXT, 1.HEADER, "
		    "1.TEXT, 1.MIME)",
		    lo.pos[1]);
	if (msgarg_parse(c, lo.pos[0], &m) != IMS_OK)
		return c->err.code;
	if (m.single == 0 && !m.star) {
		msgarg_release(&m);
		return ims_error_set(&c->err, IMS_ERR_USAGE, "fetch: one message, not '%s'",
		                     lo.pos[0]);
	}
	if ((e = cli_ready_ahead(c)) != IMS_OK) {
		msgarg_release(&m);
		return e;
	}
	memset(&x, 0, sizeof(x));
	x.c = c;
	x.seq = m.seq;
	x.want = m.single;
	x.fd = STDOUT_FILENO;
	x.tty = lo.output == NULL && c->out_tty;
	ims_buf_init(&x.pend, 0);
	ims_buf_init(&x.safe, 0);
	if (lo.output != NULL) {
		/* A new file beside the target, renamed over it when complete; a
		 * character device or a FIFO written through; a link or a
		 * directory refused (fsafe.h). */
		if (ims_fs_out_open(&out, lo.output, &c->err) != IMS_OK) {
			msgarg_release(&m);
			return ims_error_prefix(&c->err, "fetch: -o");
		}
		to_file = 1;
		x.fd = out.fd;
	} else {
		fflush(stdout);
	}
	snprintf(items, sizeof(items), "(UID BODY.PEEK[%s])", section);
	h.literal = fetch_literal;
	h.message = fetch_message;
	h.ctx = &x;
	if (m.seq)
		e = ims_session_seq_fetch(c->sess, m.set.data, items, &h, &c->err);
	else
		e = ims_session_uid_fetch(c->sess, m.set.data, items, &h, &c->err);
	if (e == IMS_OK && x.tty && x.pend.len > 0)
		e = fetch_flush(&x);
	if (e == IMS_ERR_IO && x.errnum != 0 && lo.output == NULL)
		e = cli_out_error(c, x.errnum);
	else if (e == IMS_ERR_IO && x.errnum != 0)
		e = ims_error_set(&c->err, IMS_ERR_IO, "fetch: writing %s: %s",
		                  lo.output != NULL ? lo.output : "to standard output",
		                  strerror(x.errnum));
	if (e == IMS_OK && !x.found)
		e = ims_error_set(
		    &c->err, IMS_ERR_NO, "fetch: %s %s%s in %s",
		    x.nil ? "the server sent no content (NIL) for message" : "no message",
		    m.seq ? "#" : "with UID ", m.set.data, cur_folder(c, safe, sizeof(safe)));
	if (to_file) {
		struct ims_error fe;

		ims_error_init(&fe);
		if (ims_fs_out_finish(&out, e == IMS_OK, &fe) != IMS_OK && e == IMS_OK)
			e = ims_error_set(&c->err, fe.code, "fetch: writing %s: %s", lo.output,
			                  fe.msg);
	}
	if (e == IMS_OK && lo.json && lo.output != NULL) {
		struct json_out j;

		json_init(&j, stdout);
		json_begin_object(&j);
		json_key(&j, "uid");
		if (x.uid != 0)
			(void)ims_json_uint(&j.w, x.uid);
		else
			json_null(&j);
		json_kv_str(&j, "section", section);
		json_kv_str(&j, "file", lo.output);
		json_kv_int(&j, "size", (int64_t)x.bytes);
		json_end_object(&j);
		json_finish(&j);
	}
	ims_buf_release(&x.pend);
	ims_buf_release(&x.safe);
	msgarg_release(&m);
	if (e == IMS_OK && lo.json && lo.output != NULL)
		e = stdout_check(c);
	return e;
}

/* ---- flag, unflag ----------------------------------------------------------------- */

static void json_uids(struct json_out *j, const char *key, const uint32_t *v, size_t n)
{
	size_t i;

	json_key(j, key);
	json_begin_array(j);
	for (i = 0; i < n; i++)
		(void)ims_json_uint(&j->w, v[i]);
	json_end_array(j);
}

static ims_err flag_common(struct cli *c, int argc, char **argv, enum ims_store_op op)
{
	const char *u = op == IMS_STORE_ADD ? "flag UIDS FLAG..." : "unflag UIDS FLAG...";
	const char *flags[MAX_FLAGS];
	struct ims_search_result res;
	struct ims_buf set;
	struct lopts lo;
	struct msgarg m;
	size_t nf = 0, i;
	int k;
	ims_err e;

	if (parse_lopts(c, argc, argv, 0, u, &lo) != IMS_OK)
		return c->err.code;
	if (lo.npos < 2)
		return usage(c, u);
	for (k = 1; k < lo.npos; k++) {
		if (nf == MAX_FLAGS)
			return ims_error_set(&c->err, IMS_ERR_USAGE, "at most %d flags", MAX_FLAGS);
		if (flag_word(c, lo.pos[k], &flags[nf++]) != IMS_OK)
			return c->err.code;
	}
	if (msgarg_parse(c, lo.pos[0], &m) != IMS_OK)
		return c->err.code;
	ims_search_result_init(&res);
	ims_buf_init(&set, 0);
	e = cli_ready(c);
	if (e == IMS_OK)
		e = resolve_uids(c, argv[0], &m, &res);
	if (e == IMS_OK)
		e = uids_format(c, res.uids, res.n, &set);
	if (e == IMS_OK)
		e = ims_session_uid_store(c->sess, set.data, op, flags, nf, 1, NULL, &c->err);
	if (e == IMS_OK && lo.json) {
		struct json_out j;

		json_init(&j, stdout);
		json_begin_object(&j);
		json_uids(&j, "uids", res.uids, res.n);
		json_key(&j, op == IMS_STORE_ADD ? "added" : "removed");
		json_begin_array(&j);
		for (i = 0; i < nf; i++)
			json_str(&j, flags[i]);
		json_end_array(&j);
		json_end_object(&j);
		json_finish(&j);
	} else if (e == IMS_OK && c->out_tty && !c->o.quiet) {
		printf("%s %zu message%s:", op == IMS_STORE_ADD ? "flagged" : "unflagged", res.n,
		       res.n == 1 ? "" : "s");
		for (i = 0; i < nf; i++)
			printf(" %s", flags[i]);
		putchar('\n');
	}
	ims_buf_release(&set);
	ims_search_result_release(&res);
	msgarg_release(&m);
	if (e == IMS_OK)
		e = stdout_check(c);
	return e;
}

static ims_err cmd_flag(struct cli *c, int argc, char **argv)
{
	return flag_common(c, argc, argv, IMS_STORE_ADD);
}

static ims_err cmd_unflag(struct cli *c, int argc, char **argv)
{
	return flag_common(c, argc, argv, IMS_STORE_REMOVE);
}

/* ---- copy, move ------------------------------------------------------------------- */

/* Walk a sequence set as the server wrote it, in its order (COPYUID pairs
 * the source and destination sets element by element). */
struct set_walk {
	const char *p;
	uint32_t cur, end;
	int active;
};

static int set_next(struct set_walk *w, uint32_t *v_r)
{
	if (!w->active) {
		uint64_t a, b;
		const char *end;

		if (*w->p == ',')
			w->p++;
		end = w->p + strspn(w->p, "0123456789");
		if (ims_number_parse(w->p, (size_t)(end - w->p), 1, IMS_SEQ_MAXNUM, &a) != 0)
			return 0;
		b = a;
		if (*end == ':') {
			const char *q = end + 1;

			end = q + strspn(q, "0123456789");
			if (ims_number_parse(q, (size_t)(end - q), 1, IMS_SEQ_MAXNUM, &b) != 0)
				return 0;
		}
		w->p = end;
		w->cur = (uint32_t)(a < b ? a : b);
		w->end = (uint32_t)(a < b ? b : a);
		w->active = 1;
	}
	*v_r = w->cur;
	if (w->cur == w->end)
		w->active = 0;
	else
		w->cur++;
	return 1;
}

static ims_err copy_common(struct cli *c, int argc, char **argv, int move)
{
	const char *u = move ? "move UIDS FOLDER" : "copy UIDS FOLDER";
	struct ims_search_result res;
	struct ims_copy_result cr;
	struct ims_buf set, wire;
	struct lopts lo;
	struct msgarg m;
	char safe[512];
	ims_err e;

	if (parse_lopts(c, argc, argv, 0, u, &lo) != IMS_OK)
		return c->err.code;
	if (lo.npos != 2)
		return usage(c, u);
	if (msgarg_parse(c, lo.pos[0], &m) != IMS_OK)
		return c->err.code;
	ims_search_result_init(&res);
	ims_copy_result_init(&cr);
	ims_buf_init(&set, 0);
	ims_buf_init(&wire, 0);
	cli_safe(lo.pos[1], safe, sizeof(safe));
	e = cli_ready(c);
	if (e == IMS_OK)
		e = cli_mbox_encode(c, lo.pos[1], &wire);
	if (e == IMS_OK)
		e = resolve_uids(c, move ? "move" : "copy", &m, &res);
	if (e == IMS_OK)
		e = uids_format(c, res.uids, res.n, &set);
	if (e == IMS_OK) {
		if (move)
			e = ims_session_uid_move(c->sess, set.data, wire.data, wire.len, &cr,
			                         &c->err);
		else
			e = ims_session_uid_copy(c->sess, set.data, wire.data, wire.len, &cr,
			                         &c->err);
		e = folder_hint(c, e);
	}
	if (e == IMS_OK) {
		struct set_walk ws = {cr.src_uids, 0, 0, 0}, wd = {cr.dst_uids, 0, 0, 0};
		uint32_t s, d;
		struct json_out j;

		if (lo.json) {
			json_init(&j, stdout);
			json_begin_object(&j);
			json_kv_str(&j, "folder", lo.pos[1]);
			json_uids(&j, "uids", res.uids, res.n);
			json_kv_bool(&j, "moved", cr.moved);
			json_kv_bool(&j, "left_deleted", cr.left_deleted);
			json_key(&j, "uidvalidity");
			if (cr.have_uids)
				(void)ims_json_uint(&j.w, cr.uidvalidity);
			else
				json_null(&j);
			json_key(&j, "map");
			json_begin_array(&j);
		} else if (c->out_tty && !c->o.quiet) {
			printf("%s %zu message%s to %s\n", move ? "moved" : "copied", res.n,
			       res.n == 1 ? "" : "s", safe);
		}
		while (cr.have_uids && set_next(&ws, &s) && set_next(&wd, &d)) {
			if (lo.json) {
				json_begin_object(&j);
				json_kv_int(&j, "uid", s);
				json_kv_int(&j, "new_uid", d);
				json_end_object(&j);
			} else if (c->out_tty) {
				if (!c->o.quiet)
					printf("  %u -> %u\n", (unsigned)s, (unsigned)d);
			} else {
				struct tsv t;

				tsv_begin(&t, stdout);
				tsv_fieldf(&t, "%u", (unsigned)s);
				tsv_fieldf(&t, "%u", (unsigned)d);
				(void)tsv_end(&t);
			}
		}
		if (lo.json) {
			json_end_array(&j);
			json_end_object(&j);
			json_finish(&j);
		}
		if (cr.left_deleted)
			cli_warn("move: the originals are flagged \\Deleted but still there: the "
			         "server cannot expunge single messages (no UIDPLUS); 'expunge' "
			         "removes them");
		e = stdout_check(c);
	}
	ims_buf_release(&set);
	ims_buf_release(&wire);
	ims_copy_result_release(&cr);
	ims_search_result_release(&res);
	msgarg_release(&m);
	return e;
}

static ims_err cmd_copy(struct cli *c, int argc, char **argv)
{
	return copy_common(c, argc, argv, 0);
}

static ims_err cmd_move(struct cli *c, int argc, char **argv)
{
	return copy_common(c, argc, argv, 1);
}

/* ---- delete, expunge ---------------------------------------------------------------- */

static ims_err cmd_delete(struct cli *c, int argc, char **argv)
{
	static const char u[] = "delete UIDS [--expunge]";
	static const char *const deleted[] = {"\\Deleted"};
	struct ims_search_result res;
	struct ims_buf set;
	struct lopts lo;
	struct msgarg m;
	char safe[512];
	ims_err e;

	if (parse_lopts(c, argc, argv, LO_EXPUNGE, u, &lo) != IMS_OK)
		return c->err.code;
	if (lo.npos != 1)
		return usage(c, u);
	if (msgarg_parse(c, lo.pos[0], &m) != IMS_OK)
		return c->err.code;
	if ((e = cli_ready(c)) != IMS_OK) {
		msgarg_release(&m);
		return e;
	}
	if (lo.expunge && !ims_session_has_cap(c->sess, "UIDPLUS") &&
	    !ims_session_has_cap(c->sess, "IMAP4rev2")) {
		msgarg_release(&m);
		return ims_error_set(&c->err, IMS_ERR_NO,
		                     "delete --expunge: the server cannot expunge single messages "
		                     "(no UIDPLUS); delete, then expunge the folder");
	}
	ims_search_result_init(&res);
	ims_buf_init(&set, 0);
	e = resolve_uids(c, "delete", &m, &res);
	if (e == IMS_OK)
		e = uids_format(c, res.uids, res.n, &set);
	if (e == IMS_OK && c->interactive) {
		char q[700];

		snprintf(q, sizeof(q), "%s %zu message%s in %s?",
		         lo.expunge ? "delete and expunge" : "delete", res.n, res.n == 1 ? "" : "s",
		         cur_folder(c, safe, sizeof(safe)));
		if (!cli_confirm(c, q))
			e = ims_error_set(&c->err, IMS_ERR_CANCELLED, "delete: nothing deleted");
	}
	if (e == IMS_OK)
		e = ims_session_uid_store(c->sess, set.data, IMS_STORE_ADD, deleted, 1, 1, NULL,
		                          &c->err);
	if (e == IMS_OK && lo.expunge)
		e = ims_session_uid_expunge(c->sess, set.data, &c->err);
	if (e == IMS_OK) {
		if (lo.json) {
			struct json_out j;

			json_init(&j, stdout);
			json_begin_object(&j);
			json_uids(&j, "uids", res.uids, res.n);
			json_kv_bool(&j, "expunged", lo.expunge);
			json_end_object(&j);
			json_finish(&j);
		} else if (c->out_tty && !c->o.quiet) {
			printf("%s %zu message%s%s\n", lo.expunge ? "deleted" : "flagged", res.n,
			       res.n == 1 ? "" : "s",
			       lo.expunge ? "" : " \\Deleted ('expunge' removes them)");
		}
		e = stdout_check(c);
	}
	ims_buf_release(&set);
	ims_search_result_release(&res);
	msgarg_release(&m);
	return e;
}

static ims_err cmd_expunge(struct cli *c, int argc, char **argv)
{
	static const char u[] = "expunge";
	struct lopts lo;
	uint64_t n = 0;
	char safe[512];
	ims_err e;

	if (parse_lopts(c, argc, argv, 0, u, &lo) != IMS_OK)
		return c->err.code;
	if (lo.npos != 0)
		return usage(c, u);
	if ((e = cli_ready(c)) != IMS_OK)
		return e;
	cur_folder(c, safe, sizeof(safe));
	if (c->interactive) {
		char q[700];

		snprintf(q, sizeof(q), "remove every message flagged \\Deleted from %s?", safe);
		if (!cli_confirm(c, q))
			return ims_error_set(&c->err, IMS_ERR_CANCELLED,
			                     "expunge: nothing removed");
	}
	e = ims_session_expunge(c->sess, &n, &c->err);
	if (e != IMS_OK)
		return e;
	if (lo.json) {
		struct json_out j;

		json_init(&j, stdout);
		json_begin_object(&j);
		json_kv_str(&j, "folder", c->folder);
		json_kv_int(&j, "expunged", (int64_t)n);
		json_end_object(&j);
		json_finish(&j);
	} else if (c->out_tty && !c->o.quiet) {
		printf("expunged %llu message%s from %s\n", (unsigned long long)n,
		       n == 1 ? "" : "s", safe);
	}
	return stdout_check(c);
}

/* ---- append -------------------------------------------------------------------------- */

struct fd_source {
	int fd;
	int errnum;
};

static ims_err fd_read(void *ctx, void *p, size_t len, size_t *got_r)
{
	struct fd_source *s = ctx;

	for (;;) {
		ssize_t r = read(s->fd, p, len);

		if (r < 0 && errno == EINTR && !cli_interrupted)
			continue;
		if (r < 0) {
			s->errnum = errno;
			return IMS_ERR_IO;
		}
		*got_r = (size_t)r;
		return IMS_OK;
	}
}

/* Standard input (or a pipe, a FIFO) into an unlinked temporary file, so
 * that the size is known before the upload starts. */
static ims_err spool(struct cli *c, int in, int *fd_r)
{
	char buf[64 * 1024];
	int fd = ims_fs_anon_tmp(&c->err);

	if (fd < 0)
		return ims_error_prefix(&c->err, "append: a temporary file");
	for (;;) {
		ssize_t r = read(in, buf, sizeof(buf));

		if (r < 0 && errno == EINTR && !cli_interrupted)
			continue;
		if (r < 0) {
			int en = errno;

			close(fd);
			return ims_error_set(&c->err, IMS_ERR_IO, "append: reading: %s",
			                     strerror(en));
		}
		if (r == 0)
			break;
		if (write_all(fd, buf, (size_t)r) != 0) {
			int en = errno;

			close(fd);
			return ims_error_set(&c->err, IMS_ERR_IO, "append: a temporary file: %s",
			                     strerror(en));
		}
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return ims_error_set(&c->err, IMS_ERR_IO, "append: %s", strerror(errno));
	}
	*fd_r = fd;
	return IMS_OK;
}

/* --date: IMAP's "17-Jul-1996 02:44:25 -0700" as it is, or ISO 8601
 * "2026-01-31", "2026-01-31 10:00[:00]", "2026-01-31T10:00:00[Z|+02:00]"
 * (local time without a zone). */
static int conv_datetime(const char *v, char *out, size_t n)
{
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	int y, mo, d, hh = 0, mi = 0, ss = 0, k = 0;
	long off;
	const char *p;
	int64_t epoch;
	struct tm tm;

	if (ims_parse_date_time(v, &epoch) == IMS_OK) {
		snprintf(out, n, "%s", v);
		return 0;
	}
	if (sscanf(v, "%4d-%2d-%2d%n", &y, &mo, &d, &k) != 3 || k != 10)
		return -1;
	p = v + k;
	if (*p == 'T' || *p == ' ') {
		k = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &hh, &mi, &k) != 2 || k != 5)
			return -1;
		p += 1 + k;
		if (*p == ':') {
			k = 0;
			if (sscanf(p + 1, "%2d%n", &ss, &k) != 1 || k != 2)
				return -1;
			p += 1 + k;
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mi > 59 || ss > 60 || y < 1900)
		return -1;
	if (*p == 'Z' && p[1] == '\0') {
		off = 0;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		int oh, om;

		if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2 || oh > 23 || om > 59)
			return -1;
		off = (oh * 60 + om) * (*p == '-' ? -1 : 1);
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
		off = tm.tm_gmtoff / 60;
	} else {
		return -1;
	}
	snprintf(out, n, "%02d-%s-%04d %02d:%02d:%02d %c%02ld%02ld", d, mon[mo - 1], y, hh, mi, ss,
	         off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
	return 0;
}

static ims_err cmd_append(struct cli *c, int argc, char **argv)
{
	static const char u[] = "append FOLDER FILE [--flags FLAG,...] [--date DATE]";
	const char *flags[MAX_FLAGS];
	char flagbuf[1024], date[64], safe[512];
	struct ims_append_result ar;
	struct ims_source src;
	struct fd_source fs = {-1, 0};
	struct ims_buf wire;
	struct lopts lo;
	struct stat st;
	size_t nf = 0;
	const char *file;
	ims_err e;

	if (parse_lopts(c, argc, argv, LO_APPEND, u, &lo) != IMS_OK)
		return c->err.code;
	if (lo.npos != 2)
		return usage(c, u);
	file = lo.pos[1];
	if (lo.flags != NULL) {
		char *p, *save = NULL;

		if (strlen(lo.flags) >= sizeof(flagbuf))
			return ims_error_set(&c->err, IMS_ERR_USAGE, "append: --flags is too long");
		snprintf(flagbuf, sizeof(flagbuf), "%s", lo.flags);
		for (p = strtok_r(flagbuf, ", ", &save); p != NULL;
		     p = strtok_r(NULL, ", ", &save)) {
			if (nf == MAX_FLAGS)
				return ims_error_set(&c->err, IMS_ERR_USAGE, "at most %d flags",
				                     MAX_FLAGS);
			if (flag_word(c, p, &flags[nf]) != IMS_OK)
				return c->err.code;
			/* flag_word may return p itself: it lives in flagbuf. */
			nf++;
		}
	}
	if (lo.date != NULL && conv_datetime(lo.date, date, sizeof(date)) != 0)
		return ims_error_set(
		    &c->err, IMS_ERR_USAGE,
		    "append: --date '%s': want 2026-01-31, 2026-01-31T10:00:00+01:00 "
		    "or 31-Jan-2026 10:00:00 +0100",
		    lo.date);
	/* The message: a regular file as it is; anything else spooled. */
	if (strcmp(file, "-") == 0) {
		fs.fd = dup(STDIN_FILENO);
	} else {
		fs.fd = open(file, O_RDONLY | O_CLOEXEC);
	}
	if (fs.fd < 0)
		return ims_error_set(&c->err, IMS_ERR_IO, "append: %s: %s",
		                     strcmp(file, "-") == 0 ? "standard input" : file,
		                     strerror(errno));
	if (fstat(fs.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		int sp;

		if (fstat(fs.fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			close(fs.fd);
			return ims_error_set(&c->err, IMS_ERR_USAGE, "append: %s is a directory",
			                     file);
		}
		e = spool(c, fs.fd, &sp);
		close(fs.fd);
		if (e != IMS_OK)
			return e;
		fs.fd = sp;
		if (fstat(fs.fd, &st) != 0) {
			close(fs.fd);
			return ims_error_set(&c->err, IMS_ERR_IO, "append: %s", strerror(errno));
		}
	}
	{
		/* Standard input may be a file read in part already. */
		off_t pos = lseek(fs.fd, 0, SEEK_CUR);

		if (pos > 0 && pos <= st.st_size)
			st.st_size -= pos;
	}
	if (st.st_size == 0) {
		close(fs.fd);
		return ims_error_set(&c->err, IMS_ERR_USAGE, "append: %s is empty",
		                     strcmp(file, "-") == 0 ? "standard input" : file);
	}
	if ((e = cli_ready(c)) != IMS_OK) {
		close(fs.fd);
		return e;
	}
	ims_buf_init(&wire, 0);
	e = cli_mbox_encode(c, lo.pos[0], &wire);
	src.read = fd_read;
	src.ctx = &fs;
	if (e == IMS_OK) {
		e = ims_session_append(c->sess, wire.data, wire.len, nf > 0 ? flags : NULL, nf,
		                       lo.date != NULL ? date : NULL, (uint64_t)st.st_size, &src,
		                       &ar, &c->err);
		e = folder_hint(c, e);
		if (e != IMS_OK && fs.errnum != 0)
			e = ims_error_set(&c->err, IMS_ERR_IO, "append: reading %s: %s", file,
			                  strerror(fs.errnum));
	}
	close(fs.fd);
	ims_buf_release(&wire);
	if (e != IMS_OK)
		return e;
	cli_safe(lo.pos[0], safe, sizeof(safe));
	if (lo.json) {
		struct json_out j;

		json_init(&j, stdout);
		json_begin_object(&j);
		json_kv_str(&j, "folder", lo.pos[0]);
		json_key(&j, "uidvalidity");
		if (ar.have_uid)
			(void)ims_json_uint(&j.w, ar.uidvalidity);
		else
			json_null(&j);
		json_key(&j, "uid");
		if (ar.have_uid)
			(void)ims_json_uint(&j.w, ar.uid);
		else
			json_null(&j);
		json_kv_int(&j, "size", (int64_t)st.st_size);
		json_end_object(&j);
		json_finish(&j);
	} else if (c->out_tty) {
		if (!c->o.quiet) {
			if (ar.have_uid)
				printf("appended to %s as UID %u\n", safe, (unsigned)ar.uid);
			else
				printf("appended to %s\n", safe);
		}
	} else if (ar.have_uid) {
		printf("%u\n", (unsigned)ar.uid);
	}
	return stdout_check(c);
}

/* ---- the table ------------------------------------------------------------------------- */

/* clang-format off */
static const struct cli_cmd message_cmds[] = {
	{ .name = "list", .aliases = { "headers" }, .usage = "list [UIDS]",
	  .summary = "one line a message: UID, flags, date, from, subject, size (default: the newest)",
	  .max_args = -1, .flags = CMD_FOLDER | CMD_ARGS_FIRST, .run = cmd_list, .opts = no_opts },
	{ .name = "search", .aliases = { "find" }, .usage = "search KEY...",
	  .summary = "messages that match: from x, since 2026-01-01, unread, larger 1M, IMAP keys",
	  .min_args = 1, .max_args = -1, .flags = CMD_FOLDER | CMD_ARGS_FIRST, .run = cmd_search,
	  .opts = no_opts },
	{ .name = "fetch", .aliases = { "cat" }, .usage = "fetch UID [SECTION]",
	  .summary = "the raw message (or a section: 1.2, HEADER, TEXT) to stdout or -o FILE",
	  .min_args = 1, .max_args = -1, .flags = CMD_FOLDER | CMD_ARGS_FIRST, .run = cmd_fetch,
	  .opts = fetch_opts },
	{ .name = "flag", .usage = "flag UIDS FLAG...",
	  .summary = "set flags: seen, flagged, answered, deleted, draft or a keyword",
	  .min_args = 2, .max_args = -1, .flags = CMD_FOLDER | CMD_WRITE | CMD_ARGS_FIRST, .run = cmd_flag,
	  .opts = no_opts },
	{ .name = "unflag", .usage = "unflag UIDS FLAG...", .summary = "clear flags",
	  .min_args = 2, .max_args = -1, .flags = CMD_FOLDER | CMD_WRITE | CMD_ARGS_FIRST, .run = cmd_unflag,
	  .opts = no_opts },
	{ .name = "copy", .aliases = { "cp" }, .usage = "copy UIDS FOLDER",
	  .summary = "copy messages to a folder", .min_args = 2, .max_args = -1,
	  .flags = CMD_FOLDER | CMD_ARGS_FIRST, .run = cmd_copy, .opts = no_opts },
	{ .name = "move", .aliases = { "mv" }, .usage = "move UIDS FOLDER",
	  .summary = "move messages to a folder (MOVE, or COPY and expunge just those)",
	  .min_args = 2, .max_args = -1, .flags = CMD_FOLDER | CMD_WRITE | CMD_ARGS_FIRST, .run = cmd_move,
	  .opts = no_opts },
	{ .name = "delete", .aliases = { "rm" }, .usage = "delete UIDS [--expunge]",
	  .summary = "flag messages deleted; --expunge removes just those at once",
	  .min_args = 1, .max_args = -1, .flags = CMD_FOLDER | CMD_WRITE | CMD_DESTRUCTIVE | CMD_ARGS_FIRST,
	  .run = cmd_delete, .opts = delete_opts },
	{ .name = "expunge", .usage = "expunge",
	  .summary = "remove the messages flagged deleted from the folder",
	  .max_args = -1, .flags = CMD_FOLDER | CMD_WRITE | CMD_DESTRUCTIVE | CMD_ARGS_FIRST, .run = cmd_expunge,
	  .opts = no_opts },
	{ .name = "append", .usage = "append FOLDER FILE",
	  .summary = "upload a message from FILE (- for stdin); --flags, --date",
	  .min_args = 2, .max_args = -1, .flags = CMD_LOGIN | CMD_ARGS_FIRST, .run = cmd_append,
	  .opts = append_opts },
};
/* clang-format on */

const struct cli_cmd_group cli_group_messages = {message_cmds,
                                                 sizeof(message_cmds) / sizeof(message_cmds[0])};
