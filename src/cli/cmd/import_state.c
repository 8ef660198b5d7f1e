/* The import's journal: what was sent to the target folder and what the
 * server took.  One line a fact, appended and made durable before the
 * next step depends on it:
 *   target USER@HOST/FOLDER           (for people; the name's ID hashes it)
 *   uidvalidity N                     the target folder's, when begun
 *   sent HASH                         before a batch goes out
 *   done HASH UID                     the server said OK (UID 0: no APPENDUID)
 *   clear HASH                        sent, outcome unknown, found missing
 * HASH is the SHA-256 of the bytes sent.  A message whose "sent" has no
 * "done" or "clear" was in a batch whose outcome is unknown (the
 * connection broke, imapsh was killed): the next run looks for it on the
 * server before sending it again. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cmd/import.h"
#include "imapsh/fsafe.h"

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int unhex(const char *s, unsigned char *out)
{
	size_t i;

	for (i = 0; i < IMS_SHA256_LEN; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return s[2 * IMS_SHA256_LEN] == '\0' || s[2 * IMS_SHA256_LEN] == ' ' ? 0 : -1;
}

static int count_cmp(const void *a, const void *b)
{
	return memcmp(((const struct im_count *)a)->hash, ((const struct im_count *)b)->hash,
	              IMS_SHA256_LEN);
}

struct im_count *im_state_find(struct im_state *st, const unsigned char *hash)
{
	struct im_count key;
	size_t i;

	if (st->n == 0)
		return NULL;
	memcpy(key.hash, hash, IMS_SHA256_LEN);
	if (st->sorted)
		return bsearch(&key, st->v, st->n, sizeof(key), count_cmp);
	for (i = 0; i < st->n; i++)
		if (memcmp(st->v[i].hash, hash, IMS_SHA256_LEN) == 0)
			return &st->v[i];
	return NULL;
}

/* A new entry (merged with its equals by merge()). */
static struct im_count *count_append(struct im_state *st, const unsigned char *hash)
{
	struct im_count *c;

	if (st->n == st->cap) {
		size_t nc = st->cap ? st->cap * 2 : 256;
		struct im_count *nv = realloc(st->v, nc * sizeof(*nv));

		if (nv == NULL)
			return NULL;
		st->v = nv;
		st->cap = nc;
	}
	c = &st->v[st->n++];
	memset(c, 0, sizeof(*c));
	memcpy(c->hash, hash, IMS_SHA256_LEN);
	return c;
}

/* Sorted, one entry a hash with the counts summed. */
static void merge(struct im_state *st)
{
	size_t i, o = 0;

	if (st->n > 1)
		qsort(st->v, st->n, sizeof(st->v[0]), count_cmp);
	for (i = 0; i < st->n; i++) {
		if (o > 0 && memcmp(st->v[o - 1].hash, st->v[i].hash, IMS_SHA256_LEN) == 0) {
			st->v[o - 1].sent += st->v[i].sent;
			st->v[o - 1].done += st->v[i].done;
			st->v[o - 1].cleared += st->v[i].cleared;
		} else {
			st->v[o++] = st->v[i];
		}
	}
	st->n = o;
	st->sorted = 1;
}

static ims_err load_line(struct im_state *st, char *line, struct ims_error *err)
{
	unsigned char h[IMS_SHA256_LEN];
	char *v = strchr(line, ' ');
	struct im_count *c;

	if (v == NULL)
		return IMS_OK;
	*v++ = '\0';
	if (strcmp(line, "uidvalidity") == 0) {
		st->uidvalidity = (uint32_t)strtoul(v, NULL, 10);
		return IMS_OK;
	}
	if (strcmp(line, "sent") != 0 && strcmp(line, "done") != 0 && strcmp(line, "clear") != 0)
		return IMS_OK;
	if (unhex(v, h) != 0)
		return ims_error_set(err, IMS_ERR_IO, "a bad hash");
	c = count_append(st, h);
	if (c == NULL)
		return ims_error_nomem(err);
	if (line[0] == 's')
		c->sent++;
	else if (line[0] == 'd')
		c->done++;
	else
		c->cleared++;
	return IMS_OK;
}

/* The counts of earlier runs: every line an entry, then merged. */
static ims_err load(struct im_state *st, int dfd, const char *shown, struct ims_error *err)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned long lineno = 0;
	ssize_t len;
	FILE *f;
	int fd = ims_fs_open_read(dfd, st->name, err);
	ims_err e = IMS_OK;

	if (fd == IMS_FS_MISSING)
		return IMS_OK;
	if (fd < 0)
		return ims_error_prefix(err, "import");
	f = fdopen(fd, "r");
	if (f == NULL) {
		close(fd);
		return ims_error_nomem(err);
	}
	while ((len = ims_fs_getline(f, &line, &cap, &lineno, shown, err)) != -1) {
		if (len == -2 || (e = load_line(st, line, err)) != IMS_OK) {
			e = len == -2 ? err->code
			              : ims_error_prefix(err, "%s line %lu", shown, lineno);
			break;
		}
	}
	free(line);
	fclose(f);
	return e;
}

