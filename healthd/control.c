/* The control endpoint's server: listeners, connections, the request parser, the routes
 * and the API disables (with their state file). See control.h and docs/control.md.
 *
 * Not libevent's evhttp: the evhttp of libevent 2.1 (Debian 12) has no cap on
 * connections, no hook when a connection without a request closes, and its timeout
 * starts again with every byte, so a client dribbling a byte a second would hold a
 * connection for hours. Here every connection has one deadline from accept to the end of
 * its reply, and the count is capped. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "../lib/atomicfile.h"
#include "../lib/log.h"
#include "../lib/memtrim.h"
#include "../lib/monotime.h"
#include "control.h"
#include "engine_priv.h"
#include "metrics.h"
#include "status.h"

#define CONTROL_ACCEPT_BURST 64   /* accepts per wakeup: a flood cannot hold the loop */
#define CONTROL_PAUSE_MS     1000 /* out of descriptors: stop accepting this long */
#define CONTROL_TOKEN_MAX    4096

struct control_listener {
	struct control *ctl;
	int fd;
	bool is_unix;
	char *name; /* as configured */
	char *path; /* unix: unlinked at close */
	struct event *ev;
};

struct control_conn {
	struct control *ctl;
	struct control_conn *prev, *next;
	struct bufferevent *bev;
	struct event *deadline;
	bool is_unix;
	uid_t uid;        /* the unix peer's (SO_PEERCRED) */
	bool replied;     /* the reply is queued: only writing is left */
	size_t body_need; /* Content-Length, once the headers are read */
	bool have_head;
	char method[8];
	char target[1024];
	char auth[512];
};

/* A rendered /metrics or /status, shared by every connection sending it (by reference:
 * one copy however many clients) and reused for CONTROL_CACHE_MS, so that a burst of
 * scrapes costs one rendering of the loop's time, not one each. Then the cache lets it
 * go (ctl->expire): with 1,000 services a rendering is megabytes, not to be held between
 * scrapes. Freeing one of CONTROL_TRIM_MIN bytes or more gives the heap back (mem_trim),
 * CONTROL_TRIM_DELAY_MS later: a trim takes milliseconds of the loop, so scrapes every
 * second share one trim every few seconds rather than paying one each. */
#define CONTROL_TRIM_MIN      (64 * 1024)
#define CONTROL_TRIM_DELAY_MS 5000
struct control_blob {
	struct control *ctl;
	struct evbuffer *ev; /* /metrics: the buffer it was rendered into, which holds data */
	char *data;
	size_t len;
	unsigned refs; /* the cache's own, and one per reply still holding it */
	struct timeval at;
};

struct control {
	struct engine *eng;
	struct control_blob *cache[2]; /* [0] /metrics, [1] /status */
	size_t metrics_len;            /* the size of the last /metrics rendered */
	struct control_cfg cfg;        /* a copy: it outlives the config it came from */
	struct control_listener *ls;
	size_t nls;
	struct control_conn *conns;
	uint64_t nconns, refused;
	uint64_t nkind[2];    /* open connections by kind: [0] TCP, [1] unix; each capped */
	struct event *resume; /* accepting again after EMFILE */
	struct event *expire; /* drops the cache once it is stale: it is not held idle */
	struct event *trim;   /* gives the heap back after large renderings were freed */
	struct control_disable *dis;
	size_t ndis;
};

/* ---------------------------------------------------------------- the disables */

static void control_disable_clear(struct control_disable *d)
{
	free(d->service);
	free(d->reason);
	free(d->by);
}

const struct control_disable *control_disabled(const struct control *ctl, const char *service)
{
	for (size_t i = 0; ctl != NULL && i < ctl->ndis; i++)
		if (strcmp(ctl->dis[i].service, service) == 0)
			return &ctl->dis[i];
	return NULL;
}

void control_counts(const struct control *ctl, uint64_t *open, uint64_t *refused)
{
	*open = ctl != NULL ? ctl->nconns : 0;
	*refused = ctl != NULL ? ctl->refused : 0;
}

static void control_drop(struct control *ctl, size_t i)
{
	control_disable_clear(&ctl->dis[i]);
	ctl->dis[i] = ctl->dis[--ctl->ndis];
}

