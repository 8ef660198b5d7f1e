/* The messages of an import's source: a Maildir (cur/ and new/, flags from
 * the info suffix ":2,FLAGS", INTERNALDATE from the file's mtime) or an
 * mbox (mboxrd: the From line's date, Status/X-Status flags, ">From"
 * quoting undone).  Every message is sent with CRLF line ends. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmd/import.h"
#include "imapsh/fsafe.h"

#define MSGID_MAX 998

ims_err im_crlf(const char *p, size_t n, struct ims_buf *out)
{
	size_t i, from = 0;
	ims_err e = IMS_OK;

	for (i = 0; i < n && e == IMS_OK; i++) {
		if (p[i] != '\n' || (i > 0 && p[i - 1] == '\r'))
			continue;
		e = ims_buf_append(out, p + from, i - from);
		if (e == IMS_OK)
			e = ims_buf_append(out, "\r\n", 2);
		from = i + 1;
	}
	if (e == IMS_OK && from < n)
		e = ims_buf_append(out, p + from, n - from);
	return e;
}

static struct im_msg *msg_add(struct im_source *s)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 256;
		struct im_msg *nv = realloc(s->v, nc * sizeof(*nv));

		if (nv == NULL)
			return NULL;
		s->v = nv;
		s->cap = nc;
	}
	memset(&s->v[s->n], 0, sizeof(s->v[0]));
	return &s->v[s->n++];
}

/* The value of header name (the first line of it) in the header block of
 * p[0..n), or NULL. */
static const char *header(const char *p, size_t n, const char *name, size_t *len_r)
{
	size_t i = 0, k = strlen(name);

	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t end = nl != NULL ? (size_t)(nl - p) : n, vs;

		if (end == i || (end == i + 1 && p[i] == '\r'))
			return NULL; /* the end of the header */
		if (end - i > k && strncasecmp(p + i, name, k) == 0 && p[i + k] == ':') {
			vs = i + k + 1;
			while (vs < end && (p[vs] == ' ' || p[vs] == '\t'))
				vs++;
			while (end > vs && (p[end - 1] == '\r' || p[end - 1] == ' '))
				end--;
			*len_r = end - vs;
			return p + vs;
		}
		i = end + 1;
	}
	return NULL;
}

static void add_letter(char *flags, char letter)
{
	static const char order[] = "DFPRST";
	char set[8];
	size_t i, n = 0;

	if (strchr(flags, letter) != NULL)
		return;
	for (i = 0; order[i] != '\0'; i++)
		if (order[i] == letter || strchr(flags, order[i]) != NULL)
			set[n++] = order[i];
	set[n] = '\0';
	memcpy(flags, set, n + 1);
}

/* Size, hash and Message-ID of the bytes to send. */
static ims_err describe(struct im_msg *m, const struct ims_buf *data, struct ims_error *err)
{
	size_t idlen = 0;
	const char *id = header(data->data, data->len, "Message-ID", &idlen);

	m->size = data->len;
	if (ims_sha256(data->data, data->len, m->hash) != IMS_OK)
		return ims_error_set(err, IMS_ERR_IO, "import: sha-256 failed");
	if (id != NULL && idlen > 0 && idlen <= MSGID_MAX) {
		m->msgid = strndup(id, idlen);
		if (m->msgid == NULL)
			return ims_error_nomem(err);
	}
	return IMS_OK;
}

/* Each message read once and described (hash, Message-ID, size), in
 * order; the source's total bytes counted. */
static ims_err describe_all(struct im_source *s, struct ims_error *err)
{
	struct ims_buf data;
	ims_err e = IMS_OK;
	size_t i;

	ims_buf_init(&data, 0);
	for (i = 0; i < s->n && e == IMS_OK; i++) {
		e = im_source_read(s, &s->v[i], &data, err);
		if (e == IMS_OK)
			e = describe(&s->v[i], &data, err);
		s->bytes += s->v[i].size;
	}
	ims_buf_release(&data);
	return e;
}

