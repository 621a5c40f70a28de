// Attribute/item access, iteration, Python methods of str/dict/list, and the globals.
#include <algorithm>
#include <ctime>

#include "chat/jinja_builtins.h"
#include "chat/py_string.h"

namespace ag::chat::jinja {

namespace {

constexpr int64_t kMaxRange = 1'000'000;  // items one range() may produce

std::optional<std::string> opt_str(const Value& v, const std::string& fn) {
    if (v.is_undefined() || v.is_none()) return std::nullopt;
    if (!v.is_string()) throw TemplateError(fn + "() argument must be str or None, not " + v.type_name());
    return v.str();
}

std::string need_str(const Value& v, const std::string& what) {
    if (!v.is_string()) throw TemplateError(what + " must be str, not " + v.type_name());
    return v.str();
}

int64_t need_int(const Value& v, const std::string& what) {
    if (!v.is_int() && !v.is_bool()) {
        throw TemplateError(what + " must be an integer, not " + v.type_name());
    }
    return v.as_int();
}

Value str_list(const std::vector<std::string>& parts) {
    std::vector<Value> items;
    items.reserve(parts.size());
    for (const auto& p : parts) items.emplace_back(p);
    return Value::list(std::move(items));
}

bool affix_match(const std::string& s, const Value& affix, bool prefix, const std::string& fn) {
    const auto one = [&](const Value& a) {
        const std::string x = need_str(a, fn + "() argument");
        return prefix ? s.starts_with(x) : s.ends_with(x);
    };
    if (affix.is_tuple()) {
        return std::any_of(affix.items().begin(), affix.items().end(), one);
    }
    return one(affix);
}

template <typename Pred>
bool all_chars(const std::string& s, Pred p) {
    const std::u32string u = utf8_decode(s);
    return !u.empty() && std::all_of(u.begin(), u.end(), p);
}

Value string_method(const std::string& s, const std::string& name, CallArgs& args) {
    ArgReader r(name, args);
    Value out;
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
        const auto chars = opt_str(r.get(0, "chars"), name);
        out = Value(py_strip(s, chars, name != "rstrip", name != "lstrip"));
    } else if (name == "split" || name == "rsplit") {
        const auto sep = opt_str(r.get(0, "sep"), name);
        const int64_t maxsplit = need_int(r.get(1, "maxsplit", Value(-1)), "maxsplit");
        out = str_list(py_split(s, sep, maxsplit, name == "rsplit"));
    } else if (name == "splitlines") {
        std::vector<std::string> lines;
        std::string cur;
        for (size_t i = 0; i < s.size(); ++i) {
            if (s[i] == '\n' || s[i] == '\r') {
                lines.push_back(cur);
                cur.clear();
                if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
            } else {
                cur += s[i];
            }
        }
        if (!cur.empty()) lines.push_back(cur);
        out = str_list(lines);
    } else if (name == "startswith" || name == "endswith") {
        out = Value(affix_match(s, r.get(0, "prefix"), name == "startswith", name));
    } else if (name == "replace") {
        const std::string old = need_str(r.get(0, "old"), "replace() argument 1");
        const std::string repl = need_str(r.get(1, "new"), "replace() argument 2");
        out = Value(py_replace(s, old, repl, need_int(r.get(2, "count", Value(-1)), "count")));
    } else if (name == "upper") {
        out = Value(py_upper(s));
    } else if (name == "lower") {
        out = Value(py_lower(s));
    } else if (name == "title") {
        out = Value(py_title(s));
    } else if (name == "capitalize") {
        out = Value(py_capitalize(s));
    } else if (name == "find" || name == "rfind" || name == "index" || name == "rindex") {
        const std::string sub = need_str(r.get(0, "sub"), name + "() argument");
        const int64_t at = py_find(s, sub, name[0] == 'r');
        if (at < 0 && name.ends_with("index")) throw TemplateError("substring not found");
        out = Value(at);
    } else if (name == "count") {
        out = Value(static_cast<int64_t>(py_count(s, need_str(r.get(0, "sub"), "count()"))));
    } else if (name == "join") {
        std::string joined;
        bool first = true;
        for (const Value& v : iterate(r.get(0, "iterable"))) {
            if (!first) joined += s;
            joined += need_str(v, "sequence item");
            first = false;
        }
        out = Value(std::move(joined));
    } else if (name == "removeprefix" || name == "removesuffix") {
        const std::string a = need_str(r.get(0, "affix"), name + "() argument");
        std::string v = s;
        if (name == "removeprefix" && v.starts_with(a)) v.erase(0, a.size());
        if (name == "removesuffix" && v.ends_with(a)) v.resize(v.size() - a.size());
        out = Value(std::move(v));
    } else if (name == "isdigit" || name == "isnumeric" || name == "isdecimal") {
        out = Value(all_chars(s, [](char32_t c) { return c >= '0' && c <= '9'; }));
    } else if (name == "isspace") {
        out = Value(all_chars(s, is_py_space));
    } else if (name == "isalpha" || name == "isalnum") {
        const bool alnum = name == "isalnum";
        out = Value(all_chars(s, [alnum](char32_t c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80 ||
                   (alnum && c >= '0' && c <= '9');
        }));
    } else if (name == "isupper" || name == "islower") {
        const std::string mapped = name == "isupper" ? py_upper(s) : py_lower(s);
        const bool cased = py_upper(s) != py_lower(s);
        out = Value(cased && mapped == s);
    } else {
        throw TemplateError("'str' object has no attribute '" + name + "'");
    }
    r.done();
    return out;
}

Value dict_method(const Value& d, const std::string& name, CallArgs& args) {
    ArgReader r(name, args);
    Value out;
    if (name == "items" || name == "keys" || name == "values") {
        std::vector<Value> items;
        for (const auto& [k, v] : d.dict().items) {
            if (name == "items") items.push_back(Value::list({Value(k), v}, true));
            else if (name == "keys") items.emplace_back(k);
            else items.push_back(v);
        }
        out = Value::list(std::move(items));
    } else if (name == "get") {
        const Value key = r.get(0, "key");
        const Value def = r.get(1, "default", Value::none());
        const Value* found = key.is_string() ? d.dict().find(key.str()) : nullptr;
        out = found ? *found : def;
    } else {
        throw TemplateError("'dict' object has no attribute '" + name + "'");
    }
    r.done();
    return out;
}

Value list_method(const Value& l, const std::string& name, CallArgs& args) {
    ArgReader r(name, args);
    const Value x = r.get(0, "value");
    r.done();
    const auto& items = l.items();
    if (name == "count") {
        return Value(static_cast<int64_t>(std::count_if(
            items.begin(), items.end(), [&](const Value& v) { return values_equal(v, x); })));
    }
    for (size_t i = 0; i < items.size(); ++i) {
        if (values_equal(items[i], x)) return Value(static_cast<int64_t>(i));
    }
    throw TemplateError(x.repr() + " is not in list");
}

bool is_string_method(const std::string& n) {
    static const char* kNames[] = {
        "strip",   "lstrip",     "rstrip",     "split",   "rsplit",  "splitlines", "startswith",
        "endswith", "replace",   "upper",      "lower",   "title",   "capitalize", "find",
        "rfind",   "index",      "rindex",     "count",   "join",    "removeprefix",
        "removesuffix", "isdigit", "isnumeric", "isdecimal", "isspace", "isalpha", "isalnum",
        "isupper", "islower"};
    return std::find(std::begin(kNames), std::end(kNames), n) != std::end(kNames);
}

Value bound(const Value& self, const std::string& name,
            Value (*fn)(const Value&, const std::string&, CallArgs&)) {
    return Value::function(name, [self, name, fn](CallArgs& a) { return fn(self, name, a); });
}

Value string_bound(const Value& self, const std::string& name, CallArgs& a) {
    return string_method(self.str(), name, a);
}

Value undefined_attr(const Value& obj, const std::string& name) {
    return Value::undefined("'" + obj.type_name() + " object' has no attribute '" + name + "'");
}

// Python index into a sequence of length n; nullopt when out of range.
std::optional<size_t> norm_index(int64_t i, size_t n) {
    if (i < 0) i += static_cast<int64_t>(n);
    if (i < 0 || i >= static_cast<int64_t>(n)) return std::nullopt;
    return static_cast<size_t>(i);
}

}  // namespace

