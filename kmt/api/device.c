/*
 * Device and context entry points, and GetDeviceState: what a driver creates
 * before it can allocate or submit, and where it learns after the fact that the
 * GPU faulted on its work. The order of checks is described in adapter.c.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gpusim/snapshot.h>
#include "kmt/core.h"

/* What a legacy (D3DKMT_CREATECONTEXT) context hands out to fill per Render. The
 * sizes are gpusim's choice; Render never resizes them. */
#define CTX_CMDBUF_BYTES (64u << 10)
#define CTX_ALLOC_LIST_ENTRIES 1024u
#define CTX_PATCH_LIST_ENTRIES 2048u

#define CREATEDEVICE_FLAGS_KNOWN 0x7u   /* LegacyMode, RequestVSync, DisableGpuTimeout */
#define CREATECONTEXT_FLAGS_KNOWN 0x3fu /* NullRendering .. NoKmdAccess */

/* One engine node (the render ring; the paging ring is the kernel's own) on one
 * physical adapter. */
#define NODE_COUNT 1u
#define ENGINE_AFFINITY_MAX 1u

_Static_assert(sizeof(D3DKMT_CREATEDEVICEFLAGS) == sizeof(UINT), "device flags are one UINT");

NTSTATUS APIENTRY D3DKMTCreateDevice(D3DKMT_CREATEDEVICE *pData)
{
	NTSTATUS st;
	UINT flags;

	KMT_ENTER();
	if (!pData) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	/* A plain bit-field struct with no Value member to test. */
	memcpy(&flags, &pData->Flags, sizeof(flags));
	if (flags & ~CREATEDEVICE_FLAGS_KNOWN) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	struct kmt_adapter *ad = kmt_handle_get(pData->hAdapter, KMT_T_ADAPTER);
	if (!ad) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	if (ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	struct kmt_device *dev = calloc(1, sizeof(*dev));
	if (!dev) {
		st = STATUS_NO_MEMORY;
		goto out;
	}
	dev->ad = ad;
	dev->handle = kmt_handle_new(KMT_T_DEVICE, dev);
	if (!dev->handle) {
		free(dev);
		st = STATUS_NO_MEMORY;
		goto out;
	}
	dev->next = ad->devices;
	ad->devices = dev;

	pData->hDevice = dev->handle;
	/* Command buffers and lists belong to contexts (CreateContext), so the
	 * pre-context outputs stay empty. */
	pData->pCommandBuffer = NULL;
	pData->CommandBufferSize = 0;
	pData->pAllocationList = NULL;
	pData->AllocationListSize = 0;
	pData->pPatchLocationList = NULL;
	pData->PatchLocationListSize = 0;
	st = STATUS_SUCCESS;
out:
	kmt_unlock();
	return st;
}

NTSTATUS APIENTRY D3DKMTDestroyDevice(CONST D3DKMT_DESTROYDEVICE *pData)
{
	NTSTATUS st;

	KMT_ENTER();
	if (!pData) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	struct kmt_device *dev = kmt_get_device(pData->hDevice);
	if (!dev) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	/* Also on a removed adapter: tearing down is how a driver recovers. */
	kmt_device_destroy(dev);
	st = STATUS_SUCCESS;
out:
	kmt_unlock();
	return st;
}

/* ---- contexts ------------------------------------------------------------ */

/* The inputs CreateContext and CreateContextVirtual share. The private driver
 * data is not read (gsdrv has no per-context state), but a size without a
 * buffer is still malformed. */
static NTSTATUS check_context_args(UINT node, UINT affinity, D3DDDI_CREATECONTEXTFLAGS flags,
				   const void *priv, UINT priv_size, D3DKMT_CLIENTHINT hint)
{
	if (node >= NODE_COUNT || affinity > ENGINE_AFFINITY_MAX ||
	    (flags.Value & ~CREATECONTEXT_FLAGS_KNOWN) || (!priv && priv_size) ||
	    (UINT)hint >= (UINT)D3DKMT_CLIENTHINT_MAX)
		return STATUS_INVALID_PARAMETER;
	return STATUS_SUCCESS;
}

static void context_free(struct kmt_context *c)
{
	free(c->cmdbuf);
	free(c->alloc_list);
	free(c->patch_list);
	free(c);
}

int kmt_context_buffers(struct kmt_context *c)
{
	c->cmdbuf = calloc(1, CTX_CMDBUF_BYTES);
	c->alloc_list = calloc(CTX_ALLOC_LIST_ENTRIES, sizeof(*c->alloc_list));
	c->patch_list = calloc(CTX_PATCH_LIST_ENTRIES, sizeof(*c->patch_list));
	if (!c->cmdbuf || !c->alloc_list || !c->patch_list)
		return -ENOMEM;
	c->cmdbuf_size = CTX_CMDBUF_BYTES;
	c->alloc_list_size = CTX_ALLOC_LIST_ENTRIES;
	c->patch_list_size = CTX_PATCH_LIST_ENTRIES;
	return 0;
}

NTSTATUS gpusim_context_buffers(D3DKMT_HANDLE context, D3DKMT_CREATECONTEXT *out)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	if (!out)
		return st;
	KMT_ENTER();
	struct kmt_context *c = kmt_handle_get(context, KMT_T_CONTEXT);
	if (c && c->cmdbuf) {
		out->hContext = c->handle;
		out->hDevice = c->dev->handle;
		out->pCommandBuffer = c->cmdbuf;
		out->CommandBufferSize = c->cmdbuf_size;
		out->pAllocationList = c->alloc_list;
		out->AllocationListSize = c->alloc_list_size;
		out->pPatchLocationList = c->patch_list;
		out->PatchLocationListSize = c->patch_list_size;
		st = STATUS_SUCCESS;
	}
	kmt_unlock();
	return st;
}

