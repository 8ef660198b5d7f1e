/* The COMPRESS=DEFLATE stream (compress.h) over memory streams, and
 * ims_session_compress() switching a session over at the right byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "imapsh/compress.h"
#include "imapsh/session.h"
#include "imapsh/stream.h"

/* Raw deflate from Python's zlib (compressobj(wbits=-15), Z_SYNC_FLUSH) of
 * "* OK [COMPRESSIONACTIVE] deflate from python\r\n". */
static const char PY_SYNC[] =
    "\xd2\x52\xf0\xf7\x56\x88\x76\xf6\xf7\x0d\x08\x72\x0d\x0e\xf6\xf4\xf7\x73\x74\x0e\xf1\x0c"
    "\x73\x8d\x55\x48\x49\x4d\xcb\x49\x2c\x49\x55\x48\x2b\xca\xcf\x55\x28\xa8\x2c\xc9\xc8\xcf"
    "\xe3\xe5\x02\x00\x00\x00\xff\xff";
static const char PY_SYNC_TEXT[] = "* OK [COMPRESSIONACTIVE] deflate from python\r\n";
/* The same with Z_FINISH (a final block) of "hello hello hello hello\r\n". */
static const char PY_FINISH[] = "\xcb\x48\xcd\xc9\xc9\x57\xc8\x40\x27\x79\xb9\x00";
static const char PY_FINISH_TEXT[] = "hello hello hello hello\r\n";

/* A compressing stream that reads from in[0..n) (chunk bytes a read at
 * most, 0 = any) and writes to out (may be NULL). */
static struct ims_stream *zmem(const void *in, size_t n, size_t chunk, struct ims_buf *out,
                               const void *initial, size_t n_initial)
{
	struct ims_stream *m = ims_stream_memory_new(in, n, chunk, out);
	struct ims_stream *z;
	struct ims_error e;

	assert_non_null(m);
	z = ims_stream_compress_new(m, initial, n_initial, &e);
	assert_non_null(z);
	return z;
}

/* Compress each of parts (one write each) into out, as a peer would. */
static void compress_parts(const char *const *parts, const size_t *lens, size_t n,
                           struct ims_buf *out)
{
	struct ims_stream *z = zmem("", 0, 0, out, NULL, 0);
	size_t i;

	for (i = 0; i < n; i++)
		assert_int_equal(ims_stream_write(z, parts[i], lens[i]), IMS_OK);
	ims_stream_close(&z);
}

static void compress_text(const char *text, struct ims_buf *out)
{
	size_t len = strlen(text);

	compress_parts(&text, &len, 1, out);
}

/* Read everything (reads of at most step bytes) into out; the error, or
 * IMS_OK at EOF. */
static ims_err read_all(struct ims_stream *z, size_t step, struct ims_buf *out)
{
	char buf[65536];

	assert_true(step <= sizeof(buf));
	for (;;) {
		size_t got;
		ims_err e = ims_stream_read(z, buf, step, &got);

		if (e != IMS_OK)
			return e;
		assert_true(got <= step);
		if (got == 0)
			return IMS_OK;
		assert_int_equal(ims_buf_append(out, buf, got), IMS_OK);
	}
}

