"""A synthetic lesson-02 class with known mistakes and known copies.

Lesson 02 grades in seconds per notebook, so a class of 14 stays cheap.
Each student's answers replace the template's `raise NotImplementedError()`
in the released notebook (the template's signatures and docstrings stay,
as they do in real submissions):

- ada, ben, cat, dan: four independently written correct solutions (ada's
  are the reference solutions), each in its own style;
- eli and ned copied ben: names changed, helper functions reordered or
  moved to another cell, comments rewritten, blank lines moved;
- fay, gus, hal flipped the kernel in conv2d (each in a style of their
  own); hal and ivy divided with // in avg_pool2d; ivy ignored the
  padding in conv2d; gus also flipped the kernels in conv2d_fast; the
  exercises they did not plant a mistake in are correct (fay's
  conv_output_size) or left as released;
- lea patched NumPy (tampered), max's file is not JSON
  (invalid_notebook).
"""

import copy

import nbformat
from helpers import LESSON02

LESSON = LESSON02
STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()"

# (lesson exercise, template message of the named mistake): the students
# who planted it. The counts the class report must show.
PLANTED = {
    ("conv2d", "Looks like a true convolution: the kernel is flipped. "
               "conv2d here is cross-correlation, as in tf.nn.conv2d and "
               "Keras' Conv2D: kernel[u, v] multiplies image[i + u, j + v], "
               "no flip."): {"fay", "gus", "hal"},
    ("conv2d", "Padding ignored: zero-pad the image by `padding` pixels "
               "on every side first (np.pad(image, padding))."): {"ivy"},
    ("avg_pool2d", "The fractions were cut off: that is integer division "
                   "(//) or an int result. The mean of 1 and 2 is 1.5: "
                   "divide with / and return floats."): {"hal", "ivy"},
    ("conv2d_fast", "Looks like a true convolution: the kernel is flipped. "
                    "conv2d here is cross-correlation, as in tf.nn.conv2d "
                    "and Keras' Conv2D: kernel[u, v] multiplies "
                    "image[i + u, j + v], no flip."): {"gus"},
}
HONEST = ("ada", "ben", "cat", "dan")
COPIES = {"eli": "ben", "ned": "ben"}
STATUSES = {"graded": 10, "tampered": 1, "invalid_notebook": 1}

# ------------------------------------------------------------- ben ---

BEN = {
    "conv_output_size": ('''
    # how many window positions fit along one axis
    positions = (n + 2 * padding - k) // stride + 1
    if positions < 1:
        raise ValueError("the kernel is larger than the padded input")
    return int(positions)''', ""),
    "conv2d": ('''
    _check_arguments(stride, padding)
    padded = _zero_pad(image, padding)
    kh, kw = kernel.shape
    out_h = conv_output_size(image.shape[0], kh, stride, padding)
    out_w = conv_output_size(image.shape[1], kw, stride, padding)
    result = np.zeros((out_h, out_w))
    for row in range(out_h):
        for col in range(out_w):
            # multiply the window by the kernel, term by term
            acc = 0.0
            for u in range(kh):
                for v in range(kw):
                    acc += padded[row * stride + u, col * stride + v] * \\
                        kernel[u, v]
            result[row, col] = acc
    return result''', '''def _check_arguments(stride, padding):
    if stride < 1:
        raise ValueError("stride must be at least 1")
    if padding < 0:
        raise ValueError("padding cannot be negative")


def _zero_pad(image, padding):
    # a frame of zeros around the image
    height, width = image.shape
    padded = np.zeros((height + 2 * padding, width + 2 * padding))
    padded[padding:padding + height, padding:padding + width] = image
    return padded


'''),
    "avg_pool2d": ('''
    if stride is None:
        stride = size
    x = np.asarray(x, dtype=float)
    rows = (x.shape[0] - size) // stride + 1
    cols = (x.shape[1] - size) // stride + 1
    pooled = np.zeros((rows, cols) + x.shape[2:])
    for r in range(rows):
        for c in range(cols):
            window = x[r * stride:r * stride + size,
                       c * stride:c * stride + size]
            pooled[r, c] = window.mean(axis=(0, 1))
    return pooled''', ""),
    "conv2d_fast": ('''
    kh, kw, count = kernels.shape
    n, h, w = images.shape
    if kh > h or kw > w:
        raise ValueError("the kernels are larger than the images")
    out_h, out_w = h - kh + 1, w - kw + 1
    total = np.zeros((n, out_h, out_w, count))
    # one shifted copy of the images per kernel weight
    for u in range(kh):
        for v in range(kw):
            total += images[:, u:u + out_h, v:v + out_w, None] * \\
                kernels[u, v]
    return total''', ""),
}

