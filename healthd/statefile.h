/* The state file: what healthd last told the speaker, so that an instance that cannot read
 * its config (a typo, a file gone) still knows which routes a previous instance announced
 * and can withdraw them. It holds the speaker section and the services that had a route
 * announced, in their normalized form: a config that loads as it is. Written atomically
 * on every change of what was told. */
#ifndef HEALTHD_STATEFILE_H
#define HEALTHD_STATEFILE_H

#include <jansson.h>
#include <stdbool.h>

#include "config.h"
#include "speaker.h"

#define STATEFILE_DIR "/var/lib/healthd" /* the default directory: healthd's own */

/* The path used when none is given: $STATE_DIRECTORY (systemd's StateDirectory=), else
 * /var/lib/healthd, and a name made of the config file's absolute path ("/etc/healthd/x.json"
 * -> "etc_healthd_x.json.state"), so that two instances with two configs never share
 * one. malloc'd; NULL when out of memory. */
char *statefile_default_path(const char *config_file);
/* Write what sp was told. 0, or -1 with why set. */
int statefile_write(const char *path, const struct config *cfg, const struct speaker *sp, char *why,
                    size_t whylen);
/* The config a previous instance left (the announced services only), or NULL: no file,
 * or nothing announced, or a file that does not load (why says which). */
struct config *statefile_read(const char *path, char *why, size_t whylen);

#endif
