/*
 * The GPU address map and the GART: aperture pages translated through the table in
 * VRAM to system pages, entry permission faults, unmapped addresses, and the TLB
 * (stale translations in normal and strict mode, invalidation, direct mapping, stats).
 */
#include <string.h>

#include "tests/hw/helpers.h"
#include "tests/hw/hw_suites.h"

#define VRAM (16ull << 20)
#define T HT_GART_TABLE

/* A small device with ring 0 set up and the GART enabled with gart_ctrl. */
static struct hw_device *gart_device(const char *cfg, struct ht_ring *r, uint32_t ring_ctrl,
				     uint32_t gart_ctrl)
{
	struct hw_device *dev = ht_device(cfg);

	ht_ring_init(r, dev, 0, HT_RING0, HT_RING_SIZE, ring_ctrl);
	ht_gart_init(dev, T, gart_ctrl);
	return dev;
}

/* Submit, run to idle, and check the ring consumed everything without a fault. */
static void run_clean(struct ht_ring *r)
{
	ht_submit(r);
	ht_run(r->dev);
	ck_assert_uint_eq(ht_fault_cause(r->dev), HW_FAULT_NONE);
	ck_assert_uint_eq(ht_ring_reg(r, HW_RING_RPTR), r->wptr);
}

/* Submit one faulting packet on a SKIP_FAULT ring; check the cause and address, re-arm. */
static void expect_fault(struct ht_ring *r, uint32_t cause, uint64_t addr)
{
	ht_submit(r);
	ht_run(r->dev);
	ck_assert_uint_eq(ht_fault_cause(r->dev), cause);
	ck_assert_uint_eq(ht_fault_addr(r->dev), addr);
	ck_assert_uint_eq(hw_mmio_read(r->dev, HW_REG_FAULT_RING), r->id);
	ck_assert_uint_eq(ht_ring_reg(r, HW_RING_RPTR), r->wptr);
	hw_mmio_write(r->dev, HW_REG_FAULT_CAUSE, 0);
	hw_mmio_write(r->dev, HW_REG_IRQ_STATUS, HW_IRQ_FAULT);
}

