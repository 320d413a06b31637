/*
 * `gpusim view`: show where every allocation lives, for a scenario, a trace or a
 * snapshot: in the SDL viewer, as a headless screenshot, or as JSON (--dump json,
 * no display).
 */
#ifndef SIM_VIEW_CMD_H
#define SIM_VIEW_CMD_H

int sim_view_main(int argc, char **argv);

#endif
