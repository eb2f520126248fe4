"""The zh-CN edition keeps one style (translations/zh-CN/STYLE.md): no
banned variant anywhere in its Markdown or its message catalogue, the
recurring sections named alike in every lesson, key terms glossed with
their English on first use, and a glossary whose terms are all used."""

import importlib.util
import json
import re
from pathlib import Path

import pytest
import zh_glosses
from helpers import ROOT

EDITION = ROOT / "translations" / "zh-CN"
CATALOGUE = ROOT / "cnn_course" / "catalogue" / "zh-CN"
LESSONS = sorted(path.stem for path in EDITION.glob("0[1-9]_*.md"))
CJK = "\u4e00-\u9fff"

# (what is wrong, pattern of the banned form); STYLE.md says why.
BANNED = [
    ("images are counted with 张, not 幅", r"(?<!步)幅(?!度)"),
    ("raise is 抛出, not 引发", r"引发"),
    ("dtype stays dtype, not 数据类型", r"数据类型"),
    ("large numbers in 万, not 百万", r"\d 百万"),
    ("784 个数字 reads as digits: 784 个像素值 / 个数", r"个数字组成"),
    ("the dense probe is 全连接探测模型", r"\bdense 探测"),
    ("an ordinal is 第 N 层", r"(?<!第 )层 \{index\}"),
    ("CosineDecay is 余弦衰减", r"余弦调度"),
    ("a gloss takes full-width parentheses: 步幅（stride）",
     rf"[{CJK}] \([A-Za-z][A-Za-z →…]*\)"),
    ("a colon after Chinese is full-width", rf"[{CJK}]: "),
    ("no space after full-width punctuation", rf"） (?=[{CJK}`])"),
    ("Setup is 准备工作", r"^#+ 设置$"),
    ("What you will do is 你将要做的事", r"本课内容"),
    ("How the checks work is 检查是如何进行的", r"检查是如何工作的"),
    ("graded by hand is （由教师人工评分。）", r"（(?:由)?人工评分。）"),
    ("a label's separator is —— without spaces", r"^#+ .* —— "),
    ("a label's separator is ——, not a colon",
     r"^#+ (?:第 \d+ 课|练习 \d+|第 \d+ 部分)："),
]


def texts():
    """(where, Chinese text) of every translated cell and message."""
    for path in sorted(EDITION.glob("0*.md")):
        yield path.name, path.read_text(encoding="utf-8")
    for path in sorted(CATALOGUE.glob("*.json")):
        table = json.loads(path.read_text(encoding="utf-8"))
        for english, chinese in table.items():
            yield f"{path.name}: {english[:40]!r}", chinese
            # A message starting with a name, "{what}: ...", keeps "：".
            if re.match(r"\{\w+\}: ", english):
                assert re.match(r"\{\w+\}：", chinese), (
                    f"{path.name}: {chinese[:60]!r} should start "
                    "'{...}：' like its English '{...}: '")


def violations(items):
    found = []
    for where, text in items:
        for reason, pattern in BANNED:
            for match in re.finditer(pattern, text, flags=re.M):
                start = max(0, match.start() - 12)
                found.append(f"{where}: {reason}: "
                             f"{text[start:match.end() + 12]!r}")
    return found


def test_no_banned_variant_anywhere_in_the_edition():
    found = violations(texts())
    assert not found, "\n".join(found)


@pytest.mark.parametrize("text", [
    "## 练习 1：输出的尺寸", "# 第 03 课 —— 前向传播", "300 幅白色图像",
    "请引发 ValueError", "数据类型为 {got}", "5.4 百万个权重",
    "由 784 个数字组成的列表", "dense 探测模型", "{what}：层 {index} 是",
    "训练 5 轮 (epoch)", "卷积核: 3x3", "## 设置", "（人工评分。）",
    "批次（batch） 大小",
])
def test_each_banned_variant_is_found(text):
    assert violations([("planted", text)])


def test_the_allowed_forms_pass():
    assert not violations([("allowed", "## 练习 1——输出的尺寸\n"
                            "步幅（stride）为 2 时，300 张图像的 dtype 为 "
                            "float64；{what}：第 {index} 层是 Conv2D；"
                            "抛出 ValueError；约 80 万个权重。\n"
                            "（由教师人工评分。）")])


