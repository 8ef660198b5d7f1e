/* cert: a server's certificate chain, TLS version and verification
 * result, or a PEM chain judged offline as a connection would judge it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "cli/trust.h"
#include "imapsh/sanitize.h"
#include "imapsh/session.h"
#include "imapsh/starttls.h"

static const char *verify_words(const struct ims_tls_info *ti)
{
	if (ti->verified && ti->pinned)
		return "ok (public key pin)";
	if (ti->verified)
		return "ok";
	if (ti->insecure)
		return "NOT verified (--insecure)";
	return "refused";
}

static void cert_human(struct cli *c, const struct ims_connect_result *r, const char *host,
                       unsigned port, const char *chain_file)
{
	const struct ims_tls_info *ti = &r->tls;
	char sbuf[600];
	size_t i, k;

	if (chain_file != NULL) {
		printf("host         %s\n", cli_safe(host, sbuf, sizeof(sbuf)));
		printf("chain        %s (offline)\n", cli_safe(chain_file, sbuf, sizeof(sbuf)));
	} else {
		printf("server       %s:%u (%s)\n", cli_safe(host, sbuf, sizeof(sbuf)), port,
		       r->net.peer[0] ? r->net.peer : "?");
	}
	if (ti->version[0] != '\0')
		printf("tls          %s %s\n", ti->version, ti->cipher);
	for (i = 0; i < ti->n_chain; i++) {
		const struct ims_cert_info *ci = &ti->chain[i];

		printf("\ncertificate  %zu%s\n", i,
		       i == 0            ? " (server)"
		       : ci->self_signed ? " (root)"
		                         : " (intermediate)");
		printf("  subject    %s\n", cli_safe(ci->subject, sbuf, sizeof(sbuf)));
		printf("  issuer     %s\n", cli_safe(ci->issuer, sbuf, sizeof(sbuf)));
		if (ci->n_san > 0) {
			printf("  san        ");
			for (k = 0; k < ci->n_san; k++)
				printf("%s%s", k ? ", " : "",
				       cli_safe(ci->san[k], sbuf, sizeof(sbuf)));
			printf("\n");
		}
		printf("  valid      %s to %s (%lld days left)\n", ci->not_before, ci->not_after,
		       (long long)ci->days_left);
		printf("  key        %s, signature %s\n", ci->key, ci->sig_alg);
		printf("  sha256     %s\n", ci->sha256);
		printf("  spki       sha256//%s\n", ci->spki_sha256);
	}
	printf("\nverification %s%s%s\n", verify_words(ti), ti->verify_reason[0] ? ": " : "",
	       ti->verify_reason);
}

static void cert_json(struct json_out *j, const struct ims_tls_info *ti)
{
	size_t i, k;

	json_key(j, "chain");
	json_begin_array(j);
	for (i = 0; i < ti->n_chain; i++) {
		const struct ims_cert_info *ci = &ti->chain[i];

		json_begin_object(j);
		json_kv_str(j, "subject", ci->subject);
		json_kv_str(j, "issuer", ci->issuer);
		json_key(j, "san");
		json_begin_array(j);
		for (k = 0; k < ci->n_san; k++)
			json_str(j, ci->san[k]);
		json_end_array(j);
		json_kv_str(j, "not_before", ci->not_before);
		json_kv_str(j, "not_after", ci->not_after);
		json_kv_int(j, "days_left", ci->days_left);
		json_kv_str(j, "sha256", ci->sha256);
		json_kv_str(j, "spki_sha256", ci->spki_sha256);
		json_kv_str(j, "key", ci->key);
		json_kv_str(j, "signature", ci->sig_alg);
		json_kv_bool(j, "self_signed", ci->self_signed);
		json_end_object(j);
	}
	json_end_array(j);
}

/* --at TIME: unix seconds, or an ISO 8601 date with an optional time
 * ("2027-01-31", "2027-01-31T12:00", "2027-01-31T12:00:30Z",
 * "2027-01-31 12:00:30+02:00"); no zone means UTC.  0 when understood. */
static int parse_at(const char *s, int64_t *out)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0, zh = 0, zm = 0, sign = 0;
	size_t len = strlen(s), i;
	struct tm tm, back;
	time_t t;

	if (len > 0 && len <= 12 && strspn(s, "0123456789") == len) {
		int64_t v = 0;

		for (i = 0; i < len; i++)
			v = v * 10 + (s[i] - '0');
		if (v > 253402300799LL) /* 9999-12-31T23:59:59Z */
			return -1;
		*out = v;
		return 0;
	}
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -1;
	s += n;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		if (sscanf(s + 1, "%2d:%2d%n", &h, &mi, &n) != 2 || n != 5)
			return -1;
		s += 1 + n;
		if (*s == ':') {
			if (sscanf(s + 1, "%2d%n", &sec, &n) != 1 || n != 2)
				return -1;
			s += 1 + n;
		}
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '-' ? -1 : 1;
		if (sscanf(s + 1, "%2d:%2d%n", &zh, &zm, &n) != 2 || n != 5 || zh > 23 || zm > 59)
			return -1;
		s += 1 + n;
	}
	if (*s != '\0' || y < 1950 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60 || h < 0 || mi < 0 || sec < 0)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	/* no 31 February */
	if (gmtime_r(&t, &back) == NULL || back.tm_mday != d || back.tm_mon != mo - 1)
		return -1;
	*out = (int64_t)t - (int64_t)sign * (zh * 3600 + zm * 60);
	return 0;
}

