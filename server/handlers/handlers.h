/* RPC handlers: thin — validate, then call the engine. Each file registers
 * its methods in the server's method table. */
#ifndef GPX_HANDLERS_H
#define GPX_HANDLERS_H

#include "server/rpc/call.h"

/* Registers every handler; called by main before the I/O threads start. */
void gpx_handlers_register(gpx_server *srv);

void gpx_handlers_register_version(gpx_server *srv);
void gpx_handlers_register_health(gpx_server *srv);
void gpx_handlers_register_images(gpx_server *srv);
void gpx_handlers_register_streams(gpx_server *srv);
void gpx_handlers_register_tune(gpx_server *srv);
void gpx_handlers_register_reflection(gpx_server *srv);
void gpx_handlers_register_web(gpx_server *srv);

/* Draining: health watchers on this loop get NOT_SERVING and end. */
void gpx_health_drain(gpx_server *srv, gpx_loop *loop);

#endif
