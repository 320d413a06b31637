/*
 * The video memory manager: segments with a sub-allocator each, placement by
 * preference, eviction by a pluggable policy, paging through the driver's copy
 * engine, residency, CPU access and budgets. Hardware-independent: it talks to the
 * device only through the DDI table (kmt/ddi.h). Errors are negative errno values.
 */
#ifndef KMT_VIDMM_H
#define KMT_VIDMM_H

#include <stdbool.h>
#include <stdint.h>

#include <gpusim/gpusim.h>
#include "kmt/ddi.h"
#include "kmt/vidmm/suballoc.h"

struct vidmm;
struct vidmm_alloc;

/* Segment ids are the driver's (kmt_segment_desc.id), 1 .. VIDMM_SEG_MAX - 1;
 * the manager keeps its tables by id and never names one. GPUSIM_SEG_SYS is not a
 * segment: it marks an allocation that lives in its backing store. */
#define VIDMM_SEG_MAX 8
#define VIDMM_SYS GPUSIM_SEG_SYS

/* ---- eviction policies (kmt/vidmm/policy.c) ------------------------------
 * A policy orders the allocations of a segment for eviction. The manager tells
 * it when an allocation enters or leaves a segment and when it is used; it asks
 * for candidates, oldest/cheapest first, and skips the ones it cannot evict. */
struct vidmm_policy_ops {
	const char *name;
	void *(*create)(void);
	void (*destroy)(void *p);
	void (*insert)(void *p, struct vidmm_alloc *a);
	void (*remove)(void *p, struct vidmm_alloc *a);
	void (*touch)(void *p, struct vidmm_alloc *a);
	/* First candidate in segment seg (after `after`, or from the start when NULL). */
	struct vidmm_alloc *(*next)(void *p, uint32_t seg, struct vidmm_alloc *after);
};

const struct vidmm_policy_ops *vidmm_policy_find(const char *name);
/* The i-th policy (from 0), NULL past the last. */
const struct vidmm_policy_ops *vidmm_policy_at(unsigned i);
extern const struct vidmm_policy_ops vidmm_policy_priority_lru;
extern const struct vidmm_policy_ops vidmm_policy_lru;

/* ---- allocations ------------------------------------------------------------ */

struct vidmm_alloc {
	/* Fields a destroy or an eviction touches come first: with a million live
	 * allocations each extra cache line is a miss on the hot path. */
	uint32_t seg;             /* a segment id, or VIDMM_SYS */
	uint32_t block;           /* sub-allocator id while in a segment */
	uint64_t size;
	uint32_t flags;           /* GPUSIM_ALLOC_* */
	uint32_t lock_count;
	uint32_t resident_count;  /* MakeResident minus Evict */
	uint32_t mark;            /* scratch: member of the working set being placed */
	uint64_t last_fence;      /* render fence of the last submission using it */
	uint64_t *pages;          /* system pages while in GART or sys, else NULL */
	/* Policy links (one list per segment and priority bucket). */
	struct vidmm_alloc *prev, *next;
	void *bucket;

	uint64_t offset;          /* in the segment */
	uint64_t align;
	uint32_t priority;
	struct kmt_placement pl;  /* where it may live, most preferred first */
	bool has_data;            /* written since creation: paging must carry it */
	bool lock_vmapped;
	void *lock_ptr;           /* CPU mapping while locked */
	uint64_t last_use;        /* manager tick of the last use, for LRU */
	uint32_t handle;          /* for events; set by the caller */
	uint32_t device;          /* owner device handle, for events */
	void *owner;              /* the caller's object */
};

/* ---- the manager --------------------------------------------------------------- */

struct vidmm_segment {
	uint32_t id;
	bool present;
	struct kmt_segment_desc desc;
	struct vidmm_suballoc *sa;
	uint64_t used;            /* bytes of allocations placed here */
	uint64_t pinned;          /* of which pinned */
	uint64_t count;
};

struct vidmm_stats {
	uint64_t evictions, page_ins, moves, demotions, promotions, bytes_in, bytes_out;
	uint64_t allocations, commit_pages;
};

typedef void (*vidmm_emit_fn)(void *ctx, const struct gpusim_event *ev);

