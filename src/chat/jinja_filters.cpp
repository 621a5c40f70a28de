// Filters and tests (jinja2's semantics; tojson is HF's json.dumps override).
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "chat/jinja_builtins.h"
#include "chat/py_string.h"

namespace ag::chat::jinja {

namespace {

// jinja2's attribute lookup for filters: "a.b.0" walks attributes / integer indices.
Value attr_path(const Value& v, const std::string& path) {
    Value cur = v;
    size_t start = 0;
    while (start <= path.size()) {
        const size_t dot = path.find('.', start);
        const std::string part = path.substr(start, dot == std::string::npos ? dot : dot - start);
        if (!part.empty() && std::all_of(part.begin(), part.end(), ::isdigit)) {
            cur = get_item(cur, Value(static_cast<int64_t>(std::stoll(part))));
        } else {
            cur = get_item(cur, Value(part));
        }
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return cur;
}

Value sort_key(const Value& v, bool case_sensitive) {
    if (!case_sensitive && v.is_string()) return Value(py_lower(v.str()));
    return v;
}

std::string html_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&#34;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string do_indent(std::string s, const Value& width, bool first, bool blank) {
    const std::string ind = width.is_string() ? width.str()
                                              : std::string(static_cast<size_t>(std::max<int64_t>(
                                                                0, width.as_int())),
                                                            ' ');
    s += "\n";
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
    std::string rv;
    for (size_t i = 0; i < lines.size(); ++i) {
        if (i > 0) {
            rv += "\n";
            if (blank || !lines[i].empty()) rv += ind;
        }
        rv += lines[i];
    }
    return first ? ind + rv : rv;
}

Value to_int(const Value& v, const Value& def, int base) {
    if (v.is_int() || v.is_bool()) return Value(v.as_int());
    if (v.is_float()) {
        if (!std::isfinite(v.as_double())) return def;
        return Value(static_cast<int64_t>(v.as_double()));
    }
    if (v.is_string()) {
        const std::string s = py_strip(v.str(), std::nullopt, true, true);
        char* end = nullptr;
        errno = 0;
        const long long i = std::strtoll(s.c_str(), &end, base);
        if (!s.empty() && end && *end == '\0' && errno == 0) return Value(static_cast<int64_t>(i));
        const double d = std::strtod(s.c_str(), &end);
        if (!s.empty() && end && *end == '\0' && std::isfinite(d)) {
            return Value(static_cast<int64_t>(d));
        }
    }
    return def;
}

Value to_float(const Value& v, const Value& def) {
    if (v.is_number()) return Value(v.as_double());
    if (v.is_string()) {
        const std::string s = py_strip(v.str(), std::nullopt, true, true);
        char* end = nullptr;
        const double d = std::strtod(s.c_str(), &end);
        if (!s.empty() && end && *end == '\0') return Value(d);
    }
    return def;
}

Value do_round(const Value& v, int64_t precision, const std::string& method) {
    if (!v.is_number()) throw TemplateError("round() needs a number, not " + v.type_name());
    const double scale = std::pow(10.0, static_cast<double>(precision));
    const double x = v.as_double() * scale;
    double r = 0;
    if (method == "common") r = std::nearbyint(x);  // Python's round(): half to even
    else if (method == "ceil") r = std::ceil(x);
    else if (method == "floor") r = std::floor(x);
    else throw TemplateError("method must be common, ceil or floor");
    return Value(r / scale);
}

Value tojson(const Value& v, CallArgs& args) {
    ArgReader r("tojson", args);
    const bool ascii = r.get(0, "ensure_ascii", Value(false)).truthy();
    const Value indent = r.get(1, "indent", Value::none());
    const Value seps = r.get(2, "separators", Value::none());
    const bool sort_keys = r.get(3, "sort_keys", Value(false)).truthy();
    r.done();
    int n_indent = -1;
    if (indent.is_int()) n_indent = static_cast<int>(std::clamp<int64_t>(indent.as_int(), 0, 64));
    else if (!indent.is_none()) throw TemplateError("tojson: indent must be an integer or None");
    std::string item_sep = n_indent >= 0 ? "," : ", ", key_sep = ": ";
    if (!seps.is_none()) {
        if (!seps.is_list() || seps.items().size() != 2 || !seps.items()[0].is_string() ||
            !seps.items()[1].is_string()) {
            throw TemplateError("tojson: separators must be a pair of strings");
        }
        item_sep = seps.items()[0].str();
        key_sep = seps.items()[1].str();
    }
    return Value(v.to_json(ascii, n_indent, item_sep, key_sep, sort_keys));
}

// map / select / reject / selectattr / rejectattr
Value select_like(const std::string& name, const Value& seq, CallArgs& args) {
    const bool by_attr = name.ends_with("attr");
    const bool keep = name.starts_with("select");
    std::vector<Value> out;
    CallArgs rest;
    std::string attr, test;
    size_t k = 0;
    if (by_attr) {
        if (args.pos.empty()) throw TemplateError(name + "() needs an attribute name");
        attr = args.pos[k++].to_str();
    }
    if (k < args.pos.size()) test = args.pos[k++].to_str();
    rest.pos.assign(args.pos.begin() + static_cast<std::ptrdiff_t>(k), args.pos.end());
    rest.kw = args.kw;
    for (const Value& item : iterate(seq)) {
        const Value subject = by_attr ? attr_path(item, attr) : item;
        CallArgs a = rest;
        const bool ok = test.empty() ? subject.truthy() : call_test(test, subject, a);
        if (ok == keep) out.push_back(item);
    }
    return Value::list(std::move(out));
}

Value do_map(const Value& seq, CallArgs& args) {
    std::vector<Value> out;
    const auto attr = std::find_if(args.kw.begin(), args.kw.end(),
                                   [](const auto& kv) { return kv.first == "attribute"; });
    if (attr != args.kw.end()) {
        Value def;
        for (const auto& [k, v] : args.kw) {
            if (k == "default") def = v;
            else if (k != "attribute") throw TemplateError("map() got an unexpected keyword '" + k + "'");
        }
        for (const Value& item : iterate(seq)) {
            Value v = attr_path(item, attr->second.to_str());
            out.push_back(v.is_undefined() && !def.is_undefined() ? def : v);
        }
        return Value::list(std::move(out));
    }
    if (args.pos.empty()) throw TemplateError("map() needs a filter name or attribute=");
    const std::string filter = args.pos[0].to_str();
    CallArgs rest;
    rest.pos.assign(args.pos.begin() + 1, args.pos.end());
    rest.kw = args.kw;
    for (const Value& item : iterate(seq)) {
        CallArgs a = rest;
        out.push_back(call_filter(filter, item, a));
    }
    return Value::list(std::move(out));
}

Value min_max(const Value& seq, CallArgs& args, bool want_max) {
    ArgReader r(want_max ? "max" : "min", args);
    const bool cs = r.get(0, "case_sensitive", Value(false)).truthy();
    const Value attr = r.get(1, "attribute", Value::none());
    r.done();
    const std::vector<Value> items = iterate(seq);
    if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
    const Value* best = &items[0];
    for (const Value& v : items) {
        const Value a = sort_key(attr.is_none() ? v : attr_path(v, attr.to_str()), cs);
        const Value b = sort_key(attr.is_none() ? *best : attr_path(*best, attr.to_str()), cs);
        if (want_max ? value_less(b, a) : value_less(a, b)) best = &v;
    }
    return *best;
}

Value do_sort(const Value& seq, CallArgs& args) {
    ArgReader r("sort", args);
    const bool reverse = r.get(0, "reverse", Value(false)).truthy();
    const bool cs = r.get(1, "case_sensitive", Value(false)).truthy();
    const Value attr = r.get(2, "attribute", Value::none());
    r.done();
    std::vector<Value> items = iterate(seq);
    const auto key = [&](const Value& v) {
        return sort_key(attr.is_none() ? v : attr_path(v, attr.to_str()), cs);
    };
    std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
        return reverse ? value_less(key(b), key(a)) : value_less(key(a), key(b));
    });
    return Value::list(std::move(items));
}

