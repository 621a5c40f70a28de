#include "chat/jinja_interp.h"

#include <cmath>
#include <unordered_map>

#include "chat/jinja_builtins.h"

namespace ag::chat::jinja {

namespace {

using EK = Expr::Kind;
using SK = Stmt::Kind;

std::string op_error(const std::string& op, const Value& a, const Value& b) {
    if (a.is_undefined()) return undefined_message(a);
    if (b.is_undefined()) return undefined_message(b);
    return "unsupported operand type(s) for " + op + ": '" + a.type_name() + "' and '" +
           b.type_name() + "'";
}

class Interp {
public:
    Interp(const std::vector<std::pair<std::string, Value>>& context, const RenderLimits& limits)
        : limits_(limits) {
        frames_.emplace_back();
        for (auto& [k, v] : make_globals()) frames_[0][k] = std::move(v);
        for (const auto& [k, v] : context) frames_[0][k] = v;
    }

    std::string run(const Body& body) {
        std::string out;
        exec(body, out);
        return out;
    }

private:
    enum class Flow { kNormal, kBreak, kContinue };
    using Frame = std::unordered_map<std::string, Value>;

    RenderLimits limits_;
    std::vector<Frame> frames_;
    size_t scope_base_ = 0;  // lookups walk frames_[scope_base_..], then frames_[0]
    size_t n_bytes_ = 0;
    int64_t n_steps_ = 0;
    int32_t call_depth_ = 0;

    void step() {
        if (++n_steps_ > limits_.max_steps) {
            throw LimitError("template ran too long (more than " +
                             std::to_string(limits_.max_steps) + " steps)");
        }
    }

    void emit(std::string& out, std::string_view s) {
        n_bytes_ += s.size();
        if (n_bytes_ > limits_.max_output_bytes) {
            throw LimitError("template output is too large (more than " +
                             std::to_string(limits_.max_output_bytes) + " bytes)");
        }
        out.append(s);
    }

    void check_size(size_t n) const {
        if (n > limits_.max_output_bytes) throw LimitError("value is too large");
    }

    Value lookup(const std::string& name) const {
        for (size_t i = frames_.size(); i-- > scope_base_;) {
            auto it = frames_[i].find(name);
            if (it != frames_[i].end()) return it->second;
        }
        if (scope_base_ > 0) {
            auto it = frames_[0].find(name);
            if (it != frames_[0].end()) return it->second;
        }
        return Value::undefined("'" + name + "' is undefined");
    }

    void assign(const std::vector<std::string>& targets, const Value& v) {
        Frame& f = frames_.back();
        if (targets.size() == 1) {
            f[targets[0]] = v;
            return;
        }
        if (!v.is_list()) {
            throw TemplateError("cannot unpack non-sequence " + v.type_name());
        }
        if (v.items().size() != targets.size()) {
            throw TemplateError(std::string(v.items().size() > targets.size()
                                                ? "too many values to unpack"
                                                : "not enough values to unpack") +
                                " (expected " + std::to_string(targets.size()) + ", got " +
                                std::to_string(v.items().size()) + ")");
        }
        for (size_t i = 0; i < targets.size(); ++i) f[targets[i]] = v.items()[i];
    }

    // ---- statements -------------------------------------------------------------------

    Flow exec(const Body& body, std::string& out) {
        for (const StmtPtr& s : body) {
            const Flow f = exec_stmt(*s, out);
            if (f != Flow::kNormal) return f;
        }
        return Flow::kNormal;
    }

    Flow exec_stmt(const Stmt& s, std::string& out) {
        step();
        try {
            return exec_stmt_inner(s, out);
        } catch (TemplateError& e) {
            if (e.line() == 0) e.set_position(s.line, s.column);
            throw;
        }
    }

