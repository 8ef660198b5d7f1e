/* The one way imapsh makes and opens files (fsafe.h). */
#define _GNU_SOURCE /* renameat2, RENAME_NOREPLACE */
#include "imapsh/fsafe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind_words(mode_t m)
{
	if (S_ISLNK(m))
		return "a symbolic link";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISREG(m))
		return "a regular file";
	return "of an unknown kind";
}

static int fail(struct ims_error *err, const char *name, int en)
{
	ims_error_set(err, IMS_ERR_IO, "%s: %s", name, strerror(en));
	errno = en;
	return -1;
}

static int refuse_link(struct ims_error *err, const char *name)
{
	ims_error_set(err, IMS_ERR_IO,
	              "%s is a symbolic link, which imapsh does not follow here: remove it or "
	              "choose another name",
	              name);
	errno = ELOOP;
	return -1;
}

static int refuse_kind(struct ims_error *err, const char *name, mode_t m, const char *want)
{
	ims_error_set(err, IMS_ERR_IO, "%s is %s, not %s: remove it or choose another name", name,
	              kind_words(m), want);
	errno = EINVAL;
	return -1;
}

/* ---- directories ------------------------------------------------------------- */

/* After a failed O_DIRECTORY|O_NOFOLLOW open of name in dfd: words. */
static int dir_fail(int dfd, const char *name, int en, struct ims_error *err)
{
	struct stat st;

	if ((en == ENOTDIR || en == ELOOP) && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode))
			return refuse_link(err, name);
		if (!S_ISDIR(st.st_mode))
			return refuse_kind(err, name, st.st_mode, "a directory");
	}
	return fail(err, name, en);
}

int ims_fs_subdir(int dfd, const char *name, int create, struct ims_error *err)
{
	int fd;

	if (name[0] == '\0' || strchr(name, '/') != NULL) {
		ims_error_set(err, IMS_ERR_IO, "'%s' is not a plain name", name);
		errno = EINVAL;
		return -1;
	}
	if (create && mkdirat(dfd, name, 0700) != 0 && errno != EEXIST)
		return fail(err, name, errno);
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return dir_fail(dfd, name, errno, err);
	return fd;
}