/* Make a context on the device behind hdev: with the buffers of a legacy
 * context, or none for a virtual one. Nothing is left behind on failure. */
static NTSTATUS context_create(D3DKMT_HANDLE hdev, bool legacy, struct kmt_context **out)
{
	struct kmt_device *dev = kmt_get_device(hdev);
	if (!dev)
		return STATUS_INVALID_PARAMETER;
	if (dev->ad->removed)
		return STATUS_DEVICE_REMOVED;

	struct kmt_context *c = calloc(1, sizeof(*c));
	if (!c)
		return STATUS_NO_MEMORY;
	c->dev = dev;
	if (legacy && kmt_context_buffers(c)) {
		context_free(c);
		return STATUS_NO_MEMORY;
	}
	c->handle = kmt_handle_new(KMT_T_CONTEXT, c);
	if (!c->handle) {
		context_free(c);
		return STATUS_NO_MEMORY;
	}
	c->prev = NULL;
	c->next = dev->contexts;
	if (dev->contexts)
		dev->contexts->prev = c;
	dev->contexts = c;
	*out = c;
	return STATUS_SUCCESS;
}

NTSTATUS APIENTRY D3DKMTCreateContext(D3DKMT_CREATECONTEXT *pData)
{
	NTSTATUS st;
	struct kmt_context *c;

	KMT_ENTER();
	if (!pData) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	st = check_context_args(pData->NodeOrdinal, pData->EngineAffinity, pData->Flags,
				pData->pPrivateDriverData, pData->PrivateDriverDataSize,
				pData->ClientHint);
	if (st)
		goto out;
	st = context_create(pData->hDevice, true, &c);
	if (st)
		goto out;
	pData->hContext = c->handle;
	pData->pCommandBuffer = c->cmdbuf;
	pData->CommandBufferSize = c->cmdbuf_size;
	pData->pAllocationList = c->alloc_list;
	pData->AllocationListSize = c->alloc_list_size;
	pData->pPatchLocationList = c->patch_list;
	pData->PatchLocationListSize = c->patch_list_size;
	pData->CommandBuffer = 0; /* the ring copies the commands: no GPU mapping of its own */
out:
	kmt_unlock();
	return st;
}

