/*
 * <gpusim/d3dkmthk.h> — the WDDM kernel-mode thunk interface (D3DKMT*) as gpusim
 * implements it in libkmt.
 *
 * Written for gpusim. Every name, value, field order and type below is that of
 * Microsoft's published WDDM headers (d3dkmthk.h, d3dkmdt.h, d3dukmdt.h, as released
 * for Linux in the MIT-licensed microsoft/libdxg, built with the WSL base types of
 * microsoft/DirectX-Headers), and every structure has the same size, alignment and
 * field offsets as there on x86-64 Linux. That means:
 *   - pointers inside structures sit in 8-byte slots (a union with a UINT64 named
 *     <field>_Align), so the layout is the same for 32- and 64-bit callers;
 *   - WCHAR is wchar_t (4 bytes on Linux), BOOL is a 32-bit unsigned integer;
 *   - the interface level is the newest one libdxg describes (WDDM 3.0), so every
 *     version-dependent bit field and enum value is present.
 * Only the part of the interface that gpusim implements is declared here; the
 * layouts are checked field by field in tests/kmt/check_layout.c.
 *
 * Define GPUSIM_NO_WIN_TYPES before including this header when another header
 * already provides the Windows base types (UINT, HANDLE, LUID, WCHAR, NTSTATUS, ...).
 */
#ifndef GPUSIM_D3DKMTHK_H
#define GPUSIM_D3DKMTHK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================== */
/* Base types (the sizes of the WSL/libdxg build on Linux)                    */
/* ======================================================================== */

#ifndef GPUSIM_NO_WIN_TYPES
typedef void VOID;
typedef void *PVOID;
typedef void *HANDLE;
typedef uint8_t BYTE;
typedef uint8_t UCHAR;
typedef char CHAR;
typedef char BOOLEAN;
typedef uint16_t USHORT;
typedef uint16_t WORD;
typedef uint16_t UINT16;
typedef int32_t INT;
typedef int32_t INT32;
typedef int32_t LONG;
typedef uint32_t UINT;
typedef uint32_t UINT32;
typedef uint32_t ULONG;
typedef uint32_t DWORD;
typedef uint32_t BOOL;
typedef int64_t INT64;
typedef int64_t LONGLONG;
typedef uint64_t UINT64;
typedef uint64_t ULONGLONG;
typedef uint64_t ULONG_PTR;
typedef uint64_t UINT_PTR;
typedef size_t SIZE_T;
typedef wchar_t WCHAR;
typedef const wchar_t *PCWSTR;
typedef int32_t NTSTATUS;

/* Locally unique identifier: identifies an adapter. */
typedef struct _LUID {
	ULONG LowPart;
	LONG HighPart;
} LUID;

typedef union _LARGE_INTEGER {
	struct {
		ULONG LowPart;
		LONG HighPart;
	};
	struct {
		ULONG LowPart;
		LONG HighPart;
	} u;
	LONGLONG QuadPart;
} LARGE_INTEGER;
#endif /* GPUSIM_NO_WIN_TYPES */

#ifndef CONST
#define CONST const
#endif
#ifndef APIENTRY
#define APIENTRY
#endif
#ifndef TRUE
#define TRUE 1u
#endif
#ifndef FALSE
#define FALSE 0u
#endif

/*
 * Fixed-size pointer slots. On Linux every pointer in a D3DKMT structure shares a
 * union with an 8-byte-aligned UINT64 called <name>_Align, which comes first so that
 * brace initialisation writes all 64 bits (use D3DKMT_PTR_INIT for that).
 */
#if defined(__cplusplus)
#define GPUSIM_KMT_ALIGN8 alignas(8)
#else
#define GPUSIM_KMT_ALIGN8 _Alignas(8)
#endif
#define GPUSIM_KMT_PTR(type, name)                 \
	union {                                        \
		GPUSIM_KMT_ALIGN8 UINT64 name##_Align; \
		type name;                             \
	}

#ifndef D3DKMT_ALIGN64
#define D3DKMT_ALIGN64 GPUSIM_KMT_ALIGN8
#endif
#ifndef D3DKMT_PTR_INIT
#define D3DKMT_PTR_INIT(x) { (UINT64)(uintptr_t)(x) }
#endif

typedef UINT64 D3DKMT_SIZE_T;
typedef UINT64 D3DKMT_UINT_PTR;
typedef UINT64 D3DKMT_ULONG_PTR;

typedef union _D3DKMT_PTR_TYPE {
	GPUSIM_KMT_ALIGN8 UINT64 Ptr_Align;
	HANDLE Ptr;
} D3DKMT_PTR_TYPE;

/* ======================================================================== */
/* NTSTATUS values (ntstatus.h)                                               */
/* ======================================================================== */

#ifndef NT_SUCCESS
#define NT_SUCCESS(Status) (((NTSTATUS)(Status)) >= 0)
#endif

#ifndef STATUS_SUCCESS
#define STATUS_SUCCESS ((NTSTATUS)0x00000000L)
#endif
#ifndef STATUS_TIMEOUT
#define STATUS_TIMEOUT ((NTSTATUS)0x00000102L)
#endif
#ifndef STATUS_PENDING
#define STATUS_PENDING ((NTSTATUS)0x00000103L)
#endif
#ifndef STATUS_UNSUCCESSFUL
#define STATUS_UNSUCCESSFUL ((NTSTATUS)0xC0000001L)
#endif
#ifndef STATUS_NOT_IMPLEMENTED
#define STATUS_NOT_IMPLEMENTED ((NTSTATUS)0xC0000002L)
#endif
#ifndef STATUS_INVALID_HANDLE
#define STATUS_INVALID_HANDLE ((NTSTATUS)0xC0000008L)
#endif
#ifndef STATUS_INVALID_PARAMETER
#define STATUS_INVALID_PARAMETER ((NTSTATUS)0xC000000DL)
#endif
#ifndef STATUS_NO_MEMORY
#define STATUS_NO_MEMORY ((NTSTATUS)0xC0000017L)
#endif
#ifndef STATUS_ACCESS_DENIED
#define STATUS_ACCESS_DENIED ((NTSTATUS)0xC0000022L)
#endif
#ifndef STATUS_BUFFER_TOO_SMALL
#define STATUS_BUFFER_TOO_SMALL ((NTSTATUS)0xC0000023L)
#endif
#ifndef STATUS_OBJECT_TYPE_MISMATCH
#define STATUS_OBJECT_TYPE_MISMATCH ((NTSTATUS)0xC0000024L)
#endif
#ifndef STATUS_NOT_SUPPORTED
#define STATUS_NOT_SUPPORTED ((NTSTATUS)0xC00000BBL)
#endif
#ifndef STATUS_INVALID_DEVICE_STATE
#define STATUS_INVALID_DEVICE_STATE ((NTSTATUS)0xC0000184L)
#endif
#ifndef STATUS_DEVICE_REMOVED
#define STATUS_DEVICE_REMOVED ((NTSTATUS)0xC00002B6L)
#endif
/* Graphics facility (0x1E), video memory manager range 0x100..0x1FF. */
#ifndef STATUS_GRAPHICS_NO_VIDEO_MEMORY
#define STATUS_GRAPHICS_NO_VIDEO_MEMORY ((NTSTATUS)0xC01E0100L)
#endif
#ifndef STATUS_GRAPHICS_CANT_LOCK_MEMORY
#define STATUS_GRAPHICS_CANT_LOCK_MEMORY ((NTSTATUS)0xC01E0101L)
#endif
#ifndef STATUS_GRAPHICS_ALLOCATION_BUSY
#define STATUS_GRAPHICS_ALLOCATION_BUSY ((NTSTATUS)0xC01E0102L)
#endif
#ifndef STATUS_GRAPHICS_TRY_AGAIN_LATER
#define STATUS_GRAPHICS_TRY_AGAIN_LATER ((NTSTATUS)0xC01E0104L)
#endif
#ifndef STATUS_GRAPHICS_ALLOCATION_INVALID
#define STATUS_GRAPHICS_ALLOCATION_INVALID ((NTSTATUS)0xC01E0106L)
#endif
#ifndef STATUS_GRAPHICS_CANT_EVICT_PINNED_ALLOCATION
#define STATUS_GRAPHICS_CANT_EVICT_PINNED_ALLOCATION ((NTSTATUS)0xC01E0109L)
#endif
#ifndef STATUS_GRAPHICS_INVALID_ALLOCATION_USAGE
#define STATUS_GRAPHICS_INVALID_ALLOCATION_USAGE ((NTSTATUS)0xC01E0110L)
#endif
#ifndef STATUS_GRAPHICS_CANT_RENDER_LOCKED_ALLOCATION
#define STATUS_GRAPHICS_CANT_RENDER_LOCKED_ALLOCATION ((NTSTATUS)0xC01E0111L)
#endif
#ifndef STATUS_GRAPHICS_ALLOCATION_CLOSED
#define STATUS_GRAPHICS_ALLOCATION_CLOSED ((NTSTATUS)0xC01E0112L)
#endif
#ifndef STATUS_GRAPHICS_INVALID_ALLOCATION_INSTANCE
#define STATUS_GRAPHICS_INVALID_ALLOCATION_INSTANCE ((NTSTATUS)0xC01E0113L)
#endif
#ifndef STATUS_GRAPHICS_INVALID_ALLOCATION_HANDLE
#define STATUS_GRAPHICS_INVALID_ALLOCATION_HANDLE ((NTSTATUS)0xC01E0114L)
#endif
#ifndef STATUS_GRAPHICS_WRONG_ALLOCATION_DEVICE
#define STATUS_GRAPHICS_WRONG_ALLOCATION_DEVICE ((NTSTATUS)0xC01E0115L)
#endif
#ifndef STATUS_GRAPHICS_ALLOCATION_CONTENT_LOST
#define STATUS_GRAPHICS_ALLOCATION_CONTENT_LOST ((NTSTATUS)0xC01E0116L)
#endif
/*
 * The D3DKMT documentation spells the out-of-video-memory result
 * STATUS_NO_VIDEO_MEMORY; ntstatus.h only has the GRAPHICS_ spelling.
 */
#ifndef STATUS_NO_VIDEO_MEMORY
#define STATUS_NO_VIDEO_MEMORY STATUS_GRAPHICS_NO_VIDEO_MEMORY
#endif

/* ======================================================================== */
/* Shared user/kernel types (d3dukmdt.h)                                      */
/* ======================================================================== */

typedef ULONGLONG D3DGPU_VIRTUAL_ADDRESS;
typedef ULONGLONG D3DGPU_SIZE_T;
#define D3DGPU_NULL 0

typedef UINT D3DDDI_VIDEO_PRESENT_SOURCE_ID;
typedef UINT D3DDDI_VIDEO_PRESENT_TARGET_ID;

/* A kernel object (adapter, device, context, allocation, ...) as user mode sees it. */
typedef UINT D3DKMT_HANDLE;

#define D3DDDI_ID_UNINITIALIZED (UINT)(~0)
#define D3DDDI_ID_NOTAPPLICABLE (UINT)(0)
#define D3DDDI_ID_ANY (UINT)(~1)
#define D3DDDI_ID_ALL (UINT)(~2)

#define D3DDDI_MAX_WRITTEN_PRIMARIES 16
#define D3DDDI_MAX_OBJECT_WAITED_ON 32
#define D3DDDI_MAX_OBJECT_SIGNALED 32
#define D3DDDI_MAX_BROADCAST_CONTEXT 64

/* Residency priorities: higher survives eviction longer. */
#define D3DDDI_ALLOCATIONPRIORITY_MINIMUM 0x28000000
#define D3DDDI_ALLOCATIONPRIORITY_LOW 0x50000000
#define D3DDDI_ALLOCATIONPRIORITY_NORMAL 0x78000000
#define D3DDDI_ALLOCATIONPRIORITY_HIGH 0xa0000000
#define D3DDDI_ALLOCATIONPRIORITY_MAXIMUM 0xc8000000

typedef struct _D3DDDI_ALLOCATIONINFO {
	D3DKMT_HANDLE hAllocation;                        /* out */
	GPUSIM_KMT_PTR(CONST VOID *, pSystemMem);         /* in: existing system memory, or NULL */
	GPUSIM_KMT_PTR(VOID *, pPrivateDriverData);       /* in: driver's description */
	UINT PrivateDriverDataSize;
	D3DDDI_VIDEO_PRESENT_SOURCE_ID VidPnSourceId;
	union {
		struct {
			UINT Primary : 1;  /* 0x00000001 */
			UINT Stereo : 1;   /* 0x00000002 */
			UINT Reserved : 30;
		};
		UINT Value;
	} Flags;
} D3DDDI_ALLOCATIONINFO;