/* 0, or -1 when out of memory (nothing changed). */
static int control_put(struct control *ctl, const char *service, const char *reason, const char *by,
                       const struct timespec *at)
{
	struct control_disable d = {strdup(service), strdup(reason), strdup(by), *at};
	if (d.service == NULL || d.reason == NULL || d.by == NULL) {
		control_disable_clear(&d);
		return -1;
	}
	for (size_t i = 0; i < ctl->ndis; i++)
		if (strcmp(ctl->dis[i].service, service) == 0) {
			control_disable_clear(&ctl->dis[i]);
			ctl->dis[i] = d;
			return 0;
		}
	struct control_disable *v = realloc(ctl->dis, (ctl->ndis + 1) * sizeof(*v));
	if (v == NULL) {
		control_disable_clear(&d);
		return -1;
	}
	ctl->dis = v;
	ctl->dis[ctl->ndis++] = d;
	return 0;
}

static void control_save(struct control *ctl)
{
	char why[512];
	if (ctl->cfg.state_file == NULL)
		return;
	json_t *root = json_object(), *o = json_object();
	for (size_t i = 0; i < ctl->ndis; i++) {
		char at[40];
		status_time(&ctl->dis[i].at, at, sizeof(at));
		json_object_set_new(o, ctl->dis[i].service,
		                    json_pack("{s:s, s:s, s:s}", "reason", ctl->dis[i].reason, "by",
		                              ctl->dis[i].by, "at", at));
	}
	json_object_set_new(root, "disabled", o);
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	if (text == NULL || atomic_replace(ctl->cfg.state_file, text, strlen(text), 0600,
	                                   ATOMIC_DURABLE, why, sizeof(why)) != 0)
		log_err("control: cannot write the state file %s: %s", ctl->cfg.state_file,
		        text == NULL ? "out of memory" : why);
	free(text);
}

static void control_load(struct control *ctl)
{
	json_error_t jerr;
	if (ctl->cfg.state_file == NULL || access(ctl->cfg.state_file, F_OK) != 0)
		return;
	json_t *root = json_load_file(ctl->cfg.state_file, JSON_REJECT_DUPLICATES, &jerr);
	json_t *o = json_object_get(root, "disabled");
	const char *name;
	json_t *v;
	if (!json_is_object(o)) {
		log_err("control: %s: %s; no service is disabled from it", ctl->cfg.state_file,
		        root == NULL ? jerr.text : "no \"disabled\" object");
		json_decref(root);
		return;
	}
	json_object_foreach(o, name, v)
	{
		const char *reason = json_string_value(json_object_get(v, "reason"));
		const char *by = json_string_value(json_object_get(v, "by"));
		const char *at = json_string_value(json_object_get(v, "at"));
		struct timespec ts = {0, 0};
		if (reason == NULL || by == NULL) {
			log_err("control: %s: the entry of %s is not understood; skipped",
			        ctl->cfg.state_file, name);
			continue;
		}
		status_time_parse(at, &ts);
		if (control_put(ctl, name, reason, by, &ts) != 0)
			log_err("control: out of memory reading %s", ctl->cfg.state_file);
	}
	json_decref(root);
	if (ctl->ndis > 0)
		log_info("control: %zu service%s disabled through the API (state file %s)",
		         ctl->ndis, ctl->ndis == 1 ? "" : "s", ctl->cfg.state_file);
}

/* The table onto the services: a disable of a service that left the config goes. */
static void control_apply(struct engine *eng)
{
	struct control *ctl = eng->ctl;
	bool dropped = false;

	for (size_t i = 0; ctl != NULL && i < ctl->ndis;) {
		if (eng->cfg != NULL && !eng->hold &&
		    engine_service_find(eng, ctl->dis[i].service) == NULL) {
			log_info("control: service %s left the configuration; its API disable goes",
			         ctl->dis[i].service);
			control_drop(ctl, i);
			dropped = true;
			continue;
		}
		i++;
	}
	for (size_t i = 0; i < eng->nservices; i++) {
		struct engine_service *es = eng->services[i];
		const struct control_disable *d = control_disabled(ctl, es->cfg->name);
		if (d != NULL && !es->svc->disabled_api) {
			char why[CONTROL_REASON_MAX + 160];
			snprintf(why, sizeof(why), "disabled through the API by %s: %s", d->by,
			         d->reason);
			engine_service_disable_api(es, true, why);
		} else if (d == NULL && es->svc->disabled_api) {
			engine_service_disable_api(es, false, "the control endpoint is off");
		}
	}
	if (dropped)
		control_save(ctl);
}

/* ---------------------------------------------------------------- the cache */

