/* The search language of the `search` command (man imapsh, the search command)
 * compiled to the keys of UID SEARCH: see search.h. */
#include "imapsh/search.h"
#include "imapsh/units.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum skind {
	SK_NONE,   /* no argument */
	SK_STR,    /* a string */
	SK_DATE,   /* a date: 2026-01-31 or 31-Jan-2026 */
	SK_SIZE,   /* a size: 1M, 10k, 12345 */
	SK_NUM,    /* a number */
	SK_ATOM,   /* a keyword */
	SK_HEADER, /* a field name and a string */
	SK_UIDSET, /* a UID set */
	SK_NOT,
	SK_OR
};

static const struct skey {
	const char *name;
	const char *imap;
	enum skind kind;
} skeys[] = {
    {"all", "ALL", SK_NONE},
    {"answered", "ANSWERED", SK_NONE},
    {"replied", "ANSWERED", SK_NONE},
    {"deleted", "DELETED", SK_NONE},
    {"draft", "DRAFT", SK_NONE},
    {"flagged", "FLAGGED", SK_NONE},
    {"new", "NEW", SK_NONE},
    {"old", "OLD", SK_NONE},
    {"recent", "RECENT", SK_NONE},
    {"seen", "SEEN", SK_NONE},
    {"read", "SEEN", SK_NONE},
    {"unanswered", "UNANSWERED", SK_NONE},
    {"unreplied", "UNANSWERED", SK_NONE},
    {"undeleted", "UNDELETED", SK_NONE},
    {"undraft", "UNDRAFT", SK_NONE},
    {"unflagged", "UNFLAGGED", SK_NONE},
    {"unseen", "UNSEEN", SK_NONE},
    {"unread", "UNSEEN", SK_NONE},
    {"bcc", "BCC", SK_STR},
    {"body", "BODY", SK_STR},
    {"cc", "CC", SK_STR},
    {"from", "FROM", SK_STR},
    {"subject", "SUBJECT", SK_STR},
    {"text", "TEXT", SK_STR},
    {"to", "TO", SK_STR},
    {"emailid", "EMAILID", SK_STR},
    {"threadid", "THREADID", SK_STR},
    {"before", "BEFORE", SK_DATE},
    {"on", "ON", SK_DATE},
    {"since", "SINCE", SK_DATE},
    {"sentbefore", "SENTBEFORE", SK_DATE},
    {"senton", "SENTON", SK_DATE},
    {"sentsince", "SENTSINCE", SK_DATE},
    {"savedbefore", "SAVEDBEFORE", SK_DATE},
    {"savedon", "SAVEDON", SK_DATE},
    {"savedsince", "SAVEDSINCE", SK_DATE},
    {"larger", "LARGER", SK_SIZE},
    {"smaller", "SMALLER", SK_SIZE},
    {"older", "OLDER", SK_NUM},
    {"younger", "YOUNGER", SK_NUM},
    {"modseq", "MODSEQ", SK_NUM},
    {"keyword", "KEYWORD", SK_ATOM},
    {"unkeyword", "UNKEYWORD", SK_ATOM},
    {"header", "HEADER", SK_HEADER},
    {"uid", "UID", SK_UIDSET},
    {"not", "NOT", SK_NOT},
    {"or", "OR", SK_OR},
};

enum tkind { T_WORD, T_OPEN, T_CLOSE };

struct token {
	enum tkind kind;
	size_t word;   /* the word it came from */
	int glued;     /* T_CLOSE: at the end of a word with text */
	const char *p; /* T_WORD: text (not NUL-terminated: len) */
	size_t len;
};

/* The search parser: words cut into tokens (parentheses may touch keys
 * and values: "(from", "bob)"), then keys parsed by recursive descent
 * into the arguments of UID SEARCH. */
struct sparse {
	struct ims_error *err;
	char *const *words;
	ims_search_set_fn *set_fn;
	void *set_ctx;
	struct token *t;
	size_t nt, i;
	int depth;
	struct ims_arg *out;
	size_t nout, cap;
	char (*store)[IMS_SEARCH_VALUE_MAX]; /* converted values (dates, sizes), one per output */
	char **owned;                        /* values cut from words, freed at the end */
	size_t nowned;
};

