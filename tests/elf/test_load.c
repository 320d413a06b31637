/*
 * Loading ELF images into allocations and submitting their packets on a
 * simulated GPU: alignment of the GPU address, the file's bytes and zeros
 * wherever a segment lands, read-only segments refused to CPU writers and
 * faulting GPU writes in the GART, all-or-nothing loads, uploads into invisible
 * VRAM that fault (redone, or the load fails), relocation.
 */
#include <config.h>

#include <check.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <gpusim/gpusim.h>
#include "sim/elf/image.h"
#include "tests/elf/build_elf.h"
#include "tests/elf/image_suites.h"
#include "tests/kmt/kmt_helpers.h"

/* Visible ~7.6 MiB after the driver's rings and GART table (4 KiB-aligned
 * only), invisible 24 MiB at 8 MiB, GART segment 15 MiB at 1 TiB. */
#define CONFIG "vram=32M,visible=8M,gart=16M,sysmem=256M"

static struct elfimg *image_of(const struct tb_seg *segs, size_t n)
{
	struct tb_image im = { ELFCLASS64, 0, 0, segs, n };
	uint8_t *buf;
	size_t len;
	char *path = tb_write(&im, &buf, &len);
	struct elfimg *img = NULL;
	char err[512] = "";
	ck_assert_msg(elfimg_read(path, NULL, &img, err, sizeof err) == 0, "%s", err);
	unlink(path);
	free(path);
	free(buf);
	return img;
}

static struct elfimg_target target(struct kt_gpu *g)
{
	return (struct elfimg_target){
		.device = g->device, .context = g->context,
		.cmdbuf = g->ctx.pCommandBuffer, .cmdbuf_size = g->ctx.CommandBufferSize,
		.alist = g->ctx.pAllocationList, .alist_size = g->ctx.AllocationListSize,
		.plist = g->ctx.pPatchLocationList, .plist_size = g->ctx.PatchLocationListSize,
	};
}

static NTSTATUS load(struct kt_gpu *g, const struct elfimg *img, uint32_t pref0, uint32_t allowed,
		     D3DKMT_HANDLE *h, char *err, size_t errlen)
{
	struct elfimg_placement pl = { { pref0, 0, 0 }, allowed, 0 };
	struct elfimg_target t = target(g);
	return elfimg_load(img, &t, &pl, h, err, errlen);
}

static void load_ok(struct kt_gpu *g, const struct elfimg *img, uint32_t pref0, uint32_t allowed, D3DKMT_HANDLE *h)
{
	char err[512] = "";
	NTSTATUS st = load(g, img, pref0, allowed, h, err, sizeof err);
	ck_assert_msg(st == STATUS_SUCCESS, "load: 0x%08x %s", (unsigned)st, err);
}

/* A copy of an allocation's first `size` bytes, read through a ReadOnly lock. */
static uint8_t *read_back(struct kt_gpu *g, D3DKMT_HANDLE h, uint64_t size)
{
	D3DKMT_LOCK lk;
	memset(&lk, 0, sizeof lk);
	lk.hDevice = g->device;
	lk.hAllocation = h;
	lk.Flags.ReadOnly = 1;
	KT_ST_EQ(D3DKMTLock(&lk), STATUS_SUCCESS);
	uint8_t *copy = malloc(size);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, lk.pData, size);
	D3DKMT_UNLOCK2 ul = { .hDevice = g->device, .hAllocation = h };
	KT_ST_EQ(D3DKMTUnlock2(&ul), STATUS_SUCCESS);
	return copy;
}

/* Zeros before vaddr, the file's bytes, zeros to the end of the allocation. */
static void assert_loaded(struct kt_gpu *g, const struct elfimg_segment *s, D3DKMT_HANDLE h)
{
	uint64_t size = elfimg_seg_size(s);
	ck_assert_uint_eq(kt_query(h).size, size);
	uint8_t *p = read_back(g, h, size);
	for (uint64_t i = 0; i < size; i++) {
		uint8_t want = i >= s->lead && i - s->lead < s->filesz ? s->data[i - s->lead] : 0;
		ck_assert_msg(p[i] == want, "byte 0x%llx is 0x%02x, expected 0x%02x", (unsigned long long)i, p[i],
			      want);
	}
	free(p);
}

static uint8_t bytes_a[0x1234], bytes_b[0x80];

