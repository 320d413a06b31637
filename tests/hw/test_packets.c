/*
 * The command processor and its packets: what each opcode does to memory and to the
 * ring registers, ring programming (SIZE resets the pointers, CTRL enables), a ring
 * going round (packets never split by its end), and WAIT/FENCE between two rings.
 */
#include <string.h>
#include <zlib.h>

#include "tests/hw/helpers.h"
#include "tests/hw/hw_suites.h"

#define VISIBLE (8ull << 20)

static struct hw_device *packet_device(struct ht_ring *r)
{
	struct hw_device *dev = ht_device(HT_SMALL);

	ht_ring_init(r, dev, 0, HT_RING0, HT_RING_SIZE, 0);
	return dev;
}

static void run_clean(struct ht_ring *r)
{
	ht_submit(r);
	ht_run(r->dev);
	ck_assert_uint_eq(ht_fault_cause(r->dev), HW_FAULT_NONE);
	ck_assert_uint_eq(ht_ring_reg(r, HW_RING_RPTR), r->wptr);
}

START_TEST(test_nop_skips_body)
{
	struct ht_ring r;
	struct hw_device *dev = packet_device(&r);
	/* A NOP whose body would be a WRITE_DATA if it were executed. */
	const uint32_t trap[] = { HW_PKT_HEADER(HW_PKT_NOP, 0, 4),
				  HW_PKT_HEADER(HW_PKT_WRITE_DATA, 0, 3), HT_DATA, 0, 0xbad };
	const uint32_t good = 0x600d;
	struct hw_stats s0, s1;

	hw_get_stats(dev, &s0);
	ht_nop(&r, 0);
	ht_emit(&r, trap, 5);
	ht_nop(&r, 17);
	ht_write_data(&r, HT_DATA + 4, &good, 1);
	run_clean(&r);
	hw_get_stats(dev, &s1);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA), 0);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 4), good);
	ck_assert_uint_eq(s1.packets - s0.packets, 4);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_write_data)
{
	struct ht_ring r;
	struct hw_device *dev = packet_device(&r);
	const uint32_t data[5] = { 1, 0x22222222, 0x80000000, 0xffffffff, 0x12345678 };

	ht_vram_write32(dev, HT_DATA + 4, 0x11111111);
	ht_vram_write32(dev, HT_DATA + 28, 0x11111111);
	ht_write_data(&r, HT_DATA + 8, data, 5);
	ht_write_data(&r, VISIBLE + 0x1000, data + 4, 1); /* above the BAR2 window */
	run_clean(&r);
	for (unsigned i = 0; i < 5; i++)
		ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 8 + 4 * i), data[i]);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 4), 0x11111111);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 28), 0x11111111);
	ck_assert_uint_eq(ht_vram_read32(dev, VISIBLE + 0x1000), 0x12345678);
	ck_assert_uint_eq(ht_vram_read32(dev, VISIBLE + 0x1004), 0);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_copy_vram)
{
	struct ht_ring r;
	struct hw_device *dev = packet_device(&r);
	const uint64_t dst = HT_DATA + 0x10005, high = VISIBLE + 0x333;
	uint8_t *d = hw_debug_vram(dev, dst - 16, 1001 + 32);
	struct hw_stats s;

	ht_vram_fill_pattern(dev, HT_DATA + 3, 1001, 31);
	memset(d, 0xee, 1001 + 32);
	ht_copy(&r, HT_DATA + 3, dst, 1001);
	ht_copy(&r, dst, high, 1001);         /* into invisible VRAM ... */
	ht_copy(&r, high, HT_DATA + 0x20000, 1001); /* ... and back */
	run_clean(&r);
	ck_assert(ht_vram_has_pattern(dev, dst, 1001, 31));
	ck_assert(ht_vram_has_pattern(dev, high, 1001, 31));
	ck_assert(ht_vram_has_pattern(dev, HT_DATA + 0x20000, 1001, 31));
	ck_assert(ht_vram_is(dev, dst - 16, 16, 0xee));
	ck_assert(ht_vram_is(dev, dst + 1001, 16, 0xee));
	ck_assert(ht_vram_has_pattern(dev, HT_DATA + 3, 1001, 31)); /* source intact */
	hw_get_stats(dev, &s);
	ck_assert_uint_eq(s.bytes_copied, 3 * 1001);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_fill)
{
	struct ht_ring r;
	struct hw_device *dev = packet_device(&r);
	uint8_t *v = hw_debug_vram(dev, HT_DATA, 8192);
	struct hw_stats s;

	memset(v, 0x55, 8192);
	ht_fill(&r, HT_DATA + 16, 4096, 0x12345678);
	ht_fill(&r, VISIBLE + 0x10000, 64, 0xcafef00d);
	run_clean(&r);
	for (unsigned i = 0; i < 4096; i += 4)
		ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 16 + i), 0x12345678);
	ck_assert_uint_eq(v[16], 0x78); /* little endian */
	ck_assert(ht_vram_is(dev, HT_DATA, 16, 0x55));
	ck_assert(ht_vram_is(dev, HT_DATA + 16 + 4096, 8192 - 16 - 4096, 0x55));
	ck_assert_uint_eq(ht_vram_read32(dev, VISIBLE + 0x10000 + 60), 0xcafef00d);
	ck_assert_uint_eq(ht_vram_read32(dev, VISIBLE + 0x10000 + 64), 0);
	hw_get_stats(dev, &s);
	ck_assert_uint_eq(s.bytes_filled, 4096 + 64);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_fill_bad_size)
{
	struct ht_ring r;
	struct hw_device *dev = packet_device(&r);
	uint32_t hdr;

	hdr = ht_fill(&r, HT_DATA, 6, 0xffffffff);
	ht_submit(&r);
	ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_BAD_PACKET);
	ck_assert_uint_eq(ht_fault_addr(dev), ht_ring_addr(&r, hdr));
	ck_assert(ht_vram_is(dev, HT_DATA, 8, 0));
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_checksum)
{
	struct ht_ring r;
	struct hw_device *dev = packet_device(&r);
	uint8_t buf[10007];
	uint32_t want;
	struct hw_stats s;

	ht_pattern(buf, sizeof buf, 32);
	want = (uint32_t)crc32(0L, buf, sizeof buf);
	ht_vram_write(dev, HT_DATA + 1, buf, sizeof buf);
	ht_vram_write32(dev, HT_DATA + 0x8004, 0x77777777);
	ht_checksum(&r, HT_DATA + 1, sizeof buf, HT_DATA + 0x8000);
	ht_checksum(&r, HT_DATA + 1, 1, HT_DATA + 0x8008);
	run_clean(&r);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 0x8000), want);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 0x8004), 0x77777777);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 0x8008), (uint32_t)crc32(0L, buf, 1));
	hw_get_stats(dev, &s);
	ck_assert_uint_eq(s.bytes_checksummed, sizeof buf + 1);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_fence)
{
	struct ht_ring r0, r1;
	struct hw_device *dev = ht_device(HT_SMALL);

	ht_ring_init(&r0, dev, 0, HT_RING0, HT_RING_SIZE, 0);
	ht_ring_init(&r1, dev, 1, HT_RING1, HT_RING_SIZE, 0);
	ht_fence(&r0, HT_DATA, 0x1122334455667788ull, 0);
	run_clean(&r0);
	ck_assert_uint_eq(ht_vram_read64(dev, HT_DATA), 0x1122334455667788ull);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_RING(0, HW_RING_FENCE_LO)), 0x1122334455667788ull);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_RING(1, HW_RING_FENCE_LO)), 0);
	ck_assert_uint_eq(ht_irq_status(dev) & HW_IRQ_FENCE(0), 0);

	ht_fence(&r1, HT_DATA + 8, 42, HW_PKT_FENCE_IRQ);
	run_clean(&r1);
	ck_assert_uint_eq(ht_vram_read64(dev, HT_DATA + 8), 42);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_RING(1, HW_RING_FENCE_LO)), 42);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_RING(0, HW_RING_FENCE_LO)), 0x1122334455667788ull);
	ck_assert_uint_eq(ht_irq_status(dev), HW_IRQ_FENCE(1));
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_wait_released_by_other_ring)
{
	struct ht_ring r0, r1;
	struct hw_device *dev = ht_device(HT_SMALL);
	const uint32_t marker = 0xabcd;
	const uint64_t sem = HT_DATA, out = HT_DATA + 0x100;
	uint64_t t;

	ht_ring_init(&r0, dev, 0, HT_RING0, HT_RING_SIZE, 0);
	ht_ring_init(&r1, dev, 1, HT_RING1, HT_RING_SIZE, 0);
	ht_wait(&r1, sem, 0x100000000ull);
	ht_write_data(&r1, out, &marker, 1);
	ht_submit(&r1);
	ht_fence(&r0, sem, 0xffffffffull, 0); /* 64-bit compare: not enough */
	ht_submit(&r0);
	ht_run(dev);
	ck_assert_uint_eq(ht_vram_read32(dev, out), 0);
	ck_assert_uint_ne(ht_ring_reg(&r1, HW_RING_STATUS) & HW_RING_STATUS_WAITING, 0);
	ck_assert_uint_ne(ht_ring_reg(&r1, HW_RING_RPTR), r1.wptr);
	ck_assert(!hw_next_event(dev, &t)); /* nobody will write the value */

	ht_fence(&r0, sem, 0x100000000ull, 0);
	ht_submit(&r0);
	ht_run(dev);
	ck_assert_uint_eq(ht_vram_read32(dev, out), marker);
	ck_assert_uint_eq(ht_ring_reg(&r1, HW_RING_STATUS) & HW_RING_STATUS_WAITING, 0);
	ck_assert_uint_eq(ht_ring_reg(&r1, HW_RING_RPTR), r1.wptr);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_NONE);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_wait_already_satisfied)
{
	struct ht_ring r;
	struct hw_device *dev = packet_device(&r);
	const uint32_t marker = 0x5151;
	const uint8_t ten[8] = { 10 };

	ht_vram_write(dev, HT_DATA, ten, sizeof ten);
	ht_wait(&r, HT_DATA, 7);
	ht_wait(&r, HT_DATA, 10);
	ht_write_data(&r, HT_DATA + 8, &marker, 1);
	run_clean(&r);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 8), marker);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_STATUS) & HW_RING_STATUS_WAITING, 0);
	hw_device_destroy(dev);
}
END_TEST

