/*
 * The device-state section of `gpusim inspect`: every field of the device's
 * state in a snapshot, by the name hw/vmstate.c gives it, read from the
 * self-describing bytes, so a field added to the table shows up here unasked.
 */
#ifndef SIM_INSPECT_DEVSTATE_H
#define SIM_INSPECT_DEVSTATE_H

#include <stdio.h>

#include <gpusim/snapshot.h>

/* "device state (N fields, version V)" and a line per field (arrays: their
 * length and first values), or why there is none. */
void inspect_devstate_text(FILE *f, const struct gpusim_snapshot *s);
/* The "device_state" key of the JSON document, with its trailing comma. */
void inspect_devstate_json(FILE *f, const struct gpusim_snapshot *s);

#endif
