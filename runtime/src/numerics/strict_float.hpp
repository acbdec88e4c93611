// Include (before any function definition) in a .cpp whose float results must be the same bits on every
// target. GCC in C++ mode defaults to -ffp-contract=fast and fuses a*b+c into one FMA on aarch64/armv7 (one
// rounding) but not on baseline x86-64 (two roundings); clang fuses within an expression. Turning contraction
// off here keeps the documented "one rounding per operation" semantics that the scalar kernels and future
// NEON paths share.
#pragma once

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