static void blob_unref(struct control_blob *b)
{
	if (b != NULL && --b->refs == 0) {
		struct control *ctl = b->ctl;
		size_t len = b->len;
		if (b->ev != NULL)
			evbuffer_free(b->ev);
		else
			free(b->data);
		free(b);
		/* Rendering a large one left the heap as large, in holes. */
		if (len >= CONTROL_TRIM_MIN && !evtimer_pending(ctl->trim, NULL)) {
			struct timeval tv;
			ms_to_tv(&tv, CONTROL_TRIM_DELAY_MS);
			evtimer_add(ctl->trim, &tv);
		}
	}
}

static void control_trim_cb(evutil_socket_t fd, short what, void *arg)
{
	mem_trim("/metrics or /status renderings");
}

static void blob_cleanup(const void *data, size_t len, void *arg)
{
	blob_unref(arg);
}

/* Forget what was rendered: a write changed the status. */
static void control_cache_drop(struct control *ctl)
{
	for (int i = 0; i < 2; i++) {
		blob_unref(ctl->cache[i]);
		ctl->cache[i] = NULL;
	}
}

static void control_expire_cb(evutil_socket_t fd, short what, void *arg)
{
	control_cache_drop(arg); /* replies still being written hold their blob */
}

/* The cached rendering of kind (0 /metrics, 1 /status), fresh enough, or a new one. */
static struct control_blob *control_render(struct control *ctl, int kind)
{
	struct control_blob *b = ctl->cache[kind];
	struct timeval now, age, t1;
	mono_now(&now);
	if (b != NULL) {
		timersub(&now, &b->at, &age);
		if (age.tv_sec == 0 && age.tv_usec < CONTROL_CACHE_MS * 1000)
			return b;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	b->ctl = ctl;
	b->at = now;
	b->refs = 1;
	if (kind == 0) {
		struct evbuffer *e = evbuffer_new();
		/* Room for the last rendering's size and a little more, in one chain: its own
		 * mapping (mem_init), rather than thousands of small chains scattered through
		 * the heap that outlive the rendering as holes. That chain is then the blob's
		 * data as it is (pulling up one chain copies nothing): no second copy of
		 * megabytes while the first one is still there. */
		if (e != NULL && ctl->metrics_len > 0)
			evbuffer_expand(e, ctl->metrics_len + ctl->metrics_len / 8);
		if (e == NULL || metrics_render(ctl->eng, e) != 0 ||
		    (b->data = (char *)evbuffer_pullup(e, -1)) == NULL) {
			if (e != NULL)
				evbuffer_free(e);
			free(b);
			return NULL;
		}
		b->ev = e;
		b->len = evbuffer_get_length(e);
		ctl->metrics_len = b->len;
	} else {
		json_t *j = status_all(ctl->eng);
		char *text = j != NULL ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
		                                               JSON_REAL_PRECISION(6))
		                       : NULL;
		json_decref(j);
		/* The newline added in place (a large text is its own mapping: realloc moves
		 * no bytes), not by a copy of the whole text. */
		size_t n = text != NULL ? strlen(text) : 0;
		char *t = text != NULL ? realloc(text, n + 2) : NULL;
		if (t == NULL) {
			free(text);
			free(b);
			return NULL;
		}
		t[n] = '\n';
		t[n + 1] = '\0';
		b->data = t;
		b->len = n + 1;
	}
	mono_now(&t1);
	timersub(&t1, &now, &age);
	log_debug("control: %s: %zu bytes in %.1fms", kind == 0 ? "/metrics" : "/status", b->len,
	          age.tv_sec * 1000.0 + age.tv_usec / 1000.0);
	blob_unref(ctl->cache[kind]);
	ctl->cache[kind] = b;
	struct timeval ttl;
	ms_to_tv(&ttl, CONTROL_CACHE_MS);
	evtimer_add(ctl->expire, &ttl);
	return b;
}

/* ---------------------------------------------------------------- connections */

static void conn_free(struct control_conn *c)
{
	struct control *ctl = c->ctl;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		ctl->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	ctl->nconns--;
	ctl->nkind[c->is_unix]--;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	if (c->deadline != NULL)
		event_free(c->deadline);
	free(c);
}

static const char *http_reason(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 411:
		return "Length Required";
	case 413:
		return "Payload Too Large";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

/* Queue the reply (the body is moved out of body) and close once it is written. */
static void conn_reply(struct control_conn *c, int code, const char *type, struct evbuffer *body,
                       const char *extra)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	if (c->replied)
		return;
	c->replied = true;
	evbuffer_add_printf(out,
	                    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	                    "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
	                    code, http_reason(code), type, evbuffer_get_length(body),
	                    extra != NULL ? extra : "");
	evbuffer_add_buffer(out, body);
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_enable(c->bev, EV_WRITE);
}

