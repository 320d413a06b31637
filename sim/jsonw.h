/*
 * Writing JSON with plain stdio: the string escaping that every JSON output of
 * gpusim (view --dump json, inspect --json) shares, so each one always parses.
 * Prefix: jw_ (not json_: the tests link jansson, which owns that prefix).
 */
#ifndef SIM_JSONW_H
#define SIM_JSONW_H

#include <stddef.h>
#include <stdio.h>

/* s as a JSON string: quotes, backslashes and control characters escaped; bytes
 * that are not well-formed UTF-8 become \u00XX (the byte read as Latin-1). */
void jw_string(FILE *f, const char *s);
/* The same for at most n bytes of s, stopping at a NUL: a fixed-size name field
 * that fills its array has no NUL. */
void jw_string_n(FILE *f, const char *s, size_t n);

#endif
