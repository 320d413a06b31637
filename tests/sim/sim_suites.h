/*
 * The Check suites of sim/ (tests/sim/test_*.c); tests/check_sim.c runs them all.
 */
#ifndef TESTS_SIM_SUITES_H
#define TESTS_SIM_SUITES_H

#include <check.h>

Suite *sim_parse_suite(void);   /* the scenario parser, the static check, status names */
Suite *sim_run_suite(void);     /* the scenario runner */
Suite *sim_model_suite(void);   /* the viewer's residency model, recordings, the JSON dump */
Suite *sim_trace_suite(void);   /* trace files, the recorder, the runner's observers, Perfetto JSON */

Suite *sim_inspect_suite(void); /* gpusim inspect's report and JSON, register names, a snapshot in the viewer */
Suite *sim_inspect_cmd_suite(void); /* gpusim inspect and gpusim view run on snapshot files */
Suite *sim_lab_suite(void);     /* the policy lab: MIN by hand, traces' sequences, replays, gpusim lab */
Suite *sim_release_suite(void); /* freed memory is not in a snapshot */

#endif
