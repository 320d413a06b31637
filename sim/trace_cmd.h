/*
 * `gpusim trace`: run a scenario and record its event stream to a trace file
 * (gpusim's own format, or Perfetto JSON); `gpusim trace --dump FILE` prints a
 * trace file one record per line.
 */
#ifndef SIM_TRACE_CMD_H
#define SIM_TRACE_CMD_H

int sim_trace_main(int argc, char **argv);

#endif
