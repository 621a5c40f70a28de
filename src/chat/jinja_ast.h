// Syntax tree of a parsed Jinja template (built by jinja_parser, walked by jinja_interp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_value.h"

namespace ag::chat::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
    enum class Kind {
        kLiteral,  // literal
        kName,     // name
        kList,     // args
        kTuple,    // args
        kDict,     // args: key, value, key, value...
        kGetAttr,  // args[0] . name
        kGetItem,  // args[0] [ args[1] ]
        kSlice,    // args[0] [ args[1] : args[2] : args[3] ] (null parts allowed)
        kCall,     // args[0] ( args[1..], kwargs )
        kFilter,   // args[0] | name ( args[1..], kwargs )
        kTest,     // args[0] is [not] name ( args[1..], kwargs )
        kNeg,      // - args[0]
        kPos,      // + args[0]
        kNot,      // not args[0]
        kBinary,   // args[0] name args[1]: + - * / // % ** ~
        kCompare,  // args[0] ops[0] args[1] ops[1] args[2] ... (== != < <= > >= in notin)
        kAnd,
        kOr,
        kCond,  // args[1] if args[0] else args[2] (args[2] may be null)
    };
    Kind kind = Kind::kLiteral;
    int32_t line = 0, column = 0;
    Value literal;
    std::string name;
    std::vector<ExprPtr> args;
    std::vector<std::pair<std::string, ExprPtr>> kwargs;
    std::vector<std::string> ops;
    bool negated = false;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct MacroParam {
    std::string name;
    ExprPtr default_value;  // null: required
};

struct Stmt {
    enum class Kind {
        kText,         // text
        kOutput,       // {{ expr }}
        kIf,           // branches (cond null = else)
        kFor,          // targets in expr [if cond] body [else else_body]
        kSet,          // targets = expr, or (attr non-empty) targets[0].attr = expr
        kSetBlock,     // targets[0] = rendered body (optionally filtered by `filter`)
        kMacro,        // name(params) body
        kBreak,
        kContinue,
        kFilterBlock,  // body piped through `filter` (a kFilter chain on kName "")
        kScope,        // body (generation blocks)
    };
    Kind kind = Kind::kText;
    int32_t line = 0, column = 0;
    std::string text;
    ExprPtr expr;
    ExprPtr cond;
    ExprPtr filter;
    std::vector<std::pair<ExprPtr, Body>> branches;
    std::vector<std::string> targets;
    std::string attr;
    std::string name;
    std::vector<MacroParam> params;
    Body body, else_body;
};

}  // namespace ag::chat::jinja
