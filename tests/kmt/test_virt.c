/*
 * Virtualization that works: allocations totalling 4x VRAM, a distinct pattern in
 * each, submissions that reference different subsets in turn (so the manager
 * evicts and pages in through the copy engine), every byte checked by the CPU and
 * by the GPU's CHECKSUM packet.
 */
#include <config.h>

#include <check.h>
#include <string.h>

#include "tests/kmt/kmt_helpers.h"
#include "tests/kmt/kmt_suites.h"

#define CONFIG "vram=16M,visible=4M,gart=8M,sysmem=256M"
#define N 64
#define SIZE (1024u * 1024)   /* 64 x 1 MiB = 4 x VRAM */
#define SUBSET 6

static uint32_t crc_slot(struct kt_gpu *g, uint32_t k)
{
	D3DKMT_LOCK2 lk = { .hDevice = g->device, .hAllocation = g->result };
	ck_assert_int_eq(D3DKMTLock2(&lk), STATUS_SUCCESS);
	uint32_t v;
	memcpy(&v, (uint8_t *)lk.pData + 4 * k, 4);
	D3DKMT_UNLOCK2 ul = { .hDevice = g->device, .hAllocation = g->result };
	ck_assert_int_eq(D3DKMTUnlock2(&ul), STATUS_SUCCESS);
	return v;
}

START_TEST(four_times_vram_byte_for_byte)
{
	struct kt_gpu g;
	D3DKMT_HANDLE h[N];
	uint32_t seed[N];
	kt_setup(&g, CONFIG);
	for (uint32_t i = 0; i < N; i++) {
		seed[i] = 1000 + i;
		ck_assert_int_eq(kt_alloc(&g, SIZE, 0, 0, &h[i]), STATUS_SUCCESS);
		ck_assert_int_eq(kt_write(g.device, h[i], SIZE, seed[i]), STATUS_SUCCESS);
	}
	struct gpusim_stats st0;
	ck_assert_int_eq(gpusim_get_stats(g.luid, &st0), STATUS_SUCCESS);

	for (uint32_t round = 0; round < 24; round++) {
		uint32_t pick[SUBSET];
		for (uint32_t k = 0; k < SUBSET; k++)
			pick[k] = (round * 11 + k * 7) % N;
		kt_cmd_begin(&g);
		/* Every other round the GPU also writes: a copy carries one pattern
		 * over another, and that must survive the evictions that follow. */
		if (round % 2) {
			kt_cmd_copy(&g, h[pick[0]], h[pick[1]], SIZE);
			seed[pick[1]] = seed[pick[0]];
		}
		for (uint32_t k = 0; k < SUBSET; k++)
			kt_cmd_checksum(&g, h[pick[k]], SIZE, g.result, 4 * k);
		ck_assert_int_eq(kt_cmd_submit(&g), STATUS_SUCCESS);
		ck_assert_int_eq(gpusim_idle(g.luid), STATUS_SUCCESS);
		for (uint32_t k = 0; k < SUBSET; k++)
			ck_assert_msg(crc_slot(&g, k) == kt_pattern_crc(SIZE, seed[pick[k]]),
				      "round %u: allocation %u lost its bytes", round, pick[k]);
	}

	struct gpusim_stats st;
	ck_assert_int_eq(gpusim_get_stats(g.luid, &st), STATUS_SUCCESS);
	ck_assert_uint_gt(st.evictions, st0.evictions);
	ck_assert_uint_gt(st.page_ins, 0);
	ck_assert_uint_gt(st.bytes_in, 0);
	ck_assert_uint_gt(st.bytes_out, 0);
	ck_assert_uint_gt(st.time_ns, st0.time_ns);

	/* Every byte of every allocation, by CPU read-back and by GPU checksum. */
	for (uint32_t i = 0; i < N; i++) {
		ck_assert_msg(kt_verify(g.device, h[i], SIZE, seed[i]), "allocation %u differs (CPU)", i);
		ck_assert_msg(kt_gpu_crc(&g, h[i], SIZE) == kt_pattern_crc(SIZE, seed[i]),
			      "allocation %u differs (GPU)", i);
	}
	kt_teardown(&g);
}
END_TEST

START_TEST(gart_only_allocations_stay_in_the_aperture)
{
	struct kt_gpu g;
	D3DKMT_HANDLE h[8];
	kt_setup(&g, CONFIG);
	for (uint32_t i = 0; i < 8; i++) {
		ck_assert_int_eq(kt_alloc(&g, SIZE, GPUSIM_SEG_GART, KT_SEG(GART), &h[i]), STATUS_SUCCESS);
		ck_assert_int_eq(kt_write(g.device, h[i], SIZE, 77 + i), STATUS_SUCCESS);
	}
	/* The aperture is smaller than these together: some wait in their backing
	 * store, and using them swaps them in without ever touching VRAM. */
	for (uint32_t i = 0; i < 8; i++) {
		ck_assert_uint_eq(kt_gpu_crc(&g, h[i], SIZE), kt_pattern_crc(SIZE, 77 + i));
		ck_assert_uint_eq(kt_segment(h[i]), GPUSIM_SEG_GART);
	}
	struct gpusim_stats st;
	ck_assert_int_eq(gpusim_get_stats(g.luid, &st), STATUS_SUCCESS);
	ck_assert_uint_eq(st.usage_local, 4096); /* only the helper's result buffer */
	for (uint32_t i = 0; i < 8; i++)
		ck_assert(kt_verify(g.device, h[i], SIZE, 77 + i));
	kt_teardown(&g);
}
END_TEST

Suite *kmt_virt_suite(void)
{
	Suite *s = suite_create("kmt_virt");
	TCase *tc = tcase_create("virtualization");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, four_times_vram_byte_for_byte);
	tcase_add_test(tc, gart_only_allocations_stay_in_the_aperture);
	suite_add_tcase(s, tc);
	return s;
}
