// Tokenizer: HF tokenizer.json (byte-level BPE) encode/decode with HF-identical results.
//
// Supported: model BPE (vocab + merges as "a b" or [a, b], ignore_merges, unk_token, no
// byte_fallback/dropout/affixes); normalizer null; pre_tokenizer null, Split, ByteLevel or a
// Sequence of them; decoder ByteLevel (alone or as the only element of a Sequence) or null;
// added_tokens with lstrip / rstrip / single_word / normalized. Anything else is rejected at
// load with ErrorCode::kUnsupported naming the file and the field. See docs/tokenizer.md.
//
// Thread-safety: a Tokenizer is immutable after load (its BPE cache is internally locked);
// all const methods may be called concurrently. Copies share the loaded data.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ag::tok {

struct TokenizerData;

class Tokenizer {
public:
    /// Reads `dir`/tokenizer.json and, if present, `dir`/tokenizer_config.json.
    static Result<Tokenizer> load(const std::string& dir);
    /// Parses in-memory files; `tokenizer_config_json` may be empty (no config).
    static Result<Tokenizer> from_json(std::string_view tokenizer_json,
                                       std::string_view tokenizer_config_json);

    /// HF `encode(text, add_special_tokens=False).ids`: added tokens are matched anywhere in
    /// the text; no BOS/EOS and no post-processor. Invalid UTF-8 is first replaced with U+FFFD
    /// (maximal-subpart rule, as Python's bytes.decode('utf-8', 'replace')).
    std::vector<int32_t> encode(std::string_view text) const;

    /// HF `decode(ids, skip_special_tokens)`: ids unknown to the tokenizer are skipped; bytes
    /// that do not form valid UTF-8 become U+FFFD.
    std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

    std::optional<int32_t> token_to_id(std::string_view token) const;
    /// The raw vocab string (byte-level form, e.g. "Ġthe"), or "" for an unknown id.
    std::string id_to_token(int32_t id) const;
    /// Largest id (model vocab and added tokens) + 1.
    int32_t vocab_size() const;
    /// Whether `id` is an added token flagged `special: true`.
    bool is_special(int32_t id) const;

    /// tokenizer_config.json's eos_token / pad_token, resolved to ids (nullopt if absent).
    std::optional<int32_t> eos_token_id() const;
    std::optional<int32_t> pad_token_id() const;
    /// tokenizer_config.json's chat_template ("" if absent; for a list, the "default" entry).
    const std::string& chat_template() const;

    /// Appends the raw bytes `id` contributes to decode() output (possibly a partial UTF-8
    /// sequence; nothing for an unknown id or a skipped special). `first` tells whether this is
    /// the first emitted token (matters only for decoders that join tokens with spaces).
    /// Returns whether anything was emitted. Used by IncrementalDetokenizer.
    bool append_token_bytes(int32_t id, bool skip_special_tokens, bool first,
                            std::string& out) const;

private:
    explicit Tokenizer(std::shared_ptr<const TokenizerData> data) : data_(std::move(data)) {}
    void encode_segment(std::string_view segment, std::vector<int32_t>& ids) const;

    std::shared_ptr<const TokenizerData> data_;
};

}  // namespace ag::tok