typedef struct _D3DDDI_ALLOCATIONINFO2 {
	D3DKMT_HANDLE hAllocation;                        /* out */
	union {
		GPUSIM_KMT_ALIGN8 UINT64 pSystemMem_hSection_Align;
		HANDLE hSection;
		CONST VOID *pSystemMem;
	};
	GPUSIM_KMT_PTR(VOID *, pPrivateDriverData);
	UINT PrivateDriverDataSize;
	D3DDDI_VIDEO_PRESENT_SOURCE_ID VidPnSourceId;
	union {
		struct {
			UINT Primary : 1;          /* 0x00000001 */
			UINT Stereo : 1;           /* 0x00000002 */
			UINT OverridePriority : 1; /* 0x00000004 */
			UINT Reserved : 29;
		};
		UINT Value;
	} Flags;
	GPUSIM_KMT_ALIGN8 D3DGPU_VIRTUAL_ADDRESS GpuVirtualAddress; /* out */
	union {
		UINT Priority;                            /* in, with OverridePriority */
		GPUSIM_KMT_ALIGN8 ULONG_PTR Unused;
	};
	GPUSIM_KMT_ALIGN8 ULONG_PTR Reserved[5];
} D3DDDI_ALLOCATIONINFO2;

typedef struct _D3DDDI_OPENALLOCATIONINFO {
	D3DKMT_HANDLE hAllocation;
	GPUSIM_KMT_PTR(CONST VOID *, pPrivateDriverData);
	UINT PrivateDriverDataSize;
} D3DDDI_OPENALLOCATIONINFO;

typedef struct _D3DDDI_OPENALLOCATIONINFO2 {
	D3DKMT_HANDLE hAllocation;
	GPUSIM_KMT_PTR(CONST VOID *, pPrivateDriverData);
	UINT PrivateDriverDataSize;
	GPUSIM_KMT_ALIGN8 D3DGPU_VIRTUAL_ADDRESS GpuVirtualAddress;
	GPUSIM_KMT_ALIGN8 ULONG_PTR Reserved[6];
} D3DDDI_OPENALLOCATIONINFO2;

typedef enum _D3DDDI_OFFER_PRIORITY {
	D3DDDI_OFFER_PRIORITY_NONE = 0,
	D3DDDI_OFFER_PRIORITY_LOW = 1,
	D3DDDI_OFFER_PRIORITY_NORMAL = 2,
	D3DDDI_OFFER_PRIORITY_HIGH = 3,
	D3DDDI_OFFER_PRIORITY_AUTO = 4,
} D3DDDI_OFFER_PRIORITY;

/* One entry of a submission's allocation list. */
typedef struct _D3DDDI_ALLOCATIONLIST {
	D3DKMT_HANDLE hAllocation;
	union {
		struct {
			UINT WriteOperation : 1;      /* 0x00000001 */
			UINT DoNotRetireInstance : 1; /* 0x00000002 */
			UINT OfferPriority : 3;       /* 0x0000001C, a D3DDDI_OFFER_PRIORITY */
			UINT Reserved : 27;
		};
		UINT Value;
	};
} D3DDDI_ALLOCATIONLIST;

/* Where to write an allocation's address into a command buffer. */
typedef struct _D3DDDI_PATCHLOCATIONLIST {
	UINT AllocationIndex;
	union {
		struct {
			UINT SlotId : 24;  /* 0x00FFFFFF */
			UINT Reserved : 8;
		};
		UINT Value;
	};
	UINT DriverId;
	UINT AllocationOffset;
	UINT PatchOffset;
	UINT SplitOffset;
} D3DDDI_PATCHLOCATIONLIST;

typedef struct _D3DDDICB_LOCKFLAGS {
	union {
		struct {
			UINT ReadOnly : 1;            /* 0x00000001 */
			UINT WriteOnly : 1;           /* 0x00000002 */
			UINT DonotWait : 1;           /* 0x00000004 */
			UINT IgnoreSync : 1;          /* 0x00000008 */
			UINT LockEntire : 1;          /* 0x00000010 */
			UINT DonotEvict : 1;          /* 0x00000020 */
			UINT AcquireAperture : 1;     /* 0x00000040 */
			UINT Discard : 1;             /* 0x00000080 */
			UINT NoExistingReference : 1; /* 0x00000100 */
			UINT UseAlternateVA : 1;      /* 0x00000200 */
			UINT IgnoreReadSync : 1;      /* 0x00000400 */
			UINT Reserved : 21;
		};
		UINT Value;
	};
} D3DDDICB_LOCKFLAGS;

typedef struct _D3DDDICB_LOCK2FLAGS {
	union {
		struct {
			UINT Reserved : 32;
		};
		UINT Value;
	};
} D3DDDICB_LOCK2FLAGS;

typedef struct _D3DDDICB_DESTROYALLOCATION2FLAGS {
	union {
		struct {
			UINT AssumeNotInUse : 1;     /* 0x00000001 */
			UINT SynchronousDestroy : 1; /* 0x00000002 */
			UINT Reserved : 29;
			UINT SystemUseOnly : 1;      /* 0x80000000, never set by user mode */
		};
		UINT Value;
	};
} D3DDDICB_DESTROYALLOCATION2FLAGS;

typedef struct _D3DDDI_CREATECONTEXTFLAGS {
	union {
		struct {
			UINT NullRendering : 1;       /* 0x00000001 */
			UINT InitialData : 1;         /* 0x00000002 */
			UINT DisableGpuTimeout : 1;   /* 0x00000004 */
			UINT SynchronizationOnly : 1; /* 0x00000008 */
			UINT HwQueueSupported : 1;    /* 0x00000010 */
			UINT NoKmdAccess : 1;         /* 0x00000020 */
			UINT Reserved : 26;
		};
		UINT Value;
	};
} D3DDDI_CREATECONTEXTFLAGS;

/* Up to five preferred segments (ids 1..31), most preferred first. */
typedef struct _D3DDDI_SEGMENTPREFERENCE {
	union {
		struct {
			UINT SegmentId0 : 5;  /* 0x0000001F */
			UINT Direction0 : 1;  /* 0x00000020 */
			UINT SegmentId1 : 5;  /* 0x000007C0 */
			UINT Direction1 : 1;  /* 0x00000800 */
			UINT SegmentId2 : 5;  /* 0x0001F000 */
			UINT Direction2 : 1;  /* 0x00020000 */
			UINT SegmentId3 : 5;  /* 0x007C0000 */
			UINT Direction3 : 1;  /* 0x00800000 */
			UINT SegmentId4 : 5;  /* 0x1F000000 */
			UINT Direction4 : 1;  /* 0x20000000 */
			UINT Reserved : 2;    /* 0xC0000000 */
		};
		UINT Value;
	};
} D3DDDI_SEGMENTPREFERENCE;

typedef struct _D3DDDICB_SIGNALFLAGS {
	union {
		struct {
			UINT SignalAtSubmission : 1;         /* 0x00000001 */
			UINT EnqueueCpuEvent : 1;            /* 0x00000002 */
			UINT AllowFenceRewind : 1;           /* 0x00000004 */
			UINT Reserved : 28;
			UINT DXGK_SIGNAL_FLAG_INTERNAL0 : 1; /* 0x80000000 */
		};
		UINT Value;
	};
} D3DDDICB_SIGNALFLAGS;

typedef enum _D3DDDI_SYNCHRONIZATIONOBJECT_TYPE {
	D3DDDI_SYNCHRONIZATION_MUTEX = 1,
	D3DDDI_SEMAPHORE = 2,
	D3DDDI_FENCE = 3,
	D3DDDI_CPU_NOTIFICATION = 4,
	D3DDDI_MONITORED_FENCE = 5,
	D3DDDI_PERIODIC_MONITORED_FENCE = 6,
	D3DDDI_SYNCHRONIZATION_TYPE_LIMIT
} D3DDDI_SYNCHRONIZATIONOBJECT_TYPE;

#define D3DDDI_SYNC_OBJECT_WAIT 0x1
#define D3DDDI_SYNC_OBJECT_SIGNAL 0x2

typedef struct _D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS {
	union {
		struct {
			UINT Shared : 1;                /* 0x00000001 */
			UINT NtSecuritySharing : 1;     /* 0x00000002 */
			UINT CrossAdapter : 1;          /* 0x00000004 */
			UINT TopOfPipeline : 1;         /* 0x00000008 */
			UINT NoSignal : 1;              /* 0x00000010 */
			UINT NoWait : 1;                /* 0x00000020 */
			UINT NoSignalMaxValueOnTdr : 1; /* 0x00000040 */
			UINT NoGPUAccess : 1;           /* 0x00000080 */
			UINT SignalByKmd : 1;           /* 0x00000100 */
			UINT Reserved : 22;
			UINT Reserved0 : 1;             /* 0x80000000 */
		};
		UINT Value;
	};
} D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS;

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
			GPUSIM_KMT_ALIGN8 UINT64 FenceValue;
		} Fence;
		struct {
			GPUSIM_KMT_PTR(HANDLE, Event);
		} CPUNotification;
		struct {
			GPUSIM_KMT_ALIGN8 UINT64 InitialFenceValue;             /* in */
			GPUSIM_KMT_PTR(VOID *, FenceValueCPUVirtualAddress);    /* out: read-only */
			GPUSIM_KMT_ALIGN8 D3DGPU_VIRTUAL_ADDRESS FenceValueGPUVirtualAddress; /* out */
			UINT EngineAffinity;
			UINT Padding;
		} MonitoredFence;
		struct {
			D3DKMT_HANDLE hAdapter;
			D3DDDI_VIDEO_PRESENT_TARGET_ID VidPnTargetId;
			GPUSIM_KMT_ALIGN8 UINT64 Time;
			GPUSIM_KMT_PTR(VOID *, FenceValueCPUVirtualAddress);
			GPUSIM_KMT_ALIGN8 D3DGPU_VIRTUAL_ADDRESS FenceValueGPUVirtualAddress;
			UINT EngineAffinity;
			UINT Padding;
		} PeriodicMonitoredFence;
		struct {
			GPUSIM_KMT_ALIGN8 UINT64 Reserved[8];
		} Reserved;
	};
	D3DKMT_HANDLE SharedHandle;                                   /* out */
} D3DDDI_SYNCHRONIZATIONOBJECTINFO2;

typedef struct D3DDDI_MAKERESIDENT_FLAGS {
	union {
		struct {
			UINT CantTrimFurther : 1; /* 0x00000001 */
			UINT MustSucceed : 1;     /* 0x00000002 */
			UINT Reserved : 30;
		};
		UINT Value;
	};
} D3DDDI_MAKERESIDENT_FLAGS;

typedef struct D3DDDI_MAKERESIDENT {
	D3DKMT_HANDLE hPagingQueue;
	UINT NumAllocations;                                /* in: count; out: how many were made resident */
	GPUSIM_KMT_PTR(CONST D3DKMT_HANDLE *, AllocationList);
	GPUSIM_KMT_PTR(CONST UINT *, PriorityList);
	D3DDDI_MAKERESIDENT_FLAGS Flags;
	GPUSIM_KMT_ALIGN8 UINT64 PagingFenceValue;          /* out: wait for it with STATUS_PENDING */
	GPUSIM_KMT_ALIGN8 UINT64 NumBytesToTrim;            /* out: with STATUS_NO_MEMORY */
} D3DDDI_MAKERESIDENT;

typedef struct D3DDDI_EVICT_FLAGS {
	union {
		struct {
			UINT EvictOnlyIfNecessary : 1; /* 0x00000001 */
			UINT NotWrittenTo : 1;         /* 0x00000002 */
			UINT Reserved : 30;
		};
		UINT Value;
	};
} D3DDDI_EVICT_FLAGS;

/* ======================================================================== */
/* Kernel-mode data types used by the thunks (d3dkmdt.h)                      */
/* ======================================================================== */

