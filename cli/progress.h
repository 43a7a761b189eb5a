/* Progress on a terminal: one line redrawn in place with a bar. Off a
 * terminal the commands print plain lines instead and this is not used.
 *
 * A gpx_progress writes to the FILE it is given and keeps no other
 * resources. */
#ifndef GPX_CLI_PROGRESS_H
#define GPX_CLI_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

/* Writes "[#########           ]" with width cells between the brackets
 * for percent (clamped to 0..100) into out; returns the length written
 * (at most cap - 1). */
size_t gpx_progress_bar(char *out, size_t cap, int percent, int width);

typedef struct gpx_progress {
	FILE *f;
	int active; /* a line is drawn and not yet ended */
} gpx_progress;

void gpx_progress_init(gpx_progress *p, FILE *f);
/* Redraws the line: "<label> [####    ]  45% <detail>". */
void gpx_progress_draw(gpx_progress *p, const char *label, int percent, const char *detail);
/* Ends the line, if one is drawn, so that what follows starts on its own. */
void gpx_progress_end(gpx_progress *p);

#endif
