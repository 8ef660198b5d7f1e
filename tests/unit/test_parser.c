/* The IMAP response parser.
 *
 * Vector files in tests/data/parser/ (*.txt files) hold cases:
 *
 *   === name
 *   O: max_line=200 max_depth=5 max_items=10 max_literal=100 max_mem=50 sink
 *   S: a server line (CRLF is added; escapes \r \n \0 \xNN \\, any other
 *      backslash is itself)
 *   R: raw bytes, no CRLF added (same escapes)
 *   E: the expected dump of one response (in order)
 *   L: the expected dump of one literal callback (in order)
 *   X: ERRNAME text that must appear in the error message
 *
 * Each case is fed whole, one byte at a time and in chunks of 2, 3 and 7
 * bytes; every way must give the same dumps (and the expected ones).
 * With IMAPSH_GOLDEN=1 in the environment the dumps are printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <dirent.h>

#include <cmocka.h>

#include "imapsh/parser.h"

/* ---- dumping ---- */

static void put(struct ims_buf *b, const char *s)
{
	assert_int_equal(ims_buf_puts(b, s), IMS_OK);
}

static void putf(struct ims_buf *b, const char *fmt, ...) IMS_PRINTF(2, 3);

static void putf(struct ims_buf *b, const char *fmt, ...)
{
	char tmp[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	put(b, tmp);
}

static void put_bytes(struct ims_buf *b, const char *s, size_t n)
{
	size_t i;

	put(b, "\"");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			putf(b, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			putf(b, "\\x%02X", c);
		else
			putf(b, "%c", c);
	}
	put(b, "\"");
}

static void put_str(struct ims_buf *b, const char *s)
{
	if (s == NULL)
		put(b, "NIL");
	else
		put_bytes(b, s, strlen(s));
}

static void dump_value(struct ims_buf *b, const struct ims_value *v)
{
	size_t i;

	switch (v->type) {
	case IMS_V_NIL: put(b, "NIL"); break;
	case IMS_V_ATOM: put(b, v->s); break;
	case IMS_V_NUMBER:
		if (v->flags & IMS_VF_BIG)
			putf(b, "#big(%s)", v->s);
		else
			putf(b, "#%" PRIu64, v->num);
		break;
	case IMS_V_QUOTED: put_bytes(b, v->s, v->len); break;
	case IMS_V_LITERAL:
		putf(b, "%s{%" PRIu64 "}", (v->flags & IMS_VF_BINARY) ? "~" : "", v->num);
		if (v->flags & IMS_VF_STREAMED)
			put(b, "<sink>");
		else
			put_bytes(b, v->s, v->len);
		break;
	case IMS_V_LIST:
		put(b, "(");
		for (i = 0; i < v->n; i++) {
			if (i)
				put(b, " ");
			dump_value(b, &v->v[i]);
		}
		put(b, ")");
		break;
	}
}

static void dump_strings(struct ims_buf *b, const char *name, const struct ims_strings *s)
{
	size_t i;

	putf(b, " %s%zu=[", name, s->n);
	for (i = 0; i < s->n; i++)
		putf(b, "%s%s", i ? "," : "", s->v[i]);
	put(b, "]");
}

static void dump_addrs(struct ims_buf *b, const char *name, const struct ims_addresses *a)
{
	size_t i;

	if (a->n == 0)
		return;
	putf(b, " %s=[", name);
	for (i = 0; i < a->n; i++) {
		if (i)
			put(b, ",");
		put_str(b, a->v[i].name);
		put(b, " ");
		put_str(b, a->v[i].mailbox);
		put(b, "@");
		put_str(b, a->v[i].host);
	}
	put(b, "]");
}

static void dump_env(struct ims_buf *b, const struct ims_envelope *e)
{
	put(b, " env={date=");
	put_str(b, e->date);
	put(b, " subject=");
	put_str(b, e->subject);
	dump_addrs(b, "from", &e->from);
	dump_addrs(b, "sender", &e->sender);
	dump_addrs(b, "reply-to", &e->reply_to);
	dump_addrs(b, "to", &e->to);
	dump_addrs(b, "cc", &e->cc);
	dump_addrs(b, "bcc", &e->bcc);
	put(b, " irt=");
	put_str(b, e->in_reply_to);
	put(b, " mid=");
	put_str(b, e->message_id);
	put(b, "}");
}

static void dump_params(struct ims_buf *b, const char *name, const struct ims_body_param *p,
                        size_t n)
{
	size_t i;

	if (n == 0)
		return;
	putf(b, " %s=", name);
	for (i = 0; i < n; i++) {
		putf(b, "%s%s=", i ? ";" : "", p[i].name);
		put_str(b, p[i].value);
	}
}

static void dump_body(struct ims_buf *b, const struct ims_body *bd)
{
	size_t i;

	putf(b, "(%s %s/%s", bd->part[0] ? bd->part : "-", bd->type, bd->subtype);
	dump_params(b, "p", bd->params, bd->n_params);
	if (!bd->multipart) {
		if (bd->id)
			putf(b, " id=%s", bd->id);
		if (bd->description)
			putf(b, " desc=%s", bd->description);
		putf(b, " enc=%s size=%" PRIu64, bd->encoding ? bd->encoding : "NIL", bd->size);
		if (bd->lines)
			putf(b, " lines=%" PRIu64, bd->lines);
		if (bd->envelope)
			dump_env(b, bd->envelope);
	}
	if (bd->extended) {
		put(b, " ext");
		if (bd->md5)
			putf(b, " md5=%s", bd->md5);
		if (bd->disposition)
			putf(b, " disp=%s", bd->disposition);
		dump_params(b, "dp", bd->disp_params, bd->n_disp_params);
		for (i = 0; i < bd->n_language; i++)
			putf(b, " lang=%s", bd->language[i]);
		if (bd->location)
			putf(b, " loc=%s", bd->location);
	}
	for (i = 0; i < bd->n_parts; i++) {
		put(b, " ");
		dump_body(b, &bd->parts[i]);
	}
	put(b, ")");
}

static void dump_typed(struct ims_buf *b, const struct ims_response *r)
{
	size_t i;

	switch (r->kind) {
	case IMS_DATA_FETCH: {
		const struct ims_fetch *f = &r->u.fetch;

		putf(b, " | seq=%" PRIu32, f->seq);
		if (f->have & IMS_FETCH_UID)
			putf(b, " uid=%" PRIu32, f->uid);
		if (f->have & IMS_FETCH_FLAGS)
			dump_strings(b, "flags", &f->flags);
		if (f->have & IMS_FETCH_INTERNALDATE)
			putf(b, " date=%" PRId64, f->internaldate_epoch);
		if (f->have & IMS_FETCH_SIZE)
			putf(b, " size=%" PRIu64, f->rfc822_size);
		if (f->have & IMS_FETCH_MODSEQ)
			putf(b, " modseq=%" PRIu64, f->modseq);
		if (f->have & IMS_FETCH_ENVELOPE)
			dump_env(b, f->envelope);
		if (f->have & IMS_FETCH_BODY) {
			putf(b, " %s=", f->body_extended ? "bs" : "body");
			dump_body(b, f->body);
		}
		for (i = 0; i < f->n_sections; i++) {
			const struct ims_fetch_section *s = &f->sections[i];

			putf(b, " sec%s[%s]", s->binary ? "bin" : "", s->section);
			if (s->has_origin)
				putf(b, "<%" PRIu32 ">", s->origin);
			putf(b, "=%s", s->value->type == IMS_V_NIL ? "NIL" : "");
			if (s->value->type != IMS_V_NIL)
				putf(b, "%zu%s", s->value->len,
				     (s->value->flags & IMS_VF_STREAMED) ? "streamed" : "");
		}
		break;
	}
	case IMS_DATA_LIST:
	case IMS_DATA_LSUB: {
		const struct ims_list_entry *l = &r->u.list;

		putf(b, " | bits=%x", l->attr_bits);
		if (l->special_use)
			putf(b, " use=%s", l->special_use);
		putf(b, " delim=%s%c", l->delim ? "" : "NIL", l->delim ? l->delim : ' ');
		put(b, "name=");
		put_bytes(b, l->name, l->name_len);
		if (l->oldname) {
			put(b, " old=");
			put_bytes(b, l->oldname, l->oldname_len);
		}
		if (l->child_subscribed)
			put(b, " childsub");
		break;
	}
	case IMS_DATA_STATUS: {
		const struct ims_mbox_status *s = &r->u.status;

		put(b, " | name=");
		put_bytes(b, s->name, s->name_len);
		putf(b,
		     " have=%x m=%" PRIu32 " r=%" PRIu32 " next=%" PRIu32 " val=%" PRIu32
		     " unseen=%" PRIu32 " del=%" PRIu32 " size=%" PRIu64 " hms=%" PRIu64,
		     s->have, s->messages, s->recent, s->uidnext, s->uidvalidity, s->unseen,
		     s->deleted, s->size, s->highestmodseq);
		break;
	}
	case IMS_DATA_SEARCH:
		put(b, " | nums=");
		for (i = 0; i < r->u.search.n; i++)
			putf(b, "%s%" PRIu32, i ? "," : "", r->u.search.nums[i]);
		if (r->u.search.modseq)
			putf(b, " modseq=%" PRIu64, r->u.search.modseq);
		break;
	case IMS_DATA_ESEARCH: {
		const struct ims_esearch *e = &r->u.esearch;

		putf(b,
		     " | tag=%s uid=%d have=%x min=%" PRIu32 " max=%" PRIu32 " count=%" PRIu32
		     " all=%s modseq=%" PRIu64,
		     e->tag ? e->tag : "NIL", e->uid, e->have, e->min, e->max, e->count,
		     e->all ? e->all : "NIL", e->modseq);
		break;
	}
	case IMS_DATA_FLAGS:
	case IMS_DATA_CAPABILITY:
	case IMS_DATA_ENABLED:
		put(b, " |");
		dump_strings(b, "v", &r->u.strings);
		break;
	case IMS_DATA_QUOTA:
		putf(b, " | root=%s", r->u.quota.root);
		for (i = 0; i < r->u.quota.n; i++)
			putf(b, " %s=%" PRIu64 "/%" PRIu64, r->u.quota.res[i].name,
			     r->u.quota.res[i].usage, r->u.quota.res[i].limit);
		break;
	case IMS_DATA_QUOTAROOT:
		put(b, " | mbox=");
		put_bytes(b, r->u.quotaroot.mailbox, r->u.quotaroot.mailbox_len);
		dump_strings(b, "roots", &r->u.quotaroot.roots);
		break;
	case IMS_DATA_NAMESPACE: {
		const struct ims_ns_list *ls[3] = {&r->u.ns.personal, &r->u.ns.other,
		                                   &r->u.ns.shared};
		size_t k;

		put(b, " |");
		for (k = 0; k < 3; k++) {
			put(b, " [");
			for (i = 0; i < ls[k]->n; i++) {
				if (i)
					put(b, ",");
				put_bytes(b, ls[k]->v[i].prefix, ls[k]->v[i].prefix_len);
				putf(b, "%c", ls[k]->v[i].delim ? ls[k]->v[i].delim : '0');
			}
			put(b, "]");
		}
		break;
	}
	case IMS_DATA_ID:
		put(b, " |");
		for (i = 0; i < r->u.id.n; i++) {
			putf(b, " %s=", r->u.id.v[i].name);
			put_str(b, r->u.id.v[i].value);
		}
		break;
	case IMS_DATA_VANISHED:
		putf(b, " | earlier=%d uids=%s", r->u.vanished.earlier, r->u.vanished.uids);
		break;
	default: break;
	}
}

static void dump_response(struct ims_buf *b, const struct ims_response *r)
{
	size_t i;

	if (r->type == IMS_RESP_CONTINUATION) {
		put(b, "+ ");
		put_bytes(b, r->text, r->text_len);
		return;
	}
	put(b, r->tag);
	if (r->cond != IMS_COND_NONE) {
		putf(b, " %s", ims_cond_name(r->cond));
		if (r->code.kind != IMS_CODE_NONE) {
			putf(b, " [%s:%s", r->code.name, ims_code_name(r->code.kind));
			if (r->code.num)
				putf(b, " num=%" PRIu32, r->code.num);
			if (r->code.modseq)
				putf(b, " modseq=%" PRIu64, r->code.modseq);
			for (i = 0; i < r->code.n_list; i++)
				putf(b, " %s", r->code.list[i]);
			if (r->code.set1)
				putf(b, " set1=%s", r->code.set1);
			if (r->code.set2)
				putf(b, " set2=%s", r->code.set2);
			if (r->code.kind == IMS_CODE_OTHER || r->code.kind == IMS_CODE_REFERRAL)
				putf(b, " raw=%s", r->code.raw);
			put(b, "]");
		}
		put(b, " ");
		put_bytes(b, r->text, r->text_len);
		if (r->lenient != NULL)
			putf(b, " | lenient: %s", r->lenient);
		return;
	}
	if (r->has_number)
		putf(b, " %" PRIu32, r->number);
	putf(b, " %s ", r->keyword);
	dump_value(b, r->args);
	dump_typed(b, r);
	if (r->lenient != NULL)
		putf(b, " | lenient: %s", r->lenient);
}

/* ---- running a case ---- */

struct tcase {
	char name[128];
	struct ims_buf input;
	struct ims_parser_limits lim;
	int sink;
	char *expect[64];
	size_t n_expect;
	char *lits[16];
	size_t n_lits;
	char *xerr;
};

struct run {
	struct ims_buf out;  /* dumps, one per line */
	struct ims_buf lits; /* literal callback dumps */
	struct ims_buf sunk; /* bytes written to the test sink */
	ims_err err;
	char msg[IMS_ERROR_MAX];
	int sink;
};

static ims_err sink_write(void *ctx, const void *p, size_t n)
{
	struct run *r = ctx;

	return ims_buf_append(&r->sunk, p, n);
}

static ims_err lit_cb(void *ctx, const struct ims_literal_info *li, struct ims_sink *sink_r,
                      struct ims_error *err)
{
	struct run *r = ctx;

	(void)err;
	putf(&r->lits, "%s%s %" PRIu32 " uid=%" PRIu32 " item=%s nested=%d size=%" PRIu64 "\n",
	     li->binary ? "~" : "", li->keyword ? li->keyword : "-", li->number, li->uid,
	     li->item ? li->item : "-", li->nested, li->size);
	if (r->sink && li->kind == IMS_DATA_FETCH && li->item != NULL && !li->nested) {
		sink_r->write = sink_write;
		sink_r->ctx = r;
	}
	return IMS_OK;
}

static void run_case(const struct tcase *tc, size_t chunk, struct run *r)
{
	struct ims_parser *p = ims_parser_new(&tc->lim);
	struct ims_error err;
	size_t pos = 0, len = tc->input.len;
	const char *d = tc->input.data;

	assert_non_null(p);
	ims_buf_init(&r->out, 0);
	ims_buf_init(&r->lits, 0);
	ims_buf_init(&r->sunk, 0);
	r->err = IMS_OK;
	r->msg[0] = '\0';
	r->sink = tc->sink;
	ims_parser_set_literal_fn(p, lit_cb, r);
	ims_error_init(&err);
	while (pos < len) {
		size_t n = chunk == 0 || len - pos < chunk ? len - pos : chunk, used;
		const struct ims_response *resp;
		ims_err e = ims_parser_feed(p, d + pos, n, &used, &resp, &err);

		if (e != IMS_OK) {
			size_t u2;
			const struct ims_response *r2;

			r->err = e;
			snprintf(r->msg, sizeof(r->msg), "%s", err.msg);
			/* broken from now on */
			assert_int_equal(ims_parser_feed(p, "x", 1, &u2, &r2, &err), e);
			break;
		}
		assert_true(used <= n);
		pos += used;
		if (resp != NULL) {
			dump_response(&r->out, resp);
			put(&r->out, "\n");
		} else {
			assert_int_equal(used, n);
		}
	}
	if (r->err == IMS_OK && !ims_parser_between(p)) {
		r->err = IMS_ERR_USAGE; /* incomplete */
		snprintf(r->msg, sizeof(r->msg), "incomplete");
	}
	ims_parser_free(&p);
	assert_null(p);
}

static void run_release(struct run *r)
{
	ims_buf_release(&r->out);
	ims_buf_release(&r->lits);
	ims_buf_release(&r->sunk);
}

static const char *errname(ims_err e)
{
	switch (e) {
	case IMS_OK: return "OK";
	case IMS_ERR_PROTOCOL: return "PROTOCOL";
	case IMS_ERR_LIMIT: return "LIMIT";
	case IMS_ERR_NOMEM: return "NOMEM";
	case IMS_ERR_USAGE: return "INCOMPLETE";
	default: return "OTHER";
	}
}

static int golden;

static void check_case(const struct tcase *tc)
{
	static const size_t chunks[] = {0, 1, 2, 3, 7};
	struct run first;
	size_t k, i;

	run_case(tc, 0, &first);
	if (golden) {
		const char *q;

		printf("=== %s\n", tc->name);
		for (q = first.out.data; q != NULL && *q; q = strchr(q, '\n') + 1)
			printf("E: %.*s\n", (int)strcspn(q, "\n"), q);
		for (q = first.lits.data; q != NULL && *q; q = strchr(q, '\n') + 1)
			printf("L: %.*s\n", (int)strcspn(q, "\n"), q);
		if (first.err != IMS_OK)
			printf("X: %s %s\n", errname(first.err), first.msg);
	}
	for (k = 1; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
		struct run other;

		run_case(tc, chunks[k], &other);
		if (other.err != first.err || (other.out.len != first.out.len) ||
		    (first.out.len && memcmp(other.out.data, first.out.data, first.out.len)) ||
		    other.lits.len != first.lits.len || other.sunk.len != first.sunk.len ||
		    (first.lits.len && memcmp(other.lits.data, first.lits.data, first.lits.len)) ||
		    (first.sunk.len && memcmp(other.sunk.data, first.sunk.data, first.sunk.len))) {
			print_error("case %s: chunk %zu differs from whole:\n%s%s\nvs\n%s%s\n",
			            tc->name, chunks[k], first.out.data ? first.out.data : "",
			            first.msg, other.out.data ? other.out.data : "", other.msg);
			fail();
		}
		run_release(&other);
	}
	if (!golden) {
		const char *o = first.out.data ? first.out.data : "";
		const char *l = first.lits.data ? first.lits.data : "";

		for (i = 0; i < tc->n_expect; i++) {
			size_t n = strlen(tc->expect[i]);

			if (strncmp(o, tc->expect[i], n) != 0 || o[n] != '\n') {
				print_error("case %s: response %zu:\n  want %s\n  got  %.*s\n",
				            tc->name, i + 1, tc->expect[i], (int)strcspn(o, "\n"),
				            o);
				fail();
			}
			o += n + 1;
		}
		if (*o != '\0') {
			print_error("case %s: unexpected response %s\n", tc->name, o);
			fail();
		}
		for (i = 0; i < tc->n_lits; i++) {
			size_t n = strlen(tc->lits[i]);

			if (strncmp(l, tc->lits[i], n) != 0 || l[n] != '\n') {
				print_error("case %s: literal %zu:\n  want %s\n  got  %.*s\n",
				            tc->name, i + 1, tc->lits[i], (int)strcspn(l, "\n"), l);
				fail();
			}
			l += n + 1;
		}
		if (tc->n_lits != 0 && *l != '\0') {
			print_error("case %s: unexpected literal %s\n", tc->name, l);
			fail();
		}
		if (tc->xerr == NULL && first.err != IMS_OK) {
			print_error("case %s: unexpected error %s: %s\n", tc->name,
			            errname(first.err), first.msg);
			fail();
		}
		if (tc->xerr != NULL) {
			const char *sp = strchr(tc->xerr, ' ');
			size_t nl = sp ? (size_t)(sp - tc->xerr) : strlen(tc->xerr);

			if (strlen(errname(first.err)) != nl ||
			    strncmp(errname(first.err), tc->xerr, nl) != 0 ||
			    (sp && strstr(first.msg, sp + 1) == NULL)) {
				print_error("case %s: want error %s, got %s: %s\n", tc->name,
				            tc->xerr, errname(first.err), first.msg);
				fail();
			}
		}
	}
	run_release(&first);
}

/* ---- vector files ---- */

static void unescape_append(struct ims_buf *b, const char *s)
{
	while (*s) {
		/* \r \n \0 \xNN \\; any other backslash stands for itself */
		if (*s == '\\' && s[1] && strchr("rn0x\\", s[1]) != NULL) {
			char c = s[1];

			s += 2;
			if (c == 'r')
				c = '\r';
			else if (c == 'n')
				c = '\n';
			else if (c == '0')
				c = '\0';
			else if (c == 'x') {
				char hex[3] = {s[0], s[0] ? s[1] : 0, 0};

				c = (char)strtol(hex, NULL, 16);
				s += 2;
			}
			assert_int_equal(ims_buf_putc(b, c), IMS_OK);
		} else {
			assert_int_equal(ims_buf_putc(b, *s++), IMS_OK);
		}
	}
}

static void parse_opts(struct tcase *tc, char *s)
{
	char *tok;

	for (tok = strtok(s, " "); tok; tok = strtok(NULL, " ")) {
		char *eq = strchr(tok, '=');
		unsigned long long v = eq ? strtoull(eq + 1, NULL, 10) : 0;

		if (strncmp(tok, "max_line=", 9) == 0)
			tc->lim.max_line = v;
		else if (strncmp(tok, "max_depth=", 10) == 0)
			tc->lim.max_depth = v;
		else if (strncmp(tok, "max_items=", 10) == 0)
			tc->lim.max_items = v;
		else if (strncmp(tok, "max_literal=", 12) == 0)
			tc->lim.max_literal = v;
		else if (strncmp(tok, "max_mem=", 8) == 0)
			tc->lim.max_literal_mem = v;
		else if (strcmp(tok, "sink") == 0)
			tc->sink = 1;
		else
			fail_msg("unknown option %s", tok);
	}
}

static void case_reset(struct tcase *tc)
{
	size_t i;

	for (i = 0; i < tc->n_expect; i++)
		free(tc->expect[i]);
	for (i = 0; i < tc->n_lits; i++)
		free(tc->lits[i]);
	free(tc->xerr);
	ims_buf_release(&tc->input);
	memset(tc, 0, sizeof(*tc));
	ims_buf_init(&tc->input, 0);
	ims_parser_limits_init(&tc->lim);
}

static size_t run_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, count = 0;
	ssize_t n;
	struct tcase tc;

	assert_non_null(f);
	memset(&tc, 0, sizeof(tc));
	case_reset(&tc);
	while ((n = getline(&line, &cap, f)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (strncmp(line, "=== ", 4) == 0) {
			if (tc.name[0]) {
				check_case(&tc);
				count++;
			}
			case_reset(&tc);
			snprintf(tc.name, sizeof(tc.name), "%s", line + 4);
		} else if (strncmp(line, "S: ", 3) == 0 || strcmp(line, "S:") == 0) {
			unescape_append(&tc.input, line[2] ? line + 3 : "");
			assert_int_equal(ims_buf_append(&tc.input, "\r\n", 2), IMS_OK);
		} else if (strncmp(line, "R: ", 3) == 0) {
			/* raw: no CRLF added */
			unescape_append(&tc.input, line + 3);
		} else if (strncmp(line, "E: ", 3) == 0) {
			assert_true(tc.n_expect < 64);
			tc.expect[tc.n_expect++] = strdup(line + 3);
		} else if (strncmp(line, "L: ", 3) == 0) {
			assert_true(tc.n_lits < 16);
			tc.lits[tc.n_lits++] = strdup(line + 3);
		} else if (strncmp(line, "X: ", 3) == 0) {
			tc.xerr = strdup(line + 3);
		} else if (strncmp(line, "O: ", 3) == 0) {
			parse_opts(&tc, line + 3);
		}
	}
	if (tc.name[0]) {
		check_case(&tc);
		count++;
	}
	case_reset(&tc);
	ims_buf_release(&tc.input);
	free(line);
	fclose(f);
	return count;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_vectors(void **state)
{
	const char *data = getenv("IMAPSH_TEST_DATA");
	char dir[1024], path[2048];
	DIR *d;
	struct dirent *de;
	char *names[64];
	size_t n = 0, i, cases = 0;

	(void)state;
	golden = getenv("IMAPSH_GOLDEN") != NULL;
	assert_non_null(data);
	snprintf(dir, sizeof(dir), "%s/parser", data);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".txt") && n < 64)
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		cases += run_file(path);
		free(names[i]);
	}
	print_message("[ vectors  ] %zu cases in %zu files\n", cases, n);
	assert_true(cases >= 100);
}

