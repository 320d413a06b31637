/*
 * Faults and recovery: fault registers and their first-fault latch, rings stopping or
 * skipping, restart retrying the packet, packets with no partial effect, malformed
 * packets, injected errors (DMA, ECC, device removed, sysmem OOM) and RESET.
 */
#include <errno.h>
#include <string.h>

#include "tests/hw/helpers.h"
#include "tests/hw/hw_suites.h"

#define VRAM (16ull << 20)
#define T HT_GART_TABLE

START_TEST(test_fault_stops_ring)
{
	struct hw_device *dev = ht_device(HT_SMALL);
	struct ht_ring r;
	const uint32_t v = 0x1234;
	uint32_t hdr;
	uint64_t t;
	struct hw_stats s;

	ht_ring_init(&r, dev, 1, HT_RING1, HT_RING_SIZE, 0);
	ht_debug_fill_pattern(dev, VRAM - 4096, 4096, 41);
	ht_nop(&r, 1);
	hdr = ht_copy(&r, HT_DATA, VRAM - 100, 200);
	ht_write_data(&r, HT_DATA + 0x100, &v, 1);
	ht_submit(&r);
	ht_run(dev);

	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_UNMAPPED);
	ck_assert_uint_eq(ht_fault_addr(dev), VRAM);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_FAULT_RING), 1);
	ck_assert_uint_ne(ht_irq_status(dev) & HW_IRQ_FAULT, 0);
	ck_assert_uint_ne(ht_ring_reg(&r, HW_RING_STATUS) & HW_RING_STATUS_STOPPED, 0);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), hdr);
	ck_assert(ht_vram_has_pattern(dev, VRAM - 4096, 4096, 41)); /* no partial copy */
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 0x100), 0);  /* later packet idle */
	hw_get_stats(dev, &s);
	ck_assert_uint_eq(s.faults, 1);

	/* Another doorbell does not restart a stopped ring. */
	ht_submit(&r);
	ht_run(dev);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), hdr);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 0x100), 0);
	ck_assert_uint_ne(hw_mmio_read(dev, HW_REG_STATUS) & HW_STATUS_IDLE, 0);
	ck_assert(!hw_next_event(dev, &t));
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_first_fault_latched)
{
	struct hw_device *dev = ht_device(HT_SMALL);
	struct ht_ring r0, r1;
	struct hw_stats s;

	ht_ring_init(&r0, dev, 0, HT_RING0, HT_RING_SIZE, HW_RING_CTRL_SKIP_FAULT);
	ht_ring_init(&r1, dev, 1, HT_RING1, HT_RING_SIZE, HW_RING_CTRL_SKIP_FAULT);
	ht_fill(&r0, VRAM + 0x2000, 4, 0);
	ht_submit(&r0);
	ht_run(dev);
	ht_copy(&r1, 1ull << 50, HT_DATA, 4);
	ht_submit(&r1);
	ht_run(dev);
	/* The second fault did not overwrite the first. */
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_UNMAPPED);
	ck_assert_uint_eq(ht_fault_addr(dev), VRAM + 0x2000);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_FAULT_RING), 0);
	hw_get_stats(dev, &s);
	ck_assert_uint_eq(s.faults, 2);

	/* Re-arm; the next fault is recorded. */
	hw_mmio_write(dev, HW_REG_FAULT_CAUSE, 0);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_NONE);
	ht_copy(&r1, 1ull << 50, HT_DATA, 4);
	ht_submit(&r1);
	ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_UNMAPPED);
	ck_assert_uint_eq(ht_fault_addr(dev), 1ull << 50);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_FAULT_RING), 1);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_skip_fault_continues)
{
	struct hw_device *dev = ht_device(HT_SMALL);
	struct ht_ring r;
	const uint32_t v = 0x4321;
	uint32_t hdr;

	ht_ring_init(&r, dev, 0, HT_RING0, HT_RING_SIZE, HW_RING_CTRL_SKIP_FAULT);
	hdr = ht_fill(&r, HT_DATA, 4, 0x11111111);
	ht_fill(&r, VRAM - 4, 8, 0x22222222);
	ht_write_data(&r, HT_DATA + 4, &v, 1);
	ht_submit(&r);
	ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_UNMAPPED);
	ck_assert_uint_eq(ht_fault_addr(dev), VRAM);
	ck_assert_uint_ne(ht_irq_status(dev) & HW_IRQ_FAULT, 0);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_STATUS) & HW_RING_STATUS_STOPPED, 0);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), r.wptr);
	ck_assert_uint_ne(ht_ring_reg(&r, HW_RING_RPTR), hdr);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA), 0x11111111);
	ck_assert_uint_eq(ht_vram_read32(dev, VRAM - 4), 0); /* skipped, not half done */
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 4), v);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_restart_retries_packet)
{
	struct hw_device *dev = ht_device(HT_SMALL);
	struct ht_ring r;
	const uint32_t v = 0x777;
	uint64_t p;
	uint32_t hdr;
	uint8_t want[512];

	ht_ring_init(&r, dev, 0, HT_RING0, HT_RING_SIZE, 0);
	ht_gart_init(dev, T, HW_GART_CTRL_ENABLE);
	ht_vram_fill_pattern(dev, HT_DATA, sizeof want, 42);
	hdr = ht_copy(&r, HT_DATA, ht_gart_addr(dev, 3) + 8, sizeof want);
	ht_write_data(&r, HT_DATA + 0x1000, &v, 1);
	ht_submit(&r);
	ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_GART_INVALID);
	ck_assert_uint_eq(ht_fault_addr(dev), ht_gart_addr(dev, 3) + 8);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), hdr);

	/* What a driver does on a page fault: make the page resident, then restart. */
	p = ht_sysmem_alloc(dev);
	memset(ht_page(dev, p), 0, 4096);
	ht_gart_map(dev, T, 3, p);
	ht_tlb_invalidate(dev, 3);
	hw_mmio_write(dev, HW_REG_FAULT_CAUSE, 0);
	hw_mmio_write(dev, HW_REG_IRQ_STATUS, HW_IRQ_FAULT);
	ht_ring_restart(&r, HW_RING_CTRL_ENABLE);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_STATUS) & HW_RING_STATUS_STOPPED, 0);
	ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_NONE);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), r.wptr);
	ht_pattern(want, sizeof want, 42);
	ck_assert_int_eq(memcmp(ht_page(dev, p) + 8, want, sizeof want), 0);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 0x1000), v);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_fault_no_partial_effect)
{
	struct hw_device *dev = ht_device(HT_SMALL);
	struct ht_ring r;
	uint64_t p = 0;

	ht_ring_init(&r, dev, 0, HT_RING0, HT_RING_SIZE, HW_RING_CTRL_SKIP_FAULT);
	ht_gart_init(dev, T, HW_GART_CTRL_ENABLE);
	p = ht_sysmem_alloc(dev);
	memset(ht_page(dev, p), 0x5c, 4096);
	ht_gart_map(dev, T, 0, p); /* page 1 stays invalid */
	ht_vram_fill_pattern(dev, HT_DATA, 8192, 43);

	/* Destination half valid: not a byte lands in the valid page. */
	ht_copy(&r, HT_DATA, ht_gart_addr(dev, 0), 8192);
	ht_submit(&r);
	ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_GART_INVALID);
	ck_assert_uint_eq(ht_fault_addr(dev), ht_gart_addr(dev, 1));
	for (unsigned i = 0; i < 4096; i++)
		ck_assert_uint_eq(ht_page(dev, p)[i], 0x5c);
	hw_mmio_write(dev, HW_REG_FAULT_CAUSE, 0);

	/* Source half valid: the destination in VRAM is not touched either. */
	ht_copy(&r, ht_gart_addr(dev, 0) + 4000, HT_DATA + 0x4000, 200);
	ht_checksum(&r, ht_gart_addr(dev, 0), 8192, HT_DATA + 0x5000);
	ht_submit(&r);
	ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_GART_INVALID);
	ck_assert_uint_eq(ht_fault_addr(dev), ht_gart_addr(dev, 1));
	ck_assert(ht_vram_has_pattern(dev, HT_DATA, 8192, 43));
	ck_assert(ht_vram_is(dev, HT_DATA + 0x4000, 200, 0));
	ck_assert(ht_vram_is(dev, HT_DATA + 0x5000, 4, 0));
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), r.wptr);
	hw_device_destroy(dev);
}
END_TEST

