/*
 * A WDDM 2 client written only against the official D3DKMT interface (the
 * declarations of tests/wddm2_client_kmt.h, checked against libdxg's layouts)
 * and the device's packet documentation (hw/REGISTERS.md), the way a user-mode
 * driver is written: it includes nothing of gpusim's and links only libkmt.
 *
 * It runs the whole GPU-virtual-address flow on the first adapter: enumerate,
 * open, query the WDDM version, create a device, a paging queue and a virtual
 * context, create allocations, reserve and map GPU VAs, make them resident and
 * wait for the paging fence, write a command buffer that fills and copies by VA
 * and signals a monitored fence at its GPU VA, submit it, wait for the fence
 * from the CPU, read the result back; then evict the copy's source, submit work
 * on it, and see the page fault that names it; page it back in and finish the
 * work. Every call's status is checked against what the documentation promises,
 * every byte read back against what the packets wrote.
 *
 * Exit 0 when everything matched, 1 at the first mismatch (the steps after it
 * depend on it), with a line per step on stdout.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wddm2_client_kmt.h"

#define KIB 1024u
#define PAGE (4 * KIB)
#define ALLOC_BYTES (64 * KIB)

/* ---- reporting ---------------------------------------------------------------------- */

static int step_no;

static void step(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("[%2d] ", ++step_no);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
}

