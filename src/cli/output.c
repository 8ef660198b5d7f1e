#include "cli/output.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "imapsh/number.h"
#include "imapsh/sanitize.h"

void json_init(struct json_out *j, FILE *f)
{
	ims_buf_init(&j->buf, 0);
	j->f = f;
	ims_json_init_buf(&j->w, &j->buf, isatty(fileno(f)) ? IMS_JSON_PRETTY : 0);
}

/* Errors are sticky in the writer; json_finish reports the first. */
void json_begin_object(struct json_out *j)
{
	(void)ims_json_object_begin(&j->w);
}
void json_end_object(struct json_out *j)
{
	(void)ims_json_object_end(&j->w);
}
void json_begin_array(struct json_out *j)
{
	(void)ims_json_array_begin(&j->w);
}
void json_end_array(struct json_out *j)
{
	(void)ims_json_array_end(&j->w);
}
void json_key(struct json_out *j, const char *k)
{
	(void)ims_json_key(&j->w, k);
}
void json_str(struct json_out *j, const char *s)
{
	(void)ims_json_string(&j->w, s != NULL ? s : "");
}
void json_null(struct json_out *j)
{
	(void)ims_json_null(&j->w);
}

void json_kv_str(struct json_out *j, const char *k, const char *v)
{
	json_key(j, k);
	json_str(j, v);
}

void json_kv_int(struct json_out *j, const char *k, int64_t v)
{
	json_key(j, k);
	(void)ims_json_int(&j->w, v);
}

void json_kv_bool(struct json_out *j, const char *k, int v)
{
	json_key(j, k);
	(void)ims_json_bool(&j->w, v);
}

/* JSON documents written so far: a command that printed its own document
 * (cert and check put their verdict in it) gets no second one for its
 * failure, so stdout stays one document a command. */
static unsigned long json_docs;

unsigned long cli_json_docs(void)
{
	return json_docs;
}

void json_finish(struct json_out *j)
{
	struct ims_error e;

	json_docs++;
	if (ims_json_finish(&j->w, &e) != IMS_OK)
		cli_warn("%s", e.msg);
	else
		fputs(j->buf.data != NULL ? j->buf.data : "", j->f);
	ims_buf_release(&j->buf);
}

ims_err cli_out_error(struct cli *c, int errnum)
{
	if (errnum == EPIPE) {
		/* The reader is gone (| head): stop quietly, log out. */
		c->out_closed = 1;
		return ims_error_set(&c->err, IMS_ERR_IO, "%s", "");
	}
	return ims_error_set(&c->err, IMS_ERR_IO, "writing to standard output: %s",
	                     strerror(errnum != 0 ? errnum : EIO));
}

/* 1 when standard output is a pipe or socket whose reader has gone. */
static int stdout_gone(void)
{
	struct pollfd p = {STDOUT_FILENO, POLLOUT, 0};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLERR) != 0;
}

ims_err cli_stdout_check(struct cli *c)
{
	int errnum;

	if (c->out_closed)
		return IMS_ERR_IO;
	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return IMS_OK;
	errnum = errno;
	if (errnum == 0 || stdout_gone()) /* a write failed earlier */
		errnum = stdout_gone() ? EPIPE : EIO;
	return cli_out_error(c, errnum);
}

int cli_stdout_failed(void)
{
	return ferror(stdout);
}

int cli_stdout_closed(struct cli *c)
{
	if (!c->out_closed && stdout_gone() && cli_out_error(c, EPIPE) != IMS_OK)
		return 1;
	return c->out_closed;
}

const char *cli_safe(const char *in, char *buf, size_t n)
{
	return ims_sanitize_fixed(in != NULL ? in : "", in != NULL ? strlen(in) : 0, buf, n);
}

/* ---- tab-separated records ------------------------------------------ */

void tsv_begin(struct tsv *t, FILE *f)
{
	t->f = f;
	ims_buf_init(&t->line, 0);
	t->n = 0;
	t->e = IMS_OK;
}

void tsv_field_n(struct tsv *t, const void *p, size_t len)
{
	struct ims_error err;

	if (t->e == IMS_OK && t->n > 0)
		t->e = ims_buf_putc(&t->line, '\t');
	t->n++;
	if (t->e == IMS_OK && len > 0)
		t->e = ims_sanitize(p, len, IMS_SANITIZE_LINE, &t->line, &err);
}