/* ---- hostile input built in code ---- */

static ims_err feed_all(struct ims_parser *p, const char *s, size_t len,
                        const struct ims_response **r, struct ims_error *err)
{
	size_t used;

	return ims_parser_feed(p, s, len, &used, r, err);
}

static void test_deep_nesting(void **state)
{
	struct ims_parser *p = ims_parser_new(NULL);
	struct ims_buf b;
	struct ims_error err;
	const struct ims_response *r;
	size_t i;

	(void)state;
	ims_buf_init(&b, 0);
	assert_int_equal(ims_buf_puts(&b, "* 1 FETCH (BODYSTRUCTURE "), IMS_OK);
	for (i = 0; i < 10000; i++)
		assert_int_equal(ims_buf_putc(&b, '('), IMS_OK);
	for (i = 0; i < 10000; i++)
		assert_int_equal(ims_buf_putc(&b, ')'), IMS_OK);
	assert_int_equal(ims_buf_puts(&b, ")\r\n"), IMS_OK);
	assert_int_equal(feed_all(p, b.data, b.len, &r, &err), IMS_ERR_LIMIT);
	assert_non_null(strstr(err.msg, "deeper than 100"));
	ims_parser_free(&p);

	/* At the ceiling itself, a legal deep structure is accepted. */
	{
		struct ims_parser_limits l;

		ims_parser_limits_init(&l);
		l.max_depth = 5000; /* clamped to the ceiling */
		p = ims_parser_new(&l);
		ims_buf_reset(&b);
		assert_int_equal(ims_buf_puts(&b, "* X "), IMS_OK);
		for (i = 0; i < IMS_PARSER_DEPTH_CEILING; i++)
			assert_int_equal(ims_buf_putc(&b, '('), IMS_OK);
		for (i = 0; i < IMS_PARSER_DEPTH_CEILING; i++)
			assert_int_equal(ims_buf_putc(&b, ')'), IMS_OK);
		assert_int_equal(ims_buf_puts(&b, "\r\n"), IMS_OK);
		assert_int_equal(feed_all(p, b.data, b.len, &r, &err), IMS_OK);
		assert_non_null(r);
		ims_parser_free(&p);
	}
	/* A deep but legal BODYSTRUCTURE: message/rfc822 nested 40 times. */
	{
		struct ims_buf s;
		const struct ims_body *bd;
		size_t depth = 0;

		ims_buf_init(&s, 0);
		p = ims_parser_new(NULL);
		assert_int_equal(ims_buf_puts(&s, "* 1 FETCH (BODYSTRUCTURE "), IMS_OK);
		for (i = 0; i < 40; i++)
			assert_int_equal(
			    ims_buf_puts(&s, "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 100 "
			                     "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) "),
			    IMS_OK);
		assert_int_equal(ims_buf_puts(&s, "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1)"),
		                 IMS_OK);
		for (i = 0; i < 40; i++)
			assert_int_equal(ims_buf_puts(&s, " 5)"), IMS_OK);
		assert_int_equal(ims_buf_puts(&s, ")\r\n"), IMS_OK);
		assert_int_equal(feed_all(p, s.data, s.len, &r, &err), IMS_OK);
		assert_non_null(r);
		for (bd = r->u.fetch.body; bd->n_parts == 1; bd = &bd->parts[0])
			depth++;
		assert_int_equal(depth, 40);
		assert_int_equal(strlen(bd->part), 2 * 41 - 1); /* "1.1.1....1" */
		ims_parser_free(&p);
		ims_buf_release(&s);
	}
	ims_buf_release(&b);
}

