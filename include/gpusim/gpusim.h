/*
 * <gpusim/gpusim.h> — the simulator's own API beside the D3DKMT functions:
 * adapters from a configuration, the private driver data format of allocations,
 * events, statistics, invariants and fault injection. Prefix: gpusim_.
 */
#ifndef GPUSIM_GPUSIM_H
#define GPUSIM_GPUSIM_H

#include <stddef.h>
#include <stdint.h>

#include <gpusim/d3dkmthk.h>
#include <gpusim/hw.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- private driver data of an allocation --------------------------------
 * Passed as pPrivateDriverData / PrivateDriverDataSize of D3DDDI_ALLOCATIONINFO
 * and D3DDDI_ALLOCATIONINFO2. User-mode driver code fills it in. Anything
 * malformed (wrong size or version, size 0, alignment not a power of two,
 * unknown flags or segment ids, a preference outside `allowed`) is
 * STATUS_INVALID_PARAMETER. */
#define GPUSIM_ALLOC_DESC_VERSION 1

#define GPUSIM_ALLOC_CPU_VISIBLE 0x1u /* CPU access expected: prefer BAR2 or GART */
#define GPUSIM_ALLOC_PINNED 0x2u      /* never evicted or moved */
#define GPUSIM_ALLOC_PRIMARY 0x4u     /* a scan-out surface: pinned in VRAM */
/* The GPU and the CPU may read it, not write it: its GART pages are mapped
 * without HW_GART_WRITE (a GPU write there faults with GART_NOWRITE), and a
 * D3DKMTLock without ReadOnly, or any D3DKMTLock2, is STATUS_ACCESS_DENIED.
 * VRAM has no page protection: a GPU write to it in VRAM lands. Its first
 * bytes go in with gpusim_lock_for_load. */
#define GPUSIM_ALLOC_READ_ONLY 0x8u
#define GPUSIM_ALLOC_FLAGS_ALL 0xfu

enum gpusim_segment {
	GPUSIM_SEG_NONE = 0,      /* in events: no segment (created, destroyed) */
	GPUSIM_SEG_VISIBLE = 1,   /* VRAM behind BAR2 */
	GPUSIM_SEG_INVISIBLE = 2, /* the rest of VRAM; absent when visible == vram */
	GPUSIM_SEG_GART = 3,      /* system pages mapped through the GART */
	GPUSIM_SEG_SYS = 4,       /* not a segment: an evicted allocation's backing store */
	GPUSIM_SEG_VRAM2 = 5,     /* a second pool of VRAM beyond BAR2 (configuration
				   * pools=2: the upper half of what would be invisible) */
};
/* The standard segments are ids 1 .. GPUSIM_SEG_COUNT (what traces and the viewer
 * lay out); ids go up to GPUSIM_SEG_MAX (tables by id are GPUSIM_SEG_MAX + 1 long). */
#define GPUSIM_SEG_COUNT 3
#define GPUSIM_SEG_MAX 5
#define GPUSIM_SEG_BIT(id) (1u << (id))

struct gpusim_alloc_desc {
	uint32_t version;      /* GPUSIM_ALLOC_DESC_VERSION */
	uint32_t flags;        /* GPUSIM_ALLOC_* */
	uint64_t size;         /* bytes, > 0; rounded up to whole pages */
	uint64_t alignment;    /* 0 for a page, else a power of two */
	uint32_t preferred[3]; /* segment ids in order of preference; 0 ends the list */
	uint32_t allowed;      /* mask of allowed segment ids, bit (1u << id); 0 = all */
	uint32_t priority;     /* initial D3DDDI_ALLOCATIONPRIORITY_*; 0 = NORMAL */
};

/* ---- adapters ------------------------------------------------------------ */

struct gpusim_config {
	struct hw_config hw;
	char policy[16];      /* one that gpusim_policy_name lists; see gpusim_config_default */
	uint64_t seed;
	uint32_t vram_pools;  /* 1 (default), or 2: VRAM beyond BAR2 as two segments,
			       * GPUSIM_SEG_INVISIBLE and GPUSIM_SEG_VRAM2 */
	uint32_t ring_faults; /* GPUSIM_RING_FAULTS_*: what the render ring does on a GPU
			       * fault (kmt/README.md) */
};
#define GPUSIM_RING_FAULTS_SKIP 0u /* default: skip the packet (SKIP_FAULT), go on */
#define GPUSIM_RING_FAULTS_STOP 1u /* stop on it and stay stopped */