/* Malformed packets whose bodies would write HT_DATA + 0x200 (from HT_DATA + 0x400). */
#define DST (HT_DATA + 0x200)
#define SRC (HT_DATA + 0x400)
START_TEST(test_bad_packets)
{
	static const uint32_t bad[][8] = {
		{ HW_PKT_HEADER(0x7f, 0, 0) },                 /* unknown opcode */
		{ HW_PKT_HEADER(0xff, 0, 4), DST, 0, 1, 0 },   /* another, with a body */
		{ HW_PKT_HEADER(HW_PKT_COPY, 0, 5), SRC, 0, DST, 0, 4 },
		{ HW_PKT_HEADER(HW_PKT_FILL, 0, 6), DST, 0, 4, 0, 0xffffffff, 0 },
		{ HW_PKT_HEADER(HW_PKT_FENCE, 0, 3), DST, 0, 1 },
		{ HW_PKT_HEADER(HW_PKT_WRITE_DATA, 0, 1), DST },
		{ HW_PKT_HEADER(HW_PKT_CHECKSUM, 0, 7), SRC, 0, 4, 0, DST, 0, 0 },
		{ HW_PKT_HEADER(HW_PKT_WAIT, 0, 2), DST, 0 },
	};
	static const unsigned len[] = { 1, 5, 6, 7, 4, 2, 8, 3 };
	static const uint32_t cause[] = { HW_FAULT_PKT_OPCODE, HW_FAULT_PKT_OPCODE, HW_FAULT_BAD_PACKET,
					  HW_FAULT_BAD_PACKET, HW_FAULT_BAD_PACKET, HW_FAULT_BAD_PACKET,
					  HW_FAULT_BAD_PACKET, HW_FAULT_BAD_PACKET };

	for (unsigned i = 0; i < sizeof len / sizeof len[0]; i++) {
		struct hw_device *dev = ht_device(HT_SMALL);
		struct ht_ring r;
		const uint32_t v = 0xfeed;
		uint32_t hdr;

		ht_ring_init(&r, dev, 0, HT_RING0, HT_RING_SIZE, 0);
		ht_vram_fill_pattern(dev, SRC, 64, 45);
		ht_nop(&r, 2);
		hdr = ht_emit(&r, bad[i], len[i]);
		ht_write_data(&r, HT_DATA + 0x100, &v, 1);
		ht_submit(&r);
		ht_run(dev);
		ck_assert_msg(ht_fault_cause(dev) == cause[i], "case %u: cause %u", i, ht_fault_cause(dev));
		ck_assert_msg(ht_fault_addr(dev) == ht_ring_addr(&r, hdr), "case %u: addr", i);
		ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), hdr);
		ck_assert_uint_ne(ht_ring_reg(&r, HW_RING_STATUS) & HW_RING_STATUS_STOPPED, 0);
		ck_assert_msg(ht_vram_is(dev, DST, 16, 0), "case %u: wrote", i);
		ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 0x100), 0);
		hw_device_destroy(dev);
	}
}
END_TEST
#undef DST
#undef SRC

