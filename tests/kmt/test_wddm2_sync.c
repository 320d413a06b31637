/*
 * WDDM 2 synchronization on the CPU side: paging queues (D3DKMTCreatePagingQueue,
 * D3DKMTDestroyPagingQueue, MakeResident through a queue and its paging fence),
 * monitored fences signalled and waited for from the CPU (blocking, and with an
 * eventfd as Linux's dxgkrnl takes it), their events, snapshots of them, and the
 * adapter queries that say what is implemented.
 */
#include <config.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gpusim/snapshot.h>
#include "tests/kmt/kmt_helpers.h"
#include "tests/kmt/kmt_suites.h"

#define MIB (1024ull * 1024)
#define CFG "vram=32M,visible=8M,gart=16M,sysmem=256M"

/* ---- helpers ------------------------------------------------------------------ */

static NTSTATUS create_pq(D3DKMT_HANDLE dev, D3DKMT_CREATEPAGINGQUEUE *out)
{
	memset(out, 0, sizeof(*out));
	out->hDevice = dev;
	out->Priority = D3DDDI_PAGINGQUEUE_PRIORITY_NORMAL;
	return D3DKMTCreatePagingQueue(out);
}

static NTSTATUS destroy_pq(D3DKMT_HANDLE pq)
{
	D3DDDI_DESTROYPAGINGQUEUE d = { .hPagingQueue = pq };
	return D3DKMTDestroyPagingQueue(&d);
}

static NTSTATUS make_resident(D3DKMT_HANDLE queue, D3DKMT_HANDLE h, D3DDDI_MAKERESIDENT *out)
{
	memset(out, 0, sizeof(*out));
	out->hPagingQueue = queue;
	out->NumAllocations = 1;
	out->AllocationList = &h;
	NTSTATUS st = D3DKMTMakeResident(out);
	out->AllocationList = NULL;
	return st;
}

static NTSTATUS evict(D3DKMT_HANDLE dev, D3DKMT_HANDLE h)
{
	D3DKMT_EVICT ev;
	memset(&ev, 0, sizeof(ev));
	ev.hDevice = dev;
	ev.NumAllocations = 1;
	ev.AllocationList = &h;
	return D3DKMTEvict(&ev);
}

static NTSTATUS create_fence(D3DKMT_HANDLE dev, D3DDDI_SYNCHRONIZATIONOBJECT_TYPE type, uint64_t initial,
			     D3DKMT_CREATESYNCHRONIZATIONOBJECT2 *out)
{
	memset(out, 0, sizeof(*out));
	out->hDevice = dev;
	out->Info.Type = type;
	if (type == D3DDDI_MONITORED_FENCE)
		out->Info.MonitoredFence.InitialFenceValue = initial;
	else
		out->Info.Fence.FenceValue = initial;
	return D3DKMTCreateSynchronizationObject2(out);
}

static D3DKMT_HANDLE monitored(D3DKMT_HANDLE dev, uint64_t initial, const volatile uint64_t **cpu)
{
	D3DKMT_CREATESYNCHRONIZATIONOBJECT2 c;
	KT_ST_EQ(create_fence(dev, D3DDDI_MONITORED_FENCE, initial, &c), STATUS_SUCCESS);
	if (cpu)
		*cpu = c.Info.MonitoredFence.FenceValueCPUVirtualAddress;
	return c.hSyncObject;
}

static NTSTATUS destroy_sync(D3DKMT_HANDLE h)
{
	D3DKMT_DESTROYSYNCHRONIZATIONOBJECT d = { .hSyncObject = h };
	return D3DKMTDestroySynchronizationObject(&d);
}

static NTSTATUS signal_cpu(D3DKMT_HANDLE dev, const D3DKMT_HANDLE *h, const uint64_t *v, UINT n, UINT flags)
{
	D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU s;
	memset(&s, 0, sizeof(s));
	s.hDevice = dev;
	s.ObjectCount = n;
	s.ObjectHandleArray = h;
	s.FenceValueArray = v;
	s.Flags.Value = flags;
	return D3DKMTSignalSynchronizationObjectFromCpu(&s);
}

static NTSTATUS signal1(D3DKMT_HANDLE dev, D3DKMT_HANDLE h, uint64_t v)
{
	return signal_cpu(dev, &h, &v, 1, 0);
}

static NTSTATUS wait_cpu(D3DKMT_HANDLE dev, const D3DKMT_HANDLE *h, const uint64_t *v, UINT n, int fd,
			 UINT flags)
{
	D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU w;
	memset(&w, 0, sizeof(w));
	w.hDevice = dev;
	w.ObjectCount = n;
	w.ObjectHandleArray = h;
	w.FenceValueArray = v;
	w.hAsyncEvent = fd >= 0 ? (HANDLE)(uintptr_t)fd : NULL;
	w.Flags.Value = flags;
	return D3DKMTWaitForSynchronizationObjectFromCpu(&w);
}

static NTSTATUS wait1(D3DKMT_HANDLE dev, D3DKMT_HANDLE h, uint64_t v)
{
	return wait_cpu(dev, &h, &v, 1, -1, 0);
}

/* The eventfd's counter, 0 when it was not signalled (and it is reset). */
static uint64_t drain(int fd)
{
	uint64_t v = 0;
	if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v)) {
		ck_assert_int_eq(errno, EAGAIN);
		return 0;
	}
	return v;
}

