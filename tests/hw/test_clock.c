/*
 * The simulated clock: packet costs from overhead and bandwidth (VRAM or PCIe), start
 * times from doorbells and earlier packets, hw_run_until/hw_run_idle/hw_next_event,
 * and how two rings interleave (by start time, ties to the lower ring).
 */
#include "tests/hw/helpers.h"
#include "tests/hw/hw_suites.h"

#define T HT_GART_TABLE
#define MiB (1024ull * 1024)

/* A small device with both rings, GART pages 0..3 mapped, and the clock at `start`. */
static struct hw_device *clock_device(const char *cfg, struct ht_ring *r0, struct ht_ring *r1,
				      uint64_t start)
{
	struct hw_device *dev = ht_device(cfg);

	ht_ring_init(r0, dev, 0, HT_RING0, HT_RING_SIZE, 0);
	ht_ring_init(r1, dev, 1, HT_RING1, HT_RING_SIZE, 0);
	ht_gart_init(dev, T, HW_GART_CTRL_ENABLE);
	for (unsigned i = 0; i < 4; i++)
		ht_gart_map(dev, T, i, ht_sysmem_alloc(dev));
	ck_assert_int_eq(hw_run_until(dev, start), 0);
	ck_assert_uint_eq(hw_clock_now(dev), start);
	return dev;
}

/* Submit what is on the ring at the current time; return how long it took to finish. */
static uint64_t cost_of(struct ht_ring *r)
{
	uint64_t t0 = hw_clock_now(r->dev), t1;

	ht_submit(r);
	t1 = hw_run_idle(r->dev);
	ck_assert_uint_eq(hw_clock_now(r->dev), t1);
	ck_assert_uint_eq(ht_fault_cause(r->dev), HW_FAULT_NONE);
	ck_assert_uint_eq(ht_ring_reg(r, HW_RING_RPTR), r->wptr);
	return t1 - t0;
}

START_TEST(test_copy_1mib_cost)
{
	struct ht_ring r0, r1;
	struct hw_device *dev = clock_device(HT_SMALL, &r0, &r1, 5000);

	ht_copy(&r0, HT_DATA, HT_DATA + MiB, MiB);
	ht_submit(&r0);
	ck_assert_uint_eq(hw_run_idle(dev), 5000 + 100 + 2048);
	ck_assert_uint_eq(hw_clock_now(dev), 7148);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_CLOCK_LO), 7148);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_costs_vram)
{
	struct ht_ring r0, r1;
	struct hw_device *dev = clock_device(HT_SMALL, &r0, &r1, 0);
	uint32_t data[64] = { 0 };

	ht_nop(&r0, 5);
	ck_assert_uint_eq(cost_of(&r0), 100);
	ht_fence(&r0, HT_DATA, 1, 0);
	ck_assert_uint_eq(cost_of(&r0), 100);
	ht_wait(&r0, HT_DATA, 1);
	ck_assert_uint_eq(cost_of(&r0), 100);
	ht_copy(&r0, HT_DATA, HT_DATA + 0x1000, 1); /* ceil: a byte still costs 1 ns */
	ck_assert_uint_eq(cost_of(&r0), 101);
	ht_copy(&r0, HT_DATA, HT_DATA + 0x1000, 1000); /* 1.95 ns -> 2 */
	ck_assert_uint_eq(cost_of(&r0), 102);
	ht_fill(&r0, HT_DATA + 0x10000, 4096, 7); /* 8 ns */
	ck_assert_uint_eq(cost_of(&r0), 108);
	ht_checksum(&r0, HT_DATA, 1000, HT_DATA + 0x2000);
	ck_assert_uint_eq(cost_of(&r0), 102);
	ht_write_data(&r0, HT_DATA + 0x3000, data, 64); /* 256 bytes: 0.5 ns -> 1 */
	ck_assert_uint_eq(cost_of(&r0), 101);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_costs_aperture)
{
	struct ht_ring r0, r1;
	struct hw_device *dev = clock_device(HT_SMALL, &r0, &r1, 0);
	uint32_t data[64] = { 0 };

	ht_copy(&r0, HT_DATA, ht_gart_addr(dev, 0), 4096); /* 128 ns at 32 GB/s */
	ck_assert_uint_eq(cost_of(&r0), 228);
	ht_copy(&r0, ht_gart_addr(dev, 1), HT_DATA, 1000); /* 31.25 -> 32 */
	ck_assert_uint_eq(cost_of(&r0), 132);
	ht_fill(&r0, ht_gart_addr(dev, 2), 4096, 0);
	ck_assert_uint_eq(cost_of(&r0), 228);
	ht_checksum(&r0, ht_gart_addr(dev, 0), 4096, HT_DATA); /* source in the aperture */
	ck_assert_uint_eq(cost_of(&r0), 228);
	ht_write_data(&r0, ht_gart_addr(dev, 3), data, 64); /* 256 bytes: 8 ns */
	ck_assert_uint_eq(cost_of(&r0), 108);
	ht_fence(&r0, ht_gart_addr(dev, 3), 1, 0);
	ck_assert_uint_eq(cost_of(&r0), 100);
	hw_device_destroy(dev);
}
END_TEST