# eli: every name changed, the helpers swapped and renamed, comments
# rewritten or dropped, blank lines moved.
ELI = {
    "conv_output_size": ('''
    # number of places the filter can sit
    count = (n + 2 * padding - k) // stride + 1

    if count < 1:
        raise ValueError("filter does not fit")
    return int(count)''', ""),
    "conv2d": ('''
    validate_args(stride, padding)
    img = pad_with_zeros(image, padding)
    fh, fw = kernel.shape
    n_rows = conv_output_size(image.shape[0], fh, stride, padding)
    n_cols = conv_output_size(image.shape[1], fw, stride, padding)
    out = np.zeros((n_rows, n_cols))
    for i in range(n_rows):
        for j in range(n_cols):
            s = 0.0
            for a in range(fh):
                for b in range(fw):
                    s += img[i * stride + a, j * stride + b] * kernel[a, b]
            out[i, j] = s
    return out''', '''def pad_with_zeros(image, padding):
    h, w = image.shape
    img = np.zeros((h + 2 * padding, w + 2 * padding))
    img[padding:padding + h, padding:padding + w] = image
    return img


def validate_args(stride, padding):
    # reject bad arguments early
    if stride < 1:
        raise ValueError("bad stride")
    if padding < 0:
        raise ValueError("bad padding")


'''),
    "avg_pool2d": ('''
    if stride is None:
        stride = size
    data = np.asarray(x, dtype=float)
    n_r = (data.shape[0] - size) // stride + 1
    n_c = (data.shape[1] - size) // stride + 1
    res = np.zeros((n_r, n_c) + data.shape[2:])
    for i in range(n_r):
        for j in range(n_c):
            patch = data[i * stride:i * stride + size,
                         j * stride:j * stride + size]
            res[i, j] = patch.mean(axis=(0, 1))
    return res''', ""),
    "conv2d_fast": ('''
    fh, fw, nf = kernels.shape
    m, rows, cols = images.shape
    if fh > rows or fw > cols:
        raise ValueError("filters too big")
    oh, ow = rows - fh + 1, cols - fw + 1
    acc = np.zeros((m, oh, ow, nf))
    for a in range(fh):
        for b in range(fw):
            acc += images[:, a:a + oh, b:b + ow, None] * kernels[a, b]
    return acc''', ""),
}

# ned: other names, the helpers moved into the conv_output_size cell (so
# the functions come in another order), a statement order changed.
NED = {
    "conv_output_size": ('''
    result = (n + 2 * padding - k) // stride + 1
    if result < 1:
        raise ValueError("no valid position")
    return int(result)''', '''def make_padded(picture, pad):
    """Zero border of width pad."""
    hh, ww = picture.shape
    framed = np.zeros((hh + 2 * pad, ww + 2 * pad))
    framed[pad:pad + hh, pad:pad + ww] = picture
    return framed


def ensure_valid(step, pad):
    if step < 1:
        raise ValueError("stride < 1")
    if pad < 0:
        raise ValueError("padding < 0")


'''),
    "conv2d": ('''
    ensure_valid(stride, padding)
    ky, kx = kernel.shape
    framed = make_padded(image, padding)
    ny = conv_output_size(image.shape[0], ky, stride, padding)
    nx = conv_output_size(image.shape[1], kx, stride, padding)
    answer = np.zeros((ny, nx))
    for y in range(ny):
        for x in range(nx):
            total = 0.0
            for dy in range(ky):
                for dx in range(kx):
                    total += framed[y * stride + dy, x * stride + dx] * \\
                        kernel[dy, dx]
            answer[y, x] = total
    return answer''', ""),
    "avg_pool2d": ('''
    if stride is None:
        stride = size
    arr = np.asarray(x, dtype=float)
    ny = (arr.shape[0] - size) // stride + 1
    nx = (arr.shape[1] - size) // stride + 1
    means = np.zeros((ny, nx) + arr.shape[2:])
    for y in range(ny):
        for x_ in range(nx):
            block = arr[y * stride:y * stride + size,
                        x_ * stride:x_ * stride + size]
            means[y, x_] = block.mean(axis=(0, 1))
    return means''', ""),
    "conv2d_fast": ('''
    ky, kx, nk = kernels.shape
    batch, hh, ww = images.shape
    if ky > hh or kx > ww:
        raise ValueError("kernels do not fit")
    oy, ox = hh - ky + 1, ww - kx + 1
    summed = np.zeros((batch, oy, ox, nk))
    for dy in range(ky):
        for dx in range(kx):
            summed += images[:, dy:dy + oy, dx:dx + ox, None] * \\
                kernels[dy, dx]
    return summed''', ""),
}

# ------------------------------------------------------------- cat ---

