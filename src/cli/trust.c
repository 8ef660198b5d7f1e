/* known_hosts for the front end, the trust command and the trust question
 * (trust.h). */
#include "cli/trust.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/config.h"
#include "cli/output.h"
#include "imapsh/fsafe.h"

ims_err cli_trust_path(char *out, size_t n, int mkdirs, struct ims_error *err)
{
	return cfg_user_path("DATA", "known_hosts", mkdirs, out, n, err);
}

ims_err cli_trust_lookup(const char *host, unsigned port, char (*pins)[64], size_t max, size_t *n_r,
                         char *where_r, size_t where_n, struct ims_error *err)
{
	char path[1024];
	struct ims_kh kh;
	const char *found[CLI_MAX_KNOWN_PINS];
	size_t i, n;

	*n_r = 0;
	if (cli_trust_path(path, sizeof(path), 0, err) != IMS_OK) {
		/* No $HOME and no $XDG_DATA_HOME: there is no store to read. */
		ims_error_init(err);
		return IMS_OK;
	}
	ims_kh_init(&kh);
	if (ims_kh_load(&kh, path, err) != IMS_OK) {
		ims_kh_release(&kh);
		return ims_error_prefix(err, "known hosts");
	}
	n = ims_kh_lookup(&kh, host, port, found, CLI_MAX_KNOWN_PINS);
	if (n > max || n > CLI_MAX_KNOWN_PINS) {
		ims_kh_release(&kh);
		return ims_error_set(
		    err, IMS_ERR_USAGE, "known hosts %s: more than %zu pins for %s:%u", path,
		    max < CLI_MAX_KNOWN_PINS ? max : (size_t)CLI_MAX_KNOWN_PINS, host, port);
	}
	for (i = 0; i < n; i++)
		snprintf(pins[i], 64, "%s", found[i]);
	*n_r = n;
	if (where_r != NULL && where_n > 0) {
		/* one entry a line, in file order: the first pin's line */
		where_r[0] = '\0';
		for (i = 0; n > 0 && i < kh.n; i++)
			if (kh.v[i].text == NULL && kh.v[i].pin == found[0])
				snprintf(where_r, where_n, "%s:%zu", path, i + 1);
	}
	ims_kh_release(&kh);
	return IMS_OK;
}

/* Load, let edit() change, save if it changed something; all under the
 * lock. */
static ims_err store_update(struct ims_error *err,
                            ims_err (*edit)(struct ims_kh *kh, void *arg, int *changed_r,
                                            struct ims_error *err),
                            void *arg)
{
	char path[1024];
	struct ims_kh kh;
	int lfd, changed = 0;
	ims_err e;

	if (cli_trust_path(path, sizeof(path), 1, err) != IMS_OK)
		return err->code;
	lfd = ims_fs_lock_beside(path, err);
	if (lfd < 0)
		return err->code;
	ims_kh_init(&kh);
	e = ims_kh_load(&kh, path, err);
	if (e != IMS_OK)
		(void)ims_error_prefix(err, "known hosts");
	if (e == IMS_OK)
		e = edit(&kh, arg, &changed, err);
	if (e == IMS_OK && changed) {
		e = ims_kh_save(&kh, path, err);
		if (e != IMS_OK)
			(void)ims_error_prefix(err, "known hosts");
	}
	ims_kh_release(&kh);
	close(lfd);
	return e;
}

struct edit_arg {
	const char *host;
	unsigned port;
	const char *pin;
	int added;
	size_t removed;
};

static ims_err edit_add(struct ims_kh *kh, void *arg, int *changed_r, struct ims_error *err)
{
	struct edit_arg *a = arg;

	if (ims_kh_add(kh, a->host, a->port, a->pin, &a->added, err) != IMS_OK)
		return err->code;
	*changed_r = a->added;
	return IMS_OK;
}

static ims_err edit_remove(struct ims_kh *kh, void *arg, int *changed_r, struct ims_error *err)
{
	struct edit_arg *a = arg;

	a->removed = ims_kh_remove(kh, a->host, a->port, a->pin);
	*changed_r = a->removed > 0;
	return IMS_OK;
}