static void conn_json(struct control_conn *c, int code, json_t *j, const char *extra)
{
	struct evbuffer *b = evbuffer_new();
	char *text = j != NULL ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	                                               JSON_REAL_PRECISION(6))
	                       : NULL;
	json_decref(j);
	if (b == NULL) {
		free(text);
		conn_free(c);
		return;
	}
	if (text != NULL)
		evbuffer_add_printf(b, "%s\n", text);
	else
		evbuffer_add_printf(b, "{\"error\": \"out of memory\"}\n"), code = 500;
	free(text);
	conn_reply(c, code, "application/json", b, extra);
	evbuffer_free(b);
}

/* A one-line JSON error. */
static void conn_error(struct control_conn *c, int code, const char *msg, const char *extra)
{
	struct evbuffer *b = evbuffer_new();
	json_t *j = json_pack("{s:s}", "error", msg);
	char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (b == NULL || text == NULL) {
		free(text);
		if (b != NULL)
			evbuffer_free(b);
		conn_free(c);
		return;
	}
	evbuffer_add_printf(b, "%s\n", text);
	free(text);
	conn_reply(c, code, "application/json", b, extra);
	evbuffer_free(b);
}

/* Read the token file now (it may have been replaced), refusing one others can read. */
static bool conn_token_ok(struct control_conn *c, const char *given)
{
	const char *path = c->ctl->cfg.token_file;
	char why[512], tok[CONTROL_TOKEN_MAX + 1];
	if (path == NULL)
		return false;
	if (control_token_file_ok(path, why, sizeof(why)) != 0) {
		log_err("control: token file refused: %s; writes over TCP are refused", why);
		return false;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	ssize_t n = fd >= 0 ? read(fd, tok, CONTROL_TOKEN_MAX) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0) {
		log_err("control: cannot read the token file %s: %s", path,
		        n == 0 ? "it is empty" : strerror(errno));
		return false;
	}
	while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r' || tok[n - 1] == ' '))
		n--;
	tok[n] = '\0';
	if (n == 0)
		return false;
	/* Constant time in the given token: every byte is looked at, whatever matched. */
	size_t glen = strlen(given), tlen = (size_t)n;
	unsigned diff = glen != tlen;
	for (size_t i = 0; i < glen; i++)
		diff |= (unsigned char)given[i] ^ (unsigned char)tok[i < tlen ? i : 0];
	explicit_bzero(tok, sizeof(tok));
	return diff == 0;
}

/* Who may write: "uid N" over the unix socket, "token" with a valid token; NULL: nobody. */
static const char *conn_writer(struct control_conn *c, char *buf, size_t len)
{
	if (c->is_unix) {
		snprintf(buf, len, "uid %u", (unsigned)c->uid);
		return buf;
	}
	if (strncasecmp(c->auth, "Bearer ", 7) == 0 && conn_token_ok(c, c->auth + 7))
		return "token";
	return NULL;
}

/* The reason of a disable from the body: {"reason": "..."} or nothing. */
static int conn_reason(struct control_conn *c, struct evbuffer *body, char *out, size_t len,
                       const char **err)
{
	size_t n = evbuffer_get_length(body);
	snprintf(out, len, "no reason given");
	if (n == 0)
		return 0;
	json_error_t jerr;
	json_t *j = json_loadb((const char *)evbuffer_pullup(body, -1), n, JSON_REJECT_DUPLICATES,
	                       &jerr);
	const char *key;
	json_t *v;
	*err = "the body must be a JSON object such as {\"reason\": \"kernel upgrade\"}";
	if (!json_is_object(j)) {
		json_decref(j);
		return -1;
	}
	json_object_foreach(j, key, v)
	{
		if (strcmp(key, "reason") != 0) {
			*err = "unknown key in the body: only \"reason\" is known";
			json_decref(j);
			return -1;
		}
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > CONTROL_REASON_MAX) {
			*err = "\"reason\" must be a non-empty string of at most 200 bytes";
			json_decref(j);
			return -1;
		}
		size_t k = 0;
		for (const char *p = json_string_value(v); *p != '\0' && k + 1 < len; p++)
			out[k++] = (unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p;
		out[k] = '\0';
	}
	json_decref(j);
	return 0;
}

static void conn_write(struct control_conn *c, const char *name, bool disable,
                       struct evbuffer *body)
{
	struct control *ctl = c->ctl;
	char who[64], reason[CONTROL_REASON_MAX + 1], why[CONTROL_REASON_MAX + 160];
	const char *by = conn_writer(c, who, sizeof(who)), *err = NULL;

