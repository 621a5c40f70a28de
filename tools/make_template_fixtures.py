"""Goldens for the Jinja chat-template engine: transformers' own apply_chat_template on the
real GLM chat templates (tests/fixtures/chat/templates/*.jinja, sources in
docs/chat_template.md), over conversations shaped the way vLLM hands them over.

Run (not in CI; needs transformers + tokenizers + jinja2, no torch):
    /tmp/jvenv/bin/python tools/make_template_fixtures.py

Output: tests/fixtures/chat/template_cases.json =
  {"conversations": {name: {"messages": [...], "tools": [...] | null}},
   "cases": [{template, conversation, content_format, enable_thinking, add_generation_prompt,
              expected | error}]}
`messages` are what an OpenAI client sends (string or list content, tool_calls with string or
object arguments, null content). Before rendering they are shaped as vLLM does:
  * null content -> "";
  * content_format "string": list content flattened (tools/make_chat_fixtures.vllm_flatten);
    "parts": the list of {"type": "text"|"image"|"video"} parts;
  * assistant tool_calls: string arguments json.loads-ed, missing/empty ones -> {}.
A case whose render raises in transformers records "error" (the engine must fail too).
"""
import copy
import json
import pathlib
import sys

from transformers import PreTrainedTokenizerFast

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from make_chat_fixtures import vllm_flatten  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "chat"
TOKENIZER = ROOT / "tests" / "fixtures" / "tokenizers" / "glm4" / "tokenizer.json"


def T(t):
    return {"type": "text", "text": t}


I = {"type": "image"}
V = {"type": "video"}

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "查询天气 / get the weather",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "城市名"},
        "days": {"type": "integer", "minimum": 1}},
        "required": ["city"]}}}
SEARCH = {"type": "function", "function": {
    "name": "search", "description": "Search the web. Quote \"exact\" phrases & use <tags>.",
    "parameters": {"type": "object", "properties": {"q": {"type": "string"}},
                   "required": ["q"]}}}


def call(name, args, cid="call_1"):
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}


CONVS = {
    "hello": [{"role": "user", "content": "Hello"}],
    "multi_turn": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "Tell me a joke."}],
    "image_text": [{"role": "user", "content": [I, T("Describe this screenshot.")]}],
    "interleaved_media": [{"role": "user", "content": [T("first"), I, T("second"), V, T("third")]}],
    "system_list": [{"role": "system", "content": [T("Rule one."), T(" Rule two.")]},
                    {"role": "user", "content": "go"}],
    "tools_defined": [{"role": "user", "content": "北京天气怎么样？"}],
    "tool_call_string_args": [
        {"role": "user", "content": "Weather in Beijing for 2 days?"},
        {"role": "assistant", "content": None,
         "tool_calls": [call("get_weather", "{\"city\": \"北京\", \"days\": 2}")]},
        {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\": 3, \"sky\": \"晴\"}"},
        {"role": "assistant", "content": "It is sunny and 3°C."},
        {"role": "user", "content": "Thanks"}],
    "tool_call_dict_args": [
        {"role": "user", "content": "Search two things"},
        {"role": "assistant", "content": "<think>Two searches.</think>I will search.",
         "tool_calls": [call("search", {"q": "GLM-4.5"}, "c1"),
                        call("get_weather", {"city": "Paris", "days": 1, "extra": [1, 2.5, True, None],
                                             "nested": {"k": "v"}}, "c2")]},
        {"role": "tool", "tool_call_id": "c1", "content": "result one"},
        {"role": "tool", "tool_call_id": "c2", "content": "result two"}],
    "tool_call_empty_args": [
        {"role": "user", "content": "ping"},
        {"role": "assistant", "content": "", "tool_calls": [call("search", "")]},
        {"role": "tool", "content": "pong"}],
    "observation_metadata": [
        {"role": "user", "content": "Call the weather tool"},
        {"role": "assistant", "metadata": "get_weather", "content": "{\"city\": \"Beijing\"}"},
        {"role": "observation", "content": "{\"temp\": 3}"},
        {"role": "assistant", "content": "3 degrees."}],
    "reasoning_in_content": [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": "<think>\nr1\n</think>\nanswer one"},
        {"role": "user", "content": "y"},
        {"role": "assistant", "content": "<think>r2</think>answer two"}],
    "reasoning_content_field": [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "reasoning_content": "Simple sum.", "content": "4"},
        {"role": "user", "content": "and 3+3?"}],
    "unicode": [
        {"role": "system", "content": "系统\u3000提示"},
        {"role": "user", "content": "emoji 😀👍🏽, tabs\tand \"quotes\" 'single' \\ back"},
        {"role": "assistant", "content": "\u3000答案\u00a0\n"},
        {"role": "user", "content": "/nothink"}],
    "empty_user": [{"role": "user", "content": ""}],
    "assistant_prefill": [
        {"role": "user", "content": "Write a haiku"},
        {"role": "assistant", "content": "Autumn moon"}],
    "named_user": [{"role": "user", "name": "alice", "content": "hi, I'm Alice"}],
}
TOOLS = {"tools_defined": [WEATHER, SEARCH], "tool_call_string_args": [WEATHER],
         "tool_call_dict_args": [SEARCH, WEATHER]}

TEMPLATES = ["glm4_9b_chat", "glm_z1_9b_0414", "glm41v_9b_thinking", "glm45", "glm46"]
OPTIONS = [(None, True), (True, True), (False, True), (None, False)]


def shape(messages, fmt):
    out = []
    for m in copy.deepcopy(messages):
        if m.get("content") is None:
            m["content"] = ""
        if isinstance(m["content"], list) and fmt == "string":
            m["content"] = vllm_flatten(m["content"])
        if m["role"] == "assistant" and isinstance(m.get("tool_calls"), list):
            for tc in m["tool_calls"]:
                args = tc["function"].get("arguments")
                if not args:
                    tc["function"]["arguments"] = {}
                elif not isinstance(args, (dict, list)):
                    tc["function"]["arguments"] = json.loads(args)
        out.append(m)
    return out


def main():
    tok = PreTrainedTokenizerFast(tokenizer_file=str(TOKENIZER))
    cases = []
    for tname in TEMPLATES:
        tmpl = (FIX / "templates" / f"{tname}.jinja").read_text()
        for cname, conv in CONVS.items():
            has_list = any(isinstance(m.get("content"), list) for m in conv)
            for fmt in ("parts", "string") if has_list else ("parts",):
                for thinking, gen in OPTIONS:
                    kwargs = {} if thinking is None else {"enable_thinking": thinking}
                    case = {"template": tname, "conversation": cname, "content_format": fmt,
                            "enable_thinking": thinking, "add_generation_prompt": gen}
                    try:
                        case["expected"] = tok.apply_chat_template(
                            shape(conv, fmt), tools=TOOLS.get(cname), chat_template=tmpl,
                            tokenize=False, add_generation_prompt=gen, **kwargs)
                    except Exception as e:  # noqa: BLE001 - any template failure is a golden
                        case["error"] = f"{type(e).__name__}: {e}"
                    cases.append(case)
    convs = {n: {"messages": c, "tools": TOOLS.get(n)} for n, c in CONVS.items()}
    out = {"conversations": convs, "cases": cases}
    (FIX / "template_cases.json").write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
    n_err = sum("error" in c for c in cases)
    print(f"{len(cases)} cases ({n_err} errors)")


if __name__ == "__main__":
    main()
