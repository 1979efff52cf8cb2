/* Logging to stderr or syslog; stdout is the speaker's and never written here. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"

static bool log_syslog;
static int log_max = LOG_INFO;
static const char *log_ident = "healthd";

void log_init(const char *ident, bool use_syslog, int facility, int level)
{
	log_ident = ident;
	log_syslog = use_syslog;
	log_max = level;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void log_set_level(int level)
{
	log_max = level;
}

int log_level_parse(const char *name)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
	        {"error", LOG_ERR},
	        {"warning", LOG_WARNING},
	        {"info", LOG_INFO},
	        {"debug", LOG_DEBUG},
	};
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcasecmp(name, levels[i].name) == 0)
			return levels[i].level;
	return -1;
}

static const char *log_prio_name(int prio)
{
	switch (prio) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void log_msg(int prio, const char *func, const char *fmt, ...)
{
	if (prio > log_max)
		return;

	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (log_syslog) {
		if (log_max >= LOG_DEBUG)
			syslog(prio, "%s: %s", func, msg);
		else
			syslog(prio, "%s", msg);
		return;
	}

	char stamp[32];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	if (log_max >= LOG_DEBUG)
		fprintf(stderr, "%s.%03ld %s[%s] %s: %s\n", stamp, ts.tv_nsec / 1000000, log_ident,
		        log_prio_name(prio), func, msg);
	else
		fprintf(stderr, "%s.%03ld %s[%s] %s\n", stamp, ts.tv_nsec / 1000000, log_ident,
		        log_prio_name(prio), msg);
}
