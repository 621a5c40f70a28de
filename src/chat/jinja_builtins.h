// Jinja built-ins as transformers' chat-template environment has them: filters (jinja2's plus
// HF's tojson), tests, attribute/item access with jinja2's default-Undefined rules, the Python
// methods of str/dict/list that the sandbox allows, and the globals (range, namespace, dict,
// raise_exception, strftime_now). All functions throw TemplateError on bad use.
#pragma once

#include <string>
#include <vector>

#include "chat/jinja_value.h"

namespace ag::chat::jinja {

/// Reads positional-or-keyword arguments of a built-in the Python way.
class ArgReader {
public:
    ArgReader(std::string fn, CallArgs& args) : fn_(std::move(fn)), args_(args) {}
    /// Argument `index` (positional) or `name` (keyword); `def` when absent.
    Value get(size_t index, const char* name, Value def = Value());
    bool has(size_t index, const char* name) const;
    /// Fails when arguments were passed that no get() asked for.
    void done() const;

private:
    std::string fn_;
    CallArgs& args_;
    size_t n_pos_read_ = 0;
    std::vector<std::string> kw_read_;
};

Value call_filter(const std::string& name, const Value& operand, CallArgs& args);
bool call_test(const std::string& name, const Value& operand, CallArgs& args);

/// `obj.name`: a method of a str/dict/list, else a dict key / namespace attribute, else
/// Undefined; on Undefined itself: TemplateError (jinja2's UndefinedError).
Value get_attribute(const Value& obj, const std::string& name);
/// `obj[key]` with the same fallbacks (a string key also tries attributes).
Value get_item(const Value& obj, const Value& key);
/// `obj[start:stop:step]` for strings, lists and tuples.
Value get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step);
/// What `for x in v` walks: list items, dict keys, string code points; Undefined: nothing.
std::vector<Value> iterate(const Value& v);
/// len(); TemplateError for values without one.
int64_t length_of(const Value& v);
/// `needle in container`.
bool contains(const Value& container, const Value& needle);

/// The global functions of the HF environment.
std::vector<std::pair<std::string, Value>> make_globals();

/// The "'x' is undefined" / "'dict object' has no attribute 'x'" message for an Undefined.
std::string undefined_message(const Value& undef);

}  // namespace ag::chat::jinja
