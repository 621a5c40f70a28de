#include "asr/whisper_tokens.h"

#include <algorithm>
#include <set>

namespace ag::asr {

int32_t WhisperTokens::language_id(std::string_view code) const {
    for (size_t i = 0; i < lang_codes.size(); ++i) {
        if (lang_codes[i] == code) return lang_ids[i];
    }
    return -1;
}

std::string WhisperTokens::language_code(int32_t id) const {
    for (size_t i = 0; i < lang_ids.size(); ++i) {
        if (lang_ids[i] == id) return lang_codes[i];
    }
    return {};
}

namespace {

// "<|xx|>" with lowercase letters only -> "xx", else "".
std::string language_of(const std::string& tok) {
    if (tok.size() < 5 || tok.compare(0, 2, "<|") != 0 || tok.compare(tok.size() - 2, 2, "|>") != 0) {
        return {};
    }
    std::string code = tok.substr(2, tok.size() - 4);
    for (char c : code) {
        if (c < 'a' || c > 'z') return {};
    }
    return code;
}

}  // namespace

Result<WhisperTokens> resolve_whisper_tokens(const tok::Tokenizer& tk, int64_t model_vocab,
                                             const nlohmann::json& lang_ids) {
    WhisperTokens t;
    const auto id = [&](const char* name) { return tk.token_to_id(name).value_or(-1); };
    t.sot = id("<|startoftranscript|>");
    t.eot = id("<|endoftext|>");
    t.transcribe = id("<|transcribe|>");
    t.translate = id("<|translate|>");
    t.no_timestamps = id("<|notimestamps|>");
    t.sot_prev = id("<|startofprev|>");
    t.sot_lm = id("<|startoflm|>");
    t.no_speech = id("<|nospeech|>");
    if (t.no_speech < 0) t.no_speech = id("<|nocaptions|>");
    const std::pair<const char*, int32_t> required[] = {
        {"<|startoftranscript|>", t.sot}, {"<|endoftext|>", t.eot},
        {"<|transcribe|>", t.transcribe}, {"<|translate|>", t.translate},
        {"<|notimestamps|>", t.no_timestamps}, {"<|startofprev|>", t.sot_prev}};
    for (const auto& [name, v] : required) {
        if (v < 0) {
            return Status(ErrorCode::kNotFound,
                          std::string("tokenizer.json has no Whisper special token ") + name);
        }
    }
    t.timestamp_begin = t.no_timestamps + 1;
    t.timestamp_end = static_cast<int32_t>(model_vocab) - 1;
    if (t.timestamp_begin > t.timestamp_end) {
        return Status(ErrorCode::kInvalidArgument,
                      "model vocab has no room for timestamp tokens after <|notimestamps|>");
    }
    if (model_vocab == 51864) return t;  // English-only (openai *.en)
    if (lang_ids.is_array() && !lang_ids.empty()) {
        for (const auto& v : lang_ids) {
            if (!v.is_number_integer()) continue;
            const int32_t lid = v.get<int32_t>();
            const std::string code = language_of(tk.id_to_token(lid));
            if (code.empty()) continue;
            t.lang_ids.push_back(lid);
            t.lang_codes.push_back(code);
        }
        return t;
    }
    const int32_t lo = std::min(t.sot, t.translate), hi = std::max(t.sot, t.translate);
    for (int32_t i = lo + 1; i < hi; ++i) {
        const std::string code = language_of(tk.id_to_token(i));
        if (code.empty() || code == "transcribe" || code == "translate") continue;
        t.lang_ids.push_back(i);
        t.lang_codes.push_back(code);
    }
    return t;
}

std::vector<int32_t> non_speech_tokens(const tok::Tokenizer& tk) {
    std::vector<std::string> symbols;
    for (char c : std::string("\"#()*+/:;<=>@[\\]^_`{|}~")) symbols.emplace_back(1, c);
    for (const char* s : {"「", "」", "『", "』", "<<", ">>", "<<<", ">>>", "--", "---", "-(", "-[",
                          "('", "(\"", "((", "))", "(((", ")))", "[[", "]]", "{{", "}}", "♪♪",
                          "♪♪♪"}) {
        symbols.emplace_back(s);
    }
    // U+2640..U+267F symbols: their first token is suppressed even when split.
    const std::vector<std::string> misc = {"♩", "♪", "♫", "♬", "♭", "♮", "♯"};
    std::set<int32_t> out;
    for (const char* s : {" -", " '"}) {
        const auto ids = tk.encode(s);
        if (!ids.empty()) out.insert(ids[0]);
    }
    const auto add = [&](const std::string& sym, bool always_first) {
        for (const std::string& text : {sym, " " + sym}) {
            const auto ids = tk.encode(text);
            if (ids.size() == 1 || (always_first && !ids.empty())) out.insert(ids[0]);
        }
    };
    for (const auto& s : symbols) add(s, false);
    for (const auto& s : misc) add(s, true);
    return {out.begin(), out.end()};
}

std::vector<int32_t> build_prompt(const WhisperTokens& t, std::span<const int32_t> previous,
                                  int32_t language, int32_t task, bool timestamps,
                                  int64_t max_length) {
    std::vector<int32_t> p;
    if (!previous.empty()) {
        p.push_back(t.sot_prev);
        const size_t keep = static_cast<size_t>(std::max<int64_t>(max_length / 2 - 1, 0));
        const size_t from = previous.size() > keep ? previous.size() - keep : 0;
        p.insert(p.end(), previous.begin() + static_cast<std::ptrdiff_t>(from), previous.end());
    }
    p.push_back(t.sot);
    if (language >= 0) p.push_back(language);
    if (task >= 0) p.push_back(task);
    if (!timestamps) p.push_back(t.no_timestamps);
    return p;
}

}  // namespace ag::asr