void gpusim_config_default(struct gpusim_config *cfg);
/* The eviction policies that `policy=` accepts, by index from 0: the i-th one's
 * name, NULL past the last. The default is what gpusim_config_default puts in
 * cfg->policy. */
const char *gpusim_policy_name(unsigned i);
/* "vram=1G,visible=256M,gart=2G,sysmem=4G,policy=lru,seed=3,pools=2": keys of
 * hw_config_set plus policy, seed, pools and ring_faults (skip or stop). -EINVAL
 * with a sentence in err. */
int gpusim_config_parse(struct gpusim_config *cfg, const char *spec, char *err, size_t errlen);

/* Create a simulated adapter; its LUID is what D3DKMTEnumAdapters2/3 report and
 * D3DKMTOpenAdapterFromLuid opens. STATUS_INVALID_PARAMETER for a bad config,
 * STATUS_NO_MEMORY when the host has no room for it. */
NTSTATUS gpusim_adapter_create(const struct gpusim_config *cfg, LUID *luid);
/* Destroy an adapter with everything opened on it. */
NTSTATUS gpusim_adapter_destroy(LUID luid);
/* Destroy every adapter (and forget the default one): for test isolation. */
void gpusim_reset(void);

/* Every D3DKMT_HANDLE libkmt makes has the low 6 bits clear and is never 0. A
 * destroyed handle (destroyed by the API, with its device or adapter, or by
 * gpusim_reset) fails look-up with STATUS_INVALID_PARAMETER for at least this
 * many later creations of handles in the process: it never names another object
 * before then. */
#define GPUSIM_HANDLE_REUSE_BOUND (1u << 20)

/* ---- events -------------------------------------------------------------- */

enum gpusim_event_type {
	GPUSIM_EV_CREATE = 1,   /* allocation created (segment = where it was placed) */
	GPUSIM_EV_DESTROY,
	GPUSIM_EV_PLACE,        /* placed in a segment without moving data */
	GPUSIM_EV_EVICT,        /* segment -> sys (from = segment) */
	GPUSIM_EV_PAGE_IN,      /* sys -> segment */
	GPUSIM_EV_MOVE,         /* segment -> other segment */
	GPUSIM_EV_LOCK,
	GPUSIM_EV_UNLOCK,
	GPUSIM_EV_SUBMIT,       /* a Render: value = its fence */
	GPUSIM_EV_FENCE,        /* render fences up to `value` completed */
	GPUSIM_EV_FAULT,        /* GPU page fault: offset = GPU address, cause = hw cause */
	GPUSIM_EV_BUDGET,       /* memory under MakeResident changed: offset = group
				 * (0 local, 1 non-local), value = bytes, size = budget */
	GPUSIM_EV_DEVICE_REMOVED,
	GPUSIM_EV_DEMOTE,       /* segment -> a less preferred segment of its placement,
				 * to make room (VRAM -> VRAM by the copy engine) */
	GPUSIM_EV_PROMOTE,      /* segment -> a more preferred segment of its placement,
				 * when the GPU uses it again and there is room */
	GPUSIM_EV_USE,          /* a submission references the allocation: value = its
				 * fence (emitted only while someone listens). One per
				 * entry of a Render's allocation list (cause render),
				 * right before its SUBMIT; a NullRendering Render runs
				 * nothing and emits none. MakeResident is a use too
				 * (cause make-resident, value = its PagingFenceValue),
				 * followed by its BUDGET events. */
	/* GPU virtual addresses (WDDM 2.0): offset = the VA, size = bytes. */
	GPUSIM_EV_VA_RESERVE,   /* a reservation (value = its reservation type) */
	GPUSIM_EV_VA_MAP,       /* allocation mapped (value = its paging fence; from
				 * the Map, or an Update's MAP/MAP_PROTECT) */
	GPUSIM_EV_VA_UNMAP,     /* a range unmapped (value = paging fence) */
	GPUSIM_EV_VA_COPY,      /* [offset, +size) now maps what [value, +size) maps */
	GPUSIM_EV_VA_FREE,      /* a reservation freed with what it mapped */
	GPUSIM_EV_SUBMIT_VA,    /* a SubmitCommand: offset = command buffer VA, size =
				 * its length, value = its fence */
	GPUSIM_EV_SIGNAL,       /* a monitored fence took a new value: allocation = the
				 * sync object's handle, value = the value; cause cpu
				 * (SignalFromCpu), gpu (a GPU write, such as the paging
				 * engine's, seen when the kernel looks) or render (a
				 * queue's signal landing behind its fence) */
	GPUSIM_EV_WAIT,         /* a CPU wait was met: allocation = its first object,
				 * value = that object's value waited for, size = the
				 * number of objects, offset = 1 when an eventfd was
				 * signalled (asynchronous), 0 when the call returned */
};

