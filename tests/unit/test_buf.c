/* The capped buffer, the error context and the memory stream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imapsh/buf.h"
#include "imapsh/stream.h"

static void test_append_cap(void **state)
{
	struct ims_buf b;
	char *p;
	size_t len;

	(void)state;
	ims_buf_init(&b, 8);
	assert_int_equal(ims_buf_append(&b, "abcd", 4), IMS_OK);
	assert_int_equal(ims_buf_puts(&b, "efgh"), IMS_OK);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "abcdefgh");
	assert_int_equal(ims_buf_putc(&b, 'x'), IMS_ERR_LIMIT);
	assert_int_equal(b.len, 8);
	assert_int_equal(ims_buf_reserve(&b, SIZE_MAX), IMS_ERR_LIMIT);
	ims_buf_consume(&b, 3);
	assert_string_equal(b.data, "defgh");
	assert_int_equal(ims_buf_printf(&b, "%d", 123), IMS_OK);
	assert_string_equal(b.data, "defgh123");
	p = ims_buf_take(&b, &len);
	assert_int_equal(len, 8);
	assert_string_equal(p, "defgh123");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(p);
	p = ims_buf_take(&b, &len);
	assert_non_null(p);
	assert_int_equal(len, 0);
	assert_string_equal(p, "");
	free(p);
	ims_buf_release(&b);
}

static void test_error(void **state)
{
	struct ims_error e;
	char big[2000];

	(void)state;
	ims_error_init(&e);
	assert_int_equal(e.code, IMS_OK);
	assert_int_equal(ims_error_set(&e, IMS_ERR_NET, "connect %s: %s", "a", "refused"),
	                 IMS_ERR_NET);
	assert_string_equal(e.msg, "connect a: refused");
	ims_error_prefix(&e, "check %d", 1);
	assert_string_equal(e.msg, "check 1: connect a: refused");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ims_error_set(&e, IMS_ERR_TLS, "%s", big);
	assert_int_equal(strlen(e.msg), IMS_ERROR_MAX - 1);
	ims_error_prefix(&e, "p");
	assert_int_equal(strlen(e.msg), IMS_ERROR_MAX - 1);
	assert_memory_equal(e.msg, "p: xxx", 6);
}

static void test_memory_stream(void **state)
{
	struct ims_buf out;
	struct ims_stream *s;
	char buf[16];
	size_t got;

	(void)state;
	ims_buf_init(&out, 0);
	s = ims_stream_memory_new("hello", 5, 2, &out);
	assert_non_null(s);
	assert_int_equal(ims_stream_read(s, buf, sizeof(buf), &got), IMS_OK);
	assert_int_equal(got, 2);
	assert_memory_equal(buf, "he", 2);
	assert_int_equal(ims_stream_pending(s), 3);
	assert_int_equal(ims_stream_read(s, buf, 1, &got), IMS_OK);
	assert_int_equal(got, 1);
	assert_int_equal(ims_stream_read(s, buf, sizeof(buf), &got), IMS_OK);
	assert_int_equal(got, 2);
	assert_int_equal(ims_stream_read(s, buf, sizeof(buf), &got), IMS_OK);
	assert_int_equal(got, 0);
	assert_int_equal(ims_stream_write(s, "abc", 3), IMS_OK);
	assert_int_equal(s->bytes_in, 5);
	assert_int_equal(s->bytes_out, 3);
	assert_string_equal(out.data, "abc");
	/* an expired deadline fails reads */
	s->deadline_ms = ims_now_ms() - 1;
	assert_int_equal(ims_stream_read(s, buf, 1, &got), IMS_ERR_NET);
	ims_stream_close(&s);
	assert_null(s);
	ims_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_append_cap),
	    cmocka_unit_test(test_error),
	    cmocka_unit_test(test_memory_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
