"""The key terms each lesson of the zh-CN edition glosses with their
English on first use, 步幅（stride）: the style of
translations/zh-CN/STYLE.md, checked by tests/translations/test_zh_style.py."""

import re

# {lesson: {pattern of the term: English}}; a pattern keeps a term from
# matching inside a longer one (卷积 in 卷积核, 池化 in 最大池化).
GLOSSES = {
    "01_dense_translation": {
        "全连接网络": "dense network",
        "独热编码": "one-hot",
        "准确率": "accuracy",
    },
    "02_convolution_by_hand": {
        "卷积(?![核层神])": "convolution",
        "卷积核": "kernel",
        "步幅": "stride",
        "填充": "padding",
        "互相关": "cross-correlation",
        "特征图": "feature map",
        "(?<![大均局])池化": "pooling",
        "最大池化": "max pooling",
        "(?<!全局)平均池化": "average pooling",
        "滤波器": "filter",
    },
    "03_cnn_from_scratch": {
        "前向传播": "forward pass",
        "激活函数": "activation function",
        "展平": "flatten",
        "上溢": "overflow",
        "梯度下降": "gradient descent",
        "学习率": "learning rate",
        "通道": "channel",
        "偏置": "bias",
    },
    "04_keras_cnn": {
        "数据增强": "data augmentation",
        "全局平均池化": "global average pooling",
        "批量归一化": "batch normalization",
        "平移不变性": "translation invariance",
        "分类头": "classification head",
        "预热": "warm-up",
        "标签平滑": "label smoothing",
        "权重衰减": "weight decay",
    },
    "05_backpropagation": {
        "反向传播": "backpropagation",
        "梯度": "gradient",
        "交叉熵": "cross-entropy",
        "中心差分": "central differences",
        "自动微分": "automatic differentiation",
        "小批量": "mini-batch",
        "翻转": "flip",
    },
}
INLINE_CODE = re.compile(r"`[^`\n]+`")
MARKER = re.compile(r"^<!-- cell: .*-->$", re.M)
# A stub's docstring, marker and text: code, which the glosses are not
# for (STYLE.md), though learners may read it before the Markdown that
# glosses its terms (lesson 02's conv2d says 互相关 first).
DOCSTRING_BLOCK = re.compile(r"^<!-- docstring: .*?(?=^<!-- |\Z)",
                             re.M | re.S)


def body(text):
    """The text a gloss may sit in: no headings, cell markers, stub
    docstrings or code (blanked out, so that positions stay those of
    `text`)."""
    def blank(match):
        return " " * len(match.group(0))

    text = DOCSTRING_BLOCK.sub(blank, text)
    text = MARKER.sub(blank, text)
    text = re.sub(r"^#.*$", blank, text, flags=re.M)
    text = re.sub(r"```.*?```", blank, text, flags=re.S)
    return INLINE_CODE.sub(blank, text)


def first_use(text, pattern):
    """(start, end) of the term's first use in `text`'s body, or None."""
    found = re.search(pattern, body(text))
    return None if found is None else found.span()


def glossed_at(text, end, english):
    """Whether the term ending at `end` is followed by （english）
    (after the closing * of an emphasis)."""
    rest = text[end:].lstrip("*")
    return rest.startswith(f"（{english}）")
