/*
 * The slice of Microsoft's D3DKMT thunk interface that tests/wddm2_client.c uses,
 * declared here under the official names because libdxg's d3dkmthk.h (with
 * d3dukmdt.h, d3dkmdt.h and WSL's <wsl/winadapter.h>) is not packaged in Debian.
 * Names, fields, values and layouts are those of the official headers for x86-64
 * Linux; nothing here comes from gpusim, whose own <gpusim/d3dkmthk.h> the client
 * must not see, so that it calls libkmt exactly as a libdxg user would.
 *
 * Layout rules of the official headers off Windows (d3dukmdt.h):
 *  - UINT, ULONG, DWORD, LONG, BOOL and enums are 4 bytes; handles (D3DKMT_HANDLE)
 *    are UINT; UINT64, ULONGLONG and D3DGPU_VIRTUAL_ADDRESS are 8 bytes;
 *  - a field marked D3DKMT_ALIGN64 is aligned to 8 bytes;
 *  - a pointer field is D3DKMT_PTR(type, name): a union of the pointer and a
 *    UINT64, aligned to 8, so 8 bytes at an 8-aligned offset on any ABI.
 * Every struct below is followed by _Static_asserts of its size and of each
 * field's offset (bit-field words: their size), worked out by hand from the
 * official field list with those rules (the comments list the offsets in order;
 * "(+4)" is padding up to the next 8-aligned field), so that a carried layout
 * that drifts from the official one does not compile. Enums list only the values
 * the client uses: their size is 4 whatever they list.
 *
 * What the allocation's private driver data means is the one thing of gpusim's
 * the client knows: it is the kernel-mode driver's contract with its own
 * user-mode driver, as on Windows; it is carried at the end of this file.
 */
#ifndef WDDM2_CLIENT_KMT_H
#define WDDM2_CLIENT_KMT_H

#include <stddef.h>
#include <stdint.h>

/* ---- base types, as <wsl/winadapter.h> gives them on Linux ----------------------- */

typedef void VOID;
typedef void *PVOID;
typedef void *HANDLE;
typedef uint8_t BOOLEAN;
typedef int32_t BOOL;
typedef int32_t LONG;
typedef uint32_t ULONG;
typedef uint32_t UINT;
typedef uint32_t DWORD;
typedef int64_t LONGLONG;
typedef uint64_t UINT64;
typedef uint64_t ULONGLONG;
typedef uintptr_t ULONG_PTR;
typedef LONG NTSTATUS;

typedef struct _LUID {
	DWORD LowPart;
	LONG HighPart;
} LUID;

typedef union _LARGE_INTEGER {
	struct {
		DWORD LowPart;
		LONG HighPart;
	};
	LONGLONG QuadPart;
} LARGE_INTEGER;

#define APIENTRY
#ifndef CONST
#define CONST const
#endif

_Static_assert(sizeof(LUID) == 8 && _Alignof(LUID) == 4, "LUID: two 4-byte halves");
_Static_assert(offsetof(LUID, LowPart) == 0 && offsetof(LUID, HighPart) == 4, "");
_Static_assert(sizeof(LARGE_INTEGER) == 8, "LARGE_INTEGER");
_Static_assert(offsetof(LARGE_INTEGER, LowPart) == 0 && offsetof(LARGE_INTEGER, HighPart) == 4, "");
_Static_assert(sizeof(HANDLE) == 8 && sizeof(ULONG_PTR) == 8, "x86-64: 8-byte pointers");

/* ---- layout helpers of d3dukmdt.h (non-Windows branch) --------------------------- */

