/*
 * `make check` entry point for hw/: runs every suite of tests/hw/ in one SRunner
 * (CK_FORK as Check defaults, or CK_FORK=no from the environment) and fails on any failure.
 */
#include <stdlib.h>

#include "tests/hw/hw_suites.h"

int main(void)
{
	SRunner *sr = srunner_create(hw_config_suite());
	int failed;

	srunner_add_suite(sr, hw_memory_suite());
	srunner_add_suite(sr, hw_gart_suite());
	srunner_add_suite(sr, hw_packets_suite());
	srunner_add_suite(sr, hw_faults_suite());
	srunner_add_suite(sr, hw_clock_suite());
	srunner_add_suite(sr, hw_irq_suite());
	srunner_add_suite(sr, hw_determinism_suite());
	srunner_add_suite(sr, hw_state_suite());
	srunner_add_suite(sr, hw_vmstate_suite());
	srunner_add_suite(sr, hw_release_suite());
	srunner_add_suite(sr, hw_mmu_suite());
	srunner_add_suite(sr, hw_framing_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
