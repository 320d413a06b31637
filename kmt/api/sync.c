/*
 * Synchronization objects: fences and monitored fences that a context's queue
 * signals after its work and waits on before its next. gpusim has one in-order
 * render queue, so a queued signal is tied to the render fence of the work
 * before it, and a queue's wait becomes a wait for that fence, run now.
 * The order of checks is described in adapter.c.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kmt/core.h"
#include "kmt/procva.h"

static bool is_monitored(D3DDDI_SYNCHRONIZATIONOBJECT_TYPE type)
{
	return type == D3DDDI_MONITORED_FENCE || type == D3DDDI_PERIODIC_MONITORED_FENCE;
}

int kmt_sync_new(struct kmt_device *dev, D3DDDI_SYNCHRONIZATIONOBJECT_TYPE type, uint32_t flags,
		 uint64_t value, struct kmt_sync **out)
{
	struct kmt_sync *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dev = dev;
	s->type = type;
	s->flags = flags;
	s->slot = KMT_NO_SLOT;
	if (type == D3DDDI_MONITORED_FENCE) {
		int rc = kmt_fence_slot_alloc(dev->ad, &s->slot);
		if (rc) {
			free(s);
			return rc;
		}
		s->cpu_value = kmt_fence_kernel(dev->ad, s->slot);
		s->user_value = kmt_fence_user(dev->ad, s->slot);
	}
	kmt_sync_set(s, value);
	s->handle = kmt_handle_new(KMT_T_SYNC, s);
	if (!s->handle) {
		if (s->slot != KMT_NO_SLOT)
			kmt_fence_slot_free(dev->ad, s->slot);
		free(s);
		return -ENOMEM;
	}
	s->prev = NULL;
	s->next = dev->syncs;
	if (dev->syncs)
		dev->syncs->prev = s;
	dev->syncs = s;
	*out = s;
	return 0;
}

/*
 * Type and flags, most malformed first: reserved bits, unknown types and flag
 * combinations the documentation forbids are bad parameters; types and sharing
 * that are well formed but not implemented here are STATUS_NOT_SUPPORTED.
 */
static NTSTATUS check_sync_info(const D3DDDI_SYNCHRONIZATIONOBJECTINFO2 *info)
{
	D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS f = info->Flags;
	if (f.Reserved || f.Reserved0)
		return STATUS_INVALID_PARAMETER;
	switch (info->Type) {
	case D3DDDI_SYNCHRONIZATION_MUTEX:
	case D3DDDI_SEMAPHORE:
	case D3DDDI_FENCE:
	case D3DDDI_CPU_NOTIFICATION:
	case D3DDDI_MONITORED_FENCE:
	case D3DDDI_PERIODIC_MONITORED_FENCE:
		break;
	default:
		return STATUS_INVALID_PARAMETER;
	}
	if (f.NtSecuritySharing && !f.Shared)
		return STATUS_INVALID_PARAMETER;
	/* Monitored fences only; and an object nobody may signal or wait on is
	 * of no use. */
	if ((f.TopOfPipeline || f.NoSignal || f.NoWait) && !is_monitored(info->Type))
		return STATUS_INVALID_PARAMETER;
	if (f.NoSignal && f.NoWait)
		return STATUS_INVALID_PARAMETER;
	/* One engine node on one physical adapter. */
	if (info->Type == D3DDDI_MONITORED_FENCE && info->MonitoredFence.EngineAffinity > 1)
		return STATUS_INVALID_PARAMETER;
	if (info->Type != D3DDDI_FENCE && info->Type != D3DDDI_MONITORED_FENCE)
		return STATUS_NOT_SUPPORTED;
	/* No other process or adapter to share with. */
	if (f.Shared || f.NtSecuritySharing || f.CrossAdapter)
		return STATUS_NOT_SUPPORTED;
	return STATUS_SUCCESS;
}

NTSTATUS APIENTRY D3DKMTCreateSynchronizationObject2(D3DKMT_CREATESYNCHRONIZATIONOBJECT2 *pData)
{
	NTSTATUS st;

	KMT_ENTER();
	if (!pData) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	D3DDDI_SYNCHRONIZATIONOBJECTINFO2 *info = &pData->Info;
	st = check_sync_info(info);
	if (st)
		goto out;
	struct kmt_device *dev = kmt_get_device(pData->hDevice);
	if (!dev) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	if (dev->ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}

	struct kmt_sync *s;
	int rc = kmt_sync_new(dev, info->Type, info->Flags.Value,
			      info->Type == D3DDDI_MONITORED_FENCE ? info->MonitoredFence.InitialFenceValue
								 : info->Fence.FenceValue,
			      &s);
	if (rc) {
		st = kmt_status_from_errno(rc == -ENOSPC ? -ENOMEM : rc);
		goto out;
	}
	if (info->Type == D3DDDI_MONITORED_FENCE) {
		info->MonitoredFence.FenceValueCPUVirtualAddress = (VOID *)s->user_value;
		/* Fence pages are mapped read-write at the top of the process's VA
		 * space (kmt/procva.c); 0 without a GPU MMU. */
		info->MonitoredFence.FenceValueGPUVirtualAddress = kmt_fence_gpu_va(dev->ad, s->slot);
	}
	info->SharedHandle = 0;
	pData->hSyncObject = s->handle;
	st = STATUS_SUCCESS;
out:
	kmt_unlock();
	return st;
}