/* A packet lies whole between its header and the end of the ring: software pads
 * the end with a NOP and goes on at 0. One that crosses the end faults (PKT_WRAP)
 * and has no effect; skipped, it costs exactly its own dwords. */
START_TEST(test_ring_wrap)
{
	struct ht_ring r;
	struct hw_device *dev = ht_device(HT_SMALL);
	const uint32_t data[3] = { 0xa1, 0xb2, 0xc3 };
	const uint32_t marker = 0x5eed;
	uint32_t hdr;

	ht_ring_init(&r, dev, 0, HT_RING1, 128, 0);
	ht_nop(&r, 27); /* 112 bytes */
	run_clean(&r);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), 112);
	/* 6 dwords do not fit the 4 before the end: a NOP pads them, the packet goes at 0. */
	ht_nop(&r, 3);
	ck_assert_uint_eq(ht_write_data(&r, HT_DATA, data, 3), 0);
	run_clean(&r);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), 24);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 4 * i), data[i]);

	/* Around again, now with a WRITE_DATA split by the end: 112..128, then 0..8. */
	ht_nop(&r, 21);
	run_clean(&r);
	hdr = ht_write_data(&r, HT_DATA + 0x100, data, 3);
	ck_assert_uint_eq(hdr, 112);
	ht_write_data(&r, HT_DATA + 0x200, &marker, 1);
	ht_submit(&r);
	ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_PKT_WRAP);
	ck_assert_uint_eq(ht_fault_addr(dev), ht_ring_addr(&r, hdr));
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), hdr);
	ck_assert_uint_ne(ht_ring_reg(&r, HW_RING_STATUS) & HW_RING_STATUS_STOPPED, 0);
	ck_assert(ht_vram_is(dev, HT_DATA + 0x100, 12, 0));
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 0x200), 0);

	/* Restarted with SKIP_FAULT it faults again and is skipped, 6 dwords and no
	 * more: the packet after it, at 8, runs. */
	hw_mmio_write(dev, HW_REG_FAULT_CAUSE, 0);
	ht_ring_restart(&r, HW_RING_CTRL_ENABLE | HW_RING_CTRL_SKIP_FAULT);
	ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_PKT_WRAP);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), r.wptr);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 0x200), marker);
	ck_assert(ht_vram_is(dev, HT_DATA + 0x100, 12, 0));
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_ring_registers)
{
	struct ht_ring r;
	struct hw_device *dev = ht_device(HT_SMALL);
	const uint32_t one = 1;

	ht_ring_init(&r, dev, 1, HT_RING1, 256, 0);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_RING(1, HW_RING_BASE_LO)), HT_RING1);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_SIZE), 256);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_CTRL), HW_RING_CTRL_ENABLE);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), 0);
	ht_write_data(&r, HT_DATA, &one, 1);
	ht_nop(&r, 2);
	run_clean(&r);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_WPTR), 28);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), 28);
	/* Writing SIZE resets both pointers; the ring then starts at offset 0 again. */
	ht_ring_write_reg(&r, HW_RING_SIZE, 128);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), 0);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_WPTR), 0);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_SIZE), 128);
	r.size = 128;
	r.wptr = 0;
	ht_write_data(&r, HT_DATA + 4, &one, 1);
	/* WPTR is taken modulo SIZE: 128 + 16 is offset 16. */
	ht_ring_write_reg(&r, HW_RING_WPTR, 128 + 16);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_WPTR), 16);
	ht_ring_write_reg(&r, HW_RING_DOORBELL, 1);
	ht_run(dev);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), 16);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 4), 1);
	/* Ring 0 was never touched. */
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_RING(0, HW_RING_SIZE)), 0);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_RING(0, HW_RING_RPTR)), 0);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_ring_disabled_does_not_run)
{
	struct ht_ring r;
	struct hw_device *dev = ht_device(HT_SMALL);
	const uint32_t v = 0x99;

	ht_ring_init(&r, dev, 0, HT_RING0, HT_RING_SIZE, 0);
	ht_ring_write_reg(&r, HW_RING_CTRL, 0);
	ht_write_data(&r, HT_DATA, &v, 1);
	ht_submit(&r);
	ht_run(dev);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), 0);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA), 0);
	ck_assert_uint_ne(hw_mmio_read(dev, HW_REG_STATUS) & HW_STATUS_IDLE, 0);

	ht_ring_write_reg(&r, HW_RING_CTRL, HW_RING_CTRL_ENABLE);
	run_clean(&r);
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA), v);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_packets_in_order)
{
	struct ht_ring r;
	struct hw_device *dev = packet_device(&r);
	uint8_t want[2048];
	struct hw_stats s;

	/* Each packet consumes what the one before produced. */
	ht_fill(&r, HT_DATA, 2048, 0x01020304);
	ht_copy(&r, HT_DATA, VISIBLE + 0x2000, 2048);
	ht_checksum(&r, VISIBLE + 0x2000, 2048, HT_DATA + 0x4000);
	ht_copy(&r, HT_DATA + 0x4000, HT_DATA + 0x4008, 4);
	ht_fence(&r, HT_DATA + 0x5000, 1, 0);
	run_clean(&r);
	for (unsigned i = 0; i < sizeof want; i += 4) {
		want[i] = 4, want[i + 1] = 3, want[i + 2] = 2, want[i + 3] = 1;
	}
	ck_assert_uint_eq(ht_vram_read32(dev, HT_DATA + 0x4008),
			  (uint32_t)crc32(0L, want, sizeof want));
	ck_assert_uint_eq(ht_vram_read64(dev, HT_DATA + 0x5000), 1);
	hw_get_stats(dev, &s);
	ck_assert_uint_eq(s.packets, 5);
	ck_assert_uint_eq(s.bytes_filled, 2048);
	ck_assert_uint_eq(s.bytes_copied, 2052);
	ck_assert_uint_eq(s.bytes_checksummed, 2048);
	ck_assert_uint_eq(s.faults, 0);
	hw_device_destroy(dev);
}
END_TEST

Suite *hw_packets_suite(void)
{
	Suite *s = suite_create("hw_packets");
	TCase *pk = tcase_create("packets");
	TCase *rg = tcase_create("rings");

	tcase_add_test(pk, test_nop_skips_body);
	tcase_add_test(pk, test_write_data);
	tcase_add_test(pk, test_copy_vram);
	tcase_add_test(pk, test_fill);
	tcase_add_test(pk, test_fill_bad_size);
	tcase_add_test(pk, test_checksum);
	tcase_add_test(pk, test_fence);
	tcase_add_test(pk, test_packets_in_order);
	tcase_add_test(rg, test_wait_released_by_other_ring);
	tcase_add_test(rg, test_wait_already_satisfied);
	tcase_add_test(rg, test_ring_wrap);
	tcase_add_test(rg, test_ring_registers);
	tcase_add_test(rg, test_ring_disabled_does_not_run);
	suite_add_tcase(s, pk);
	suite_add_tcase(s, rg);
	return s;
}
