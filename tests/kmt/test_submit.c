/*
 * Submission: D3DKMTRender patches allocation addresses into the command buffer,
 * makes the allocation list resident first, refuses (having run nothing) a list
 * that cannot fit VRAM plus the GART, and validates everything; work that touches
 * memory its list does not cover faults as on hardware and the device says so;
 * synchronization objects signalled behind submitted work.
 */
#include <config.h>

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "tests/kmt/kmt_helpers.h"
#include "tests/kmt/kmt_suites.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define PG 4096ull

#define CFG "vram=32M,visible=8M,gart=16M,sysmem=256M"
/* VRAM plus GART segments: ~3.7 + 4 + 3 MiB. */
#define CFG_SMALL "vram=8M,visible=4M,gart=4M,sysmem=64M"

/* ---- helpers ----------------------------------------------------------------- */


static D3DKMT_HANDLE cpu_alloc(struct kt_gpu *g, uint64_t size)
{
	D3DKMT_HANDLE h;
	struct gpusim_alloc_desc d = kt_desc(size, GPUSIM_ALLOC_CPU_VISIBLE, 0, 0);
	KT_ST_EQ(kt_alloc_on(g->device, &d, &h), STATUS_SUCCESS);
	return h;
}

/* Every 32-bit word of the allocation is `value`. */
static bool all_words(D3DKMT_HANDLE dev, D3DKMT_HANDLE h, uint64_t size, uint32_t value)
{
	D3DKMT_LOCK2 lk = { .hDevice = dev, .hAllocation = h };
	if (D3DKMTLock2(&lk) != STATUS_SUCCESS)
		return false;
	const uint32_t *p = lk.pData;
	bool ok = true;
	for (uint64_t i = 0; i < size / 4 && ok; i++)
		ok = p[i] == value;
	D3DKMT_UNLOCK2 ul = { .hDevice = dev, .hAllocation = h };
	return D3DKMTUnlock2(&ul) == STATUS_SUCCESS && ok;
}

static uint32_t read_word(D3DKMT_HANDLE dev, D3DKMT_HANDLE h, uint64_t offset)
{
	D3DKMT_LOCK2 lk = { .hDevice = dev, .hAllocation = h };
	KT_ST_EQ(D3DKMTLock2(&lk), STATUS_SUCCESS);
	uint32_t v;
	memcpy(&v, (const uint8_t *)lk.pData + offset, 4);
	D3DKMT_UNLOCK2 ul = { .hDevice = dev, .hAllocation = h };
	KT_ST_EQ(D3DKMTUnlock2(&ul), STATUS_SUCCESS);
	return v;
}

static void fill(struct kt_gpu *g, D3DKMT_HANDLE h, uint64_t size, uint32_t value)
{
	kt_cmd_begin(g);
	kt_cmd_fill(g, h, size, value);
	KT_ST_EQ(kt_cmd_submit(g), STATUS_SUCCESS);
}

static void resident_then_evict(D3DKMT_HANDLE dev, D3DKMT_HANDLE h)
{
	D3DDDI_MAKERESIDENT mr;
	memset(&mr, 0, sizeof(mr));
	mr.hPagingQueue = dev;
	mr.NumAllocations = 1;
	mr.AllocationList = &h;
	ck_assert_int_ge(D3DKMTMakeResident(&mr), 0);
	D3DKMT_EVICT ev;
	memset(&ev, 0, sizeof(ev));
	ev.hDevice = dev;
	ev.NumAllocations = 1;
	ev.AllocationList = &h;
	KT_ST_EQ(D3DKMTEvict(&ev), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(h), GPUSIM_SEG_SYS);
}

/* The Render call for what g has built, without submitting it. */
static void render_args(const struct kt_gpu *g, D3DKMT_RENDER *r)
{
	memset(r, 0, sizeof(*r));
	r->hContext = g->context;
	r->CommandLength = g->ndw * 4;
	r->AllocationCount = g->nalloc;
	r->PatchLocationCount = g->npatch;
}

static D3DKMT_GETDEVICESTATE device_state(D3DKMT_HANDLE dev, D3DKMT_DEVICESTATE_TYPE type)
{
	D3DKMT_GETDEVICESTATE ds;
	memset(&ds, 0, sizeof(ds));
	ds.hDevice = dev;
	ds.StateType = type;
	KT_ST_EQ(D3DKMTGetDeviceState(&ds), STATUS_SUCCESS);
	return ds;
}

/* ---- patching and the packets ---------------------------------------------------- */

START_TEST(test_fill)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a = cpu_alloc(&g, 256 * KIB);
	KT_ST_EQ(kt_write(g.device, a, 256 * KIB, 1), STATUS_SUCCESS);
	uint64_t submits = kt_stats(&g).submits;
	fill(&g, a, 256 * KIB, 0xfeedf00du);
	ck_assert_uint_eq(kt_stats(&g).submits, submits + 1);
	kt_idle(&g);
	ck_assert(all_words(g.device, a, 256 * KIB, 0xfeedf00du));
	kt_teardown(&g);
}
END_TEST

/* The patched address is right wherever the allocation lives: either VRAM
 * segment or the GART aperture. */
START_TEST(test_fill_every_segment)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	const uint32_t segs[3] = { GPUSIM_SEG_VISIBLE, GPUSIM_SEG_INVISIBLE, GPUSIM_SEG_GART };
	D3DKMT_HANDLE h[3];
	for (int i = 0; i < 3; i++) {
		KT_ST_EQ(kt_alloc(&g, 64 * KIB, segs[i], GPUSIM_SEG_BIT(segs[i]) | KT_SEG(VISIBLE), &h[i]),
		      STATUS_SUCCESS);
		ck_assert_uint_eq(kt_segment(h[i]), segs[i]);
	}
	kt_cmd_begin(&g);
	for (int i = 0; i < 3; i++)
		kt_cmd_fill(&g, h[i], 64 * KIB, 0x10101010u * (uint32_t)(i + 1));
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	kt_idle(&g);
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(kt_segment(h[i]), segs[i]); /* already resident: not moved */
		ck_assert_msg(all_words(g.device, h[i], 64 * KIB, 0x10101010u * (uint32_t)(i + 1)),
			      "fill of segment %u", segs[i]);
	}
	kt_teardown(&g);
}
END_TEST

