/*
 * The Check suites of kmt/ (tests/kmt/test_*.c); tests/check_kmt.c runs them all.
 */
#ifndef TESTS_KMT_SUITES_H
#define TESTS_KMT_SUITES_H

#include <check.h>

Suite *vidmm_suballoc_suite(void);
Suite *kmt_alloc_suite(void);        /* D3DKMTCreateAllocation semantics */
Suite *kmt_residency_suite(void);    /* MakeResident/Evict, budgets, locks, priorities */
Suite *kmt_submit_suite(void);       /* Render, patching, faults, sync objects */
Suite *kmt_events_suite(void);       /* events and statistics */
Suite *kmt_virt_suite(void);         /* 4x oversubscription, byte for byte */
Suite *kmt_snapshot_suite(void);     /* snapshot, restore, damaged state */
Suite *kmt_property_suite(void);     /* randomized invariants */
Suite *kmt_placement_suite(void);    /* placements, demotion, promotion, segment layouts */
Suite *kmt_release_suite(void);      /* freed memory is released and reads zero */
Suite *kmt_handles_suite(void);      /* handle table, allocation cells */
Suite *kmt_policy_suite(void);       /* eviction policies: order, priorities, scans */
Suite *kmt_wddm2_va_suite(void);     /* GPU virtual addresses: reserve, map, update, free */
Suite *kmt_wddm2_submit_suite(void); /* SubmitCommand by VA, VA faults, GPU-side monitored fences */
Suite *kmt_wddm2_sync_suite(void);   /* paging queues, monitored fences from the CPU */
Suite *kmt_malformed_suite(void);    /* malformed command buffers, both fault modes */

#endif