static void fill_bytes(void)
{
	for (size_t i = 0; i < sizeof bytes_a; i++)
		bytes_a[i] = (uint8_t)(i * 13 + 5);
	for (size_t i = 0; i < sizeof bytes_b; i++)
		bytes_b[i] = (uint8_t)(0xc0 + i);
}

START_TEST(test_alignment)
{
	struct kt_gpu g;
	kt_setup(&g, CONFIG);
	fill_bytes();
	/* 64 KiB, 2 MiB and 4 KiB alignment, each with its vaddr past the boundary. */
	struct tb_seg s[3] = {
		{ 0, PF_R | PF_X, 0x10100, 0x100, 0x10000, bytes_b, 0x80 },
		{ 0, PF_R, 0x400080, 0x3000, 0x200000, bytes_a, sizeof bytes_a },
		{ 0, PF_R | PF_W, 0x900010, 0x20, 0x1000, NULL, 0 },
	};
	struct elfimg *img = image_of(s, 3);
	static const uint32_t pref[3] = { 0, GPUSIM_SEG_GART, GPUSIM_SEG_VISIBLE };
	for (int round = 0; round < 3; round++) {
		/* The driver's defaults (invisible VRAM first), the GART, visible VRAM:
		 * only the 4 KiB-aligned segment can have it, the others are placed by
		 * the defaults. */
		D3DKMT_HANDLE h[3];
		load_ok(&g, img, pref[round], 0, h);
		for (uint32_t i = 0; i < 3; i++) {
			struct gpusim_alloc_info info = kt_query(h[i]);
			uint64_t align = elfimg_seg_align(&img->segs[i]);
			uint32_t want = round == 1 ? GPUSIM_SEG_GART
				      : round == 2 && i == 2 ? GPUSIM_SEG_VISIBLE : GPUSIM_SEG_INVISIBLE;
			ck_assert_uint_eq(info.segment, want);
			ck_assert_msg(info.gpu_address % align == 0, "segment %u at 0x%llx, not %llu-aligned", i,
				      (unsigned long long)info.gpu_address, (unsigned long long)align);
			ck_assert_uint_eq(info.offset % align, 0);
			/* So the byte at vaddr keeps vaddr's alignment. */
			ck_assert_uint_eq((info.gpu_address + img->segs[i].lead) % align, img->segs[i].vaddr % align);
			assert_loaded(&g, &img->segs[i], h[i]);
		}
	}
	/* Visible VRAM starts 4 KiB-aligned only: a 64 KiB-aligned segment cannot
	 * go there, and a load that asks only for it creates nothing. */
	uint64_t before = kt_stats(&g).allocations;
	D3DKMT_HANDLE h[3] = { 0, 0, 0 };
	char err[512] = "";
	ck_assert_int_eq(load(&g, img, 0, GPUSIM_SEG_BIT(GPUSIM_SEG_VISIBLE), h, err, sizeof err),
			 STATUS_INVALID_PARAMETER);
	ck_assert_msg(strstr(err, "D3DKMTCreateAllocation2 of its 3 segments failed"), "%s", err);
	ck_assert_uint_eq(kt_stats(&g).allocations, before);
	ck_assert_uint_eq(h[0], 0);
	elfimg_free(img);
	kt_teardown(&g);
}
END_TEST