	if (by == NULL) {
		conn_error(c, 403,
		           ctl->cfg.token_file != NULL
		                   ? "writes need the unix socket or a valid Authorization: Bearer "
		                     "token"
		                   : "writes need the unix socket (no control.token_file is set)",
		           NULL);
		return;
	}
	if (disable && conn_reason(c, body, reason, sizeof(reason), &err) != 0) {
		conn_error(c, 400, err, NULL);
		return;
	}
	struct engine_service *es = engine_service_find(ctl->eng, name);
	if (es == NULL) {
		conn_error(c, 404, "no service of that name", NULL);
		return;
	}
	if (disable) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		if (control_put(ctl, name, reason, by, &now) != 0) {
			conn_error(c, 500, "out of memory", NULL);
			return;
		}
		snprintf(why, sizeof(why), "disabled through the API by %s: %s", by, reason);
	} else {
		for (size_t i = 0; i < ctl->ndis; i++)
			if (strcmp(ctl->dis[i].service, name) == 0) {
				control_drop(ctl, i);
				break;
			}
		snprintf(why, sizeof(why), "enabled through the API by %s", by);
	}
	control_cache_drop(ctl);
	log_info("control: %s %s by %s%s%s", disable ? "disable" : "enable", name, by,
	         disable ? ": " : "", disable ? reason : "");
	control_save(ctl);
	engine_service_disable_api(es, disable, why);
	conn_json(c, 200, status_service(ctl->eng, es), NULL);
}

static void conn_dispatch(struct control_conn *c, struct evbuffer *body)
{
	struct control *ctl = c->ctl;
	char *q = strchr(c->target, '?');
	if (q != NULL)
		*q = '\0'; /* no query parameter is known: ignored */
	bool get = strcmp(c->method, "GET") == 0, post = strcmp(c->method, "POST") == 0;
	const char *t = c->target;

	if (strcmp(t, "/metrics") == 0 || strcmp(t, "/status") == 0) {
		if (!get) {
			conn_error(c, 405, "only GET is allowed here", "Allow: GET\r\n");
			return;
		}
		int kind = t[1] == 's';
		struct control_blob *blob = control_render(ctl, kind);
		struct evbuffer *b = evbuffer_new();
		if (blob == NULL || b == NULL ||
		    evbuffer_add_reference(b, blob->data, blob->len, blob_cleanup, blob) != 0) {
			if (b != NULL)
				evbuffer_free(b);
			conn_error(c, 500, "out of memory", NULL);
			return;
		}
		blob->refs++; /* until the reply's bytes are written */
		conn_reply(c, 200,
		           kind ? "application/json" : "text/plain; version=0.0.4; charset=utf-8",
		           b, NULL);
		evbuffer_free(b);
		return;
	}
	if (strncmp(t, "/status/", 8) == 0) {
		if (!get) {
			conn_error(c, 405, "only GET is allowed here", "Allow: GET\r\n");
			return;
		}
		char *name = evhttp_uridecode(t + 8, 0, NULL);
		struct engine_service *es = name ? engine_service_find(ctl->eng, name) : NULL;
		free(name);
		if (es == NULL)
			conn_error(c, 404, "no service of that name", NULL);
		else
			conn_json(c, 200, status_service(ctl->eng, es), NULL);
		return;
	}
	if (strncmp(t, "/services/", 10) == 0) {
		const char *slash = strrchr(t + 10, '/');
		bool disable = slash != NULL && strcmp(slash, "/disable") == 0;
		bool enable = slash != NULL && strcmp(slash, "/enable") == 0;
		if (!disable && !enable) {
			conn_error(c, 404, "no such path: POST /services/NAME/disable or /enable",
			           NULL);
			return;
		}
		if (!post) {
			conn_error(c, 405, "only POST is allowed here", "Allow: POST\r\n");
			return;
		}
		char enc[sizeof(c->target)];
		snprintf(enc, sizeof(enc), "%.*s", (int)(slash - (t + 10)), t + 10);
		char *name = evhttp_uridecode(enc, 0, NULL);
		if (name == NULL) {
			conn_error(c, 500, "out of memory", NULL);
			return;
		}
		conn_write(c, name, disable, body);
		free(name);
		return;
	}
	conn_error(c, 404,
	           "no such path: GET /metrics, /status, /status/NAME; POST "
	           "/services/NAME/disable or /enable",
	           NULL);
}