/* An allocation of 1 MiB with a pattern, made resident and then evicted: paging it
 * back in is copy-engine work. */
static D3DKMT_HANDLE evicted_alloc(struct kt_gpu *g, uint32_t seed)
{
	D3DKMT_HANDLE h;
	D3DDDI_MAKERESIDENT mr;
	KT_ST_EQ(kt_alloc(g, MIB, 0, 0, &h), STATUS_SUCCESS);
	KT_ST_EQ(kt_write(g->device, h, MIB, seed), STATUS_SUCCESS);
	KT_ST_EQ(make_resident(g->device, h, &mr), STATUS_SUCCESS);
	KT_ST_EQ(evict(g->device, h), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(h), GPUSIM_SEG_SYS);
	return h;
}

/* ---- paging queues ---------------------------------------------------------------- */

START_TEST(test_pq_create_destroy)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_CREATEPAGINGQUEUE pq;
	KT_ST_EQ(create_pq(g.device, &pq), STATUS_SUCCESS);
	ck_assert_uint_ne(pq.hPagingQueue, 0);
	ck_assert_uint_ne(pq.hSyncObject, 0);
	ck_assert_uint_ne(pq.hPagingQueue, pq.hSyncObject);
	const volatile uint64_t *fence = pq.FenceValueCPUVirtualAddress;
	ck_assert_ptr_nonnull((const void *)fence);
	ck_assert_uint_eq(*fence, 0);
	/* Every priority is accepted; a second queue has its own fence. */
	D3DKMT_CREATEPAGINGQUEUE pq2;
	memset(&pq2, 0, sizeof(pq2));
	pq2.hDevice = g.device;
	pq2.Priority = D3DDDI_PAGINGQUEUE_PRIORITY_ABOVE_NORMAL;
	KT_ST_EQ(D3DKMTCreatePagingQueue(&pq2), STATUS_SUCCESS);
	ck_assert_ptr_ne(pq2.FenceValueCPUVirtualAddress, pq.FenceValueCPUVirtualAddress);
	/* The paging fence is the queue's: not destroyed, not signalled by the caller. */
	KT_ST_EQ(destroy_sync(pq.hSyncObject), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(signal1(g.device, pq.hSyncObject, 1), STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(*fence, 0);

	KT_ST_EQ(destroy_pq(pq2.hPagingQueue), STATUS_SUCCESS);
	KT_ST_EQ(destroy_pq(pq2.hPagingQueue), STATUS_INVALID_PARAMETER); /* stale */
	KT_ST_EQ(wait1(g.device, pq2.hSyncObject, 0), STATUS_INVALID_PARAMETER); /* its fence went too */
	KT_ST_EQ(destroy_pq(pq.hPagingQueue), STATUS_SUCCESS);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_pq_bad_input)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_CREATEPAGINGQUEUE pq;
	KT_ST_EQ(D3DKMTCreatePagingQueue(NULL), STATUS_INVALID_PARAMETER);
	memset(&pq, 0, sizeof(pq));
	KT_ST_EQ(D3DKMTCreatePagingQueue(&pq), STATUS_INVALID_PARAMETER); /* zeroed: no device */
	KT_ST_EQ(create_pq(g.context, &pq), STATUS_INVALID_PARAMETER);    /* wrong type */
	KT_ST_EQ(create_pq(0x40001fffu, &pq), STATUS_INVALID_PARAMETER);  /* never made */
	memset(&pq, 0, sizeof(pq));
	pq.hDevice = g.device;
	pq.Priority = (D3DDDI_PAGINGQUEUE_PRIORITY)2;
	KT_ST_EQ(D3DKMTCreatePagingQueue(&pq), STATUS_INVALID_PARAMETER);
	pq.Priority = D3DDDI_PAGINGQUEUE_PRIORITY_BELOW_NORMAL;
	pq.PhysicalAdapterIndex = 1;
	KT_ST_EQ(D3DKMTCreatePagingQueue(&pq), STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(pq.hPagingQueue, 0);

	KT_ST_EQ(D3DKMTDestroyPagingQueue(NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(destroy_pq(0), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(destroy_pq(g.device), STATUS_INVALID_PARAMETER);

	/* A device's queues die with it. */
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	KT_ST_EQ(create_pq(dev2, &pq), STATUS_SUCCESS);
	D3DKMT_DESTROYDEVICE dd = { .hDevice = dev2 };
	KT_ST_EQ(D3DKMTDestroyDevice(&dd), STATUS_SUCCESS);
	KT_ST_EQ(destroy_pq(pq.hPagingQueue), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(destroy_sync(pq.hSyncObject), STATUS_INVALID_PARAMETER);

	/* After removal: no new queue; destroying one still succeeds. */
	KT_ST_EQ(create_pq(g.device, &pq), STATUS_SUCCESS);
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_DEVICE_REMOVED, 0), STATUS_SUCCESS);
	D3DKMT_CREATEPAGINGQUEUE pq3;
	KT_ST_EQ(create_pq(g.device, &pq3), STATUS_DEVICE_REMOVED);
	KT_ST_EQ(create_pq(g.context, &pq3), STATUS_INVALID_PARAMETER); /* bad input first */
	KT_ST_EQ(destroy_pq(pq.hPagingQueue), STATUS_SUCCESS);
	gpusim_reset();
}
END_TEST

/* The heart of it: paging work through a queue, signalled by the copy engine. */
START_TEST(test_pq_make_resident_fence)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_CREATEPAGINGQUEUE pq;
	KT_ST_EQ(create_pq(g.device, &pq), STATUS_SUCCESS);
	const volatile uint64_t *fence = pq.FenceValueCPUVirtualAddress;
	D3DKMT_HANDLE h = evicted_alloc(&g, 31);

	D3DDDI_MAKERESIDENT mr;
	KT_ST_EQ(make_resident(pq.hPagingQueue, h, &mr), STATUS_PENDING);
	ck_assert_uint_eq(mr.PagingFenceValue, 1);
	ck_assert_uint_eq(mr.NumAllocations, 1);
	/* The fence write is device work queued behind the copies: not run yet. */
	ck_assert_uint_eq(*fence, 0);
	uint64_t before = kt_stats(&g).time_ns;
	KT_ST_EQ(wait1(g.device, pq.hSyncObject, mr.PagingFenceValue), STATUS_SUCCESS);
	ck_assert_uint_eq(*fence, 1);
	ck_assert_uint_gt(kt_stats(&g).time_ns, before); /* simulated time ran for it */
	ck_assert_uint_ne(kt_segment(h), GPUSIM_SEG_SYS);
	ck_assert(kt_verify(g.device, h, MIB, 31));

	/* Already resident: nothing queued, the last value, success. */
	KT_ST_EQ(make_resident(pq.hPagingQueue, h, &mr), STATUS_SUCCESS);
	ck_assert_uint_eq(mr.PagingFenceValue, 1);

	/* Once more: the next value; a GPU-side wait (Wait2 on a context) also sees it. */
	KT_ST_EQ(evict(g.device, h), STATUS_SUCCESS);
	KT_ST_EQ(evict(g.device, h), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(h), GPUSIM_SEG_SYS);
	KT_ST_EQ(make_resident(pq.hPagingQueue, h, &mr), STATUS_PENDING);
	ck_assert_uint_eq(mr.PagingFenceValue, 2);
	D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2 w2;
	memset(&w2, 0, sizeof(w2));
	w2.hContext = g.context;
	w2.ObjectCount = 1;
	w2.ObjectHandleArray[0] = pq.hSyncObject;
	w2.Fence.FenceValue = 2;
	KT_ST_EQ(D3DKMTWaitForSynchronizationObject2(&w2), STATUS_SUCCESS);
	ck_assert_uint_eq(*fence, 2);
	ck_assert(kt_verify(g.device, h, MIB, 31));
	/* A value no paging will ever reach. */
	KT_ST_EQ(wait1(g.device, pq.hSyncObject, 3), STATUS_POSSIBLE_DEADLOCK);

	/* WDDM 1 callers: the device handle still works, and paging is complete. */
	KT_ST_EQ(evict(g.device, h), STATUS_SUCCESS);
	KT_ST_EQ(make_resident(g.device, h, &mr), STATUS_PENDING);
	ck_assert(kt_verify(g.device, h, MIB, 31));
	ck_assert_uint_eq(*fence, 2); /* not the queue's work */
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_pq_make_resident_bad_input)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_CREATEPAGINGQUEUE pq;
	KT_ST_EQ(create_pq(g.device, &pq), STATUS_SUCCESS);
	D3DKMT_HANDLE h = evicted_alloc(&g, 5);
	D3DDDI_MAKERESIDENT mr;
	/* A queue of another device cannot page this device's allocations. */
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	D3DKMT_CREATEPAGINGQUEUE other;
	KT_ST_EQ(create_pq(dev2, &other), STATUS_SUCCESS);
	KT_ST_EQ(make_resident(other.hPagingQueue, h, &mr), STATUS_INVALID_PARAMETER);
	/* A sync object or a context is not a queue. */
	KT_ST_EQ(make_resident(pq.hSyncObject, h, &mr), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(make_resident(g.context, h, &mr), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(destroy_pq(other.hPagingQueue), STATUS_SUCCESS);
	KT_ST_EQ(make_resident(other.hPagingQueue, h, &mr), STATUS_INVALID_PARAMETER); /* stale */
	ck_assert_uint_eq(kt_segment(h), GPUSIM_SEG_SYS);
	ck_assert_uint_eq(*(const volatile uint64_t *)pq.FenceValueCPUVirtualAddress, 0);
	/* Removed: bad handles are still bad parameters, good ones say removed. */
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_DEVICE_REMOVED, 0), STATUS_SUCCESS);
	KT_ST_EQ(make_resident(pq.hPagingQueue, h, &mr), STATUS_DEVICE_REMOVED);
	KT_ST_EQ(make_resident(other.hPagingQueue, h, &mr), STATUS_INVALID_PARAMETER);
	gpusim_reset();
}
END_TEST

/* ---- monitored fences from the CPU --------------------------------------------------- */

START_TEST(test_signal_from_cpu)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	const volatile uint64_t *a_cpu, *b_cpu;
	D3DKMT_HANDLE a = monitored(g.device, 5, &a_cpu);
	D3DKMT_HANDLE b = monitored(g.device, 0, &b_cpu);
	ck_assert_ptr_nonnull((const void *)a_cpu);
	ck_assert_uint_eq(*a_cpu, 5);
	ck_assert_ptr_ne((const void *)a_cpu, (const void *)b_cpu);

	D3DKMT_HANDLE both[2] = { a, b };
	uint64_t vals[2] = { 7, 9 };
	KT_ST_EQ(signal_cpu(g.device, both, vals, 2, 0), STATUS_SUCCESS);
	ck_assert_uint_eq(*a_cpu, 7);
	ck_assert_uint_eq(*b_cpu, 9);
	/* A fence only moves forward: the same value again is refused too. */
	KT_ST_EQ(signal1(g.device, a, 7), STATUS_INVALID_PARAMETER);
	/* Backwards: refused, and nothing of the call happens (b would move on). */
	uint64_t back[2] = { 6, 10 };
	KT_ST_EQ(signal_cpu(g.device, both, back, 2, 0), STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(*a_cpu, 7);
	ck_assert_uint_eq(*b_cpu, 9);
	/* ... unless the caller says it means it. */
	D3DDDICB_SIGNALFLAGS rewind = { .AllowFenceRewind = 1 };
	KT_ST_EQ(signal_cpu(g.device, both, back, 2, rewind.Value), STATUS_SUCCESS);
	ck_assert_uint_eq(*a_cpu, 6);
	ck_assert_uint_eq(*b_cpu, 10);

	/* Signal2 on a queue treats a monitored fence the same way. */
	D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2 s2;
	memset(&s2, 0, sizeof(s2));
	s2.hContext = g.context;
	s2.ObjectCount = 1;
	s2.ObjectHandleArray[0] = a;
	s2.Fence.FenceValue = 5;
	KT_ST_EQ(D3DKMTSignalSynchronizationObject2(&s2), STATUS_INVALID_PARAMETER);
	s2.Fence.FenceValue = 6;
	KT_ST_EQ(D3DKMTSignalSynchronizationObject2(&s2), STATUS_INVALID_PARAMETER);
	s2.Fence.FenceValue = 11;
	KT_ST_EQ(D3DKMTSignalSynchronizationObject2(&s2), STATUS_SUCCESS);
	ck_assert_uint_eq(*a_cpu, 11); /* nothing queued: at once, in the storage */
	KT_ST_EQ(destroy_sync(a), STATUS_SUCCESS);
	KT_ST_EQ(destroy_sync(b), STATUS_SUCCESS);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_signal_from_cpu_bad_input)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a = monitored(g.device, 1, NULL);
	D3DKMT_CREATESYNCHRONIZATIONOBJECT2 plain;
	KT_ST_EQ(create_fence(g.device, D3DDDI_FENCE, 0, &plain), STATUS_SUCCESS);
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	D3DKMT_HANDLE foreign = monitored(dev2, 0, NULL);
	D3DKMT_HANDLE gone = monitored(g.device, 0, NULL);
	KT_ST_EQ(destroy_sync(gone), STATUS_SUCCESS);
	uint64_t v[33] = { 2 };
	D3DKMT_HANDLE hs[33];
	for (int i = 0; i < 33; i++)
		hs[i] = a;

	KT_ST_EQ(D3DKMTSignalSynchronizationObjectFromCpu(NULL), STATUS_INVALID_PARAMETER);
	D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU z;
	memset(&z, 0, sizeof(z));
	KT_ST_EQ(D3DKMTSignalSynchronizationObjectFromCpu(&z), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(signal_cpu(g.device, hs, v, 0, 0), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(signal_cpu(g.device, hs, v, 33, 0), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(signal_cpu(g.device, NULL, v, 1, 0), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(signal_cpu(g.device, hs, NULL, 1, 0), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(signal_cpu(g.device, hs, v, 1, 0x8u), STATUS_INVALID_PARAMETER);        /* reserved */
	KT_ST_EQ(signal_cpu(g.device, hs, v, 1, 0x80000000u), STATUS_INVALID_PARAMETER); /* kernel's */
	KT_ST_EQ(signal_cpu(g.device, hs, v, 1, 0x1u), STATUS_INVALID_PARAMETER);        /* at submission */
	KT_ST_EQ(signal_cpu(g.device, hs, v, 2, 0), STATUS_INVALID_PARAMETER);           /* twice */
	KT_ST_EQ(signal_cpu(g.context, hs, v, 1, 0), STATUS_INVALID_PARAMETER);          /* not a device */
	KT_ST_EQ(signal1(dev2, a, 2), STATUS_INVALID_PARAMETER);                         /* foreign */
	KT_ST_EQ(signal1(g.device, foreign, 2), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(signal1(g.device, gone, 2), STATUS_INVALID_PARAMETER);                  /* stale */
	KT_ST_EQ(signal1(g.device, plain.hSyncObject, 2), STATUS_INVALID_PARAMETER);     /* not monitored */
	KT_ST_EQ(signal1(g.device, g.result, 2), STATUS_INVALID_PARAMETER);              /* an allocation */
	KT_ST_EQ(wait1(g.device, a, 2), STATUS_POSSIBLE_DEADLOCK); /* none of it landed */

	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_DEVICE_REMOVED, 0), STATUS_SUCCESS);
	KT_ST_EQ(signal1(g.device, a, 2), STATUS_DEVICE_REMOVED);
	KT_ST_EQ(signal1(g.device, gone, 2), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(destroy_sync(a), STATUS_SUCCESS);
	gpusim_reset();
}
END_TEST

START_TEST(test_wait_from_cpu)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a = monitored(g.device, 3, NULL);
	D3DKMT_HANDLE b = monitored(g.device, 0, NULL);
	D3DKMT_HANDLE both[2] = { a, b };
	uint64_t v[2] = { 3, 1 };
	KT_ST_EQ(wait1(g.device, a, 3), STATUS_SUCCESS);
	KT_ST_EQ(wait1(g.device, a, 0), STATUS_SUCCESS);
	/* All: b is not there and nothing will bring it. */
	KT_ST_EQ(wait_cpu(g.device, both, v, 2, -1, 0), STATUS_POSSIBLE_DEADLOCK);
	D3DDDI_WAITFORSYNCHRONIZATIONOBJECTFROMCPU_FLAGS any = { .WaitAny = 1 };
	KT_ST_EQ(wait_cpu(g.device, both, v, 2, -1, any.Value), STATUS_SUCCESS);
	KT_ST_EQ(signal1(g.device, b, 1), STATUS_SUCCESS);
	KT_ST_EQ(wait_cpu(g.device, both, v, 2, -1, 0), STATUS_SUCCESS);

	/* A queue's signal behind GPU work: the wait runs the device until it lands. */
	kt_cmd_begin(&g);
	kt_cmd_fill(&g, g.result, 4096, 0x5a5a5a5au);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2 s2;
	memset(&s2, 0, sizeof(s2));
	s2.hContext = g.context;
	s2.ObjectCount = 1;
	s2.ObjectHandleArray[0] = b;
	s2.Fence.FenceValue = 8;
	KT_ST_EQ(D3DKMTSignalSynchronizationObject2(&s2), STATUS_SUCCESS);
	const volatile uint64_t *b_cpu;
	KT_ST_EQ(gpusim_fence_cpu_address(b, &b_cpu), STATUS_SUCCESS);
	ck_assert_uint_eq(*b_cpu, 1);
	KT_ST_EQ(wait1(g.device, b, 8), STATUS_SUCCESS);
	ck_assert_uint_eq(*b_cpu, 8);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_wait_from_cpu_bad_input)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a = monitored(g.device, 3, NULL);
	D3DKMT_CREATESYNCHRONIZATIONOBJECT2 plain;
	KT_ST_EQ(create_fence(g.device, D3DDDI_FENCE, 0, &plain), STATUS_SUCCESS);
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	uint64_t v[33] = { 1 };
	D3DKMT_HANDLE hs[33];
	for (int i = 0; i < 33; i++)
		hs[i] = a;
	KT_ST_EQ(D3DKMTWaitForSynchronizationObjectFromCpu(NULL), STATUS_INVALID_PARAMETER);
	D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU z;
	memset(&z, 0, sizeof(z));
	KT_ST_EQ(D3DKMTWaitForSynchronizationObjectFromCpu(&z), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(wait_cpu(g.device, hs, v, 0, -1, 0), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(wait_cpu(g.device, hs, v, 33, -1, 0), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(wait_cpu(g.device, hs, v, 32, -1, 0), STATUS_SUCCESS); /* the limit itself */
	KT_ST_EQ(wait_cpu(g.device, NULL, v, 1, -1, 0), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(wait_cpu(g.device, hs, NULL, 1, -1, 0), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(wait_cpu(g.device, hs, v, 1, -1, 0x2u), STATUS_INVALID_PARAMETER); /* reserved */
	/* An hAsyncEvent that is no open descriptor. */
	int fd = eventfd(0, EFD_NONBLOCK);
	ck_assert_int_ge(fd, 0);
	close(fd);
	KT_ST_EQ(wait_cpu(g.device, hs, v, 1, fd, 0), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(wait_cpu(g.context, hs, v, 1, -1, 0), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(wait_cpu(dev2, hs, v, 1, -1, 0), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(wait1(g.device, plain.hSyncObject, 0), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(wait1(g.device, 0, 0), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_DEVICE_REMOVED, 0), STATUS_SUCCESS);
	KT_ST_EQ(wait1(g.device, a, 1), STATUS_DEVICE_REMOVED);
	KT_ST_EQ(wait1(g.device, plain.hSyncObject, 0), STATUS_INVALID_PARAMETER);
	gpusim_reset();
}
END_TEST

/* hAsyncEvent is an eventfd: signalled at once when met, later when a signal or
 * device work meets it, never when the object goes first. */
START_TEST(test_wait_async_eventfd)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	D3DKMT_HANDLE a = monitored(g.device, 4, NULL);
	uint64_t v = 4;
	KT_ST_EQ(wait_cpu(g.device, &a, &v, 1, fd, 0), STATUS_SUCCESS);
	ck_assert_uint_eq(drain(fd), 1); /* immediately */

	v = 6;
	KT_ST_EQ(wait_cpu(g.device, &a, &v, 1, fd, 0), STATUS_SUCCESS);
	ck_assert_uint_eq(drain(fd), 0); /* returned at once, not met */
	KT_ST_EQ(signal1(g.device, a, 5), STATUS_SUCCESS);
	ck_assert_uint_eq(drain(fd), 0);
	KT_ST_EQ(signal1(g.device, a, 6), STATUS_SUCCESS);
	ck_assert_uint_eq(drain(fd), 1); /* later, by a CPU signal */
	KT_ST_EQ(signal1(g.device, a, 7), STATUS_SUCCESS);
	ck_assert_uint_eq(drain(fd), 0); /* once only */

	/* Later, by the copy engine: the paging fence's write lands when a later
	 * call runs the device. */
	D3DKMT_CREATEPAGINGQUEUE pq;
	KT_ST_EQ(create_pq(g.device, &pq), STATUS_SUCCESS);
	D3DKMT_HANDLE h = evicted_alloc(&g, 9);
	D3DDDI_MAKERESIDENT mr;
	KT_ST_EQ(make_resident(pq.hPagingQueue, h, &mr), STATUS_PENDING);
	v = mr.PagingFenceValue;
	KT_ST_EQ(wait_cpu(g.device, &pq.hSyncObject, &v, 1, fd, 0), STATUS_SUCCESS);
	ck_assert_uint_eq(drain(fd), 0);
	kt_idle(&g); /* gpusim_idle runs the device */
	ck_assert_uint_eq(drain(fd), 1);
	ck_assert(kt_verify(g.device, h, MIB, 9));

	/* WaitAny: one object is enough. */
	D3DKMT_HANDLE b = monitored(g.device, 0, NULL);
	D3DKMT_HANDLE two[2] = { a, b };
	uint64_t vals[2] = { 100, 1 };
	D3DDDI_WAITFORSYNCHRONIZATIONOBJECTFROMCPU_FLAGS any = { .WaitAny = 1 };
	KT_ST_EQ(wait_cpu(g.device, two, vals, 2, fd, any.Value), STATUS_SUCCESS);
	ck_assert_uint_eq(drain(fd), 0);
	KT_ST_EQ(signal1(g.device, b, 1), STATUS_SUCCESS);
	ck_assert_uint_eq(drain(fd), 1);

	/* The object goes before the wait is met: the event is never signalled. */
	v = 50;
	KT_ST_EQ(wait_cpu(g.device, &b, &v, 1, fd, 0), STATUS_SUCCESS);
	KT_ST_EQ(destroy_sync(b), STATUS_SUCCESS);
	KT_ST_EQ(signal1(g.device, a, 60), STATUS_SUCCESS);
	ck_assert_uint_eq(drain(fd), 0);
	close(fd);
	kt_teardown(&g);
}
END_TEST

/* Descriptors open in the process. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	ck_assert_ptr_nonnull(d);
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/*
 * The wait holds the eventfd, not its number, as Linux's dxgkrnl holds a
 * reference to it: a client may close its descriptor while the wait is pending
 * (a thread that gave up after a timeout, in tests/soak), and whatever file gets
 * the number next is never written, not another eventfd, nor a memfd (which is
 * what simulated system memory is). Nothing is kept once the wait is met or
 * dropped.
 */
START_TEST(test_wait_async_closed_fd)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a = monitored(g.device, 0, NULL);
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	uint64_t v = 1;
	KT_ST_EQ(wait_cpu(g.device, &a, &v, 1, fd, 0), STATUS_SUCCESS);
	ck_assert_int_eq(close(fd), 0);
	int other = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ck_assert_int_eq(dup2(other, fd), fd);
	if (other != fd)
		close(other);
	KT_ST_EQ(signal1(g.device, a, 1), STATUS_SUCCESS);
	ck_assert_uint_eq(drain(fd), 0);
	close(fd);

	v = 2;
	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	KT_ST_EQ(wait_cpu(g.device, &a, &v, 1, fd, 0), STATUS_SUCCESS);
	ck_assert_int_eq(close(fd), 0);
	other = memfd_create("not-an-eventfd", MFD_CLOEXEC);
	ck_assert_int_eq(dup2(other, fd), fd);
	if (other != fd)
		close(other);
	KT_ST_EQ(signal1(g.device, a, 2), STATUS_SUCCESS);
	struct stat sb;
	ck_assert_int_eq(fstat(fd, &sb), 0);
	ck_assert_int_eq(sb.st_size, 0);
	close(fd);

	/* Met, met at once, dropped with its object, dropped with its device:
	 * no descriptor left behind. */
	int before = open_fds();
	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	for (uint64_t k = 3; k < 103; k++) {
		v = k;
		KT_ST_EQ(wait_cpu(g.device, &a, &v, 1, fd, 0), STATUS_SUCCESS);
		KT_ST_EQ(signal1(g.device, a, k), STATUS_SUCCESS);
		ck_assert_uint_eq(drain(fd), 1);
		KT_ST_EQ(wait_cpu(g.device, &a, &v, 1, fd, 0), STATUS_SUCCESS);
		ck_assert_uint_eq(drain(fd), 1);
	}
	D3DKMT_HANDLE b = monitored(g.device, 0, NULL);
	v = 1;
	KT_ST_EQ(wait_cpu(g.device, &b, &v, 1, fd, 0), STATUS_SUCCESS);
	KT_ST_EQ(destroy_sync(b), STATUS_SUCCESS);
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	D3DKMT_HANDLE c = monitored(dev2, 0, NULL);
	KT_ST_EQ(wait_cpu(dev2, &c, &v, 1, fd, 0), STATUS_SUCCESS);
	D3DKMT_DESTROYDEVICE dd = { .hDevice = dev2 };
	KT_ST_EQ(D3DKMTDestroyDevice(&dd), STATUS_SUCCESS);
	ck_assert_uint_eq(drain(fd), 0);
	close(fd);
	ck_assert_int_eq(open_fds(), before);
	kt_teardown(&g);
}
END_TEST

/* ---- events ----------------------------------------------------------------------------- */

struct seen {
	uint32_t n;
	struct gpusim_event ev[64];
};

static void listen_fn(void *opaque, const struct gpusim_event *ev)
{
	struct seen *s = opaque;
	if ((ev->type == GPUSIM_EV_SIGNAL || ev->type == GPUSIM_EV_WAIT) && s->n < 64)
		s->ev[s->n++] = *ev;
}

START_TEST(test_events)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	static struct seen seen;
	memset(&seen, 0, sizeof(seen));
	KT_ST_EQ(gpusim_subscribe(g.luid, listen_fn, &seen), STATUS_SUCCESS);
	D3DKMT_HANDLE a = monitored(g.device, 0, NULL);
	KT_ST_EQ(signal1(g.device, a, 3), STATUS_SUCCESS);
	ck_assert_uint_eq(seen.n, 1);
	ck_assert_uint_eq(seen.ev[0].type, GPUSIM_EV_SIGNAL);
	ck_assert_uint_eq(seen.ev[0].cause, GPUSIM_CAUSE_CPU);
	ck_assert_uint_eq(seen.ev[0].allocation, a);
	ck_assert_uint_eq(seen.ev[0].device, g.device);
	ck_assert_uint_eq(seen.ev[0].value, 3);
	ck_assert_str_eq(gpusim_event_name(GPUSIM_EV_SIGNAL), "signal");
	ck_assert_str_eq(gpusim_event_name(GPUSIM_EV_WAIT), "wait");
	ck_assert_str_eq(gpusim_cause_name(GPUSIM_CAUSE_GPU), "gpu");

	D3DKMT_CREATEPAGINGQUEUE pq;
	KT_ST_EQ(create_pq(g.device, &pq), STATUS_SUCCESS);
	D3DKMT_HANDLE h = evicted_alloc(&g, 2);
	D3DDDI_MAKERESIDENT mr;
	seen.n = 0;
	KT_ST_EQ(make_resident(pq.hPagingQueue, h, &mr), STATUS_PENDING);
	ck_assert_uint_eq(seen.n, 0); /* not landed yet */
	KT_ST_EQ(wait1(g.device, pq.hSyncObject, mr.PagingFenceValue), STATUS_SUCCESS);
	ck_assert_uint_eq(seen.n, 2);
	ck_assert_uint_eq(seen.ev[0].type, GPUSIM_EV_SIGNAL);
	ck_assert_uint_eq(seen.ev[0].cause, GPUSIM_CAUSE_GPU);
	ck_assert_uint_eq(seen.ev[0].allocation, pq.hSyncObject);
	ck_assert_uint_eq(seen.ev[0].value, mr.PagingFenceValue);
	ck_assert_uint_eq(seen.ev[1].type, GPUSIM_EV_WAIT);
	ck_assert_uint_eq(seen.ev[1].allocation, pq.hSyncObject);
	ck_assert_uint_eq(seen.ev[1].offset, 0);
	ck_assert_uint_eq(seen.ev[1].size, 1);
	ck_assert_uint_ge(seen.ev[1].time_ns, seen.ev[0].time_ns);
	KT_ST_EQ(gpusim_unsubscribe(g.luid, listen_fn, &seen), STATUS_SUCCESS);
	kt_teardown(&g);
}
END_TEST

/* ---- snapshots ---------------------------------------------------------------------------- */

static D3DKMT_HANDLE remap(const struct gpusim_handle_map *m, size_t n, D3DKMT_HANDLE old, uint32_t type)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].old_handle == old) {
			ck_assert_uint_eq(m[i].type, type);
			return m[i].new_handle;
		}
	ck_abort_msg("handle 0x%x was not restored", old);
	return 0;
}

START_TEST(test_snapshot_round_trip)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_CREATEPAGINGQUEUE pq;
	KT_ST_EQ(create_pq(g.device, &pq), STATUS_SUCCESS);
	D3DKMT_HANDLE a = monitored(g.device, 0, NULL);
	KT_ST_EQ(signal1(g.device, a, 42), STATUS_SUCCESS);
	D3DKMT_HANDLE h = evicted_alloc(&g, 77);
	D3DDDI_MAKERESIDENT mr;
	/* Snapshot with the paging fence's write still queued on the copy ring. */
	KT_ST_EQ(make_resident(pq.hPagingQueue, h, &mr), STATUS_PENDING);
	ck_assert_uint_eq(*(const volatile uint64_t *)pq.FenceValueCPUVirtualAddress, 0);
	struct gpusim_snapshot *snap;
	KT_ST_EQ(gpusim_snapshot_take(g.luid, &snap), STATUS_SUCCESS);

	/* The snapshot's memory ranges point into the live adapter: restore first,
	 * then let the original go. */
	struct gpusim_handle_map *m;
	size_t n;
	char err[256] = "";
	LUID old = g.luid;
	NTSTATUS st = gpusim_snapshot_restore(snap, &g.luid, &m, &n, err, sizeof(err));
	ck_assert_msg(st == STATUS_SUCCESS, "restore: 0x%x %s", (unsigned)st, err);
	gpusim_snapshot_free(snap);
	KT_ST_EQ(gpusim_adapter_destroy(old), STATUS_SUCCESS);
	D3DKMT_HANDLE dev = remap(m, n, g.device, GPUSIM_HANDLE_DEVICE);
	D3DKMT_HANDLE q = remap(m, n, pq.hPagingQueue, GPUSIM_HANDLE_PAGINGQUEUE);
	D3DKMT_HANDLE qf = remap(m, n, pq.hSyncObject, GPUSIM_HANDLE_SYNC);
	D3DKMT_HANDLE a2 = remap(m, n, a, GPUSIM_HANDLE_SYNC);
	D3DKMT_HANDLE h2 = remap(m, n, h, GPUSIM_HANDLE_ALLOCATION);
	free(m);

	const volatile uint64_t *a_cpu, *q_cpu;
	KT_ST_EQ(gpusim_fence_cpu_address(a2, &a_cpu), STATUS_SUCCESS);
	KT_ST_EQ(gpusim_fence_cpu_address(qf, &q_cpu), STATUS_SUCCESS);
	ck_assert_uint_eq(*a_cpu, 42);
	ck_assert_uint_eq(*q_cpu, 0);
	KT_ST_EQ(wait1(dev, a2, 42), STATUS_SUCCESS);
	KT_ST_EQ(wait1(dev, a2, 43), STATUS_POSSIBLE_DEADLOCK);
	/* The queued write lands in the restored device. */
	KT_ST_EQ(wait1(dev, qf, mr.PagingFenceValue), STATUS_SUCCESS);
	ck_assert_uint_eq(*q_cpu, mr.PagingFenceValue);
	ck_assert(kt_verify(dev, h2, MIB, 77));
	/* The queue goes on counting from where it was; its fence is still its own. */
	KT_ST_EQ(destroy_sync(qf), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(evict(dev, h2), STATUS_SUCCESS);
	KT_ST_EQ(make_resident(q, h2, &mr), STATUS_PENDING);
	ck_assert_uint_eq(mr.PagingFenceValue, 2);
	KT_ST_EQ(wait1(dev, qf, 2), STATUS_SUCCESS);
	ck_assert(kt_verify(dev, h2, MIB, 77));
	KT_ST_EQ(signal1(dev, a2, 50), STATUS_SUCCESS);
	ck_assert_uint_eq(*a_cpu, 50);
	KT_ST_EQ(destroy_pq(q), STATUS_SUCCESS);
	KT_ST_EQ(destroy_sync(a2), STATUS_SUCCESS);
	char why[256] = "";
	ck_assert_msg(gpusim_check_invariants(g.luid, why, sizeof(why)) == STATUS_SUCCESS, "%s", why);
	gpusim_reset();
}
END_TEST

/* ---- the adapter says what it is ------------------------------------------------------------ */

START_TEST(test_queries_truth)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_DRIVERVERSION ver = 0;
	D3DKMT_QUERYADAPTERINFO q = { .hAdapter = g.adapter, .Type = KMTQAITYPE_DRIVERVERSION,
				      .pPrivateDriverData = &ver, .PrivateDriverDataSize = sizeof(ver) };
	KT_ST_EQ(D3DKMTQueryAdapterInfo(&q), STATUS_SUCCESS);
	/* gsdrv reports its GPU MMU: WDDM 2.0 (see kmt/README.md). */
	ck_assert_int_eq(ver, KMT_DRIVERVERSION_WDDM_2_0);

	unsigned char buf[142 + 8];
	memset(buf, 0xee, sizeof(buf));
	memset(buf, 0, 4); /* node 0 of adapter 0 */
	q.Type = KMTQAITYPE_NODEMETADATA;
	q.pPrivateDriverData = buf;
	q.PrivateDriverDataSize = 144; /* the old, padded size is refused */
	KT_ST_EQ(D3DKMTQueryAdapterInfo(&q), STATUS_INVALID_PARAMETER);
	q.PrivateDriverDataSize = 142;
	KT_ST_EQ(D3DKMTQueryAdapterInfo(&q), STATUS_SUCCESS);
	D3DKMT_NODEMETADATA md;
	memcpy(&md, buf, sizeof(md));
	ck_assert_int_eq(md.NodeData.EngineType, DXGK_ENGINE_TYPE_3D);
	ck_assert_int_eq(buf[4 + 136], 1); /* GpuMmuSupported, at its packed offset */
	ck_assert_int_eq(buf[4 + 137], 0); /* IoMmuSupported */
	ck_assert_int_eq(buf[142], 0xee);  /* nothing written past the structure */
	kt_teardown(&g);
}
END_TEST

Suite *kmt_wddm2_sync_suite(void)
{
	Suite *s = suite_create("kmt_wddm2_sync");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pq_create_destroy);
	tcase_add_test(tc, test_pq_bad_input);
	tcase_add_test(tc, test_pq_make_resident_fence);
	tcase_add_test(tc, test_pq_make_resident_bad_input);
	tcase_add_test(tc, test_signal_from_cpu);
	tcase_add_test(tc, test_signal_from_cpu_bad_input);
	tcase_add_test(tc, test_wait_from_cpu);
	tcase_add_test(tc, test_wait_from_cpu_bad_input);
	tcase_add_test(tc, test_wait_async_eventfd);
	tcase_add_test(tc, test_wait_async_closed_fd);
	tcase_add_test(tc, test_events);
	tcase_add_test(tc, test_snapshot_round_trip);
	tcase_add_test(tc, test_queries_truth);
	suite_add_tcase(s, tc);
	return s;
}
