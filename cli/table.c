#include "cli/table.h"

#include <stdlib.h>
#include <string.h>

size_t gpx_table_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static int add_row(gpx_table *t, const char *const *cells)
{
	char **grown = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(*grown));
	char **row;

	if (!grown)
		return -1;
	t->cells = grown;
	row = t->cells + t->nrows * t->ncols;
	for (size_t c = 0; c < t->ncols; c++) {
		row[c] = strdup(cells[c] ? cells[c] : "-");
		if (!row[c]) {
			while (c > 0)
				free(row[--c]);
			return -1;
		}
	}
	t->nrows++;
	return 0;
}

int gpx_table_init(gpx_table *t, size_t ncols, const char *const *header)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->right = calloc(ncols ? ncols : 1, 1);
	if (!t->right)
		return -1;
	if (add_row(t, header) < 0) {
		free(t->right);
		t->right = NULL;
		return -1;
	}
	return 0;
}

void gpx_table_free(gpx_table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->right);
	memset(t, 0, sizeof(*t));
}

void gpx_table_align_right(gpx_table *t, size_t col)
{
	if (col < t->ncols)
		t->right[col] = 1;
}

int gpx_table_add(gpx_table *t, const char *const *cells)
{
	return add_row(t, cells);
}

int gpx_table_print(const gpx_table *t, FILE *f)
{
	size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof(*w));

	if (!w)
		return -1;
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t n = gpx_table_width(t->cells[r * t->ncols + c]);
			if (n > w[c])
				w[c] = n;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];
			size_t pad = w[c] - gpx_table_width(cell);
			int last = c + 1 == t->ncols;

			if (c)
				fputs("  ", f);
			/* The header reads left to right even over numbers. */
			if (t->right[c] && r > 0)
				fprintf(f, "%*s", (int)pad, "");
			fputs(cell, f);
			if (!(t->right[c] && r > 0) && !last)
				fprintf(f, "%*s", (int)pad, "");
		}
		fputc('\n', f);
	}
	free(w);
	return 0;
}
