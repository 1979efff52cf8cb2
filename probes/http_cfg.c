/* The http probe's configuration: what to send and what the answer must look like (the
 * URL is http_url.c's). Everything is checked here, at configure time, so a run can only
 * fail because of the service: a bad status list, header or regex is a config error at
 * its JSON path. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../lib/cfgread.h"
#include "http_priv.h"
#include "http_regex.h"

const char *const http_keys[] = {
        "url",
        "method",
        "expect_status",
        "expect_body",
        "expect_body_regex",
        "max_body",
        "headers",
        "host",
        "connect_to",
        "ca_file",
        "insecure",
        "tls_resume",
        "reuse_connection",
        NULL,
};

/* "200" or "200-399". */
static int http_parse_range(const char *s, struct http_range *r)
{
	int lo, hi, n = 0;

	if (sscanf(s, "%3d%n", &lo, &n) != 1 || n != 3)
		return -1;
	hi = lo;
	if (s[n] == '-') {
		int m = 0;
		if (sscanf(s + n + 1, "%3d%n", &hi, &m) != 1 || m != 3)
			return -1;
		n += 1 + m;
	}
	if (s[n] != '\0' || lo < 100 || hi > 599 || lo > hi)
		return -1;
	r->lo = lo;
	r->hi = hi;
	return 0;
}

static int http_status(struct config_error *err, const json_t *obj, struct http_check *h)
{
	const json_t *v = json_object_get(obj, "expect_status");
	size_t n = v == NULL ? 1 : json_array_size(v);
	int bad = 0;

	if (v != NULL && (!json_is_array(v) || n == 0)) {
		cfgerr_add(err, "expect_status",
		           "expected non-empty array of statuses (200) or ranges (\"200-399\")");
		return -1;
	}
	if ((h->status = calloc(n, sizeof(*h->status))) == NULL)
		return -1;
	h->nstatus = n;
	if (v == NULL) {
		h->status[0] = (struct http_range){200, 399};
		snprintf(h->status_text, sizeof(h->status_text), "200-399");
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(v, i);
		struct http_range *r = &h->status[i];
		char key[48];
		size_t len = strlen(h->status_text);

		snprintf(key, sizeof(key), "expect_status[%zu]", i);
		if (json_is_integer(e) && json_integer_value(e) >= 100 &&
		    json_integer_value(e) <= 599) {
			r->lo = r->hi = (int)json_integer_value(e);
		} else if (!json_is_string(e) || http_parse_range(json_string_value(e), r) != 0) {
			cfgerr_add(err, key,
			           "expected a status 100-599 or a range \"200-399\" (low-high)");
			bad++;
			continue;
		}
		if (r->lo == r->hi)
			snprintf(h->status_text + len, sizeof(h->status_text) - len, "%s%d",
			         i > 0 ? ", " : "", r->lo);
		else
			snprintf(h->status_text + len, sizeof(h->status_text) - len, "%s%d-%d",
			         i > 0 ? ", " : "", r->lo, r->hi);
	}
	return bad > 0 ? -1 : 0;
}

bool http_status_ok(const struct http_check *h, long code)
{
	for (size_t i = 0; i < h->nstatus; i++)
		if (code >= h->status[i].lo && code <= h->status[i].hi)
			return true;
	return false;
}

/* RFC 9110 token characters. */
static bool http_token(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    strchr("!#$%&'*+-.^_`|~", c) == NULL)
			return false;
	}
	return true;
}

/* One header, as "Name: value", normalized into out (malloc'd). NULL with why set. */
static char *http_header(const char *name, size_t namelen, const char *value, const char **why)
{
	char *out;

	while (*value == ' ' || *value == '\t')
		value++;
	size_t vlen = strlen(value);
	while (vlen > 0 && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
		vlen--;
	if (!http_token(name, namelen)) {
		*why = "invalid header name (letters, digits and !#$%&'*+-.^_`|~ only)";
		return NULL;
	}
	if (vlen == 0) {
		*why = "empty header value";
		return NULL;
	}
	for (size_t i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)value[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			*why = "control character in header value";
			return NULL;
		}
	}
	if (asprintf(&out, "%.*s: %.*s", (int)namelen, name, (int)vlen, value) < 0) {
		*why = "out of memory";
		return NULL;
	}
	return out;
}

