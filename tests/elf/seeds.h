/*
 * The seed corpus of the snapshot-file fuzzer (tests/fuzz/snapshot-corpus/): a few
 * small valid snapshot files, each under 64 KiB, written by the real writer.
 */
#ifndef TESTS_ELF_SEEDS_H
#define TESTS_ELF_SEEDS_H

#include <stddef.h>

/* The seeds' file names, NULL-terminated. */
extern const char *const seeds_names[];

/* Write every seed into dir (calls gpusim_reset). 0, or -1 with "PATH: problem" in err. */
int seeds_write(const char *dir, char *err, size_t errlen);

#endif