/* Memory that held something else before: the loader's zeros must be real. */
START_TEST(test_contents_staged)
{
	struct kt_gpu g;
	kt_setup(&g, CONFIG);
	fill_bytes();
	D3DKMT_HANDLE dirty;
	KT_ST_EQ(kt_alloc(&g, 0x20000, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE), &dirty), STATUS_SUCCESS);
	kt_cmd_begin(&g);
	kt_cmd_fill(&g, dirty, 0x20000, 0xdeadbeef);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	kt_idle(&g);
	uint64_t where = kt_query(dirty).offset;
	KT_ST_EQ(kt_free(g.device, dirty), STATUS_SUCCESS);

	/* Odd sizes: the file's bytes end mid-dword, the bss mid-page. */
	struct tb_seg s[1] = { { 0, PF_R | PF_W, 0x50123, 0x5001, 0x10000, bytes_a, 0x1233 } };
	struct elfimg *img = image_of(s, 1);
	D3DKMT_HANDLE h;
	uint64_t submits = kt_stats(&g).submits;
	load_ok(&g, img, GPUSIM_SEG_INVISIBLE, 0, &h);
	ck_assert_uint_eq(kt_query(h).segment, GPUSIM_SEG_INVISIBLE);
	ck_assert_uint_eq(kt_query(h).offset, where); /* on the dirty bytes */
	/* The CPU cannot reach invisible VRAM: a GPU copy put the bytes there. */
	ck_assert_uint_eq(kt_stats(&g).submits, submits + 1);
	kt_idle(&g);
	ck_assert_uint_eq(kt_query(h).segment, GPUSIM_SEG_INVISIBLE);
	assert_loaded(&g, &img->segs[0], h);
	ck_assert_uint_eq(kt_stats(&g).faults, 0);
	/* The staging buffer is gone: the allocation and the helper's result page. */
	ck_assert_uint_eq(kt_stats(&g).allocations, 2);
	elfimg_free(img);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_contents_cpu)
{
	struct kt_gpu g;
	kt_setup(&g, CONFIG);
	fill_bytes();
	struct gpusim_alloc_desc d = kt_desc(0x4000, GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_VISIBLE, 0);
	D3DKMT_HANDLE dirty;
	KT_ST_EQ(kt_alloc_on(g.device, &d, &dirty), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_query(dirty).segment, GPUSIM_SEG_VISIBLE);
	KT_ST_EQ(kt_write(g.device, dirty, 0x4000, 77), STATUS_SUCCESS);
	uint64_t where = kt_query(dirty).offset;
	KT_ST_EQ(kt_free(g.device, dirty), STATUS_SUCCESS);

	/* 4 KiB alignment fits visible VRAM: loaded there by the CPU, through BAR2. */
	struct tb_seg s[1] = { { 0, PF_R, 0x7ff0, 0x2100, 0x1000, bytes_b, sizeof bytes_b } };
	struct elfimg *img = image_of(s, 1);
	D3DKMT_HANDLE h;
	uint64_t submits = kt_stats(&g).submits;
	load_ok(&g, img, GPUSIM_SEG_VISIBLE, 0, &h);
	ck_assert_uint_eq(kt_query(h).segment, GPUSIM_SEG_VISIBLE);
	ck_assert_uint_eq(kt_query(h).offset, where);
	ck_assert_uint_eq(kt_stats(&g).submits, submits);
	ck_assert_uint_eq(img->segs[0].lead, 0xff0);
	assert_loaded(&g, &img->segs[0], h);
	elfimg_free(img);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_read_only_cpu)
{
	struct kt_gpu g;
	kt_setup(&g, CONFIG);
	fill_bytes();
	struct tb_seg s[2] = {
		{ 0, PF_R, 0x10000, 0x1000, 0x1000, bytes_b, sizeof bytes_b },
		{ 0, PF_R | PF_W, 0x20000, 0x1000, 0x1000, bytes_b, sizeof bytes_b },
	};
	struct elfimg *img = image_of(s, 2);
	D3DKMT_HANDLE h[2];
	load_ok(&g, img, GPUSIM_SEG_GART, 0, h);
	ck_assert_uint_eq(kt_query(h[0]).flags & GPUSIM_ALLOC_READ_ONLY, GPUSIM_ALLOC_READ_ONLY);
	ck_assert_uint_eq(kt_query(h[1]).flags & GPUSIM_ALLOC_READ_ONLY, 0);

	D3DKMT_LOCK2 lk2 = { .hDevice = g.device, .hAllocation = h[0] };
	KT_ST_EQ(D3DKMTLock2(&lk2), STATUS_ACCESS_DENIED);
	ck_assert_ptr_null(lk2.pData);
	D3DKMT_LOCK lk;
	memset(&lk, 0, sizeof lk);
	lk.hDevice = g.device;
	lk.hAllocation = h[0];
	KT_ST_EQ(D3DKMTLock(&lk), STATUS_ACCESS_DENIED);
	lk.Flags.WriteOnly = 1;
	KT_ST_EQ(D3DKMTLock(&lk), STATUS_ACCESS_DENIED);
	lk.Flags.WriteOnly = 0;
	lk.Flags.ReadOnly = 1;
	KT_ST_EQ(D3DKMTLock(&lk), STATUS_SUCCESS);
	ck_assert_mem_eq(lk.pData, bytes_b, sizeof bytes_b);
	D3DKMT_UNLOCK2 ul = { .hDevice = g.device, .hAllocation = h[0] };
	KT_ST_EQ(D3DKMTUnlock2(&ul), STATUS_SUCCESS);
	/* Nothing stays locked after a refusal. */
	ck_assert_uint_eq(kt_query(h[0]).lock_count, 0);
	/* The OS loader may. */
	void *p = NULL;
	KT_ST_EQ(gpusim_lock_for_load(g.device, h[0], &p), STATUS_SUCCESS);
	ck_assert_ptr_nonnull(p);
	KT_ST_EQ(D3DKMTUnlock2(&ul), STATUS_SUCCESS);
	KT_ST_EQ(gpusim_lock_for_load(g.device, h[0], NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(gpusim_lock_for_load(g.device, 0x1234, &p), STATUS_INVALID_PARAMETER);
	/* The writable segment is an ordinary allocation. */
	lk2.hAllocation = h[1];
	KT_ST_EQ(D3DKMTLock2(&lk2), STATUS_SUCCESS);
	ul.hAllocation = h[1];
	KT_ST_EQ(D3DKMTUnlock2(&ul), STATUS_SUCCESS);
	elfimg_free(img);
	kt_teardown(&g);
}
END_TEST

struct faults {
	uint32_t n, cause;
	uint64_t addr;
};

static void on_event(void *opaque, const struct gpusim_event *ev)
{
	struct faults *f = opaque;
	if (ev->type == GPUSIM_EV_FAULT) {
		f->n++;
		f->cause = ev->cause;
		f->addr = ev->offset;
	}
}

/* FILL a whole segment's allocation from the GPU; the faults that follow. */
static void gpu_fill(struct kt_gpu *g, D3DKMT_HANDLE h, uint32_t value)
{
	kt_cmd_begin(g);
	kt_cmd_fill(g, h, 0x1000, value);
	KT_ST_EQ(kt_cmd_submit(g), STATUS_SUCCESS);
	kt_idle(g);
}

START_TEST(test_read_only_gpu)
{
	struct kt_gpu g;
	kt_setup(&g, CONFIG);
	fill_bytes();
	struct faults f = { 0, 0, 0 };
	KT_ST_EQ(gpusim_subscribe(g.luid, on_event, &f), STATUS_SUCCESS);
	struct tb_seg s[2] = {
		{ 0, PF_R, 0x10000, 0x1000, 0x10000, bytes_b, sizeof bytes_b },
		{ 0, PF_R | PF_W, 0x20000, 0x1000, 0x10000, bytes_b, sizeof bytes_b },
	};
	struct elfimg *img = image_of(s, 2);
	D3DKMT_HANDLE h[2];
	load_ok(&g, img, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE) | KT_SEG(GART), h);
	ck_assert_uint_eq(kt_query(h[0]).segment, GPUSIM_SEG_INVISIBLE);
	/* Read by the CPU: out of invisible VRAM, and (visible VRAM cannot honour
	 * 64 KiB) into the GART, copied there by the driver through its read-only
	 * mapping, which it opened for the copy. */
	assert_loaded(&g, &img->segs[0], h[0]);
	ck_assert_uint_eq(kt_query(h[0]).segment, GPUSIM_SEG_GART);
	ck_assert_uint_eq(kt_stats(&g).faults, 0);
	/* Its next GPU use would bring it home to invisible VRAM, which has room:
	 * a pinned filler takes that room, so it stays in the GART. */
	struct gpusim_stats gs = kt_stats(&g);
	uint64_t room = gs.seg[GPUSIM_SEG_INVISIBLE].size - gs.seg[GPUSIM_SEG_INVISIBLE].used;
	struct gpusim_alloc_desc fd = kt_desc(room, GPUSIM_ALLOC_PINNED, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE));
	D3DKMT_HANDLE filler;
	KT_ST_EQ(kt_alloc_on(g.device, &fd, &filler), STATUS_SUCCESS);

	/* ... and closed again: a GPU write faults, and changes nothing. */
	gpu_fill(&g, h[0], 0x12345678);
	ck_assert_uint_eq(kt_stats(&g).faults, 1);
	ck_assert_uint_eq(f.n, 1);
	ck_assert_uint_eq(f.cause, HW_FAULT_GART_NOWRITE);
	ck_assert_uint_eq(f.addr, kt_query(h[0]).gpu_address);
	assert_loaded(&g, &img->segs[0], h[0]);
	KT_ST_EQ(kt_free(g.device, filler), STATUS_SUCCESS);

	/* Evicted and paged back into the GART: read-only still. */
	D3DKMT_HANDLE h2[2];
	load_ok(&g, img, GPUSIM_SEG_GART, KT_SEG(GART), h2);
	D3DKMT_HANDLE one = h2[0];
	D3DDDI_MAKERESIDENT mr;
	memset(&mr, 0, sizeof mr);
	mr.hPagingQueue = g.device;
	mr.NumAllocations = 1;
	mr.AllocationList = &one;
	NTSTATUS st = D3DKMTMakeResident(&mr);
	ck_assert(st == STATUS_SUCCESS || st == STATUS_PENDING);
	D3DKMT_EVICT ev;
	memset(&ev, 0, sizeof ev);
	ev.hDevice = g.device;
	ev.NumAllocations = 1;
	ev.AllocationList = &one;
	KT_ST_EQ(D3DKMTEvict(&ev), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_query(h2[0]).segment, GPUSIM_SEG_SYS);
	gpu_fill(&g, h2[0], 0x12345678);
	ck_assert_uint_eq(kt_query(h2[0]).segment, GPUSIM_SEG_GART);
	ck_assert_uint_eq(f.n, 2);
	ck_assert_uint_eq(f.cause, HW_FAULT_GART_NOWRITE);
	assert_loaded(&g, &img->segs[0], h2[0]);

	/* VRAM has no page protection: there the GPU's write lands. */
	D3DKMT_HANDLE h3[2];
	load_ok(&g, img, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE), h3);
	gpu_fill(&g, h3[0], 0x12345678);
	ck_assert_uint_eq(f.n, 2);
	uint8_t *v = read_back(&g, h3[0], 4);
	ck_assert_uint_eq(v[0] | v[1] << 8 | v[2] << 16 | (uint32_t)v[3] << 24, 0x12345678);
	free(v);

	/* The writable segment takes the same FILL. */
	gpu_fill(&g, h[1], 0x12345678);
	ck_assert_uint_eq(f.n, 2);
	uint8_t *p = read_back(&g, h[1], 0x1000);
	for (int i = 0; i < 0x1000; i += 4)
		ck_assert_uint_eq(p[i] | p[i + 1] << 8 | p[i + 2] << 16 | (uint32_t)p[i + 3] << 24, 0x12345678);
	free(p);
	KT_ST_EQ(gpusim_unsubscribe(g.luid, on_event, &f), STATUS_SUCCESS);
	elfimg_free(img);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_all_or_nothing)
{
	struct kt_gpu g;
	kt_setup(&g, CONFIG);
	fill_bytes();
	/* The GART full of pinned memory: the staging buffer for the upload to
	 * invisible VRAM can never be made resident, so the load fails after its
	 * allocations were created, and takes them back. */
	struct gpusim_stats st0 = kt_stats(&g);
	struct gpusim_alloc_desc d = kt_desc(st0.seg[GPUSIM_SEG_GART].size, GPUSIM_ALLOC_PINNED, GPUSIM_SEG_GART,
					     KT_SEG(GART));
	D3DKMT_HANDLE pin;
	KT_ST_EQ(kt_alloc_on(g.device, &d, &pin), STATUS_SUCCESS);
	struct tb_seg s[2] = {
		{ 0, PF_R, 0x10000, 0x1000, 0x10000, bytes_b, sizeof bytes_b },
		{ 0, PF_R | PF_W, 0x20000, 0x1000, 0x10000, bytes_b, sizeof bytes_b },
	};
	struct elfimg *img = image_of(s, 2);
	uint64_t before = kt_stats(&g).allocations;
	D3DKMT_HANDLE h[2] = { 0, 0 };
	char err[512] = "";
	NTSTATUS st = load(&g, img, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE), h, err, sizeof err);
	ck_assert_int_eq(st, STATUS_GRAPHICS_NO_VIDEO_MEMORY);
	ck_assert_msg(strstr(err, "segment 0: the upload's D3DKMTRender failed"), "%s", err);
	ck_assert_uint_eq(kt_stats(&g).allocations, before);
	ck_assert_uint_eq(h[0], 0);
	ck_assert_uint_eq(h[1], 0);
	/* With room in the GART it loads. */
	KT_ST_EQ(kt_free(g.device, pin), STATUS_SUCCESS);
	load_ok(&g, img, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE), h);
	assert_loaded(&g, &img->segs[1], h[1]);
	elfimg_free(img);
	kt_teardown(&g);
}
END_TEST

