/* The control endpoint's client: `healthd status [SERVICE]`, `healthd disable SERVICE`,
 * `healthd enable SERVICE`. One request with libcurl (a one-shot command may block: it is
 * not the daemon), over the unix socket by default or to a URL; the JSON answer is printed
 * for a person, or as it came with --json. */
#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_status.h"
#include "control.h"
#include "exitcode.h"

#define CLI_TIMEOUT_MS 10000
#define CLI_REPLY_MAX  (64 * 1024 * 1024)

const char cli_status_usage[] =
        "usage: healthd status [-s SOCKET | --url URL] [--json] [SERVICE]\n"
        "\n"
        "Asks a running healthd (its control endpoint) what it decided: a table of the\n"
        "services with their state, how long they have been in it and the reason of the\n"
        "last change; with SERVICE, that service's detail and each check's last result.\n"
        "\n"
        "  -s, --socket SOCKET  the control unix socket (default " CLI_STATUS_SOCKET ")\n"
        "      --url URL        the control endpoint over TCP, e.g. http://127.0.0.1:9187\n"
        "      --json           print the JSON as healthd sent it\n"
        "  -h, --help           this text\n"
        "\n"
        "exit codes: 0 ok, 2 usage error, 3 healthd could not be asked or refused\n";

const char cli_disable_usage[] =
        "usage: healthd disable SERVICE [--reason TEXT] [-s SOCKET | --url URL\n"
        "                       [--token-file PATH]] [--json]\n"
        "\n"
        "Disables SERVICE through the control endpoint (maintenance): its routes do what\n"
        "on_disabled says (withdrawn by default) until `healthd enable SERVICE`. The\n"
        "disable survives reloads, and restarts when control.state_file is set. It adds to\n"
        "a disable file: the service is enabled only when neither holds.\n"
        "\n"
        "  -r, --reason TEXT     why (shown in status; at most 200 bytes)\n"
        "  -s, --socket SOCKET   the control unix socket (default " CLI_STATUS_SOCKET ")\n"
        "      --url URL         the control endpoint over TCP; needs --token-file\n"
        "      --token-file PATH the file holding control.token_file's token\n"
        "      --json            print the service's JSON as healthd sent it\n"
        "  -h, --help            this text\n"
        "\n"
        "exit codes: 0 ok, 2 usage error, 3 healthd could not be asked or refused\n";

const char cli_enable_usage[] =
        "usage: healthd enable SERVICE [-s SOCKET | --url URL [--token-file PATH]] [--json]\n"
        "\n"
        "Takes back a `healthd disable SERVICE`; the service comes back once its checks\n"
        "rise (and no disable file holds it).\n"
        "\n"
        "  -s, --socket SOCKET   the control unix socket (default " CLI_STATUS_SOCKET ")\n"
        "      --url URL         the control endpoint over TCP; needs --token-file\n"
        "      --token-file PATH the file holding control.token_file's token\n"
        "      --json            print the service's JSON as healthd sent it\n"
        "  -h, --help            this text\n"
        "\n"
        "exit codes: 0 ok, 2 usage error, 3 healthd could not be asked or refused\n";

struct cli_opts {
	const char *cmd, *socket, *url, *token_file, *reason, *service;
	bool json;
};

struct cli_buf {
	char *data;
	size_t len;
};

static size_t cli_write(char *p, size_t size, size_t n, void *arg)
{
	struct cli_buf *b = arg;
	size_t add = size * n;
	if (b->len + add > CLI_REPLY_MAX)
		return 0;
	char *d = realloc(b->data, b->len + add + 1);
	if (d == NULL)
		return 0;
	memcpy(d + b->len, p, add);
	b->data = d;
	b->len += add;
	b->data[b->len] = '\0';
	return add;
}

static char *cli_token(const char *path)
{
	char buf[CONTROL_REASON_MAX * 20 + 1];
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "healthd: cannot read the token file %s: %m\n", path);
		return NULL;
	}
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return strdup(buf);
}

