#include "server/handlers/handlers.h"

#include "server/handlers/process.h"
#include "server/rpc/router.h"

void gpx_handlers_register(gpx_server *srv)
{
	gpx_handlers_register_version(srv);
	gpx_handlers_register_health(srv);
	gpx_handlers_register_reflection(srv);
	if (srv->engine) {
		gpx_handlers_register_images(srv);
		gpx_handlers_register_process(srv);
		gpx_handlers_register_streams(srv);
		gpx_handlers_register_tune(srv);
		gpx_handlers_register_web(srv);
		gpx_router_add_raw(gpx_route_process_raw);
	}
}