#define D3DKMT_ALIGN64 __attribute__((aligned(8)))
#define D3DKMT_PTR_HELPER(Name) D3DKMT_ALIGN64 UINT64 Name;
#define D3DKMT_PTR(Type, Name)                                                                             \
	union D3DKMT_ALIGN64 {                                                                             \
		D3DKMT_PTR_HELPER(Name##_Align)                                                            \
		Type Name;                                                                                 \
	}

typedef UINT D3DKMT_HANDLE;
typedef ULONGLONG D3DGPU_VIRTUAL_ADDRESS;
typedef ULONGLONG D3DGPU_SIZE_T;
typedef UINT D3DDDI_VIDEO_PRESENT_SOURCE_ID;

/* ---- NTSTATUS values (ntstatus.h) ------------------------------------------------- */

#define STATUS_SUCCESS ((NTSTATUS)0x00000000L)
#define STATUS_PENDING ((NTSTATUS)0x00000103L)
#define STATUS_INVALID_PARAMETER ((NTSTATUS)0xC000000DL)
#define STATUS_NO_MEMORY ((NTSTATUS)0xC0000017L)
#define STATUS_NOT_SUPPORTED ((NTSTATUS)0xC00000BBL)
#define STATUS_POSSIBLE_DEADLOCK ((NTSTATUS)0xC0000194L)
#define STATUS_DEVICE_REMOVED ((NTSTATUS)0xC00002B6L)

/* ---- adapters ----------------------------------------------------------------------- */

typedef struct _D3DKMT_ADAPTERINFO {
	D3DKMT_HANDLE hAdapter;
	LUID AdapterLuid;
	ULONG NumOfSources;
	BOOL bPrecisePresentRegionsPreferred;
} D3DKMT_ADAPTERINFO;
/* 4 + LUID (align 4) 8 + 4 + 4 = 20 */
_Static_assert(offsetof(D3DKMT_ADAPTERINFO, hAdapter) == 0, "");
_Static_assert(offsetof(D3DKMT_ADAPTERINFO, AdapterLuid) == 4, "");
_Static_assert(offsetof(D3DKMT_ADAPTERINFO, NumOfSources) == 12, "");
_Static_assert(offsetof(D3DKMT_ADAPTERINFO, bPrecisePresentRegionsPreferred) == 16, "");
_Static_assert(sizeof(D3DKMT_ADAPTERINFO) == 20, "");

typedef struct _D3DKMT_ENUMADAPTERS2 {
	ULONG NumAdapters;
	D3DKMT_PTR(D3DKMT_ADAPTERINFO *, pAdapters);
} D3DKMT_ENUMADAPTERS2;
/* 4 + 4 padding, pointer at 8; 16 */
_Static_assert(offsetof(D3DKMT_ENUMADAPTERS2, NumAdapters) == 0, "");
_Static_assert(offsetof(D3DKMT_ENUMADAPTERS2, pAdapters) == 8, "");
_Static_assert(sizeof(D3DKMT_ENUMADAPTERS2) == 16, "");

typedef struct _D3DKMT_OPENADAPTERFROMLUID {
	LUID AdapterLuid;
	D3DKMT_HANDLE hAdapter;
} D3DKMT_OPENADAPTERFROMLUID;
/* LUID 8 + 4 = 12 (all 4-aligned) */
_Static_assert(offsetof(D3DKMT_OPENADAPTERFROMLUID, AdapterLuid) == 0, "");
_Static_assert(offsetof(D3DKMT_OPENADAPTERFROMLUID, hAdapter) == 8, "");
_Static_assert(sizeof(D3DKMT_OPENADAPTERFROMLUID) == 12, "");

typedef struct _D3DKMT_CLOSEADAPTER {
	D3DKMT_HANDLE hAdapter;
} D3DKMT_CLOSEADAPTER;
_Static_assert(offsetof(D3DKMT_CLOSEADAPTER, hAdapter) == 0, "");
_Static_assert(sizeof(D3DKMT_CLOSEADAPTER) == 4, "");

/* Only the value the client asks for; the enum is 4 bytes whatever it lists. */
typedef enum _KMTQUERYADAPTERINFOTYPE {
	KMTQAITYPE_DRIVERVERSION = 13,
} KMTQUERYADAPTERINFOTYPE;
_Static_assert(sizeof(KMTQUERYADAPTERINFOTYPE) == 4, "");

typedef enum _QAI_DRIVERVERSION {
	KMT_DRIVERVERSION_WDDM_1_0 = 1000,
	KMT_DRIVERVERSION_WDDM_1_1_PRERELEASE = 1102,
	KMT_DRIVERVERSION_WDDM_1_1 = 1105,
	KMT_DRIVERVERSION_WDDM_1_2 = 1200,
	KMT_DRIVERVERSION_WDDM_1_3 = 1300,
	KMT_DRIVERVERSION_WDDM_2_0 = 2000,
} D3DKMT_DRIVERVERSION;
_Static_assert(sizeof(D3DKMT_DRIVERVERSION) == 4, "");

typedef struct _D3DKMT_QUERYADAPTERINFO {
	D3DKMT_HANDLE hAdapter;
	KMTQUERYADAPTERINFOTYPE Type;
	D3DKMT_PTR(VOID *, pPrivateDriverData);
	UINT PrivateDriverDataSize;
} D3DKMT_QUERYADAPTERINFO;
/* 4 + 4, pointer at 8, UINT at 16, 20 rounded to the 8-alignment: 24 */
_Static_assert(offsetof(D3DKMT_QUERYADAPTERINFO, hAdapter) == 0, "");
_Static_assert(offsetof(D3DKMT_QUERYADAPTERINFO, Type) == 4, "");
_Static_assert(offsetof(D3DKMT_QUERYADAPTERINFO, pPrivateDriverData) == 8, "");
_Static_assert(offsetof(D3DKMT_QUERYADAPTERINFO, PrivateDriverDataSize) == 16, "");
_Static_assert(sizeof(D3DKMT_QUERYADAPTERINFO) == 24, "");

/* ---- devices --------------------------------------------------------------------------- */

typedef struct _D3DKMT_CREATEDEVICEFLAGS {
	UINT LegacyMode : 1;
	UINT RequestVSync : 1;
	UINT DisableGpuTimeout : 1;
	UINT Reserved : 29;
} D3DKMT_CREATEDEVICEFLAGS;
_Static_assert(sizeof(D3DKMT_CREATEDEVICEFLAGS) == 4, "");

/* WDDM 1 buffers the legacy runtime took from CreateDevice; pointers to them only. */
typedef struct _D3DDDI_ALLOCATIONLIST D3DDDI_ALLOCATIONLIST;
typedef struct _D3DDDI_PATCHLOCATIONLIST D3DDDI_PATCHLOCATIONLIST;

typedef struct _D3DKMT_CREATEDEVICE {
	union {
		D3DKMT_HANDLE hAdapter;
		VOID *pAdapter;
		D3DKMT_PTR_HELPER(pAdapter_Align)
	};
	D3DKMT_CREATEDEVICEFLAGS Flags;
	D3DKMT_HANDLE hDevice;
	D3DKMT_PTR(VOID *, pCommandBuffer);
	UINT CommandBufferSize;
	D3DKMT_PTR(D3DDDI_ALLOCATIONLIST *, pAllocationList);
	UINT AllocationListSize;
	D3DKMT_PTR(D3DDDI_PATCHLOCATIONLIST *, pPatchLocationList);
	UINT PatchLocationListSize;
} D3DKMT_CREATEDEVICE;
/* union of a handle and a pointer: 8 at 0; Flags 8, hDevice 12; pointer 16, UINT
 * 24 (+4); pointer 32, UINT 40 (+4); pointer 48, UINT 56; 60 -> 64 */
_Static_assert(offsetof(D3DKMT_CREATEDEVICE, hAdapter) == 0, "");
_Static_assert(offsetof(D3DKMT_CREATEDEVICE, pAdapter) == 0, "");
_Static_assert(offsetof(D3DKMT_CREATEDEVICE, Flags) == 8, "");
_Static_assert(offsetof(D3DKMT_CREATEDEVICE, hDevice) == 12, "");
_Static_assert(offsetof(D3DKMT_CREATEDEVICE, pCommandBuffer) == 16, "");
_Static_assert(offsetof(D3DKMT_CREATEDEVICE, CommandBufferSize) == 24, "");
_Static_assert(offsetof(D3DKMT_CREATEDEVICE, pAllocationList) == 32, "");
_Static_assert(offsetof(D3DKMT_CREATEDEVICE, AllocationListSize) == 40, "");
_Static_assert(offsetof(D3DKMT_CREATEDEVICE, pPatchLocationList) == 48, "");
_Static_assert(offsetof(D3DKMT_CREATEDEVICE, PatchLocationListSize) == 56, "");
_Static_assert(sizeof(D3DKMT_CREATEDEVICE) == 64, "");

typedef struct _D3DKMT_DESTROYDEVICE {
	D3DKMT_HANDLE hDevice;
} D3DKMT_DESTROYDEVICE;
_Static_assert(offsetof(D3DKMT_DESTROYDEVICE, hDevice) == 0, "");
_Static_assert(sizeof(D3DKMT_DESTROYDEVICE) == 4, "");

/* ---- paging queues ------------------------------------------------------------------------ */

typedef enum D3DDDI_PAGINGQUEUE_PRIORITY {
	D3DDDI_PAGINGQUEUE_PRIORITY_BELOW_NORMAL = -1,
	D3DDDI_PAGINGQUEUE_PRIORITY_NORMAL = 0,
	D3DDDI_PAGINGQUEUE_PRIORITY_ABOVE_NORMAL = 1,
} D3DDDI_PAGINGQUEUE_PRIORITY;
_Static_assert(sizeof(D3DDDI_PAGINGQUEUE_PRIORITY) == 4, "");

typedef struct _D3DKMT_CREATEPAGINGQUEUE {
	D3DKMT_HANDLE hDevice;
	D3DDDI_PAGINGQUEUE_PRIORITY Priority;
	D3DKMT_HANDLE hPagingQueue;
	D3DKMT_HANDLE hSyncObject;
	D3DKMT_PTR(VOID *, FenceValueCPUVirtualAddress);
	UINT PhysicalAdapterIndex;
} D3DKMT_CREATEPAGINGQUEUE;
/* four 4-byte fields 0..16; pointer 16; UINT 24; 28 -> 32 */
_Static_assert(offsetof(D3DKMT_CREATEPAGINGQUEUE, hDevice) == 0, "");
_Static_assert(offsetof(D3DKMT_CREATEPAGINGQUEUE, Priority) == 4, "");
_Static_assert(offsetof(D3DKMT_CREATEPAGINGQUEUE, hPagingQueue) == 8, "");
_Static_assert(offsetof(D3DKMT_CREATEPAGINGQUEUE, hSyncObject) == 12, "");
_Static_assert(offsetof(D3DKMT_CREATEPAGINGQUEUE, FenceValueCPUVirtualAddress) == 16, "");
_Static_assert(offsetof(D3DKMT_CREATEPAGINGQUEUE, PhysicalAdapterIndex) == 24, "");
_Static_assert(sizeof(D3DKMT_CREATEPAGINGQUEUE) == 32, "");

typedef struct D3DDDI_DESTROYPAGINGQUEUE {
	D3DKMT_HANDLE hPagingQueue;
} D3DDDI_DESTROYPAGINGQUEUE;
_Static_assert(offsetof(D3DDDI_DESTROYPAGINGQUEUE, hPagingQueue) == 0, "");
_Static_assert(sizeof(D3DDDI_DESTROYPAGINGQUEUE) == 4, "");

/* ---- contexts --------------------------------------------------------------------------- */

typedef struct _D3DDDI_CREATECONTEXTFLAGS {
	union {
		struct {
			UINT NullRendering : 1;
			UINT InitialData : 1;
			UINT DisableGpuTimeout : 1;
			UINT SynchronizationOnly : 1;
			UINT HwQueueSupported : 1;
			UINT NoKmdAccess : 1;
			UINT Reserved : 26;
		};
		UINT Value;
	};
} D3DDDI_CREATECONTEXTFLAGS;
_Static_assert(sizeof(D3DDDI_CREATECONTEXTFLAGS) == 4, "");

typedef enum _D3DKMT_CLIENTHINT {
	D3DKMT_CLIENTHINT_UNKNOWN = 0,
	D3DKMT_CLIENTHINT_DX12 = 12,
} D3DKMT_CLIENTHINT;
_Static_assert(sizeof(D3DKMT_CLIENTHINT) == 4, "");

typedef struct _D3DKMT_CREATECONTEXTVIRTUAL {
	D3DKMT_HANDLE hDevice;
	UINT NodeOrdinal;
	UINT EngineAffinity;
	D3DDDI_CREATECONTEXTFLAGS Flags;
	D3DKMT_PTR(VOID *, pPrivateDriverData);
	UINT PrivateDriverDataSize;
	D3DKMT_CLIENTHINT ClientHint;
	D3DKMT_HANDLE hContext;
} D3DKMT_CREATECONTEXTVIRTUAL;
/* four 4-byte fields 0..16; pointer 16; 24, 28, 32; 36 -> 40 */
_Static_assert(offsetof(D3DKMT_CREATECONTEXTVIRTUAL, hDevice) == 0, "");
_Static_assert(offsetof(D3DKMT_CREATECONTEXTVIRTUAL, NodeOrdinal) == 4, "");
_Static_assert(offsetof(D3DKMT_CREATECONTEXTVIRTUAL, EngineAffinity) == 8, "");
_Static_assert(offsetof(D3DKMT_CREATECONTEXTVIRTUAL, Flags) == 12, "");
_Static_assert(offsetof(D3DKMT_CREATECONTEXTVIRTUAL, pPrivateDriverData) == 16, "");
_Static_assert(offsetof(D3DKMT_CREATECONTEXTVIRTUAL, PrivateDriverDataSize) == 24, "");
_Static_assert(offsetof(D3DKMT_CREATECONTEXTVIRTUAL, ClientHint) == 28, "");
_Static_assert(offsetof(D3DKMT_CREATECONTEXTVIRTUAL, hContext) == 32, "");
_Static_assert(sizeof(D3DKMT_CREATECONTEXTVIRTUAL) == 40, "");

typedef struct _D3DKMT_DESTROYCONTEXT {
	D3DKMT_HANDLE hContext;
} D3DKMT_DESTROYCONTEXT;
_Static_assert(offsetof(D3DKMT_DESTROYCONTEXT, hContext) == 0, "");
_Static_assert(sizeof(D3DKMT_DESTROYCONTEXT) == 4, "");

/* ---- allocations ------------------------------------------------------------------------- */

typedef struct _D3DDDI_ALLOCATIONINFO2 {
	D3DKMT_HANDLE hAllocation;
	union D3DKMT_ALIGN64 {
		D3DKMT_PTR_HELPER(pSystemMem_hSection_Align)
		HANDLE hSection;
		CONST VOID *pSystemMem;
	};
	D3DKMT_PTR(VOID *, pPrivateDriverData);
	UINT PrivateDriverDataSize;
	D3DDDI_VIDEO_PRESENT_SOURCE_ID VidPnSourceId;
	union {
		struct {
			UINT Primary : 1;
			UINT Stereo : 1;
			UINT OverridePriority : 1;
			UINT Reserved : 29;
		};
		UINT Value;
	} Flags;
	D3DKMT_ALIGN64 D3DGPU_VIRTUAL_ADDRESS GpuVirtualAddress;
	union {
		UINT Priority;
		D3DKMT_ALIGN64 ULONG_PTR Unused;
	};
	D3DKMT_ALIGN64 ULONG_PTR Reserved[5];
} D3DDDI_ALLOCATIONINFO2;
/* handle 0 (+4); sysmem/section union 8; pointer 16; 24, 28, Flags 32 (+4);
 * GpuVirtualAddress 40; Priority/Unused union 48; Reserved[5] 56..96 */
_Static_assert(offsetof(D3DDDI_ALLOCATIONINFO2, hAllocation) == 0, "");
_Static_assert(offsetof(D3DDDI_ALLOCATIONINFO2, hSection) == 8, "");
_Static_assert(offsetof(D3DDDI_ALLOCATIONINFO2, pSystemMem) == 8, "");
_Static_assert(offsetof(D3DDDI_ALLOCATIONINFO2, pPrivateDriverData) == 16, "");
_Static_assert(offsetof(D3DDDI_ALLOCATIONINFO2, PrivateDriverDataSize) == 24, "");
_Static_assert(offsetof(D3DDDI_ALLOCATIONINFO2, VidPnSourceId) == 28, "");
_Static_assert(offsetof(D3DDDI_ALLOCATIONINFO2, Flags) == 32, "");
_Static_assert(offsetof(D3DDDI_ALLOCATIONINFO2, GpuVirtualAddress) == 40, "");
_Static_assert(offsetof(D3DDDI_ALLOCATIONINFO2, Priority) == 48, "");
_Static_assert(offsetof(D3DDDI_ALLOCATIONINFO2, Unused) == 48, "");
_Static_assert(offsetof(D3DDDI_ALLOCATIONINFO2, Reserved) == 56, "");
_Static_assert(sizeof(D3DDDI_ALLOCATIONINFO2) == 96, "");

typedef struct _D3DKMT_CREATEALLOCATIONFLAGS {
	UINT CreateResource : 1;
	UINT CreateShared : 1;
	UINT NonSecure : 1;
	UINT CreateProtected : 1;
	UINT RestrictSharedAccess : 1;
	UINT ExistingSysMem : 1;
	UINT NtSecuritySharing : 1;
	UINT ReadOnly : 1;
	UINT CreateWriteCombined : 1;
	UINT CreateCached : 1;
	UINT SwapChainBackBuffer : 1;
	UINT CrossAdapter : 1;
	UINT OpenCrossAdapter : 1;
	UINT PartialSharedCreation : 1;
	UINT Zeroed : 1;
	UINT WriteWatch : 1;
	UINT StandardAllocation : 1;
	UINT ExistingSection : 1;
	UINT AllowNotZeroed : 1;
	UINT PhysicallyContiguous : 1;
	UINT NoKmdAccess : 1;
	UINT SharedDisplayable : 1;
	UINT Reserved : 10;
} D3DKMT_CREATEALLOCATIONFLAGS;
_Static_assert(sizeof(D3DKMT_CREATEALLOCATIONFLAGS) == 4, "");

/* The other members of CreateAllocation's unions, by pointer only. */
typedef struct _D3DKMT_CREATESTANDARDALLOCATION D3DKMT_CREATESTANDARDALLOCATION;
typedef struct _D3DDDI_ALLOCATIONINFO D3DDDI_ALLOCATIONINFO;

typedef struct _D3DKMT_CREATEALLOCATION {
	D3DKMT_HANDLE hDevice;
	D3DKMT_HANDLE hResource;
	D3DKMT_HANDLE hGlobalShare;
	D3DKMT_PTR(CONST VOID *, pPrivateRuntimeData);
	UINT PrivateRuntimeDataSize;
	union {
		D3DKMT_CREATESTANDARDALLOCATION *pStandardAllocation;
		CONST VOID *pPrivateDriverData;
		D3DKMT_PTR_HELPER(AlignUnionTo64_1)
	};
	UINT PrivateDriverDataSize;
	UINT NumAllocations;
	union {
		D3DDDI_ALLOCATIONINFO *pAllocationInfo;
		D3DDDI_ALLOCATIONINFO2 *pAllocationInfo2;
		D3DKMT_PTR_HELPER(AlignUnionTo64_2)
	};
	D3DKMT_CREATEALLOCATIONFLAGS Flags;
	D3DKMT_PTR(HANDLE, hPrivateRuntimeResourceHandle);
} D3DKMT_CREATEALLOCATION;
/* three handles 0..12 (+4); pointer 16; UINT 24 (+4); pointer union 32; 40, 44;
 * pointer union 48; Flags 56 (+4); pointer 64; 72 */
_Static_assert(offsetof(D3DKMT_CREATEALLOCATION, hDevice) == 0, "");
_Static_assert(offsetof(D3DKMT_CREATEALLOCATION, hResource) == 4, "");
_Static_assert(offsetof(D3DKMT_CREATEALLOCATION, hGlobalShare) == 8, "");
_Static_assert(offsetof(D3DKMT_CREATEALLOCATION, pPrivateRuntimeData) == 16, "");
_Static_assert(offsetof(D3DKMT_CREATEALLOCATION, PrivateRuntimeDataSize) == 24, "");
_Static_assert(offsetof(D3DKMT_CREATEALLOCATION, pStandardAllocation) == 32, "");
_Static_assert(offsetof(D3DKMT_CREATEALLOCATION, pPrivateDriverData) == 32, "");
_Static_assert(offsetof(D3DKMT_CREATEALLOCATION, PrivateDriverDataSize) == 40, "");
_Static_assert(offsetof(D3DKMT_CREATEALLOCATION, NumAllocations) == 44, "");
_Static_assert(offsetof(D3DKMT_CREATEALLOCATION, pAllocationInfo) == 48, "");
_Static_assert(offsetof(D3DKMT_CREATEALLOCATION, pAllocationInfo2) == 48, "");
_Static_assert(offsetof(D3DKMT_CREATEALLOCATION, Flags) == 56, "");
_Static_assert(offsetof(D3DKMT_CREATEALLOCATION, hPrivateRuntimeResourceHandle) == 64, "");
_Static_assert(sizeof(D3DKMT_CREATEALLOCATION) == 72, "");

typedef struct _D3DDDICB_DESTROYALLOCATION2FLAGS {
	union {
		struct {
			UINT AssumeNotInUse : 1;
			UINT SynchronousDestroy : 1;
			UINT Reserved : 29;
			UINT SystemUseOnly : 1;
		};
		UINT Value;
	};
} D3DDDICB_DESTROYALLOCATION2FLAGS;
_Static_assert(sizeof(D3DDDICB_DESTROYALLOCATION2FLAGS) == 4, "");

typedef struct _D3DKMT_DESTROYALLOCATION2 {
	D3DKMT_HANDLE hDevice;
	D3DKMT_HANDLE hResource;
	D3DKMT_PTR(CONST D3DKMT_HANDLE *, phAllocationList);
	UINT AllocationCount;
	D3DDDICB_DESTROYALLOCATION2FLAGS Flags;
} D3DKMT_DESTROYALLOCATION2;
/* 0, 4; pointer 8; 16, 20; 24 */
_Static_assert(offsetof(D3DKMT_DESTROYALLOCATION2, hDevice) == 0, "");
_Static_assert(offsetof(D3DKMT_DESTROYALLOCATION2, hResource) == 4, "");
_Static_assert(offsetof(D3DKMT_DESTROYALLOCATION2, phAllocationList) == 8, "");
_Static_assert(offsetof(D3DKMT_DESTROYALLOCATION2, AllocationCount) == 16, "");
_Static_assert(offsetof(D3DKMT_DESTROYALLOCATION2, Flags) == 20, "");
_Static_assert(sizeof(D3DKMT_DESTROYALLOCATION2) == 24, "");

typedef struct _D3DDDICB_LOCK2FLAGS {
	union {
		struct {
			UINT Reserved : 32;
		};
		UINT Value;
	};
} D3DDDICB_LOCK2FLAGS;
_Static_assert(sizeof(D3DDDICB_LOCK2FLAGS) == 4, "");

typedef struct _D3DKMT_LOCK2 {
	D3DKMT_HANDLE hDevice;
	D3DKMT_HANDLE hAllocation;
	D3DDDICB_LOCK2FLAGS Flags;
	D3DKMT_PTR(PVOID, pData);
} D3DKMT_LOCK2;
/* 0, 4, 8 (+4); pointer 16; 24 */
_Static_assert(offsetof(D3DKMT_LOCK2, hDevice) == 0, "");
_Static_assert(offsetof(D3DKMT_LOCK2, hAllocation) == 4, "");
_Static_assert(offsetof(D3DKMT_LOCK2, Flags) == 8, "");
_Static_assert(offsetof(D3DKMT_LOCK2, pData) == 16, "");
_Static_assert(sizeof(D3DKMT_LOCK2) == 24, "");

typedef struct _D3DKMT_UNLOCK2 {
	D3DKMT_HANDLE hDevice;
	D3DKMT_HANDLE hAllocation;
} D3DKMT_UNLOCK2;
_Static_assert(offsetof(D3DKMT_UNLOCK2, hDevice) == 0, "");
_Static_assert(offsetof(D3DKMT_UNLOCK2, hAllocation) == 4, "");
_Static_assert(sizeof(D3DKMT_UNLOCK2) == 8, "");

/* ---- GPU virtual addresses ------------------------------------------------------------------- */

typedef enum _D3DDDIGPUVIRTUALADDRESS_RESERVATION_TYPE {
	D3DDDIGPUVIRTUALADDRESS_RESERVE_NO_ACCESS = 0,
	D3DDDIGPUVIRTUALADDRESS_RESERVE_ZERO = 1,
	D3DDDIGPUVIRTUALADDRESS_RESERVE_NO_COMMIT = 2,
} D3DDDIGPUVIRTUALADDRESS_RESERVATION_TYPE;
_Static_assert(sizeof(D3DDDIGPUVIRTUALADDRESS_RESERVATION_TYPE) == 4, "");

typedef struct D3DDDI_RESERVEGPUVIRTUALADDRESS {
	union {
		D3DKMT_HANDLE hPagingQueue;
		D3DKMT_HANDLE hAdapter;
	};
	D3DKMT_ALIGN64 D3DGPU_VIRTUAL_ADDRESS BaseAddress;
	D3DKMT_ALIGN64 D3DGPU_VIRTUAL_ADDRESS MinimumAddress;
	D3DKMT_ALIGN64 D3DGPU_VIRTUAL_ADDRESS MaximumAddress;
	D3DKMT_ALIGN64 D3DGPU_SIZE_T Size;
	union {
		D3DDDIGPUVIRTUALADDRESS_RESERVATION_TYPE ReservationType;
		UINT Reserved0;
	};
	union {
		D3DKMT_ALIGN64 UINT64 DriverProtection;
		D3DKMT_ALIGN64 UINT64 Reserved1;
	};
	D3DKMT_ALIGN64 D3DGPU_VIRTUAL_ADDRESS VirtualAddress;
	union {
		D3DKMT_ALIGN64 UINT64 PagingFenceValue;
		D3DKMT_ALIGN64 UINT64 Reserved2;
	};
} D3DDDI_RESERVEGPUVIRTUALADDRESS;
/* handle union 0 (+4); four 8-byte fields 8..40; type union 40 (+4); 48, 56, 64; 72 */
_Static_assert(offsetof(D3DDDI_RESERVEGPUVIRTUALADDRESS, hPagingQueue) == 0, "");
_Static_assert(offsetof(D3DDDI_RESERVEGPUVIRTUALADDRESS, hAdapter) == 0, "");
_Static_assert(offsetof(D3DDDI_RESERVEGPUVIRTUALADDRESS, BaseAddress) == 8, "");
_Static_assert(offsetof(D3DDDI_RESERVEGPUVIRTUALADDRESS, MinimumAddress) == 16, "");
_Static_assert(offsetof(D3DDDI_RESERVEGPUVIRTUALADDRESS, MaximumAddress) == 24, "");
_Static_assert(offsetof(D3DDDI_RESERVEGPUVIRTUALADDRESS, Size) == 32, "");
_Static_assert(offsetof(D3DDDI_RESERVEGPUVIRTUALADDRESS, ReservationType) == 40, "");
_Static_assert(offsetof(D3DDDI_RESERVEGPUVIRTUALADDRESS, Reserved0) == 40, "");
_Static_assert(offsetof(D3DDDI_RESERVEGPUVIRTUALADDRESS, DriverProtection) == 48, "");
_Static_assert(offsetof(D3DDDI_RESERVEGPUVIRTUALADDRESS, Reserved1) == 48, "");
_Static_assert(offsetof(D3DDDI_RESERVEGPUVIRTUALADDRESS, VirtualAddress) == 56, "");
_Static_assert(offsetof(D3DDDI_RESERVEGPUVIRTUALADDRESS, PagingFenceValue) == 64, "");
_Static_assert(offsetof(D3DDDI_RESERVEGPUVIRTUALADDRESS, Reserved2) == 64, "");
_Static_assert(sizeof(D3DDDI_RESERVEGPUVIRTUALADDRESS) == 72, "");

typedef struct _D3DDDIGPUVIRTUALADDRESS_PROTECTION_TYPE {
	union {
		struct {
			UINT64 Write : 1;
			UINT64 Execute : 1;
			UINT64 Zero : 1;
			UINT64 NoAccess : 1;
			UINT64 SystemUseOnly : 1;
			UINT64 Reserved : 59;
		};
		D3DKMT_ALIGN64 UINT64 Value;
	};
} D3DDDIGPUVIRTUALADDRESS_PROTECTION_TYPE;
_Static_assert(sizeof(D3DDDIGPUVIRTUALADDRESS_PROTECTION_TYPE) == 8, "");
_Static_assert(_Alignof(D3DDDIGPUVIRTUALADDRESS_PROTECTION_TYPE) == 8, "");

typedef struct D3DDDI_MAPGPUVIRTUALADDRESS {
	D3DKMT_HANDLE hPagingQueue;
	D3DKMT_ALIGN64 D3DGPU_VIRTUAL_ADDRESS BaseAddress;
	D3DKMT_ALIGN64 D3DGPU_VIRTUAL_ADDRESS MinimumAddress;
	D3DKMT_ALIGN64 D3DGPU_VIRTUAL_ADDRESS MaximumAddress;
	D3DKMT_HANDLE hAllocation;
	D3DKMT_ALIGN64 D3DGPU_SIZE_T OffsetInPages;
	D3DKMT_ALIGN64 D3DGPU_SIZE_T SizeInPages;
	D3DDDIGPUVIRTUALADDRESS_PROTECTION_TYPE Protection;
	D3DKMT_ALIGN64 UINT64 DriverProtection;
	UINT Reserved0;
	D3DKMT_ALIGN64 UINT64 Reserved1;
	D3DKMT_ALIGN64 D3DGPU_VIRTUAL_ADDRESS VirtualAddress;
	D3DKMT_ALIGN64 UINT64 PagingFenceValue;
} D3DDDI_MAPGPUVIRTUALADDRESS;
/* handle 0 (+4); 8, 16, 24; handle 32 (+4); 40, 48; Protection (8, aligned 8) 56;
 * 64; UINT 72 (+4); 80, 88, 96; 104 */
_Static_assert(offsetof(D3DDDI_MAPGPUVIRTUALADDRESS, hPagingQueue) == 0, "");
_Static_assert(offsetof(D3DDDI_MAPGPUVIRTUALADDRESS, BaseAddress) == 8, "");
_Static_assert(offsetof(D3DDDI_MAPGPUVIRTUALADDRESS, MinimumAddress) == 16, "");
_Static_assert(offsetof(D3DDDI_MAPGPUVIRTUALADDRESS, MaximumAddress) == 24, "");
_Static_assert(offsetof(D3DDDI_MAPGPUVIRTUALADDRESS, hAllocation) == 32, "");
_Static_assert(offsetof(D3DDDI_MAPGPUVIRTUALADDRESS, OffsetInPages) == 40, "");
_Static_assert(offsetof(D3DDDI_MAPGPUVIRTUALADDRESS, SizeInPages) == 48, "");
_Static_assert(offsetof(D3DDDI_MAPGPUVIRTUALADDRESS, Protection) == 56, "");
_Static_assert(offsetof(D3DDDI_MAPGPUVIRTUALADDRESS, DriverProtection) == 64, "");
_Static_assert(offsetof(D3DDDI_MAPGPUVIRTUALADDRESS, Reserved0) == 72, "");
_Static_assert(offsetof(D3DDDI_MAPGPUVIRTUALADDRESS, Reserved1) == 80, "");
_Static_assert(offsetof(D3DDDI_MAPGPUVIRTUALADDRESS, VirtualAddress) == 88, "");
_Static_assert(offsetof(D3DDDI_MAPGPUVIRTUALADDRESS, PagingFenceValue) == 96, "");
_Static_assert(sizeof(D3DDDI_MAPGPUVIRTUALADDRESS) == 104, "");

typedef struct _D3DKMT_FREEGPUVIRTUALADDRESS {
	D3DKMT_HANDLE hAdapter;
	D3DKMT_ALIGN64 D3DGPU_VIRTUAL_ADDRESS BaseAddress;
	D3DKMT_ALIGN64 D3DGPU_SIZE_T Size;
} D3DKMT_FREEGPUVIRTUALADDRESS;
/* handle 0 (+4); 8, 16; 24 */
_Static_assert(offsetof(D3DKMT_FREEGPUVIRTUALADDRESS, hAdapter) == 0, "");
_Static_assert(offsetof(D3DKMT_FREEGPUVIRTUALADDRESS, BaseAddress) == 8, "");
_Static_assert(offsetof(D3DKMT_FREEGPUVIRTUALADDRESS, Size) == 16, "");
_Static_assert(sizeof(D3DKMT_FREEGPUVIRTUALADDRESS) == 24, "");

/* ---- residency ------------------------------------------------------------------------------ */

typedef struct D3DDDI_MAKERESIDENT_FLAGS {
	union {
		struct {
			UINT CantTrimFurther : 1;
			UINT MustSucceed : 1;
			UINT Reserved : 30;
		};
		UINT Value;
	};
} D3DDDI_MAKERESIDENT_FLAGS;
_Static_assert(sizeof(D3DDDI_MAKERESIDENT_FLAGS) == 4, "");

typedef struct D3DDDI_MAKERESIDENT {
	D3DKMT_HANDLE hPagingQueue;
	UINT NumAllocations;
	D3DKMT_PTR(CONST D3DKMT_HANDLE *, AllocationList);
	D3DKMT_PTR(CONST UINT *, PriorityList);
	D3DDDI_MAKERESIDENT_FLAGS Flags;
	D3DKMT_ALIGN64 UINT64 PagingFenceValue;
	D3DKMT_ALIGN64 UINT64 NumBytesToTrim;
} D3DDDI_MAKERESIDENT;
/* 0, 4; pointers 8, 16; Flags 24 (+4); 32, 40; 48 */
_Static_assert(offsetof(D3DDDI_MAKERESIDENT, hPagingQueue) == 0, "");
_Static_assert(offsetof(D3DDDI_MAKERESIDENT, NumAllocations) == 4, "");
_Static_assert(offsetof(D3DDDI_MAKERESIDENT, AllocationList) == 8, "");
_Static_assert(offsetof(D3DDDI_MAKERESIDENT, PriorityList) == 16, "");
_Static_assert(offsetof(D3DDDI_MAKERESIDENT, Flags) == 24, "");
_Static_assert(offsetof(D3DDDI_MAKERESIDENT, PagingFenceValue) == 32, "");
_Static_assert(offsetof(D3DDDI_MAKERESIDENT, NumBytesToTrim) == 40, "");
_Static_assert(sizeof(D3DDDI_MAKERESIDENT) == 48, "");

typedef struct D3DDDI_EVICT_FLAGS {
	union {
		struct {
			UINT EvictOnlyIfNecessary : 1;
			UINT NotWrittenTo : 1;
			UINT Reserved : 30;
		};
		UINT Value;
	};
} D3DDDI_EVICT_FLAGS;
_Static_assert(sizeof(D3DDDI_EVICT_FLAGS) == 4, "");

typedef struct _D3DKMT_EVICT {
	D3DKMT_HANDLE hDevice;
	UINT NumAllocations;
	D3DKMT_PTR(CONST D3DKMT_HANDLE *, AllocationList);
	D3DDDI_EVICT_FLAGS Flags;
	D3DKMT_ALIGN64 UINT64 NumBytesToTrim;
} D3DKMT_EVICT;
/* 0, 4; pointer 8; Flags 16 (+4); 24; 32 */
_Static_assert(offsetof(D3DKMT_EVICT, hDevice) == 0, "");
_Static_assert(offsetof(D3DKMT_EVICT, NumAllocations) == 4, "");
_Static_assert(offsetof(D3DKMT_EVICT, AllocationList) == 8, "");
_Static_assert(offsetof(D3DKMT_EVICT, Flags) == 16, "");
_Static_assert(offsetof(D3DKMT_EVICT, NumBytesToTrim) == 24, "");
_Static_assert(sizeof(D3DKMT_EVICT) == 32, "");

/* ---- synchronization objects -------------------------------------------------------------------- */

typedef enum _D3DDDI_SYNCHRONIZATIONOBJECT_TYPE {
	D3DDDI_SYNCHRONIZATION_MUTEX = 1,
	D3DDDI_SEMAPHORE = 2,
	D3DDDI_FENCE = 3,
	D3DDDI_CPU_NOTIFICATION = 4,
	D3DDDI_MONITORED_FENCE = 5,
	D3DDDI_PERIODIC_MONITORED_FENCE = 6,
	D3DDDI_SYNCHRONIZATION_TYPE_LIMIT
} D3DDDI_SYNCHRONIZATIONOBJECT_TYPE;
_Static_assert(sizeof(D3DDDI_SYNCHRONIZATIONOBJECT_TYPE) == 4, "");

typedef struct _D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS {
	union {
		struct {
			UINT Shared : 1;
			UINT NtSecuritySharing : 1;
			UINT CrossAdapter : 1;
			UINT TopOfPipeline : 1;
			UINT NoSignal : 1;
			UINT NoWait : 1;
			UINT NoSignalMaxValueOnTdr : 1;
			UINT NoGPUAccess : 1;
			UINT SignalByKmd : 1;
			UINT Reserved : 22;
			UINT D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS_RESERVED0 : 1;
		};
		UINT Value;
	};
} D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS;
_Static_assert(sizeof(D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS) == 4, "");

typedef UINT D3DDDI_VIDEO_PRESENT_TARGET_ID;

typedef struct _D3DDDI_SYNCHRONIZATIONOBJECTINFO2 {
	D3DDDI_SYNCHRONIZATIONOBJECT_TYPE Type;
	D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS Flags;
	union {
		struct {
			BOOL InitialState;
		} SynchronizationMutex;
		struct {
			UINT MaxCount;
			UINT InitialCount;
		} Semaphore;
		struct {
			D3DKMT_ALIGN64 UINT64 FenceValue;
		} Fence;
		struct {
			D3DKMT_PTR(HANDLE, Event);
		} CPUNotification;
		struct {
			D3DKMT_ALIGN64 UINT64 InitialFenceValue;
			D3DKMT_PTR(VOID *, FenceValueCPUVirtualAddress);
			D3DKMT_ALIGN64 D3DGPU_VIRTUAL_ADDRESS FenceValueGPUVirtualAddress;
			UINT EngineAffinity;
			UINT Padding;
		} MonitoredFence;
		struct {
			D3DKMT_HANDLE hAdapter;
			D3DDDI_VIDEO_PRESENT_TARGET_ID VidPnTargetId;
			D3DKMT_ALIGN64 UINT64 Time;
			D3DKMT_PTR(VOID *, FenceValueCPUVirtualAddress);
			D3DKMT_ALIGN64 D3DGPU_VIRTUAL_ADDRESS FenceValueGPUVirtualAddress;
			UINT EngineAffinity;
			UINT Padding;
		} PeriodicMonitoredFence;
		struct {
			D3DKMT_ALIGN64 UINT64 Reserved[8];
		} Reserved;
	};
	D3DKMT_HANDLE SharedHandle;
} D3DDDI_SYNCHRONIZATIONOBJECTINFO2;
/* Type 0, Flags 4; the union (8-aligned, as large as Reserved: 64) at 8;
 * SharedHandle 72; 76 -> 80. Inside MonitoredFence (from 8): value +0, CPU
 * pointer +8, GPU VA +16, EngineAffinity +24, Padding +28. */
_Static_assert(offsetof(D3DDDI_SYNCHRONIZATIONOBJECTINFO2, Type) == 0, "");
_Static_assert(offsetof(D3DDDI_SYNCHRONIZATIONOBJECTINFO2, Flags) == 4, "");
_Static_assert(offsetof(D3DDDI_SYNCHRONIZATIONOBJECTINFO2, SynchronizationMutex.InitialState) == 8, "");
_Static_assert(offsetof(D3DDDI_SYNCHRONIZATIONOBJECTINFO2, Semaphore.InitialCount) == 12, "");
_Static_assert(offsetof(D3DDDI_SYNCHRONIZATIONOBJECTINFO2, Fence.FenceValue) == 8, "");
_Static_assert(offsetof(D3DDDI_SYNCHRONIZATIONOBJECTINFO2, CPUNotification.Event) == 8, "");
_Static_assert(offsetof(D3DDDI_SYNCHRONIZATIONOBJECTINFO2, MonitoredFence.InitialFenceValue) == 8, "");
_Static_assert(offsetof(D3DDDI_SYNCHRONIZATIONOBJECTINFO2, MonitoredFence.FenceValueCPUVirtualAddress) == 16, "");
_Static_assert(offsetof(D3DDDI_SYNCHRONIZATIONOBJECTINFO2, MonitoredFence.FenceValueGPUVirtualAddress) == 24, "");
_Static_assert(offsetof(D3DDDI_SYNCHRONIZATIONOBJECTINFO2, MonitoredFence.EngineAffinity) == 32, "");
_Static_assert(offsetof(D3DDDI_SYNCHRONIZATIONOBJECTINFO2, MonitoredFence.Padding) == 36, "");
_Static_assert(offsetof(D3DDDI_SYNCHRONIZATIONOBJECTINFO2, PeriodicMonitoredFence.Time) == 16, "");
_Static_assert(offsetof(D3DDDI_SYNCHRONIZATIONOBJECTINFO2, PeriodicMonitoredFence.Padding) == 44, "");
_Static_assert(offsetof(D3DDDI_SYNCHRONIZATIONOBJECTINFO2, Reserved.Reserved) == 8, "");
_Static_assert(offsetof(D3DDDI_SYNCHRONIZATIONOBJECTINFO2, SharedHandle) == 72, "");
_Static_assert(sizeof(D3DDDI_SYNCHRONIZATIONOBJECTINFO2) == 80, "");

typedef struct _D3DKMT_CREATESYNCHRONIZATIONOBJECT2 {
	D3DKMT_HANDLE hDevice;
	D3DDDI_SYNCHRONIZATIONOBJECTINFO2 Info;
	D3DKMT_HANDLE hSyncObject;
} D3DKMT_CREATESYNCHRONIZATIONOBJECT2;
/* handle 0 (+4); Info (8-aligned, 80) at 8; handle 88; 92 -> 96 */
_Static_assert(offsetof(D3DKMT_CREATESYNCHRONIZATIONOBJECT2, hDevice) == 0, "");
_Static_assert(offsetof(D3DKMT_CREATESYNCHRONIZATIONOBJECT2, Info) == 8, "");
_Static_assert(offsetof(D3DKMT_CREATESYNCHRONIZATIONOBJECT2, hSyncObject) == 88, "");
_Static_assert(sizeof(D3DKMT_CREATESYNCHRONIZATIONOBJECT2) == 96, "");

typedef struct _D3DKMT_DESTROYSYNCHRONIZATIONOBJECT {
	D3DKMT_HANDLE hSyncObject;
} D3DKMT_DESTROYSYNCHRONIZATIONOBJECT;
_Static_assert(offsetof(D3DKMT_DESTROYSYNCHRONIZATIONOBJECT, hSyncObject) == 0, "");
_Static_assert(sizeof(D3DKMT_DESTROYSYNCHRONIZATIONOBJECT) == 4, "");

typedef struct _D3DDDI_WAITFORSYNCHRONIZATIONOBJECTFROMCPU_FLAGS {
	union {
		struct {
			UINT WaitAny : 1;
			UINT Reserved : 31;
		};
		UINT Value;
	};
} D3DDDI_WAITFORSYNCHRONIZATIONOBJECTFROMCPU_FLAGS;
_Static_assert(sizeof(D3DDDI_WAITFORSYNCHRONIZATIONOBJECTFROMCPU_FLAGS) == 4, "");

typedef struct _D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU {
	D3DKMT_HANDLE hDevice;
	UINT ObjectCount;
	D3DKMT_PTR(const D3DKMT_HANDLE *, ObjectHandleArray);
	D3DKMT_PTR(const UINT64 *, FenceValueArray);
	D3DKMT_PTR(HANDLE, hAsyncEvent);
	D3DDDI_WAITFORSYNCHRONIZATIONOBJECTFROMCPU_FLAGS Flags;
} D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU;
/* 0, 4; pointers 8, 16, 24; Flags 32; 36 -> 40 */
_Static_assert(offsetof(D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU, hDevice) == 0, "");
_Static_assert(offsetof(D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU, ObjectCount) == 4, "");
_Static_assert(offsetof(D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU, ObjectHandleArray) == 8, "");
_Static_assert(offsetof(D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU, FenceValueArray) == 16, "");
_Static_assert(offsetof(D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU, hAsyncEvent) == 24, "");
_Static_assert(offsetof(D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU, Flags) == 32, "");
_Static_assert(sizeof(D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU) == 40, "");

/* ---- submission ----------------------------------------------------------------------------------- */

#define D3DDDI_MAX_BROADCAST_CONTEXT 64
#define D3DDDI_MAX_WRITTEN_PRIMARIES 16

typedef struct _D3DKMT_SUBMITCOMMANDFLAGS {
	UINT NullRendering : 1;
	UINT PresentRedirected : 1;
	UINT NoKmdAccess : 1;
	UINT Reserved : 29;
} D3DKMT_SUBMITCOMMANDFLAGS;
_Static_assert(sizeof(D3DKMT_SUBMITCOMMANDFLAGS) == 4, "");

typedef struct _D3DKMT_SUBMITCOMMAND {
	D3DKMT_ALIGN64 D3DGPU_VIRTUAL_ADDRESS Commands;
	UINT CommandLength;
	D3DKMT_SUBMITCOMMANDFLAGS Flags;
	D3DKMT_ALIGN64 ULONGLONG PresentHistoryToken;
	UINT BroadcastContextCount;
	D3DKMT_HANDLE BroadcastContext[D3DDDI_MAX_BROADCAST_CONTEXT];
	D3DKMT_PTR(VOID *, pPrivateDriverData);
	UINT PrivateDriverDataSize;
	UINT NumPrimaries;
	D3DKMT_HANDLE WrittenPrimaries[D3DDDI_MAX_WRITTEN_PRIMARIES];
	UINT NumHistoryBuffers;
	D3DKMT_PTR(D3DKMT_HANDLE *, HistoryBufferArray);
} D3DKMT_SUBMITCOMMAND;
/* 0; 8, 12; 16; count 24; 64 handles 28..284 (+4); pointer 288; 296, 300;
 * 16 handles 304..368; count 368 (+4); pointer 376; 384 */
_Static_assert(offsetof(D3DKMT_SUBMITCOMMAND, Commands) == 0, "");
_Static_assert(offsetof(D3DKMT_SUBMITCOMMAND, CommandLength) == 8, "");
_Static_assert(offsetof(D3DKMT_SUBMITCOMMAND, Flags) == 12, "");
_Static_assert(offsetof(D3DKMT_SUBMITCOMMAND, PresentHistoryToken) == 16, "");
_Static_assert(offsetof(D3DKMT_SUBMITCOMMAND, BroadcastContextCount) == 24, "");
_Static_assert(offsetof(D3DKMT_SUBMITCOMMAND, BroadcastContext) == 28, "");
_Static_assert(offsetof(D3DKMT_SUBMITCOMMAND, pPrivateDriverData) == 288, "");
_Static_assert(offsetof(D3DKMT_SUBMITCOMMAND, PrivateDriverDataSize) == 296, "");
_Static_assert(offsetof(D3DKMT_SUBMITCOMMAND, NumPrimaries) == 300, "");
_Static_assert(offsetof(D3DKMT_SUBMITCOMMAND, WrittenPrimaries) == 304, "");
_Static_assert(offsetof(D3DKMT_SUBMITCOMMAND, NumHistoryBuffers) == 368, "");
_Static_assert(offsetof(D3DKMT_SUBMITCOMMAND, HistoryBufferArray) == 376, "");
_Static_assert(sizeof(D3DKMT_SUBMITCOMMAND) == 384, "");

/* ---- device state ------------------------------------------------------------------------------------ */

typedef enum _D3DKMT_DEVICESTATE_TYPE {
	D3DKMT_DEVICESTATE_EXECUTION = 1,
	D3DKMT_DEVICESTATE_PRESENT = 2,
	D3DKMT_DEVICESTATE_RESET = 3,
	D3DKMT_DEVICESTATE_PRESENT_DWM = 4,
	D3DKMT_DEVICESTATE_PAGE_FAULT = 5,
	D3DKMT_DEVICESTATE_PRESENT_QUEUE = 6,
} D3DKMT_DEVICESTATE_TYPE;
_Static_assert(sizeof(D3DKMT_DEVICESTATE_TYPE) == 4, "");

typedef enum _D3DKMT_DEVICEEXECUTION_STATE {
	D3DKMT_DEVICEEXECUTION_ACTIVE = 1,
	D3DKMT_DEVICEEXECUTION_RESET = 2,
	D3DKMT_DEVICEEXECUTION_HUNG = 3,
	D3DKMT_DEVICEEXECUTION_STOPPED = 4,
	D3DKMT_DEVICEEXECUTION_ERROR_OUTOFMEMORY = 5,
	D3DKMT_DEVICEEXECUTION_ERROR_DMAFAULT = 6,
	D3DKMT_DEVICEEXECUTION_ERROR_DMAPAGEFAULT = 7,
} D3DKMT_DEVICEEXECUTION_STATE;
_Static_assert(sizeof(D3DKMT_DEVICEEXECUTION_STATE) == 4, "");

typedef struct _D3DKMT_PRESENT_STATS {
	UINT PresentCount;
	UINT PresentRefreshCount;
	UINT SyncRefreshCount;
	D3DKMT_ALIGN64 LARGE_INTEGER SyncQPCTime;
	D3DKMT_ALIGN64 LARGE_INTEGER SyncGPUTime;
} D3DKMT_PRESENT_STATS;
/* 0, 4, 8 (+4); 16, 24; 32 */
_Static_assert(offsetof(D3DKMT_PRESENT_STATS, PresentCount) == 0, "");
_Static_assert(offsetof(D3DKMT_PRESENT_STATS, PresentRefreshCount) == 4, "");
_Static_assert(offsetof(D3DKMT_PRESENT_STATS, SyncRefreshCount) == 8, "");
_Static_assert(offsetof(D3DKMT_PRESENT_STATS, SyncQPCTime) == 16, "");
_Static_assert(offsetof(D3DKMT_PRESENT_STATS, SyncGPUTime) == 24, "");
_Static_assert(sizeof(D3DKMT_PRESENT_STATS) == 32, "");

typedef struct _D3DKMT_DEVICEPRESENT_STATE {
	D3DDDI_VIDEO_PRESENT_SOURCE_ID VidPnSourceId;
	D3DKMT_PRESENT_STATS PresentStats;
} D3DKMT_DEVICEPRESENT_STATE;
/* 0 (+4); stats (8-aligned) 8..40 */
_Static_assert(offsetof(D3DKMT_DEVICEPRESENT_STATE, VidPnSourceId) == 0, "");
_Static_assert(offsetof(D3DKMT_DEVICEPRESENT_STATE, PresentStats) == 8, "");
_Static_assert(sizeof(D3DKMT_DEVICEPRESENT_STATE) == 40, "");

typedef struct _D3DKMT_PRESENT_STATS_DWM {
	UINT PresentCount;
	UINT PresentRefreshCount;
	D3DKMT_ALIGN64 LARGE_INTEGER PresentQPCTime;
	UINT SyncRefreshCount;
	D3DKMT_ALIGN64 LARGE_INTEGER SyncQPCTime;
	UINT CustomPresentDuration;
} D3DKMT_PRESENT_STATS_DWM;
/* 0, 4; 8; 16 (+4); 24; 32; 36 -> 40 */
_Static_assert(offsetof(D3DKMT_PRESENT_STATS_DWM, PresentCount) == 0, "");
_Static_assert(offsetof(D3DKMT_PRESENT_STATS_DWM, PresentRefreshCount) == 4, "");
_Static_assert(offsetof(D3DKMT_PRESENT_STATS_DWM, PresentQPCTime) == 8, "");
_Static_assert(offsetof(D3DKMT_PRESENT_STATS_DWM, SyncRefreshCount) == 16, "");
_Static_assert(offsetof(D3DKMT_PRESENT_STATS_DWM, SyncQPCTime) == 24, "");
_Static_assert(offsetof(D3DKMT_PRESENT_STATS_DWM, CustomPresentDuration) == 32, "");
_Static_assert(sizeof(D3DKMT_PRESENT_STATS_DWM) == 40, "");

typedef struct _D3DKMT_DEVICEPRESENT_STATE_DWM {
	D3DDDI_VIDEO_PRESENT_SOURCE_ID VidPnSourceId;
	D3DKMT_PRESENT_STATS_DWM PresentStatsDWM;
} D3DKMT_DEVICEPRESENT_STATE_DWM;
/* 0 (+4); stats 8..48: the largest member of GetDeviceState's union */
_Static_assert(offsetof(D3DKMT_DEVICEPRESENT_STATE_DWM, VidPnSourceId) == 0, "");
_Static_assert(offsetof(D3DKMT_DEVICEPRESENT_STATE_DWM, PresentStatsDWM) == 8, "");
_Static_assert(sizeof(D3DKMT_DEVICEPRESENT_STATE_DWM) == 48, "");

typedef struct _D3DKMT_DEVICEPRESENT_QUEUE_STATE {
	D3DDDI_VIDEO_PRESENT_SOURCE_ID VidPnSourceId;
	BOOLEAN bQueuedPresentLimitReached;
} D3DKMT_DEVICEPRESENT_QUEUE_STATE;
_Static_assert(offsetof(D3DKMT_DEVICEPRESENT_QUEUE_STATE, VidPnSourceId) == 0, "");
_Static_assert(offsetof(D3DKMT_DEVICEPRESENT_QUEUE_STATE, bQueuedPresentLimitReached) == 4, "");
_Static_assert(sizeof(D3DKMT_DEVICEPRESENT_QUEUE_STATE) == 8, "");

typedef struct _D3DKMT_DEVICERESET_STATE {
	union {
		struct {
			UINT DesktopSwitched : 1;
			UINT Reserved : 31;
		};
		UINT Value;
	};
} D3DKMT_DEVICERESET_STATE;
_Static_assert(sizeof(D3DKMT_DEVICERESET_STATE) == 4, "");

typedef enum _DXGK_RENDER_PIPELINE_STAGE {
	DXGK_RENDER_PIPELINE_STAGE_UNKNOWN = 0,
	DXGK_RENDER_PIPELINE_STAGE_INPUT_ASSEMBLER = 1,
	DXGK_RENDER_PIPELINE_STAGE_VERTEX_SHADER = 2,
	DXGK_RENDER_PIPELINE_STAGE_GEOMETRY_SHADER = 3,
	DXGK_RENDER_PIPELINE_STAGE_STREAM_OUTPUT = 4,
	DXGK_RENDER_PIPELINE_STAGE_RASTERIZER = 5,
	DXGK_RENDER_PIPELINE_STAGE_PIXEL_SHADER = 6,
	DXGK_RENDER_PIPELINE_STAGE_OUTPUT_MERGER = 7,
} DXGK_RENDER_PIPELINE_STAGE;
_Static_assert(sizeof(DXGK_RENDER_PIPELINE_STAGE) == 4, "");

typedef enum _DXGK_PAGE_FAULT_FLAGS {
	DXGK_PAGE_FAULT_WRITE = 0x1,
	DXGK_PAGE_FAULT_FENCE_INVALID = 0x2,
	DXGK_PAGE_FAULT_ADAPTER_RESET_REQUIRED = 0x4,
	DXGK_PAGE_FAULT_ENGINE_RESET_REQUIRED = 0x8,
	DXGK_PAGE_FAULT_FATAL_HARDWARE_ERROR = 0x10,
	DXGK_PAGE_FAULT_IOMMU = 0x20,
	DXGK_PAGE_FAULT_HW_CONTEXT_VALID = 0x40,
	DXGK_PAGE_FAULT_PROCESS_HANDLE_VALID = 0x80,
} DXGK_PAGE_FAULT_FLAGS;
_Static_assert(sizeof(DXGK_PAGE_FAULT_FLAGS) == 4, "");

typedef enum _DXGK_GENERAL_ERROR_CODE {
	DXGK_GENERAL_ERROR_PAGE_FAULT = 0,
	DXGK_GENERAL_ERROR_INVALID_INSTRUCTION = 1,
} DXGK_GENERAL_ERROR_CODE;

typedef struct _DXGK_FAULT_ERROR_CODE {
	union {
		struct {
			UINT IsDeviceSpecificCode : 1;
			DXGK_GENERAL_ERROR_CODE GeneralErrorCode : 31;
		};
		struct {
			UINT IsDeviceSpecificCodeReservedBit : 1;
			UINT DeviceSpecificCode : 31;
		};
	};
} DXGK_FAULT_ERROR_CODE;
_Static_assert(sizeof(DXGK_FAULT_ERROR_CODE) == 4, "");

typedef struct _D3DKMT_DEVICEPAGEFAULT_STATE {
	D3DKMT_ALIGN64 UINT64 FaultedPrimitiveAPISequenceNumber;
	DXGK_RENDER_PIPELINE_STAGE FaultedPipelineStage;
	UINT FaultedBindTableEntry;
	DXGK_PAGE_FAULT_FLAGS PageFaultFlags;
	DXGK_FAULT_ERROR_CODE FaultErrorCode;
	D3DKMT_ALIGN64 D3DGPU_VIRTUAL_ADDRESS FaultedVirtualAddress;
} D3DKMT_DEVICEPAGEFAULT_STATE;
/* 0; 8, 12, 16, 20; 24; 32 */
_Static_assert(offsetof(D3DKMT_DEVICEPAGEFAULT_STATE, FaultedPrimitiveAPISequenceNumber) == 0, "");
_Static_assert(offsetof(D3DKMT_DEVICEPAGEFAULT_STATE, FaultedPipelineStage) == 8, "");
_Static_assert(offsetof(D3DKMT_DEVICEPAGEFAULT_STATE, FaultedBindTableEntry) == 12, "");
_Static_assert(offsetof(D3DKMT_DEVICEPAGEFAULT_STATE, PageFaultFlags) == 16, "");
_Static_assert(offsetof(D3DKMT_DEVICEPAGEFAULT_STATE, FaultErrorCode) == 20, "");
_Static_assert(offsetof(D3DKMT_DEVICEPAGEFAULT_STATE, FaultedVirtualAddress) == 24, "");
_Static_assert(sizeof(D3DKMT_DEVICEPAGEFAULT_STATE) == 32, "");

typedef struct _D3DKMT_GETDEVICESTATE {
	D3DKMT_HANDLE hDevice;
	D3DKMT_DEVICESTATE_TYPE StateType;
	union {
		D3DKMT_DEVICEEXECUTION_STATE ExecutionState;
		D3DKMT_DEVICEPRESENT_STATE PresentState;
		D3DKMT_DEVICERESET_STATE ResetState;
		D3DKMT_DEVICEPRESENT_STATE_DWM PresentStateDWM;
		D3DKMT_DEVICEPAGEFAULT_STATE PageFaultState;
		D3DKMT_DEVICEPRESENT_QUEUE_STATE PresentQueueState;
	};
} D3DKMT_GETDEVICESTATE;
/* 0, 4; the union (8-aligned, as large as PresentStateDWM: 48) at 8; 56 */
_Static_assert(offsetof(D3DKMT_GETDEVICESTATE, hDevice) == 0, "");
_Static_assert(offsetof(D3DKMT_GETDEVICESTATE, StateType) == 4, "");
_Static_assert(offsetof(D3DKMT_GETDEVICESTATE, ExecutionState) == 8, "");
_Static_assert(offsetof(D3DKMT_GETDEVICESTATE, PresentState) == 8, "");
_Static_assert(offsetof(D3DKMT_GETDEVICESTATE, ResetState) == 8, "");
_Static_assert(offsetof(D3DKMT_GETDEVICESTATE, PresentStateDWM) == 8, "");
_Static_assert(offsetof(D3DKMT_GETDEVICESTATE, PageFaultState) == 8, "");
_Static_assert(offsetof(D3DKMT_GETDEVICESTATE, PresentQueueState) == 8, "");
_Static_assert(sizeof(D3DKMT_GETDEVICESTATE) == 56, "");

/* ---- the entry points (libdxg's prototypes) ------------------------------------------------------- */

NTSTATUS APIENTRY D3DKMTEnumAdapters2(CONST D3DKMT_ENUMADAPTERS2 *pData);
NTSTATUS APIENTRY D3DKMTOpenAdapterFromLuid(CONST D3DKMT_OPENADAPTERFROMLUID *pAdapter);
NTSTATUS APIENTRY D3DKMTQueryAdapterInfo(CONST D3DKMT_QUERYADAPTERINFO *pData);
NTSTATUS APIENTRY D3DKMTCloseAdapter(CONST D3DKMT_CLOSEADAPTER *pData);
NTSTATUS APIENTRY D3DKMTCreateDevice(D3DKMT_CREATEDEVICE *pData);
NTSTATUS APIENTRY D3DKMTDestroyDevice(CONST D3DKMT_DESTROYDEVICE *pData);
NTSTATUS APIENTRY D3DKMTCreatePagingQueue(D3DKMT_CREATEPAGINGQUEUE *pData);
NTSTATUS APIENTRY D3DKMTDestroyPagingQueue(D3DDDI_DESTROYPAGINGQUEUE *pData);
NTSTATUS APIENTRY D3DKMTCreateContextVirtual(D3DKMT_CREATECONTEXTVIRTUAL *pData);
NTSTATUS APIENTRY D3DKMTDestroyContext(CONST D3DKMT_DESTROYCONTEXT *pData);
NTSTATUS APIENTRY D3DKMTCreateAllocation2(D3DKMT_CREATEALLOCATION *pData);
NTSTATUS APIENTRY D3DKMTDestroyAllocation2(CONST D3DKMT_DESTROYALLOCATION2 *pData);
NTSTATUS APIENTRY D3DKMTLock2(D3DKMT_LOCK2 *pData);
NTSTATUS APIENTRY D3DKMTUnlock2(CONST D3DKMT_UNLOCK2 *pData);
NTSTATUS APIENTRY D3DKMTReserveGpuVirtualAddress(D3DDDI_RESERVEGPUVIRTUALADDRESS *pData);
NTSTATUS APIENTRY D3DKMTMapGpuVirtualAddress(D3DDDI_MAPGPUVIRTUALADDRESS *pData);
NTSTATUS APIENTRY D3DKMTFreeGpuVirtualAddress(CONST D3DKMT_FREEGPUVIRTUALADDRESS *pData);
NTSTATUS APIENTRY D3DKMTMakeResident(D3DDDI_MAKERESIDENT *pData);
NTSTATUS APIENTRY D3DKMTEvict(D3DKMT_EVICT *pData);
NTSTATUS APIENTRY D3DKMTCreateSynchronizationObject2(D3DKMT_CREATESYNCHRONIZATIONOBJECT2 *pData);
NTSTATUS APIENTRY D3DKMTDestroySynchronizationObject(CONST D3DKMT_DESTROYSYNCHRONIZATIONOBJECT *pData);
NTSTATUS APIENTRY D3DKMTWaitForSynchronizationObjectFromCpu(CONST D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU *pData);
NTSTATUS APIENTRY D3DKMTSubmitCommand(CONST D3DKMT_SUBMITCOMMAND *pData);
NTSTATUS APIENTRY D3DKMTGetDeviceState(D3DKMT_GETDEVICESTATE *pData);

/* ---- the private driver data: gpusim's kernel-mode driver's allocation description ---------------- */

/* Carried from gpusim's documentation of its driver (the contract between a
 * KMD and its UMD, which no official header holds). */
#define GPUSIM_ALLOC_DESC_VERSION 1
#define GPUSIM_ALLOC_CPU_VISIBLE 0x1u
#define GPUSIM_SEG_VISIBLE 1
#define GPUSIM_SEG_INVISIBLE 2

struct gpusim_alloc_desc {
	uint32_t version;
	uint32_t flags;
	uint64_t size;
	uint64_t alignment;
	uint32_t preferred[3];
	uint32_t allowed;
	uint32_t priority;
};
/* 0, 4; 8, 16; three at 24; 36, 40; 44 -> 48 */
_Static_assert(offsetof(struct gpusim_alloc_desc, version) == 0, "");
_Static_assert(offsetof(struct gpusim_alloc_desc, flags) == 4, "");
_Static_assert(offsetof(struct gpusim_alloc_desc, alignment) == 16, "");
_Static_assert(offsetof(struct gpusim_alloc_desc, size) == 8, "");
_Static_assert(offsetof(struct gpusim_alloc_desc, preferred) == 24, "");
_Static_assert(offsetof(struct gpusim_alloc_desc, allowed) == 36, "");
_Static_assert(offsetof(struct gpusim_alloc_desc, priority) == 40, "");
_Static_assert(sizeof(struct gpusim_alloc_desc) == 48, "");

#endif