ims_err cli_trust_add(const char *host, unsigned port, const char *pin, int *added_r,
                      struct ims_error *err)
{
	struct edit_arg a = {host, port, pin, 0, 0};
	ims_err e = store_update(err, edit_add, &a);

	if (added_r != NULL)
		*added_r = a.added;
	return e;
}

ims_err cli_trust_remove(const char *host, unsigned port, const char *pin, size_t *removed_r,
                         struct ims_error *err)
{
	struct edit_arg a = {host, port, pin, 0, 0};
	ims_err e = store_update(err, edit_remove, &a);

	*removed_r = a.removed;
	return e;
}

/* ---- the trust command ------------------------------------------------ */

void cli_trust_hostport(char *out, size_t n, const char *host, unsigned port)
{
	if (strchr(host, ':') != NULL)
		snprintf(out, n, "[%s]:%u", host, port);
	else
		snprintf(out, n, "%s:%u", host, port);
}

/* ---- trust on first use ------------------------------------------------ */

int cli_offer_trust(struct cli *c, const char *host, unsigned port, const struct ims_tls_info *ti)
{
	const struct ims_cert_info *leaf;
	char sb[600], hp[300], question[400], pin[64];
	char *ans;
	int r = 0;

	/* Never outside the shell: scripts and one-shot commands must not
	 * block on a question nor trust a key nobody looked at. */
	if (!c->interactive || ti == NULL || ti->n_chain == 0)
		return 0;
	if (ti->verify_class != IMS_VERIFY_UNTRUSTED &&
	    ti->verify_class != IMS_VERIFY_SELF_SIGNED &&
	    ti->verify_class != IMS_VERIFY_MISSING_INTERMEDIATE)
		return 0;
	leaf = &ti->chain[0];
	snprintf(pin, sizeof(pin), "sha256//%s", leaf->spki_sha256);
	if (!ims_kh_pin_valid(pin))
		return 0;
	cli_trust_hostport(hp, sizeof(hp), host, port);
	fprintf(stderr, "The certificate of %s is not trusted: %s\n", cli_safe(hp, sb, sizeof(sb)),
	        cli_safe(ti->verify_reason, question, sizeof(question)));
	fprintf(stderr, "  subject  %s\n", cli_safe(leaf->subject, sb, sizeof(sb)));
	fprintf(stderr, "  issuer   %s\n", cli_safe(leaf->issuer, sb, sizeof(sb)));
	fprintf(stderr, "  valid    %s to %s (%lld days left)\n",
	        cli_safe(leaf->not_before, sb, 64), cli_safe(leaf->not_after, question, 64),
	        (long long)leaf->days_left);
	fprintf(stderr, "  sha256   %s\n", cli_safe(leaf->sha256, sb, sizeof(sb)));
	fprintf(stderr, "  spki     %s\n", cli_safe(pin, sb, sizeof(sb)));
	snprintf(question, sizeof(question), "trust this key for %s? [o]nce, [a]lways, [N]o ",
	         cli_safe(hp, sb, sizeof(sb)));
	ans = cli_readline(c, question);
	if (ans != NULL) {
		char *a = ans;
		size_t n;

		while (*a == ' ' || *a == '\t')
			a++;
		n = strcspn(a, " \t");
		a[n] = '\0';
		if (strcasecmp(a, "o") == 0 || strcasecmp(a, "once") == 0)
			r = 1;
		else if (strcasecmp(a, "a") == 0 || strcasecmp(a, "always") == 0)
			r = 2;
		free(ans);
	}
	if (r == 0)
		return 0;
	snprintf(c->trust_once.host, sizeof(c->trust_once.host), "%s", host);
	c->trust_once.port = port;
	snprintf(c->trust_once.pin, sizeof(c->trust_once.pin), "%s", pin);
	if (r == 2) {
		struct ims_error e;

		ims_error_init(&e);
		if (cli_trust_add(host, port, pin, NULL, &e) != IMS_OK) {
			cli_warn("could not record the key (%s); trusting it for this session only",
			         e.msg);
			return 1;
		}
		fprintf(stderr, "recorded %s for %s\n", pin, cli_safe(hp, sb, sizeof(sb)));
	}
	return r;
}

