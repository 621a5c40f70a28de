// The value model of the Jinja engine: Python-like dynamic values (undefined, None, bool, int,
// float, str, list, tuple, dict, namespace, callable) with Python's truthiness, equality,
// ordering, str() and repr(). Lists, tuples and dicts are immutable once built (the sandbox of
// transformers forbids mutation); a namespace is the one mutable object (`set ns.x = ...`).
// Dicts keep insertion order and have string keys (all chat-template data is JSON).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace ag::chat::jinja {

/// A template error at a source position (line/column 1-based; 0 = unknown). Thrown inside the
/// engine only; Template::render/parse turn it into a Status.
class TemplateError : public std::runtime_error {
public:
    explicit TemplateError(const std::string& msg, int32_t line = 0, int32_t column = 0)
        : std::runtime_error(msg), line_(line), column_(column) {}
    int32_t line() const { return line_; }
    int32_t column() const { return column_; }
    void set_position(int32_t line, int32_t column) {
        line_ = line;
        column_ = column;
    }

private:
    int32_t line_, column_;
};

class Value;
struct CallArgs {
    std::vector<Value> pos;
    std::vector<std::pair<std::string, Value>> kw;
};
using Function = std::function<Value(CallArgs&)>;

struct ListData;
struct DictData;

class Value {
public:
    enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kFunction };

    Value() = default;  // undefined
    static Value undefined(std::string name = {});
    static Value none();
    Value(bool b);                     // NOLINT(google-explicit-constructor)
    Value(int64_t i);                  // NOLINT
    Value(int i) : Value(static_cast<int64_t>(i)) {}  // NOLINT
    Value(double d);                   // NOLINT
    Value(std::string s);              // NOLINT
    Value(const char* s) : Value(std::string(s)) {}  // NOLINT
    static Value list(std::vector<Value> items, bool tuple = false);
    static Value dict(std::vector<std::pair<std::string, Value>> items, bool is_namespace = false);
    static Value function(std::string name, Function fn);
    static Value from_json(const nlohmann::ordered_json& j);

    Kind kind() const { return kind_; }
    bool is_undefined() const { return kind_ == Kind::kUndefined; }
    bool is_none() const { return kind_ == Kind::kNone; }
    bool is_bool() const { return kind_ == Kind::kBool; }
    bool is_int() const { return kind_ == Kind::kInt; }
    bool is_float() const { return kind_ == Kind::kFloat; }
    bool is_number() const { return is_int() || is_float() || is_bool(); }
    bool is_string() const { return kind_ == Kind::kString; }
    bool is_list() const { return kind_ == Kind::kList; }  // list or tuple
    bool is_tuple() const;
    bool is_dict() const { return kind_ == Kind::kDict; }  // dict or namespace
    bool is_namespace() const;
    bool is_function() const { return kind_ == Kind::kFunction; }

    bool as_bool() const { return b_; }
    int64_t as_int() const { return kind_ == Kind::kBool ? (b_ ? 1 : 0) : i_; }
    double as_double() const { return kind_ == Kind::kFloat ? d_ : static_cast<double>(as_int()); }
    const std::string& str() const { return s_; }  // string text; undefined: its name
    const std::vector<Value>& items() const;       // list/tuple items
    const DictData& dict() const;
    DictData& mutable_namespace() const;  // namespace only
    const std::string& function_name() const { return s_; }
    Value call(CallArgs& args) const;

    bool truthy() const;
    /// Python str(): strings as is, undefined "", everything else its repr.
    std::string to_str() const;
    /// Python repr() (jinja2 prints containers this way).
    std::string repr() const;
    /// HF's tojson: json.dumps(ensure_ascii, indent (<0: none), separators, sort_keys).
    std::string to_json(bool ensure_ascii, int indent, std::string_view item_sep,
                        std::string_view key_sep, bool sort_keys) const;
    std::string type_name() const;

private:
    Kind kind_ = Kind::kUndefined;
    bool b_ = false;
    int64_t i_ = 0;
    double d_ = 0;
    std::string s_;
    std::shared_ptr<ListData> list_;
    std::shared_ptr<DictData> dict_;
    std::shared_ptr<Function> fn_;
};

struct ListData {
    std::vector<Value> items;
    bool tuple = false;
};

struct DictData {
    std::vector<std::pair<std::string, Value>> items;
    bool is_namespace = false;
    const Value* find(std::string_view key) const;
    void set(const std::string& key, Value v);
};

bool values_equal(const Value& a, const Value& b);
/// a < b with Python's rules for numbers, strings and sequences; TemplateError otherwise.
bool value_less(const Value& a, const Value& b);
/// Python repr of a float (shortest round-trip, "1.0", "1e+16", "inf", "nan").
std::string float_repr(double d);

}  // namespace ag::chat::jinja
