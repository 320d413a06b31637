/*
 * Memory of the simulated device as the CPU reaches it: BAR2 bounds and contents,
 * the debug view of all VRAM, system pages (alloc/free/exhaustion, vmap aliasing) and
 * the footprint of a 64 GiB VRAM that must be reserved, not committed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/hw/helpers.h"
#include "tests/hw/hw_suites.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND() false
#endif

#define MiB (1024ull * 1024)
#define VISIBLE (8 * MiB)
#define VRAM (16 * MiB)

START_TEST(test_bar2_roundtrip)
{
	struct hw_device *dev = ht_device(HT_SMALL);
	const uint64_t offs[] = { 0, 4093, 3 * MiB + 17, VISIBLE - 64 };
	uint8_t in[64], out[64];

	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
		ht_pattern(in, sizeof in, (uint32_t)i + 1);
		ck_assert_int_eq(hw_bar2_write(dev, offs[i], in, sizeof in), 0);
	}
	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
		ht_pattern(in, sizeof in, (uint32_t)i + 1);
		memset(out, 0, sizeof out);
		ck_assert_int_eq(hw_bar2_read(dev, offs[i], out, sizeof out), 0);
		ck_assert_int_eq(memcmp(in, out, sizeof in), 0);
		/* BAR2 is a window onto VRAM: the debug view sees the same bytes. */
		ck_assert(ht_vram_has_pattern(dev, offs[i], sizeof in, (uint32_t)i + 1));
	}
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_bar2_bounds)
{
	struct hw_device *dev = ht_device(HT_SMALL);
	uint8_t buf[16], *edge;

	memset(buf, 0x5a, sizeof buf);
	edge = hw_debug_vram(dev, VISIBLE - 8, 16);
	ck_assert_ptr_nonnull(edge);
	memset(edge, 0x11, 16);

	/* Straddling the end of the window: refused, and not even the visible half lands. */
	ck_assert_int_eq(hw_bar2_write(dev, VISIBLE - 4, buf, 8), -EFAULT);
	ck_assert_int_eq(hw_bar2_write(dev, VISIBLE, buf, 1), -EFAULT);
	ck_assert_int_eq(hw_bar2_write(dev, VISIBLE + 4096, buf, 4), -EFAULT);
	ck_assert_int_eq(hw_bar2_write(dev, UINT64_MAX - 3, buf, 8), -EFAULT);
	ck_assert_int_eq(hw_bar2_write(dev, VISIBLE - 8, buf, SIZE_MAX), -EFAULT);
	ck_assert(ht_vram_is(dev, VISIBLE - 8, 16, 0x11));

	ck_assert_int_eq(hw_bar2_read(dev, VISIBLE - 4, buf, 8), -EFAULT);
	ck_assert_int_eq(hw_bar2_read(dev, VISIBLE, buf, 4), -EFAULT);
	ck_assert_int_eq(hw_bar2_read(dev, UINT64_MAX - 3, buf, 8), -EFAULT);
	ck_assert_int_eq(hw_bar2_read(dev, 8, buf, SIZE_MAX - 4), -EFAULT);

	/* The last visible bytes themselves are fine. */
	ck_assert_int_eq(hw_bar2_write(dev, VISIBLE - 8, buf, 8), 0);
	ck_assert(ht_vram_is(dev, VISIBLE - 8, 8, 0x5a));
	ck_assert(ht_vram_is(dev, VISIBLE, 8, 0x11));
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_bar2_map_aliases)
{
	struct hw_device *dev = ht_device(HT_SMALL);
	uint8_t *map = hw_bar2_map(dev, 0x2000, 0x1000);
	uint8_t buf[32], want[32];

	ck_assert_ptr_nonnull(map);
	ht_pattern(want, sizeof want, 7);
	memcpy(map + 100, want, sizeof want);
	ck_assert_int_eq(hw_bar2_read(dev, 0x2000 + 100, buf, sizeof buf), 0);
	ck_assert_int_eq(memcmp(buf, want, sizeof want), 0);

	ht_pattern(want, sizeof want, 8);
	ht_vram_write(dev, 0x2000 + 4000, want, sizeof want);
	ck_assert_int_eq(memcmp(map + 4000, want, sizeof want), 0);

	ck_assert_ptr_nonnull(hw_bar2_map(dev, VISIBLE - 4096, 4096));
	ck_assert_ptr_null(hw_bar2_map(dev, VISIBLE - 4096, 4097));
	ck_assert_ptr_null(hw_bar2_map(dev, VISIBLE, 1));
	ck_assert_ptr_null(hw_bar2_map(dev, UINT64_MAX - 10, 100));
	ck_assert_ptr_null(hw_bar2_map(dev, 4096, UINT64_MAX));
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_debug_vram_reaches_all)
{
	struct hw_device *dev = ht_device(HT_SMALL);
	uint8_t *top = hw_debug_vram(dev, VRAM - 4096, 4096);
	uint8_t *low = hw_debug_vram(dev, 0x3000, 16);
	uint8_t buf[16];

	ck_assert_ptr_nonnull(top);
	top[4095] = 0xab;
	top[0] = 0xcd;
	ck_assert_uint_eq(((uint8_t *)hw_debug_vram(dev, VRAM - 1, 1))[0], 0xab);
	ck_assert_uint_eq(((uint8_t *)hw_debug_vram(dev, VISIBLE, 8 * MiB))[8 * MiB - 4096], 0xcd);
	/* Above the window: the debug view reaches it, BAR2 does not. */
	ck_assert_int_eq(hw_bar2_read(dev, VRAM - 16, buf, sizeof buf), -EFAULT);

	ck_assert_ptr_nonnull(low);
	memset(low, 0x3c, 16);
	ck_assert_int_eq(hw_bar2_read(dev, 0x3000, buf, sizeof buf), 0);
	ck_assert_uint_eq(buf[0], 0x3c);
	ck_assert_uint_eq(buf[15], 0x3c);

	ck_assert_ptr_null(hw_debug_vram(dev, VRAM - 4096, 4097));
	ck_assert_ptr_null(hw_debug_vram(dev, VRAM, 1));
	ck_assert_ptr_null(hw_debug_vram(dev, UINT64_MAX - 1, 4));
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_sysmem_distinct)
{
	struct hw_device *dev = ht_device("vram=4M,visible=4M,gart=4M,sysmem=1M");
	uint64_t total = hw_sysmem_pages_total(dev);
	uint8_t seen[256] = { 0 };
	uint64_t pfns[40];

	ck_assert_uint_eq(total, 256);
	for (unsigned i = 0; i < 40; i++) {
		pfns[i] = ht_sysmem_alloc(dev);
		ck_assert_uint_eq(seen[pfns[i]], 0);
		seen[pfns[i]] = 1;
		ck_assert_uint_eq(hw_sysmem_pages_used(dev), i + 1);
	}
	for (unsigned i = 0; i < 40; i += 2)
		hw_sysmem_free(dev, pfns[i]);
	ck_assert_uint_eq(hw_sysmem_pages_used(dev), 20);
	ck_assert_uint_eq(hw_sysmem_pages_total(dev), 256);
	for (unsigned i = 1; i < 40; i += 2)
		hw_sysmem_free(dev, pfns[i]);
	ck_assert_uint_eq(hw_sysmem_pages_used(dev), 0);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_sysmem_exhaustion_and_reuse)
{
	struct hw_device *dev = ht_device("vram=4M,visible=4M,gart=4M,sysmem=1M");
	uint8_t seen[256] = { 0 };
	uint64_t pfn = 12345, victim;

	for (unsigned i = 0; i < 256; i++) {
		pfn = ht_sysmem_alloc(dev);
		ck_assert_uint_eq(seen[pfn], 0);
		seen[pfn] = 1;
	}
	ck_assert_uint_eq(hw_sysmem_pages_used(dev), 256);
	ck_assert_int_eq(hw_sysmem_alloc(dev, &pfn), -ENOMEM);
	ck_assert_uint_eq(hw_sysmem_pages_used(dev), 256);

	/* With one page freed, the next allocation must find exactly that page. */
	victim = 77;
	hw_sysmem_free(dev, victim);
	ck_assert_uint_eq(hw_sysmem_pages_used(dev), 255);
	ck_assert_int_eq(hw_sysmem_alloc(dev, &pfn), 0);
	ck_assert_uint_eq(pfn, victim);
	ck_assert_int_eq(hw_sysmem_alloc(dev, &pfn), -ENOMEM);

	for (uint64_t p = 0; p < 256; p++)
		hw_sysmem_free(dev, p);
	ck_assert_uint_eq(hw_sysmem_pages_used(dev), 0);
	hw_device_destroy(dev);
}
END_TEST

