/* The command table and the dispatcher that enforces its flags. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"

static const struct cli_cmd table[] = {
	{ "cert", { NULL }, "cert [HOST[:PORT]]",
	  "the server's certificate chain, TLS version and verification result", 0, 1, 0, cmd_cert },
	{ "check", { NULL }, "check [HOST[:PORT]]",
	  "connectivity check (DNS, TCP, TLS, certificate, greeting)", 0, -1, 0, cmd_check },
	{ "help", { NULL }, "help [COMMAND]", "list commands, or explain one", 0, 1, 0, cmd_help },
};

const struct cli_cmd *cli_cmd_table(size_t *n_r)
{
	*n_r = sizeof(table) / sizeof(table[0]);
	return table;
}

const struct cli_cmd *cli_cmd_find(const char *name)
{
	size_t i, k;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strcasecmp(table[i].name, name) == 0)
			return &table[i];
		for (k = 0; k < 3 && table[i].aliases[k] != NULL; k++)
			if (strcasecmp(table[i].aliases[k], name) == 0)
				return &table[i];
	}
	return NULL;
}

ims_err cli_cmd_run(struct cli *c, int argc, char **argv)
{
	const struct cli_cmd *cmd = cli_cmd_find(argv[0]);
	int nargs = argc - 1;

	if (cmd == NULL)
		return ims_error_set(&c->err, IMS_ERR_USAGE, "unknown command '%s' (try 'help')", argv[0]);
	/* Commands with options of their own count only their operands. */
	if (cmd->run != cmd_check) {
		if (nargs < cmd->min_args || (cmd->max_args >= 0 && nargs > cmd->max_args))
			return ims_error_set(&c->err, IMS_ERR_USAGE, "usage: %s", cmd->usage);
	}
	ims_error_init(&c->err);
	return cmd->run(c, argc, argv);
}

ims_err cmd_help(struct cli *c, int argc, char **argv)
{
	size_t i, n;
	const struct cli_cmd *t = cli_cmd_table(&n);

	if (argc > 1) {
		const struct cli_cmd *cmd = cli_cmd_find(argv[1]);

		if (cmd == NULL)
			return ims_error_set(&c->err, IMS_ERR_USAGE, "no command '%s'", argv[1]);
		printf("%s\n    %s\n", cmd->usage, cmd->summary);
		return IMS_OK;
	}
	for (i = 0; i < n; i++)
		printf("%-34s %s\n", t[i].usage, t[i].summary);
	return IMS_OK;
}

ims_err cli_parse_target(const char *s, struct cli_target *t, struct ims_error *err)
{
	const char *p = s, *at, *host, *end, *colon;
	size_t hl;

	memset(t, 0, sizeof(*t));
	if (strncasecmp(p, "imaps://", 8) == 0) {
		p += 8;
	} else if (strncasecmp(p, "imap://", 7) == 0) {
		p += 7;
		t->mode = IMS_TLS_STARTTLS;
	}
	end = p + strcspn(p, "/");
	at = NULL;
	for (host = p; host < end; host++)
		if (*host == '@')
			at = host;
	if (at != NULL) {
		size_t ul = (size_t)(at - p);

		if (ul >= sizeof(t->user))
			return ims_error_set(err, IMS_ERR_USAGE, "target: user name too long");
		memcpy(t->user, p, ul);
		t->user[ul] = '\0';
		host = at + 1;
	} else {
		host = p;
	}
	if (*host == '[') {
		const char *rb = memchr(host, ']', (size_t)(end - host));

		if (rb == NULL)
			return ims_error_set(err, IMS_ERR_USAGE, "target: unclosed '[' in '%s'", s);
		hl = (size_t)(rb - host - 1);
		if (hl == 0 || hl >= sizeof(t->host))
			return ims_error_set(err, IMS_ERR_USAGE, "target: bad address in '%s'", s);
		memcpy(t->host, host + 1, hl);
		t->host[hl] = '\0';
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(host, ':', (size_t)(end - host));
		hl = (size_t)((colon != NULL ? colon : end) - host);
		if (hl == 0 || hl >= sizeof(t->host))
			return ims_error_set(err, IMS_ERR_USAGE, "target: no host in '%s'", s);
		memcpy(t->host, host, hl);
		t->host[hl] = '\0';
	}
	for (hl = 0; t->host[hl] != '\0'; hl++)
		if ((unsigned char)t->host[hl] <= ' ' || t->host[hl] == 0x7f)
			return ims_error_set(err, IMS_ERR_USAGE, "target: control character in host");
	if (colon != NULL) {
		char *e;
		unsigned long v = strtoul(colon + 1, &e, 10);

		if (e != end || v == 0 || v > 65535)
			return ims_error_set(err, IMS_ERR_USAGE, "target: bad port in '%s'", s);
		t->port = (unsigned)v;
	}
	if (*end == '/' && end[1] != '\0')
		snprintf(t->mailbox, sizeof(t->mailbox), "%s", end + 1);
	t->set = 1;
	return IMS_OK;
}

void cli_connect_params(const struct cli *c, const struct cli_target *t,
			struct ims_connect_params *p)
{
	static const char *addrs[CLI_MAX_RESOLVE * 4];
	static char store[CLI_MAX_RESOLVE][512];
	size_t i, na = 0;
	unsigned port;

	memset(p, 0, sizeof(*p));
	p->host = t->host;
	p->mode = c->o.starttls ? IMS_TLS_STARTTLS : t->mode;
	port = c->o.port != 0 ? c->o.port : t->port;
	if (port == 0)
		port = p->mode == IMS_TLS_STARTTLS ? 143 : 993;
	p->port = port;
	/* --resolve HOST:PORT:ADDR[,ADDR...] entries for this host and port. */
	for (i = 0; i < c->o.n_resolve; i++) {
		char *h, *pt, *list, *tok, *save = NULL;
		size_t hl;

		snprintf(store[i], sizeof(store[i]), "%s", c->o.resolve[i]);
		h = store[i];
		pt = strchr(h, ':');
		if (pt == NULL)
			continue;
		*pt++ = '\0';
		list = strchr(pt, ':');
		if (list == NULL)
			continue;
		*list++ = '\0';
		hl = strlen(h);
		if (strcasecmp(h, t->host) != 0 && !(hl > 0 && strncasecmp(h, t->host, hl) == 0 &&
						     t->host[hl] == '.' && t->host[hl + 1] == '\0'))
			continue;
		if (strcmp(pt, "*") != 0 && (unsigned)strtoul(pt, NULL, 10) != port)
			continue;
		for (tok = strtok_r(list, ",", &save); tok != NULL && na < sizeof(addrs) / sizeof(addrs[0]);
		     tok = strtok_r(NULL, ",", &save)) {
			size_t tl = strlen(tok);

			if (tl > 2 && tok[0] == '[' && tok[tl - 1] == ']') {
				tok[tl - 1] = '\0';
				tok++;
			}
			addrs[na++] = tok;
		}
	}
	p->resolve_addrs = na > 0 ? addrs : NULL;
	p->n_resolve = na;
	p->timeout_ms = (c->o.timeout_s > 0 ? c->o.timeout_s : 30) * 1000;
	p->tls.ca_file = c->o.ca_file;
	p->tls.ca_path = c->o.ca_path;
	p->tls.pins = c->o.pins;
	p->tls.n_pins = c->o.n_pins;
	p->tls.insecure_noverify = c->o.insecure;
	p->tls.tls_min = c->o.tls_min;
	p->tls.client_cert = c->o.client_cert;
	p->tls.client_key = c->o.client_key;
	p->tls.timeout_ms = p->timeout_ms;
}
