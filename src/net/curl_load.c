#include "curl_load.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "imapsh/sanitize.h"

#ifndef IMS_CURL_SONAME
#define IMS_CURL_SONAME "libcurl.so.4"
#endif

static struct ims_curl_api api;
static int loaded; /* 1 loaded, -1 failed (set once, under pthread_once) */
static char why[256];

/* Each symbol into its slot: a function pointer's bytes copied from the
 * object pointer dlsym() returns (POSIX guarantees they convert). */
static int bind_sym(void *lib, const char *name, void *slot, size_t n)
{
	void *p = dlsym(lib, name);

	if (p == NULL)
		return -1;
	memcpy(slot, &p, n);
	return 0;
}

#define BIND(field, sym) bind_sym(lib, sym, &api.field, sizeof(api.field))

static void load(void)
{
	void *lib = dlopen(IMS_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	const char *e;

	if (lib == NULL) {
		e = dlerror();
		ims_sanitize_fixed(e != NULL ? e : "", e != NULL ? strlen(e) : 0, why, sizeof(why));
		loaded = -1;
		return;
	}
	if (BIND(global_init, "curl_global_init") || BIND(easy_init, "curl_easy_init") ||
	    BIND(easy_setopt, "curl_easy_setopt") || BIND(easy_perform, "curl_easy_perform") ||
	    BIND(easy_getinfo, "curl_easy_getinfo") || BIND(easy_cleanup, "curl_easy_cleanup") ||
	    BIND(easy_strerror, "curl_easy_strerror") || BIND(slist_append, "curl_slist_append") ||
	    BIND(slist_free_all, "curl_slist_free_all")) {
		snprintf(why, sizeof(why), "%s lacks a function imapsh needs", IMS_CURL_SONAME);
		loaded = -1;
		return;
	}
	if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(why, sizeof(why), "%s did not initialise", IMS_CURL_SONAME);
		loaded = -1;
		return;
	}
	loaded = 1;
}

const struct ims_curl_api *ims_curl(struct ims_error *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	/* setup's sources ask from several threads at once */
	pthread_once(&once, load);
	if (loaded > 0)
		return &api;
	ims_error_set(err, IMS_ERR_USAGE,
	              "HTTPS is not available: cannot load libcurl (%s); next: install "
	              "libcurl (Debian: apt-get install libcurl4)",
	              why);
	return NULL;
}