static int http_headers(struct config_error *err, const json_t *obj, struct http_check *h)
{
	const json_t *v = json_object_get(obj, "headers");
	size_t n = 0;
	int bad = 0;

	if (v == NULL)
		return 0;
	if (!json_is_object(v) && !json_is_array(v)) {
		cfgerr_add(err, "headers",
		           "expected object {\"Name\": \"value\"} or array of \"Name: value\"");
		return -1;
	}
	n = json_is_object(v) ? json_object_size(v) : json_array_size(v);
	if ((h->headers = calloc(n + 1, sizeof(*h->headers))) == NULL)
		return -1;
	size_t i = 0, k = 0;
	const char *name;
	const json_t *e;
	char key[CFG_PATH_MAX];
	const char *why = NULL;
	json_object_foreach((json_t *)v, name, e)
	{
		snprintf(key, sizeof(key), "headers.%s", name);
		if (!json_is_string(e))
			why = "expected string";
		else if ((h->headers[k] = http_header(name, strlen(name), json_string_value(e),
		                                      &why)) != NULL)
			k++;
		if (why != NULL) {
			cfgerr_add(err, key, "%s", why);
			why = NULL;
			bad++;
		}
	}
	json_array_foreach(v, i, e)
	{
		const char *s = json_is_string(e) ? json_string_value(e) : NULL;
		const char *colon = s != NULL ? strchr(s, ':') : NULL;
		snprintf(key, sizeof(key), "headers[%zu]", i);
		if (colon == NULL)
			why = "expected string \"Name: value\"";
		else if ((h->headers[k] = http_header(s, (size_t)(colon - s), colon + 1, &why)) !=
		         NULL)
			k++;
		if (why != NULL) {
			cfgerr_add(err, key, "%s", why);
			why = NULL;
			bad++;
		}
	}
	return bad > 0 ? -1 : 0;
}

static int http_host(struct config_error *err, const json_t *obj, struct http_check *h)
{
	const char *s;
	int rc = cfg_string(err, obj, "host", false, &s);

	if (rc <= 0)
		return rc;
	for (const char *c = s; *c != '\0'; c++) {
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f ||
		    strchr("/?#@\\\"", *c) != NULL) {
			cfgerr_add(err, "host",
			           "expected a host name, with an optional :port, not \"%s\"", s);
			return -1;
		}
	}
	for (size_t i = 0; h->headers != NULL && h->headers[i] != NULL; i++) {
		if (strncasecmp(h->headers[i], "Host:", 5) == 0) {
			cfgerr_add(err, "host",
			           "set twice: here and as a Host header in \"headers\"");
			return -1;
		}
	}
	return (h->host = strdup(s)) != NULL ? 1 : -1;
}

#define HTTP_REGEX_MAX_LEN 256
#define HTTP_REGEX_MAX_OPS 16

static int http_body_rules(struct config_error *err, const json_t *obj, struct http_check *h)
{
	const char *s;
	long long n;
	int bad = 0, rc;

	h->max_body = HTTP_MAX_BODY_DEFAULT;
	rc = cfg_int(err, obj, "max_body", 1, HTTP_MAX_BODY_LIMIT, &n);
	if (rc < 0)
		bad++;
	else if (rc > 0)
		h->max_body = (size_t)n;

	rc = cfg_string(err, obj, "expect_body", false, &s);
	if (rc < 0)
		bad++;
	if (rc > 0 && (h->expect = strdup(s)) != NULL) {
		h->expectlen = strlen(s);
		if (h->expectlen > h->max_body) {
			cfgerr_add(
			        err, "expect_body",
			        "%zu bytes long, more than max_body (%zu): it could never be found",
			        h->expectlen, h->max_body);
			bad++;
		}
	}

	rc = cfg_string(err, obj, "expect_body_regex", false, &s);
	if (rc < 0)
		bad++;
	size_t ops = 0;
	char why[256];
	for (const char *q = s; rc > 0 && *q != '\0'; q++)
		ops += *q == '*' || *q == '+' || *q == '?' || *q == '{';
	if (rc > 0 && (strlen(s) > HTTP_REGEX_MAX_LEN || ops > HTTP_REGEX_MAX_OPS)) {
		/* regcomp's closures grow with the square of its nodes: a health check's
		 * pattern is short. */
		cfgerr_add(err, "expect_body_regex",
		           "longer than %d bytes or more than %d repetition operators",
		           HTTP_REGEX_MAX_LEN, HTTP_REGEX_MAX_OPS);
		bad++;
	} else if (rc > 0 && http_regex_check(s, why, sizeof(why)) != 0) {
		/* counted repetitions copied out by regcomp, back-references: see http_regex.c */
		cfgerr_add(err, "expect_body_regex", "\"%s\": %s", s, why);
		bad++;
	} else if (rc > 0) {
		int ec = regcomp(&h->regex, s, REG_EXTENDED | REG_NOSUB);
		if (ec != 0) {
			regerror(ec, &h->regex, why, sizeof(why));
			cfgerr_add(err, "expect_body_regex",
			           "invalid POSIX extended regular expression \"%s\": %s", s, why);
			bad++;
		} else if ((h->regex_src = strdup(s)) == NULL) {
			regfree(&h->regex);
			bad++;
		} else {
			/* regexec tries the pattern from every byte: quadratic in the body for a
			 * pattern that scans far and fails. NULL (a pattern the one-pass matcher
			 * does not build) keeps regexec. */
			h->match = http_match_new(s, why, sizeof(why));
		}
	}
	if (h->head && (h->expect != NULL || h->regex_src != NULL)) {
		cfgerr_add(err, h->expect != NULL ? "expect_body" : "expect_body_regex",
		           "a HEAD response has no body to match (use \"method\": \"GET\")");
		bad++;
	}
	return bad > 0 ? -1 : 0;
}

