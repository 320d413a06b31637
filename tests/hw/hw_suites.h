/*
 * The Check suites of the simulated device (tests/hw/test_*.c), one per area;
 * tests/check_hw.c runs them all.
 */
#ifndef TESTS_HW_SUITES_H
#define TESTS_HW_SUITES_H

#include <check.h>

Suite *hw_config_suite(void);
Suite *hw_memory_suite(void);
Suite *hw_gart_suite(void);
Suite *hw_packets_suite(void);
Suite *hw_faults_suite(void);
Suite *hw_clock_suite(void);
Suite *hw_irq_suite(void);
Suite *hw_determinism_suite(void);
Suite *hw_state_suite(void);    /* state for snapshots */
Suite *hw_vmstate_suite(void);  /* the table of that state */
Suite *hw_release_suite(void);  /* freed memory goes back to the host */
Suite *hw_mmu_suite(void);      /* GPU virtual memory */
Suite *hw_framing_suite(void);  /* malformed packets: overrun, too long, wrap, opcode */

#endif