struct counter {
	uint64_t n;
	unsigned char last;
};

static ims_err count_write(void *ctx, const void *p, size_t n)
{
	struct counter *c = ctx;

	c->n += n;
	c->last = ((const unsigned char *)p)[n - 1];
	return IMS_OK;
}

static ims_err big_cb(void *ctx, const struct ims_literal_info *li, struct ims_sink *sink_r,
                      struct ims_error *err)
{
	(void)err;
	assert_int_equal(li->uid, 42);
	assert_string_equal(li->item, "BODY[]");
	assert_int_equal(li->number, 7);
	sink_r->write = count_write;
	sink_r->ctx = ctx;
	return IMS_OK;
}

/* A 1 GiB literal streams to a sink without the parser holding it. */
static void test_gigabyte_literal(void **state)
{
	static char chunk[1 << 16];
	struct ims_parser_limits l;
	struct ims_parser *p;
	struct counter c = {0, 0};
	struct ims_error err;
	const struct ims_response *r = NULL;
	const char *head = "* 7 FETCH (UID 42 BODY[] {1073741824}\r\n";
	const char *tail = " FLAGS (\\Seen))\r\n";
	uint64_t left = 1073741824;
	size_t used;

	(void)state;
	ims_parser_limits_init(&l);
	l.max_literal_mem = 1 << 20;
	p = ims_parser_new(&l);
	ims_parser_set_literal_fn(p, big_cb, &c);
	memset(chunk, 'x', sizeof(chunk));
	assert_int_equal(ims_parser_feed(p, head, strlen(head), &used, &r, &err), IMS_OK);
	assert_null(r);
	while (left > 0) {
		size_t n = left < sizeof(chunk) ? (size_t)left : sizeof(chunk);

		assert_int_equal(ims_parser_feed(p, chunk, n, &used, &r, &err), IMS_OK);
		assert_int_equal(used, n);
		left -= n;
	}
	assert_int_equal(ims_parser_feed(p, tail, strlen(tail), &used, &r, &err), IMS_OK);
	assert_non_null(r);
	assert_int_equal(c.n, 1073741824ull);
	assert_int_equal(r->u.fetch.n_sections, 1);
	assert_null(r->u.fetch.sections[0].value->s);
	assert_true(r->u.fetch.sections[0].value->flags & IMS_VF_STREAMED);
	assert_int_equal(r->u.fetch.sections[0].value->num, 1073741824ull);
	assert_int_equal(r->u.fetch.flags.n, 1);
	ims_parser_free(&p);

	/* The same literal to memory is refused before anything is stored. */
	p = ims_parser_new(&l);
	assert_int_equal(ims_parser_feed(p, head, strlen(head), &used, &r, &err), IMS_ERR_LIMIT);
	assert_non_null(strstr(err.msg, "memory limit"));
	ims_parser_free(&p);
}