struct cert_args {
	const char *target;
	const char *chain; /* --chain FILE: offline */
	const char *host;
	int at_set;
	int64_t at;
};

/* The operand and the options (read by the dispatcher into c->args). */
static ims_err parse_cert_args(struct cli *c, int argc, char **argv, struct cert_args *a)
{
	const char *at = cli_opt_str(&c->args, "at");

	memset(a, 0, sizeof(*a));
	a->target = argc > 1 ? argv[1] : NULL;
	a->chain = cli_opt_str(&c->args, "chain");
	a->host = cli_opt_str(&c->args, "host");
	if (at != NULL && parse_at(at, &a->at) != 0)
		return ims_error_set(&c->err, IMS_ERR_USAGE,
		                     "cert: --at: '%s' is neither unix seconds nor an "
		                     "ISO 8601 date (2027-01-31T12:00:00Z)",
		                     at);
	a->at_set = at != NULL;
	if (a->chain != NULL && (a->host == NULL || a->target != NULL))
		return ims_error_set(&c->err, IMS_ERR_USAGE,
		                     "cert: --chain FILE needs --host NAME (and no server)");
	if (a->chain == NULL && (a->host != NULL || a->at_set))
		return ims_error_set(&c->err, IMS_ERR_USAGE,
		                     "cert: --host and --at go with --chain");
	return IMS_OK;
}

/* cert --chain: the verifier of a connection, on a PEM chain, offline. */
static ims_err cert_chain(struct cli *c, const struct cert_args *a)
{
	struct ims_connect_result *r;
	struct ims_tls_opts o;
	ims_err e;

	memset(&o, 0, sizeof(o));
	o.ca_file = c->o.ca_file;
	o.ca_path = c->o.ca_path;
	o.pins = c->o.n_pins > 0 ? (const char *const *)c->o.pins : NULL;
	o.n_pins = c->o.n_pins;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return ims_error_nomem(&c->err);
	e = ims_tls_verify_chain(a->chain, a->host, &o, a->at_set ? &a->at : NULL, &r->tls,
	                         &c->err);
	if (e == IMS_OK || (e == IMS_ERR_TLS && r->tls.n_chain > 0)) {
		if (c->o.json) {
			struct json_out j;

			json_init(&j, stdout);
			json_begin_object(&j);
			json_kv_str(&j, "host", a->host);
			json_kv_str(&j, "chain_file", a->chain);
			json_kv_bool(&j, "verified", r->tls.verified);
			json_kv_bool(&j, "pinned", r->tls.pinned);
			json_kv_str(&j, "verify_error", r->tls.verify_reason);
			cert_json(&j, &r->tls);
			json_end_object(&j);
			json_finish(&j);
		} else {
			cert_human(c, r, a->host, 0, a->chain);
		}
	}
	free(r);
	return e;
}

ims_err cmd_cert(struct cli *c, int argc, char **argv)
{
	struct cert_args a;
	struct cli_target t;
	struct ims_connect_params p;
	struct ims_connect_result *r;
	struct ims_stream *s = NULL;
	ims_err e;

	if (parse_cert_args(c, argc, argv, &a) != IMS_OK)
		return c->err.code;
	if (a.chain != NULL)
		return cert_chain(c, &a);
	if (cli_target_or_current(c, a.target, &t) != IMS_OK)
		return c->err.code;
	if (cli_connect_params(c, &t, &p) != IMS_OK)
		return c->err.code;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return ims_error_nomem(&c->err);
	if (c->o.insecure)
		cli_warn("warning: --insecure: the certificate of %s is not verified", t.host);
	e = ims_connect(&p, &s, r, &c->err);
	/* The chain is shown when it was accepted or refused; a handshake
	 * that failed for another reason (after the certificate, say on the
	 * key exchange) has only its words. */
	if (e == IMS_OK ||
	    (e == IMS_ERR_TLS && r->tls.n_chain > 0 && r->tls.verify_class != IMS_VERIFY_OK)) {
		if (c->o.json) {
			struct json_out j;

			json_init(&j, stdout);
			json_begin_object(&j);
			json_kv_str(&j, "host", t.host);
			json_kv_int(&j, "port", p.port);
			json_kv_str(&j, "address", r->net.peer);
			cli_json_tls(&j, &r->tls);
			json_kv_bool(&j, "verified", r->tls.verified);
			json_kv_bool(&j, "pinned", r->tls.pinned);
			json_kv_bool(&j, "insecure", r->tls.insecure);
			json_kv_str(&j, "verify_error", r->tls.verify_reason);
			cert_json(&j, &r->tls);
			json_end_object(&j);
			json_finish(&j);
		} else {
			cert_human(c, r, t.host, p.port, NULL);
		}
	}
	if (e == IMS_ERR_TLS)
		cli_tls_next_step(c, t.host, p.port, &r->tls);
	if (s != NULL) {
		/* Say goodbye politely: read the greeting, LOGOUT. */
		ims_stream_close(&s);
	}
	free(r);
	return e;
}
