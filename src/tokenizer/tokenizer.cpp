#include "tokenizer/tokenizer.h"

#include <filesystem>

#include "base/mapped_file.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer_data.h"
#include "tokenizer/utf8.h"

namespace ag::tok {

Result<Tokenizer> Tokenizer::load(const std::string& dir) {
    const std::string json_path = (std::filesystem::path(dir) / "tokenizer.json").string();
    const std::string config_path = (std::filesystem::path(dir) / "tokenizer_config.json").string();
    auto data = std::make_shared<TokenizerData>();
    auto json_text = read_text_file(json_path);
    if (!json_text.ok()) return json_text.status();
    AG_RETURN_IF_ERROR(parse_tokenizer_json(*json_text, json_path, *data));
    std::error_code ec;
    if (std::filesystem::exists(config_path, ec)) {
        auto config_text = read_text_file(config_path);
        if (!config_text.ok()) return config_text.status();
        AG_RETURN_IF_ERROR(parse_tokenizer_config(*config_text, config_path, *data));
    }
    return Tokenizer(std::move(data));
}

Result<Tokenizer> Tokenizer::from_json(std::string_view tokenizer_json,
                                       std::string_view tokenizer_config_json) {
    auto data = std::make_shared<TokenizerData>();
    AG_RETURN_IF_ERROR(parse_tokenizer_json(tokenizer_json, "tokenizer.json", *data));
    if (!tokenizer_config_json.empty()) {
        AG_RETURN_IF_ERROR(
            parse_tokenizer_config(tokenizer_config_json, "tokenizer_config.json", *data));
    }
    return Tokenizer(std::move(data));
}

void Tokenizer::encode_segment(std::string_view segment, std::vector<int32_t>& ids) const {
    std::vector<std::string> pieces;
    data_->pre_tokenizer.run(segment, pieces);
    for (const std::string& piece : pieces) data_->model->tokenize(piece, ids);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
    std::string repaired;
    if (!is_valid_utf8(text)) {
        repaired = to_utf8_lossy(text);
        text = repaired;
    }
    std::vector<int32_t> ids;
    for (const TextSegment& s : data_->added.split(text)) {
        if (s.id >= 0) {
            ids.push_back(s.id);
        } else {
            encode_segment(text.substr(s.begin, s.end - s.begin), ids);
        }
    }
    return ids;
}

bool Tokenizer::append_token_bytes(int32_t id, bool skip_special_tokens, bool first,
                                   std::string& out) const {
    const std::string* token = nullptr;
    if (const AddedToken* added = data_->added.find_by_id(id)) {
        if (skip_special_tokens && added->special) return false;
        token = &added->content;
    } else {
        token = data_->model->id_to_token(id);
        if (token == nullptr) return false;
        // HF skips by token string: a vocab id whose string is a special added token counts.
        if (skip_special_tokens && is_special(id)) return false;
    }
    switch (data_->decoder) {
    case DecoderKind::kByteLevel:
        append_byte_level_decoded(*token, out);
        break;
    case DecoderKind::kJoinSpace:
        if (!first) out += ' ';
        out += *token;
        break;
    }
    return true;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
    std::string bytes;
    bool first = true;
    for (int32_t id : ids) {
        if (append_token_bytes(id, skip_special_tokens, first, bytes)) first = false;
    }
    if (is_valid_utf8(bytes)) return bytes;
    return to_utf8_lossy(bytes);
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
    if (auto id = data_->added.find_by_content(token)) return id;
    return data_->model->token_to_id(token);
}

std::string Tokenizer::id_to_token(int32_t id) const {
    if (const AddedToken* added = data_->added.find_by_id(id)) return added->content;
    const std::string* token = data_->model->id_to_token(id);
    return token == nullptr ? std::string() : *token;
}

int32_t Tokenizer::vocab_size() const {
    return std::max(data_->model->id_limit(), data_->added.id_limit());
}

bool Tokenizer::is_special(int32_t id) const {
    const AddedToken* added = data_->added.find_by_id(id);
    if (added != nullptr) return added->special;
    const std::string* token = data_->model->id_to_token(id);
    if (token == nullptr) return false;
    auto added_id = data_->added.find_by_content(*token);
    return added_id && data_->added.find_by_id(*added_id)->special;
}

std::optional<int32_t> Tokenizer::eos_token_id() const { return data_->eos_id; }
std::optional<int32_t> Tokenizer::pad_token_id() const { return data_->pad_id; }
const std::string& Tokenizer::chat_template() const { return data_->chat_template; }

}  // namespace ag::tok
