#include "model/model.h"

namespace ag::model {

KvCache Model::new_cache(KvDType kv_dtype) const {
    const TextConfig& t = config().text;
    return KvCache(t.n_layer, t.n_head_kv, t.head_dim, kv_dtype);
}

Status Model::forward(const ForwardInput& in, KvCache& cache, float* logits) const {
    cache.reserve_more(static_cast<int64_t>(in.tokens.size()));
    const SeqInput seq(in.tokens, in.positions, cache.n_tokens(), cache.block_table(),
                       in.all_logits ? LogitsMode::kAll : LogitsMode::kLast, in.embeds,
                       in.embed_rows);
    AG_RETURN_IF_ERROR(forward_batch({&seq, 1}, cache.storage(), logits));
    cache.commit(static_cast<int64_t>(in.tokens.size()));
    return {};
}

std::vector<int32_t> text_positions(int64_t start, int64_t n) {
    std::vector<int32_t> p(static_cast<size_t>(3 * n));
    for (int64_t a = 0; a < 3; ++a) {
        for (int64_t i = 0; i < n; ++i) p[static_cast<size_t>(a * n + i)] = static_cast<int32_t>(start + i);
    }
    return p;
}

std::vector<int32_t> image_embed_rows(std::span<const int32_t> tokens, int32_t image_token_id,
                                      int64_t first_row) {
    std::vector<int32_t> rows(tokens.size(), -1);
    int64_t next = first_row;
    for (size_t i = 0; i < tokens.size(); ++i) {
        if (tokens[i] == image_token_id) rows[i] = static_cast<int32_t>(next++);
    }
    return rows;
}

}  // namespace ag::model
