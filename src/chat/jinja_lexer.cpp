#include "chat/jinja_lexer.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "chat/jinja_value.h"
#include "chat/py_string.h"

namespace ag::chat::jinja {

namespace {

using Type = Token::Type;

// jinja2 splits the source into lines and joins them with "\n", dropping one trailing newline.
std::string normalize_source(std::string_view src) {
    std::string out;
    out.reserve(src.size());
    for (size_t i = 0; i < src.size(); ++i) {
        if (src[i] == '\r') {
            out += '\n';
            if (i + 1 < src.size() && src[i + 1] == '\n') ++i;
        } else {
            out += src[i];
        }
    }
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

class Lexer {
public:
    explicit Lexer(std::string_view src) : src_(normalize_source(src)) {
        line_starts_.push_back(0);
        for (size_t i = 0; i < src_.size(); ++i) {
            if (src_[i] == '\n') line_starts_.push_back(i + 1);
        }
    }

    std::vector<Token> run() {
        size_t pos = 0;
        bool strip_next = false;  // the previous tag ended with '-'
        while (pos <= src_.size()) {
            const size_t open = find_open(pos);
            std::string text = src_.substr(pos, open - pos);
            if (strip_next) text = lstrip_all(text);
            strip_next = false;
            if (open == src_.size()) {
                emit_text(std::move(text), pos);
                break;
            }
            const char kind = src_[open + 1];  // '{', '%' or '#'
            const char mod = open + 2 < src_.size() ? src_[open + 2] : '\0';
            if (mod == '-') {
                while (!text.empty() && is_space(text.back())) text.pop_back();
            } else if (mod != '+' && kind != '{') {
                lstrip_block(text, pos);
            }
            emit_text(std::move(text), pos);
            size_t p = open + 2 + ((mod == '-' || mod == '+') ? 1 : 0);
            char end_mod = '\0';
            if (kind == '#') {
                p = lex_comment(open, p, end_mod);
            } else {
                p = lex_tag(kind, open, p, end_mod);
            }
            if (end_mod == '-') {
                strip_next = true;
            } else if (end_mod != '+' && kind != '{' && p < src_.size() && src_[p] == '\n') {
                ++p;  // trim_blocks
            }
            if (kind == '%') p = maybe_raw(p, strip_next);
            pos = p;
        }
        Token eof;
        eof.type = Type::kEof;
        set_pos(eof, src_.size());
        tokens_.push_back(eof);
        return std::move(tokens_);
    }

private:
    std::string src_;
    std::vector<size_t> line_starts_;
    std::vector<Token> tokens_;

    void set_pos(Token& t, size_t offset) const {
        auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
        const size_t line = static_cast<size_t>(it - line_starts_.begin());
        t.line = static_cast<int32_t>(line);
        t.column = static_cast<int32_t>(offset - line_starts_[line - 1] + 1);
    }

    [[noreturn]] void fail(const std::string& msg, size_t offset) const {
        Token t;
        set_pos(t, offset);
        throw TemplateError(msg, t.line, t.column);
    }

    size_t find_open(size_t pos) const {
        for (size_t i = pos; i + 1 < src_.size(); ++i) {
            if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) {
                return i;
            }
        }
        return src_.size();
    }

    static std::string lstrip_all(const std::string& s) {
        size_t b = 0;
        while (b < s.size() && is_space(s[b])) ++b;
        return s.substr(b);
    }

    // lstrip_blocks: spaces and tabs between the line start and a block/comment tag go.
    void lstrip_block(std::string& text, size_t text_start) const {
        const size_t nl = text.rfind('\n');
        const size_t from = nl == std::string::npos ? 0 : nl + 1;
        if (nl == std::string::npos && text_start != 0 && src_[text_start - 1] != '\n') return;
        for (size_t i = from; i < text.size(); ++i) {
            if (text[i] != ' ' && text[i] != '\t') return;
        }
        text.resize(from);
    }

    void emit_text(std::string text, size_t offset) {
        if (text.empty()) return;
        Token t;
        t.type = Type::kText;
        t.value = std::move(text);
        set_pos(t, offset);
        tokens_.push_back(std::move(t));
    }

    size_t lex_comment(size_t open, size_t p, char& end_mod) const {
        const size_t close = src_.find("#}", p);
        if (close == std::string::npos) fail("missing end of comment tag", open);
        if (close > p && (src_[close - 1] == '-' || src_[close - 1] == '+')) {
            end_mod = src_[close - 1];
        }
        return close + 2;
    }

    // Tokens of one {{ }} / {% %} tag; returns the offset after its end.
    size_t lex_tag(char kind, size_t open, size_t p, char& end_mod) {
        Token begin;
        begin.type = kind == '{' ? Type::kVarBegin : Type::kBlockBegin;
        set_pos(begin, open);
        tokens_.push_back(begin);
        const char close_char = kind == '{' ? '}' : '%';
        int depth = 0;
        while (true) {
            while (p < src_.size() && is_space(src_[p])) ++p;
            if (p >= src_.size()) fail(kind == '{' ? "unexpected end of template, expected '}}'"
                                                   : "unexpected end of template, expected '%}'",
                                       open);
            if (depth == 0) {
                for (char m : {'-', '+', '\0'}) {
                    const size_t at = p + (m ? 1 : 0);
                    if ((m == '\0' || src_[p] == m) && at + 1 < src_.size() + 1 &&
                        src_.compare(at, 2, std::string{close_char, '}'}) == 0) {
                        if (m == '+' && kind == '{') continue;
                        end_mod = m;
                        Token end;
                        end.type = kind == '{' ? Type::kVarEnd : Type::kBlockEnd;
                        set_pos(end, p);
                        tokens_.push_back(end);
                        return at + 2;
                    }
                }
            }
            p = lex_one(p, depth);
        }
    }

    size_t lex_one(size_t p, int& depth) {
        Token t;
        set_pos(t, p);
        const char c = src_[p];
        if (c == '\'' || c == '"') return lex_string(p, t);
        if (std::isdigit(static_cast<unsigned char>(c))) return lex_number(p, t);
        if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            size_t e = p;
            while (e < src_.size() &&
                   (std::isalnum(static_cast<unsigned char>(src_[e])) || src_[e] == '_')) {
                ++e;
            }
            t.type = Type::kName;
            t.value = src_.substr(p, e - p);
            tokens_.push_back(std::move(t));
            return e;
        }
        static const char* kTwo[] = {"//", "**", "==", "!=", "<=", ">="};
        for (const char* op : kTwo) {
            if (src_.compare(p, 2, op) == 0) {
                t.type = Type::kOp;
                t.value = op;
                tokens_.push_back(std::move(t));
                return p + 2;
            }
        }
        if (std::string_view("+-*/%~<>=()[]{},.:|").find(c) == std::string_view::npos) {
            fail(std::string("unexpected char '") + c + "'", p);
        }
        if (c == '(' || c == '[' || c == '{') ++depth;
        if (c == ')' || c == ']' || c == '}') {
            if (depth == 0) fail(std::string("unexpected '") + c + "'", p);
            --depth;
        }
        t.type = Type::kOp;
        t.value = std::string(1, c);
        tokens_.push_back(std::move(t));
        return p + 1;
    }

