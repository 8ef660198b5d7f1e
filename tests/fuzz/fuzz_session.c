/* The session driven by hostile server bytes.  The first input byte picks
 * a few options; the rest is everything the server sends (then EOF).  The
 * client runs a fixed series of commands with tag prefix "T", so inputs
 * made from transcripts ("T1 OK") get far.  Properties: no crash, no leak,
 * no hang, every failure has words, and once broken the session stays
 * broken. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapsh/session.h"

static ims_err count_write(void *ctx, const void *p, size_t n)
{
	(void)p;
	*(uint64_t *)ctx += n;
	return IMS_OK;
}

static ims_err on_literal(void *ctx, const struct ims_literal_info *li, struct ims_sink *sink_r,
                          struct ims_error *err)
{
	(void)err;
	if (li->size % 2 == 0) {
		sink_r->write = count_write;
		sink_r->ctx = ctx;
	}
	return IMS_OK;
}

static ims_err on_message(void *ctx, const struct ims_fetch *f, struct ims_error *err)
{
	(void)ctx;
	if (f->seq == 0)
		abort();
	if (f->uid == 7)
		return ims_error_set(err, IMS_ERR_IO, "test: refuse message 7");
	return IMS_OK;
}

static void check(struct ims_session *s, ims_err e, const struct ims_error *err)
{
	struct ims_error b;

	if (e != IMS_OK && err->msg[0] == '\0')
		abort();
	if (ims_session_broken(s, &b) != IMS_OK && b.msg[0] == '\0')
		abort();
}

static ims_err src_read(void *ctx, void *p, size_t len, size_t *got_r)
{
	(void)ctx;
	memset(p, 'x', len);
	*got_r = len;
	return IMS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ims_session_opts o;
	struct ims_session *s;
	struct ims_buf written;
	struct ims_error err;
	struct ims_auth a;
	uint64_t sunk = 0;
	struct ims_fetch_handler fh = {on_literal, on_message, &sunk};
	struct ims_list_result lr;
	struct ims_search_result sr;
	struct ims_status_values sv[2];
	struct ims_copy_result cr;
	struct ims_source src = {src_read, NULL};
	static const char *const names[2] = {"INBOX", "Sent"};
	static const size_t lens[2] = {5, 4};
	static const struct ims_arg keys[2] = {{IMS_ARG_RAW, "SUBJECT", 0},
	                                       {IMS_ARG_STRING, "a\r\nb", 4}};
	unsigned flags;
	ims_err e;
	int changed;

	if (size < 1)
		return 0;
	flags = data[0];
	data++;
	size--;
	ims_buf_init(&written, 1 << 20);
	ims_session_opts_init(&o);
	o.insecure_test_tag_prefix = "T";
	o.limits.max_literal_mem = 1 << 16;
	o.limits.max_line = 1 << 16;
	o.limits.max_items = 10000;
	s = ims_session_new(ims_stream_memory_new(data, size, (flags >> 4) & 7, &written), &o);
	if (s == NULL)
		abort();
	e = ims_session_start(s, (flags & 1) ? "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi" : NULL,
	                      &err);
	check(s, e, &err);
	ims_auth_init(&a);
	a.user = "alice";
	a.password = "secret";
	a.token = (flags & 2) ? "tok" : NULL;
	a.mech = (flags & 4) ? IMS_AUTH_PLAIN : (flags & 8) ? IMS_AUTH_XOAUTH2 : IMS_AUTH_LOGIN;
	if (ims_session_state(s) == IMS_STATE_NOT_AUTHENTICATED) {
		e = ims_session_login(s, &a, &err);
		check(s, e, &err);
	}
	e = ims_session_select(s, "INBOX", 5, 0, &err);
	check(s, e, &err);
	e = ims_session_uid_fetch(s, "1:*", "(UID FLAGS ENVELOPE BODYSTRUCTURE BODY.PEEK[])", &fh,
	                          &err);
	check(s, e, &err);
	ims_search_result_init(&sr);
	e = ims_session_uid_search(s, keys, 2, &sr, &err);
	check(s, e, &err);
	ims_search_result_release(&sr);
	e = ims_session_status_many(s, names, lens, 2, 0, sv, NULL, &err);
	check(s, e, &err);
	ims_list_result_init(&lr);
	e = ims_session_list(s, "", "*", IMS_LISTF_STATUS | IMS_LISTF_SPECIAL_USE, &lr, &err);
	check(s, e, &err);
	ims_list_result_release(&lr);
	ims_copy_result_init(&cr);
	e = ims_session_uid_move(s, "1:3", "Trash", 5, &cr, &err);
	check(s, e, &err);
	ims_copy_result_release(&cr);
	e = ims_session_append(s, "INBOX", 5, NULL, 0, NULL, 20, &src, NULL, &err);
	check(s, e, &err);
	if (ims_session_idle_start(s, &err) == IMS_OK) {
		e = ims_session_idle_wait(s, 0, &changed, &err);
		check(s, e, &err);
		e = ims_session_idle_done(s, &err);
		check(s, e, &err);
	}
	e = ims_session_logout(s, &err);
	check(s, e, &err);
	if (ims_session_broken(s, &err) != IMS_OK && ims_session_noop(s, &err) == IMS_OK)
		abort();
	ims_session_free(&s);
	ims_buf_release(&written);
	return 0;
}