/* A DMA error fails the next packet only: the upload's COPY (or the FILL of a
 * bss), which the device skips while the fence still signals. The loader's
 * CHECKSUM sees the bytes did not arrive and it submits the upload again; a bss
 * whose FILL faulted on memory freed by another allocation already reads as
 * zeros (freed memory is released), so that upload needs no second try. */
START_TEST(test_upload_retried)
{
	struct kt_gpu g;
	kt_setup(&g, CONFIG);
	fill_bytes();
	struct faults f = { 0, 0, 0 };
	KT_ST_EQ(gpusim_subscribe(g.luid, on_event, &f), STATUS_SUCCESS);

	/* File bytes: the COPY faults, the second try copies them. */
	struct tb_seg s[1] = { { 0, PF_R | PF_W, 0x50123, 0x5001, 0x10000, bytes_a, 0x1233 } };
	struct elfimg *img = image_of(s, 1);
	struct gpusim_stats st0 = kt_stats(&g);
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_DMA_ERROR, 0), STATUS_SUCCESS);
	D3DKMT_HANDLE h;
	load_ok(&g, img, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE), &h);
	ck_assert_uint_eq(kt_query(h).segment, GPUSIM_SEG_INVISIBLE);
	ck_assert_uint_eq(kt_stats(&g).faults, st0.faults + 1);
	ck_assert_uint_eq(f.n, 1);
	ck_assert_uint_eq(f.cause, HW_FAULT_DMA);
	ck_assert_uint_eq(kt_stats(&g).submits, st0.submits + 2);
	ck_assert_uint_eq(kt_stats(&g).allocations, st0.allocations + 1); /* no staging buffer left */
	assert_loaded(&g, &img->segs[0], h);

	/* Only a bss, on memory that held something else: the FILL faults, but the
	 * memory was released when `dirty` was freed and reads as zeros, which is what
	 * the CHECKSUM wants. Before freed memory was released, this took a second try. */
	D3DKMT_HANDLE dirty;
	KT_ST_EQ(kt_alloc(&g, 0x20000, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE), &dirty), STATUS_SUCCESS);
	kt_cmd_begin(&g);
	kt_cmd_fill(&g, dirty, 0x20000, 0xdeadbeef);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	kt_idle(&g);
	uint64_t where = kt_query(dirty).offset;
	KT_ST_EQ(kt_free(g.device, dirty), STATUS_SUCCESS);
	struct tb_seg z[1] = { { 0, PF_R | PF_W, 0x70000, 0x6000, 0x10000, NULL, 0 } };
	struct elfimg *bss = image_of(z, 1);
	st0 = kt_stats(&g);
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_DMA_ERROR, 0), STATUS_SUCCESS);
	D3DKMT_HANDLE hz;
	load_ok(&g, bss, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE), &hz);
	ck_assert_uint_eq(kt_query(hz).segment, GPUSIM_SEG_INVISIBLE);
	ck_assert_uint_eq(kt_query(hz).offset, where); /* on the dirty bytes */
	ck_assert_uint_eq(kt_stats(&g).faults, st0.faults + 1);
	ck_assert_uint_eq(f.n, 2);
	ck_assert_uint_eq(kt_stats(&g).submits, st0.submits + 1);
	assert_loaded(&g, &bss->segs[0], hz);
	KT_ST_EQ(gpusim_unsubscribe(g.luid, on_event, &f), STATUS_SUCCESS);
	elfimg_free(bss);
	elfimg_free(img);
	kt_teardown(&g);
}
END_TEST