/* One request; *code the HTTP status, *out the body (malloc'd). EXIT_OK or EXIT_RUNTIME. */
static int cli_request(const struct cli_opts *o, const char *path, const char *body, long *code,
                       char **out)
{
	struct cli_buf b = {NULL, 0};
	struct curl_slist *hdr = NULL;
	char *url = NULL, *token = NULL, auth[8192];
	int rc = EXIT_RUNTIME;
	CURL *c = curl_easy_init();
	if (c == NULL)
		return EXIT_RUNTIME;

	const char *base = o->url != NULL ? o->url : "http://localhost";
	size_t bl = strlen(base);
	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	if (asprintf(&url, "%.*s%s", (int)bl, base, path) < 0)
		goto out;
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (o->url == NULL)
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, o->socket);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)CLI_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, cli_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (o->token_file != NULL) {
		if ((token = cli_token(o->token_file)) == NULL)
			goto out;
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		hdr = curl_slist_append(hdr, auth);
	}
	if (body != NULL) {
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	CURLcode cr = curl_easy_perform(c);
	if (cr != CURLE_OK) {
		fprintf(stderr, "healthd: cannot ask healthd at %s: %s\n",
		        o->url != NULL ? o->url : o->socket, curl_easy_strerror(cr));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code);
	*out = b.data != NULL ? b.data : strdup("");
	b.data = NULL;
	rc = *out != NULL ? EXIT_OK : EXIT_RUNTIME;
out:
	if (token != NULL)
		explicit_bzero(token, strlen(token));
	free(token);
	explicit_bzero(auth, sizeof(auth));
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	free(url);
	free(b.data);
	return rc;
}

static void cli_age(long long s, char *buf, size_t len)
{
	if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

static const char *js(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s != NULL ? s : "-";
}

static void cli_print_table(const json_t *root)
{
	const json_t *svcs = json_object_get(root, "services"), *s;
	size_t i, w = 7;
	json_array_foreach(svcs, i, s)
	{
		size_t l = strlen(js(s, "name"));
		w = l > w ? l : w;
	}
	printf("%-*s  %-8s  %-7s  %s\n", (int)w, "SERVICE", "STATE", "AGE", "REASON");
	json_array_foreach(svcs, i, s)
	{
		char age[32];
		cli_age(json_integer_value(json_object_get(s, "since_seconds")), age, sizeof(age));
		printf("%-*s  %-8s  %-7s  %s\n", (int)w, js(s, "name"), js(s, "state"), age,
		       js(s, "reason"));
	}
	const json_t *rl = json_object_get(root, "last_reload");
	const json_t *errs = json_object_get(rl, "errors"), *e;
	if (json_array_size(errs) > 0) {
		printf("\n%s has errors (last reload %s):\n", js(root, "config_file"),
		       js(rl, "at"));
		json_array_foreach(errs, i, e) printf("  %s\n", json_string_value(e));
	}
}

static void cli_print_service(const json_t *s)
{
	char age[32];
	const json_t *dis = json_object_get(s, "disabled"), *api = json_object_get(dis, "api");
	cli_age(json_integer_value(json_object_get(s, "since_seconds")), age, sizeof(age));
	printf("service   %s\n", js(s, "name"));
	printf("state     %s for %s (since %s)\n", js(s, "state"), age, js(s, "since"));
	printf("reason    %s\n", js(s, "reason"));
	printf("route     %s (%s)\n", js(s, "action"),
	       json_is_true(json_object_get(s, "announced")) ? "announced" : "not announced");
	printf("disabled  file: %s, api: ",
	       json_is_true(json_object_get(dis, "file")) ? "yes" : "no");
	if (json_is_object(api))
		printf("yes, by %s at %s: %s\n", js(api, "by"), js(api, "at"), js(api, "reason"));
	else
		printf("no\n");
	const json_t *c;
	size_t i;
	json_array_foreach(json_object_get(s, "checks"), i, c)
	{
		printf("check %lld  %s (%s)\n", json_integer_value(json_object_get(c, "check")),
		       js(c, "label"), js(c, "state"));
		if (json_is_null(json_object_get(c, "status"))) {
			printf("          no result yet\n");
			continue;
		}
		printf("          %s: %s, %s, %.1fms at %s\n", js(c, "status"), js(c, "reason"),
		       js(c, "detail"), json_number_value(json_object_get(c, "latency_ms")),
		       js(c, "at"));
	}
}

static int cli_parse(int argc, char **argv, struct cli_opts *o, const char *usage)
{
	static const struct option opts[] = {
	        {"socket", required_argument, NULL, 's'},
	        {"url", required_argument, NULL, 'u'},
	        {"token-file", required_argument, NULL, 't'},
	        {"reason", required_argument, NULL, 'r'},
	        {"json", no_argument, NULL, 'j'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	bool status = strcmp(o->cmd, "status") == 0, disable = strcmp(o->cmd, "disable") == 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, disable ? "s:r:h" : "s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'u':
			o->url = optarg;
			break;
		case 't':
			if (status)
				goto bad;
			o->token_file = optarg;
			break;
		case 'r':
			if (!disable)
				goto bad;
			o->reason = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		default:
			goto bad;
		}
	}
	if (optind < argc)
		o->service = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "healthd: unexpected argument '%s'\n", argv[optind]);
		goto bad;
	}
	if (!status && o->service == NULL) {
		fprintf(stderr, "healthd: %s: SERVICE is required\n", o->cmd);
		goto bad;
	}
	if (o->url != NULL && strcmp(o->socket, CLI_STATUS_SOCKET) != 0) {
		fprintf(stderr, "healthd: -s and --url exclude each other\n");
		goto bad;
	}
	if (o->url != NULL && strncmp(o->url, "http://", 7) != 0 &&
	    strncmp(o->url, "https://", 8) != 0) {
		fprintf(stderr, "healthd: --url must start with http:// or https://\n");
		goto bad;
	}
	if (o->reason != NULL && (o->reason[0] == '\0' || strlen(o->reason) > CONTROL_REASON_MAX)) {
		fprintf(stderr, "healthd: --reason must be 1 to %d bytes\n", CONTROL_REASON_MAX);
		goto bad;
	}
	return 0;
