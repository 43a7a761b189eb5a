#include <math.h>

#include "common/log.h"
#include "gpix/v1/image_service.pb-c.h"
#include "gpx_config.h"
#include "gpx_version.h"
#include "server/handlers/handlers.h"

static void get_version(gpx_call *c)
{
	char now[40];
	gpx_time_rfc3339(now, sizeof(now), gpx_now_wall());
	gpx_log_field f[] = {{"request_id", c->request_id}, {NULL, NULL}};
	gpx_logf(GPX_LOG_INFO, f, "GetVersion called at %s", now);

	Google__Protobuf__Timestamp started = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	double secs = floor(c->srv->started_wall);
	started.seconds = (int64_t)secs;
	started.nanos = (int32_t)((c->srv->started_wall - secs) * 1e9);
	Gpix__V1__GetVersionResponse r = GPIX__V1__GET_VERSION_RESPONSE__INIT;
	r.version = (char *)GPX_VERSION;
	r.api_version = (char *)"gpix.v1";
	r.commit = (char *)GPX_COMMIT;
	r.started_at = &started;
	gpx_call_reply(c, &r.base);
}

void gpx_handlers_register_version(gpx_server *srv)
{
	gpx_methods_set_handler(&srv->methods, "gpix.v1.ImageService/GetVersion", get_version);
}
