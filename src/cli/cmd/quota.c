/* quota: storage use and limits of a folder's quota roots (RFC 9208). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/cmd/cmd.h"
#include "cli/output.h"
#include "imapsh/sanitize.h"
#include "imapsh/session.h"
#include "imapsh/textwidth.h"
#include "imapsh/units.h"

#define BOLD (c->color ? "\033[1m" : "")
#define NORM (c->color ? "\033[0m" : "")

ims_err cmd_quota(struct cli *c, int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : cmd_default_folder(c);
	struct ims_quota_result q;
	struct ims_buf wire;
	char folder[512];
	size_t i, k, wr = 0, wn = 0;
	ims_err e;

	snprintf(folder, sizeof(folder), "%s", name);
	ims_quota_result_init(&q);
	e = cmd_folder_encode(c, folder, &wire);
	if (e == IMS_OK)
		e = ims_session_getquotaroot(c->sess, wire.data, wire.len, &q, &c->err);
	ims_buf_release(&wire);
	if (e != IMS_OK) {
		ims_quota_result_release(&q);
		return cmd_folder_fail(c, e, "quota", folder);
	}
	if (c->o.json) {
		struct json_out j;

		json_init(&j, stdout);
		json_begin_object(&j);
		json_kv_str(&j, "name", folder);
		json_key(&j, "roots");
		json_begin_array(&j);
		for (i = 0; i < q.n; i++) {
			json_begin_object(&j);
			json_kv_str(&j, "root", q.v[i].root);
			json_key(&j, "resources");
			json_begin_array(&j);
			for (k = 0; k < q.v[i].n; k++) {
				json_begin_object(&j);
				json_kv_str(&j, "name", q.v[i].res[k].name);
				cmd_json_kv_u64(&j, "usage", 1, q.v[i].res[k].usage);
				cmd_json_kv_u64(&j, "limit", 1, q.v[i].res[k].limit);
				json_end_object(&j);
			}
			json_end_array(&j);
			json_end_object(&j);
		}
		json_end_array(&j);
		json_end_object(&j);
		json_finish(&j);
		ims_quota_result_release(&q);
		return IMS_OK;
	}
	for (i = 0; i < q.n; i++) {
		char s[512];

		if (ims_text_width(cli_safe(q.v[i].root, s, sizeof(s))) > wr)
			wr = ims_text_width(s);
		for (k = 0; k < q.v[i].n; k++)
			if (strlen(cli_safe(q.v[i].res[k].name, s, sizeof(s))) > wn)
				wn = strlen(s);
	}
	if (c->out_tty && q.n == 0 && !c->o.quiet) {
		char s[512];

		printf("%s: no quota\n", cli_safe(folder, s, sizeof(s)));
	}
	for (i = 0; i < q.n; i++) {
		if (q.v[i].n == 0 && c->out_tty) {
			/* a root the server sets no limit on (Courier's QUOTA
			 * without a list, or an empty one) says so */
			char s1[512];

			cli_safe(q.v[i].root, s1, sizeof(s1));
			fputs(s1, stdout);
			cmd_pad(ims_text_width(s1), wr + 2);
			fputs("no limits\n", stdout);
		}
		for (k = 0; k < q.v[i].n; k++) {
			const struct ims_quota_resource_info *r = &q.v[i].res[k];
			char s1[512], s2[512], u[32], l[32];
			int storage = strcasecmp(r->name, "STORAGE") == 0;

			if (!c->out_tty) {
				struct tsv t;

				tsv_begin(&t, stdout);
				tsv_field(&t, q.v[i].root);
				tsv_field(&t, r->name);
				tsv_fieldf(&t, "%llu", (unsigned long long)r->usage);
				tsv_fieldf(&t, "%llu", (unsigned long long)r->limit);
				(void)tsv_end(&t);
				continue;
			}
			cli_safe(q.v[i].root, s1, sizeof(s1));
			fputs(s1, stdout);
			cmd_pad(ims_text_width(s1), wr + 2);
			if (storage) {
				ims_size_iec(r->usage * 1024, u, sizeof(u));
				ims_size_iec(r->limit * 1024, l, sizeof(l));
			} else {
				snprintf(u, sizeof(u), "%llu", (unsigned long long)r->usage);
				snprintf(l, sizeof(l), "%llu", (unsigned long long)r->limit);
			}
			printf("%-*s  %10s of %-10s", (int)wn, cli_safe(r->name, s2, sizeof(s2)), u,
			       l);
			if (r->limit > 0) {
				unsigned pct = (unsigned)(r->usage * 100 / r->limit);

				printf("  %s%3u%%%s", pct >= 90 ? BOLD : "", pct,
				       pct >= 90 ? NORM : "");
			}
			putchar('\n');
		}
	}
	ims_quota_result_release(&q);
	return IMS_OK;
}
