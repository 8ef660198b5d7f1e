/* idle [SECONDS] (alias watch): IDLE (re-issued every IDLE_REISSUE_MS) or
 * NOOP every POLL_MS without it; each new message (UID above the highest
 * seen) is printed as "UID<TAB>FROM<TAB>SUBJECT" (decoded, sanitised) or as
 * a JSON line.  With SECONDS: exit 0 once mail came, 1 on timeout. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cmd/export.h"
#include "cli/output.h"
#include "imapsh/json.h"
#include "imapsh/rfc2047.h"

#define IDLE_REISSUE_MS   (28 * 60 * 1000) /* RFC 2177: before 29 minutes */
#define POLL_MS           (30 * 1000)
#define IDLE_OUT_CHECK_MS (2 * 1000) /* how soon idle sees its reader gone */
/* ---- idle -------------------------------------------------------------------- */

struct watch {
	struct cli *c;
	uint32_t next_uid; /* the lowest UID not shown yet */
	int shown;
	struct ims_json j; /* --json: JSON Lines */
};

static void addr_text(const struct ims_address *a, struct ims_buf *out)
{
	struct ims_error e;

	if (a->name != NULL && a->name[0] != '\0' &&
	    ims_rfc2047_decode(a->name, strlen(a->name), out, NULL, &e) == IMS_OK)
		return;
	if (a->mailbox != NULL && ims_buf_puts(out, a->mailbox) == IMS_OK && a->host != NULL &&
	    ims_buf_putc(out, '@') == IMS_OK && ims_buf_puts(out, a->host) != IMS_OK)
		ims_buf_reset(out);
}

static ims_err watch_message(void *ctx, const struct ims_fetch *f, struct ims_error *err)
{
	struct watch *w = ctx;
	struct ims_buf from, subj;
	struct ims_error e;
	const struct ims_envelope *env = f->envelope;

	(void)err;
	if (!(f->have & IMS_FETCH_UID) || f->uid < w->next_uid)
		return IMS_OK;
	ims_buf_init(&from, 0);
	ims_buf_init(&subj, 0);
	if (env != NULL && env->from.n > 0)
		addr_text(&env->from.v[0], &from);
	if (env != NULL && env->subject != NULL &&
	    ims_rfc2047_decode(env->subject, strlen(env->subject), &subj, NULL, &e) != IMS_OK)
		ims_buf_reset(&subj);
	if (w->c->o.json) {
		(void)ims_json_object_begin(&w->j);
		(void)ims_json_key(&w->j, "uid");
		(void)ims_json_uint(&w->j, f->uid);
		(void)ims_json_key(&w->j, "from");
		(void)ims_json_string_n(&w->j, from.data ? from.data : "", from.len);
		(void)ims_json_key(&w->j, "subject");
		(void)ims_json_string_n(&w->j, subj.data ? subj.data : "", subj.len);
		(void)ims_json_object_end(&w->j);
	} else {
		/* One line, one record (output.h). */
		struct tsv t;

		tsv_begin(&t, stdout);
		tsv_fieldf(&t, "%" PRIu32, f->uid);
		tsv_field_n(&t, from.data, from.data != NULL ? from.len : 0);
		tsv_field_n(&t, subj.data, subj.data != NULL ? subj.len : 0);
		(void)tsv_end(&t);
	}
	ims_buf_release(&from);
	ims_buf_release(&subj);
	if (cli_stdout_check(w->c) != IMS_OK) { /* nobody reads: stop watching */
		ims_error_copy(err, &w->c->err);
		return err->code;
	}
	w->shown++;
	if (f->uid >= w->next_uid)
		w->next_uid = f->uid + 1;
	return IMS_OK;
}

/* Show the messages with UIDs from w->next_uid on. */
static ims_err watch_fetch(struct watch *w)
{
	struct cli *c = w->c;
	struct ims_fetch_handler h = {0};
	char set[32];

	h.message = watch_message;
	h.ctx = w;
	snprintf(set, sizeof(set), "%" PRIu32 ":*", w->next_uid);
	return ims_session_uid_fetch(c->sess, set, "(UID ENVELOPE)", &h, &c->err);
}