/* ---- Maildir ---------------------------------------------------------------- */

static void maildir_info(struct im_msg *m, const char *name)
{
	const char *info = strstr(name, ":2,");

	if (info == NULL)
		info = strstr(name, "!2,");
	if (info == NULL)
		return;
	for (info += 3; *info != '\0'; info++)
		if (strchr("DFPRST", *info) != NULL)
			add_letter(m->flags, *info);
}

static ims_err maildir_sub(struct im_source *s, int subfd, int in_new, struct ims_error *err)
{
	int fd = dup(subfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	ims_err e = IMS_OK;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return ims_error_set(err, IMS_ERR_IO, "import: %s: %s", s->path, strerror(errno));
	}
	while (e == IMS_OK && (de = readdir(d)) != NULL) {
		struct stat st;
		struct im_msg *m;

		if (de->d_name[0] == '.' ||
		    fstatat(subfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		m = msg_add(s);
		if (m == NULL || (m->name = strdup(de->d_name)) == NULL) {
			e = ims_error_nomem(err);
			break;
		}
		m->in_new = in_new;
		m->date = (int64_t)st.st_mtime;
		maildir_info(m, de->d_name);
	}
	closedir(d);
	return e;
}

/* The UID an export gave a file's name ("...U<uid>.imapsh:2,"), or 0. */
static uint32_t export_uid(const char *name)
{
	const char *u = strstr(name, ".imapsh:2,");
	uint32_t v = 0, mul = 1;

	while (u != NULL && u > name && u[-1] >= '0' && u[-1] <= '9' && mul < 1000000000u) {
		v += (uint32_t)(u[-1] - '0') * mul;
		mul *= 10;
		u--;
	}
	return u != NULL && u > name && u[-1] == 'U' ? v : 0;
}

struct by_uid {
	uint32_t uid;
	size_t i;
};

static int by_uid_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct by_uid *)a)->uid, y = ((const struct by_uid *)b)->uid;

	return x < y ? -1 : x > y;
}

/* The labels sidecar of an export (export_labels.c) onto the messages. */
static ims_err maildir_labels(struct im_source *s, struct ims_error *err)
{
	struct ims_buf b;
	struct by_uid *idx;
	int found = 0;
	char *p, *nl;
	size_t i;
	ims_err e;

	ims_buf_init(&b, 0);
	e = ims_fs_read_all(s->dirfd, ".imapsh-labels", 0, &b, &found, err);
	if (e != IMS_OK || !found || s->n == 0) {
		ims_buf_release(&b);
		return e;
	}
	idx = calloc(s->n, sizeof(*idx));
	if (idx == NULL) {
		ims_buf_release(&b);
		return ims_error_nomem(err);
	}
	for (i = 0; i < s->n; i++) {
		idx[i].uid = export_uid(s->v[i].name);
		idx[i].i = i;
	}
	qsort(idx, s->n, sizeof(*idx), by_uid_cmp);
	for (p = b.data; e == IMS_OK && p != NULL && *p != '\0'; p = nl != NULL ? nl + 1 : NULL) {
		struct by_uid key, *hit;
		char *tab;

		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl = '\0';
		tab = strchr(p, '\t');
		key.uid = (uint32_t)strtoul(p, NULL, 10);
		hit = tab != NULL && key.uid != 0
		          ? bsearch(&key, idx, s->n, sizeof(key), by_uid_cmp)
		          : NULL;
		if (hit != NULL && s->v[hit->i].labels == NULL &&
		    (s->v[hit->i].labels = strdup(tab + 1)) == NULL)
			e = ims_error_nomem(err);
	}
	free(idx);
	ims_buf_release(&b);
	return e;
}

static int msg_cmp(const void *a, const void *b)
{
	const struct im_msg *x = a, *y = b;

	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return strcmp(x->name, y->name);
}

