// The Jinja engine on its own: small templates against jinja2 in transformers' environment
// (tests/fixtures/chat/jinja_cases.json, tools/make_jinja_cases.py), then errors and limits.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "chat/jinja_template.h"

namespace ag::chat::jinja {
namespace {

using ojson = nlohmann::ordered_json;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << path;
    return std::string(std::istreambuf_iterator<char>(in), {});
}

Result<std::string> render(std::string_view src, const ojson& ctx = ojson::object(),
                           const RenderLimits& limits = {}) {
    Result<Template> t = Template::parse(src);
    if (!t.ok()) return t.status();
    std::vector<std::pair<std::string, Value>> vars;
    for (const auto& [k, v] : ctx.items()) vars.emplace_back(k, Value::from_json(v));
    return t->render(vars, limits);
}

TEST(JinjaGolden, EveryCaseMatchesJinja2) {
    const ojson cases = ojson::parse(read_file("tests/fixtures/chat/jinja_cases.json"));
    ASSERT_GE(cases.size(), 40u) << "no golden cases loaded";
    for (const ojson& c : cases) {
        SCOPED_TRACE(c.at("name").get<std::string>() + ": " + c.at("template").get<std::string>());
        Result<std::string> r = render(c.at("template").get<std::string>(), c.at("context"));
        ASSERT_TRUE(r.ok()) << r.status().to_string();
        EXPECT_EQ(*r, c.at("expected").get<std::string>());
    }
}

Status error_of(std::string_view src, const RenderLimits& limits = {}) {
    Result<std::string> r = render(src, ojson::object(), limits);
    EXPECT_FALSE(r.ok()) << "rendered: " << (r.ok() ? *r : "");
    return r.status();
}

void expect_error(std::string_view src, ErrorCode code, std::string_view needle) {
    SCOPED_TRACE(std::string(src));
    const Status s = error_of(src);
    EXPECT_EQ(s.code(), code) << s.to_string();
    EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
}

TEST(JinjaErrors, RaiseExceptionNamesLineAndMessage) {
    expect_error("line one\n  {{ raise_exception('Conversation roles must alternate') }}",
                 ErrorCode::kInvalidArgument, "line 2, column 6: raise_exception: "
                                              "Conversation roles must alternate");
}

TEST(JinjaErrors, SyntaxErrorsArePositionedParseErrors) {
    expect_error("{% if %}x{% endif %}", ErrorCode::kParseError, "line 1, column 7");
    expect_error("a\n{% for x in y %}", ErrorCode::kParseError, "expected 'endfor'");
    expect_error("{{ 1 + }}", ErrorCode::kParseError, "line 1");
    expect_error("{% endif %}", ErrorCode::kParseError, "no block is open");
    expect_error("{% include 'x.jinja' %}", ErrorCode::kParseError, "unsupported tag 'include'");
    expect_error("{{ 'unterminated }}", ErrorCode::kParseError, "unterminated string");
    expect_error("{{ x ", ErrorCode::kParseError, "expected '}}'");
    expect_error("{# never closed", ErrorCode::kParseError, "comment");
    expect_error("{% raw %}x", ErrorCode::kParseError, "endraw");
    expect_error("{{ x is defined is defined }}", ErrorCode::kParseError, "chain");
}

TEST(JinjaErrors, RuntimeErrorsLikeJinja2) {
    expect_error("{{ foo.bar }}", ErrorCode::kInvalidArgument, "'foo' is undefined");
    expect_error("{{ d.a.b }}", ErrorCode::kInvalidArgument, "'d' is undefined");
    expect_error("{{ 1 + 'a' }}", ErrorCode::kInvalidArgument, "unsupported operand");
    expect_error("{{ 'a' ~ 1 + 2 }}", ErrorCode::kInvalidArgument, "unsupported operand");
    expect_error("{{ [1]|tojson(bad=1) }}", ErrorCode::kInvalidArgument, "unexpected keyword");
    expect_error("{{ x|nosuchfilter }}", ErrorCode::kInvalidArgument, "no filter named");
    expect_error("{{ 1 is nosuchtest }}", ErrorCode::kInvalidArgument, "no test named");
    expect_error("{% set l = [] %}{{ l.append(1) }}", ErrorCode::kInvalidArgument, "unsafe");
    expect_error("{{ 1 / 0 }}", ErrorCode::kInvalidArgument, "division by zero");
    expect_error("{% for a, b in [1] %}{% endfor %}", ErrorCode::kInvalidArgument, "unpack");
    expect_error("{% set ns = 1 %}{% set ns.x = 2 %}", ErrorCode::kInvalidArgument, "namespace");
    expect_error("{{ namespace(_x=1) }}", ErrorCode::kInvalidArgument, "underscore");
    expect_error("{{ undefined_fn() }}", ErrorCode::kInvalidArgument, "is undefined");
    expect_error("{{ x|tojson }}", ErrorCode::kInvalidArgument, "not JSON serializable");
    expect_error("{{ 3 ** 100 }}", ErrorCode::kInvalidArgument, "overflow");
}

TEST(JinjaArith, HugeExponentsFinishAtOnce) {
    // Python's results; a loop per unit of the exponent would hang here.
    EXPECT_EQ(render("{{ (-1) ** 1000000000000000001 }}").value(), "-1");
    EXPECT_EQ(render("{{ 1 ** 9000000000000000000 }}").value(), "1");
    EXPECT_EQ(render("{{ 0 ** 9000000000000000000 }}").value(), "0");
    EXPECT_EQ(render("{{ 2 ** 62 }}").value(), "4611686018427387904");
    EXPECT_EQ(render("{{ 7 ** 0 }}").value(), "1");
}

TEST(JinjaLimits, RunawayTemplatesStopWithOutOfRange) {
    RenderLimits small;
    small.max_steps = 100'000;
    small.max_output_bytes = 10'000;
    const char* runaway[] = {
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "{% for i in range(100000) %}xxxxxxxxxx{% endfor %}",
        "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
        "{{ 'x' * 100000000000 }}",
        "{{ range(100000000)|length }}",
    };
    for (const char* src : runaway) {
        SCOPED_TRACE(src);
        Result<std::string> r = render(src, ojson::object(), small);
        ASSERT_FALSE(r.ok());
        EXPECT_TRUE(r.status().code() == ErrorCode::kOutOfRange ||
                    r.status().code() == ErrorCode::kInvalidArgument)
            << r.status().to_string();
    }
}

TEST(JinjaLimits, DeepNestingIsAnErrorNotACrash) {
    const std::string deep = "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}";
    EXPECT_EQ(error_of(deep).code(), ErrorCode::kParseError);
    std::string ifs;
    for (int i = 0; i < 5000; ++i) ifs += "{% if true %}";
    EXPECT_EQ(error_of(ifs).code(), ErrorCode::kParseError);
}

TEST(JinjaValues, JsonRoundTripKeepsKeyOrderAndTypes) {
    const ojson j = ojson::parse(R"({"z": 1, "a": [true, null, 2.5, "s"], "m": {}})");
    EXPECT_EQ(Value::from_json(j).to_json(false, -1, ", ", ": ", false),
              R"({"z": 1, "a": [true, null, 2.5, "s"], "m": {}})");
    EXPECT_EQ(Value::from_json(j).repr(), "{'z': 1, 'a': [True, None, 2.5, 's'], 'm': {}}");
}

TEST(JinjaValues, FloatReprIsPythons) {
    EXPECT_EQ(float_repr(1.0), "1.0");
    EXPECT_EQ(float_repr(0.1), "0.1");
    EXPECT_EQ(float_repr(1e16), "1e+16");
    EXPECT_EQ(float_repr(1234567890123456.0), "1234567890123456.0");
    EXPECT_EQ(float_repr(0.0001), "0.0001");
    EXPECT_EQ(float_repr(0.00001), "1e-05");
    EXPECT_EQ(float_repr(-2.5e-7), "-2.5e-07");
}

}  // namespace
}  // namespace ag::chat::jinja