Value do_dictsort(const Value& d, CallArgs& args) {
    ArgReader r("dictsort", args);
    const bool cs = r.get(0, "case_sensitive", Value(false)).truthy();
    const std::string by = r.get(1, "by", Value("key")).to_str();
    const bool reverse = r.get(2, "reverse", Value(false)).truthy();
    r.done();
    if (!d.is_dict()) throw TemplateError("dictsort: expected a dict");
    std::vector<Value> items;
    for (const auto& [k, v] : d.dict().items) items.push_back(Value::list({Value(k), v}, true));
    const size_t pos = by == "value" ? 1 : 0;
    std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
        const Value x = sort_key(a.items()[pos], cs), y = sort_key(b.items()[pos], cs);
        return reverse ? value_less(y, x) : value_less(x, y);
    });
    return Value::list(std::move(items));
}

Value do_unique(const Value& seq, CallArgs& args) {
    ArgReader r("unique", args);
    const bool cs = r.get(0, "case_sensitive", Value(false)).truthy();
    const Value attr = r.get(1, "attribute", Value::none());
    r.done();
    std::vector<Value> out, seen;
    for (const Value& v : iterate(seq)) {
        const Value k = sort_key(attr.is_none() ? v : attr_path(v, attr.to_str()), cs);
        if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) { return values_equal(s, k); })) {
            seen.push_back(k);
            out.push_back(v);
        }
    }
    return Value::list(std::move(out));
}