START_TEST(test_gart_write_lands_in_sysmem)
{
	struct ht_ring r;
	struct hw_device *dev = gart_device(HT_SMALL, &r, 0, HW_GART_CTRL_ENABLE);
	uint64_t p0 = ht_sysmem_alloc(dev), p1 = ht_sysmem_alloc(dev);
	uint8_t want[4096];

	memset(ht_page(dev, p0), 0, 4096);
	memset(ht_page(dev, p1), 0, 4096);
	ht_gart_map(dev, T, 5, p1);
	ht_vram_fill_pattern(dev, HT_DATA, 4096, 21);
	ht_copy(&r, HT_DATA, ht_gart_addr(dev, 5), 4096);
	run_clean(&r);
	ht_pattern(want, sizeof want, 21);
	ck_assert_int_eq(memcmp(ht_page(dev, p1), want, 4096), 0);
	/* The page that is not mapped there is untouched. */
	ck_assert_uint_eq(ht_page(dev, p0)[0], 0);
	ck_assert_uint_eq(ht_page(dev, p0)[4095], 0);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_gart_read_from_sysmem)
{
	struct ht_ring r;
	struct hw_device *dev = gart_device(HT_SMALL, &r, 0, HW_GART_CTRL_ENABLE);
	uint64_t p = ht_sysmem_alloc(dev);

	ht_pattern(ht_page(dev, p), 4096, 22);
	ht_gart_map(dev, T, 0, p);
	ht_copy(&r, ht_gart_addr(dev, 0) + 96, HT_DATA + 96, 4000);
	run_clean(&r);
	/* Compare against the pattern shifted by 96 bytes. */
	ck_assert_int_eq(memcmp(hw_debug_vram(dev, HT_DATA + 96, 4000), ht_page(dev, p) + 96, 4000),
			 0);
	ck_assert(ht_vram_is(dev, HT_DATA, 96, 0));
	ck_assert(ht_vram_is(dev, HT_DATA + 4096, 16, 0));
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_gart_scatter_pages)
{
	struct ht_ring r;
	struct hw_device *dev = gart_device(HT_SMALL, &r, 0, HW_GART_CTRL_ENABLE);
	uint64_t pfn[4];
	uint8_t want[4 * 4096], small[100];

	for (unsigned i = 0; i < 4; i++) {
		pfn[i] = ht_sysmem_alloc(dev);
		memset(ht_page(dev, pfn[i]), 0, 4096);
	}
	/* Aperture pages 0..3 map to the pages in reverse order. */
	for (unsigned i = 0; i < 4; i++)
		ht_gart_map(dev, T, i, pfn[3 - i]);
	ht_vram_fill_pattern(dev, HT_DATA, sizeof want, 23);
	ht_copy(&r, HT_DATA, ht_gart_addr(dev, 0), sizeof want);
	run_clean(&r);
	ht_pattern(want, sizeof want, 23);
	for (unsigned i = 0; i < 4; i++)
		ck_assert_msg(memcmp(ht_page(dev, pfn[3 - i]), want + 4096 * i, 4096) == 0,
			      "aperture page %u", i);

	/* An unaligned copy across the page 0/1 boundary, in and out again. */
	ht_vram_fill_pattern(dev, HT_DATA + 0x10000, sizeof small, 24);
	ht_copy(&r, HT_DATA + 0x10000, ht_gart_addr(dev, 1) - 50, sizeof small);
	ht_copy(&r, ht_gart_addr(dev, 1) - 50, HT_DATA + 0x20003, sizeof small);
	run_clean(&r);
	ht_pattern(small, sizeof small, 24);
	ck_assert_int_eq(memcmp(ht_page(dev, pfn[3]) + 4046, small, 50), 0);
	ck_assert_int_eq(memcmp(ht_page(dev, pfn[2]), small + 50, 50), 0);
	ck_assert_uint_eq(ht_page(dev, pfn[2])[50], want[4096 + 50]);
	ck_assert(ht_vram_has_pattern(dev, HT_DATA + 0x20003, sizeof small, 24));
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_gart_disabled_or_invalid)
{
	struct ht_ring r;
	struct hw_device *dev = gart_device(HT_SMALL, &r, HW_RING_CTRL_SKIP_FAULT, 0);
	uint64_t p = ht_sysmem_alloc(dev);

	memset(ht_page(dev, p), 0x77, 4096);
	ht_gart_map(dev, T, 0, p);
	ht_gart_map(dev, T, 1, p);
	ht_gart_set(dev, T, 2, HW_GART_ENTRY(p, HW_GART_READ | HW_GART_WRITE)); /* no VALID */
	ht_vram_fill_pattern(dev, HT_DATA, 4096, 25);

	/* GART_CTRL without ENABLE: the aperture does not translate at all. */
	ht_copy(&r, HT_DATA, ht_gart_addr(dev, 0), 64);
	expect_fault(&r, HW_FAULT_GART_INVALID, ht_gart_addr(dev, 0));

	hw_mmio_write(dev, HW_REG_GART_CTRL, HW_GART_CTRL_ENABLE);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_GART_CTRL), HW_GART_CTRL_ENABLE);
	ht_copy(&r, HT_DATA, ht_gart_addr(dev, 3) + 8, 64); /* zero entry */
	expect_fault(&r, HW_FAULT_GART_INVALID, ht_gart_addr(dev, 3) + 8);
	ht_copy(&r, ht_gart_addr(dev, 2) + 4, HT_DATA, 64); /* R|W but not VALID */
	expect_fault(&r, HW_FAULT_GART_INVALID, ht_gart_addr(dev, 2) + 4);
	/* Page 1 is fine, page 2 is not: the fault names the first byte of page 2. */
	ht_copy(&r, HT_DATA, ht_gart_addr(dev, 1) + 4000, 200);
	expect_fault(&r, HW_FAULT_GART_INVALID, ht_gart_addr(dev, 2));
	for (size_t i = 0; i < 4096; i++)
		ck_assert_uint_eq(ht_page(dev, p)[i], 0x77);
	ck_assert(ht_vram_has_pattern(dev, HT_DATA, 4096, 25));

	/* Enabled and valid: now it works. */
	ht_copy(&r, HT_DATA, ht_gart_addr(dev, 0), 64);
	run_clean(&r);
	ck_assert_int_eq(memcmp(ht_page(dev, p), hw_debug_vram(dev, HT_DATA, 64), 64), 0);
	ck_assert_uint_eq(ht_page(dev, p)[64], 0x77);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_gart_permissions)
{
	struct ht_ring r;
	struct hw_device *dev =
		gart_device(HT_SMALL, &r, HW_RING_CTRL_SKIP_FAULT, HW_GART_CTRL_ENABLE);
	uint64_t wo = ht_sysmem_alloc(dev), ro = ht_sysmem_alloc(dev);
	uint8_t want[256];

	memset(ht_page(dev, wo), 0x10, 4096);
	memset(ht_page(dev, ro), 0x20, 4096);
	ht_gart_set(dev, T, 0, HW_GART_ENTRY(wo, HW_GART_VALID | HW_GART_WRITE));
	ht_gart_set(dev, T, 1, HW_GART_ENTRY(ro, HW_GART_VALID | HW_GART_READ));
	ht_vram_fill_pattern(dev, HT_DATA, 4096, 26);

	ht_copy(&r, ht_gart_addr(dev, 0) + 16, HT_DATA + 0x8000, 32);
	expect_fault(&r, HW_FAULT_GART_NOREAD, ht_gart_addr(dev, 0) + 16);
	ht_fill(&r, ht_gart_addr(dev, 1) + 32, 64, 0xdeadbeef);
	expect_fault(&r, HW_FAULT_GART_NOWRITE, ht_gart_addr(dev, 1) + 32);
	ck_assert_uint_eq(ht_page(dev, ro)[32], 0x20);
	ck_assert(ht_vram_is(dev, HT_DATA + 0x8000, 32, 0));

	/* The allowed direction of each entry works. */
	ht_copy(&r, HT_DATA, ht_gart_addr(dev, 0), sizeof want);
	ht_copy(&r, ht_gart_addr(dev, 1), HT_DATA + 0x9000, 64);
	run_clean(&r);
	ht_pattern(want, sizeof want, 26);
	ck_assert_int_eq(memcmp(ht_page(dev, wo), want, sizeof want), 0);
	ck_assert(ht_vram_is(dev, HT_DATA + 0x9000, 64, 0x20));
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_gart_bad_pfn)
{
	struct ht_ring r;
	struct hw_device *dev =
		gart_device(HT_SMALL, &r, HW_RING_CTRL_SKIP_FAULT, HW_GART_CTRL_ENABLE);
	uint64_t total = hw_sysmem_pages_total(dev);

	ht_gart_map(dev, T, 0, total);
	ht_gart_map(dev, T, 1, (1ull << 40) - 1);
	ht_gart_map(dev, T, 2, total - 1);
	ht_copy(&r, HT_DATA, ht_gart_addr(dev, 0), 8);
	expect_fault(&r, HW_FAULT_GART_BADPFN, ht_gart_addr(dev, 0));
	ht_copy(&r, ht_gart_addr(dev, 1) + 100, HT_DATA, 8);
	expect_fault(&r, HW_FAULT_GART_BADPFN, ht_gart_addr(dev, 1) + 100);
	/* The last page of system memory is a good pfn. */
	ht_fill(&r, ht_gart_addr(dev, 2), 4096, 0x01020304);
	run_clean(&r);
	ck_assert_uint_eq(ht_page(dev, total - 1)[4095], 0x01);
	ck_assert_uint_eq(ht_page(dev, total - 1)[0], 0x04);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_address_map_unmapped)
{
	struct ht_ring r;
	struct hw_device *dev =
		gart_device(HT_SMALL, &r, HW_RING_CTRL_SKIP_FAULT, HW_GART_CTRL_ENABLE);
	const struct hw_config *cfg = hw_device_config(dev);
	uint64_t end = cfg->gart_base + cfg->gart;
	uint64_t p = ht_sysmem_alloc(dev);

	ht_gart_map(dev, T, cfg->gart / 4096 - 1, p);
	ht_debug_fill_pattern(dev, VRAM - 4096, 4096, 27);

	ht_copy(&r, VRAM - 4096, VRAM - 100, 200); /* dst runs off the end of VRAM */
	expect_fault(&r, HW_FAULT_UNMAPPED, VRAM);
	ck_assert(ht_vram_has_pattern(dev, VRAM - 4096, 4096, 27));
	ht_fill(&r, cfg->gart_base - 4096, 4096, 0);
	expect_fault(&r, HW_FAULT_UNMAPPED, cfg->gart_base - 4096);
	ht_copy(&r, HT_DATA, end - 8, 16); /* last aperture page, then past it */
	expect_fault(&r, HW_FAULT_UNMAPPED, end);
	ht_copy(&r, 1ull << 63, HT_DATA, 4);
	expect_fault(&r, HW_FAULT_UNMAPPED, 1ull << 63);
	ht_copy(&r, UINT64_MAX - 3, HT_DATA, 16); /* wraps around the address space */
	expect_fault(&r, HW_FAULT_UNMAPPED, UINT64_MAX - 3);

	/* Both ends of each range are reachable. */
	ht_copy(&r, VRAM - 8, end - 8, 8);
	ht_copy(&r, end - 8, 0x8000, 8);
	run_clean(&r);
	ck_assert_int_eq(memcmp(ht_page(dev, p) + 4088, hw_debug_vram(dev, VRAM - 8, 8), 8), 0);
	ck_assert_int_eq(memcmp(hw_debug_vram(dev, 0x8000, 8), hw_debug_vram(dev, VRAM - 8, 8), 8),
			 0);
	hw_device_destroy(dev);
}
END_TEST