/* A fault that stays: an uncorrectable ECC page under segment 1 makes every
 * try's CHECKSUM fault. The load fails as a whole after ELFIMG_UPLOAD_TRIES
 * tries: segment 0, uploaded fine, goes too, and the staging buffers. */
START_TEST(test_upload_fails_every_try)
{
	struct kt_gpu g;
	kt_setup(&g, CONFIG);
	fill_bytes();
	struct faults f = { 0, 0, 0 };
	KT_ST_EQ(gpusim_subscribe(g.luid, on_event, &f), STATUS_SUCCESS);
	struct tb_seg s[2] = {
		{ 0, PF_R | PF_X, 0x10000, 0x1000, 0x10000, bytes_b, sizeof bytes_b },
		{ 0, PF_R | PF_W, 0x20100, 0x3000, 0x10000, bytes_a, sizeof bytes_a },
	};
	struct elfimg *img = image_of(s, 2);
	/* Where segment 1 lands: load, look, unload; the same load lands there again. */
	D3DKMT_HANDLE h[2];
	load_ok(&g, img, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE), h);
	struct gpusim_alloc_info where = kt_query(h[1]);
	ck_assert_uint_eq(where.segment, GPUSIM_SEG_INVISIBLE);
	D3DKMT_DESTROYALLOCATION2 da;
	memset(&da, 0, sizeof da);
	da.hDevice = g.device;
	da.phAllocationList = h;
	da.AllocationCount = 2;
	KT_ST_EQ(D3DKMTDestroyAllocation2(&da), STATUS_SUCCESS);
	/* Invisible VRAM's GPU address is its VRAM offset. */
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_VRAM_ERROR, where.gpu_address + 0x1000), STATUS_SUCCESS);

	struct gpusim_stats st0 = kt_stats(&g);
	h[0] = h[1] = 0;
	char err[512] = "";
	NTSTATUS st = load(&g, img, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE), h, err, sizeof err);
	ck_assert_int_eq(st, STATUS_UNSUCCESSFUL);
	char want[600];
	snprintf(want, sizeof want,
		 "%s: segment 1: the upload into invisible VRAM failed %u times: the GPU faulted, and its CRC-32 "
		 "check of the bytes never came back",
		 img->name, ELFIMG_UPLOAD_TRIES);
	ck_assert_str_eq(err, want);
	ck_assert_uint_eq(h[0], 0);
	ck_assert_uint_eq(h[1], 0);
	ck_assert_uint_eq(kt_stats(&g).allocations, st0.allocations);
	/* One upload for segment 0, every try for segment 1, each faulting on ECC. */
	ck_assert_uint_eq(kt_stats(&g).submits, st0.submits + 1 + ELFIMG_UPLOAD_TRIES);
	ck_assert_uint_eq(kt_stats(&g).faults, st0.faults + ELFIMG_UPLOAD_TRIES);
	ck_assert_uint_eq(f.n, ELFIMG_UPLOAD_TRIES);
	ck_assert_uint_eq(f.cause, HW_FAULT_ECC);
	ck_assert_uint_eq(f.addr, where.gpu_address + 0x1000);
	kt_assert_invariants(&g);

	/* Away from the bad page (in the GART) the same image loads. */
	load_ok(&g, img, GPUSIM_SEG_GART, KT_SEG(GART), h);
	assert_loaded(&g, &img->segs[0], h[0]);
	assert_loaded(&g, &img->segs[1], h[1]);
	KT_ST_EQ(gpusim_unsubscribe(g.luid, on_event, &f), STATUS_SUCCESS);
	elfimg_free(img);
	kt_teardown(&g);
}
END_TEST