int ims_fs_dir_open(const char *path, int create, struct ims_error *err)
{
	char buf[4096];
	size_t len = strlen(path);
	char *p;
	int fd;

	if (len == 0) {
		ims_error_set(err, IMS_ERR_IO, "an empty directory name");
		errno = EINVAL;
		return -1;
	}
	if (len >= sizeof(buf)) {
		ims_error_set(err, IMS_ERR_IO, "%.64s...: the path is too long", path);
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, len + 1);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	if (create) {
		for (p = buf + 1; *p != '\0'; p++) {
			if (*p != '/')
				continue;
			*p = '\0';
			if (mkdir(buf, 0700) != 0 && errno != EEXIST)
				return fail(err, buf, errno);
			*p = '/';
		}
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return fail(err, buf, errno);
	}
	/* O_NOFOLLOW: the last name is not a link; the ones before it are
	 * resolved as the system does. */
	fd = open(buf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return dir_fail(AT_FDCWD, buf, errno, err);
	return fd;
}

int ims_fs_parent_open(const char *path, char *base, size_t n, struct ims_error *err)
{
	const char *slash = strrchr(path, '/');
	const char *b = slash != NULL ? slash + 1 : path;
	char dir[4096];
	int fd;

	if (b[0] == '\0' || strcmp(b, ".") == 0 || strcmp(b, "..") == 0) {
		ims_error_set(err, IMS_ERR_USAGE, "%s is a directory: give a file name", path);
		errno = EISDIR;
		return -1;
	}
	if (strlen(b) >= n || (slash != NULL && (size_t)(slash - path) >= sizeof(dir))) {
		ims_error_set(err, IMS_ERR_IO, "%.64s...: the name is too long", path);
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(base, b, strlen(b) + 1);
	if (slash == NULL)
		memcpy(dir, ".", 2);
	else if (slash == path)
		memcpy(dir, "/", 2);
	else {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, dir, errno);
	return fd;
}

/* ---- creating ------------------------------------------------------------- */

int ims_fs_tmp_create(int dfd, const char *prefix, unsigned flags, char *name, size_t n,
                      struct ims_error *err)
{
	int tries;

	if (strchr(prefix, '/') != NULL || strlen(prefix) + 21 > n) {
		ims_error_set(err, IMS_ERR_IO, "'%s' cannot start a temporary name", prefix);
		errno = EINVAL;
		return -1;
	}
	for (tries = 0; tries < 100; tries++) {
		unsigned char r[8];
		int fd, i;
		char *p;

		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
			/* Unpredictable enough for a name that O_EXCL protects. */
			unsigned long v =
			    (unsigned long)getpid() * 2654435761u + (unsigned long)tries;

			for (i = 0; i < 8; i++)
				r[i] = (unsigned char)(v >> (i * 4));
		}
		p = name + strlen(prefix);
		memcpy(name, prefix, strlen(prefix));
		for (i = 0; i < 8; i++) {
			*p++ = "0123456789abcdef"[r[i] >> 4];
			*p++ = "0123456789abcdef"[r[i] & 15];
		}
		memcpy(p, ".tmp", 5);
		fd = openat(dfd, name,
		            ((flags & IMS_FS_RDWR) ? O_RDWR : O_WRONLY) | O_CREAT | O_EXCL |
		                O_NOFOLLOW | O_CLOEXEC,
		            0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return fail(err, name, errno);
	}
	return fail(err, name, EEXIST);
}

ims_err ims_fs_place(int from_dfd, const char *tmp, int to_dfd, const char *name, unsigned flags,
                     struct ims_error *err)
{
	if (flags & IMS_FS_NOREPLACE) {
		/* link() fails with EEXIST whatever is there (a dangling link
		 * too); renameat2(RENAME_NOREPLACE) where links are refused. */
		if (linkat(from_dfd, tmp, to_dfd, name, 0) == 0) {
			(void)unlinkat(from_dfd, tmp, 0);
		} else if (errno != EPERM && errno != EOPNOTSUPP && errno != ENOSYS &&
		           errno != EMLINK) {
			fail(err, name, errno);
			return IMS_ERR_IO;
		} else if (renameat2(from_dfd, tmp, to_dfd, name, RENAME_NOREPLACE) != 0) {
			fail(err, name, errno);
			return IMS_ERR_IO;
		}
	} else if (renameat(from_dfd, tmp, to_dfd, name) != 0) {
		fail(err, name, errno);
		return IMS_ERR_IO;
	}
	if ((flags & IMS_FS_SYNC) && fsync(to_dfd) != 0) {
		fail(err, name, errno);
		return IMS_ERR_IO;
	}
	return IMS_OK;
}

int ims_fs_write_all(int fd, const void *p, size_t n, const volatile sig_atomic_t *stop)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR && (stop == NULL || !*stop))
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = EIO; /* no progress: never loop on it */
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

void ims_fs_write_file_prefix(const char *name, char *out, size_t n)
{
	snprintf(out, n, ".%.32s.", name);
}

ims_err ims_fs_write_file(int dfd, const char *name, const void *data, size_t len, unsigned flags,
                          struct ims_error *err)
{
	char prefix[48], tmp[IMS_FS_TMP_MAX];
	int fd, en;

	ims_fs_write_file_prefix(name, prefix, sizeof(prefix));
	fd = ims_fs_tmp_create(dfd, prefix, 0, tmp, sizeof(tmp), err);
	if (fd < 0)
		return IMS_ERR_IO;
	if (ims_fs_write_all(fd, data, len, NULL) != 0 ||
	    ((flags & IMS_FS_SYNC) && fsync(fd) != 0)) {
		en = errno;
		close(fd);
		(void)unlinkat(dfd, tmp, 0);
		fail(err, tmp, en);
		return IMS_ERR_IO;
	}
	if (close(fd) != 0) {
		fail(err, tmp, errno);
		(void)unlinkat(dfd, tmp, 0);
		return IMS_ERR_IO;
	}
	if (ims_fs_place(dfd, tmp, dfd, name, flags & IMS_FS_SYNC, err) != IMS_OK) {
		(void)unlinkat(dfd, tmp, 0);
		return IMS_ERR_IO;
	}
	return IMS_OK;
}

int ims_fs_anon_tmp(struct ims_error *err)
{
	const char *d = getenv("TMPDIR");
	char name[IMS_FS_TMP_MAX];
	int dfd, fd;

	if (d == NULL || d[0] != '/')
		d = "/tmp";
	/* No name at all where the system can; else a random one, removed
	 * at once. */
	fd = open(d, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return fail(err, d, errno);
	fd = ims_fs_tmp_create(dfd, ".imapsh-spool-", IMS_FS_RDWR, name, sizeof(name), err);
	if (fd >= 0)
		(void)unlinkat(dfd, name, 0);
	close(dfd);
	return fd;
}

/* ---- opening what is there ------------------------------------------------ */

/* fd was opened O_NONBLOCK: a regular file, made blocking; else closed. */
static int regular_or_close(int fd, const char *name, struct ims_error *err)
{
	struct stat st;
	int fl;

	if (fstat(fd, &st) != 0) {
		int en = errno;

		close(fd);
		return fail(err, name, en);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return refuse_kind(err, name, st.st_mode, "a regular file");
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
		int en = errno;

		close(fd);
		return fail(err, name, en);
	}
	return fd;
}

int ims_fs_open_append(int dfd, const char *name, struct ims_error *err)
{
	struct stat st;
	int fd;

	/* Look first, so that no device is ever opened */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode))
			return refuse_link(err, name);
		if (!S_ISREG(st.st_mode))
			return refuse_kind(err, name, st.st_mode, "a regular file");
	}
	fd = openat(dfd, name,
	            O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
	            0600);
	if (fd < 0)
		return errno == ELOOP ? refuse_link(err, name) : fail(err, name, errno);
	if (fstat(fd, &st) != 0) {
		int en = errno;

		close(fd);
		return fail(err, name, en);
	}
	if (S_ISREG(st.st_mode) && (st.st_nlink != 1 || st.st_uid != geteuid())) {
		close(fd);
		ims_error_set(err, IMS_ERR_IO,
		              "%s %s: imapsh appends only to a file of its own: remove it", name,
		              st.st_nlink != 1 ? "has another name (a hard link) as well"
		                               : "belongs to another user");
		errno = EPERM;
		return -1;
	}
	return regular_or_close(fd, name, err);
}

