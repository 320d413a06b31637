/*
 * Adapter entry points: enumeration, opening by LUID and the adapter queries a
 * user-mode driver makes before it creates a device. Each answer describes the
 * simulated device as it is, so a driver never takes a path gpusim cannot back.
 *
 * Order of checks in every entry point of kmt/api/ that this file shares with
 * device.c and sync.c: malformed input first (STATUS_INVALID_PARAMETER,
 * STATUS_NOT_SUPPORTED), then handles (STATUS_INVALID_PARAMETER, as Microsoft
 * documents for these functions: a bad handle is a bad parameter), then removal
 * (STATUS_DEVICE_REMOVED), then whatever depends on the device's state. Bad input
 * is reported as such whatever happened to the device, as dxgkrnl does.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "kmt/core.h"

/*
 * PCI identity reported by KMTQAITYPE_PHYSICALADAPTERDEVICEIDS. These are
 * gpusim's own numbers (0x6773 is "gs"), not ids registered to a real vendor: no
 * tool should mistake the model for shipping hardware or pick a vendor's code
 * path for it.
 */
#define GS_PCI_VENDOR_ID 0x6773u
#define GS_PCI_DEVICE_ID 0x0001u
#define GS_PCI_SUBVENDOR_ID 0x6773u
#define GS_PCI_SUBSYSTEM_ID 0x0001u

#define ENUM_FILTER_KNOWN 0x3ull /* IncludeComputeOnly | IncludeDisplayOnly */

static struct kmt_adapter *adapter_get(D3DKMT_HANDLE h)
{
	return kmt_handle_get(h, KMT_T_ADAPTER);
}

static D3DKMT_HANDLE adapter_open(struct kmt_adapter *ad)
{
	D3DKMT_HANDLE h = kmt_handle_new(KMT_T_ADAPTER, ad);
	if (h)
		ad->opens++;
	return h;
}

static void adapter_close(D3DKMT_HANDLE h)
{
	struct kmt_adapter *ad = adapter_get(h);
	if (!ad)
		return;
	ad->opens--;
	kmt_handle_free(h);
}

/*
 * Shared by EnumAdapters2 and 3. Oldest adapter first, so that the default
 * adapter, made on first enumeration, stays at index 0 when tests add more.
 * Every entry gets a handle of its own that the caller closes; when one cannot
 * be made, none is left open.
 */
static NTSTATUS enum_adapters(ULONG *num, D3DKMT_ADAPTERINFO *out)
{
	ULONG n = 0;
	for (struct kmt_adapter *a = kmt_adapters(); a; a = a->next)
		n++;
	if (!out) {
		*num = n;
		return STATUS_SUCCESS;
	}
	if (*num < n) {
		*num = n;
		return STATUS_BUFFER_TOO_SMALL;
	}
	/* dxgkrnl's limit on the caller's capacity, checked after the size as there. */
	if (*num > D3DKMT_ADAPTERS_MAX)
		return STATUS_INVALID_PARAMETER;

	ULONG i = n;
	for (struct kmt_adapter *a = kmt_adapters(); a; a = a->next) {
		D3DKMT_HANDLE h = adapter_open(a);
		if (!h) {
			for (ULONG j = i; j < n; j++) {
				adapter_close(out[j].hAdapter);
				memset(&out[j], 0, sizeof(out[j]));
			}
			return STATUS_NO_MEMORY;
		}
		i--;
		memset(&out[i], 0, sizeof(out[i]));
		out[i].hAdapter = h;
		out[i].AdapterLuid = a->luid;
		out[i].NumOfSources = 0;                    /* no display engine */
		out[i].bPrecisePresentRegionsPreferred = 0;
	}
	*num = n;
	return STATUS_SUCCESS;
}

NTSTATUS APIENTRY D3DKMTEnumAdapters2(CONST D3DKMT_ENUMADAPTERS2 *pData)
{
	/* Microsoft's const covers the argument, not its outputs. */
	D3DKMT_ENUMADAPTERS2 *args = (D3DKMT_ENUMADAPTERS2 *)pData;
	NTSTATUS st;

	KMT_ENTER();
	if (!args) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	kmt_adapter_ensure_default();
	st = enum_adapters(&args->NumAdapters, args->pAdapters);
out:
	kmt_unlock();
	return st;
}

