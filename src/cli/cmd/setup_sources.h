/* setup's sources: each a thread that asks one place (SRV, autoconfig,
 * the well-known URL, the ISPDB, the MX host's ISPDB entry) under one
 * deadline and keeps what it found and what it was told, for setup.c to
 * merge, probe and show. */
#ifndef IMAPSH_CLI_CMD_SETUP_SOURCES_H
#define IMAPSH_CLI_CMD_SETUP_SOURCES_H

#include <pthread.h>
#include <stdint.h>

#include "cli/cli.h"
#include "imapsh/autoconfig.h"
#include "imapsh/caps.h"
#include "imapsh/discover.h"

#define DEFAULT_ISPDB      "https://autoconfig.thunderbird.net/v1.1/"
#define DEFAULT_DEADLINE_S 20 /* discovery as a whole, unless --timeout says */
#define MAX_FOUND          (2 * IMS_CAP_AUTOCONFIG_SRV)
#define MAX_RESOLVE        (CLI_MAX_RESOLVE + 2)
#define NSRC               6 /* threads: SRV imaps, SRV imap, autoconfig, well-known, ISPDB, MX */

/* What one place said (a DNS name asked, a URL fetched). */
struct report {
	enum ims_disc_source src;
	char asked[600]; /* the name or URL, sanitised */
	char result[300];
	int ok;
	int asked_set;
};

struct found {
	enum ims_disc_source src;
	char host[IMS_CAP_DNS_NAME + 1];
	unsigned port;
	enum ims_disc_tls tls;
	char user[256];
	unsigned auth;
};

/* One source thread's inputs (read only) and results (its own). */
struct source {
	struct cli *c;
	const struct ims_disc *d;
	const char *ispdb;
	int which; /* run_srv: 0 _imaps, 1 _imap */
	int64_t deadline;
	void *(*run)(void *);
	pthread_t th;
	int started;
	struct report rep[2];
	size_t n_rep;
	struct found found[MAX_FOUND];
	size_t n_found;
	struct ims_ac_oauth2 oauth2;
};

/* Milliseconds left until deadline (at least 1 while any is left, 0 after). */
int64_t setup_left_ms(int64_t deadline);

/* The sources' threads; arg is their struct source. */
void *setup_run_srv(void *arg);
void *setup_run_autoconfig(void *arg);
void *setup_run_wellknown(void *arg);
void *setup_run_ispdb(void *arg);
void *setup_run_mx(void *arg);

#endif