    size_t lex_string(size_t p, Token& t) {
        const char q = src_[p];
        std::string out;
        size_t i = p + 1;
        for (; i < src_.size() && src_[i] != q; ++i) {
            if (src_[i] != '\\' || i + 1 >= src_.size()) {
                out += src_[i];
                continue;
            }
            const char e = src_[++i];
            switch (e) {
                case 'n': out += '\n'; break;
                case 't': out += '\t'; break;
                case 'r': out += '\r'; break;
                case '0': out += '\0'; break;
                case 'a': out += '\a'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'v': out += '\v'; break;
                case '\\': out += '\\'; break;
                case '\'': out += '\''; break;
                case '"': out += '"'; break;
                case '\n': break;  // line continuation
                case 'x':
                case 'u':
                case 'U': {
                    const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    if (i + n >= src_.size()) fail("truncated escape in string literal", i);
                    const std::string hex = src_.substr(i + 1, n);
                    if (hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
                        fail("invalid escape in string literal", i);
                    }
                    utf8_append(out, static_cast<char32_t>(std::strtoul(hex.c_str(), nullptr, 16)));
                    i += n;
                    break;
                }
                default:
                    out += '\\';
                    out += e;
            }
        }
        if (i >= src_.size()) fail("unterminated string literal", p);
        t.type = Type::kString;
        t.value = std::move(out);
        tokens_.push_back(std::move(t));
        return i + 1;
    }