bad:
	fputs(usage, stderr);
	return EXIT_USAGE;
}

int cli_status_main(int argc, char **argv)
{
	struct cli_opts o = {.cmd = argv[0], .socket = CLI_STATUS_SOCKET};
	const char *usage = strcmp(o.cmd, "status") == 0    ? cli_status_usage
	                    : strcmp(o.cmd, "disable") == 0 ? cli_disable_usage
	                                                    : cli_enable_usage;
	int rc = cli_parse(argc, argv, &o, usage);
	if (rc != 0)
		return rc < 0 ? EXIT_OK : rc;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "healthd: libcurl cannot start\n");
		return EXIT_RUNTIME;
	}

	char *path = NULL, *body = NULL, *reply = NULL;
	char *name = o.service != NULL ? curl_easy_escape(NULL, o.service, 0) : NULL;
	bool write = strcmp(o.cmd, "status") != 0;
	long code = 0;
	rc = EXIT_RUNTIME;
	if (o.service != NULL && name == NULL)
		goto out;
	if (!write && name == NULL)
		path = strdup("/status");
	else if (asprintf(&path, write ? "/services/%s/%s" : "/status/%s", name, o.cmd) < 0)
		path = NULL;
	if (write) {
		json_t *j =
		        o.reason != NULL ? json_pack("{s:s}", "reason", o.reason) : json_object();
		body = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
	}
	if (path == NULL || (write && body == NULL))
		goto out;
	if (cli_request(&o, path, body, &code, &reply) != EXIT_OK)
		goto out;

	json_error_t jerr;
	json_t *root = json_loads(reply, 0, &jerr);
	if (code != 200) {
		const char *msg = json_string_value(json_object_get(root, "error"));
		fprintf(stderr, "healthd: %s: HTTP %ld: %s\n", o.cmd, code, msg ? msg : reply);
	} else if (root == NULL) {
		fprintf(stderr, "healthd: %s: healthd's answer is not JSON: %s\n", o.cmd,
		        jerr.text);
	} else {
		if (o.json)
			fputs(reply, stdout);
		else if (!write && o.service == NULL)
			cli_print_table(root);
		else
			cli_print_service(root);
		rc = EXIT_OK;
	}
	json_decref(root);
out:
	curl_free(name);
	free(path);
	free(body);
	free(reply);
	curl_global_cleanup();
	return rc;
}
