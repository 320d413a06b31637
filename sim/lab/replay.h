/*
 * Replaying an allocation-use sequence through the real memory manager: an
 * adapter made for the lab (one VRAM segment of the size asked, a GART and system
 * memory big enough never to matter), the sequence's allocations, priorities and
 * uses through the public API, and the manager's own count of bytes paged.
 */
#ifndef SIM_LAB_REPLAY_H
#define SIM_LAB_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "sim/lab/seq.h"

/* The configuration of the lab's adapter for s at `vram` bytes under `policy`:
 * "vram=V,visible=V,gart=G,sysmem=S,policy=P". VRAM is all CPU-visible (one
 * segment, as with a resizable BAR); G holds the sequence's GART allocations
 * twice over, S every live allocation's backing store, with room to spare. */
void lab_adapter_spec(const struct lab_seq *s, uint64_t vram, const char *policy, char *buf, size_t len);

/* The usable bytes of that VRAM segment (what the driver's own structures leave,
 * as gpusim_get_stats reports it): 0, or -1 with a sentence in err when no
 * adapter can be made at that size. */
int lab_capacity(const struct lab_seq *s, uint64_t vram, uint64_t *usable, char *err, size_t errlen);

struct lab_replay {
	uint64_t bytes_in, bytes_out;   /* gpusim_get_stats at the end: the bytes paged */
	uint64_t evictions, page_ins, moves, demotions, promotions;
};

/* Create an adapter, replay every step, idle, read the statistics, destroy it.
 * 0, or -1 with a sentence in err naming the step that failed and its status. */
int lab_replay(const struct lab_seq *s, uint64_t vram, const char *policy, struct lab_replay *out, char *err,
	       size_t errlen);

#endif