static ims_err sp_emit(struct sparse *sp, enum ims_arg_kind kind, const char *p, size_t len)
{
	if (sp->nout == sp->cap)
		return ims_error_set(sp->err, IMS_ERR_USAGE, "search: too many keys");
	sp->out[sp->nout++] = (struct ims_arg){kind, p, len};
	return IMS_OK;
}

/* A converted value kept for the command's lifetime. */
static char *sp_slot(struct sparse *sp)
{
	return sp->store[sp->nout];
}

/* A message set through the caller's grammar, canonical in the next
 * slot (*slot_r NULL when it does not fit: IMS_SEARCH_VALUE_MAX). */
static ims_err sp_set(struct sparse *sp, const char *word, int *seq_r, char **slot_r)
{
	struct ims_buf set;
	ims_err e;

	ims_buf_init(&set, 0);
	*seq_r = 0;
	e = sp->set_fn(sp->set_ctx, word, seq_r, &set, sp->err);
	*slot_r = NULL;
	if (e == IMS_OK && set.len < IMS_SEARCH_VALUE_MAX) {
		*slot_r = sp_slot(sp);
		memcpy(*slot_r, set.data, set.len);
		(*slot_r)[set.len] = '\0';
	}
	ims_buf_release(&set);
	return e;
}

static int all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static int is_atom(const char *p, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch <= 0x20 || ch >= 0x7f || strchr("(){%*\"\\]", ch) != NULL)
			return 0;
	}
	return 1;
}

/* The next value: a whole word, except that closing parentheses at its
 * end close open groups.  *v_r is NUL-terminated. */
static ims_err sp_value(struct sparse *sp, const char *key, const char **v_r, size_t *len_r)
{
	struct token *t;
	const char *w;
	size_t len, closes = 0;
	size_t wi;

	if (sp->i >= sp->nt)
		return ims_error_set(sp->err, IMS_ERR_USAGE, "search: %s needs a value", key);
	t = &sp->t[sp->i];
	wi = t->word;
	w = sp->words[wi];
	len = strlen(w);
	if (t->kind == T_WORD) {
		size_t j = sp->i + 1;

		while (j < sp->nt && sp->t[j].word == wi && sp->t[j].kind == T_CLOSE)
			j++, closes++;
		if (closes > (size_t)sp->depth)
			closes = (size_t)sp->depth;
		len -= closes;
	} else if (t->kind == T_CLOSE && !t->glued && sp->depth > 0) {
		return ims_error_set(sp->err, IMS_ERR_USAGE, "search: %s needs a value", key);
	}
	/* Skip the tokens of this word, but for the closes kept as closes. */
	while (sp->i < sp->nt && sp->t[sp->i].word == wi)
		sp->i++;
	sp->i -= closes;
	if (len != strlen(w)) {
		char *copy = strndup(w, len);

		if (copy == NULL)
			return ims_error_nomem(sp->err);
		sp->owned[sp->nowned++] = copy;
		w = copy;
	}
	*v_r = w;
	*len_r = len;
	return IMS_OK;
}

static ims_err sp_key(struct sparse *sp, int level);

static ims_err sp_keys_until_close(struct sparse *sp, int level)
{
	size_t before = sp->nout;
	ims_err e;

	for (;;) {
		if (sp->i >= sp->nt)
			return ims_error_set(sp->err, IMS_ERR_USAGE, "search: a '(' is not closed");
		if (sp->t[sp->i].kind == T_CLOSE) {
			sp->i++;
			if (sp->nout == before)
				return ims_error_set(sp->err, IMS_ERR_USAGE,
				                     "search: empty parentheses");
			sp->depth--;
			return sp_emit(sp, IMS_ARG_RAW, ")", 1);
		}
		e = sp_key(sp, level + 1);
		if (e != IMS_OK)
			return e;
	}
}

/* A message set where a key stands: UIDs ("UID 1:5"), or sequence
 * numbers after '#' ("1:5"). */
static ims_err sp_msgset(struct sparse *sp, const struct token *t, const char *word, size_t max)
{
	char *slot;
	int seq;
	ims_err e;

	if (t->len >= max - 1)
		return ims_error_set(sp->err, IMS_ERR_USAGE, "search: a message set too long");
	if ((e = sp_set(sp, word, &seq, &slot)) != IMS_OK)
		return e;
	if (slot == NULL)
		return ims_error_set(sp->err, IMS_ERR_USAGE, "search: a message set too long");
	if (!seq && (e = sp_emit(sp, IMS_ARG_RAW, "UID", 0)) != IMS_OK)
		return e;
	/* The set moves to the slot of the key it will be. */
	memmove(sp_slot(sp), slot, strlen(slot) + 1);
	return sp_emit(sp, IMS_ARG_RAW, sp_slot(sp), 0);
}

