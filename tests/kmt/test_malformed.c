/*
 * Malformed command buffers through the API, in both fault modes of the render
 * ring (ring_faults=skip, the default, and ring_faults=stop): D3DKMTRender and
 * D3DKMTSubmitCommand refuse, with STATUS_INVALID_PARAMETER and nothing made
 * resident or queued, a buffer whose packets do not tile it (a packet running past
 * CommandLength, a count the buffer cannot hold) or that holds the kernel's
 * packets; a well-framed buffer with an unknown opcode reaches the device, which
 * faults (PKT_OPCODE, in the event stream and the device state) and skips the
 * packet or stops the ring. A buffer that would cross the end of the render ring
 * goes in whole. Around every case, every allocation the buffer does not name
 * keeps its bytes, gpusim_idle returns and the next good submission works.
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpusim/hw.h>
#include "tests/kmt/kmt_helpers.h"
#include "tests/kmt/kmt_suites.h"

#define KIB 1024ull
#define PG 4096ull
#define CFG "vram=32M,visible=8M,gart=16M,sysmem=256M"

static const char *const mode_cfg[2] = { CFG, CFG ",ring_faults=stop" };
static const char *const mode_name[2] = { "skip", "stop" };

static struct kt_gpu g;

/* ---- what must not change --------------------------------------------------------- */

/* Allocations no malformed buffer names, one in each kind of memory, each with its
 * own pattern. */
static struct watched {
	D3DKMT_HANDLE h;
	uint64_t size;
	uint32_t seed;
} watched[3];

static void watch_setup(void)
{
	static const struct {
		uint64_t size;
		uint32_t flags, pref, allowed;
	} kinds[3] = {
		{ 64 * KIB, GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_VISIBLE, KT_SEG(VISIBLE) },
		{ 256 * KIB, 0, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE) | KT_SEG(VISIBLE) },
		{ 64 * KIB, GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_GART, KT_SEG(GART) },
	};
	for (unsigned i = 0; i < 3; i++) {
		struct gpusim_alloc_desc d = kt_desc(kinds[i].size, kinds[i].flags, kinds[i].pref, kinds[i].allowed);
		KT_ST_EQ(kt_alloc_on(g.device, &d, &watched[i].h), STATUS_SUCCESS);
		watched[i].size = kinds[i].size;
		watched[i].seed = 500 + i;
		KT_ST_EQ(kt_write(g.device, watched[i].h, watched[i].size, watched[i].seed), STATUS_SUCCESS);
	}
}

static void watch_check(const char *what)
{
	for (unsigned i = 0; i < 3; i++)
		ck_assert_msg(kt_verify(g.device, watched[i].h, watched[i].size, watched[i].seed),
			      "%s: watched allocation %u changed", what, i);
}

/* ---- events ----------------------------------------------------------------------- */

static unsigned n_submit, n_use, n_fault;
static uint32_t last_fault_cause;

static void listen(void *opaque, const struct gpusim_event *ev)
{
	(void)opaque;
	switch (ev->type) {
	case GPUSIM_EV_SUBMIT:
	case GPUSIM_EV_SUBMIT_VA:
		n_submit++;
		break;
	case GPUSIM_EV_USE:
		n_use++;
		break;
	case GPUSIM_EV_FAULT:
		n_fault++;
		last_fault_cause = ev->cause;
		break;
	default:
		break;
	}
}

static void setup_mode(int mode)
{
	kt_setup(&g, mode_cfg[mode]);
	watch_setup();
	n_submit = n_use = n_fault = 0;
	last_fault_cause = 0;
	ck_assert_uint_eq(gpusim_subscribe(g.luid, listen, NULL), STATUS_SUCCESS);
}

static void teardown_mode(void)
{
	gpusim_unsubscribe(g.luid, listen, NULL);
	kt_teardown(&g);
}

/* ---- command buffers -------------------------------------------------------------- */

static uint32_t *cmdbuf(void)
{
	return g.ctx.pCommandBuffer;
}

/* Allocation-list entry i is h; patch location p puts its address + offset at dword at. */
static void list(uint32_t i, D3DKMT_HANDLE h)
{
	memset(&g.ctx.pAllocationList[i], 0, sizeof(g.ctx.pAllocationList[i]));
	g.ctx.pAllocationList[i].hAllocation = h;
}