NTSTATUS APIENTRY D3DKMTEnumAdapters3(D3DKMT_ENUMADAPTERS3 *pData)
{
	NTSTATUS st;

	KMT_ENTER();
	if (!pData || (pData->Filter.Value & ~ENUM_FILTER_KNOWN)) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	/* The filter only adds compute-only and display-only adapters; ours render,
	 * so every one of them is listed whatever it asks. */
	kmt_adapter_ensure_default();
	st = enum_adapters(&pData->NumAdapters, pData->pAdapters);
out:
	kmt_unlock();
	return st;
}

NTSTATUS APIENTRY D3DKMTOpenAdapterFromLuid(CONST D3DKMT_OPENADAPTERFROMLUID *pData)
{
	D3DKMT_OPENADAPTERFROMLUID *args = (D3DKMT_OPENADAPTERFROMLUID *)pData;
	NTSTATUS st;

	KMT_ENTER();
	if (!args) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	/* A LUID is not a handle: an unknown one is a bad parameter, as on Windows. */
	struct kmt_adapter *ad = kmt_adapter_by_luid(args->AdapterLuid);
	if (!ad) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	if (ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	D3DKMT_HANDLE h = adapter_open(ad);
	if (!h) {
		st = STATUS_NO_MEMORY;
		goto out;
	}
	args->hAdapter = h;
	st = STATUS_SUCCESS;
out:
	kmt_unlock();
	return st;
}

NTSTATUS APIENTRY D3DKMTCloseAdapter(CONST D3DKMT_CLOSEADAPTER *pData)
{
	NTSTATUS st;

	KMT_ENTER();
	if (!pData) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	if (!adapter_get(pData->hAdapter)) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	/* Devices hold the adapter itself, not this handle: they live on. */
	adapter_close(pData->hAdapter);
	st = STATUS_SUCCESS;
out:
	kmt_unlock();
	return st;
}

/* ---- QueryAdapterInfo ---------------------------------------------------- */

/* The size of the answer to each query we support, 0 for the others. */
static size_t answer_size(KMTQUERYADAPTERINFOTYPE type)
{
	switch (type) {
	case KMTQAITYPE_GETSEGMENTSIZE:
		return sizeof(D3DKMT_SEGMENTSIZEINFO);
	case KMTQAITYPE_GETSEGMENTGROUPSIZE:
		return sizeof(D3DKMT_SEGMENTGROUPSIZEINFO);
	case KMTQAITYPE_ADAPTERTYPE:
	case KMTQAITYPE_ADAPTERTYPE_RENDER:
		return sizeof(D3DKMT_ADAPTERTYPE);
	case KMTQAITYPE_PHYSICALADAPTERCOUNT:
		return sizeof(D3DKMT_PHYSICAL_ADAPTER_COUNT);
	case KMTQAITYPE_PHYSICALADAPTERDEVICEIDS:
		return sizeof(D3DKMT_QUERY_DEVICE_IDS);
	case KMTQAITYPE_DRIVER_DESCRIPTION:
	case KMTQAITYPE_DRIVER_DESCRIPTION_RENDER:
		return sizeof(D3DKMT_DRIVER_DESCRIPTION);
	case KMTQAITYPE_DRIVERVERSION:
	case KMTQAITYPE_DRIVERVERSION_RENDER:
		return sizeof(D3DKMT_DRIVERVERSION);
	case KMTQAITYPE_NODEMETADATA:
		return sizeof(D3DKMT_NODEMETADATA);
	case KMTQAITYPE_WDDM_1_2_CAPS:
	case KMTQAITYPE_WDDM_1_2_CAPS_RENDER:
		return sizeof(D3DKMT_WDDM_1_2_CAPS);
	case KMTQAITYPE_WDDM_1_3_CAPS:
	case KMTQAITYPE_WDDM_1_3_CAPS_RENDER:
		return sizeof(D3DKMT_WDDM_1_3_CAPS);
	case KMTQAITYPE_WDDM_2_0_CAPS:
		return sizeof(D3DKMT_WDDM_2_0_CAPS);
	case KMTQAITYPE_WDDM_2_7_CAPS:
		return sizeof(D3DKMT_WDDM_2_7_CAPS);
	case KMTQAITYPE_WDDM_2_9_CAPS:
		return sizeof(D3DKMT_WDDM_2_9_CAPS);
	case KMTQAITYPE_WDDM_3_0_CAPS:
		return sizeof(D3DKMT_WDDM_3_0_CAPS);
	case KMTQAITYPE_DRIVERCAPS_EXT:
		return sizeof(D3DKMT_DRIVERCAPS_EXT);
	default:
		return 0;
	}
}

/* The inputs some queries carry inside their answer buffer. gpusim models one
 * physical adapter with one engine node (the render ring; paging is the
 * kernel's), so anything but index 0 names nothing. */
static NTSTATUS check_query_input(KMTQUERYADAPTERINFOTYPE type, const void *buf)
{
	switch (type) {
	case KMTQAITYPE_GETSEGMENTGROUPSIZE: {
		D3DKMT_SEGMENTGROUPSIZEINFO in;
		memcpy(&in, buf, sizeof(in));
		return in.PhysicalAdapterIndex ? STATUS_INVALID_PARAMETER : STATUS_SUCCESS;
	}
	case KMTQAITYPE_PHYSICALADAPTERDEVICEIDS: {
		D3DKMT_QUERY_DEVICE_IDS in;
		memcpy(&in, buf, sizeof(in));
		return in.PhysicalAdapterIndex ? STATUS_INVALID_PARAMETER : STATUS_SUCCESS;
	}
	case KMTQAITYPE_NODEMETADATA: {
		D3DKMT_NODEMETADATA in;
		memcpy(&in, buf, sizeof(in));
		return in.NodeOrdinalAndAdapterIndex ? STATUS_INVALID_PARAMETER : STATUS_SUCCESS;
	}
	default:
		return STATUS_SUCCESS;
	}
}

static D3DKMT_SEGMENTSIZEINFO segment_sizes(const struct kmt_adapter *ad)
{
	D3DKMT_SEGMENTSIZEINFO s;
	memset(&s, 0, sizeof(s));
	s.DedicatedVideoMemorySize = ad->cfg.hw.vram;
	s.DedicatedSystemMemorySize = 0;  /* no system memory is set aside for the GPU */
	for (uint32_t i = 1; i < VIDMM_SEG_MAX; i++) /* the aperture segments */
		if (ad->mm->seg[i].present && !ad->mm->seg[i].desc.vram)
			s.SharedSystemMemorySize += ad->mm->seg[i].desc.size;
	return s;
}

/* ASCII widened byte by byte, so that no locale gets a say. Returns the length
 * without the NUL. */
static size_t widen(WCHAR *dst, size_t n, const char *src)
{
	size_t i;
	for (i = 0; src[i] && i + 1 < n; i++)
		dst[i] = (WCHAR)(unsigned char)src[i];
	dst[i] = 0;
	return i;
}

/* Write the answer to a supported, validated query into buf (answer_size bytes).
 * Answers are built in a local object and copied, as the caller's buffer need
 * not be aligned for its structure. */
static void answer_query(const struct kmt_adapter *ad, KMTQUERYADAPTERINFOTYPE type, void *buf)
{
	switch (type) {
	case KMTQAITYPE_GETSEGMENTSIZE: {
		D3DKMT_SEGMENTSIZEINFO s = segment_sizes(ad);
		memcpy(buf, &s, sizeof(s));
		break;
	}
	case KMTQAITYPE_GETSEGMENTGROUPSIZE: {
		D3DKMT_SEGMENTGROUPSIZEINFO g;
		memset(&g, 0, sizeof(g));
		g.PhysicalAdapterIndex = 0;
		g.LegacyInfo = segment_sizes(ad);
		g.LocalMemory = ad->mm->budget_local;
		g.NonLocalMemory = ad->mm->budget_nonlocal;
		g.NonBudgetMemory = 0;
		memcpy(buf, &g, sizeof(g));
		break;
	}
	case KMTQAITYPE_ADAPTERTYPE:
	case KMTQAITYPE_ADAPTERTYPE_RENDER: {
		D3DKMT_ADAPTERTYPE t;
		memset(&t, 0, sizeof(t));
		t.RenderSupported = 1;
		t.SoftwareDevice = 0;  /* it models a hardware device, not a rasterizer */
		/* A pre-silicon model of a device, which is what Prototype announces:
		 * tools can tell it from shipping hardware. */
		t.Prototype = 1;
		memcpy(buf, &t, sizeof(t));
		break;
	}
	case KMTQAITYPE_PHYSICALADAPTERCOUNT: {
		D3DKMT_PHYSICAL_ADAPTER_COUNT c = { .Count = 1 };
		memcpy(buf, &c, sizeof(c));
		break;
	}
	case KMTQAITYPE_PHYSICALADAPTERDEVICEIDS: {
		D3DKMT_QUERY_DEVICE_IDS q;
		memset(&q, 0, sizeof(q));
		q.PhysicalAdapterIndex = 0;
		q.DeviceIds.VendorID = GS_PCI_VENDOR_ID;
		q.DeviceIds.DeviceID = GS_PCI_DEVICE_ID;
		q.DeviceIds.SubVendorID = GS_PCI_SUBVENDOR_ID;
		q.DeviceIds.SubSystemID = GS_PCI_SUBSYSTEM_ID;
		q.DeviceIds.RevisionID = HW_DEVICE_REV & 0xffu; /* PCI's revision is a byte */
		q.DeviceIds.BusType = 0;
		memcpy(buf, &q, sizeof(q));
		break;
	}
	case KMTQAITYPE_DRIVER_DESCRIPTION:
	case KMTQAITYPE_DRIVER_DESCRIPTION_RENDER: {
		/* Named after the driver behind the DDI table, which someone bringing up
		 * their own driver replaces. */
		char text[128];
		WCHAR w[128];
		snprintf(text, sizeof(text), "gpusim simulated GPU (%s)", ad->mm->ddi->name);
		size_t len = widen(w, sizeof(w) / sizeof(w[0]), text);
		memset(buf, 0, sizeof(D3DKMT_DRIVER_DESCRIPTION));
		memcpy(buf, w, (len + 1) * sizeof(WCHAR));
		break;
	}
	case KMTQAITYPE_DRIVERVERSION:
	case KMTQAITYPE_DRIVERVERSION_RENDER: {
		/* The level whose features are implemented (kmt/README.md): WDDM 2.0
		 * asks for GPU virtual addresses through a GPU MMU or IOMMU, so until the
		 * driver reports one it is WDDM 1.3 (contexts, residency, paging queues
		 * and monitored fences are extras a 1.3 caller may ignore). */
		D3DKMT_DRIVERVERSION v = (ad->mm->ddi->caps & KMT_DDI_CAP_GPU_MMU) ? KMT_DRIVERVERSION_WDDM_2_0
										: KMT_DRIVERVERSION_WDDM_1_3;
		memcpy(buf, &v, sizeof(v));
		break;
	}
	case KMTQAITYPE_NODEMETADATA: {
		D3DKMT_NODEMETADATA m;
		memset(&m, 0, sizeof(m));
		m.NodeOrdinalAndAdapterIndex = 0;
		m.NodeData.EngineType = DXGK_ENGINE_TYPE_3D;
		/* The structure is packed: the name is built aligned, then copied. */
		WCHAR name[DXGK_MAX_METADATA_NAME_LENGTH];
		widen(name, DXGK_MAX_METADATA_NAME_LENGTH, "3D");
		memcpy(m.NodeData.FriendlyName, name, sizeof(name));
		/* What the driver reports (kmt/ddi.h): without a GPU MMU, addresses are
		 * segment addresses through the GART. */
		m.NodeData.GpuMmuSupported = (ad->mm->ddi->caps & KMT_DDI_CAP_GPU_MMU) != 0;
		m.NodeData.IoMmuSupported = 0;
		memcpy(buf, &m, sizeof(m));
		break;
	}
	case KMTQAITYPE_WDDM_1_2_CAPS:
	case KMTQAITYPE_WDDM_1_2_CAPS_RENDER: {
		/* The ring runs every submission to its end: no preemption. No display,
		 * no per-engine TDR, no kernel-mode command buffers. */
		D3DKMT_WDDM_1_2_CAPS c;
		memset(&c, 0, sizeof(c));
		c.PreemptionCaps.GraphicsPreemptionGranularity = D3DKMDT_GRAPHICS_PREEMPTION_NONE;
		c.PreemptionCaps.ComputePreemptionGranularity = D3DKMDT_COMPUTE_PREEMPTION_NONE;
		memcpy(buf, &c, sizeof(c));
		break;
	}
	case KMTQAITYPE_WDDM_1_3_CAPS:
	case KMTQAITYPE_WDDM_1_3_CAPS_RENDER: {
		/* Not hybrid, no Miracast, no P-states, no cross-adapter resources. */
		D3DKMT_WDDM_1_3_CAPS c;
		memset(&c, 0, sizeof(c));
		memcpy(buf, &c, sizeof(c));
		break;
	}
	case KMTQAITYPE_WDDM_2_0_CAPS: {
		/* Device removal is modelled (gpusim_inject); the packets have no 64-bit
		 * atomics and the device has no GPU MMU or IOMMU. */
		D3DKMT_WDDM_2_0_CAPS c;
		memset(&c, 0, sizeof(c));
		c.SupportSurpriseRemoval = 1;
		memcpy(buf, &c, sizeof(c));
		break;
	}
	case KMTQAITYPE_WDDM_2_7_CAPS: {
		D3DKMT_WDDM_2_7_CAPS c; /* no hardware scheduling */
		memset(&c, 0, sizeof(c));
		memcpy(buf, &c, sizeof(c));
		break;
	}
	case KMTQAITYPE_WDDM_2_9_CAPS: {
		D3DKMT_WDDM_2_9_CAPS c;
		memset(&c, 0, sizeof(c));
		c.HwSchSupportState = DXGK_FEATURE_SUPPORT_ALWAYS_OFF;
		memcpy(buf, &c, sizeof(c));
		break;
	}
	case KMTQAITYPE_WDDM_3_0_CAPS: {
		D3DKMT_WDDM_3_0_CAPS c; /* no flip queue, nothing displayable */
		memset(&c, 0, sizeof(c));
		c.HwFlipQueueSupportState = DXGK_FEATURE_SUPPORT_ALWAYS_OFF;
		memcpy(buf, &c, sizeof(c));
		break;
	}
	case KMTQAITYPE_DRIVERCAPS_EXT: {
		D3DKMT_DRIVERCAPS_EXT c; /* no virtual modes, no USB4 monitors */
		memset(&c, 0, sizeof(c));
		memcpy(buf, &c, sizeof(c));
		break;
	}
	default:
		break;
	}
}

NTSTATUS APIENTRY D3DKMTQueryAdapterInfo(CONST D3DKMT_QUERYADAPTERINFO *pData)
{
	NTSTATUS st;

	KMT_ENTER();
	if (!pData) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	size_t need = answer_size(pData->Type);
	if (!need) {
		st = STATUS_NOT_SUPPORTED;
		goto out;
	}
	/* Exactly the answer's size: a bigger buffer is as likely a wrong structure
	 * as a generous caller. */
	if (!pData->pPrivateDriverData || pData->PrivateDriverDataSize != need) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	st = check_query_input(pData->Type, pData->pPrivateDriverData);
	if (st)
		goto out;
	struct kmt_adapter *ad = adapter_get(pData->hAdapter);
	if (!ad) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	if (ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	answer_query(ad, pData->Type, pData->pPrivateDriverData);
	st = STATUS_SUCCESS;
out:
	kmt_unlock();
	return st;
}