START_TEST(test_copy)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE src = cpu_alloc(&g, 512 * KIB), dst;
	KT_ST_EQ(kt_alloc(&g, 512 * KIB, GPUSIM_SEG_GART, 0, &dst), STATUS_SUCCESS);
	KT_ST_EQ(kt_write(g.device, src, 512 * KIB, 31), STATUS_SUCCESS);
	kt_cmd_begin(&g);
	kt_cmd_copy(&g, src, dst, 512 * KIB);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	kt_idle(&g);
	ck_assert(kt_verify(g.device, dst, 512 * KIB, 31));
	ck_assert(kt_verify(g.device, src, 512 * KIB, 31));
	kt_teardown(&g);
}
END_TEST

START_TEST(test_checksum)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a = cpu_alloc(&g, MIB), b;
	KT_ST_EQ(kt_write(g.device, a, MIB, 77), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_gpu_crc(&g, a, MIB), kt_pattern_crc(MIB, 77));
	/* A part of it, and a copy in invisible VRAM. */
	ck_assert_uint_eq(kt_gpu_crc(&g, a, 12 * KIB), kt_pattern_crc(12 * KIB, 77));
	KT_ST_EQ(kt_alloc(&g, MIB, GPUSIM_SEG_INVISIBLE, 0, &b), STATUS_SUCCESS);
	kt_cmd_begin(&g);
	kt_cmd_copy(&g, a, b, MIB);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_gpu_crc(&g, b, MIB), kt_pattern_crc(MIB, 77));
	ck_assert_uint_ne(kt_pattern_crc(MIB, 77), kt_pattern_crc(MIB, 78));
	kt_teardown(&g);
}
END_TEST

/* A patch location's AllocationOffset is added to the allocation's address. */
START_TEST(test_patch_offset)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a = cpu_alloc(&g, 64 * KIB), out = cpu_alloc(&g, PG);
	KT_ST_EQ(kt_write(g.device, a, 64 * KIB, 5), STATUS_SUCCESS);
	KT_ST_EQ(kt_write(g.device, out, PG, 6), STATUS_SUCCESS);
	kt_cmd_begin(&g);
	kt_cmd_checksum(&g, a, 64 * KIB, out, 2048 + 12);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	kt_idle(&g);
	uint32_t want = kt_pattern_crc(64 * KIB, 5);
	ck_assert_uint_eq(read_word(g.device, out, 2048 + 12), want);
	/* Nothing else was written. */
	D3DKMT_LOCK2 lk = { .hDevice = g.device, .hAllocation = out };
	KT_ST_EQ(D3DKMTLock2(&lk), STATUS_SUCCESS);
	ck_assert(kt_pattern_ok(lk.pData, 2048 + 12, 6));
	uint8_t tail[PG];
	kt_pattern(tail, PG, 6);
	ck_assert_mem_eq((uint8_t *)lk.pData + 2048 + 16, tail + 2048 + 16, PG - 2048 - 16);
	D3DKMT_UNLOCK2 ul = { .hDevice = g.device, .hAllocation = out };
	KT_ST_EQ(D3DKMTUnlock2(&ul), STATUS_SUCCESS);
	kt_teardown(&g);
}
END_TEST

/* Render hands back the buffers for the next submission. */
START_TEST(test_render_outputs)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a = cpu_alloc(&g, PG);
	kt_cmd_begin(&g);
	kt_cmd_fill(&g, a, PG, 1);
	D3DKMT_RENDER r;
	render_args(&g, &r);
	KT_ST_EQ(D3DKMTRender(&r), STATUS_SUCCESS);
	ck_assert_ptr_eq(r.pNewCommandBuffer, g.ctx.pCommandBuffer);
	ck_assert_uint_eq(r.NewCommandBufferSize, g.ctx.CommandBufferSize);
	ck_assert_ptr_eq(r.pNewAllocationList, g.ctx.pAllocationList);
	ck_assert_uint_eq(r.NewAllocationListSize, g.ctx.AllocationListSize);
	ck_assert_ptr_eq(r.pNewPatchLocationList, g.ctx.pPatchLocationList);
	ck_assert_uint_eq(r.NewPatchLocationListSize, g.ctx.PatchLocationListSize);
	kt_idle(&g);
	ck_assert(all_words(g.device, a, PG, 1));
	kt_teardown(&g);
}
END_TEST

/* The commands may start anywhere in the buffer; patch offsets count from its start. */
START_TEST(test_render_command_offset)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a = cpu_alloc(&g, 64 * KIB);
	kt_cmd_begin(&g);
	memset(g.ctx.pCommandBuffer, 0xff, 64); /* not packets: must not run */
	g.ndw = 16;
	kt_cmd_fill(&g, a, 64 * KIB, 0x0ff5e7u);
	D3DKMT_RENDER r;
	render_args(&g, &r);
	r.CommandOffset = 64;
	r.CommandLength = (g.ndw - 16) * 4;
	ck_assert_uint_ge(g.ctx.pPatchLocationList[0].PatchOffset, 64);
	KT_ST_EQ(D3DKMTRender(&r), STATUS_SUCCESS);
	kt_idle(&g);
	ck_assert_uint_eq(kt_stats(&g).faults, 0);
	ck_assert(all_words(g.device, a, 64 * KIB, 0x0ff5e7u));
	kt_teardown(&g);
}
END_TEST

/* ---- the allocation list is made resident first ---------------------------------- */

