/* The one way imapsh makes and opens files: every file it creates, every
 * file it replaces and every file it reads from a folder that someone
 * else may be able to write to (an export directory, save's and fetch -o's
 * destination, the data and state folders of known_hosts and history).
 *
 * Guarantees:
 *  - A file is created only under a random name in a directory opened as
 *    a descriptor: openat(O_CREAT | O_EXCL | O_NOFOLLOW), mode 0600 (the
 *    umask can only take bits away), and put in place with renameat() (or
 *    linkat() when nothing may be replaced).  Nothing planted at a name,
 *    a symbolic link, a FIFO or a device, is ever followed, opened or
 *    written through, and its contents and mode are never copied.
 *  - A file that is read is opened with O_NOFOLLOW | O_NONBLOCK (so a
 *    FIFO cannot make imapsh wait) and refused unless fstat() says it is
 *    a regular file.
 *  - A directory is opened with O_DIRECTORY | O_NOFOLLOW and entered with
 *    *at() calls; the ones imapsh makes are created 0700 with mkdirat().
 *    Of a path the user typed, the directories before the last name are
 *    resolved as the system does (they are the user's choice); the last
 *    name is never a symbolic link.
 *  - -o PATH (ims_fs_out_open) writes through to a character device or a
 *    FIFO that is already there (-o /dev/null stays a device), refuses a
 *    symbolic link, a directory or anything else with words, and
 *    otherwise writes a new file beside PATH that replaces it only when
 *    complete.
 *  - Durability is asked for with IMS_FS_SYNC: the file is fsync()ed
 *    before it is put in place and its directory after.
 *
 * Errors: functions that fail write words into err naming the file as the
 * caller gave it ("NAME: a symbolic link, not followed: ..."); callers put
 * their own context in front with ims_error_prefix().  A missing file is
 * told apart by IMS_FS_MISSING where a function says so.
 *
 * Ownership: every descriptor returned belongs to the caller, who closes
 * it; struct ims_fs_out owns its descriptors until ims_fs_out_finish(). */
#ifndef IMAPSH_FSAFE_H
#define IMAPSH_FSAFE_H

#include <signal.h>
#include <stdio.h>
#include <sys/types.h>

#include "imapsh/buf.h"
#include "imapsh/error.h"

#define IMS_FS_SYNC      1u /* fsync the file before, the directory after */
#define IMS_FS_NOREPLACE 2u /* fail with EEXIST when the name is taken */

#define IMS_FS_TMP_MAX  96 /* a temporary name: prefix, 16 hex digits, ".tmp" */
#define IMS_FS_NAME_MAX 256

/* Returned (as a negative descriptor) by the open functions when the file
 * is not there: not an error, err is left alone. */
#define IMS_FS_MISSING (-2)

/* ---- directories ---------------------------------------------------------- */

/* Open the directory at path (as typed; relative to the working directory),
 * creating what is missing (0700) when create is set.  The last name must be
 * a real directory, never a symbolic link.  Returns a descriptor or -1. */
int ims_fs_dir_open(const char *path, int create, struct ims_error *err);

/* Open (and with create, first make, 0700) the directory name (one name, no
 * '/') inside dfd, never through a symbolic link.  Returns a descriptor or
 * -1. */
int ims_fs_subdir(int dfd, const char *name, int create, struct ims_error *err);

/* Open the directory that holds path's last name and copy that name into
 * base (which must not be empty, ".", ".." or end in '/').  Returns a
 * descriptor or -1. */
int ims_fs_parent_open(const char *path, char *base, size_t n, struct ims_error *err);

/* ---- creating ------------------------------------------------------------- */

/* Create a new empty file of mode 0600 in dfd under prefix, 16 random hex
 * digits and ".tmp"; its name goes into name (IMS_FS_TMP_MAX bytes).
 * prefix must hold no '/'.  Returns a write-only (rw with IMS_FS_RDWR in
 * flags) descriptor or -1. */
#define IMS_FS_RDWR 4u
int ims_fs_tmp_create(int dfd, const char *prefix, unsigned flags, char *name, size_t n,
                      struct ims_error *err);

/* Put the complete file tmp (in from_dfd) in place as name (in to_dfd):
 * renameat(), which replaces a file (or a link, never followed) of that
 * name; with IMS_FS_NOREPLACE nothing is replaced (errno EEXIST).  With
 * IMS_FS_SYNC, to_dfd is fsync()ed afterwards (the caller fsyncs the file
 * itself: several files may share one sync).  On failure tmp is left for
 * the caller.  IMS_ERR_IO. */
ims_err ims_fs_place(int from_dfd, const char *tmp, int to_dfd, const char *name, unsigned flags,
                     struct ims_error *err) IMS_MUST_CHECK;

