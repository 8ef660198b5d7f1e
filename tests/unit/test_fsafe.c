/* fsafe: files made and opened in a folder others may write to.  Every
 * test plants what an attacker would (symbolic links, FIFOs, directories,
 * a private character device made with mknod) in a temporary folder and
 * checks it is neither followed nor copied nor replaced. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "imapsh/fsafe.h"

static char dir[] = "/tmp/imapsh-fsafe-XXXXXX";
static int dfd = -1;

static int setup(void **state)
{
	(void)state;
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
	if (mkdtemp(dir) == NULL)
		return -1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	alarm(20); /* a FIFO that blocks fails the test, it does not hang it */
	return dfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	alarm(0);
	close(dfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *name, const char *text)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void expect(const char *name, const char *text)
{
	char buf[256];
	int fd = openat(dfd, name, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, text);
}

static mode_t mode_of(const char *name)
{
	struct stat st;

	assert_int_equal(fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st.st_mode;
}

/* Files in dfd whose name starts with prefix. */
static int count(const char *prefix)
{
	DIR *d = fdopendir(dup(dfd));
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

static void make_device(const char *name)
{
	/* a private node in the test's folder, never the system's */
	assert_int_equal(mknodat(dfd, name, S_IFCHR | 0666, makedev(1, 3)), 0);
}

static void test_tmp_create(void **state)
{
	char a[IMS_FS_TMP_MAX], b[IMS_FS_TMP_MAX];
	struct ims_error err;
	mode_t old = umask(0);
	int fa, fb;

	(void)state;
	ims_error_init(&err);
	fa = ims_fs_tmp_create(dfd, ".t-", 0, a, sizeof(a), &err);
	fb = ims_fs_tmp_create(dfd, ".t-", 0, b, sizeof(b), &err);
	umask(old);
	assert_true(fa >= 0 && fb >= 0);
	assert_string_not_equal(a, b);
	assert_int_equal(strlen(a), 3 + 16 + 4);
	assert_memory_equal(a + 19, ".tmp", 4);
	assert_int_equal(mode_of(a) & 07777, 0600); /* whatever the umask */
	assert_true(S_ISREG(mode_of(b)));
	close(fa);
	close(fb);
	/* A prefix with a '/' could leave the folder. */
	assert_int_equal(ims_fs_tmp_create(dfd, "../x", 0, a, sizeof(a), &err), -1);
}

static void test_write_file_link(void **state)
{
	struct ims_error err;

	(void)state;
	ims_error_init(&err);
	put("target", "precious");
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(symlinkat("target", dfd, "state"), 0);
	assert_int_equal(ims_fs_write_file(dfd, "state", "new\n", 4, IMS_FS_SYNC, &err), IMS_OK);
	/* The link was replaced, not followed: the target is as it was. */
	expect("target", "precious");
	expect("state", "new\n");
	assert_true(S_ISREG(mode_of("state")));
	assert_int_equal(mode_of("state") & 07777, 0600);
	assert_int_equal(count(".state."), 0); /* no temporary left */
}

static void test_open_read(void **state)
{
	struct ims_error err;
	int fd;

	(void)state;
	ims_error_init(&err);
	put("plain", "text");
	assert_int_equal(symlinkat("plain", dfd, "link"), 0);
	assert_int_equal(mkfifoat(dfd, "fifo", 0600), 0);
	make_device("dev");
	assert_int_equal(mkdirat(dfd, "sub", 0700), 0);

	fd = ims_fs_open_read(dfd, "plain", &err);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	close(fd);
	assert_int_equal(ims_fs_open_read(dfd, "missing", &err), IMS_FS_MISSING);

	assert_int_equal(ims_fs_open_read(dfd, "link", &err), -1);
	assert_non_null(strstr(err.msg, "link is a symbolic link"));
	assert_int_equal(ims_fs_open_read(dfd, "fifo", &err), -1); /* and did not wait */
	assert_non_null(strstr(err.msg, "fifo is a FIFO, not a regular file"));
	assert_int_equal(ims_fs_open_read(dfd, "dev", &err), -1);
	assert_non_null(strstr(err.msg, "a character device"));
	assert_int_equal(ims_fs_open_read(dfd, "sub", &err), -1);
	assert_non_null(strstr(err.msg, "a directory"));
}

static void test_open_append(void **state)
{
	struct ims_error err;
	int fd;

	(void)state;
	ims_error_init(&err);
	put("journal", "one\n");
	assert_int_equal(symlinkat("journal", dfd, "link"), 0);
	assert_int_equal(mkfifoat(dfd, "fifo", 0600), 0);
	make_device("dev");
	put("victim", "precious\n");
	assert_int_equal(linkat(dfd, "victim", dfd, "hard", 0), 0);

	fd = ims_fs_open_append(dfd, "journal", &err);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	assert_int_equal(write(fd, "two\n", 4), 4);
	close(fd);
	expect("journal", "one\ntwo\n");
	fd = ims_fs_open_append(dfd, "new", &err); /* made, 0600 */
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(mode_of("new") & 07777, 0600);

	assert_int_equal(ims_fs_open_append(dfd, "link", &err), -1);
	assert_non_null(strstr(err.msg, "link is a symbolic link"));
	assert_int_equal(ims_fs_open_append(dfd, "fifo", &err), -1); /* and did not wait */
	assert_non_null(strstr(err.msg, "fifo is a FIFO"));
	assert_int_equal(ims_fs_open_append(dfd, "dev", &err), -1);
	assert_non_null(strstr(err.msg, "a character device"));
	assert_int_equal(ims_fs_open_append(dfd, "hard", &err), -1);
	assert_non_null(strstr(err.msg, "hard link"));
	expect("victim", "precious\n");
}

static void test_read_all(void **state)
{
	struct ims_error err;
	struct ims_buf b;
	int found;

	(void)state;
	ims_error_init(&err);
	ims_buf_init(&b, 0);
	put("f", "0123456789");
	assert_int_equal(ims_fs_read_all(dfd, "f", 0, &b, &found, &err), IMS_OK);
	assert_int_equal(found, 1);
	assert_int_equal(b.len, 10);
	ims_buf_reset(&b);
	assert_int_equal(ims_fs_read_all(dfd, "f", 5, &b, &found, &err), IMS_ERR_LIMIT);
	assert_int_equal(ims_fs_read_all(dfd, "none", 0, &b, &found, &err), IMS_OK);
	assert_int_equal(found, 0);
	assert_int_equal(symlinkat("f", dfd, "l"), 0);
	assert_int_equal(ims_fs_read_all(dfd, "l", 0, &b, &found, &err), IMS_ERR_IO);
	ims_buf_release(&b);
}

static void test_dirs(void **state)
{
	struct ims_error err;
	char path[512];
	int fd;

	(void)state;
	ims_error_init(&err);
	assert_int_equal(mkdirat(dfd, "elsewhere", 0700), 0);
	assert_int_equal(symlinkat("elsewhere", dfd, "new"), 0);
	put("cur", "a file");

	fd = ims_fs_subdir(dfd, "tmp", 1, &err);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(mode_of("tmp") & 07777, 0700);
	/* A link at new is refused; nothing appears where it points. */
	assert_int_equal(ims_fs_subdir(dfd, "new", 1, &err), -1);
	assert_non_null(strstr(err.msg, "new is a symbolic link"));
	assert_int_equal(ims_fs_subdir(dfd, "cur", 1, &err), -1);
	assert_non_null(strstr(err.msg, "cur is a regular file"));
	assert_int_equal(ims_fs_subdir(dfd, "a/b", 1, &err), -1);

	/* A path: made as needed; its last name never a link. */
	snprintf(path, sizeof(path), "%s/x/y/z/", dir);
	fd = ims_fs_dir_open(path, 1, &err);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/new", dir);
	assert_int_equal(ims_fs_dir_open(path, 1, &err), -1);
	assert_non_null(strstr(err.msg, "is a symbolic link"));
	snprintf(path, sizeof(path), "%s/new/inside", dir);
	fd = ims_fs_dir_open(path, 1, &err); /* a link before the last name is the user's */
	assert_true(fd >= 0);
	close(fd);
}

static void test_lock(void **state)
{
	struct ims_error err;
	int fd;

	(void)state;
	ims_error_init(&err);
	fd = ims_fs_open_lock(dfd, "k.lock", &err);
	assert_true(fd >= 0);
	close(fd);
	fd = ims_fs_open_lock(dfd, "k.lock", &err);
	assert_true(fd >= 0);
	close(fd);
	/* A dangling link: not followed, so its target is not created. */
	assert_int_equal(symlinkat("victim", dfd, "d.lock"), 0);
	assert_int_equal(ims_fs_open_lock(dfd, "d.lock", &err), -1);
	assert_non_null(strstr(err.msg, "symbolic link"));
	assert_int_equal(faccessat(dfd, "victim", F_OK, 0), -1);
	assert_int_equal(mkfifoat(dfd, "f.lock", 0600), 0);
	assert_int_equal(ims_fs_open_lock(dfd, "f.lock", &err), -1);
}

static void test_place_noreplace(void **state)
{
	char tmp[IMS_FS_TMP_MAX];
	struct ims_error err;
	int fd;

	(void)state;
	ims_error_init(&err);
	assert_int_equal(symlinkat("victim", dfd, "taken"), 0);
	fd = ims_fs_tmp_create(dfd, ".p-", 0, tmp, sizeof(tmp), &err);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	assert_int_equal(ims_fs_place(dfd, tmp, dfd, "taken", IMS_FS_NOREPLACE, &err), IMS_ERR_IO);
	assert_int_equal(errno, EEXIST);
	assert_true(S_ISLNK(mode_of("taken")));
	assert_int_equal(faccessat(dfd, "victim", F_OK, 0), -1);
	assert_int_equal(ims_fs_place(dfd, tmp, dfd, "free", IMS_FS_NOREPLACE | IMS_FS_SYNC, &err),
	                 IMS_OK);
	expect("free", "x");
	assert_int_equal(count(".p-"), 0);
}

static void out_write(const char *path, const char *text, ims_err want_open, int ok)
{
	struct ims_fs_out o;
	struct ims_error err;

	ims_error_init(&err);
	assert_int_equal(ims_fs_out_open(&o, path, &err), want_open);
	if (want_open != IMS_OK)
		return;
	assert_int_equal(write(o.fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(ims_fs_out_finish(&o, ok, &err), IMS_OK);
}

static void test_out_files(void **state)
{
	char path[512];
	struct ims_fs_out o;
	struct ims_error err;

	(void)state;
	ims_error_init(&err);
	snprintf(path, sizeof(path), "%s/out.eml", dir);
	out_write(path, "one", IMS_OK, 1);
	expect("out.eml", "one");
	assert_int_equal(mode_of("out.eml") & 07777, 0600);
	/* A regular file is replaced when the new one is complete. */
	assert_int_equal(fchmodat(dfd, "out.eml", 0644, 0), 0);
	out_write(path, "two", IMS_OK, 1);
	expect("out.eml", "two");
	assert_int_equal(mode_of("out.eml") & 07777, 0600);
	/* Not complete: the old file stays, nothing is left over. */
	out_write(path, "three", IMS_OK, 0);
	expect("out.eml", "two");
	assert_int_equal(count(".out.eml."), 0);

	/* A link is refused with words; its target is untouched. */
	put("target", "precious");
	assert_int_equal(symlinkat("target", dfd, "link.eml"), 0);
	snprintf(path, sizeof(path), "%s/link.eml", dir);
	assert_int_equal(ims_fs_out_open(&o, path, &err), IMS_ERR_USAGE);
	assert_non_null(strstr(err.msg, "is a symbolic link"));
	expect("target", "precious");
	assert_true(S_ISLNK(mode_of("link.eml")));
	/* A directory too, with a trailing slash or not. */
	assert_int_equal(mkdirat(dfd, "d", 0700), 0);
	snprintf(path, sizeof(path), "%s/d", dir);
	assert_int_equal(ims_fs_out_open(&o, path, &err), IMS_ERR_USAGE);
	assert_non_null(strstr(err.msg, "is a directory"));
	snprintf(path, sizeof(path), "%s/d/", dir);
	assert_int_equal(ims_fs_out_open(&o, path, &err), IMS_ERR_USAGE);
}

static void test_out_device(void **state)
{
	char path[512];

	(void)state;
	make_device("null");
	snprintf(path, sizeof(path), "%s/null", dir);
	out_write(path, "into the void", IMS_OK, 1);
	/* Still the device, never a file. */
	assert_true(S_ISCHR(mode_of("null")));
	assert_int_equal(count(".null."), 0);
}

struct reader {
	char path[512];
	char got[64];
};

static void *read_fifo(void *arg)
{
	struct reader *r = arg;
	int fd = open(r->path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, r->got, sizeof(r->got) - 1) : -1;

	if (n > 0)
		r->got[n] = '\0';
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void test_out_fifo(void **state)
{
	struct reader r;
	pthread_t t;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(mkfifoat(dfd, "pipe", 0600), 0);
	snprintf(r.path, sizeof(r.path), "%s/pipe", dir);
	assert_int_equal(pthread_create(&t, NULL, read_fifo, &r), 0);
	out_write(r.path, "through", IMS_OK, 1);
	pthread_join(t, NULL);
	assert_string_equal(r.got, "through");
	assert_true(S_ISFIFO(mode_of("pipe")));
}

static void test_anon_tmp(void **state)
{
	struct ims_error err;
	struct stat st;
	char buf[4];
	int fd;

	(void)state;
	ims_error_init(&err);
	setenv("TMPDIR", dir, 1);
	fd = ims_fs_anon_tmp(&err);
	unsetenv("TMPDIR");
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_nlink, 0); /* no name anyone could plant or open */
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(write(fd, "abc", 3), 3);
	assert_int_equal(pread(fd, buf, 3, 0), 3);
	assert_memory_equal(buf, "abc", 3);
	close(fd);
	assert_int_equal(count(""), 2); /* "." and ".." only */
}

static void test_getline(void **state)
{
	FILE *f = tmpfile();
	struct ims_error err;
	unsigned long n = 0;
	char *line = NULL;
	size_t cap = 0;

	(void)state;
	ims_error_init(&err);
	assert_non_null(f);
	fwrite("one\r\nfolder Archive\0-old\nthree\n", 1, 31, f);
	rewind(f);
	assert_int_equal(ims_fs_getline(f, &line, &cap, &n, "state", &err), 3);
	assert_string_equal(line, "one");
	/* Never "folder Archive": the line is refused with its number. */
	assert_int_equal(ims_fs_getline(f, &line, &cap, &n, "state", &err), -2);
	assert_int_equal(n, 2);
	assert_non_null(strstr(err.msg, "state:2: a NUL byte"));
	assert_int_equal(ims_fs_getline(f, &line, &cap, &n, "state", &err), 5);
	assert_int_equal(ims_fs_getline(f, &line, &cap, &n, "state", &err), -1);
	free(line);
	fclose(f);
}

/* ---- the one write loop ---- */

static volatile sig_atomic_t wa_stop, wa_alarms;

static void wa_alarm(int sig)
{
	(void)sig;
	if (++wa_alarms >= 2)
		wa_stop = 1; /* the second signal is the user's Ctrl-C */
}

/* A pipe whose buffer is full: the next write() blocks. */
static void full_pipe(int p[2])
{
	char junk[4096];

	memset(junk, 'x', sizeof(junk));
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
	while (write(p[1], junk, sizeof(junk)) > 0)
		;
	assert_int_equal(fcntl(p[1], F_SETFL, 0), 0);
}

static void test_write_all(void **state)
{
	struct sigaction sa, old;
	struct itimerval it = {{0, 30000}, {0, 30000}}, off = {{0, 0}, {0, 0}};
	char back[16];
	int p[2];

	(void)state;
	/* Whole, in order. */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(ims_fs_write_all(p[1], "hello, world", 12, NULL), 0);
	assert_int_equal(read(p[0], back, sizeof(back)), 12);
	assert_memory_equal(back, "hello, world", 12);
	close(p[0]);
	close(p[1]);

	/* A blocked write: the first signal is tried again, the one that
	 * comes with *stop set ends it with EINTR. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wa_alarm;
	sa.sa_flags = 0; /* no SA_RESTART: write() sees EINTR */
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	full_pipe(p);
	wa_stop = 0;
	wa_alarms = 0;
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
	errno = 0;
	assert_int_equal(ims_fs_write_all(p[1], "more", 4, &wa_stop), -1);
	assert_int_equal(errno, EINTR);
	assert_int_equal(wa_alarms, 2);
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_tmp_create, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_file_link, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_append, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_all, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dirs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_place_noreplace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out_device, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out_fifo, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_anon_tmp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_getline, setup, teardown),
	    cmocka_unit_test(test_write_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