START_TEST(test_list_made_resident_after_evict)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a, b, c;
	KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &a), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &b), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &c), STATUS_SUCCESS);
	KT_ST_EQ(kt_write(g.device, a, MIB, 12), STATUS_SUCCESS);
	KT_ST_EQ(kt_write(g.device, c, MIB, 13), STATUS_SUCCESS);
	resident_then_evict(g.device, a);
	resident_then_evict(g.device, c);
	uint64_t page_ins = kt_stats(&g).page_ins;

	kt_cmd_begin(&g);
	kt_cmd_copy(&g, a, b, MIB);
	kt_cmd_fill(&g, c, MIB, 0x3c3c3c3cu);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	ck_assert_uint_ne(kt_segment(a), GPUSIM_SEG_SYS);
	ck_assert_uint_ne(kt_segment(c), GPUSIM_SEG_SYS);
	ck_assert_uint_ge(kt_stats(&g).page_ins, page_ins + 2);
	kt_idle(&g);
	ck_assert(kt_verify(g.device, b, MIB, 12));
	ck_assert(kt_verify(g.device, a, MIB, 12));
	ck_assert(all_words(g.device, c, MIB, 0x3c3c3c3cu));
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_list_made_resident_after_pressure)
{
	struct kt_gpu g;
	kt_setup(&g, CFG_SMALL);
	D3DKMT_HANDLE h[12];
	for (int i = 0; i < 12; i++) {
		KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &h[i]), STATUS_SUCCESS);
		KT_ST_EQ(kt_write(g.device, h[i], MIB, 200 + i), STATUS_SUCCESS);
	}
	int evicted = -1;
	for (int i = 0; i < 12 && evicted < 0; i++)
		if (kt_segment(h[i]) == GPUSIM_SEG_SYS)
			evicted = i;
	ck_assert_msg(evicted >= 0, "12 MiB in ~10.7 MiB of segments and nothing evicted?");
	ck_assert_uint_eq(kt_gpu_crc(&g, h[evicted], MIB), kt_pattern_crc(MIB, 200 + evicted));
	ck_assert_uint_ne(kt_segment(h[evicted]), GPUSIM_SEG_SYS);
	/* Every one of them through the GPU, one submission each. */
	for (int i = 0; i < 12; i++)
		ck_assert_msg(kt_gpu_crc(&g, h[i], MIB) == kt_pattern_crc(MIB, 200 + i), "allocation %d", i);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* NullRendering validates and makes resident, but runs nothing. */
START_TEST(test_null_rendering)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a;
	KT_ST_EQ(kt_alloc(&g, 64 * KIB, 0, 0, &a), STATUS_SUCCESS);
	KT_ST_EQ(kt_write(g.device, a, 64 * KIB, 8), STATUS_SUCCESS);
	resident_then_evict(g.device, a);
	uint64_t submits = kt_stats(&g).submits;
	kt_cmd_begin(&g);
	kt_cmd_fill(&g, a, 64 * KIB, 0);
	D3DKMT_RENDER r;
	render_args(&g, &r);
	r.Flags.NullRendering = 1;
	KT_ST_EQ(D3DKMTRender(&r), STATUS_SUCCESS);
	ck_assert_uint_ne(kt_segment(a), GPUSIM_SEG_SYS);
	kt_idle(&g);
	ck_assert_uint_eq(kt_stats(&g).submits, submits);
	ck_assert(kt_verify(g.device, a, 64 * KIB, 8));
	kt_teardown(&g);
}
END_TEST

/* Destroying an allocation the GPU still uses waits for it: the memory that is
 * handed out next does not receive the old work's bytes. */
START_TEST(test_destroy_while_busy)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	struct gpusim_alloc_desc d = kt_desc(4 * MIB, GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_VISIBLE, KT_SEG(VISIBLE));
	D3DKMT_HANDLE a, b;
	KT_ST_EQ(kt_alloc_on(g.device, &d, &a), STATUS_SUCCESS);
	uint64_t off = kt_query(a).offset;
	fill(&g, a, 4 * MIB, 0xaaaaaaaau);
	KT_ST_EQ(kt_free(g.device, a), STATUS_SUCCESS); /* no idle before */
	KT_ST_EQ(kt_alloc_on(g.device, &d, &b), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_query(b).offset, off);     /* the same memory */
	KT_ST_EQ(kt_write(g.device, b, 4 * MIB, 61), STATUS_SUCCESS);
	kt_idle(&g);
	ck_assert(kt_verify(g.device, b, 4 * MIB, 61));
	kt_teardown(&g);
}
END_TEST

/* A locked allocation in its backing store is rendered from the GART, through the
 * very pages the CPU holds: both see the same bytes. */
START_TEST(test_render_locked_in_sys)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a;
	KT_ST_EQ(kt_alloc(&g, 64 * KIB, 0, 0, &a), STATUS_SUCCESS);
	resident_then_evict(g.device, a);
	D3DKMT_LOCK2 lk = { .hDevice = g.device, .hAllocation = a };
	KT_ST_EQ(D3DKMTLock2(&lk), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(a), GPUSIM_SEG_SYS);
	uint32_t *p = lk.pData;
	kt_pattern(p, 64 * KIB, 17);
	ck_assert_uint_eq(kt_gpu_crc(&g, a, 64 * KIB), kt_pattern_crc(64 * KIB, 17));
	ck_assert_uint_eq(kt_segment(a), GPUSIM_SEG_GART);
	fill(&g, a, 64 * KIB, 0x5eed5eedu);
	kt_idle(&g);
	ck_assert_uint_eq(p[0], 0x5eed5eedu);
	ck_assert_uint_eq(p[64 * KIB / 4 - 1], 0x5eed5eedu);
	D3DKMT_UNLOCK2 ul = { .hDevice = g.device, .hAllocation = a };
	KT_ST_EQ(D3DKMTUnlock2(&ul), STATUS_SUCCESS);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* ...but one that may only live in VRAM cannot be rendered while locked there. */
START_TEST(test_render_locked_vram_only)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a;
	KT_ST_EQ(kt_alloc(&g, 64 * KIB, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE), &a), STATUS_SUCCESS);
	D3DKMT_LOCK2 lk = { .hDevice = g.device, .hAllocation = a };
	KT_ST_EQ(D3DKMTLock2(&lk), STATUS_SUCCESS);  /* out to its backing store, for the CPU */
	ck_assert_uint_eq(kt_segment(a), GPUSIM_SEG_SYS);
	kt_pattern(lk.pData, 64 * KIB, 23);
	uint64_t submits = kt_stats(&g).submits;
	kt_cmd_begin(&g);
	kt_cmd_use(&g, a);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_GRAPHICS_CANT_RENDER_LOCKED_ALLOCATION);
	ck_assert_uint_eq(kt_stats(&g).submits, submits);
	ck_assert_uint_eq(kt_segment(a), GPUSIM_SEG_SYS);
	D3DKMT_UNLOCK2 ul = { .hDevice = g.device, .hAllocation = a };
	KT_ST_EQ(D3DKMTUnlock2(&ul), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_gpu_crc(&g, a, 64 * KIB), kt_pattern_crc(64 * KIB, 23));
	ck_assert_uint_eq(kt_segment(a), GPUSIM_SEG_INVISIBLE);
	kt_teardown(&g);
}
END_TEST

