/*
 * D3DKMTRender: a context's command buffer with its allocation list and patch
 * locations. Every listed allocation is made resident first (or the call fails
 * with STATUS_GRAPHICS_NO_VIDEO_MEMORY having run nothing), their GPU addresses
 * are patched in, and the work is queued behind a fence that marks their use.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kmt/core.h"

#define ALLOC_LIST_FLAGS 0x1fu  /* WriteOperation, DoNotRetireInstance, OfferPriority */
#define RENDER_FLAGS_KNOWN 0x7fu

NTSTATUS APIENTRY D3DKMTRender(D3DKMT_RENDER *pData)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	struct kmt_alloc **v = NULL;
	struct vidmm_alloc **set = NULL;
	uint64_t *addr = NULL;
	struct kmt_patch *patches = NULL;
	if (!pData)
		return st;
	KMT_ENTER();
	struct kmt_context *ctx = kmt_handle_get(pData->hContext, KMT_T_CONTEXT);
	if (!ctx || !ctx->cmdbuf)
		goto out; /* virtual contexts submit through other paths */
	struct kmt_device *dev = ctx->dev;
	struct kmt_adapter *ad = dev->ad;
	uint32_t flags;
	memcpy(&flags, &pData->Flags, sizeof(flags));
	uint64_t end = (uint64_t)pData->CommandOffset + pData->CommandLength;
	if ((flags & ~RENDER_FLAGS_KNOWN) || end > ctx->cmdbuf_size || pData->CommandOffset % 4 ||
	    pData->CommandLength % 4 || pData->AllocationCount > ctx->alloc_list_size ||
	    pData->PatchLocationCount > ctx->patch_list_size ||
	    pData->BroadcastContextCount > D3DDDI_MAX_BROADCAST_CONTEXT ||
	    (pData->PrivateDriverDataSize && !pData->pPrivateDriverData))
		goto out;
	for (ULONG i = 0; i < pData->BroadcastContextCount; i++) {
		struct kmt_context *b = kmt_handle_get(pData->BroadcastContext[i], KMT_T_CONTEXT);
		if (!b || b->dev != dev)
			goto out;
	}
	uint32_t n = pData->AllocationCount, np = pData->PatchLocationCount;
	v = malloc((n ? n : 1) * sizeof(*v));
	set = malloc((n ? n : 1) * sizeof(*set));
	addr = malloc((n ? n : 1) * sizeof(*addr));
	patches = malloc((np ? np : 1) * sizeof(*patches));
	if (!v || !set || !addr || !patches) {
		st = STATUS_NO_MEMORY;
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		const D3DDDI_ALLOCATIONLIST *e = &ctx->alloc_list[i];
		v[i] = kmt_get_alloc(dev, e->hAllocation);
		if (!v[i] || (e->Value & ~ALLOC_LIST_FLAGS))
			goto out;
		set[i] = &v[i]->mem->v;
	}
	for (uint32_t i = 0; i < np; i++) {
		const D3DDDI_PATCHLOCATIONLIST *pl = &ctx->patch_list[i];
		if (pl->AllocationIndex >= n || pl->PatchOffset < pData->CommandOffset ||
		    (uint64_t)pl->PatchOffset + 8 > end || pl->PatchOffset % 4 ||
		    pl->AllocationOffset >= set[pl->AllocationIndex]->size)
			goto out;
		patches[i].index = pl->AllocationIndex;
		patches[i].patch_offset = pl->PatchOffset - pData->CommandOffset;
		patches[i].alloc_offset = pl->AllocationOffset;
	}
	struct kmt_submission sub = {
		.commands = (const uint32_t *)((const uint8_t *)ctx->cmdbuf + pData->CommandOffset),
		.length = pData->CommandLength,
		.gpu_addresses = addr,
		.nalloc = n,
		.patches = patches,
		.npatch = np,
	};
	int rc = ad->mm->ddi->check_commands ? ad->mm->ddi->check_commands(ad->mm->drv, &sub) : 0;
	if (rc) {
		/* Malformed packets, or the kernel's: the caller's buffer is wrong,
		 * as SubmitCommand says for the same packets. Nothing was made
		 * resident, nothing is queued. */
		st = rc == -EPERM ? STATUS_INVALID_PARAMETER : kmt_status_from_errno(rc);
		goto out;
	}
	if (ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	rc = vidmm_make_resident(ad->mm, set, n, false, GPUSIM_CAUSE_RENDER);
	if (rc) {
		kmt_adapter_poll(ad);
		st = rc == -EBUSY ? STATUS_GRAPHICS_CANT_RENDER_LOCKED_ALLOCATION : kmt_status_from_errno(rc);
		goto out;
	}
	for (uint32_t i = 0; i < n; i++)
		addr[i] = vidmm_gpu_address(ad->mm, set[i]);
	uint64_t fence = 0;
	if (!(flags & 0x8u)) { /* NullRendering: validate and place, run nothing */
		rc = ad->mm->ddi->submit(ad->mm->drv, &sub, &fence);
		if (rc) {
			st = rc == -EPERM ? STATUS_INVALID_PARAMETER : kmt_status_from_errno(rc);
			goto out;
		}
		kmt_blame_record(ad, fence, dev->handle);
		ad->submits++;
		ctx->last_fence = fence;
		for (uint32_t i = 0; i < n; i++)
			vidmm_touch(ad->mm, set[i], fence);
		/* The uses come right before their SUBMIT, so a reader tells one
		 * submission's list from the next by the SUBMIT between them. */
		kmt_emit_uses(ad, set, n, GPUSIM_CAUSE_RENDER, fence);
		kmt_emit_simple(ad, GPUSIM_EV_SUBMIT, GPUSIM_CAUSE_RENDER, dev->handle, fence);
	}
	kmt_adapter_poll(ad);
	/* The same buffers serve the next submission. */
	pData->pNewCommandBuffer = ctx->cmdbuf;
	pData->NewCommandBufferSize = ctx->cmdbuf_size;
	pData->pNewAllocationList = ctx->alloc_list;
	pData->NewAllocationListSize = ctx->alloc_list_size;
	pData->pNewPatchLocationList = ctx->patch_list;
	pData->NewPatchLocationListSize = ctx->patch_list_size;
	pData->QueuedBufferCount = (ULONG)(ad->mm->ddi->submitted_fence(ad->mm->drv, KMT_ENGINE_RENDER) -
					   ad->mm->ddi->completed_fence(ad->mm->drv, KMT_ENGINE_RENDER));
	pData->NewCommandBuffer = 0;
	st = STATUS_SUCCESS;
out:
	free(v);
	free(set);
	free(addr);
	free(patches);
	kmt_unlock();
	return st;
}
