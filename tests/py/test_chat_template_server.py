"""The server renders the checkpoint's own Jinja chat template: a built-in checkpoint whose
chat_template.jinja is replaced by the real GLM-4.6 template (tests/fixtures/chat/templates),
asked through /tokenize with tool definitions, assistant tool_calls and tool results, gives the
same tokens as the prompt transformers renders for that conversation
(tests/fixtures/chat/template_cases.json); template errors are OpenAI-shaped 400s."""
import json
import os
import urllib.error
import urllib.request

import pytest

from conftest import ROOT
from server_fixture import MODEL_NAME, running_server

FIX = ROOT / "tests" / "fixtures" / "chat"


def golden(template, conversation, **opts):
    data = json.loads((FIX / "template_cases.json").read_text())
    for c in data["cases"]:
        if (c["template"], c["conversation"]) == (template, conversation) and all(
                c[k] == v for k, v in opts.items()) and "expected" in c:
            return data["conversations"][conversation], c["expected"]
    raise KeyError((template, conversation, opts))


@pytest.fixture(scope="module")
def glm46_server(autoglm, tmp_path_factory):
    if os.environ.get("AG_SERVER_MODEL"):
        pytest.skip("needs the built-in model")
    d = tmp_path_factory.mktemp("glm46ckpt")
    assert autoglm("export-builtin", "--out", d).returncode == 0
    (d / "chat_template.jinja").write_text((FIX / "templates" / "glm46.jinja").read_text())
    with running_server("--model", d) as srv:
        yield srv


class Reply:
    def __init__(self, status, text):
        self.status_code, self.text = status, text

    def json(self):
        return json.loads(self.text)


def post(url, body, timeout=300):
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Reply(r.status, r.read().decode())
    except urllib.error.HTTPError as e:
        return Reply(e.code, e.read().decode())


def tokenize(srv, body):
    return post(srv.root + "/tokenize", {"model": MODEL_NAME, **body})


@pytest.mark.parametrize("conversation", ["tool_call_string_args", "tool_call_dict_args",
                                          "reasoning_content_field", "tools_defined"])
@pytest.mark.parametrize("thinking", [None, False])
def test_tokenize_matches_transformers_prompt(glm46_server, conversation, thinking):
    conv, expected = golden("glm46", conversation, content_format="parts",
                            enable_thinking=thinking, add_generation_prompt=True)
    body = {"messages": conv["messages"], "add_generation_prompt": True}
    if conv["tools"]:
        body["tools"] = conv["tools"]
    if thinking is not None:
        body["chat_template_kwargs"] = {"enable_thinking": thinking}
    got = tokenize(glm46_server, body)
    assert got.status_code == 200, got.text
    want = tokenize(glm46_server, {"prompt": expected})
    assert want.status_code == 200, want.text
    assert got.json()["tokens"] == want.json()["tokens"]


def test_chat_completion_with_tool_results(glm46_server):
    conv, _ = golden("glm46", "tool_call_string_args", content_format="parts",
                     enable_thinking=None, add_generation_prompt=True)
    r = post(glm46_server.base_url + "/chat/completions",
             {"model": MODEL_NAME, "messages": conv["messages"], "max_tokens": 2})
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["role"] == "assistant"


@pytest.mark.parametrize("arguments, needle", [
    ("{not json", "arguments is not valid JSON"),   # rejected before templating
    ("[1, 2]", "chat template error at line"),      # the template calls `[1, 2].items()`
])
def test_bad_tool_calls_are_openai_400s(glm46_server, arguments, needle):
    msgs = [{"role": "user", "content": "q"},
            {"role": "assistant", "content": "",
             "tool_calls": [{"id": "c", "type": "function",
                             "function": {"name": "f", "arguments": arguments}}]}]
    r = post(glm46_server.base_url + "/chat/completions",
             {"model": MODEL_NAME, "max_tokens": 1, "messages": msgs})
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["type"] == "BadRequestError" and needle in err["message"], err