typedef enum _D3DKMDT_GRAPHICS_PREEMPTION_GRANULARITY {
	D3DKMDT_GRAPHICS_PREEMPTION_NONE = 0,
	D3DKMDT_GRAPHICS_PREEMPTION_DMA_BUFFER_BOUNDARY = 100,
	D3DKMDT_GRAPHICS_PREEMPTION_PRIMITIVE_BOUNDARY = 200,
	D3DKMDT_GRAPHICS_PREEMPTION_TRIANGLE_BOUNDARY = 300,
	D3DKMDT_GRAPHICS_PREEMPTION_PIXEL_BOUNDARY = 400,
	D3DKMDT_GRAPHICS_PREEMPTION_SHADER_BOUNDARY = 500,
} D3DKMDT_GRAPHICS_PREEMPTION_GRANULARITY;

typedef enum _D3DKMDT_COMPUTE_PREEMPTION_GRANULARITY {
	D3DKMDT_COMPUTE_PREEMPTION_NONE = 0,
	D3DKMDT_COMPUTE_PREEMPTION_DMA_BUFFER_BOUNDARY = 100,
	D3DKMDT_COMPUTE_PREEMPTION_DISPATCH_BOUNDARY = 200,
	D3DKMDT_COMPUTE_PREEMPTION_THREAD_GROUP_BOUNDARY = 300,
	D3DKMDT_COMPUTE_PREEMPTION_THREAD_BOUNDARY = 400,
	D3DKMDT_COMPUTE_PREEMPTION_SHADER_BOUNDARY = 500,
} D3DKMDT_COMPUTE_PREEMPTION_GRANULARITY;

typedef struct _D3DKMDT_PREEMPTION_CAPS {
	D3DKMDT_GRAPHICS_PREEMPTION_GRANULARITY GraphicsPreemptionGranularity;
	D3DKMDT_COMPUTE_PREEMPTION_GRANULARITY ComputePreemptionGranularity;
} D3DKMDT_PREEMPTION_CAPS;

typedef struct _D3DKMT_WDDM_1_2_CAPS {
	D3DKMDT_PREEMPTION_CAPS PreemptionCaps;
	union {
		struct {
			UINT SupportNonVGA : 1;                       /* 0x00000001 */
			UINT SupportSmoothRotation : 1;               /* 0x00000002 */
			UINT SupportPerEngineTDR : 1;                 /* 0x00000004 */
			UINT SupportKernelModeCommandBuffer : 1;      /* 0x00000008 */
			UINT SupportCCD : 1;                          /* 0x00000010 */
			UINT SupportSoftwareDeviceBitmaps : 1;        /* 0x00000020 */
			UINT SupportGammaRamp : 1;                    /* 0x00000040 */
			UINT SupportHWCursor : 1;                     /* 0x00000080 */
			UINT SupportHWVSync : 1;                      /* 0x00000100 */
			UINT SupportSurpriseRemovalInHibernation : 1; /* 0x00000200 */
			UINT Reserved : 22;
		};
		UINT Value;
	};
} D3DKMT_WDDM_1_2_CAPS;

typedef struct _D3DKMT_WDDM_1_3_CAPS {
	union {
		struct {
			UINT SupportMiracast : 1;               /* 0x00000001 */
			UINT IsHybridIntegratedGPU : 1;         /* 0x00000002 */
			UINT IsHybridDiscreteGPU : 1;           /* 0x00000004 */
			UINT SupportPowerManagementPStates : 1; /* 0x00000008 */
			UINT SupportVirtualModes : 1;           /* 0x00000010 */
			UINT SupportCrossAdapterResource : 1;   /* 0x00000020 */
			UINT Reserved : 26;
		};
		UINT Value;
	};
} D3DKMT_WDDM_1_3_CAPS;

typedef struct _D3DKMT_WDDM_2_0_CAPS {
	union {
		struct {
			UINT Support64BitAtomics : 1;       /* 0x00000001 */
			UINT GpuMmuSupported : 1;           /* 0x00000002 */
			UINT IoMmuSupported : 1;            /* 0x00000004 */
			UINT FlipOverwriteSupported : 1;    /* 0x00000008 */
			UINT SupportContextlessPresent : 1; /* 0x00000010 */
			UINT SupportSurpriseRemoval : 1;    /* 0x00000020 */
			UINT Reserved : 26;
		};
		UINT Value;
	};
} D3DKMT_WDDM_2_0_CAPS;

typedef struct _D3DKMT_WDDM_2_7_CAPS {
	union {
		struct {
			UINT HwSchSupported : 1;               /* 0x00000001 */
			UINT HwSchEnabled : 1;                 /* 0x00000002 */
			UINT HwSchEnabledByDefault : 1;        /* 0x00000004 */
			UINT IndependentVidPnVSyncControl : 1; /* 0x00000008 */
			UINT Reserved : 28;
		};
		UINT Value;
	};
} D3DKMT_WDDM_2_7_CAPS;

/* Values of the 2-bit *SupportState fields of the 2.9 and 3.0 caps. */
#define DXGK_FEATURE_SUPPORT_ALWAYS_OFF ((UINT)0)
#define DXGK_FEATURE_SUPPORT_EXPERIMENTAL ((UINT)1)
#define DXGK_FEATURE_SUPPORT_STABLE ((UINT)2)
#define DXGK_FEATURE_SUPPORT_ALWAYS_ON ((UINT)3)

typedef struct _D3DKMT_WDDM_2_9_CAPS {
	union {
		struct {
			UINT HwSchSupportState : 2;          /* 0x00000003 */
			UINT HwSchEnabled : 1;               /* 0x00000004 */
			UINT SelfRefreshMemorySupported : 1; /* 0x00000008 */
			UINT Reserved : 28;
		};
		UINT Value;
	};
} D3DKMT_WDDM_2_9_CAPS;

typedef struct _D3DKMT_WDDM_3_0_CAPS {
	union {
		struct {
			UINT HwFlipQueueSupportState : 2; /* 0x00000003 */
			UINT HwFlipQueueEnabled : 1;      /* 0x00000004 */
			UINT DisplayableSupported : 1;    /* 0x00000008 */
			UINT Reserved : 28;
		};
		UINT Value;
	};
} D3DKMT_WDDM_3_0_CAPS;

typedef struct _D3DKMT_DRIVERCAPS_EXT {
	union {
		struct {
			UINT VirtualModeSupport : 1; /* 0x00000001 */
			UINT Usb4MonitorSupport : 1; /* 0x00000002 */
			UINT Reserved : 30;
		};
		UINT Value;
	};
} D3DKMT_DRIVERCAPS_EXT;

#define DXGK_MAX_METADATA_NAME_LENGTH 32

typedef enum {
	DXGK_ENGINE_TYPE_OTHER,
	DXGK_ENGINE_TYPE_3D,
	DXGK_ENGINE_TYPE_VIDEO_DECODE,
	DXGK_ENGINE_TYPE_VIDEO_ENCODE,
	DXGK_ENGINE_TYPE_VIDEO_PROCESSING,
	DXGK_ENGINE_TYPE_SCENE_ASSEMBLY,
	DXGK_ENGINE_TYPE_COPY,
	DXGK_ENGINE_TYPE_OVERLAY,
	DXGK_ENGINE_TYPE_CRYPTO,
	DXGK_ENGINE_TYPE_MAX
} DXGK_ENGINE_TYPE;

/* d3dkmdt.h declares these three inside #pragma pack(push, 1): no padding, and
 * alignment 1 (DXGK_NODEMETADATA is 138 bytes, D3DKMT_NODEMETADATA 142). */
#pragma pack(push, 1)
typedef struct _DXGK_NODEMETADATA_FLAGS {
	union {
		struct {
			UINT ContextSchedulingSupported : 1; /* 0x00000001 */
			UINT RingBufferFenceRelease : 1;     /* 0x00000002 */
			UINT SupportTrackedWorkload : 1;     /* 0x00000004 */
			UINT Reserved : 13;
			UINT MaxInFlightHwQueueBuffers : 16; /* 0xFFFF0000 */
		};
		UINT32 Value;
	};
} DXGK_NODEMETADATA_FLAGS;

typedef struct _DXGK_NODEMETADATA {
	DXGK_ENGINE_TYPE EngineType;
	WCHAR FriendlyName[DXGK_MAX_METADATA_NAME_LENGTH];
	DXGK_NODEMETADATA_FLAGS Flags;
	BOOLEAN GpuMmuSupported;
	BOOLEAN IoMmuSupported;
} DXGK_NODEMETADATA;

typedef struct _D3DKMT_NODEMETADATA {
	UINT NodeOrdinalAndAdapterIndex; /* in: high word adapter index, low word node ordinal */
	DXGK_NODEMETADATA NodeData;      /* out */
} D3DKMT_NODEMETADATA;
#pragma pack(pop)

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

typedef enum _DXGK_GENERAL_ERROR_CODE {
	DXGK_GENERAL_ERROR_PAGE_FAULT = 0,
	DXGK_GENERAL_ERROR_INVALID_INSTRUCTION = 1,
} DXGK_GENERAL_ERROR_CODE;

typedef struct _DXGK_FAULT_ERROR_CODE {
	union {
		struct {
			UINT IsDeviceSpecificCode : 1;
			/* A DXGK_GENERAL_ERROR_CODE (declared with the enum type by Microsoft;
			 * UINT keeps the same bits and is portable C). */
			UINT GeneralErrorCode : 31;
		};
		struct {
			UINT IsDeviceSpecificCodeReservedBit : 1;
			UINT DeviceSpecificCode : 31;
		};
	};
} DXGK_FAULT_ERROR_CODE;

#define DXGK_PRIMITIVE_API_SEQUENCE_NUMBER_UNKNOWN UINT64_MAX
#define DXGK_BIND_TABLE_ENTRY_UNKNOWN UINT32_MAX

/* ======================================================================== */
/* Thunk structures (d3dkmthk.h)                                              */
/* ======================================================================== */

/* ---- limits ------------------------------------------------------------- */

#define MAX_ENUM_ADAPTERS 16
#define D3DKMT_MAX_SEGMENT_COUNT 32
/*
 * Per-call maxima enforced by the Linux graphics kernel (dxgkrnl) for these
 * structures; they are not in libdxg's headers but in the kernel's user API
 * header (microsoft/WSL2-Linux-Kernel, include/uapi/misc/d3dkmthk.h).
 */
#define D3DKMT_CREATEALLOCATION_MAX 1024
#define D3DKMT_MAKERESIDENT_ALLOC_MAX (1024 * 10)
#define D3DKMT_ADAPTERS_MAX 64

/* ---- adapters ----------------------------------------------------------- */

typedef struct _D3DKMT_ADAPTERINFO {
	D3DKMT_HANDLE hAdapter;
	LUID AdapterLuid;
	ULONG NumOfSources;
	BOOL bPrecisePresentRegionsPreferred;
} D3DKMT_ADAPTERINFO;

typedef struct _D3DKMT_ENUMADAPTERS {
	ULONG NumAdapters;
	D3DKMT_ADAPTERINFO Adapters[MAX_ENUM_ADAPTERS];
} D3DKMT_ENUMADAPTERS;

typedef struct _D3DKMT_ENUMADAPTERS2 {
	ULONG NumAdapters;                                /* in: room in pAdapters; out: count */
	GPUSIM_KMT_PTR(D3DKMT_ADAPTERINFO *, pAdapters);  /* out; NULL asks for the count */
} D3DKMT_ENUMADAPTERS2;

typedef union _D3DKMT_ENUMADAPTERS_FILTER {
	struct {
		ULONGLONG IncludeComputeOnly : 1; /* 0x1 */
		ULONGLONG IncludeDisplayOnly : 1; /* 0x2 */
		ULONGLONG Reserved : 62;
	};
	GPUSIM_KMT_ALIGN8 ULONGLONG Value;
} D3DKMT_ENUMADAPTERS_FILTER;

typedef struct _D3DKMT_ENUMADAPTERS3 {
	D3DKMT_ENUMADAPTERS_FILTER Filter;
	ULONG NumAdapters;
	GPUSIM_KMT_PTR(D3DKMT_ADAPTERINFO *, pAdapters);
} D3DKMT_ENUMADAPTERS3;

typedef struct _D3DKMT_OPENADAPTERFROMLUID {
	LUID AdapterLuid;           /* in */
	D3DKMT_HANDLE hAdapter;     /* out */
} D3DKMT_OPENADAPTERFROMLUID;

typedef struct _D3DKMT_CLOSEADAPTER {
	D3DKMT_HANDLE hAdapter;
} D3DKMT_CLOSEADAPTER;

/* ---- adapter queries ---------------------------------------------------- */

