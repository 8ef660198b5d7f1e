/* check: the connectivity check a person or a monitoring system runs
 * before (or instead of) logging in: DNS, TCP, TLS, the certificate, the
 * greeting and capabilities, optionally the login and a folder; graded
 * OK, WARNING, CRITICAL or UNKNOWN, as text, JSON or one Nagios line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "imapsh/sanitize.h"
#include "imapsh/session.h"
#include "imapsh/starttls.h"
#include "imapsh/textwidth.h"

enum { ST_OK = 0, ST_WARNING = 1, ST_CRITICAL = 2, ST_UNKNOWN = 3 };
#define MAX_STAGES 10

static const char *const status_names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

struct stage {
	const char *name;
	int64_t ms;
	int ok;
	int has_ms;
	char detail[4096]; /* whole: JSON and a pipe get all of it */
};

struct check {
	struct stage st[MAX_STAGES];
	size_t n;
	int status;
	char reason[768];
	char caps[4096];
	long warn_days, crit_days, warn_ms, crit_ms;
	int login, nagios;
	const char *folder;
	int64_t messages; /* in folder, -1 when not checked */
};

static struct stage *stage_add(struct check *k, const char *name, int ok, int64_t ms, int has_ms)
{
	struct stage *s = &k->st[k->n < MAX_STAGES ? k->n++ : MAX_STAGES - 1];

	s->name = name;
	s->ok = ok;
	s->ms = ms;
	s->has_ms = has_ms;
	s->detail[0] = '\0';
	return s;
}

/* Keep the worst status and the reason that made it. */
static void grade(struct check *k, int status, const char *why)
{
	if (status > k->status || (status == k->status && k->reason[0] == '\0')) {
		k->status = status;
		snprintf(k->reason, sizeof(k->reason), "%s", why);
	}
}

/* Read tagged reply lines to `tag`, collecting CAPABILITY atoms. */
static ims_err read_until_tag(struct ims_stream *s, const char *tag, char *caps, size_t capn,
                              char *last, size_t lastn, struct ims_error *err)
{
	char line[8192];
	size_t tl = strlen(tag);

	for (;;) {
		ims_err e = ims_read_line_exact(s, line, sizeof(line), err);

		if (e != IMS_OK)
			return e;
		if (caps != NULL && strncasecmp(line, "* CAPABILITY ", 13) == 0)
			snprintf(caps, capn, "%s", line + 13);
		if (strncmp(line, tag, tl) == 0 && line[tl] == ' ') {
			snprintf(last, lastn, "%s", line + tl + 1);
			return IMS_OK;
		}
	}
}

/* Text for the Nagios line: made safe (one line, no control), and '|',
 * which would start the performance data, shown as a space. */
static void nagios_text(const char *in, char *out, size_t n)
{
	size_t q;

	ims_sanitize_fixed(in, strlen(in), out, n);
	for (q = 0; out[q] != '\0'; q++)
		if (out[q] == '|')
			out[q] = ' ';
}

/* --nagios: the plugin line: one line, and its one '|' starts the
 * performance data. */
static void check_nagios(const struct check *k, const struct cli_target *t, unsigned port,
                         const struct ims_connect_result *r, int64_t total)
{
	const struct ims_cert_info *leaf = r->tls.n_chain > 0 ? &r->tls.chain[0] : NULL;
	char w[32] = "", cr[32] = "", reason[800], host[300];

	nagios_text(k->reason[0] ? k->reason : "ok", reason, sizeof(reason));
	nagios_text(t->host, host, sizeof(host));
	if (k->warn_ms > 0)
		snprintf(w, sizeof(w), "%.3f", (double)k->warn_ms / 1000.0);
	if (k->crit_ms > 0)
		snprintf(cr, sizeof(cr), "%.3f", (double)k->crit_ms / 1000.0);
	printf("IMAP %s - %s:%u %s | time=%.3fs;%s;%s;0", status_names[k->status], host, port,
	       reason, (double)total / 1000.0, w, cr);
	printf(" tls=%.3fs;;;0", (double)r->tls.handshake_ms / 1000.0);
	if (leaf != NULL)
		printf(" days=%lld;%ld;%ld;0", (long long)leaf->days_left, k->warn_days,
		       k->crit_days);
	printf("\n");
}

