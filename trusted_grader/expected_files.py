"""Write the visible checks' expected values from the reference solutions.

`python -m autograder expected [--check]`; the files are
``autograder/expected/<lesson>.json``, read by `autograder.expected`.
"""

from autograder import expected
from trusted_grader import reference


def build(lesson):
    """Visible cases with expected values computed by the reference."""
    module = expected.module_for(lesson)
    return expected.encode(module.build_expected(reference.load(lesson)))


def render(data):
    import json

    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def write(lesson_ids=None):
    """Write the expected files of `lesson_ids` (default: all existing)."""
    expected.EXPECTED_DIR.mkdir(exist_ok=True)
    for lesson in lesson_ids or expected.lessons():
        path = expected.path_for(lesson)
        path.write_text(render(build(lesson)), encoding="utf-8")
        print(f"wrote {path}")


def stale_lessons():
    """Lessons whose expected file differs from what the reference gives."""
    stale = []
    for lesson in expected.lessons():
        path = expected.path_for(lesson)
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != render(build(lesson)):
            stale.append(lesson)
    return stale