typedef enum _KMTQUERYADAPTERINFOTYPE {
	KMTQAITYPE_UMDRIVERPRIVATE = 0,
	KMTQAITYPE_UMDRIVERNAME = 1,
	KMTQAITYPE_UMOPENGLINFO = 2,
	KMTQAITYPE_GETSEGMENTSIZE = 3,
	KMTQAITYPE_ADAPTERGUID = 4,
	KMTQAITYPE_FLIPQUEUEINFO = 5,
	KMTQAITYPE_ADAPTERADDRESS = 6,
	KMTQAITYPE_SETWORKINGSETINFO = 7,
	KMTQAITYPE_ADAPTERREGISTRYINFO = 8,
	KMTQAITYPE_CURRENTDISPLAYMODE = 9,
	KMTQAITYPE_MODELIST = 10,
	KMTQAITYPE_CHECKDRIVERUPDATESTATUS = 11,
	KMTQAITYPE_VIRTUALADDRESSINFO = 12,
	KMTQAITYPE_DRIVERVERSION = 13,
	KMTQAITYPE_ADAPTERTYPE = 15,
	KMTQAITYPE_OUTPUTDUPLCONTEXTSCOUNT = 16,
	KMTQAITYPE_WDDM_1_2_CAPS = 17,
	KMTQAITYPE_UMD_DRIVER_VERSION = 18,
	KMTQAITYPE_DIRECTFLIP_SUPPORT = 19,
	KMTQAITYPE_MULTIPLANEOVERLAY_SUPPORT = 20,
	KMTQAITYPE_DLIST_DRIVER_NAME = 21,
	KMTQAITYPE_WDDM_1_3_CAPS = 22,
	KMTQAITYPE_MULTIPLANEOVERLAY_HUD_SUPPORT = 23,
	KMTQAITYPE_WDDM_2_0_CAPS = 24,
	KMTQAITYPE_NODEMETADATA = 25,
	KMTQAITYPE_CPDRIVERNAME = 26,
	KMTQAITYPE_XBOX = 27,
	KMTQAITYPE_INDEPENDENTFLIP_SUPPORT = 28,
	KMTQAITYPE_MIRACASTCOMPANIONDRIVERNAME = 29,
	KMTQAITYPE_PHYSICALADAPTERCOUNT = 30,
	KMTQAITYPE_PHYSICALADAPTERDEVICEIDS = 31,
	KMTQAITYPE_DRIVERCAPS_EXT = 32,
	KMTQAITYPE_QUERY_MIRACAST_DRIVER_TYPE = 33,
	KMTQAITYPE_QUERY_GPUMMU_CAPS = 34,
	KMTQAITYPE_QUERY_MULTIPLANEOVERLAY_DECODE_SUPPORT = 35,
	KMTQAITYPE_QUERY_HW_PROTECTION_TEARDOWN_COUNT = 36,
	KMTQAITYPE_QUERY_ISBADDRIVERFORHWPROTECTIONDISABLED = 37,
	KMTQAITYPE_MULTIPLANEOVERLAY_SECONDARY_SUPPORT = 38,
	KMTQAITYPE_INDEPENDENTFLIP_SECONDARY_SUPPORT = 39,
	KMTQAITYPE_PANELFITTER_SUPPORT = 40,
	KMTQAITYPE_PHYSICALADAPTERPNPKEY = 41,
	KMTQAITYPE_GETSEGMENTGROUPSIZE = 42,
	KMTQAITYPE_MPO3DDI_SUPPORT = 43,
	KMTQAITYPE_HWDRM_SUPPORT = 44,
	KMTQAITYPE_MPOKERNELCAPS_SUPPORT = 45,
	KMTQAITYPE_MULTIPLANEOVERLAY_STRETCH_SUPPORT = 46,
	KMTQAITYPE_GET_DEVICE_VIDPN_OWNERSHIP_INFO = 47,
	KMTQAITYPE_QUERYREGISTRY = 48,
	KMTQAITYPE_KMD_DRIVER_VERSION = 49,
	KMTQAITYPE_BLOCKLIST_KERNEL = 50,
	KMTQAITYPE_BLOCKLIST_RUNTIME = 51,
	KMTQAITYPE_ADAPTERGUID_RENDER = 52,
	KMTQAITYPE_ADAPTERADDRESS_RENDER = 53,
	KMTQAITYPE_ADAPTERREGISTRYINFO_RENDER = 54,
	KMTQAITYPE_CHECKDRIVERUPDATESTATUS_RENDER = 55,
	KMTQAITYPE_DRIVERVERSION_RENDER = 56,
	KMTQAITYPE_ADAPTERTYPE_RENDER = 57,
	KMTQAITYPE_WDDM_1_2_CAPS_RENDER = 58,
	KMTQAITYPE_WDDM_1_3_CAPS_RENDER = 59,
	KMTQAITYPE_QUERY_ADAPTER_UNIQUE_GUID = 60,
	KMTQAITYPE_NODEPERFDATA = 61,
	KMTQAITYPE_ADAPTERPERFDATA = 62,
	KMTQAITYPE_ADAPTERPERFDATA_CAPS = 63,
	KMTQUITYPE_GPUVERSION = 64,          /* sic: Microsoft's spelling */
	KMTQAITYPE_DRIVER_DESCRIPTION = 65,
	KMTQAITYPE_DRIVER_DESCRIPTION_RENDER = 66,
	KMTQAITYPE_SCANOUT_CAPS = 67,
	KMTQAITYPE_PARAVIRTUALIZATION_RENDER = 68,
	KMTQAITYPE_SERVICENAME = 69,
	KMTQAITYPE_WDDM_2_7_CAPS = 70,
	KMTQAITYPE_DISPLAY_UMDRIVERNAME = 71,
	KMTQAITYPE_TRACKEDWORKLOAD_SUPPORT = 72,
	KMTQAITYPE_HYBRID_DLIST_DLL_SUPPORT = 73,
	KMTQAITYPE_DISPLAY_CAPS = 74,
	KMTQAITYPE_WDDM_2_9_CAPS = 75,
	KMTQAITYPE_CROSSADAPTERRESOURCE_SUPPORT = 76,
	KMTQAITYPE_WDDM_3_0_CAPS = 77,
} KMTQUERYADAPTERINFOTYPE;

typedef struct _D3DKMT_QUERYADAPTERINFO {
	D3DKMT_HANDLE hAdapter;
	KMTQUERYADAPTERINFOTYPE Type;
	GPUSIM_KMT_PTR(VOID *, pPrivateDriverData);  /* the answer's buffer */
	UINT PrivateDriverDataSize;                  /* its size: must be exactly the answer's */
} D3DKMT_QUERYADAPTERINFO;

/* KMTQAITYPE_GETSEGMENTSIZE */
typedef struct _D3DKMT_SEGMENTSIZEINFO {
	GPUSIM_KMT_ALIGN8 ULONGLONG DedicatedVideoMemorySize;
	GPUSIM_KMT_ALIGN8 ULONGLONG DedicatedSystemMemorySize;
	GPUSIM_KMT_ALIGN8 ULONGLONG SharedSystemMemorySize;
} D3DKMT_SEGMENTSIZEINFO;

/* KMTQAITYPE_GETSEGMENTGROUPSIZE */
typedef struct _D3DKMT_SEGMENTGROUPSIZEINFO {
	UINT32 PhysicalAdapterIndex;
	D3DKMT_SEGMENTSIZEINFO LegacyInfo;
	GPUSIM_KMT_ALIGN8 ULONGLONG LocalMemory;
	GPUSIM_KMT_ALIGN8 ULONGLONG NonLocalMemory;
	GPUSIM_KMT_ALIGN8 ULONGLONG NonBudgetMemory;
} D3DKMT_SEGMENTGROUPSIZEINFO;

/* KMTQAITYPE_ADAPTERADDRESS */
typedef struct _D3DKMT_ADAPTERADDRESS {
	UINT BusNumber;
	UINT DeviceNumber;
	UINT FunctionNumber;
} D3DKMT_ADAPTERADDRESS;

/* KMTQAITYPE_DRIVERVERSION answers one of these (as a 4-byte enum). */
typedef enum _QAI_DRIVERVERSION {
	KMT_DRIVERVERSION_WDDM_1_0 = 1000,
	KMT_DRIVERVERSION_WDDM_1_1_PRERELEASE = 1102,
	KMT_DRIVERVERSION_WDDM_1_1 = 1105,
	KMT_DRIVERVERSION_WDDM_1_2 = 1200,
	KMT_DRIVERVERSION_WDDM_1_3 = 1300,
	KMT_DRIVERVERSION_WDDM_2_0 = 2000,
	KMT_DRIVERVERSION_WDDM_2_1 = 2100,
	KMT_DRIVERVERSION_WDDM_2_2 = 2200,
	KMT_DRIVERVERSION_WDDM_2_3 = 2300,
	KMT_DRIVERVERSION_WDDM_2_4 = 2400,
	KMT_DRIVERVERSION_WDDM_2_5 = 2500,
	KMT_DRIVERVERSION_WDDM_2_6 = 2600,
	KMT_DRIVERVERSION_WDDM_2_7 = 2700,
	KMT_DRIVERVERSION_WDDM_2_8 = 2800,
	KMT_DRIVERVERSION_WDDM_2_9 = 2900,
	KMT_DRIVERVERSION_WDDM_3_0 = 3000
} D3DKMT_DRIVERVERSION;

/* KMTQAITYPE_ADAPTERTYPE */
typedef struct _D3DKMT_ADAPTERTYPE {
	union {
		struct {
			UINT RenderSupported : 1;            /* 0x00000001 */
			UINT DisplaySupported : 1;           /* 0x00000002 */
			UINT SoftwareDevice : 1;             /* 0x00000004 */
			UINT PostDevice : 1;                 /* 0x00000008 */
			UINT HybridDiscrete : 1;             /* 0x00000010 */
			UINT HybridIntegrated : 1;           /* 0x00000020 */
			UINT IndirectDisplayDevice : 1;      /* 0x00000040 */
			UINT Paravirtualized : 1;            /* 0x00000080 */
			UINT ACGSupported : 1;               /* 0x00000100 */
			UINT SupportSetTimingsFromVidPn : 1; /* 0x00000200 */
			UINT Detachable : 1;                 /* 0x00000400 */
			UINT ComputeOnly : 1;                /* 0x00000800 */
			UINT Prototype : 1;                  /* 0x00001000 */
			UINT RuntimePowerManagement : 1;     /* 0x00002000 */
			UINT Reserved : 18;
		};
		UINT Value;
	};
} D3DKMT_ADAPTERTYPE;

/* KMTQAITYPE_UMD_DRIVER_VERSION / KMTQAITYPE_KMD_DRIVER_VERSION */
typedef struct _D3DKMT_UMD_DRIVER_VERSION {
	GPUSIM_KMT_ALIGN8 LARGE_INTEGER DriverVersion;
} D3DKMT_UMD_DRIVER_VERSION;

typedef struct _D3DKMT_KMD_DRIVER_VERSION {
	GPUSIM_KMT_ALIGN8 LARGE_INTEGER DriverVersion;
} D3DKMT_KMD_DRIVER_VERSION;

/* KMTQAITYPE_PHYSICALADAPTERCOUNT */
typedef struct _D3DKMT_PHYSICAL_ADAPTER_COUNT {
	UINT Count;
} D3DKMT_PHYSICAL_ADAPTER_COUNT;

typedef struct _D3DKMT_DEVICE_IDS {
	UINT VendorID;
	UINT DeviceID;
	UINT SubVendorID;
	UINT SubSystemID;
	UINT RevisionID;
	UINT BusType;
} D3DKMT_DEVICE_IDS;

/* KMTQAITYPE_PHYSICALADAPTERDEVICEIDS */
typedef struct _D3DKMT_QUERY_DEVICE_IDS {
	UINT PhysicalAdapterIndex;   /* in */
	D3DKMT_DEVICE_IDS DeviceIds; /* out */
} D3DKMT_QUERY_DEVICE_IDS;

/* KMTQAITYPE_DRIVER_DESCRIPTION (_RENDER): 4096 wide characters, 16 KiB on Linux. */
typedef struct _D3DKMT_DRIVER_DESCRIPTION {
	WCHAR DriverDescription[4096];
} D3DKMT_DRIVER_DESCRIPTION;

/* ---- devices and contexts ----------------------------------------------- */

