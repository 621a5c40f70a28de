#include "chat/jinja_parser.h"

#include <charconv>
#include <initializer_list>

#include "chat/jinja_lexer.h"

namespace ag::chat::jinja {

namespace {

using Type = Token::Type;
using EK = Expr::Kind;
using SK = Stmt::Kind;

std::string describe(const Token& t) {
    switch (t.type) {
        case Type::kText: return "template data";
        case Type::kVarBegin: return "'{{'";
        case Type::kVarEnd: return "'}}'";
        case Type::kBlockBegin: return "'{%'";
        case Type::kBlockEnd: return "'%}'";
        case Type::kEof: return "end of template";
        case Type::kString: return "string";
        default: return "'" + t.value + "'";
    }
}

class Parser {
public:
    explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

    Body parse_all() {
        std::string which;
        return parse_until({}, which);
    }

private:
    std::vector<Token> toks_;
    size_t i_ = 0;
    int depth_ = 0;  // nesting of expressions/blocks, bounded against stack exhaustion

    const Token& cur() const { return toks_[i_]; }
    const Token& peek(size_t n = 1) const { return toks_[std::min(i_ + n, toks_.size() - 1)]; }
    void next() {
        if (i_ + 1 < toks_.size()) ++i_;
    }

    [[noreturn]] void fail(const std::string& msg, const Token& at) const {
        throw TemplateError(msg, at.line, at.column);
    }
    [[noreturn]] void fail(const std::string& msg) const { fail(msg, cur()); }

    bool is_op(std::string_view op) const { return cur().type == Type::kOp && cur().value == op; }
    bool is_name(std::string_view n) const {
        return cur().type == Type::kName && cur().value == n;
    }
    void expect_op(std::string_view op) {
        if (!is_op(op)) fail("expected '" + std::string(op) + "', got " + describe(cur()));
        next();
    }
    void expect_block_end() {
        if (cur().type != Type::kBlockEnd) fail("expected '%}', got " + describe(cur()));
        next();
    }
    std::string expect_name() {
        if (cur().type != Type::kName) fail("expected a name, got " + describe(cur()));
        std::string n = cur().value;
        next();
        return n;
    }

    struct DepthGuard {
        explicit DepthGuard(Parser& p) : p_(p) {
            if (++p_.depth_ > 200) p_.fail("template nesting is too deep");
        }
        ~DepthGuard() { --p_.depth_; }
        Parser& p_;
    };

    template <typename T>
    std::unique_ptr<T> node_at(const Token& t) {
        auto n = std::make_unique<T>();
        n->line = t.line;
        n->column = t.column;
        return n;
    }

    // ---- statements -------------------------------------------------------------------

    // Parses until a block tag named in `ends`; consumes `{%` and the name, sets `which`.
    Body parse_until(std::initializer_list<std::string_view> ends, std::string& which) {
        DepthGuard guard(*this);
        Body body;
        while (true) {
            const Token& t = cur();
            if (t.type == Type::kEof) {
                if (ends.size() == 0) return body;
                fail("unexpected end of template, expected '" + std::string(*(ends.end() - 1)) +
                     "' (the block opened earlier is not closed)");
            }
            if (t.type == Type::kText) {
                auto s = node_at<Stmt>(t);
                s->kind = SK::kText;
                s->text = t.value;
                body.push_back(std::move(s));
                next();
            } else if (t.type == Type::kVarBegin) {
                auto s = node_at<Stmt>(t);
                s->kind = SK::kOutput;
                next();
                s->expr = parse_tuple_expr();
                if (cur().type != Type::kVarEnd) fail("expected '}}', got " + describe(cur()));
                next();
                body.push_back(std::move(s));
            } else if (t.type == Type::kBlockBegin) {
                const Token& name = peek();
                if (name.type != Type::kName) fail("expected a statement name", name);
                for (std::string_view e : ends) {
                    if (name.value == e) {
                        which = name.value;
                        next();
                        next();
                        return body;
                    }
                }
                next();
                body.push_back(parse_statement());
            } else {
                fail("unexpected " + describe(t));
            }
        }
    }

