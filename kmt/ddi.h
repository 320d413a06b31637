/*
 * The line between the hardware-independent core of kmt/ and the driver for a
 * particular device, modelled on the WDDM kernel driver callbacks (DxgkDdi*). The
 * core never touches hw/ registers; someone bringing up their own driver logic
 * replaces the driver behind this table (kmt/gsdrv/ is the one for hw/).
 */
#ifndef KMT_DDI_H
#define KMT_DDI_H

#include <stdbool.h>
#include <stdint.h>

#include <gpusim/hw.h>
#include "kmt/snapshot/stream.h"

/* Where an allocation may live, as data (TTM's struct ttm_placement): segment ids
 * in order of preference. The first `npref` are the placement proper; the rest
 * are the fallback (TTM's busy_placement), used only when no preferred segment
 * can be made to hold it. The manager reads nothing else: it never knows which
 * segment is which, only what each can do (struct kmt_segment_desc). */
#define KMT_PLACE_MAX 7
struct kmt_placement {
	uint8_t n;                 /* entries in seg[], >= 1 */
	uint8_t npref;             /* 1 .. n */
	uint8_t seg[KMT_PLACE_MAX];/* each id once */
};

/* What the driver reads out of an allocation's private driver data
 * (DxgkDdiCreateAllocation / DescribeAllocation). */
struct kmt_alloc_desc {
	uint64_t size;        /* page multiple, > 0 */
	uint64_t align;       /* power of two >= 4 KiB */
	uint32_t flags;       /* GPUSIM_ALLOC_* */
	uint32_t priority;    /* 0 = NORMAL */
	struct kmt_placement placement; /* only segments whose base honours align */
};

/* A segment as the driver exposes it (DXGK_QUERYSEGMENTOUT's DXGK_SEGMENTDESCRIPTOR:
 * its size and what it can do, never what it is called). */
struct kmt_segment_desc {
	uint32_t id;          /* the driver's, 1 .. 7; events and statistics use it */
	uint64_t size;        /* bytes the manager may place allocations in */
	uint64_t base_align;  /* alignment of its base GPU address (a power of two) */
	bool cpu_visible;     /* the CPU can map it (BAR2, or system pages) */
	bool aperture;        /* backed by system pages mapped through the GART: its
			       * bytes are the allocation's backing store (no copy to
			       * move between it and sys) */
	bool vram;            /* local memory: counts in the local budget; a copy
			       * between two such segments never crosses the bus */
};

/* A memory location for paging: in a segment, or an evicted backing store. */
struct kmt_mem_loc {
	uint32_t seg;         /* a segment id, or GPUSIM_SEG_SYS */
	uint64_t offset;      /* in the segment */
	const uint64_t *pages;/* SYS: the backing pages, one per 4 KiB */
};

enum kmt_paging_op_type {
	KMT_PAGING_TRANSFER,        /* copy size bytes from src to dst */
	KMT_PAGING_MAP_APERTURE,    /* map pages at aperture offset dst.offset */
	KMT_PAGING_UNMAP_APERTURE,  /* unmap size bytes at aperture offset dst.offset */
	/* DXGK_BUILDPAGINGBUFFER_UPDATEPAGETABLE: write nentries entries from ptes[]
	 * at entry first_entry of the page table at dst (a segment location); with
	 * clear_table, zero the whole table first (a new one). Queued on the copy
	 * engine: complete at the next paging_flush's fence. */
	KMT_PAGING_UPDATE_PAGE_TABLE,
	/* DXGK_BUILDPAGINGBUFFER_FLUSHTLB: the TLB entries of address space asid
	 * whose root table is at dst, after the updates queued before it. */
	KMT_PAGING_FLUSH_TLB,
	KMT_PAGING_SIGNAL_FENCE,    /* after the work before it: store `value` at GPU
				     * address `fence_gpu` (DXGK_OPERATION_SIGNAL_MONITORED_FENCE);
				     * queued, not waited for */
};

/* A page-table entry as the manager means it (DXGK_PTE); the driver encodes it in
 * its MMU's format. */
#define KMT_PTE_VALID 0x1u
#define KMT_PTE_READ_ONLY 0x2u
#define KMT_PTE_SYSTEM 0x4u    /* address is a system page's (pfn << 12), not VRAM */
#define KMT_PTE_TABLE 0x8u     /* address is the next level's table (in VRAM) */
struct kmt_pte {
	uint64_t address;           /* a VRAM GPU address, or pfn << 12 with SYSTEM */
	uint32_t flags;             /* KMT_PTE_*; 0: not present */
};

/* The GPU MMU as the driver describes it (DXGK_GPUMMUCAPS): a radix tree of
 * `levels` tables of 2^level_bits entries each, 4 KiB pages at the leaves. */
