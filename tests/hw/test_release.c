/*
 * Freed memory goes back to the host: hw_vram_discard and freed system pages read
 * as zero afterwards (through every view), their host pages are no longer
 * committed, nothing outside the range changes, and the device never notices.
 */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gpusim/hwstate.h>
#include "tests/hw/helpers.h"
#include "tests/hw/hw_suites.h"

#define MiB (1024ull * 1024)
#define CFG "vram=16M,visible=8M,gart=16M,sysmem=16M"

/* Pages of [p, p + len) the host has committed (mincore), len a page multiple. */
static uint64_t committed(const void *p, uint64_t len)
{
	long hp = sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)(hp - 1);
	uint64_t n = ((uintptr_t)p + len - a + (uint64_t)hp - 1) / (uint64_t)hp, count = 0;
	unsigned char *vec = malloc(n);
	ck_assert_ptr_nonnull(vec);
	ck_assert_int_eq(mincore((void *)a, n * (uint64_t)hp, vec), 0);
	for (uint64_t i = 0; i < n; i++)
		count += vec[i] & 1;
	free(vec);
	return count;
}

static int count_range(void *opaque, uint64_t off, uint64_t len)
{
	uint64_t *c = opaque;
	(void)off;
	c[0]++;
	c[1] += len;
	return 0;
}

START_TEST(test_vram_discard_reads_zero_and_releases)
{
	struct hw_device *dev = ht_device(CFG);
	/* Data on both sides of the range and in it, across BAR2's end at 8 MiB. */
	ht_debug_fill_pattern(dev, 6 * MiB, MiB, 7);
	ht_debug_fill_pattern(dev, 7 * MiB, 2 * MiB, 8);
	ht_debug_fill_pattern(dev, 9 * MiB, MiB, 9);
	uint8_t *p = hw_debug_vram(dev, 7 * MiB, 2 * MiB);
	ck_assert_uint_eq(committed(p, 2 * MiB), 2 * MiB / (uint64_t)sysconf(_SC_PAGESIZE));
	struct hw_stats before, after;
	hw_get_stats(dev, &before);
	uint64_t now = hw_clock_now(dev);

	ck_assert_int_eq(hw_vram_discard(dev, 7 * MiB, 2 * MiB), 0);
	ck_assert_uint_eq(committed(p, 2 * MiB), 0);
	ck_assert(ht_vram_is(dev, 7 * MiB, 2 * MiB, 0));
	/* The CPU through BAR2 sees zeros too, and the neighbours kept every byte. */
	uint8_t buf[4096], zero[4096] = { 0 };
	ht_vram_read(dev, 8 * MiB - sizeof buf, buf, sizeof buf);
	ck_assert(memcmp(buf, zero, sizeof buf) == 0);
	ck_assert(ht_vram_has_pattern(dev, 6 * MiB, MiB, 7));
	ck_assert(ht_vram_has_pattern(dev, 9 * MiB, MiB, 9));
	/* Not a device operation: no time, no statistics. */
	hw_get_stats(dev, &after);
	ck_assert_uint_eq(hw_clock_now(dev), now);
	ck_assert(memcmp(&before, &after, sizeof before) == 0);
	/* The populated scan sees exactly the two neighbours. */
	uint64_t c[2] = { 0, 0 };
	ck_assert_int_eq(hw_debug_populated(dev, 0, count_range, c), 0);
	ck_assert_uint_eq(c[0], 2);
	ck_assert_uint_eq(c[1], 2 * MiB);
	/* Used again, the range works as fresh memory. */
	p[5] = 0x42;
	ck_assert_uint_eq(p[5], 0x42);
	hw_device_destroy(dev);
}
END_TEST

/* Neighbours of the range keep their bytes whatever its alignment; the range's
 * own bytes read zero; out-of-range discards are refused and change nothing. */
