/*
 * The driver's books in a snapshot: ring write pointers and fence counters, the
 * address space the render ring is left in, the queue of page faults not yet
 * taken, interrupt counters. The layout (rings, fence page, window) is not saved:
 * start() derives it from the configuration.
 *
 * The render ring's address space is saved as the driver knows it: forgetting it
 * on restore would make the next submission emit a SET_VM the straight run does
 * not, and the resumed run would end later than the run straight through.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>

#include "kmt/gsdrv/gsdrv.h"

#define TAG_GSDRV 0x56445347u /* "GSDV" */

/* A known address space must be the ring's own once the ring has run all the
 * driver wrote (earlier, the SET_VM that makes it so may still be queued): a
 * damaged one would let the next submission run in another context's space. */
static bool vm_matches_device(const struct gsdrv *d)
{
	const struct gsdrv_ring *ring = &d->rings[KMT_ENGINE_RENDER];
	if (!d->vm_known || hw_device_removed(d->hw) ||
	    hw_mmio_read(d->hw, HW_REG_RING(KMT_ENGINE_RENDER, HW_RING_RPTR)) != ring->wptr)
		return true;
	uint32_t ctrl = hw_mmio_read(d->hw, HW_REG_RING(KMT_ENGINE_RENDER, HW_RING_VM_CTRL));
	uint64_t root = hw_mmio_read(d->hw, HW_REG_RING(KMT_ENGINE_RENDER, HW_RING_VM_ROOT_LO)) |
			(uint64_t)hw_mmio_read(d->hw, HW_REG_RING(KMT_ENGINE_RENDER, HW_RING_VM_ROOT_HI)) << 32;
	uint32_t asid = hw_mmio_read(d->hw, HW_REG_RING(KMT_ENGINE_RENDER, HW_RING_VM_ASID));
	return ctrl == (d->vm_root ? HW_VM_CTRL_ENABLE : 0) && root == d->vm_root && asid == d->vm_asid;
}

void gsdrv_save_state(void *drv, struct kmt_wstream *w)
{
	struct gsdrv *d = drv;
	kmt_ws_tag(w, TAG_GSDRV);
	for (unsigned i = 0; i < KMT_ENGINES; i++) {
		kmt_ws_u32(w, d->rings[i].wptr);
		kmt_ws_u64(w, d->rings[i].submitted);
		kmt_ws_u64(w, d->fence_irqs[i]);
		kmt_ws_u64(w, d->irq_fence[i]);
	}
	kmt_ws_u32(w, d->vm_known);
	kmt_ws_u64(w, d->vm_root);
	kmt_ws_u32(w, d->vm_asid);
	kmt_ws_u32(w, d->paging_dirty);
	kmt_ws_u64(w, d->faults_dropped);
	kmt_ws_u64(w, d->paging_faults);
	kmt_ws_u32(w, d->fault_count);
	for (uint32_t i = 0; i < d->fault_count; i++) {
		const struct kmt_fault_info *f = &d->faults[(d->fault_head + i) % GSDRV_MAX_FAULTS];
		kmt_ws_u64(w, f->gpu_address);
		kmt_ws_u32(w, f->cause);
		kmt_ws_u32(w, f->engine);
		kmt_ws_u64(w, f->time_ns);
		kmt_ws_u64(w, f->completed);
	}
}

int gsdrv_load_state(void *drv, struct kmt_rstream *r, char *err, size_t errlen)
{
	struct gsdrv *d = drv;
	struct gsdrv nd = *d;
	if (!kmt_rs_tag(r, TAG_GSDRV, "driver")) {
		snprintf(err, errlen, "the driver's state is missing or damaged");
		return -EINVAL;
	}
	for (unsigned i = 0; i < KMT_ENGINES; i++) {
		nd.rings[i].wptr = kmt_rs_u32(r);
		nd.rings[i].submitted = kmt_rs_u64(r);
		nd.fence_irqs[i] = kmt_rs_u64(r);
		nd.irq_fence[i] = kmt_rs_u64(r);
		if (nd.rings[i].wptr >= nd.rings[i].size || nd.rings[i].wptr % 4) {
			snprintf(err, errlen, "the driver's ring %u write pointer %u does not fit the ring",
				 i, nd.rings[i].wptr);
			return -EINVAL;
		}
	}
	uint32_t known = kmt_rs_u32(r);
	nd.vm_known = known != 0;
	nd.vm_root = kmt_rs_u64(r);
	nd.vm_asid = kmt_rs_u32(r);
	if (r->bad || known > 1 || nd.vm_root & ~HW_VM_ADDR_MASK || nd.vm_asid > HW_VM_ASID_MASK ||
	    ((!known || !nd.vm_root) && (nd.vm_root || nd.vm_asid))) {
		snprintf(err, errlen, "the driver's render ring address space is damaged");
		return -EINVAL;
	}
	if (!vm_matches_device(&nd)) {
		snprintf(err, errlen,
			 "the driver's render ring address space (root 0x%llx, ASID %u) is not the ring's",
			 (unsigned long long)nd.vm_root, nd.vm_asid);
		return -EINVAL;
	}
	uint32_t dirty = kmt_rs_u32(r);
	nd.paging_dirty = dirty != 0;
	nd.faults_dropped = kmt_rs_u64(r);
	nd.paging_faults = kmt_rs_u64(r);
	nd.fault_head = 0;
	nd.fault_count = kmt_rs_u32(r);
	if (r->bad || dirty > 1 || nd.fault_count > GSDRV_MAX_FAULTS) {
		snprintf(err, errlen, "the driver's state is damaged");
		return -EINVAL;
	}
	for (uint32_t i = 0; i < nd.fault_count; i++) {
		struct kmt_fault_info *f = &nd.faults[i];
		f->gpu_address = kmt_rs_u64(r);
		f->cause = kmt_rs_u32(r);
		f->engine = kmt_rs_u32(r);
		f->time_ns = kmt_rs_u64(r);
		f->completed = kmt_rs_u64(r);
		if (f->engine >= KMT_ENGINES || f->cause > HW_FAULT_MAX) {
			snprintf(err, errlen, "the driver's fault queue is damaged");
			return -EINVAL;
		}
	}
	if (r->bad) {
		snprintf(err, errlen, "the driver's state is cut short");
		return -EINVAL;
	}
	*d = nd;
	return 0;
}
