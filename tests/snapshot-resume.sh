#!/bin/sh
# Restore equivalence at the scenario level: running tests/snapshot/first.gsim
# (which ends with `snapshot half.elf`), then resume.gsim (`adapter from=half.elf`
# and second.gsim) must end in exactly the state, statistics and simulated time of
# full.gsim (both halves straight through): the same `show` table and counters,
# and the same summary line. Also: the snapshot is readable by readelf, and
# --dump-on-fault writes a snapshot on a GPU page fault.
GPUSIM=${GPUSIM:-./sim/gpusim}
srcdir=${srcdir:-.}
case $GPUSIM in /*) ;; *) GPUSIM=$(pwd)/${GPUSIM#./} ;; esac
srcdir=$(cd "$srcdir" && pwd) || exit 99
dir=$srcdir/tests/snapshot
scratch=$(mktemp -d "${TMPDIR:-/tmp}/gpusim-resume.XXXXXX") || exit 99
trap 'rm -rf "$scratch"' EXIT
cd "$scratch" || exit 99

fail() { echo "snapshot-resume: $*" >&2; exit 1; }

# The straight run writes half.elf on its way too; it is not used.
"$GPUSIM" run "$dir/full.gsim" >full.out 2>full.err || fail "full.gsim failed: $(cat full.err full.out)"
rm -f half.elf
"$GPUSIM" run "$dir/first.gsim" >first.out 2>first.err || fail "first.gsim failed: $(cat first.err)"
test -s half.elf || fail "first.gsim wrote no half.elf"
"$GPUSIM" run "$dir/resume.gsim" >resume.out 2>resume.err || fail "resume.gsim failed: $(cat resume.err resume.out)"

# From the end marker to the end: the show table, segment usage, counters.
sed -n '/^== end ==$/,/^time /p' full.out >full.end
sed -n '/^== end ==$/,/^time /p' resume.out >resume.end
grep -q '^time [0-9]* ns' full.end || fail "full.gsim printed no statistics"
test "$(wc -l <full.end)" -gt 20 || fail "the end table is too short: $(cat full.end)"
diff full.end resume.end >diff.out || fail "resumed run differs from the straight run: $(cat diff.out)"
# Evictions, bytes paged, simulated time of the summary line.
tail_of() { sed -n 's/^.*held, //p' "$1"; }
test -n "$(tail_of full.out)" || fail "no summary line"
test "$(tail_of full.out)" = "$(tail_of resume.out)" ||
	fail "summaries differ: $(tail_of full.out) / $(tail_of resume.out)"

# readelf sees one note segment and the memory as LOAD segments with physical
# addresses, and the notes' owner.
if command -v readelf >/dev/null 2>&1; then
	readelf -l -n half.elf >readelf.out 2>&1 || fail "readelf failed: $(cat readelf.out)"
	grep -q 'Core file' readelf.out || fail "readelf does not see a core file: $(head readelf.out)"
	test "$(grep -c '^ *LOAD' readelf.out)" -ge 2 || fail "readelf lists no LOAD segments"
	grep -q 'GPUSIM' readelf.out || fail "readelf lists no GPUSIM notes"
fi

# Issue 15: a snapshot whose first LOAD has p_offset 0 (its data the file's own ELF
# header, which a restore would put in the render ring) hung `adapter from=`. It is
# refused now, by the file's name, at once. The first LOAD's p_offset is at byte
# 64 + 56 + 8 (program header 1 of the ELF64 header's table at 64).
cp half.elf off0.elf
printf '\000\000\000\000\000\000\000\000' | dd of=off0.elf bs=1 seek=128 conv=notrunc 2>/dev/null
printf 'adapter from=off0.elf\necho restored\n' >off0.gsim
if command -v timeout >/dev/null 2>&1; then
	timeout 60 "$GPUSIM" run off0.gsim >off0.out 2>&1
else
	"$GPUSIM" run off0.gsim >off0.out 2>&1
fi
rc=$?
test $rc -eq 1 || fail "adapter from= a snapshot with a LOAD at offset 0: exit $rc, expected 1: $(cat off0.out)"
grep -q 'off0.gsim:1: adapter from=off0.elf: range 0 (program header 1): its data at file offset 0x0 .* overlaps the ELF header' off0.out ||
	fail "adapter from= a LOAD at offset 0 did not say so: $(cat off0.out)"
grep -q restored off0.out && fail "a snapshot with a LOAD at offset 0 was restored"

# --dump-on-fault: the stale-address bug faults the GPU; a snapshot appears.
mkdir dumps
"$GPUSIM" run --dump-on-fault dumps "$srcdir/tests/scenarios/page-fault-stale.gsim" >dump.out 2>&1
test -s dumps/page-fault-stale-fault-1.elf || fail "--dump-on-fault wrote nothing: $(cat dump.out)"
grep -q 'a GPU page fault: snapshot written to dumps/page-fault-stale-fault-1.elf' dump.out ||
	fail "--dump-on-fault did not say so: $(cat dump.out)"
# ... and on an injected device removal, into its own file.
"$GPUSIM" run --dump-on-fault dumps "$srcdir/tests/scenarios/device-removed.gsim" >removed.out 2>&1
grep -q 'the device was removed: snapshot written to dumps/device-removed-fault-1.elf' removed.out ||
	fail "--dump-on-fault missed the device removal: $(cat removed.out)"
test -s dumps/page-fault-stale-fault-1.elf || fail "the second dump overwrote the first"
"$GPUSIM" run --dump-on-fault /nonexistent "$dir/full.gsim" >/dev/null 2>&1
test $? -eq 2 || fail "--dump-on-fault accepted a missing directory"
exit 0