/* ---- faults ----------------------------------------------------------------------- */

START_TEST(test_page_fault_unmapped)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	ck_assert_int_eq(device_state(g.device, D3DKMT_DEVICESTATE_EXECUTION).ExecutionState,
			 D3DKMT_DEVICEEXECUTION_ACTIVE);
	/* Far beyond the 16 MiB aperture: nothing can map it. */
	const uint64_t addr = HW_GART_BASE_DEFAULT + 64ull * 1024 * MIB;
	D3DKMT_HANDLE a = cpu_alloc(&g, PG);
	kt_cmd_begin(&g);
	kt_cmd_fill(&g, a, PG, 0x1111u);
	kt_cmd_write_raw(&g, addr, 0xbadu);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	kt_idle(&g);
	ck_assert_uint_eq(kt_stats(&g).faults, 1);
	D3DKMT_GETDEVICESTATE ds = device_state(g.device, D3DKMT_DEVICESTATE_PAGE_FAULT);
	ck_assert_uint_eq(ds.PageFaultState.FaultedVirtualAddress, addr);
	ck_assert_uint_eq(ds.PageFaultState.FaultErrorCode.IsDeviceSpecificCode, 0);
	ck_assert_uint_eq(ds.PageFaultState.FaultErrorCode.GeneralErrorCode, DXGK_GENERAL_ERROR_PAGE_FAULT);
	ck_assert_int_eq(device_state(g.device, D3DKMT_DEVICESTATE_EXECUTION).ExecutionState,
			 D3DKMT_DEVICEEXECUTION_ERROR_DMAPAGEFAULT);
	/* The rest of the submission ran. */
	ck_assert(all_words(g.device, a, PG, 0x1111u));
	kt_teardown(&g);
}
END_TEST

/* An error in the work rather than in its addresses is a DMA fault, not a page fault. */
START_TEST(test_dma_error)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a = cpu_alloc(&g, PG);
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_DMA_ERROR, 0), STATUS_SUCCESS);
	fill(&g, a, PG, 1);
	kt_idle(&g);
	ck_assert_uint_eq(kt_stats(&g).faults, 1);
	ck_assert_int_eq(device_state(g.device, D3DKMT_DEVICESTATE_EXECUTION).ExecutionState,
			 D3DKMT_DEVICEEXECUTION_ERROR_DMAFAULT);
	D3DKMT_DEVICEPAGEFAULT_STATE pf = device_state(g.device, D3DKMT_DEVICESTATE_PAGE_FAULT).PageFaultState;
	ck_assert_uint_eq(pf.FaultErrorCode.IsDeviceSpecificCode, 1);
	ck_assert_uint_eq(pf.FaultErrorCode.DeviceSpecificCode, HW_FAULT_DMA);
	/* Only the next packet: the next submission runs. */
	fill(&g, a, PG, 2);
	kt_idle(&g);
	ck_assert(all_words(g.device, a, PG, 2));
	ck_assert_uint_eq(kt_stats(&g).faults, 1);
	kt_teardown(&g);
}
END_TEST

/* The fault is the submitting device's: another device on the adapter is fine. */
START_TEST(test_page_fault_blames_its_device)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	D3DKMT_CREATECONTEXT c2;
	memset(&c2, 0, sizeof(c2));
	c2.hDevice = dev2;
	KT_ST_EQ(D3DKMTCreateContext(&c2), STATUS_SUCCESS);
	/* dev2 submits good work first, then g faults. */
	struct gpusim_alloc_desc d = kt_desc(PG, GPUSIM_ALLOC_CPU_VISIBLE, 0, 0);
	D3DKMT_HANDLE b;
	KT_ST_EQ(kt_alloc_on(dev2, &d, &b), STATUS_SUCCESS);
	struct kt_gpu g2 = g;
	g2.device = dev2;
	g2.context = c2.hContext;
	g2.ctx = c2;
	kt_cmd_begin(&g2);
	kt_cmd_fill(&g2, b, PG, 0x2222u);
	KT_ST_EQ(kt_cmd_submit(&g2), STATUS_SUCCESS);
	kt_cmd_begin(&g);
	kt_cmd_write_raw(&g, HW_GART_BASE_DEFAULT + 64ull * 1024 * MIB + 4096, 1);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	kt_idle(&g);
	ck_assert_uint_eq(kt_stats(&g).faults, 1);
	ck_assert_int_eq(device_state(g.device, D3DKMT_DEVICESTATE_EXECUTION).ExecutionState,
			 D3DKMT_DEVICEEXECUTION_ERROR_DMAPAGEFAULT);
	ck_assert_int_eq(device_state(dev2, D3DKMT_DEVICESTATE_EXECUTION).ExecutionState,
			 D3DKMT_DEVICEEXECUTION_ACTIVE);
	ck_assert(all_words(dev2, b, PG, 0x2222u));
	kt_teardown(&g);
}
END_TEST

/* A submission that forgot an allocation in its list: its old GART address is
 * unmapped once it was evicted, and the write faults there instead of reaching
 * the allocation's bytes. */
START_TEST(test_page_fault_forgotten_allocation)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a;
	KT_ST_EQ(kt_alloc(&g, PG, GPUSIM_SEG_GART, KT_SEG(GART), &a), STATUS_SUCCESS);
	KT_ST_EQ(kt_write(g.device, a, PG, 99), STATUS_SUCCESS);
	uint64_t addr = kt_query(a).gpu_address;
	ck_assert_uint_ge(addr, HW_GART_BASE_DEFAULT);
	resident_then_evict(g.device, a);
	kt_cmd_begin(&g);
	kt_cmd_write_raw(&g, addr, 0xdeadu);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	kt_idle(&g);
	ck_assert_uint_eq(kt_stats(&g).faults, 1);
	ck_assert_uint_eq(device_state(g.device, D3DKMT_DEVICESTATE_PAGE_FAULT).PageFaultState.FaultedVirtualAddress,
			  addr);
	ck_assert(kt_verify(g.device, a, PG, 99));
	kt_teardown(&g);
}
END_TEST

/* After removal: contexts, sync objects and device state answer
 * STATUS_DEVICE_REMOVED; destroying them still works. */
