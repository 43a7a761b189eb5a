/* Plain-text tables for listings: a header row, then rows, columns padded
 * to their widest cell and separated by two spaces, the last column not
 * padded. Widths count UTF-8 characters, not bytes.
 *
 * Ownership: a gpx_table copies every cell it is given; gpx_table_free
 * releases them. */
#ifndef GPX_CLI_TABLE_H
#define GPX_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

typedef struct gpx_table {
	size_t ncols;
	size_t nrows;	      /* the header included */
	char **cells;	      /* nrows * ncols, row by row */
	unsigned char *right; /* per column: 1 to align right (numbers) */
} gpx_table;

/* Starts a table with its header row. -1 when memory runs out. */
int gpx_table_init(gpx_table *t, size_t ncols, const char *const *header);
void gpx_table_free(gpx_table *t);
void gpx_table_align_right(gpx_table *t, size_t col);
/* Appends a row of ncols cells; a NULL cell prints as "-". */
int gpx_table_add(gpx_table *t, const char *const *cells);
/* Writes the table; returns -1 when memory runs out, else 0. */
int gpx_table_print(const gpx_table *t, FILE *f);

/* Display width of a UTF-8 string: its character count. */
size_t gpx_table_width(const char *s);

#endif
