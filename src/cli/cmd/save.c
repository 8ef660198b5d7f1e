/* save: a message's attachments into a directory, each streamed through
 * its transfer decoder into a file made safely (read.c's comment). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/child.h"
#include "cli/cli.h"
#include "cli/cmd/cmd.h"
#include "cli/msgarg.h"
#include "imapsh/fsafe.h"
#include "imapsh/caps.h"
#include "cli/output.h"
#include "imapsh/charset.h"
#include "imapsh/cte.h"
#include "imapsh/mime.h"
#include "imapsh/number.h"
#include "imapsh/rfc2047.h"
#include "imapsh/sanitize.h"
#include "imapsh/session.h"
#include "imapsh/units.h"

#define SAVE_TRIES 1000 /* "name (N).ext" attempts */

struct saver {
	struct cli *c;
	int fd;
	int errnum;
	struct ims_cte_dec dec;
	uint64_t bytes;
};

static ims_err save_fd_write(void *ctx, const void *p, size_t n)
{
	struct saver *s = ctx;

	if (ims_fs_write_all(s->fd, p, n, &cli_interrupted) != 0) {
		s->errnum = errno;
		return IMS_ERR_IO;
	}
	s->bytes += n;
	return IMS_OK;
}

static ims_err save_feed(void *ctx, const void *p, size_t n)
{
	struct saver *s = ctx;

	return ims_cte_dec_feed(&s->dec, p, n);
}

/* Give the finished temporary file its name without replacing anything
 * (not a file, a directory or a planted link): "name", then "name
 * (1).ext", ...; the name used goes into final. */
