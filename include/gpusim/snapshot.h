/*
 * <gpusim/snapshot.h> — the whole state of a simulated adapter as plain data:
 * taken from a live adapter, restored into a new one. libkmt knows nothing of
 * files; sim/ writes and reads this as an ELF64 core file with libelf
 * (sim/elf/SNAPSHOT.md). Prefix: gpusim_snapshot_.
 */
#ifndef GPUSIM_SNAPSHOT_H
#define GPUSIM_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include <gpusim/d3dkmthk.h>
#include <gpusim/gpusim.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bus addresses of a snapshot's memory: VRAM offset o is at o; system page pfn is
 * at GPUSIM_SYSMEM_BUS_BASE + pfn * 4 KiB (system pages have no GPU address of
 * their own: the GPU reaches them only through the GART). */
#define GPUSIM_SYSMEM_BUS_BASE (1ull << 48)

/* A populated range of device memory: whole pages, at least one non-zero byte in
 * every page. Pages that are all zero are left out; a restore leaves them zero. */
struct gpusim_snapshot_range {
	uint64_t addr;              /* bus address, page aligned */
	uint64_t size;              /* bytes, page multiple, > 0 */
	const void *data;           /* size bytes */
};

/* One BAR0 register as a driver would read it (without the read's side effects). */
struct gpusim_snapshot_reg {
	uint32_t offset;
	uint32_t value;
};

/* One valid GART entry. */
struct gpusim_snapshot_gart {
	uint64_t page;              /* aperture page index */
	uint64_t entry;             /* raw entry: HW_GART_VALID | READ | WRITE | pfn << 12 */
};

#define GPUSIM_SNAPSHOT_NAME_MAX 32

/* One row of the allocation table (one per allocation handle). */
struct gpusim_snapshot_alloc {
	D3DKMT_HANDLE handle;       /* as it was in the snapshotted process */
	D3DKMT_HANDLE device;       /* owner device */
	uint64_t size;
	uint32_t segment;           /* gpusim_segment; GPUSIM_SEG_SYS when evicted */
	uint32_t priority;
	uint64_t offset;            /* in the segment */
	uint64_t gpu_address;       /* 0 when in sys */
	uint32_t flags;             /* GPUSIM_ALLOC_* */
	uint32_t lock_count;        /* this handle's device's locks */
	uint32_t residency_count;   /* MakeResident minus Evict */
	uint32_t reserved;          /* 0 */
	char name[GPUSIM_SNAPSHOT_NAME_MAX]; /* a label (the scenario's name), NUL-terminated;
					      * libkmt leaves it empty, sim/ fills it */
};

#define GPUSIM_SNAPSHOT_VERSION 1

struct gpusim_snapshot {
	uint32_t version;                   /* GPUSIM_SNAPSHOT_VERSION */
	struct gpusim_config cfg;
	uint64_t time_ns;                   /* simulated clock */
	struct gpusim_stats stats;          /* gpusim_get_stats at that moment */

	struct gpusim_snapshot_reg *regs;   /* every BAR0 register, ascending offset */
	uint32_t nregs;
	struct gpusim_snapshot_gart *gart;  /* valid entries, ascending page */
	uint64_t ngart;
	struct gpusim_snapshot_alloc *allocs; /* ascending handle */
	uint64_t nallocs;
	struct gpusim_event *events;        /* recent events, oldest first; libkmt
					     * leaves this empty, sim/ fills it */
	uint32_t nevents;
	struct gpusim_snapshot_range *ranges; /* ascending address: VRAM, then system */
	uint64_t nranges;

	/* What a restore needs beyond the above: the objects behind the handles, the
	 * memory manager's and the driver's books, the device's internal state. A
	 * versioned byte stream owned by libkmt; readers of the file treat it as
	 * opaque, and a restore validates every field of it. */
	const void *state;
	uint64_t state_size;

	/* Bytes of the program that took the snapshot, kept beside the device state
	 * (gpusim run keeps its scenario's names and written ranges there, see
	 * sim/scenario/LANGUAGE.md). libkmt neither writes nor reads them. */
	const void *client;
	uint64_t client_size;
};

/* Take a snapshot of an adapter (GPU work still queued stays queued). The ranges
 * point into the device's memory: use them before the adapter changes or goes.
 * STATUS_INVALID_PARAMETER for an unknown LUID, STATUS_NO_MEMORY. */
NTSTATUS gpusim_snapshot_take(LUID luid, struct gpusim_snapshot **out);
/* Free what gpusim_snapshot_take returned (not a snapshot a file reader built). */
void gpusim_snapshot_free(struct gpusim_snapshot *snap);

/* The device's state inside snap->state: the bytes <gpusim/hwstate.h> describes
 * (hw_state_walk names every field, values and types). 0; -ENOENT when the
 * snapshot has no state; -EINVAL when the state is not this libkmt's version. */
int gpusim_snapshot_device_state(const struct gpusim_snapshot *snap, const void **buf, size_t *len);

enum gpusim_handle_type {
	GPUSIM_HANDLE_DEVICE = 1,
	GPUSIM_HANDLE_CONTEXT,
	GPUSIM_HANDLE_RESOURCE,
	GPUSIM_HANDLE_ALLOCATION,
	GPUSIM_HANDLE_SYNC,
	GPUSIM_HANDLE_SHARE,
	GPUSIM_HANDLE_PAGINGQUEUE,
};

/* A handle of the snapshot and the handle that names the same object after restore. */
struct gpusim_handle_map {
	D3DKMT_HANDLE old_handle;
	D3DKMT_HANDLE new_handle;
	uint32_t type;              /* gpusim_handle_type */
};

/* Create a new adapter in the snapshot's state: memory, device registers and
 * internal state, memory manager, driver, and every device, context, resource,
 * allocation and sync object with its handle renamed (*map, ascending old
 * handle; free() it). Adapter handles (opens) are a process's and are not
 * restored: open the new LUID. Locked allocations stay locked with a new CPU
 * mapping (D3DKMTLock again for its address).
 * STATUS_INVALID_PARAMETER with a sentence in err when the snapshot is
 * inconsistent (nothing is left behind), STATUS_NO_MEMORY. */
NTSTATUS gpusim_snapshot_restore(const struct gpusim_snapshot *snap, LUID *luid,
				 struct gpusim_handle_map **map, size_t *nmap, char *err,
				 size_t errlen);

/* What D3DKMTCreateContext returned for a legacy context (command buffer,
 * allocation and patch lists): for a process that did not create it, such as
 * one that restored a snapshot. The buffers come back zeroed: they are the
 * creating process's scratch memory, not device state.
 * STATUS_INVALID_PARAMETER for anything but a legacy context handle. */
NTSTATUS gpusim_context_buffers(D3DKMT_HANDLE context, D3DKMT_CREATECONTEXT *out);

/* A monitored fence's FenceValueCPUVirtualAddress (a paging queue's fence too)
 * in this process: a restore maps the fence pages anew, as it does locked
 * allocations. STATUS_INVALID_PARAMETER for anything but a monitored fence. */
NTSTATUS gpusim_fence_cpu_address(D3DKMT_HANDLE sync, const volatile UINT64 **out);

#ifdef __cplusplus
}
#endif
#endif