static void note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("     ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

static _Noreturn void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fflush(stdout);
	fprintf(stderr, "wddm2_client: FAIL in step %d: ", step_no);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void expect_status(NTSTATUS got, NTSTATUS want, const char *call)
{
	if (got != want)
		fail("%s returned 0x%08" PRIx32 ", expected 0x%08" PRIx32, call, (uint32_t)got, (uint32_t)want);
	note("%s: 0x%08" PRIx32, call, (uint32_t)got);
}

static void expect(int cond, const char *what)
{
	if (!cond)
		fail("%s", what);
}

/* ---- the device's packets (hw/REGISTERS.md, "Packets") --------------------------------- */

/* A header dword is opcode | flags << 8 | count << 16, then count body dwords;
 * addresses and byte counts are 64-bit, low dword first. */
enum { PKT_COPY = 2, PKT_FILL = 3, PKT_FENCE = 5 };
#define PKT_FENCE_FLAG_IRQ 0x1u /* the interrupt the kernel wakes CPU waiters on */

struct cmdbuf {
	uint32_t dw[256];
	unsigned n;
};

static void put32(struct cmdbuf *c, uint32_t v)
{
	if (c->n >= sizeof(c->dw) / sizeof(c->dw[0]))
		fail("command buffer overflow");
	c->dw[c->n++] = v;
}

static void put64(struct cmdbuf *c, uint64_t v)
{
	put32(c, (uint32_t)v);
	put32(c, (uint32_t)(v >> 32));
}

static void header(struct cmdbuf *c, uint32_t op, uint32_t flags, uint32_t count)
{
	put32(c, op | flags << 8 | count << 16);
}

static void pkt_fill(struct cmdbuf *c, uint64_t dst, uint64_t bytes, uint32_t value)
{
	header(c, PKT_FILL, 0, 5);
	put64(c, dst);
	put64(c, bytes);
	put32(c, value);
}

static void pkt_copy(struct cmdbuf *c, uint64_t src, uint64_t dst, uint64_t bytes)
{
	header(c, PKT_COPY, 0, 6);
	put64(c, src);
	put64(c, dst);
	put64(c, bytes);
}

static void pkt_fence(struct cmdbuf *c, uint64_t addr, uint64_t value)
{
	header(c, PKT_FENCE, PKT_FENCE_FLAG_IRQ, 4);
	put64(c, addr);
	put64(c, value);
}

/* ---- the objects of the run ---------------------------------------------------------------- */

enum { A_CMD, A_SRC, A_DST, A_COUNT };
static const char *const alloc_name[A_COUNT] = { "command buffer", "source", "destination" };

static struct {
	D3DKMT_HANDLE adapter, device, queue, paging_fence, context, fence;
	const volatile UINT64 *paging_fence_cpu, *fence_cpu;
	D3DGPU_VIRTUAL_ADDRESS fence_gpu;
	D3DKMT_HANDLE alloc[A_COUNT];
	D3DGPU_VIRTUAL_ADDRESS base, va[A_COUNT];
	UINT64 last_paging_value;
} g;

/* ---- small wrappers: one API call each, its status returned ------------------------------ */

static NTSTATUS wait_cpu(D3DKMT_HANDLE object, UINT64 value)
{
	D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU w;
	memset(&w, 0, sizeof(w));
	w.hDevice = g.device;
	w.ObjectCount = 1;
	w.ObjectHandleArray = &object;
	w.FenceValueArray = &value;
	w.hAsyncEvent = NULL; /* block: the call runs the device until the value is reached */
	return D3DKMTWaitForSynchronizationObjectFromCpu(&w);
}

static NTSTATUS make_resident(const D3DKMT_HANDLE *list, UINT n, UINT64 *fence_value)
{
	D3DDDI_MAKERESIDENT mr;
	memset(&mr, 0, sizeof(mr));
	mr.hPagingQueue = g.queue;
	mr.NumAllocations = n;
	mr.AllocationList = list;
	NTSTATUS st = D3DKMTMakeResident(&mr);
	*fence_value = mr.PagingFenceValue;
	return st;
}

/* The paging fence reaches value, seen by the wait and in the fence's memory. */
static void wait_paging(UINT64 value)
{
	expect_status(wait_cpu(g.paging_fence, value), STATUS_SUCCESS, "WaitForSynchronizationObjectFromCpu(paging fence)");
	UINT64 now = *g.paging_fence_cpu;
	note("paging fence reads %" PRIu64 " (waited for %" PRIu64 ")", now, value);
	expect(now >= value, "the paging fence's CPU mapping is behind the value the wait reached");
}

static void *lock(D3DKMT_HANDLE h)
{
	D3DKMT_LOCK2 lk;
	memset(&lk, 0, sizeof(lk));
	lk.hDevice = g.device;
	lk.hAllocation = h;
	expect_status(D3DKMTLock2(&lk), STATUS_SUCCESS, "Lock2");
	expect(lk.pData != NULL, "Lock2 gave no CPU address");
	return lk.pData;
}

static void unlock(D3DKMT_HANDLE h)
{
	D3DKMT_UNLOCK2 ul = { .hDevice = g.device, .hAllocation = h };
	expect_status(D3DKMTUnlock2(&ul), STATUS_SUCCESS, "Unlock2");
}

/* Write the packets at offset bytes into the command buffer allocation and submit
 * them on the virtual context. */
static void submit(const struct cmdbuf *c, uint32_t offset)
{
	uint8_t *p = lock(g.alloc[A_CMD]);
	memcpy(p + offset, c->dw, c->n * sizeof(uint32_t));
	unlock(g.alloc[A_CMD]);

	D3DKMT_SUBMITCOMMAND s;
	memset(&s, 0, sizeof(s));
	s.Commands = g.va[A_CMD] + offset;
	s.CommandLength = c->n * (UINT)sizeof(uint32_t);
	s.BroadcastContextCount = 1;
	s.BroadcastContext[0] = g.context;
	note("%u bytes of packets at VA 0x%" PRIx64, s.CommandLength, (uint64_t)s.Commands);
	expect_status(D3DKMTSubmitCommand(&s), STATUS_SUCCESS, "SubmitCommand");
}

static void wait_fence(UINT64 value)
{
	expect_status(wait_cpu(g.fence, value), STATUS_SUCCESS, "WaitForSynchronizationObjectFromCpu(monitored fence)");
	UINT64 now = *g.fence_cpu;
	note("monitored fence reads %" PRIu64, now);
	expect(now == value, "the monitored fence does not hold the value the FENCE packet wrote");
}

/* Every dword of [from, to) of the destination's bytes is value. */
static void expect_dwords(const uint8_t *base, uint32_t from, uint32_t to, uint32_t value, const char *what)
{
	for (uint32_t off = from; off < to; off += 4) {
		uint32_t v;
		memcpy(&v, base + off, sizeof(v));
		if (v != value)
			fail("%s: destination byte 0x%x holds 0x%08" PRIx32 ", expected 0x%08" PRIx32, what, off, v,
			     value);
	}
	note("destination [0x%05x, 0x%05x) = 0x%08" PRIx32 " (%s)", from, to, value, what);
}

static void get_state(D3DKMT_DEVICESTATE_TYPE type, D3DKMT_GETDEVICESTATE *out)
{
	memset(out, 0, sizeof(*out));
	out->hDevice = g.device;
	out->StateType = type;
	expect_status(D3DKMTGetDeviceState(out), STATUS_SUCCESS, "GetDeviceState");
}

/* ---- the flow ----------------------------------------------------------------------------------- */

/* What the packets write, chosen so that every region the checks read has a
 * value of its own. */
#define SRC_VALUE 0x5eed1234u
#define DST_VALUE 0xdeadbeefu
#define AFTER_FAULT_VALUE 0x0badf00du
#define COPY1_SRC (4 * KIB)
#define COPY1_DST (8 * KIB)
#define COPY1_LEN (16 * KIB)
#define COPY2_SRC (8 * KIB)
#define COPY2_DST (40 * KIB)
#define COPY2_LEN (4 * KIB)
#define FILL2_DST (48 * KIB)
#define FILL2_LEN (4 * KIB)

static void open_adapter(void)
{
	D3DKMT_ADAPTERINFO info[8];
	D3DKMT_ENUMADAPTERS2 ea;
	memset(&ea, 0, sizeof(ea));
	memset(info, 0, sizeof(info));
	ea.NumAdapters = 8;
	ea.pAdapters = info;
	step("enumerate adapters");
	expect_status(D3DKMTEnumAdapters2(&ea), STATUS_SUCCESS, "EnumAdapters2");
	expect(ea.NumAdapters >= 1, "no adapter enumerated");
	note("%" PRIu32 " adapter(s); the first: LUID %08" PRIx32 ":%08" PRIx32, ea.NumAdapters,
	     (uint32_t)info[0].AdapterLuid.HighPart, info[0].AdapterLuid.LowPart);

	step("open the first adapter by its LUID");
	D3DKMT_OPENADAPTERFROMLUID op;
	memset(&op, 0, sizeof(op));
	op.AdapterLuid = info[0].AdapterLuid;
	expect_status(D3DKMTOpenAdapterFromLuid(&op), STATUS_SUCCESS, "OpenAdapterFromLuid");
	expect(op.hAdapter != 0, "no adapter handle");
	g.adapter = op.hAdapter;
	/* Enumeration opened every adapter too; those handles are ours to close. */
	for (ULONG i = 0; i < ea.NumAdapters; i++) {
		D3DKMT_CLOSEADAPTER cl = { .hAdapter = info[i].hAdapter };
		expect_status(D3DKMTCloseAdapter(&cl), STATUS_SUCCESS, "CloseAdapter(enumerated handle)");
	}

	step("query the driver's WDDM version");
	D3DKMT_DRIVERVERSION ver = 0;
	D3DKMT_QUERYADAPTERINFO q;
	memset(&q, 0, sizeof(q));
	q.hAdapter = g.adapter;
	q.Type = KMTQAITYPE_DRIVERVERSION;
	q.pPrivateDriverData = &ver;
	q.PrivateDriverDataSize = sizeof(ver);
	expect_status(D3DKMTQueryAdapterInfo(&q), STATUS_SUCCESS, "QueryAdapterInfo(DRIVERVERSION)");
	note("driver version %d", (int)ver);
	expect(ver == KMT_DRIVERVERSION_WDDM_2_0, "the driver does not say WDDM 2.0 (GPU virtual addresses)");
}

static void create_device_queue_context(void)
{
	step("create a device");
	D3DKMT_CREATEDEVICE cd;
	memset(&cd, 0, sizeof(cd));
	cd.hAdapter = g.adapter;
	expect_status(D3DKMTCreateDevice(&cd), STATUS_SUCCESS, "CreateDevice");
	expect(cd.hDevice != 0, "no device handle");
	g.device = cd.hDevice;

	step("create a paging queue");
	D3DKMT_CREATEPAGINGQUEUE pq;
	memset(&pq, 0, sizeof(pq));
	pq.hDevice = g.device;
	pq.Priority = D3DDDI_PAGINGQUEUE_PRIORITY_NORMAL;
	expect_status(D3DKMTCreatePagingQueue(&pq), STATUS_SUCCESS, "CreatePagingQueue");
	expect(pq.hPagingQueue != 0 && pq.hSyncObject != 0, "no paging queue or paging fence handle");
	expect(pq.FenceValueCPUVirtualAddress != NULL, "no CPU mapping of the paging fence");
	g.queue = pq.hPagingQueue;
	g.paging_fence = pq.hSyncObject;
	g.paging_fence_cpu = pq.FenceValueCPUVirtualAddress;
	note("paging fence starts at %" PRIu64, *g.paging_fence_cpu);
	expect(*g.paging_fence_cpu == 0, "a new paging fence is not 0");

	step("create a virtual context");
	D3DKMT_CREATECONTEXTVIRTUAL cc;
	memset(&cc, 0, sizeof(cc));
	cc.hDevice = g.device;
	cc.NodeOrdinal = 0;
	cc.EngineAffinity = 0;
	cc.ClientHint = D3DKMT_CLIENTHINT_DX12;
	expect_status(D3DKMTCreateContextVirtual(&cc), STATUS_SUCCESS, "CreateContextVirtual");
	expect(cc.hContext != 0, "no context handle");
	g.context = cc.hContext;
}

static void create_allocations(void)
{
	/* The command buffer and the destination are written or read by the CPU;
	 * the source is GPU-only, in VRAM the CPU cannot reach. */
	struct gpusim_alloc_desc desc[A_COUNT];
	D3DDDI_ALLOCATIONINFO2 info[A_COUNT];
	memset(desc, 0, sizeof(desc));
	memset(info, 0, sizeof(info));
	for (int i = 0; i < A_COUNT; i++) {
		desc[i].version = GPUSIM_ALLOC_DESC_VERSION;
		desc[i].size = ALLOC_BYTES;
		desc[i].flags = i == A_SRC ? 0 : GPUSIM_ALLOC_CPU_VISIBLE;
		desc[i].preferred[0] = i == A_SRC ? GPUSIM_SEG_INVISIBLE : GPUSIM_SEG_VISIBLE;
		info[i].pPrivateDriverData = &desc[i];
		info[i].PrivateDriverDataSize = sizeof(desc[i]);
	}
	step("create three allocations of %u KiB (command buffer, source, destination)", ALLOC_BYTES / KIB);
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = g.device;
	ca.NumAllocations = A_COUNT;
	ca.pAllocationInfo2 = info;
	expect_status(D3DKMTCreateAllocation2(&ca), STATUS_SUCCESS, "CreateAllocation2");
	for (int i = 0; i < A_COUNT; i++) {
		expect(info[i].hAllocation != 0, "an allocation has no handle");
		g.alloc[i] = info[i].hAllocation;
		note("%s: handle 0x%08" PRIx32, alloc_name[i], g.alloc[i]);
	}
	expect(g.alloc[0] != g.alloc[1] && g.alloc[1] != g.alloc[2] && g.alloc[0] != g.alloc[2],
	       "two allocations share a handle");
}

static void map_allocations(void)
{
	/* One reservation for the three, a page of no-access gap after each, so that
	 * a stray access past an allocation faults instead of reaching the next. */
	const UINT64 stride = ALLOC_BYTES + PAGE;
	step("reserve %" PRIu64 " KiB of GPU virtual addresses", 3 * stride / KIB);
	D3DDDI_RESERVEGPUVIRTUALADDRESS r;
	memset(&r, 0, sizeof(r));
	r.hPagingQueue = g.queue;
	r.Size = 3 * stride;
	r.ReservationType = D3DDDIGPUVIRTUALADDRESS_RESERVE_NO_ACCESS;
	expect_status(D3DKMTReserveGpuVirtualAddress(&r), STATUS_SUCCESS, "ReserveGpuVirtualAddress");
	expect(r.VirtualAddress != 0 && r.VirtualAddress % PAGE == 0, "the reservation is not a page-aligned VA");
	g.base = r.VirtualAddress;
	note("reserved [0x%" PRIx64 ", 0x%" PRIx64 ")", (uint64_t)g.base, (uint64_t)(g.base + r.Size));

	UINT64 highest = 0;
	for (int i = 0; i < A_COUNT; i++) {
		step("map the %s into it", alloc_name[i]);
		D3DDDI_MAPGPUVIRTUALADDRESS m;
		memset(&m, 0, sizeof(m));
		m.hPagingQueue = g.queue;
		m.BaseAddress = g.base + (UINT64)i * stride;
		m.hAllocation = g.alloc[i];
		m.OffsetInPages = 0;
		m.SizeInPages = ALLOC_BYTES / PAGE;
		m.Protection.Write = 1;
		/* The page-table updates are paging operations: pending behind the queue's fence. */
		expect_status(D3DKMTMapGpuVirtualAddress(&m), STATUS_PENDING, "MapGpuVirtualAddress");
		expect(m.VirtualAddress == m.BaseAddress, "the mapping is not at the base asked for");
		expect(m.PagingFenceValue > highest, "the paging fence value does not grow from map to map");
		highest = m.PagingFenceValue;
		g.va[i] = m.VirtualAddress;
		note("VA 0x%" PRIx64 ", paging fence value %" PRIu64, (uint64_t)g.va[i], (uint64_t)m.PagingFenceValue);
	}
	step("wait from the CPU for the mappings' paging fence value %" PRIu64, highest);
	wait_paging(highest);
	g.last_paging_value = highest;
}

static void make_all_resident(void)
{
	step("make the three allocations resident through the paging queue");
	UINT64 value;
	NTSTATUS st = make_resident(g.alloc, A_COUNT, &value);
	/* Creation placed them (kmt/README.md, "Creation places"): nothing to page
	 * in, so SUCCESS with the queue's last value; PENDING would mean paging work. */
	expect_status(st, STATUS_SUCCESS, "MakeResident");
	note("paging fence value %" PRIu64, value);
	expect(value == g.last_paging_value, "MakeResident with nothing to do did not answer the queue's last value");
	wait_paging(value);
}

static void create_fence(void)
{
	step("create a monitored fence");
	D3DKMT_CREATESYNCHRONIZATIONOBJECT2 cs;
	memset(&cs, 0, sizeof(cs));
	cs.hDevice = g.device;
	cs.Info.Type = D3DDDI_MONITORED_FENCE;
	cs.Info.MonitoredFence.InitialFenceValue = 0;
	expect_status(D3DKMTCreateSynchronizationObject2(&cs), STATUS_SUCCESS, "CreateSynchronizationObject2");
	expect(cs.hSyncObject != 0, "no fence handle");
	expect(cs.Info.MonitoredFence.FenceValueCPUVirtualAddress != NULL, "no CPU mapping of the fence");
	expect(cs.Info.MonitoredFence.FenceValueGPUVirtualAddress != 0, "no GPU VA of the fence");
	g.fence = cs.hSyncObject;
	g.fence_cpu = cs.Info.MonitoredFence.FenceValueCPUVirtualAddress;
	g.fence_gpu = cs.Info.MonitoredFence.FenceValueGPUVirtualAddress;
	note("fence at GPU VA 0x%" PRIx64 ", value %" PRIu64, (uint64_t)g.fence_gpu, *g.fence_cpu);
	expect(*g.fence_cpu == 0, "the fence does not start at its initial value");
}

static void fill_copy_readback(void)
{
	step("submit FILL source, FILL destination, COPY source -> destination, FENCE 1");
	struct cmdbuf c = { .n = 0 };
	pkt_fill(&c, g.va[A_SRC], ALLOC_BYTES, SRC_VALUE);
	pkt_fill(&c, g.va[A_DST], ALLOC_BYTES, DST_VALUE);
	pkt_copy(&c, g.va[A_SRC] + COPY1_SRC, g.va[A_DST] + COPY1_DST, COPY1_LEN);
	pkt_fence(&c, g.fence_gpu, 1);
	submit(&c, 0);

	step("wait from the CPU for fence value 1");
	wait_fence(1);

	step("read the destination back");
	const uint8_t *d = lock(g.alloc[A_DST]);
	expect_dwords(d, 0, COPY1_DST, DST_VALUE, "FILL");
	expect_dwords(d, COPY1_DST, COPY1_DST + COPY1_LEN, SRC_VALUE, "COPY of the source's FILL");
	expect_dwords(d, COPY1_DST + COPY1_LEN, ALLOC_BYTES, DST_VALUE, "FILL");
	unlock(g.alloc[A_DST]);
}

static void fault_on_evicted(void)
{
	step("evict the source");
	D3DKMT_EVICT ev;
	memset(&ev, 0, sizeof(ev));
	ev.hDevice = g.device;
	ev.NumAllocations = 1;
	ev.AllocationList = &g.alloc[A_SRC];
	expect_status(D3DKMTEvict(&ev), STATUS_SUCCESS, "Evict");

	step("submit COPY from the evicted source, FILL destination, FENCE 2");
	struct cmdbuf c = { .n = 0 };
	pkt_copy(&c, g.va[A_SRC] + COPY2_SRC, g.va[A_DST] + COPY2_DST, COPY2_LEN);
	pkt_fill(&c, g.va[A_DST] + FILL2_DST, FILL2_LEN, AFTER_FAULT_VALUE);
	pkt_fence(&c, g.fence_gpu, 2);
	submit(&c, 1 * PAGE);

	/* kmt/README.md: a GPU page fault skips the faulting packet; the rest of the
	 * submission runs and its fence signals. */
	step("wait from the CPU for fence value 2");
	wait_fence(2);

	step("the device reports the page fault");
	D3DKMT_GETDEVICESTATE s;
	get_state(D3DKMT_DEVICESTATE_EXECUTION, &s);
	note("execution state %d", (int)s.ExecutionState);
	expect(s.ExecutionState == D3DKMT_DEVICEEXECUTION_ERROR_DMAPAGEFAULT,
	       "the execution state is not ERROR_DMAPAGEFAULT");
	get_state(D3DKMT_DEVICESTATE_PAGE_FAULT, &s);
	const D3DKMT_DEVICEPAGEFAULT_STATE *pf = &s.PageFaultState;
	if (pf->FaultErrorCode.IsDeviceSpecificCode)
		note("FaultedVirtualAddress 0x%" PRIx64 ", flags 0x%x, device-specific code %u",
		     (uint64_t)pf->FaultedVirtualAddress, (unsigned)pf->PageFaultFlags,
		     (unsigned)pf->FaultErrorCode.DeviceSpecificCode);
	else
		note("FaultedVirtualAddress 0x%" PRIx64 ", flags 0x%x, general code %u",
		     (uint64_t)pf->FaultedVirtualAddress, (unsigned)pf->PageFaultFlags,
		     (unsigned)pf->FaultErrorCode.GeneralErrorCode);
	expect(pf->FaultedVirtualAddress >= g.va[A_SRC] && pf->FaultedVirtualAddress < g.va[A_SRC] + ALLOC_BYTES,
	       "FaultedVirtualAddress is not inside the evicted source's VA range");
	/* hw/REGISTERS.md: the first byte that could not be accessed. */
	expect(pf->FaultedVirtualAddress == g.va[A_SRC] + COPY2_SRC,
	       "FaultedVirtualAddress is not the first byte the COPY read");
	expect(!pf->FaultErrorCode.IsDeviceSpecificCode &&
		       pf->FaultErrorCode.GeneralErrorCode == DXGK_GENERAL_ERROR_PAGE_FAULT,
	       "the error code is not DXGK_GENERAL_ERROR_PAGE_FAULT");
	expect(!(pf->PageFaultFlags & DXGK_PAGE_FAULT_WRITE), "a read fault is reported as a write");

	step("the faulting COPY had no effect; the packet after it ran");
	const uint8_t *d = lock(g.alloc[A_DST]);
	expect_dwords(d, COPY2_DST, COPY2_DST + COPY2_LEN, DST_VALUE, "untouched by the faulting COPY");
	expect_dwords(d, FILL2_DST, FILL2_DST + FILL2_LEN, AFTER_FAULT_VALUE, "FILL after the fault");
	unlock(g.alloc[A_DST]);
}

static void recover(void)
{
	step("make the source resident again");
	UINT64 value;
	/* Its bytes are in system memory: the copy engine brings them in behind the
	 * queue's next paging fence value. */
	expect_status(make_resident(&g.alloc[A_SRC], 1, &value), STATUS_PENDING, "MakeResident");
	note("paging fence value %" PRIu64, value);
	expect(value == g.last_paging_value + 1, "the page-in is not the queue's next paging fence value");
	g.last_paging_value = value;
	step("wait from the CPU for paging fence value %" PRIu64, value);
	wait_paging(value);

	step("submit the COPY again, FENCE 3");
	struct cmdbuf c = { .n = 0 };
	pkt_copy(&c, g.va[A_SRC] + COPY2_SRC, g.va[A_DST] + COPY2_DST, COPY2_LEN);
	pkt_fence(&c, g.fence_gpu, 3);
	submit(&c, 2 * PAGE);
	step("wait from the CPU for fence value 3");
	wait_fence(3);

	step("read the destination back: the source's bytes survived the eviction");
	const uint8_t *d = lock(g.alloc[A_DST]);
	expect_dwords(d, 0, COPY1_DST, DST_VALUE, "FILL");
	expect_dwords(d, COPY1_DST, COPY1_DST + COPY1_LEN, SRC_VALUE, "first COPY");
	expect_dwords(d, COPY1_DST + COPY1_LEN, COPY2_DST, DST_VALUE, "FILL");
	expect_dwords(d, COPY2_DST, COPY2_DST + COPY2_LEN, SRC_VALUE, "COPY after the page-in");
	expect_dwords(d, COPY2_DST + COPY2_LEN, FILL2_DST, DST_VALUE, "FILL");
	expect_dwords(d, FILL2_DST, FILL2_DST + FILL2_LEN, AFTER_FAULT_VALUE, "FILL after the fault");
	expect_dwords(d, FILL2_DST + FILL2_LEN, ALLOC_BYTES, DST_VALUE, "FILL");
	unlock(g.alloc[A_DST]);
}

static void tear_down(void)
{
	step("destroy everything");
	D3DKMT_DESTROYSYNCHRONIZATIONOBJECT ds = { .hSyncObject = g.fence };
	expect_status(D3DKMTDestroySynchronizationObject(&ds), STATUS_SUCCESS, "DestroySynchronizationObject");
	D3DKMT_DESTROYALLOCATION2 da;
	memset(&da, 0, sizeof(da));
	da.hDevice = g.device;
	da.phAllocationList = g.alloc;
	da.AllocationCount = A_COUNT;
	expect_status(D3DKMTDestroyAllocation2(&da), STATUS_SUCCESS, "DestroyAllocation2");
	D3DKMT_FREEGPUVIRTUALADDRESS fv;
	memset(&fv, 0, sizeof(fv));
	fv.hAdapter = g.adapter;
	fv.BaseAddress = g.base;
	fv.Size = 3 * (UINT64)(ALLOC_BYTES + PAGE);
	expect_status(D3DKMTFreeGpuVirtualAddress(&fv), STATUS_SUCCESS, "FreeGpuVirtualAddress");
	D3DKMT_DESTROYCONTEXT dc = { .hContext = g.context };
	expect_status(D3DKMTDestroyContext(&dc), STATUS_SUCCESS, "DestroyContext");
	D3DDDI_DESTROYPAGINGQUEUE dq = { .hPagingQueue = g.queue };
	expect_status(D3DKMTDestroyPagingQueue(&dq), STATUS_SUCCESS, "DestroyPagingQueue");
	D3DKMT_DESTROYDEVICE dd = { .hDevice = g.device };
	expect_status(D3DKMTDestroyDevice(&dd), STATUS_SUCCESS, "DestroyDevice");
	D3DKMT_CLOSEADAPTER cl = { .hAdapter = g.adapter };
	expect_status(D3DKMTCloseAdapter(&cl), STATUS_SUCCESS, "CloseAdapter");
}

int main(void)
{
	open_adapter();
	create_device_queue_context();
	create_allocations();
	map_allocations();
	make_all_resident();
	create_fence();
	fill_copy_readback();
	fault_on_evicted();
	recover();
	tear_down();
	printf("wddm2_client: all %d steps matched\n", step_no);
	return 0;
}
