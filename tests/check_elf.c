/*
 * Runs every Check suite of the ELF files of sim/elf/: snapshot files written and
 * read back, the reader's refusals, and real adapters through a file. `check_elf --write-seeds DIR` writes the
 * snapshot fuzzer's seed corpus instead (make snapshot-seeds).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/elf/elf_suites.h"
#include "tests/elf/seeds.h"

static int write_seeds(const char *dir)
{
	char err[512];
	if (seeds_write(dir, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return EXIT_FAILURE;
	}
	for (int i = 0; seeds_names[i]; i++)
		printf("%s/%s\n", dir, seeds_names[i]);
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--write-seeds"))
		return write_seeds(argv[2]);
	SRunner *sr = srunner_create(elf_roundtrip_suite());
	srunner_add_suite(sr, elf_badinput_suite());
	srunner_add_suite(sr, elf_adapter_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