static int publish(int dfd, const char *tmp, const char *safe, char *final, size_t n)
{
	const char *dot = strrchr(safe, '.');
	size_t stem = dot != NULL && dot != safe ? (size_t)(dot - safe) : strlen(safe);
	struct ims_error e;
	int k;

	for (k = 0; k < SAVE_TRIES; k++) {
		if (k == 0)
			snprintf(final, n, "%s", safe);
		else
			snprintf(final, n, "%.*s (%d)%s", (int)stem, safe, k, safe + stem);
		ims_error_init(&e);
		if (ims_fs_place(dfd, tmp, dfd, final, IMS_FS_NOREPLACE | IMS_FS_SYNC, &e) ==
		    IMS_OK)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

static ims_err save_part(struct cli *c, int dfd, const char *dir, uint32_t uid,
                         const struct ims_mime_part *p, struct ims_buf *saved_path,
                         uint64_t *bytes_r)
{
	struct saver s;
	struct ims_body_fetch b;
	struct ims_buf name;
	char tmp[64], final[IMS_FILENAME_MAX + 64], set[16];
	char fallback[IMS_MIME_SECTION_MAX + 16], safe[512];
	ims_err e;

	memset(&s, 0, sizeof(s));
	s.c = c;
	s.fd = ims_fs_tmp_create(dfd, ".imapsh-save-", 0, tmp, sizeof(tmp), &c->err);
	if (s.fd < 0)
		return ims_error_set(&c->err, IMS_ERR_IO, "save: cannot create a file in %s: %s",
		                     cli_safe(dir, safe, sizeof(safe)), strerror(errno));
	ims_cte_dec_init(&s.dec, ims_cte_from_name(p->encoding),
	                 (struct ims_sink){save_fd_write, &s});
	snprintf(set, sizeof(set), "%" PRIu32, uid);
	memset(&b, 0, sizeof(b));
	b.set = set;
	b.want = uid;
	b.section = p->section[0] != '\0' ? p->section : "TEXT";
	b.sink = (struct ims_sink){save_feed, &s};
	e = ims_session_fetch_body(c->sess, &b, &c->err);
	if (e == IMS_OK)
		e = ims_cte_dec_finish(&s.dec);
	if (e == IMS_ERR_IO && s.errnum != 0)
		e = ims_error_set(&c->err, IMS_ERR_IO, "save: writing in %s: %s",
		                  cli_safe(dir, safe, sizeof(safe)), strerror(s.errnum));
	if (e == IMS_OK && !b.found)
		e = ims_error_set(&c->err, IMS_ERR_NO, "save: no part %s in message %" PRIu32,
		                  p->section, uid);
	if (e == IMS_OK && fsync(s.fd) != 0)
		e = ims_error_set(&c->err, IMS_ERR_IO, "save: writing in %s: %s",
		                  cli_safe(dir, safe, sizeof(safe)), strerror(errno));
	if (close(s.fd) != 0 && e == IMS_OK)
		e = ims_error_set(&c->err, IMS_ERR_IO, "save: writing in %s: %s",
		                  cli_safe(dir, safe, sizeof(safe)), strerror(errno));
	if (e != IMS_OK) {
		(void)unlinkat(dfd, tmp, 0);
		return e;
	}
	if (s.dec.flags & (IMS_CTE_GARBAGE | IMS_CTE_TRUNCATED))
		cli_warn("save: part %s: the transfer encoding was damaged; saved what decoded",
		         p->section);
	ims_buf_init(&name, 0);
	snprintf(fallback, sizeof(fallback), "part-%s%s", p->section[0] ? p->section : "1",
	         ims_mime_part_is(p, "message", "rfc822") ? ".eml" : "");
	if (ims_sanitize_filename(p->filename, p->filename != NULL ? strlen(p->filename) : 0,
	                          fallback, &name, &c->err) != IMS_OK) {
		ims_buf_release(&name);
		(void)unlinkat(dfd, tmp, 0);
		return ims_error_nomem(&c->err);
	}
	if (publish(dfd, tmp, name.data, final, sizeof(final)) != 0) {
		e = ims_error_set(&c->err, IMS_ERR_IO, "save: %s/%s: %s",
		                  cli_safe(dir, safe, sizeof(safe)), name.data, strerror(errno));
		ims_buf_release(&name);
		(void)unlinkat(dfd, tmp, 0);
		return e;
	}
	ims_buf_release(&name);
	ims_buf_reset(saved_path);
	if (ims_buf_printf(saved_path, "%s%s%s", dir,
	                   dir[0] != '\0' && dir[strlen(dir) - 1] == '/' ? "" : "/",
	                   final) != IMS_OK)
		return ims_error_nomem(&c->err);
	*bytes_r = s.bytes;
	return IMS_OK;
}

/* The parts save writes: the ones named, or every attachment. */
static ims_err save_pick(struct cli *c, const struct tree *t, const unsigned char *roles,
                         uint32_t uid, const char *const *parts, size_t nparts, unsigned char *pick)
{
	size_t i, k, npick = 0;

	if (nparts == 0) {
		for (i = 0; i < t->n; i++)
			if (roles[i] == IMS_MIME_ROLE_ATTACHMENT) {
				pick[i] = 1;
				npick++;
			}
		if (npick == 0)
			return ims_error_set(&c->err, IMS_ERR_NO,
			                     "save: message %" PRIu32 " has no attachments", uid);
		return IMS_OK;
	}
	for (k = 0; k < nparts; k++) {
		for (i = 0; i < t->n; i++)
			if (!cmd_is_multipart(&t->v[i]) && strcmp(t->v[i].section, parts[k]) == 0)
				break;
		if (i == t->n)
			return ims_error_set(&c->err, IMS_ERR_NO,
			                     "save: message %" PRIu32 " has no part %s (see "
			                     "'structure %" PRIu32 "')",
			                     uid, parts[k], uid);
		pick[i] = 1;
	}
	return IMS_OK;
}

/* Write each picked part into dir and say where: a line a file, or one
 * JSON array. */
static ims_err save_picked(struct cli *c, int dfd, const char *dir, uint32_t uid,
                           const struct tree *t, const unsigned char *pick, int json)
{
	struct ims_buf path, line;
	struct json_out j;
	size_t i;
	ims_err e = IMS_OK;

	ims_buf_init(&path, 0);
	ims_buf_init(&line, 0);
	if (json) {
		json_init(&j, stdout);
		json_begin_array(&j);
	}
	for (i = 0; i < t->n && e == IMS_OK; i++) {
		uint64_t bytes = 0;

		if (!pick[i])
			continue;
		e = save_part(c, dfd, dir, uid, &t->v[i], &path, &bytes);
		if (e != IMS_OK)
			break;
		if (json) {
			json_begin_object(&j);
			cmd_json_safe(&j, "part", t->v[i].section, strlen(t->v[i].section),
			              IMS_SANITIZE_LINE);
			cmd_json_safe(&j, "file", path.data, path.len, IMS_SANITIZE_LINE);
			json_key(&j, "size");
			(void)ims_json_uint(&j.w, bytes);
			json_end_object(&j);
		} else {
			ims_buf_reset(&line);
			if (cmd_put_safe(&line, path.data, path.len, IMS_SANITIZE_LINE) != IMS_OK ||
			    ims_buf_putc(&line, '\n') != IMS_OK) {
				e = ims_error_nomem(&c->err);
				break;
			}
			fwrite(line.data, 1, line.len, stdout);
			fflush(stdout);
		}
	}
	if (json) {
		json_end_array(&j);
		json_finish(&j);
	}
	ims_buf_release(&path);
	ims_buf_release(&line);
	return e;
}

ims_err cmd_save(struct cli *c, int argc, char **argv)
{
	static const char u[] = "save UID [PART...] [-o DIR]";
	struct ropts ro;
	struct tree t;
	unsigned char *roles = NULL, *pick = NULL;
	const char *dir;
	uint32_t uid = 0;
	int k, dfd;
	char safe[512];
	ims_err e = IMS_OK;

	cmd_read_ropts(c, argc, argv, &ro);
	if (ro.npos < 1)
		return ims_error_set(&c->err, IMS_ERR_USAGE, "usage: %s", u);
	for (k = 1; k < ro.npos; k++) {
		const char *q = ro.pos[k];
		int ok = *q >= '1' && *q <= '9';

		for (; ok && *q != '\0'; q++)
			ok = (*q >= '0' && *q <= '9') || (*q == '.' && q[1] >= '1' && q[1] <= '9');
		if (!ok || strlen(ro.pos[k]) >= IMS_MIME_SECTION_MAX)
			return ims_error_set(&c->err, IMS_ERR_USAGE,
			                     "save: '%s' is not a part number (1, 2.1, ...)",
			                     cli_safe(ro.pos[k], safe, sizeof(safe)));
	}
	if (cmd_parse_uid(c, "save", ro.pos[0], &uid) != IMS_OK)
		return c->err.code;
	dir = ro.output != NULL && ro.output[0] != '\0' ? ro.output : ".";
	/* Files are made only through this descriptor; DIR is not a link,
	 * and is made (0700) where missing, as export makes its folder. */
	dfd = ims_fs_dir_open(dir, 1, &c->err);
	if (dfd < 0)
		return ims_error_set(&c->err, IMS_ERR_IO, "save: %s",
		                     cli_safe(c->err.msg, safe, sizeof(safe)));
	if ((e = cmd_fetch_structure(c, "save", uid, &t)) != IMS_OK) {
		close(dfd);
		return e;
	}
	roles = calloc(t.n + 1, 1);
	pick = calloc(t.n + 1, 1);
	if (roles == NULL || pick == NULL) {
		e = ims_error_nomem(&c->err);
		goto out;
	}
	ims_mime_roles(t.v, t.n, roles);
	e = save_pick(c, &t, roles, uid, (const char *const *)ro.pos + 1, (size_t)ro.npos - 1,
	              pick);
	if (e == IMS_OK)
		e = save_picked(c, dfd, dir, uid, &t, pick, ro.json);
	if (e == IMS_OK)
		e = cli_stdout_check(c);
out:
	close(dfd);
	free(roles);
	free(pick);
	cmd_tree_release(&t);
	return e;
}
