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
	uint32_t type;          /* GPUSIM_EV_EVICT, PAGE_IN, MOVE, DEMOTE, PROMOTE, FAULT,
				 * SIGNAL, WAIT */
	uint64_t bytes;         /* paging: bytes copied; SIGNAL, WAIT: the fence value */
	uint32_t handle;        /* SIGNAL, WAIT: the sync object */
	uint32_t cause;         /* SIGNAL: cpu, gpu or render */
};

/* Whether a mark is paging traffic (what the timeline's bars add up) rather than
 * a fault or a fence. */
bool vm_mark_is_paging(uint32_t type);

/* ---- the adapter's GPU virtual address space (WDDM 2) ---------------------------
 * One per process and adapter, so one per model. Ranges are kept sorted by base
 * and disjoint; a hostile trace cannot grow them past VM_VA_MAX_RANGES (what
 * would go beyond is dropped and counted in va_dropped). */
#define VM_VA_MAX_RANGES 16384
#define VM_VA_MAX_FAULTS 4096
#define VM_MAX_FENCES 4096

/* vm_va_range.kind of a reservation: its D3DDDIGPUVIRTUALADDRESS_RESERVE_* type,
 * or this when a Map without a reservation made it (a base-less Map reserves its
 * own range and says so in no VA_RESERVE event). */
#define VM_VA_IMPLICIT 0xffffffffu
/* vm_va_range.kind of a mapping: what is known of its protection. VA_MAP events
 * do not carry it; a read-only fault on the range shows it. */
#define VM_VA_PROT_UNKNOWN 0u
#define VM_VA_PROT_READ_ONLY 1u

struct vm_va_range {
	uint64_t base, size;
	uint32_t handle, device; /* mapping: the allocation mapped and its device */
	uint32_t kind;          /* see VM_VA_IMPLICIT and VM_VA_PROT_* */
	uint64_t fence;         /* mapping: the paging fence of its map */
	uint64_t time_ns;       /* when it was reserved or mapped */
};

/* A GPU page fault at a virtual address (a FAULT event of an HW_FAULT_VM_* cause). */
struct vm_va_fault {
	uint64_t time_ns, va;
	uint32_t cause, device;
	uint32_t handle;        /* the allocation mapped there then, 0 for none */
};

/* A monitored fence, as its SIGNAL and WAIT events show it. */
struct vm_fence {
	uint32_t handle, device;
	uint64_t value;         /* the last value signalled */
	uint64_t signals, waits;
	uint32_t last_cause;
	uint64_t last_ns;
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
	/* GPU virtual addresses: reservations and mappings sorted by base. */
	struct vm_va_range *va_res, *va_map;
	size_t nva_res, nva_map, va_res_cap, va_map_cap;
	struct vm_va_fault *va_faults;  /* the first VM_VA_MAX_FAULTS, in time order */
	size_t nva_faults, va_faults_cap;
	uint64_t va_faults_total, va_dropped, submits_va;
	struct vm_fence *fences;        /* in order of first appearance */
	size_t nfences, fences_cap;
	uint64_t signals, waits;
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
/* A fault's cause is one of the GPU MMU's (HW_FAULT_VM_*): its address is a VA. */
bool vm_fault_is_va(uint32_t cause);
/* The mapping or reservation holding address va, NULL when none does. */
const struct vm_va_range *vm_va_mapping_at(const struct vm_model *m, uint64_t va);
const struct vm_va_range *vm_va_reservation_at(const struct vm_model *m, uint64_t va);
/* The mappings of allocation `handle`, in address order: up to max of them go to
 * out[]; returns how many there are. */
size_t vm_va_ranges_of(const struct vm_model *m, uint32_t handle, const struct vm_va_range **out, size_t max);
const struct vm_fence *vm_fence_find(const struct vm_model *m, uint32_t handle);
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
