/* The front end's trust store: known_hosts (imapsh/knownhosts.h) at
 * $XDG_DATA_HOME/imapsh/known_hosts, the `trust` command, and the
 * trust-on-first-use question of the shell.
 *
 * Changes (add, remove) hold a lock (known_hosts.lock beside the file)
 * across read, edit and the atomic rewrite, so two imapsh processes do
 * not lose each other's pins. */
#ifndef IMAPSH_CLI_TRUST_H
#define IMAPSH_CLI_TRUST_H

#include <stddef.h>

#include "cli/cli.h"
#include "imapsh/knownhosts.h"
#include "imapsh/transport.h"

/* The known_hosts path; mkdirs creates its folder (0700). */
ims_err cli_trust_path(char *out, size_t n, int mkdirs, struct ims_error *err) IMS_MUST_CHECK;

/* The pins recorded for host:port, copied into pins[0..max) ("sha256//
 * BASE64"); *n_r is how many were copied.  A missing file is no pins; a
 * file that cannot be read or parsed is an error (a recorded pin must
 * never be skipped silently).  where_r (may be NULL) gets "FILE:LINE" of
 * the first pin, or "" when there is none. */
ims_err cli_trust_lookup(const char *host, unsigned port, char (*pins)[64], size_t max, size_t *n_r,
                         char *where_r, size_t where_n, struct ims_error *err) IMS_MUST_CHECK;

/* After a refused TLS connection to host:port (c->err holds the refusal,
 * ti what the handshake saw): append the next step to c->err's words, as
 * a command the user can copy (--ca-file, --pin, imapsh trust add, or for
 * a recorded pin that no longer matches, its known_hosts line and imapsh
 * trust rm). */
void cli_tls_next_step(struct cli *c, const char *host, unsigned port,
                       const struct ims_tls_info *ti);

/* Record pin for host:port; *added_r (may be NULL) is 0 when it was there
 * already. */
ims_err cli_trust_add(const char *host, unsigned port, const char *pin, int *added_r,
                      struct ims_error *err) IMS_MUST_CHECK;

/* Forget the pins of host:port (port 0: every port; pin NULL: every
 * pin); *removed_r is how many went. */
ims_err cli_trust_remove(const char *host, unsigned port, const char *pin, size_t *removed_r,
                         struct ims_error *err) IMS_MUST_CHECK;

/* trust [list | add HOST[:PORT] PIN | rm HOST[:PORT] [PIN]] */
ims_err cmd_trust(struct cli *c, int argc, char **argv);
/* "HOST:PORT", "[V6]:PORT" for an address with colons, into out[0..n). */
void cli_trust_hostport(char *out, size_t n, const char *host, unsigned port);

/* Trust on first use, in the shell only.  The caller (the connection
 * code) calls it only when c->interactive and the verification failed
 * with IMS_VERIFY_UNTRUSTED, IMS_VERIFY_SELF_SIGNED or
 * IMS_VERIFY_MISSING_INTERMEDIATE -- never for a wrong name, a bad date,
 * a pin mismatch, and never in one-shot or batch mode (it returns 0
 * there without asking).  Shows the server certificate (subject, issuer,
 * validity, SHA-256 of certificate and key, sanitised) on stderr and asks
 *   trust this key for HOST:PORT? [o]nce, [a]lways, [N]o
 * Returns 0 no (also Ctrl-C, end of input), 1 once, 2 always.  Once: the
 * key is trusted for host:port for the rest of this shell session; always:
 * it is recorded in known_hosts as well (if that fails, a warning is
 * printed and the answer becomes once).  Either way cli_connect_params()
 * then adds the pin, so the caller just connects again. */
int cli_offer_trust(struct cli *c, const char *host, unsigned port, const struct ims_tls_info *ti);

#endif
