/*
 * NTSTATUS names for `expect status` and for messages: every STATUS_* value of
 * <gpusim/d3dkmthk.h>, both ways. One table, so the two directions cannot disagree.
 */
#include <config.h>

#include <string.h>

#include "sim/scenario/scenario.h"

#define S(name) { #name, name }

static const struct {
	const char *name;
	NTSTATUS value;
} statuses[] = {
	S(STATUS_SUCCESS),
	S(STATUS_TIMEOUT),
	S(STATUS_PENDING),
	S(STATUS_UNSUCCESSFUL),
	S(STATUS_NOT_IMPLEMENTED),
	S(STATUS_INVALID_HANDLE),
	S(STATUS_INVALID_PARAMETER),
	S(STATUS_NO_MEMORY),
	S(STATUS_ACCESS_DENIED),
	S(STATUS_BUFFER_TOO_SMALL),
	S(STATUS_OBJECT_TYPE_MISMATCH),
	S(STATUS_NOT_SUPPORTED),
	S(STATUS_INVALID_DEVICE_STATE),
	S(STATUS_DEVICE_REMOVED),
	S(STATUS_POSSIBLE_DEADLOCK),  /* a CPU wait on a monitored fence that nothing can meet */
	/* Before its GRAPHICS_ spelling: scn_status_name takes the first match, and
	 * DESIGN.md and the D3DKMT documentation use this name. */
	S(STATUS_NO_VIDEO_MEMORY),
	S(STATUS_GRAPHICS_NO_VIDEO_MEMORY),
	S(STATUS_GRAPHICS_CANT_LOCK_MEMORY),
	S(STATUS_GRAPHICS_ALLOCATION_BUSY),
	S(STATUS_GRAPHICS_TRY_AGAIN_LATER),
	S(STATUS_GRAPHICS_ALLOCATION_INVALID),
	S(STATUS_GRAPHICS_CANT_EVICT_PINNED_ALLOCATION),
	S(STATUS_GRAPHICS_INVALID_ALLOCATION_USAGE),
	S(STATUS_GRAPHICS_CANT_RENDER_LOCKED_ALLOCATION),
	S(STATUS_GRAPHICS_ALLOCATION_CLOSED),
	S(STATUS_GRAPHICS_INVALID_ALLOCATION_INSTANCE),
	S(STATUS_GRAPHICS_INVALID_ALLOCATION_HANDLE),
	S(STATUS_GRAPHICS_WRONG_ALLOCATION_DEVICE),
	S(STATUS_GRAPHICS_ALLOCATION_CONTENT_LOST),
};

bool scn_status_from_name(const char *name, NTSTATUS *out)
{
	if (!name)
		return false;
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
		if (!strcmp(statuses[i].name, name)) {
			if (out)
				*out = statuses[i].value;
			return true;
		}
	}
	return false;
}

const char *scn_status_name(NTSTATUS st)
{
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
		if (statuses[i].value == st)
			return statuses[i].name;
	/* A static "STATUS_0x..." buffer would not be thread-safe. */
	return "unknown status";
}