Value ArgReader::get(size_t index, const char* name, Value def) {
    for (const auto& [k, v] : args_.kw) {
        if (k == name) {
            if (index < args_.pos.size()) {
                throw TemplateError(fn_ + "() got multiple values for argument '" + k + "'");
            }
            kw_read_.push_back(k);
            return v;
        }
    }
    if (index < args_.pos.size()) {
        n_pos_read_ = std::max(n_pos_read_, index + 1);
        return args_.pos[index];
    }
    return def;
}

bool ArgReader::has(size_t index, const char* name) const {
    if (index < args_.pos.size()) return true;
    return std::any_of(args_.kw.begin(), args_.kw.end(),
                       [&](const auto& kv) { return kv.first == name; });
}

void ArgReader::done() const {
    if (args_.pos.size() > n_pos_read_) {
        throw TemplateError(fn_ + "() takes at most " + std::to_string(n_pos_read_) +
                            " positional argument(s) (" + std::to_string(args_.pos.size()) +
                            " given)");
    }
    for (const auto& [k, v] : args_.kw) {
        if (std::find(kw_read_.begin(), kw_read_.end(), k) == kw_read_.end()) {
            throw TemplateError(fn_ + "() got an unexpected keyword argument '" + k + "'");
        }
    }
}

std::string undefined_message(const Value& undef) {
    return undef.str().empty() ? "value is undefined" : undef.str();
}