/* The commit charge: a reservation holds pages back from everyone else, and pages
 * taken out of it cannot fail, not even under injected exhaustion. */
START_TEST(test_sysmem_reservation)
{
	struct hw_device *dev = ht_device("vram=4M,visible=4M,gart=4M,sysmem=1M");
	uint64_t pfn, pages[10];

	ck_assert_int_eq(hw_sysmem_reserve(dev, 250), 0);
	ck_assert_uint_eq(hw_sysmem_pages_reserved(dev), 250);
	ck_assert_int_eq(hw_sysmem_reserve(dev, 7), -ENOMEM);   /* 250 + 7 > 256 */
	for (unsigned i = 0; i < 6; i++)
		ck_assert_int_eq(hw_sysmem_alloc(dev, &pfn), 0);  /* the 6 left over */
	ck_assert_int_eq(hw_sysmem_alloc(dev, &pfn), -ENOMEM);  /* the rest is promised */

	hw_inject_sysmem_oom(dev, 0);
	for (unsigned i = 0; i < 10; i++) {
		ck_assert_int_eq(hw_sysmem_alloc_reserved(dev, &pages[i]), 0);
		for (unsigned j = 0; j < i; j++)
			ck_assert_uint_ne(pages[i], pages[j]);
	}
	ck_assert_uint_eq(hw_sysmem_pages_reserved(dev), 240);
	ck_assert_uint_eq(hw_sysmem_pages_used(dev), 16);

	/* Freed back into the reservation: reserved again, not free for others. */
	hw_sysmem_free_reserved(dev, pages[3]);
	ck_assert_uint_eq(hw_sysmem_pages_reserved(dev), 241);
	ck_assert_uint_eq(hw_sysmem_pages_used(dev), 15);
	ck_assert_int_eq(hw_sysmem_alloc(dev, &pfn), -ENOMEM);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_sysmem_reservation_limits)
{
	struct hw_device *dev = ht_device("vram=4M,visible=4M,gart=4M,sysmem=1M");
	uint64_t pfn;

	ck_assert_int_eq(hw_sysmem_alloc_reserved(dev, &pfn), -ENOSPC); /* nothing reserved */
	ck_assert_int_eq(hw_sysmem_alloc_reserved(dev, NULL), -EINVAL);
	/* Injected exhaustion counts reservations as allocations. */
	hw_inject_sysmem_oom(dev, 5);
	ck_assert_int_eq(hw_sysmem_reserve(dev, 6), -ENOMEM);
	ck_assert_int_eq(hw_sysmem_reserve(dev, 5), 0);
	ck_assert_int_eq(hw_sysmem_reserve(dev, 1), -ENOMEM);
	hw_sysmem_unreserve(dev, 2);
	ck_assert_uint_eq(hw_sysmem_pages_reserved(dev), 3);
	hw_sysmem_unreserve(dev, 100); /* more than held: clamps, never wraps */
	ck_assert_uint_eq(hw_sysmem_pages_reserved(dev), 0);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_sysmem_page_view)
{
	struct hw_device *dev = ht_device("vram=4M,visible=4M,gart=4M,sysmem=1M");
	uint64_t p[4];

	for (unsigned i = 0; i < 4; i++) {
		p[i] = ht_sysmem_alloc(dev);
		memset(ht_page(dev, p[i]), 0x40 + i, HW_PAGE_SIZE);
	}
	/* Every byte of each page is its own: no page overlaps another. */
	for (unsigned i = 0; i < 4; i++) {
		const uint8_t *page = ht_page(dev, p[i]);
		for (size_t b = 0; b < HW_PAGE_SIZE; b++)
			ck_assert_uint_eq(page[b], 0x40 + i);
	}
	ck_assert_ptr_nonnull(hw_sysmem_page(dev, 255));
	ck_assert_ptr_null(hw_sysmem_page(dev, 256));
	ck_assert_ptr_null(hw_sysmem_page(dev, UINT64_MAX));
	for (unsigned i = 0; i < 4; i++)
		hw_sysmem_free(dev, p[i]);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_sysmem_vmap_aliases)
{
	struct hw_device *dev = ht_device("vram=4M,visible=4M,gart=4M,sysmem=1M");
	uint64_t a = ht_sysmem_alloc(dev), b = ht_sysmem_alloc(dev), c = ht_sysmem_alloc(dev);
	const uint64_t order[4] = { c, a, b, a };
	uint8_t *map;

	memset(ht_page(dev, a), 0xaa, HW_PAGE_SIZE);
	memset(ht_page(dev, b), 0xbb, HW_PAGE_SIZE);
	memset(ht_page(dev, c), 0xcc, HW_PAGE_SIZE);
	map = hw_sysmem_vmap(dev, order, 4);
	ck_assert_ptr_nonnull(map);
	/* Pages appear in the given order ... */
	ck_assert_uint_eq(map[0], 0xcc);
	ck_assert_uint_eq(map[4095], 0xcc);
	ck_assert_uint_eq(map[4096], 0xaa);
	ck_assert_uint_eq(map[2 * 4096 + 1], 0xbb);
	ck_assert_uint_eq(map[3 * 4096 + 4095], 0xaa);
	/* ... and alias them both ways, even a page mapped twice. */
	map[4096 + 10] = 0x01;
	ck_assert_uint_eq(ht_page(dev, a)[10], 0x01);
	ck_assert_uint_eq(map[3 * 4096 + 10], 0x01);
	ht_page(dev, c)[4000] = 0x02;
	ck_assert_uint_eq(map[4000], 0x02);
	map[2 * 4096 + 4095] = 0x03;
	ck_assert_uint_eq(ht_page(dev, b)[4095], 0x03);
	hw_sysmem_vunmap(map, 4);
	/* The pages outlive the mapping. */
	ck_assert_uint_eq(ht_page(dev, a)[10], 0x01);
	hw_sysmem_free(dev, a);
	hw_sysmem_free(dev, b);
	hw_sysmem_free(dev, c);
	hw_device_destroy(dev);
}
END_TEST

