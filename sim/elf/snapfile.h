/*
 * Snapshot files: a struct gpusim_snapshot (<gpusim/snapshot.h>) written as an
 * ELF64 core file with libelf, and read back with every field checked. The file
 * layout is in sim/elf/SNAPSHOT.md. Prefix: snapfile_.
 */
#ifndef SIM_ELF_SNAPFILE_H
#define SIM_ELF_SNAPFILE_H

#include <stddef.h>

#include <gpusim/snapshot.h>

/* Write snap to path (created or truncated). 0, or -1 with "PATH: problem" in err. */
int snapfile_write(const char *path, const struct gpusim_snapshot *snap, char *err, size_t errlen);

/* Read and check a snapshot file. The result's pointers (ranges, state, tables)
 * stay valid until snapfile_free. 0, or -1 with "PATH: problem" in err and
 * *out untouched. */
int snapfile_read(const char *path, struct gpusim_snapshot **out, char *err, size_t errlen);

/* The same from a buffer (for the fuzzer and tests); name stands for the file in
 * messages. buf must outlive the result. */
int snapfile_read_mem(const void *buf, size_t len, const char *name, struct gpusim_snapshot **out,
		      char *err, size_t errlen);

/* Free what snapfile_read / snapfile_read_mem returned. NULL is accepted. */
void snapfile_free(struct gpusim_snapshot *snap);

#endif