/* CHECKSUM is charged at the bandwidth of its source: 4 KiB read from VRAM is 8 ns,
 * even when the 4-byte result goes to the aperture. */
START_TEST(test_checksum_cost_follows_source)
{
	struct ht_ring r0, r1;
	struct hw_device *dev = clock_device(HT_SMALL, &r0, &r1, 0);

	ht_checksum(&r0, HT_DATA, 4096, ht_gart_addr(dev, 0));
	ck_assert_uint_eq(cost_of(&r0), 108);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_costs_configured)
{
	struct ht_ring r0, r1;
	struct hw_device *dev = clock_device(
		HT_SMALL ",vram_bw=1000000000,pcie_bw=250000000,packet_ns=7", &r0, &r1, 0);

	ht_copy(&r0, HT_DATA, HT_DATA + 0x10000, 1000); /* 1 ns per byte */
	ck_assert_uint_eq(cost_of(&r0), 1007);
	ht_fill(&r0, ht_gart_addr(dev, 0), 400, 0); /* 4 ns per byte */
	ck_assert_uint_eq(cost_of(&r0), 1607);
	ht_nop(&r0, 0);
	ck_assert_uint_eq(cost_of(&r0), 7);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_ring_packets_back_to_back)
{
	struct ht_ring r0, r1;
	struct hw_device *dev = clock_device(HT_SMALL, &r0, &r1, 1000);
	uint64_t t;

	ck_assert(!hw_next_event(dev, &t));
	ht_nop(&r0, 0);                              /* 1000 .. 1100 */
	ht_fill(&r0, HT_DATA, 4096, 1);              /* 1100 .. 1208 */
	ht_copy(&r0, HT_DATA, HT_DATA + 0x1000, MiB); /* 1208 .. 3356 */
	ht_submit(&r0);
	ck_assert(hw_next_event(dev, &t));
	ck_assert_uint_eq(t, 1000);
	ck_assert_int_eq(hw_run_until(dev, 1000), 0);
	ck_assert(hw_next_event(dev, &t));
	ck_assert_uint_eq(t, 1100);
	ck_assert_int_eq(hw_run_until(dev, 1150), 0);
	ck_assert(hw_next_event(dev, &t));
	ck_assert_uint_eq(t, 1208);
	ck_assert_uint_eq(hw_run_idle(dev), 3356);
	ck_assert(!hw_next_event(dev, &t));
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_run_until_boundary)
{
	struct ht_ring r0, r1;
	struct hw_device *dev = clock_device(HT_SMALL, &r0, &r1, 2000);
	const uint32_t v = 0xc10c;
	uint32_t after_nop;

	ht_nop(&r0, 0);
	after_nop = r0.wptr;
	ht_write_data(&r0, HT_DATA, &v, 1); /* starts at 2100 */
	ht_submit(&r0);
	ck_assert_int_eq(hw_run_until(dev, 2099), 0);
	ck_assert_uint_eq(hw_clock_now(dev), 2099);
	ck_assert_uint_eq(ht_ring_reg(&r0, HW_RING_RPTR), after_nop);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA), 0);
	/* A packet that starts exactly at t runs. */
	ck_assert_int_eq(hw_run_until(dev, 2100), 0);
	ck_assert_uint_eq(hw_clock_now(dev), 2100);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA), v);
	ck_assert_uint_eq(ht_ring_reg(&r0, HW_RING_RPTR), r0.wptr);
	/* hw_run_idle returns its completion, later than now. */
	ck_assert_uint_eq(hw_run_idle(dev), 2201);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_clock_never_goes_back)
{
	struct ht_ring r0, r1;
	struct hw_device *dev = clock_device(HT_SMALL, &r0, &r1, 0);

	ht_nop(&r0, 0);
	ht_submit(&r0);
	ck_assert_int_eq(hw_run_until(dev, 5000), 0);
	ck_assert_uint_eq(hw_clock_now(dev), 5000);
	hw_run_until(dev, 10);
	ck_assert_uint_eq(hw_clock_now(dev), 5000);
	/* The packet finished at 100; run_idle does not go back to it. */
	ck_assert_uint_eq(hw_run_idle(dev), 5000);
	ck_assert_uint_eq(hw_clock_now(dev), 5000);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_start_after_doorbell)
{
	struct ht_ring r0, r1;
	struct hw_device *dev = clock_device(HT_SMALL, &r0, &r1, 10000);
	uint64_t t;

	/* An idle ring starts at the doorbell ... */
	ht_copy(&r0, HT_DATA, HT_DATA + MiB, MiB); /* 10000 .. 12148 */
	ht_submit(&r0);
	ck_assert_int_eq(hw_run_until(dev, 11000), 0);
	/* ... a busy one when its previous packet is done. */
	ht_nop(&r0, 0);
	ht_submit(&r0);
	ck_assert(hw_next_event(dev, &t));
	ck_assert_uint_eq(t, 12148);
	ck_assert_uint_eq(hw_run_idle(dev), 12248);
	/* Long after, a new doorbell starts at its own time. */
	ck_assert_int_eq(hw_run_until(dev, 20000), 0);
	ht_nop(&r0, 3);
	ht_submit(&r0);
	ck_assert(hw_next_event(dev, &t));
	ck_assert_uint_eq(t, 20000);
	ck_assert_uint_eq(hw_run_idle(dev), 20100);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_two_rings_run_in_parallel)
{
	struct ht_ring r0, r1;
	struct hw_device *dev = clock_device(HT_SMALL, &r0, &r1, 0);

	ht_copy(&r0, HT_DATA, HT_DATA + 2 * MiB, MiB);
	ht_copy(&r1, HT_DATA + MiB, HT_DATA + 3 * MiB, MiB);
	ht_submit(&r0);
	ht_submit(&r1);
	ck_assert_uint_eq(hw_run_idle(dev), 2148);
	ck_assert_uint_eq(ht_ring_reg(&r0, HW_RING_RPTR), r0.wptr);
	ck_assert_uint_eq(ht_ring_reg(&r1, HW_RING_RPTR), r1.wptr);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_rings_interleave_by_start)
{
	struct ht_ring r0, r1;
	struct hw_device *dev = clock_device(HT_SMALL, &r0, &r1, 0);
	const uint32_t a = 0xaaaa, b = 0xbbbb;

	ht_copy(&r0, HT_DATA, HT_DATA + 2 * MiB, MiB); /* 0 .. 2148 */
	ht_write_data(&r0, HT_DATA + 0x100, &a, 1);    /* 2148 .. 2249 */
	ht_nop(&r1, 0);                                 /* 0 .. 100 */
	ht_write_data(&r1, HT_DATA + 0x100, &b, 1);    /* 100 .. 201 */
	ht_submit(&r0);
	ht_submit(&r1);
	ck_assert_int_eq(hw_run_until(dev, 100), 0);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 0x100), b);
	ck_assert_uint_eq(ht_ring_reg(&r0, HW_RING_RPTR), 28); /* the copy ran, not the write */
	ck_assert_uint_eq(hw_run_idle(dev), 2249);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 0x100), a);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_tie_goes_to_lower_ring)
{
	struct ht_ring r0, r1;
	struct hw_device *dev = clock_device(HT_SMALL, &r0, &r1, 300);
	const uint32_t a = 0xaaaa, b = 0xbbbb;

	/* Same start time; ring 1's doorbell rings first. Ring 0 still goes first, so
	 * ring 1's value is the one left in memory. */
	ht_write_data(&r1, HT_DATA, &b, 1);
	ht_write_data(&r0, HT_DATA, &a, 1);
	ht_submit(&r1);
	ht_submit(&r0);
	ck_assert_int_eq(hw_run_until(dev, 300), 0);
	ck_assert_uint_eq(ht_ring_reg(&r0, HW_RING_RPTR), r0.wptr);
	ck_assert_uint_eq(ht_ring_reg(&r1, HW_RING_RPTR), r1.wptr);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA), b);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_clock_register_64bit)
{
	struct ht_ring r0, r1;
	struct hw_device *dev = clock_device(HT_SMALL, &r0, &r1, 0);
	const uint64_t t = 0x100000123ull;

	ck_assert_int_eq(hw_run_until(dev, t), 0);
	ck_assert_uint_eq(hw_clock_now(dev), t);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_CLOCK_LO), 0x123);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_CLOCK_HI), 1);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_CLOCK_LO), t);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_status_idle_and_busy)
{
	struct ht_ring r0, r1;
	struct hw_device *dev = clock_device(HT_SMALL, &r0, &r1, 0);

	ck_assert_uint_ne(hw_mmio_read(dev, HW_REG_STATUS) & HW_STATUS_IDLE, 0);
	ck_assert_uint_eq(ht_ring_reg(&r0, HW_RING_STATUS) & HW_RING_STATUS_BUSY, 0);
	ht_nop(&r0, 0);
	ht_nop(&r0, 0);
	ht_submit(&r0);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_STATUS) & HW_STATUS_IDLE, 0);
	ck_assert_uint_ne(ht_ring_reg(&r0, HW_RING_STATUS) & HW_RING_STATUS_BUSY, 0);
	ck_assert_uint_eq(ht_ring_reg(&r1, HW_RING_STATUS) & HW_RING_STATUS_BUSY, 0);
	hw_run_idle(dev);
	ck_assert_uint_ne(hw_mmio_read(dev, HW_REG_STATUS) & HW_STATUS_IDLE, 0);
	ck_assert_uint_eq(ht_ring_reg(&r0, HW_RING_STATUS) & HW_RING_STATUS_BUSY, 0);
	hw_device_destroy(dev);
}
END_TEST

Suite *hw_clock_suite(void)
{
	Suite *s = suite_create("hw_clock");
	TCase *cost = tcase_create("costs");
	TCase *sched = tcase_create("scheduling");

	tcase_add_test(cost, test_copy_1mib_cost);
	tcase_add_test(cost, test_costs_vram);
	tcase_add_test(cost, test_costs_aperture);
	tcase_add_test(cost, test_checksum_cost_follows_source);
	tcase_add_test(cost, test_costs_configured);
	tcase_add_test(sched, test_ring_packets_back_to_back);
	tcase_add_test(sched, test_run_until_boundary);
	tcase_add_test(sched, test_clock_never_goes_back);
	tcase_add_test(sched, test_start_after_doorbell);
	tcase_add_test(sched, test_two_rings_run_in_parallel);
	tcase_add_test(sched, test_rings_interleave_by_start);
	tcase_add_test(sched, test_tie_goes_to_lower_ring);
	tcase_add_test(sched, test_clock_register_64bit);
	tcase_add_test(sched, test_status_idle_and_busy);
	suite_add_tcase(s, cost);
	suite_add_tcase(s, sched);
	return s;
}