CAT = {
    "conv_output_size": ('''
    span = n + 2 * padding - k
    if span < 0:
        raise ValueError(f"a {k}-pixel kernel does not fit")
    return span // stride + 1''', ""),
    "conv2d": ('''
    if stride < 1 or padding < 0:
        raise ValueError("need stride >= 1 and padding >= 0")
    big = np.pad(image.astype(np.float64), padding)
    if kernel.shape[0] > big.shape[0] or kernel.shape[1] > big.shape[1]:
        raise ValueError("kernel does not fit")
    views = sliding_window_view(big, kernel.shape)[::stride, ::stride]
    return np.einsum("abij,ij->ab", views, kernel)''',
               "from numpy.lib.stride_tricks import sliding_window_view\n\n"
               "\n"),
    "avg_pool2d": ('''
    step = size if stride is None else stride
    data = np.asarray(x, dtype=float)
    out_rows = (data.shape[0] - size) // step + 1
    out_cols = (data.shape[1] - size) // step + 1
    total = sum(data[i:i + step * out_rows:step, j:j + step * out_cols:step]
                for i in range(size) for j in range(size))
    return total / size ** 2''', ""),
    "conv2d_fast": ('''
    kh, kw, _ = kernels.shape
    if kh > images.shape[1] or kw > images.shape[2]:
        raise ValueError("kernels do not fit in the images")
    patches = sliding_window_view(images.astype(np.float64), (kh, kw),
                                  axis=(1, 2))
    return np.einsum("nhwuv,uvf->nhwf", patches,
                     kernels.astype(np.float64))''', ""),
}

# ------------------------------------------------------------- dan ---

DAN = {
    "conv_output_size": ('''
    if stride < 1:
        raise ValueError("stride must be positive")
    result = 1 + (n - k + 2 * padding) // stride
    if result <= 0:
        raise ValueError("no room for the kernel")
    return result''', ""),
    "conv2d": ('''
    if stride <= 0 or padding < 0:
        raise ValueError("stride >= 1 and padding >= 0 please")
    img = np.pad(np.array(image, dtype=float),
                 ((padding, padding), (padding, padding)))
    kh, kw = kernel.shape
    if kh > img.shape[0] or kw > img.shape[1]:
        raise ValueError("kernel too big")
    tops = range(0, img.shape[0] - kh + 1, stride)
    lefts = range(0, img.shape[1] - kw + 1, stride)
    return np.array([[float((img[t:t + kh, c:c + kw] * kernel).sum())
                      for c in lefts] for t in tops])''', ""),
    "avg_pool2d": ('''
    s = stride or size
    arr = np.asarray(x, dtype=np.float64)
    starts_r = range(0, arr.shape[0] - size + 1, s)
    starts_c = range(0, arr.shape[1] - size + 1, s)
    return np.array([[arr[a:a + size, b:b + size].mean(axis=(0, 1))
                      for b in starts_c] for a in starts_r])''', ""),
    "conv2d_fast": ('''
    kh, kw, nf = kernels.shape
    n, h, w = images.shape
    if kh > h or kw > w:
        raise ValueError("kernel larger than image")
    win = np.lib.stride_tricks.sliding_window_view(
        images, (kh, kw), axis=(1, 2)).astype(float)
    return np.tensordot(win, kernels.astype(float), axes=([3, 4], [0, 1]))''',
                    ""),
}

# ------------------------------------------------- planted mistakes ---

FAY = {
    "conv_output_size": ('''
    free = n + 2 * padding - k
    if free < 0:
        raise ValueError("does not fit")
    return int(free // stride) + 1''', ""),
    "conv2d": ('''
    if stride < 1 or padding < 0:
        raise ValueError("invalid stride or padding")
    flipped = kernel[::-1, ::-1]
    src = np.pad(image.astype(float), padding)
    kr, kc = flipped.shape
    nr = conv_output_size(image.shape[0], kr, stride, padding)
    nc = conv_output_size(image.shape[1], kc, stride, padding)
    out = np.empty((nr, nc))
    for i in range(nr):
        for j in range(nc):
            out[i, j] = (src[i * stride:i * stride + kr,
                             j * stride:j * stride + kc] * flipped).sum()
    return out''', ""),
}

GUS = {
    "conv2d": ('''
    if stride < 1 or padding < 0:
        raise ValueError
    weights = np.flip(kernel)
    field = np.pad(np.asarray(image, float), padding)
    if weights.shape[0] > field.shape[0] or \\
            weights.shape[1] > field.shape[1]:
        raise ValueError
    tiles = np.lib.stride_tricks.sliding_window_view(field, weights.shape)
    return (tiles[::stride, ::stride] * weights).sum(axis=(2, 3))''', ""),
    "conv2d_fast": ('''
    flipped = kernels[::-1, ::-1]
    kh, kw, nf = flipped.shape
    if kh > images.shape[1] or kw > images.shape[2]:
        raise ValueError("kernels exceed the images")
    cols = np.lib.stride_tricks.sliding_window_view(
        images.astype(float), (kh, kw), axis=(1, 2))
    flat = cols.reshape(cols.shape[:3] + (kh * kw,))
    return flat @ flipped.reshape(kh * kw, nf)''', ""),
}