static void test_reads_python_deflate(void **state)
{
	struct ims_stream *z;
	struct ims_buf out;
	size_t got;
	char c;

	(void)state;
	ims_buf_init(&out, 0);
	z = zmem(PY_SYNC, sizeof(PY_SYNC) - 1, 5, NULL, NULL, 0);
	assert_int_equal(read_all(z, 3, &out), IMS_OK);
	assert_int_equal(out.len, strlen(PY_SYNC_TEXT));
	assert_memory_equal(out.data, PY_SYNC_TEXT, out.len);
	assert_int_equal(z->bytes_in, strlen(PY_SYNC_TEXT));
	assert_int_equal(ims_stream_compress_inner(z)->bytes_in, sizeof(PY_SYNC) - 1);
	assert_int_equal(ims_stream_read(z, &c, 1, &got), IMS_OK);
	assert_int_equal(got, 0);
	ims_stream_close(&z);
	assert_null(z);
	assert_null(ims_stream_compress_inner(NULL));

	/* a final block, then the connection closes: all of it, then EOF */
	ims_buf_reset(&out);
	z = zmem(PY_FINISH, sizeof(PY_FINISH) - 1, 0, NULL, NULL, 0);
	assert_int_equal(read_all(z, 100, &out), IMS_OK);
	assert_int_equal(out.len, strlen(PY_FINISH_TEXT));
	assert_memory_equal(out.data, PY_FINISH_TEXT, out.len);
	ims_stream_close(&z);
	ims_buf_release(&out);
}

