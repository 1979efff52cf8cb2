/* Logging to stderr or syslog. stdout belongs to the BGP speaker: never log there. */
#ifndef LIB_LOG_H
#define LIB_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* level: a syslog priority (LOG_ERR .. LOG_DEBUG); messages above it are dropped. */
void log_init(const char *ident, bool use_syslog, int facility, int level);
int log_level_parse(const char *name); /* "error", "warning", "info", "debug"; -1 if unknown */
void log_msg(int prio, const char *func, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#define log_err(...)   log_msg(LOG_ERR, __func__, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARNING, __func__, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __func__, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __func__, __VA_ARGS__)

#endif
