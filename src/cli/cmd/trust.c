/* trust: the public-key pins in known_hosts (list, add, rm). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "cli/trust.h"
#include "imapsh/knownhosts.h"
#include "imapsh/sanitize.h"

static ims_err trust_list(struct cli *c)
{
	char path[1024], hp[300];
	struct ims_kh kh;
	size_t i, w = 0;

	if (cli_trust_path(path, sizeof(path), 0, &c->err) != IMS_OK)
		return c->err.code;
	ims_kh_init(&kh);
	if (ims_kh_load(&kh, path, &c->err) != IMS_OK) {
		ims_kh_release(&kh);
		return ims_error_prefix(&c->err, "known hosts");
	}
	if (c->o.json) {
		struct json_out j;

		json_init(&j, stdout);
		json_begin_object(&j);
		json_kv_str(&j, "file", path);
		json_key(&j, "pins");
		json_begin_array(&j);
		for (i = 0; i < kh.n; i++) {
			if (kh.v[i].text != NULL)
				continue;
			json_begin_object(&j);
			json_kv_str(&j, "host", kh.v[i].host);
			json_kv_int(&j, "port", kh.v[i].port);
			json_kv_str(&j, "pin", kh.v[i].pin);
			json_end_object(&j);
		}
		json_end_array(&j);
		json_end_object(&j);
		json_finish(&j);
	} else {
		for (i = 0; i < kh.n; i++) {
			if (kh.v[i].text == NULL) {
				cli_trust_hostport(hp, sizeof(hp), kh.v[i].host, kh.v[i].port);
				if (strlen(hp) > w)
					w = strlen(hp);
			}
		}
		for (i = 0; i < kh.n; i++) {
			if (kh.v[i].text != NULL)
				continue;
			if (c->out_tty) {
				cli_trust_hostport(hp, sizeof(hp), kh.v[i].host, kh.v[i].port);
				printf("%-*s  %s\n", (int)w, hp, kh.v[i].pin);
			} else {
				struct tsv t;

				tsv_begin(&t, stdout);
				tsv_field(&t, kh.v[i].host);
				tsv_fieldf(&t, "%u", kh.v[i].port);
				tsv_field(&t, kh.v[i].pin);
				(void)tsv_end(&t);
			}
		}
	}
	ims_kh_release(&kh);
	return IMS_OK;
}

static ims_err trust_usage(struct cli *c)
{
	return ims_error_set(&c->err, IMS_ERR_USAGE,
	                     "usage: trust [list | add HOST[:PORT] PIN | rm HOST[:PORT] [PIN]]");
}

ims_err cmd_trust(struct cli *c, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "list";
	char host[IMS_KH_HOST_MAX], hp[300];
	unsigned port;

	if (strcmp(sub, "list") == 0 || strcmp(sub, "ls") == 0) {
		if (argc > 2)
			return trust_usage(c);
		return trust_list(c);
	}
	if (strcmp(sub, "add") == 0) {
		int added;

		if (argc != 4)
			return trust_usage(c);
		if (ims_kh_hostport_parse(argv[2], 993, host, sizeof(host), &port, &c->err) !=
		    IMS_OK)
			return ims_error_prefix(&c->err, "trust add");
		if (!ims_kh_pin_valid(argv[3]))
			return ims_error_set(&c->err, IMS_ERR_USAGE,
			                     "trust add: '%s' is not a pin (want sha256// and the "
			                     "44 base64 characters 'imapsh cert' shows as spki)",
			                     argv[3]);
		if (cli_trust_add(host, port, argv[3], &added, &c->err) != IMS_OK)
			return c->err.code;
		cli_trust_hostport(hp, sizeof(hp), host, port);
		if (c->o.json) {
			struct json_out j;

			json_init(&j, stdout);
			json_begin_object(&j);
			json_kv_str(&j, "host", host);
			json_kv_int(&j, "port", port);
			json_kv_str(&j, "pin", argv[3]);
			json_kv_bool(&j, "added", added);
			json_end_object(&j);
			json_finish(&j);
		} else if (c->out_tty && !c->o.quiet) {
			printf("%s %s: %s\n", added ? "pinned" : "already pinned", hp, argv[3]);
		}
		return IMS_OK;
	}
	if (strcmp(sub, "rm") == 0 || strcmp(sub, "remove") == 0) {
		const char *pin = argc > 3 ? argv[3] : NULL;
		size_t removed;

		if (argc < 3 || argc > 4)
			return trust_usage(c);
		if (ims_kh_hostport_parse(argv[2], 0, host, sizeof(host), &port, &c->err) != IMS_OK)
			return ims_error_prefix(&c->err, "trust rm");
		if (cli_trust_remove(host, port, pin, &removed, &c->err) != IMS_OK)
			return c->err.code;
		if (port != 0)
			cli_trust_hostport(hp, sizeof(hp), host, port);
		else
			snprintf(hp, sizeof(hp), "%s", host);
		if (c->o.json) {
			struct json_out j;

			json_init(&j, stdout);
			json_begin_object(&j);
			json_kv_str(&j, "host", host);
			json_key(&j, "port");
			if (port != 0)
				(void)ims_json_int(&j.w, port);
			else
				json_null(&j);
			json_kv_int(&j, "removed", (int64_t)removed);
			json_end_object(&j);
			json_finish(&j);
		}
		if (removed == 0)
			return ims_error_set(
			    &c->err, IMS_ERR_NO, "trust rm: no pin recorded for %s%s%s", hp,
			    pin != NULL ? " matching " : "", pin != NULL ? pin : "");
		if (!c->o.json && c->out_tty && !c->o.quiet)
			printf("removed %zu pin%s for %s\n", removed, removed == 1 ? "" : "s", hp);
		return IMS_OK;
	}
	return ims_error_set(&c->err, IMS_ERR_USAGE,
	                     "trust: unknown subcommand '%s' (list, add, rm)", sub);
}
