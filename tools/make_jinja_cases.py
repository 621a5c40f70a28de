"""Goldens for the Jinja engine's unit test (tests/chat/jinja_test.cpp): small templates
(whitespace control, loop variables, scoping, macros, filters, tests, str()/repr() of values,
tojson) rendered by transformers' own chat-template environment (_compile_jinja_template:
jinja2 ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, HF tojson).

Run (not in CI):
    /tmp/jvenv/bin/python tools/make_jinja_cases.py tests/fixtures/chat/jinja_cases.json
"""
import json, sys
from transformers.utils.chat_template_utils import _compile_jinja_template as compile_t
CASES = [
 ("ws_dash", "a  {%- if true %} b {% endif -%}  c", {}),
 ("ws_trim_lstrip", "{% for i in [1,2] %}\n  {{ i }}\n{% endfor %}\n", {}),
 ("ws_lstrip_block", "  {% if true %}\nx\n  {% endif %}\ny", {}),
 ("ws_plus", "  {%+ if true %}x{% endif +%}\ny", {}),
 ("ws_comment", "{# comment #}\nA{#- c -#}  B\n  {# c2 #}\nC", {}),
 ("ws_raw", "{% raw %} {{ not }} {% x %}{% endraw %}\nz", {}),
 ("ws_newlines", "a\r\nb\rc\n", {}),
 ("ws_var_dash", "x  {{- ' y ' -}}  z", {}),
 ("loop_vars", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}", {}),
 ("loop_prev_next", "{% for x in [1,2,3] %}{{ loop.previtem|default('-') }}{{ loop.nextitem|default('-') }} {% endfor %}", {}),
 ("loop_filter_else", "{% for x in [1,2,3,4] if x is even %}{{ x }}{{ loop.length }}{% else %}none{% endfor %}{% for x in [] %}{% else %}empty{% endfor %}", {}),
 ("loop_break_continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x > 4 %}{% break %}{% endif %}{{ x }}{% endfor %}", {}),
 ("loop_unpack", "{% for k, v in {'a': 1, 'b': [1, 'x']}.items() %}{{ k }}={{ v }};{% endfor %}", {}),
 ("loop_cycle", "{% for x in range(5) %}{{ loop.cycle('a', 'b') }}{% endfor %}", {}),
 ("loop_dict_keys", "{% for k in d %}{{ k }}{% endfor %}", {"d": {"z": 1, "a": 2}}),
 ("scope_set_in_loop", "{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}", {}),
 ("scope_namespace", "{% set ns = namespace(x=1, y='a') %}{% for i in [1,2] %}{% set ns.x = ns.x + i %}{% endfor %}{{ ns.x }}{{ ns.y }}", {}),
 ("macro_defaults", "{% macro m(a, b='d') %}[{{ a }}{{ b }}]{% endmacro %}{{ m(1) }}{{ m(1, 2) }}{{ m(b=3, a=4) }}{{ m() }}", {}),
 ("macro_sees_globals", "{% set g = 'G' %}{% macro m() %}{{ g }}{{ v }}{% endmacro %}{{ m() }}", {"v": "V"}),
 ("repr_containers", "{{ [1, 'a', none, true, 1.5, {'k': \"it's\"}] }}{{ (1,) }}{{ (1, 2) }}{{ () }}", {}),
 ("repr_strings", "{{ ['é', 'a\\'b', \"q\\\"\", 'tab\\t', '\\u3000'] }}", {}),
 ("numbers", "{{ 1e20 }} {{ 0.1 + 0.2 }} {{ 10 / 4 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 1.0 }} {{ 3 * 1.5 }} {{ 1e-5 }} {{ 123456789.0 }} {{ -0.0 }}", {}),
 ("concat", "{{ 'a' ~ 1 ~ none ~ [1] }}{{ 'ab' * 3 }}{{ [1] + [2] }}{{ 'x' + 'y' }}", {}),
 ("undefined", "[{{ foo }}]{{ foo is defined }}{{ foo | default('d') }}{{ foo | length }}{% for x in foo %}x{% endfor %}{{ foo is undefined }}{{ foo == foo }}", {}),
 ("dict_access", "{{ d.missing is defined }}{{ d['k'] }}{{ d.get('nope', 'z') }}{{ d.get('k') }}{{ d.k }}{{ d.get('nope') }}{{ d.items()|list }}{{ d.keys()|list }}{{ d.values()|list }}", {"d": {"k": "v"}}),
 ("none_attr", "{{ n.foo is defined }}{{ x.y is defined }}{{ l[5] is defined }}", {"n": None, "x": 3, "l": [1]}),
 ("compare", "{{ 1 < 2 < 3 }}{{ 3 > 2 > 2 }}{{ 'b' in 'abc' }}{{ 3 not in [1, 2] }}{{ 1 == 1.0 }}{{ not 0 }}{{ [] or 'e' }}{{ 'x' and 0 }}{{ 'k' in {'k': 1} }}{{ none == none }}{{ 'a' < 'b' }}{{ [1, 2] < [1, 3] }}", {}),
 ("ternary", "{{ 'y' if x else 'n' }}|{{ 'y' if not x }}|{{ 'y' if x }}|", {"x": 0}),
 ("slicing", "{{ 'hello'[1:3] }}{{ 'hello'[::-1] }}{{ [1,2,3,4][-2:] }}{{ 'héllo'[1] }}{{ [1,2,3][::2] }}{{ 'abc'[-1] }}{{ [1,2,3][:-1] }}{{ 'abc'[5:] }}", {}),
 ("str_methods", "{{ '  a b  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ 'xxa'.lstrip('x') }}|{{ 'axx'.rstrip('x') }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.rsplit(' ', 1) }}|{{ 'a b c'.split(' ', 1) }}|{{ 'abc'.startswith('a') }}{{ 'abc'.endswith(('x','c')) }}|{{ 'aaa'.replace('a','b',2) }}|{{ 'hello wORLD'.title() }}|{{ 'Hi'.upper() }}{{ 'Hi'.lower() }}|{{ 'abcabc'.find('c') }}{{ 'abcabc'.rfind('c') }}{{ 'abc'.find('z') }}{{ 'abcabc'.count('b') }}|{{ '-'.join(['a','b']) }}|{{ '\u3000x\u00a0'.strip() }}|{{ 'a\\nb'.splitlines() }}", {}),
 ("filters_basic", "{{ '  x '|trim }}|{{ 'ab'|upper }}|{{ [3,1,2]|sort }}|{{ [3,1,2]|sort(reverse=true)|join(',') }}|{{ [1,2,2,3]|unique|list }}|{{ [1,2]|reverse|list }}|{{ 'abc'|reverse }}|{{ [1,2,3]|sum }}|{{ -3|abs }}|{{ 2.5|round }}|{{ 3.14159|round(2) }}|{{ '42'|int + 1 }}|{{ '3.5'|float }}|{{ 'x'|int }}|{{ 3.9|int }}|{{ [1,2]|first }}{{ [1,2]|last }}|{{ 'abc'|length }}{{ [1]|count }}|{{ {'a':1}|items|list }}|{{ 'hello'|capitalize }}|{{ 'hello world'|title }}|{{ '<a&b\"\\'>'|e }}|{{ 'ab'|replace('a','x') }}|{{ 5|string ~ 'x' }}|{{ 'ab'|list }}|{{ ['b','A','a']|sort }}|{{ [2, 1]|max }}{{ [2, 1]|min }}", {}),
 ("filter_indent", "[{{ 'a\\nb\\n\\nc'|indent(2) }}][{{ 'a\\nb'|indent(2, first=true) }}][{{ 'a\\n\\nb'|indent('> ', blank=true) }}][{{ 'a\\n'|indent }}]", {}),
 ("filter_default", "{{ none|default('d') }}{{ ''|default('d') }}{{ ''|default('d', true) }}{{ x|d('y') }}{{ 0|default(1, boolean=true) }}", {}),
 ("filters_map_select", "{{ msgs|map(attribute='role')|join(',') }}|{{ msgs|selectattr('role','equalto','user')|list|length }}|{{ msgs|rejectattr('role','eq','user')|map(attribute='content')|list }}|{{ [1,2,3,4]|select('odd')|list }}|{{ ['a','B']|map('upper')|list }}|{{ [0,1,'',2]|select|list }}|{{ [0,1,'',2]|reject|list }}|{{ msgs|selectattr('name')|list }}|{{ msgs|map(attribute='name', default='-')|list }}|{{ msgs|selectattr('role', 'in', ['system'])|list|length }}", {"msgs": [{"role": "system", "content": "s"}, {"role": "user", "content": "u", "name": "n"}, {"role": "assistant", "content": "a"}]}),
 ("tojson", "{{ d|tojson }}|{{ d|tojson(indent=2) }}|{{ d|tojson(separators=(',',':')) }}|{{ 'é😀'|tojson }}|{{ 'é😀\\u0001'|tojson(ensure_ascii=true) }}|{{ d|tojson(sort_keys=true) }}|{{ [[], {}]|tojson(indent=2) }}|{{ 1.0|tojson }}{{ none|tojson }}{{ true|tojson }}", {"d": {"b": [1, 2.5, None, True], "a": "x\"y\n\\", "c": {}, "中": "文"}}),
 ("tests", "{{ 1 is number }}{{ true is number }}{{ 1 is integer }}{{ true is integer }}{{ 1.0 is float }}{{ 'a' is string }}{{ none is none }}{{ {} is mapping }}{{ [] is iterable }}{{ 'a' is iterable }}{{ [] is sequence }}{{ 3 is odd }}{{ 4 is even }}{{ 4 is divisibleby 2 }}{{ 'a' is in 'abc' }}{{ 1 is eq 1 }}{{ 2 is gt 1 }}{{ 2 is ge(3) }}{{ range is callable }}{{ true is true }}{{ 0 is false }}{{ 'AB' is upper }}{{ 'ab' is lower }}{{ x is not none }}{{ 1 is boolean }}{{ none is sameas none }}{{ 'a' is not string }}", {"x": 1}),
 ("set_forms", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t %}  block {{ a }} {% endset %}[{{ t }}]{% set u | trim %}  padded  {% endset %}[{{ u }}]{% set l = [1, 2,] %}{{ l }}{% set dd = {'x': 1, 'y': {'z': [1]}} %}{{ dd.y.z[0] }}{{ dd['y']['z'] }}", {}),
 ("filter_block", "{% filter upper %}abc {{ 'd' }}{% endfilter %}|{% filter replace('a', 'b')|upper %}aa{% endfilter %}", {}),
 ("generation", "x{% generation %}gen{{ 1 }}{% endgeneration %}y", {}),
 ("string_escapes", "{{ 'a\\tb\\u00e9\\x41\\\\' }}{{ \"it's\" }}{{ 'adj' 'acent' }}", {}),
 ("elif", "{% for x in [1, 2, 3] %}{% if x == 1 %}one{% elif x == 2 %}two{% else %}many{% endif %}{% endfor %}", {}),
 ("precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ -2 ** 2 }} {{ 'a' ~ (1 + 2) }} {{ not true or true }} {{ 2 * 3 | string }} {{ -1|abs }} {{ 10 - 2 - 3 }} {{ 2 ** 3 ** 2 }}", {}),
 ("dict_global", "{{ dict(a=1, b='x') }}{{ dict({'c': 2}, d=3) }}{{ range(3)|list }}{{ range(1, 7, 2)|list }}{{ range(3, 0, -1)|list }}", {}),
 ("print_values", "{{ none }}|{{ true }}|{{ false }}|{{ 42 }}|{{ -1.5 }}|{{ {'a': [1, (2, 3)], 'b': none} }}", {}),
 ("messages_loop", "{% for m in messages %}<{{ m.role }}>{{ m['content'] }}{% if not loop.last %}\n{% endif %}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}", {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}], "add_generation_prompt": True}),
]
env_t = None
out = []
for name, src, ctx in CASES:
    t = compile_t(src)
    try:
        r = t.render(**ctx)
    except Exception as e:
        print("ERR", name, e, file=sys.stderr); r = None
    out.append({"name": name, "template": src, "context": ctx, "expected": r})
json.dump(out, open(sys.argv[1], "w"), ensure_ascii=False, indent=1)
for o in out: print(o["name"], repr(o["expected"])[:150])