typedef struct _D3DKMT_CREATEDEVICEFLAGS {
	UINT LegacyMode : 1;        /* 0x00000001 */
	UINT RequestVSync : 1;      /* 0x00000002 */
	UINT DisableGpuTimeout : 1; /* 0x00000004 */
	UINT Reserved : 29;
} D3DKMT_CREATEDEVICEFLAGS;

typedef struct _D3DKMT_CREATEDEVICE {
	union {
		D3DKMT_HANDLE hAdapter;      /* in, from user mode */
		VOID *pAdapter;              /* in, from kernel mode */
		GPUSIM_KMT_ALIGN8 UINT64 pAdapter_Align;
	};
	D3DKMT_CREATEDEVICEFLAGS Flags;
	D3DKMT_HANDLE hDevice;                                        /* out */
	GPUSIM_KMT_PTR(VOID *, pCommandBuffer);                       /* out, legacy */
	UINT CommandBufferSize;
	GPUSIM_KMT_PTR(D3DDDI_ALLOCATIONLIST *, pAllocationList);     /* out, legacy */
	UINT AllocationListSize;
	GPUSIM_KMT_PTR(D3DDDI_PATCHLOCATIONLIST *, pPatchLocationList); /* out, legacy */
	UINT PatchLocationListSize;
} D3DKMT_CREATEDEVICE;

typedef struct _D3DKMT_DESTROYDEVICE {
	D3DKMT_HANDLE hDevice;
} D3DKMT_DESTROYDEVICE;

typedef enum _D3DKMT_CLIENTHINT {
	D3DKMT_CLIENTHINT_UNKNOWN = 0,
	D3DKMT_CLIENTHINT_OPENGL = 1,
	D3DKMT_CLIENTHINT_CDD = 2,
	D3DKMT_CLIENTHINT_OPENCL = 3,
	D3DKMT_CLIENTHINT_VULKAN = 4,
	D3DKMT_CLIENTHINT_CUDA = 5,
	D3DKMT_CLIENTHINT_RESERVED = 6,
	D3DKMT_CLIENTHINT_DX7 = 7,
	D3DKMT_CLIENTHINT_DX8 = 8,
	D3DKMT_CLIENTHINT_DX9 = 9,
	D3DKMT_CLIENTHINT_DX10 = 10,
	D3DKMT_CLIENTHINT_DX11 = 11,
	D3DKMT_CLIENTHINT_DX12 = 12,
	D3DKMT_CLIENTHINT_9ON12 = 13,
	D3DKMT_CLIENTHINT_11ON12 = 14,
	D3DKMT_CLIENTHINT_MFT_ENCODE = 15,
	D3DKMT_CLIENTHINT_GLON12 = 16,
	D3DKMT_CLIENTHINT_CLON12 = 17,
	D3DKMT_CLIENTHINT_DML_TENSORFLOW = 18,
	D3DKMT_CLIENTHINT_ONEAPI_LEVEL0 = 19,
	D3DKMT_CLIENTHINT_MAX
} D3DKMT_CLIENTHINT;

typedef struct _D3DKMT_CREATECONTEXT {
	D3DKMT_HANDLE hDevice;                                        /* in */
	UINT NodeOrdinal;                                             /* in: engine node */
	UINT EngineAffinity;                                          /* in */
	D3DDDI_CREATECONTEXTFLAGS Flags;                              /* in */
	GPUSIM_KMT_PTR(VOID *, pPrivateDriverData);                   /* in */
	UINT PrivateDriverDataSize;                                   /* in */
	D3DKMT_CLIENTHINT ClientHint;                                 /* in */
	D3DKMT_HANDLE hContext;                                       /* out */
	GPUSIM_KMT_PTR(VOID *, pCommandBuffer);                       /* out: first command buffer */
	UINT CommandBufferSize;                                       /* out: bytes */
	GPUSIM_KMT_PTR(D3DDDI_ALLOCATIONLIST *, pAllocationList);     /* out */
	UINT AllocationListSize;                                      /* out: entries */
	GPUSIM_KMT_PTR(D3DDDI_PATCHLOCATIONLIST *, pPatchLocationList); /* out */
	UINT PatchLocationListSize;                                   /* out: entries */
	D3DGPU_VIRTUAL_ADDRESS CommandBuffer;                         /* out */
} D3DKMT_CREATECONTEXT;

/* ---- GPU virtual addresses (WDDM 2.0) ----------------------------------- */

typedef struct _D3DDDIGPUVIRTUALADDRESS_PROTECTION_TYPE {
	union {
		struct {
			UINT64 Write : 1;          /* 0x1 */
			UINT64 Execute : 1;        /* 0x2 */
			UINT64 Zero : 1;           /* 0x4 */
			UINT64 NoAccess : 1;       /* 0x8 */
			UINT64 SystemUseOnly : 1;  /* 0x10: not for the user-mode driver */
			UINT64 Reserved : 59;
		};
		GPUSIM_KMT_ALIGN8 UINT64 Value;
	};
} D3DDDIGPUVIRTUALADDRESS_PROTECTION_TYPE;

typedef enum _D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION_TYPE {
	D3DDDI_UPDATEGPUVIRTUALADDRESS_MAP = 0,
	D3DDDI_UPDATEGPUVIRTUALADDRESS_UNMAP = 1,
	D3DDDI_UPDATEGPUVIRTUALADDRESS_COPY = 2,
	D3DDDI_UPDATEGPUVIRTUALADDRESS_MAP_PROTECT = 3,
} D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION_TYPE;

typedef struct _D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION {
	D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION_TYPE OperationType;
	union {
		struct {
			GPUSIM_KMT_ALIGN8 D3DGPU_VIRTUAL_ADDRESS BaseAddress;
			GPUSIM_KMT_ALIGN8 D3DGPU_SIZE_T SizeInBytes;
			D3DKMT_HANDLE hAllocation;
			GPUSIM_KMT_ALIGN8 D3DGPU_SIZE_T AllocationOffsetInBytes;
			GPUSIM_KMT_ALIGN8 D3DGPU_SIZE_T AllocationSizeInBytes;
		} Map;
		struct {
			GPUSIM_KMT_ALIGN8 D3DGPU_VIRTUAL_ADDRESS BaseAddress;
			GPUSIM_KMT_ALIGN8 D3DGPU_SIZE_T SizeInBytes;
			D3DKMT_HANDLE hAllocation;
			GPUSIM_KMT_ALIGN8 D3DGPU_SIZE_T AllocationOffsetInBytes;
			GPUSIM_KMT_ALIGN8 D3DGPU_SIZE_T AllocationSizeInBytes;
			D3DDDIGPUVIRTUALADDRESS_PROTECTION_TYPE Protection;
			GPUSIM_KMT_ALIGN8 UINT64 DriverProtection;
		} MapProtect;
		struct {
			GPUSIM_KMT_ALIGN8 D3DGPU_VIRTUAL_ADDRESS BaseAddress;
			GPUSIM_KMT_ALIGN8 D3DGPU_SIZE_T SizeInBytes;
			D3DDDIGPUVIRTUALADDRESS_PROTECTION_TYPE Protection;
		} Unmap; /* also what an unmap to no-access reads */
		struct {
			GPUSIM_KMT_ALIGN8 D3DGPU_VIRTUAL_ADDRESS SourceAddress;
			GPUSIM_KMT_ALIGN8 D3DGPU_SIZE_T SizeInBytes;
			GPUSIM_KMT_ALIGN8 D3DGPU_VIRTUAL_ADDRESS DestAddress;
		} Copy;
	};
} D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION;

typedef enum _D3DDDIGPUVIRTUALADDRESS_RESERVATION_TYPE {
	D3DDDIGPUVIRTUALADDRESS_RESERVE_NO_ACCESS = 0,
	D3DDDIGPUVIRTUALADDRESS_RESERVE_ZERO = 1,
	D3DDDIGPUVIRTUALADDRESS_RESERVE_NO_COMMIT = 2, /* the system's */
} D3DDDIGPUVIRTUALADDRESS_RESERVATION_TYPE;

typedef struct D3DDDI_MAPGPUVIRTUALADDRESS {
	D3DKMT_HANDLE hPagingQueue;                                 /* in */
	GPUSIM_KMT_ALIGN8 D3DGPU_VIRTUAL_ADDRESS BaseAddress;       /* in, optional */
	GPUSIM_KMT_ALIGN8 D3DGPU_VIRTUAL_ADDRESS MinimumAddress;    /* in, optional */
	GPUSIM_KMT_ALIGN8 D3DGPU_VIRTUAL_ADDRESS MaximumAddress;    /* in, optional */
	D3DKMT_HANDLE hAllocation;                                  /* in */
	GPUSIM_KMT_ALIGN8 D3DGPU_SIZE_T OffsetInPages;              /* in: 4 KiB pages */
	GPUSIM_KMT_ALIGN8 D3DGPU_SIZE_T SizeInPages;                /* in: 4 KiB pages */
	D3DDDIGPUVIRTUALADDRESS_PROTECTION_TYPE Protection;         /* in */
	GPUSIM_KMT_ALIGN8 UINT64 DriverProtection;                  /* in */
	UINT Reserved0;
	GPUSIM_KMT_ALIGN8 UINT64 Reserved1;
	GPUSIM_KMT_ALIGN8 D3DGPU_VIRTUAL_ADDRESS VirtualAddress;    /* out */
	GPUSIM_KMT_ALIGN8 UINT64 PagingFenceValue;                  /* out */
} D3DDDI_MAPGPUVIRTUALADDRESS;

typedef struct D3DDDI_RESERVEGPUVIRTUALADDRESS {
	union {
		D3DKMT_HANDLE hPagingQueue;                         /* in */
		D3DKMT_HANDLE hAdapter;                             /* in (M2) */
	};
	GPUSIM_KMT_ALIGN8 D3DGPU_VIRTUAL_ADDRESS BaseAddress;       /* in, optional */
	GPUSIM_KMT_ALIGN8 D3DGPU_VIRTUAL_ADDRESS MinimumAddress;    /* in, optional */
	GPUSIM_KMT_ALIGN8 D3DGPU_VIRTUAL_ADDRESS MaximumAddress;    /* in, optional */
	GPUSIM_KMT_ALIGN8 D3DGPU_SIZE_T Size;                       /* in: bytes */
	union {
		D3DDDIGPUVIRTUALADDRESS_RESERVATION_TYPE ReservationType; /* in */
		UINT Reserved0;                                     /* M2 */
	};
	union {
		GPUSIM_KMT_ALIGN8 UINT64 DriverProtection;          /* in */
		GPUSIM_KMT_ALIGN8 UINT64 Reserved1;                 /* M2 */
	};
	GPUSIM_KMT_ALIGN8 D3DGPU_VIRTUAL_ADDRESS VirtualAddress;    /* out */
	union {
		GPUSIM_KMT_ALIGN8 UINT64 PagingFenceValue;          /* out */
		GPUSIM_KMT_ALIGN8 UINT64 Reserved2;                 /* M2 */
	};
} D3DDDI_RESERVEGPUVIRTUALADDRESS;

typedef struct _D3DKMT_FREEGPUVIRTUALADDRESS {
	D3DKMT_HANDLE hAdapter;                                     /* in */
	GPUSIM_KMT_ALIGN8 D3DGPU_VIRTUAL_ADDRESS BaseAddress;       /* in */
	GPUSIM_KMT_ALIGN8 D3DGPU_SIZE_T Size;                       /* in: bytes */
} D3DKMT_FREEGPUVIRTUALADDRESS;

typedef struct _D3DKMT_UPDATEGPUVIRTUALADDRESS {
	D3DKMT_HANDLE hDevice;
	D3DKMT_HANDLE hContext;
	D3DKMT_HANDLE hFenceObject;
	UINT NumOperations;
	GPUSIM_KMT_PTR(D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION *, Operations);
	GPUSIM_KMT_ALIGN8 D3DKMT_SIZE_T Reserved0;
	GPUSIM_KMT_ALIGN8 UINT64 Reserved1;
	GPUSIM_KMT_ALIGN8 UINT64 FenceValue;
	union {
		struct {
			UINT DoNotWait : 1;    /* 0x00000001 */
			UINT Reserved : 31;
		};
		UINT Value;
	} Flags;
} D3DKMT_UPDATEGPUVIRTUALADDRESS;