/* "addresses" and "attempts": what resolving and connecting did. */
static void check_json_net(struct json_out *j, const struct ims_connect_result *r)
{
	size_t i;

	json_key(j, "addresses");
	json_begin_array(j);
	for (i = 0; i < r->net.n_addrs; i++)
		json_str(j, r->net.addrs[i]);
	json_end_array(j);
	json_key(j, "attempts");
	json_begin_array(j);
	for (i = 0; i < r->net.n_attempts; i++) {
		json_begin_object(j);
		json_kv_str(j, "address", r->net.attempts[i].addr);
		json_kv_bool(j, "ok", r->net.attempts[i].ok);
		json_kv_int(j, "ms", r->net.attempts[i].ms);
		if (!r->net.attempts[i].ok)
			json_kv_str(j, "error", r->net.attempts[i].why);
		json_end_object(j);
	}
	json_end_array(j);
}

/* "stages": name, time, ok, detail. */
static void check_json_stages(struct json_out *j, const struct check *k)
{
	size_t i;

	json_key(j, "stages");
	json_begin_array(j);
	for (i = 0; i < k->n; i++) {
		json_begin_object(j);
		json_kv_str(j, "name", k->st[i].name);
		json_kv_int(j, "ms", k->st[i].ms);
		json_kv_bool(j, "ok", k->st[i].ok);
		json_kv_str(j, "detail", k->st[i].detail);
		json_end_object(j);
	}
	json_end_array(j);
}

/* "cert": the leaf certificate, or null before one was seen. */
static void check_json_cert(struct json_out *j, const struct ims_connect_result *r)
{
	const struct ims_cert_info *leaf = r->tls.n_chain > 0 ? &r->tls.chain[0] : NULL;
	size_t i;

	json_key(j, "cert");
	if (leaf == NULL) {
		json_null(j);
		return;
	}
	json_begin_object(j);
	json_kv_str(j, "subject", leaf->subject);
	json_kv_str(j, "issuer", leaf->issuer);
	json_key(j, "san");
	json_begin_array(j);
	for (i = 0; i < leaf->n_san; i++)
		json_str(j, leaf->san[i]);
	json_end_array(j);
	json_kv_str(j, "not_before", leaf->not_before);
	json_kv_str(j, "not_after", leaf->not_after);
	json_kv_int(j, "days_left", leaf->days_left);
	json_kv_str(j, "sha256", leaf->sha256);
	json_kv_str(j, "spki_sha256", leaf->spki_sha256);
	json_kv_bool(j, "verified", r->tls.verified);
	json_kv_str(j, "verify_error", r->tls.verify_reason);
	json_end_object(j);
}

/* --json: one object. */
static void check_json(struct check *k, const struct cli_target *t, unsigned port,
                       const struct ims_connect_result *r, int64_t total)
{
	struct json_out j;
	char *tok, *save = NULL;

	json_init(&j, stdout);
	json_begin_object(&j);
	json_kv_str(&j, "host", t->host);
	json_kv_int(&j, "port", port);
	json_kv_str(&j, "status", status_names[k->status]);
	json_kv_str(&j, "reason", k->reason);
	json_kv_int(&j, "ms", total);
	if (k->folder != NULL) {
		json_kv_str(&j, "folder", k->folder);
		json_key(&j, "messages");
		if (k->messages >= 0)
			(void)ims_json_int(&j.w, k->messages);
		else
			json_null(&j);
	}
	check_json_net(&j, r);
	check_json_stages(&j, k);
	cli_json_tls(&j, &r->tls);
	check_json_cert(&j, r);
	json_key(&j, "capabilities");
	json_begin_array(&j);
	for (tok = strtok_r(k->caps, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save))
		json_str(&j, tok);
	json_end_array(&j);
	json_end_object(&j);
	json_finish(&j);
}

/* One stage: on a terminal name, time and detail in columns (the failed
 * ones red with colour); on a pipe a tab-separated record. */