Value do_sum(const Value& seq, CallArgs& args) {
    ArgReader r("sum", args);
    const Value attr = r.get(0, "attribute", Value::none());
    Value total = r.get(1, "start", Value(0));
    r.done();
    for (const Value& v : iterate(seq)) {
        const Value x = attr.is_none() ? v : attr_path(v, attr.to_str());
        if (!x.is_number() || !total.is_number()) throw TemplateError("sum() needs numbers");
        if (x.is_float() || total.is_float()) total = Value(total.as_double() + x.as_double());
        else total = Value(total.as_int() + x.as_int());
    }
    return total;
}

Value do_reverse(const Value& v) {
    if (v.is_string()) {
        std::u32string u = utf8_decode(v.str());
        std::reverse(u.begin(), u.end());
        return Value(utf8_encode(u));
    }
    std::vector<Value> items = iterate(v);
    std::reverse(items.begin(), items.end());
    return Value::list(std::move(items));
}

Value do_items(const Value& v) {
    if (v.is_undefined()) return Value::list({});
    if (!v.is_dict() || v.is_namespace()) throw TemplateError("items: expected a mapping");
    std::vector<Value> items;
    for (const auto& [k, x] : v.dict().items) items.push_back(Value::list({Value(k), x}, true));
    return Value::list(std::move(items));
}

Value do_join(const Value& seq, CallArgs& args) {
    ArgReader r("join", args);
    const std::string sep = r.get(0, "d", Value("")).to_str();
    const Value attr = r.get(1, "attribute", Value::none());
    r.done();
    std::string out;
    bool first = true;
    for (const Value& v : iterate(seq)) {
        if (!first) out += sep;
        out += (attr.is_none() ? v : attr_path(v, attr.to_str())).to_str();
        first = false;
    }
    return Value(std::move(out));
}

Value simple_string_filter(const std::string& name, const Value& v, CallArgs& args) {
    static const char* kNames[] = {"trim",   "upper",  "lower",  "title",  "capitalize", "replace",
                                   "indent", "e",      "escape", "forceescape", "wordcount"};
    if (std::find(std::begin(kNames), std::end(kNames), name) == std::end(kNames)) return Value();
    ArgReader r(name, args);
    Value out;
    const std::string s = v.to_str();
    if (name == "trim") {
        const Value chars = r.get(0, "chars", Value::none());
        out = Value(py_strip(s, chars.is_none() ? std::nullopt : std::optional(chars.to_str()),
                             true, true));
    } else if (name == "upper") {
        out = Value(py_upper(s));
    } else if (name == "lower") {
        out = Value(py_lower(s));
    } else if (name == "title") {
        out = Value(py_title(s));
    } else if (name == "capitalize") {
        out = Value(py_capitalize(s));
    } else if (name == "replace") {
        const std::string old = r.get(0, "old").to_str(), repl = r.get(1, "new").to_str();
        const Value count = r.get(2, "count", Value::none());
        out = Value(py_replace(s, old, repl, count.is_none() ? -1 : count.as_int()));
    } else if (name == "indent") {
        const Value width = r.get(0, "width", Value(4));
        const bool first = r.get(1, "first", Value(false)).truthy();
        const bool blank = r.get(2, "blank", Value(false)).truthy();
        out = Value(do_indent(s, width, first, blank));
    } else if (name == "e" || name == "escape" || name == "forceescape") {
        out = Value(html_escape(s));
    } else if (name == "wordcount") {
        out = Value(static_cast<int64_t>(py_split(s, std::nullopt, -1, false).size()));
    } else {
        return Value::undefined();
    }
    r.done();
    return out;
}

}  // namespace

