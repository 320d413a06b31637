/*
 * Calls made from inside an event listener. Listeners run synchronously, on the
 * thread whose call emitted the event and with the process-wide lock held; a
 * listener that calls the API again would wait for that lock for ever. The
 * entry points take the lock through kmt_enter, which refuses such a call with
 * STATUS_POSSIBLE_DEADLOCK instead. The mark is per thread: another thread's call
 * made while a listener runs just waits for the lock, as any call does.
 */
#include <config.h>

#include "kmt/core.h"

/* A depth, not a flag: a listener's own listeners (none today) stay covered. */
static _Thread_local unsigned listener_depth;

bool kmt_in_listener(void)
{
	return listener_depth != 0;
}

void kmt_listener_call(gpusim_event_fn fn, void *opaque, const struct gpusim_event *ev)
{
	listener_depth++;
	fn(opaque, ev);
	listener_depth--;
}

NTSTATUS kmt_enter(void)
{
	if (listener_depth)
		return STATUS_POSSIBLE_DEADLOCK;
	kmt_lock();
	return STATUS_SUCCESS;
}