    StmtPtr parse_statement() {
        const Token t = cur();
        const std::string& n = t.value;
        next();
        if (n == "if") return parse_if(t);
        if (n == "for") return parse_for(t);
        if (n == "set") return parse_set(t);
        if (n == "macro") return parse_macro(t);
        if (n == "filter") return parse_filter_block(t);
        if (n == "break" || n == "continue") {
            auto s = node_at<Stmt>(t);
            s->kind = n == "break" ? SK::kBreak : SK::kContinue;
            expect_block_end();
            return s;
        }
        if (n == "generation") {
            auto s = node_at<Stmt>(t);
            s->kind = SK::kScope;
            expect_block_end();
            std::string which;
            s->body = parse_until({"endgeneration"}, which);
            expect_block_end();
            return s;
        }
        if (n.rfind("end", 0) == 0 || n == "elif" || n == "else") {
            fail("unexpected '" + n + "' (no block is open that it could close)", t);
        }
        fail("unsupported tag '" + n + "'", t);
    }

    StmtPtr parse_if(const Token& t) {
        auto s = node_at<Stmt>(t);
        s->kind = SK::kIf;
        ExprPtr cond = parse_expr();
        while (true) {
            expect_block_end();
            std::string which;
            Body body = parse_until({"elif", "else", "endif"}, which);
            s->branches.emplace_back(std::move(cond), std::move(body));
            if (which == "endif") break;
            if (which == "else") {
                expect_block_end();
                std::string w2;
                s->branches.emplace_back(nullptr, parse_until({"endif"}, w2));
                break;
            }
            cond = parse_expr();
        }
        expect_block_end();
        return s;
    }

    std::vector<std::string> parse_targets() {
        std::vector<std::string> names;
        const bool paren = is_op("(");
        if (paren) next();
        names.push_back(expect_name());
        while (is_op(",")) {
            next();
            if (cur().type != Type::kName || is_name("in")) break;
            names.push_back(expect_name());
        }
        if (paren) expect_op(")");
        return names;
    }

    StmtPtr parse_for(const Token& t) {
        auto s = node_at<Stmt>(t);
        s->kind = SK::kFor;
        s->targets = parse_targets();
        if (!is_name("in")) fail("expected 'in', got " + describe(cur()));
        next();
        s->expr = parse_or();
        if (is_name("if")) {
            next();
            s->cond = parse_expr();
        }
        if (is_name("recursive")) fail("recursive for loops are not supported");
        expect_block_end();
        std::string which;
        s->body = parse_until({"else", "endfor"}, which);
        if (which == "else") {
            expect_block_end();
            s->else_body = parse_until({"endfor"}, which);
        }
        expect_block_end();
        return s;
    }

    StmtPtr parse_set(const Token& t) {
        auto s = node_at<Stmt>(t);
        s->kind = SK::kSet;
        s->targets.push_back(expect_name());
        if (is_op(".")) {
            next();
            s->attr = expect_name();
        } else {
            while (is_op(",")) {
                next();
                s->targets.push_back(expect_name());
            }
        }
        if (is_op("=")) {
            next();
            s->expr = parse_tuple_expr();
            expect_block_end();
            return s;
        }
        if (!s->attr.empty() || s->targets.size() != 1) fail("expected '='");
        s->kind = SK::kSetBlock;
        if (is_op("|")) s->filter = parse_filters(placeholder(cur()));
        expect_block_end();
        std::string which;
        s->body = parse_until({"endset"}, which);
        expect_block_end();
        return s;
    }

    StmtPtr parse_macro(const Token& t) {
        auto s = node_at<Stmt>(t);
        s->kind = SK::kMacro;
        s->name = expect_name();
        expect_op("(");
        while (!is_op(")")) {
            MacroParam p;
            p.name = expect_name();
            if (is_op("=")) {
                next();
                p.default_value = parse_expr();
            } else if (!s->params.empty() && s->params.back().default_value) {
                fail("non-default argument follows default argument");
            }
            s->params.push_back(std::move(p));
            if (!is_op(",")) break;
            next();
        }
        expect_op(")");
        expect_block_end();
        std::string which;
        s->body = parse_until({"endmacro"}, which);
        if (cur().type == Type::kName) next();  // {% endmacro name %}
        expect_block_end();
        return s;
    }

    ExprPtr placeholder(const Token& t) {
        auto e = node_at<Expr>(t);
        e->kind = EK::kName;  // empty name: the block body being filtered
        return e;
    }

