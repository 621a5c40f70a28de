"""Renders GLM chat-template fixtures with transformers' own chat-template machinery.

Run (not in CI; needs transformers + tokenizers):
    /tmp/goldvenv/bin/python tools/make_chat_fixtures.py

Inputs (checked in, hand-written):
  tests/fixtures/chat/glm41v.jinja           the GLM-4.1V rules of spec glm4v.md §4.3; checked
                                             here against every rendered example of the spec.
  tests/fixtures/chat/glm45v_thinking.jinja  the thinking-relevant subset of the public GLM-V
                                             (GLM-4.5V/4.6V) template: no tools, tool calls or
                                             tool results.
Output: tests/fixtures/chat/cases.json, a list of
  {name, style, content_format, enable_thinking, add_generation_prompt, messages, expected}
where `messages` is the conversation as an OpenAI client sends it and `expected` is what
transformers' apply_chat_template renders. For content_format "string" the conversation is
first flattened the way vLLM's --chat-template-content-format string does (spec §4.4).
"""
import collections
import copy
import json
import pathlib

from transformers import PreTrainedTokenizerFast

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "chat"
TOKENIZER = ROOT / "tests" / "fixtures" / "tokenizers" / "glm4" / "tokenizer.json"
IMG = "<|begin_of_image|><|image|><|end_of_image|>"
VID = "<|begin_of_video|><|video|><|end_of_video|>"


def T(t):
    return {"type": "text", "text": t}


I = {"type": "image"}
V = {"type": "video"}
SYS = "You are a phone agent. Today is 2026-11-23."


def vllm_flatten(content):
    """vLLM chat_utils._get_full_multimodal_text_prompt for one list content (string format)."""
    texts = [p["text"] for p in content if p["type"] == "text"]
    counts = collections.Counter(IMG if p["type"] == "image" else VID
                                 for p in content if p["type"] != "text")
    text = "\n".join(texts)
    if not counts:
        return text
    missing = []
    for ph in counts:  # Counter keeps first-appearance order
        left = counts[ph] - text.count(ph)
        assert left >= 0, "more placeholders than items"
        missing.extend([ph] * left)
    return "\n".join(missing + [text])


def to_string_format(messages):
    out = []
    for m in messages:
        m = copy.deepcopy(m)
        if isinstance(m["content"], list):
            m["content"] = vllm_flatten(m["content"])
        out.append(m)
    return out


def join_non_user_lists(messages):
    """Our documented decision for GLM-4.1V: list content of a non-user message is its joined
    text (the template itself would print the Python repr of the list)."""
    out = []
    for m in messages:
        m = copy.deepcopy(m)
        if m["role"] != "user" and isinstance(m["content"], list):
            assert all(p["type"] == "text" for p in m["content"])
            m["content"] = "".join(p["text"] for p in m["content"])
        out.append(m)
    return out


AGENT_1 = "Open WeChat\n\n{\"current_app\": \"Launcher\"}"
AGENT_N = "** Screen Info **\n\n{\"current_app\": \"WeChat\"}"

