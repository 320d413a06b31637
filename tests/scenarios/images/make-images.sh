#!/bin/sh
# Rebuild the ELF images the image-*.gsim scenarios load, with GNU binutils (as,
# ld) and printf/dd. The results are committed: the tests never need a toolchain.
# Run from this directory: sh make-images.sh
set -eu
LDFLAGS="-z max-page-size=0x10000 -z noexecstack -T image.ld"

# Good images: x86-64 (ELF64) and i386 (ELF32) toolchains; the device takes
# packets from any machine's toolchain.
as --64 -o fill.o fill.s
ld -m elf_x86_64 $LDFLAGS -o fill.elf fill.o
as --64 -o rowrite.o rowrite.s
ld -m elf_x86_64 $LDFLAGS -o rowrite.elf rowrite.o
as --32 -o write32.o write32.s
ld -m elf_i386 $LDFLAGS -o write32.elf write32.o
as --64 -o bigbss.o bigbss.s
ld -m elf_x86_64 $LDFLAGS -o bigbss.elf bigbss.o
# Command buffers a driver should never hand over (issue 15): linked like the good
# ones; the kernel or the device judges them.
for f in nop2000 shortfill opcode; do
	as --64 -o $f.o $f.s
	ld -m elf_x86_64 $LDFLAGS -o $f.elf $f.o
	rm -f $f.o
done
# An object file (ET_REL): assembled, never linked.
cp fill.o object.elf
rm -f fill.o rowrite.o write32.o bigbss.o

# Bad images, cut or patched from fill.elf (ELF64: program headers at 64, 56
# bytes each; p_vaddr at +16, p_memsz at +40).
head -c 200 fill.elf >truncated-headers.elf
head -c 768 fill.elf >truncated-segment.elf
cp fill.elf big-endian.elf
printf '\002' | dd of=big-endian.elf bs=1 seek=5 conv=notrunc 2>/dev/null
# Segment 1 moved to 0x10154 (still congruent to its offset), segment 0 grown
# to 0x100 bytes: both hold 0x10154 .. 0x101e7.
cp fill.elf overlap.elf
printf '\124\001\001\000\000\000\000\000' | dd of=overlap.elf bs=1 seek=136 conv=notrunc 2>/dev/null
printf '\000\001\000\000\000\000\000\000' | dd of=overlap.elf bs=1 seek=104 conv=notrunc 2>/dev/null