    StmtPtr parse_filter_block(const Token& t) {
        auto s = node_at<Stmt>(t);
        s->kind = SK::kFilterBlock;
        ExprPtr base = placeholder(t);
        s->filter = parse_filter_chain(std::move(base), false);
        expect_block_end();
        std::string which;
        s->body = parse_until({"endfilter"}, which);
        expect_block_end();
        return s;
    }

    // ---- expressions ------------------------------------------------------------------

    ExprPtr parse_tuple_expr() {
        const Token t = cur();
        ExprPtr first = parse_expr();
        if (!is_op(",")) return first;
        auto tup = node_at<Expr>(t);
        tup->kind = EK::kTuple;
        tup->args.push_back(std::move(first));
        while (is_op(",")) {
            next();
            if (cur().type == Type::kVarEnd || cur().type == Type::kBlockEnd || is_op(")")) break;
            tup->args.push_back(parse_expr());
        }
        return tup;
    }

    ExprPtr parse_expr() {
        DepthGuard guard(*this);
        const Token t = cur();
        ExprPtr e = parse_or();
        while (is_name("if")) {
            next();
            auto c = node_at<Expr>(t);
            c->kind = EK::kCond;
            c->args.push_back(parse_or());
            c->args.push_back(std::move(e));
            if (is_name("else")) {
                next();
                c->args.push_back(parse_expr());
            } else {
                c->args.push_back(nullptr);
            }
            e = std::move(c);
        }
        return e;
    }

    ExprPtr binary(EK kind, const Token& t, ExprPtr a, ExprPtr b, std::string op = {}) {
        auto e = node_at<Expr>(t);
        e->kind = kind;
        e->name = std::move(op);
        e->args.push_back(std::move(a));
        e->args.push_back(std::move(b));
        return e;
    }

    ExprPtr parse_or() {
        ExprPtr e = parse_and();
        while (is_name("or")) {
            const Token t = cur();
            next();
            e = binary(EK::kOr, t, std::move(e), parse_and());
        }
        return e;
    }

    ExprPtr parse_and() {
        ExprPtr e = parse_not();
        while (is_name("and")) {
            const Token t = cur();
            next();
            e = binary(EK::kAnd, t, std::move(e), parse_not());
        }
        return e;
    }

    ExprPtr parse_not() {
        if (is_name("not")) {
            DepthGuard guard(*this);
            const Token t = cur();
            next();
            auto e = node_at<Expr>(t);
            e->kind = EK::kNot;
            e->args.push_back(parse_not());
            return e;
        }
        return parse_compare();
    }

    ExprPtr parse_compare() {
        const Token t = cur();
        ExprPtr first = parse_math1();
        ExprPtr cmp;
        while (true) {
            std::string op;
            if (cur().type == Type::kOp && (cur().value == "==" || cur().value == "!=" ||
                                            cur().value == "<" || cur().value == "<=" ||
                                            cur().value == ">" || cur().value == ">=")) {
                op = cur().value;
                next();
            } else if (is_name("in")) {
                op = "in";
                next();
            } else if (is_name("not") && peek().type == Type::kName && peek().value == "in") {
                op = "notin";
                next();
                next();
            } else {
                break;
            }
            if (!cmp) {
                cmp = node_at<Expr>(t);
                cmp->kind = EK::kCompare;
                cmp->args.push_back(std::move(first));
            }
            cmp->ops.push_back(op);
            cmp->args.push_back(parse_math1());
        }
        return cmp ? std::move(cmp) : std::move(first);
    }

    ExprPtr parse_math1() {
        ExprPtr e = parse_concat();
        while (is_op("+") || is_op("-")) {
            const Token t = cur();
            next();
            e = binary(EK::kBinary, t, std::move(e), parse_concat(), t.value);
        }
        return e;
    }

    ExprPtr parse_concat() {
        ExprPtr e = parse_math2();
        while (is_op("~")) {
            const Token t = cur();
            next();
            e = binary(EK::kBinary, t, std::move(e), parse_math2(), "~");
        }
        return e;
    }

    ExprPtr parse_math2() {
        ExprPtr e = parse_pow();
        while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
            const Token t = cur();
            next();
            e = binary(EK::kBinary, t, std::move(e), parse_pow(), t.value);
        }
        return e;
    }

