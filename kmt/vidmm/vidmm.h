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
#include "kmt/vidmm/queue.h"
#include "kmt/vidmm/suballoc.h"
#include "kmt/vidmm/vaspace.h"

struct vidmm;
struct vidmm_alloc;

/* Segment ids are the driver's (kmt_segment_desc.id), 1 .. VIDMM_SEG_MAX - 1;
 * the manager keeps its tables by id and never names one. GPUSIM_SEG_SYS is not a
 * segment: it marks an allocation that lives in its backing store. */
#define VIDMM_SEG_MAX 8
#define VIDMM_SYS GPUSIM_SEG_SYS

typedef int (*vidmm_alloc_iter)(void *ctx, struct vidmm_alloc **a);

/* ---- eviction policies (kmt/vidmm/policy*.c) ----------------------------------
 * A policy orders the evictable allocations of each segment (pinned ones never
 * enter). The manager tells it when an allocation enters a segment (insert; also
 * called again to re-file one whose priority changed), when it leaves (remove:
 * evicted, moved or destroyed, the policy cannot tell which) and when it is used
 * (touch: possibly more than once for one submission; a->mark names the
 * submission, so a policy counts one use per submission). An insert is not a use:
 * an allocation is placed at creation, for a lock, or for the submission whose
 * touch follows.
 *
 * The manager walks the candidates of segment seg with next(seg, NULL), then
 * next(seg, v): every evictable allocation of the segment once, lower priorities
 * first (an allocation is never offered while one of lower priority in the same
 * segment has not been), and skips those it may not evict. It asks next(seg, v)
 * before it evicts v and goes on from the answer. A walk may change the policy's
 * state (a hand moves); it is not re-entered for the same segment.
 */
struct vidmm_policy_io;
struct vidmm_policy_ops {
	const char *name;
	void *(*create)(void);
	void (*destroy)(void *p);
	void (*insert)(void *p, struct vidmm_alloc *a);
	void (*remove)(void *p, struct vidmm_alloc *a);
	void (*touch)(void *p, struct vidmm_alloc *a);
	/* First candidate in segment seg (after `after`, or from the start when NULL). */
	struct vidmm_alloc *(*next)(void *p, uint32_t seg, struct vidmm_alloc *after);
	/* Snapshots: the policy's whole state, its fields in the allocations too. */
	void (*save)(void *p, struct vidmm_policy_io *io);
	int (*load)(void *p, struct vidmm_policy_io *io);
	/* Own invariants, and that it holds exactly the evictable allocations that
	 * `next` yields (every allocation of the adapter): 0, or -EFAULT with a sentence. */
	int (*check)(void *p, vidmm_alloc_iter next, void *ctx, char *err, size_t errlen);
};

/* A policy's state as a sequence of 64-bit words, allocations named by their index
 * in [0, nallocs) (alloc gives each, NULL out of range). save: put and index. load:
 * get (0 past the end, which sets bad); with apply false, load only checks, against
 * the snapshot's records (placement, flags, priority; their pol_* fields are zero),
 * and may change nothing; with apply true it fills the empty policy, and the
 * allocations' pol_* fields, from allocations just built from those records. A
 * refusal is -EINVAL with a sentence in err. */
struct vidmm_policy_io {
	void *ctx;
	struct vidmm_alloc *(*alloc)(void *ctx, uint64_t i);
	uint64_t nallocs;
	void (*put)(void *ctx, uint64_t w);
	uint64_t (*index)(void *ctx, const struct vidmm_alloc *a);
	uint64_t (*get)(void *ctx);
	bool apply;
	bool bad;
	char *err;
	size_t errlen;
};

/* In pol_bits, for every policy: it could not take the allocation (no memory for
 * a new priority's queues), which is therefore never offered for eviction. */
#define VIDMM_POL_LOST 0x80000000u

/* NULL or "" names the default policy; NULL for an unknown name. */
const struct vidmm_policy_ops *vidmm_policy_find(const char *name);
/* The i-th policy (the default first), NULL past the last. */
const struct vidmm_policy_ops *vidmm_policy_at(unsigned i);
extern const struct vidmm_policy_ops vidmm_policy_priority_lru;
extern const struct vidmm_policy_ops vidmm_policy_lru;
extern const struct vidmm_policy_ops vidmm_policy_arc;

/* Shared by the policies (policy.c). holds: a policy keeps a (it is in a segment
 * and not pinned); tracked: and it is not LOST. check_walk: the walk of each
 * segment offers every tracked allocation of it once and nothing else, and every
 * allocation's pol_bits pass sane(bits, holds). */
