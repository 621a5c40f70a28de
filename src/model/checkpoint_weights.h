// Weight lookups shared by the architecture loaders. Both throw ag::Error (converted to a Status
// at the loader's edge): a missing tensor or wrong shape names the tensor and its file, and a
// dtype the kernels cannot read is kUnsupported.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace ag::io {
class Checkpoint;
}

namespace ag::model {

// Zero-copy view of a weight: F32, F16, BF16 or a block format (Q8_0, Q4_0, Q4_K).
Tensor need_weight(const io::Checkpoint& ck, const std::string& name, std::vector<int64_t> shape);
// A small weight (norm, bias, table) widened to f32 once.
std::vector<float> need_f32(const io::Checkpoint& ck, const std::string& name,
                            std::vector<int64_t> shape);

}  // namespace ag::model