/* A value converted for IMAP: a date, a size or a number. */
static ims_err sp_converted(struct sparse *sp, const struct skey *k)
{
	const char *v;
	char *slot;
	size_t len;
	ims_err e;

	if ((e = sp_value(sp, k->name, &v, &len)) != IMS_OK)
		return e;
	slot = sp_slot(sp);
	if (k->kind == SK_DATE && ims_date_imap(v, slot, IMS_SEARCH_VALUE_MAX) != 0)
		return ims_error_set(sp->err, IMS_ERR_USAGE,
		                     "search: %s: '%.40s' is not a date (2026-01-31 or "
		                     "31-Jan-2026)",
		                     k->name, v);
	if (k->kind == SK_SIZE && ims_size_parse(v, slot, IMS_SEARCH_VALUE_MAX) != 0)
		return ims_error_set(sp->err, IMS_ERR_USAGE,
		                     "search: %s: '%.40s' is not a size (12345, 10k, 1M)", k->name,
		                     v);
	if (k->kind == SK_NUM) {
		if (!all_digits(v) || len > 19)
			return ims_error_set(sp->err, IMS_ERR_USAGE,
			                     "search: %s: '%.40s' is not a number", k->name, v);
		snprintf(slot, IMS_SEARCH_VALUE_MAX, "%s", v);
	}
	return sp_emit(sp, IMS_ARG_RAW, slot, 0);
}

/* The arguments of key k, by its kind. */
static ims_err sp_args(struct sparse *sp, const struct skey *k, int level)
{
	const char *v, *v2;
	char *slot;
	size_t len, len2;
	int seq;
	ims_err e;

	switch (k->kind) {
	case SK_NONE: return IMS_OK;
	case SK_NOT: return sp_key(sp, level + 1);
	case SK_OR:
		if ((e = sp_key(sp, level + 1)) != IMS_OK)
			return e;
		return sp_key(sp, level + 1);
	case SK_STR:
		if ((e = sp_value(sp, k->name, &v, &len)) != IMS_OK)
			return e;
		return sp_emit(sp, IMS_ARG_STRING, v, len);
	case SK_HEADER:
		if ((e = sp_value(sp, k->name, &v, &len)) != IMS_OK)
			return e;
		if ((e = sp_value(sp, k->name, &v2, &len2)) != IMS_OK)
			return e;
		if ((e = sp_emit(sp, IMS_ARG_STRING, v, len)) != IMS_OK)
			return e;
		return sp_emit(sp, IMS_ARG_STRING, v2, len2);
	case SK_DATE:
	case SK_SIZE:
	case SK_NUM: return sp_converted(sp, k);
	case SK_ATOM:
		if ((e = sp_value(sp, k->name, &v, &len)) != IMS_OK)
			return e;
		if (!is_atom(v, len) || v[0] == '\\')
			return ims_error_set(sp->err, IMS_ERR_USAGE,
			                     "search: %s: '%.40s' is not a keyword", k->name, v);
		return sp_emit(sp, IMS_ARG_RAW, v, 0);
	case SK_UIDSET:
		if ((e = sp_value(sp, k->name, &v, &len)) != IMS_OK)
			return e;
		if (v[0] == '#')
			return ims_error_set(sp->err, IMS_ERR_USAGE,
			                     "search: uid takes UIDs, not '#'");
		if ((e = sp_set(sp, v, &seq, &slot)) != IMS_OK)
			return e;
		/* Too long for a slot: valid, sent as written. */
		return sp_emit(sp, IMS_ARG_RAW, slot != NULL ? slot : v, 0);
	}
	return IMS_OK;
}

