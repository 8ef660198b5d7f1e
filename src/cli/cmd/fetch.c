/* fetch: the raw message, or one section of it, to stdout or -o FILE. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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
#include "imapsh/mime.h"
#include "imapsh/number.h"
#include "imapsh/rfc2047.h"
#include "imapsh/sanitize.h"
#include "imapsh/seqset.h"
#include "imapsh/session.h"
#include "imapsh/words.h"
#include "imapsh/textwidth.h"
#include "imapsh/search.h"
#include "imapsh/units.h"

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

/* Whether section names a part of message uid: its part number ("1.2" of
 * "1.2", "1.2.MIME", "1.2.TEXT") is in the BODYSTRUCTURE.  Sections that
 * are not part numbers (HEADER, TEXT) and a structure that cannot be had
 * count as present: only a known absence changes the outcome. */
static int part_exists(struct cli *c, uint32_t uid, const char *section)
{
	char num[IMS_MIME_SECTION_MAX];
	size_t n = strspn(section, "0123456789.");
	struct tree t;
	struct ims_error keep;
	int found = 0;

	while (n > 0 && section[n - 1] == '.')
		n--;
	if (n == 0 || n >= sizeof(num) || (section[n] != '\0' && section[n] != '.'))
		return 1;
	memcpy(num, section, n);
	num[n] = '\0';
	ims_error_copy(&keep, &c->err);
	memset(&t, 0, sizeof(t));
	if (cmd_fetch_structure(c, "fetch", uid, &t) != IMS_OK) {
		ims_error_copy(&c->err, &keep);
		return 1;
	}
	for (size_t i = 0; i < t.n && !found; i++)
		found = strcmp(t.v[i].section, num) == 0;
	/* a single-part message's one part is "1" */
	if (!found && strcmp(num, "1") == 0 && t.n == 1 && !cmd_is_multipart(&t.v[0]))
		found = 1;
	cmd_tree_release(&t);
	return found;
}

ims_err cmd_fetch(struct cli *c, int argc, char **argv)
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

	cmd_read_lopts(c, argc, argv, &lo);
	if (lo.npos < 1 || lo.npos > 2)
		return cmd_usage(c, u);
	if (lo.npos == 2 && !section_ok(lo.pos[1], section, sizeof(section)))
		return ims_error_set(
		    &c->err, IMS_ERR_USAGE,
		    "fetch: '%s' is not a section (1, 1.2, HEADER, TEXT, 1.HEADER, "
		    "1.TEXT, 1.MIME)",
		    lo.pos[1]);
	if (cmd_msgarg_parse(c, lo.pos[0], &m) != IMS_OK)
		return c->err.code;
	if (m.single == 0 && !m.star) {
		cli_msgarg_release(&m);
		return ims_error_set(&c->err, IMS_ERR_USAGE, "fetch: one message, not '%s'",
		                     lo.pos[0]);
	}
	if ((e = cli_ready_ahead(c)) != IMS_OK) {
		cli_msgarg_release(&m);
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
			cli_msgarg_release(&m);
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
	/* A part the message does not have: Cyrus sends NIL, Courier and
	 * Dovecot an empty string; the structure says which it is, so every
	 * server gives the same outcome. */
	if (e == IMS_OK && (b.nil || (b.found && x.bytes == 0)) && b.uid != 0 &&
	    !part_exists(c, b.uid, section))
		e = ims_error_set(&c->err, IMS_ERR_NO,
		                  "fetch: message %" PRIu32
		                  " has no part %s (see: structure %" PRIu32 ")",
		                  b.uid, section, b.uid);
	else if (e == IMS_OK && !b.found)
		e = ims_error_set(
		    &c->err, IMS_ERR_NO, "fetch: %s %s%s in %s",
		    b.nil ? "the server sent no content (NIL) for message" : "no message",
		    m.seq ? "#" : "with UID ", m.set.data, cmd_cur_folder(c, safe, sizeof(safe)));
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
	cli_msgarg_release(&m);
	if (e == IMS_OK && lo.json && lo.output != NULL)
		e = cli_stdout_check(c);
	return e;
}
