/*
 * The objects of the graphics kernel behind the D3DKMT API: adapters, devices,
 * contexts, resources, allocations and synchronization objects, the handle table
 * that names them, and the one lock that makes every entry point thread-safe.
 */
#ifndef KMT_CORE_H
#define KMT_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include <gpusim/d3dkmthk.h>
#include <gpusim/gpusim.h>
#include "kmt/vidmm/vidmm.h"

/* ---- the lock ------------------------------------------------------------
 * One process-wide mutex serializes the API. The model is synchronous (waiting
 * on a fence runs simulated time inside the call), so nothing blocks while it is
 * held, and one lock keeps the rules a newcomer must learn to one. */
void kmt_lock(void);
void kmt_unlock(void);

/* reentry.c. Every public entry point takes the lock with KMT_ENTER (or checks
 * kmt_in_listener when it returns nothing): called from inside an event listener,
 * which runs with the lock held on the same thread, it answers
 * STATUS_POSSIBLE_DEADLOCK at once instead of waiting on the lock for ever. */
NTSTATUS kmt_enter(void);
bool kmt_in_listener(void);
/* Call one listener, marked as such for this thread while it runs. */
void kmt_listener_call(gpusim_event_fn fn, void *opaque, const struct gpusim_event *ev);
#define KMT_ENTER()                                         \
	do {                                                \
		NTSTATUS kmt_enter_st_ = kmt_enter();       \
		if (kmt_enter_st_ != STATUS_SUCCESS)        \
			return kmt_enter_st_;               \
	} while (0)

/* ---- handles --------------------------------------------------------------- */

enum kmt_type {
	KMT_T_FREE = 0,
	KMT_T_ADAPTER,   /* an open of an adapter */
	KMT_T_DEVICE,
	KMT_T_CONTEXT,
	KMT_T_RESOURCE,
	KMT_T_ALLOCATION,
	KMT_T_SYNC,
	KMT_T_SHARE,     /* a global share handle of a shared resource */
	KMT_T_PAGINGQUEUE,
};

/* generation << 27 | index << 6, never 0 (kmt/handle.c). A destroyed handle
 * fails look-up for at least KMT_HANDLE_REUSE_BOUND later creations, also across
 * gpusim_reset. Not for allocations (kmt_alloc_new). */
#define KMT_HANDLE_REUSE_BOUND GPUSIM_HANDLE_REUSE_BOUND
D3DKMT_HANDLE kmt_handle_new(enum kmt_type type, void *obj);
/* The same, always in a never-used slot: a restore hands out handles in the order
 * of the snapshot's, so walks of the table visit objects in the same order. */
D3DKMT_HANDLE kmt_handle_new_fresh(enum kmt_type type, void *obj);
/* The next live object of a type after *cursor (start at 0); NULL at the end.
 * Objects may be freed during the walk. */
void *kmt_handle_iter(enum kmt_type type, uint32_t *cursor);
/* The handle of slot `index` (cursor - 1 after kmt_handle_iter), 0 if free. */
D3DKMT_HANDLE kmt_handle_at(uint32_t index);
void *kmt_handle_get(D3DKMT_HANDLE h, enum kmt_type type);
/* The handle dies; an allocation's cell is free for reuse with it. */
void kmt_handle_free(D3DKMT_HANDLE h);
void kmt_handles_reset(void);

/*
 * Allocation objects live in cells indexed like their handles: cell i of a slab
 * belongs to handle slot i. A handle thus names its object's address without a
 * read of the table, and validating it reads the object's first line only
 * (kmt_get_alloc), so the table entry and the object are fetched in parallel
 * rather than one after the other. Cells of slots held by other types are unused.
 */
struct kmt_alloc;
struct kmt_device;
/* A zeroed allocation object of dev with a new handle (fresh: in a never-used
 * slot, as kmt_handle_new_fresh); NULL for want of memory. */
struct kmt_alloc *kmt_alloc_new(struct kmt_device *dev, bool fresh);
/* A zeroed cell with no handle, for memory whose owning handle is gone (a
 * restore's); give it back with kmt_alloc_unpark. NULL for want of memory. */
struct kmt_alloc *kmt_alloc_new_orphan(void);
/* The handle dies but the cell stays: it holds memory other handles still use.
 * Its slot is reused only after kmt_alloc_unpark. */
