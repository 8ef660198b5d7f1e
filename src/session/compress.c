/* COMPRESS DEFLATE (RFC 4978): the command, and the switch of the
 * session's stream to the compressing one at the exact byte after the
 * tagged OK. */
#include "imapsh/compress.h"
#include "session_int.h"

ims_err ims_session_compress(struct ims_session *s, struct ims_error *err)
{
	struct ims_stream *z;
	struct ims_error why;
	struct ims_cmd c;
	ims_err e;

	if (ims__check(s, err) != IMS_OK)
		return s->broken;
	if (s->compressed)
		return ims_error_set(err, IMS_ERR_USAGE, "compress: compression is on already");
	if (s->state != IMS_STATE_AUTHENTICATED && s->state != IMS_STATE_SELECTED)
		return ims_error_set(err, IMS_ERR_USAGE, "compress: the session is %s",
		                     ims_state_name(s->state));
	if (!ims_session_has_cap(s, "COMPRESS=DEFLATE"))
		return ims_error_set(err, IMS_ERR_NO,
		                     "compress: the server does not offer COMPRESS=DEFLATE");
	/* A reply to a command in flight could arrive on either side of the
	 * switch: nothing may be in flight (background ones are read first). */
	if (ims__settle(s, IMS__SETTLE_ALL, err) != IMS_OK)
		return err->code;
	if (s->pend != NULL || s->idle_id != 0)
		return ims_error_set(err, IMS_ERR_USAGE, "compress: other commands are in flight");
	if (ims_session_cmd_begin(s, &c, "COMPRESS", err) != IMS_OK) {
		ims_cmd_release(&c);
		return err->code;
	}
	if (ims_cmd_atom(&c, "DEFLATE") != IMS_OK) {
		ims_error_copy(err, &c.err);
		ims_cmd_release(&c);
		return err->code;
	}
	e = ims__run(s, &c, NULL, err);
	if (e == IMS_ERR_NO)
		ims_error_prefix(err, "compress");
	if (e != IMS_OK)
		return e;
	/* The server compresses from the byte after the OK line's CRLF: what
	 * the session has read past it is compressed already. */
	ims_error_init(&why);
	z = ims_stream_compress_new(s->stream, s->rbuf + s->rpos, s->rlen - s->rpos, &why);
	if (z == NULL)
		return ims__break(s, why.code, &why, err);
	s->rpos = s->rlen = 0;
	s->stream = z;
	s->compressed = 1;
	ims__trace(s, IMS_TRACE_INFO, "compression: deflate on", 23);
	return IMS_OK;
}

int ims_session_compressed(const struct ims_session *s)
{
	return s->compressed;
}