    ExprPtr parse_pow() {
        ExprPtr e = parse_unary(true);
        while (is_op("**")) {
            const Token t = cur();
            next();
            e = binary(EK::kBinary, t, std::move(e), parse_unary(true), "**");
        }
        return e;
    }

    ExprPtr parse_unary(bool with_filter) {
        DepthGuard guard(*this);
        const Token t = cur();
        ExprPtr e;
        if (is_op("-") || is_op("+")) {
            next();
            e = node_at<Expr>(t);
            e->kind = t.value == "-" ? EK::kNeg : EK::kPos;
            e->args.push_back(parse_unary(false));
        } else {
            e = parse_primary();
        }
        e = parse_postfix(std::move(e));
        if (with_filter) e = parse_filter_chain(std::move(e), true);
        return e;
    }

    ExprPtr literal(const Token& t, Value v) {
        auto e = node_at<Expr>(t);
        e->kind = EK::kLiteral;
        e->literal = std::move(v);
        return e;
    }

    ExprPtr parse_primary() {
        const Token t = cur();
        switch (t.type) {
            case Type::kName: {
                next();
                if (t.value == "true" || t.value == "True") return literal(t, Value(true));
                if (t.value == "false" || t.value == "False") return literal(t, Value(false));
                if (t.value == "none" || t.value == "None") return literal(t, Value::none());
                auto e = node_at<Expr>(t);
                e->kind = EK::kName;
                e->name = t.value;
                return e;
            }
            case Type::kString: {
                std::string s;
                while (cur().type == Type::kString) {
                    s += cur().value;
                    next();
                }
                return literal(t, Value(std::move(s)));
            }
            case Type::kInt: {
                next();
                int64_t v = 0;
                auto r = std::from_chars(t.value.data(), t.value.data() + t.value.size(), v);
                if (r.ec != std::errc()) fail("integer literal out of range", t);
                return literal(t, Value(v));
            }
            case Type::kFloat: {
                next();
                return literal(t, Value(std::stod(t.value)));
            }
            case Type::kOp:
                if (t.value == "(") return parse_paren();
                if (t.value == "[") return parse_list();
                if (t.value == "{") return parse_dict();
                break;
            default: break;
        }
        fail("unexpected " + describe(t));
    }

    ExprPtr parse_paren() {
        const Token t = cur();
        next();
        if (is_op(")")) {
            next();
            auto e = node_at<Expr>(t);
            e->kind = EK::kTuple;
            return e;
        }
        ExprPtr first = parse_expr();
        if (!is_op(",")) {
            expect_op(")");
            return first;
        }
        auto e = node_at<Expr>(t);
        e->kind = EK::kTuple;
        e->args.push_back(std::move(first));
        while (is_op(",")) {
            next();
            if (is_op(")")) break;
            e->args.push_back(parse_expr());
        }
        expect_op(")");
        return e;
    }

    ExprPtr parse_list() {
        auto e = node_at<Expr>(cur());
        e->kind = EK::kList;
        next();
        while (!is_op("]")) {
            e->args.push_back(parse_expr());
            if (!is_op(",")) break;
            next();
        }
        expect_op("]");
        return e;
    }

    ExprPtr parse_dict() {
        auto e = node_at<Expr>(cur());
        e->kind = EK::kDict;
        next();
        while (!is_op("}")) {
            e->args.push_back(parse_expr());
            expect_op(":");
            e->args.push_back(parse_expr());
            if (!is_op(",")) break;
            next();
        }
        expect_op("}");
        return e;
    }

    ExprPtr parse_postfix(ExprPtr e) {
        while (true) {
            const Token t = cur();
            if (is_op(".")) {
                next();
                if (cur().type == Type::kInt) {
                    auto g = binary(EK::kGetItem, t, std::move(e),
                                    literal(cur(), Value(static_cast<int64_t>(
                                                       std::stoll(cur().value)))));
                    next();
                    e = std::move(g);
                    continue;
                }
                auto g = node_at<Expr>(t);
                g->kind = EK::kGetAttr;
                g->name = expect_name();
                g->args.push_back(std::move(e));
                e = std::move(g);
            } else if (is_op("[")) {
                e = parse_subscript(std::move(e));
            } else if (is_op("(")) {
                e = parse_call(std::move(e), EK::kCall, "");
            } else {
                return e;
            }
        }
    }

