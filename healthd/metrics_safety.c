/* The routing safety's metrics: flap damping's holds, the fleet guard's holds and the
 * peers it reads. Names are config-validated (service names are plain words, peers
 * numeric addresses), so they need no escaping. */
#include <event2/buffer.h>
#include <jansson.h>

#include "engine_priv.h"
#include "fleet.h"
#include "metrics.h"

static void ms_head(struct evbuffer *b, const char *name, const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void ms_services(struct engine *eng, struct evbuffer *b)
{
	bool damping = false;
	for (size_t i = 0; i < eng->nservices; i++)
		damping = damping || eng->services[i]->cfg->damping.max_flaps > 0;
	if (damping) {
		ms_head(b, "healthd_service_hold_down_seconds",
		        "Seconds left of flap damping's hold (0: not held).");
		for (size_t i = 0; i < eng->nservices; i++) {
			const struct engine_service *es = eng->services[i];
			if (es->cfg->damping.max_flaps > 0)
				evbuffer_add_printf(
				        b,
				        "healthd_service_hold_down_seconds{service=\"%s\"} "
				        "%.3f\n",
				        es->cfg->name, engine_safety_hold_left_ms(es) / 1000.0);
		}
	}
	if (eng->fleet == NULL)
		return;
	ms_head(b, "healthd_service_last",
	        "1 while the fleet guard holds the service announced as the last copy.");
	for (size_t i = 0; i < eng->nservices; i++)
		evbuffer_add_printf(b, "healthd_service_last{service=\"%s\"} %d\n",
		                    eng->services[i]->cfg->name,
		                    engine_safety_last(eng->services[i]));
	ms_head(b, "healthd_service_peers_announcing",
	        "Fleet peers announcing the service healthily, as last read.");
	for (size_t i = 0; i < eng->nservices; i++)
		evbuffer_add_printf(
		        b, "healthd_service_peers_announcing{service=\"%s\"} %zu\n",
		        eng->services[i]->cfg->name,
		        fleet_announcing(eng->fleet, eng->services[i]->cfg->name, NULL));
}

static void ms_peers(struct engine *eng, struct evbuffer *b)
{
	json_t *peers = eng->fleet != NULL ? fleet_peers_json(eng->fleet) : NULL;
	size_t i;
	json_t *p;

	if (peers == NULL)
		return;
	ms_head(b, "healthd_fleet_peer_heard",
	        "1 while the peer's status was read within stale_after.");
	json_array_foreach(peers, i, p)
	{
		evbuffer_add_printf(b, "healthd_fleet_peer_heard{peer=\"%s\"} %d\n",
		                    json_string_value(json_object_get(p, "peer")),
		                    json_is_true(json_object_get(p, "heard")));
	}
	ms_head(b, "healthd_fleet_peer_age_seconds",
	        "Seconds since the peer's status was last read (absent: never).");
	json_array_foreach(peers, i, p)
	{
		const json_t *age = json_object_get(p, "age_ms");
		if (json_is_integer(age))
			evbuffer_add_printf(b, "healthd_fleet_peer_age_seconds{peer=\"%s\"} %.3f\n",
			                    json_string_value(json_object_get(p, "peer")),
			                    json_integer_value(age) / 1000.0);
	}
	json_decref(peers);
}

void metrics_safety(struct engine *eng, struct evbuffer *b)
{
	ms_services(eng, b);
	ms_peers(eng, b);
}
