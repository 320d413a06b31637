/*
 * Runs every Check suite of the ELF files of sim/elf/: snapshot files written and
 * read back, and the reader's refusals.
 */
#include <config.h>

#include <stdlib.h>

#include "tests/elf/elf_suites.h"

int main(void)
{
	SRunner *sr = srunner_create(elf_roundtrip_suite());
	srunner_add_suite(sr, elf_badinput_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