    size_t lex_number(size_t p, Token& t) {
        size_t e = p;
        const auto digits = [&] {
            while (e < src_.size() &&
                   (std::isdigit(static_cast<unsigned char>(src_[e])) || src_[e] == '_')) {
                ++e;
            }
        };
        digits();
        bool is_float = false;
        if (e + 1 < src_.size() && src_[e] == '.' &&
            std::isdigit(static_cast<unsigned char>(src_[e + 1]))) {
            is_float = true;
            ++e;
            digits();
        }
        if (e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
            size_t k = e + 1;
            if (k < src_.size() && (src_[k] == '+' || src_[k] == '-')) ++k;
            if (k < src_.size() && std::isdigit(static_cast<unsigned char>(src_[k]))) {
                is_float = true;
                e = k;
                digits();
            }
        }
        std::string v = src_.substr(p, e - p);
        v.erase(std::remove(v.begin(), v.end(), '_'), v.end());
        t.type = is_float ? Type::kFloat : Type::kInt;
        t.value = std::move(v);
        tokens_.push_back(std::move(t));
        return e;
    }

    // `{% raw %}`: the tokens just emitted are BlockBegin, Name raw, BlockEnd; the text up to
    // `{% endraw %}` becomes one text token.
    size_t maybe_raw(size_t p, bool& strip_next) {
        const size_t n = tokens_.size();
        if (n < 3 || tokens_[n - 2].type != Type::kName || tokens_[n - 2].value != "raw" ||
            tokens_[n - 3].type != Type::kBlockBegin) {
            return p;
        }
        const size_t raw_at = line_starts_[static_cast<size_t>(tokens_[n - 3].line) - 1] +
                              static_cast<size_t>(tokens_[n - 3].column) - 1;
        tokens_.resize(n - 3);
        for (size_t at = src_.find("{%", p); at != std::string::npos; at = src_.find("{%", at + 2)) {
            size_t k = at + 2;
            const char mod = k < src_.size() ? src_[k] : '\0';
            if (mod == '-' || mod == '+') ++k;
            while (k < src_.size() && is_space(src_[k])) ++k;
            if (src_.compare(k, 6, "endraw") != 0) continue;
            k += 6;
            while (k < src_.size() && is_space(src_[k])) ++k;
            char end_mod = '\0';
            if (k < src_.size() && (src_[k] == '-' || src_[k] == '+')) end_mod = src_[k++];
            if (src_.compare(k, 2, "%}") != 0) continue;
            std::string text = src_.substr(p, at - p);
            if (strip_next) text = lstrip_all(text);
            if (mod == '-') {
                while (!text.empty() && is_space(text.back())) text.pop_back();
            } else if (mod != '+') {
                lstrip_block(text, p);
            }
            emit_text(std::move(text), p);
            strip_next = end_mod == '-';
            k += 2;
            if (end_mod == '\0' && k < src_.size() && src_[k] == '\n') ++k;
            return k;
        }
        fail("missing {% endraw %}", raw_at);
    }
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) { return Lexer(source).run(); }

}  // namespace ag::chat::jinja
