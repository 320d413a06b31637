/*
 * A snapshot built by hand for the snapshot-file tests and the fuzz seeds: a
 * non-default configuration, every table filled, patterned memory ranges in VRAM
 * and system memory (at both ends of each), and a state blob of odd length.
 */
#ifndef TESTS_ELF_SAMPLE_H
#define TESTS_ELF_SAMPLE_H

#include <stdint.h>

#include <gpusim/snapshot.h>

#define SAMPLE_NREGS 12
#define SAMPLE_NGART 6
#define SAMPLE_NALLOCS 4
#define SAMPLE_NEVENTS 5
#define SAMPLE_NRANGES 5
#define SAMPLE_STATE 1001

struct sample {
	struct gpusim_snapshot snap;
	struct gpusim_snapshot_reg regs[SAMPLE_NREGS];
	struct gpusim_snapshot_gart gart[SAMPLE_NGART];
	struct gpusim_snapshot_alloc allocs[SAMPLE_NALLOCS];
	struct gpusim_event events[SAMPLE_NEVENTS];
	struct gpusim_snapshot_range ranges[SAMPLE_NRANGES];
	uint8_t *mem;   /* the ranges' bytes, back to back */
	uint8_t state[SAMPLE_STATE];
};

/* The CONFIG text the sample's configuration must be written as, to the byte. */
extern const char sample_config_text[];

/* Fill s (allocates s->mem; sample_free releases it). */
void sample_build(struct sample *s);
void sample_free(struct sample *s);
/* The byte at position i of a range starting at bus address addr. */
uint8_t sample_byte(uint64_t addr, uint64_t i);

/* Fails the running Check test unless b equals a in every field and every byte. */
void sample_assert_equal(const struct gpusim_snapshot *a, const struct gpusim_snapshot *b);

#endif
