/* The message-argument grammar (msgarg.h).  Pure. */
#include <stdio.h>
#include <string.h>

#include "cli/msgarg.h"
#include "imapsh/sanitize.h"
#include "imapsh/seqset.h"

void cli_msgarg_init(struct cli_msgarg *m)
{
	memset(m, 0, sizeof(*m));
	ims_buf_init(&m->set, 0);
}

void cli_msgarg_release(struct cli_msgarg *m)
{
	ims_buf_release(&m->set);
	cli_msgarg_init(m);
}

ims_err cli_msgarg_parse(const char *word, struct cli_msgarg *m, struct ims_error *err)
{
	struct ims_seqset s;
	struct ims_error e;
	const char *p = word;
	char safe[128];
	ims_err r;

	cli_msgarg_release(m);
	if (*p == '#') {
		m->seq = 1;
		p++;
	}
	ims_seqset_init(&s);
	ims_error_init(&e);
	r = ims_seqset_parse(&s, p, strlen(p), &e);
	if (r == IMS_OK)
		r = ims_seqset_format(&s, &m->set, &e);
	if (r == IMS_OK) {
		if (s.n == 1 && s.n_num == 1 && s.r[0].lo == s.r[0].hi)
			m->single = s.r[0].lo;
		m->star = s.n == 1 && s.n_num == 0 && s.r[0].lo == IMS_SEQ_STAR;
	}
	ims_seqset_release(&s);
	if (r == IMS_OK)
		return IMS_OK;
	cli_msgarg_release(m);
	if (r == IMS_ERR_NOMEM)
		return ims_error_set(err, IMS_ERR_NOMEM, "out of memory");
	return ims_error_set(err, IMS_ERR_USAGE,
	                     "'%s' is not a message set: %s (UIDs such as 42, 1:100, "
	                     "1,5,9:12 or *; #N for a sequence number)",
	                     ims_sanitize_fixed(word, strlen(word), safe, sizeof(safe)), e.msg);
}

int cli_msgarg_is_one(const struct cli_msgarg *m)
{
	return m->single != 0 || m->star;
}

ims_err cli_msgarg_parse_one(const char *what, const char *word, struct cli_msgarg *m,
                             struct ims_error *err)
{
	char safe[128];
	ims_err r = cli_msgarg_parse(word, m, err);

	if (r == IMS_OK && !cli_msgarg_is_one(m)) {
		cli_msgarg_release(m);
		return ims_error_set(err, IMS_ERR_USAGE,
		                     "%s: '%s' names more than one message (one UID, * for the "
		                     "newest, or #N for a sequence number)",
		                     what,
		                     ims_sanitize_fixed(word, strlen(word), safe, sizeof(safe)));
	}
	if (r == IMS_ERR_USAGE) {
		char msg[sizeof(err->msg)];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		return ims_error_set(err, IMS_ERR_USAGE, "%s: %s", what, msg);
	}
	return r;
}
