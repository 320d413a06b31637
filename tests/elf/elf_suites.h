/*
 * The Check suites of the snapshot files (tests/elf/test_*.c); tests/check_elf.c
 * runs them all.
 */
#ifndef TESTS_ELF_SUITES_H
#define TESTS_ELF_SUITES_H

#include <check.h>

Suite *elf_roundtrip_suite(void); /* write and read back, the layout, readelf, size, writer refusals */
Suite *elf_badinput_suite(void);  /* every refusal of the reader, truncations, random damage */

#endif
