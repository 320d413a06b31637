/*
 * The driver for the gpusim device (hw/): its private state, shared by the files
 * of kmt/gsdrv/. It owns the rings, the fence page, the GART table and a paging
 * window in the aperture; the core sees it only through kmt/ddi.h.
 */
#ifndef KMT_GSDRV_H
#define KMT_GSDRV_H

#include <stdbool.h>
#include <stdint.h>

#include <gpusim/hw.h>
#include "kmt/ddi.h"

/* Driver-reserved layout at the start of visible VRAM. */
#define GSDRV_FENCE_OFF 0x0
#define GSDRV_RENDER_RING_OFF 0x1000
#define GSDRV_RENDER_RING_SIZE (256u * 1024)
#define GSDRV_PAGING_RING_OFF (GSDRV_RENDER_RING_OFF + GSDRV_RENDER_RING_SIZE)
#define GSDRV_PAGING_RING_SIZE (64u * 1024)
#define GSDRV_GART_TABLE_OFF (GSDRV_PAGING_RING_OFF + GSDRV_PAGING_RING_SIZE)
#define GSDRV_WINDOW_MAX_PAGES 256u /* aperture pages for sys <-> VRAM transfers */
#define GSDRV_MAX_FAULTS 64u
#define GSDRV_PAGING_TRIES 3u /* a transfer that faults is redone this many times */
#define GSDRV_FENCE_PAGES_MAX 16u /* aperture pages for monitored fences (8192 of them) */

struct gsdrv_ring {
	unsigned index;
	uint32_t size;
	uint32_t wptr;
	uint8_t *cpu;         /* the ring through BAR2 */
	uint64_t submitted;   /* last fence value emitted */
};

struct gsdrv {
	struct hw_device *hw;
	struct hw_config cfg;
	struct gsdrv_ring rings[KMT_ENGINES];
	uint8_t *fence_cpu;   /* fence page through BAR2: one u64 per engine */
	uint64_t reserved;    /* bytes of visible VRAM the driver keeps */
	uint64_t gart_seg_size;
	uint64_t invisible_size; /* VRAM beyond BAR2 in GPUSIM_SEG_INVISIBLE ... */
	uint64_t vram2_size;     /* ... and in GPUSIM_SEG_VRAM2 (pools=2), which follows it */
	struct kmt_segment_desc segs[KMT_MAX_SEGMENTS];
	uint32_t nsegs;
	uint64_t fence_page;  /* first aperture page of the monitored fence pages */
	uint32_t fence_pages; /* below the window; the GART segment ends at fence_page */
	uint64_t window_page; /* first aperture page of the paging window */
	uint32_t window_pages;
	bool paging_dirty;    /* paging work queued since the last flush */
	/* The address space the render ring is left in by what is queued on it, so
	 * SET_VM is emitted only on a change; not known: the next submission sets it
	 * whatever it is (after a fault or a restore). Root 0: physical. */
	bool vm_known;
	uint64_t vm_root;
	uint32_t vm_asid;
	/* A VA submission's packets between reading and emitting them (parsed in
	 * this copy, so what is checked is what runs); kept, so a submission
	 * allocates nothing once it has grown to the largest buffer seen. */
	uint32_t *scratch;
	uint32_t scratch_bytes;
	struct kmt_fault_info faults[GSDRV_MAX_FAULTS];
	uint32_t fault_head, fault_count;
	uint64_t faults_dropped;
	uint64_t paging_faults;   /* faults on the paging engine: a transfer to redo */
	uint64_t fence_irqs[KMT_ENGINES];  /* fence interrupts taken */
	uint64_t irq_fence[KMT_ENGINES];   /* completed value seen at the last one */
};

