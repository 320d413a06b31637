/*
 * The driver's books in a snapshot: ring write pointers and fence counters, the
 * queue of page faults not yet taken, interrupt counters. The layout (rings,
 * fence page, window) is not saved: start() derives it from the configuration.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>

#include "kmt/gsdrv/gsdrv.h"

#define TAG_GSDRV 0x56445347u /* "GSDV" */

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