ims_err im_state_open(struct im_state *st, struct im_source *src, const char *target, int readonly,
                      struct ims_error *err)
{
	unsigned char h[IMS_SHA256_LEN];
	char id[2 * IMS_SHA256_LEN + 1], shown[1200];
	struct stat sb;
	ims_err e;

	memset(st, 0, sizeof(*st));
	st->fd = -1;
	if (ims_sha256(target, strlen(target), h) != IMS_OK)
		return ims_error_set(err, IMS_ERR_IO, "import: sha-256 failed");
	hex(h, 8, id);
	if (src->is_mbox)
		snprintf(st->name, sizeof(st->name), ".%.200s.imapsh-import-%s", src->base, id);
	else
		snprintf(st->name, sizeof(st->name), ".imapsh-import-%s", id);
	snprintf(shown, sizeof(shown), "%s%s%s", src->path, src->is_mbox ? " beside it: " : "/",
	         st->name);
	e = load(st, src->dirfd, shown, err);
	if (e != IMS_OK)
		return e;
	merge(st);
	if (readonly)
		return IMS_OK;
	st->fd = ims_fs_open_append(src->dirfd, st->name, err);
	if (st->fd < 0 || fstat(st->fd, &sb) != 0) {
		if (st->fd < 0 && errno != EACCES && errno != EROFS)
			return ims_error_prefix(err, "import: the import state in %s", src->path);
		return ims_error_set(err, IMS_ERR_IO,
		                     "import: cannot write the import state %s: %s (the source's "
		                     "directory must be writable)",
		                     shown, strerror(errno));
	}
	if (sb.st_size == 0) {
		char head[1400];
		int n = snprintf(head, sizeof(head),
		                 "# imapsh import state: what was uploaded; delete to upload "
		                 "everything again\nversion 1\ntarget ");
		size_t k;

		/* the target as text for people, controls left out */
		for (k = 0; target[k] != '\0' && n < (int)sizeof(head) - 2; k++)
			if ((unsigned char)target[k] >= 0x20)
				head[n++] = target[k];
		head[n++] = '\n';
		if (ims_fs_write_all(st->fd, head, (size_t)n, NULL) != 0)
			return ims_error_set(err, IMS_ERR_IO, "import: %s: %s", shown,
			                     strerror(errno));
	}
	return IMS_OK;
}

ims_err im_state_log(struct im_state *st, const char *what, const struct im_msg *const *m,
                     const uint32_t *uids, size_t n, struct ims_error *err)
{
	struct ims_buf b;
	size_t i;
	ims_err e = IMS_OK;

	ims_buf_init(&b, 0);
	for (i = 0; i < n && e == IMS_OK; i++) {
		char h[2 * IMS_SHA256_LEN + 1];

		hex(m[i]->hash, IMS_SHA256_LEN, h);
		e = uids != NULL ? ims_buf_printf(&b, "%s %s %" PRIu32 "\n", what, h, uids[i])
		                 : ims_buf_printf(&b, "%s %s\n", what, h);
	}
	if (e != IMS_OK) {
		ims_buf_release(&b);
		return ims_error_nomem(err);
	}
	if (b.len > 0 &&
	    (ims_fs_write_all(st->fd, b.data, b.len, NULL) != 0 || fdatasync(st->fd) != 0))
		e = ims_error_set(err, IMS_ERR_IO, "import: cannot write the import state %s: %s",
		                  st->name, strerror(errno));
	ims_buf_release(&b);
	return e;
}

ims_err im_state_uidvalidity(struct im_state *st, uint32_t uidvalidity, struct ims_error *err)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "uidvalidity %" PRIu32 "\n", uidvalidity);

	st->uidvalidity = uidvalidity;
	if (ims_fs_write_all(st->fd, line, (size_t)n, NULL) != 0 || fdatasync(st->fd) != 0)
		return ims_error_set(err, IMS_ERR_IO,
		                     "import: cannot write the import state %s: %s", st->name,
		                     strerror(errno));
	return IMS_OK;
}

void im_state_release(struct im_state *st)
{
	if (st->fd >= 0)
		close(st->fd);
	free(st->v);
	memset(st, 0, sizeof(*st));
	st->fd = -1;
}