/* Copy aperture page `page` (4 KiB) to VRAM dst and run. */
static void read_page(struct ht_ring *r, uint64_t page, uint64_t dst)
{
	ht_copy(r, ht_gart_addr(r->dev, page), dst, 4096);
	ht_submit(r);
	ht_run(r->dev);
}

START_TEST(test_tlb_stale_nonstrict)
{
	struct ht_ring r;
	struct hw_device *dev = gart_device(HT_SMALL, &r, 0, HW_GART_CTRL_ENABLE);
	uint64_t a = ht_sysmem_alloc(dev), b = ht_sysmem_alloc(dev);

	memset(ht_page(dev, a), 0xaa, 4096);
	memset(ht_page(dev, b), 0xbb, 4096);
	ht_gart_map(dev, T, 0, a);
	read_page(&r, 0, HT_DATA);
	ck_assert(ht_vram_is(dev, HT_DATA, 4096, 0xaa));

	/* The driver forgets to invalidate: the TLB keeps the old page. */
	ht_gart_map(dev, T, 0, b);
	read_page(&r, 0, HT_DATA + 0x1000);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_NONE);
	ck_assert(ht_vram_is(dev, HT_DATA + 0x1000, 4096, 0xaa));

	ht_tlb_invalidate(dev, 0);
	read_page(&r, 0, HT_DATA + 0x2000);
	ck_assert(ht_vram_is(dev, HT_DATA + 0x2000, 4096, 0xbb));
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), r.wptr);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_tlb_stale_strict)
{
	struct ht_ring r;
	struct hw_device *dev =
		gart_device(HT_SMALL, &r, 0, HW_GART_CTRL_ENABLE | HW_GART_CTRL_STRICT);
	uint64_t a = ht_sysmem_alloc(dev), b = ht_sysmem_alloc(dev);
	uint32_t hdr;

	memset(ht_page(dev, a), 0xaa, 4096);
	memset(ht_page(dev, b), 0xbb, 4096);
	ht_gart_map(dev, T, 7, a);
	read_page(&r, 7, HT_DATA);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_NONE);
	ck_assert(ht_vram_is(dev, HT_DATA, 4096, 0xaa));

	ht_gart_map(dev, T, 7, b);
	hdr = r.wptr;
	read_page(&r, 7, HT_DATA + 0x1000);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_GART_STALE);
	ck_assert_uint_eq(ht_fault_addr(dev), ht_gart_addr(dev, 7));
	ck_assert_uint_ne(ht_ring_reg(&r, HW_RING_STATUS) & HW_RING_STATUS_STOPPED, 0);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), hdr);
	ck_assert(ht_vram_is(dev, HT_DATA + 0x1000, 4096, 0));

	/* Invalidate, clear the fault, restart: the retried copy sees the new page. */
	ht_tlb_invalidate(dev, HW_TLB_INVALIDATE_ALL);
	hw_mmio_write(dev, HW_REG_FAULT_CAUSE, 0);
	ht_ring_restart(&r, HW_RING_CTRL_ENABLE);
	ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_NONE);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), r.wptr);
	ck_assert(ht_vram_is(dev, HT_DATA + 0x1000, 4096, 0xbb));
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_tlb_invalidate_one_page)
{
	struct ht_ring r;
	struct hw_device *dev = gart_device(HT_SMALL, &r, 0, HW_GART_CTRL_ENABLE);
	uint64_t p[4];

	for (unsigned i = 0; i < 4; i++) {
		p[i] = ht_sysmem_alloc(dev);
		memset(ht_page(dev, p[i]), 0xa0 + i, 4096);
	}
	ht_gart_map(dev, T, 0, p[0]);
	ht_gart_map(dev, T, 1, p[1]);
	read_page(&r, 0, HT_DATA);
	read_page(&r, 1, HT_DATA + 0x1000);
	ht_gart_map(dev, T, 0, p[2]);
	ht_gart_map(dev, T, 1, p[3]);
	ht_tlb_invalidate(dev, 1);  /* only page 1 */
	read_page(&r, 0, HT_DATA + 0x2000);
	read_page(&r, 1, HT_DATA + 0x3000);
	ck_assert(ht_vram_is(dev, HT_DATA + 0x2000, 4096, 0xa0)); /* still the old page */
	ck_assert(ht_vram_is(dev, HT_DATA + 0x3000, 4096, 0xa3)); /* the new one */
	ht_tlb_invalidate(dev, HW_TLB_INVALIDATE_ALL);
	read_page(&r, 0, HT_DATA + 0x4000);
	ck_assert(ht_vram_is(dev, HT_DATA + 0x4000, 4096, 0xa2));
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_NONE);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_tlb_direct_mapped)
{
	struct ht_ring r;
	struct hw_device *dev = gart_device(HT_SMALL ",tlb=4", &r, 0, HW_GART_CTRL_ENABLE);
	uint64_t a = ht_sysmem_alloc(dev), b = ht_sysmem_alloc(dev), c = ht_sysmem_alloc(dev);
	struct hw_stats s0, s1;

	memset(ht_page(dev, a), 0xaa, 4096);
	memset(ht_page(dev, b), 0xbb, 4096);
	memset(ht_page(dev, c), 0xcc, 4096);
	ht_gart_map(dev, T, 0, a);
	ht_gart_map(dev, T, 1, c);
	ht_gart_map(dev, T, 4, c);
	read_page(&r, 0, HT_DATA);
	ht_gart_map(dev, T, 0, b); /* not invalidated */

	/* Page 1 lives in another slot: page 0's stale entry survives. */
	read_page(&r, 1, HT_DATA + 0x1000);
	read_page(&r, 0, HT_DATA + 0x2000);
	ck_assert(ht_vram_is(dev, HT_DATA + 0x2000, 4096, 0xaa));

	/* Page 4 shares page 0's slot in a 4-entry direct-mapped TLB and evicts it. */
	read_page(&r, 4, HT_DATA + 0x3000);
	hw_get_stats(dev, &s0);
	read_page(&r, 0, HT_DATA + 0x4000);
	hw_get_stats(dev, &s1);
	ck_assert(ht_vram_is(dev, HT_DATA + 0x3000, 4096, 0xcc));
	ck_assert(ht_vram_is(dev, HT_DATA + 0x4000, 4096, 0xbb));
	ck_assert_uint_eq(s1.tlb_misses, s0.tlb_misses + 1);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_tlb_stats)
{
	struct ht_ring r;
	struct hw_device *dev = gart_device(HT_SMALL, &r, 0, HW_GART_CTRL_ENABLE);
	uint64_t p = ht_sysmem_alloc(dev);
	struct hw_stats s0, s1, s2, s3;

	ht_gart_map(dev, T, 9, p);
	hw_get_stats(dev, &s0);
	ck_assert_uint_eq(s0.tlb_hits, 0);
	ck_assert_uint_eq(s0.tlb_misses, 0);
	read_page(&r, 9, HT_DATA);
	hw_get_stats(dev, &s1);
	ck_assert_uint_ge(s1.tlb_misses, 1);
	read_page(&r, 9, HT_DATA);
	hw_get_stats(dev, &s2);
	ck_assert_uint_eq(s2.tlb_misses, s1.tlb_misses);
	ck_assert_uint_gt(s2.tlb_hits, s1.tlb_hits);
	ht_tlb_invalidate(dev, 9);
	read_page(&r, 9, HT_DATA);
	hw_get_stats(dev, &s3);
	ck_assert_uint_eq(s3.tlb_misses, s2.tlb_misses + 1);
	/* VRAM-only traffic never looks at the TLB. */
	ht_copy(&r, HT_DATA, HT_DATA + 0x10000, 65536);
	run_clean(&r);
	hw_get_stats(dev, &s0);
	ck_assert_uint_eq(s0.tlb_misses, s3.tlb_misses);
	ck_assert_uint_eq(s0.tlb_hits, s3.tlb_hits);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_gart_table_moves)
{
	struct ht_ring r;
	struct hw_device *dev = gart_device(HT_SMALL, &r, 0, HW_GART_CTRL_ENABLE);
	uint64_t a = ht_sysmem_alloc(dev), b = ht_sysmem_alloc(dev);
	const uint64_t t2 = 0x40000;

	ck_assert_uint_eq(ht_read64(dev, HW_REG_GART_TABLE_LO), T);
	memset(ht_page(dev, a), 0xaa, 4096);
	memset(ht_page(dev, b), 0xbb, 4096);
	ht_gart_map(dev, T, 0, a);
	ht_gart_map(dev, t2, 0, b);
	read_page(&r, 0, HT_DATA);
	ck_assert(ht_vram_is(dev, HT_DATA, 4096, 0xaa));

	hw_mmio_write(dev, HW_REG_GART_TABLE_LO, (uint32_t)t2);
	hw_mmio_write(dev, HW_REG_GART_TABLE_HI, 0);
	ht_tlb_invalidate(dev, HW_TLB_INVALIDATE_ALL);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_GART_TABLE_LO), t2);
	read_page(&r, 0, HT_DATA + 0x1000);
	ck_assert(ht_vram_is(dev, HT_DATA + 0x1000, 4096, 0xbb));
	hw_device_destroy(dev);
}
END_TEST

Suite *hw_gart_suite(void)
{
	Suite *s = suite_create("hw_gart");
	TCase *map = tcase_create("address_map");
	TCase *tlb = tcase_create("tlb");

	tcase_add_test(map, test_gart_write_lands_in_sysmem);
	tcase_add_test(map, test_gart_read_from_sysmem);
	tcase_add_test(map, test_gart_scatter_pages);
	tcase_add_test(map, test_gart_disabled_or_invalid);
	tcase_add_test(map, test_gart_permissions);
	tcase_add_test(map, test_gart_bad_pfn);
	tcase_add_test(map, test_address_map_unmapped);
	tcase_add_test(map, test_gart_table_moves);
	tcase_add_test(tlb, test_tlb_stale_nonstrict);
	tcase_add_test(tlb, test_tlb_stale_strict);
	tcase_add_test(tlb, test_tlb_invalidate_one_page);
	tcase_add_test(tlb, test_tlb_direct_mapped);
	tcase_add_test(tlb, test_tlb_stats);
	suite_add_tcase(s, map);
	suite_add_tcase(s, tlb);
	return s;
}
