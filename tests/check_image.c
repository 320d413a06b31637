/*
 * Runs the Check suites of ELF images (sim/elf/image*.c): the reader and
 * relocation, loading and submitting on a simulated GPU, and the scenario
 * commands image and submit-image.
 */
#include <config.h>

#include <stdlib.h>

#include "tests/elf/image_suites.h"

int main(void)
{
	SRunner *sr = srunner_create(image_read_suite());
	srunner_add_suite(sr, image_load_suite());
	srunner_add_suite(sr, image_scenario_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