START_TEST(test_vram_discard_unaligned_and_bounds)
{
	struct hw_device *dev = ht_device(CFG);
	ht_debug_fill_pattern(dev, 0, 64 * 1024, 3);
	uint8_t *v = hw_debug_vram(dev, 0, 64 * 1024);
	uint8_t *copy = malloc(64 * 1024);
	memcpy(copy, v, 64 * 1024);
	ck_assert_int_eq(hw_vram_discard(dev, 4096 + 100, 3 * 4096), 0);
	for (size_t i = 0; i < 64 * 1024; i++)
		if (i >= 4096 + 100 && i < 4096 + 100 + 3 * 4096)
			copy[i] = 0;
	ck_assert(memcmp(v, copy, 64 * 1024) == 0);
	ck_assert_uint_ne(v[4096 + 99], 0); /* the pattern has no zero byte just outside */
	ck_assert_uint_ne(v[4096 + 100 + 3 * 4096], 0);
	ck_assert_int_eq(hw_vram_discard(dev, 10, 0), 0);
	ck_assert_uint_eq(v[10], copy[10]);
	ck_assert_int_eq(hw_vram_discard(dev, 16 * MiB - 4096, 8192), -EINVAL);
	ck_assert_int_eq(hw_vram_discard(dev, UINT64_MAX - 10, 20), -EINVAL);
	ck_assert_int_eq(hw_vram_discard(dev, 16 * MiB, 1), -EINVAL);
	ck_assert_int_eq(hw_vram_discard(dev, 0, 16 * MiB), 0);
	ck_assert(ht_vram_is(dev, 0, 64 * 1024, 0));
	free(copy);
	hw_device_destroy(dev);
}
END_TEST

/* A freed page reads zero through its direct map and through a vmap that still
 * aliases it, and is not committed any more. */
START_TEST(test_sysmem_free_reads_zero)
{
	struct hw_device *dev = ht_device(CFG);
	uint64_t p = ht_sysmem_alloc(dev), q = ht_sysmem_alloc(dev);
	memset(ht_page(dev, p), 0xa5, HW_PAGE_SIZE);
	memset(ht_page(dev, q), 0x5a, HW_PAGE_SIZE);
	uint64_t pfns[1] = { p };
	uint8_t *alias = hw_sysmem_vmap(dev, pfns, 1);
	ck_assert_ptr_nonnull(alias);
	ck_assert_uint_eq(alias[17], 0xa5);
	hw_sysmem_free(dev, p);
	ck_assert_uint_eq(committed(ht_page(dev, p), HW_PAGE_SIZE), 0);
	uint8_t zero[HW_PAGE_SIZE] = { 0 }, other[HW_PAGE_SIZE];
	memset(other, 0x5a, sizeof other);
	ck_assert(memcmp(ht_page(dev, p), zero, HW_PAGE_SIZE) == 0);
	ck_assert(memcmp(alias, zero, HW_PAGE_SIZE) == 0);
	ck_assert(memcmp(ht_page(dev, q), other, HW_PAGE_SIZE) == 0);
	hw_sysmem_vunmap(alias, 1);
	/* Handed out again (LIFO), it is the same page, all zeros. */
	uint64_t again = ht_sysmem_alloc(dev);
	ck_assert_uint_eq(again, p);
	ck_assert(ht_page(dev, again)[0] == 0 && ht_page(dev, again)[HW_PAGE_SIZE - 1] == 0);
	/* A page that is not ours stays as it is. */
	hw_sysmem_free(dev, q);
	hw_sysmem_free(dev, q);
	ck_assert_uint_eq(hw_sysmem_pages_used(dev), 1);
	hw_device_destroy(dev);
}
END_TEST

/* Freeing many reserved pages at once leaves the pool exactly as single frees
 * would (reuse order, counts), and every page zero and released. */
