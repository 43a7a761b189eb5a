/* grpc.health.v1: "" (the whole server) and gpix.v1.ImageService. */
#include <string.h>

#include "grpc/health/v1/health.pb-c.h"
#include "server/handlers/handlers.h"

static int known_service(const char *s)
{
	return !s || !*s || strcmp(s, "gpix.v1.ImageService") == 0;
}

static void check(gpx_call *c)
{
	const Grpc__Health__V1__HealthCheckRequest *req =
		(const Grpc__Health__V1__HealthCheckRequest *)c->request;
	if (!known_service(req->service)) {
		gpx_call_fail(c, GPX_NOT_FOUND, "unknown service \"%s\"", req->service);
		return;
	}
	Grpc__Health__V1__HealthCheckResponse r = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
	r.status = atomic_load(&c->srv->draining) ?
			   GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING :
			   GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
	gpx_call_reply(c, &r.base);
}

static void list(gpx_call *c)
{
	Grpc__Health__V1__HealthCheckResponse st = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
	st.status = atomic_load(&c->srv->draining) ?
			    GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING :
			    GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
	Grpc__Health__V1__HealthListResponse__StatusesEntry e0 =
		GRPC__HEALTH__V1__HEALTH_LIST_RESPONSE__STATUSES_ENTRY__INIT;
	Grpc__Health__V1__HealthListResponse__StatusesEntry e1 =
		GRPC__HEALTH__V1__HEALTH_LIST_RESPONSE__STATUSES_ENTRY__INIT;
	e0.key = (char *)"";
	e0.value = &st;
	e1.key = (char *)"gpix.v1.ImageService";
	e1.value = &st;
	Grpc__Health__V1__HealthListResponse__StatusesEntry *entries[] = {&e0, &e1};
	Grpc__Health__V1__HealthListResponse r = GRPC__HEALTH__V1__HEALTH_LIST_RESPONSE__INIT;
	r.n_statuses = 2;
	r.statuses = entries;
	gpx_call_reply(c, &r.base);
}

void gpx_handlers_register_health(gpx_server *srv)
{
	gpx_methods_set_handler(&srv->methods, "grpc.health.v1.Health/Check", check);
	gpx_methods_set_handler(&srv->methods, "grpc.health.v1.Health/List", list);
}
