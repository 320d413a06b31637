#!/bin/sh
# GPUSIM_TRACE end to end: run tests/trace_client (a program that uses only the
# D3DKMT API) with GPUSIM_TRACE set, and check with `gpusim trace --dump` that the
# file holds its adapter and its allocations' creation, eviction, page-in and
# destruction, in that order; then that damaged copies are clear errors. Part of
# `make check` (exit 0 pass, 1 fail, 99 hard error).
#
# Environment: GPUSIM, the gpusim program (default ./sim/gpusim); the client is
# tests/trace_client of the same build tree.

GPUSIM=${GPUSIM:-./sim/gpusim}
client=$(dirname "$GPUSIM")/../tests/trace_client

if test ! -x "$GPUSIM"; then
	echo "trace-client: $GPUSIM is not an executable (set GPUSIM)" >&2
	exit 99
fi
if test ! -x "$client"; then
	echo "trace-client: $client is not built (make tests/trace_client)" >&2
	exit 99
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gpusim-trace-client.XXXXXX" 2>/dev/null) ||
	{ tmp=${TMPDIR:-/tmp}/gpusim-trace-client.$$ && mkdir "$tmp"; } || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

failed=0
fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}
pass() {
	echo "PASS: $*"
}

# has PATTERN: the dump has a line matching the basic regular expression.
has() {
	grep -e "$1" "$tmp/dump" >/dev/null
}

# line_of PATTERN: the number of the first dump line matching it (empty if none).
line_of() {
	grep -n -e "$1" "$tmp/dump" | sed -e 's/:.*//' -e 1q
}

# ---- record ------------------------------------------------------------------------
if ! GPUSIM_TRACE=$tmp/client.trace GPUSIM_CONFIG=vram=16M,visible=4M,gart=8M \
	"$client" >"$tmp/client.out" 2>&1; then
	fail "the client failed with GPUSIM_TRACE set"
	cat "$tmp/client.out"
	exit 1
fi
if test ! -s "$tmp/client.trace"; then
	fail "GPUSIM_TRACE=FILE left no trace"
	exit 1
fi
pass "the client ran and left a trace"

if ! "$GPUSIM" trace --dump "$tmp/client.trace" >"$tmp/dump" 2>"$tmp/err"; then
	fail "gpusim trace --dump failed on the client's trace"
	cat "$tmp/err"
	exit 1
fi

# ---- what it holds -------------------------------------------------------------------
if sed -n 1p "$tmp/dump" | grep -e '^adapter vram=16777216 visible=4194304 gart=8388608 ' >/dev/null; then
	pass "the adapter record is the default adapter made from GPUSIM_CONFIG"
else
	fail "first line is not the adapter from GPUSIM_CONFIG: $(sed -n 1p "$tmp/dump")"
fi

H='0x[0-9a-f]\{8\}'
create_tex="^event create handle=$H device=$H seg=visible from=none offset=0x[0-9a-f]* size=1048576 cause=create "
create_buf="^event create handle=$H device=$H seg=invisible from=none offset=0x[0-9a-f]* size=2097152 cause=create "
create_stg="^event create handle=$H device=$H seg=gart from=none offset=0x[0-9a-f]* size=524288 cause=create "
for p in "$create_tex" "$create_buf" "$create_stg"; do
	if has "$p"; then
		pass "create: $(grep -e "$p" "$tmp/dump" | sed -e 's/ offset=.*//' -e 1q)"
	else
		fail "no line matching: $p"
	fi
done

# The texture's handle, then its journey: locked, evicted by Evict (its bytes copied
# out), paged back in by MakeResident, destroyed.
tex=$(grep -e "$create_tex" "$tmp/dump" | sed -e 's/^event create handle=\(0x[0-9a-f]*\) .*/\1/' -e 1q)
lock="^event lock handle=$tex "
evict="^event evict handle=$tex device=$H seg=sys from=visible .* size=1048576 cause=evict value=1048576 "
pagein="^event page-in handle=$tex device=$H seg=visible from=sys .* cause=make-resident value=1048576 "
destroy="^event destroy handle=$tex device=$H seg=none from=visible .* cause=destroy "
l_create=$(line_of "$create_tex")
prev=$l_create
for step in lock evict pagein destroy; do
	eval "p=\$$step"
	l=$(line_of "$p")
	if test -z "$l"; then
		fail "$step: no line matching: $p"
	elif test -z "$prev" || test "$l" -le "$prev"; then
		fail "$step: line $l comes before the step before it (line $prev)"
	else
		pass "$step of $tex at line $l"
	fi
	prev=$l
done

n=$(grep -c -e '^event destroy ' "$tmp/dump")
if test "$n" -eq 3; then
	pass "three allocations destroyed"
else
	fail "expected 3 destroy events, found $n"
fi
if has '^event budget .* cause=make-resident '; then
	pass "MakeResident's budget events"
else
	fail "no budget event from MakeResident"
fi

# ---- damaged copies -----------------------------------------------------------------
size=$(wc -c <"$tmp/client.trace")
head -c $((size - 10)) "$tmp/client.trace" >"$tmp/cut.trace"
"$GPUSIM" trace --dump "$tmp/cut.trace" >"$tmp/cut.out" 2>"$tmp/cut.err"
code=$?
if test "$code" -eq 2 && grep -e "cut.trace: truncated at byte [0-9]* (record of [0-9]* bytes, [0-9]* present)" \
	"$tmp/cut.err" >/dev/null; then
	pass "a truncated copy: $(cat "$tmp/cut.err")"
else
	fail "a truncated copy gave exit $code and: $(cat "$tmp/cut.err")"
fi
# The records before the cut are still printed.
if test "$(wc -l <"$tmp/cut.out")" -eq "$(($(wc -l <"$tmp/dump") - 1))"; then
	pass "the records before the cut are printed"
else
	fail "expected every record but the last before the cut"
fi

# One bit flipped in the first event's payload (header 16 + adapter record 120 +
# record header 8 = byte 144).
cp "$tmp/client.trace" "$tmp/bad.trace"
printf '\377' | dd of="$tmp/bad.trace" bs=1 seek=146 conv=notrunc 2>/dev/null
"$GPUSIM" trace --dump "$tmp/bad.trace" >/dev/null 2>"$tmp/bad.err"
code=$?
if test "$code" -eq 2 && grep -e "bad.trace: corrupt record at byte 136 (CRC mismatch)" "$tmp/bad.err" >/dev/null; then
	pass "a corrupt copy: $(cat "$tmp/bad.err")"
else
	fail "a corrupt copy gave exit $code and: $(cat "$tmp/bad.err")"
fi

echo 'not a trace' >"$tmp/text.trace"
"$GPUSIM" trace --dump "$tmp/text.trace" >/dev/null 2>"$tmp/text.err"
code=$?
if test "$code" -eq 2 && grep -e "text.trace: not a gpusim trace (bad magic)" "$tmp/text.err" >/dev/null; then
	pass "not a trace: $(cat "$tmp/text.err")"
else
	fail "not a trace gave exit $code and: $(cat "$tmp/text.err")"
fi

# ---- without the variable, or with a file that cannot be made -------------------------
(unset GPUSIM_TRACE; cd "$tmp" && "$client") >/dev/null 2>&1 || fail "the client failed without GPUSIM_TRACE"
if GPUSIM_TRACE=$tmp/no/such/dir/x.trace "$client" >/dev/null 2>&1; then
	pass "a trace file that cannot be made leaves the client running"
else
	fail "the client failed when its trace file could not be made"
fi

test "$failed" -eq 0 || exit 1
exit 0
