/* libFuzzer target: any text as a config file goes through the whole loader (JSON parse,
 * every key of every section and probe type, duplicate detection), and either loads or
 * is refused with errors; never a crash, a leak or a hang. A loaded config also prints
 * (the normalized JSON of `healthd check`), and every error message is one bounded line.
 *
 * fuzz-sources: lib/*.c probes/*.c healthd/*.c -healthd/main.c
 * Seeds: tests/fuzz/corpus/config (the golden configs and the examples). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../healthd/config.h"
#include <syslog.h>

#include "../../lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	struct config_error err;
	char *text = malloc(size + 1);

	if (!quiet) {
		log_init("fuzz", false, 0, LOG_ERR); /* warnings would flood the output */
		quiet = true;
	}
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0'; /* the loader reads text up to a NUL, as from a file */
	config_error_init(&err, "fuzz.json", NULL);
	struct config *cfg = config_load_string(text, "fuzz.json", &err);
	if ((cfg == NULL) != (err.nmsgs > 0))
		abort(); /* refused without a reason, or loaded despite one */
	for (size_t i = 0; i < err.nmsgs; i++) {
		size_t n = strlen(err.msgs[i]);
		if (n == 0 || n > 2048 || strchr(err.msgs[i], '\n') != NULL)
			abort(); /* an error is one line of bounded length */
	}
	if (cfg != NULL) {
		json_t *out = config_to_json(cfg);
		char *s = out != NULL ? json_dumps(out, JSON_PRESERVE_ORDER) : NULL;
		free(s);
		json_decref(out);
		config_free(cfg);
	}
	config_error_free(&err);
	free(text);
	return 0;
}