#define IDLE_RETRIES 8 /* connecting again in a row before giving up */

/* The connection ended under idle (a BYE after some minutes, as Exchange
 * Online sends, or a drop): connect, log in and select again after 1, 2,
 * 5, 10, 30, 60 s, and go on.  IMS_OK once the folder is selected again;
 * a refusal that waiting cannot cure (TLS, authentication, usage) or the
 * last attempt's failure otherwise. */
static ims_err idle_reconnect(struct cli *c, int64_t deadline)
{
	static const int waits[] = {1, 2, 5, 10, 30, 60};
	struct ims_error why;
	ims_err e = IMS_OK;
	int i;

	ims_error_init(&why);
	if (c->sess != NULL)
		(void)ims_session_broken(c->sess, &why);
	for (i = 0; i < IDLE_RETRIES; i++) {
		int secs = waits[i < 6 ? i : 5];
		struct timespec ts = {(time_t)secs, 0};

		if (deadline != 0 && ims_now_ms() + secs * 1000 >= deadline)
			break;
		cli_warn("idle: %s; connecting again in %d s",
		         why.msg[0] != '\0' ? why.msg : "the connection ended", secs);
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !cli_interrupted)
			;
		if (cli_interrupted)
			return ims_error_set(&c->err, IMS_ERR_CANCELLED, "idle: interrupted");
		e = cli_need(c, CMD_FOLDER);
		if (e == IMS_OK)
			return IMS_OK;
		if (e == IMS_ERR_TLS || e == IMS_ERR_AUTH || e == IMS_ERR_USAGE)
			return e;
		ims_error_copy(&why, &c->err);
	}
	if (e == IMS_OK)
		return ims_error_set(&c->err, IMS_ERR_NET, "idle: %s",
		                     why.msg[0] != '\0' ? why.msg : "the connection ended");
	return e;
}

/* Whether e ended the connection, so that connecting again may cure it. */
static int connection_gone(struct cli *c, ims_err e)
{
	struct ims_error why;

	return (e == IMS_ERR_NET && c->sess != NULL &&
	        (ims_session_broken(c->sess, &why) != IMS_OK ||
	         ims_session_state(c->sess) == IMS_STATE_LOGOUT));
}

/* One IDLE of at most until (ms): started, waited on (the reader
 * watched every IDLE_OUT_CHECK_MS), ended with DONE.  *changed_r when
 * mail came (EXISTS above exists); *gone_r when nobody reads any more.
 * Ctrl-C ends it with DONE too: IMS_ERR_CANCELLED, the session kept. */
static ims_err idle_chunk(struct cli *c, int64_t until, uint32_t exists, int *changed_r,
                          int *gone_r)
{
	const struct ims_folder *f;
	struct ims_error why;
	int changed = 0, gone = 0;
	ims_err e;

	e = ims_session_idle_start(c->sess, &c->err);
	while (e == IMS_OK && !changed) {
		int64_t left = until - ims_now_ms();

		if (left <= 0)
			break;
		/* nobody reads any more (| head): stop, log out */
		if (cli_stdout_closed(c)) {
			gone = 1;
			break;
		}
		if (left > IDLE_OUT_CHECK_MS)
			left = IDLE_OUT_CHECK_MS;
		e = ims_session_idle_wait(c->sess, (int)left, &changed, &c->err);
		f = ims_session_folder(c->sess);
		if (e == IMS_OK && changed && f != NULL && f->exists == exists)
			changed = 0; /* flags or an expunge and nothing new */
	}
	if (e == IMS_ERR_CANCELLED && ims_session_broken(c->sess, &why) == IMS_OK) {
		/* Ctrl-C: end IDLE properly, keep the session */
		cli_interrupted = 0;
		if (ims_session_idle_done(c->sess, &c->err) == IMS_OK)
			return ims_error_set(&c->err, IMS_ERR_CANCELLED,
			                     "idle: interrupted (IDLE ended with DONE; "
			                     "the connection stays open)");
		ims_error_prefix(&c->err, "idle: interrupted, and ending IDLE failed");
		return IMS_ERR_CANCELLED;
	}
	if (e == IMS_OK)
		e = ims_session_idle_done(c->sess, &c->err);
	*changed_r = changed;
	*gone_r = gone;
	return e;
}

