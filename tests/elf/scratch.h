/*
 * A scratch directory for one snapshot-file test (under $TMPDIR, else /tmp), and
 * the paths of files in it; the fixture's teardown removes them all.
 */
#ifndef TESTS_ELF_SCRATCH_H
#define TESTS_ELF_SCRATCH_H

#include <stddef.h>
#include <stdint.h>

void scratch_setup(void);
void scratch_teardown(void);
/* dir/name; valid until the next call. */
const char *scratch_path(const char *name);
/* Write len bytes to dir/name and return its path. */
const char *scratch_file(const char *name, const void *buf, size_t len);
/* The bytes of a file (malloc'd). */
uint8_t *scratch_slurp(const char *path, size_t *len);

#endif