enum gpusim_event_cause {
	GPUSIM_CAUSE_NONE = 0,
	GPUSIM_CAUSE_CREATE,     /* initial placement */
	GPUSIM_CAUSE_PRESSURE,   /* evicted to make room for another allocation */
	GPUSIM_CAUSE_RENDER,     /* made resident for a submission */
	GPUSIM_CAUSE_MAKE_RESIDENT,
	GPUSIM_CAUSE_EVICT_CALL, /* D3DKMTEvict */
	GPUSIM_CAUSE_LOCK,       /* moved so that the CPU can reach it */
	GPUSIM_CAUSE_DESTROY,
	GPUSIM_CAUSE_INJECTED,
	GPUSIM_CAUSE_CPU,        /* a monitored fence signalled from the CPU */
	GPUSIM_CAUSE_GPU,        /* a monitored fence written by an engine */
};

struct gpusim_event {
	uint32_t type;          /* gpusim_event_type */
	uint32_t cause;         /* gpusim_event_cause, or hw fault cause for FAULT */
	uint64_t time_ns;       /* simulated */
	D3DKMT_HANDLE device;
	D3DKMT_HANDLE allocation;
	uint32_t segment;       /* gpusim_segment after the change */
	uint32_t from_segment;  /* before (EVICT, MOVE, PAGE_IN) */
	uint64_t offset;        /* in the segment, or GPU address for FAULT */
	uint64_t size;
	uint64_t value;         /* fence value, usage; EVICT, PAGE_IN, MOVE: bytes the
				 * paging copy moved (0: a GART remap, or no data yet) */
	uint32_t priority;      /* the allocation's priority now (allocation events) */
	uint32_t preferred;     /* its most preferred segment (allocation events) */
};

typedef void (*gpusim_event_fn)(void *opaque, const struct gpusim_event *ev);
/* Listeners are called synchronously, on the thread of the call that emitted the
 * event, with the library's lock held. A listener must not call back into the API:
 * if it does, on the same thread, every D3DKMT* and gpusim_* function that takes the
 * lock returns STATUS_POSSIBLE_DEADLOCK at once and does nothing (gpusim_reset just
 * returns), and the call that emitted the event completes normally. Other threads'
 * calls wait for the lock until the listener returns; a listener that waits for
 * one of them deadlocks. Functions that take no lock (gpusim_event_name and the
 * other name functions, gpusim_config_*) may be called. At most 8 per adapter. */
NTSTATUS gpusim_subscribe(LUID luid, gpusim_event_fn fn, void *opaque);
NTSTATUS gpusim_unsubscribe(LUID luid, gpusim_event_fn fn, void *opaque);
const char *gpusim_event_name(uint32_t type);
const char *gpusim_segment_name(uint32_t seg);
/* "create", "pressure", "render", "make-resident", "evict", "lock", "destroy",
 * "injected", "cpu", "gpu"; "none" for GPUSIM_CAUSE_NONE, "unknown" beyond. */
const char *gpusim_cause_name(uint32_t cause);

/* ---- statistics ------------------------------------------------------------ */

struct gpusim_segment_stats {
	uint64_t size, used, largest_free, allocations;
	double fragmentation;  /* 1 - largest_free / free */
};