static void check_text_stage(struct cli *c, const struct stage *s)
{
	if (c->out_tty) {
		const char *on = "", *off = "";
		char detail[sizeof(s->detail) * 2];
		struct ims_buf fit;
		int rows, cols;

		if (c->color) {
			on = s->ok ? "" : "\033[31m";
			off = s->ok ? "" : "\033[0m";
		}
		/* name, time, then the detail, whose length varies: the
		 * columns line up whatever a server puts there, and a long
		 * detail (67 capabilities) ends at a word with an ellipsis */
		cli_safe(s->detail, detail, sizeof(detail));
		cli_term_size(&rows, &cols);
		ims_buf_init(&fit, 0);
		if (ims_text_fit_words(&fit, detail, cols > 42 ? (size_t)cols - 22 : 20) != IMS_OK)
			ims_buf_reset(&fit);
		if (s->has_ms)
			printf("%-10s %6lld ms  %s%s%s\n", s->name, (long long)s->ms, on,
			       fit.data != NULL ? fit.data : "", off);
		else
			printf("%-10s %9s  %s%s%s\n", s->name, "", on,
			       fit.data != NULL ? fit.data : "", off);
		ims_buf_release(&fit);
	} else {
		struct tsv rec;

		tsv_begin(&rec, stdout);
		tsv_field(&rec, s->name);
		tsv_field(&rec, s->ok ? "ok" : "fail");
		tsv_fieldf(&rec, "%lld", (long long)s->ms);
		tsv_field(&rec, s->detail);
		(void)tsv_end(&rec);
	}
}

/* Text: a line a stage, then the result. */
static void check_text(struct cli *c, const struct check *k, const struct cli_target *t,
                       unsigned port, int64_t total)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		check_text_stage(c, &k->st[i]);
	if (c->out_tty) {
		char host[300], reason[sizeof(k->reason) * 2];

		printf("%-10s %6lld ms  %s %s:%u%s%s\n", "result", (long long)total,
		       status_names[k->status], cli_safe(t->host, host, sizeof(host)), port,
		       k->reason[0] ? ": " : "", cli_safe(k->reason, reason, sizeof(reason)));
	} else {
		struct tsv rec;

		tsv_begin(&rec, stdout);
		tsv_field(&rec, "result");
		tsv_field(&rec, status_names[k->status]);
		tsv_fieldf(&rec, "%lld", (long long)total);
		tsv_fieldf(&rec, "%s:%u%s%s", t->host, port, k->reason[0] ? ": " : "", k->reason);
		(void)tsv_end(&rec);
	}
}

static void check_output(struct cli *c, struct check *k, const struct cli_target *t, unsigned port,
                         const struct ims_connect_result *r, int64_t total)
{
	if (k->nagios)
		check_nagios(k, t, port, r, total);
	else if (c->o.json)
		check_json(k, t, port, r, total);
	else
		check_text(c, k, t, port, total);
}

/* One check on its way through the stages: each stage adds its line to
 * k and returns 0 to go on, or -1 when the check can go no further (its
 * grade says why). */
struct check_run {
	struct cli *c;
	struct check *k;
	struct cli_target t;
	struct ims_connect_params p;
	struct ims_connect_result *r;
	struct ims_stream *s;
	ims_err e; /* the connection's result, then the last stage's */
	char greeting[8192];
};

/* The options into k; a usage error leaves UNKNOWN. */
static ims_err check_options(struct check_run *x, int argc, char **argv)
{
	struct cli *c = x->c;
	struct check *k = x->k;

	k->messages = -1;
	k->nagios = cli_opt_flag(&c->args, "nagios");
	k->login = cli_opt_flag(&c->args, "login");
	k->folder = cli_opt_str(&c->args, "folder");
	k->warn_days = (long)cli_opt_num(&c->args, "warn-days", 21);
	k->crit_days = (long)cli_opt_num(&c->args, "crit-days", 7);
	k->warn_ms = (long)cli_opt_num(&c->args, "warn-ms", 0);
	k->crit_ms = (long)cli_opt_num(&c->args, "crit-ms", 0);
	/* -f/--folder is also a global option: with --login it names the
	 * folder to examine. */
	if (k->login && k->folder == NULL)
		k->folder = c->o.folder;
	if (cli_target_or_current(c, argc > 1 ? argv[1] : NULL, &x->t) != IMS_OK ||
	    cli_connect_params(c, &x->t, &x->p) != IMS_OK)
		return c->err.code;
	return IMS_OK;
}

/* resolve: the addresses the name gave. */
static int check_resolve(struct check_run *x)
{
	const struct ims_connect_result *r = x->r;
	struct stage *st = stage_add(x->k, "resolve", r->net.n_addrs > 0, r->net.resolve_ms, 1);
	size_t n, o = 0;

	o = (size_t)snprintf(st->detail, sizeof(st->detail), "%s ->", x->t.host);
	for (n = 0; n < r->net.n_addrs && o < sizeof(st->detail); n++)
		o += (size_t)snprintf(st->detail + o, sizeof(st->detail) - o, "%s %s", n ? "," : "",
		                      r->net.addrs[n]);
	if (r->net.n_addrs == 0) {
		snprintf(st->detail, sizeof(st->detail), "%s", x->c->err.msg);
		grade(x->k, ST_UNKNOWN, x->c->err.msg);
		return -1;
	}
	return 0;
}