    Flow exec_stmt_inner(const Stmt& s, std::string& out) {
        switch (s.kind) {
            case SK::kText: emit(out, s.text); return Flow::kNormal;
            case SK::kOutput: emit(out, eval(*s.expr).to_str()); return Flow::kNormal;
            case SK::kIf:
                for (const auto& [cond, body] : s.branches) {
                    if (!cond || eval(*cond).truthy()) return exec(body, out);
                }
                return Flow::kNormal;
            case SK::kFor: return exec_for(s, out);
            case SK::kSet: {
                const Value v = eval(*s.expr);
                if (s.attr.empty()) {
                    assign(s.targets, v);
                } else {
                    const Value ns = lookup(s.targets[0]);
                    if (!ns.is_namespace()) {
                        throw TemplateError("cannot assign attribute on non-namespace object");
                    }
                    ns.mutable_namespace().set(s.attr, v);
                }
                return Flow::kNormal;
            }
            case SK::kSetBlock: {
                std::string text;
                if (exec(s.body, text) != Flow::kNormal) {
                    throw TemplateError("break/continue outside of a loop");
                }
                Value v(std::move(text));
                if (s.filter) v = apply_block_filter(*s.filter, std::move(v));
                assign(s.targets, v);
                return Flow::kNormal;
            }
            case SK::kMacro: frames_.back()[s.name] = make_macro(s); return Flow::kNormal;
            case SK::kBreak: return Flow::kBreak;
            case SK::kContinue: return Flow::kContinue;
            case SK::kFilterBlock: {
                std::string text;
                const Flow f = exec(s.body, text);
                emit(out, apply_block_filter(*s.filter, Value(std::move(text))).to_str());
                return f;
            }
            case SK::kScope: return exec(s.body, out);
        }
        return Flow::kNormal;
    }

    Value apply_block_filter(const Expr& filter, Value text) {
        frames_.emplace_back();
        frames_.back()[""] = std::move(text);
        Value v;
        try {
            v = eval(filter);
        } catch (...) {
            frames_.pop_back();
            throw;
        }
        frames_.pop_back();
        return v;
    }

    struct FramePop {
        explicit FramePop(std::vector<Frame>& f) : frames(f) { frames.emplace_back(); }
        ~FramePop() { frames.pop_back(); }
        std::vector<Frame>& frames;
    };

    Flow exec_for(const Stmt& s, std::string& out) {
        std::vector<Value> items = iterate(eval(*s.expr));
        FramePop scope(frames_);
        if (s.cond) {
            std::vector<Value> kept;
            for (Value& v : items) {
                step();
                assign(s.targets, v);
                if (eval(*s.cond).truthy()) kept.push_back(std::move(v));
            }
            items = std::move(kept);
        }
        const auto n = static_cast<int64_t>(items.size());
        for (int64_t i = 0; i < n; ++i) {
            step();
            const auto idx = static_cast<size_t>(i);
            assign(s.targets, items[idx]);
            std::vector<std::pair<std::string, Value>> loop = {
                {"index", Value(i + 1)},       {"index0", Value(i)},
                {"revindex", Value(n - i)},    {"revindex0", Value(n - i - 1)},
                {"first", Value(i == 0)},      {"last", Value(i == n - 1)},
                {"length", Value(n)},          {"depth", Value(1)},
                {"depth0", Value(0)}};
            if (i > 0) loop.emplace_back("previtem", items[idx - 1]);
            if (i + 1 < n) loop.emplace_back("nextitem", items[idx + 1]);
            loop.emplace_back("cycle", Value::function("cycle", [i](CallArgs& a) {
                if (a.pos.empty()) throw TemplateError("no items for cycling given");
                return a.pos[static_cast<size_t>(i) % a.pos.size()];
            }));
            frames_.back()["loop"] = Value::dict(std::move(loop));
            if (exec(s.body, out) == Flow::kBreak) break;
        }
        if (n == 0) {
            frames_.back().erase("loop");
            return exec(s.else_body, out);
        }
        return Flow::kNormal;
    }

    Value make_macro(const Stmt& s) {
        const Stmt* def = &s;
        return Value::function(s.name, [this, def](CallArgs& a) { return call_macro(*def, a); });
    }

    Value call_macro(const Stmt& def, CallArgs& a) {
        if (a.pos.size() > def.params.size()) {
            throw TemplateError("macro '" + def.name + "' takes not more than " +
                                std::to_string(def.params.size()) + " argument(s)");
        }
        if (++call_depth_ > limits_.max_call_depth) {
            --call_depth_;
            throw LimitError("macro calls nest too deeply (more than " +
                             std::to_string(limits_.max_call_depth) + ")");
        }
        const size_t saved_base = scope_base_;
        frames_.emplace_back();
        scope_base_ = frames_.size() - 1;
        std::string out;
        try {
            for (size_t i = 0; i < def.params.size(); ++i) {
                const MacroParam& p = def.params[i];
                Value v;
                bool found = i < a.pos.size();
                if (found) v = a.pos[i];
                for (const auto& [k, kv] : a.kw) {
                    if (k != p.name) continue;
                    if (found) throw TemplateError("macro '" + def.name +
                                                   "' got multiple values for argument '" + k + "'");
                    v = kv;
                    found = true;
                }
                if (!found && p.default_value) v = eval(*p.default_value);
                else if (!found) v = Value::undefined("'" + p.name + "' is undefined");
                frames_.back()[p.name] = std::move(v);
            }
            for (const auto& [k, kv] : a.kw) {
                bool known = false;
                for (const MacroParam& p : def.params) known = known || p.name == k;
                if (!known) {
                    throw TemplateError("macro '" + def.name + "' takes no keyword argument '" +
                                        k + "'");
                }
            }
            if (exec(def.body, out) != Flow::kNormal) {
                throw TemplateError("break/continue outside of a loop");
            }
        } catch (...) {
            frames_.pop_back();
            scope_base_ = saved_base;
            --call_depth_;
            throw;
        }
        frames_.pop_back();
        scope_base_ = saved_base;
        --call_depth_;
        return Value(std::move(out));
    }

