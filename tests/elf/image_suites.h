/*
 * The Check suites of tests/check_image: the ELF image reader and relocation
 * (test_image.c), loading and submitting images on a simulated GPU
 * (test_load.c), and the scenario commands for them (test_scenario.c).
 */
#ifndef TESTS_ELF_IMAGE_SUITES_H
#define TESTS_ELF_IMAGE_SUITES_H

#include <check.h>

Suite *image_read_suite(void);
Suite *image_load_suite(void);
Suite *image_scenario_suite(void);

#endif
