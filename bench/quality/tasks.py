"""The tasks. Each has a tier (trivial / simple / multi-file), the files it starts from, the instruction
a user would type, and ``check``: a Python script run in the edited workspace that exits 0 when the
edit is right (it imports the code and runs asserts, or inspects it with ``ast``). The checks also
require that what should stay, stays (the other functions still work).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Task:
    id: str
    tier: str
    files: dict[str, str]
    instruction: str
    check: str
    active: str = ""          # the file the user has open (default: the first file)
    new_files: tuple[str, ...] = field(default_factory=tuple)


CALC = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"
GEOM = ('"""Small geometry helpers."""\n\nimport math\n\n\ndef circle_area(r):\n    return math.pi * r * r\n\n\n'
        'def square_area(side):\n    return side * side\n')
TEXT = ('def shout(text):\n    return text.upper() + "!"\n\n\ndef whisper(text):\n    return text.lower() + "..."\n')
CONFIG = "TIMEOUT = 30\nRETRIES = 3\nBASE_URL = \"http://localhost:8000\"\nDEBUG = False\n"
STATS = ("def mean(values):\n    total = 0\n    for v in values:\n        total += v\n    return total / len(values)\n\n\n"
         "def spread(values):\n    return max(values) - min(values)\n")
USERS = ('class User:\n    def __init__(self, name, email):\n        self.name = name\n        self.email = email\n\n'
         '    def display(self):\n        return f"{self.name} <{self.email}>"\n')
PAGES = ("def page_count(items, per_page):\n    return len(items) // per_page\n\n\n"
         "def page(items, number, per_page):\n    start = (number - 1) * per_page\n    return items[start:start + per_page]\n")
RANGE = ("def inclusive_range(start, stop):\n    \"\"\"Numbers from start to stop, both included.\"\"\"\n"
         "    return list(range(start, stop))\n")
LAST = "def last_n(items, n):\n    \"\"\"The last n items.\"\"\"\n    return items[-n - 1:]\n"
GRADE = ("def grade(score):\n    if score >= 90:\n        return \"A\"\n    if score >= 80:\n        return \"B\"\n"
         "    return \"C\"\n")
SIGN = "def sign(x):\n    if x > 0:\n        return 1\n    return -1\n"
PATHS = "def ext(name):\n    return name.rsplit(\".\", 1)[-1]\n"
SLUG = "def slug(title):\n    return title.lower().replace(\" \", \"-\")\n"
CLAMP = "def clamp(x, lo, hi):\n    if x < lo:\n        return lo\n    return x\n"
FIZZ = ("def fizz(n):\n    if n % 15 == 0:\n        return \"FizzBuzz\"\n    if n % 3 == 0:\n        return \"Fizz\"\n"
        "    return str(n)\n")
GREET = "def greet(name):\n    return \"Hello, \" + name\n"
INV = ("def total(prices):\n    s = 0\n    for p in prices:\n        s += p\n    return s\n")
TEMP = "def to_fahrenheit(c):\n    return c * 9 / 5 + 32\n"
JS_CART = "export function total(items) {\n  return items.reduce((s, i) => s + i.price, 0);\n}\n"

# Shared check helpers, prepended to every check script.
PRELUDE = '''
import ast, importlib, sys
sys.path.insert(0, ".")
def src(path):
    return open(path, encoding="utf-8").read()
def tree(path):
    return ast.parse(src(path))
def funcs(path):
    return {n.name: n for n in ast.walk(tree(path)) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
def mod(name):
    return importlib.import_module(name)
'''


def _t(id, tier, files, instruction, check, **kw):
    return Task(id, tier, files, instruction, check.strip() + "\n", **kw)


TASKS: list[Task] = [
    # -- trivial: mirror a function ---------------------------------------------------------------
    _t("calc-sub", "trivial", {"calc.py": CALC}, "add a function sub(a, b) that returns a - b",
       "m = mod('calc'); assert m.sub(5, 3) == 2 and m.add(2, 3) == 5 and m.mul(2, 3) == 6"),
    _t("calc-div", "trivial", {"calc.py": CALC}, "add a function div(a, b) that returns a / b",
       "m = mod('calc'); assert m.div(6, 3) == 2 and m.add(1, 1) == 2 and m.mul(2, 2) == 4"),
    _t("geom-rect", "trivial", {"geom.py": GEOM},
       "add a function rect_area(w, h) that returns w * h, like square_area",
       "m = mod('geom'); assert m.rect_area(2, 3) == 6 and m.square_area(3) == 9 and m.circle_area(1) > 3"),
    _t("text-title", "trivial", {"text.py": TEXT}, "add a function title(text) that returns text.title()",
       "m = mod('text'); assert m.title('ab cd') == 'Ab Cd' and m.shout('a') == 'A!' and m.whisper('B') == 'b...'"),
    _t("stats-median", "trivial", {"stats.py": STATS},
       "add a function total(values) that returns sum(values)",
       "m = mod('stats'); assert m.total([1, 2, 3]) == 6 and m.mean([1, 3]) == 2 and m.spread([1, 5]) == 4"),
    _t("temp-celsius", "trivial", {"temp.py": TEMP},
       "add a function to_celsius(f) that returns (f - 32) * 5 / 9",
       "m = mod('temp'); assert abs(m.to_celsius(212) - 100) < 1e-9 and m.to_fahrenheit(100) == 212"),
    # -- trivial: docstrings --------------------------------------------------------------------------
    _t("doc-mul", "trivial", {"calc.py": CALC}, "add a docstring to mul",
       "f = funcs('calc.py'); assert ast.get_docstring(f['mul']); m = mod('calc'); assert m.mul(2, 3) == 6 and m.add(1, 2) == 3"),
    _t("doc-greet", "trivial", {"greet.py": GREET}, "add a docstring to greet saying it returns a greeting",
       "f = funcs('greet.py'); assert ast.get_docstring(f['greet']); assert mod('greet').greet('Al') == 'Hello, Al'"),
    _t("doc-fix-range", "trivial", {"rng.py": RANGE.replace("both included", "stop excluded")},
       "fix the docstring of inclusive_range: it should say both start and stop are included",
       "d = ast.get_docstring(funcs('rng.py')['inclusive_range']) or ''; assert 'included' in d and 'excluded' not in d"),
    _t("doc-module", "trivial", {"calc.py": CALC}, "add a module docstring to calc.py describing it as arithmetic helpers",
       "assert ast.get_docstring(tree('calc.py')); m = mod('calc'); assert m.add(1, 2) == 3 and m.mul(2, 2) == 4"),
    # -- trivial: rename a local variable ------------------------------------------------------------
    _t("rename-local-total", "trivial", {"stats.py": STATS}, "in mean, rename the local variable total to acc",
       "f = funcs('stats.py')['mean']; names = {n.id for n in ast.walk(f) if isinstance(n, ast.Name)}; "
       "assert 'acc' in names and 'total' not in names; assert mod('stats').mean([2, 4]) == 3"),
    _t("rename-local-s", "trivial", {"inv.py": INV}, "in total, rename the variable s to running",
       "f = funcs('inv.py')['total']; names = {n.id for n in ast.walk(f) if isinstance(n, ast.Name)}; "
       "assert 'running' in names and 's' not in names; assert mod('inv').total([1, 2]) == 3"),
    _t("rename-local-start", "trivial", {"pages.py": PAGES}, "in page, rename the local variable start to first",
       "f = funcs('pages.py')['page']; names = {n.id for n in ast.walk(f) if isinstance(n, ast.Name)}; "
       "assert 'first' in names and 'start' not in names; assert mod('pages').page([1, 2, 3, 4], 2, 2) == [3, 4]"),
    # -- trivial: change a constant ------------------------------------------------------------------
    _t("const-retries", "trivial", {"config.py": CONFIG}, "change RETRIES to 5",
       "m = mod('config'); assert m.RETRIES == 5 and m.TIMEOUT == 30 and m.DEBUG is False"),
    _t("const-timeout", "trivial", {"config.py": CONFIG}, "set TIMEOUT to 60",
       "m = mod('config'); assert m.TIMEOUT == 60 and m.RETRIES == 3"),
    _t("const-debug", "trivial", {"config.py": CONFIG}, "turn DEBUG on (True)",
       "m = mod('config'); assert m.DEBUG is True and m.TIMEOUT == 30 and m.RETRIES == 3"),
    _t("const-url", "trivial", {"config.py": CONFIG}, "change BASE_URL to \"https://example.org\"",
       "m = mod('config'); assert m.BASE_URL == 'https://example.org' and m.RETRIES == 3"),
    _t("const-greeting", "trivial", {"greet.py": GREET}, "change the greeting from \"Hello, \" to \"Hi, \"",
       "assert mod('greet').greet('Al') == 'Hi, Al'"),
    # -- trivial: add a parameter with a default -----------------------------------------------------
    _t("param-shout", "trivial", {"text.py": TEXT},
       "add a parameter mark=\"!\" to shout and use it instead of the literal \"!\"",
       "m = mod('text'); assert m.shout('a') == 'A!' and m.shout('a', mark='?') == 'A?' and m.whisper('X') == 'x...'"),
    _t("param-greet", "trivial", {"greet.py": GREET},
       "add a parameter greeting=\"Hello\" to greet and use it in the returned text",
       "g = mod('greet').greet; assert g('Al') == 'Hello, Al' and g('Al', greeting='Hey') == 'Hey, Al'"),
    _t("param-round", "trivial", {"temp.py": TEMP},
       "add a parameter digits=None to to_fahrenheit; when it is given, round the result to that many digits",
       "f = mod('temp').to_fahrenheit; assert f(100) == 212 and f(36.6, digits=1) == 97.9"),
    # -- simple: an off-by-one shown by a failing test -----------------------------------------------
    _t("obo-range", "simple", {"rng.py": RANGE, "test_rng.py":
                               "from rng import inclusive_range\n\n\ndef test_both_ends():\n    assert inclusive_range(1, 3) == [1, 2, 3]\n"},
       "test_rng.py fails: inclusive_range(1, 3) returns [1, 2]; fix inclusive_range",
       "m = mod('rng'); assert m.inclusive_range(1, 3) == [1, 2, 3] and m.inclusive_range(0, 0) == [0]", active="rng.py"),
    _t("obo-last", "simple", {"last.py": LAST, "test_last.py":
                              "from last import last_n\n\n\ndef test_two():\n    assert last_n([1, 2, 3], 2) == [2, 3]\n"},
       "test_last.py fails: last_n([1, 2, 3], 2) returns [1, 2, 3]; fix last_n",
       "m = mod('last'); assert m.last_n([1, 2, 3], 2) == [2, 3] and m.last_n([1, 2, 3], 1) == [3]", active="last.py"),
    _t("obo-pages", "simple", {"pages.py": PAGES, "test_pages.py":
                               "from pages import page_count\n\n\ndef test_partial_page():\n    assert page_count([1, 2, 3], 2) == 2\n"},
       "test_pages.py fails: page_count([1, 2, 3], 2) returns 1 but a partial page counts; fix page_count",
       "m = mod('pages'); assert m.page_count([1, 2, 3], 2) == 2 and m.page_count([1, 2], 2) == 1 and m.page_count([], 2) == 0",
       active="pages.py"),
    _t("obo-page", "simple", {"pages.py": PAGES.replace("(number - 1) * per_page", "number * per_page")},
       "page numbers start at 1, but page(items, 1, 2) skips the first page; fix page",
       "m = mod('pages'); assert m.page([1, 2, 3, 4], 1, 2) == [1, 2] and m.page([1, 2, 3, 4], 2, 2) == [3, 4]"),
    # -- simple: add a branch ------------------------------------------------------------------------
    _t("branch-sign-zero", "simple", {"sign.py": SIGN}, "make sign return 0 when x is 0",
       "s = mod('sign').sign; assert s(0) == 0 and s(5) == 1 and s(-2) == -1"),
    _t("branch-clamp-hi", "simple", {"clamp.py": CLAMP}, "clamp ignores hi: return hi when x > hi",
       "c = mod('clamp').clamp; assert c(5, 0, 3) == 3 and c(-1, 0, 3) == 0 and c(2, 0, 3) == 2"),
    _t("branch-grade-d", "simple", {"grade.py": GRADE}, "add a grade \"D\" for scores below 70 (C stays for 70-79)",
       "g = mod('grade').grade; assert g(65) == 'D' and g(75) == 'C' and g(85) == 'B' and g(95) == 'A'"),
    _t("branch-fizz-buzz", "simple", {"fizz.py": FIZZ}, "fizz should return \"Buzz\" for multiples of 5",
       "f = mod('fizz').fizz; assert f(10) == 'Buzz' and f(15) == 'FizzBuzz' and f(9) == 'Fizz' and f(7) == '7'"),
    _t("branch-mean-empty", "simple", {"stats.py": STATS}, "make mean return 0 for an empty list instead of failing",
       "m = mod('stats'); assert m.mean([]) == 0 and m.mean([1, 3]) == 2"),
    _t("branch-ext-none", "simple", {"paths.py": PATHS}, "make ext return \"\" for a name without a dot",
       "e = mod('paths').ext; assert e('README') == '' and e('a.tar.gz') == 'gz' and e('x.py') == 'py'"),
    # -- simple: add an import and use it ------------------------------------------------------------
    _t("import-sqrt", "simple", {"calc.py": CALC}, "add a function root(x) that returns math.sqrt(x) (import math)",
       "m = mod('calc'); assert m.root(9) == 3 and m.add(1, 2) == 3; assert any(isinstance(n, ast.Import) and "
       "any(a.name == 'math' for a in n.names) for n in ast.walk(tree('calc.py')))"),
    _t("import-re-slug", "simple", {"slug.py": SLUG},
       "use re.sub in slug so that runs of spaces become one dash (import re)",
       "s = mod('slug').slug; assert s('A  B') == 'a-b' and s('Hello World') == 'hello-world'; "
       "assert 're' in src('slug.py')"),
    _t("import-dataclass", "simple", {"point.py": "class Point:\n    x: int = 0\n    y: int = 0\n"},
       "make Point a dataclass (import dataclass from dataclasses)",
       "P = mod('point').Point; p = P(1, 2); assert (p.x, p.y) == (1, 2) and P() == P(0, 0)"),
    _t("import-path", "simple", {"paths.py": PATHS},
       "add a function stem(name) that returns pathlib.Path(name).stem (import pathlib)",
       "m = mod('paths'); assert m.stem('a/b.txt') == 'b' and m.ext('x.py') == 'py'"),
    _t("user-method", "simple", {"users.py": USERS},
       "add a method initials(self) to User that returns the first letter of name, upper case",
       "U = mod('users').User; u = U('ada', 'a@x'); assert u.initials() == 'A' and u.display() == 'ada <a@x>'"),
    # -- multi-file: rename a function and its call sites --------------------------------------------
    _t("rename-add", "multi-file", {"calc.py": CALC, "main.py": "from calc import add\n\nprint(add(2, 3))\n"},
       "rename the function add to plus in calc.py and main.py",
       "m = mod('calc'); assert m.plus(2, 3) == 5 and not hasattr(m, 'add'); s = src('main.py'); "
       "assert 'plus' in s and 'add' not in s"),
    _t("rename-greet", "multi-file", {"greet.py": GREET, "app.py": "import greet\n\n\ndef run():\n    return greet.greet(\"Bo\")\n"},
       "rename greet to welcome everywhere (greet.py and app.py); keep the module name greet",
       "g = mod('greet'); assert g.welcome('Al') == 'Hello, Al' and not hasattr(g, 'greet'); "
       "assert mod('app').run() == 'Hello, Bo'"),
    _t("rename-mean", "multi-file", {"stats.py": STATS, "report.py":
                                     "from stats import mean, spread\n\n\ndef summary(v):\n    return f\"{mean(v)} +- {spread(v)}\"\n"},
       "rename mean to average in stats.py and report.py",
       "s = mod('stats'); assert s.average([1, 3]) == 2 and not hasattr(s, 'mean'); "
       "assert mod('report').summary([1, 3]) == '2.0 +- 2'"),
    _t("rename-shout", "multi-file", {"text.py": TEXT, "cli.py": "from text import shout, whisper\n\n\ndef loud(x):\n    return shout(x)\n"},
       "rename shout to yell in text.py and cli.py",
       "t = mod('text'); assert t.yell('a') == 'A!' and not hasattr(t, 'shout'); assert mod('cli').loud('b') == 'B!'"),
    _t("rename-page-count", "multi-file", {"pages.py": PAGES, "view.py":
                                           "from pages import page_count\n\n\ndef pages_of(items):\n    return page_count(items, 10)\n"},
       "rename page_count to pages_needed in pages.py and view.py",
       "p = mod('pages'); assert p.pages_needed([1] * 20, 10) == 2 and not hasattr(p, 'page_count'); "
       "assert mod('view').pages_of([1] * 30) == 3"),
    _t("rename-to-f", "multi-file", {"temp.py": TEMP, "weather.py":
                                     "from temp import to_fahrenheit\n\n\ndef show(c):\n    return f\"{to_fahrenheit(c)} F\"\n"},
       "rename to_fahrenheit to c_to_f in temp.py and weather.py",
       "t = mod('temp'); assert t.c_to_f(100) == 212 and not hasattr(t, 'to_fahrenheit'); "
       "assert mod('weather').show(0) == '32.0 F'"),
]

assert len({t.id for t in TASKS}) == len(TASKS)
