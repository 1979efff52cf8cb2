/* GET /metrics: the Prometheus text exposition format, version 0.0.4 (docs/control.md
 * lists every metric). */
#ifndef HEALTHD_METRICS_H
#define HEALTHD_METRICS_H

struct engine;
struct evbuffer;

/* Append the whole exposition to out; 0, or -1 when out of memory. */
int metrics_render(struct engine *eng, struct evbuffer *out);
/* metrics_safety.c: flap damping and the fleet guard. */
void metrics_safety(struct engine *eng, struct evbuffer *b);

#endif