/* host:port as the trust command takes it (an IPv6 address in brackets). */
static void host_port(char *out, size_t n, const char *host, unsigned port)
{
	snprintf(out, n, strchr(host, ':') != NULL ? "[%s]:%u" : "%s:%u", host, port);
}

void cli_tls_next_step(struct cli *c, const char *host, unsigned port,
                       const struct ims_tls_info *ti)
{
	char hp[300], spki[80] = "", hint[1400];
	const char *cls_hint = NULL;

	if (c->err.code != IMS_ERR_TLS)
		return;
	host_port(hp, sizeof(hp), host, port);
	if (ti->n_chain > 0 && ti->chain[0].spki_sha256[0] != '\0')
		snprintf(spki, sizeof(spki), "sha256//%s", ti->chain[0].spki_sha256);
	hint[0] = '\0';
	switch (ti->verify_class) {
	case IMS_VERIFY_PIN:
		if (c->known_pins_at[0] != '\0')
			snprintf(
			    hint, sizeof(hint),
			    "next: the key recorded for %s at %s no longer matches; if the server "
			    "changed its key on purpose (check out of band), run 'imapsh trust rm "
			    "%s' "
			    "and connect again to record the new one",
			    hp, c->known_pins_at, hp);
		else if (spki[0] != '\0')
			snprintf(hint, sizeof(hint),
			         "next: if the new key is right (check out of band), use --pin %s",
			         spki);
		break;
	case IMS_VERIFY_SELF_SIGNED:
		if (spki[0] != '\0')
			snprintf(
			    hint, sizeof(hint),
			    "next: if this is your own server and its key is right (compare out "
			    "of band), run 'imapsh trust add %s %s', or use --pin %s",
			    hp, spki, spki);
		break;
	case IMS_VERIFY_UNTRUSTED:
	case IMS_VERIFY_MISSING_INTERMEDIATE:
		if (spki[0] != '\0')
			snprintf(
			    hint, sizeof(hint),
			    "next: if you trust the authority that issued it, use --ca-file "
			    "CA.pem; or, to trust this key alone, --pin %s (or 'imapsh trust add "
			    "%s %s')%s",
			    spki, hp, spki,
			    ti->verify_class == IMS_VERIFY_MISSING_INTERMEDIATE
			        ? "; the server should also send its intermediate certificate"
			        : "");
		break;
	case IMS_VERIFY_NAME:
	case IMS_VERIFY_NO_SAN: cls_hint = "connect with a name the certificate holds"; break;
	case IMS_VERIFY_EXPIRED:
		cls_hint = "the server's certificate must be renewed by its administrator";
		break;
	case IMS_VERIFY_NOT_YET_VALID:
		cls_hint = "check this machine's clock, or wait until the certificate is valid";
		break;
	case IMS_VERIFY_WEAK:
	case IMS_VERIFY_USAGE:
		cls_hint = "the server's administrator must replace the certificate";
		break;
	case IMS_VERIFY_OK:
	case IMS_VERIFY_OTHER: break;
	}
	if (cls_hint != NULL)
		snprintf(hint, sizeof(hint), "next: %s ('imapsh cert %s' shows the chain)",
		         cls_hint, hp);
	if (hint[0] == '\0') {
		if (ti->n_chain > 0 || ti->verify_class != IMS_VERIFY_OK ||
		    strstr(c->err.msg, " use ") != NULL) /* it says what to do already */
			return;
		/* the handshake itself failed: see what the server offers */
		snprintf(hint, sizeof(hint), "next: 'imapsh check %s' shows each stage", hp);
	}
	{
		char msg[IMS_ERROR_MAX];

		snprintf(msg, sizeof(msg), "%s", c->err.msg);
		ims_error_set(&c->err, IMS_ERR_TLS, "%s; %s", msg, hint);
	}
}