void kmt_alloc_park(struct kmt_alloc *a);
void kmt_alloc_unpark(struct kmt_alloc *a);
/* Start fetching what destroying allocation h touches (its cell, its table entry):
 * a hint, h need not be valid. */
void kmt_alloc_prefetch(D3DKMT_HANDLE h);

/* ---- objects -------------------------------------------------------------- */

struct kmt_listener {
	gpusim_event_fn fn;
	void *opaque;
};
#define KMT_MAX_LISTENERS 8

struct kmt_device;
struct kmt_fence_page;
struct kmt_cpu_wait;

struct kmt_adapter {
	LUID luid;
	struct gpusim_config cfg;
	struct hw_device *hw;
	struct vidmm *mm;
	bool removed;
	bool going;                      /* being destroyed: nothing it runs matters now */
	uint32_t opens;                  /* adapter handles open on it */
	struct kmt_device *devices;      /* list */
	struct kmt_listener listeners[KMT_MAX_LISTENERS];
	uint32_t nlisteners;
	uint64_t faults, submits;
	uint64_t fence_seen;             /* last render fence reported as an event */
	struct kmt_fault_info last_fault;
	bool has_fault;
	struct vidmm_va_space *va;       /* this process's GPU VA space (api/va.c) */
	struct kmt_fence_page *fence_pages; /* ddi->fence_pages(drv) entries (fence.c) */
	uint32_t nfence_pages;
	struct kmt_cpu_wait *cpu_waits;  /* asynchronous CPU waits not yet satisfied */
	struct kmt_adapter *next;
};

struct kmt_alloc;

struct kmt_resource {
	D3DKMT_HANDLE handle;
	struct kmt_device *dev;
	bool shared;
	D3DKMT_HANDLE share;             /* global share handle, when shared */
	struct kmt_resource *origin;     /* an opened resource: the one it opens */
	struct kmt_alloc *allocs;        /* list through res_next */
	uint32_t nallocs;
	void *runtime_data;
	uint32_t runtime_size;
	void *driver_data;
	uint32_t driver_size;
	struct kmt_resource *prev, *next;/* in the device */
};

/* The memory behind one or more allocation handles (several when a shared
 * resource is opened on another device). */
struct kmt_mem {
	uint32_t refs;
	uint32_t seen;                   /* scratch: visited once when walking handles */
	struct vidmm_alloc v;            /* v.owner: the kmt_alloc that embeds this */
	struct gpusim_alloc_desc priv;   /* the private driver data it was made from */
};

/*
 * A cell (see kmt_alloc_new), 256 bytes while struct vidmm_alloc is 152. Laid out
 * for the destroy path, whose cost at 10^6 live allocations is its cache misses:
 * the first line holds everything validation and this layer's bookkeeping touch,
 * and the embedded memory's first fields (the manager's hot ones) follow at once,
 * so a destroy reads lines 0 and 1; the private data, read only by OpenResource,
 * is last. A dead handle's cell has handle 0 and dev NULL; a parked one (see
 * kmt_alloc_park) keeps its handle value, which names its slot, and has dev NULL,
 * so that no look-up accepts it either way.
 */
struct kmt_alloc {
	D3DKMT_HANDLE handle;
	uint32_t stamp;                  /* scratch: finds duplicates in a handle list */
	struct kmt_device *dev;
	struct kmt_mem *mem;
	struct kmt_resource *res;
	struct kmt_alloc *res_next;      /* in the resource */
	uint32_t locks;                  /* this device's locks */
	uint32_t resident;               /* this device's MakeResident count */
	struct kmt_mem own;              /* used when mem == &own */
} __attribute__((aligned(64)));

struct kmt_context {
	D3DKMT_HANDLE handle;
	struct kmt_device *dev;
	void *cmdbuf;
	uint32_t cmdbuf_size;
	D3DDDI_ALLOCATIONLIST *alloc_list;
	uint32_t alloc_list_size;
	D3DDDI_PATCHLOCATIONLIST *patch_list;
	uint32_t patch_list_size;
	uint64_t last_fence;
	struct kmt_context *prev, *next;
};

#define KMT_NO_SLOT UINT32_MAX

struct kmt_pagingqueue;