static ims_err maildir_open(struct im_source *s, struct ims_error *err)
{
	ims_err e;

	s->curfd = ims_fs_subdir(s->dirfd, "cur", 0, err);
	s->newfd = s->curfd >= 0 ? ims_fs_subdir(s->dirfd, "new", 0, err) : -1;
	if (s->newfd < 0)
		return ims_error_prefix(err, "import: %s is not a Maildir (no cur/ and new/)",
		                        s->path);
	e = maildir_sub(s, s->curfd, 0, err);
	if (e == IMS_OK)
		e = maildir_sub(s, s->newfd, 1, err);
	if (e == IMS_OK)
		e = maildir_labels(s, err);
	if (e != IMS_OK)
		return e;
	/* the order of their dates, as the folder had them */
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(s->v[0]), msg_cmp);
	return e == IMS_OK ? describe_all(s, err) : e;
}

/* ---- mbox -------------------------------------------------------------------- */

/* "From SENDER Www Mmm dd hh:mm:ss yyyy": the date, UTC. */
static int64_t from_line_date(const char *p, size_t n)
{
	char line[200], *sp;
	struct tm tm;
	const char *end;

	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	memcpy(line, p, n);
	line[n] = '\0';
	sp = strchr(line + 5, ' ');
	if (sp == NULL)
		return 0;
	memset(&tm, 0, sizeof(tm));
	end = strptime(sp + 1, "%a %b %d %H:%M:%S %Y", &tm);
	return end != NULL ? (int64_t)timegm(&tm) : 0;
}

static void mbox_status(struct im_msg *m, const char *p, size_t n)
{
	size_t len = 0, i;
	const char *v = header(p, n, "Status", &len);

	for (i = 0; v != NULL && i < len; i++)
		if (v[i] == 'R')
			add_letter(m->flags, 'S');
	v = header(p, n, "X-Status", &len);
	for (i = 0; v != NULL && i < len; i++) {
		const char *k = strchr("AFTD", v[i]);

		if (k != NULL && v[i] != '\0')
			add_letter(m->flags, "RFDT"[k - "AFTD"]);
	}
}

static int is_sep(const char *p, size_t at, size_t n)
{
	return n - at >= 5 && memcmp(p + at, "From ", 5) == 0 && (at == 0 || p[at - 1] == '\n');
}

static ims_err mbox_split(struct im_source *s, struct ims_error *err)
{
	const char *p = s->map;
	size_t n = s->map_len, at = 0;

	if (n > 0 && !is_sep(p, 0, n))
		return ims_error_set(err, IMS_ERR_USAGE,
		                     "import: %s is not an mbox (it does not begin with \"From \")",
		                     s->path);
	while (at < n) {
		const char *nl = memchr(p + at, '\n', n - at);
		size_t body = nl != NULL ? (size_t)(nl - p) + 1 : n, end = body;
		struct im_msg *m = msg_add(s);

		if (m == NULL)
			return ims_error_nomem(err);
		m->date = from_line_date(p + at, body - at);
		while (end < n) {
			const char *q = memchr(p + end, '\n', n - end);

			end = q != NULL ? (size_t)(q - p) + 1 : n;
			if (is_sep(p, end, n))
				break;
		}
		m->off = body;
		m->len = end - body;
		/* the blank line that ends every message of an mbox */
		if (m->len > 0 && p[end - 1] == '\n')
			m->len--;
		mbox_status(m, p + body, (size_t)m->len);
		at = end;
	}
	return IMS_OK;
}

