/* Shared by the http probe's files: http_url.c and http_cfg.c read and print the
 * configuration, http.c runs it. Nothing else includes this. */
#ifndef HEALTHD_HTTP_PRIV_H
#define HEALTHD_HTTP_PRIV_H

#include <curl/curl.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "curlev.h"
#include "http_match.h"
#include "probe.h"
#include "tls_ca.h"

#define HTTP_MAX_BODY_DEFAULT (64 * 1024)
#define HTTP_MAX_BODY_LIMIT   (16 * 1024 * 1024)
#define HTTP_ADDRSTRLEN       64

struct http_range {
	int lo, hi; /* a single status has lo == hi */
};

struct http_check {
	/* the configuration */
	char *url;        /* as written */
	CURLU *uh;        /* url parsed once, as libcurl would parse it for every run */
	char *url_norm;   /* url as libcurl normalizes it (what its own parse would set) */
	bool https, head; /* scheme; method HEAD (else GET) */
	struct http_range *status;
	size_t nstatus;
	char status_text[96]; /* "200-399", "200, 204": for details */
	char *expect;         /* expect_body */
	size_t expectlen;
	char *regex_src;          /* expect_body_regex as written */
	regex_t regex;            /* compiled when regex_src is set */
	struct http_match *match; /* the same, matched in one pass; NULL: regexec */
	size_t max_body;
	char **headers;   /* "Name: value", NULL-terminated; NULL when none */
	char *host;       /* Host header override */
	char *connect_to; /* as written */
	char *ca_file;
	bool insecure;
	bool tls_resume;      /* resume the TLS session of an earlier run (default) */
	bool reuse;           /* reuse_connection: keep the connection for the next run */
	struct tls_ca *ca;    /* the shared trust store; NULL: libcurl reads the files itself */
	CURLSH *share;        /* the TLS sessions (tls_resume) and the connection (reuse) kept
	                       * between runs, this check's alone; NULL without either */
	unsigned long ca_gen; /* the store's generation what is in share began with */
	char remote[HTTP_ADDRSTRLEN];    /* where the probe connects: "127.0.0.1:8080" */
	struct curl_slist *req_headers;  /* headers and Host, for CURLOPT_HTTPHEADER */
	struct curl_slist *connect_list; /* for CURLOPT_CONNECT_TO; NULL without connect_to */

	/* the base of the last run: its libcurl multi is held between runs (http_release) */
	struct event_base *loop_base;
	struct curlev *loop;

	/* the run: everything here is released by http_cancel */
	CURL *easy;
	struct curlev_xfer *xfer;
	char *body;
	size_t bodylen, bodycap;
	bool status_seen; /* the write callback has judged the status */
	bool status_bad;
	bool matched;   /* expect found */
	bool enough;    /* the transfer was stopped on purpose: all that is needed is read */
	bool at_max;    /* stopped at max_body */
	bool over;      /* stopped past the run's max_read_bytes (probe_limits.h) */
	bool finished;  /* curl reported the end of the transfer */
	int bind_err;   /* errno of a failed bind to the source address */
	int socket_err; /* errno of a failed socket(): EMFILE at max_open_files */
	int family;     /* of the socket http_opensocket_cb opened last */
	int resumed;    /* the TLS session was resumed: 1, 0, or -1 (no TLS or unknown) */
	char errbuf[CURL_ERROR_SIZE];
};

/* http_url.c: url and connect_to, into h->url, uh, url_norm, https, remote, connect_to,
 * connect_list */
int http_url_parse(struct config_error *err, const json_t *obj, struct http_check *h);

/* http_cfg.c */
int http_configure(struct probe *p, const json_t *obj, struct config_error *err);
json_t *http_to_json(const struct probe *p);
void http_config_free(struct http_check *h);
bool http_status_ok(const struct http_check *h, long code);
/* A new h->share for what h keeps between runs; -1 when out of memory. */
int http_share_new(struct http_check *h);

extern const char *const http_keys[];

#endif