/* Write all n bytes of p to fd, as many write() calls as it takes.  A
 * write() interrupted by a signal (EINTR) is tried again, unless stop is
 * not NULL and *stop is set (the user's Ctrl-C): then it fails with errno
 * EINTR.  0, or -1 with errno.  The one such loop: the front end's
 * writers to stdout, files and spools use it. */
int ims_fs_write_all(int fd, const void *p, size_t n, const volatile sig_atomic_t *stop);

/* Replace (or create) name in dfd with data[0..len): a temporary file,
 * written, fsync()ed with IMS_FS_SYNC, renamed over name.  A reader sees
 * the old file or the new one, never a part.  IMS_ERR_IO. */
ims_err ims_fs_write_file(int dfd, const char *name, const void *data, size_t len, unsigned flags,
                          struct ims_error *err) IMS_MUST_CHECK;

/* A new read-write file of mode 0600 that has no name (O_TMPFILE in
 * $TMPDIR or /tmp; where that is missing, a random name removed at once):
 * for spooling.  Returns a descriptor or -1. */
int ims_fs_anon_tmp(struct ims_error *err);

/* How the temporary names of ims_fs_write_file(dfd, name, ...) start
 * (".NAME." with NAME cut to 32 bytes), to remove what a run that died
 * left behind. */
void ims_fs_write_file_prefix(const char *name, char *out, size_t n);

/* ---- opening what is there -------------------------------------------------- */

/* Open name in dfd for reading: never through a symbolic link, never a
 * FIFO, a device or a directory.  Returns a descriptor (blocking), or
 * IMS_FS_MISSING when there is no such name, or -1. */
int ims_fs_open_read(int dfd, const char *name, struct ims_error *err);

/* Open (create, 0600, when missing) name in dfd for appending in place (a
 * journal): never through a symbolic link, never a FIFO or a device (no
 * wait for a reader), and never a file that is not ours alone: one of
 * another user, or with another name as well (a hard link planted in a
 * shared directory would have imapsh write into the file it names).
 * Returns a descriptor (blocking) or -1. */
int ims_fs_open_append(int dfd, const char *name, struct ims_error *err);

/* Read all of name (at most max bytes; 0: no limit) into out (appended).
 * *found_r is 0 when there is no such file (not an error).  IMS_ERR_IO,
 * IMS_ERR_LIMIT, IMS_ERR_NOMEM. */
ims_err ims_fs_read_all(int dfd, const char *name, size_t max, struct ims_buf *out, int *found_r,
                        struct ims_error *err) IMS_MUST_CHECK;

/* Open (create, 0600, when missing) the lock file name in dfd, read-write:
 * a regular file, never through a symbolic link.  Returns a descriptor or
 * -1.  Its contents are never read or written. */
int ims_fs_open_lock(int dfd, const char *name, struct ims_error *err);

/* An exclusive lock (fcntl, waited for) on PATH.lock, made with
 * ims_fs_open_lock: for a read-modify-write of PATH by several imapsh at
 * once (known_hosts, history).  Returns the descriptor to close when done,
 * or -1. */
int ims_fs_lock_beside(const char *path, struct ims_error *err);

/* What is at name in dfd, links not followed. */
enum ims_fs_kind { IMS_FS_NONE, IMS_FS_REG, IMS_FS_DIR, IMS_FS_LINK, IMS_FS_OTHER };
enum ims_fs_kind ims_fs_kind(int dfd, const char *name);

/* ---- -o PATH ------------------------------------------------------------------ */

struct ims_fs_out {
	int fd;      /* write here */
	int dfd;     /* the folder of PATH (-1 when writing through) */
	int through; /* 1: fd is a device or FIFO that was there */
	char tmp[IMS_FS_TMP_MAX];
	char base[IMS_FS_NAME_MAX];
};

/* Open path for output as described at the top.  IMS_ERR_USAGE (a link, a
 * directory, a socket or a block device at path), IMS_ERR_IO. */
ims_err ims_fs_out_open(struct ims_fs_out *o, const char *path,
                        struct ims_error *err) IMS_MUST_CHECK;

/* ok: fsync, put the new file in place, fsync the folder (nothing more than
 * close for a device or FIFO).  !ok: remove the new file.  Closes
 * everything; o is spent.  IMS_ERR_IO when ok and something failed. */
ims_err ims_fs_out_finish(struct ims_fs_out *o, int ok, struct ims_error *err) IMS_MUST_CHECK;

/* ---- lines ------------------------------------------------------------------- */

/* getline() that never cuts a line at a NUL: returns the length (the line
 * end, "\n" or "\r\n", removed) and counts *lineno; -1 at the end of f;
 * -2 when the line holds a NUL byte or f cannot be read (err says "NAME:N:
 * ..." with the line number).  *line and *cap as for getline(). */
ssize_t ims_fs_getline(FILE *f, char **line, size_t *cap, unsigned long *lineno, const char *name,
                       struct ims_error *err);

#endif