static uint64_t rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%lu %lu", &size, &resident), 2);
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

START_TEST(test_vram_64g_footprint)
{
	/* valgrind's address-space manager cannot reserve 64 GiB (+2 GiB of sysmem): under
	 * it, the same check runs with 32 GiB. */
	const bool small = UNDER_VALGRIND();
	const uint64_t vram = (small ? 32ull : 64ull) * 1024 * MiB;
	uint64_t before = rss_bytes(), after, grown;
	struct hw_device *dev =
		ht_device(small ? "vram=32G,visible=256M,gart=512M,sysmem=2G"
				: "vram=64G,visible=256M,gart=512M,sysmem=2G");
	uint8_t *top;

	if (small)
		printf("note: test_vram_64g_footprint under valgrind: 32 GiB instead of 64 GiB\n");
	/* The whole range is there: the last page works, through the debug view. */
	top = hw_debug_vram(dev, vram - 4096, 4096);
	ck_assert_ptr_nonnull(top);
	top[4095] = 0x99;
	ck_assert_uint_eq(top[4095], 0x99);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_VRAM_SIZE_LO), vram);
	after = rss_bytes();
	grown = after > before ? after - before : 0;
	ck_assert_msg(grown < 50 * MiB, "a %llu GiB device grew RSS by %llu MiB",
		      (unsigned long long)(vram >> 30), (unsigned long long)(grown / MiB));
	hw_device_destroy(dev);
}
END_TEST

Suite *hw_memory_suite(void)
{
	Suite *s = suite_create("hw_memory");
	TCase *tc = tcase_create("memory");

	tcase_add_test(tc, test_bar2_roundtrip);
	tcase_add_test(tc, test_bar2_bounds);
	tcase_add_test(tc, test_bar2_map_aliases);
	tcase_add_test(tc, test_debug_vram_reaches_all);
	tcase_add_test(tc, test_sysmem_distinct);
	tcase_add_test(tc, test_sysmem_exhaustion_and_reuse);
	tcase_add_test(tc, test_sysmem_reservation);
	tcase_add_test(tc, test_sysmem_reservation_limits);
	tcase_add_test(tc, test_sysmem_page_view);
	tcase_add_test(tc, test_sysmem_vmap_aliases);
	tcase_add_test(tc, test_vram_64g_footprint);
	suite_add_tcase(s, tc);
	return s;
}
