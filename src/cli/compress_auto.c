/* --compress auto: a bulk transfer (export, import) starts uncompressed,
 * measures the rate the link gives its first part, and sends COMPRESS
 * between two of its batches where that pays (imapsh/zauto.h decides). */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "cli/output.h"
#include "imapsh/session.h"
#include "imapsh/zauto.h"

int cli_zauto_pending(const struct cli *c)
{
	return c->o.compress == CFG_COMPRESS_AUTO && c->sess != NULL && !c->zauto_done &&
	       !ims_session_compressed(c->sess) && ims_session_has_cap(c->sess, "COMPRESS=DEFLATE");
}

ims_err cli_zauto_decide(struct cli *c, uint64_t bytes, int64_t ms, uint64_t left,
                         uint64_t deflate_bps, int *measure_r)
{
	char why[IMS_ZAUTO_WHY_MAX];
	struct ims_error ze;
	enum ims_zauto z;
	ims_err e;

	*measure_r = 0;
	if (!cli_zauto_pending(c))
		return IMS_OK;
	z = ims_zauto_decide(bytes, ms, left, deflate_bps, why, sizeof(why));
	if (z == IMS_ZAUTO_MEASURE) {
		*measure_r = 1;
		return IMS_OK;
	}
	/* Too little in all says nothing of the link: the session's next
	 * transfer (export --all's next folder) measures afresh. */
	if (bytes >= IMS_ZAUTO_MIN_BYTES && ms >= IMS_ZAUTO_MIN_MS)
		c->zauto_done = 1;
	if (c->o.verbose)
		fprintf(stderr, "imapsh: compression: auto: %s\n", why);
	if (z == IMS_ZAUTO_OFF)
		return IMS_OK;
	ims_error_init(&ze);
	e = ims_session_compress(c->sess, &ze);
	if (e == IMS_ERR_NO) {
		/* refused: the transfer goes on as it was */
		if (c->o.verbose)
			cli_warn("going on without compression: %s", ze.msg);
		return IMS_OK;
	}
	if (e != IMS_OK)
		ims_error_copy(&c->err, &ze);
	return e;
}