static int http_tls(struct config_error *err, const json_t *obj, struct http_check *h)
{
	const char *s;
	int rc = cfg_string(err, obj, "ca_file", false, &s);
	int bad = rc < 0;

	if (rc > 0 && !h->https) {
		cfgerr_add(err, "ca_file", "only https:// URLs use a CA file");
		bad++;
	} else if (rc > 0 && s[0] != '/') {
		cfgerr_add(err, "ca_file",
		           "expected an absolute path: healthd runs in the speaker's working "
		           "directory");
		bad++;
	} else if (rc > 0 && access(s, R_OK) != 0) {
		cfgerr_add(err, "ca_file", "cannot read %s: %s", s, strerror(errno));
		bad++;
	} else if (rc > 0 && (h->ca_file = strdup(s)) == NULL) {
		bad++;
	}
	rc = cfg_bool(err, obj, "insecure", &h->insecure);
	if (rc < 0)
		bad++;
	if (rc > 0 && !h->https) {
		cfgerr_add(err, "insecure", "only https:// URLs have certificates to verify");
		bad++;
	} else if (h->insecure && h->ca_file != NULL) {
		cfgerr_add(err, "insecure", "\"insecure\": true ignores \"ca_file\": set one");
		bad++;
	}
	h->tls_resume = h->https;
	rc = cfg_bool(err, obj, "tls_resume", &h->tls_resume);
	if (rc < 0)
		bad++;
	if (rc > 0 && !h->https) {
		cfgerr_add(err, "tls_resume", "only https:// URLs have TLS sessions to resume");
		bad++;
	}
	if (cfg_bool(err, obj, "reuse_connection", &h->reuse) < 0)
		bad++;
	return bad > 0 ? -1 : 0;
}

int http_share_new(struct http_check *h)
{
	CURLSH *sh;

	if (h->share != NULL)
		curl_share_cleanup(h->share); /* closes the connection it kept */
	h->share = NULL;
	if (!h->tls_resume && !h->reuse)
		return 0;
	sh = curl_share_init();
	if (sh == NULL)
		return -1;
	/* A connection cache of the check's own: a connection is never handed to another
	 * check, whose source address, trust store or TLS options may differ (libcurl
	 * would match connections on the URL and its own options alone). */
	if ((h->tls_resume &&
	     curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) ||
	    (h->reuse &&
	     curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK)) {
		curl_share_cleanup(sh);
		return -1;
	}
	h->share = sh;
	return 0;
}

/* What a check keeps from run to run: the trust store, shared with every check naming
 * the same CA file, the TLS sessions to resume, and with reuse_connection the
 * connection. */
static int http_tls_state(struct http_check *h)
{
	if (h->https && !h->insecure)
		h->ca = tls_ca_get(h->ca_file); /* NULL: libcurl reads the files, as before */
	return http_share_new(h);
}

static int http_request_headers(struct http_check *h)
{
	struct curl_slist *l;
	char *hosthdr = NULL;

	for (size_t i = 0; h->headers != NULL && h->headers[i] != NULL; i++) {
		if ((l = curl_slist_append(h->req_headers, h->headers[i])) == NULL)
			return -1;
		h->req_headers = l;
	}
	if (h->host != NULL) {
		if (asprintf(&hosthdr, "Host: %s", h->host) < 0)
			return -1;
		l = curl_slist_append(h->req_headers, hosthdr);
		free(hosthdr);
		if (l == NULL)
			return -1;
		h->req_headers = l;
	}
	return 0;
}

