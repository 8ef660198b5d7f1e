/* ims_kh_load() and ims_kh_save(): the known_hosts file, read and written
 * only through fsafe.h (the parsing stays pure in src/front/knownhosts.c). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "imapsh/caps.h"
#include "imapsh/fsafe.h"
#include "imapsh/knownhosts.h"

ims_err ims_kh_load(struct ims_kh *kh, const char *path, struct ims_error *err)
{
	char base[IMS_FS_NAME_MAX];
	struct ims_buf b;
	int dfd, found;
	ims_err e;

	dfd = ims_fs_parent_open(path, base, sizeof(base), err);
	if (dfd < 0) {
		if (errno == ENOENT) {
			ims_error_init(err); /* no folder: an empty store */
			return IMS_OK;
		}
		return ims_error_prefix(err, "%s", path);
	}
	ims_buf_init(&b, IMS_KH_FILE_MAX);
	e = ims_fs_read_all(dfd, base, IMS_KH_FILE_MAX, &b, &found, err);
	close(dfd);
	if (e != IMS_OK) {
		ims_buf_release(&b);
		if (strncmp(err->msg, base, strlen(base)) == 0 && strcmp(base, path) != 0) {
			/* name the whole path */
			struct ims_error pe;

			ims_error_init(&pe);
			ims_error_set(&pe, e, "%s%s", path, err->msg + strlen(base));
			ims_error_copy(err, &pe);
		}
		return e;
	}
	e = ims_kh_parse(kh, b.data != NULL ? b.data : "", b.len, path, err);
	ims_buf_release(&b);
	return e;
}

ims_err ims_kh_save(const struct ims_kh *kh, const char *path, struct ims_error *err)
{
	char base[IMS_FS_NAME_MAX];
	struct ims_buf b;
	int dfd;
	ims_err e;

	ims_buf_init(&b, 0);
	if (ims_kh_format(kh, &b, err) != IMS_OK) {
		ims_buf_release(&b);
		return err->code;
	}
	dfd = ims_fs_parent_open(path, base, sizeof(base), err);
	if (dfd < 0) {
		ims_buf_release(&b);
		return ims_error_prefix(err, "%s", path);
	}
	e = ims_fs_write_file(dfd, base, b.data != NULL ? b.data : "", b.len, IMS_FS_SYNC, err);
	if (e != IMS_OK)
		(void)ims_error_prefix(err, "%s", path);
	close(dfd);
	ims_buf_release(&b);
	return e;
}
