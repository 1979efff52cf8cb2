/* libcurl's multi interface driven by a libevent loop: one CURLM per event_base, shared by
 * every transfer on that base; curl's socket and timer callbacks become libevent events.
 * No curl_easy_perform, no threads: transfers advance only inside the loop.
 *
 * A multi lives while it has transfers or holders. A check that runs every second holds
 * its base's multi from its first run until it is released, so the multi (its caches, its
 * wakeup socket pair) is not set up and torn down again for every run. */
#ifndef HEALTHD_CURLEV_H
#define HEALTHD_CURLEV_H

#include <curl/curl.h>
#include <event2/event.h>
#include <stddef.h>

struct curlev;
struct curlev_xfer;

/* Called once when a transfer ends, from the loop (never from inside curlev_add). The
 * callback may call curlev_remove on x (and usually does); x is gone afterwards. */
typedef void (*curlev_done_fn)(struct curlev_xfer *x, CURLcode result, void *arg);

/* curl_global_init, once per process. 0, or -1 when libcurl cannot start. */
int curlev_global_init(void);
/* Keep base's multi between transfers: one reference more, NULL when out of memory. The
 * holder drops it (curlev_drop) before base is freed. */
struct curlev *curlev_hold(struct event_base *base);
void curlev_drop(struct curlev *cv);
/* Start easy on base's shared multi. The easy handle's CURLOPT_PRIVATE belongs to curlev.
 * NULL when out of memory or refused by curl (nothing is left attached then). */
struct curlev_xfer *curlev_add(struct event_base *base, CURL *easy, curlev_done_fn done, void *arg);
/* Stop a transfer (finished or not) and detach its easy handle, which the caller still
 * owns. Safe from inside the done callback; x is freed. */
void curlev_remove(struct curlev_xfer *x);
/* How many multi handles exist now (one per base with transfers or holders), and how many
 * transfers are attached to them: for tests. */
size_t curlev_multis(void);
size_t curlev_transfers(void);

#endif