/* The request line and headers, once complete. 0, or -1 when a reply (an error) is queued. */
static int conn_head(struct control_conn *c, char *head)
{
	char *save = NULL, *line = strtok_r(head, "\n", &save);
	char version[16];
	c->body_need = 0;
	if (line == NULL || sscanf(line, "%7s %1023s %15s", c->method, c->target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7) != 0 || c->target[0] != '/') {
		conn_error(c, 400, "not an HTTP/1.x request line", NULL);
		return -1;
	}
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		size_t l = strlen(line);
		if (l > 0 && line[l - 1] == '\r')
			line[--l] = '\0';
		char *colon = strchr(line, ':');
		if (colon == NULL) {
			if (l == 0)
				continue;
			conn_error(c, 400, "a header line without a colon", NULL);
			return -1;
		}
		*colon = '\0';
		char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (strcasecmp(line, "Content-Length") == 0) {
			char *end;
			errno = 0;
			unsigned long long n = strtoull(v, &end, 10);
			if (errno != 0 || end == v || *end != '\0' || v[0] == '-') {
				conn_error(c, 400, "a bad Content-Length", NULL);
				return -1;
			}
			if (n > CONTROL_MAX_BODY) {
				conn_error(c, 413, "the body is larger than 4096 bytes", NULL);
				return -1;
			}
			c->body_need = (size_t)n;
		} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
			conn_error(c, 411, "send the body with a Content-Length", NULL);
			return -1;
		} else if (strcasecmp(line, "Authorization") == 0) {
			snprintf(c->auth, sizeof(c->auth), "%s", v);
		}
	}
	c->have_head = true;
	return 0;
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct control_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (c->replied) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (!c->have_head) {
		struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
		size_t skip = 4;
		if (end.pos < 0) {
			end = evbuffer_search(in, "\n\n", 2, NULL);
			skip = 2;
		}
		if (end.pos < 0) {
			if (evbuffer_get_length(in) > CONTROL_MAX_HEADER)
				conn_error(c, 431, "the request head is larger than 8192 bytes",
				           NULL);
			return;
		}
		if ((size_t)end.pos > CONTROL_MAX_HEADER) {
			conn_error(c, 431, "the request head is larger than 8192 bytes", NULL);
			return;
		}
		char *head = malloc((size_t)end.pos + 1);
		if (head == NULL) {
			conn_free(c);
			return;
		}
		evbuffer_remove(in, head, (size_t)end.pos);
		head[end.pos] = '\0';
		evbuffer_drain(in, skip);
		if (memchr(head, '\0', (size_t)end.pos) != NULL) {
			free(head);
			conn_error(c, 400, "a NUL byte in the request head", NULL);
			return;
		}
		int rc = conn_head(c, head);
		free(head);
		if (rc != 0)
			return;
	}
	if (evbuffer_get_length(in) < c->body_need) {
		if (evbuffer_get_length(in) > CONTROL_MAX_BODY)
			conn_error(c, 413, "the body is larger than 4096 bytes", NULL);
		return;
	}
	struct evbuffer *body = evbuffer_new();
	if (body == NULL) {
		conn_free(c);
		return;
	}
	evbuffer_remove_buffer(in, body, c->body_need);
	conn_dispatch(c, body);
	evbuffer_free(body);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct control_conn *c = arg;
	if (c->replied && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_free(c); /* the whole reply went out */
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct control_conn *c = arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		/* EOF with the reply still to write: a client that shut its side may still
		 * read; the deadline bounds the rest. */
		if (c->replied && !(what & BEV_EVENT_ERROR) &&
		    evbuffer_get_length(bufferevent_get_output(bev)) > 0)
			return;
		conn_free(c);
	}
}

static void conn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	conn_free(arg); /* slow or silent: the request had its time */
}

static void conn_new(struct control_listener *l, int fd)
{
	struct control *ctl = l->ctl;
	struct control_conn *c = calloc(1, sizeof(*c));
	struct event_base *base = ctl->eng->base;
	if (c == NULL) {
		close(fd);
		return;
	}
	c->ctl = ctl;
	c->is_unix = l->is_unix;
	if (c->is_unix) {
		struct ucred cr;
		socklen_t len = sizeof(cr);
		c->uid = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 ? cr.uid
		                                                                 : (uid_t)-1;
	}
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->deadline = evtimer_new(base, conn_deadline_cb, c);
	c->next = ctl->conns;
	if (ctl->conns != NULL)
		ctl->conns->prev = c;
	ctl->conns = c;
	ctl->nconns++;
	ctl->nkind[c->is_unix]++;
	if (c->bev == NULL || c->deadline == NULL) {
		if (c->bev == NULL)
			close(fd);
		conn_free(c);
		return;
	}
	struct timeval tv;
	ms_to_tv(&tv, CONTROL_REQUEST_MS);
	evtimer_add(c->deadline, &tv);
	/* Read no more than a request may be, in small bites. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, CONTROL_MAX_HEADER + CONTROL_MAX_BODY + 8);
	/* A /metrics of 1,000 services is about 3 MB: written in libevent's default 16 KiB
	 * bites it costs a starved loop hundreds of wake-ups. */
	bufferevent_set_max_single_write(c->bev, 256 * 1024);
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ);
}

