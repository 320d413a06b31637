/*
 * Runs every Check suite of sim/: the scenario parser and static check, and the
 * scenario runner.
 */
#include <config.h>

#include <stdlib.h>

#include "tests/sim/sim_suites.h"

int main(void)
{
	SRunner *sr = srunner_create(sim_parse_suite());
	srunner_add_suite(sr, sim_run_suite());
	srunner_add_suite(sr, sim_model_suite());
	srunner_add_suite(sr, sim_trace_suite());
	srunner_add_suite(sr, sim_inspect_suite());
	srunner_add_suite(sr, sim_inspect_cmd_suite());
	srunner_add_suite(sr, sim_lab_suite());
	srunner_add_suite(sr, sim_release_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
