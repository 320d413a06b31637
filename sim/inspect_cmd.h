/*
 * `gpusim inspect SNAPSHOT.elf [--json]`: what a snapshot file holds, for a
 * person or (--json) for a tool.
 */
#ifndef SIM_INSPECT_CMD_H
#define SIM_INSPECT_CMD_H

int sim_inspect_main(int argc, char **argv);

#endif
