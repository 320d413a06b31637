/*
 * Runs every Check suite of kmt/: the sub-allocator, the D3DKMT API semantics, handles,
 * residency, submission, events, virtualization, paging queues and monitored
 * fences, and the property test.
 */
#include <config.h>

#include <stdlib.h>

#include "tests/kmt/kmt_suites.h"

int main(void)
{
	SRunner *sr = srunner_create(vidmm_suballoc_suite());
	srunner_add_suite(sr, kmt_alloc_suite());
	srunner_add_suite(sr, kmt_handles_suite());
	srunner_add_suite(sr, kmt_residency_suite());
	srunner_add_suite(sr, kmt_submit_suite());
	srunner_add_suite(sr, kmt_events_suite());
	srunner_add_suite(sr, kmt_virt_suite());
	srunner_add_suite(sr, kmt_snapshot_suite());
	srunner_add_suite(sr, kmt_placement_suite());
	srunner_add_suite(sr, kmt_policy_suite());
	srunner_add_suite(sr, kmt_property_suite());
	srunner_add_suite(sr, kmt_release_suite());
	srunner_add_suite(sr, kmt_wddm2_va_suite());
	srunner_add_suite(sr, kmt_wddm2_sync_suite());
	srunner_add_suite(sr, kmt_wddm2_submit_suite());
	srunner_add_suite(sr, kmt_malformed_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
