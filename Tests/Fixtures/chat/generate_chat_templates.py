#!/usr/bin/env python3
"""Renders the committed chat templates with transformers' own machinery and writes expected.json.

Every case is rendered by `transformers.utils.chat_template_utils.render_jinja_template`, the function
`apply_chat_template(..., tokenize=False)` calls: jinja2's ImmutableSandboxedEnvironment with
trim_blocks, lstrip_blocks, loopcontrols, transformers' tojson / raise_exception / strftime_now. A case
either renders (the exact string is stored) or fails: a `raise_exception` call is stored with its message
(kind "raised"); any other failure (a TypeError from concatenating a list, an UndefinedError) is stored
as kind "error" with Python's message for reference only.

Each case names its conversation (messages, and tools for the tool conversations) from the
"conversations" table and lists its other template variables (special tokens, date_string) in "context".
Dates are fixed by passing `date_string` (the Llama 3.x templates only call strftime_now when it is
undefined) and by fixing the clock strftime_now reads (FIXED_NOW). Output is deterministic: MANIFEST.sha256 pins templates/*.jinja and expected.json.

Run: /work/venv/bin/python Tests/Fixtures/chat/generate_chat_templates.py
"""
import datetime
import hashlib
import random
import json
import pathlib

import jinja2
import transformers
import transformers.utils.chat_template_utils as chat_template_utils
from transformers.utils.chat_template_utils import render_jinja_template

# strftime_now is `datetime.now().strftime(format)`; templates that call it unconditionally (SmolLM3,
# Llama 4, Mistral v7, LFM2.5) get this fixed time instead. The Swift tests fix their clock to the same
# instant (12:00 UTC, the same calendar day in every time zone from UTC-11 to UTC+11).
FIXED_NOW = datetime.datetime(2025, 3, 7, 12, 0, 0)