Value call_filter(const std::string& name, const Value& v, CallArgs& args) {
    if (Value out = simple_string_filter(name, v, args); !out.is_undefined()) return out;
    if (name == "tojson") return tojson(v, args);
    if (name == "map") return do_map(v, args);
    if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
        return select_like(name, v, args);
    }
    if (name == "sort") return do_sort(v, args);
    if (name == "dictsort") return do_dictsort(v, args);
    if (name == "unique") return do_unique(v, args);
    if (name == "sum") return do_sum(v, args);
    if (name == "join") return do_join(v, args);
    if (name == "max" || name == "min") return min_max(v, args, name == "max");
    ArgReader r(name, args);
    Value out;
    if (name == "length" || name == "count") {
        out = Value(length_of(v));
    } else if (name == "default" || name == "d") {
        const Value def = r.get(0, "default_value", Value(""));
        const bool boolean = r.get(1, "boolean", Value(false)).truthy();
        out = (v.is_undefined() || (boolean && !v.truthy())) ? def : v;
    } else if (name == "first") {
        const std::vector<Value> items = iterate(v);
        out = items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
    } else if (name == "last") {
        const std::vector<Value> items = iterate(v);
        out = items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
    } else if (name == "string") {
        out = Value(v.to_str());
    } else if (name == "int") {
        const Value def = r.get(0, "default", Value(0));
        out = to_int(v, def, static_cast<int>(r.get(1, "base", Value(10)).as_int()));
    } else if (name == "float") {
        out = to_float(v, r.get(0, "default", Value(0.0)));
    } else if (name == "list") {
        out = Value::list(iterate(v));
    } else if (name == "items") {
        out = do_items(v);
    } else if (name == "reverse") {
        out = do_reverse(v);
    } else if (name == "abs") {
        if (v.is_float()) out = Value(std::fabs(v.as_double()));
        else if (v.is_number()) out = Value(static_cast<int64_t>(std::llabs(v.as_int())));
        else throw TemplateError("bad operand type for abs(): '" + v.type_name() + "'");
    } else if (name == "round") {
        const int64_t precision = r.get(0, "precision", Value(0)).as_int();
        out = do_round(v, precision, r.get(1, "method", Value("common")).to_str());
    } else if (name == "safe") {
        out = v;
    } else if (name == "attr") {
        out = get_attribute(v, r.get(0, "name").to_str());
    } else if (name == "pprint") {
        out = Value(v.repr());
    } else {
        throw TemplateError("no filter named '" + name + "'");
    }
    r.done();
    return out;
}

bool call_test(const std::string& name, const Value& v, CallArgs& args) {
    ArgReader r(name, args);
    bool out = false;
    if (name == "defined") out = !v.is_undefined();
    else if (name == "undefined") out = v.is_undefined();
    else if (name == "none") out = v.is_none();
    else if (name == "string") out = v.is_string();
    else if (name == "number") out = v.is_number();
    else if (name == "integer") out = v.is_int();
    else if (name == "float") out = v.is_float();
    else if (name == "boolean") out = v.is_bool();
    else if (name == "true") out = v.is_bool() && v.as_bool();
    else if (name == "false") out = v.is_bool() && !v.as_bool();
    else if (name == "mapping") out = v.is_dict() && !v.is_namespace();
    else if (name == "iterable") out = v.is_undefined() || v.is_string() || v.is_list() ||
                                       (v.is_dict() && !v.is_namespace());
    else if (name == "sequence") out = v.is_undefined() || v.is_string() || v.is_list() ||
                                       (v.is_dict() && !v.is_namespace());
    else if (name == "callable") out = v.is_function();
    else if (name == "lower") out = v.to_str() == py_lower(v.to_str());
    else if (name == "upper") out = v.to_str() == py_upper(v.to_str());
    else if (name == "even" || name == "odd" || name == "divisibleby") {
        if (!v.is_int() && !v.is_bool()) throw TemplateError(name + " test needs an integer");
        const int64_t n = name == "divisibleby" ? r.get(0, "num").as_int() : 2;
        if (n == 0) throw TemplateError("integer division or modulo by zero");
        out = name == "odd" ? v.as_int() % 2 != 0 : v.as_int() % n == 0;
    } else if (name == "in") {
        out = contains(r.get(0, "seq"), v);
    } else if (name == "sameas") {
        const Value o = r.get(0, "other");
        out = (v.is_none() && o.is_none()) || (v.is_bool() && o.is_bool() && v.as_bool() == o.as_bool());
    } else {
        const Value o = r.get(0, "other");
        if (name == "eq" || name == "equalto" || name == "==") out = values_equal(v, o);
        else if (name == "ne" || name == "!=") out = !values_equal(v, o);
        else if (name == "lt" || name == "lessthan" || name == "<") out = value_less(v, o);
        else if (name == "le" || name == "<=") out = !value_less(o, v);
        else if (name == "gt" || name == "greaterthan" || name == ">") out = value_less(o, v);
        else if (name == "ge" || name == ">=") out = !value_less(v, o);
        else throw TemplateError("no test named '" + name + "'");
    }
    r.done();
    return out;
}

}  // namespace ag::chat::jinja
