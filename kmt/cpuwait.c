/*
 * CPU waits on monitored fences. The model is synchronous: a blocking wait runs
 * simulated time, one device event at a time, until its condition holds, and
 * says so when nothing left to run can make it hold (another thread cannot
 * signal while the caller holds the API lock). An asynchronous wait returns at
 * once and signals its eventfd (Linux dxgkrnl's hAsyncEvent) when the condition
 * holds: at once, or in whichever later call runs the device far enough.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kmt/core.h"

struct kmt_cpu_wait {
	int fd;                  /* our own descriptor of the caller's eventfd */
	bool any;
	uint32_t n;
	struct kmt_sync *objs[D3DDDI_MAX_OBJECT_WAITED_ON];
	uint64_t values[D3DDDI_MAX_OBJECT_WAITED_ON];
	struct kmt_cpu_wait *next;
};

bool kmt_cpu_wait_met(struct kmt_sync *const *objs, const uint64_t *values, uint32_t n, bool any)
{
	for (uint32_t i = 0; i < n; i++) {
		bool reached = kmt_sync_value(objs[i]) >= values[i];
		if (reached && any)
			return true;
		if (!reached && !any)
			return false;
	}
	return !any;
}

static void emit_wait(struct kmt_adapter *ad, struct kmt_sync *const *objs, const uint64_t *values,
		      uint32_t n, bool async)
{
	if (!ad->nlisteners)
		return;
	struct gpusim_event ev = {
		.type = GPUSIM_EV_WAIT, .time_ns = hw_clock_now(ad->hw), .device = objs[0]->dev->handle,
		.allocation = objs[0]->handle, .value = values[0], .size = n, .offset = async,
	};
	kmt_emit(ad, &ev);
}

NTSTATUS kmt_cpu_wait_block(struct kmt_adapter *ad, struct kmt_sync *const *objs, const uint64_t *values,
			    uint32_t n, bool any, bool report)
{
	kmt_adapter_poll(ad);
	while (!kmt_cpu_wait_met(objs, values, n, any)) {
		int rc = ad->mm->ddi->step(ad->mm->drv);
		kmt_adapter_poll(ad);
		if (rc == -ENODEV || ad->removed || hw_device_removed(ad->hw))
			return STATUS_DEVICE_REMOVED;
		if (rc) {
			/* The last step may have been the one that met it. */
			if (kmt_cpu_wait_met(objs, values, n, any))
				break;
			return STATUS_POSSIBLE_DEADLOCK;
		}
	}
	if (report)
		emit_wait(ad, objs, values, n, false);
	return STATUS_SUCCESS;
}

static void fire(int fd)
{
	uint64_t one = 1;
	/* An eventfd takes 8 bytes; a full counter (2^64 - 2) already says "signalled". */
	ssize_t r = write(fd, &one, sizeof(one));
	(void)r;
}

int kmt_cpu_wait_async(struct kmt_adapter *ad, struct kmt_sync *const *objs, const uint64_t *values,
		       uint32_t n, bool any, int fd)
{
	if (kmt_cpu_wait_met(objs, values, n, any)) {
		fire(fd);
		emit_wait(ad, objs, values, n, true);
		return 0;
	}
	struct kmt_cpu_wait *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	/* The eventfd, not its number: Linux's dxgkrnl takes a reference to it, so
	 * a caller may close its descriptor with the wait pending (given up after a
	 * timeout), and the number may name another file by the time the wait is
	 * met, an eventfd of another waiter or a memfd of simulated memory. */
	w->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (w->fd < 0) {
		free(w);
		return -ENOMEM;
	}
	w->any = any;
	w->n = n;
	memcpy(w->objs, objs, n * sizeof(*objs));
	memcpy(w->values, values, n * sizeof(*values));
	/* Appended: waits met by the same poll fire in the order they were made. */
	struct kmt_cpu_wait **pp = &ad->cpu_waits;
	while (*pp)
		pp = &(*pp)->next;
	*pp = w;
	return 0;
}

void kmt_cpu_wait_poll(struct kmt_adapter *ad)
{
	for (struct kmt_cpu_wait **pp = &ad->cpu_waits; *pp;) {
		struct kmt_cpu_wait *w = *pp;
		if (!kmt_cpu_wait_met(w->objs, w->values, w->n, w->any)) {
			pp = &w->next;
			continue;
		}
		fire(w->fd);
		close(w->fd);
		emit_wait(ad, w->objs, w->values, w->n, true);
		*pp = w->next;
		free(w);
	}
}

void kmt_cpu_wait_forget(struct kmt_adapter *ad, const struct kmt_sync *s)
{
	for (struct kmt_cpu_wait **pp = &ad->cpu_waits; *pp;) {
		struct kmt_cpu_wait *w = *pp;
		bool names = false;
		for (uint32_t i = 0; i < w->n && !names; i++)
			names = w->objs[i] == s;
		if (!names) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		close(w->fd);
		free(w);
	}
}