static uint32_t word_at(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

START_TEST(test_submit)
{
	struct kt_gpu g;
	kt_setup(&g, CONFIG);
	fill_bytes();
	uint64_t result = kt_query(g.result).gpu_address;
	struct tb_words p;
	memset(&p, 0, sizeof p);
	tb_dw(&p, HW_PKT_HEADER(HW_PKT_WRITE_DATA, 0, 4)); /* two dwords at data+0x10 */
	tb_qw(&p, 0x30310);
	tb_dw(&p, 0xaaaa5555);
	tb_dw(&p, 0x5555aaaa);
	tb_dw(&p, HW_PKT_HEADER(HW_PKT_FILL, 0, 5));       /* the bss */
	tb_qw(&p, 0x31000);
	tb_qw(&p, 0x1000);
	tb_dw(&p, 0x0badf00d);
	tb_dw(&p, HW_PKT_HEADER(HW_PKT_COPY, 0, 6));       /* the table into data+0x80 */
	tb_qw(&p, 0x20200);
	tb_qw(&p, 0x30380);
	tb_qw(&p, sizeof bytes_b);
	tb_dw(&p, HW_PKT_HEADER(HW_PKT_CHECKSUM, 0, 6));   /* its CRC at data+0x20 */
	tb_qw(&p, 0x20200);
	tb_qw(&p, sizeof bytes_b);
	tb_qw(&p, 0x30320);
	tb_dw(&p, HW_PKT_HEADER(HW_PKT_WRITE_DATA, 0, 3)); /* an absolute address: left alone */
	tb_qw(&p, result);
	tb_dw(&p, 0x600df00d);
	struct tb_seg s[3] = {
		{ 0, PF_R | PF_X, 0x10100, p.n * 4, 0x10000, p.w, p.n * 4 },
		{ 0, PF_R, 0x20200, sizeof bytes_b, 0x10000, bytes_b, sizeof bytes_b },
		{ 0, PF_R | PF_W, 0x30300, 0x2000, 0x10000, NULL, 0 },
	};
	struct elfimg *img = image_of(s, 3);
	uint32_t want_crc = (uint32_t)crc32(0, bytes_b, sizeof bytes_b);
	D3DKMT_HANDLE h1[3], h2[3];
	load_ok(&g, img, 0, 0, h1);
	load_ok(&g, img, GPUSIM_SEG_GART, 0, h2);
	for (int copy = 0; copy < 2; copy++) {
		D3DKMT_HANDLE *h = copy ? h2 : h1;
		struct elfimg_target t = target(&g);
		char err[512] = "";
		uint32_t npatch = 0;
		NTSTATUS st = elfimg_submit(img, 0, &t, h, &npatch, err, sizeof err);
		ck_assert_msg(st == STATUS_SUCCESS, "submit: 0x%08x %s", (unsigned)st, err);
		ck_assert_uint_eq(npatch, 6);
		kt_idle(&g);
		ck_assert_uint_eq(kt_stats(&g).faults, 0);
		uint8_t *d = read_back(&g, h[2], 0x3000);
		ck_assert_uint_eq(word_at(d + 0x310), 0xaaaa5555);
		ck_assert_uint_eq(word_at(d + 0x314), 0x5555aaaa);
		ck_assert_uint_eq(word_at(d + 0x320), want_crc);
		ck_assert_mem_eq(d + 0x380, bytes_b, sizeof bytes_b);
		for (int i = 0x1000; i < 0x2000; i += 4)
			ck_assert_uint_eq(word_at(d + i), 0x0badf00d);
		ck_assert_uint_eq(word_at(d + 0x2000), 0); /* past the FILL */
		free(d);
		uint8_t *r = read_back(&g, g.result, 4);
		ck_assert_uint_eq(word_at(r), 0x600df00d);
		free(r);
		if (!copy) {
			/* Clear the first copy's data: the second must not write there. */
			gpu_fill(&g, h1[2], 0);
		}
	}
	uint8_t *d = read_back(&g, h1[2], 0x1000);
	ck_assert_uint_eq(word_at(d + 0x310), 0);
	free(d);
	elfimg_free(img);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_submit_errors)
{
	struct kt_gpu g;
	kt_setup(&g, CONFIG);
	/* More packets than the context's 64 KiB command buffer (all NOPs). */
	static uint32_t nops[0x4001];
	struct tb_seg s[2] = {
		{ 0, PF_R | PF_X, 0x100000, sizeof nops, 0x1000, nops, sizeof nops },
		{ 0, PF_R | PF_W, 0x200000, 0x1000, 0x1000, NULL, 0 },
	};
	struct elfimg *img = image_of(s, 2);
	D3DKMT_HANDLE h[2];
	load_ok(&g, img, 0, 0, h);
	struct elfimg_target t = target(&g);
	char err[512] = "";
	KT_ST_EQ(elfimg_submit(img, 0, &t, h, NULL, err, sizeof err), STATUS_INVALID_PARAMETER);
	ck_assert_msg(strstr(err, "segment 0: 65540 bytes of packets, more than the context's command buffer (65536)"),
		      "%s", err);
	KT_ST_EQ(elfimg_submit(img, 1, &t, h, NULL, err, sizeof err), STATUS_INVALID_PARAMETER);
	ck_assert_msg(strstr(err, "segment 1 is not executable"), "%s", err);
	/* One dword less fits: the NOPs run. */
	img->segs[0].filesz -= 4;
	uint64_t submits = kt_stats(&g).submits;
	KT_ST_EQ(elfimg_submit(img, 0, &t, h, NULL, err, sizeof err), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_stats(&g).submits, submits + 1);
	/* A freed segment: the API refuses its stale handle. */
	KT_ST_EQ(kt_free(g.device, h[1]), STATUS_SUCCESS);
	KT_ST_EQ(elfimg_submit(img, 0, &t, h, NULL, err, sizeof err), STATUS_INVALID_PARAMETER);
	elfimg_free(img);
	kt_teardown(&g);
}
END_TEST

Suite *image_load_suite(void)
{
	Suite *s = suite_create("image_load");
	TCase *tc = tcase_create("load");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_alignment);
	tcase_add_test(tc, test_contents_staged);
	tcase_add_test(tc, test_contents_cpu);
	tcase_add_test(tc, test_read_only_cpu);
	tcase_add_test(tc, test_read_only_gpu);
	tcase_add_test(tc, test_all_or_nothing);
	tcase_add_test(tc, test_upload_retried);
	tcase_add_test(tc, test_upload_fails_every_try);
	suite_add_tcase(s, tc);
	tc = tcase_create("submit");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_submit);
	tcase_add_test(tc, test_submit_errors);
	suite_add_tcase(s, tc);
	return s;
}
