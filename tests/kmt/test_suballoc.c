/*
 * Tests of the segment sub-allocator (kmt/vidmm/suballoc.c).
 *
 * The randomized test compares the allocator with a shadow model of page owners,
 * with the full consistency check after every operation. It runs SUBALLOC_OPS
 * operations per seed (default 25000, four seeds, ~0.5 s); set it lower under
 * valgrind (2000: ~2 s). Built alone with -DSUBALLOC_STANDALONE_MAIN this file has
 * its own main().
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kmt/vidmm/suballoc.h"

Suite *vidmm_suballoc_suite(void);

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define PG 4096ull

/* ---- helpers -------------------------------------------------------------- */

/*
 * Check's ck_assert_* records a checkpoint on every call, which dominates loops of
 * 10^5 operations (ten times so under ASan); these only do work on failure.
 */
#define REQUIRE(c, ...)                                 \
	do {                                            \
		if (!(c))                               \
			ck_abort_msg(__VA_ARGS__);      \
	} while (0)
/* Exact equality of doubles (the expected values are exactly representable or
 * computed the same way); ck_assert_double_eq needs Check >= 0.11. */
#define ASSERT_EXACT(x, y)                                                        \
	do {                                                                      \
		double x_ = (x), y_ = (y);                                        \
		ck_assert_msg(x_ == y_, "%s == %s failed: %.17g != %.17g", #x, #y, x_, y_); \
	} while (0)
#define REQUIRE_EQ(x, y)                                                          \
	do {                                                                      \
		long long x_ = (long long)(x), y_ = (long long)(y);               \
		if (x_ != y_)                                                     \
			ck_abort_msg("%s == %s failed: %lld != %lld", #x, #y, x_, y_); \
	} while (0)

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t *state, uint64_t n)
{
	return splitmix64(state) % n;
}

static struct vidmm_suballoc *mk(uint64_t size)
{
	struct vidmm_suballoc *sa = NULL;
	ck_assert_int_eq(vidmm_suballoc_create(size, PG, &sa), 0);
	ck_assert_ptr_ne(sa, NULL);
	return sa;
}

#define CHECK_OK(sa)                                                        \
	do {                                                                \
		char err_[256];                                             \
		int rc_ = vidmm_suballoc_check((sa), err_, sizeof(err_));   \
		REQUIRE(rc_ == 0, "check failed: %s", err_);                \
	} while (0)

static struct vidmm_suballoc_stats stats(const struct vidmm_suballoc *sa)
{
	struct vidmm_suballoc_stats st;
	vidmm_suballoc_get_stats(sa, &st);
	return st;
}

static uint32_t alloc_ok(struct vidmm_suballoc *sa, uint64_t size, uint64_t align, uint64_t *off)
{
	uint32_t id = UINT32_MAX;
	uint64_t o = UINT64_MAX;
	int r = vidmm_suballoc_alloc(sa, size, align, &id, &o);
	REQUIRE(r == 0, "alloc(%llu, %llu) = %d", (unsigned long long)size,
		(unsigned long long)align, r);
	if (off)
		*off = o;
	return id;
}

/* ---- create / destroy ----------------------------------------------------- */

START_TEST(test_create_destroy)
{
	struct vidmm_suballoc *sa = mk(256 * MIB);
	struct vidmm_suballoc_stats st = stats(sa);

	ck_assert_uint_eq(st.size, 256 * MIB);
	ck_assert_uint_eq(st.used, 0);
	ck_assert_uint_eq(st.free, 256 * MIB);
	ck_assert_uint_eq(st.largest_free, 256 * MIB);
	ck_assert_uint_eq(st.free_blocks, 1);
	ck_assert_uint_eq(st.allocations, 0);
	ck_assert(st.fragmentation == 0.0);
	CHECK_OK(sa);
	vidmm_suballoc_destroy(sa);
	vidmm_suballoc_destroy(NULL);
}
END_TEST

START_TEST(test_create_bad_args)
{
	struct vidmm_suballoc *sa = (struct vidmm_suballoc *)&sa;

	ck_assert_int_eq(vidmm_suballoc_create(0, PG, &sa), -EINVAL);
	ck_assert_ptr_eq(sa, NULL);
	ck_assert_int_eq(vidmm_suballoc_create(MIB, 0, &sa), -EINVAL);
	ck_assert_int_eq(vidmm_suballoc_create(MIB, 3000, &sa), -EINVAL);
	ck_assert_int_eq(vidmm_suballoc_create(MIB, 12288, &sa), -EINVAL);
	ck_assert_int_eq(vidmm_suballoc_create(MIB + 512, PG, &sa), -EINVAL);
	ck_assert_int_eq(vidmm_suballoc_create(MIB, PG, NULL), -EINVAL);
	ck_assert_ptr_eq(sa, NULL);
	/* The smallest segment: one granule. */
	ck_assert_int_eq(vidmm_suballoc_create(PG, PG, &sa), 0);
	ck_assert_ptr_ne(sa, NULL);
	vidmm_suballoc_destroy(sa);
}
END_TEST

/* ---- alloc argument handling ---------------------------------------------- */

START_TEST(test_alloc_bad_args)
{
	struct vidmm_suballoc *sa = mk(16 * MIB);
	uint32_t id;
	uint64_t off;

	ck_assert_int_eq(vidmm_suballoc_alloc(sa, 0, 0, &id, &off), -EINVAL);
	ck_assert_int_eq(vidmm_suballoc_alloc(sa, PG, 3 * PG, &id, &off), -EINVAL);
	ck_assert_int_eq(vidmm_suballoc_alloc(sa, PG, 12345, &id, &off), -EINVAL);
	ck_assert_int_eq(vidmm_suballoc_alloc(sa, 16 * MIB + 1, 0, &id, &off), -EINVAL);
	ck_assert_int_eq(vidmm_suballoc_alloc(sa, UINT64_MAX, 0, &id, &off), -EINVAL);
	ck_assert_int_eq(vidmm_suballoc_alloc(sa, PG, 0, NULL, &off), -EINVAL);
	ck_assert_int_eq(vidmm_suballoc_alloc(NULL, PG, 0, &id, &off), -EINVAL);
	ck_assert(!vidmm_suballoc_can_alloc(sa, 0, 0));
	ck_assert(!vidmm_suballoc_can_alloc(sa, PG, 3 * PG));
	ck_assert(!vidmm_suballoc_can_alloc(sa, 32 * MIB, 0));
	/* Nothing changed. */
	ck_assert_uint_eq(stats(sa).allocations, 0);
	ck_assert_uint_eq(stats(sa).used, 0);
	CHECK_OK(sa);
	/* The whole segment fits; offset may be NULL. */
	ck_assert_int_eq(vidmm_suballoc_alloc(sa, 16 * MIB, 16 * MIB, &id, NULL), 0);
	ck_assert_uint_eq(vidmm_suballoc_offset(sa, id), 0);
	vidmm_suballoc_destroy(sa);
}
END_TEST

START_TEST(test_small_align_is_granule)
{
	static const uint64_t aligns[] = { 0, 1, 2, 512, 2048, 4096 };
	struct vidmm_suballoc *sa = mk(MIB);
	uint64_t off, expect = 0;

	for (unsigned i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
		uint32_t id = alloc_ok(sa, PG, aligns[i], &off);
		/* Granule-aligned and packed: nothing was skipped for alignment. */
		ck_assert_uint_eq(off, expect);
		ck_assert_uint_eq(vidmm_suballoc_size(sa, id), PG);
		expect += PG;
	}
	ck_assert_uint_eq(stats(sa).free_blocks, 1);
	CHECK_OK(sa);
	vidmm_suballoc_destroy(sa);
}
END_TEST

START_TEST(test_size_rounding)
{
	struct vidmm_suballoc *sa = mk(MIB);
	uint64_t o1, o2, o3;
	uint32_t a = alloc_ok(sa, 1, 0, &o1);
	uint32_t b = alloc_ok(sa, PG + 1, 0, &o2);
	uint32_t c = alloc_ok(sa, 3 * PG, 0, &o3);

	ck_assert_uint_eq(vidmm_suballoc_size(sa, a), PG);
	ck_assert_uint_eq(vidmm_suballoc_size(sa, b), 2 * PG);
	ck_assert_uint_eq(vidmm_suballoc_size(sa, c), 3 * PG);
	/* Packed from offset 0 in an empty segment. */
	ck_assert_uint_eq(o1, 0);
	ck_assert_uint_eq(o2, PG);
	ck_assert_uint_eq(o3, 3 * PG);
	ck_assert_uint_eq(stats(sa).used, 6 * PG);
	ck_assert_uint_eq(vidmm_suballoc_offset(sa, a), o1);
	ck_assert_uint_eq(vidmm_suballoc_offset(sa, b), o2);
	ck_assert_uint_eq(vidmm_suballoc_offset(sa, c), o3);
	CHECK_OK(sa);
	vidmm_suballoc_destroy(sa);
}
END_TEST

/* ---- filling -------------------------------------------------------------- */

START_TEST(test_exact_fill)
{
	/* 1000 granules: not a size-class boundary. */
	const uint64_t segsz = 1000 * PG;
	struct vidmm_suballoc *sa = mk(segsz);
	uint32_t ids[1000];
	uint64_t offs[1000], left = 1000;
	unsigned n = 0;

	while (left) {
		uint64_t pages = 1 + n % 7;
		if (pages > left)
			pages = left;
		ids[n] = alloc_ok(sa, pages * PG, 0, &offs[n]);
		left -= pages;
		n++;
	}
	struct vidmm_suballoc_stats st = stats(sa);
	ck_assert_uint_eq(st.used, segsz);
	ck_assert_uint_eq(st.free, 0);
	ck_assert_uint_eq(st.largest_free, 0);
	ck_assert_uint_eq(st.free_blocks, 0);
	ck_assert_uint_eq(st.allocations, n);
	ck_assert(st.fragmentation == 0.0);
	CHECK_OK(sa);

	uint32_t id;
	uint64_t off;
	ck_assert_int_eq(vidmm_suballoc_alloc(sa, PG, 0, &id, &off), -ENOSPC);
	ck_assert(!vidmm_suballoc_can_alloc(sa, PG, 0));

	/* Free a 6-granule block in the middle: exactly it can be reused. */
	unsigned k = 5;
	ck_assert_uint_eq(vidmm_suballoc_size(sa, ids[k]), 6 * PG);
	ck_assert_int_eq(vidmm_suballoc_free(sa, ids[k]), 0);
	ck_assert(!vidmm_suballoc_can_alloc(sa, 7 * PG, 0));
	ck_assert(vidmm_suballoc_can_alloc(sa, 6 * PG, 0));
	ck_assert_int_eq(vidmm_suballoc_alloc(sa, 7 * PG, 0, &id, &off), -ENOSPC);
	/* The hole is granules 15..20: 16..19 is 64 KiB-aligned, no granule in it is
	 * 128 KiB-aligned, and an even start leaves only 5 granules. */
	ck_assert_uint_eq(offs[k], 15 * PG);
	ck_assert(vidmm_suballoc_can_alloc(sa, 4 * PG, 64 * KIB));
	ck_assert(!vidmm_suballoc_can_alloc(sa, PG, 128 * KIB));
	ck_assert(!vidmm_suballoc_can_alloc(sa, 6 * PG, 8 * KIB));
	ck_assert(vidmm_suballoc_can_alloc(sa, 5 * PG, 8 * KIB));
	alloc_ok(sa, 6 * PG, 0, &off);
	ck_assert_uint_eq(off, offs[k]);
	ck_assert_uint_eq(stats(sa).free, 0);
	CHECK_OK(sa);
	vidmm_suballoc_destroy(sa);
}
END_TEST

START_TEST(test_whole_odd_segment)
{
	/* A single request the size of the segment, in sizes that are not class
	 * boundaries: only the exact fallback can find the one block. */
	static const uint64_t pages[] = { 1, 31, 33, 101, 1000, 4097, 123457 };
	for (unsigned i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		struct vidmm_suballoc *sa = mk(pages[i] * PG);
		uint64_t off;
		ck_assert(vidmm_suballoc_can_alloc(sa, pages[i] * PG, 0));
		uint32_t id = alloc_ok(sa, pages[i] * PG, 0, &off);
		ck_assert_uint_eq(off, 0);
		ck_assert_uint_eq(stats(sa).free, 0);
		CHECK_OK(sa);
		ck_assert_int_eq(vidmm_suballoc_free(sa, id), 0);
		ck_assert_uint_eq(stats(sa).largest_free, pages[i] * PG);
		CHECK_OK(sa);
		vidmm_suballoc_destroy(sa);
	}
}
END_TEST

/* ---- ids ------------------------------------------------------------------ */

START_TEST(test_free_bad_id)
{
	struct vidmm_suballoc *sa = mk(MIB);
	uint32_t a = alloc_ok(sa, PG, 0, NULL);
	uint32_t b = alloc_ok(sa, PG, 0, NULL);

	ck_assert_int_eq(vidmm_suballoc_free(sa, UINT32_MAX), -EINVAL);
	ck_assert_int_eq(vidmm_suballoc_free(sa, 1000000), -EINVAL);
	ck_assert_int_eq(vidmm_suballoc_free(NULL, a), -EINVAL);
	ck_assert_int_eq(vidmm_suballoc_free(sa, a), 0);
	ck_assert_int_eq(vidmm_suballoc_free(sa, a), -EINVAL);
	ck_assert_uint_eq(vidmm_suballoc_offset(sa, a), UINT64_MAX);
	ck_assert_uint_eq(vidmm_suballoc_size(sa, a), 0);
	ck_assert_uint_eq(vidmm_suballoc_offset(sa, UINT32_MAX), UINT64_MAX);
	ck_assert_uint_eq(vidmm_suballoc_size(sa, 12345), 0);
	/* An id naming a free block (not an allocation) is refused too. */
	for (uint32_t id = 0; id < 64; id++)
		if (id != b && vidmm_suballoc_size(sa, id) == 0)
			ck_assert_int_eq(vidmm_suballoc_free(sa, id), -EINVAL);
	ck_assert_uint_eq(stats(sa).allocations, 1);
	ck_assert_int_eq(vidmm_suballoc_free(sa, b), 0);
	ck_assert_int_eq(vidmm_suballoc_free(sa, b), -EINVAL);
	ck_assert_uint_eq(stats(sa).allocations, 0);
	CHECK_OK(sa);
	vidmm_suballoc_destroy(sa);
}
END_TEST

/* ---- alignment ------------------------------------------------------------ */

START_TEST(test_alignment)
{
	struct vidmm_suballoc *sa = mk(256 * MIB);

	for (uint64_t align = 8 * KIB; align <= 16 * MIB; align <<= 1) {
		uint64_t off;
		/* A granule first, so the next free offset is misaligned. */
		alloc_ok(sa, PG, 0, NULL);
		uint64_t before = stats(sa).free_blocks;
		uint32_t id = alloc_ok(sa, 3 * PG, align, &off);
		ck_assert_msg(off % align == 0, "offset %llx not aligned to %llx",
			      (unsigned long long)off, (unsigned long long)align);
		ck_assert_uint_eq(vidmm_suballoc_size(sa, id), 3 * PG);
		/* The skipped lead became a free block that ordinary requests reuse. */
		ck_assert_uint_eq(stats(sa).free_blocks, before + 1);
		CHECK_OK(sa);
	}
	/* Align equal to the segment: only offset 0, which is taken. */
	ck_assert(!vidmm_suballoc_can_alloc(sa, PG, 256 * MIB));
	ck_assert(!vidmm_suballoc_can_alloc(sa, PG, 512 * MIB));
	vidmm_suballoc_destroy(sa);
}
END_TEST

START_TEST(test_aligned_fallback)
{
	/* 64 granules, all taken by 1-granule blocks, then granules 16..31 freed: the
	 * only hole is exactly 16 granules at a 64 KiB boundary. The fast path wants
	 * 31 granules for a 64 KiB-aligned 64 KiB block and finds none. */
	struct vidmm_suballoc *sa = mk(64 * PG);
	uint32_t ids[64];
	uint64_t off;

	for (unsigned i = 0; i < 64; i++)
		ids[i] = alloc_ok(sa, PG, 0, NULL);
	for (unsigned i = 16; i < 32; i++)
		REQUIRE_EQ(vidmm_suballoc_free(sa, ids[i]), 0);
	ck_assert_uint_eq(stats(sa).free_blocks, 1);
	ck_assert(!vidmm_suballoc_can_alloc(sa, 16 * PG, 128 * KIB));
	ck_assert(!vidmm_suballoc_can_alloc(sa, 17 * PG, 0));
	ck_assert(vidmm_suballoc_can_alloc(sa, 16 * PG, 64 * KIB));
	ck_assert_int_eq(vidmm_suballoc_alloc(sa, 16 * PG, 128 * KIB, &ids[16], &off), -ENOSPC);
	ids[16] = alloc_ok(sa, 16 * PG, 64 * KIB, &off);
	ck_assert_uint_eq(off, 64 * KIB);
	ck_assert_uint_eq(stats(sa).free, 0);
	CHECK_OK(sa);

	/* A 2-granule hole at granule 33..34: 8 KiB alignment misses it by one. */
	ck_assert_int_eq(vidmm_suballoc_free(sa, ids[33]), 0);
	ck_assert_int_eq(vidmm_suballoc_free(sa, ids[34]), 0);
	ck_assert(!vidmm_suballoc_can_alloc(sa, 2 * PG, 8 * KIB));
	ck_assert(vidmm_suballoc_can_alloc(sa, PG, 8 * KIB));
	alloc_ok(sa, PG, 8 * KIB, &off);
	ck_assert_uint_eq(off, 34 * PG);
	CHECK_OK(sa);
	vidmm_suballoc_destroy(sa);
}
END_TEST

/* ---- alloc_at ------------------------------------------------------------- */

START_TEST(test_alloc_at_free)
{
	struct vidmm_suballoc *sa = mk(4 * MIB);   /* 1024 granules */
	uint64_t rng = 42;
	uint32_t id;
	unsigned order[128];

	/* Ascending, with gaps. */
	for (unsigned i = 0; i < 128; i += 2) {
		ck_assert_int_eq(vidmm_suballoc_alloc_at(sa, i * 8 * PG, 3 * PG, &id), 0);
		ck_assert_uint_eq(vidmm_suballoc_offset(sa, id), i * 8 * PG);
		ck_assert_uint_eq(vidmm_suballoc_size(sa, id), 3 * PG);
	}
	/* Descending. */
	for (unsigned i = 128; i-- > 0;)
		if (i & 1)
			ck_assert_int_eq(vidmm_suballoc_alloc_at(sa, i * 8 * PG + 4 * PG, 4 * PG, &id), 0);
	CHECK_OK(sa);
	/* Shuffled, filling the rest: granules 3..7 of even groups of 8, 0..3 of odd. */
	for (unsigned i = 0; i < 128; i++)
		order[i] = i;
	for (unsigned i = 127; i > 0; i--) {
		unsigned j = (unsigned)rnd_below(&rng, i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (unsigned k = 0; k < 128; k++) {
		unsigned i = order[k];
		uint64_t off = i & 1 ? i * 8 * PG : i * 8 * PG + 3 * PG;
		uint64_t len = i & 1 ? 4 * PG : 5 * PG;
		ck_assert_int_eq(vidmm_suballoc_alloc_at(sa, off, len, &id), 0);
		ck_assert_uint_eq(vidmm_suballoc_offset(sa, id), off);
	}
	struct vidmm_suballoc_stats st = stats(sa);
	ck_assert_uint_eq(st.free, 0);
	ck_assert_uint_eq(st.allocations, 256);
	CHECK_OK(sa);
	vidmm_suballoc_destroy(sa);
}
END_TEST

START_TEST(test_alloc_at_busy)
{
	struct vidmm_suballoc *sa = mk(MIB);    /* 256 granules */
	uint32_t a, id;

	ck_assert_int_eq(vidmm_suballoc_alloc_at(sa, 16 * PG, 4 * PG, &a), 0);
	/* Overlaps from every side. */
	ck_assert_int_eq(vidmm_suballoc_alloc_at(sa, 16 * PG, PG, &id), -EBUSY);
	ck_assert_int_eq(vidmm_suballoc_alloc_at(sa, 19 * PG, PG, &id), -EBUSY);
	ck_assert_int_eq(vidmm_suballoc_alloc_at(sa, 14 * PG, 3 * PG, &id), -EBUSY);
	ck_assert_int_eq(vidmm_suballoc_alloc_at(sa, 19 * PG, 8 * PG, &id), -EBUSY);
	ck_assert_int_eq(vidmm_suballoc_alloc_at(sa, 0, 64 * PG, &id), -EBUSY);
	/* Bad arguments. */
	ck_assert_int_eq(vidmm_suballoc_alloc_at(sa, 100, PG, &id), -EINVAL);
	ck_assert_int_eq(vidmm_suballoc_alloc_at(sa, PG, 0, &id), -EINVAL);
	ck_assert_int_eq(vidmm_suballoc_alloc_at(sa, MIB, PG, &id), -EINVAL);
	ck_assert_int_eq(vidmm_suballoc_alloc_at(sa, MIB - PG, 2 * PG, &id), -EINVAL);
	ck_assert_int_eq(vidmm_suballoc_alloc_at(sa, PG, UINT64_MAX, &id), -EINVAL);
	ck_assert_uint_eq(stats(sa).allocations, 1);
	CHECK_OK(sa);
	/* Exactly adjacent on both sides is free. */
	ck_assert_int_eq(vidmm_suballoc_alloc_at(sa, 12 * PG, 4 * PG, &id), 0);
	ck_assert_int_eq(vidmm_suballoc_alloc_at(sa, 20 * PG, 1, &id), 0);
	ck_assert_uint_eq(vidmm_suballoc_size(sa, id), PG);
	ck_assert_int_eq(vidmm_suballoc_alloc_at(sa, MIB - PG, PG, &id), 0);
	/* After a free the range is placeable again. */
	ck_assert_int_eq(vidmm_suballoc_free(sa, a), 0);
	ck_assert_int_eq(vidmm_suballoc_alloc_at(sa, 17 * PG, 2 * PG, &id), 0);
	ck_assert_int_eq(vidmm_suballoc_alloc_at(sa, 16 * PG, 2 * PG, &id), -EBUSY);
	CHECK_OK(sa);
	vidmm_suballoc_destroy(sa);
}
END_TEST

/* ---- coalescing and fragmentation ----------------------------------------- */

START_TEST(test_coalesce)
{
	struct vidmm_suballoc *sa = mk(64 * PG);
	uint32_t id[8];

	for (unsigned i = 0; i < 8; i++)
		id[i] = alloc_ok(sa, 8 * PG, 0, NULL);
	ck_assert_uint_eq(stats(sa).free_blocks, 0);
	/* Free 1 and 3: two holes; 2 joins them into one of 24 granules. */
	ck_assert_int_eq(vidmm_suballoc_free(sa, id[1]), 0);
	ck_assert_int_eq(vidmm_suballoc_free(sa, id[3]), 0);
	ck_assert_uint_eq(stats(sa).free_blocks, 2);
	ck_assert_int_eq(vidmm_suballoc_free(sa, id[2]), 0);
	ck_assert_uint_eq(stats(sa).free_blocks, 1);
	ck_assert_uint_eq(stats(sa).largest_free, 24 * PG);
	CHECK_OK(sa);
	/* 0 merges with the hole after it (only a right neighbour). */
	ck_assert_int_eq(vidmm_suballoc_free(sa, id[0]), 0);
	ck_assert_uint_eq(stats(sa).largest_free, 32 * PG);
	/* 7 at the end (only a left neighbour, which is allocated), then 5, 6, 4. */
	ck_assert_int_eq(vidmm_suballoc_free(sa, id[7]), 0);
	ck_assert_uint_eq(stats(sa).free_blocks, 2);
	ck_assert_int_eq(vidmm_suballoc_free(sa, id[5]), 0);
	ck_assert_int_eq(vidmm_suballoc_free(sa, id[6]), 0);
	ck_assert_uint_eq(stats(sa).free_blocks, 2);
	ck_assert_uint_eq(stats(sa).largest_free, 32 * PG);
	ck_assert_int_eq(vidmm_suballoc_free(sa, id[4]), 0);
	struct vidmm_suballoc_stats st = stats(sa);
	ck_assert_uint_eq(st.free_blocks, 1);
	ck_assert_uint_eq(st.largest_free, 64 * PG);
	ck_assert_uint_eq(st.free, 64 * PG);
	ck_assert(st.fragmentation == 0.0);
	CHECK_OK(sa);
	/* The whole segment is one block again. */
	uint64_t off;
	alloc_ok(sa, 64 * PG, 0, &off);
	ck_assert_uint_eq(off, 0);
	vidmm_suballoc_destroy(sa);
}
END_TEST

START_TEST(test_fragmentation_checkerboard)
{
	struct vidmm_suballoc *sa = mk(64 * PG);
	uint32_t id[64];

	for (unsigned i = 0; i < 64; i++)
		id[i] = alloc_ok(sa, PG, 0, NULL);
	for (unsigned i = 0; i < 64; i += 2)
		ck_assert_int_eq(vidmm_suballoc_free(sa, id[i]), 0);
	/* 32 one-granule holes: 1 - 1/32. */
	struct vidmm_suballoc_stats st = stats(sa);
	ck_assert_uint_eq(st.free, 32 * PG);
	ck_assert_uint_eq(st.largest_free, PG);
	ck_assert_uint_eq(st.free_blocks, 32);
	ASSERT_EXACT(st.fragmentation, 0.96875);
	ck_assert(!vidmm_suballoc_can_alloc(sa, 2 * PG, 0));
	CHECK_OK(sa);

	/* Free granules 1 and 3 too: one hole of 5 (0..4) and 29 of 1. */
	ck_assert_int_eq(vidmm_suballoc_free(sa, id[1]), 0);
	ck_assert_int_eq(vidmm_suballoc_free(sa, id[3]), 0);
	st = stats(sa);
	ck_assert_uint_eq(st.free_blocks, 30);
	ck_assert_uint_eq(st.largest_free, 5 * PG);
	ASSERT_EXACT(st.fragmentation, 1.0 - 5.0 / 34.0);
	CHECK_OK(sa);
	vidmm_suballoc_destroy(sa);
}
END_TEST

START_TEST(test_largest_free_within_class)
{
	/* Holes of 100 and 101 granules share a size class (2 granules wide there);
	 * whichever is at the head of the list, the largest is 101. */
	for (int order = 0; order < 2; order++) {
		struct vidmm_suballoc *sa = mk(400 * PG);
		uint32_t h100, h101;
		h100 = alloc_ok(sa, 100 * PG, 0, NULL);
		alloc_ok(sa, PG, 0, NULL);
		h101 = alloc_ok(sa, 101 * PG, 0, NULL);
		alloc_ok(sa, 198 * PG, 0, NULL);
		ck_assert_int_eq(vidmm_suballoc_free(sa, order ? h100 : h101), 0);
		ck_assert_int_eq(vidmm_suballoc_free(sa, order ? h101 : h100), 0);
		struct vidmm_suballoc_stats st = stats(sa);
		ck_assert_uint_eq(st.largest_free, 101 * PG);
		ck_assert_uint_eq(st.free_blocks, 2);
		ASSERT_EXACT(st.fragmentation, 1.0 - 101.0 / 201.0);
		/* 101 granules fit in the 101 hole only. */
		uint64_t off;
		alloc_ok(sa, 101 * PG, 0, &off);
		ck_assert_uint_eq(off, 101 * PG);
		ck_assert_uint_eq(stats(sa).largest_free, 100 * PG);
		CHECK_OK(sa);
		vidmm_suballoc_destroy(sa);
	}
}
END_TEST

/* ---- foreach -------------------------------------------------------------- */

struct visit {
	unsigned n, stop_after;
	uint64_t last_end;
	uint64_t offs[64], sizes[64];
	uint32_t ids[64];
};

static int visit_fn(void *opaque, uint32_t id, uint64_t offset, uint64_t size)
{
	struct visit *v = opaque;
	if (v->n >= 64)
		return -1;
	v->ids[v->n] = id;
	v->offs[v->n] = offset;
	v->sizes[v->n] = size;
	v->n++;
	return v->stop_after && v->n == v->stop_after ? 7 : 0;
}

START_TEST(test_foreach_order)
{
	struct vidmm_suballoc *sa = mk(MIB);
	uint64_t rng = 7;
	unsigned order[40];
	uint32_t idof[40];

	for (unsigned i = 0; i < 40; i++)
		order[i] = i;
	for (unsigned i = 39; i > 0; i--) {
		unsigned j = (unsigned)rnd_below(&rng, i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	/* Block i at granule 6*i, 1 + i%5 granules long, placed in shuffled order. */
	for (unsigned k = 0; k < 40; k++) {
		unsigned i = order[k];
		ck_assert_int_eq(vidmm_suballoc_alloc_at(sa, 6 * i * PG, (1 + i % 5) * PG, &idof[i]), 0);
	}
	struct visit v = { 0 };
	ck_assert_int_eq(vidmm_suballoc_foreach(sa, visit_fn, &v), 0);
	ck_assert_uint_eq(v.n, 40);
	for (unsigned i = 0; i < 40; i++) {
		ck_assert_uint_eq(v.offs[i], 6 * i * PG);
		ck_assert_uint_eq(v.sizes[i], (1 + i % 5) * PG);
		ck_assert_uint_eq(v.ids[i], idof[i]);
	}
	/* Early stop returns fn's value. */
	struct visit w = { .stop_after = 3 };
	ck_assert_int_eq(vidmm_suballoc_foreach(sa, visit_fn, &w), 7);
	ck_assert_uint_eq(w.n, 3);
	ck_assert_uint_eq(w.offs[2], 12 * PG);
	vidmm_suballoc_destroy(sa);
}
END_TEST

/* ---- stats / can_alloc ---------------------------------------------------- */

START_TEST(test_can_alloc_no_side_effect)
{
	struct vidmm_suballoc *sa = mk(64 * MIB);
	uint64_t rng = 99;

	for (unsigned i = 0; i < 200; i++)
		alloc_ok(sa, (1 + rnd_below(&rng, 64)) * PG, 0, NULL);
	/* Punch holes. */
	for (uint32_t id = 0; id < 400; id += 3)
		vidmm_suballoc_free(sa, id);
	struct vidmm_suballoc_stats before = stats(sa);
	for (unsigned i = 0; i < 2000; i++) {
		uint64_t size = (1 + rnd_below(&rng, 2048)) * PG;
		uint64_t align = rnd_below(&rng, 2) ? PG << rnd_below(&rng, 14) : 0;
		bool can = vidmm_suballoc_can_alloc(sa, size, align);
		struct vidmm_suballoc_stats st = stats(sa);
		REQUIRE(memcmp(&st, &before, sizeof(st)) == 0, "can_alloc changed the stats");
		/* The prediction is right: try it and undo. */
		uint32_t id;
		uint64_t off;
		int r = vidmm_suballoc_alloc(sa, size, align, &id, &off);
		REQUIRE_EQ(r, can ? 0 : -ENOSPC);
		if (r == 0)
			REQUIRE_EQ(vidmm_suballoc_free(sa, id), 0);
	}
	CHECK_OK(sa);
	vidmm_suballoc_destroy(sa);
}
END_TEST

/* A refusal is decided before the bookkeeping is grown, so that it leaves the
 * allocator exactly as it was (the vidmm relies on it instead of asking
 * can_alloc first); and the prefetch hint takes any id. */
START_TEST(test_refusal_changes_nothing)
{
	/* 64 granules, filled by 64 one-granule blocks: the node array (64 slots at
	 * first) has no spare slot, and a split would need two. */
	struct vidmm_suballoc *sa = mk(64 * PG);
	uint32_t ids[64];
	for (unsigned i = 0; i < 64; i++) {
		uint64_t off;
		ids[i] = alloc_ok(sa, PG, 0, &off);
	}
	/* Odd granules free: 32 holes of one granule, none 2-granule aligned. */
	for (unsigned i = 1; i < 64; i += 2)
		ck_assert_int_eq(vidmm_suballoc_free(sa, ids[i]), 0);
	struct vidmm_suballoc_state before, after;
	vidmm_suballoc_get_state(sa, &before);
	size_t nbytes = (size_t)before.fresh * sizeof(struct vidmm_suballoc_node);
	struct vidmm_suballoc_node *nodes = malloc(nbytes);
	ck_assert_ptr_nonnull(nodes);
	memcpy(nodes, before.nodes, nbytes);
	uint32_t id = 12345;
	uint64_t off = 777;
	ck_assert_int_eq(vidmm_suballoc_alloc(sa, 2 * PG, 0, &id, &off), -ENOSPC);
	ck_assert_int_eq(vidmm_suballoc_alloc(sa, PG, 2 * PG, &id, &off), -ENOSPC);
	ck_assert_uint_eq(id, 12345);
	ck_assert_uint_eq(off, 777);
	vidmm_suballoc_get_state(sa, &after);
	ck_assert_uint_eq(after.fresh, before.fresh);
	ck_assert_uint_eq(after.spare, before.spare);
	ck_assert_uint_eq(after.nspare, before.nspare);
	ck_assert_int_eq(memcmp(after.head, before.head, sizeof(after.head)), 0);
	ck_assert_int_eq(memcmp(after.nodes, nodes, nbytes), 0);
	free(nodes);
	/* Hints: live, freed, out of range, no allocator. */
	vidmm_suballoc_prefetch(sa, ids[0]);
	vidmm_suballoc_prefetch(sa, ids[1]);
	vidmm_suballoc_prefetch(sa, 0xFFFFFFFFu);
	vidmm_suballoc_prefetch(NULL, 0);
	CHECK_OK(sa);
	/* What does fit is still given. */
	alloc_ok(sa, PG, 0, &off);
	CHECK_OK(sa);
	vidmm_suballoc_destroy(sa);
}
END_TEST

START_TEST(test_stats_counters)
{
	struct vidmm_suballoc *sa = mk(MIB);
	uint32_t a = alloc_ok(sa, 5 * PG, 0, NULL);
	uint32_t b = alloc_ok(sa, 7 * PG, 0, NULL);
	alloc_ok(sa, 1 * PG, 0, NULL);
	struct vidmm_suballoc_stats st = stats(sa);

	ck_assert_uint_eq(st.used, 13 * PG);
	ck_assert_uint_eq(st.free, MIB - 13 * PG);
	ck_assert_uint_eq(st.allocations, 3);
	ck_assert_uint_eq(st.free_blocks, 1);
	ck_assert_uint_eq(st.largest_free, MIB - 13 * PG);
	ck_assert_int_eq(vidmm_suballoc_free(sa, a), 0);
	ck_assert_int_eq(vidmm_suballoc_free(sa, b), 0);
	st = stats(sa);
	ck_assert_uint_eq(st.used, PG);
	ck_assert_uint_eq(st.allocations, 1);
	ck_assert_uint_eq(st.free_blocks, 2);
	ck_assert_uint_eq(st.largest_free, MIB - 13 * PG);
	ASSERT_EXACT(st.fragmentation, 1.0 - (double)(MIB - 13 * PG) / (double)(MIB - PG));
	vidmm_suballoc_get_stats(sa, NULL);     /* no crash */
	vidmm_suballoc_destroy(sa);
}
END_TEST

/* ---- extremes ------------------------------------------------------------- */

START_TEST(test_huge_segment)
{
	/* The largest 4 KiB-granular segment: 2^52 - 1 granules, top size classes. */
	struct vidmm_suballoc *sa = mk(UINT64_MAX & ~(PG - 1));
	uint64_t off;
	uint32_t a = alloc_ok(sa, 1ull << 61, 1ull << 61, &off);
	ck_assert_uint_eq(off % (1ull << 61), 0);
	uint32_t b = alloc_ok(sa, PG, 1ull << 62, &off);
	ck_assert_uint_eq(off % (1ull << 62), 0);
	uint32_t c = alloc_ok(sa, 1ull << 62, 0, &off);
	CHECK_OK(sa);
	/* 2^63 lies inside c, 0 is a: no 2^63-aligned granule is free. */
	ck_assert_uint_eq(vidmm_suballoc_offset(sa, a), 0);
	ck_assert_uint_eq(off, (1ull << 62) + PG);
	ck_assert(!vidmm_suballoc_can_alloc(sa, PG, 1ull << 63));
	ck_assert_int_eq(vidmm_suballoc_free(sa, c), 0);
	ck_assert(vidmm_suballoc_can_alloc(sa, PG, 1ull << 63));
	ck_assert_int_eq(vidmm_suballoc_free(sa, b), 0);
	ck_assert_int_eq(vidmm_suballoc_free(sa, a), 0);
	ck_assert_uint_eq(stats(sa).largest_free, UINT64_MAX & ~(PG - 1));
	CHECK_OK(sa);
	vidmm_suballoc_destroy(sa);

	/* Granule 1 over almost all of 2^64: rounding to a class would overflow. */
	ck_assert_int_eq(vidmm_suballoc_create(UINT64_MAX, 1, &sa), 0);
	a = alloc_ok(sa, UINT64_MAX, 0, &off);
	ck_assert_uint_eq(off, 0);
	ck_assert_int_eq(vidmm_suballoc_free(sa, a), 0);
	alloc_ok(sa, 1, 1ull << 63, &off);
	ck_assert_uint_eq(off % (1ull << 63), 0);
	CHECK_OK(sa);
	vidmm_suballoc_destroy(sa);
}
END_TEST

START_TEST(test_node_growth)
{
	/* 16384 single granules force the node array to double many times. */
	const unsigned n = 16384;
	struct vidmm_suballoc *sa = mk(n * PG);
	uint32_t *ids = malloc(n * sizeof(*ids));
	uint64_t rng = 5, off;

	ck_assert_ptr_ne(ids, NULL);
	for (unsigned i = 0; i < n; i++) {
		ids[i] = alloc_ok(sa, PG, 0, &off);
		REQUIRE_EQ(off, i * PG);
	}
	CHECK_OK(sa);
	for (unsigned i = n - 1; i > 0; i--) {
		unsigned j = (unsigned)rnd_below(&rng, i + 1);
		uint32_t t = ids[i];
		ids[i] = ids[j];
		ids[j] = t;
	}
	for (unsigned i = 0; i < n; i++) {
		REQUIRE_EQ(vidmm_suballoc_free(sa, ids[i]), 0);
		if (i % 2048 == 0)
			CHECK_OK(sa);
	}
	struct vidmm_suballoc_stats st = stats(sa);
	ck_assert_uint_eq(st.free_blocks, 1);
	ck_assert_uint_eq(st.largest_free, n * PG);
	CHECK_OK(sa);
	free(ids);
	vidmm_suballoc_destroy(sa);
}
END_TEST

START_TEST(test_granule_64k)
{
	struct vidmm_suballoc *sa = NULL;
	uint64_t off;
	uint32_t id;

	ck_assert_int_eq(vidmm_suballoc_create(MIB, 64 * KIB, &sa), 0);
	id = alloc_ok(sa, 1, 0, &off);
	ck_assert_uint_eq(vidmm_suballoc_size(sa, id), 64 * KIB);
	alloc_ok(sa, 1, 4 * KIB, &off);
	ck_assert_uint_eq(off, 64 * KIB);
	alloc_ok(sa, 1, 256 * KIB, &off);
	ck_assert_uint_eq(off, 256 * KIB);
	ck_assert_int_eq(vidmm_suballoc_alloc_at(sa, 4 * KIB, 1, &id), -EINVAL);
	ck_assert_int_eq(vidmm_suballoc_alloc_at(sa, 128 * KIB, 1, &id), 0);
	ck_assert_uint_eq(stats(sa).used, 4 * 64 * KIB);
	CHECK_OK(sa);
	vidmm_suballoc_destroy(sa);
}
END_TEST


/* ---- class lists and state -------------------------------------------------- */

/*
 * Ten one-granule holes h1..h10 go on one class list, h10 at its head. Freeing
 * the block between h3 and h4 merges all three: h3 and h4 leave the middle of the
 * list and the others keep their order, so the holes are then taken h10 down to
 * h5, then h2, h1. That order is the "class-list order" a snapshot saves.
 */
START_TEST(test_merge_from_middle_of_list)
{
	struct vidmm_suballoc *sa = mk(64 * PG);
	uint32_t blk[20];
	uint64_t off;

	for (unsigned i = 0; i < 20; i++) {
		blk[i] = alloc_ok(sa, PG, 0, &off);
		ck_assert_uint_eq(off, i * PG);
	}
	uint32_t rest = alloc_ok(sa, 44 * PG, 0, &off);
	for (unsigned k = 0; k < 10; k++)       /* h(k+1) at granule 2k */
		ck_assert_int_eq(vidmm_suballoc_free(sa, blk[2 * k]), 0);
	ck_assert_uint_eq(stats(sa).free_blocks, 10);
	CHECK_OK(sa);
	ck_assert_int_eq(vidmm_suballoc_free(sa, blk[5]), 0);   /* granules 4..6 */
	ck_assert_uint_eq(stats(sa).free_blocks, 9);
	CHECK_OK(sa);
	static const unsigned expect[] = { 10, 9, 8, 7, 6, 5, 2, 1 };
	for (unsigned i = 0; i < 8; i++) {
		alloc_ok(sa, PG, 0, &off);
		ck_assert_msg(off / PG % 2 == 0 && off / PG / 2 + 1 == expect[i],
			      "take %u: granule %llu, expected hole %u", i, (unsigned long long)(off / PG),
			      expect[i]);
		CHECK_OK(sa);
	}
	ck_assert_uint_eq(stats(sa).free_blocks, 1);
	ck_assert_uint_eq(stats(sa).largest_free, 3 * PG);
	ck_assert_int_eq(vidmm_suballoc_free(sa, rest), 0);
	CHECK_OK(sa);
	vidmm_suballoc_destroy(sa);
}
END_TEST

/* One random operation on sa (the same rng gives the same operation): its
 * answer folded into a number, so that two allocators can be compared. */
static uint64_t random_op(struct vidmm_suballoc *sa, uint64_t *rng, uint32_t *live, unsigned *nlive,
			  unsigned maxlive)
{
	uint32_t id = 0;
	uint64_t off = 0;
	unsigned r = (unsigned)rnd_below(rng, 100);
	if ((r < 55 && *nlive < maxlive) || *nlive == 0) {
		uint64_t size = (1 + rnd_below(rng, 1ull << rnd_below(rng, 6))) * PG;
		uint64_t align = rnd_below(rng, 8) == 0 ? PG << rnd_below(rng, 5) : 0;
		int rc = vidmm_suballoc_alloc(sa, size, align, &id, &off);
		if (rc == 0)
			live[(*nlive)++] = id;
		return (uint64_t)(rc + 100) << 48 ^ (uint64_t)id << 32 ^ off;
	}
	if (r < 95) {
		unsigned k = (unsigned)rnd_below(rng, *nlive);
		int rc = vidmm_suballoc_free(sa, live[k]);
		live[k] = live[--*nlive];
		return (uint64_t)(rc + 100);
	}
	uint64_t p = rnd_below(rng, 512), n = 1 + rnd_below(rng, 8);
	int rc = vidmm_suballoc_alloc_at(sa, p * PG, n * PG, &id);
	if (rc == 0)
		live[(*nlive)++] = id;
	return (uint64_t)(rc + 100) << 48 ^ (uint64_t)id << 32;
}

/* A copy made through the snapshot state. */
static struct vidmm_suballoc *copy_by_state(const struct vidmm_suballoc *sa, uint64_t size)
{
	struct vidmm_suballoc_state st;
	struct vidmm_suballoc *c = NULL;
	char err[256];
	vidmm_suballoc_get_state(sa, &st);
	int rc = vidmm_suballoc_from_state(&st, size, PG, &c, err, sizeof(err));
	ck_assert_msg(rc == 0, "from_state: %d %s", rc, err);
	return c;
}

/*
 * A state taken and restored gives an allocator that answers every later
 * operation as the original does (ids, offsets, refusals), with merges from the
 * middle of class lists, alignment, alloc_at and released slots in the history.
 */
START_TEST(test_state_roundtrip_exact)
{
	const uint64_t size = 512 * PG;
	struct vidmm_suballoc *sa = mk(size);
	uint32_t live[1024], live2[1024];
	unsigned nlive = 0, nlive2;
	uint64_t rng = 77;

	for (int round = 0; round < 6; round++) {
		for (int i = 0; i < 700; i++)
			random_op(sa, &rng, live, &nlive, 1024);
		CHECK_OK(sa);
		struct vidmm_suballoc *c = copy_by_state(sa, size);
		CHECK_OK(c);
		memcpy(live2, live, sizeof(live));
		nlive2 = nlive;
		uint64_t r1 = rng, r2 = rng;
		for (int i = 0; i < 700; i++) {
			uint64_t x = random_op(sa, &r1, live, &nlive, 1024);
			uint64_t y = random_op(c, &r2, live2, &nlive2, 1024);
			REQUIRE(x == y, "round %d op %d: %llx, the copy %llx", round, i, (unsigned long long)x,
				(unsigned long long)y);
		}
		CHECK_OK(c);
		vidmm_suballoc_destroy(c);
		rng = r1;
	}
	vidmm_suballoc_destroy(sa);
}
END_TEST

/* A damaged state is refused with a sentence, never followed. */
START_TEST(test_state_damage_refused)
{
	const uint64_t size = 256 * PG;
	struct vidmm_suballoc *sa = mk(size), *c;
	uint32_t live[512];
	unsigned nlive = 0;
	uint64_t rng = 5;
	for (int i = 0; i < 400; i++)
		random_op(sa, &rng, live, &nlive, 512);
	struct vidmm_suballoc_state st, bad;
	vidmm_suballoc_get_state(sa, &st);
	ck_assert_uint_ge(st.nfree, 2);
	struct vidmm_suballoc_node *nodes = malloc(st.fresh * sizeof(*nodes));
	/* Two non-empty classes, a free node and an allocated one. */
	unsigned f1 = 64, s1 = 0, f2 = 64, s2 = 0;
	for (unsigned f = 0; f < 64; f++)
		for (unsigned l = 0; l < 32; l++)
			if (st.head[f][l] != 0xFFFFFFFFu) {
				if (f1 == 64) {
					f1 = f;
					s1 = l;
				} else if (f2 == 64) {
					f2 = f;
					s2 = l;
				}
			}
	ck_assert_uint_ne(f2, 64);
	uint32_t freed = st.head[f1][s1], used = 0xFFFFFFFFu;
	for (uint32_t k = 0; k < st.fresh; k++)
		if (st.nodes[k].free_prev == 0xFFFFFFFEu)
			used = k;
	ck_assert_uint_ne(used, 0xFFFFFFFFu);
	char err[256];

	for (int k = 0; k < 10; k++) {
		bad = st;
		memcpy(nodes, st.nodes, st.fresh * sizeof(*nodes));
		bad.nodes = nodes;
		switch (k) {
		case 0: bad.head[f2][s2] = freed; break;              /* listed twice */
		case 1: bad.head[f1][s1] = st.fresh; break;           /* beyond the nodes */
		case 2: bad.nfree++; break;                           /* counter */
		case 3: bad.pages++; break;                           /* another segment */
		case 4: nodes[freed].len++; break;                    /* overlaps its neighbour */
		case 5: bad.used += 1; break;                         /* counter */
		case 6: bad.fresh = 0; break;
		case 7: nodes[freed].free_next = freed; break;        /* a cycle */
		case 8: nodes[used].free_prev = 0xFFFFFFFFu; break;   /* allocated, marked free */
		case 9: bad.sl_map[f1] ^= 1u << s1; break;            /* bitmap */
		}
		c = NULL;
		err[0] = '\0';
		int rc = vidmm_suballoc_from_state(&bad, size, PG, &c, err, sizeof(err));
		ck_assert_msg(rc == -EINVAL, "case %d: %d", k, rc);
		ck_assert_ptr_eq(c, NULL);
		ck_assert_msg(err[0] != '\0', "case %d: no sentence", k);
	}
	/* Undamaged, it restores. */
	ck_assert_int_eq(vidmm_suballoc_from_state(&st, size, PG, &c, err, sizeof(err)), 0);
	CHECK_OK(c);
	vidmm_suballoc_destroy(c);
	free(nodes);
	vidmm_suballoc_destroy(sa);
}
END_TEST

/*
 * The bench's pattern at small scale: a segment kept nearly full by replacing a
 * random allocation at each step, with the full check after each one, so that
 * lists that grow and shrink and merges from their middle meet the invariant
 * check many times.
 */
START_TEST(test_churn_near_full)
{
	const unsigned pages = 4096;
	struct vidmm_suballoc *sa = mk(pages * PG);
	uint32_t ids[900];
	uint64_t rng = 0xB0B5, off, used = 0;
	unsigned n = 0;
	char err[256];

	while (n < 900) {
		uint64_t s = 1 + rnd_below(&rng, 8);
		if (vidmm_suballoc_alloc(sa, s * PG, 0, &ids[n], &off))
			break;
		used += s;
		n++;
	}
	for (unsigned step = 0; step < 6000; step++) {
		unsigned k = (unsigned)rnd_below(&rng, n);
		ck_assert_int_eq(vidmm_suballoc_free(sa, ids[k]), 0);
		uint64_t s = 1 + rnd_below(&rng, 8);
		while (vidmm_suballoc_alloc(sa, s * PG, 0, &ids[k], &off))
			s = 1;          /* nearly full: a granule always fits somewhere */
		REQUIRE(vidmm_suballoc_check(sa, err, sizeof(err)) == 0, "step %u: %s", step, err);
	}
	vidmm_suballoc_destroy(sa);
}
END_TEST

/* ---- randomized, against a shadow model ----------------------------------- */

#define R_PAGES 2048u           /* an 8 MiB segment */
#define R_MAXID 65536u

struct shadow {
	uint32_t owner[R_PAGES];        /* id + 1, 0 when free */
	uint32_t run[R_PAGES + 1];      /* free granules from here on */
	bool live[R_MAXID];
	uint64_t off[R_MAXID], len[R_MAXID];    /* granules */
	uint32_t ids[R_PAGES];                  /* live ids, unordered */
	unsigned nlive;
	uint64_t used;
};

static void shadow_runs(struct shadow *m)
{
	m->run[R_PAGES] = 0;
	for (unsigned p = R_PAGES; p-- > 0;)
		m->run[p] = m->owner[p] ? 0 : m->run[p + 1] + 1;
}

/* Is there an a-aligned free run of s granules? */
static bool shadow_fits(struct shadow *m, uint64_t s, uint64_t a)
{
	shadow_runs(m);
	for (uint64_t p = 0; p + s <= R_PAGES; p += a)
		if (m->run[p] >= s)
			return true;
	return false;
}

static void shadow_add(struct shadow *m, uint32_t id, uint64_t p, uint64_t s)
{
	REQUIRE(id < R_MAXID, "id %u too large for the shadow", id);
	REQUIRE(!m->live[id], "id %u handed out twice", id);
	for (uint64_t i = p; i < p + s; i++) {
		REQUIRE(m->owner[i] == 0, "granule %llu given to %u is owned by %u",
			      (unsigned long long)i, id, m->owner[i] - 1);
		m->owner[i] = id + 1;
	}
	m->live[id] = true;
	m->off[id] = p;
	m->len[id] = s;
	m->ids[m->nlive++] = id;
	m->used += s;
}

static void shadow_del(struct shadow *m, unsigned k)
{
	uint32_t id = m->ids[k];
	for (uint64_t i = m->off[id]; i < m->off[id] + m->len[id]; i++)
		m->owner[i] = 0;
	m->live[id] = false;
	m->used -= m->len[id];
	m->ids[k] = m->ids[--m->nlive];
}

static void shadow_compare_stats(struct shadow *m, const struct vidmm_suballoc *sa)
{
	uint64_t blocks = 0, largest = 0;
	shadow_runs(m);
	for (unsigned p = 0; p < R_PAGES; p++) {
		if (m->run[p] && (p == 0 || m->owner[p - 1])) {
			blocks++;
			if (m->run[p] > largest)
				largest = m->run[p];
		}
	}
	struct vidmm_suballoc_stats st = stats(sa);
	uint64_t freep = R_PAGES - m->used;
	REQUIRE_EQ(st.used, m->used * PG);
	REQUIRE_EQ(st.free, freep * PG);
	REQUIRE_EQ(st.allocations, m->nlive);
	REQUIRE_EQ(st.free_blocks, blocks);
	REQUIRE_EQ(st.largest_free, largest * PG);
	REQUIRE(st.fragmentation == (freep ? 1.0 - (double)largest / (double)freep : 0.0),
		"fragmentation %g", st.fragmentation);
}

static unsigned env_ops(void)
{
	const char *s = getenv("SUBALLOC_OPS");
	if (s && *s) {
		long v = strtol(s, NULL, 10);
		if (v > 0 && v < 100000000)
			return (unsigned)v;
	}
	return 25000;
}

static const uint64_t random_seeds[] = { 1, 0xC0FFEE, 0x5EED5EED, 20240601 };

START_TEST(test_random_vs_shadow)
{
	struct shadow *m = calloc(1, sizeof(*m));
	struct vidmm_suballoc *sa = mk(R_PAGES * PG);
	uint64_t rng = random_seeds[_i];
	unsigned ops = env_ops();
	unsigned long nospc = 0, busy = 0;
	char err[256];

	ck_assert_ptr_ne(m, NULL);
	for (unsigned op = 0; op < ops; op++) {
		/* Alternate filling and draining phases so both ends are visited. */
		unsigned alloc_pct = (op / 1024) % 2 ? 35 : 60;
		unsigned r = (unsigned)rnd_below(&rng, 100);
		uint32_t id;
		uint64_t off;

		if (r < alloc_pct) {
			uint64_t s = 1 + rnd_below(&rng, 1ull << rnd_below(&rng, 7));
			uint64_t size = (s - 1) * PG + 1 + rnd_below(&rng, PG);
			uint64_t align = 0, a = 1;
			unsigned k = (unsigned)rnd_below(&rng, 10);
			if (k >= 7) {
				a = 1ull << rnd_below(&rng, 9);         /* up to 512 granules */
				align = a * PG;
			} else if (k == 6) {
				align = 1ull << rnd_below(&rng, 13);    /* <= granule */
			}
			bool can = vidmm_suballoc_can_alloc(sa, size, align);
			int rc = vidmm_suballoc_alloc(sa, size, align, &id, &off);
			/* A success is verified by shadow_add (no overlap); a refusal must
			 * be exact: the shadow has no aligned free run either. */
			REQUIRE(rc == 0 || (rc == -ENOSPC && !shadow_fits(m, s, a)),
				      "op %u: alloc(%llu granules, align %llu) = %d",
				      op, (unsigned long long)s, (unsigned long long)a, rc);
			REQUIRE_EQ(can, rc == 0);
			if (rc == 0) {
				REQUIRE_EQ(off % (a * PG), 0);
				REQUIRE_EQ(vidmm_suballoc_size(sa, id), s * PG);
				REQUIRE_EQ(vidmm_suballoc_offset(sa, id), off);
				shadow_add(m, id, off / PG, s);
			} else {
				nospc++;
			}
		} else if (r < 90) {
			if (m->nlive == 0)
				continue;
			unsigned k = (unsigned)rnd_below(&rng, m->nlive);
			id = m->ids[k];
			REQUIRE_EQ(vidmm_suballoc_offset(sa, id), m->off[id] * PG);
			REQUIRE_EQ(vidmm_suballoc_size(sa, id), m->len[id] * PG);
			REQUIRE_EQ(vidmm_suballoc_free(sa, id), 0);
			shadow_del(m, k);
			REQUIRE_EQ(vidmm_suballoc_free(sa, id), -EINVAL);
		} else if (r < 98) {
			uint64_t p = rnd_below(&rng, R_PAGES + 8);
			uint64_t s = 1 + rnd_below(&rng, 16);
			int expect = 0;
			if (p + s > R_PAGES)
				expect = -EINVAL;
			else
				for (uint64_t i = p; i < p + s; i++)
					if (m->owner[i])
						expect = -EBUSY;
			int rc = vidmm_suballoc_alloc_at(sa, p * PG, s * PG, &id);
			REQUIRE(rc == expect, "op %u: alloc_at(%llu, %llu) = %d, expected %d",
				      op, (unsigned long long)p, (unsigned long long)s, rc, expect);
			if (rc == 0)
				shadow_add(m, id, p, s);
			else
				busy++;
		} else if (r < 99) {
			/* A non-live id must be refused. */
			id = (uint32_t)rnd_below(&rng, 2 * R_PAGES + 8);
			if (!m->live[id])
				REQUIRE_EQ(vidmm_suballoc_free(sa, id), -EINVAL);
		} else {
			shadow_compare_stats(m, sa);
		}
		/* The full consistency check after every operation. */
		REQUIRE(vidmm_suballoc_check(sa, err, sizeof(err)) == 0, "op %u: %s", op, err);
	}
	CHECK_OK(sa);
	shadow_compare_stats(m, sa);
	/* Both the full and the empty end were reached at least once in a long run. */
	if (ops >= 20000)
		REQUIRE(nospc > 0 && busy > 0, "the run never filled the segment");
	/* Drain: everything coalesces back into one block. */
	while (m->nlive) {
		REQUIRE_EQ(vidmm_suballoc_free(sa, m->ids[0]), 0);
		shadow_del(m, 0);
	}
	struct vidmm_suballoc_stats st = stats(sa);
	REQUIRE_EQ(st.free_blocks, 1);
	REQUIRE_EQ(st.largest_free, R_PAGES * PG);
	CHECK_OK(sa);
	vidmm_suballoc_destroy(sa);
	free(m);
}
END_TEST

/* ---- suite ---------------------------------------------------------------- */

Suite *vidmm_suballoc_suite(void)
{
	Suite *s = suite_create("vidmm_suballoc");
	TCase *tc;

	tc = tcase_create("basics");
	tcase_add_test(tc, test_create_destroy);
	tcase_add_test(tc, test_create_bad_args);
	tcase_add_test(tc, test_alloc_bad_args);
	tcase_add_test(tc, test_small_align_is_granule);
	tcase_add_test(tc, test_size_rounding);
	tcase_add_test(tc, test_free_bad_id);
	tcase_add_test(tc, test_stats_counters);
	suite_add_tcase(s, tc);

	tc = tcase_create("placement");
	tcase_add_test(tc, test_exact_fill);
	tcase_add_test(tc, test_whole_odd_segment);
	tcase_add_test(tc, test_alignment);
	tcase_add_test(tc, test_aligned_fallback);
	tcase_add_test(tc, test_alloc_at_free);
	tcase_add_test(tc, test_alloc_at_busy);
	tcase_add_test(tc, test_can_alloc_no_side_effect);
	tcase_add_test(tc, test_refusal_changes_nothing);
	tcase_add_test(tc, test_huge_segment);
	tcase_add_test(tc, test_granule_64k);
	suite_add_tcase(s, tc);

	tc = tcase_create("coalescing");
	tcase_add_test(tc, test_coalesce);
	tcase_add_test(tc, test_fragmentation_checkerboard);
	tcase_add_test(tc, test_largest_free_within_class);
	tcase_add_test(tc, test_foreach_order);
	tcase_add_test(tc, test_node_growth);
	suite_add_tcase(s, tc);

	tc = tcase_create("lists and state");
	tcase_add_test(tc, test_merge_from_middle_of_list);
	tcase_add_test(tc, test_state_roundtrip_exact);
	tcase_add_test(tc, test_state_damage_refused);
	tcase_add_test(tc, test_churn_near_full);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_random_vs_shadow, 0,
			    (int)(sizeof(random_seeds) / sizeof(random_seeds[0])));
	suite_add_tcase(s, tc);
	return s;
}

#ifdef SUBALLOC_STANDALONE_MAIN
int main(void)
{
	SRunner *sr = srunner_create(vidmm_suballoc_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
#endif