START_TEST(test_removed_device_submit_objects)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	const volatile uint64_t *cpu;
	D3DKMT_CREATESYNCHRONIZATIONOBJECT2 cs;
	memset(&cs, 0, sizeof(cs));
	cs.hDevice = g.device;
	cs.Info.Type = D3DDDI_MONITORED_FENCE;
	KT_ST_EQ(D3DKMTCreateSynchronizationObject2(&cs), STATUS_SUCCESS);
	cpu = cs.Info.MonitoredFence.FenceValueCPUVirtualAddress;
	D3DKMT_HANDLE f = cs.hSyncObject;
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_DEVICE_REMOVED, 0), STATUS_SUCCESS);

	D3DKMT_CREATECONTEXT c2;
	memset(&c2, 0, sizeof(c2));
	c2.hDevice = g.device;
	KT_ST_EQ(D3DKMTCreateContext(&c2), STATUS_DEVICE_REMOVED);
	ck_assert_uint_eq(c2.hContext, 0);
	cs.hSyncObject = 0;
	KT_ST_EQ(D3DKMTCreateSynchronizationObject2(&cs), STATUS_DEVICE_REMOVED);
	ck_assert_uint_eq(cs.hSyncObject, 0);
	D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2 sg;
	memset(&sg, 0, sizeof(sg));
	sg.hContext = g.context;
	sg.ObjectCount = 1;
	sg.ObjectHandleArray[0] = f;
	sg.Fence.FenceValue = 1;
	KT_ST_EQ(D3DKMTSignalSynchronizationObject2(&sg), STATUS_DEVICE_REMOVED);
	ck_assert_uint_eq(*cpu, 0);
	D3DKMT_GETDEVICESTATE ds;
	memset(&ds, 0, sizeof(ds));
	ds.hDevice = g.device;
	ds.StateType = D3DKMT_DEVICESTATE_EXECUTION;
	KT_ST_EQ(D3DKMTGetDeviceState(&ds), STATUS_DEVICE_REMOVED);
	ck_assert_int_eq(gpusim_idle(g.luid), STATUS_DEVICE_REMOVED);
	D3DKMT_DESTROYSYNCHRONIZATIONOBJECT dso = { .hSyncObject = f };
	KT_ST_EQ(D3DKMTDestroySynchronizationObject(&dso), STATUS_SUCCESS);
	D3DKMT_DESTROYCONTEXT dc = { .hContext = g.context };
	KT_ST_EQ(D3DKMTDestroyContext(&dc), STATUS_SUCCESS);
	D3DKMT_DESTROYDEVICE dd = { .hDevice = g.device };
	KT_ST_EQ(D3DKMTDestroyDevice(&dd), STATUS_SUCCESS);
	kt_teardown(&g);
}
END_TEST

/* ---- virtualization failing for one submission ------------------------------------ */

START_TEST(test_list_too_big)
{
	struct kt_gpu g;
	kt_setup(&g, CFG_SMALL);
	enum { N = 12 };
	D3DKMT_HANDLE h[N];
	for (int i = 0; i < N; i++) {
		KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &h[i]), STATUS_SUCCESS);
		KT_ST_EQ(kt_write(g.device, h[i], MIB, 300 + i), STATUS_SUCCESS);
	}
	struct gpusim_stats s0 = kt_stats(&g);
	uint64_t cap = s0.seg[GPUSIM_SEG_VISIBLE].size + s0.seg[GPUSIM_SEG_INVISIBLE].size + s0.seg[GPUSIM_SEG_GART].size;
	ck_assert_uint_gt(N * MIB, cap);
	ck_assert_uint_ge(g.ctx.AllocationListSize, N);

	kt_cmd_begin(&g);
	kt_cmd_fill(&g, h[0], MIB, 0);
	for (int i = 1; i < N; i++)
		kt_cmd_use(&g, h[i]);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_NO_VIDEO_MEMORY);
	kt_idle(&g);
	struct gpusim_stats s1 = kt_stats(&g);
	ck_assert_uint_eq(s1.submits, s0.submits);
	ck_assert_uint_eq(s1.faults, 0);
	for (int i = 0; i < N; i++)
		ck_assert_msg(kt_verify(g.device, h[i], MIB, 300 + i), "allocation %d damaged", i);
	kt_assert_invariants(&g);
	/* Half of it fits: the same work goes through. */
	kt_cmd_begin(&g);
	kt_cmd_fill(&g, h[0], MIB, 0);
	for (int i = 1; i < N / 2; i++)
		kt_cmd_use(&g, h[i]);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	kt_idle(&g);
	ck_assert(all_words(g.device, h[0], MIB, 0));
	ck_assert_uint_eq(kt_stats(&g).submits, s0.submits + 1);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_render_device_removed)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a = cpu_alloc(&g, PG);
	uint64_t submits = kt_stats(&g).submits;
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_DEVICE_REMOVED, 0), STATUS_SUCCESS);
	kt_cmd_begin(&g);
	kt_cmd_fill(&g, a, PG, 1);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_DEVICE_REMOVED);
	ck_assert_uint_eq(kt_stats(&g).submits, submits);
	D3DKMT_DESTROYCONTEXT dc = { .hContext = g.context };
	KT_ST_EQ(D3DKMTDestroyContext(&dc), STATUS_SUCCESS);
	kt_teardown(&g);
}
END_TEST

/* ---- Render validation ------------------------------------------------------------ *
 * Each starts from a valid fill of `t` (test_render_valid shows it valid), breaks one
 * thing, and expects STATUS_INVALID_PARAMETER with nothing submitted or run. */

struct bad {
	struct kt_gpu g;
	D3DKMT_RENDER r;
	D3DKMT_HANDLE t;
};

static void bad_setup(struct bad *b)
{
	kt_setup(&b->g, CFG);
	b->t = cpu_alloc(&b->g, 64 * KIB);
	KT_ST_EQ(kt_write(b->g.device, b->t, 64 * KIB, 5), STATUS_SUCCESS);
	kt_cmd_begin(&b->g);
	kt_cmd_fill(&b->g, b->t, 64 * KIB, 0x11111111u);
	render_args(&b->g, &b->r);
}

