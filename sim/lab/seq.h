/*
 * The allocation-use sequence that `gpusim lab` replays: a trace reduced to the
 * allocations (size, priority, VRAM or GART), and in stream order their creation,
 * their destruction, their priority changes and the use groups (what one call
 * needed resident at once). Built from a trace file or by hand (the tests).
 */
#ifndef SIM_LAB_SEQ_H
#define SIM_LAB_SEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gpusim/trace.h>

struct lab_alloc {
	uint32_t handle;    /* in the trace (0 for one made by hand) */
	uint64_t size;      /* bytes, as the trace reports it (whole pages) */
	uint32_t priority;  /* at creation */
	bool vram;          /* false: its most preferred segment is the GART */
};

enum lab_step_kind {
	LAB_CREATE = 1,   /* alloc */
	LAB_DESTROY,      /* alloc */
	LAB_PRIORITY,     /* alloc, priority */
	LAB_USE,          /* uses[first .. first + n), group = its index among the uses */
};

struct lab_step {
	uint32_t kind;
	uint32_t alloc;
	uint32_t priority;
	uint32_t group;
	size_t first, n;
};

struct lab_seq {
	struct gpusim_trace_adapter adapter;  /* the recorded one (zero when by hand) */
	struct lab_alloc *allocs;
	uint32_t nallocs;
	struct lab_step *steps;
	size_t nsteps, stepcap;
	uint32_t *uses;          /* allocation indices of every group, end to end */
	size_t nuses, usecap;
	uint32_t ngroups;
	/* Derived as the sequence is built: what a VRAM size must hold at least. */
	uint64_t largest_group;  /* VRAM bytes one group needs resident at once */
	uint64_t largest_alloc;  /* of the VRAM allocations */
	uint64_t peak_vram, peak_gart, peak_all; /* live bytes at most, by kind */
	uint64_t live_vram, live_gart;
	uint32_t vram_allocs;
	/* The trace's own count of what it reports, for the sentences. */
	uint64_t submits;
	bool *live;              /* per allocation, while building */
	uint32_t alloccap;
};

void lab_seq_init(struct lab_seq *s);
void lab_seq_free(struct lab_seq *s);

/* The building blocks; -ENOMEM, or -EINVAL for an index that is not a live
 * allocation. A group lists each allocation once (repeats are dropped) and may
 * not be empty. */
int lab_seq_create(struct lab_seq *s, uint64_t size, uint32_t priority, bool vram, uint32_t *index);
int lab_seq_destroy(struct lab_seq *s, uint32_t index);
int lab_seq_priority(struct lab_seq *s, uint32_t index, uint32_t priority);
int lab_seq_use(struct lab_seq *s, const uint32_t *index, size_t n);

/* Read a trace file into s (initialised here): 0, or -1 with a sentence in err
 * that names the file ("t.trace: not a gpusim trace (bad magic)"). */
int lab_seq_load(struct lab_seq *s, const char *path, char *err, size_t errlen);

#endif