NTSTATUS APIENTRY D3DKMTCreateContextVirtual(D3DKMT_CREATECONTEXTVIRTUAL *pData)
{
	NTSTATUS st;
	struct kmt_context *c;

	KMT_ENTER();
	if (!pData) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	st = check_context_args(pData->NodeOrdinal, pData->EngineAffinity, pData->Flags,
				pData->pPrivateDriverData, pData->PrivateDriverDataSize,
				pData->ClientHint);
	if (st)
		goto out;
	/* WDDM 2 style: the driver builds command buffers in its own allocations. */
	st = context_create(pData->hDevice, false, &c);
	if (st)
		goto out;
	pData->hContext = c->handle;
out:
	kmt_unlock();
	return st;
}

NTSTATUS APIENTRY D3DKMTDestroyContext(CONST D3DKMT_DESTROYCONTEXT *pData)
{
	NTSTATUS st;

	KMT_ENTER();
	if (!pData) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	struct kmt_context *c = kmt_handle_get(pData->hContext, KMT_T_CONTEXT);
	if (!c) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	/* Submitted work needs nothing of the context: the ring holds a copy of the
	 * commands and fences are the engine's. Also succeeds after removal. */
	kmt_context_destroy(c);
	st = STATUS_SUCCESS;
out:
	kmt_unlock();
	return st;
}

/* ---- device state ---------------------------------------------------------- */

/* Faults in translating a GPU address, as opposed to errors in the work itself. */
static bool is_page_fault(uint32_t cause)
{
	switch (cause) {
	case HW_FAULT_UNMAPPED:
	case HW_FAULT_GART_INVALID:
	case HW_FAULT_GART_NOREAD:
	case HW_FAULT_GART_NOWRITE:
	case HW_FAULT_GART_STALE:
	case HW_FAULT_GART_BADPFN:
	case HW_FAULT_VM_NOT_PRESENT:
	case HW_FAULT_VM_READ_ONLY:
	case HW_FAULT_VM_RANGE:
	case HW_FAULT_VM_PT_UNREACHABLE:
	case HW_FAULT_VM_STALE:
	case HW_FAULT_VM_BAD_ADDR:
		return true;
	default:
		return false;
	}
}

/* The packet itself was wrong: its framing, opcode, count or fields. */
static bool is_bad_packet(uint32_t cause)
{
	switch (cause) {
	case HW_FAULT_BAD_PACKET:
	case HW_FAULT_PKT_OVERRUN:
	case HW_FAULT_PKT_TOO_LONG:
	case HW_FAULT_PKT_WRAP:
	case HW_FAULT_PKT_OPCODE:
		return true;
	default:
		return false;
	}
}

/*
 * A device that faulted stays faulted, as on Windows where the runtime then
 * recreates it. An address fault is a DMA page fault; an injected DMA error, an
 * uncorrectable VRAM error or a malformed packet is a fault of the DMA work,
 * not of its addresses, and saying "page fault" would send the developer
 * looking at the wrong thing.
 */
static D3DKMT_DEVICEEXECUTION_STATE execution_state(const struct kmt_device *dev)
{
	if (!dev->faulted)
		return D3DKMT_DEVICEEXECUTION_ACTIVE;
	return is_page_fault(dev->fault.cause) ? D3DKMT_DEVICEEXECUTION_ERROR_DMAPAGEFAULT
					       : D3DKMT_DEVICEEXECUTION_ERROR_DMAFAULT;
}