static void bad_check(struct bad *b)
{
	uint64_t submits = kt_stats(&b->g).submits;
	NTSTATUS st = D3DKMTRender(&b->r);
	ck_assert_msg(st == STATUS_INVALID_PARAMETER, "status 0x%08x, expected STATUS_INVALID_PARAMETER",
		      (unsigned)st);
	kt_idle(&b->g);
	ck_assert_uint_eq(kt_stats(&b->g).submits, submits);
	ck_assert(kt_verify(b->g.device, b->t, 64 * KIB, 5));
	kt_teardown(&b->g);
}

#define BAD_RENDER(name, ...)      \
	START_TEST(name)           \
	{                          \
		struct bad b;      \
		bad_setup(&b);     \
		__VA_ARGS__;       \
		bad_check(&b);     \
	}                          \
	END_TEST

START_TEST(test_render_valid)
{
	struct bad b;
	bad_setup(&b);
	uint64_t submits = kt_stats(&b.g).submits;
	KT_ST_EQ(D3DKMTRender(&b.r), STATUS_SUCCESS);
	kt_idle(&b.g);
	ck_assert_uint_eq(kt_stats(&b.g).submits, submits + 1);
	ck_assert(all_words(b.g.device, b.t, 64 * KIB, 0x11111111u));
	kt_teardown(&b.g);
}
END_TEST

START_TEST(test_render_null)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	KT_ST_EQ(D3DKMTRender(NULL), STATUS_INVALID_PARAMETER);
	kt_teardown(&g);
}
END_TEST

BAD_RENDER(test_render_bad_context_zero, b.r.hContext = 0)
BAD_RENDER(test_render_bad_context_is_device, b.r.hContext = b.g.device)
BAD_RENDER(test_render_bad_context_is_allocation, b.r.hContext = b.t)
BAD_RENDER(test_render_bad_context_stale, {
	D3DKMT_CREATECONTEXT c2;
	memset(&c2, 0, sizeof(c2));
	c2.hDevice = b.g.device;
	KT_ST_EQ(D3DKMTCreateContext(&c2), STATUS_SUCCESS);
	D3DKMT_DESTROYCONTEXT dc = { .hContext = c2.hContext };
	KT_ST_EQ(D3DKMTDestroyContext(&dc), STATUS_SUCCESS);
	b.r.hContext = c2.hContext;
})
BAD_RENDER(test_render_bad_context_virtual, {
	D3DKMT_CREATECONTEXTVIRTUAL cv;
	memset(&cv, 0, sizeof(cv));
	cv.hDevice = b.g.device;
	KT_ST_EQ(D3DKMTCreateContextVirtual(&cv), STATUS_SUCCESS);
	b.r.hContext = cv.hContext; /* has no command buffer to render */
})
BAD_RENDER(test_render_bad_length_not_dwords, b.r.CommandLength -= 2)
BAD_RENDER(test_render_bad_offset_not_dwords, {
	b.r.CommandOffset = 2;
	b.r.CommandLength -= 4;
})
BAD_RENDER(test_render_bad_beyond_buffer, b.r.CommandLength = b.g.ctx.CommandBufferSize + 4)
BAD_RENDER(test_render_bad_offset_beyond_buffer, b.r.CommandOffset = b.g.ctx.CommandBufferSize - 4)
BAD_RENDER(test_render_bad_alloc_count, b.r.AllocationCount = b.g.ctx.AllocationListSize + 1)
BAD_RENDER(test_render_bad_patch_count, b.r.PatchLocationCount = b.g.ctx.PatchLocationListSize + 1)
BAD_RENDER(test_render_bad_patch_beyond_command, b.g.ctx.pPatchLocationList[0].PatchOffset = b.r.CommandLength - 4)
BAD_RENDER(test_render_bad_patch_not_dword, b.g.ctx.pPatchLocationList[0].PatchOffset += 2)
BAD_RENDER(test_render_bad_patch_before_offset, {
	b.r.CommandOffset = 8; /* the fill's first patch is at byte 4 */
	b.r.CommandLength -= 8;
})
BAD_RENDER(test_render_bad_patch_index, b.g.ctx.pPatchLocationList[0].AllocationIndex = b.r.AllocationCount)
BAD_RENDER(test_render_bad_patch_no_list, b.r.AllocationCount = 0)
BAD_RENDER(test_render_bad_patch_alloc_offset, b.g.ctx.pPatchLocationList[0].AllocationOffset = 64 * KIB)
BAD_RENDER(test_render_bad_list_handle, {
	D3DKMT_HANDLE gone;
	KT_ST_EQ(kt_alloc(&b.g, PG, 0, 0, &gone), STATUS_SUCCESS);
	KT_ST_EQ(kt_free(b.g.device, gone), STATUS_SUCCESS);
	b.g.ctx.pAllocationList[0].hAllocation = gone;
})
BAD_RENDER(test_render_bad_list_other_device, {
	D3DKMT_HANDLE dev2 = kt_new_device(&b.g), other;
	struct gpusim_alloc_desc d = kt_desc(64 * KIB, 0, 0, 0);
	KT_ST_EQ(kt_alloc_on(dev2, &d, &other), STATUS_SUCCESS);
	b.g.ctx.pAllocationList[0].hAllocation = other;
})
BAD_RENDER(test_render_bad_list_flags, b.g.ctx.pAllocationList[0].Value = 0x20u)
BAD_RENDER(test_render_bad_flags, {
	UINT v = 0x80u;
	memcpy(&b.r.Flags, &v, sizeof(v));
})
BAD_RENDER(test_render_bad_private_data, b.r.PrivateDriverDataSize = 16)

/* ---- synchronization objects ------------------------------------------------------- */

static D3DKMT_HANDLE make_fence(D3DKMT_HANDLE dev, uint64_t initial, const volatile uint64_t **cpu)
{
	D3DKMT_CREATESYNCHRONIZATIONOBJECT2 cs;
	memset(&cs, 0, sizeof(cs));
	cs.hDevice = dev;
	cs.Info.Type = D3DDDI_MONITORED_FENCE;
	cs.Info.MonitoredFence.InitialFenceValue = initial;
	KT_ST_EQ(D3DKMTCreateSynchronizationObject2(&cs), STATUS_SUCCESS);
	ck_assert_uint_ne(cs.hSyncObject, 0);
	ck_assert_ptr_nonnull(cs.Info.MonitoredFence.FenceValueCPUVirtualAddress);
	*cpu = cs.Info.MonitoredFence.FenceValueCPUVirtualAddress;
	return cs.hSyncObject;
}

