#include "cli/progress.h"

#include <string.h>

#define BAR_WIDTH 30

size_t gpx_progress_bar(char *out, size_t cap, int percent, int width)
{
	size_t n = 0;
	int fill;

	if (!cap)
		return 0;
	if (percent < 0)
		percent = 0;
	if (percent > 100)
		percent = 100;
	if (width < 0)
		width = 0;
	fill = percent * width / 100;
	for (int i = -1; i <= width && n + 1 < cap; i++) {
		if (i < 0)
			out[n++] = '[';
		else if (i == width)
			out[n++] = ']';
		else
			out[n++] = i < fill ? '#' : ' ';
	}
	out[n] = 0;
	return n;
}

void gpx_progress_init(gpx_progress *p, FILE *f)
{
	p->f = f;
	p->active = 0;
}

void gpx_progress_draw(gpx_progress *p, const char *label, int percent, const char *detail)
{
	char bar[BAR_WIDTH + 3];

	gpx_progress_bar(bar, sizeof(bar), percent, BAR_WIDTH);
	/* \r back to the start, \033[K clears what a longer line left. */
	fprintf(p->f, "\r\033[K%s %s %3d%%%s%s", label, bar, percent, detail && *detail ? " " : "",
		detail ? detail : "");
	fflush(p->f);
	p->active = 1;
}

void gpx_progress_end(gpx_progress *p)
{
	if (p->active) {
		fputc('\n', p->f);
		fflush(p->f);
		p->active = 0;
	}
}
