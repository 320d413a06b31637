#!/bin/sh
# Run every scenario of tests/scenarios/ and check that it gives the outcome
# its marker comment states; then run every scenario of scripts/ and require
# that it passes. Part of `make check` (Automake's test protocol: exit 0 when
# everything matched, 1 when something did not, 77 to skip, 99 hard error).
#
# Environment: GPUSIM, the gpusim program (default ./sim/gpusim), and srcdir,
# the top source directory (default .). Both may be relative to the directory
# this is started from; scenarios run from a scratch directory, so whatever
# they write (snapshots) lands there and never in the source tree.
#
# Markers, on the first comment lines of a scenario:
#   # expect: pass                 exit code 0
#   # expect: fail                 exit code 1, and TEXT in stderr
#   # message: TEXT
#   # expect: error                exit code 2 (syntax or static error), and
#   # message: TEXT                TEXT in stderr
# Files that are not *.gsim (such as the helpers under tests/scenarios/inc/)
# are not run.

GPUSIM=${GPUSIM:-./sim/gpusim}
srcdir=${srcdir:-.}

# Absolute paths: the scenarios run from a scratch directory.
case $GPUSIM in
/*) ;;
*) GPUSIM=$(pwd)/${GPUSIM#./} ;;
esac
srcdir=$(cd "$srcdir" && pwd) || {
	echo "run-scenarios: source directory not found" >&2
	exit 99
}

if test ! -x "$GPUSIM"; then
	echo "run-scenarios: $GPUSIM is not an executable (set GPUSIM)" >&2
	exit 99
fi
if test ! -d "$srcdir/tests/scenarios"; then
	echo "run-scenarios: no tests/scenarios under $srcdir (set srcdir)" >&2
	exit 99
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/gpusim-scenarios.XXXXXX" 2>/dev/null) ||
	{ scratch=${TMPDIR:-/tmp}/gpusim-scenarios.$$ && mkdir "$scratch"; } || exit 99
trap 'rm -rf "$scratch"' EXIT
trap 'exit 1' HUP INT TERM

total=0
failed=0

# The value of marker KEY ("expect", "message") among the leading comment lines
# of FILE: the text after "# KEY:", blanks trimmed; empty when absent.
marker() {
	sed -n -e '/^[ 	]*#/!q' \
		-e "s/^[ 	]*#[ 	]*$1:[ 	]*//p" "$2" |
		sed -e 's/[ 	]*$//' -e 1q
}

# report STATUS NAME [WHY]: one line per scenario.
report() {
	if test -n "$3"; then
		echo "$1: $2 ($3)"
	else
		echo "$1: $2"
	fi
}

# Show what gpusim said, indented, when a scenario did not match.
show_output() {
	if test -s "$scratch/stderr"; then
		echo "    --- stderr:"
		sed -e 's/^/    /' -e 40q "$scratch/stderr"
	fi
	if test -s "$scratch/stdout"; then
		echo "    --- stdout (last lines):"
		tail -n 15 "$scratch/stdout" | sed -e 's/^/    /'
	fi
}

# run_one FILE EXPECT MESSAGE NAME
run_one() {
	file=$1
	expect=$2
	message=$3
	name=$4
	total=$((total + 1))
	rm -rf "$scratch/work"
	mkdir "$scratch/work" || exit 99
	(cd "$scratch/work" && "$GPUSIM" run "$file") >"$scratch/stdout" 2>"$scratch/stderr"
	code=$?
	why=
	case $expect in
	pass) want=0 ;;
	fail) want=1 ;;
	error) want=2 ;;
	*)
		want=
		why="no valid '# expect: pass|fail|error' marker"
		;;
	esac
	if test -z "$why" && test "$code" -ne "$want"; then
		why="expected exit code $want ($expect), got $code"
	fi
	if test -z "$why" && test "$expect" != pass; then
		if test -z "$message"; then
			why="'# expect: $expect' needs a '# message: TEXT' marker"
		elif ! grep -F -e "$message" "$scratch/stderr" >/dev/null 2>&1; then
			why="stderr does not contain: $message"
		fi
	fi
	if test -n "$why"; then
		failed=$((failed + 1))
		report FAIL "$name" "$why"
		show_output
	else
		report PASS "$name" "$expect"
	fi
}

echo "gpusim: $GPUSIM"
for file in "$srcdir"/tests/scenarios/*.gsim; do
	test -f "$file" || continue
	run_one "$file" "$(marker expect "$file")" "$(marker message "$file")" \
		"tests/scenarios/${file##*/}"
done

# The scenarios for people must stay true: each one passes.
for file in "$srcdir"/scripts/*.gsim; do
	test -f "$file" || continue
	run_one "$file" pass "" "scripts/${file##*/}"
done

if test "$total" -eq 0; then
	echo "run-scenarios: no scenarios found under $srcdir" >&2
	exit 99
fi
echo "$((total - failed)) of $total scenarios gave their expected outcome"
test "$failed" -eq 0 || exit 1
exit 0