static NTSTATUS signal_obj(D3DKMT_HANDLE ctx, D3DKMT_HANDLE obj, uint64_t value)
{
	D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2 s;
	memset(&s, 0, sizeof(s));
	s.hContext = ctx;
	s.ObjectCount = 1;
	s.ObjectHandleArray[0] = obj;
	s.Fence.FenceValue = value;
	return D3DKMTSignalSynchronizationObject2(&s);
}

static NTSTATUS wait_obj(D3DKMT_HANDLE ctx, D3DKMT_HANDLE obj, uint64_t value)
{
	D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2 w;
	memset(&w, 0, sizeof(w));
	w.hContext = ctx;
	w.ObjectCount = 1;
	w.ObjectHandleArray[0] = obj;
	w.Fence.FenceValue = value;
	return D3DKMTWaitForSynchronizationObject2(&w);
}

static NTSTATUS destroy_sync(D3DKMT_HANDLE h)
{
	D3DKMT_DESTROYSYNCHRONIZATIONOBJECT d = { .hSyncObject = h };
	return D3DKMTDestroySynchronizationObject(&d);
}

START_TEST(test_monitored_fence_after_work)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	const volatile uint64_t *cpu;
	D3DKMT_HANDLE f = make_fence(g.device, 3, &cpu);
	ck_assert_uint_eq(*cpu, 3);
	D3DKMT_HANDLE a = cpu_alloc(&g, 2 * MIB);
	fill(&g, a, 2 * MIB, 0x600d600du);
	KT_ST_EQ(signal_obj(g.context, f, 5), STATUS_SUCCESS);
	/* Signalled behind the fill, which the GPU has not run yet. */
	ck_assert_uint_lt(*cpu, 5);
	kt_idle(&g);
	ck_assert_uint_eq(*cpu, 5);
	ck_assert(all_words(g.device, a, 2 * MIB, 0x600d600du));
	KT_ST_EQ(destroy_sync(f), STATUS_SUCCESS);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_wait_for_fence)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	const volatile uint64_t *cpu;
	D3DKMT_HANDLE f = make_fence(g.device, 0, &cpu);
	D3DKMT_HANDLE a = cpu_alloc(&g, 2 * MIB);
	fill(&g, a, 2 * MIB, 0x0badcafeu);
	KT_ST_EQ(signal_obj(g.context, f, 7), STATUS_SUCCESS);
	KT_ST_EQ(wait_obj(g.context, f, 7), STATUS_SUCCESS);
	ck_assert_uint_ge(*cpu, 7);
	/* The work behind the signal is done: the allocation is not busy. */
	D3DKMT_LOCK lk;
	memset(&lk, 0, sizeof(lk));
	lk.hDevice = g.device;
	lk.hAllocation = a;
	lk.Flags.DonotWait = 1;
	KT_ST_EQ(D3DKMTLock(&lk), STATUS_SUCCESS);
	const uint32_t *p = lk.pData;
	ck_assert_uint_eq(p[0], 0x0badcafeu);
	ck_assert_uint_eq(p[2 * MIB / 4 - 1], 0x0badcafeu);
	D3DKMT_UNLOCK ul;
	memset(&ul, 0, sizeof(ul));
	ul.hDevice = g.device;
	ul.NumAllocations = 1;
	ul.phAllocations = &a;
	KT_ST_EQ(D3DKMTUnlock(&ul), STATUS_SUCCESS);
	/* A value already reached: returns at once. */
	KT_ST_EQ(wait_obj(g.context, f, 6), STATUS_SUCCESS);
	kt_teardown(&g);
}
END_TEST