static ims_err mbox_open(struct im_source *s, struct ims_error *err)
{
	struct stat st;
	int fd = ims_fs_open_read(s->dirfd, s->base, err);
	ims_err e;

	if (fd < 0)
		return fd == IMS_FS_MISSING
		           ? ims_error_set(err, IMS_ERR_USAGE, "import: %s: no such file", s->path)
		           : ims_error_prefix(err, "import: %s", s->path);
	if (fstat(fd, &st) != 0) {
		close(fd);
		return ims_error_set(err, IMS_ERR_IO, "import: %s: %s", s->path, strerror(errno));
	}
	s->map_len = (size_t)st.st_size;
	if (s->map_len > 0) {
		void *m = mmap(NULL, s->map_len, PROT_READ, MAP_PRIVATE, fd, 0);

		if (m == MAP_FAILED) {
			close(fd);
			return ims_error_set(err, IMS_ERR_IO, "import: %s: %s", s->path,
			                     strerror(errno));
		}
		s->map = m;
	}
	close(fd);
	e = mbox_split(s, err);
	return e == IMS_OK ? describe_all(s, err) : e;
}

/* One mbox message: ">From" unquoted one level (mboxrd), CRLF. */
static ims_err mbox_read(const struct im_source *s, const struct im_msg *m, struct ims_buf *out)
{
	const char *p = s->map + m->off;
	size_t n = (size_t)m->len, i = 0;
	struct ims_buf lf;
	ims_err e = IMS_OK;

	ims_buf_init(&lf, 0);
	while (i < n && e == IMS_OK) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t end = nl != NULL ? (size_t)(nl - p) + 1 : n, k = i;

		while (k < end && p[k] == '>')
			k++;
		if (k > i && end - k >= 5 && memcmp(p + k, "From ", 5) == 0)
			i++; /* one '>' less */
		e = ims_buf_append(&lf, p + i, end - i);
		i = end;
	}
	if (e == IMS_OK)
		e = im_crlf(lf.data != NULL ? lf.data : "", lf.len, out);
	ims_buf_release(&lf);
	return e;
}

/* ---- both ----------------------------------------------------------------------- */

ims_err im_source_read(struct im_source *s, const struct im_msg *m, struct ims_buf *out,
                       struct ims_error *err)
{
	struct ims_buf raw;
	int found = 0;
	ims_err e;

	ims_buf_reset(out);
	if (s->is_mbox)
		return mbox_read(s, m, out) == IMS_OK ? IMS_OK : ims_error_nomem(err);
	ims_buf_init(&raw, 0);
	e = ims_fs_read_all(m->in_new ? s->newfd : s->curfd, m->name, 0, &raw, &found, err);
	if (e == IMS_OK && !found)
		e = ims_error_set(err, IMS_ERR_IO, "import: %s/%s/%s is gone", s->path,
		                  m->in_new ? "new" : "cur", m->name);
	if (e == IMS_OK && im_crlf(raw.data != NULL ? raw.data : "", raw.len, out) != IMS_OK)
		e = ims_error_nomem(err);
	ims_buf_release(&raw);
	return e;
}

ims_err im_source_open(struct im_source *s, const char *path, struct ims_error *err)
{
	struct stat st;

	memset(s, 0, sizeof(*s));
	s->path = path;
	s->dirfd = s->curfd = s->newfd = -1;
	if (stat(path, &st) != 0)
		return ims_error_set(err, IMS_ERR_USAGE, "import: %s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		s->dirfd = ims_fs_dir_open(path, 0, err);
		if (s->dirfd < 0)
			return ims_error_prefix(err, "import");
		return maildir_open(s, err);
	}
	s->is_mbox = 1;
	s->dirfd = ims_fs_parent_open(path, s->base, sizeof(s->base), err);
	if (s->dirfd < 0)
		return ims_error_prefix(err, "import");
	return mbox_open(s, err);
}

void im_source_release(struct im_source *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].msgid);
		free(s->v[i].labels);
	}
	free(s->v);
	if (s->map != NULL)
		munmap((void *)s->map, s->map_len);
	if (s->curfd >= 0)
		close(s->curfd);
	if (s->newfd >= 0)
		close(s->newfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	memset(s, 0, sizeof(*s));
	s->dirfd = s->curfd = s->newfd = -1;
}
