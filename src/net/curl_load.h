/* libcurl, loaded when the first HTTPS request is made (private to net).
 *
 * Only setup and the OAuth login speak HTTP, yet linking libcurl put it
 * and the libraries it needs (GnuTLS, OpenSSL, Kerberos, LDAP, ...) in
 * every start of imapsh: 20 ms of CPU and 5 MB of memory before main(),
 * for a one-shot `list` as for `setup`.  So it is opened with dlopen()
 * by its soname (IMS_CURL_SONAME, from the build's libcurl) the first
 * time it is needed, and its few functions are called through this
 * table.  The headers are libcurl's own: the types and constants are
 * checked at build time as before. */
#ifndef IMAPSH_NET_CURL_LOAD_H
#define IMAPSH_NET_CURL_LOAD_H

#include <curl/curl.h>

#include "imapsh/error.h"

struct ims_curl_api {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *h);
	const char *(*easy_strerror)(CURLcode rc);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};

/* The table, libcurl loaded and initialised on the first call; NULL and
 * *err set (what is missing, and the package to install) when it cannot
 * be loaded. */
const struct ims_curl_api *ims_curl(struct ims_error *err);

#endif