static void test_round_trip(void **state)
{
	static char bin[200000];
	const char *parts[4] = {"A1 NOOP\r\n", "", bin, "A2 LOGOUT\r\n"};
	size_t lens[4] = {9, 0, sizeof(bin), 11};
	struct ims_buf wire, back, expect, one;
	struct ims_stream *z;
	size_t i;
	uint32_t x = 12345;

	(void)state;
	for (i = 0; i < sizeof(bin); i++) {
		x = x * 1103515245u + 12345u;
		bin[i] = i % 1000 < 500 ? (char)(x >> 24) : (char)('a' + i % 7);
	}
	ims_buf_init(&wire, 0);
	ims_buf_init(&back, 0);
	ims_buf_init(&expect, 0);
	ims_buf_init(&one, 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(ims_buf_append(&expect, parts[i], lens[i]), IMS_OK);

	/* what goes out: raw deflate (no zlib header), each write ending in a
	 * sync flush so the peer can read it whole at once */
	z = zmem("", 0, 0, &wire, NULL, 0);
	assert_int_equal(ims_stream_write(z, parts[0], lens[0]), IMS_OK);
	assert_true(wire.len > 4);
	assert_false((unsigned char)wire.data[0] == 0x78);
	assert_memory_equal(wire.data + wire.len - 4, "\x00\x00\xff\xff", 4);
	{
		struct ims_stream *r = zmem(wire.data, wire.len, 0, NULL, NULL, 0);

		assert_int_equal(read_all(r, 4096, &one), IMS_OK);
		assert_int_equal(one.len, 9);
		assert_memory_equal(one.data, "A1 NOOP\r\n", 9);
		ims_stream_close(&r);
	}
	for (i = 1; i < 4; i++) {
		assert_int_equal(ims_stream_write(z, parts[i], lens[i]), IMS_OK);
		assert_memory_equal(wire.data + wire.len - 4, "\x00\x00\xff\xff", 4);
	}
	assert_int_equal(z->bytes_out, expect.len);
	assert_int_equal(ims_stream_compress_inner(z)->bytes_out, wire.len);
	assert_true(wire.len < expect.len); /* half of bin is letters */
	ims_stream_close(&z);

	/* and back, in odd-sized reads over odd-sized arrivals */
	z = zmem(wire.data, wire.len, 777, NULL, NULL, 0);
	assert_int_equal(read_all(z, 1000, &back), IMS_OK);
	assert_int_equal(back.len, expect.len);
	assert_memory_equal(back.data, expect.data, expect.len);
	assert_int_equal(z->bytes_in, expect.len);
	ims_stream_close(&z);

	ims_buf_release(&wire);
	ims_buf_release(&back);
	ims_buf_release(&expect);
	ims_buf_release(&one);
}

static void assert_corrupt(struct ims_stream *z)
{
	char buf[64];
	size_t got = 99;

	assert_int_equal(ims_stream_read(z, buf, sizeof(buf), &got), IMS_ERR_PROTOCOL);
	assert_int_equal(got, 0);
	assert_int_equal(z->err.code, IMS_ERR_PROTOCOL);
	assert_non_null(strstr(z->err.msg, "the server's compressed stream is corrupt"));
	/* and stays so: reads, writes, and pending says a read will not block */
	assert_int_equal(ims_stream_read(z, buf, sizeof(buf), &got), IMS_ERR_PROTOCOL);
	assert_int_equal(ims_stream_write(z, "x", 1), IMS_ERR_PROTOCOL);
	assert_int_equal(ims_stream_pending(z), 1);
}

static void test_corrupt(void **state)
{
	struct ims_stream *z;
	struct ims_buf in, out;
	char buf[256];
	size_t got;

	(void)state;
	/* 0xff: block type 3, which does not exist */
	z = zmem("\xff\xff\xff\xff garbage", 12, 0, NULL, NULL, 0);
	assert_corrupt(z);
	assert_non_null(strstr(z->err.msg, "invalid block type"));
	ims_stream_close(&z);

	/* good data, then garbage: the good part is read first */
	ims_buf_init(&in, 0);
	ims_buf_init(&out, 0);
	assert_int_equal(ims_buf_append(&in, PY_SYNC, sizeof(PY_SYNC) - 1), IMS_OK);
	assert_int_equal(ims_buf_append(&in, "\xff\xfe\xfd", 3), IMS_OK);
	z = zmem(in.data, in.len, 0, NULL, NULL, 0);
	assert_int_equal(ims_stream_read(z, buf, sizeof(buf), &got), IMS_OK);
	assert_int_equal(got, strlen(PY_SYNC_TEXT));
	assert_memory_equal(buf, PY_SYNC_TEXT, got);
	assert_corrupt(z);
	ims_stream_close(&z);

	/* bytes after the final block */
	ims_buf_reset(&in);
	assert_int_equal(ims_buf_append(&in, PY_FINISH, sizeof(PY_FINISH) - 1), IMS_OK);
	assert_int_equal(ims_buf_append(&in, "more", 4), IMS_OK);
	z = zmem(in.data, in.len, 0, NULL, NULL, 0);
	assert_int_equal(ims_stream_read(z, buf, sizeof(buf), &got), IMS_OK);
	assert_int_equal(got, strlen(PY_FINISH_TEXT));
	assert_corrupt(z);
	assert_non_null(strstr(z->err.msg, "after its final block"));
	ims_stream_close(&z);

	/* a stream cut short is not corrupt: the connection simply ended */
	z = zmem(PY_SYNC, 20, 0, NULL, NULL, 0);
	assert_int_equal(read_all(z, 64, &out), IMS_OK);
	assert_true(out.len < strlen(PY_SYNC_TEXT));
	assert_memory_equal(out.data, PY_SYNC_TEXT, out.len);
	ims_stream_close(&z);
	ims_buf_release(&in);
	ims_buf_release(&out);
}

static long max_rss_kb(void)
{
	struct rusage ru;

	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

/* 100 MB of zeros deflate to about 100 KB.  Read back 16 KB at a time
 * they must come out in bounded pieces without the process growing. */
static void test_zip_bomb_bounded(void **state)
{
	const size_t total = 100u * 1024 * 1024, piece = 1024 * 1024;
	static char zeros[1024 * 1024], buf[16384];
	struct ims_buf wire;
	struct ims_stream *z;
	size_t done = 0, got, reads = 0;
	long before;

	(void)state;
	ims_buf_init(&wire, 0);
	z = zmem("", 0, 0, &wire, NULL, 0);
	while (done < total) {
		assert_int_equal(ims_stream_write(z, zeros, piece), IMS_OK);
		done += piece;
	}
	ims_stream_close(&z);
	assert_true(wire.len < 200 * 1024);

	before = max_rss_kb();
	z = zmem(wire.data, wire.len, 0, NULL, NULL, 0);
	done = 0;
	for (;;) {
		assert_int_equal(ims_stream_read(z, buf, sizeof(buf), &got), IMS_OK);
		if (got == 0)
			break;
		assert_true(got <= sizeof(buf));
		assert_memory_equal(buf, zeros, got);
		done += got;
		reads++;
		/* what is buffered is bounded too (now and then: pending()
		 * inflates ahead, and the next read returns just that) */
		if (reads % 64 == 0)
			assert_true(ims_stream_pending(z) <= 4096 + wire.len);
	}
	assert_int_equal(done, total);
	assert_true(reads >= total / sizeof(buf));
	assert_true(reads < total / sizeof(buf) * 2);
	assert_int_equal(z->bytes_in, total);
	ims_stream_close(&z);
	/* a stream that inflated everything at once would have grown by 100 MB */
	assert_true(max_rss_kb() - before < 16 * 1024);
	ims_buf_release(&wire);
}

static void test_initial_input_first(void **state)
{
	static const char text[] = "T1 OK done\r\n* 1 EXISTS\r\n* 2 EXISTS\r\nT2 OK noop\r\n";
	static char big[100000];
	struct ims_buf wire, out;
	struct ims_stream *z;
	size_t k, i, got;
	char buf[256];
	uint32_t x = 99;

	(void)state;
	ims_buf_init(&wire, 0);
	ims_buf_init(&out, 0);
	compress_text(text, &wire);
	/* any split between the pushed-back bytes and the rest */
	for (k = 0; k <= wire.len; k++) {
		ims_buf_reset(&out);
		z = zmem(wire.data + k, wire.len - k, 3, NULL, wire.data, k);
		assert_int_equal(read_all(z, 5, &out), IMS_OK);
		assert_int_equal(out.len, strlen(text));
		assert_memory_equal(out.data, text, out.len);
		ims_stream_close(&z);
	}

	/* the pushed-back bytes come before anything of inner's (here
	 * garbage, which would fail the read) */
	z = zmem("\xff\xff\xff", 3, 0, NULL, wire.data, wire.len);
	assert_true(ims_stream_pending(z) > 0); /* inflated, ready */
	ims_buf_reset(&out);
	while (out.len < strlen(text)) {
		assert_int_equal(ims_stream_read(z, buf, 7, &got), IMS_OK);
		assert_true(got > 0);
		assert_int_equal(ims_buf_append(&out, buf, got), IMS_OK);
	}
	assert_memory_equal(out.data, text, strlen(text));
	assert_corrupt(z);
	ims_stream_close(&z);

	/* pending: nothing buffered anywhere is 0 */
	z = zmem("", 0, 0, NULL, PY_SYNC, sizeof(PY_SYNC) - 1);
	assert_int_equal(ims_stream_pending(z), strlen(PY_SYNC_TEXT));
	assert_int_equal(ims_stream_read(z, buf, sizeof(buf), &got), IMS_OK);
	assert_int_equal(got, strlen(PY_SYNC_TEXT));
	assert_int_equal(ims_stream_pending(z), 0);
	ims_stream_close(&z);

	/* pushed-back bytes larger than the stream's input buffer */
	for (i = 0; i < sizeof(big); i++) {
		x = x * 1103515245u + 12345u;
		big[i] = (char)(x >> 24);
	}
	ims_buf_reset(&wire);
	{
		const char *p = big;
		size_t n = sizeof(big);

		compress_parts(&p, &n, 1, &wire);
	}
	assert_true(wire.len > 16384);
	z = zmem("", 0, 0, NULL, wire.data, wire.len);
	ims_buf_reset(&out);
	assert_int_equal(read_all(z, 4096, &out), IMS_OK);
	assert_int_equal(out.len, sizeof(big));
	assert_memory_equal(out.data, big, sizeof(big));
	ims_stream_close(&z);
	ims_buf_release(&wire);
	ims_buf_release(&out);
}

static void test_limits_handed_down(void **state)
{
	struct ims_buf wire;
	struct ims_stream *z, *inner;
	char buf[64];
	size_t got;
	int64_t when = ims_now_ms() + 100000;

	(void)state;
	ims_buf_init(&wire, 0);
	compress_text("x\r\n", &wire);
	z = zmem(wire.data, wire.len, 0, NULL, NULL, 0);
	inner = ims_stream_compress_inner(z);
	assert_non_null(inner);
	z->timeout_ms = 1234;
	z->deadline_ms = when;
	assert_int_equal(ims_stream_read(z, buf, sizeof(buf), &got), IMS_OK);
	assert_int_equal(inner->timeout_ms, 1234);
	assert_int_equal(inner->deadline_ms, when);
	z->deadline_ms = ims_now_ms() - 1;
	assert_int_equal(ims_stream_read(z, buf, sizeof(buf), &got), IMS_ERR_NET);
	assert_non_null(strstr(z->err.msg, "timed out"));
	/* a timeout is not corruption: the stream goes on */
	z->deadline_ms = 0;
	assert_int_equal(ims_stream_read(z, buf, sizeof(buf), &got), IMS_OK);
	assert_int_equal(got, 0);
	ims_stream_close(&z);
	ims_buf_release(&wire);
}

/* ---- the session ---- */

struct sess {
	struct ims_session *s;
	struct ims_buf in, out, trace;
};

static void on_trace(void *ctx, enum ims_trace_dir dir, const char *line, size_t len)
{
	struct ims_buf *t = ctx;

	(void)dir;
	assert_int_equal(ims_buf_append(t, line, len), IMS_OK);
	assert_int_equal(ims_buf_putc(t, '\n'), IMS_OK);
}

/* A session (tags T1, T2, ...) reading plain then deflated, started. */
static void sess_start(struct sess *t, const char *plain, const char *deflated, size_t chunk,
                       ims_err want)
{
	struct ims_session_opts o;
	struct ims_error e;
	struct ims_stream *m;

	ims_buf_init(&t->in, 0);
	ims_buf_init(&t->out, 0);
	ims_buf_init(&t->trace, 0);
	assert_int_equal(ims_buf_puts(&t->in, plain), IMS_OK);
	if (deflated != NULL)
		compress_text(deflated, &t->in);
	m = ims_stream_memory_new(t->in.data, t->in.len, chunk, &t->out);
	assert_non_null(m);
	ims_session_opts_init(&o);
	o.insecure_test_tag_prefix = "T";
	o.hooks.trace = on_trace;
	o.hooks.ctx = &t->trace;
	t->s = ims_session_new(m, &o);
	assert_non_null(t->s);
	assert_int_equal(ims_session_start(t->s, NULL, &e), want);
}

static void sess_end(struct sess *t)
{
	ims_session_free(&t->s);
	ims_buf_release(&t->in);
	ims_buf_release(&t->out);
	ims_buf_release(&t->trace);
}

#define GREET_Z "* PREAUTH [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] hi\r\n"

static void test_session_switches_at_the_ok(void **state)
{
	/* chunk 0: the OK line and the compressed bytes after it arrive in
	 * one read, so the session must hand those over; chunk 1: none. */
	size_t chunks[2] = {0, 1}, i;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct sess t;
		struct ims_error e;
		struct ims_buf sent;
		struct ims_stream *z;
		const char *cmd = "T1 COMPRESS DEFLATE\r\n";

		sess_start(&t, GREET_Z "T1 OK deflate on\r\n", "* 4 EXISTS\r\nT2 OK noop done\r\n",
		           chunks[i], IMS_OK);
		assert_int_equal(ims_session_compressed(t.s), 0);
		assert_int_equal(ims_session_compress(t.s, &e), IMS_OK);
		assert_int_equal(ims_session_compressed(t.s), 1);
		assert_non_null(ims_stream_compress_inner(ims_session_stream(t.s)));
		assert_non_null(strstr(t.trace.data, "compression: deflate on"));
		assert_int_equal(ims_session_noop(t.s, &e), IMS_OK);
		assert_non_null(strstr(t.trace.data, "* 4 EXISTS"));
		/* a second COMPRESS is refused without asking the server */
		assert_int_equal(ims_session_compress(t.s, &e), IMS_ERR_USAGE);

		/* what the client sent: COMPRESS in plain, then NOOP deflated */
		assert_true(t.out.len > strlen(cmd));
		assert_memory_equal(t.out.data, cmd, strlen(cmd));
		ims_buf_init(&sent, 0);
		z = zmem(t.out.data + strlen(cmd), t.out.len - strlen(cmd), 0, NULL, NULL, 0);
		assert_int_equal(read_all(z, 100, &sent), IMS_OK);
		assert_int_equal(sent.len, 9);
		assert_memory_equal(sent.data, "T2 NOOP\r\n", 9);
		ims_stream_close(&z);
		ims_buf_release(&sent);
		sess_end(&t);
	}
}

static void test_session_refusals(void **state)
{
	struct sess t;
	struct ims_error e;

	(void)state;
	/* not offered: nothing is sent */
	sess_start(&t, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n", NULL, 0, IMS_OK);
	assert_int_equal(ims_session_compress(t.s, &e), IMS_ERR_NO);
	assert_non_null(strstr(e.msg, "does not offer COMPRESS=DEFLATE"));
	assert_int_equal(t.out.len, 0);
	sess_end(&t);

	/* before login: nothing is sent */
	sess_start(&t, "* OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] hi\r\n", NULL, 0, IMS_OK);
	assert_int_equal(ims_session_compress(t.s, &e), IMS_ERR_USAGE);
	assert_int_equal(t.out.len, 0);
	sess_end(&t);

	/* the server says NO: the session goes on uncompressed */
	sess_start(&t, GREET_Z "T1 NO [COMPRESSIONACTIVE] TLS compresses already\r\nT2 OK noop\r\n",
	           NULL, 0, IMS_OK);
	assert_int_equal(ims_session_compress(t.s, &e), IMS_ERR_NO);
	assert_non_null(strstr(e.msg, "compress"));
	assert_non_null(strstr(e.msg, "TLS compresses already"));
	assert_int_equal(ims_session_compressed(t.s), 0);
	assert_null(ims_stream_compress_inner(ims_session_stream(t.s)));
	assert_int_equal(ims_session_noop(t.s, &e), IMS_OK);
	assert_int_equal(t.out.len, strlen("T1 COMPRESS DEFLATE\r\nT2 NOOP\r\n"));
	assert_memory_equal(t.out.data, "T1 COMPRESS DEFLATE\r\nT2 NOOP\r\n", t.out.len);
	sess_end(&t);
}

static void test_session_garbage_after_ok(void **state)
{
	struct sess t;
	struct ims_error e;

	(void)state;
	sess_start(&t, GREET_Z "T1 OK deflate on\r\nT2 OK this is not deflate\r\n", NULL, 0,
	           IMS_OK);
	assert_int_equal(ims_session_compress(t.s, &e), IMS_OK);
	assert_int_equal(ims_session_noop(t.s, &e), IMS_ERR_PROTOCOL);
	assert_non_null(strstr(e.msg, "the server's compressed stream is corrupt"));
	assert_int_equal(ims_session_broken(t.s, &e), IMS_ERR_PROTOCOL);
	sess_end(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reads_python_deflate),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_corrupt),
	    cmocka_unit_test(test_zip_bomb_bounded),
	    cmocka_unit_test(test_initial_input_first),
	    cmocka_unit_test(test_limits_handed_down),
	    cmocka_unit_test(test_session_switches_at_the_ok),
	    cmocka_unit_test(test_session_refusals),
	    cmocka_unit_test(test_session_garbage_after_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