static void patch(uint32_t p, uint32_t index, uint32_t at, uint32_t offset)
{
	D3DDDI_PATCHLOCATIONLIST *pl = &g.ctx.pPatchLocationList[p];
	memset(pl, 0, sizeof(*pl));
	pl->AllocationIndex = index;
	pl->AllocationOffset = offset;
	pl->PatchOffset = at * 4;
}

static NTSTATUS render(uint32_t ndw, uint32_t nalloc, uint32_t npatch, bool null_rendering)
{
	D3DKMT_RENDER r;
	memset(&r, 0, sizeof(r));
	r.hContext = g.context;
	r.CommandLength = ndw * 4;
	r.AllocationCount = nalloc;
	r.PatchLocationCount = npatch;
	r.Flags.NullRendering = null_rendering;
	return D3DKMTRender(&r);
}

/* A FILL of `bytes` of allocation-list entry `index` at dword `at` (patch p). */
static uint32_t put_fill(uint32_t at, uint32_t p, uint32_t index, uint32_t bytes, uint32_t value)
{
	uint32_t *c = cmdbuf();
	c[at] = HW_PKT_HEADER(HW_PKT_FILL, 0, 5);
	c[at + 1] = c[at + 2] = 0xdeadbeef;
	c[at + 3] = bytes;
	c[at + 4] = 0;
	c[at + 5] = value;
	patch(p, index, at + 1, 0);
	return at + 6;
}

static D3DKMT_HANDLE cpu_alloc(uint64_t size)
{
	D3DKMT_HANDLE h;
	struct gpusim_alloc_desc d = kt_desc(size, GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_VISIBLE, 0);
	KT_ST_EQ(kt_alloc_on(g.device, &d, &h), STATUS_SUCCESS);
	return h;
}

static bool all_words(D3DKMT_HANDLE h, uint64_t size, uint32_t value)
{
	D3DKMT_LOCK2 lk = { .hDevice = g.device, .hAllocation = h };
	if (D3DKMTLock2(&lk) != STATUS_SUCCESS)
		return false;
	const uint32_t *p = lk.pData;
	bool ok = true;
	for (uint64_t i = 0; i < size / 4 && ok; i++)
		ok = p[i] == value;
	D3DKMT_UNLOCK2 ul = { .hDevice = g.device, .hAllocation = h };
	return D3DKMTUnlock2(&ul) == STATUS_SUCCESS && ok;
}

/* Evict undoes a MakeResident: both, so h ends in system memory. */
static void evict(D3DKMT_HANDLE h)
{
	D3DDDI_MAKERESIDENT mr;
	memset(&mr, 0, sizeof(mr));
	mr.hPagingQueue = g.device;
	mr.NumAllocations = 1;
	mr.AllocationList = &h;
	ck_assert_int_ge(D3DKMTMakeResident(&mr), 0);
	D3DKMT_EVICT ev;
	memset(&ev, 0, sizeof(ev));
	ev.hDevice = g.device;
	ev.NumAllocations = 1;
	ev.AllocationList = &h;
	KT_ST_EQ(D3DKMTEvict(&ev), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(h), GPUSIM_SEG_SYS);
}

/* The context still works: a FILL of h, run and read back. */
static void good_fill(D3DKMT_HANDLE h, uint64_t size, uint32_t value, const char *what)
{
	list(0, h);
	uint32_t n = put_fill(0, 0, 0, (uint32_t)size, value);
	KT_ST_EQ(render(n, 1, 1, false), STATUS_SUCCESS);
	kt_idle(&g);
	ck_assert_msg(all_words(h, size, value), "%s: the next good FILL did not land", what);
}

/* ---- the report ---------------------------------------------------------------------- */

/*
 * Issue 15 as reported: a FILL of X ran and finished; the CPU locked X and wrote
 * its own bytes; then a command buffer of one dword, a NOP header claiming 2000
 * body dwords, with CommandLength 4. Before the fix Render succeeded, gpusim_idle
 * never returned, and the FILL, still in the ring, ran again over the locked X.
 */
