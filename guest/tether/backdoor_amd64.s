#include "textflag.h"

// func backdoorTrap(r *backdoorRegisters)
// Loads the six registers, executes `in eax, dx` (the hypervisor traps it and rewrites them)
// and stores them back. Only the low-bandwidth port is used, so no string I/O is needed.
TEXT ·backdoorTrap(SB), NOSPLIT, $0-8
	MOVQ r+0(FP), R8
	MOVQ 0(R8), AX
	MOVQ 8(R8), BX
	MOVQ 16(R8), CX
	MOVQ 24(R8), DX
	MOVQ 32(R8), SI
	MOVQ 40(R8), DI
	INL
	MOVQ AX, 0(R8)
	MOVQ BX, 8(R8)
	MOVQ CX, 16(R8)
	MOVQ DX, 24(R8)
	MOVQ SI, 32(R8)
	MOVQ DI, 40(R8)
	RET