class FixedDatetime(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return FIXED_NOW


chat_template_utils.datetime = FixedDatetime

HERE = pathlib.Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"

# Special tokens as each model's tokenizer_config.json has them.
TOKENS = {
    "llama-3-instruct": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "llama-3.1-instruct": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "llama-3.2-vision-instruct": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "qwen2.5-instruct": {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    "mistral-v0.1-instruct": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
    "mixtral-v0.1-instruct": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
    "mistral-v0.3-instruct": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
    "mistral-v0.3-instruct-initial": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
    "mistral-nemo-instruct": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
    "smollm2-instruct": {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "pad_token": "<|im_end|>"},
    "zephyr-tinyllama-chat": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "</s>"},
    "deepseek-coder-instruct": {"bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<|EOT|>"},
}

SYSTEM = {"role": "system", "content": "You are a terse assistant."}
U1 = {"role": "user", "content": "What is the capital of France?"}
A1 = {"role": "assistant", "content": "Paris."}
U2 = {"role": "user", "content": "And of Japan?"}
UNICODE = {"role": "user", "content": "  Grüße 👋🏽 — 日本語テキスト\n\n\tindented\r\nline with \"quotes\" and 'apostrophes' and \\backslash\\ {{ not jinja }} {% neither %}  "}
A_UNICODE = {"role": "assistant", "content": "\nÇa va 🎉 ✓\n\n"}
PARTS = {"role": "user", "content": [{"type": "text", "text": "Describe "}, {"type": "text", "text": "this, please."}]}
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. \"Zürich\""},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "default": 1.5},
            },
            "required": ["city"],
        },
    },
}
TOOL_CALL = {
    "role": "assistant",
    "content": "",
    "tool_calls": [{"id": "call00001", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Zürich", "unit": "celsius"}}}],
}
TOOL_RESULT = {"role": "tool", "tool_call_id": "call00001", "name": "get_weather", "content": "{\"temperature\": 21.5}"}

CONVERSATIONS = {
    "system-user": [SYSTEM, U1],
    "user-only": [U1],
    "multi-turn": [U1, A1, U2],
    "system-multi-turn": [SYSTEM, U1, A1, U2],
    "ends-with-assistant": [SYSTEM, U1, A1],
    "unicode-whitespace": [SYSTEM, UNICODE, A_UNICODE, U2],
    "content-parts": [PARTS],
    "two-users": [U1, U2],
    "assistant-first": [A1, U1],
    "empty": [],
    "reasoning": [U1, {"role": "assistant", "content": "Paris.", "reasoning_content": "France's capital is Paris."}, U2],
}

# Conversations with tools, for the templates that take them.
TOOL_CONVERSATIONS = {
    "tools-request": ([SYSTEM, {"role": "user", "content": "Weather in Zürich?"}], [WEATHER_TOOL]),
    "tools-round-trip": ([{"role": "user", "content": "Weather in Zürich?"}, TOOL_CALL, TOOL_RESULT], [WEATHER_TOOL]),
}
BREADTH_CONVERSATIONS = ["system-user", "system-multi-turn", "unicode-whitespace", "content-parts", "two-users", "reasoning"]
TOOL_TEMPLATES = {"llama-3.1-instruct", "qwen2.5-instruct", "mistral-v0.3-instruct", "mistral-v0.3-instruct-initial", "mistral-nemo-instruct", "llama-3.2-vision-instruct"}
DATED_TEMPLATES = {"llama-3.1-instruct", "llama-3.2-vision-instruct"}


# Small templates for the engine's semantics, each rendered by the same transformers machinery with
# `messages=[]` and the given variables.
ENGINE_CASES = [
    # whitespace control, trim_blocks, lstrip_blocks, trailing newline
    ("ws-minus", "a  \n  {%- if true %} b {% endif -%}  \n c", {}),
    ("ws-plus", "a\n    {%+ if true %}b\n{%+ endif +%}\nc", {}),
    ("ws-lstrip-trim", "x\n    {% if true %}\n    y\n    {% endif %}\nz\n", {}),
    ("ws-lstrip-not-after-text", "x {% if true %}y{% endif %}", {}),
    ("ws-variable-no-lstrip", "x\n    {{ 'v' }}\n    {# c #}\n  {{- 'w' -}}  \n  end", {}),
    ("ws-comment", "a\n  {# comment #}\nb {#- c -#} c\n{#+ keep +#}\nd", {}),
    ("ws-crlf", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\n", {}),
    ("ws-line-starting", "{% for i in [1, 2] %}\n  {% if i %}[{{ i }}]{% endif %}\n{% endfor %}", {}),
    ("ws-unicode-space", "a\u3000\n\u00a0 {%- if true %}b{% endif %}", {}),
    # values printed as Python's str()
    ("str-values", "{{ none }}|{{ true }}|{{ 1 }}|{{ 1.0 }}|{{ 0.1 + 0.2 }}|{{ 1e20 }}|{{ 1e-5 }}|{{ 123456789.0 * 1000 }}|{{ 10 / 4 }}|{{ -0.0 }}", {}),
    ("str-containers", "{{ [1, 'a', none, true, 2.5, {'k': ['q\\'', \"d\\\"\"]}] }}|{{ {'a': {'b': []}} }}|{{ x }}", {"x": {"n": None, "s": "it's", "l": [1, 2.0], "u": "é\n"}}),
    ("str-undefined", "[{{ missing }}][{{ missing | string }}][{{ missing ~ 'x' }}][{{ missing | length }}]", {}),
    # operators and precedence
    ("arith", "{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 3 ** 2 }} {{ 2 ** -1 }} {{ 1 + 2 * 3 - 4 / 2 }} {{ 'ab' * 3 }} {{ [1] * 2 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }}", {}),
    ("concat-binds-tighter-than-plus", "{{ 1 + 2 ~ 3 }}", {}),
    ("pow-and-floor-division", "{{ -4 ** x }}|{{ -2 ** 2 }}|{{ (-4) ** x }}|{{ -2.5 ** x }}|{{ -x ** 2 }}|{{ 2.0 // 0.1 }}|{{ -7.5 // 2 }}|{{ 7.5 % -2 }}|{{ 2.0 % 0.1 }}", {"x": 3}),
    ("constant-folding", "[{{ (0)[:2] }}][{{ (0)[:2] and t }}][{{ [(0)[:2]] }}][{{ ({'k': 1})[1:] | default('D') in ['D'] }}]", {"t": True}),
    ("precedence", "{{ (1 + 2) ~ 3 * 2 }} {{ not true or true }} {{ not (true and false) }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ -2 ** 2 }} {{ 'a' ~ (1 + 2) }} {{ 2 * 3 ~ 4 }} {{ 1 if false else 2 if false else 3 }} {{ 'x' if 1 in [1] }}", {}),
    ("filter-binds-tight", "{{ 'a' + ' b ' | trim + 'c' }} {{ -3 | abs }} {{ [3, 1] | sort | first + 1 }} {{ 'ab' | upper ~ 'cd' }}", {}),
    ("compare", "{{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ {'a': 1} == {'a': 1} }} {{ none == none }} {{ 'a' != 'a' }} {{ 'é' > 'z' }}", {}),
    ("in-operator", "{{ 'ell' in 'hello' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'x' not in 'abc' }} {{ not 'a' in 'abc' }} {{ '' in 'abc' }} {{ 'tool_calls' in m }}", {"m": {"role": "user", "tool_calls": []}}),
    ("and-or-values", "{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ [] or none }} {{ '' and 1 }}", {}),
    ("string-escapes", "{{ 'tab\\there' }}|{{ \"q\\\"q\" }}|{{ 'a\\nb' }}|{{ '\\u00e9\\x41\\\\' }}|{{ 'adj' 'acent' }}|{{ '\\d' }}", {}),
    # subscripts and attributes
    ("subscripts", "{{ s[0] }}{{ s[-1] }}{{ s[1:3] }}{{ s[::-1] }}{{ s[::2] }}{{ l[1:] }}{{ l[:-1] }}{{ l[-2:] }}{{ l[5:] }}{{ l[::-1] }}|{{ d.a }}{{ d['a'] }}{{ l.0 }}", {"s": "héllo", "l": [1, 2, 3], "d": {"a": "A"}}),
    ("attr-vs-item", "{{ d.items is defined }} {{ d['items'] }} {{ d.get('x', 'dflt') }} {{ d.get('items') }} {{ d.missing is defined }} {{ l[10] is defined }} {{ none.x is defined }}", {"d": {"items": "key"}, "l": [1]}),
    ("dict-methods", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{{ d.keys() | list }}{{ d.values() | list }}", {"d": {"b": 1, "a": [2]}}),
    # loops
    ("loop-vars", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}[{{ loop.previtem }}|{{ loop.nextitem }}]{{ loop.cycle('o', 'e') }} {% endfor %}", {}),
    ("loop-filter-else", "{% for x in [1, 2, 3, 4] if x is even %}{{ x }}/{{ loop.length }} {% else %}none{% endfor %}{% for x in [] %}x{% else %}empty{% endfor %}", {}),
    ("loop-break-continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x > 4 %}{% break %}{% endif %}{{ x }}{% endfor %}", {}),
    ("loop-scope", "{% set c = 0 %}{% for i in [1, 2] %}{% set c = c + i %}{{ c }}{% endfor %}{{ c }}{% if true %}{% set d = 5 %}{% endif %}{{ d }}", {}),
    ("loop-unpack", "{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}{% for k, v in {'x': 1} | items %}{{ k }}{{ v }}{% endfor %}{% for (a, b) in [[5, 6]] %}{{ a }}{{ b }}{% endfor %}", {}),
    ("loop-nested", "{% for i in [1, 2] %}{% for j in 'ab' %}{{ loop.index }}{{ j }}{% endfor %}{{ loop.index }};{% endfor %}", {}),
    ("loop-dict-and-undefined", "{% for k in {'z': 1, 'a': 2} %}{{ k }}{% endfor %}{% for x in missing %}x{% else %}u{% endfor %}", {}),
    # set and namespace
    ("scope-late-top-level-set", "{% for i in [1] %}[{{ n }}]{% endfor %}{% set n = 5 %}{{ n }}|{{ m }}{% set m = 6 %}{{ m }}|{% macro show() %}{{ k }}{% endmacro %}{{ show() }}{% set k = 7 %}{{ show() }}", {"n": 0, "m": 1, "k": 2}),
    ("scope-conditional-set", "{% if c %}{% set n = 1 %}{% endif %}{% for i in [1] %}[{{ n }}]{% endfor %}{% for i in [1] %}[{{ q }}]{% endfor %}{% if c %}{% set q = 1 %}{% endif %}", {"n": 0, "q": 3, "c": True}),
    ("scope-else-and-generation", "{% for i in [] %}{% else %}{% set n = 1 %}{{ n }}{% endfor %}[{{ n }}]{% generation %}{% set g = 2 %}{{ g }}{% endgeneration %}[{{ g }}]", {"n": 0}),
    ("scope-nested-frames", "{% for a in [1, 2] %}{% for b in [1] %}[{{ n }}]{% endfor %}{% set n = 5 %}{{ n }}{% endfor %}|{% set k = 1 %}{% macro mm() %}{% for i in [1] %}[{{ k }}]{% endfor %}{% set k = 2 %}{% endmacro %}{{ mm() }}|{% for a in [1] %}{% for b in [1] %}[{{ q }}]{% endfor %}{{ q }}{% set q = 5 %}{% endfor %}", {"n": 0, "k": 0, "q": 3}),
    ("set-forms", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t = 1, 2 %}{{ t }}{% set block %}in {{ a }} block{% endset %}[{{ block }}]", {}),
    ("namespace", "{% set ns = namespace(n=0, found=false) %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}{% if i == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.n }} {{ ns.found }} {{ ns.missing is defined }}", {}),
    # macros and call blocks
    ("macro", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', '?') }} {{ greet(punct='.', name='C') }} [{{ greet() }}]", {}),
    ("macro-recursive", "{% macro count(n) %}{{ n }}{% if n > 0 %}{{ count(n - 1) }}{% endif %}{% endmacro %}{{ count(3) }}", {}),
    ("macro-scope", "{% set x = 1 %}{% macro show() %}{{ x }}{% set x = 5 %}{{ x }}{% endmacro %}{{ show() }}{{ x }}{% set x = 2 %}{{ show() }}{% for i in [7] %}{% macro inner() %}{{ i }}{% endmacro %}{{ inner() }}{% endfor %}", {}),
    ("macro-whitespace", "{%- macro line(t) -%}\n  [{{ t }}]\n{%- endmacro -%}\n{{ line('a') }}\n{{ line('b') }}", {}),
    ("call-block", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ 1 + 1 }}{% endcall %}{% macro each(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}{% call(item) each([1, 2]) %}[{{ item }}]{% endcall %}", {}),
    ("star-args", "{% macro f(a, b, c='c') %}{{ a }}{{ b }}{{ c }}{% endmacro %}{{ f(*[1, 2]) }} {{ f(1, **{'b': 'B', 'c': 'C'}) }} {{ range(*[2, 5]) | list }}", {}),
    ("macro-too-many-args", "{% macro f(a) %}{% endmacro %}{{ f(1, 2) }}", {}),
    ("generation-block", "{% for m in messages %}x{% endfor %}{% generation %}gen {{ 1 }}{% endgeneration %}", {}),
    # filters
    ("filters-string", "{{ '  a b  ' | trim }}|{{ 'xxaxx' | trim('x') }}|{{ 'hello wORLD-foo(bar' | title }}|{{ 'hELLO' | capitalize }}|{{ 'aXa' | lower }}{{ 'aXa' | upper }}|{{ 'a.b.c' | replace('.', '-') }}|{{ 'aaa' | replace('a', 'b', 2) }}|{{ '<&\">' | e }}|{{ 'x' | safe }}", {}),
    ("filters-length", "{{ 'héllo' | length }} {{ [1, 2] | count }} {{ {'a': 1} | length }} {{ 'a b  c' | wordcount }}", {}),
    ("filters-list", "{{ [3, 1, 2] | sort }}{{ ['b', 'A', 'a'] | sort }}{{ [3, 1] | sort(reverse=true) }}{{ [1, 2] | reverse | list }}{{ 'abc' | reverse }}{{ [1, 2] | first }}{{ [1, 2] | last }}{{ 'ab' | list }}{{ ['a', 'A', 'b'] | unique | list }}{{ [1, 2] | join(', ') }}{{ [1, 2, 3] | sum }}{{ [3, 1] | min }}{{ [3, 1] | max }}", {}),
    ("filters-dicts", "{{ d | dictsort }}{{ d | dictsort(by='value', reverse=true) }}{{ d | items | list }}", {"d": {"b": 1, "a": 2, "C": 0}}),
    ("filters-select", "{{ ms | selectattr('role', 'equalto', 'user') | map(attribute='content') | join(',') }}|{{ ms | rejectattr('role', 'eq', 'user') | list | length }}|{{ [1, 2, 3, 4] | select('odd') | list }}|{{ [1, 2, 3] | reject('divisibleby', 3) | list }}|{{ ms | selectattr('tool') | list | length }}|{{ ms | map(attribute='missing', default='?') | join }}|{{ ['a', 'b'] | map('upper') | join }}", {"ms": [{"role": "user", "content": "u1"}, {"role": "assistant", "content": "a1", "tool": True}, {"role": "user", "content": "u2"}]}),
    ("filters-numbers", "{{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ 3.9 | int }} {{ '2.5' | float }} {{ 3 | float }} {{ -2.5 | abs }} {{ 2.5 | round }} {{ 3.5 | round }} {{ -0.5 | round }} {{ 3.14159 | round(2) }} {{ 2.7 | round(0, 'floor') }}", {}),
    ("filters-default", "{{ missing | default('d') }} {{ missing | d('e') }} {{ '' | default('f') }} {{ '' | default('g', true) }} {{ none | default('h') }}", {}),
    ("filters-indent", "[{{ 'a\\nb\\n\\nc' | indent }}][{{ 'a\\nb' | indent(2, true) }}][{{ 'a\\n\\nb' | indent('> ', blank=true) }}]", {}),
    ("tojson", "{{ x | tojson }}|{{ x | tojson(indent=2) }}|{{ x | tojson(sort_keys=true) }}|{{ x | tojson(separators=(',', ':')) }}|{{ 'é\"\\\\\\n\\t\\u0001' | tojson }}|{{ [] | tojson(indent=4) }}|{{ {} | tojson }}|{{ 1.0 | tojson }}|{{ none | tojson }}", {"x": {"b": [1, 2.5, None, True, "ü"], "a": {}, "c": {"d": []}}}),
    ("tests", "{{ 1 is number }}{{ true is number }}{{ 1 is integer }}{{ true is integer }}{{ 1.0 is float }}{{ 'a' is string }}{{ {} is mapping }}{{ [] is iterable }}{{ 'a' is sequence }}{{ none is none }}{{ true is boolean }}{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 'a' is equalto 'a' }}{{ x is defined }}{{ x is undefined }}{{ 'ab' is lower }}{{ 'AB' is upper }}{{ 1 is not none }}{{ 2 is in [1, 2] }}{{ true is true }}{{ 0 is false }}", {}),
    ("string-methods", "{{ ' a '.strip() }}|{{ 'xax'.strip('x') }}|{{ ' a '.lstrip() }}|{{ ' a '.rstrip() }}|{{ 'abc'.startswith('a') }}{{ 'abc'.endswith(('x', 'c')) }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'ab'.upper() }}{{ 'AB'.lower() }}|{{ 'hello world'.title() }}|{{ 'hello'.capitalize() }}|{{ 'aXbX'.replace('X', '-') }}|{{ '-'.join(['a', 'b']) }}|{{ 'banana'.count('a') }}|{{ 'banana'.find('n') }}|{{ 'a\\nb\\n'.splitlines() }}", {}),
    ("globals", "{{ range(3) | list }}{{ range(1, 7, 2) | list }}{{ dict(a=1, b='x') }}{{ namespace(a=1).a }}", {}),
    ("macro-free-raise", "{% if messages | length == 0 %}{{ raise_exception('no messages: ' ~ 0) }}{% endif %}", {}),
    # failures jinja2 reports while rendering
    ("undefined-attribute", "{{ missing.attr }}", {}),
    ("undefined-arithmetic", "{{ missing + 1 }}", {}),
    ("undefined-call", "{{ missing() }}", {}),
    ("type-error-concat", "{{ 'a' + 1 }}", {}),
    ("none-iteration", "{% for x in none %}{% endfor %}", {}),
    ("unsafe-append", "{% set l = [] %}{{ l.append(1) }}", {}),
    ("namespace-underscore", "{% set ns = namespace() %}{% set ns._x = 1 %}", {}),
    # templates jinja2 refuses to compile
    ("syntax-unclosed-if", "{% if true %}x", {}),
    ("syntax-unknown-filter", "{{ 'a' | nosuchfilter }}", {}),
    ("syntax-unknown-test", "{{ 'a' is nosuchtest }}", {}),
    ("syntax-bad-expression", "{{ 1 + }}", {}),
    ("syntax-unterminated-string", "{{ 'abc }}", {}),
    ("syntax-break-outside-loop", "{% break %}", {}),
]


# Random expressions (fixed seed) over the values of RANDOM_CONTEXT, for a differential check of
# operators, filters, tests, subscripts and Python's str() beyond the hand-written cases. Many fail in
# jinja2 (type errors); the engine must fail on exactly those.
RANDOM_CONTEXT = {
    "s": "Grüße, 'World' \"x\" 👋\n", "e": "", "n": 7, "m": -3, "f": 2.5, "z": 0, "t": True, "u": None,
    "l": [3, "b", 1.5, None, ["x"]], "nums": [4, -2, 9, 0], "words": ["beta", "Alpha", "alpha", "Gamma"],
    "d": {"role": "user", "content": "hi", "n": 2, "nested": {"k": [1, 2]}},
    "ms": [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}, {"role": "assistant", "content": "A"}],
}
RANDOM_ATOMS = ["s", "e", "n", "m", "f", "z", "t", "u", "l", "nums", "words", "d", "ms", "missing", "1", "0", "-4", "2.0",
                "0.1", "1e3", "'ab'", "\"q'\"", "''", "none", "true", "false", "[1, 'a']", "[]", "{'k': 1}", "(1, 2)"]
RANDOM_BINARY = ["+", "-", "*", "/", "//", "%", "**", "~", "==", "!=", "<", ">", "<=", ">=", "in", "not in", "and", "or"]
# (`unique`, `reverse` and `items` return generators in jinja2, which print as their memory address, so
# they are only used through `| list`.)
RANDOM_FILTERS = ["length", "upper", "lower", "trim", "first", "last", "join", "join(', ')", "reverse | list", "list", "sort",
                  "unique | list", "tojson", "string", "int", "float", "abs", "round", "default('D')", "items | list", "title",
                  "capitalize", "sum", "min", "max", "dictsort", "count", "tojson(indent=1)", "replace('a', 'o')",
                  "selectattr('role', 'eq', 'user') | list", "map(attribute='role') | list"]
# (`e` is left out: it returns Markup, whose methods return Markup, which prints as `Markup('...')` inside
# containers; the engine has no Markup type. engine case "filters-string" covers `e` itself.)
RANDOM_TESTS = ["defined", "none", "string", "number", "integer", "float", "mapping", "iterable", "sequence", "boolean",
                "odd", "even", "true", "false", "lower", "upper", "divisibleby(2)", "eq 7", "in [1, 7]"]
RANDOM_POSTFIX = ["[0]", "[-1]", "[1:]", "[::-1]", "[:2]", ".role", "['content']", ".nested.k", ".upper()", ".strip()",
                  ".split(',')", ".startswith('G')", ".get('n')", ".items() | list", ".keys() | list", "[1]"]


def random_expression(rng, depth=0):
    roll = rng.random()
    if depth > 2 or roll < 0.3:
        return rng.choice(RANDOM_ATOMS)
    if roll < 0.55:
        return f"{random_expression(rng, depth + 1)} {rng.choice(RANDOM_BINARY)} {random_expression(rng, depth + 1)}"
    if roll < 0.7:
        return f"({random_expression(rng, depth + 1)}) | {rng.choice(RANDOM_FILTERS)}"
    if roll < 0.8:
        negated = " not" if rng.random() < 0.3 else ""
        return f"({random_expression(rng, depth + 1)}) is{negated} {rng.choice(RANDOM_TESTS)}"
    if roll < 0.9:
        return f"({random_expression(rng, depth + 1)}){rng.choice(RANDOM_POSTFIX)}"
    if roll < 0.95:
        return f"not {random_expression(rng, depth + 1)}"
    return f"{random_expression(rng, depth + 1)} if {random_expression(rng, depth + 1)} else {random_expression(rng, depth + 1)}"


def random_cases(count=1500, seed=20261123):
    rng = random.Random(seed)
    return [(f"random-{i:03d}", "{{ " + random_expression(rng) + " }}", RANDOM_CONTEXT) for i in range(count)]


# Random templates (fixed seed) for whitespace handling: nested if/for/set/macro blocks, comments and
# outputs with random `-`/`+` markers, separated by random runs of spaces, tabs and newlines.
WS_PIECES = ["", " ", "  ", "\n", "\n  ", "  \n", "\t", "\n\n", " x ", "y\n", "\n z", "\r\n", "\u00a0"]


def random_template(rng, depth=0):
    def ws():
        return "".join(rng.choice(WS_PIECES) for _ in range(rng.randint(0, 3)))

    def tag(body):
        return "{%" + rng.choice(["", "", "-", "+"]) + " " + body + " " + rng.choice(["", "", "-", "+"]) + "%}"

    parts = []
    for _ in range(rng.randint(1, 4)):
        parts.append(ws())
        roll = rng.random()
        if roll < 0.25:
            parts.append("{{" + rng.choice(["", "-"]) + " " + rng.choice(["i", "'o'", "loop.index", "n", "i ~ '|'"]) + " " + rng.choice(["", "-"]) + "}}")
        elif roll < 0.35:
            parts.append("{#" + rng.choice(["", "-", "+"]) + " c " + rng.choice(["", "-", "+"]) + "#}")
        elif roll < 0.45:
            parts.append(tag("set n = " + rng.choice(["1", "n ~ 'n'", "'s'"])))
        elif depth < 3 and roll < 0.7:
            parts.append(tag("for i in " + rng.choice(["[1, 2]", "'ab'", "[]"])) + random_template(rng, depth + 1))
            if rng.random() < 0.3:
                parts.append(tag("else") + random_template(rng, depth + 1))
            parts.append(tag("endfor"))
        elif depth < 3 and roll < 0.9:
            parts.append(tag("if " + rng.choice(["true", "false", "i", "n"])) + random_template(rng, depth + 1))
            if rng.random() < 0.4:
                parts.append(tag("elif true") + random_template(rng, depth + 1))
            if rng.random() < 0.4:
                parts.append(tag("else") + random_template(rng, depth + 1))
            parts.append(tag("endif"))
        elif depth < 3:
            parts.append(tag("macro mm(i)") + random_template(rng, depth + 1) + tag("endmacro"))
            parts.append("{{ mm(" + rng.choice(["1", "'q'"]) + ") }}")
        parts.append(ws())
    return "".join(parts)


def random_whitespace_cases(count=300, seed=20261124):
    rng = random.Random(seed)
    return [(f"whitespace-{i:03d}", random_template(rng), {"n": 0}) for i in range(count)]


def render(template, messages, add_generation_prompt, context):
    context = dict(context)
    tools = context.pop("tools", None)
    try:
        rendered, _ = render_jinja_template(
            conversations=[messages], tools=tools, chat_template=template,
            add_generation_prompt=add_generation_prompt, **context,
        )
        return {"rendered": rendered[0]}
    except (jinja2.exceptions.TemplateSyntaxError, jinja2.exceptions.TemplateAssertionError) as error:
        return {"error": {"kind": "syntax", "message": str(error)}}
    except jinja2.exceptions.TemplateError as error:
        # raise_exception raises the base TemplateError; jinja2's own failures are subclasses.
        kind = "raised" if type(error) is jinja2.exceptions.TemplateError else "error"
        return {"error": {"kind": kind, "message": str(error)}}
    except Exception as error:  # TypeError and the like, from the template's own expressions
        return {"error": {"kind": "error", "message": f"{type(error).__name__}: {error}"}}


def main():
    cases = []
    for path in sorted(TEMPLATES.glob("*.jinja")):
        name = path.stem
        template = path.read_text(encoding="utf-8")
        base = dict(TOKENS.get(name, {"bos_token": "<s>", "eos_token": "</s>"}))
        if name in DATED_TEMPLATES:
            base["date_string"] = "23 Nov 2026"
        # The hfjs-* and axolotl-* templates (more models, for breadth) get a smaller set of conversations.
        breadth = name.startswith(("hfjs-", "axolotl-"))
        runs = list(BREADTH_CONVERSATIONS if breadth else CONVERSATIONS)
        if name in TOOL_TEMPLATES or breadth:
            runs += list(TOOL_CONVERSATIONS)
        for conv in runs:
            messages, tools = TOOL_CONVERSATIONS.get(conv, (CONVERSATIONS.get(conv), None))
            for add_generation_prompt in (False, True):
                context = dict(base) if tools is None else {**base, "tools": tools}
                result = render(template, messages, add_generation_prompt, context)
                cases.append({
                    "template": name, "conversation": conv, "add_generation_prompt": add_generation_prompt,
                    "context": base, **result,
                })
    engine_cases = []
    for name, template, variables in ENGINE_CASES + random_cases() + random_whitespace_cases():
        for add_generation_prompt in (False,):
            result = render(template, [], add_generation_prompt, variables)
            # Random cases all share RANDOM_CONTEXT, stored once as "random_context".
            context = "random" if variables is RANDOM_CONTEXT else variables
            engine_cases.append({"name": name, "template": template, "context": context, **result})
    kinds = {}
    for case in cases:
        key = case["error"]["kind"] if "error" in case else "rendered"
        kinds[key] = kinds.get(key, 0) + 1
    assert kinds.get("raised", 0) >= 4, kinds  # the Mistral templates refuse two-users / assistant-first
    assert kinds["rendered"] > 600, kinds
    document = {"transformers": transformers.__version__, "jinja2": jinja2.__version__, "fixed_now": FIXED_NOW.isoformat(), "conversations": {
        **{name: {"messages": messages} for name, messages in CONVERSATIONS.items()},
        **{name: {"messages": messages, "tools": tools} for name, (messages, tools) in TOOL_CONVERSATIONS.items()},
    }, "cases": cases, "random_context": RANDOM_CONTEXT, "engine_cases": engine_cases}
    (HERE / "expected.json").write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    files = sorted([p.relative_to(HERE).as_posix() for p in TEMPLATES.glob("*.jinja")] + ["expected.json"])
    manifest = "".join(f"{hashlib.sha256((HERE / f).read_bytes()).hexdigest()}  {f}\n" for f in files)
    (HERE / "MANIFEST.sha256").write_text(manifest, encoding="utf-8")
    print(f"{len(cases)} cases: {kinds}; {len(engine_cases)} engine cases")


if __name__ == "__main__":
    main()
