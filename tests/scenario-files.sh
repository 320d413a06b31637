#!/bin/sh
# What gpusim run, trace and view read as a scenario: only regular files, refused
# by their size before a byte is read, includes only under the top-level
# scenario's directory unless --allow-include-outside; standard input with `-`
# (or /dev/stdin). A FIFO must be refused at once, never waited on: every run here
# is under `timeout`, and a timeout is a failure.
GPUSIM=${GPUSIM:-./sim/gpusim}
case $GPUSIM in /*) ;; *) GPUSIM=$(pwd)/${GPUSIM#./} ;; esac
test -x "$GPUSIM" || { echo "scenario-files: $GPUSIM is not an executable" >&2; exit 99; }
scratch=$(mktemp -d "${TMPDIR:-/tmp}/gpusim-files.XXXXXX") || exit 99
trap 'rm -rf "$scratch"' EXIT
cd "$scratch" || exit 99

fail() { echo "scenario-files: $*" >&2; exit 1; }

if command -v timeout >/dev/null 2>&1; then
	bounded() { timeout 20 "$@"; }
else
	bounded() { "$@"; }
fi

# expect CODE TEXT CMD...: CMD exits with CODE and TEXT is in its stderr (any
# stderr when TEXT is empty).
expect() {
	want=$1 text=$2
	shift 2
	bounded "$@" </dev/null >out 2>err
	code=$?
	test "$code" -ne 124 || fail "$* hung (killed after 20 s)"
	test "$code" -eq "$want" || fail "$*: exit $code, expected $want: $(cat err out)"
	if test -n "$text"; then
		grep -F -e "$text" err >/dev/null || fail "$*: stderr lacks '$text': $(cat err)"
	fi
}

mkdir -p top/inside outside
echo 'device d1' >outside/secret.gsim
echo 'root:x:0:0:SECRETWORD:/root:/bin/sh' >outside/passwd
echo 'idle' >top/inside/part.gsim
mkfifo fifo.gsim top/pipe.gsim || exit 99
ln -s ../outside/secret.gsim top/link.gsim || exit 99
ln -s inside/part.gsim top/alias.gsim || exit 99
: >big.gsim
# Sparse: 257 MiB of size and no blocks; reading it would take a while.
truncate -s 257M big.gsim 2>/dev/null ||
	dd if=/dev/null of=big.gsim bs=1 seek=269484032 2>/dev/null || exit 99
test "$(wc -c <big.gsim)" -eq 269484032 || exit 99

cat >top/up.gsim <<'X'
adapter vram=16M visible=4M gart=8M
include ../outside/secret.gsim
alloc a size=4K device=d1
X
cat >top/abs.gsim <<X
adapter vram=16M visible=4M gart=8M
include $scratch/outside/secret.gsim
alloc a size=4K device=d1
X
printf 'adapter vram=16M visible=4M gart=8M\ninclude link.gsim\nalloc a size=4K device=d1\n' >top/sym.gsim
printf 'idle\ninclude alias.gsim\n' >top/alias-ok.gsim
printf 'idle\ninclude pipe.gsim\n' >top/fifo-include.gsim
printf 'idle\ninclude ../outside/passwd\n' >top/passwd.gsim

for cmd in "run" "trace -o t.trace" "view --dump json"; do
	# shellcheck disable=SC2086 # the words of $cmd are meant to split
	set -- $cmd
	expect 2 "fifo.gsim:0:0: error: cannot open 'fifo.gsim': not a regular file" "$GPUSIM" "$@" fifo.gsim
	expect 2 "cannot open '/dev/zero': not a regular file" "$GPUSIM" "$@" /dev/zero
	expect 2 "big.gsim:0:0: error: cannot open 'big.gsim': file larger than 256 MiB" "$GPUSIM" "$@" big.gsim
	expect 2 "top/fifo-include.gsim:2:9: error: cannot open 'top/pipe.gsim': not a regular file" \
		"$GPUSIM" "$@" top/fifo-include.gsim
	expect 2 "top/up.gsim:2:9: error: cannot include '../outside/secret.gsim': it resolves to '$scratch/outside/secret.gsim', outside the scenario's directory '$scratch/top' (--allow-include-outside permits it)" \
		"$GPUSIM" "$@" top/up.gsim
	expect 2 "top/abs.gsim:2:9: error: cannot include '$scratch/outside/secret.gsim'" "$GPUSIM" "$@" top/abs.gsim
	expect 2 "top/sym.gsim:2:9: error: cannot include 'link.gsim': it resolves to '$scratch/outside/secret.gsim', outside" \
		"$GPUSIM" "$@" top/sym.gsim
	expect 0 "" "$GPUSIM" "$@" top/alias-ok.gsim
	for f in top/up.gsim top/abs.gsim top/sym.gsim; do
		expect 0 "" "$GPUSIM" "$@" --allow-include-outside "$f"
	done
	# Allowed, an include that is not a scenario shows none of its text.
	expect 2 "outside/passwd:1:1: error: expected a command" "$GPUSIM" "$@" --allow-include-outside top/passwd.gsim
	! grep -e SECRET -e root err >/dev/null || fail "$cmd: the included file's text was shown: $(cat err)"
	# Standard input.
	printf 'idle\necho from stdin\n' | bounded "$GPUSIM" "$@" - >out 2>err ||
		fail "$cmd -: $(cat err out)"
	printf 'idle\n' | bounded "$GPUSIM" "$@" /dev/stdin >out 2>err ||
		fail "$cmd /dev/stdin: $(cat err out)"
done
printf 'idle\necho from stdin\n' | bounded "$GPUSIM" run - >out 2>err || fail "run -: $(cat err)"
grep -q '^from stdin$' out || fail "run - did not run standard input's scenario: $(cat out)"
# The files a scenario names for the runner: a snapshot to start from and an ELF
# image are refused as FIFOs too, not waited on.
mkfifo snap.elf img.elf || exit 99
printf 'adapter from=snap.elf\nidle\n' >from-fifo.gsim
expect 1 "adapter from=snap.elf: not a regular file" "$GPUSIM" run from-fifo.gsim
expect 2 "not a regular file" "$GPUSIM" inspect snap.elf
printf 'adapter vram=16M visible=4M gart=8M\ndevice d1\nimage im img.elf device=d1\n' >image-fifo.gsim
expect 2 "not a regular file" "$GPUSIM" run image-fifo.gsim
expect 2 "standard input ('-') can be read once" "$GPUSIM" run - -
exit 0
