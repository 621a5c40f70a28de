// 16 × f32 vectors written with GCC/Clang vector extensions (one AVX-512 register, two AVX2 ones,
// four SSE ones: whatever the build targets) and the few helpers the CPU row kernels share.
// Files that use them are compiled with -ffp-contract=fast (src/kernels/CMakeLists.txt) so that
// a·b + c becomes one FMA. Every helper gives the same result for the same input, whatever the
// position of the data in a batch (the kernels' batch invariance rests on that).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace ag::kernels::cpu::vec {
namespace {  // internal linkage: each file gets its own copy, built with its own flags

using v16 = float __attribute__((vector_size(64)));
using vi16 = int32_t __attribute__((vector_size(64)));
constexpr int64_t kL = 16;  // lanes

inline v16 load(const float* p) {
    v16 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline void store(float* p, v16 v) { std::memcpy(p, &v, sizeof v); }
inline v16 splat(float f) { return v16{} + f; }

// out[l] = fixed-tree sum of the 16 lanes of a[l] (the same tree for every l); V is v16 or vi16.
template <class V>
inline V hsum16(const V* a) {
    V b[8], c[4], d[2];
    for (int p = 0; p < 8; ++p) {
        b[p] = __builtin_shufflevector(a[2 * p], a[2 * p + 1], 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18,
                                       19, 20, 21, 22, 23) +
               __builtin_shufflevector(a[2 * p], a[2 * p + 1], 8, 9, 10, 11, 12, 13, 14, 15, 24,
                                       25, 26, 27, 28, 29, 30, 31);
    }
    for (int p = 0; p < 4; ++p) {
        c[p] = __builtin_shufflevector(b[2 * p], b[2 * p + 1], 0, 1, 2, 3, 8, 9, 10, 11, 16, 17,
                                       18, 19, 24, 25, 26, 27) +
               __builtin_shufflevector(b[2 * p], b[2 * p + 1], 4, 5, 6, 7, 12, 13, 14, 15, 20,
                                       21, 22, 23, 28, 29, 30, 31);
    }
    for (int p = 0; p < 2; ++p) {
        d[p] = __builtin_shufflevector(c[2 * p], c[2 * p + 1], 0, 1, 4, 5, 8, 9, 12, 13, 16, 17,
                                       20, 21, 24, 25, 28, 29) +
               __builtin_shufflevector(c[2 * p], c[2 * p + 1], 2, 3, 6, 7, 10, 11, 14, 15, 18,
                                       19, 22, 23, 26, 27, 30, 31);
    }
    return __builtin_shufflevector(d[0], d[1], 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                   28, 30) +
           __builtin_shufflevector(d[0], d[1], 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27,
                                   29, 31);
}

// Sum of one vector's lanes with the tree hsum16 uses for each of its lanes.
inline float hsum(v16 a) {
    const v16 b = __builtin_shufflevector(a, a, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7) +
                  __builtin_shufflevector(a, a, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13,
                                          14, 15);
    const float c0 = b[0] + b[4], c1 = b[1] + b[5], c2 = b[2] + b[6], c3 = b[3] + b[7];
    return (c0 + c2) + (c1 + c3);
}

inline float hmax(v16 a) {
    float m = a[0];
    for (int l = 1; l < kL; ++l) m = std::max(m, a[l]);
    return m;
}

inline v16 vabs(v16 a) {
    vi16 bits;
    std::memcpy(&bits, &a, sizeof a);
    bits &= 0x7fffffff;
    std::memcpy(&a, &bits, sizeof a);
    return a;
}

// e^x for x <= 0 (scores minus their max; −inf gives exactly 0): x = n·ln2 + r, |r| <= ln2/2,
// e^r by a degree-6 polynomial (relative error ~2e-7), 2^n put into the exponent bits.
inline v16 exp_nonpos(v16 x) {
    const vi16 tiny = x < splat(-87.0f);
    x = tiny ? splat(-87.0f) : x;
    const v16 magic = splat(12582912.0f);  // 1.5·2^23: adding it rounds to an integer
    const v16 n = (x * splat(1.44269504f) + magic) - magic;
    v16 r = x - n * splat(0.693359375f);
    r = r - n * splat(-2.12194440e-4f);
    v16 p = splat(1.9875691500e-4f);
    p = p * r + splat(1.3981999507e-3f);
    p = p * r + splat(8.3334519073e-3f);
    p = p * r + splat(4.1665795894e-2f);
    p = p * r + splat(1.6666665459e-1f);
    p = p * r + splat(5.0000001201e-1f);
    p = p * (r * r) + r + splat(1.0f);
    const vi16 bits = (__builtin_convertvector(n, vi16) + 127) << 23;
    v16 scale;
    std::memcpy(&scale, &bits, sizeof scale);
    const v16 e = p * scale;
    return tiny ? v16{} : e;
}

}  // namespace
}  // namespace ag::kernels::cpu::vec
