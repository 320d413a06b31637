/*
 * `gpusim lab`: replay traces' allocation-use sequences through the memory manager
 * at chosen VRAM sizes under each eviction policy, against Belady's MIN and a
 * lower bound on the optimum (sim/lab/).
 */
#ifndef SIM_LAB_CMD_H
#define SIM_LAB_CMD_H

int sim_lab_main(int argc, char **argv);

#endif
