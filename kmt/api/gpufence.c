/*
 * Monitored fences from the GPU (WDDM 2.0): D3DKMTSignalSynchronizationObjectFromGpu,
 * ...FromGpu2 and D3DKMTWaitForSynchronizationObjectFromGpu. Each queues device
 * work on the context's engine, in the process's address space, at the fence's
 * GPU virtual address (kmt/procva.c): a FENCE packet that stores the value when
 * the work before it is done, or a WAIT packet that stalls the engine until the
 * value is there, written by the CPU (SignalFromCpu lets the device look again)
 * or by another engine. The order of checks is described in adapter.c.
 */
#include <config.h>

#include <errno.h>

#include "kmt/core.h"
#include "kmt/procva.h"

#define NO_GPU_ACCESS 0x80u /* D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS.NoGPUAccess */
#define NO_SIGNAL 0x10u
#define NO_WAIT 0x20u

/* The monitored fences of dev in h[0..n): the GPU may use them; signals: a
 * queue's paging fence is its own, NoSignal forbids, one value per object. */
static bool get_gpu_fences(const struct kmt_device *dev, const D3DKMT_HANDLE *h, UINT n, bool signal,
			   struct kmt_sync **out)
{
	for (UINT i = 0; i < n; i++) {
		struct kmt_sync *s = kmt_handle_get(h[i], KMT_T_SYNC);
		if (!s || s->dev != dev || !s->cpu_value || (s->flags & NO_GPU_ACCESS))
			return false;
		if (signal && (s->pq || (s->flags & NO_SIGNAL)))
			return false;
		if (!signal && (s->flags & NO_WAIT))
			return false;
		for (UINT j = 0; signal && j < i; j++)
			if (out[j] == s)
				return false;
		out[i] = s;
	}
	return true;
}

/* Values not ahead of what the fence has, or will have from signals already
 * queued, are refused as a CPU signal's are (kmt/README.md). */
static bool values_ahead(struct kmt_sync *const *objs, const UINT64 *values, UINT n)
{
	for (UINT i = 0; i < n; i++) {
		uint64_t cur = kmt_sync_value(objs[i]);
		if (objs[i]->gpu_queued > cur)
			cur = objs[i]->gpu_queued;
		if (values[i] <= cur)
			return false;
	}
	return true;
}

/* The engine work itself, for each context. */
static NTSTATUS queue_ops(struct kmt_context *const *ctx, UINT nctx, struct kmt_sync *const *objs,
			  const UINT64 *values, UINT n, bool wait)
{
	struct kmt_adapter *ad = ctx[0]->dev->ad;
	struct vidmm_va_space *vs;
	if (!ad->mm->ddi->fence_va)
		return STATUS_NOT_SUPPORTED;
	int rc = kmt_va_space(ad, &vs);
	if (rc)
		return rc == -ENODEV ? STATUS_NOT_SUPPORTED : kmt_status_from_errno(rc);
	for (UINT c = 0; c < nctx; c++)
		for (UINT i = 0; i < n; i++) {
			struct kmt_va_fence_op op = { .root = vidmm_va_root(ad->mm, vs), .asid = vs->asid,
						      .wait = wait, .va = kmt_fence_gpu_va(ad, objs[i]->slot),
						      .value = values[i] };
			uint64_t fence;
			if ((rc = ad->mm->ddi->fence_va(ad->mm->drv, &op, &fence)))
				return kmt_status_from_errno(rc);
			kmt_blame_record(ad, fence, ctx[c]->dev->handle);
			ctx[c]->last_fence = fence;
			if (!wait)
				objs[i]->gpu_queued = values[i];
		}
	kmt_adapter_poll(ad);
	return STATUS_SUCCESS;
}

