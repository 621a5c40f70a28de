#include "runtime/generator.h"

#include <algorithm>
#include <chrono>

namespace ag::runtime {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

Result<GenerateResult> generate(const model::Model& model, std::span<const int32_t> prompt,
                                const GenerateOptions& opts, const TokenCallback& on_token) {
    if (prompt.empty()) return Status(ErrorCode::kInvalidArgument, "the prompt is empty");
    const int64_t vocab = model.config().text.vocab_size;
    GenerateResult res;
    model::KvCache cache = model.new_cache(opts.kv_dtype);
    Sampler sampler(opts.sampling);
    std::vector<float> logits(static_cast<size_t>(vocab));

    auto t0 = std::chrono::steady_clock::now();
    const auto n_prompt = static_cast<int64_t>(prompt.size());
    auto pos = opts.positions.empty() ? model::text_positions(0, n_prompt) : opts.positions;
    model::ForwardInput in;
    in.tokens = prompt;
    in.positions = pos;
    in.embeds = opts.embeds;
    in.embed_rows = opts.embed_rows;
    AG_RETURN_IF_ERROR(model.forward(in, cache, logits.data()));
    res.prefill_seconds = seconds_since(t0);

    t0 = std::chrono::steady_clock::now();
    for (int64_t step = 0; step < opts.sampling.max_tokens; ++step) {
        const int32_t tok = sampler.sample(logits, prompt, res.ids);
        const bool is_stop = !opts.ignore_eos &&
                             std::find(opts.stop_ids.begin(), opts.stop_ids.end(), tok) !=
                                 opts.stop_ids.end();
        if (is_stop) {
            res.finish = FinishReason::kStop;
            res.stop_id = tok;
            break;
        }
        res.ids.push_back(tok);
        if (on_token && !on_token(tok)) {
            res.finish = FinishReason::kAborted;
            break;
        }
        if (step + 1 == opts.sampling.max_tokens) break;  // no forward needed for an unused token
        const int32_t one[1] = {tok};
        pos = model::text_positions(cache.n_tokens() + opts.rope_delta, 1);
        model::ForwardInput next;
        next.tokens = one;
        next.positions = pos;
        AG_RETURN_IF_ERROR(model.forward(next, cache, logits.data()));
    }
    res.decode_seconds = seconds_since(t0);
    return res;
}

}  // namespace ag::runtime