int ims_fs_open_read(int dfd, const char *name, struct ims_error *err)
{
	struct stat st;
	int fd;

	/* Look first, so that no device is ever opened, then check what was
	 * opened. */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return IMS_FS_MISSING;
		return fail(err, name, errno);
	}
	if (S_ISLNK(st.st_mode))
		return refuse_link(err, name);
	if (!S_ISREG(st.st_mode))
		return refuse_kind(err, name, st.st_mode, "a regular file");
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return IMS_FS_MISSING;
		if (errno == ELOOP)
			return refuse_link(err, name);
		return fail(err, name, errno);
	}
	return regular_or_close(fd, name, err);
}

ims_err ims_fs_read_all(int dfd, const char *name, size_t max, struct ims_buf *out, int *found_r,
                        struct ims_error *err)
{
	size_t start = out->len;
	int fd = ims_fs_open_read(dfd, name, err);
	ims_err e = IMS_OK;

	*found_r = 0;
	if (fd == IMS_FS_MISSING)
		return IMS_OK;
	if (fd < 0)
		return err->code;
	*found_r = 1;
	for (;;) {
		char chunk[8192];
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fail(err, name, errno);
			e = IMS_ERR_IO;
			break;
		}
		if (r == 0)
			break;
		if (max != 0 && out->len - start + (size_t)r > max) {
			e = ims_error_set(err, IMS_ERR_LIMIT, "%s: file too large (over %zu bytes)",
			                  name, max);
			break;
		}
		e = ims_buf_append(out, chunk, (size_t)r);
		if (e != IMS_OK) {
			ims_error_set(err, e, "%s: %s", name,
			              e == IMS_ERR_LIMIT ? "file too large" : "out of memory");
			break;
		}
	}
	close(fd);
	return e;
}

int ims_fs_open_lock(int dfd, const char *name, struct ims_error *err)
{
	int fd = openat(dfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd >= 0)
		return fd;
	if (errno != EEXIST)
		return fail(err, name, errno);
	fd = openat(dfd, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP)
			return refuse_link(err, name);
		if (errno == EISDIR)
			return refuse_kind(err, name, S_IFDIR, "a regular file");
		return fail(err, name, errno);
	}
	return regular_or_close(fd, name, err);
}

enum ims_fs_kind ims_fs_kind(int dfd, const char *name)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return IMS_FS_NONE;
	if (S_ISREG(st.st_mode))
		return IMS_FS_REG;
	if (S_ISDIR(st.st_mode))
		return IMS_FS_DIR;
	if (S_ISLNK(st.st_mode))
		return IMS_FS_LINK;
	return IMS_FS_OTHER;
}

/* ---- -o PATH ------------------------------------------------------------------ */

