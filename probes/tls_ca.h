/* What the http probe needs to know of libcurl's TLS library (OpenSSL).
 *
 * Trust stores shared by every https check that names the same CA file: parsed once,
 * handed to each TLS connection through libcurl's CURLOPT_SSL_CTX_FUNCTION instead of
 * libcurl reading the file again for every connection (a system-sized bundle costs
 * milliseconds of CPU per run). A store is read again when its file changes (device,
 * inode, size or modification time). Only with libcurl built on OpenSSL; elsewhere
 * tls_ca_get returns NULL and libcurl reads the file as before. */
#ifndef HEALTHD_TLS_CA_H
#define HEALTHD_TLS_CA_H

#include <curl/curl.h>
#include <stddef.h>

struct tls_ca;

/* The store of ca_file, or of libcurl's default bundle and directory when ca_file is
 * NULL; one reference more. NULL when this libcurl cannot take a store from us. Nothing
 * is read until the first tls_ca_refresh. */
struct tls_ca *tls_ca_get(const char *ca_file);
/* Drop a reference; the last frees the store (connections holding it keep it alive). */
void tls_ca_put(struct tls_ca *ca);
/* Before a run: reads the file again if it changed since it was last read. Returns the
 * store's generation (it grows at every successful read, so a caller can drop what it
 * derived from an older trust store), or 0 with a message in err when the file cannot
 * be read or holds no certificate. */
unsigned long tls_ca_refresh(struct tls_ca *ca, char *err, size_t errlen);
/* Make easy's TLS connections use ca's current store (and no file of libcurl's own).
 * 0, or -1 when libcurl refuses. */
int tls_ca_apply(struct tls_ca *ca, CURL *easy);
/* Whether easy's TLS connection, established and still open, resumed an earlier
 * session: 1 or 0, -1 when unknown (no TLS, or not OpenSSL). */
int tls_session_reused(CURL *easy);
/* How many times a store was read from its files since the process started: for tests. */
unsigned long tls_ca_loads(void);

#endif
