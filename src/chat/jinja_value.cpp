#include "chat/jinja_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "chat/py_string.h"

namespace ag::chat::jinja {

Value Value::undefined(std::string name) {
    Value v;
    v.s_ = std::move(name);
    return v;
}

Value Value::none() {
    Value v;
    v.kind_ = Kind::kNone;
    return v;
}

Value::Value(bool b) : kind_(Kind::kBool), b_(b) {}
Value::Value(int64_t i) : kind_(Kind::kInt), i_(i) {}
Value::Value(double d) : kind_(Kind::kFloat), d_(d) {}
Value::Value(std::string s) : kind_(Kind::kString), s_(std::move(s)) {}

Value Value::list(std::vector<Value> items, bool tuple) {
    Value v;
    v.kind_ = Kind::kList;
    v.list_ = std::make_shared<ListData>(ListData{std::move(items), tuple});
    return v;
}

Value Value::dict(std::vector<std::pair<std::string, Value>> items, bool is_namespace) {
    Value v;
    v.kind_ = Kind::kDict;
    v.dict_ = std::make_shared<DictData>(DictData{std::move(items), is_namespace});
    return v;
}

Value Value::function(std::string name, Function fn) {
    Value v;
    v.kind_ = Kind::kFunction;
    v.s_ = std::move(name);
    v.fn_ = std::make_shared<Function>(std::move(fn));
    return v;
}

Value Value::from_json(const nlohmann::ordered_json& j) {
    switch (j.type()) {
        case nlohmann::ordered_json::value_t::null: return none();
        case nlohmann::ordered_json::value_t::boolean: return Value(j.get<bool>());
        case nlohmann::ordered_json::value_t::number_integer: return Value(j.get<int64_t>());
        case nlohmann::ordered_json::value_t::number_unsigned:
            return Value(static_cast<int64_t>(j.get<uint64_t>()));
        case nlohmann::ordered_json::value_t::number_float: return Value(j.get<double>());
        case nlohmann::ordered_json::value_t::string: return Value(j.get<std::string>());
        case nlohmann::ordered_json::value_t::array: {
            std::vector<Value> items;
            items.reserve(j.size());
            for (const auto& e : j) items.push_back(from_json(e));
            return list(std::move(items));
        }
        case nlohmann::ordered_json::value_t::object: {
            std::vector<std::pair<std::string, Value>> items;
            items.reserve(j.size());
            for (const auto& [k, e] : j.items()) items.emplace_back(k, from_json(e));
            return dict(std::move(items));
        }
        default: return none();  // binary / discarded: not produced by JSON parsing
    }
}

bool Value::is_tuple() const { return is_list() && list_->tuple; }
bool Value::is_namespace() const { return is_dict() && dict_->is_namespace; }

const std::vector<Value>& Value::items() const {
    static const std::vector<Value> kEmpty;
    return is_list() ? list_->items : kEmpty;
}

const DictData& Value::dict() const {
    static const DictData kEmpty;
    return is_dict() ? *dict_ : kEmpty;
}

DictData& Value::mutable_namespace() const {
    if (!is_namespace()) throw TemplateError("only a namespace() object can be assigned to");
    return *dict_;
}

Value Value::call(CallArgs& args) const {
    if (!is_function()) throw TemplateError("'" + type_name() + "' object is not callable");
    return (*fn_)(args);
}

bool Value::truthy() const {
    switch (kind_) {
        case Kind::kUndefined:
        case Kind::kNone: return false;
        case Kind::kBool: return b_;
        case Kind::kInt: return i_ != 0;
        case Kind::kFloat: return d_ != 0.0;
        case Kind::kString: return !s_.empty();
        case Kind::kList: return !list_->items.empty();
        case Kind::kDict: return dict_->is_namespace || !dict_->items.empty();
        case Kind::kFunction: return true;
    }
    return false;
}

std::string Value::type_name() const {
    switch (kind_) {
        case Kind::kUndefined: return "Undefined";
        case Kind::kNone: return "NoneType";
        case Kind::kBool: return "bool";
        case Kind::kInt: return "int";
        case Kind::kFloat: return "float";
        case Kind::kString: return "str";
        case Kind::kList: return list_->tuple ? "tuple" : "list";
        case Kind::kDict: return dict_->is_namespace ? "Namespace" : "dict";
        case Kind::kFunction: return "function";
    }
    return "object";
}

std::string float_repr(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
    std::string sci(buf, res.ptr);  // [-]d[.ddd]e[+-]XX
    const size_t e = sci.find('e');
    const int exp = std::stoi(sci.substr(e + 1));
    std::string mant = sci.substr(0, e);
    const bool neg = !mant.empty() && mant[0] == '-';
    if (neg) mant.erase(0, 1);
    std::string digits;
    for (char c : mant) {
        if (c != '.') digits += c;
    }
    std::string out = neg ? "-" : "";
    if (exp >= -4 && exp < 16) {
        if (exp < 0) {
            out += "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
        } else if (static_cast<size_t>(exp) + 1 >= digits.size()) {
            out += digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0') + ".0";
        } else {
            out += digits.substr(0, static_cast<size_t>(exp) + 1) + "." +
                   digits.substr(static_cast<size_t>(exp) + 1);
        }
        return out;
    }
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char ebuf[16];
    std::snprintf(ebuf, sizeof(ebuf), "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    return out + ebuf;
}

std::string Value::to_str() const {
    if (kind_ == Kind::kString) return s_;
    if (kind_ == Kind::kUndefined) return "";
    return repr();
}

std::string Value::repr() const {
    switch (kind_) {
        case Kind::kUndefined: return "";
        case Kind::kNone: return "None";
        case Kind::kBool: return b_ ? "True" : "False";
        case Kind::kInt: return std::to_string(i_);
        case Kind::kFloat: return float_repr(d_);
        case Kind::kString: return py_repr(s_);
        case Kind::kList: {
            std::string out = list_->tuple ? "(" : "[";
            for (size_t i = 0; i < list_->items.size(); ++i) {
                if (i) out += ", ";
                out += list_->items[i].repr();
            }
            if (list_->tuple && list_->items.size() == 1) out += ",";
            return out + (list_->tuple ? ")" : "]");
        }
        case Kind::kDict: {
            std::string out = dict_->is_namespace ? "<Namespace {" : "{";
            for (size_t i = 0; i < dict_->items.size(); ++i) {
                if (i) out += ", ";
                out += py_repr(dict_->items[i].first) + ": " + dict_->items[i].second.repr();
            }
            return out + (dict_->is_namespace ? "}>" : "}");
        }
        case Kind::kFunction: return "<function " + s_ + ">";
    }
    return "";
}

namespace {

void json_into(const Value& v, std::string& out, bool ascii, int indent, int level,
               std::string_view item_sep, std::string_view key_sep, bool sort_keys) {
    const auto newline = [&](int lvl) {
        out += '\n';
        out.append(static_cast<size_t>(indent * lvl), ' ');
    };
    switch (v.kind()) {
        case Value::Kind::kNone: out += "null"; return;
        case Value::Kind::kBool: out += v.as_bool() ? "true" : "false"; return;
        case Value::Kind::kInt: out += std::to_string(v.as_int()); return;
        case Value::Kind::kFloat: {
            const double d = v.as_double();
            if (std::isnan(d)) out += "NaN";
            else if (std::isinf(d)) out += d > 0 ? "Infinity" : "-Infinity";
            else out += float_repr(d);
            return;
        }
        case Value::Kind::kString: out += json_quote(v.str(), ascii); return;
        case Value::Kind::kList: {
            const auto& items = v.items();
            if (items.empty()) {
                out += "[]";
                return;
            }
            out += '[';
            for (size_t i = 0; i < items.size(); ++i) {
                if (i) out += item_sep;
                if (indent >= 0) newline(level + 1);
                json_into(items[i], out, ascii, indent, level + 1, item_sep, key_sep, sort_keys);
            }
            if (indent >= 0) newline(level);
            out += ']';
            return;
        }
        case Value::Kind::kDict: {
            if (v.is_namespace()) throw TemplateError("Object of type Namespace is not JSON serializable");
            std::vector<const std::pair<std::string, Value>*> items;
            for (const auto& kv : v.dict().items) items.push_back(&kv);
            if (sort_keys) {
                std::stable_sort(items.begin(), items.end(),
                                 [](auto* a, auto* b) { return a->first < b->first; });
            }
            if (items.empty()) {
                out += "{}";
                return;
            }
            out += '{';
            for (size_t i = 0; i < items.size(); ++i) {
                if (i) out += item_sep;
                if (indent >= 0) newline(level + 1);
                out += json_quote(items[i]->first, ascii);
                out += key_sep;
                json_into(items[i]->second, out, ascii, indent, level + 1, item_sep, key_sep,
                          sort_keys);
            }
            if (indent >= 0) newline(level);
            out += '}';
            return;
        }
        case Value::Kind::kUndefined:
        case Value::Kind::kFunction:
            throw TemplateError("Object of type " + v.type_name() + " is not JSON serializable");
    }
}

}  // namespace

std::string Value::to_json(bool ensure_ascii, int indent, std::string_view item_sep,
                           std::string_view key_sep, bool sort_keys) const {
    std::string out;
    json_into(*this, out, ensure_ascii, indent, 0, item_sep, key_sep, sort_keys);
    return out;
}

const Value* DictData::find(std::string_view key) const {
    for (const auto& [k, v] : items) {
        if (k == key) return &v;
    }
    return nullptr;
}

void DictData::set(const std::string& key, Value v) {
    for (auto& [k, old] : items) {
        if (k == key) {
            old = std::move(v);
            return;
        }
    }
    items.emplace_back(key, std::move(v));
}

bool values_equal(const Value& a, const Value& b) {
    if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
        return a.as_int() == b.as_int();
    }
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
        case Value::Kind::kUndefined:
        case Value::Kind::kNone: return true;
        case Value::Kind::kString: return a.str() == b.str();
        case Value::Kind::kList: {
            if (a.is_tuple() != b.is_tuple() || a.items().size() != b.items().size()) return false;
            for (size_t i = 0; i < a.items().size(); ++i) {
                if (!values_equal(a.items()[i], b.items()[i])) return false;
            }
            return true;
        }
        case Value::Kind::kDict: {
            if (a.is_namespace() || b.is_namespace()) return &a.dict() == &b.dict();
            if (a.dict().items.size() != b.dict().items.size()) return false;
            for (const auto& [k, v] : a.dict().items) {
                const Value* o = b.dict().find(k);
                if (!o || !values_equal(v, *o)) return false;
            }
            return true;
        }
        case Value::Kind::kFunction: return &a == &b;
        default: return false;
    }
}

bool value_less(const Value& a, const Value& b) {
    if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) return a.as_double() < b.as_double();
        return a.as_int() < b.as_int();
    }
    if (a.is_string() && b.is_string()) return a.str() < b.str();  // UTF-8 keeps code point order
    if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
        const auto& x = a.items();
        const auto& y = b.items();
        for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
            if (!values_equal(x[i], y[i])) return value_less(x[i], y[i]);
        }
        return x.size() < y.size();
    }
    throw TemplateError("'<' not supported between instances of '" + a.type_name() + "' and '" +
                        b.type_name() + "'");
}

}  // namespace ag::chat::jinja
