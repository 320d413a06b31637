/*
 * D3DKMTSubmitCommand: a WDDM 2 submission. The command buffer is named by its
 * GPU virtual address in the process's VA space; nothing is listed, patched or
 * made resident (residency is the caller's, through MakeResident). Each context
 * of BroadcastContext runs it in that address space, behind a fence of its own.
 * The order of checks is described in adapter.c.
 */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "kmt/core.h"
#include "kmt/procva.h"

#define SUBMIT_FLAGS_KNOWN 0x7u /* NullRendering, PresentRedirected, NoKmdAccess */
#define SUBMIT_NULL_RENDERING 0x1u
/* gsdrv copies the packets into its ring (kmt/gsdrv/submitva.c), so a buffer
 * is bounded as a legacy context's is. */
#define SUBMIT_MAX_BYTES (64u << 10)

static NTSTATUS status_of(int rc)
{
	switch (rc) {
	case -EINVAL:
	case -EPERM:  /* a packet only the kernel may issue */
	case -EFAULT: /* the buffer is not resident: the driver cannot read it */
		return STATUS_INVALID_PARAMETER;
	default:
		return kmt_status_from_errno(rc);
	}
}

/* Every page of [va, va+len) maps an allocation (in the books: resident or not). */
static bool buffer_mapped(const struct vidmm_va_space *vs, uint64_t va, uint64_t len)
{
	if (va >= vs->limit || len > vs->limit - va)
		return false;
	for (uint64_t p = va - va % HW_PAGE_SIZE; p < va + len; p += HW_PAGE_SIZE) {
		const struct vidmm_va_mapping *m = vidmm_va_lookup(vs, p);
		if (!m || !m->alloc)
			return false; /* the kernel's fence pages hold no commands */
	}
	return true;
}

static bool allocs_ok(struct kmt_device *dev, const D3DKMT_HANDLE *h, UINT n)
{
	for (UINT i = 0; i < n; i++)
		if (!kmt_get_alloc(dev, h[i]))
			return false;
	return true;
}

NTSTATUS APIENTRY D3DKMTSubmitCommand(CONST D3DKMT_SUBMITCOMMAND *pData)
{
	struct kmt_context *ctx[D3DDDI_MAX_BROADCAST_CONTEXT];
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	uint32_t flags;
	if (!pData)
		return st;
	memcpy(&flags, &pData->Flags, sizeof(flags));
	if ((flags & ~SUBMIT_FLAGS_KNOWN) || !pData->Commands || pData->Commands % 4 || !pData->CommandLength ||
	    pData->CommandLength % 4 || pData->CommandLength > SUBMIT_MAX_BYTES || !pData->BroadcastContextCount ||
	    pData->BroadcastContextCount > D3DDDI_MAX_BROADCAST_CONTEXT ||
	    (pData->PrivateDriverDataSize && !pData->pPrivateDriverData) ||
	    pData->NumPrimaries > D3DDDI_MAX_WRITTEN_PRIMARIES || (pData->NumHistoryBuffers && !pData->HistoryBufferArray))
		return st;
	KMT_ENTER();
	struct kmt_device *dev = NULL;
	for (UINT i = 0; i < pData->BroadcastContextCount; i++) {
		ctx[i] = kmt_handle_get(pData->BroadcastContext[i], KMT_T_CONTEXT);
		/* A legacy context submits through Render; one device per call. */
		if (!ctx[i] || ctx[i]->cmdbuf || (dev && ctx[i]->dev != dev))
			goto out;
		dev = ctx[i]->dev;
	}
	if (!allocs_ok(dev, pData->WrittenPrimaries, pData->NumPrimaries) ||
	    !allocs_ok(dev, pData->HistoryBufferArray, pData->NumHistoryBuffers))
		goto out;
	struct kmt_adapter *ad = dev->ad;
	if (ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	struct vidmm_va_space *vs;
	int rc = kmt_va_space(ad, &vs);
	if (rc) {
		st = rc == -ENODEV ? STATUS_NOT_SUPPORTED : status_of(rc);
		goto out;
	}
	if (!ad->mm->ddi->submit_va) {
		st = STATUS_NOT_SUPPORTED;
		goto out;
	}
	if (!buffer_mapped(vs, pData->Commands, pData->CommandLength))
		goto out;
	if (flags & SUBMIT_NULL_RENDERING) { /* validate, run nothing */
		st = STATUS_SUCCESS;
		goto out;
	}
	struct kmt_va_submission sub = { .root = vidmm_va_root(ad->mm, vs), .asid = vs->asid,
					 .commands = pData->Commands, .length = pData->CommandLength };
	for (UINT i = 0; i < pData->BroadcastContextCount; i++) {
		uint64_t fence;
		if ((rc = ad->mm->ddi->submit_va(ad->mm->drv, &sub, &fence))) {
			kmt_adapter_poll(ad);
			st = status_of(rc);
			goto out;
		}
		kmt_blame_record(ad, fence, dev->handle);
		ad->submits++;
		ctx[i]->last_fence = fence;
		struct gpusim_event ev = { .type = GPUSIM_EV_SUBMIT_VA, .cause = GPUSIM_CAUSE_RENDER,
					   .time_ns = ad->mm->ddi->now(ad->mm->drv), .device = dev->handle,
					   .offset = pData->Commands, .size = pData->CommandLength, .value = fence };
		kmt_emit(ad, &ev);
	}
	kmt_adapter_poll(ad);
	st = STATUS_SUCCESS;
out:
	kmt_unlock();
	return st;
}