struct kmt_mmu_caps {
	uint32_t va_bits;           /* 12 + levels * level_bits */
	uint32_t levels;
	uint32_t level_bits;
	uint32_t table_bytes;       /* one table: a page multiple */
};

/* DxgkDdiBuildPagingBuffer's operations. */
struct kmt_paging_op {
	uint32_t type;
	uint64_t size;
	struct kmt_mem_loc src, dst;
	const uint64_t *pages;      /* MAP_APERTURE */
	uint32_t flags;             /* MAP_APERTURE: the allocation's GPUSIM_ALLOC_* (READ_ONLY
				     * maps it without write access) */
	/* UPDATE_PAGE_TABLE and FLUSH_TLB */
	uint32_t first_entry, nentries;
	const struct kmt_pte *ptes;
	bool clear_table;
	uint32_t asid;
	uint64_t fence_gpu;         /* SIGNAL_FENCE */
	uint64_t value;             /* SIGNAL_FENCE */
};

/* A patch location: write the 64-bit GPU address of allocation `index` plus
 * `alloc_offset` at byte `patch_offset` of the command buffer. */
struct kmt_patch {
	uint32_t index;
	uint32_t patch_offset;
	uint64_t alloc_offset;
};

struct kmt_submission {
	const uint32_t *commands;   /* packets of the device, as the UMD wrote them */
	uint32_t length;            /* bytes */
	const uint64_t *gpu_addresses; /* one per allocation-list entry */
	uint32_t nalloc;
	const struct kmt_patch *patches;
	uint32_t npatch;
};

/* kmt_fault_info.flags */
#define KMT_FAULT_VA 0x1u           /* gpu_address is a GPU virtual address of address space asid */
#define KMT_FAULT_WRITE 0x2u        /* the access was a write (when the device says so) */
struct kmt_fault_info {
	uint64_t gpu_address;
	uint32_t cause;             /* HW_FAULT_* */
	uint32_t engine;
	uint64_t time_ns;
	uint64_t completed;         /* the engine's completed fence when it faulted */
	uint32_t flags;             /* KMT_FAULT_* */
	uint32_t asid;              /* with KMT_FAULT_VA */
};

/* DxgkDdiSubmitCommandVirtual: a command buffer at a GPU virtual address of the
 * address space whose root table is at `root`, run on the render engine in that
 * address space. */
struct kmt_va_submission {
	uint64_t root;              /* GPU address of the root page table */
	uint32_t asid;
	uint64_t commands;          /* GPU VA of the packets */
	uint32_t length;            /* bytes */
};

/* A monitored-fence operation queued on the render engine in an address space
 * (DXGK_SIGNAL/WAIT on a context): store `value` at `va`, or stall the engine
 * until the 64-bit value at `va` is >= `value`. */
struct kmt_va_fence_op {
	uint64_t root;
	uint32_t asid;
	bool wait;
	uint64_t va;
	uint64_t value;
};

enum kmt_engine { KMT_ENGINE_RENDER = 0, KMT_ENGINE_PAGING = 1, KMT_ENGINES = 2 };

/* Driver options from the adapter's configuration. */
struct kmt_driver_options {
	uint32_t vram_pools;  /* 1, or 2: VRAM beyond BAR2 as two segments */
	bool stop_on_fault;   /* the render engine stops on a fault instead of skipping
			       * the packet (ring_faults=stop) */
};
#define KMT_MAX_SEGMENTS 7

/* What the device and its driver can do (struct kmt_ddi's caps). */
#define KMT_DDI_CAP_GPU_MMU 0x1u /* GPU virtual addresses through a GPU MMU: answers
				  * WDDM 2.0 and GpuMmuSupported in the node metadata. */

/* Monitored fence storage: kernel-owned system pages that the GPU reaches too.
 * The driver gives each page a GPU address (gsdrv: a slice of the aperture
 * below its paging window). */
#define KMT_FENCE_SLOTS_PER_PAGE 512u /* one 64-bit value each */