ims_err ims_fs_out_open(struct ims_fs_out *o, const char *path, struct ims_error *err)
{
	char prefix[64];
	struct stat st;

	o->fd = o->dfd = -1;
	o->through = 0;
	o->tmp[0] = '\0';
	o->dfd = ims_fs_parent_open(path, o->base, sizeof(o->base), err);
	if (o->dfd < 0)
		return err->code;
	if (fstatat(o->dfd, o->base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode)) {
			ims_error_set(err, IMS_ERR_USAGE,
			              "%s is a symbolic link, which imapsh does not write through: "
			              "give the file it points to, or remove the link",
			              path);
			goto refused;
		}
		if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
			/* Written through, as it is: a FIFO waits for its reader. */
			o->fd =
			    openat(o->dfd, o->base, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
			if (o->fd < 0) {
				fail(err, path, errno);
				goto refused;
			}
			if (fstat(o->fd, &st) != 0 ||
			    !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
				ims_error_set(err, IMS_ERR_IO, "%s changed while it was opened",
				              path);
				goto refused;
			}
			close(o->dfd);
			o->dfd = -1;
			o->through = 1;
			return IMS_OK;
		}
		if (!S_ISREG(st.st_mode)) {
			ims_error_set(
			    err, IMS_ERR_USAGE,
			    "%s is %s: give a file name (a new or regular file, a character "
			    "device or a FIFO)",
			    path, kind_words(st.st_mode));
			goto refused;
		}
	} else if (errno != ENOENT) {
		fail(err, path, errno);
		goto refused;
	}
	snprintf(prefix, sizeof(prefix), ".%.40s.", o->base);
	o->fd = ims_fs_tmp_create(o->dfd, prefix, 0, o->tmp, sizeof(o->tmp), err);
	if (o->fd < 0) {
		ims_error_prefix(err, "cannot create a file beside %s", path);
		goto refused;
	}
	return IMS_OK;
refused:
	if (o->fd >= 0)
		close(o->fd);
	if (o->dfd >= 0)
		close(o->dfd);
	o->fd = o->dfd = -1;
	return err->code;
}

ims_err ims_fs_out_finish(struct ims_fs_out *o, int ok, struct ims_error *err)
{
	ims_err e = IMS_OK;

	if (o->fd < 0)
		return IMS_OK;
	if (o->through) {
		if (close(o->fd) != 0 && ok) {
			fail(err, o->base, errno);
			e = IMS_ERR_IO;
		}
		o->fd = -1;
		return e;
	}
	if (ok && fsync(o->fd) != 0) {
		fail(err, o->base, errno);
		e = IMS_ERR_IO;
	}
	if (close(o->fd) != 0 && ok && e == IMS_OK) {
		fail(err, o->base, errno);
		e = IMS_ERR_IO;
	}
	o->fd = -1;
	if (ok && e == IMS_OK) {
		/* Something put there meanwhile is not replaced by a file. */
		enum ims_fs_kind k = ims_fs_kind(o->dfd, o->base);

		if (k == IMS_FS_DIR || k == IMS_FS_OTHER)
			e = ims_error_set(err, IMS_ERR_IO,
			                  "%s is no longer a regular file: not replaced", o->base);
		else
			e = ims_fs_place(o->dfd, o->tmp, o->dfd, o->base, IMS_FS_SYNC, err);
	}
	if (!ok || e != IMS_OK)
		(void)unlinkat(o->dfd, o->tmp, 0);
	close(o->dfd);
	o->dfd = -1;
	return e;
}

/* ---- lines ------------------------------------------------------------------- */

ssize_t ims_fs_getline(FILE *f, char **line, size_t *cap, unsigned long *lineno, const char *name,
                       struct ims_error *err)
{
	ssize_t len;

	errno = 0;
	len = getline(line, cap, f);
	if (len < 0) {
		if (ferror(f)) {
			ims_error_set(err, IMS_ERR_IO, "%s: %s", name,
			              strerror(errno != 0 ? errno : EIO));
			return -2;
		}
		return -1;
	}
	++*lineno;
	if (memchr(*line, '\0', (size_t)len) != NULL) {
		ims_error_set(err, IMS_ERR_IO,
		              "%s:%lu: a NUL byte in the line, which is refused, not cut short: "
		              "the file is damaged; fix or remove it",
		              name, *lineno);
		return -2;
	}
	if (len > 0 && (*line)[len - 1] == '\n')
		(*line)[--len] = '\0';
	if (len > 0 && (*line)[len - 1] == '\r')
		(*line)[--len] = '\0';
	return len;
}

int ims_fs_lock_beside(const char *path, struct ims_error *err)
{
	char lp[4200], base[IMS_FS_NAME_MAX + 8];
	struct flock fl;
	int fd, dfd;

	if ((size_t)snprintf(lp, sizeof(lp), "%s.lock", path) >= sizeof(lp)) {
		ims_error_set(err, IMS_ERR_IO, "%s: path too long", path);
		return -1;
	}
	dfd = ims_fs_parent_open(lp, base, sizeof(base), err);
	if (dfd < 0)
		return -1;
	fd = ims_fs_open_lock(dfd, base, err);
	close(dfd);
	if (fd < 0)
		return -1;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	while (fcntl(fd, F_SETLKW, &fl) != 0) {
		if (errno == EINTR)
			continue;
		ims_error_set(err, IMS_ERR_IO, "lock %s: %s", lp, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
