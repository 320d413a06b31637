/*
 * `gpusim run`: parse scenarios, run them headless on fresh simulated adapters and
 * print one summary line each. Exit 0 when every expectation held, 1 when one
 * failed, 2 on a usage or syntax error.
 */
#ifndef SIM_RUN_CMD_H
#define SIM_RUN_CMD_H

int sim_run_main(int argc, char **argv);

#endif