/* ring.c */
int gsdrv_ring_init(struct gsdrv *d, unsigned index, uint64_t off, uint32_t size, bool stop_on_fault);
int gsdrv_ring_emit(struct gsdrv *d, unsigned engine, const uint32_t *dw, uint32_t n);
void gsdrv_ring_kick(struct gsdrv *d, unsigned engine);
uint64_t gsdrv_fence_emit(struct gsdrv *d, unsigned engine);
/* Leave the render ring in the address space at root (0: physical), emitting
 * SET_VM only if the ring is not known to be there. */
int gsdrv_switch_vm(struct gsdrv *d, uint64_t root, uint32_t asid);
int gsdrv_wait_fence(void *drv, uint32_t engine, uint64_t value);
uint64_t gsdrv_completed_fence(void *drv, uint32_t engine);
uint64_t gsdrv_submitted_fence(void *drv, uint32_t engine);
void gsdrv_irq(void *opaque, uint32_t pending);
bool gsdrv_take_fault(void *drv, struct kmt_fault_info *out);
void gsdrv_idle(void *drv);
int gsdrv_step(void *drv);

/* paging.c */
void gsdrv_gart_map(struct gsdrv *d, uint64_t page, const uint64_t *pfns, uint64_t n);
void gsdrv_gart_unmap(struct gsdrv *d, uint64_t page, uint64_t n);
int gsdrv_build_paging_buffer(void *drv, const struct kmt_paging_op *op);
int gsdrv_paging_flush(void *drv, uint64_t *fence);
uint64_t gsdrv_gpu_address(void *drv, uint32_t seg, uint64_t offset);

/* gsdrv.c */
void gsdrv_discard(void *drv, uint32_t seg, uint64_t offset, uint64_t size);

/* mmu.c */
int gsdrv_mmu_caps(void *drv, struct kmt_mmu_caps *out);
int gsdrv_update_page_table(struct gsdrv *d, const struct kmt_paging_op *op);
int gsdrv_flush_tlb(struct gsdrv *d, const struct kmt_paging_op *op);
int gsdrv_read_pte(void *drv, uint32_t seg, uint64_t offset, uint32_t index, bool dir,
		   struct kmt_pte *out);

/* submit.c */
int gsdrv_submit(void *drv, const struct kmt_submission *sub, uint64_t *fence);
/* n dwords of a user buffer: 0 when its packets tile it exactly and none is the
 * kernel's; -EINVAL a packet running past the end, -EPERM SET_VM or TLB_INVALIDATE. */
int gsdrv_check_packets(const uint32_t *p, uint32_t n);
int gsdrv_check_commands(void *drv, const struct kmt_submission *sub);

/* submitva.c */
int gsdrv_submit_va(void *drv, const struct kmt_va_submission *sub, uint64_t *fence);
int gsdrv_fence_va(void *drv, const struct kmt_va_fence_op *op, uint64_t *fence);
void gsdrv_memory_written(void *drv);

/* gsdrv.c: the segment with this id, or NULL. */
const struct kmt_segment_desc *gsdrv_segment(const struct gsdrv *d, uint32_t id);

/* describe.c */
int gsdrv_describe_allocation(void *drv, const void *priv, uint32_t priv_size,
			      struct kmt_alloc_desc *out);

/* fence.c */
uint32_t gsdrv_fence_pages(void *drv);
int gsdrv_map_fence_page(void *drv, uint32_t index, uint64_t pfn, uint64_t *gpu);
void gsdrv_unmap_fence_page(void *drv, uint32_t index);
uint64_t gsdrv_fence_page_gpu(void *drv, uint32_t index);
int gsdrv_signal_fence(struct gsdrv *d, uint64_t gpu, uint64_t value);

/* state.c */
void gsdrv_save_state(void *drv, struct kmt_wstream *w);
int gsdrv_load_state(void *drv, struct kmt_rstream *r, char *err, size_t errlen);

static inline void gsdrv_lo_hi(uint32_t *out, uint64_t v)
{
	out[0] = (uint32_t)v;
	out[1] = (uint32_t)(v >> 32);
}

#endif