struct kmt_sync {
	D3DKMT_HANDLE handle;
	struct kmt_device *dev;
	D3DDDI_SYNCHRONIZATIONOBJECT_TYPE type;
	uint32_t flags;                  /* D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS */
	uint64_t value;                  /* fence: last signalled value; monitored: the
					  * storage's value when the kernel last looked */
	uint32_t slot;                   /* monitored fence: its storage (fence.c) */
	uint64_t *cpu_value;             /* monitored fence: the storage, kernel's view */
	const uint64_t *user_value;      /* ... and the caller's read-only view */
	struct kmt_pagingqueue *pq;      /* a paging fence: its queue (signals are its) */
	uint64_t pending_value;          /* signalled by a queue at render fence: */
	uint64_t pending_fence;          /*  ... becomes value when that fence is done */
	uint64_t gpu_queued;             /* monitored: the last value a context's signal queued */
	struct kmt_sync *prev, *next;
};

/* A paging queue: paging work for a device, and the monitored fence the paging
 * engine signals behind it. */
struct kmt_pagingqueue {
	D3DKMT_HANDLE handle;
	struct kmt_device *dev;
	D3DDDI_PAGINGQUEUE_PRIORITY priority;
	struct kmt_sync *fence;
	uint64_t last;                   /* the last value queued for the fence */
	struct kmt_pagingqueue *prev, *next;
};

struct kmt_device {
	D3DKMT_HANDLE handle;
	struct kmt_adapter *ad;
	/* A device's allocations are found through the handle table, not a list:
	 * linking each into per-device lists costs cache misses on every create and
	 * destroy, which is the hot path; destroying a device is rare. */
	uint64_t nallocs;
	struct kmt_resource *resources;
	struct kmt_context *contexts;
	struct kmt_sync *syncs;
	struct kmt_pagingqueue *pqs;
	uint64_t resident_bytes[2];      /* under MakeResident, local/non-local */
	bool faulted;
	struct kmt_fault_info fault;
	struct kmt_device *next;
};

/* adapter.c: 'ad' arguments are never NULL. */
struct kmt_adapter *kmt_adapter_by_luid(LUID luid);
struct kmt_adapter *kmt_adapters(void);
int kmt_adapter_create(const struct gpusim_config *cfg, struct kmt_adapter **out);
void kmt_adapter_destroy(struct kmt_adapter *ad);
void kmt_adapter_ensure_default(void);
void kmt_adapter_poll(struct kmt_adapter *ad); /* collect faults, signal fences */
/* The statistics as the books stand (no poll: looking changes nothing). */
void kmt_adapter_stats(struct kmt_adapter *ad, struct gpusim_stats *out);
/* The blame slot i (0 .. KMT_BLAME_SLOTS-1) if it belongs to ad: for snapshots. */
#define KMT_BLAME_SLOTS 4096u
bool kmt_blame_get(struct kmt_adapter *ad, uint32_t i, uint64_t *fence, D3DKMT_HANDLE *dev);
void kmt_emit(struct kmt_adapter *ad, const struct gpusim_event *ev);
void kmt_emit_simple(struct kmt_adapter *ad, uint32_t type, uint32_t cause, D3DKMT_HANDLE dev,
		     uint64_t value);
/* One USE event per entry of set[] (a Render's allocation list, duplicates
 * included, or a MakeResident's), all with `value`; nothing, and no cost, when
 * nobody listens. */
void kmt_emit_uses(struct kmt_adapter *ad, struct vidmm_alloc *const *set, uint32_t n, uint32_t cause,
		   uint64_t value);
void kmt_blame_record(struct kmt_adapter *ad, uint64_t fence, D3DKMT_HANDLE dev);
void kmt_adapter_forget_default(void);
/* Add a listener (the kmt lock held): 0, or -ENOMEM when the table is full. */
int kmt_adapter_listen(struct kmt_adapter *ad, gpusim_event_fn fn, void *opaque);

/* trace.c, with the kmt lock held: record ad's events into a trace file at path
 * (0 or -errno), and close what records an adapter being destroyed. */
int kmt_trace_attach(struct kmt_adapter *ad, const char *path);
void kmt_trace_adapter_gone(struct kmt_adapter *ad);

/* objects.c */
void kmt_device_destroy(struct kmt_device *dev);
void kmt_alloc_destroy(struct kmt_alloc *a);
/* A handle's MakeResident calls all end (it is being destroyed): its memory
 * leaves the budget unless another handle keeps it resident (api/residency.c). */
