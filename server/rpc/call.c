#include "server/rpc/call.h"

#include <stdarg.h>

void gpx_call_reply(gpx_call *c, const ProtobufCMessage *msg)
{
	gpx_status ok = {.code = GPX_OK};
	if (c->ops->send(c, msg) < 0) {
		gpx_status err;
		gpx_status_set(&err, GPX_INTERNAL, "could not encode the response");
		c->ops->finish(c, &err);
		return;
	}
	c->ops->finish(c, &ok);
}

void gpx_call_fail(gpx_call *c, gpx_code code, const char *fmt, ...)
{
	gpx_status st;
	va_list ap;
	va_start(ap, fmt);
	gpx_status_vset(&st, code, fmt, ap);
	va_end(ap);
	c->ops->finish(c, &st);
}

const char *gpx_call_header(const gpx_call *c, const char *name)
{
	return c->ex ? gpx_ex_header(c->ex, name) : NULL;
}

void gpx_call_set_header(gpx_call *c, const char *name, const char *value)
{
	if (c->ops->header)
		c->ops->header(c, name, value);
}

void gpx_call_cancel(gpx_call *c)
{
	c->ex = NULL;
	if (atomic_exchange(&c->gone, 1) == 0 && c->on_cancel)
		c->on_cancel(c);
}

void gpx_call_start(gpx_call *c)
{
	if (!c->method->handler) {
		gpx_call_fail(c, GPX_UNIMPLEMENTED, "%s is not implemented yet",
			      c->method->full_name);
		return;
	}
	c->method->handler(c);
}

size_t gpx_call_pending(const gpx_call *c)
{
	return c->ex ? c->ex->ops->pending(c->ex) : 0;
}
