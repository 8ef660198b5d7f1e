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
#include "cli/msgarg.h"
#include "imapsh/fsafe.h"
#include "imapsh/caps.h"
#include "cli/output.h"
#include "imapsh/json.h"
#include "imapsh/number.h"
#include "imapsh/rfc2047.h"
#include "imapsh/sanitize.h"
#include "imapsh/seqset.h"
#include "imapsh/session.h"
#include "imapsh/words.h"
#include "imapsh/textwidth.h"
#include "imapsh/search.h"
#include "imapsh/units.h"

#define FETCH_WINDOW   500 /* UIDs in one UID FETCH of search results */
#define PIPE_LIST_SIZE 50  /* messages "list" shows on a pipe */
#define MAX_FLAGS      32  /* flags in one flag/unflag/append */

/* clang-format off */
static const struct cli_opt fetch_opts[] = {
	CLI_OPT_OUTPUT("FILE", "write to FILE (made safely, never over another), - for stdout"),
	CLI_OPT_JSON,
	CLI_OPT_LIST_END,
};
static const struct cli_opt delete_opts[] = {
	CLI_FLAG("expunge", 0, "remove just these messages at once (UID EXPUNGE)"),
	CLI_OPT_JSON,
	CLI_OPT_LIST_END,
};
static const struct cli_opt append_opts[] = {
	CLI_VALUE("flags", 0, CLI_OPT_STRING, "FLAG,...", "set these flags on the new message"),
	CLI_VALUE("date", 0, CLI_OPT_STRING, "DATE", "its internal date (default: now)"),
	CLI_OPT_JSON,
	CLI_OPT_LIST_END,
};
/* clang-format on */

/* ---- helpers ------------------------------------------------------------ */

static ims_err usage(struct cli *c, const char *u)
{
	return ims_error_set(&c->err, IMS_ERR_USAGE, "usage: %s", u);
}

/* A message command's operands and options, read by the dispatcher
 * against the table's declaration (--json and -o/--output are set in c->o
 * for the command; "-o -" is standard output). */
struct lopts {
	int json;
	const char *output;
	int expunge;
	const char *flags;
	const char *date;
	char **pos;
	int npos;
};

static void read_lopts(struct cli *c, int argc, char **argv, struct lopts *lo)
{
	memset(lo, 0, sizeof(*lo));
	lo->json = c->o.json;
	lo->output = c->o.output;
	lo->expunge = cli_opt_flag(&c->args, "expunge");
	lo->flags = cli_opt_str(&c->args, "flags");
	lo->date = cli_opt_str(&c->args, "date");
	lo->pos = argv + 1;
	lo->npos = argc - 1;
	if (lo->output != NULL && strcmp(lo->output, "-") == 0)
		lo->output = NULL;
}

/* The folder the command works on, for messages ("INBOX"). */
static const char *cur_folder(struct cli *c, char *buf, size_t n)
{
	return cli_safe(c->folder[0] != '\0' ? c->folder : "the folder", buf, n);
}

/* ---- message arguments ---------------------------------------------------- */

/* A message argument (msgarg.h: the one grammar). */
static void msgarg_release(struct cli_msgarg *m)
{
	cli_msgarg_release(m);
}

static ims_err msgarg_parse(struct cli *c, const char *word, struct cli_msgarg *m)
{
	cli_msgarg_init(m);
	return cli_msgarg_parse(word, m, &c->err);
}

/* The UIDs of the messages m names that exist now (UID SEARCH), ascending.
 * None is IMS_ERR_NO with words. */