static void test_long_line(void **state)
{
	struct ims_parser_limits l;
	struct ims_parser *p;
	struct ims_error err;
	const struct ims_response *r;
	char buf[300];
	size_t used;

	(void)state;
	ims_parser_limits_init(&l);
	l.max_line = 256;
	p = ims_parser_new(&l);
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "* OK ", 5);
	/* No CRLF ever: the limit trips without a line end. */
	assert_int_equal(ims_parser_feed(p, buf, sizeof(buf), &used, &r, &err), IMS_ERR_LIMIT);
	assert_non_null(strstr(err.msg, "longer than 256"));
	ims_parser_free(&p);
}

/* Many responses in one buffer come out one by one. */
static void test_several(void **state)
{
	const char *s = "* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 9] x\r\nA1 OK done\r\n";
	struct ims_parser *p = ims_parser_new(NULL);
	struct ims_error err;
	const struct ims_response *r;
	size_t used, pos = 0, count = 0;

	(void)state;
	while (pos < strlen(s)) {
		assert_int_equal(ims_parser_feed(p, s + pos, strlen(s) - pos, &used, &r, &err),
		                 IMS_OK);
		assert_non_null(r);
		pos += used;
		count++;
		if (count == 1) {
			assert_int_equal(r->kind, IMS_DATA_EXISTS);
			assert_int_equal(r->number, 3);
		}
		if (count == 3) {
			assert_int_equal(r->code.kind, IMS_CODE_UIDVALIDITY);
			assert_int_equal(r->code.num, 9);
		}
		if (count == 4) {
			assert_int_equal(r->type, IMS_RESP_TAGGED);
			assert_string_equal(r->tag, "A1");
			assert_int_equal(r->cond, IMS_COND_OK);
		}
	}
	assert_int_equal(count, 4);
	assert_true(ims_parser_between(p));
	ims_parser_reset(p);
	ims_parser_free(&p);
}

