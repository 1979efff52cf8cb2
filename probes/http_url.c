/* The http probe's URL and where its transfer connects. Names are never resolved (a probe
 * must not depend on the DNS it may be checking): the URL's host is a numeric address, or
 * connect_to gives one, and the URL keeps its name for the Host header, SNI and the
 * certificate check. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/cfgread.h"
#include "http_priv.h"

/* "[::1]" -> "::1": curl keeps the brackets of an IPv6 host. */
static void http_unbracket(const char *in, char *out, size_t len)
{
	size_t n = strlen(in);

	if (n >= 2 && in[0] == '[' && in[n - 1] == ']')
		snprintf(out, len, "%.*s", (int)(n - 2), in + 1);
	else
		snprintf(out, len, "%s", in);
}

/* Port: 1-65535, decimal digits only. */
static long http_port(const char *s)
{
	char *end;
	long n;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtol(s, &end, 10);
	return *end != '\0' || errno != 0 || n < 1 || n > 65535 ? -1 : n;
}

/* connect_to: "ADDR", "ADDR:PORT" (IPv4) or "[ADDR]:PORT"; *port 0 when not given. */
static int http_parse_connect_to(const char *s, struct sockaddr_storage *ss, socklen_t *sslen,
                                 long *port)
{
	char buf[INET6_ADDRSTRLEN + 16];
	char *addr = buf, *portstr = NULL, *c;

	*port = 0;
	if (strlen(s) >= sizeof(buf) || strchr(s, '%') != NULL)
		return -1;
	strcpy(buf, s);
	if (buf[0] == '[') {
		if ((c = strchr(buf, ']')) == NULL || (c[1] != '\0' && c[1] != ':'))
			return -1;
		*c = '\0';
		addr = buf + 1;
		if (c[1] == ':')
			portstr = c + 2;
		if (net_addr_parse(addr, 0, ss, sslen) != 0 || ss->ss_family != AF_INET6)
			return -1;
	} else if (net_addr_parse(buf, 0, ss, sslen) != 0) {
		if ((c = strrchr(buf, ':')) == NULL)
			return -1;
		*c = '\0';
		portstr = c + 1;
		if (net_addr_parse(addr, 0, ss, sslen) != 0 || ss->ss_family != AF_INET)
			return -1;
	}
	if (portstr != NULL && (*port = http_port(portstr)) < 0)
		return -1;
	return 0;
}

static void http_set_port(struct sockaddr_storage *ss, long port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

/* The URL, and where its transfer connects: h->remote, and curl's CONNECT_TO list. */
int http_url_parse(struct config_error *err, const json_t *obj, struct http_check *h)
{
	char *scheme = NULL, *host = NULL, *port = NULL, bare[256], entry[HTTP_ADDRSTRLEN + 8];
	const char *url, *to = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen;
	long toport = 0;
	CURLU *u = NULL;
	CURLUcode uc;
	int rc = -1;

	rc = cfg_string(err, obj, "url", false, &url);
	if (rc == 0)
		cfgerr_add(err, "url",
		           "required key is missing (expected http:// or https:// URL)");
	if (rc <= 0)
		return -1;
	rc = -1;
	if ((h->url = strdup(url)) == NULL || (u = curl_url()) == NULL) {
		cfgerr_add(err, "url", "out of memory");
		goto done;
	}
	uc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (uc == CURLUE_OK)
		uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	if (uc == CURLUE_OK)
		uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
	if (uc == CURLUE_OK)
		uc = curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
	if (uc != CURLUE_OK) {
		cfgerr_add(err, "url", "invalid URL \"%s\": %s", url, curl_url_strerror(uc));
		goto done;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		cfgerr_add(err, "url", "unsupported scheme \"%s\" (expected http or https)",
		           scheme);
		goto done;
	}
	h->https = strcmp(scheme, "https") == 0;
	http_unbracket(host, bare, sizeof(bare));

	if (cfg_string(err, obj, "connect_to", false, &to) < 0)
		goto done;
	if (to != NULL) {
		if (http_parse_connect_to(to, &ss, &sslen, &toport) != 0) {
			cfgerr_add(err, "connect_to",
			           "expected a numeric address, \"ADDR:PORT\" or \"[IPv6]:PORT\", "
			           "not \"%s\"",
			           to);
			goto done;
		}
		if ((h->connect_to = strdup(to)) == NULL)
			goto done;
	} else if (net_addr_parse(bare, 0, &ss, &sslen) != 0) {
		cfgerr_add(err, "url",
		           "host \"%s\" is a name, and healthd never resolves names (a probe must "
		           "not depend on the DNS it may be checking): use a numeric address, or "
		           "add \"connect_to\": \"ADDRESS\"",
		           bare);
		goto done;
	}
	http_set_port(&ss, toport != 0 ? toport : http_port(port));
	net_addr_format((struct sockaddr *)&ss, h->remote, sizeof(h->remote));
	if (to != NULL) {
		/* Any host and port of the URL go to this address: the URL keeps its name
		 * for the Host header, SNI and certificate checks. */
		snprintf(entry, sizeof(entry), "::%s", h->remote);
		if ((h->connect_list = curl_slist_append(NULL, entry)) == NULL)
			goto done;
	}
	/* Parsed here once with the flags libcurl's own parse of CURLOPT_URL uses (7.88's
	 * parseurlandfillconn), and handed to every run as CURLOPT_CURLU with the URL it
	 * normalizes to: libcurl then copies the parts instead of parsing the text and
	 * printing it again for every run. */
	if ((h->uh = curl_url()) == NULL) {
		cfgerr_add(err, "url", "out of memory");
		goto done;
	}
	uc = curl_url_set(h->uh, CURLUPART_URL, url, CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME);
	if (uc == CURLUE_OK)
		uc = curl_url_get(h->uh, CURLUPART_URL, &h->url_norm, 0);
	if (uc != CURLUE_OK) {
		cfgerr_add(err, "url", "invalid URL \"%s\": %s", url, curl_url_strerror(uc));
		goto done;
	}
	rc = 0;
done:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}
