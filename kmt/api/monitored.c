/*
 * Monitored fences from the CPU (WDDM 2.0): D3DKMTSignalSynchronizationObjectFromCpu
 * and D3DKMTWaitForSynchronizationObjectFromCpu. The value lives in fence
 * storage (kmt/fence.c) that the caller reads directly; a CPU signal writes it
 * and meets waiters at once. The order of checks is described in adapter.c.
 */
#include <config.h>

#include <fcntl.h>

#include <gpusim/snapshot.h>
#include "kmt/core.h"

/* ObjectHandleArray: monitored fences of dev (a paging fence among them too). */
static NTSTATUS get_fences(const struct kmt_device *dev, const D3DKMT_HANDLE *h, UINT n,
			   struct kmt_sync **out)
{
	for (UINT i = 0; i < n; i++) {
		out[i] = kmt_handle_get(h[i], KMT_T_SYNC);
		if (!out[i] || out[i]->dev != dev || !out[i]->cpu_value)
			return STATUS_INVALID_PARAMETER;
	}
	return STATUS_SUCCESS;
}

NTSTATUS APIENTRY D3DKMTSignalSynchronizationObjectFromCpu(CONST D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU *pData)
{
	struct kmt_sync *objs[D3DDDI_MAX_OBJECT_SIGNALED];
	NTSTATUS st = STATUS_INVALID_PARAMETER;

	KMT_ENTER();
	if (!pData || !pData->ObjectCount || pData->ObjectCount > D3DDDI_MAX_OBJECT_SIGNALED ||
	    !pData->ObjectHandleArray || !pData->FenceValueArray)
		goto out;
	D3DDDICB_SIGNALFLAGS fl = pData->Flags;
	/* Only AllowFenceRewind means anything to a signal that is not queued:
	 * the queue flags and the kernel's own bit are malformed here. */
	if (fl.Reserved || fl.DXGK_SIGNAL_FLAG_INTERNAL0 || fl.SignalAtSubmission || fl.EnqueueCpuEvent)
		goto out;
	struct kmt_device *dev = kmt_get_device(pData->hDevice);
	if (!dev)
		goto out;
	if ((st = get_fences(dev, pData->ObjectHandleArray, pData->ObjectCount, objs)))
		goto out;
	st = STATUS_INVALID_PARAMETER;
	for (UINT i = 0; i < pData->ObjectCount; i++) {
		/* The paging engine signals a paging fence; NoSignal forbids it. */
		D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS f = { .Value = objs[i]->flags };
		if (objs[i]->pq || f.NoSignal)
			goto out;
		for (UINT j = 0; j < i; j++)
			if (objs[j] == objs[i])
				goto out; /* two values for one object: which one? */
	}
	struct kmt_adapter *ad = dev->ad;
	if (ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	/* Values written by the GPU count: look before comparing. */
	kmt_adapter_poll(ad);
	/* Windows documents AllowFenceRewind as permission to move a monitored
	 * fence back; without it a value not ahead of the current one is refused,
	 * as Signal2 refuses it (kmt/README.md), and nothing is signalled when one
	 * object refuses. */
	if (!fl.AllowFenceRewind)
		for (UINT i = 0; i < pData->ObjectCount; i++)
			if (pData->FenceValueArray[i] <= kmt_sync_value(objs[i]))
				goto out;
	for (UINT i = 0; i < pData->ObjectCount; i++) {
		struct kmt_sync *s = objs[i];
		/* A queued signal still to land is overtaken: this value is newer. */
		s->pending_fence = 0;
		kmt_sync_set(s, pData->FenceValueArray[i]);
		if (ad->nlisteners) {
			struct gpusim_event ev = {
				.type = GPUSIM_EV_SIGNAL, .cause = GPUSIM_CAUSE_CPU,
				.time_ns = hw_clock_now(ad->hw), .device = dev->handle,
				.allocation = s->handle, .value = s->value,
			};
			kmt_emit(ad, &ev);
		}
	}
	kmt_cpu_wait_poll(ad);
	st = STATUS_SUCCESS;
out:
	kmt_unlock();
	return st;
}

NTSTATUS APIENTRY D3DKMTWaitForSynchronizationObjectFromCpu(CONST D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU *pData)
{
	struct kmt_sync *objs[D3DDDI_MAX_OBJECT_WAITED_ON];
	NTSTATUS st = STATUS_INVALID_PARAMETER;

	KMT_ENTER();
	if (!pData || !pData->ObjectCount || pData->ObjectCount > D3DDDI_MAX_OBJECT_WAITED_ON ||
	    !pData->ObjectHandleArray || !pData->FenceValueArray || pData->Flags.Reserved)
		goto out;
	/* Linux's dxgkrnl takes an eventfd's descriptor in hAsyncEvent. */
	uintptr_t ev = (uintptr_t)pData->hAsyncEvent;
	int fd = -1;
	if (ev) {
		if (ev > INT32_MAX || fcntl((int)ev, F_GETFD) == -1)
			goto out;
		fd = (int)ev;
	}
	struct kmt_device *dev = kmt_get_device(pData->hDevice);
	if (!dev)
		goto out;
	if ((st = get_fences(dev, pData->ObjectHandleArray, pData->ObjectCount, objs)))
		goto out;
	for (UINT i = 0; i < pData->ObjectCount; i++) {
		D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS f = { .Value = objs[i]->flags };
		if (f.NoWait) {
			st = STATUS_INVALID_PARAMETER;
			goto out;
		}
	}
	struct kmt_adapter *ad = dev->ad;
	if (ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	bool any = pData->Flags.WaitAny;
	if (fd >= 0) {
		kmt_adapter_poll(ad);
		int rc = kmt_cpu_wait_async(ad, objs, pData->FenceValueArray, pData->ObjectCount, any, fd);
		st = rc ? kmt_status_from_errno(rc) : STATUS_SUCCESS;
		goto out;
	}
	st = kmt_cpu_wait_block(ad, objs, pData->FenceValueArray, pData->ObjectCount, any, true);
out:
	kmt_unlock();
	return st;
}

NTSTATUS gpusim_fence_cpu_address(D3DKMT_HANDLE sync, const volatile UINT64 **out)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	KMT_ENTER();
	struct kmt_sync *s = kmt_handle_get(sync, KMT_T_SYNC);
	if (out && s && s->user_value) {
		*out = s->user_value;
		st = STATUS_SUCCESS;
	}
	kmt_unlock();
	return st;
}