static ims_err resolve_uids(struct cli *c, const char *what, const struct cli_msgarg *m,
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
	ims_buf_init(&l->from, IMS_CAP_LIST_FROM);
	ims_buf_init(&l->addr, IMS_CAP_LIST_FROM);
	ims_buf_init(&l->subj, IMS_CAP_LIST_SUBJECT);
	ims_buf_init(&l->tmp, IMS_CAP_LIST_SUBJECT);
	ims_buf_init(&l->line, IMS_CAP_LIST_LINE);
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
		ims_size_short(f->rfc822_size, size, sizeof(size));
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
			e = ims_text_fit(line, bufstr(&l->tmp), fromw, 1);
		if (e == IMS_OK)
			e = ims_buf_puts(line, "  ");
		safe_into(bufstr(&l->subj), &l->tmp);
		if (e == IMS_OK)
			e = ims_text_fit(line, bufstr(&l->tmp), subjw, 1);
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
	struct cli_msgarg m;
	char safe[512];
	ims_err e;

	read_lopts(c, argc, argv, &lo);
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

/* The search compiler reads message sets as every command does. */
static ims_err search_set(void *ctx, const char *word, int *seq_r, struct ims_buf *set_r,
                          struct ims_error *err)
{
	struct cli *c = ctx;
	struct cli_msgarg m;
	ims_err e;

	if (msgarg_parse(c, word, &m) != IMS_OK)
		return ims_error_copy(err, &c->err);
	*seq_r = m.seq;
	e = ims_buf_append(set_r, m.set.data, m.set.len);
	msgarg_release(&m);
	return e == IMS_OK ? IMS_OK : ims_error_nomem(err);
}

/* search KEY... */
static ims_err cmd_search(struct cli *c, int argc, char **argv)
{
	static const char u[] = "search KEY...";
	struct ims_search_result res;
	struct ims_words w;
	struct ims_search_prog prog;
	struct lopts lo;
	struct lister l;
	char **words;
	int n;
	ims_err e;

	read_lopts(c, argc, argv, &lo);
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
	ims_search_prog_init(&prog);
	e = ims_search_compile(&prog, words, (size_t)n, search_set, c, &c->err);
	if (e == IMS_OK)
		e = cli_ready(c);
	if (e != IMS_OK) {
		ims_search_prog_release(&prog);
		ims_words_release(&w);
		return e;
	}
	ims_search_result_init(&res);
	e = ims_session_uid_search(c->sess, prog.keys, prog.n, &res, &c->err);
	ims_search_prog_release(&prog);
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

/* The sink of fetch: the body to a file or a pipe as it is, to a
 * terminal line by line through the sanitiser. */
struct fetcher {
	struct cli *c;
	int fd;
	int tty; /* sanitise for a terminal */
	int errnum;
	uint64_t bytes;
	struct ims_buf pend; /* tty: the unfinished line */
	struct ims_buf safe;
};

static ims_err fetch_flush(struct fetcher *x)
{
	struct ims_error e;

	ims_buf_reset(&x->safe);
	if (ims_sanitize(x->pend.data, x->pend.len, IMS_SANITIZE_TEXT, &x->safe, &e) != IMS_OK)
		return IMS_ERR_NOMEM;
	ims_buf_reset(&x->pend);
	if (ims_fs_write_all(x->fd, x->safe.data, x->safe.len, &cli_interrupted) != 0) {
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
		if (ims_fs_write_all(x->fd, p, n, &cli_interrupted) != 0) {
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
	struct cli_msgarg m;
	struct ims_body_fetch b;
	char section[64] = "", safe[512];
	struct ims_fs_out out;
	int to_file = 0;
	ims_err e;

	read_lopts(c, argc, argv, &lo);
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
	memset(&b, 0, sizeof(b));
	b.set = m.set.data;
	b.want = m.single;
	b.seq = m.seq;
	b.section = section;
	b.sink = (struct ims_sink){fetch_write, &x};
	e = ims_session_fetch_body(c->sess, &b, &c->err);
	if (e == IMS_OK && x.tty && x.pend.len > 0)
		e = fetch_flush(&x);
	if (e == IMS_ERR_IO && x.errnum != 0 && lo.output == NULL)
		e = cli_out_error(c, x.errnum);
	else if (e == IMS_ERR_IO && x.errnum != 0)
		e = ims_error_set(&c->err, IMS_ERR_IO, "fetch: writing %s: %s",
		                  lo.output != NULL ? lo.output : "to standard output",
		                  strerror(x.errnum));
	if (e == IMS_OK && !b.found)
		e = ims_error_set(
		    &c->err, IMS_ERR_NO, "fetch: %s %s%s in %s",
		    b.nil ? "the server sent no content (NIL) for message" : "no message",
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
		if (b.uid != 0)
			(void)ims_json_uint(&j.w, b.uid);
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
	struct cli_msgarg m;
	size_t nf = 0, i;
	int k;
	ims_err e;

	read_lopts(c, argc, argv, &lo);
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
	struct cli_msgarg m;
	char safe[512];
	ims_err e;

	read_lopts(c, argc, argv, &lo);
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
	struct cli_msgarg m;
	char safe[512];
	ims_err e;

	read_lopts(c, argc, argv, &lo);
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

	read_lopts(c, argc, argv, &lo);
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
		if (ims_fs_write_all(fd, buf, (size_t)r, &cli_interrupted) != 0) {
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

	read_lopts(c, argc, argv, &lo);
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
	if (lo.date != NULL && ims_datetime_imap(lo.date, date, sizeof(date)) != 0)
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
	  .max_args = -1, .flags = CMD_FOLDER | CMD_ARGS_FIRST, .run = cmd_list, .options = cli_opts_json },
	{ .name = "search", .aliases = { "find" }, .usage = "search KEY...",
	  .summary = "messages that match: from x, since 2026-01-01, unread, larger 1M, IMAP keys",
	  .min_args = 1, .max_args = -1, .flags = CMD_FOLDER | CMD_ARGS_FIRST | CMD_DASH_OPERANDS, .run = cmd_search,
	  .options = cli_opts_json },
	{ .name = "fetch", .aliases = { "cat" }, .usage = "fetch UID [SECTION]",
	  .summary = "the raw message (or a section: 1.2, HEADER, TEXT) to stdout or -o FILE",
	  .min_args = 1, .max_args = -1, .flags = CMD_FOLDER | CMD_ARGS_FIRST, .run = cmd_fetch,
	  .options = fetch_opts },
	{ .name = "flag", .usage = "flag UIDS FLAG...",
	  .summary = "set flags: seen, flagged, answered, deleted, draft or a keyword",
	  .min_args = 2, .max_args = -1, .flags = CMD_FOLDER | CMD_WRITE | CMD_ARGS_FIRST, .run = cmd_flag,
	  .options = cli_opts_json },
	{ .name = "unflag", .usage = "unflag UIDS FLAG...", .summary = "clear flags",
	  .min_args = 2, .max_args = -1, .flags = CMD_FOLDER | CMD_WRITE | CMD_ARGS_FIRST, .run = cmd_unflag,
	  .options = cli_opts_json },
	{ .name = "copy", .aliases = { "cp" }, .usage = "copy UIDS FOLDER",
	  .summary = "copy messages to a folder", .min_args = 2, .max_args = -1,
	  .flags = CMD_FOLDER | CMD_ARGS_FIRST, .run = cmd_copy, .options = cli_opts_json },
	{ .name = "move", .aliases = { "mv" }, .usage = "move UIDS FOLDER",
	  .summary = "move messages to a folder (MOVE, or COPY and expunge just those)",
	  .min_args = 2, .max_args = -1, .flags = CMD_FOLDER | CMD_WRITE | CMD_ARGS_FIRST, .run = cmd_move,
	  .options = cli_opts_json },
	{ .name = "delete", .aliases = { "rm" }, .usage = "delete UIDS [--expunge]",
	  .summary = "flag messages deleted; --expunge removes just those at once",
	  .min_args = 1, .max_args = -1, .flags = CMD_FOLDER | CMD_WRITE | CMD_DESTRUCTIVE | CMD_ARGS_FIRST,
	  .run = cmd_delete, .options = delete_opts },
	{ .name = "expunge", .usage = "expunge",
	  .summary = "remove the messages flagged deleted from the folder",
	  .max_args = -1, .flags = CMD_FOLDER | CMD_WRITE | CMD_DESTRUCTIVE | CMD_ARGS_FIRST, .run = cmd_expunge,
	  .options = cli_opts_json },
	{ .name = "append", .usage = "append FOLDER FILE",
	  .summary = "upload a message from FILE (- for stdin); --flags, --date",
	  .min_args = 2, .max_args = -1, .flags = CMD_LOGIN | CMD_ARGS_FIRST, .run = cmd_append,
	  .options = append_opts },
};
/* clang-format on */

const struct cli_cmd_group cli_group_messages = {message_cmds,
                                                 sizeof(message_cmds) / sizeof(message_cmds[0])};