typedef struct _D3DKMT_SUBMITCOMMANDFLAGS {
	UINT NullRendering : 1;     /* 0x00000001 */
	UINT PresentRedirected : 1; /* 0x00000002 */
	UINT NoKmdAccess : 1;       /* 0x00000004 */
	UINT Reserved : 29;
} D3DKMT_SUBMITCOMMANDFLAGS;

typedef struct _D3DKMT_SUBMITCOMMAND {
	GPUSIM_KMT_ALIGN8 D3DGPU_VIRTUAL_ADDRESS Commands;          /* in: GPU VA of the commands */
	UINT CommandLength;                                         /* in: bytes */
	D3DKMT_SUBMITCOMMANDFLAGS Flags;
	GPUSIM_KMT_ALIGN8 ULONGLONG PresentHistoryToken;
	UINT BroadcastContextCount;
	D3DKMT_HANDLE BroadcastContext[D3DDDI_MAX_BROADCAST_CONTEXT];
	GPUSIM_KMT_PTR(VOID *, pPrivateDriverData);
	UINT PrivateDriverDataSize;
	UINT NumPrimaries;
	D3DKMT_HANDLE WrittenPrimaries[D3DDDI_MAX_WRITTEN_PRIMARIES];
	UINT NumHistoryBuffers;
	GPUSIM_KMT_PTR(D3DKMT_HANDLE *, HistoryBufferArray);
} D3DKMT_SUBMITCOMMAND;

typedef struct _D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU {
	D3DKMT_HANDLE hContext;
	UINT ObjectCount;
	GPUSIM_KMT_PTR(const D3DKMT_HANDLE *, ObjectHandleArray);
	union {
		const UINT64 *MonitoredFenceValueArray;
		GPUSIM_KMT_ALIGN8 UINT64 FenceValue;
		GPUSIM_KMT_ALIGN8 UINT64 Reserved[8];
	};
} D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU;

typedef struct _D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU {
	D3DKMT_HANDLE hContext;
	UINT ObjectCount;
	GPUSIM_KMT_PTR(const D3DKMT_HANDLE *, ObjectHandleArray);
	union {
		const UINT64 *MonitoredFenceValueArray;
		GPUSIM_KMT_ALIGN8 UINT64 Reserved[8];
	};
} D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU;

typedef struct _D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2 {
	UINT ObjectCount;
	GPUSIM_KMT_PTR(const D3DKMT_HANDLE *, ObjectHandleArray);
	D3DDDICB_SIGNALFLAGS Flags;
	ULONG BroadcastContextCount;
	GPUSIM_KMT_PTR(const D3DKMT_HANDLE *, BroadcastContextArray);
	union {
		GPUSIM_KMT_ALIGN8 UINT64 FenceValue;
		HANDLE CpuEventHandle;
		const UINT64 *MonitoredFenceValueArray;
		GPUSIM_KMT_ALIGN8 UINT64 Reserved[8];
	};
} D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2;

typedef struct _D3DKMT_CREATECONTEXTVIRTUAL {
	D3DKMT_HANDLE hDevice;
	UINT NodeOrdinal;
	UINT EngineAffinity;
	D3DDDI_CREATECONTEXTFLAGS Flags;
	GPUSIM_KMT_PTR(VOID *, pPrivateDriverData);
	UINT PrivateDriverDataSize;
	D3DKMT_CLIENTHINT ClientHint;
	D3DKMT_HANDLE hContext;                                       /* out */
} D3DKMT_CREATECONTEXTVIRTUAL;

typedef struct _D3DKMT_DESTROYCONTEXT {
	D3DKMT_HANDLE hContext;
} D3DKMT_DESTROYCONTEXT;

/* ---- device state ------------------------------------------------------- */

typedef enum _D3DKMT_DEVICEEXECUTION_STATE {
	D3DKMT_DEVICEEXECUTION_ACTIVE = 1,
	D3DKMT_DEVICEEXECUTION_RESET = 2,
	D3DKMT_DEVICEEXECUTION_HUNG = 3,
	D3DKMT_DEVICEEXECUTION_STOPPED = 4,
	D3DKMT_DEVICEEXECUTION_ERROR_OUTOFMEMORY = 5,
	D3DKMT_DEVICEEXECUTION_ERROR_DMAFAULT = 6,
	D3DKMT_DEVICEEXECUTION_ERROR_DMAPAGEFAULT = 7,
} D3DKMT_DEVICEEXECUTION_STATE;

typedef struct _D3DKMT_DEVICERESET_STATE {
	union {
		struct {
			UINT DesktopSwitched : 1; /* 0x00000001 */
			UINT Reserved : 31;
		};
		UINT Value;
	};
} D3DKMT_DEVICERESET_STATE;

typedef struct _D3DKMT_PRESENT_STATS {
	UINT PresentCount;
	UINT PresentRefreshCount;
	UINT SyncRefreshCount;
	GPUSIM_KMT_ALIGN8 LARGE_INTEGER SyncQPCTime;
	GPUSIM_KMT_ALIGN8 LARGE_INTEGER SyncGPUTime;
} D3DKMT_PRESENT_STATS;

typedef struct _D3DKMT_DEVICEPRESENT_STATE {
	D3DDDI_VIDEO_PRESENT_SOURCE_ID VidPnSourceId;
	D3DKMT_PRESENT_STATS PresentStats;
} D3DKMT_DEVICEPRESENT_STATE;

typedef struct _D3DKMT_PRESENT_STATS_DWM {
	UINT PresentCount;
	UINT PresentRefreshCount;
	GPUSIM_KMT_ALIGN8 LARGE_INTEGER PresentQPCTime;
	UINT SyncRefreshCount;
	GPUSIM_KMT_ALIGN8 LARGE_INTEGER SyncQPCTime;
	UINT CustomPresentDuration;
} D3DKMT_PRESENT_STATS_DWM;

typedef struct _D3DKMT_DEVICEPAGEFAULT_STATE {
	GPUSIM_KMT_ALIGN8 UINT64 FaultedPrimitiveAPISequenceNumber;
	DXGK_RENDER_PIPELINE_STAGE FaultedPipelineStage;
	UINT FaultedBindTableEntry;
	DXGK_PAGE_FAULT_FLAGS PageFaultFlags;
	DXGK_FAULT_ERROR_CODE FaultErrorCode;
	GPUSIM_KMT_ALIGN8 D3DGPU_VIRTUAL_ADDRESS FaultedVirtualAddress;
} D3DKMT_DEVICEPAGEFAULT_STATE;

typedef struct _D3DKMT_DEVICEPRESENT_STATE_DWM {
	D3DDDI_VIDEO_PRESENT_SOURCE_ID VidPnSourceId;
	D3DKMT_PRESENT_STATS_DWM PresentStatsDWM;
} D3DKMT_DEVICEPRESENT_STATE_DWM;

typedef struct _D3DKMT_DEVICEPRESENT_QUEUE_STATE {
	D3DDDI_VIDEO_PRESENT_SOURCE_ID VidPnSourceId;
	BOOLEAN bQueuedPresentLimitReached;
} D3DKMT_DEVICEPRESENT_QUEUE_STATE;

typedef enum _D3DKMT_DEVICESTATE_TYPE {
	D3DKMT_DEVICESTATE_EXECUTION = 1,
	D3DKMT_DEVICESTATE_PRESENT = 2,
	D3DKMT_DEVICESTATE_RESET = 3,
	D3DKMT_DEVICESTATE_PRESENT_DWM = 4,
	D3DKMT_DEVICESTATE_PAGE_FAULT = 5,
	D3DKMT_DEVICESTATE_PRESENT_QUEUE = 6,
} D3DKMT_DEVICESTATE_TYPE;

typedef struct _D3DKMT_GETDEVICESTATE {
	D3DKMT_HANDLE hDevice;              /* in */
	D3DKMT_DEVICESTATE_TYPE StateType;  /* in: selects the union member */
	union {
		D3DKMT_DEVICEEXECUTION_STATE ExecutionState;
		D3DKMT_DEVICEPRESENT_STATE PresentState;
		D3DKMT_DEVICERESET_STATE ResetState;
		D3DKMT_DEVICEPRESENT_STATE_DWM PresentStateDWM;
		D3DKMT_DEVICEPAGEFAULT_STATE PageFaultState;
		D3DKMT_DEVICEPRESENT_QUEUE_STATE PresentQueueState;
	};
} D3DKMT_GETDEVICESTATE;

/* ---- allocations and resources ------------------------------------------ */

typedef enum _D3DKMT_STANDARDALLOCATIONTYPE {
	D3DKMT_STANDARDALLOCATIONTYPE_EXISTINGHEAP = 1,
	D3DKMT_STANDARDALLOCATIONTYPE_INTERNALBACKINGSTORE = 2,
	D3DKMT_STANDARDALLOCATIONTYPE_MAX,
} D3DKMT_STANDARDALLOCATIONTYPE;

typedef struct _D3DKMT_STANDARDALLOCATION_EXISTINGHEAP {
	GPUSIM_KMT_ALIGN8 D3DKMT_SIZE_T Size;
} D3DKMT_STANDARDALLOCATION_EXISTINGHEAP;

typedef struct _D3DKMT_CREATESTANDARDALLOCATIONFLAGS {
	union {
		struct {
			UINT Reserved : 32;
		};
		UINT Value;
	};
} D3DKMT_CREATESTANDARDALLOCATIONFLAGS;

typedef struct _D3DKMT_CREATESTANDARDALLOCATION {
	D3DKMT_STANDARDALLOCATIONTYPE Type;
	union {
		D3DKMT_STANDARDALLOCATION_EXISTINGHEAP ExistingHeapData;
	};
	D3DKMT_CREATESTANDARDALLOCATIONFLAGS Flags;
} D3DKMT_CREATESTANDARDALLOCATION;

typedef struct _D3DKMT_CREATEALLOCATIONFLAGS {
	UINT CreateResource : 1;        /* 0x00000001 */
	UINT CreateShared : 1;          /* 0x00000002 */
	UINT NonSecure : 1;             /* 0x00000004 */
	UINT CreateProtected : 1;       /* 0x00000008, kernel mode only */
	UINT RestrictSharedAccess : 1;  /* 0x00000010 */
	UINT ExistingSysMem : 1;        /* 0x00000020, kernel mode only */
	UINT NtSecuritySharing : 1;     /* 0x00000040 */
	UINT ReadOnly : 1;              /* 0x00000080 */
	UINT CreateWriteCombined : 1;   /* 0x00000100, kernel mode only */
	UINT CreateCached : 1;          /* 0x00000200, kernel mode only */
	UINT SwapChainBackBuffer : 1;   /* 0x00000400 */
	UINT CrossAdapter : 1;          /* 0x00000800 */
	UINT OpenCrossAdapter : 1;      /* 0x00001000, kernel mode only */
	UINT PartialSharedCreation : 1; /* 0x00002000 */
	UINT Zeroed : 1;                /* 0x00004000, out */
	UINT WriteWatch : 1;            /* 0x00008000 */
	UINT StandardAllocation : 1;    /* 0x00010000: pStandardAllocation is used */
	UINT ExistingSection : 1;       /* 0x00020000: hSection is used */
	UINT AllowNotZeroed : 1;        /* 0x00040000 */
	UINT PhysicallyContiguous : 1;  /* 0x00080000 */
	UINT NoKmdAccess : 1;           /* 0x00100000 */
	UINT SharedDisplayable : 1;     /* 0x00200000 */
	UINT Reserved : 10;             /* 0xFFC00000 */
} D3DKMT_CREATEALLOCATIONFLAGS;

typedef struct _D3DKMT_CREATEALLOCATION {
	D3DKMT_HANDLE hDevice;
	D3DKMT_HANDLE hResource;       /* in/out: 0, or the resource to add to / create */
	D3DKMT_HANDLE hGlobalShare;    /* out: with CreateShared without NtSecuritySharing */
	GPUSIM_KMT_PTR(CONST VOID *, pPrivateRuntimeData);
	UINT PrivateRuntimeDataSize;
	union {
		D3DKMT_CREATESTANDARDALLOCATION *pStandardAllocation;
		CONST VOID *pPrivateDriverData;       /* the resource's private data */
		GPUSIM_KMT_ALIGN8 UINT64 AlignUnionTo64_1;
	};
	UINT PrivateDriverDataSize;
	UINT NumAllocations;
	union {
		D3DDDI_ALLOCATIONINFO *pAllocationInfo;
		D3DDDI_ALLOCATIONINFO2 *pAllocationInfo2;  /* the one CreateAllocation2 uses */
		GPUSIM_KMT_ALIGN8 UINT64 AlignUnionTo64_2;
	};
	D3DKMT_CREATEALLOCATIONFLAGS Flags;
	GPUSIM_KMT_PTR(HANDLE, hPrivateRuntimeResourceHandle);
} D3DKMT_CREATEALLOCATION;

