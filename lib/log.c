/* Logging to stderr or syslog; stdout is the speaker's and never written here. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static bool log_syslog;
static int log_max = LOG_INFO;
static const char *log_ident = "healthd";
/* A stalled reader of stderr (a paused terminal, a stuck journald) must not stop the
 * probes: lines that would block are dropped and counted. A pipe gets an open file
 * description of its own with O_NONBLOCK (fd 2's flags are shared with the speaker's
 * stderr); a socket is written with MSG_DONTWAIT. */
static int log_fd = STDERR_FILENO;
static bool log_fd_socket;
static unsigned long log_dropped;

static void log_open_stderr(void)
{
	struct stat st;
	if (log_fd != STDERR_FILENO) /* log_init again: follow the fd 2 of now */
		close(log_fd);
	log_fd = STDERR_FILENO;
	log_fd_socket = false;
	if (fstat(STDERR_FILENO, &st) != 0)
		return;
	if (S_ISSOCK(st.st_mode)) {
		log_fd_socket = true;
	} else if (S_ISFIFO(st.st_mode)) {
		int fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0)
			log_fd = fd;
	}
}

static void log_write(const char *line, size_t len)
{
	ssize_t n;
	if (log_fd_socket)
		n = send(log_fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	else
		n = write(log_fd, line, len);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		log_dropped++;
}

void log_init(const char *ident, bool use_syslog, int facility, int level)
{
	log_ident = ident;
	log_syslog = use_syslog;
	log_max = level;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
	else
		log_open_stderr();
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
	char line[1200];
	int n;
	if (log_dropped > 0) {
		n = snprintf(line, sizeof(line),
		             "%s.%03ld %s[warning] %lu log line%s dropped: stderr was full\n",
		             stamp, ts.tv_nsec / 1000000, log_ident, log_dropped,
		             log_dropped == 1 ? "" : "s");
		unsigned long before = log_dropped;
		log_write(line, (size_t)n);
		if (log_dropped == before)
			log_dropped = 0;
		else
			log_dropped = before + 1; /* this line too */
	}
	if (log_max >= LOG_DEBUG)
		n = snprintf(line, sizeof(line), "%s.%03ld %s[%s] %s: %s\n", stamp,
		             ts.tv_nsec / 1000000, log_ident, log_prio_name(prio), func, msg);
	else
		n = snprintf(line, sizeof(line), "%s.%03ld %s[%s] %s\n", stamp,
		             ts.tv_nsec / 1000000, log_ident, log_prio_name(prio), msg);
	if (n >= (int)sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (n > 0)
		log_write(line, (size_t)n);
}