START_TEST(test_inject_dma_error)
{
	struct hw_device *dev = ht_device(HT_SMALL);
	struct ht_ring r;
	uint32_t hdr;

	ht_ring_init(&r, dev, 0, HT_RING0, HT_RING_SIZE, 0);
	hw_inject_dma_error(dev);
	hdr = ht_fill(&r, HT_DATA, 64, 0xabababab);
	ht_fill(&r, HT_DATA + 64, 64, 0xcdcdcdcd);
	ht_submit(&r);
	ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_DMA);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), hdr);
	ck_assert(ht_vram_is(dev, HT_DATA, 128, 0));

	/* One packet only: the retried packet and the next one work. */
	hw_mmio_write(dev, HW_REG_FAULT_CAUSE, 0);
	ht_ring_restart(&r, HW_RING_CTRL_ENABLE);
	ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_NONE);
	ck_assert(ht_vram_is(dev, HT_DATA, 64, 0xab));
	ck_assert(ht_vram_is(dev, HT_DATA + 64, 64, 0xcd));
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_inject_vram_ecc)
{
	struct hw_device *dev = ht_device(HT_SMALL);
	struct ht_ring r;
	const uint64_t bad_page = HT_DATA + 0x5000;
	uint8_t buf[64];
	uint64_t addr;

	ht_ring_init(&r, dev, 0, HT_RING0, HT_RING_SIZE, 0);
	ht_vram_fill_pattern(dev, HT_DATA, 0x8000, 44);
	ck_assert_int_eq(hw_inject_vram_error(dev, bad_page + 123), 0);
	ck_assert_int_eq(hw_inject_vram_error(dev, VRAM), -EINVAL);
	ck_assert_int_eq(hw_inject_vram_error(dev, UINT64_MAX), -EINVAL);

	/* BAR2 reads touching the page fail, the neighbours are fine. */
	ck_assert_int_eq(hw_bar2_read(dev, bad_page + 4000, buf, sizeof buf), -EIO);
	ck_assert_int_eq(hw_bar2_read(dev, bad_page - 32, buf, sizeof buf), -EIO);
	ck_assert_int_eq(hw_bar2_read(dev, bad_page - 64, buf, sizeof buf), 0);
	ck_assert_int_eq(hw_bar2_read(dev, bad_page + 4096, buf, sizeof buf), 0);

	ht_copy(&r, bad_page - 0x100, HT_DATA + 0x10000, 0x200);
	ht_submit(&r);
	ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_ECC);
	addr = ht_fault_addr(dev);
	ck_assert_uint_ge(addr, bad_page);
	ck_assert_uint_lt(addr, bad_page + 4096);
	ck_assert(ht_vram_is(dev, HT_DATA + 0x10000, 0x200, 0));
	ck_assert_uint_ne(ht_ring_reg(&r, HW_RING_STATUS) & HW_RING_STATUS_STOPPED, 0);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_device_removed)
{
	struct hw_device *dev = ht_device(HT_SMALL);
	struct ht_ring r;
	const uint32_t v = 0x31337;
	uint8_t buf[8] = { 0 };

	ht_ring_init(&r, dev, 0, HT_RING0, HT_RING_SIZE, 0);
	ht_write_data(&r, HT_DATA, &v, 1);
	ht_submit(&r);
	ck_assert(!hw_device_removed(dev));
	hw_inject_device_removed(dev);
	ck_assert(hw_device_removed(dev));
	ht_run(dev);

	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA), 0); /* the ring stopped */
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_ID), 0xffffffffu);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_STATUS), 0xffffffffu);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_IRQ_MASK), 0xffffffffu);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_RING(0, HW_RING_RPTR)), 0xffffffffu);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_CLOCK_LO), 0xffffffffu);
	hw_mmio_write(dev, HW_REG_RING(0, HW_RING_DOORBELL), 1);
	ht_run(dev);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA), 0);
	ck_assert_int_eq(hw_bar2_read(dev, HT_DATA, buf, sizeof buf), -ENODEV);
	ck_assert_int_eq(hw_bar2_write(dev, HT_DATA, buf, sizeof buf), -ENODEV);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_inject_sysmem_oom)
{
	struct hw_device *dev = ht_device("vram=4M,visible=4M,gart=4M,sysmem=1M");
	uint64_t pfn[3], extra;

	hw_inject_sysmem_oom(dev, 3);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_int_eq(hw_sysmem_alloc(dev, &pfn[i]), 0);
	ck_assert_int_eq(hw_sysmem_alloc(dev, &extra), -ENOMEM);
	ck_assert_int_eq(hw_sysmem_alloc(dev, &extra), -ENOMEM);
	ck_assert_uint_eq(hw_sysmem_pages_used(dev), 3);
	for (unsigned i = 0; i < 3; i++)
		hw_sysmem_free(dev, pfn[i]);
	ck_assert_int_eq(hw_sysmem_alloc(dev, &extra), -ENOMEM);
	hw_device_destroy(dev);

	dev = ht_device("vram=4M,visible=4M,gart=4M,sysmem=1M");
	hw_inject_sysmem_oom(dev, 0);
	ck_assert_int_eq(hw_sysmem_alloc(dev, &extra), -ENOMEM);
	ck_assert_uint_eq(hw_sysmem_pages_used(dev), 0);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_reset)
{
	struct hw_device *dev = ht_device(HT_SMALL);
	struct ht_ring r0, r1;
	const uint32_t v = 0x2468;
	uint64_t now;

	ht_ring_init(&r0, dev, 0, HT_RING0, HT_RING_SIZE, 0);
	ht_ring_init(&r1, dev, 1, HT_RING1, HT_RING_SIZE, HW_RING_CTRL_SKIP_FAULT);
	ht_gart_init(dev, T, HW_GART_CTRL_ENABLE | HW_GART_CTRL_STRICT);
	hw_mmio_write(dev, HW_REG_IRQ_MASK, HW_IRQ_FAULT);
	ht_fill(&r0, HT_DATA, 256, 0x5a5a5a5a);
	ht_fill(&r0, VRAM, 4, 0); /* faults, stops ring 0 */
	ht_submit(&r0);
	hw_run_until(dev, 12345);
	ht_write_data(&r1, HT_DATA + 0x1000, &v, 1);
	ht_submit(&r1); /* pending when the reset comes */
	now = hw_clock_now(dev);
	ck_assert_uint_eq(now, 12345);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_UNMAPPED);

	hw_mmio_write(dev, HW_REG_RESET, 0x12345678); /* not the magic: nothing */
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_UNMAPPED);
	ck_assert_uint_eq(ht_ring_reg(&r1, HW_RING_CTRL), HW_RING_CTRL_ENABLE | HW_RING_CTRL_SKIP_FAULT);

	hw_mmio_write(dev, HW_REG_RESET, HW_RESET_MAGIC);
	for (unsigned n = 0; n < HW_NUM_RINGS; n++) {
		ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_RING(n, HW_RING_CTRL)), 0);
		ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_RING(n, HW_RING_RPTR)), 0);
		ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_RING(n, HW_RING_WPTR)), 0);
		ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_RING(n, HW_RING_SIZE)), 0);
		ck_assert_uint_eq(ht_read64(dev, HW_REG_RING(n, HW_RING_BASE_LO)), 0);
		ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_RING(n, HW_RING_STATUS)) &
					  HW_RING_STATUS_STOPPED, 0);
	}
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_GART_CTRL), 0);
	ck_assert_uint_eq(ht_irq_status(dev), 0);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_IRQ_MASK), 0);
	ck_assert_uint_eq(ht_fault_cause(dev), 0);
	ck_assert_uint_eq(ht_fault_addr(dev), 0);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_FAULT_RING), 0);
	ck_assert_uint_eq(hw_clock_now(dev), now);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_CLOCK_LO), now);
	ck_assert(ht_vram_is(dev, HT_DATA, 256, 0x5a)); /* memory kept */

	/* The pending packet died with the reset; a reprogrammed ring works. */
	ht_run(dev);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 0x1000), 0);
	ht_ring_init(&r1, dev, 1, HT_RING1, HT_RING_SIZE, 0);
	ht_write_data(&r1, HT_DATA + 0x1000, &v, 1);
	ht_submit(&r1);
	ht_run(dev);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 0x1000), v);
	hw_device_destroy(dev);
}
END_TEST

Suite *hw_faults_suite(void)
{
	Suite *s = suite_create("hw_faults");
	TCase *f = tcase_create("faults");
	TCase *inj = tcase_create("inject");

	tcase_add_test(f, test_fault_stops_ring);
	tcase_add_test(f, test_first_fault_latched);
	tcase_add_test(f, test_skip_fault_continues);
	tcase_add_test(f, test_restart_retries_packet);
	tcase_add_test(f, test_fault_no_partial_effect);
	tcase_add_test(f, test_bad_packets);
	tcase_add_test(f, test_reset);
	tcase_add_test(inj, test_inject_dma_error);
	tcase_add_test(inj, test_inject_vram_ecc);
	tcase_add_test(inj, test_device_removed);
	tcase_add_test(inj, test_inject_sysmem_oom);
	suite_add_tcase(s, f);
	suite_add_tcase(s, inj);
	return s;
}