void kmt_residency_drop_handle(struct kmt_adapter *ad, struct kmt_alloc *a);
void kmt_resource_destroy(struct kmt_resource *r);
void kmt_context_destroy(struct kmt_context *c);
/* api/device.c: a legacy context's command buffer and lists (-ENOMEM). */
int kmt_context_buffers(struct kmt_context *c);
void kmt_sync_destroy(struct kmt_sync *s);
/* api/sync.c: a synchronization object of dev, linked and with a handle;
 * monitored fences get their storage. -ENOMEM, -ENOSPC (no fence storage left). */
int kmt_sync_new(struct kmt_device *dev, D3DDDI_SYNCHRONIZATIONOBJECT_TYPE type, uint32_t flags,
		 uint64_t value, struct kmt_sync **out);
NTSTATUS kmt_status_from_errno(int err);

void kmt_pagingqueue_destroy(struct kmt_pagingqueue *q);

/* fence.c: monitored fence storage. A slot is one 64-bit value in a kernel-owned
 * system page that the GPU reaches too (the driver maps it: gsdrv through the
 * GART); the caller reads it through a read-only mapping of the same page. */
int kmt_fence_slot_alloc(struct kmt_adapter *ad, uint32_t *slot); /* -ENOMEM, -ENOSPC */
void kmt_fence_slot_free(struct kmt_adapter *ad, uint32_t slot);
uint64_t *kmt_fence_kernel(struct kmt_adapter *ad, uint32_t slot);
const uint64_t *kmt_fence_user(struct kmt_adapter *ad, uint32_t slot);
/* Where a slot lives, for whoever maps it for the GPU: the page's system page
 * number (bus address pfn << 12), the byte offset in it, and the GPU address the
 * driver gave the page (gsdrv: in the aperture). A GPU virtual address space maps
 * pfn to fill FenceValueGPUVirtualAddress (the wt-va branch). -EINVAL: no slot. */
struct kmt_fence_storage {
	uint64_t pfn;
	uint32_t offset;
	uint64_t gpu;
};
int kmt_fence_storage(struct kmt_adapter *ad, uint32_t slot, struct kmt_fence_storage *out);
void kmt_fence_fini(struct kmt_adapter *ad);
/* A restore: page `index` is system page pfn again (its GART entry came back with
 * the device); slots are taken again with kmt_fence_slot_take. */
int kmt_fence_page_restore(struct kmt_adapter *ad, uint32_t index, uint64_t pfn);
int kmt_fence_slot_take(struct kmt_adapter *ad, uint32_t slot);
bool kmt_fence_page_pfn(struct kmt_adapter *ad, uint32_t index, uint64_t *pfn);
/* The value now, as the CPU and GPU see it, and a CPU signal. */
uint64_t kmt_sync_value(const struct kmt_sync *s);
void kmt_sync_set(struct kmt_sync *s, uint64_t value);
/* From kmt_adapter_poll: values the GPU wrote become events; asynchronous
 * waits whose condition holds are signalled (cpuwait.c). */
void kmt_fence_poll(struct kmt_adapter *ad);

/* cpuwait.c: CPU waits on monitored fences. */
bool kmt_cpu_wait_met(struct kmt_sync *const *objs, const uint64_t *values, uint32_t n, bool any);
/* Run the device until met: STATUS_SUCCESS, STATUS_DEVICE_REMOVED, or
 * STATUS_POSSIBLE_DEADLOCK when nothing left to run can satisfy it. `report`:
 * a WAIT event when met (a CPU wait; not a queue's wait run early). */
NTSTATUS kmt_cpu_wait_block(struct kmt_adapter *ad, struct kmt_sync *const *objs, const uint64_t *values,
			    uint32_t n, bool any, bool report);
/* Signal eventfd fd once met (now, if it already is). -ENOMEM. */
int kmt_cpu_wait_async(struct kmt_adapter *ad, struct kmt_sync *const *objs, const uint64_t *values,
		       uint32_t n, bool any, int fd);
void kmt_cpu_wait_poll(struct kmt_adapter *ad);
/* A sync object goes: waits that name it can no longer be met, and are dropped. */
void kmt_cpu_wait_forget(struct kmt_adapter *ad, const struct kmt_sync *s);

/* Look-ups that validate type and owner: NULL when wrong. */
struct kmt_device *kmt_get_device(D3DKMT_HANDLE h);
struct kmt_alloc *kmt_get_alloc(struct kmt_device *dev, D3DKMT_HANDLE h);
/* n allocation handles of dev, each valid and listed once, into out[]. */
bool kmt_alloc_list(struct kmt_device *dev, const D3DKMT_HANDLE *h, uint32_t n, struct kmt_alloc **out);

#endif
