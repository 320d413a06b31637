/*
 * A one-to-one renaming of handles, built as pairs are met: two runs of the same
 * work in one process give the same events under other handles (a destroyed
 * handle stays dead in the process, across gpusim_reset too), and the tests that
 * compare such runs compare them modulo this renaming.
 */
#ifndef GPUSIM_TESTS_RENAMING_H
#define GPUSIM_TESTS_RENAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct renaming {
	uint32_t from[4096], to[4096];
	size_t n;
};

/* Whether b can be a's new name (0 only for 0), recording the pair. */
static inline bool renamed(struct renaming *rn, uint32_t a, uint32_t b)
{
	if (!a || !b)
		return a == b;
	for (size_t k = 0; k < rn->n; k++)
		if (rn->from[k] == a || rn->to[k] == b)
			return rn->from[k] == a && rn->to[k] == b;
	if (rn->n == sizeof(rn->from) / sizeof(rn->from[0]))
		return false;
	rn->from[rn->n] = a;
	rn->to[rn->n++] = b;
	return true;
}

#endif
