/*
 * `gpusim hw-demo`: drives the bare device the way a driver's first bring-up
 * code would, and tells what happened. Useful as a worked example of hw.h.
 */
#ifndef SIM_HWDEMO_H
#define SIM_HWDEMO_H

int sim_hwdemo_main(int argc, char **argv);

#endif