Value get_attribute(const Value& obj, const std::string& name) {
    if (obj.is_undefined()) throw TemplateError(undefined_message(obj));
    if (obj.is_string() && is_string_method(name)) return bound(obj, name, string_bound);
    if (obj.is_dict() && !obj.is_namespace()) {
        if (name == "items" || name == "keys" || name == "values" || name == "get") {
            return bound(obj, name, dict_method);
        }
    }
    if (obj.is_list() && (name == "index" || name == "count")) return bound(obj, name, list_method);
    if (obj.is_list() && (name == "append" || name == "pop" || name == "insert" ||
                          name == "extend" || name == "remove" || name == "clear")) {
        throw TemplateError("access to attribute '" + name + "' of '" + obj.type_name() +
                            "' object is unsafe (the sandbox forbids changing a list)");
    }
    if (obj.is_dict()) {
        if (const Value* v = obj.dict().find(name)) return *v;
    }
    if (!name.empty() && name[0] == '_') {
        throw TemplateError("access to attribute '" + name + "' of '" + obj.type_name() +
                            "' object is unsafe");
    }
    return undefined_attr(obj, name);
}

Value get_item(const Value& obj, const Value& key) {
    if (obj.is_undefined()) throw TemplateError(undefined_message(obj));
    if (obj.is_dict() && !obj.is_namespace() && key.is_string()) {
        if (const Value* v = obj.dict().find(key.str())) return *v;
        return get_attribute(obj, key.str());
    }
    if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
        if (obj.is_list()) {
            auto i = norm_index(key.as_int(), obj.items().size());
            return i ? obj.items()[*i]
                     : Value::undefined("'" + obj.type_name() + " object' has no element " +
                                        key.repr());
        }
        const std::u32string u = utf8_decode(obj.str());
        auto i = norm_index(key.as_int(), u.size());
        if (!i) return Value::undefined("'str object' has no element " + key.repr());
        return Value(utf8_encode(std::u32string_view(u).substr(*i, 1)));
    }
    if (key.is_string()) return get_attribute(obj, key.str());
    return Value::undefined("'" + obj.type_name() + " object' has no element " + key.repr());
}

Value get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
    const auto opt = [](const Value& v, const char* what) -> std::optional<int64_t> {
        if (v.is_undefined() || v.is_none()) return std::nullopt;
        return need_int(v, std::string("slice ") + what);
    };
    const std::optional<int64_t> b = opt(start, "start"), e = opt(stop, "stop"),
                                 s = opt(step, "step");
    const int64_t st = s.value_or(1);
    if (st == 0) throw TemplateError("slice step cannot be zero");
    std::u32string u;
    const bool is_str = obj.is_string();
    if (is_str) u = utf8_decode(obj.str());
    else if (!obj.is_list()) throw TemplateError("'" + obj.type_name() + "' object is not subscriptable");
    const auto n = static_cast<int64_t>(is_str ? u.size() : obj.items().size());
    const auto clamp = [&](std::optional<int64_t> v, int64_t def) {
        if (!v) return def;
        int64_t x = *v < 0 ? *v + n : *v;
        if (st > 0) return std::clamp<int64_t>(x, 0, n);
        return std::clamp<int64_t>(x, -1, n - 1);
    };
    const int64_t lo = clamp(b, st > 0 ? 0 : n - 1);
    const int64_t hi = clamp(e, st > 0 ? n : -1);
    std::vector<size_t> idx;
    for (int64_t i = lo; st > 0 ? i < hi : i > hi; i += st) idx.push_back(static_cast<size_t>(i));
    if (is_str) {
        std::u32string out;
        for (size_t i : idx) out += u[i];
        return Value(utf8_encode(out));
    }
    std::vector<Value> items;
    for (size_t i : idx) items.push_back(obj.items()[i]);
    return Value::list(std::move(items), obj.is_tuple());
}

