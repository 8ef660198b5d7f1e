/* list and search: one line a message (UID, flags, date, from, subject,
 * size), aligned on a terminal, tab-separated on a pipe, JSON with --json
 * (messages.c's comment has the columns). */
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
#include "cli/cmd/cmd.h"
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
#define LIST_ITEMS     "(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)"

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
		cli_term_size(&rows, &cols);
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
		e = cmd_uids_format(c, uids + i, k, &set);
		if (e == IMS_OK)
			e = list_fetch(c, l, 0, set.data);
	}
	ims_buf_release(&set);
	return e;
}

/* list [UIDS] */
ims_err cmd_list(struct cli *c, int argc, char **argv)
{
	static const char u[] = "list [UIDS]";
	const struct ims_folder *f;
	struct lopts lo;
	struct lister l;
	struct cli_msgarg m;
	char safe[512];
	ims_err e;

	cmd_read_lopts(c, argc, argv, &lo);
	if (lo.npos > 1)
		return cmd_usage(c, u);
	memset(&m, 0, sizeof(m));
	if (lo.npos == 1 && (e = cmd_msgarg_parse(c, lo.pos[0], &m)) != IMS_OK)
		return e;
	if ((e = cli_ready(c)) != IMS_OK) {
		cli_msgarg_release(&m);
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

			cli_term_size(&rows, &cols);
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
			                  cmd_cur_folder(c, safe, sizeof(safe)));
		cli_msgarg_release(&m);
	}
	lister_release(&l);
	if (e == IMS_OK)
		e = cli_stdout_check(c);
	return e;
}

/* The search compiler reads message sets as every command does. */
static ims_err search_set(void *ctx, const char *word, int *seq_r, struct ims_buf *set_r,
                          struct ims_error *err)
{
	struct cli *c = ctx;
	struct cli_msgarg m;
	ims_err e;

	if (cmd_msgarg_parse(c, word, &m) != IMS_OK)
		return ims_error_copy(err, &c->err);
	*seq_r = m.seq;
	e = ims_buf_append(set_r, m.set.data, m.set.len);
	cli_msgarg_release(&m);
	return e == IMS_OK ? IMS_OK : ims_error_nomem(err);
}

/* search KEY... */
ims_err cmd_search(struct cli *c, int argc, char **argv)
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

	cmd_read_lopts(c, argc, argv, &lo);
	if (lo.npos == 0)
		return cmd_usage(c, u);
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
		e = cli_stdout_check(c);
	return e;
}