int http_configure(struct probe *p, const json_t *obj, struct config_error *err)
{
	struct http_check *h;
	const char *method;
	int bad = 0, rc, url_rc;

	if (curlev_global_init() != 0) {
		cfgerr_add(err, NULL, "libcurl cannot start");
		return -1;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		cfgerr_add(err, NULL, "out of memory");
		return -1;
	}
	p->priv = h;
	url_rc = http_url_parse(err, obj, h);
	if (url_rc != 0)
		bad++;
	rc = cfg_string(err, obj, "method", false, &method);
	if (rc < 0)
		bad++;
	if (rc > 0 && strcmp(method, "HEAD") == 0) {
		h->head = true;
	} else if (rc > 0 && strcmp(method, "GET") != 0) {
		cfgerr_add(err, "method", "unknown method \"%s\" (valid: GET, HEAD)", method);
		bad++;
	}
	if (http_status(err, obj, h) != 0)
		bad++;
	if (http_body_rules(err, obj, h) != 0)
		bad++;
	if (http_headers(err, obj, h) != 0)
		bad++;
	if (http_host(err, obj, h) < 0)
		bad++;
	if (url_rc == 0 && http_tls(err, obj, h) != 0)
		bad++;
	if (bad > 0)
		return -1;
	if (http_request_headers(h) != 0 || http_tls_state(h) != 0) {
		cfgerr_add(err, NULL, "out of memory");
		return -1;
	}
	if (asprintf(&p->label, "http %s%s%s", h->url, h->connect_to != NULL ? " via " : "",
	             h->connect_to != NULL ? h->connect_to : "") < 0)
		p->label = NULL;
	return 0;
}

json_t *http_to_json(const struct probe *p)
{
	const struct http_check *h = p->priv;
	json_t *o = json_object(), *st = json_array();

	if (o == NULL || st == NULL) {
		json_decref(o);
		json_decref(st);
		return NULL;
	}
	json_object_set_new(o, "url", json_string(h->url));
	json_object_set_new(o, "method", json_string(h->head ? "HEAD" : "GET"));
	for (size_t i = 0; i < h->nstatus; i++) {
		char buf[16];
		if (h->status[i].lo == h->status[i].hi) {
			json_array_append_new(st, json_integer(h->status[i].lo));
		} else {
			snprintf(buf, sizeof(buf), "%d-%d", h->status[i].lo, h->status[i].hi);
			json_array_append_new(st, json_string(buf));
		}
	}
	json_object_set_new(o, "expect_status", st);
	if (h->expect != NULL)
		json_object_set_new(o, "expect_body", json_string(h->expect));
	if (h->regex_src != NULL)
		json_object_set_new(o, "expect_body_regex", json_string(h->regex_src));
	json_object_set_new(o, "max_body", json_integer((json_int_t)h->max_body));
	if (h->headers != NULL && h->headers[0] != NULL) {
		json_t *a = json_array();
		for (size_t i = 0; h->headers[i] != NULL; i++)
			json_array_append_new(a, json_string(h->headers[i]));
		json_object_set_new(o, "headers", a);
	}
	if (h->host != NULL)
		json_object_set_new(o, "host", json_string(h->host));
	if (h->connect_to != NULL)
		json_object_set_new(o, "connect_to", json_string(h->connect_to));
	if (h->ca_file != NULL)
		json_object_set_new(o, "ca_file", json_string(h->ca_file));
	if (h->https) {
		json_object_set_new(o, "insecure", json_boolean(h->insecure));
		json_object_set_new(o, "tls_resume", json_boolean(h->tls_resume));
	}
	if (h->reuse)
		json_object_set_new(o, "reuse_connection", json_true());
	return o;
}

void http_config_free(struct http_check *h)
{
	free(h->url);
	curl_url_cleanup(h->uh);
	curl_free(h->url_norm);
	free(h->status);
	free(h->expect);
	if (h->regex_src != NULL)
		regfree(&h->regex);
	http_match_free(h->match);
	free(h->regex_src);
	for (size_t i = 0; h->headers != NULL && h->headers[i] != NULL; i++)
		free(h->headers[i]);
	free(h->headers);
	free(h->host);
	free(h->connect_to);
	free(h->ca_file);
	curl_slist_free_all(h->req_headers);
	curl_slist_free_all(h->connect_list);
	tls_ca_put(h->ca);
	if (h->share != NULL)
		curl_share_cleanup(h->share);
}