/*
 * Look up ObjectHandleArray: every entry a synchronization object of the
 * context's device. The caller has bounded n.
 */
static NTSTATUS get_syncs(const struct kmt_device *dev, const D3DKMT_HANDLE *h, UINT n,
			  struct kmt_sync **out)
{
	for (UINT i = 0; i < n; i++) {
		out[i] = kmt_handle_get(h[i], KMT_T_SYNC);
		if (!out[i])
			return STATUS_INVALID_PARAMETER;
		if (out[i]->dev != dev)
			return STATUS_INVALID_PARAMETER;
	}
	return STATUS_SUCCESS;
}

/* The value the object will hold once the queue has caught up: what a new
 * signal must exceed. */
static uint64_t latest_value(const struct kmt_sync *s)
{
	return s->pending_fence ? s->pending_value : kmt_sync_value(s);
}

/* Every fence, monitored or not, moves forward at every signal (kmt/README.md). */
static bool goes_backwards(const struct kmt_sync *s, uint64_t value)
{
	return value <= latest_value(s);
}

NTSTATUS APIENTRY D3DKMTSignalSynchronizationObject2(CONST D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2 *pData)
{
	struct kmt_sync *objs[D3DDDI_MAX_OBJECT_SIGNALED];
	NTSTATUS st;

	KMT_ENTER();
	if (!pData) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	D3DDDICB_SIGNALFLAGS fl = pData->Flags;
	/* INTERNAL0 is the kernel's own; user mode never sets it. */
	if (fl.Reserved || fl.DXGK_SIGNAL_FLAG_INTERNAL0) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	/* CPU events are Windows event objects: there are none here. */
	if (fl.EnqueueCpuEvent) {
		st = STATUS_NOT_SUPPORTED;
		goto out;
	}
	if (pData->ObjectCount == 0 || pData->ObjectCount > D3DDDI_MAX_OBJECT_SIGNALED ||
	    pData->BroadcastContextCount > D3DDDI_MAX_BROADCAST_CONTEXT) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	struct kmt_context *ctx = kmt_handle_get(pData->hContext, KMT_T_CONTEXT);
	if (!ctx) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	struct kmt_device *dev = ctx->dev;
	/* The broadcast contexts are the *additional* queues that signal: the
	 * owning context is not among them, and none is named twice. */
	for (ULONG i = 0; i < pData->BroadcastContextCount; i++) {
		struct kmt_context *b = kmt_handle_get(pData->BroadcastContext[i], KMT_T_CONTEXT);
		if (!b) {
			st = STATUS_INVALID_PARAMETER;
			goto out;
		}
		bool dup = b == ctx;
		for (ULONG j = 0; j < i && !dup; j++)
			dup = pData->BroadcastContext[j] == pData->BroadcastContext[i];
		if (b->dev != dev || dup) {
			st = STATUS_INVALID_PARAMETER;
			goto out;
		}
	}
	st = get_syncs(dev, pData->ObjectHandleArray, pData->ObjectCount, objs);
	if (st)
		goto out;
	/* A paging fence is the paging engine's to signal. */
	for (UINT i = 0; i < pData->ObjectCount; i++)
		if (objs[i]->pq) {
			st = STATUS_INVALID_PARAMETER;
			goto out;
		}
	struct kmt_adapter *ad = dev->ad;
	if (ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}

	/* Bring the objects up to date before comparing values with them. */
	kmt_adapter_poll(ad);
	uint64_t value = pData->Fence.FenceValue;
	if (!fl.AllowFenceRewind)
		for (UINT i = 0; i < pData->ObjectCount; i++)
			if (goes_backwards(objs[i], value)) {
				st = STATUS_INVALID_PARAMETER;
				goto out;
			}

	/*
	 * Every context feeds the one in-order render ring, so "after the work
	 * queued on these contexts" is "after the last render fence submitted".
	 * With SignalAtSubmission the signal waits only for that work to be
	 * submitted, which it already is when Render returns.
	 */
	uint64_t submitted = ad->mm->ddi->submitted_fence(ad->mm->drv, KMT_ENGINE_RENDER);
	uint64_t completed = ad->mm->ddi->completed_fence(ad->mm->drv, KMT_ENGINE_RENDER);
	bool queued = !fl.SignalAtSubmission && submitted > completed;
	for (UINT i = 0; i < pData->ObjectCount; i++) {
		struct kmt_sync *s = objs[i];
		if (queued) {
			/* One slot: a later signal replaces an earlier one still queued.
			 * Its fence is later too, so the final value is the same. */
			s->pending_value = value;
			s->pending_fence = submitted;
		} else {
			kmt_sync_set(s, value);
		}
	}
	/* Asynchronous CPU waits this signal meets fire now. */
	kmt_cpu_wait_poll(ad);
	st = STATUS_SUCCESS;
out:
	kmt_unlock();
	return st;
}