static ims_err sp_key(struct sparse *sp, int level)
{
	const struct token *t;
	const struct skey *k = NULL;
	char word[64];
	size_t i, len;
	ims_err e;

	if (level > 100)
		return ims_error_set(sp->err, IMS_ERR_USAGE, "search: nested too deeply");
	if (sp->i >= sp->nt)
		return ims_error_set(sp->err, IMS_ERR_USAGE, "search: a search key is missing");
	t = &sp->t[sp->i];
	if (t->kind == T_OPEN) {
		sp->i++;
		sp->depth++;
		if ((e = sp_emit(sp, IMS_ARG_RAW, "(", 1)) != IMS_OK)
			return e;
		return sp_keys_until_close(sp, level);
	}
	if (t->kind == T_CLOSE)
		return ims_error_set(sp->err, IMS_ERR_USAGE, "search: a ')' without '('");
	len = t->len < sizeof(word) ? t->len : sizeof(word) - 1;
	memcpy(word, t->p, len);
	word[len] = '\0';
	sp->i++;
	if (word[0] == '#' || (word[0] >= '0' && word[0] <= '9') || word[0] == '*')
		return sp_msgset(sp, t, word, sizeof(word));
	for (i = 0; i < sizeof(skeys) / sizeof(skeys[0]); i++)
		if (strcasecmp(word, skeys[i].name) == 0) {
			k = &skeys[i];
			break;
		}
	if (k == NULL || t->len >= sizeof(word))
		return ims_error_set(sp->err, IMS_ERR_USAGE, "search: unknown search key '%.*s'",
		                     (int)(t->len > 40 ? 40 : t->len), t->p);
	if ((e = sp_emit(sp, IMS_ARG_RAW, k->imap, 0)) != IMS_OK)
		return e;
	return sp_args(sp, k, level);
}

/* Cut the words into tokens. */
static void sp_tokenize(struct sparse *sp, size_t n)
{
	size_t wi;

	for (wi = 0; wi < n; wi++) {
		const char *w = sp->words[wi];
		size_t len = strlen(w), a = 0, b = len, k;

		while (a < len && w[a] == '(')
			sp->t[sp->nt++] = (struct token){T_OPEN, wi, 0, w + a++, 1};
		while (b > a && w[b - 1] == ')')
			b--;
		if (b > a)
			sp->t[sp->nt++] = (struct token){T_WORD, wi, 0, w + a, b - a};
		for (k = b; k < len; k++)
			sp->t[sp->nt++] = (struct token){T_CLOSE, wi, b > a, w + k, 1};
		if (len == 0)
			sp->t[sp->nt++] = (struct token){T_WORD, wi, 0, w, 0};
	}
}

ims_err ims_search_compile(struct ims_search_prog *prog, char *const *words, size_t n,
                           ims_search_set_fn *set_fn, void *set_ctx, struct ims_error *err)
{
	struct sparse sp;
	size_t chars = 0, i;
	ims_err e;

	memset(&sp, 0, sizeof(sp));
	sp.err = err;
	sp.words = words;
	sp.set_fn = set_fn;
	sp.set_ctx = set_ctx;
	for (i = 0; i < n; i++)
		chars += strlen(words[i]) + 2;
	sp.cap = chars + 8;
	sp.t = calloc(chars + 8, sizeof(*sp.t));
	sp.out = calloc(sp.cap, sizeof(*sp.out));
	sp.store = calloc(sp.cap + 1, sizeof(*sp.store));
	sp.owned = calloc(n + 1, sizeof(*sp.owned));
	prog->keys = sp.out;
	prog->n = 0;
	prog->store_ = sp.store;
	prog->owned_ = sp.owned;
	if (sp.t == NULL || sp.out == NULL || sp.store == NULL || sp.owned == NULL) {
		free(sp.t);
		return ims_error_nomem(err);
	}
	sp_tokenize(&sp, n);
	e = IMS_OK;
	while (e == IMS_OK && sp.i < sp.nt)
		e = sp_key(&sp, 0);
	if (e == IMS_OK && sp.nout == 0)
		e = ims_error_set(err, IMS_ERR_USAGE, "search: no search keys");
	prog->n = e == IMS_OK ? sp.nout : 0;
	prog->nowned_ = sp.nowned;
	free(sp.t);
	return e;
}

void ims_search_prog_init(struct ims_search_prog *prog)
{
	memset(prog, 0, sizeof(*prog));
}

void ims_search_prog_release(struct ims_search_prog *prog)
{
	size_t i;

	for (i = 0; i < prog->nowned_; i++)
		free(prog->owned_[i]);
	free(prog->owned_);
	free(prog->keys);
	free(prog->store_);
	ims_search_prog_init(prog);
}