# (name, messages)
CONVS = [
    ("user_hello", [{"role": "user", "content": "Hello"}]),
    ("system_user", [{"role": "system", "content": "SYS"}, {"role": "user", "content": "Hello"}]),
    ("image_then_text", [{"role": "user", "content": [I, T("Describe.")]}]),
    ("text_then_image", [{"role": "user", "content": [T("Look:"), I]}]),
    ("two_texts", [{"role": "user", "content": [T("A"), T("B")]}]),
    ("spec_multi_turn", [
        {"role": "system", "content": "SYS"}, {"role": "user", "content": [T("T1"), I]},
        {"role": "assistant", "content": "<think>a</think><answer>b</answer>"},
        {"role": "user", "content": "T2"}]),
    ("chinese", [{"role": "user", "content": "你好，请介绍一下你自己"}]),
    ("empty_user", [{"role": "user", "content": ""}]),
    ("empty_list", [{"role": "user", "content": []}]),
    ("image_only", [{"role": "user", "content": [I]}]),
    ("two_images_text", [{"role": "user", "content": [I, I, T("Compare the two screenshots.")]}]),
    ("video_text", [{"role": "user", "content": [V, T("What happens?")]}]),
    ("interleaved", [{"role": "user", "content": [T("first"), I, T("second"), V, T("third")]}]),
    ("video_image_video", [{"role": "user", "content": [V, T("a"), I, V, T("b")]}]),
    ("placeholder_in_text", [{"role": "user", "content": [T("see " + IMG + " here"), I, I]}]),
    ("observation", [
        {"role": "user", "content": "Call the weather tool"},
        {"role": "assistant", "content": "get_weather(city='Beijing')"},
        {"role": "observation", "content": "{\"temp\": 3}"}]),
    ("tool_alias", [{"role": "user", "content": "q"}, {"role": "tool", "content": "tool output"}]),
    ("assistant_metadata", [
        {"role": "user", "content": "q"},
        {"role": "assistant", "metadata": "get_weather", "content": "{\"city\": \"Beijing\"}"},
        {"role": "user", "content": "and tomorrow?"}]),
    ("whitespace", [
        {"role": "user", "content": "a\nb\n\n  c  "}, {"role": "assistant", "content": " spaced "},
        {"role": "user", "content": "again"}]),
    ("unicode_space_answer", [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": "<think>\u3000r\u3000</think>\u3000答案\u00a0\n"},
        {"role": "user", "content": "y"}]),
    ("emoji_code", [{"role": "user", "content": "emoji 😀👍🏽 and code:\n```py\nprint('x')\n```"}]),
    ("system_list", [{"role": "system", "content": [T("Rule one."), T(" Rule two.")]},
                     {"role": "user", "content": "go"}]),
    ("assistant_list", [{"role": "user", "content": "q"},
                        {"role": "assistant", "content": [T("<think>r</think>"), T("ans")]},
                        {"role": "user", "content": "more"}]),
    ("agent_first_step", [
        {"role": "system", "content": SYS},
        {"role": "user", "content": [I, T(AGENT_1)]}]),
    # AutoGLM agent history: earlier screenshots removed, the latest turn has one.
    ("agent_second_step", [
        {"role": "system", "content": SYS},
        {"role": "user", "content": [T(AGENT_1)]},
        {"role": "assistant", "content":
            "<think>Tap the icon.</think><answer>do(action=\"Tap\", element=[500,600])</answer>"},
        {"role": "user", "content": [I, T(AGENT_N)]}]),
    ("agent_third_step", [
        {"role": "system", "content": SYS},
        {"role": "user", "content": [T("Task")]},
        {"role": "assistant", "content": "<think>x</think><answer>do(action=\"Back\")</answer>"},
        {"role": "user", "content": [T("** Screen Info **\n\n{}")]},
        {"role": "assistant", "content": "<think>\ny\n</think>\n<answer>do(action=\"Home\")</answer>"},
        {"role": "user", "content": [I, T("** Screen Info **\n\n{\"a\": 1}")]}]),
    ("already_nothink", [{"role": "user", "content": "already /nothink"}]),
    ("nothink_before_image", [{"role": "user", "content": [T("x /nothink"), I]}]),
    ("nothink_after_image", [{"role": "user", "content": [I, T("x /nothink")]}]),
    ("past_reasoning_dropped", [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": "<think>\nr1\n</think>\nanswer one"},
        {"role": "user", "content": "y"},
        {"role": "assistant", "content": "<think>r2</think>answer two"}]),
    ("reasoning_edge_cases", [
        {"role": "assistant", "content": "<think>\n\n</think>\n\nonly answer"},
        {"role": "assistant", "content": "pre<think>a<think>b</think>mid</think>tail"},
        {"role": "assistant", "content": "no think tags at all"},
        {"role": "assistant", "content": "<think>only reasoning</think>"},
        {"role": "assistant", "content": ""}]),
    ("assistant_prefill", [
        {"role": "user", "content": "x"}, {"role": "assistant", "content": "<think>plan"}]),
]


def cases_for(style, name, conv):
    has_list = any(isinstance(m["content"], list) for m in conv)
    has_obs = any(m["role"] in ("observation", "tool") for m in conv)
    if style == "glm45" and has_obs:
        return  # tool results: unsupported in the GLM-4.5V style (error test in C++)
    for fmt in ("parts", "string") if has_list else ("parts",):
        for thinking in (None, True, False):
            for gen in (True, False):
                if not gen and thinking is True:
                    continue
                yield fmt, thinking, gen


def render(tok, tmpl, messages, gen, thinking):
    kwargs = {} if thinking is None else {"enable_thinking": thinking}
    return tok.apply_chat_template(messages, chat_template=tmpl, tokenize=False,
                                   add_generation_prompt=gen, **kwargs)


SPEC_ROWS = [  # spec glm4v.md §4.3 rendered examples
    ("user_hello", "[gMASK]<sop><|user|>\nHello<|assistant|>\n"),
    ("system_user", "[gMASK]<sop><|system|>\nSYS<|user|>\nHello<|assistant|>\n"),
    ("image_then_text", f"[gMASK]<sop><|user|>\n{IMG}Describe.<|assistant|>\n"),
    ("text_then_image", f"[gMASK]<sop><|user|>\nLook:{IMG}<|assistant|>\n"),
    ("two_texts", "[gMASK]<sop><|user|>\nAB<|assistant|>\n"),
    ("spec_multi_turn", f"[gMASK]<sop><|system|>\nSYS<|user|>\nT1{IMG}<|assistant|>\n"
                        "<think>a</think><answer>b</answer><|user|>\nT2<|assistant|>\n"),
]


def main():
    tok = PreTrainedTokenizerFast(tokenizer_file=str(TOKENIZER))
    templates = {"glm41v": (FIX / "glm41v.jinja").read_text(),
                 "glm45": (FIX / "glm45v_thinking.jinja").read_text()}
    convs = dict(CONVS)
    for name, want in SPEC_ROWS:
        got = render(tok, templates["glm41v"], convs[name], True, None)
        assert got == want, f"glm41v.jinja disagrees with the spec on {name}: {got!r}"
    cases = []
    for style, tmpl in templates.items():
        for name, conv in CONVS:
            for fmt, thinking, gen in cases_for(style, name, conv):
                msgs = to_string_format(conv) if fmt == "string" else conv
                if style == "glm41v":
                    msgs = join_non_user_lists(msgs)
                cases.append({"name": name, "style": style, "content_format": fmt,
                              "enable_thinking": thinking, "add_generation_prompt": gen,
                              "messages": conv, "expected": render(tok, tmpl, msgs, gen, thinking)})
    (FIX / "cases.json").write_text(json.dumps(cases, ensure_ascii=False, indent=1) + "\n")
    print(f"{len(cases)} cases")


if __name__ == "__main__":
    main()
