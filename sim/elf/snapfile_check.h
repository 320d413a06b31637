/*
 * The rules every snapshot in a file obeys (sim/elf/SNAPSHOT.md, "Rules"): the writer
 * checks them before it creates anything, the reader after it decoded a file, so a
 * file one writes the other accepts, and a file either refuses says why.
 */
#ifndef SIM_ELF_SNAPFILE_CHECK_H
#define SIM_ELF_SNAPFILE_CHECK_H

#include <stddef.h>

#include <gpusim/snapshot.h>

/* 0, or -1 with a sentence naming the first rule broken in why ("range 2 [0x3000,
 * 0x5000) overlaps range 1 [0x2000, 0x4000)"). */
int snapfile_check(const struct gpusim_snapshot *snap, char *why, size_t whylen);

#endif