    ExprPtr parse_subscript(ExprPtr target) {
        const Token t = cur();
        next();
        ExprPtr start;
        if (!is_op(":")) start = parse_expr();
        if (!is_op(":")) {
            expect_op("]");
            return binary(EK::kGetItem, t, std::move(target), std::move(start));
        }
        next();
        auto s = node_at<Expr>(t);
        s->kind = EK::kSlice;
        s->args.push_back(std::move(target));
        s->args.push_back(std::move(start));
        s->args.push_back(is_op(":") || is_op("]") ? nullptr : parse_expr());
        ExprPtr step;
        if (is_op(":")) {
            next();
            if (!is_op("]")) step = parse_expr();
        }
        s->args.push_back(std::move(step));
        expect_op("]");
        return s;
    }

    // `(` args `)` after `callee` (kCall) or a filter/test name (callee is the operand).
    ExprPtr parse_call(ExprPtr callee, EK kind, std::string name) {
        auto c = node_at<Expr>(cur());
        if (kind == EK::kCall) {
            c->line = callee->line;
            c->column = callee->column;
        }
        c->kind = kind;
        c->name = std::move(name);
        c->args.push_back(std::move(callee));
        expect_op("(");
        while (!is_op(")")) {
            if (is_op("*") || is_op("**")) fail("*args and **kwargs in calls are not supported");
            if (cur().type == Type::kName && peek().type == Type::kOp && peek().value == "=") {
                std::string key = cur().value;
                next();
                next();
                c->kwargs.emplace_back(std::move(key), parse_expr());
            } else {
                if (!c->kwargs.empty()) fail("positional argument follows keyword argument");
                c->args.push_back(parse_expr());
            }
            if (!is_op(",")) break;
            next();
        }
        expect_op(")");
        return c;
    }

    std::string dotted_name() {
        std::string n = expect_name();
        while (is_op(".") && peek().type == Type::kName) {
            next();
            n += "." + expect_name();
        }
        return n;
    }

    ExprPtr parse_filters(ExprPtr e) { return parse_filter_chain(std::move(e), false); }

    ExprPtr parse_filter_chain(ExprPtr e, bool allow_tests) {
        while (true) {
            const Token t = cur();
            if (is_op("|") || (!allow_tests && e->kind == EK::kName && e->name.empty() &&
                               t.type == Type::kName)) {
                if (is_op("|")) next();
                std::string name = dotted_name();
                if (is_op("(")) {
                    e = parse_call(std::move(e), EK::kFilter, std::move(name));
                } else {
                    auto f = node_at<Expr>(t);
                    f->kind = EK::kFilter;
                    f->name = std::move(name);
                    f->args.push_back(std::move(e));
                    e = std::move(f);
                }
            } else if (allow_tests && is_name("is")) {
                e = parse_test(std::move(e));
            } else if (allow_tests && is_op("(")) {
                e = parse_call(std::move(e), EK::kCall, "");
            } else {
                return e;
            }
        }
    }

    ExprPtr parse_test(ExprPtr e) {
        const Token t = cur();
        next();
        bool negated = false;
        if (is_name("not")) {
            negated = true;
            next();
        }
        std::string name = dotted_name();
        ExprPtr test;
        if (is_op("(")) {
            test = parse_call(std::move(e), EK::kTest, std::move(name));
        } else {
            test = node_at<Expr>(t);
            test->kind = EK::kTest;
            test->name = std::move(name);
            test->args.push_back(std::move(e));
            const Type ct = cur().type;
            const bool arg_start = ct == Type::kName || ct == Type::kString || ct == Type::kInt ||
                                   ct == Type::kFloat || is_op("(") || is_op("[") || is_op("{");
            if (arg_start && !is_name("else") && !is_name("or") && !is_name("and")) {
                if (is_name("is")) fail("You cannot chain multiple tests with is");
                test->args.push_back(parse_postfix(parse_primary()));
            }
        }
        test->negated = negated;
        test->line = t.line;
        test->column = t.column;
        return test;
    }
};

}  // namespace

Body parse_template(std::string_view source) { return Parser(tokenize(source)).parse_all(); }

}  // namespace ag::chat::jinja
