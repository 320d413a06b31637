/*
 * Where the device's state is inside a snapshot's resume state: for readers that
 * show it (gpusim inspect) without restoring anything. The bytes are those of
 * <gpusim/hwstate.h>, named field by field, so a reader needs no table.
 */
#include <config.h>

#include <errno.h>

#include <gpusim/snapshot.h>
#include "kmt/snapshot/format.h"
#include "kmt/snapshot/stream.h"

int gpusim_snapshot_device_state(const struct gpusim_snapshot *snap, const void **buf, size_t *len)
{
	if (!snap || !snap->state || !snap->state_size)
		return -ENOENT;
	struct kmt_rstream r = { .p = snap->state, .left = (size_t)snap->state_size };
	if (!kmt_rs_tag(&r, TAG_MAGIC, "header") || kmt_rs_u32(&r) != KMT_STATE_VERSION ||
	    !kmt_rs_tag(&r, TAG_HW, "device"))
		return -EINVAL;
	uint64_t n = kmt_rs_count(&r, 1);
	const void *p = kmt_rs_bytes(&r, (size_t)n);
	if (r.bad)
		return -EINVAL;
	*buf = p;
	*len = (size_t)n;
	return 0;
}