START_TEST(test_sysmem_free_pages_as_single_frees)
{
	struct hw_device *a = ht_device(CFG), *b = ht_device(CFG);
	struct hw_device *devs[2] = { a, b };
	enum { N = 40 };
	uint64_t pfns[2][N];
	for (int d = 0; d < 2; d++) {
		ck_assert_int_eq(hw_sysmem_reserve(devs[d], N), 0);
		for (int i = 0; i < N; i++) {
			ck_assert_int_eq(hw_sysmem_alloc_reserved(devs[d], &pfns[d][i]), 0);
			memset(hw_sysmem_page(devs[d], pfns[d][i]), i + 1, HW_PAGE_SIZE);
		}
	}
	/* Runs going up and down with gaps: 0..9 ascending, 19..10 descending, then
	 * every other page, and one page freed twice and one not ours. */
	uint64_t order[N + 2];
	int n = 0;
	for (int i = 0; i < 10; i++)
		order[n++] = i;
	for (int i = 19; i >= 10; i--)
		order[n++] = i;
	for (int i = 20; i < N; i += 2)
		order[n++] = i;
	for (int i = 21; i < N; i += 2)
		order[n++] = i;
	order[n++] = 5;
	order[n++] = 100000;
	uint64_t list[N + 2];
	for (int i = 0; i < n; i++)
		list[i] = order[i] < N ? pfns[1][order[i]] : order[i];
	for (int i = 0; i < n; i++)
		hw_sysmem_free_reserved(a, order[i] < N ? pfns[0][order[i]] : order[i]);
	hw_sysmem_free_reserved_pages(b, list, (uint64_t)n);
	for (int d = 0; d < 2; d++) {
		ck_assert_uint_eq(hw_sysmem_pages_used(devs[d]), 0);
		ck_assert_uint_eq(hw_sysmem_pages_reserved(devs[d]), N);
		uint64_t c[2] = { 0, 0 };
		ck_assert_int_eq(hw_debug_populated(devs[d], 1, count_range, c), 0);
		ck_assert_uint_eq(c[0], 0);
		ck_assert_uint_eq(committed(hw_sysmem_page(devs[d], 0), N * HW_PAGE_SIZE), 0);
	}
	uint8_t *sa, *sb;
	size_t la, lb;
	struct hw_state_item fa, fb;
	ck_assert_int_eq(hw_device_save_state(a, &sa, &la), 0);
	ck_assert_int_eq(hw_device_save_state(b, &sb, &lb), 0);
	ck_assert_int_eq(hw_state_find(sa, la, "sysmem.free", &fa), 0);
	ck_assert_int_eq(hw_state_find(sb, lb, "sysmem.free", &fb), 0);
	ck_assert_uint_eq(fa.count, fb.count);
	ck_assert(memcmp(fa.values, fb.values, fa.count * sizeof(uint64_t)) == 0);
	free(sa);
	free(sb);
	hw_device_destroy(a);
	hw_device_destroy(b);
}
END_TEST

/* The engines read a discarded range as zeros, like the CPU. */
START_TEST(test_engine_reads_discarded_as_zero)
{
	struct hw_device *dev = ht_device(CFG);
	struct ht_ring r;
	ht_ring_init(&r, dev, 0, HT_RING0, HT_RING_SIZE, 0);
	ht_debug_fill_pattern(dev, 10 * MiB, MiB, 9);
	ck_assert_int_eq(hw_vram_discard(dev, 10 * MiB, MiB), 0);
	ht_debug_fill_pattern(dev, 2 * MiB, MiB, 4);
	ht_copy(&r, 10 * MiB, 2 * MiB, MiB);
	ht_submit(&r);
	ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_NONE);
	ck_assert(ht_vram_is(dev, 2 * MiB, MiB, 0));
	hw_device_destroy(dev);
}
END_TEST

Suite *hw_release_suite(void)
{
	Suite *s = suite_create("hw_release");
	TCase *tc = tcase_create("release");
	tcase_add_test(tc, test_vram_discard_reads_zero_and_releases);
	tcase_add_test(tc, test_vram_discard_unaligned_and_bounds);
	tcase_add_test(tc, test_sysmem_free_reads_zero);
	tcase_add_test(tc, test_sysmem_free_pages_as_single_frees);
	tcase_add_test(tc, test_engine_reads_discarded_as_zero);
	suite_add_tcase(s, tc);
	return s;
}