    // ---- expressions ------------------------------------------------------------------

    Value eval(const Expr& e) {
        step();
        try {
            return eval_inner(e);
        } catch (TemplateError& err) {
            if (err.line() == 0) err.set_position(e.line, e.column);
            throw;
        }
    }

    CallArgs eval_args(const Expr& e, size_t first) {
        CallArgs a;
        for (size_t i = first; i < e.args.size(); ++i) a.pos.push_back(eval(*e.args[i]));
        for (const auto& [k, v] : e.kwargs) a.kw.emplace_back(k, eval(*v));
        return a;
    }

    Value eval_inner(const Expr& e) {
        switch (e.kind) {
            case EK::kLiteral: return e.literal;
            case EK::kName: return lookup(e.name);
            case EK::kList:
            case EK::kTuple: {
                std::vector<Value> items;
                for (const ExprPtr& x : e.args) items.push_back(eval(*x));
                return Value::list(std::move(items), e.kind == EK::kTuple);
            }
            case EK::kDict: {
                DictData d;
                for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
                    const Value k = eval(*e.args[i]);
                    if (!k.is_string()) throw TemplateError("dict keys must be strings");
                    d.set(k.str(), eval(*e.args[i + 1]));
                }
                return Value::dict(std::move(d.items));
            }
            case EK::kGetAttr: return get_attribute(eval(*e.args[0]), e.name);
            case EK::kGetItem: return get_item(eval(*e.args[0]), eval(*e.args[1]));
            case EK::kSlice: {
                const auto part = [&](size_t i) { return e.args[i] ? eval(*e.args[i]) : Value(); };
                const Value obj = eval(*e.args[0]);
                return get_slice(obj, part(1), part(2), part(3));
            }
            case EK::kCall: {
                const Value fn = eval(*e.args[0]);
                if (fn.is_undefined()) throw TemplateError(undefined_message(fn));
                CallArgs a = eval_args(e, 1);
                return fn.call(a);
            }
            case EK::kFilter: {
                const Value v = eval(*e.args[0]);
                CallArgs a = eval_args(e, 1);
                return call_filter(e.name, v, a);
            }
            case EK::kTest: {
                const Value v = eval(*e.args[0]);
                CallArgs a = eval_args(e, 1);
                return Value(call_test(e.name, v, a) != e.negated);
            }
            case EK::kNeg:
            case EK::kPos: {
                const Value v = eval(*e.args[0]);
                if (!v.is_number()) {
                    throw TemplateError(v.is_undefined() ? undefined_message(v)
                                                         : "bad operand type for unary " +
                                                               std::string(e.kind == EK::kNeg ? "-" : "+") +
                                                               ": '" + v.type_name() + "'");
                }
                if (e.kind == EK::kPos) return v.is_float() ? v : Value(v.as_int());
                return v.is_float() ? Value(-v.as_double()) : Value(-v.as_int());
            }
            case EK::kNot: return Value(!eval(*e.args[0]).truthy());
            case EK::kAnd: {
                Value a = eval(*e.args[0]);
                return a.truthy() ? eval(*e.args[1]) : a;
            }
            case EK::kOr: {
                Value a = eval(*e.args[0]);
                return a.truthy() ? a : eval(*e.args[1]);
            }
            case EK::kCond:
                if (eval(*e.args[0]).truthy()) return eval(*e.args[1]);
                return e.args[2] ? eval(*e.args[2]) : Value::undefined("the if expression was false");
            case EK::kBinary: return binary(e.name, eval(*e.args[0]), eval(*e.args[1]));
            case EK::kCompare: return compare(e);
        }
        return Value();
    }

