/* Every cap on memory that input can grow, in one table (as curl's
 * dynbuf.h keeps its DYN_* limits side by side), so that a reader sees
 * every limit at once.  A buffer the server or a file can grow takes its
 * cap from here.  ims_buf_init(b, 0) sets no cap of its own: it is meant
 * for a buffer that holds only what is bounded already (a transform of
 * input capped here, or text the program writes itself).
 *
 * Reaching a cap is IMS_ERR_LIMIT with words naming what was too big,
 * never a cut: the user sees that something was refused.
 *
 * Part of the base library (src/base/): the numbers for every layer. */
#ifndef IMAPSH_CAPS_H
#define IMAPSH_CAPS_H

/* ---- the protocol (imap: parser.h, writer.h) ---- */
#define IMS_PARSER_DEFAULT_MAX_LINE        (8u * 1024 * 1024)  /* one response line */
#define IMS_PARSER_DEFAULT_MAX_LITERAL     4294967295u         /* a literal's announced size */
#define IMS_PARSER_DEFAULT_MAX_LITERAL_MEM (64u * 1024 * 1024) /* a literal held in memory */
#define IMS_PARSER_DEFAULT_MAX_DEPTH       100u                /* nested parentheses */
#define IMS_PARSER_DEFAULT_MAX_ITEMS       2000000u            /* values in one response */
#define IMS_CAP_WRITER_QUOTED              1024u /* longest quoted string; longer: literal */

/* ---- authentication (session: auth.c) ---- */
#define IMS_CAP_SASL_LINE  (64u * 1024) /* one SASL challenge from the server */
#define IMS_CAP_SCRAM_SALT 4096u        /* a SCRAM salt, decoded */
#define IMS_CAP_SCRAM_SIG  256u         /* a SCRAM server signature, decoded */

/* ---- mail (mail: mime.h) ---- */
#define IMS_MIME_TEXT_MAX 8388608 /* decoded bytes of one text part shown */

/* ---- the front end ---- */
#define IMS_CAP_HEADER_FETCH (4u * 1024 * 1024)  /* show: BODY[HEADER] kept */
#define IMS_CAP_TEXT_FETCH   (12u * 1024 * 1024) /* show: one text part fetched */
#define IMS_CAP_SHOW_FROM    4096u               /* show: the From line */
#define IMS_CAP_LIST_FROM    (64u * 1024)        /* list: the from column, decoded */
#define IMS_CAP_LIST_SUBJECT (256u * 1024)       /* list: the subject, decoded */
#define IMS_CAP_LIST_LINE    (512u * 1024)       /* list: one line */
#define IMS_CAP_RAW_COMMAND  (64u * 1024)        /* quote: the command line sent */
#define IMS_CAP_SECRET       4096u               /* a password, read or decoded */
#define IMS_CAP_NETRC_FILE   (1024u * 1024)      /* ~/.netrc */
#define IMS_CAP_HISTORY_FILE (4u * 1024 * 1024)  /* the shell's history file */
#define IMS_KH_FILE_MAX      (1024 * 1024)       /* the known_hosts pin store */
#define IMS_CAP_SHARE_MSG    (64u * 1024)        /* --share: one request on the socket */
#define IMS_CAP_SHARE_ARGS   512u                /* --share: words in one request */

/* HTTPS (src/net/http.c: OAuth endpoints, autoconfig, the ISPDB). */
#define IMS_CAP_HTTP_BODY       (1024u * 1024) /* a reply body kept */
#define IMS_CAP_HTTP_TIMEOUT_MS 30000u         /* one request, connect to last byte */
#define IMS_CAP_OAUTH_BODY      (64u * 1024)   /* a token or device endpoint's answer */
#define IMS_CAP_OAUTH_REQUEST   8192u          /* the browser's request to the redirect listener */
#define IMS_CAP_OAUTH_SAVED     (64u * 1024)   /* the saved-token file */

/* ---- discovery (net: dns.h; discover: autoconfig.h; setup) ---- */
#define IMS_CAP_DNS_ANSWERS      32u            /* records of one DNS answer used */
#define IMS_CAP_DNS_NAME         253u           /* a host name, in DNS or XML */
#define IMS_CAP_DNS_TIMEOUT_MS   10000u         /* a lookup when no deadline is given */
#define IMS_CAP_AUTOCONFIG_XML   (256u * 1024)  /* one autoconfig document */
#define IMS_CAP_AUTOCONFIG_SRV   16u            /* incoming servers kept of one document */
#define IMS_CAP_XML_DEPTH        32u            /* nested XML elements */
#define IMS_CAP_XML_TEXT         2048u          /* the text of one XML element */
#define IMS_CAP_CONFIG_FILE      (1024u * 1024) /* the config file, read to edit (setup) */
#define IMS_CAP_SETUP_CANDIDATES 24u            /* servers setup considers */

#endif
