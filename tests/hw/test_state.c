/*
 * The device's state for snapshots (hw/state.c): what hw_device_save_state gives
 * puts a second device in the same place (the table itself: test_vmstate.c),
 * registers are read without side effects, and the scan for populated memory
 * finds exactly the pages that hold data.
 */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gpusim/hwstate.h>
#include "tests/hw/helpers.h"
#include "tests/hw/hw_suites.h"

#define CFG "vram=4M,visible=2M,gart=1M,sysmem=8M"

/* A device that has done some work: a ring, a fill, a fence, TLB traffic. */
static struct hw_device *busy_device(void)
{
	struct hw_device *dev = ht_device(CFG);
	struct ht_ring r;
	ht_ring_init(&r, dev, 0, HT_RING0, HT_RING_SIZE, 0);
	ht_fill(&r, 0x100000, 64 * 1024, 0xabcdef01u);
	ht_fence(&r, 0x200000, 7, HW_PKT_FENCE_IRQ);
	ht_submit(&r);
	hw_run_idle(dev);
	return dev;
}

START_TEST(test_state_moves_to_another_device)
{
	struct hw_device *a = busy_device(), *b = ht_device(CFG);
	uint8_t *st;
	size_t len;
	char err[200] = "";
	ck_assert_int_eq(hw_device_save_state(a, &st, &len), 0);
	ck_assert_int_eq(hw_device_load_state(b, st, len, err, sizeof(err)), 0);
	free(st);
	uint32_t oa[64], va[64], ob[64], vb[64];
	uint32_t na = hw_debug_registers(a, oa, va, 64), nb = hw_debug_registers(b, ob, vb, 64);
	ck_assert_uint_eq(na, nb);
	ck_assert_uint_le(na, 64);
	for (uint32_t i = 0; i < na; i++) {
		ck_assert_uint_eq(oa[i], ob[i]);
		ck_assert_msg(va[i] == vb[i], "register 0x%x: 0x%x vs 0x%x", oa[i], va[i], vb[i]);
	}
	struct hw_stats sa, sb;
	hw_get_stats(a, &sa);
	hw_get_stats(b, &sb);
	ck_assert(!memcmp(&sa, &sb, sizeof(sa)));
	ck_assert_uint_gt(hw_clock_now(a), 0);
	ck_assert_uint_eq(hw_clock_now(a), hw_clock_now(b));
	hw_device_destroy(a);
	hw_device_destroy(b);
}
END_TEST

START_TEST(test_registers_without_side_effects)
{
	struct hw_device *dev = busy_device();
	uint32_t off[64], val[64];
	uint32_t n = hw_debug_registers(dev, off, val, 64);
	ck_assert_uint_le(n, 64);
	bool saw_id = false;
	for (uint32_t i = 0; i < n; i++)
		saw_id |= off[i] == HW_REG_ID && val[i] == HW_DEVICE_ID;
	ck_assert(saw_id);
	/* A removed device reads all ones, but its snapshot shows what it held. */
	hw_inject_device_removed(dev);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_ID), 0xffffffffu);
	uint32_t n2 = hw_debug_registers(dev, off, val, 64);
	ck_assert_uint_eq(n2, n);
	ck_assert_uint_eq(off[0], HW_REG_ID);
	ck_assert_uint_eq(val[0], HW_DEVICE_ID);
	ck_assert(hw_device_removed(dev));
	hw_device_destroy(dev);
}
END_TEST

struct seen {
	uint64_t off[8], len[8];
	int n;
};

static int note_range(void *opaque, uint64_t off, uint64_t len)
{
	struct seen *s = opaque;
	ck_assert_int_lt(s->n, 8);
	s->off[s->n] = off;
	s->len[s->n++] = len;
	return 0;
}

START_TEST(test_populated_ranges)
{
	struct hw_device *dev = ht_device(CFG);
	struct seen s = { 0 };
	ck_assert_int_eq(hw_debug_populated(dev, 0, note_range, &s), 0);
	ck_assert_int_eq(s.n, 0);
	/* Two runs of data; a page read (committed, zero) and one written with zeros
	 * in between are not data. */
	ht_debug_fill_pattern(dev, 0x3000, 0x2000, 5);
	volatile uint8_t *v = hw_debug_vram(dev, 0x8000, 4096);
	(void)v[0];
	memset(hw_debug_vram(dev, 0x9000, 4096), 0, 4096);
	((uint8_t *)hw_debug_vram(dev, 0x3fffff, 1))[0] = 1; /* the last byte of VRAM */
	ck_assert_int_eq(hw_debug_populated(dev, 0, note_range, &s), 0);
	ck_assert_int_eq(s.n, 2);
	ck_assert_uint_eq(s.off[0], 0x3000);
	ck_assert_uint_eq(s.len[0], 0x2000);
	ck_assert_uint_eq(s.off[1], 0x3ff000);
	ck_assert_uint_eq(s.len[1], 0x1000);
	/* System memory is scanned the same way, in bytes from page 0. */
	uint64_t p;
	ck_assert_int_eq(hw_sysmem_alloc(dev, &p), 0);
	((uint8_t *)hw_sysmem_page(dev, p))[100] = 7;
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(hw_debug_populated(dev, 1, note_range, &s), 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_uint_eq(s.off[0], p * HW_PAGE_SIZE);
	ck_assert_uint_eq(s.len[0], HW_PAGE_SIZE);
	ck_assert_ptr_eq(hw_debug_sysmem(dev, p, 1), hw_sysmem_page(dev, p));
	ck_assert_ptr_null(hw_debug_sysmem(dev, 2048, 1));
	hw_device_destroy(dev);
}
END_TEST

Suite *hw_state_suite(void)
{
	Suite *s = suite_create("hw_state");
	TCase *tc = tcase_create("state");
	tcase_add_test(tc, test_state_moves_to_another_device);
	tcase_add_test(tc, test_registers_without_side_effects);
	tcase_add_test(tc, test_populated_ranges);
	suite_add_tcase(s, tc);
	return s;
}
