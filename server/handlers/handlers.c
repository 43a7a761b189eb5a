#include "server/handlers/handlers.h"

void gpx_handlers_register(gpx_server *srv)
{
	gpx_handlers_register_version(srv);
	gpx_handlers_register_health(srv);
}