/* ---------------------------------------------------------------- listeners */

static void control_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control *ctl = arg;
	for (size_t i = 0; i < ctl->nls; i++)
		event_add(ctl->ls[i].ev, NULL);
}

static void control_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct control_listener *l = arg;
	struct control *ctl = l->ctl;

	for (int i = 0; i < CONTROL_ACCEPT_BURST; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* The pending connection would wake us at once, again and again. */
				struct timeval tv;
				log_warn("control: cannot accept: %s; pausing for %dms",
				         strerror(errno), CONTROL_PAUSE_MS);
				for (size_t k = 0; k < ctl->nls; k++)
					event_del(ctl->ls[k].ev);
				ms_to_tv(&tv, CONTROL_PAUSE_MS);
				evtimer_add(ctl->resume, &tv);
			}
			return;
		}
		/* Each kind has its own cap: a flood over TCP leaves the unix socket usable. */
		if (ctl->nkind[l->is_unix] >= CONTROL_MAX_CONNS) {
			ctl->refused++;
			close(fd);
			continue;
		}
		conn_new(l, fd);
	}
}

static int control_bind_unix(struct control *ctl, const char *path, char *why, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	/* A socket file left by a previous instance is replaced; anything else is not. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(why, len, "%s exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	mode_t old = umask(0177); /* no moment with a wider mode than asked */
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc != 0)
		goto fail;
	gid_t gid = (gid_t)-1;
	if (ctl->cfg.socket_group != NULL) {
		struct group *g = getgrnam(ctl->cfg.socket_group);
		if (g == NULL) {
			snprintf(why, len, "no group named \"%s\"", ctl->cfg.socket_group);
			close(fd);
			unlink(path);
			return -1;
		}
		gid = g->gr_gid;
	}
	if ((gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) != 0) ||
	    chmod(path, ctl->cfg.socket_mode) != 0 || listen(fd, 128) != 0) {
		snprintf(why, len, "%s", strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
fail:
	snprintf(why, len, "%s", strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int control_bind_tcp(const struct control_addr *a, char *why, size_t len)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	bool v6 = strchr(a->host, ':') != NULL;
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)a->port);
		inet_pton(AF_INET6, a->host, &s6->sin6_addr);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)a->port);
		inet_pton(AF_INET, a->host, &s4->sin_addr);
		sl = sizeof(*s4);
	}
	int one = 1, fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    (v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
	    bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 128) != 0) {
		snprintf(why, len, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void control_listeners_close(struct control *ctl)
{
	for (size_t i = 0; i < ctl->nls; i++) {
		struct control_listener *l = &ctl->ls[i];
		if (l->ev != NULL)
			event_free(l->ev);
		if (l->fd >= 0)
			close(l->fd);
		if (l->path != NULL)
			unlink(l->path);
		free(l->name);
		free(l->path);
	}
	free(ctl->ls);
	ctl->ls = NULL;
	ctl->nls = 0;
}

static int control_listeners_open(struct control *ctl)
{
	ctl->ls = calloc(ctl->cfg.nlisten + 1, sizeof(*ctl->ls));
	if (ctl->ls == NULL)
		return -1;
	for (size_t i = 0; i < ctl->cfg.nlisten; i++) {
		const char *name = ctl->cfg.listen[i];
		struct control_addr a;
		char why[512];
		int fd = -1;
		if (control_addr_parse(name, &a) != 0)
			snprintf(why, sizeof(why), "not an address");
		else if (a.is_unix)
			fd = control_bind_unix(ctl, a.path, why, sizeof(why));
		else
			fd = control_bind_tcp(&a, why, sizeof(why));
		if (fd < 0) {
			log_err("control: cannot listen on %s: %s; going on without it", name, why);
			continue;
		}
		struct control_listener *l = &ctl->ls[ctl->nls];
		l->ctl = ctl;
		l->fd = fd;
		l->is_unix = a.is_unix;
		l->name = strdup(name);
		l->path = a.is_unix ? strdup(a.path) : NULL;
		l->ev = event_new(ctl->eng->base, fd, EV_READ | EV_PERSIST, control_accept_cb, l);
		ctl->nls++;
		if (l->name == NULL || (a.is_unix && l->path == NULL) || l->ev == NULL ||
		    event_add(l->ev, NULL) != 0)
			return -1;
		log_info("control: listening on %s", name);
	}
	return 0;
}

static int control_cfg_copy(struct control_cfg *dst, const struct control_cfg *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->socket_mode = src->socket_mode;
	dst->nlisten = src->nlisten;
	dst->listen = calloc(src->nlisten + 1, sizeof(*dst->listen));
	if (dst->listen == NULL)
		return -1;
	for (size_t i = 0; i < src->nlisten; i++)
		if ((dst->listen[i] = strdup(src->listen[i])) == NULL)
			return -1;
#define COPY(f)                                                                                    \
	if (src->f != NULL && (dst->f = strdup(src->f)) == NULL)                                   \
		return -1;
	COPY(socket_group)
	COPY(token_file)
	COPY(state_file)
#undef COPY
	return 0;
}

static struct control *control_new(struct engine *eng)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL)
		return NULL;
	ctl->eng = eng;
	ctl->resume = evtimer_new(eng->base, control_resume_cb, ctl);
	ctl->expire = evtimer_new(eng->base, control_expire_cb, ctl);
	ctl->trim = evtimer_new(eng->base, control_trim_cb, ctl);
	if (ctl->resume == NULL || ctl->expire == NULL || ctl->trim == NULL ||
	    control_cfg_copy(&ctl->cfg, &eng->cfg->control) != 0 ||
	    control_listeners_open(ctl) != 0) {
		control_free(ctl);
		return NULL;
	}
	return ctl;
}