/*
 * The fault as D3DKMT_DEVICEPAGEFAULT_STATE puts it:
 *  - the "API sequence number" is the render fence of the faulting submission
 *    (the fence completed when it faulted, plus one), the one number gpusim has
 *    that ties the fault to the caller's work;
 *  - no pipeline stage or bind table: the device has neither;
 *  - DXGK_PAGE_FAULT_WRITE only when the hardware says it was a write (a write
 *    through a GART entry without W or a read-only page entry, or the VM fault
 *    registers' WRITE bit); otherwise the direction is unknown, not "read";
 *  - FaultedVirtualAddress is the GPU virtual address for a fault of a VA
 *    submission (the VM fault registers), else the physical GPU address, the
 *    only address a WDDM 1 submission has;
 *  - the error code is a general code where one fits (address faults:
 *    PAGE_FAULT; a malformed packet: INVALID_INSTRUCTION), else the device's own
 *    cause (HW_FAULT_*) as a device-specific code, since there is no general
 *    code for a DMA or memory error.
 */
static void page_fault_state(const struct kmt_device *dev, D3DKMT_DEVICEPAGEFAULT_STATE *out)
{
	D3DKMT_DEVICEPAGEFAULT_STATE s;
	memset(&s, 0, sizeof(s));
	if (dev->faulted) {
		const struct kmt_fault_info *f = &dev->fault;
		s.FaultedPrimitiveAPISequenceNumber = f->completed + 1;
		s.FaultedPipelineStage = DXGK_RENDER_PIPELINE_STAGE_UNKNOWN;
		s.FaultedBindTableEntry = DXGK_BIND_TABLE_ENTRY_UNKNOWN;
		s.PageFaultFlags = f->cause == HW_FAULT_GART_NOWRITE || f->cause == HW_FAULT_VM_READ_ONLY ||
					   (f->flags & KMT_FAULT_WRITE)
					   ? DXGK_PAGE_FAULT_WRITE
					   : 0;
		if (is_page_fault(f->cause)) {
			s.FaultErrorCode.IsDeviceSpecificCode = 0;
			s.FaultErrorCode.GeneralErrorCode = DXGK_GENERAL_ERROR_PAGE_FAULT;
		} else if (is_bad_packet(f->cause)) {
			s.FaultErrorCode.IsDeviceSpecificCode = 0;
			s.FaultErrorCode.GeneralErrorCode = DXGK_GENERAL_ERROR_INVALID_INSTRUCTION;
		} else {
			s.FaultErrorCode.IsDeviceSpecificCode = 1;
			s.FaultErrorCode.DeviceSpecificCode = f->cause & 0x7fffffffu;
		}
		s.FaultedVirtualAddress = f->gpu_address;
	}
	*out = s;
}

NTSTATUS APIENTRY D3DKMTGetDeviceState(D3DKMT_GETDEVICESTATE *pData)
{
	NTSTATUS st;

	KMT_ENTER();
	if (!pData) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	switch (pData->StateType) {
	case D3DKMT_DEVICESTATE_EXECUTION:
	case D3DKMT_DEVICESTATE_RESET:
	case D3DKMT_DEVICESTATE_PAGE_FAULT:
		break;
	case D3DKMT_DEVICESTATE_PRESENT:
	case D3DKMT_DEVICESTATE_PRESENT_DWM:
	case D3DKMT_DEVICESTATE_PRESENT_QUEUE:
		st = STATUS_NOT_SUPPORTED; /* no display engine, no presents */
		goto out;
	default:
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	struct kmt_device *dev = kmt_get_device(pData->hDevice);
	if (!dev) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	if (dev->ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	/* Faults the interrupt has reported but nobody has collected yet. */
	kmt_adapter_poll(dev->ad);

	switch (pData->StateType) {
	case D3DKMT_DEVICESTATE_EXECUTION:
		pData->ExecutionState = execution_state(dev);
		break;
	case D3DKMT_DEVICESTATE_PAGE_FAULT:
		page_fault_state(dev, &pData->PageFaultState);
		break;
	case D3DKMT_DEVICESTATE_RESET:
		pData->ResetState.Value = 0; /* no desktop to switch */
		break;
	default:
		break;
	}
	st = STATUS_SUCCESS;
out:
	kmt_unlock();
	return st;
}