static void test_raw_and_lines(void **state)
{
	const char *s = "* 1 FETCH (BODY[] {4}\r\nab\r\n)\r\n";
	struct ims_parser *p = ims_parser_new(NULL);
	struct ims_error err;
	const struct ims_response *r;
	size_t used, len;
	const char *raw;

	(void)state;
	ims_parser_keep_raw(p, 1);
	assert_int_equal(ims_parser_feed(p, s, strlen(s), &used, &r, &err), IMS_OK);
	assert_non_null(r);
	raw = ims_parser_raw(p, &len);
	assert_int_equal(len, strlen(s));
	assert_memory_equal(raw, s, len);
	ims_parser_free(&p);
}

static void test_dates(void **state)
{
	int64_t t;

	(void)state;
	assert_int_equal(ims_parse_date_time("17-Jul-1996 02:44:25 -0700", &t), IMS_OK);
	assert_int_equal(t, 837596665);
	assert_int_equal(ims_parse_date_time(" 1-Jan-1970 00:00:00 +0000", &t), IMS_OK);
	assert_int_equal(t, 0);
	assert_int_equal(ims_parse_date_time("1-Jan-2000 00:00:00 +0100", &t), IMS_OK);
	assert_int_equal(t, 946681200);
	assert_int_equal(ims_parse_date_time("29-Feb-2024 12:00:00 +0000", &t), IMS_OK);
	assert_int_equal(ims_parse_date_time("32-Jan-2000 00:00:00 +0000", &t), IMS_ERR_USAGE);
	assert_int_equal(ims_parse_date_time("1-Foo-2000 00:00:00 +0000", &t), IMS_ERR_USAGE);
	assert_int_equal(ims_parse_date_time("1-Jan-2000 00:00:00", &t), IMS_ERR_USAGE);
	assert_int_equal(ims_parse_date_time("", &t), IMS_ERR_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_deep_nesting),
	    cmocka_unit_test(test_gigabyte_literal),
	    cmocka_unit_test(test_long_line),
	    cmocka_unit_test(test_several),
	    cmocka_unit_test(test_raw_and_lines),
	    cmocka_unit_test(test_dates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
