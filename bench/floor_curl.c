/* bench/floor_curl: libcurl alone doing what an http check asks of it: one easy handle
 * kept from request to request, a new connection each time (FRESH_CONNECT, FORBID_REUSE),
 * one GET of URL, the body thrown away; an idle 1 ms wait before each request, as in
 * floor_http's paced mode. Prints one Markdown table row tail with the CPU per request
 * (CLOCK_PROCESS_CPUTIME_ID). No healthd code and no libevent: the difference between
 * this and floor_http's paced mode is libcurl's own cost per request.
 *
 *   floor_curl URL N [CA_FILE]
 * With CA_FILE (an https:// URL), the CA file is parsed once into one OpenSSL X509_STORE
 * that each connection's SSL_CTX is given (CURLOPT_SSL_CTX_FUNCTION), the server is
 * verified against it, and the TLS session is kept for the next connection.
 * Build: cc -O2 -o floor_curl bench/floor_curl.c -lcurl -lssl -lcrypto */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct run {
	CURL *e;
	long resumed; /* https: connections whose TLS session was resumed */
	int counted;  /* this request's connection is counted */
};

/* the body is thrown away; over https, the first piece of it counts a resumed session */
static size_t discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct run *r = arg;
	struct curl_tlssessioninfo *ti = NULL;

	(void)ptr;
	if (!r->counted && curl_easy_getinfo(r->e, CURLINFO_TLS_SSL_PTR, &ti) == CURLE_OK &&
	    ti != NULL && ti->backend == CURLSSLBACKEND_OPENSSL && ti->internals != NULL)
		r->resumed += SSL_session_reused(ti->internals) == 1;
	r->counted = 1;
	return size * nmemb;
}

/* the connection's new SSL_CTX gets a reference to the one store */
static CURLcode give_store(CURL *e, void *sslctx, void *arg)
{
	X509_STORE *store = arg;

	(void)e;
	if (X509_STORE_up_ref(store) != 1)
		return CURLE_OUT_OF_MEMORY;
	SSL_CTX_set_cert_store(sslctx, store);
	return CURLE_OK;
}

int main(int argc, char **argv)
{
	const struct timespec idle = {.tv_nsec = 1000000};
	CURL *e;
	X509_STORE *store = NULL;
	struct run r = {0};
	long n, ok = 0, code;
	double c0, w0, c1, w1;

	if ((argc != 3 && argc != 4) || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 2;
	n = atol(argv[2]);
	e = curl_easy_init();
	if (e == NULL)
		return 1;
	curl_easy_setopt(e, CURLOPT_URL, argv[1]);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "healthd");
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 900L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &r);
	r.e = e;
	if (argc == 4) {
		store = X509_STORE_new();
		if (store == NULL || X509_STORE_load_file(store, argv[3]) != 1)
			return 1;
		curl_easy_setopt(e, CURLOPT_CAINFO, (char *)NULL);
		curl_easy_setopt(e, CURLOPT_CAPATH, (char *)NULL);
		curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, store);
		curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, give_store);
	}
	c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	w0 = now(CLOCK_MONOTONIC);
	for (long i = 0; i < n; i++) {
		nanosleep(&idle, NULL);
		r.counted = 0;
		if (curl_easy_perform(e) == CURLE_OK &&
		    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code == 200)
			ok++;
	}
	c1 = now(CLOCK_PROCESS_CPUTIME_ID);
	w1 = now(CLOCK_MONOTONIC);
	if (store != NULL)
		fprintf(stderr, "floor_curl: %ld of %ld TLS sessions resumed\n", r.resumed, n);
	curl_easy_cleanup(e);
	X509_STORE_free(store);
	curl_global_cleanup();
	printf("%ld requests in %.1f s | %.1f µs | | | | |\n", ok, w1 - w0,
	       (c1 - c0) / (double)n * 1e6);
	return ok == n ? 0 : 1;
}