/* connect: every attempt, failed ones included. */
static int check_connect(struct check_run *x)
{
	const struct ims_connect_result *r = x->r;
	size_t n;

	for (n = 0; n < r->net.n_attempts; n++) {
		const struct ims_addr_attempt *a = &r->net.attempts[n];
		struct stage *st = stage_add(x->k, "connect", a->ok, a->ms, 1);

		if (a->ok)
			snprintf(st->detail, sizeof(st->detail), "%s", a->addr);
		else
			snprintf(st->detail, sizeof(st->detail), "%s failed: %s", a->addr, a->why);
	}
	if (r->net.peer[0] == '\0') {
		grade(x->k, ST_CRITICAL, x->c->err.msg);
		return -1;
	}
	return 0;
}

/* With STARTTLS: the plaintext greeting and the upgrade. */
static int check_starttls(struct check_run *x)
{
	const struct ims_connect_result *r = x->r;
	struct stage *st;
	char safe[1024];

	if (x->p.mode != IMS_TLS_STARTTLS)
		return 0;
	st = stage_add(x->k, "greeting", r->greeting_read, 0, 0);
	snprintf(st->detail, sizeof(st->detail), "%s (plaintext)",
	         cli_safe(r->greeting, safe, sizeof(safe)));
	st = stage_add(x->k, "starttls", r->tls_started, r->starttls_ms, 1);
	snprintf(st->detail, sizeof(st->detail), "%s",
	         r->tls_started ? "offered and accepted" : x->c->err.msg);
	if (!r->tls_started) {
		grade(x->k, ST_CRITICAL, x->c->err.msg);
		return -1;
	}
	return 0;
}

/* tls: the handshake (a certificate that failed verification still
 * reached this far: the next stage judges it). */
static int check_tls(struct check_run *x)
{
	const struct ims_connect_result *r = x->r;
	int cert_failed = x->e == IMS_ERR_TLS && r->tls.verify_class != IMS_VERIFY_OK;
	struct stage *st =
	    stage_add(x->k, "tls", x->e == IMS_OK || cert_failed, r->tls.handshake_ms, 1);

	if (x->e == IMS_OK)
		snprintf(st->detail, sizeof(st->detail), "%s %s", r->tls.version, r->tls.cipher);
	else if (cert_failed)
		snprintf(st->detail, sizeof(st->detail), "handshake reached the certificate");
	else
		snprintf(st->detail, sizeof(st->detail), "%s", x->c->err.msg);
	if (x->e != IMS_OK && !cert_failed) {
		grade(x->k, ST_CRITICAL, x->c->err.msg);
		return -1;
	}
	return 0;
}

/* cert: verified (or pinned), and how long it has left. */
static int check_cert(struct check_run *x)
{
	const struct ims_connect_result *r = x->r;
	struct check *k = x->k;
	const struct ims_cert_info *leaf = &r->tls.chain[0];
	struct stage *st = stage_add(k, "cert", r->tls.verified || r->tls.insecure, 0, 0);
	char cn[300], why[128];

	cli_safe(leaf->cn[0] ? leaf->cn : leaf->subject, cn, sizeof(cn));
	if (x->e != IMS_OK) {
		snprintf(st->detail, sizeof(st->detail), "%s", r->tls.verify_reason);
		grade(k, ST_CRITICAL, r->tls.verify_reason);
		return -1;
	}
	snprintf(st->detail, sizeof(st->detail), "CN=%s, issuer %s, %s, %lld days left", cn,
	         r->tls.n_chain > 1 && r->tls.chain[1].cn[0] ? r->tls.chain[1].cn : leaf->issuer,
	         r->tls.verified ? (r->tls.pinned ? "pinned" : "valid") : "NOT verified",
	         (long long)leaf->days_left);
	if (!r->tls.verified)
		grade(k, ST_WARNING, "certificate not verified (--insecure)");
	snprintf(why, sizeof(why), "certificate expires in %lld days", (long long)leaf->days_left);
	if (leaf->days_left < k->crit_days)
		grade(k, ST_CRITICAL, why);
	else if (leaf->days_left < k->warn_days)
		grade(k, ST_WARNING, why);
	return 0;
}

