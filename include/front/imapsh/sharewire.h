/* The wire format of --share's Unix socket (src/cli/share.c): what a
 * one-shot sends the master that holds the session, and what comes back.
 * Pure: no I/O; the descriptors (the client's cwd, stdin, stdout,
 * stderr) travel beside the request as SCM_RIGHTS, not in it.
 *
 * A request, one SOCK_SEQPACKET message:
 *   "IMSH" 0x01 KIND ARGC(2 bytes, big-endian)
 *   ARGC times: LEN(4 bytes, big-endian) and LEN bytes of the word (no NUL)
 * KIND 'R' runs the words as a command line (argv without argv[0]),
 * 'S' stops the master.  Nothing may follow the last word; the whole
 * message is at most IMS_CAP_SHARE_MSG bytes and IMS_CAP_SHARE_ARGS words.
 * No environment and no secret ever travels: only the words typed.
 *
 * A reply, one message of 8 bytes: "IMSH" 0x01 KIND CODE 0x00, KIND 'D'
 * (done: CODE is the exit status) or 'G' (the session is gone: run the
 * command yourself).
 *
 * Part of the front-end library (src/front/): pure, uses base. */
#ifndef IMAPSH_SHAREWIRE_H
#define IMAPSH_SHAREWIRE_H

#include <stddef.h>

#include "imapsh/buf.h"
#include "imapsh/error.h"

enum ims_share_kind {
	IMS_SHARE_RUN = 'R',
	IMS_SHARE_STOP = 'S',
	IMS_SHARE_DONE = 'D',
	IMS_SHARE_GONE = 'G'
};

#define IMS_SHARE_REPLY_LEN 8

struct ims_share_req {
	int kind;    /* IMS_SHARE_RUN or IMS_SHARE_STOP */
	size_t argc; /* words */
	char **argv; /* argc words, argv[argc] NULL; owned */
	char *store; /* the words' bytes; owned */
};

/* The request of kind with argv[0..argc) appended to out.  IMS_ERR_LIMIT
 * when it would exceed the caps, IMS_ERR_USAGE for a bad kind. */
ims_err ims_share_req_encode(int kind, size_t argc, const char *const *argv,
                             struct ims_buf *out) IMS_MUST_CHECK;
/* Parse one request message; on IMS_OK r owns its words (release it).
 * IMS_ERR_PROTOCOL for anything that is not exactly a request,
 * IMS_ERR_NOMEM when out of memory. */
ims_err ims_share_req_parse(const void *p, size_t n, struct ims_share_req *r) IMS_MUST_CHECK;
void ims_share_req_release(struct ims_share_req *r);

/* A reply into out[IMS_SHARE_REPLY_LEN]. */
void ims_share_reply_encode(int kind, int code, unsigned char out[IMS_SHARE_REPLY_LEN]);
/* Parse a reply: IMS_OK with *kind_r and *code_r (0..255), or
 * IMS_ERR_PROTOCOL. */
ims_err ims_share_reply_parse(const void *p, size_t n, int *kind_r, int *code_r) IMS_MUST_CHECK;

/* A duration typed by the user: seconds ("90") or a number with a unit
 * s, m, h or d ("30s", "5m", "1h", "1d"), from 1 second to 7 days.  0 with
 * *secs_r, or -1 when it is not one. */
int ims_share_duration_parse(const char *s, unsigned *secs_r);

#endif