bool vidmm_policy_holds(const struct vidmm_alloc *a);
bool vidmm_policy_tracked(const struct vidmm_alloc *a);
int vidmm_policy_fail(struct vidmm_policy_io *io, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int vidmm_policy_check_walk(void *p, const struct vidmm_policy_ops *ops,
			    bool (*sane)(uint32_t bits, bool held), vidmm_alloc_iter next, void *ctx,
			    char *err, size_t errlen);
/* Read per segment a count and that many allocation indices (as save_order wrote
 * them) and check that they list each evictable allocation of the segment once
 * (bits: as load_fields read them); with io->apply, hand them to push(p, a) in order. */
void vidmm_policy_save_order(void *p, const struct vidmm_policy_ops *ops, struct vidmm_policy_io *io);
int vidmm_policy_load_order(void *p, struct vidmm_policy_io *io, const uint32_t *bits,
			    void (*push)(void *p, struct vidmm_alloc *a));
/* The allocations' pol_bits, pol_mark and pol_stamp where any is set: a count,
 * then an index and two words each. load_fields reads them into bits[] (nallocs
 * entries, zero for the others) after checking each with sane(bits, held), held
 * telling whether a policy holds that allocation; with apply it sets the fields
 * of the allocations too. */
void vidmm_policy_save_fields(struct vidmm_policy_io *io);
int vidmm_policy_load_fields(struct vidmm_policy_io *io, bool (*sane)(uint32_t bits, bool held),
			     uint32_t *bits);

/* ---- allocations ------------------------------------------------------------ */

struct vidmm_alloc {
	/* Fields a destroy or an eviction touches come first: with a million live
	 * allocations each extra cache line is a miss on the hot path. */
	uint32_t seg;             /* a segment id, or VIDMM_SYS */
	uint32_t block;           /* sub-allocator id while in a segment */
	uint64_t size;
	uint32_t flags;           /* GPUSIM_ALLOC_* */
	uint32_t lock_count;
	uint32_t resident_count;  /* handles it is resident through (each once, however many calls) */
	uint32_t mark;            /* scratch: member of the working set being placed */
	uint64_t last_fence;      /* render fence of the last submission using it */
	uint64_t *pages;          /* system pages while in GART or sys, else NULL */
	/* The eviction policy's (kmt/vidmm/policy*.c): the queue that holds it and
	 * its neighbours there; the last submission (a->mark) whose use it counted;
	 * and flags and a clock reading that outlive a stay in a segment (ARC's
	 * ghost). */
	struct vidmm_alloc *pol_prev, *pol_next;
	void *pol_bucket;
	uint32_t pol_mark;
	uint32_t pol_stamp;
	uint32_t pol_bits;

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
	struct vidmm_va_mapping *va_maps; /* GPU virtual addresses that map it */
};

/* In vidmm_alloc.flags beside GPUSIM_ALLOC_*: memory the kernel owns (page
 * tables), which no handle names; it makes no CREATE or DESTROY event. */
#define VIDMM_ALLOC_KERNEL 0x80000000u

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
	/* GPU virtual addresses (kmt/vidmm/vaspace.c) */
	bool has_mmu;
	struct kmt_mmu_caps mmu;
	struct vidmm_va_space *va_spaces;
	uint32_t next_asid;
};

int vidmm_create(struct hw_device *hw, const struct kmt_ddi *ddi, const struct kmt_driver_options *opt,
		 const char *policy, struct vidmm **out);
void vidmm_destroy(struct vidmm *mm);
void vidmm_set_listener(struct vidmm *mm, vidmm_emit_fn fn, void *ctx, bool listening);

/* Reserve the backing store and place the allocation (evicting others when the
 * preferred segments are full). -EINVAL bad desc, -ENOMEM no commit for the
 * backing store, -ENOSPC it can never fit / pinned with no room. */
int vidmm_alloc_init(struct vidmm *mm, struct vidmm_alloc *a, const struct kmt_alloc_desc *d);
/* What vidmm_alloc_init checks before it charges anything: -EINVAL bad placement,
 * -ENOSPC too large for every segment it allows even empty, else 0. A caller that
 * charges a whole batch first asks this of each, so that an allocation that can
 * never fit is told so rather than "no memory". */
int vidmm_alloc_check(const struct vidmm *mm, const struct kmt_alloc_desc *d);
/* Release placement and backing store (waits for the GPU to be done with it). */
void vidmm_alloc_fini(struct vidmm *mm, struct vidmm_alloc *a);
/* A hint for a caller about to release a after other work: start fetching what
 * vidmm_alloc_fini will touch beyond a itself (its block's record in the
 * sub-allocator, its neighbours in the policy's queue). Changes nothing. */
void vidmm_alloc_prefetch(const struct vidmm *mm, const struct vidmm_alloc *a);

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