NTSTATUS APIENTRY D3DKMTWaitForSynchronizationObject2(CONST D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2 *pData)
{
	struct kmt_sync *objs[D3DDDI_MAX_OBJECT_WAITED_ON];
	NTSTATUS st;

	KMT_ENTER();
	if (!pData) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	if (pData->ObjectCount == 0 || pData->ObjectCount > D3DDDI_MAX_OBJECT_WAITED_ON) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	struct kmt_context *ctx = kmt_handle_get(pData->hContext, KMT_T_CONTEXT);
	if (!ctx) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	st = get_syncs(ctx->dev, pData->ObjectHandleArray, pData->ObjectCount, objs);
	if (st)
		goto out;
	struct kmt_adapter *ad = ctx->dev->ad;
	if (ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}

	/*
	 * On Windows the call returns at once and the context's queue stalls until
	 * every object reaches the value. gpusim's queue is in order and applies
	 * signals in order, so work submitted after this call runs after the wait
	 * either way; we wait here, letting simulated time run, for the render fence
	 * behind the signal that satisfies each object.
	 */
	uint64_t target = pData->Fence.FenceValue;
	kmt_adapter_poll(ad);
	for (UINT i = 0; i < pData->ObjectCount; i++) {
		struct kmt_sync *s = objs[i];
		if (kmt_sync_value(s) >= target)
			continue;
		if (s->pending_fence && s->pending_value >= target) {
			int rc = ad->mm->ddi->wait_fence(ad->mm->drv, KMT_ENGINE_RENDER,
							 s->pending_fence);
			kmt_adapter_poll(ad);
			if (rc) {
				/* The queue wait below answers "never" the same way. */
				st = rc == -ETIMEDOUT ? STATUS_TIMEOUT : kmt_status_from_errno(rc);
				goto out;
			}
			if (kmt_sync_value(s) >= target)
				continue;
		}
		/* A monitored fence may also be written by an engine (a paging fence
		 * by the copy engine): run the device until it is, if anything will. */
		if (s->cpu_value) {
			NTSTATUS w = kmt_cpu_wait_block(ad, &s, &target, 1, false, false);
			if (w == STATUS_SUCCESS)
				continue;
			if (w == STATUS_DEVICE_REMOVED) {
				st = w;
				goto out;
			}
		}
		/*
		 * Nothing queued will ever satisfy it. A real GPU queue would wait
		 * forever (until a later signal, or a timeout detection), and Windows
		 * returns STATUS_SUCCESS at once; we cannot block forever, so we say
		 * STATUS_TIMEOUT. Beware: that is a success code to NT_SUCCESS().
		 */
		st = STATUS_TIMEOUT;
		goto out;
	}
	st = STATUS_SUCCESS;
out:
	kmt_unlock();
	return st;
}

NTSTATUS APIENTRY D3DKMTDestroySynchronizationObject(CONST D3DKMT_DESTROYSYNCHRONIZATIONOBJECT *pData)
{
	NTSTATUS st;

	KMT_ENTER();
	if (!pData) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	struct kmt_sync *s = kmt_handle_get(pData->hSyncObject, KMT_T_SYNC);
	if (!s) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	/* Its paging queue owns a paging fence: D3DKMTDestroyPagingQueue frees it. */
	if (s->pq) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	/* Also after removal. A queue's signal still pending for it is simply
	 * dropped, and so are asynchronous waits on it (their events are never
	 * signalled); a GPU signal of a monitored fence lands first
	 * (kmt_sync_destroy). */
	kmt_sync_destroy(s);
	st = STATUS_SUCCESS;
out:
	kmt_unlock();
	return st;
}
