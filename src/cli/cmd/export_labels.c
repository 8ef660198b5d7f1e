/* Gmail's labels (X-GM-LABELS, where the server offers X-GM-EXT-1) kept
 * beside an export: the sidecar DIR/.imapsh-labels (an mbox:
 * DIR/.NAME.mbox.imapsh-labels), one line a message, "UID<TAB>LABEL<TAB>
 * LABEL...", each label with controls and '%' as %XX.  It is rewritten
 * (temp, fsync, rename) at each commit before the state file, so it holds
 * the labels of every message the state file counts.  import reads it
 * back and gives each message its labels again (UID STORE +X-GM-LABELS). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd/export.h"

static int lab_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct xp_label *)a)->uid, y = ((const struct xp_label *)b)->uid;

	return x < y ? -1 : x > y;
}

static ims_err lab_add(struct export *x, uint32_t uid, const char *line)
{
	if (x->n_lab == x->cap_lab) {
		size_t nc = x->cap_lab ? x->cap_lab * 2 : 256;
		struct xp_label *nv = realloc(x->lab, nc * sizeof(*nv));

		if (nv == NULL)
			return ims_error_nomem(&x->ioerr);
		x->lab = nv;
		x->cap_lab = nc;
	}
	x->lab[x->n_lab].uid = uid;
	x->lab[x->n_lab].line = strdup(line);
	if (x->lab[x->n_lab].line == NULL)
		return ims_error_nomem(&x->ioerr);
	x->n_lab++;
	return IMS_OK;
}

static void sidecar_name(const struct export *x, char *out, size_t n)
{
	if (x->fmt == FMT_MBOX)
		snprintf(out, n, ".%s.imapsh-labels", x->mbox_name);
	else
		snprintf(out, n, "%s", XP_LABELS_NAME);
}

ims_err xp_labels_load(struct export *x)
{
	struct ims_buf b;
	struct ims_error e;
	char name[400];
	int found = 0;
	char *p, *nl;

	if (!ims_session_has_cap(x->c->sess, "X-GM-EXT-1"))
		return IMS_OK;
	x->gm_labels = 1;
	sidecar_name(x, name, sizeof(name));
	ims_buf_init(&b, 0);
	if (ims_fs_read_all(x->dirfd, name, 0, &b, &found, &e) != IMS_OK) {
		ims_buf_release(&b);
		return ims_error_copy(&x->c->err, &e);
	}
	for (p = b.data; found && p != NULL && *p != '\0'; p = nl != NULL ? nl + 1 : NULL) {
		char *tab;

		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl = '\0';
		tab = strchr(p, '\t');
		if (tab != NULL && lab_add(x, (uint32_t)strtoul(p, NULL, 10), tab + 1) != IMS_OK) {
			ims_buf_release(&b);
			return ims_error_copy(&x->c->err, &x->ioerr);
		}
	}
	ims_buf_release(&b);
	return IMS_OK;
}

/* The labels of a FETCH response, as one sidecar line's tail. */
ims_err xp_labels_take(struct export *x, const struct ims_fetch *f)
{
	const struct ims_value *it = f->items;
	struct ims_buf line;
	size_t i, k;
	ims_err e = IMS_OK;

	if (!x->gm_labels || it == NULL)
		return IMS_OK;
	for (i = 0; i + 1 < it->n; i += 2) {
		const struct ims_value *v = &it->v[i + 1];

		if (!ims_value_is_atom(&it->v[i], "X-GM-LABELS") || v->type != IMS_V_LIST)
			continue;
		ims_buf_init(&line, 0);
		for (k = 0; k < v->n && e == IMS_OK; k++) {
			char *s;

			if (v->v[k].type == IMS_V_LIST || v->v[k].s == NULL)
				continue;
			s = strndup(v->v[k].s, v->v[k].len);
			if (s == NULL || (line.len > 0 && ims_buf_putc(&line, '\t') != IMS_OK))
				e = IMS_ERR_NOMEM;
			else
				e = xp_put_escaped(&line, s);
			free(s);
		}
		if (e == IMS_OK)
			e = lab_add(x, f->uid, line.data != NULL ? line.data : "");
		else
			e = ims_error_nomem(&x->ioerr);
		ims_buf_release(&line);
		x->lab_dirty = 1;
		break;
	}
	return e;
}

ims_err xp_labels_save(struct export *x)
{
	struct ims_buf b;
	struct ims_error se;
	char name[400];
	size_t i;
	ims_err e = IMS_OK;

	if (!x->lab_dirty)
		return IMS_OK;
	qsort(x->lab, x->n_lab, sizeof(x->lab[0]), lab_cmp);
	ims_buf_init(&b, 0);
	for (i = 0; i < x->n_lab && e == IMS_OK; i++)
		if (i + 1 == x->n_lab || x->lab[i + 1].uid != x->lab[i].uid) /* the latest */
			e = ims_buf_printf(&b, "%" PRIu32 "\t%s\n", x->lab[i].uid, x->lab[i].line);
	sidecar_name(x, name, sizeof(name));
	if (e == IMS_OK)
		e = ims_fs_write_file(x->dirfd, name, b.data != NULL ? b.data : "", b.len,
		                      IMS_FS_SYNC, &se);
	ims_buf_release(&b);
	if (e != IMS_OK) {
		if (x->ioerr.code == IMS_OK)
			ims_error_set(&x->ioerr, IMS_ERR_IO, "cannot write %s/%s", x->dir, name);
		return IMS_ERR_IO;
	}
	x->lab_dirty = 0;
	return IMS_OK;
}

void xp_labels_release(struct export *x)
{
	size_t i;

	for (i = 0; i < x->n_lab; i++)
		free(x->lab[i].line);
	free(x->lab);
	x->lab = NULL;
	x->n_lab = x->cap_lab = 0;
}
