/* Shared trust stores (see tls_ca.h). healthd is single-threaded: no locks. An OpenSSL
 * X509_STORE is reference-counted; each SSL_CTX libcurl makes gets one reference, so a
 * store replaced after its file changed lives on until the connections using it end. */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../lib/log.h"
#include "tls_ca.h"

struct tls_ca {
	struct tls_ca *next;
	unsigned refs;
	char *file; /* NULL: libcurl's defaults */
	X509_STORE *store;
	unsigned long gen;
	struct stat st; /* of the file when it was read */
	bool read;
};

static struct tls_ca *tls_ca_all;
static unsigned long tls_ca_nloads;

unsigned long tls_ca_loads(void)
{
	return tls_ca_nloads;
}

/* Our store goes in only where libcurl hands us OpenSSL's SSL_CTX. */
static bool tls_ca_supported(void)
{
	static int ok = -1;

	if (ok < 0) {
		const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
		ok = v->ssl_version != NULL && strncmp(v->ssl_version, "OpenSSL/", 8) == 0;
	}
	return ok;
}

struct tls_ca *tls_ca_get(const char *ca_file)
{
	struct tls_ca *ca;

	if (!tls_ca_supported())
		return NULL;
	for (ca = tls_ca_all; ca != NULL; ca = ca->next) {
		if ((ca->file == NULL && ca_file == NULL) ||
		    (ca->file != NULL && ca_file != NULL && strcmp(ca->file, ca_file) == 0)) {
			ca->refs++;
			return ca;
		}
	}
	ca = calloc(1, sizeof(*ca));
	if (ca == NULL)
		return NULL;
	if (ca_file != NULL && (ca->file = strdup(ca_file)) == NULL) {
		free(ca);
		return NULL;
	}
	ca->refs = 1;
	ca->next = tls_ca_all;
	tls_ca_all = ca;
	return ca;
}

void tls_ca_put(struct tls_ca *ca)
{
	struct tls_ca **pp;

	if (ca == NULL || --ca->refs > 0)
		return;
	for (pp = &tls_ca_all; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == ca) {
			*pp = ca->next;
			break;
		}
	}
	X509_STORE_free(ca->store);
	free(ca->file);
	free(ca);
}

/* The file whose changes make a re-read: ca_file, or libcurl's default bundle. */
static const char *tls_ca_path(const struct tls_ca *ca)
{
	return ca->file != NULL ? ca->file : curl_version_info(CURLVERSION_NOW)->cainfo;
}

static bool tls_ca_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* A new store from the file (and, for the defaults, libcurl's CA directory, whose
 * certificates OpenSSL looks up by hash when a chain needs one). */
static X509_STORE *tls_ca_load(const struct tls_ca *ca, char *err, size_t errlen)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	const char *file = tls_ca_path(ca);
	X509_STORE *s = X509_STORE_new();
	unsigned long e;

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* As libcurl sets on the stores it makes: a certificate in the file is an anchor
	 * even when it is not self-signed. */
	X509_STORE_set_flags(s, X509_V_FLAG_PARTIAL_CHAIN);
	ERR_clear_error();
	if (file != NULL && X509_STORE_load_file(s, file) != 1) {
		e = ERR_peek_last_error();
		snprintf(err, errlen, "CA file %s: %s", file,
		         e != 0 ? ERR_reason_error_string(e) : "no certificate in it");
		ERR_clear_error();
		X509_STORE_free(s);
		return NULL;
	}
	if (ca->file == NULL && v->capath != NULL && X509_STORE_load_path(s, v->capath) != 1) {
		snprintf(err, errlen, "CA directory %s: cannot be used", v->capath);
		ERR_clear_error();
		X509_STORE_free(s);
		return NULL;
	}
	return s;
}

unsigned long tls_ca_refresh(struct tls_ca *ca, char *err, size_t errlen)
{
	const char *file = tls_ca_path(ca);
	struct stat st = {0};
	X509_STORE *s;

	if (file != NULL && stat(file, &st) != 0) {
		snprintf(err, errlen, "CA file %s: %s", file, strerror(errno));
		return 0;
	}
	if (ca->store != NULL && ca->read && tls_ca_same(&st, &ca->st))
		return ca->gen;
	s = tls_ca_load(ca, err, errlen);
	if (s == NULL)
		return 0;
	tls_ca_nloads++;
	log_debug("tls: read the trust store %s", file != NULL ? file : "(directory only)");
	X509_STORE_free(ca->store);
	ca->store = s;
	ca->st = st;
	ca->read = true;
	return ++ca->gen;
}

/* libcurl made the SSL_CTX of a new connection: give it the shared store. */
static CURLcode tls_ca_ctx_cb(CURL *easy, void *sslctx, void *arg)
{
	struct tls_ca *ca = arg;

	(void)easy;
	if (ca->store == NULL || X509_STORE_up_ref(ca->store) != 1)
		return CURLE_SSL_CACERT_BADFILE;
	SSL_CTX_set_cert_store(sslctx, ca->store); /* takes our reference */
	return CURLE_OK;
}

int tls_ca_apply(struct tls_ca *ca, CURL *easy)
{
#if LIBCURL_VERSION_NUM >= 0x075700
	/* libcurl 7.87 to 8.2 set their trust store up after our callback, from a cache in
	 * the multi handle: the store of whichever check connected first would then verify
	 * every other check's server too. Without the cache, libcurl leaves ours alone. */
	if (curl_easy_setopt(easy, CURLOPT_CA_CACHE_TIMEOUT, 0L) != CURLE_OK)
		return -1;
#endif
	/* No file for libcurl to read: the store comes from the callback. */
	if (curl_easy_setopt(easy, CURLOPT_CAINFO, (char *)NULL) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_CAPATH, (char *)NULL) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, ca) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, tls_ca_ctx_cb) != CURLE_OK)
		return -1;
	return 0;
}

int tls_session_reused(CURL *easy)
{
	struct curl_tlssessioninfo *ti = NULL;

	if (!tls_ca_supported() || curl_easy_getinfo(easy, CURLINFO_TLS_SSL_PTR, &ti) != CURLE_OK ||
	    ti == NULL || ti->backend != CURLSSLBACKEND_OPENSSL || ti->internals == NULL)
		return -1;
	return SSL_session_reused(ti->internals) == 1;
}