    Value compare(const Expr& e) {
        Value left = eval(*e.args[0]);
        for (size_t i = 0; i < e.ops.size(); ++i) {
            Value right = eval(*e.args[i + 1]);
            const std::string& op = e.ops[i];
            bool r = false;
            if (op == "==") r = values_equal(left, right);
            else if (op == "!=") r = !values_equal(left, right);
            else if (op == "<") r = value_less(left, right);
            else if (op == ">") r = value_less(right, left);
            else if (op == "<=") r = !value_less(right, left);
            else if (op == ">=") r = !value_less(left, right);
            else if (op == "in") r = contains(right, left);
            else r = !contains(right, left);  // notin
            if (!r) return Value(false);
            left = std::move(right);
        }
        return Value(true);
    }

    Value repeat(const Value& seq, int64_t n) {
        if (n <= 0) return seq.is_string() ? Value("") : Value::list({}, seq.is_tuple());
        if (seq.is_string()) {
            check_size(seq.str().size() * static_cast<size_t>(n));
            std::string out;
            for (int64_t i = 0; i < n; ++i) out += seq.str();
            return Value(std::move(out));
        }
        check_size(seq.items().size() * static_cast<size_t>(n));
        std::vector<Value> out;
        for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq.items().begin(), seq.items().end());
        return Value::list(std::move(out), seq.is_tuple());
    }

    Value binary(const std::string& op, const Value& a, const Value& b) {
        if (op == "~") {
            std::string s = a.to_str() + b.to_str();
            check_size(s.size());
            return Value(std::move(s));
        }
        if (a.is_number() && b.is_number()) return arith(op, a, b);
        if (op == "+") {
            if (a.is_string() && b.is_string()) {
                check_size(a.str().size() + b.str().size());
                return Value(a.str() + b.str());
            }
            if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
                std::vector<Value> items = a.items();
                items.insert(items.end(), b.items().begin(), b.items().end());
                return Value::list(std::move(items), a.is_tuple());
            }
        }
        if (op == "*") {
            if ((a.is_string() || a.is_list()) && (b.is_int() || b.is_bool())) return repeat(a, b.as_int());
            if ((b.is_string() || b.is_list()) && (a.is_int() || a.is_bool())) return repeat(b, a.as_int());
        }
        throw TemplateError(op_error(op, a, b));
    }

    static Value arith(const std::string& op, const Value& a, const Value& b) {
        const bool fl = a.is_float() || b.is_float();
        if (op == "/") {
            if (b.as_double() == 0) throw TemplateError("division by zero");
            return Value(a.as_double() / b.as_double());
        }
        if (op == "**") {
            if (!fl && b.as_int() >= 0) {
                // Exponentiation by squaring: O(log b) steps, so a huge
                // exponent on 0, 1 or -1 cannot hang the renderer.
                int64_t r = 1, base = a.as_int(), e = b.as_int();
                while (e > 0) {
                    if ((e & 1) && __builtin_mul_overflow(r, base, &r)) {
                        throw TemplateError("integer overflow");
                    }
                    e >>= 1;
                    if (e > 0 && __builtin_mul_overflow(base, base, &base)) {
                        throw TemplateError("integer overflow");
                    }
                }
                return Value(r);
            }
            return Value(std::pow(a.as_double(), b.as_double()));
        }
        if (op == "//" || op == "%") {
            if (fl) {
                if (b.as_double() == 0) throw TemplateError("float division by zero");
                const double q = std::floor(a.as_double() / b.as_double());
                return op == "//" ? Value(q) : Value(a.as_double() - q * b.as_double());
            }
            if (b.as_int() == 0) throw TemplateError("integer division or modulo by zero");
            int64_t q = a.as_int() / b.as_int();
            int64_t r = a.as_int() % b.as_int();
            if (r != 0 && ((r < 0) != (b.as_int() < 0))) {
                --q;
                r += b.as_int();
            }
            return op == "//" ? Value(q) : Value(r);
        }
        if (fl) {
            const double x = a.as_double(), y = b.as_double();
            if (op == "+") return Value(x + y);
            if (op == "-") return Value(x - y);
            return Value(x * y);
        }
        const int64_t x = a.as_int(), y = b.as_int();
        int64_t r = 0;
        const bool overflow = op == "+" ? __builtin_add_overflow(x, y, &r)
                              : op == "-" ? __builtin_sub_overflow(x, y, &r)
                                          : __builtin_mul_overflow(x, y, &r);
        if (overflow) throw TemplateError("integer overflow");
        return Value(r);
    }
};

}  // namespace

std::string render_body(const Body& body,
                        const std::vector<std::pair<std::string, Value>>& context,
                        const RenderLimits& limits) {
    return Interp(context, limits).run(body);
}

}  // namespace ag::chat::jinja
