#include "cli/output.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
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

void json_finish(struct json_out *j)
{
	struct ims_error e;

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
	struct ims_buf b;
	struct ims_error e;

	ims_buf_init(&b, n > 1 ? n * 4 : 64);
	if (in[0] == '\0' || n == 0) {
		if (n > 0)
			buf[0] = '\0';
	} else if (ims_sanitize(in, strlen(in), IMS_SANITIZE_LINE, &b, &e) != IMS_OK ||
	           b.data == NULL) {
		snprintf(buf, n, "(unprintable)");
	} else {
		size_t len = b.len < n ? b.len : n - 1;

		/* Cut on a character boundary. */
		if (len < b.len)
			while (len > 0 && ((unsigned char)b.data[len] & 0xc0) == 0x80)
				len--;
		memcpy(buf, b.data, len);
		buf[len] = '\0';
	}
	ims_buf_release(&b);
	return buf;
}