NTSTATUS APIENTRY D3DKMTSignalSynchronizationObjectFromGpu(CONST D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU *pData)
{
	struct kmt_sync *objs[D3DDDI_MAX_OBJECT_SIGNALED];
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	if (!pData || !pData->ObjectCount || pData->ObjectCount > D3DDDI_MAX_OBJECT_SIGNALED ||
	    !pData->ObjectHandleArray || !pData->MonitoredFenceValueArray)
		return st;
	KMT_ENTER();
	struct kmt_context *ctx = kmt_handle_get(pData->hContext, KMT_T_CONTEXT);
	if (!ctx || !get_gpu_fences(ctx->dev, pData->ObjectHandleArray, pData->ObjectCount, true, objs))
		goto out;
	if (ctx->dev->ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	kmt_adapter_poll(ctx->dev->ad);
	if (!values_ahead(objs, pData->MonitoredFenceValueArray, pData->ObjectCount))
		goto out;
	st = queue_ops(&ctx, 1, objs, pData->MonitoredFenceValueArray, pData->ObjectCount, false);
out:
	kmt_unlock();
	return st;
}

NTSTATUS APIENTRY D3DKMTSignalSynchronizationObjectFromGpu2(CONST D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2 *pData)
{
	struct kmt_sync *objs[D3DDDI_MAX_OBJECT_SIGNALED];
	struct kmt_context *ctx[D3DDDI_MAX_BROADCAST_CONTEXT];
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	if (!pData || !pData->ObjectCount || pData->ObjectCount > D3DDDI_MAX_OBJECT_SIGNALED ||
	    !pData->ObjectHandleArray || !pData->BroadcastContextCount ||
	    pData->BroadcastContextCount > D3DDDI_MAX_BROADCAST_CONTEXT || !pData->BroadcastContextArray)
		return st;
	D3DDDICB_SIGNALFLAGS fl = pData->Flags;
	if (fl.Reserved || fl.DXGK_SIGNAL_FLAG_INTERNAL0)
		return st;
	/* A signal at submission time and a CPU event are not modelled: every
	 * signal here is the engine's, in order with its work. */
	if (fl.SignalAtSubmission || fl.EnqueueCpuEvent)
		return STATUS_NOT_SUPPORTED;
	if (!pData->MonitoredFenceValueArray)
		return st;
	KMT_ENTER();
	struct kmt_device *dev = NULL;
	for (ULONG i = 0; i < pData->BroadcastContextCount; i++) {
		ctx[i] = kmt_handle_get(pData->BroadcastContextArray[i], KMT_T_CONTEXT);
		if (!ctx[i] || (dev && ctx[i]->dev != dev))
			goto out;
		dev = ctx[i]->dev;
	}
	if (!get_gpu_fences(dev, pData->ObjectHandleArray, pData->ObjectCount, true, objs))
		goto out;
	if (dev->ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	kmt_adapter_poll(dev->ad);
	if (!fl.AllowFenceRewind && !values_ahead(objs, pData->MonitoredFenceValueArray, pData->ObjectCount))
		goto out;
	st = queue_ops(ctx, pData->BroadcastContextCount, objs, pData->MonitoredFenceValueArray, pData->ObjectCount,
		       false);
out:
	kmt_unlock();
	return st;
}

NTSTATUS APIENTRY D3DKMTWaitForSynchronizationObjectFromGpu(CONST D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU *pData)
{
	struct kmt_sync *objs[D3DDDI_MAX_OBJECT_WAITED_ON];
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	if (!pData || !pData->ObjectCount || pData->ObjectCount > D3DDDI_MAX_OBJECT_WAITED_ON ||
	    !pData->ObjectHandleArray || !pData->MonitoredFenceValueArray)
		return st;
	KMT_ENTER();
	struct kmt_context *ctx = kmt_handle_get(pData->hContext, KMT_T_CONTEXT);
	if (!ctx || !get_gpu_fences(ctx->dev, pData->ObjectHandleArray, pData->ObjectCount, false, objs))
		goto out;
	if (ctx->dev->ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	st = queue_ops(&ctx, 1, objs, pData->MonitoredFenceValueArray, pData->ObjectCount, true);
out:
	kmt_unlock();
	return st;
}
