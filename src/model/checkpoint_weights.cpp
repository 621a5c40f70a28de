#include "model/checkpoint_weights.h"

#include <fmt/format.h>

#include "base/status.h"
#include "io/checkpoint.h"

namespace ag::model {

Tensor need_weight(const io::Checkpoint& ck, const std::string& name, std::vector<int64_t> shape) {
    auto r = ck.tensor(name, std::move(shape));
    if (!r.ok()) throw Error(r.status().code(), r.status().message());
    const DType dt = r->dtype();
    if (dt != DType::kF32 && dt != DType::kBF16 && dt != DType::kF16 && !dtype_is_quantized(dt)) {
        throw Error(ErrorCode::kUnsupported,
                    fmt::format("tensor '{}' in {} has dtype {}; F32, F16, BF16, Q8_0, Q4_0 or "
                                "Q4_K expected",
                                name, ck.file_of(name), dtype_name(dt)));
    }
    return std::move(r).value();
}

std::vector<float> need_f32(const io::Checkpoint& ck, const std::string& name,
                            std::vector<int64_t> shape) {
    Tensor t = need_weight(ck, name, std::move(shape));
    std::vector<float> v(static_cast<size_t>(t.numel()));
    convert_to_f32(t.dtype(), t.data(), v.data(), t.numel());
    return v;
}

}  // namespace ag::model
