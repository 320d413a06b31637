/*
 * The residency model behind the viewer and `--dump json`: the picture of where
 * every allocation lives, rebuilt from a stream of trace items (events and names).
 * It knows nothing of SDL, so it is tested and dumped without a display.
 */
#ifndef SIM_VIEW_MODEL_H
#define SIM_VIEW_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <gpusim/gpusim.h>
#include <gpusim/trace.h>

/* One change of an allocation's placement, for its history. */
struct vm_move {
	uint64_t time_ns;
	uint32_t type;          /* GPUSIM_EV_CREATE, PLACE, EVICT, PAGE_IN, MOVE, DEMOTE,
				 * PROMOTE, DESTROY */
	uint32_t cause;
	uint32_t from, to;      /* segment ids (GPUSIM_SEG_SYS for the backing store) */
	uint64_t offset;        /* in `to` */
};

struct vm_alloc {
	uint32_t handle, device;
	char name[64];          /* from NAME items, else "#<handle in hex>" */
	uint64_t size;
	uint32_t seg;           /* GPUSIM_SEG_*; GPUSIM_SEG_SYS when evicted */
	uint64_t offset;        /* in seg */
	uint32_t priority, preferred;
	uint64_t created_ns, last_use_ns;  /* last placement change, lock or GPU use */
	bool live;              /* not destroyed */
	bool locked;
	struct vm_move *history;
	uint32_t nhistory, cap;
};

struct vm_segment {
	uint32_t id;
	uint64_t size;          /* usable bytes (from the adapter record) */
	uint64_t used;
	uint64_t largest_free;  /* recomputed by vm_refresh */
	uint32_t count;
};

/* Paging traffic and markers for the timeline. */
struct vm_mark {
	uint64_t time_ns;
	uint32_t type;          /* GPUSIM_EV_EVICT, PAGE_IN, MOVE, DEMOTE, PROMOTE, FAULT */
	uint64_t bytes;
};

struct vm_device_usage {
	uint32_t device;
	uint64_t used[GPUSIM_SEG_MAX + 1];  /* by segment id; [GPUSIM_SEG_SYS] evicted bytes */
};

struct vm_model {
	struct gpusim_trace_adapter adapter;
	struct vm_segment seg[GPUSIM_SEG_MAX + 1];  /* by id; [0] and [GPUSIM_SEG_SYS] unused */
	struct vm_alloc *allocs;  /* in creation order; destroyed ones stay (live = false) */
	size_t nallocs, cap;
	void *index;              /* handle -> allocs[] position (private) */
	struct vm_device_usage *devices;
	size_t ndevices;
	struct vm_mark *marks;
	size_t nmarks, mcap;
	uint64_t now_ns;
	uint64_t events;          /* items applied */
	uint64_t evictions, page_ins, moves, bytes_in, bytes_out, faults, submits;
	uint64_t demotions, promotions;  /* counted apart from moves, as the manager does */
	bool device_removed;
};

/* A segment the model places allocations in (any id up to GPUSIM_SEG_MAX but
 * GPUSIM_SEG_SYS, whether the adapter has it or not); and one of VRAM (visible,
 * invisible, the second pool), the local group the budget and bytes_in count. */
bool vm_is_segment(uint32_t seg);
bool vm_is_vram(uint32_t seg);

void vm_init(struct vm_model *m, const struct gpusim_trace_adapter *ad);
void vm_free(struct vm_model *m);
/* Apply one item (event or name). */
void vm_apply(struct vm_model *m, const struct gpusim_trace_item *item);
/* Recompute derived figures (largest free block per segment) after applying. */
void vm_refresh(struct vm_model *m);
const struct vm_alloc *vm_find(const struct vm_model *m, uint32_t handle);
uint64_t vm_usage_local(const struct vm_model *m);
uint64_t vm_usage_nonlocal(const struct vm_model *m);

/* What changed between two moments: allocations that appeared, left (destroyed),
 * or moved (another segment or offset). Arrays of handles, malloc'd. */
struct vm_diff {
	uint32_t *appeared, *left, *moved;
	size_t nappeared, nleft, nmoved;
};
void vm_diff(const struct vm_model *before, const struct vm_model *after, struct vm_diff *out);
void vm_diff_free(struct vm_diff *d);

/* The data the window shows, as JSON (adapter, segments with usage, budget and
 * largest free block, allocations with placement and history, per-device usage,
 * counters, time). */
int vm_dump_json(const struct vm_model *m, FILE *out);

/* Where a recording's first item finds the counters and the clock: zero for a
 * scenario or a trace, which begin with their adapter; a snapshot's recording
 * begins with its oldest recent event, in the middle of a run. */
struct vm_start {
	uint64_t time_ns;
	uint64_t evictions, page_ins, moves, bytes_in, bytes_out, faults, submits;
	uint64_t demotions, promotions;
};

/* A model that keeps every item, to replay up to any moment. */
struct vm_recording {
	struct gpusim_trace_adapter adapter;
	struct vm_start start;
	struct gpusim_trace_item *items;
	size_t nitems, cap;
};
void vm_recording_init(struct vm_recording *r);
/* The model before the recording's first item (vm_init, then r->start). */
void vm_begin(struct vm_model *m, const struct vm_recording *r);
void vm_recording_add(struct vm_recording *r, const struct gpusim_trace_item *item);
void vm_recording_free(struct vm_recording *r);
/* Load a whole trace file; -1 with a sentence in err. */
int vm_recording_load(struct vm_recording *r, const char *path, char *err, size_t errlen);
/* Record a scenario by running it (names included). -1 with the scenario's own
 * error output on `err`; returns scn_run's result otherwise. */
struct scn_script;
int vm_recording_run(struct vm_recording *r, const struct scn_script *s, FILE *err);
/* Rebuild the model as it was after the first n items. */
void vm_replay(struct vm_model *m, const struct vm_recording *r, size_t n);

/* A recording that shows a snapshot (<gpusim/snapshot.h>): its recent events in
 * time order, played from the counters they started from, then the snapshot's
 * moment, after which the model holds exactly the snapshot's allocation table
 * (sim/view/VIEWER.md, "Snapshots"). -1 with a sentence in err when the host has
 * no room. The recording owns copies: the snapshot may be freed after. */
struct gpusim_snapshot;
int vm_recording_from_snapshot(struct vm_recording *r, const struct gpusim_snapshot *snap, char *err,
			       size_t errlen);

#endif
