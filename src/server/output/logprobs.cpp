#include "server/output/logprobs.h"

#include <cmath>
#include <string>

namespace ag::server::output {

namespace {

double clamp_lp(float lp) { return std::isfinite(lp) ? static_cast<double>(lp) : -9999.0; }

std::string token_text(const tok::Tokenizer& tok, int32_t id) {
    const int32_t ids[1] = {id};
    return tok.decode(ids, false);
}

nlohmann::json token_bytes(const tok::Tokenizer& tok, int32_t id) {
    std::string raw;
    tok.append_token_bytes(id, false, true, raw);
    nlohmann::json bytes = nlohmann::json::array();
    for (unsigned char c : raw) bytes.push_back(static_cast<int>(c));
    return bytes;
}

nlohmann::json chat_entry(const tok::Tokenizer& tok, int32_t id, float lp) {
    return {{"token", token_text(tok, id)}, {"logprob", clamp_lp(lp)},
            {"bytes", token_bytes(tok, id)}};
}

}  // namespace

nlohmann::json chat_logprobs(const tok::Tokenizer& tok, std::span<const TokenLogprob> lps) {
    nlohmann::json content = nlohmann::json::array();
    for (const TokenLogprob& lp : lps) {
        nlohmann::json e = chat_entry(tok, lp.id, lp.logprob);
        nlohmann::json top = nlohmann::json::array();
        for (const auto& [id, v] : lp.top) top.push_back(chat_entry(tok, id, v));
        e["top_logprobs"] = std::move(top);
        content.push_back(std::move(e));
    }
    return content;
}

nlohmann::json empty_completion_logprobs() {
    return {{"text_offset", nlohmann::json::array()},
            {"token_logprobs", nlohmann::json::array()},
            {"tokens", nlohmann::json::array()},
            {"top_logprobs", nlohmann::json::array()}};
}

void append_completion_logprobs(const tok::Tokenizer& tok, std::span<const TokenLogprob> lps,
                                nlohmann::json& obj, int64_t& text_offset) {
    if (!obj.is_object()) obj = empty_completion_logprobs();
    for (const TokenLogprob& lp : lps) {
        const std::string text = token_text(tok, lp.id);
        obj["text_offset"].push_back(text_offset);
        obj["token_logprobs"].push_back(clamp_lp(lp.logprob));
        obj["tokens"].push_back(text);
        nlohmann::json top = nlohmann::json::object();
        for (const auto& [id, v] : lp.top) top[token_text(tok, id)] = clamp_lp(v);
        obj["top_logprobs"].push_back(std::move(top));
        text_offset += static_cast<int64_t>(text.size());
    }
}

}  // namespace ag::server::output
