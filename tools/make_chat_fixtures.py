"""Renders GLM chat-template fixtures with transformers' own chat-template machinery.

Run (not in CI): /tmp/goldvenv/bin/python tools/make_chat_fixtures.py
Writes tests/fixtures/chat/cases.json: conversations + options + the string transformers renders.
The two templates (glm41v.jinja, glm45v_thinking.jinja) follow the rules of
shared/spec/glm4v.md §4.3-4.5 (GLM-4.1V) and the thinking part of the GLM-4.5V template.
"""
import copy
import json
import pathlib

from transformers import PreTrainedTokenizerFast

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "chat"
IMG = "<|begin_of_image|><|image|><|end_of_image|>"
VID = "<|begin_of_video|><|video|><|end_of_video|>"


def T(t):
    return {"type": "text", "text": t}


I = {"type": "image"}
V = {"type": "video"}
SYS = "You are a phone agent. Today is 2026-11-23."


def vllm_string_format(messages):
    """vLLM --chat-template-content-format string: placeholders first, texts joined by \\n."""
    out = []
    for m in messages:
        m = copy.deepcopy(m)
        if isinstance(m.get("content"), list):
            texts = [p["text"] for p in m["content"] if p["type"] == "text"]
            ph = [IMG if p["type"] == "image" else VID for p in m["content"] if p["type"] != "text"]
            text = "\n".join(texts)
            m["content"] = "\n".join(ph + [text]) if ph else text
        out.append(m)
    return out


CONVS = [
    [{"role": "user", "content": "Hello"}],
    [{"role": "system", "content": "SYS"}, {"role": "user", "content": "Hello"}],
    [{"role": "user", "content": [I, T("Describe.")]}],
    [{"role": "user", "content": [T("Look:"), I]}],
    [{"role": "user", "content": [T("A"), T("B")]}],
    [{"role": "system", "content": "SYS"}, {"role": "user", "content": [T("T1"), I]},
     {"role": "assistant", "content": "<think>a</think><answer>b</answer>"},
     {"role": "user", "content": "T2"}],
    [{"role": "user", "content": "你好，请介绍一下你自己"}],
    [{"role": "user", "content": ""}],
    [{"role": "user", "content": [I, I, T("Compare the two screenshots.")]}],
    [{"role": "user", "content": [V, T("What happens?")]}],
    [{"role": "user", "content": [T("first"), I, T("second"), V, T("third")]}],
    [{"role": "user", "content": "Call the weather tool"},
     {"role": "assistant", "content": "get_weather(city='Beijing')"},
     {"role": "observation", "content": "{\"temp\": 3}"}],
    [{"role": "user", "content": "q"}, {"role": "assistant", "metadata": "get_weather",
                                        "content": "{\"city\": \"Beijing\"}"}],
    [{"role": "user", "content": "a\nb\n\n  c  "}, {"role": "assistant", "content": " spaced "},
     {"role": "user", "content": "again"}],
    [{"role": "user", "content": "emoji 😀👍🏽 and code:\n```py\nprint('x')\n```"}],
    [{"role": "system", "content": SYS},
     {"role": "user", "content": [I, T("Open WeChat\n\n{\"current_app\": \"Launcher\"}")]}],
    # AutoGLM agent history: earlier screenshots removed, latest turn has one.
    [{"role": "system", "content": SYS},
     {"role": "user", "content": [T("Open WeChat\n\n{\"current_app\": \"Launcher\"}")]},
     {"role": "assistant", "content": "<think>Tap the icon.</think><answer>do(action=\"Tap\", element=[500,600])</answer>"},
     {"role": "user", "content": [I, T("** Screen Info **\n\n{\"current_app\": \"WeChat\"}")]}],
    [{"role": "system", "content": SYS},
     {"role": "user", "content": [T("Task")]},
     {"role": "assistant", "content": "<think>x</think><answer>do(action=\"Back\")</answer>"},
     {"role": "user", "content": [T("** Screen Info **\n\n{}")]},
     {"role": "assistant", "content": "<think>y</think><answer>do(action=\"Home\")</answer>"},
     {"role": "user", "content": [I, T("** Screen Info **\n\n{\"a\": 1}")]}],
    [{"role": "user", "content": "already /nothink"}],
    [{"role": "user", "content": "x"}, {"role": "assistant", "content": "<think>\nr1\n</think>\nanswer one"},
     {"role": "user", "content": "y"}, {"role": "assistant", "content": "<think>r2</think>answer two"}],
    [{"role": "tool", "content": "tool output"}],
]


def main():
    tok = PreTrainedTokenizerFast(tokenizer_file=str(ROOT / "tests/fixtures/tokenizers/glm4/tokenizer.json"))
    templates = {"glm41v": (FIX / "glm41v.jinja").read_text(),
                 "glm45": (FIX / "glm45v_thinking.jinja").read_text()}
    cases = []
    for style, tmpl in templates.items():
        for ci, conv in enumerate(CONVS):
            for fmt in ("parts", "string"):
                if fmt == "string" and not any(isinstance(m["content"], list) for m in conv):
                    continue
                for thinking in (None, True, False):
                    if style == "glm41v" and thinking is False and ci % 3:
                        continue  # ignored by this template: a few cases suffice
                    for gen in (True, False):
                        if not gen and ci % 4:
                            continue
                        msgs = vllm_string_format(conv) if fmt == "string" else conv
                        kwargs = {} if thinking is None else {"enable_thinking": thinking}
                        out = tok.apply_chat_template(msgs, chat_template=tmpl, tokenize=False,
                                                      add_generation_prompt=gen, **kwargs)
                        cases.append({"style": style, "content_format": fmt, "enable_thinking": thinking,
                                      "add_generation_prompt": gen, "messages": conv, "expected": out})
    (FIX / "cases.json").write_text(json.dumps(cases, ensure_ascii=False, indent=1))
    print(f"{len(cases)} cases")


if __name__ == "__main__":
    main()