typedef struct _D3DKMT_OPENRESOURCE {
	D3DKMT_HANDLE hDevice;          /* in */
	D3DKMT_HANDLE hGlobalShare;     /* in */
	UINT NumAllocations;            /* in */
	union {
		D3DDDI_OPENALLOCATIONINFO *pOpenAllocationInfo;
		D3DDDI_OPENALLOCATIONINFO2 *pOpenAllocationInfo2;
		GPUSIM_KMT_ALIGN8 UINT64 AlignUnionTo64;
	};
	GPUSIM_KMT_PTR(VOID *, pPrivateRuntimeData);
	UINT PrivateRuntimeDataSize;
	GPUSIM_KMT_PTR(VOID *, pResourcePrivateDriverData);
	UINT ResourcePrivateDriverDataSize;
	GPUSIM_KMT_PTR(VOID *, pTotalPrivateDriverDataBuffer);
	UINT TotalPrivateDriverDataBufferSize;  /* in: buffer size; out: bytes written */
	D3DKMT_HANDLE hResource;                /* out */
} D3DKMT_OPENRESOURCE;

typedef struct _D3DKMT_QUERYRESOURCEINFO {
	D3DKMT_HANDLE hDevice;
	D3DKMT_HANDLE hGlobalShare;
	GPUSIM_KMT_PTR(VOID *, pPrivateRuntimeData);
	UINT PrivateRuntimeDataSize;            /* in/out */
	UINT TotalPrivateDriverDataSize;        /* out */
	UINT ResourcePrivateDriverDataSize;     /* out */
	UINT NumAllocations;                    /* out */
} D3DKMT_QUERYRESOURCEINFO;

typedef struct _D3DKMT_DESTROYALLOCATION {
	D3DKMT_HANDLE hDevice;
	D3DKMT_HANDLE hResource;
	GPUSIM_KMT_PTR(CONST D3DKMT_HANDLE *, phAllocationList);
	UINT AllocationCount;
} D3DKMT_DESTROYALLOCATION;

typedef struct _D3DKMT_DESTROYALLOCATION2 {
	D3DKMT_HANDLE hDevice;
	D3DKMT_HANDLE hResource;
	GPUSIM_KMT_PTR(CONST D3DKMT_HANDLE *, phAllocationList);
	UINT AllocationCount;
	D3DDDICB_DESTROYALLOCATION2FLAGS Flags;
} D3DKMT_DESTROYALLOCATION2;

/* ---- CPU access --------------------------------------------------------- */

typedef struct _D3DKMT_LOCK {
	D3DKMT_HANDLE hDevice;
	D3DKMT_HANDLE hAllocation;
	UINT PrivateDriverData;
	UINT NumPages;
	GPUSIM_KMT_PTR(CONST UINT *, pPages);
	GPUSIM_KMT_PTR(VOID *, pData);                /* out */
	D3DDDICB_LOCKFLAGS Flags;
	D3DGPU_VIRTUAL_ADDRESS GpuVirtualAddress;     /* out */
} D3DKMT_LOCK;

typedef struct _D3DKMT_UNLOCK {
	D3DKMT_HANDLE hDevice;
	UINT NumAllocations;
	GPUSIM_KMT_PTR(CONST D3DKMT_HANDLE *, phAllocations);
} D3DKMT_UNLOCK;

typedef struct _D3DKMT_LOCK2 {
	D3DKMT_HANDLE hDevice;
	D3DKMT_HANDLE hAllocation;
	D3DDDICB_LOCK2FLAGS Flags;
	GPUSIM_KMT_PTR(PVOID, pData);                 /* out */
} D3DKMT_LOCK2;

typedef struct _D3DKMT_UNLOCK2 {
	D3DKMT_HANDLE hDevice;
	D3DKMT_HANDLE hAllocation;
} D3DKMT_UNLOCK2;

/* ---- residency ---------------------------------------------------------- */

typedef struct _D3DKMT_EVICT {
	D3DKMT_HANDLE hDevice;
	UINT NumAllocations;
	GPUSIM_KMT_PTR(CONST D3DKMT_HANDLE *, AllocationList);
	D3DDDI_EVICT_FLAGS Flags;
	GPUSIM_KMT_ALIGN8 UINT64 NumBytesToTrim;      /* out */
} D3DKMT_EVICT;

/* ---- paging queues and monitored fences from the CPU (WDDM 2.0) ----------- */

/* A wait that can never be satisfied (ntstatus.h): see kmt/README.md. */
#ifndef STATUS_POSSIBLE_DEADLOCK
#define STATUS_POSSIBLE_DEADLOCK ((NTSTATUS)0xC0000194L)
#endif

typedef enum D3DDDI_PAGINGQUEUE_PRIORITY {
	D3DDDI_PAGINGQUEUE_PRIORITY_BELOW_NORMAL = -1,
	D3DDDI_PAGINGQUEUE_PRIORITY_NORMAL = 0,
	D3DDDI_PAGINGQUEUE_PRIORITY_ABOVE_NORMAL = 1,
} D3DDDI_PAGINGQUEUE_PRIORITY;

typedef struct _D3DKMT_CREATEPAGINGQUEUE {
	D3DKMT_HANDLE hDevice;
	D3DDDI_PAGINGQUEUE_PRIORITY Priority;
	D3DKMT_HANDLE hPagingQueue;                             /* out */
	D3DKMT_HANDLE hSyncObject;                              /* out: its paging fence */
	GPUSIM_KMT_PTR(VOID *, FenceValueCPUVirtualAddress);    /* out: read-only */
	UINT PhysicalAdapterIndex;
} D3DKMT_CREATEPAGINGQUEUE;

typedef struct D3DDDI_DESTROYPAGINGQUEUE {
	D3DKMT_HANDLE hPagingQueue;
} D3DDDI_DESTROYPAGINGQUEUE;

typedef struct _D3DDDI_WAITFORSYNCHRONIZATIONOBJECTFROMCPU_FLAGS {
	union {
		struct {
			UINT WaitAny : 1;  /* 0x00000001 */
			UINT Reserved : 31;
		};
		UINT Value;
	};
} D3DDDI_WAITFORSYNCHRONIZATIONOBJECTFROMCPU_FLAGS;

typedef struct _D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU {
	D3DKMT_HANDLE hDevice;
	UINT ObjectCount;
	GPUSIM_KMT_PTR(const D3DKMT_HANDLE *, ObjectHandleArray);
	GPUSIM_KMT_PTR(const UINT64 *, FenceValueArray);
	GPUSIM_KMT_PTR(HANDLE, hAsyncEvent);   /* NULL: block; on Linux an eventfd */
	D3DDDI_WAITFORSYNCHRONIZATIONOBJECTFROMCPU_FLAGS Flags;
} D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU;

typedef struct _D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU {
	D3DKMT_HANDLE hDevice;
	UINT ObjectCount;
	GPUSIM_KMT_PTR(const D3DKMT_HANDLE *, ObjectHandleArray);
	GPUSIM_KMT_PTR(const UINT64 *, FenceValueArray);
	D3DDDICB_SIGNALFLAGS Flags;
} D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU;

typedef struct _D3DKMT_SETALLOCATIONPRIORITY {
	D3DKMT_HANDLE hDevice;
	D3DKMT_HANDLE hResource;                      /* or 0 with an allocation list */
	GPUSIM_KMT_PTR(CONST D3DKMT_HANDLE *, phAllocationList);
	UINT AllocationCount;
	GPUSIM_KMT_PTR(CONST UINT *, pPriorities);
} D3DKMT_SETALLOCATIONPRIORITY;

typedef struct _D3DKMT_GETALLOCATIONPRIORITY {
	D3DKMT_HANDLE hDevice;
	D3DKMT_HANDLE hResource;
	GPUSIM_KMT_PTR(CONST D3DKMT_HANDLE *, phAllocationList);
	UINT AllocationCount;
	GPUSIM_KMT_PTR(UINT *, pPriorities);          /* out */
} D3DKMT_GETALLOCATIONPRIORITY;

typedef enum _D3DKMT_ALLOCATIONRESIDENCYSTATUS {
	D3DKMT_ALLOCATIONRESIDENCYSTATUS_RESIDENTINGPUMEMORY = 1,
	D3DKMT_ALLOCATIONRESIDENCYSTATUS_RESIDENTINSHAREDMEMORY = 2,
	D3DKMT_ALLOCATIONRESIDENCYSTATUS_NOTRESIDENT = 3,
} D3DKMT_ALLOCATIONRESIDENCYSTATUS;

typedef struct _D3DKMT_QUERYALLOCATIONRESIDENCY {
	D3DKMT_HANDLE hDevice;
	D3DKMT_HANDLE hResource;
	GPUSIM_KMT_PTR(CONST D3DKMT_HANDLE *, phAllocationList);
	UINT AllocationCount;
	GPUSIM_KMT_PTR(D3DKMT_ALLOCATIONRESIDENCYSTATUS *, pResidencyStatus); /* out */
} D3DKMT_QUERYALLOCATIONRESIDENCY;

typedef enum _D3DKMT_MEMORY_SEGMENT_GROUP {
	D3DKMT_MEMORY_SEGMENT_GROUP_LOCAL = 0,
	D3DKMT_MEMORY_SEGMENT_GROUP_NON_LOCAL = 1
} D3DKMT_MEMORY_SEGMENT_GROUP;

typedef struct _D3DKMT_QUERYVIDEOMEMORYINFO {
	GPUSIM_KMT_PTR(HANDLE, hProcess);             /* in: NULL for the calling process */
	D3DKMT_HANDLE hAdapter;
	D3DKMT_MEMORY_SEGMENT_GROUP MemorySegmentGroup;
	GPUSIM_KMT_ALIGN8 UINT64 Budget;
	GPUSIM_KMT_ALIGN8 UINT64 CurrentUsage;
	GPUSIM_KMT_ALIGN8 UINT64 CurrentReservation;
	GPUSIM_KMT_ALIGN8 UINT64 AvailableForReservation;
	UINT PhysicalAdapterIndex;
} D3DKMT_QUERYVIDEOMEMORYINFO;

/* ---- submission --------------------------------------------------------- */

typedef struct _D3DKMT_RENDERFLAGS {
	UINT ResizeCommandBuffer : 1;     /* 0x00000001 */
	UINT ResizeAllocationList : 1;    /* 0x00000002 */
	UINT ResizePatchLocationList : 1; /* 0x00000004 */
	UINT NullRendering : 1;           /* 0x00000008 */
	UINT PresentRedirected : 1;       /* 0x00000010 */
	UINT RenderKm : 1;                /* 0x00000020 */
	UINT RenderKmReadback : 1;        /* 0x00000040 */
	UINT Reserved : 25;
} D3DKMT_RENDERFLAGS;

typedef struct _D3DKMT_RENDER {
	union {
		D3DKMT_HANDLE hDevice;
		D3DKMT_HANDLE hContext;
	};
	UINT CommandOffset;                 /* bytes from the start of the command buffer */
	UINT CommandLength;                 /* bytes */
	UINT AllocationCount;               /* entries used in the allocation list */
	UINT PatchLocationCount;            /* entries used in the patch location list */
	GPUSIM_KMT_PTR(VOID *, pNewCommandBuffer);                      /* out */
	UINT NewCommandBufferSize;                                      /* in/out */
	GPUSIM_KMT_PTR(D3DDDI_ALLOCATIONLIST *, pNewAllocationList);    /* out */
	UINT NewAllocationListSize;                                     /* in/out */
	GPUSIM_KMT_PTR(D3DDDI_PATCHLOCATIONLIST *, pNewPatchLocationList); /* out */
	UINT NewPatchLocationListSize;                                  /* in/out */
	D3DKMT_RENDERFLAGS Flags;
	GPUSIM_KMT_ALIGN8 ULONGLONG PresentHistoryToken;
	ULONG BroadcastContextCount;
	D3DKMT_HANDLE BroadcastContext[D3DDDI_MAX_BROADCAST_CONTEXT];
	ULONG QueuedBufferCount;                                        /* out */
	GPUSIM_KMT_ALIGN8 D3DGPU_VIRTUAL_ADDRESS NewCommandBuffer;      /* out */
	GPUSIM_KMT_PTR(VOID *, pPrivateDriverData);
	UINT PrivateDriverDataSize;
} D3DKMT_RENDER;