/* greeting: over implicit TLS the first line read now (STARTTLS read it
 * in the clear before). */
static int check_greeting(struct check_run *x)
{
	struct cli *c = x->c;
	int64_t g0 = ims_now_ms();
	struct stage *st;
	char line[8192], safe[4096];
	ims_err e;

	if (x->p.mode != IMS_TLS_IMPLICIT) {
		snprintf(x->greeting, sizeof(x->greeting), "%s", x->r->greeting);
		return 0;
	}
	e = ims_read_line_exact(x->s, line, sizeof(line), &c->err);
	/* Dovecot may say it waits for its auth process first. */
	if (e == IMS_OK && strncmp(line, "* OK Waiting for authentication", 31) == 0)
		e = ims_read_line_exact(x->s, line, sizeof(line), &c->err);
	st = stage_add(x->k, "greeting", e == IMS_OK && strncasecmp(line, "* OK", 4) == 0,
	               ims_now_ms() - g0, 1);
	snprintf(st->detail, sizeof(st->detail), "%s",
	         e == IMS_OK ? cli_safe(line, safe, sizeof(safe)) : c->err.msg);
	if (!st->ok) {
		grade(x->k, ST_CRITICAL,
		      e == IMS_OK ? "the server did not greet with OK" : c->err.msg);
		return -1;
	}
	snprintf(x->greeting, sizeof(x->greeting), "%s", line);
	return 0;
}

/* capability: from the greeting where it may be trusted, else asked. */
static int check_capability(struct check_run *x)
{
	struct cli *c = x->c;
	struct check *k = x->k;
	int64_t c0 = ims_now_ms();
	struct stage *st;
	char last[1024] = "", safe[4096];
	ims_err e = IMS_ERR_NO;

	/* Over implicit TLS the greeting's [CAPABILITY ...] is the answer
	 * (a plaintext greeting before STARTTLS is not trusted). */
	if (x->p.mode == IMS_TLS_IMPLICIT &&
	    strncasecmp(x->greeting, "* OK [CAPABILITY ", 17) == 0) {
		const char *end = strchr(x->greeting + 17, ']');

		if (end != NULL && (size_t)(end - x->greeting - 17) < sizeof(k->caps)) {
			snprintf(k->caps, sizeof(k->caps), "%.*s", (int)(end - x->greeting - 17),
			         x->greeting + 17);
			snprintf(last, sizeof(last), "OK");
			e = IMS_OK;
		}
	}
	if (e != IMS_OK) {
		e = ims_stream_write(x->s, "C1 CAPABILITY\r\n", 15);
		if (e == IMS_OK)
			e = read_until_tag(x->s, "C1", k->caps, sizeof(k->caps), last, sizeof(last),
			                   &c->err);
		else
			ims_error_copy(&c->err, &x->s->err);
	}
	st = stage_add(k, "capability", e == IMS_OK && strncasecmp(last, "OK", 2) == 0,
	               ims_now_ms() - c0, 1);
	snprintf(st->detail, sizeof(st->detail), "%s",
	         e == IMS_OK ? cli_safe(k->caps, safe, sizeof(safe)) : c->err.msg);
	if (!st->ok) {
		grade(k, ST_CRITICAL, e == IMS_OK ? "CAPABILITY refused" : c->err.msg);
		return -1;
	}
	if (strstr(k->caps, "IMAP4") == NULL)
		grade(k, ST_CRITICAL, "the server does not announce IMAP4rev1");
	return 0;
}

/* folder (with --login --folder): examine it and count its messages. */
static int check_folder(struct check_run *x)
{
	struct cli *c = x->c;
	struct check *k = x->k;
	int64_t f0 = ims_now_ms();
	const struct ims_folder *f;
	struct stage *st;
	char safe[1024];
	ims_err e = cli_select(c, k->folder, 0);

	f = e == IMS_OK ? ims_session_folder(c->sess) : NULL;
	st = stage_add(k, "folder", f != NULL, ims_now_ms() - f0, 1);
	if (f == NULL) {
		snprintf(st->detail, sizeof(st->detail), "%s", c->err.msg);
		grade(k, ST_CRITICAL, c->err.msg);
		return -1;
	}
	snprintf(st->detail, sizeof(st->detail), "%s: %u messages",
	         cli_safe(k->folder, safe, sizeof(safe)), (unsigned)f->exists);
	k->messages = (int64_t)f->exists;
	return 0;
}

