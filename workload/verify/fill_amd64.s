#include "textflag.h"

// The payload of a format-3 sector is 58 words: word i is pad[i] XOR
// (k + (i+1)·φ), φ = 0x9e3779b97f4a7c15. The AVX2 routines below keep four
// consecutive keys in one YMM register and step it by 4·φ, so one load, one
// xor and one store (VMOVDQU, VPXOR, 32 bytes) cover four words: 14 steps
// and a 16-byte tail. No alignment is assumed (VMOVDQU), and only the
// 464 bytes at p and the 58 words at pad are touched.

// keyInit is [1φ, 2φ, 3φ, 4φ]; keyStep is 4φ.
DATA keyInit<>+0(SB)/8, $0x9e3779b97f4a7c15
DATA keyInit<>+8(SB)/8, $0x3c6ef372fe94f82a
DATA keyInit<>+16(SB)/8, $0xdaa66d2c7ddf743f
DATA keyInit<>+24(SB)/8, $0x78dde6e5fd29f054
GLOBL keyInit<>(SB), RODATA|NOPTR, $32
DATA keyStep<>+0(SB)/8, $0x78dde6e5fd29f054
GLOBL keyStep<>(SB), RODATA|NOPTR, $8

// func fillAVX2(p *[payloadLen]byte, pad *[payloadWords]uint64, k uint64)
TEXT ·fillAVX2(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), DI
	MOVQ pad+8(FP), SI
	VPBROADCASTQ k+16(FP), Y0
	VPADDQ keyInit<>(SB), Y0, Y0   // Y0 = keys of words 0..3
	VPBROADCASTQ keyStep<>(SB), Y1 // Y1 = 4φ in each lane
	VPADDQ Y1, Y0, Y4              // Y4 = keys of words 4..7
	VPADDQ Y1, Y1, Y1              // 8φ: two registers, eight words a step
	MOVQ $7, CX

fill8:
	VPXOR (SI), Y0, Y2
	VPXOR 32(SI), Y4, Y3
	VMOVDQU Y2, (DI)
	VMOVDQU Y3, 32(DI)
	VPADDQ Y1, Y0, Y0
	VPADDQ Y1, Y4, Y4
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ fill8

	// Words 56 and 57: the low half of Y0.
	VPXOR (SI), X0, X2
	VMOVDQU X2, (DI)
	VZEROUPPER
	RET

// func sameAVX2(p *[payloadLen]byte, pad *[payloadWords]uint64, k uint64) bool
// reports whether p holds exactly what fillAVX2(p, pad, k) writes.
TEXT ·sameAVX2(SB), NOSPLIT, $0-25
	MOVQ p+0(FP), DI
	MOVQ pad+8(FP), SI
	VPBROADCASTQ k+16(FP), Y0
	VPADDQ keyInit<>(SB), Y0, Y0
	VPBROADCASTQ keyStep<>(SB), Y1
	VPADDQ Y1, Y0, Y4
	VPADDQ Y1, Y1, Y1
	VPXOR Y5, Y5, Y5 // Y5 ORs every difference
	MOVQ $7, CX

same8:
	VPXOR (SI), Y0, Y2
	VPXOR 32(SI), Y4, Y3
	VPXOR (DI), Y2, Y2
	VPXOR 32(DI), Y3, Y3
	VPOR Y2, Y5, Y5
	VPOR Y3, Y5, Y5
	VPADDQ Y1, Y0, Y0
	VPADDQ Y1, Y4, Y4
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ same8

	VPXOR (SI), X0, X2
	VPXOR (DI), X2, X2
	VPOR Y2, Y5, Y5
	VPTEST Y5, Y5
	SETEQ ret+24(FP)
	VZEROUPPER
	RET
