/* Positions in a JSON source text: jansson keeps none per value, so cfgpos indexes the
 * text by JSON path, for config errors that name file:line:col. */
#ifndef LIB_CFGPOS_H
#define LIB_CFGPOS_H

struct cfgpos; /* JSON path -> line:col of the source text */

struct cfgpos *cfgpos_build(const char *text);
/* The same index, built by the first cfgpos_lookup: text must stay unchanged until then
 * (or until cfgpos_free). A config without errors is never scanned twice. */
struct cfgpos *cfgpos_lazy(const char *text);
/* 0 and line/col (1-based) when path is known, -1 otherwise. Paths look like
 * "services[1].checks[0].port"; the position is that of the key when the value is
 * an object member, of the value itself when it is an array element. */
int cfgpos_lookup(const struct cfgpos *pos, const char *path, int *line, int *col);
void cfgpos_free(struct cfgpos *pos);

#endif