START_TEST(test_reported_nop_2000)
{
	setup_mode(_i);
	D3DKMT_HANDLE x = cpu_alloc(64 * KIB);
	good_fill(x, 64 * KIB, 0xaaaaaaaau, mode_name[_i]);
	D3DKMT_LOCK2 lk = { .hDevice = g.device, .hAllocation = x };
	KT_ST_EQ(D3DKMTLock2(&lk), STATUS_SUCCESS);
	kt_pattern(lk.pData, 64 * KIB, 99);
	struct gpusim_stats s0 = kt_stats(&g);
	unsigned submits = n_submit;

	cmdbuf()[0] = HW_PKT_HEADER(HW_PKT_NOP, 0, 2000);
	KT_ST_EQ(render(1, 0, 0, false), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(gpusim_idle(g.luid), STATUS_SUCCESS);

	ck_assert_msg(kt_pattern_ok(lk.pData, 64 * KIB, 99), "%s: the locked allocation lost its bytes",
		      mode_name[_i]);
	D3DKMT_UNLOCK2 ul = { .hDevice = g.device, .hAllocation = x };
	KT_ST_EQ(D3DKMTUnlock2(&ul), STATUS_SUCCESS);
	ck_assert(kt_verify(g.device, x, 64 * KIB, 99));
	struct gpusim_stats s1 = kt_stats(&g);
	ck_assert_uint_eq(s1.submits, s0.submits);
	ck_assert_uint_eq(s1.faults, s0.faults);
	ck_assert_uint_eq(n_submit, submits);
	watch_check(mode_name[_i]);
	good_fill(x, 64 * KIB, 0x12345678u, mode_name[_i]);
	ck_assert_uint_eq(kt_stats(&g).faults, 0);
	teardown_mode();
}
END_TEST

/* ---- Render ---------------------------------------------------------------------------- */

enum bad_shape {
	BAD_NOP_2000,     /* one dword claiming 2000 more */
	BAD_FILL_SHORT,   /* a FILL header and two of its five body dwords */
	BAD_COUNT_FFFF,   /* the largest count, in a buffer of two dwords */
	BAD_TAIL_HEADER,  /* a good FILL, then a header whose body is missing */
	BAD_SET_VM,       /* the kernel's */
	BAD_TLB_INVALIDATE,
	BAD_PATCH_HEADER, /* Render only: a patch location over a header */
	NBAD
};
static const char *const bad_names[] = { "nop-2000", "fill-short", "count-ffff", "tail-header",
					 "set-vm", "tlb-invalidate", "patch-over-header" };

/* The bad buffer in dwords (addresses patched to entry 0, which is `y`); how
 * many patch locations it has. */
static uint32_t build_bad(enum bad_shape shape, uint32_t *npatch)
{
	uint32_t *c = cmdbuf();
	*npatch = 0;
	switch (shape) {
	case BAD_NOP_2000:
		c[0] = HW_PKT_HEADER(HW_PKT_NOP, 0, 2000);
		return 1;
	case BAD_FILL_SHORT:
		c[0] = HW_PKT_HEADER(HW_PKT_FILL, 0, 5);
		c[1] = c[2] = 0;
		patch(0, 0, 1, 0);
		*npatch = 1;
		return 3;
	case BAD_COUNT_FFFF:
		c[0] = HW_PKT_HEADER(HW_PKT_NOP, 0, 0xffff);
		c[1] = HW_PKT_HEADER(HW_PKT_NOP, 0, 0);
		return 2;
	case BAD_TAIL_HEADER: {
		uint32_t n = put_fill(0, 0, 0, 4096, 0x0badf111u);
		c[n] = HW_PKT_HEADER(HW_PKT_WRITE_DATA, 0, 3);
		*npatch = 1;
		return n + 1;
	}
	case BAD_SET_VM:
		c[0] = HW_PKT_HEADER(HW_PKT_SET_VM, 0, 4);
		c[1] = c[2] = c[3] = c[4] = 0;
		return 5;
	case BAD_TLB_INVALIDATE:
		c[0] = HW_PKT_HEADER(HW_PKT_TLB_INVALIDATE, HW_PKT_TLBINV_ALL, 4);
		c[1] = c[2] = c[3] = c[4] = 0;
		return 5;
	case BAD_PATCH_HEADER:
	default: {
		uint32_t n = put_fill(0, 0, 0, 4096, 0x0badf111u);
		patch(1, 0, 0, 0); /* the FILL's header and its first body dword */
		*npatch = 2;
		return n;
	}
	}
}

/*
 * Each bad buffer through D3DKMTRender, normal and NullRendering, on an adapter
 * in each mode: refused before anything happens. Its allocation list names y,
 * evicted: it stays evicted (nothing was made resident for a refused buffer).
 */
START_TEST(test_render_refused)
{
	const int mode = _i % 2;
	const enum bad_shape shape = (enum bad_shape)(_i / 2);
	char what[64];
	snprintf(what, sizeof what, "Render %s, %s mode", bad_names[shape], mode_name[mode]);
	setup_mode(mode);
	D3DKMT_HANDLE y = cpu_alloc(64 * KIB);
	KT_ST_EQ(kt_write(g.device, y, 64 * KIB, 7), STATUS_SUCCESS);
	evict(y);
	struct gpusim_stats s0 = kt_stats(&g);
	n_submit = n_use = n_fault = 0; /* MakeResident was a use */

	for (int null_rendering = 0; null_rendering < 2; null_rendering++) {
		uint32_t npatch;
		list(0, y);
		uint32_t n = build_bad(shape, &npatch);
		NTSTATUS st = render(n, 1, npatch, null_rendering);
		ck_assert_msg(st == STATUS_INVALID_PARAMETER, "%s%s: status 0x%08x", what,
			      null_rendering ? " (NullRendering)" : "", (unsigned)st);
		KT_ST_EQ(gpusim_idle(g.luid), STATUS_SUCCESS);
	}
	struct gpusim_stats s1 = kt_stats(&g);
	ck_assert_msg(s1.submits == s0.submits && s1.faults == s0.faults && s1.page_ins == s0.page_ins,
		      "%s: submits %llu -> %llu, faults %llu -> %llu, page-ins %llu -> %llu", what,
		      (unsigned long long)s0.submits, (unsigned long long)s1.submits,
		      (unsigned long long)s0.faults, (unsigned long long)s1.faults,
		      (unsigned long long)s0.page_ins, (unsigned long long)s1.page_ins);
	ck_assert_msg(n_submit == 0 && n_use == 0 && n_fault == 0, "%s: events %u submit, %u use, %u fault", what,
		      n_submit, n_use, n_fault);
	ck_assert_msg(kt_segment(y) == GPUSIM_SEG_SYS, "%s: y was made resident", what);
	ck_assert(kt_verify(g.device, y, 64 * KIB, 7));
	watch_check(what);
	good_fill(y, 64 * KIB, 0x600d600du, what);
	teardown_mode();
}
END_TEST

/* ---- SubmitCommand ---------------------------------------------------------------------- */

static D3DKMT_HANDLE vctx, cmd, dst;
static uint64_t cmd_va, dst_va;

static void va_setup(void)
{
	vctx = kt_vctx(g.device);
	cmd = cpu_alloc(64 * KIB);
	dst = cpu_alloc(64 * KIB);
	cmd_va = dst_va = 0;
	ck_assert_int_eq(kt_va_map(g.device, cmd, 0, 16, false, &cmd_va), STATUS_PENDING);
	ck_assert_int_eq(kt_va_map(g.device, dst, 0, 16, false, &dst_va), STATUS_PENDING);
}

static uint32_t va_fill(uint32_t *p, uint64_t va, uint32_t bytes, uint32_t value)
{
	p[0] = HW_PKT_HEADER(HW_PKT_FILL, 0, 5);
	p[1] = (uint32_t)va;
	p[2] = (uint32_t)(va >> 32);
	p[3] = bytes;
	p[4] = 0;
	p[5] = value;
	return 6;
}

/* The same bad shapes by VA (no patches: the addresses are dst's VA). */
static uint32_t build_bad_va(enum bad_shape shape, uint32_t *p)
{
	switch (shape) {
	case BAD_NOP_2000:
		p[0] = HW_PKT_HEADER(HW_PKT_NOP, 0, 2000);
		return 1;
	case BAD_FILL_SHORT:
		p[0] = HW_PKT_HEADER(HW_PKT_FILL, 0, 5);
		p[1] = (uint32_t)dst_va;
		p[2] = (uint32_t)(dst_va >> 32);
		return 3;
	case BAD_COUNT_FFFF:
		p[0] = HW_PKT_HEADER(HW_PKT_NOP, 0, 0xffff);
		p[1] = HW_PKT_HEADER(HW_PKT_NOP, 0, 0);
		return 2;
	case BAD_TAIL_HEADER: {
		uint32_t n = va_fill(p, dst_va, 4096, 0x0badf111u);
		p[n] = HW_PKT_HEADER(HW_PKT_WRITE_DATA, 0, 3);
		return n + 1;
	}
	case BAD_SET_VM:
		p[0] = HW_PKT_HEADER(HW_PKT_SET_VM, 0, 4);
		p[1] = p[2] = p[3] = p[4] = 0;
		return 5;
	case BAD_TLB_INVALIDATE:
	default:
		p[0] = HW_PKT_HEADER(HW_PKT_TLB_INVALIDATE, HW_PKT_TLBINV_ALL, 4);
		p[1] = p[2] = p[3] = p[4] = 0;
		return 5;
	}
}

START_TEST(test_submit_command_refused)
{
	const int mode = _i % 2;
	const enum bad_shape shape = (enum bad_shape)(_i / 2);
	char what[64];
	snprintf(what, sizeof what, "SubmitCommand %s, %s mode", bad_names[shape], mode_name[mode]);
	setup_mode(mode);
	va_setup();
	KT_ST_EQ(kt_write(g.device, dst, 64 * KIB, 8), STATUS_SUCCESS);
	struct gpusim_stats s0 = kt_stats(&g);
	uint32_t p[16];
	uint32_t n = build_bad_va(shape, p);
	NTSTATUS st = kt_va_submit(g.device, vctx, cmd, cmd_va, p, n);
	ck_assert_msg(st == STATUS_INVALID_PARAMETER, "%s: status 0x%08x", what, (unsigned)st);
	KT_ST_EQ(gpusim_idle(g.luid), STATUS_SUCCESS);
	struct gpusim_stats s1 = kt_stats(&g);
	ck_assert_msg(s1.submits == s0.submits && s1.faults == s0.faults, "%s: submits or faults moved", what);
	ck_assert_msg(n_submit == 0 && n_fault == 0, "%s: events %u submit, %u fault", what, n_submit, n_fault);
	ck_assert(kt_verify(g.device, dst, 64 * KIB, 8));
	watch_check(what);
	/* The context goes on. */
	n = va_fill(p, dst_va, 64 * KIB, 0x600d600du);
	KT_ST_EQ(kt_va_submit(g.device, vctx, cmd, cmd_va, p, n), STATUS_SUCCESS);
	kt_idle(&g);
	ck_assert_msg(all_words(dst, 64 * KIB, 0x600d600du), "%s: the next good FILL did not land", what);
	teardown_mode();
}
END_TEST

/* ---- an unknown opcode reaches the device ------------------------------------------------ */

static NTSTATUS lock_nowait(D3DKMT_HANDLE h)
{
	D3DKMT_LOCK lk;
	memset(&lk, 0, sizeof(lk));
	lk.hDevice = g.device;
	lk.hAllocation = h;
	lk.Flags.DonotWait = 1;
	NTSTATUS st = D3DKMTLock(&lk);
	if (st == STATUS_SUCCESS) {
		D3DKMT_UNLOCK ul = { .hDevice = g.device, .NumAllocations = 1, .phAllocations = &h };
		KT_ST_EQ(D3DKMTUnlock(&ul), STATUS_SUCCESS);
	}
	return st;
}

/*
 * FILL a, an unknown opcode (well framed, so the driver passes it), FILL b: by
 * Render (_i / 2 == 0) or SubmitCommand. The device faults with PKT_OPCODE, told
 * by a fault event and the device state. Skipping, it runs the FILL of b and the
 * fence signals; stopped, b stays busy for good (a wait for it answers
 * STATUS_POSSIBLE_DEADLOCK, a failure, at once), later work queues and never
 * runs; either way gpusim_idle returns and the watched allocations keep their bytes.
 */
START_TEST(test_unknown_opcode)
{
	const int mode = _i % 2;
	const bool by_va = _i / 2;
	char what[64];
	snprintf(what, sizeof what, "%s, unknown opcode, %s mode", by_va ? "SubmitCommand" : "Render",
		 mode_name[mode]);
	setup_mode(mode);
	D3DKMT_HANDLE a = cpu_alloc(4096), b = cpu_alloc(4096);
	const uint32_t junk[3] = { HW_PKT_HEADER(0x7f, 0, 2), 0x12345678, 0x9abcdef0 };
	if (by_va) {
		va_setup();
		uint64_t a_va = 0, b_va = 0;
		ck_assert_int_eq(kt_va_map(g.device, a, 0, 1, false, &a_va), STATUS_PENDING);
		ck_assert_int_eq(kt_va_map(g.device, b, 0, 1, false, &b_va), STATUS_PENDING);
		uint32_t p[16], n = va_fill(p, a_va, 4096, 0xa1a1a1a1u);
		memcpy(p + n, junk, sizeof junk);
		n += 3;
		n += va_fill(p + n, b_va, 4096, 0xb2b2b2b2u);
		KT_ST_EQ(kt_va_submit(g.device, vctx, cmd, cmd_va, p, n), STATUS_SUCCESS);
	} else {
		list(0, a);
		list(1, b);
		uint32_t n = put_fill(0, 0, 0, 4096, 0xa1a1a1a1u);
		memcpy(cmdbuf() + n, junk, sizeof junk);
		n += 3;
		n = put_fill(n, 1, 1, 4096, 0xb2b2b2b2u);
		KT_ST_EQ(render(n, 2, 2, false), STATUS_SUCCESS);
	}
	KT_ST_EQ(gpusim_idle(g.luid), STATUS_SUCCESS);
	ck_assert_msg(n_fault == 1 && last_fault_cause == HW_FAULT_PKT_OPCODE, "%s: %u faults, last cause %u", what,
		      n_fault, last_fault_cause);
	ck_assert_uint_eq(kt_stats(&g).faults, 1);
	D3DKMT_GETDEVICESTATE ds;
	memset(&ds, 0, sizeof(ds));
	ds.hDevice = g.device;
	ds.StateType = D3DKMT_DEVICESTATE_PAGE_FAULT;
	KT_ST_EQ(D3DKMTGetDeviceState(&ds), STATUS_SUCCESS);
	ck_assert_uint_eq(ds.PageFaultState.FaultErrorCode.IsDeviceSpecificCode, 0);
	ck_assert_uint_eq(ds.PageFaultState.FaultErrorCode.GeneralErrorCode, DXGK_GENERAL_ERROR_INVALID_INSTRUCTION);
	if (mode == 0) {
		ck_assert_msg(all_words(a, 4096, 0xa1a1a1a1u), "%s: the FILL before the bad packet", what);
		ck_assert_msg(all_words(b, 4096, 0xb2b2b2b2u), "%s: the FILL after the skipped packet", what);
	} else if (by_va) {
		/* Nothing lists them: the CPU reads them at once. */
		ck_assert_msg(all_words(a, 4096, 0xa1a1a1a1u), "%s: the FILL before the bad packet", what);
		ck_assert_msg(!all_words(b, 4096, 0xb2b2b2b2u), "%s: the FILL after the stop ran", what);
	} else {
		/* The manager knows both are the stopped submission's, for good. */
		for (int i = 0; i < 2; i++) {
			D3DKMT_HANDLE h = i ? b : a;
			ck_assert_int_eq(lock_nowait(h), STATUS_GRAPHICS_ALLOCATION_BUSY);
			D3DKMT_LOCK2 lk = { .hDevice = g.device, .hAllocation = h };
			ck_assert_int_eq(D3DKMTLock2(&lk), STATUS_POSSIBLE_DEADLOCK);
			ck_assert_ptr_null(lk.pData);
		}
	}
	watch_check(what);
	if (mode == 1) {
		/* Queued behind the stopped packet: accepted, never run. */
		D3DKMT_HANDLE c = cpu_alloc(4096);
		KT_ST_EQ(kt_write(g.device, c, 4096, 3), STATUS_SUCCESS);
		list(0, c);
		uint32_t n = put_fill(0, 0, 0, 4096, 0xc3c3c3c3u);
		KT_ST_EQ(render(n, 1, 1, false), STATUS_SUCCESS);
		KT_ST_EQ(gpusim_idle(g.luid), STATUS_SUCCESS);
		ck_assert_int_eq(lock_nowait(c), STATUS_GRAPHICS_ALLOCATION_BUSY);
		ck_assert_uint_eq(kt_stats(&g).faults, 1);
		watch_check(what);
	} else {
		good_fill(a, 4096, 0x600d600du, what);
	}
	teardown_mode();
}
END_TEST

/*
 * ring_faults=stop: behind a stopped ring, Renders are taken until the ring is
 * full; the next one cannot wait for room that will never come and answers
 * STATUS_POSSIBLE_DEADLOCK (a failure), not STATUS_TIMEOUT (a success to
 * NT_SUCCESS), having queued nothing; the watched memory keeps its bytes.
 */
START_TEST(test_stopped_ring_fills)
{
	setup_mode(1);
	D3DKMT_HANDLE h = cpu_alloc(4096);
	cmdbuf()[0] = HW_PKT_HEADER(0x7f, 0, 0);
	KT_ST_EQ(render(1, 0, 0, false), STATUS_SUCCESS);
	KT_ST_EQ(gpusim_idle(g.luid), STATUS_SUCCESS);
	ck_assert_uint_eq(n_fault, 1);
	NTSTATUS st = STATUS_SUCCESS;
	unsigned taken = 0;
	while (st == STATUS_SUCCESS && taken < 100000) {
		list(0, h);
		uint32_t n = put_fill(0, 0, 0, 4096, taken);
		st = render(n, 1, 1, false);
		taken += st == STATUS_SUCCESS;
	}
	ck_assert_int_eq(st, STATUS_POSSIBLE_DEADLOCK);
	/* 256 KiB of ring, 11 dwords a submission (the FILL and the kernel's fence). */
	ck_assert_uint_gt(taken, 5000);
	ck_assert_uint_lt(taken, 6000);
	ck_assert_uint_eq(kt_stats(&g).submits, 1 + taken);
	KT_ST_EQ(gpusim_idle(g.luid), STATUS_SUCCESS);
	ck_assert_uint_eq(n_fault, 1);
	watch_check("a full stopped ring");
	teardown_mode();
}
END_TEST

/* ---- the ring's end -------------------------------------------------------------------- */

/*
 * Buffers of every length from 1 to 13 dwords short of the ring's end, over and
 * over, lap after lap of the 256 KiB render ring: whatever does not fit before
 * the end goes in whole at the start. No fault, every FILL lands, in both modes
 * (a wrap inside a packet would stop the ring in one and lose a FILL in the other).
 */
START_TEST(test_buffers_round_the_ring)
{
	setup_mode(_i);
	D3DKMT_HANDLE h = cpu_alloc(4096);
	uint32_t value = 0;
	/* A FILL plus a NOP of k dwords: 7 + k dwords, plus the kernel's 5-dword
	 * fence: laps of 256 KiB take a few thousand of them. */
	for (unsigned i = 0; i < 6000; i++) {
		uint32_t k = i % 13;
		list(0, h);
		uint32_t n = put_fill(0, 0, 0, 4096, ++value);
		cmdbuf()[n] = HW_PKT_HEADER(HW_PKT_NOP, 0, k);
		memset(cmdbuf() + n + 1, 0xff, 4 * k);
		KT_ST_EQ(render(n + 1 + k, 1, 1, false), STATUS_SUCCESS);
		if (i % 997 == 0) {
			kt_idle(&g);
			ck_assert_msg(all_words(h, 4096, value), "%s mode: submission %u", mode_name[_i], i);
		}
	}
	kt_idle(&g);
	ck_assert(all_words(h, 4096, value));
	ck_assert_uint_eq(kt_stats(&g).faults, 0);
	ck_assert_uint_eq(n_fault, 0);
	watch_check(mode_name[_i]);
	teardown_mode();
}
END_TEST

Suite *kmt_malformed_suite(void)
{
	Suite *s = suite_create("kmt_malformed");
	TCase *tc = tcase_create("malformed");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_reported_nop_2000, 0, 2);
	tcase_add_loop_test(tc, test_render_refused, 0, 2 * NBAD);
	tcase_add_loop_test(tc, test_submit_command_refused, 0, 2 * BAD_PATCH_HEADER);
	tcase_add_loop_test(tc, test_unknown_opcode, 0, 4);
	tcase_add_test(tc, test_stopped_ring_fills);
	tcase_add_loop_test(tc, test_buffers_round_the_ring, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