struct gpusim_stats {
	uint64_t time_ns;
	uint64_t allocations;
	uint64_t evictions;     /* segment -> sys */
	uint64_t page_ins;      /* sys -> segment */
	uint64_t moves;         /* segment -> segment, neither demotion nor promotion */
	uint64_t bytes_in;      /* bytes copied into VRAM by paging */
	uint64_t bytes_out;     /* bytes copied out of VRAM by paging */
	uint64_t faults;        /* GPU page faults */
	uint64_t submits;
	uint64_t usage_local, budget_local;
	uint64_t usage_nonlocal, budget_nonlocal;
	uint64_t commit_pages;  /* system pages reserved for backing stores */
	struct gpusim_segment_stats seg[GPUSIM_SEG_MAX + 1]; /* by segment id; [SYS] unused */
	uint64_t demotions;     /* segment -> less preferred segment (GPUSIM_EV_DEMOTE) */
	uint64_t promotions;    /* segment -> more preferred segment (GPUSIM_EV_PROMOTE) */
};

NTSTATUS gpusim_get_stats(LUID luid, struct gpusim_stats *out);

/* Where an allocation is: segment id (GPUSIM_SEG_SYS when evicted), offset. */
struct gpusim_alloc_info {
	uint32_t segment;
	uint64_t offset, size, gpu_address;
	uint32_t priority, flags;
	uint32_t lock_count, residency_count;
	D3DKMT_HANDLE device;
};
NTSTATUS gpusim_query_allocation(D3DKMT_HANDLE allocation, struct gpusim_alloc_info *out);

/* What a GPU virtual address of the process's address space on adapter `luid`
 * is (kmt/api/gpusim_va.c): *allocation and *offset (bytes into it) when an
 * allocation is mapped there, else 0; *flags a mask of GPUSIM_VA_*. Looks at the
 * books only: no time passes, nothing is made (an adapter whose space was never
 * used answers flags 0), no event. Any pointer may be NULL. STATUS_INVALID_PARAMETER
 * for an unknown adapter or an address at or beyond 2^va_bits. */
#define GPUSIM_VA_RESERVED  0x1u  /* inside a reservation */
#define GPUSIM_VA_MAPPED    0x2u  /* a page is mapped there */
#define GPUSIM_VA_READ_ONLY 0x4u  /* mapped without write permission */
#define GPUSIM_VA_PRESENT   0x8u  /* the allocation has a GPU place: the entry is valid */
#define GPUSIM_VA_KERNEL    0x10u /* mapped to kernel memory (a fence page): no allocation */
NTSTATUS gpusim_va_query(LUID luid, uint64_t va, D3DKMT_HANDLE *allocation, uint64_t *offset,
			 uint32_t *flags);

/* CPU access for an OS loader (an ELF image's segments, firmware): D3DKMTLock
 * for writing that a GPUSIM_ALLOC_READ_ONLY allocation accepts too, so that its
 * contents can be put in once. The same moves and waits as D3DKMTLock; undo it
 * with D3DKMTUnlock or D3DKMTUnlock2. */
NTSTATUS gpusim_lock_for_load(D3DKMT_HANDLE device, D3DKMT_HANDLE allocation, void **data);

/* Check the memory manager's invariants (no overlap, accounting adds up).
 * STATUS_SUCCESS when they hold; else STATUS_UNSUCCESSFUL with a sentence in err. */
NTSTATUS gpusim_check_invariants(LUID luid, char *err, size_t errlen);

/* ---- faults on purpose ------------------------------------------------------ */

enum gpusim_fault {
	GPUSIM_FAULT_DEVICE_REMOVED = 1,
	GPUSIM_FAULT_DMA_ERROR,       /* the next packet */
	GPUSIM_FAULT_VRAM_ERROR,      /* arg = VRAM offset */
	GPUSIM_FAULT_SYSMEM_OOM,      /* arg = pages that may still be allocated */
};
NTSTATUS gpusim_inject(LUID luid, enum gpusim_fault fault, uint64_t arg);

/* Let simulated time run until every queued GPU work item is done. */
NTSTATUS gpusim_idle(LUID luid);

#ifdef __cplusplus
}
#endif
#endif