int control_start(struct engine *eng)
{
	if (eng->cfg == NULL || eng->hold || eng->cfg->control.nlisten == 0)
		return 0;
	if ((eng->ctl = control_new(eng)) == NULL) {
		log_err("control: out of memory");
		return -1;
	}
	control_load(eng->ctl);
	control_apply(eng);
	return 0;
}

void control_changed(struct control *ctl)
{
	if (ctl != NULL)
		control_cache_drop(ctl);
}

void control_reload(struct engine *eng)
{
	struct control *ctl = eng->ctl;
	if (eng->cfg == NULL || eng->hold)
		return;
	if (ctl != NULL)
		control_cache_drop(ctl); /* another config: other services, other checks */
	if (ctl == NULL) {
		if (control_start(eng) != 0)
			log_err("control: cannot start the control endpoint");
		return;
	}
	if (!control_cfg_equal(&ctl->cfg, &eng->cfg->control)) {
		if (eng->cfg->control.nlisten == 0) {
			log_info("control: the control section is gone: closing the endpoint");
			while (ctl->ndis > 0)
				control_drop(ctl, 0);
			control_save(
			        ctl); /* its state file too: none comes back with a later one */
			control_free(ctl);
			eng->ctl = NULL;
			control_apply(eng); /* every API disable goes with it */
			return;
		}
		/* Connections in flight finish; the listeners are bound again. */
		struct control_cfg cfg;
		if (control_cfg_copy(&cfg, &eng->cfg->control) != 0) {
			control_cfg_free(&cfg);
			log_err("control: out of memory; keeping the previous listeners");
			return;
		}
		bool state_moved = (ctl->cfg.state_file == NULL) != (cfg.state_file == NULL) ||
		                   (cfg.state_file && strcmp(ctl->cfg.state_file, cfg.state_file));
		control_listeners_close(ctl);
		control_cfg_free(&ctl->cfg);
		ctl->cfg = cfg;
		log_info("control: the control section changed: listening again");
		if (control_listeners_open(ctl) != 0)
			log_err("control: out of memory opening the listeners");
		if (state_moved)
			control_save(ctl); /* the disables in force go to the new file */
	}
	control_apply(eng);
}

void control_free(struct control *ctl)
{
	if (ctl == NULL)
		return;
	while (ctl->conns != NULL)
		conn_free(ctl->conns);
	control_cache_drop(ctl);
	control_listeners_close(ctl);
	if (ctl->resume != NULL)
		event_free(ctl->resume);
	if (ctl->expire != NULL)
		event_free(ctl->expire);
	if (ctl->trim != NULL)
		event_free(ctl->trim);
	for (size_t i = 0; i < ctl->ndis; i++)
		control_disable_clear(&ctl->dis[i]);
	free(ctl->dis);
	control_cfg_free(&ctl->cfg);
	free(ctl);
}