/* login (with --login): from here the session speaks: login, the folder,
 * logout.  Without it: LOGOUT, then close without its answer (nothing
 * can be lost). */
static int check_login(struct check_run *x)
{
	struct cli *c = x->c;
	struct check *k = x->k;
	struct ims_session_opts so;
	int64_t l0 = ims_now_ms();
	struct stage *st;
	char safe[1024];
	ims_err e;

	if (!k->login) {
		if (ims_stream_write(x->s, "C2 LOGOUT\r\n", 11) != IMS_OK)
			ims_error_init(&c->err); /* closing anyway */
		return 0;
	}
	ims_session_opts_init(&so);
	x->s->deadline_ms = 0;
	cli_close(c);
	c->sess = ims_session_new(x->s, &so);
	x->s = NULL;
	if (c->sess == NULL) {
		grade(k, ST_UNKNOWN, "out of memory");
		return -1;
	}
	c->t = x->t;
	e = ims_session_start(c->sess, x->greeting, &c->err);
	if (e == IMS_OK)
		e = cli_need(c, CMD_LOGIN);
	st = stage_add(k, "login", e == IMS_OK, ims_now_ms() - l0, 1);
	if (e != IMS_OK) {
		snprintf(st->detail, sizeof(st->detail), "%s", c->err.msg);
		grade(k, e == IMS_ERR_USAGE ? ST_UNKNOWN : ST_CRITICAL, c->err.msg);
		return -1;
	}
	snprintf(st->detail, sizeof(st->detail), "as %s (%s)",
	         cli_safe(c->t.user, safe, sizeof(safe)),
	         ims_auth_mech_name(ims_session_auth_mech(c->sess)));
	return k->folder != NULL ? check_folder(x) : 0;
}

/* The time the whole check took, against --warn-ms and --crit-ms (once
 * nothing worse is known). */
static void check_time(struct check *k, int64_t total)
{
	char why[64];

	if (k->status == ST_CRITICAL || k->status == ST_UNKNOWN)
		return;
	snprintf(why, sizeof(why), "took %lld ms", (long long)total);
	if (k->crit_ms > 0 && total > k->crit_ms)
		grade(k, ST_CRITICAL, why);
	else if (k->warn_ms > 0 && total > k->warn_ms)
		grade(k, ST_WARNING, why);
}

/* The stages in order; the first that cannot go on ends the check. */
static void check_stages(struct check_run *x)
{
	struct cli *c = x->c;

	x->e = ims_connect(&x->p, &x->s, x->r, &c->err);
	if (check_resolve(x) != 0 || check_connect(x) != 0 || check_starttls(x) != 0 ||
	    check_tls(x) != 0 || check_cert(x) != 0)
		return;
	x->s->deadline_ms = ims_now_ms() + x->p.timeout_ms;
	if (check_greeting(x) != 0 || check_capability(x) != 0)
		return;
	(void)check_login(x);
}

ims_err cmd_check(struct cli *c, int argc, char **argv)
{
	struct check_run *x = calloc(1, sizeof(*x));
	int64_t t0;

	if (x != NULL) {
		x->k = calloc(1, sizeof(*x->k));
		x->r = calloc(1, sizeof(*x->r));
	}
	if (x == NULL || x->k == NULL || x->r == NULL) {
		if (x != NULL) {
			free(x->k);
			free(x->r);
		}
		free(x);
		return ims_error_nomem(&c->err);
	}
	x->c = c;
	c->exit_set = 1;
	c->exit = ST_UNKNOWN;
	if (check_options(x, argc, argv) != IMS_OK) {
		free(x->k);
		free(x->r);
		free(x);
		return IMS_ERR_USAGE;
	}
	if (c->o.insecure)
		cli_warn("warning: --insecure: the certificate of %s is not verified", x->t.host);
	t0 = ims_now_ms();
	check_stages(x);
	check_time(x->k, ims_now_ms() - t0);
	cli_close(c);
	check_output(c, x->k, &x->t, x->p.port, x->r, ims_now_ms() - t0);
	ims_stream_close(&x->s);
	c->exit = x->k->status;
	ims_error_init(&c->err);
	free(x->k);
	free(x->r);
	free(x);
	return IMS_OK;
}