/* Signalled with nothing queued, the value is there at once. */
START_TEST(test_signal_when_idle)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	const volatile uint64_t *cpu;
	D3DKMT_HANDLE f = make_fence(g.device, 0, &cpu);
	kt_idle(&g);
	KT_ST_EQ(signal_obj(g.context, f, 1), STATUS_SUCCESS);
	ck_assert_uint_eq(*cpu, 1);
	KT_ST_EQ(signal_obj(g.context, f, 1000), STATUS_SUCCESS);
	ck_assert_uint_eq(*cpu, 1000);
	/* A monitored fence only moves forward. */
	KT_ST_EQ(signal_obj(g.context, f, 999), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(signal_obj(g.context, f, 1000), STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(*cpu, 1000);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_sync_create_invalid)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_CREATESYNCHRONIZATIONOBJECT2 cs;
	KT_ST_EQ(D3DKMTCreateSynchronizationObject2(NULL), STATUS_INVALID_PARAMETER);
	memset(&cs, 0, sizeof(cs));
	cs.Info.Type = D3DDDI_MONITORED_FENCE;
	cs.hDevice = 0;
	KT_ST_EQ(D3DKMTCreateSynchronizationObject2(&cs), STATUS_INVALID_PARAMETER);
	cs.hDevice = g.context;
	KT_ST_EQ(D3DKMTCreateSynchronizationObject2(&cs), STATUS_INVALID_PARAMETER);
	cs.hDevice = g.result;
	KT_ST_EQ(D3DKMTCreateSynchronizationObject2(&cs), STATUS_INVALID_PARAMETER);
	cs.hDevice = g.device;
	cs.Info.Type = (D3DDDI_SYNCHRONIZATIONOBJECT_TYPE)0;
	KT_ST_EQ(D3DKMTCreateSynchronizationObject2(&cs), STATUS_INVALID_PARAMETER);
	cs.Info.Type = (D3DDDI_SYNCHRONIZATIONOBJECT_TYPE)99;
	KT_ST_EQ(D3DKMTCreateSynchronizationObject2(&cs), STATUS_INVALID_PARAMETER);
	cs.Info.Type = D3DDDI_MONITORED_FENCE;
	cs.Info.Flags.Value = 0x40000000u; /* reserved */
	KT_ST_EQ(D3DKMTCreateSynchronizationObject2(&cs), STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(cs.hSyncObject, 0);
	cs.Info.Flags.Value = 0;
	KT_ST_EQ(D3DKMTCreateSynchronizationObject2(&cs), STATUS_SUCCESS);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_sync_signal_wait_invalid)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	const volatile uint64_t *cpu, *cpu2;
	D3DKMT_HANDLE f = make_fence(g.device, 0, &cpu);
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	D3DKMT_HANDLE f2 = make_fence(dev2, 0, &cpu2);
	D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2 s;
	D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2 w;

	KT_ST_EQ(D3DKMTSignalSynchronizationObject2(NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(signal_obj(0, f, 1), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(signal_obj(g.device, f, 1), STATUS_INVALID_PARAMETER);  /* a device is not a context */
	KT_ST_EQ(signal_obj(g.context, 0, 1), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(signal_obj(g.context, g.result, 1), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(signal_obj(g.context, f2, 1), STATUS_INVALID_PARAMETER); /* another device's object */
	memset(&s, 0, sizeof(s));
	s.hContext = g.context;
	s.ObjectHandleArray[0] = f;
	s.Fence.FenceValue = 1;
	s.ObjectCount = 0;
	KT_ST_EQ(D3DKMTSignalSynchronizationObject2(&s), STATUS_INVALID_PARAMETER);
	s.ObjectCount = D3DDDI_MAX_OBJECT_SIGNALED + 1;
	KT_ST_EQ(D3DKMTSignalSynchronizationObject2(&s), STATUS_INVALID_PARAMETER);
	s.ObjectCount = 1;
	s.Flags.Value = 0x100u; /* reserved */
	KT_ST_EQ(D3DKMTSignalSynchronizationObject2(&s), STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(*cpu, 0);
	ck_assert_uint_eq(*cpu2, 0);

	KT_ST_EQ(D3DKMTWaitForSynchronizationObject2(NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(wait_obj(0, f, 0), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(wait_obj(g.device, f, 0), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(wait_obj(g.context, 0, 0), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(wait_obj(g.context, f2, 0), STATUS_INVALID_PARAMETER);
	memset(&w, 0, sizeof(w));
	w.hContext = g.context;
	w.ObjectHandleArray[0] = f;
	w.ObjectCount = 0;
	KT_ST_EQ(D3DKMTWaitForSynchronizationObject2(&w), STATUS_INVALID_PARAMETER);
	w.ObjectCount = D3DDDI_MAX_OBJECT_WAITED_ON + 1;
	KT_ST_EQ(D3DKMTWaitForSynchronizationObject2(&w), STATUS_INVALID_PARAMETER);

	/* Destroyed objects are gone for every call. */
	KT_ST_EQ(D3DKMTDestroySynchronizationObject(NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(destroy_sync(0), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(destroy_sync(g.context), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(destroy_sync(f), STATUS_SUCCESS);
	KT_ST_EQ(destroy_sync(f), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(signal_obj(g.context, f, 1), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(wait_obj(g.context, f, 0), STATUS_INVALID_PARAMETER);
	kt_teardown(&g);
}
END_TEST

/* ---- the suite ---------------------------------------------------------------------- */

Suite *kmt_submit_suite(void)
{
	Suite *s = suite_create("kmt_submit");
	TCase *tc = tcase_create("packets");
	tcase_add_test(tc, test_fill);
	tcase_add_test(tc, test_fill_every_segment);
	tcase_add_test(tc, test_copy);
	tcase_add_test(tc, test_checksum);
	tcase_add_test(tc, test_patch_offset);
	tcase_add_test(tc, test_render_outputs);
	tcase_add_test(tc, test_render_command_offset);
	suite_add_tcase(s, tc);

	tc = tcase_create("residency");
	tcase_add_test(tc, test_list_made_resident_after_evict);
	tcase_add_test(tc, test_list_made_resident_after_pressure);
	tcase_add_test(tc, test_null_rendering);
	tcase_add_test(tc, test_list_too_big);
	tcase_add_test(tc, test_destroy_while_busy);
	tcase_add_test(tc, test_render_locked_in_sys);
	tcase_add_test(tc, test_render_locked_vram_only);
	suite_add_tcase(s, tc);

	tc = tcase_create("faults");
	tcase_add_test(tc, test_page_fault_unmapped);
	tcase_add_test(tc, test_page_fault_blames_its_device);
	tcase_add_test(tc, test_dma_error);
	tcase_add_test(tc, test_page_fault_forgotten_allocation);
	tcase_add_test(tc, test_render_device_removed);
	tcase_add_test(tc, test_removed_device_submit_objects);
	suite_add_tcase(s, tc);

	tc = tcase_create("validation");
	tcase_add_test(tc, test_render_valid);
	tcase_add_test(tc, test_render_null);
	tcase_add_test(tc, test_render_bad_context_zero);
	tcase_add_test(tc, test_render_bad_context_is_device);
	tcase_add_test(tc, test_render_bad_context_is_allocation);
	tcase_add_test(tc, test_render_bad_context_stale);
	tcase_add_test(tc, test_render_bad_context_virtual);
	tcase_add_test(tc, test_render_bad_length_not_dwords);
	tcase_add_test(tc, test_render_bad_offset_not_dwords);
	tcase_add_test(tc, test_render_bad_beyond_buffer);
	tcase_add_test(tc, test_render_bad_offset_beyond_buffer);
	tcase_add_test(tc, test_render_bad_alloc_count);
	tcase_add_test(tc, test_render_bad_patch_count);
	tcase_add_test(tc, test_render_bad_patch_beyond_command);
	tcase_add_test(tc, test_render_bad_patch_not_dword);
	tcase_add_test(tc, test_render_bad_patch_before_offset);
	tcase_add_test(tc, test_render_bad_patch_index);
	tcase_add_test(tc, test_render_bad_patch_no_list);
	tcase_add_test(tc, test_render_bad_patch_alloc_offset);
	tcase_add_test(tc, test_render_bad_list_handle);
	tcase_add_test(tc, test_render_bad_list_other_device);
	tcase_add_test(tc, test_render_bad_list_flags);
	tcase_add_test(tc, test_render_bad_flags);
	tcase_add_test(tc, test_render_bad_private_data);
	suite_add_tcase(s, tc);

	tc = tcase_create("sync");
	tcase_add_test(tc, test_monitored_fence_after_work);
	tcase_add_test(tc, test_wait_for_fence);
	tcase_add_test(tc, test_signal_when_idle);
	tcase_add_test(tc, test_sync_create_invalid);
	tcase_add_test(tc, test_sync_signal_wait_invalid);
	suite_add_tcase(s, tc);
	return s;
}