std::vector<Value> iterate(const Value& v) {
    if (v.is_undefined()) return {};
    if (v.is_list()) return v.items();
    if (v.is_dict() && !v.is_namespace()) {
        std::vector<Value> keys;
        for (const auto& kv : v.dict().items) keys.emplace_back(kv.first);
        return keys;
    }
    if (v.is_string()) {
        std::vector<Value> chars;
        for (char32_t c : utf8_decode(v.str())) chars.emplace_back(utf8_encode(std::u32string(1, c)));
        return chars;
    }
    throw TemplateError("'" + v.type_name() + "' object is not iterable");
}

int64_t length_of(const Value& v) {
    if (v.is_undefined()) return 0;
    if (v.is_string()) return static_cast<int64_t>(utf8_decode(v.str()).size());
    if (v.is_list()) return static_cast<int64_t>(v.items().size());
    if (v.is_dict() && !v.is_namespace()) return static_cast<int64_t>(v.dict().items.size());
    throw TemplateError("object of type '" + v.type_name() + "' has no len()");
}

bool contains(const Value& container, const Value& needle) {
    if (container.is_string()) {
        if (!needle.is_string()) {
            throw TemplateError("'in <string>' requires string as left operand, not " +
                                needle.type_name());
        }
        return container.str().find(needle.str()) != std::string::npos;
    }
    if (container.is_dict() && !container.is_namespace()) {
        return needle.is_string() && container.dict().find(needle.str()) != nullptr;
    }
    if (container.is_list()) {
        return std::any_of(container.items().begin(), container.items().end(),
                           [&](const Value& v) { return values_equal(v, needle); });
    }
    if (container.is_undefined()) return false;
    throw TemplateError("argument of type '" + container.type_name() + "' is not iterable");
}

std::vector<std::pair<std::string, Value>> make_globals() {
    std::vector<std::pair<std::string, Value>> g;
    g.emplace_back("range", Value::function("range", [](CallArgs& a) {
        if (!a.kw.empty() || a.pos.empty() || a.pos.size() > 3) {
            throw TemplateError("range() takes 1 to 3 positional arguments");
        }
        int64_t start = 0, stop = 0, step = 1;
        if (a.pos.size() == 1) {
            stop = need_int(a.pos[0], "range() argument");
        } else {
            start = need_int(a.pos[0], "range() argument");
            stop = need_int(a.pos[1], "range() argument");
            if (a.pos.size() == 3) step = need_int(a.pos[2], "range() argument");
        }
        if (step == 0) throw TemplateError("range() arg 3 must not be zero");
        std::vector<Value> items;
        for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
            if (static_cast<int64_t>(items.size()) >= kMaxRange) {
                throw TemplateError("range() is too long (limit " + std::to_string(kMaxRange) + ")");
            }
            items.emplace_back(i);
        }
        return Value::list(std::move(items));
    }));
    const auto make_dict = [](CallArgs& a, bool ns) {
        std::vector<std::pair<std::string, Value>> items;
        DictData d;
        if (a.pos.size() > 1) throw TemplateError("expected at most 1 positional argument");
        if (!a.pos.empty()) {
            if (!a.pos[0].is_dict()) throw TemplateError("argument must be a mapping");
            d.items = a.pos[0].dict().items;
        }
        for (const auto& [k, v] : a.kw) {
            if (ns && !k.empty() && k[0] == '_') {
                throw TemplateError("Chat templates cannot store underscore-prefixed attributes "
                                    "on a namespace");
            }
            d.set(k, v);
        }
        return Value::dict(std::move(d.items), ns);
    };
    g.emplace_back("namespace", Value::function("namespace", [make_dict](CallArgs& a) {
        return make_dict(a, true);
    }));
    g.emplace_back("dict", Value::function("dict", [make_dict](CallArgs& a) {
        return make_dict(a, false);
    }));
    g.emplace_back("raise_exception", Value::function("raise_exception", [](CallArgs& a) -> Value {
        const std::string msg = a.pos.empty() ? std::string() : a.pos[0].to_str();
        throw TemplateError("raise_exception: " + msg);
    }));
    g.emplace_back("strftime_now", Value::function("strftime_now", [](CallArgs& a) {
        ArgReader r("strftime_now", a);
        const std::string fmt = need_str(r.get(0, "format"), "strftime_now() format");
        r.done();
        const std::time_t now = std::time(nullptr);
        std::tm tm{};
        localtime_r(&now, &tm);
        char buf[512];
        const size_t n = std::strftime(buf, sizeof(buf), fmt.c_str(), &tm);
        return Value(std::string(buf, n));
    }));
    return g;
}

}  // namespace ag::chat::jinja
