// f32 dot product shared by the CPU kernels. Eight independent partial sums let the compiler
// vectorise without -ffast-math, and fix the reduction order (results do not depend on batch).
#pragma once

#include <cstdint>

namespace ag::kernels::cpu {

inline float dot_f32(const float* a, const float* b, int64_t k) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t t = 0;
    for (; t + 8 <= k; t += 8) {
        for (int l = 0; l < 8; ++l) acc[l] += a[t + l] * b[t + l];
    }
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; t < k; ++t) s += a[t] * b[t];
    return s;
}

}  // namespace ag::kernels::cpu