ims_err cli_cmd_idle(struct cli *c, int argc, char **argv)
{
	struct watch w;
	const struct ims_folder *f;
	int64_t deadline = 0, now;
	uint32_t exists;
	int use_idle;
	ims_err e = IMS_OK;

	memset(&w, 0, sizeof(w));
	w.c = c;
	if (argc > 1) {
		uint64_t v;

		if (cli_number(c, "idle: SECONDS", argv[1], 1, 100000000, &v) != IMS_OK)
			return c->err.code;
		deadline = (int64_t)v * 1000;
	}
	if ((e = cli_ready(c)) != IMS_OK)
		return e;
	if (deadline != 0)
		deadline += ims_now_ms();
	f = ims_session_folder(c->sess);
	if (c->o.json)
		ims_json_init_file(&w.j, stdout, IMS_JSON_LINES);
	if (f == NULL)
		return ims_error_set(&c->err, IMS_ERR_USAGE, "idle: no folder selected");
	if (f->have & IMS_FOLDER_UIDNEXT) {
		w.next_uid = f->uidnext;
	} else {
		struct ims_arg all = {IMS_ARG_RAW, "ALL", 3};
		struct ims_search_result sr;

		ims_search_result_init(&sr);
		e = ims_session_uid_search(c->sess, &all, 1, &sr, &c->err);
		w.next_uid = sr.n > 0 ? sr.uids[sr.n - 1] + 1 : 1;
		ims_search_result_release(&sr);
		if (e != IMS_OK)
			return e;
	}
	use_idle =
	    ims_session_has_cap(c->sess, "IDLE") || ims_session_has_cap(c->sess, "IMAP4rev2");
	exists = f->exists;
	while (e == IMS_OK && !(deadline != 0 && w.shown > 0)) {
		int changed = 0, gone = 0;
		int64_t chunk;

		if (cli_stdout_closed(c))
			return IMS_ERR_IO;
		now = ims_now_ms();
		if (deadline != 0 && now >= deadline)
			break;
		chunk = use_idle ? IDLE_REISSUE_MS : POLL_MS;
		if (deadline != 0 && deadline - now < chunk)
			chunk = deadline - now;
		if (use_idle) {
			e = idle_chunk(c, now + chunk, exists, &changed, &gone);
			if (e == IMS_OK && gone)
				return IMS_ERR_IO; /* quiet: cli_stdout_closed() said why */
			if (e == IMS_ERR_CANCELLED)
				return e; /* Ctrl-C: DONE sent where the session stands */
		} else {
			struct timespec ts = {(time_t)(chunk / 1000),
			                      (long)(chunk % 1000) * 1000000};

			while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !cli_interrupted)
				;
			if (cli_interrupted)
				return IMS_ERR_CANCELLED;
			e = ims_session_noop(c->sess, &c->err);
			changed = 1;
		}
		if (connection_gone(c, e)) {
			/* connect again, then show what came meanwhile */
			e = idle_reconnect(c, deadline);
			if (e != IMS_OK)
				break;
			changed = 1;
			exists = 0;
		}
		f = ims_session_folder(c->sess);
		if (e == IMS_OK && changed && f != NULL && f->exists != exists) {
			e = watch_fetch(&w);
			f = ims_session_folder(c->sess);
			exists = f != NULL ? f->exists : 0;
		}
	}
	if (e != IMS_OK)
		return e;
	if (deadline != 0 && w.shown == 0)
		return ims_error_set(&c->err, IMS_ERR_NO, "idle: no new mail within %s seconds",
		                     argv[1]);
	return IMS_OK;
}