void tsv_field(struct tsv *t, const char *s)
{
	tsv_field_n(t, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

void tsv_fieldf(struct tsv *t, const char *fmt, ...)
{
	char stack[256], *p = stack;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(stack, sizeof(stack), fmt, ap);
	va_end(ap);
	if (n < 0) {
		n = 0;
	} else if ((size_t)n >= sizeof(stack)) {
		p = malloc((size_t)n + 1);
		if (p == NULL) {
			t->e = IMS_ERR_NOMEM;
			return;
		}
		va_start(ap, fmt);
		vsnprintf(p, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	tsv_field_n(t, p, (size_t)n);
	if (p != stack)
		free(p);
}

int tsv_end(struct tsv *t)
{
	int r = -1;

	if (t->e == IMS_OK)
		t->e = ims_buf_putc(&t->line, '\n');
	if (t->e == IMS_OK && fwrite(t->line.data, 1, t->line.len, t->f) == t->line.len)
		r = 0;
	else if (t->e != IMS_OK)
		errno = ENOMEM;
	ims_buf_release(&t->line);
	t->n = 0;
	t->e = IMS_OK;
	return r;
}

int tsv_row(FILE *f, size_t n, const char *const *fields)
{
	struct tsv t;
	size_t i;

	tsv_begin(&t, f);
	for (i = 0; i < n; i++)
		tsv_field(&t, fields[i]);
	return tsv_end(&t);
}

void tsv_kv(FILE *f, int tty, const char *key, const char *value)
{
	if (tty) {
		char ks[256], vs[1024];

		fprintf(f, "%-12s %s\n", cli_safe(key, ks, sizeof(ks)),
		        cli_safe(value != NULL ? value : "", vs, sizeof(vs)));
		return;
	}
	(void)tsv_row(f, 2, (const char *const[]){key, value});
}

/* ---- stderr --------------------------------------------------------- */

/* Every warning and error: "imapsh: " and the message, made safe as a
 * whole (it may quote a server or a certificate), on one line. */
void cli_warn(const char *fmt, ...)
{
	char stack[1024], *msg = stack;
	struct ims_buf b;
	struct ims_error e;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(stack, sizeof(stack), fmt, ap);
	va_end(ap);
	if (n < 0) {
		n = 0;
		stack[0] = '\0';
	} else if ((size_t)n >= sizeof(stack)) {
		msg = malloc((size_t)n + 1);
		if (msg != NULL) {
			va_start(ap, fmt);
			vsnprintf(msg, (size_t)n + 1, fmt, ap);
			va_end(ap);
		} else {
			msg = stack;
			n = (int)strlen(stack);
		}
	}
	ims_buf_init(&b, 0);
	fputs("imapsh: ", stderr);
	if (ims_sanitize_is_clean(msg, (size_t)n, IMS_SANITIZE_LINE))
		fwrite(msg, 1, (size_t)n, stderr);
	else if (ims_sanitize(msg, (size_t)n, IMS_SANITIZE_LINE, &b, &e) == IMS_OK &&
	         b.data != NULL)
		fwrite(b.data, 1, b.len, stderr);
	else
		fputs("(a message that cannot be shown)", stderr);
	fputc('\n', stderr);
	ims_buf_release(&b);
	if (msg != stack)
		free(msg);
}

/* ---- errors for programs ---------------------------------------------- */

/* Stable names for programs (ims_err_name's words are for people). */
static const char *err_kind(ims_err e)
{
	switch (e) {
	case IMS_OK: return "ok";
	case IMS_ERR_NO: return "no";
	case IMS_ERR_USAGE: return "usage";
	case IMS_ERR_NET: return "network";
	case IMS_ERR_TLS: return "tls";
	case IMS_ERR_AUTH: return "auth";
	case IMS_ERR_IO: return "io";
	case IMS_ERR_PROTOCOL: return "protocol";
	case IMS_ERR_LIMIT: return "limit";
	case IMS_ERR_NOMEM: return "nomem";
	case IMS_ERR_CANCELLED: return "cancelled";
	}
	return "unknown";
}

void cli_json_error(FILE *f, const char *where, ims_err e, int exit_code, const char *msg,
                    unsigned long docs_before)
{
	struct json_out j;

	if (cli_json_docs() != docs_before) /* the command's own document says it */
		return;
	json_init(&j, f);
	json_begin_object(&j);
	json_key(&j, "error");
	json_begin_object(&j);
	json_kv_str(&j, "kind", err_kind(e));
	json_kv_int(&j, "exit", exit_code);
	json_kv_str(&j, "message", msg);
	if (where != NULL)
		json_kv_str(&j, "where", where);
	json_end_object(&j);
	json_end_object(&j);
	json_finish(&j);
	fflush(f);
}

/* ---- fields every command writes the same way ------------------------- */

void cli_iso_date(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;
	long off;

	if (localtime_r(&tt, &tm) == NULL) {
		snprintf(buf, n, "?");
		return;
	}
	off = tm.tm_gmtoff / 60;
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
	         (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
}

void cli_json_date(struct ims_json *j, int64_t t)
{
	char d[40];

	if (t == 0) {
		(void)ims_json_null(j);
		return;
	}
	cli_iso_date(t, d, sizeof(d));
	(void)ims_json_string(j, d);
}

void cli_json_from(struct ims_json *j, int have, const char *name, size_t name_len,
                   const char *addr, size_t addr_len)
{
	if (!have) {
		(void)ims_json_null(j);
		return;
	}
	(void)ims_json_object_begin(j);
	(void)ims_json_key(j, "name");
	if (name != NULL && name_len > 0)
		(void)ims_json_string_n(j, name, name_len);
	else
		(void)ims_json_null(j);
	(void)ims_json_key(j, "address");
	if (addr != NULL && addr_len > 0)
		(void)ims_json_string_n(j, addr, addr_len);
	else
		(void)ims_json_null(j);
	(void)ims_json_object_end(j);
}

void cli_json_tls(struct json_out *j, const struct ims_tls_info *ti)
{
	json_key(j, "tls");
	if (ti->version[0] != '\0') {
		json_begin_object(j);
		json_kv_str(j, "version", ti->version);
		json_kv_str(j, "cipher", ti->cipher);
		json_end_object(j);
	} else {
		json_null(j);
	}
}

/* The terminal's size (standard output's), else LINES and COLUMNS, else 24x80. */
void cli_term_size(int *rows_r, int *cols_r)
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