struct vidmm {
	struct hw_device *hw;
	const struct kmt_ddi *ddi;
	void *drv;
	struct vidmm_segment seg[VIDMM_SEG_MAX]; /* by id; [0] unused */
	const struct vidmm_policy_ops *policy;
	void *policy_state;
	uint64_t tick;
	uint64_t budget_local, budget_nonlocal;
	uint64_t resident_local, resident_nonlocal; /* bytes under MakeResident */
	struct vidmm_stats stats;
	vidmm_emit_fn emit;
	void *emit_ctx;
	bool listening;           /* emit only when someone listens */
	uint32_t mark_gen;
};

int vidmm_create(struct hw_device *hw, const struct kmt_ddi *ddi, const struct kmt_driver_options *opt,
		 const char *policy, struct vidmm **out);
void vidmm_destroy(struct vidmm *mm);
void vidmm_set_listener(struct vidmm *mm, vidmm_emit_fn fn, void *ctx, bool listening);

/* Reserve the backing store and place the allocation (evicting others when the
 * preferred segments are full). -EINVAL bad desc, -ENOMEM no commit for the
 * backing store, -ENOSPC it can never fit / pinned with no room. */
int vidmm_alloc_init(struct vidmm *mm, struct vidmm_alloc *a, const struct kmt_alloc_desc *d);
/* Release placement and backing store (waits for the GPU to be done with it). */
void vidmm_alloc_fini(struct vidmm *mm, struct vidmm_alloc *a);

/* Make a working set resident (a Render's allocation list, a MakeResident call).
 * Allocations outside the set may be evicted; with `only_unreferenced`, only
 * those nobody made resident explicitly. -ENOSPC when the set cannot fit. */
int vidmm_make_resident(struct vidmm *mm, struct vidmm_alloc **set, uint32_t n,
			bool only_unreferenced, uint32_t cause);
/* Evict to the backing store (no-op when already there or pinned/locked). */
int vidmm_evict(struct vidmm *mm, struct vidmm_alloc *a, uint32_t cause);
void vidmm_touch(struct vidmm *mm, struct vidmm_alloc *a, uint64_t fence);
void vidmm_set_priority(struct vidmm *mm, struct vidmm_alloc *a, uint32_t priority);

/* CPU access. -EBUSY when nowait and the GPU still uses it; -EACCES for a pinned
 * allocation in invisible VRAM (the CPU cannot reach it and it may not move). */
int vidmm_lock(struct vidmm *mm, struct vidmm_alloc *a, bool nowait, void **ptr);
int vidmm_unlock(struct vidmm *mm, struct vidmm_alloc *a);
bool vidmm_busy(struct vidmm *mm, struct vidmm_alloc *a);

uint64_t vidmm_gpu_address(struct vidmm *mm, const struct vidmm_alloc *a);
/* Memory group of an allocation: 0 local when its most preferred segment is
 * VRAM, 1 non-local. */
int vidmm_group(const struct vidmm *mm, const struct vidmm_alloc *a);
uint64_t vidmm_usage(const struct vidmm *mm, int group);

/* Check every invariant (O(n)): 0, or -EFAULT with a sentence. */
typedef int (*vidmm_alloc_iter)(void *ctx, struct vidmm_alloc **a);
int vidmm_check(struct vidmm *mm, vidmm_alloc_iter next, void *ctx, char *err, size_t errlen);

/* Internal to kmt/vidmm/: place an allocation now in sys by its placement; give
 * its system pages back to its reservation. */
int vidmm_place(struct vidmm *mm, struct vidmm_alloc *a, bool only_unreferenced, uint32_t cause);
void vidmm_put_pages(struct vidmm *mm, struct vidmm_alloc *a);
/* Give up a's block in its segment: policy lists, sub-allocator, the books, and
 * the bytes there (the driver discards them: call it only once they have been
 * copied away, or when they are not wanted any more). */
void vidmm_leave_segment(struct vidmm *mm, struct vidmm_alloc *a);
/* Unmap size bytes of aperture segment seg at offset off. */
int vidmm_unmap_aperture(struct vidmm *mm, uint32_t seg, uint64_t off, uint64_t size);

void vidmm_emit(struct vidmm *mm, uint32_t type, uint32_t cause, const struct vidmm_alloc *a,
		uint32_t from);
/* The same for EVICT, PAGE_IN, MOVE, DEMOTE and PROMOTE: `copied` (the event's value) is what the
 * paging copy moved, 0 for a GART remap or an allocation that holds no data. */
void vidmm_emit_paging(struct vidmm *mm, uint32_t type, uint32_t cause, const struct vidmm_alloc *a,
		       uint32_t from, uint64_t copied);

#endif