@pytest.mark.parametrize("lesson", LESSONS)
def test_recurring_sections_are_named_alike(lesson):
    text = (EDITION / f"{lesson}.md").read_text(encoding="utf-8")
    for section in ("## 准备工作", "**你将要做的事**",
                    "## 与原教程相比的改动"):
        assert f"\n{section}\n" in text, f"{lesson}: no {section}"
    assert re.search(r"^# 第 \d\d 课——\S", text, flags=re.M), lesson


@pytest.mark.parametrize("lesson", LESSONS)
def test_key_terms_are_glossed_on_first_use(lesson):
    text = (EDITION / f"{lesson}.md").read_text(encoding="utf-8")
    terms = zh_glosses.GLOSSES.get(lesson)
    assert terms, (f"{lesson}: list its key terms in "
                   "tests/translations/zh_glosses.py")
    for pattern, english in terms.items():
        span = zh_glosses.first_use(text, pattern)
        assert span, f"{lesson}: {pattern} is not used"
        assert zh_glosses.glossed_at(text, span[1], english), (
            f"{lesson}: first use of {pattern} is not followed by "
            f"（{english}）: {text[span[0]:span[1] + 20]!r}")


def glossary_terms():
    """The Chinese terms of GLOSSARY.md's table (each cell split at ；
    and /, without glosses in parentheses)."""
    terms = []
    for line in (EDITION / "GLOSSARY.md").read_text(
            encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) < 2 or not re.search(f"[{CJK}]", cells[1]):
            continue
        for term in re.split(r"[；/]", cells[1]):
            term = re.sub(r"（[^）]*）", "", term).strip()
            if re.search(f"[{CJK}]", term):
                terms.append(term)
    return terms


def test_every_glossary_term_is_used_and_every_gloss_is_listed():
    edition = "\n".join(text for _, text in texts())
    terms = glossary_terms()
    assert len(terms) > 40
    unused = [term for term in terms if term not in edition]
    assert not unused, f"glossary terms the edition never uses: {unused}"
    glossary = (EDITION / "GLOSSARY.md").read_text(encoding="utf-8")
    for lesson, glosses in zh_glosses.GLOSSES.items():
        for english in glosses.values():
            assert english.lower() in glossary.lower(), (lesson, english)


def language_pack_labels():
    """Every Chinese label of the pinned JupyterLab language pack
    (requirements.txt: jupyterlab-language-pack-zh-CN)."""
    spec = importlib.util.find_spec("jupyterlab_language_pack_zh_CN")
    if spec is None:
        pytest.skip("the JupyterLab language pack is not installed")
    folder = Path(spec.origin).parent / "locale" / "zh_CN" / "LC_MESSAGES"
    labels = set()
    for path in folder.glob("*.json"):
        for value in json.loads(path.read_text(encoding="utf-8")).values():
            if isinstance(value, list):
                labels.update(item for item in value if isinstance(item, str))
    return labels


def sentence_patterns():
    """Each sentence of each Chinese message, as a pattern in which a
    placeholder matches a name or number."""
    patterns = []
    for path in sorted(CATALOGUE.glob("*.json")):
        for chinese in json.loads(path.read_text(encoding="utf-8")).values():
            for sentence in re.findall(r"[^。\n]+。", chinese):
                parts = re.split(r"\{[^{}]*\}", sentence)
                patterns.append(r"\S+".join(map(re.escape, parts)))
    return patterns


def test_start_page_quotes_real_menu_labels_and_messages():
    text = (EDITION / "00_start_here.md").read_text(encoding="utf-8")
    labels = language_pack_labels()
    menus = re.findall(r"\*\*([^*\n]*→[^*\n]*)\*\*", text)
    assert len(menus) >= 2, menus
    for menu in menus:
        for label in menu.split("→"):
            assert label.strip() in labels, (
                f"{label.strip()!r} is not a label of the language pack")
    checks = next(line for line in text.splitlines() if "**检查。**" in line)
    quotes = re.findall(r"“([^”]+)”", checks)
    assert len(quotes) >= 2, checks
    patterns = sentence_patterns()
    for quote in quotes:
        assert any(re.fullmatch(pattern, quote) for pattern in patterns), (
            f"the start page quotes {quote!r}, which no check says")
