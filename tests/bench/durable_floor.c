/* The durable-write floor of an export: what the kernel and the disk
 * cost to make N files of the given sizes durable in a Maildir, with
 * nothing else (no network, no parsing, no TLS).
 *
 *   durable_floor SRC DEST [BATCH]
 *
 * For every regular file in SRC/cur (an export just made), a file of
 * the same size is created in DEST/tmp, written and closed; every
 * BATCH files (default 2000, the export's commit size) one syncfs()
 * makes the batch durable, each file is renamed into DEST/cur and
 * DEST/cur is fsynced: the same steps imapsh's export takes, in the
 * same order.  Prints the files, the bytes and the wall seconds.
 * Part of the bench only (tests/bench/bench.py compiles it). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what, const char *name)
{
	fprintf(stderr, "durable_floor: %s %s: %s\n", what, name, strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static off_t *sizes_of(const char *src, size_t *n)
{
	char path[4096];
	DIR *d;
	struct dirent *de;
	struct stat st;
	off_t *v = NULL;
	size_t cap = 0;

	snprintf(path, sizeof(path), "%s/cur", src);
	if ((d = opendir(path)) == NULL)
		die("cannot open", path);
	*n = 0;
	while ((de = readdir(d)) != NULL) {
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((v = realloc(v, cap * sizeof(*v))) == NULL)
				die("out of memory for", path);
		}
		v[(*n)++] = st.st_size;
	}
	closedir(d);
	return v;
}

static int subdir(int dfd, const char *name)
{
	int fd;

	if (mkdirat(dfd, name, 0700) != 0 && errno != EEXIST)
		die("cannot create", name);
	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY)) < 0)
		die("cannot open", name);
	return fd;
}

static void commit(int tmpfd, int curfd, size_t from, size_t to)
{
	char name[32];

	if (syncfs(tmpfd) != 0)
		die("cannot sync", "tmp");
	for (size_t i = from; i < to; i++) {
		snprintf(name, sizeof(name), "%zu", i);
		if (renameat(tmpfd, name, curfd, name) != 0)
			die("cannot rename", name);
	}
	if (fsync(curfd) != 0)
		die("cannot sync", "cur");
}

int main(int argc, char **argv)
{
	static char buf[1 << 16];
	size_t n, i, done = 0, batch = argc > 3 ? strtoul(argv[3], NULL, 10) : 2000;
	off_t *sz, total = 0;
	int dfd, tmpfd, curfd;
	double t0;

	if (argc < 3 || batch == 0) {
		fprintf(stderr, "usage: durable_floor SRC DEST [BATCH]\n");
		return 2;
	}
	sz = sizes_of(argv[1], &n);
	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < sizeof(buf); i += 78)
		buf[i] = '\n';
	if (mkdir(argv[2], 0700) != 0 && errno != EEXIST)
		die("cannot create", argv[2]);
	if ((dfd = open(argv[2], O_RDONLY | O_DIRECTORY)) < 0)
		die("cannot open", argv[2]);
	t0 = now();
	tmpfd = subdir(dfd, "tmp");
	curfd = subdir(dfd, "cur");
	for (i = 0; i < n; i++) {
		char name[32];
		off_t left = sz[i];
		int fd;

		snprintf(name, sizeof(name), "%zu", i);
		if ((fd = openat(tmpfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
			die("cannot create", name);
		while (left > 0) {
			size_t k = left < (off_t)sizeof(buf) ? (size_t)left : sizeof(buf);
			ssize_t w = write(fd, buf, k);

			if (w <= 0)
				die("cannot write", name);
			left -= w;
		}
		if (close(fd) != 0)
			die("cannot close", name);
		total += sz[i];
		if (i + 1 - done == batch) {
			commit(tmpfd, curfd, done, i + 1);
			done = i + 1;
		}
	}
	if (done < n)
		commit(tmpfd, curfd, done, n);
	printf("%zu %lld %.6f\n", n, (long long)total, now() - t0);
	free(sz);
	return 0;
}
