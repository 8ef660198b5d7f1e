/* The shell's folder cache: the names Tab completes, filled by one LIST
 * at the first Tab that needs them and kept current by the commands that
 * make, remove or rename folders. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "imapsh/session.h"

void cli_folders_set(struct cli *c, char **names, size_t n)
{
	size_t i;

	for (i = 0; i < c->n_folders; i++)
		free(c->folders[i]);
	free(c->folders);
	c->folders = names;
	c->n_folders = names != NULL ? n : 0;
	if (names == NULL)
		c->folders_asked = 0;
}

void cli_folders_update(struct cli *c, const char *const *add, size_t n_add, const char *drop,
                        int replace)
{
	size_t n_old = replace ? 0 : c->n_folders, i, k = 0, m;
	char **v;

	if (!c->interactive)
		return;
	v = calloc(n_old + n_add + 1, sizeof(*v));
	if (v == NULL)
		return;
	for (i = 0; i < n_old + n_add; i++) {
		const char *s = i < n_old ? c->folders[i] : add[i - n_old];

		if (drop != NULL && strcmp(s, drop) == 0)
			continue;
		for (m = 0; m < k && strcmp(v[m], s) != 0; m++)
			;
		if (m < k)
			continue;
		v[k] = strdup(s);
		if (v[k] == NULL) {
			while (k > 0)
				free(v[--k]);
			free(v);
			return;
		}
		k++;
	}
	cli_folders_set(c, v, k);
}

void cli_folders_fill(struct cli *c)
{
	struct ims_list_result res;
	struct ims_error err;
	enum ims_state st;
	char **names = NULL;
	size_t i, n = 0;

	if (!c->interactive || c->folders_asked || c->folders != NULL || c->sess == NULL)
		return;
	st = ims_session_state(c->sess);
	if (st != IMS_STATE_AUTHENTICATED && st != IMS_STATE_SELECTED)
		return;
	c->folders_asked = 1;
	ims_list_result_init(&res);
	ims_error_init(&err);
	if (ims_session_list(c->sess, "", "*", 0, &res, &err) == IMS_OK)
		names = calloc(res.n + 1, sizeof(*names));
	for (i = 0; names != NULL && i < res.n; i++) {
		struct ims_buf b;

		ims_buf_init(&b, 0);
		/* a name that cannot make the round trip is left out */
		if (cli_mbox_from_server(c, res.v[i].name, res.v[i].name_len, &b) == IMS_OK &&
		    b.data != NULL)
			names[n++] = ims_buf_take(&b, NULL);
		ims_buf_release(&b);
	}
	ims_list_result_release(&res);
	if (names != NULL)
		cli_folders_set(c, names, n);
}