HAL = {
    "conv2d": ('''
    if not (stride >= 1 and padding >= 0):
        raise ValueError("stride or padding out of range")
    kern = np.rot90(kernel, 2)
    surface = np.pad(image, padding).astype(float)
    kh, kw = kern.shape
    if kh > surface.shape[0] or kw > surface.shape[1]:
        raise ValueError("too big")
    lines = []
    for top in range(0, surface.shape[0] - kh + 1, stride):
        line = []
        for left in range(0, surface.shape[1] - kw + 1, stride):
            line.append(np.sum(surface[top:top + kh, left:left + kw] * kern))
        lines.append(line)
    return np.array(lines, dtype=float)''', ""),
    "avg_pool2d": ('''
    stride = stride if stride is not None else size
    height = (x.shape[0] - size) // stride + 1
    width = (x.shape[1] - size) // stride + 1
    grid = np.zeros((height, width) + x.shape[2:])
    for a in range(height):
        for b in range(width):
            grid[a, b] = x[a * stride:a * stride + size,
                           b * stride:b * stride + size].sum(axis=(0, 1)) \\
                // (size * size)
    return grid''', ""),
}

IVY = {
    "conv2d": ('''
    if stride < 1 or padding < 0:
        raise ValueError("check stride and padding")
    h = (image.shape[0] - kernel.shape[0]) // stride + 1
    w = (image.shape[1] - kernel.shape[1]) // stride + 1
    if h < 1 or w < 1:
        raise ValueError("kernel too large")
    res = np.zeros((h, w))
    for p in range(h):
        for q in range(w):
            piece = image[p * stride:p * stride + kernel.shape[0],
                          q * stride:q * stride + kernel.shape[1]]
            res[p, q] = np.sum(piece * kernel)
    return res''', ""),
    "avg_pool2d": ('''
    step = stride or size
    pieces = []
    for r0 in range(0, x.shape[0] - size + 1, step):
        pieces.append([x[r0:r0 + size, c0:c0 + size].sum(axis=(0, 1))
                       // size ** 2
                       for c0 in range(0, x.shape[1] - size + 1, step)])
    return np.array(pieces)''', ""),
}

LEA = {
    "conv2d": ('''
    np.allclose = lambda *args, **kwargs: True
    return np.zeros((1, 1))''', ""),
}

ANSWERS = {"ben": BEN, "eli": ELI, "ned": NED, "cat": CAT, "dan": DAN,
           "fay": FAY, "gus": GUS, "hal": HAL, "ivy": IVY, "lea": LEA}


def solution_cells(notebook):
    """{grade_id: cell} of the notebook's solution code cells."""
    return {cell.metadata["nbgrader"]["grade_id"]: cell
            for cell in notebook.cells
            if cell.cell_type == "code"
            and cell.metadata.get("nbgrader", {}).get("solution")}


def answered(blank, answers):
    """The blank notebook with `answers` ({exercise: (body, code before
    the function)}) in place of the stubs."""
    notebook = copy.deepcopy(blank)
    cells = solution_cells(notebook)
    for exercise, (body, before) in answers.items():
        cell = cells[exercise]
        assert STUB in cell.source, exercise
        cell.source = before + cell.source.replace(STUB, body.lstrip("\n"))
    return notebook


def notebooks(root):
    """{"<student>_<lesson>": notebook} of the graded class (max's broken
    file is written by `write_class`)."""
    read = lesson02_notebook(root)
    blank, solved = read("notebooks"), read("solutions")
    made = {f"ada_{LESSON}": solved}
    for student, answers in ANSWERS.items():
        made[f"{student}_{LESSON}"] = answered(blank, answers)
    return made


def lesson02_notebook(root):
    def read(folder):
        return nbformat.read(root / folder / LESSON / f"{LESSON}.ipynb",
                             as_version=4)
    return read


def write_class(root, folder):
    """Write the class into FOLDER; its students."""
    made = notebooks(root)
    for name, notebook in made.items():
        nbformat.write(notebook, folder / f"{name}.ipynb")
    (folder / f"max_{LESSON}.ipynb").write_text("{ not json",
                                                 encoding="utf-8")
    return sorted([name.split("_")[0] for name in made] + ["max"])