struct kmt_ddi {
	const char *name;
	uint32_t caps;        /* KMT_DDI_CAP_* */
	/* DxgkDdiAddDevice + StartDevice + QueryAdapterInfo(segments). */
	int (*start)(struct hw_device *hw, const struct kmt_driver_options *opt, void **drv,
		     struct kmt_segment_desc *segs, uint32_t *nsegs);
	void (*stop)(void *drv);
	/* Validate private driver data; -EINVAL when malformed. */
	int (*describe_allocation)(void *drv, const void *priv, uint32_t priv_size,
				   struct kmt_alloc_desc *out);
	/* One paging operation; a transfer is complete when this returns (-EIO when
	 * the engine kept faulting on it: then nothing may be assumed moved, and the
	 * destination holds nothing worth keeping: gsdrv discards a VRAM one). */
	int (*build_paging_buffer)(void *drv, const struct kmt_paging_op *op);
	/* Submit queued paging work behind a fence and wait for it. */
	int (*paging_flush)(void *drv, uint64_t *fence);
	/* GPU address of a segment offset. */
	uint64_t (*gpu_address)(void *drv, uint32_t seg, uint64_t offset);
	/* CPU pointer for a segment range (BAR2 or the aperture's pages), or NULL. */
	void *(*map_cpu)(void *drv, uint32_t seg, uint64_t offset, uint64_t size);
	/* Nothing in [offset, offset+size) of segment seg is needed any more (its
	 * allocation left, after its bytes were copied away or on destroy): give the
	 * memory back to the host; the range reads as zero afterwards, so the next
	 * allocation there never sees another's bytes. A no-op for an aperture
	 * segment, whose bytes live in the allocation's system pages (freeing those
	 * zeroes them). Not a paging operation: no device time, nothing queued.
	 * Optional (NULL: nothing is released). */
	void (*discard)(void *drv, uint32_t seg, uint64_t offset, uint64_t size);
	/* DxgkDdiRender's validation of a command buffer as the caller wrote it (the
	 * patches' offsets, not the addresses), before anything is made resident:
	 * -EINVAL packets that do not tile the buffer or a patch location over a
	 * packet header, -EPERM a packet only the kernel may issue. Optional. */
	int (*check_commands)(void *drv, const struct kmt_submission *sub);
	/* DxgkDdiPatch + SubmitCommand: returns the submission's fence. -ENOSPC when
	 * the command buffer cannot fit the ring, -EINVAL for a patch out of range or
	 * packets that do not tile the buffer, -EPERM a packet only the kernel may
	 * issue; nothing is queued then. */
	int (*submit)(void *drv, const struct kmt_submission *sub, uint64_t *fence);
	/* Optional (GpuMmu). SubmitCommandVirtual: returns the submission's render
	 * fence. -EINVAL malformed packets, -EPERM a packet only the kernel may
	 * issue, -EFAULT commands the driver cannot read through the address space
	 * (not mapped or not resident), -ENOSPC longer than the ring can take. */
	int (*submit_va)(void *drv, const struct kmt_va_submission *sub, uint64_t *fence);
	/* Optional (GpuMmu). A monitored-fence signal or wait on the render engine;
	 * returns the render fence behind it. */
	int (*fence_va)(void *drv, const struct kmt_va_fence_op *op, uint64_t *fence);
	/* Optional. The CPU wrote a monitored fence value an engine may be waiting
	 * on: let the device look again. */
	void (*memory_written)(void *drv);
	/* Run the device until `engine` has completed `value` (-ETIMEDOUT: it never will). */
	int (*wait_fence)(void *drv, uint32_t engine, uint64_t value);
	uint64_t (*completed_fence)(void *drv, uint32_t engine);
	uint64_t (*submitted_fence)(void *drv, uint32_t engine);
	/* DxgkDdiInterruptRoutine's results: the next GPU page fault not yet taken. */
	bool (*take_fault)(void *drv, struct kmt_fault_info *out);
	/* Run until every engine is idle. */
	void (*idle)(void *drv);
	/* Run the device to its next event: 0, -ETIMEDOUT when nothing can run
	 * (idle, or waiting on a value nobody will write), -ENODEV when removed. */
	int (*step)(void *drv);
	uint64_t (*now)(void *drv);
	/* GpuMmu (optional: NULL for a driver without one). The MMU's shape: 0, or
	 * -ENODEV when the device has none. */
	int (*mmu_caps)(void *drv, struct kmt_mmu_caps *out);
	/* Entry `index` of the table at segment location (seg, offset) as the device
	 * holds it now, decoded (`dir`: a directory, above the leaves); reads memory
	 * without side effects (checks). */
	int (*read_pte)(void *drv, uint32_t seg, uint64_t offset, uint32_t index, bool dir, struct kmt_pte *out);
	/* Snapshots: the driver's own books (not the device's: the core saves those),
	 * and putting them back into a driver just started on a device that has had
	 * its memory and state restored. -EINVAL with a sentence in err. */
	void (*save_state)(void *drv, struct kmt_wstream *w);
	int (*load_state)(void *drv, struct kmt_rstream *r, char *err, size_t errlen);
	/* Make system page `pfn` the monitored fence page number `index` (0 ..
	 * fence_pages - 1), writable by the GPU at *gpu; unmap it again. The pages'
	 * entries are device state (the GART table), so a restore keeps them. */
	uint32_t (*fence_pages)(void *drv);
	int (*map_fence_page)(void *drv, uint32_t index, uint64_t pfn, uint64_t *gpu);
	void (*unmap_fence_page)(void *drv, uint32_t index);
	uint64_t (*fence_page_gpu)(void *drv, uint32_t index);
};

extern const struct kmt_ddi gsdrv_ddi;

#endif