/* ---- synchronization ---------------------------------------------------- */

typedef struct _D3DKMT_CREATESYNCHRONIZATIONOBJECT2 {
	D3DKMT_HANDLE hDevice;
	D3DDDI_SYNCHRONIZATIONOBJECTINFO2 Info;   /* in/out */
	D3DKMT_HANDLE hSyncObject;                /* out */
} D3DKMT_CREATESYNCHRONIZATIONOBJECT2;

typedef struct _D3DKMT_DESTROYSYNCHRONIZATIONOBJECT {
	D3DKMT_HANDLE hSyncObject;
} D3DKMT_DESTROYSYNCHRONIZATIONOBJECT;

typedef struct _D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2 {
	D3DKMT_HANDLE hContext;
	UINT ObjectCount;
	D3DKMT_HANDLE ObjectHandleArray[D3DDDI_MAX_OBJECT_WAITED_ON];
	union {
		struct {
			GPUSIM_KMT_ALIGN8 UINT64 FenceValue;
		} Fence;
		GPUSIM_KMT_ALIGN8 UINT64 Reserved[8];
	};
} D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2;

typedef struct _D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2 {
	D3DKMT_HANDLE hContext;
	UINT ObjectCount;
	D3DKMT_HANDLE ObjectHandleArray[D3DDDI_MAX_OBJECT_SIGNALED];
	D3DDDICB_SIGNALFLAGS Flags;
	ULONG BroadcastContextCount;
	D3DKMT_HANDLE BroadcastContext[D3DDDI_MAX_BROADCAST_CONTEXT];
	union {
		struct {
			GPUSIM_KMT_ALIGN8 UINT64 FenceValue;
		} Fence;
		HANDLE CpuEventHandle;
		GPUSIM_KMT_ALIGN8 UINT64 Reserved[8];
	};
} D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2;

/* ======================================================================== */
/* Entry points                                                               */
/* ======================================================================== */

typedef NTSTATUS (APIENTRY *PFND3DKMT_ENUMADAPTERS2)(CONST D3DKMT_ENUMADAPTERS2 *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_ENUMADAPTERS3)(D3DKMT_ENUMADAPTERS3 *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_OPENADAPTERFROMLUID)(CONST D3DKMT_OPENADAPTERFROMLUID *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_CLOSEADAPTER)(CONST D3DKMT_CLOSEADAPTER *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_QUERYADAPTERINFO)(CONST D3DKMT_QUERYADAPTERINFO *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_CREATEDEVICE)(D3DKMT_CREATEDEVICE *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_DESTROYDEVICE)(CONST D3DKMT_DESTROYDEVICE *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_CREATECONTEXT)(D3DKMT_CREATECONTEXT *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_CREATECONTEXTVIRTUAL)(D3DKMT_CREATECONTEXTVIRTUAL *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_RESERVEGPUVIRTUALADDRESS)(D3DDDI_RESERVEGPUVIRTUALADDRESS *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_MAPGPUVIRTUALADDRESS)(D3DDDI_MAPGPUVIRTUALADDRESS *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_UPDATEGPUVIRTUALADDRESS)(CONST D3DKMT_UPDATEGPUVIRTUALADDRESS *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_FREEGPUVIRTUALADDRESS)(CONST D3DKMT_FREEGPUVIRTUALADDRESS *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_SUBMITCOMMAND)(CONST D3DKMT_SUBMITCOMMAND *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU)(CONST D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2)(CONST D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2 *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU)(CONST D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_DESTROYCONTEXT)(CONST D3DKMT_DESTROYCONTEXT *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_GETDEVICESTATE)(D3DKMT_GETDEVICESTATE *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_CREATEALLOCATION)(D3DKMT_CREATEALLOCATION *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_CREATEALLOCATION2)(D3DKMT_CREATEALLOCATION *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_DESTROYALLOCATION)(CONST D3DKMT_DESTROYALLOCATION *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_DESTROYALLOCATION2)(CONST D3DKMT_DESTROYALLOCATION2 *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_QUERYRESOURCEINFO)(D3DKMT_QUERYRESOURCEINFO *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_OPENRESOURCE)(D3DKMT_OPENRESOURCE *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_LOCK)(D3DKMT_LOCK *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_UNLOCK)(CONST D3DKMT_UNLOCK *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_LOCK2)(D3DKMT_LOCK2 *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_UNLOCK2)(CONST D3DKMT_UNLOCK2 *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_MAKERESIDENT)(D3DDDI_MAKERESIDENT *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_EVICT)(D3DKMT_EVICT *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_SETALLOCATIONPRIORITY)(CONST D3DKMT_SETALLOCATIONPRIORITY *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_GETALLOCATIONPRIORITY)(CONST D3DKMT_GETALLOCATIONPRIORITY *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_QUERYALLOCATIONRESIDENCY)(CONST D3DKMT_QUERYALLOCATIONRESIDENCY *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_QUERYVIDEOMEMORYINFO)(D3DKMT_QUERYVIDEOMEMORYINFO *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_RENDER)(D3DKMT_RENDER *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_CREATESYNCHRONIZATIONOBJECT2)(D3DKMT_CREATESYNCHRONIZATIONOBJECT2 *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_SIGNALSYNCHRONIZATIONOBJECT2)(CONST D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2 *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_WAITFORSYNCHRONIZATIONOBJECT2)(CONST D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2 *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_DESTROYSYNCHRONIZATIONOBJECT)(CONST D3DKMT_DESTROYSYNCHRONIZATIONOBJECT *);

/*
 * The const on some in/out arguments (EnumAdapters2, OpenAdapterFromLuid,
 * QueryAdapterInfo) is Microsoft's: it qualifies the argument structure, whose
 * pointed-to buffers and output fields are still written.
 */

/* adapters */
NTSTATUS APIENTRY D3DKMTEnumAdapters2(CONST D3DKMT_ENUMADAPTERS2 *pData);
NTSTATUS APIENTRY D3DKMTEnumAdapters3(D3DKMT_ENUMADAPTERS3 *pData);
NTSTATUS APIENTRY D3DKMTOpenAdapterFromLuid(CONST D3DKMT_OPENADAPTERFROMLUID *pData);
NTSTATUS APIENTRY D3DKMTCloseAdapter(CONST D3DKMT_CLOSEADAPTER *pData);
NTSTATUS APIENTRY D3DKMTQueryAdapterInfo(CONST D3DKMT_QUERYADAPTERINFO *pData);

/* devices and contexts */
NTSTATUS APIENTRY D3DKMTCreateDevice(D3DKMT_CREATEDEVICE *pData);
NTSTATUS APIENTRY D3DKMTDestroyDevice(CONST D3DKMT_DESTROYDEVICE *pData);
NTSTATUS APIENTRY D3DKMTCreateContext(D3DKMT_CREATECONTEXT *pData);
NTSTATUS APIENTRY D3DKMTCreateContextVirtual(D3DKMT_CREATECONTEXTVIRTUAL *pData);
/* GPU virtual addresses (WDDM 2.0) */
NTSTATUS APIENTRY D3DKMTReserveGpuVirtualAddress(D3DDDI_RESERVEGPUVIRTUALADDRESS *pData);
NTSTATUS APIENTRY D3DKMTMapGpuVirtualAddress(D3DDDI_MAPGPUVIRTUALADDRESS *pData);
NTSTATUS APIENTRY D3DKMTUpdateGpuVirtualAddress(CONST D3DKMT_UPDATEGPUVIRTUALADDRESS *pData);
NTSTATUS APIENTRY D3DKMTFreeGpuVirtualAddress(CONST D3DKMT_FREEGPUVIRTUALADDRESS *pData);
NTSTATUS APIENTRY D3DKMTSubmitCommand(CONST D3DKMT_SUBMITCOMMAND *pData);
NTSTATUS APIENTRY D3DKMTSignalSynchronizationObjectFromGpu(CONST D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU *pData);
NTSTATUS APIENTRY D3DKMTSignalSynchronizationObjectFromGpu2(CONST D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2 *pData);
NTSTATUS APIENTRY D3DKMTWaitForSynchronizationObjectFromGpu(CONST D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU *pData);
NTSTATUS APIENTRY D3DKMTDestroyContext(CONST D3DKMT_DESTROYCONTEXT *pData);
NTSTATUS APIENTRY D3DKMTGetDeviceState(D3DKMT_GETDEVICESTATE *pData);

/* allocations and resources */
NTSTATUS APIENTRY D3DKMTCreateAllocation(D3DKMT_CREATEALLOCATION *pData);
NTSTATUS APIENTRY D3DKMTCreateAllocation2(D3DKMT_CREATEALLOCATION *pData);
NTSTATUS APIENTRY D3DKMTDestroyAllocation(CONST D3DKMT_DESTROYALLOCATION *pData);
NTSTATUS APIENTRY D3DKMTDestroyAllocation2(CONST D3DKMT_DESTROYALLOCATION2 *pData);
NTSTATUS APIENTRY D3DKMTQueryResourceInfo(D3DKMT_QUERYRESOURCEINFO *pData);
NTSTATUS APIENTRY D3DKMTOpenResource(D3DKMT_OPENRESOURCE *pData);

/* CPU access */
NTSTATUS APIENTRY D3DKMTLock(D3DKMT_LOCK *pData);
NTSTATUS APIENTRY D3DKMTUnlock(CONST D3DKMT_UNLOCK *pData);
NTSTATUS APIENTRY D3DKMTLock2(D3DKMT_LOCK2 *pData);
NTSTATUS APIENTRY D3DKMTUnlock2(CONST D3DKMT_UNLOCK2 *pData);

/* residency */
NTSTATUS APIENTRY D3DKMTMakeResident(D3DDDI_MAKERESIDENT *pData);
NTSTATUS APIENTRY D3DKMTEvict(D3DKMT_EVICT *pData);

/* paging queues and monitored fences from the CPU */
typedef NTSTATUS (APIENTRY *PFND3DKMT_CREATEPAGINGQUEUE)(D3DKMT_CREATEPAGINGQUEUE *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_DESTROYPAGINGQUEUE)(D3DDDI_DESTROYPAGINGQUEUE *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU)(
	CONST D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU *);
typedef NTSTATUS (APIENTRY *PFND3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU)(
	CONST D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU *);
NTSTATUS APIENTRY D3DKMTCreatePagingQueue(D3DKMT_CREATEPAGINGQUEUE *pData);
NTSTATUS APIENTRY D3DKMTDestroyPagingQueue(D3DDDI_DESTROYPAGINGQUEUE *pData);
NTSTATUS APIENTRY D3DKMTSignalSynchronizationObjectFromCpu(CONST D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU *pData);
NTSTATUS APIENTRY D3DKMTWaitForSynchronizationObjectFromCpu(CONST D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU *pData);
NTSTATUS APIENTRY D3DKMTSetAllocationPriority(CONST D3DKMT_SETALLOCATIONPRIORITY *pData);
NTSTATUS APIENTRY D3DKMTGetAllocationPriority(CONST D3DKMT_GETALLOCATIONPRIORITY *pData);
NTSTATUS APIENTRY D3DKMTQueryAllocationResidency(CONST D3DKMT_QUERYALLOCATIONRESIDENCY *pData);
NTSTATUS APIENTRY D3DKMTQueryVideoMemoryInfo(D3DKMT_QUERYVIDEOMEMORYINFO *pData);

/* submission */
NTSTATUS APIENTRY D3DKMTRender(D3DKMT_RENDER *pData);

/* synchronization */
NTSTATUS APIENTRY D3DKMTCreateSynchronizationObject2(D3DKMT_CREATESYNCHRONIZATIONOBJECT2 *pData);
NTSTATUS APIENTRY D3DKMTSignalSynchronizationObject2(CONST D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2 *pData);
NTSTATUS APIENTRY D3DKMTWaitForSynchronizationObject2(CONST D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2 *pData);
NTSTATUS APIENTRY D3DKMTDestroySynchronizationObject(CONST D3DKMT_DESTROYSYNCHRONIZATIONOBJECT *pData);

#ifdef __cplusplus
}
#endif

#endif /* GPUSIM_D3DKMTHK_H */
