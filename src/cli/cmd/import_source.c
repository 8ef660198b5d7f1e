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

/* The flags of a Status or X-Status header's value. */
static void mbox_status(struct im_msg *m, int x, const char *v, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		const char *k = x ? strchr("AFTD", v[i]) : NULL;

		if (!x && v[i] == 'R')
			add_letter(m->flags, 'S');
		else if (k != NULL && v[i] != '\0')
			add_letter(m->flags, "RFDT"[k - "AFTD"]);
	}
}

/* The mbox is read with read() and pread(), never mapped: a file that
 * another program cuts short while imapsh reads it is an error in words,
 * not a SIGBUS.  The scan keeps of each line only its first bytes (the
 * From line's date, a Status header): a line of any length costs no
 * memory. */
#define LINE_HEAD 200

struct mbox_scan {
	struct im_source *s;
	struct im_msg *m;     /* the message being read, or NULL before the first */
	int in_header;        /* m's header block */
	int seen_status[2];   /* Status, X-Status: the first one counts */
	char head[LINE_HEAD]; /* the line's first bytes */
	size_t head_len;
	uint64_t line_at; /* where the line begins */
	char last;        /* the byte before line_at */
};

/* The message before at ends there; its last LF (the blank line that
 * ends every message of an mbox) is not its own. */
static void mbox_close(struct mbox_scan *sc, uint64_t at)
{
	if (sc->m == NULL)
		return;
	sc->m->len = at - sc->m->off;
	if (sc->m->len > 0 && sc->last == '\n')
		sc->m->len--;
}

/* One whole line (its first bytes in sc->head) of len bytes, LF included. */
static ims_err mbox_line(struct mbox_scan *sc, uint64_t len, struct ims_error *err)
{
	const char *h = sc->head;
	size_t n = sc->head_len;

	if (n >= 5 && memcmp(h, "From ", 5) == 0) {
		mbox_close(sc, sc->line_at);
		sc->m = msg_add(sc->s);
		if (sc->m == NULL)
			return ims_error_nomem(err);
		sc->m->date = from_line_date(h, n);
		sc->m->off = sc->line_at + len;
		sc->in_header = 1;
		sc->seen_status[0] = sc->seen_status[1] = 0;
		return IMS_OK;
	}
	if (sc->m == NULL)
		return ims_error_set(err, IMS_ERR_USAGE,
		                     "import: %s is not an mbox (it does not begin with \"From \")",
		                     sc->s->path);
	if (!sc->in_header)
		return IMS_OK;
	if (n == 0 || h[0] == '\n' || (h[0] == '\r' && n > 1 && h[1] == '\n')) {
		sc->in_header = 0; /* the end of the header */
		return IMS_OK;
	}
	for (int x = 0; x < 2; x++) {
		const char *name = x ? "X-Status" : "Status";
		size_t k = strlen(name), vs = k + 1, end = n;

		if (sc->seen_status[x] || n <= k || strncasecmp(h, name, k) != 0 || h[k] != ':')
			continue;
		sc->seen_status[x] = 1;
		while (vs < end && (h[vs] == ' ' || h[vs] == '\t'))
			vs++;
		while (end > vs && (h[end - 1] == '\n' || h[end - 1] == '\r' || h[end - 1] == ' '))
			end--;
		mbox_status(sc->m, x, h + vs, end - vs);
	}
	return IMS_OK;
}

static ims_err mbox_split(struct im_source *s, int fd, struct ims_error *err)
{
	struct mbox_scan sc;
	char *chunk = malloc(65536);
	uint64_t at = 0;
	ims_err e = IMS_OK;

	if (chunk == NULL)
		return ims_error_nomem(err);
	memset(&sc, 0, sizeof(sc));
	sc.s = s;
	while (e == IMS_OK) {
		ssize_t got = read(fd, chunk, 65536);
		size_t i = 0;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			e = ims_error_set(err, IMS_ERR_IO, "import: %s: %s", s->path,
			                  strerror(errno));
			break;
		}
		if (got == 0)
			break;
		while (i < (size_t)got && e == IMS_OK) {
			const char *nl = memchr(chunk + i, '\n', (size_t)got - i);
			size_t end = nl != NULL ? (size_t)(nl - chunk) + 1 : (size_t)got;
			size_t take = end - i;

			if (take > LINE_HEAD - sc.head_len)
				take = LINE_HEAD - sc.head_len;
			memcpy(sc.head + sc.head_len, chunk + i, take);
			sc.head_len += take;
			at += end - i;
			i = end;
			if (nl != NULL) {
				e = mbox_line(&sc, at - sc.line_at, err);
				sc.last = '\n';
				sc.line_at = at;
				sc.head_len = 0;
			}
		}
		if (i > 0)
			sc.last = chunk[i - 1];
	}
	if (e == IMS_OK && at > sc.line_at) /* a last line without its LF */
		e = mbox_line(&sc, at - sc.line_at, err);
	if (e == IMS_OK)
		mbox_close(&sc, at);
	s->size = at;
	free(chunk);
	return e;
}

static ims_err mbox_open(struct im_source *s, struct ims_error *err)
{
	ims_err e;

	s->fd = ims_fs_open_read(s->dirfd, s->base, err);
	if (s->fd < 0) {
		ims_err r =
		    s->fd == IMS_FS_MISSING
		        ? ims_error_set(err, IMS_ERR_USAGE, "import: %s: no such file", s->path)
		        : ims_error_prefix(err, "import: %s", s->path);
		s->fd = -1;
		return r;
	}
	e = mbox_split(s, s->fd, err);
	return e == IMS_OK ? describe_all(s, err) : e;
}

/* One mbox message: read again (the file may have changed: cut short, it
 * is an error), ">From" unquoted one level (mboxrd), CRLF. */
static ims_err mbox_read(const struct im_source *s, const struct im_msg *m, struct ims_buf *out,
                         struct ims_error *err)
{
	struct ims_buf raw, lf;
	size_t n = (size_t)m->len, i = 0, got = 0;
	const char *p;
	ims_err e;

	if ((uint64_t)n != m->len)
		return ims_error_set(err, IMS_ERR_LIMIT, "import: %s: a message too large to read",
		                     s->path);
	ims_buf_init(&raw, 0);
	ims_buf_init(&lf, 0);
	e = ims_buf_reserve(&raw, n + 1);
	while (e == IMS_OK && got < n) {
		ssize_t r = pread(s->fd, raw.data + got, n - got, (off_t)(m->off + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			e = ims_error_set(err, IMS_ERR_IO, "import: %s: %s", s->path,
			                  strerror(errno));
		else if (r == 0)
			e = ims_error_set(err, IMS_ERR_IO,
			                  "import: %s changed while imapsh read it (it is shorter "
			                  "now); run the import again",
			                  s->path);
		else
			got += (size_t)r;
	}
	if (e == IMS_OK && n > 0) {
		raw.len = n;
		raw.data[n] = '\0';
	}
	p = raw.data;
	while (e == IMS_OK && i < n) {
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
	if (e == IMS_ERR_NOMEM || e == IMS_ERR_LIMIT)
		if (err->code == IMS_OK)
			ims_error_nomem(err);
	ims_buf_release(&raw);
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
		return mbox_read(s, m, out, err);
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
	s->dirfd = s->curfd = s->newfd = s->fd = -1;
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
	if (s->fd >= 0)
		close(s->fd);
	if (s->curfd >= 0)
		close(s->curfd);
	if (s->newfd >= 0)
		close(s->newfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	memset(s, 0, sizeof(*s));
	s->dirfd = s->curfd = s->newfd = s->fd = -1;
}
