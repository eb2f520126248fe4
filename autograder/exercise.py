"""Each exercise declared once: its test cells, lists and messages follow.

A lesson module (`autograder.lesson01`, ...) makes one `Lesson` and
declares every exercise in it once, in the exercise's own section, by
decorating its visible check:

    lesson = Lesson("01_dense_translation", seed=101)
    __getattr__ = lesson.attribute

    @lesson.exercise(parameters=("image", "dx", "dy"),
                     inputs=shift_inputs, expected=shift_expected,
                     problem=shift_problem)
    def shift_image(shift_image, case):
        for (dx, dy), want in zip(case["shifts"], case["expected"]):
            yield shift_problem(shift_image, case["image"], dx, dy, ...)
        return t("shift_image: right direction, zeros fill, ...")

The declaration names, in one place:

- `parameters`: the exercise's parameter names in the exercise API, which
  every message shows a call with (`feedback.render_call`);
- `inputs(rng)`: the visible cases' inputs. Every exercise of a lesson
  draws from one generator seeded with the lesson's `seed`, in the order
  the exercises are declared, so the fixed cases never change. (A lesson
  whose cases were drawn together in another order makes them in one
  function instead, `@lesson.drawn_together`, to keep their values.);
- `expected(ref, case)`: fills `case` with the values the reference
  solutions `ref` give (`python tools/expected_values.py` writes them to
  ``expected/<lesson>.json``, which learners have instead of solutions);
- `problem(func, ...)`: how one answer is compared: a message naming
  what is wrong and its likely mistake (the hints), or None. The visible
  check and the hidden tests (`trusted_grader/judging/hidden/lessonNN.py`,
  which reach it as `checks.<exercise>.problem`) share it, so a learner
  reads the same message in the notebook and in the feedback;
- `from_scratch`: whether the exercise must not use TensorFlow, Keras,
  SciPy, PyTorch or JAX (graded in a kernel without them). A lesson's
  notebook is graded in one kernel, so its exercises are all from
  scratch or none (the grader refuses a lesson that mixes them);
- the decorated function: the visible check, a generator given the
  learner's function and the exercise's fixed cases; it yields a problem
  (or None) per case and returns the one-line success message.

Most exercises need less: their fixed cases are a list, `{"cases": [{
parameter: value, ...}, ...]}` (or, with one parameter, `{"inputs": [x,
...]}`), the expected value of each is what the reference returns for
its arguments, and `problem(func, *arguments, expected)` compares one
answer. Such an exercise leaves out `expected`, and its decorated
function takes no arguments and only returns the success message:

    @lesson.exercise(parameters=("x", "grad_out"), inputs=relu_inputs,
                     problem=relu_problem, from_scratch=True)
    def relu_backward():
        return t("relu_backward: grad_out where x > 0, 0 where x <= 0.")

The points are nbgrader's: the `points` of the exercise's test cells in
the solution notebook, which the gradebook and the judge read.

From the declarations come the lesson module's test-cell functions,
``<exercise>(func)`` (the `Exercise` itself) and ``hidden_<exercise>(func,
points)``, which record answers for the judge when graded
(`autograder.recorder`), and the module's `EXERCISES`, `FROM_SCRATCH`,
`LESSON`, `visible_inputs()` and `build_expected(ref)`
(`Lesson.attribute`, the module's ``__getattr__``).
"""

import inspect

import numpy as np

from autograder import expected, feedback, recorder


class Exercise:
    """One declared exercise; calling it is the visible test cell's check.

    `check.shift_image(shift_image)` runs the visible check on the fixed
    cases, raising `CheckFailure` on the first problem and printing a ✔
    line on success; when graded it only answers the grader's calls
    (`recorder.record`). `hidden` is the hidden test cell's function.
    """

    def __init__(self, lesson, check, parameters, inputs, expected_values,
                 problem=None, from_scratch=False):
        self.lesson = lesson
        self.name = check.__name__
        self.check = check
        # A check without parameters only gives the success message.
        self.takes_cases = bool(inspect.signature(check).parameters)
        self.parameters = tuple(parameters)
        self.inputs = inputs
        self.expected_values = expected_values or self.reference_results
        self.problem = problem
        self.from_scratch = bool(from_scratch)
        self.hidden = recorder.hidden_cell(self.name, self.from_scratch)
        self.__name__ = self.__qualname__ = self.name
        self.__doc__ = check.__doc__

    def __repr__(self):
        return f"<exercise {self.name} of {self.lesson.id}>"

    def __call__(self, func):
        if recorder.recording():
            return recorder.record(f"test_{self.name}", func, self.name,
                                   self.from_scratch)
        return self.visible(func)

    def visible(self, func):
        """The visible check itself, also when graded: the judge runs it
        on a stand-in for `func` (`trusted_grader.judge`)."""
        steps = self.check(func, self.cases()) if self.takes_cases \
            else self.case_by_case(func, self.cases())
        while True:
            try:
                problem = next(steps)
            except StopIteration as end:
                feedback.passed(end.value)
                return
            feedback.fail_on(problem)

    # The judge finds the check under a test-cell function's __wrapped__.
    __wrapped__ = property(lambda self: self.visible)

    def case_by_case(self, func, data):
        """The visible check of an exercise whose cases are a list: each
        compared by `problem`; returns the check's success message."""
        for case in self.arguments_of(data):
            yield self.problem(func, *case["arguments"], case["expected"])
        return self.check()

    def arguments_of(self, data):
        """[{"arguments": [...], "expected": ...}] of a list of cases."""
        if "cases" not in data:  # one parameter: {"inputs": [x, ...]}
            return [{"arguments": [x], "expected": want} for x, want in
                    zip(data["inputs"], data["expected"])]
        return [{"arguments": [case[name] for name in self.parameters
                               if name in case],
                 "expected": case.get("expected")} for case in data["cases"]]

    def reference_results(self, ref, data):
        """Fill a list of cases with what the reference returns."""
        function = getattr(ref, self.name)
        if "cases" not in data:
            data["expected"] = [function(x) for x in data["inputs"]]
            return
        for case, called in zip(data["cases"], self.arguments_of(data)):
            case["expected"] = function(*called["arguments"])

    def cases(self):
        """The fixed cases with their expected values, as learners have
        them (``expected/<lesson>.json``)."""
        return expected.load(self.lesson.id)[self.name]


class Lesson:
    """A lesson's exercises, in the order they are declared."""

    def __init__(self, lesson_id, seed=0):
        self.id = lesson_id
        self.seed = seed
        self.together = None
        self.exercises = {}

    def drawn_together(self, inputs):
        """Decorator: `inputs(rng)` gives {exercise: inputs} for the
        exercises declared without their own `inputs`."""
        self.together = inputs
        return inputs

    def exercise(self, parameters, expected=None, inputs=None, problem=None,
                 from_scratch=False):
        """Decorator: declare the exercise whose visible check it wraps
        (see the module's docstring for what each part means)."""
        def declare(check):
            declared = Exercise(self, check, parameters, inputs, expected,
                                problem, from_scratch)
            if declared.name in self.exercises:
                raise ValueError(f"{declared.name} is declared twice")
            self.exercises[declared.name] = declared
            # Every message shows a call with the API's parameter names.
            feedback.PARAMETERS[declared.name] = declared.parameters
            return declared
        return declare

    @property
    def names(self):
        """The exercises' names, in the notebook's order (EXERCISES)."""
        return tuple(self.exercises)

    @property
    def from_scratch(self):
        """The from-scratch exercises' names (FROM_SCRATCH)."""
        return tuple(name for name, declared in self.exercises.items()
                     if declared.from_scratch)

    def visible_inputs(self):
        """{exercise: its fixed inputs}, expected values not yet added."""
        rng = np.random.default_rng(self.seed)
        made_together = self.together(rng) if self.together else {}
        return {name: declared.inputs(rng) if declared.inputs
                else made_together[name]
                for name, declared in self.exercises.items()}

    def build_expected(self, ref):
        """The fixed cases with the expected values of the reference
        solutions `ref`: what ``expected/<lesson>.json`` holds."""
        cases = self.visible_inputs()
        for name, declared in self.exercises.items():
            declared.expected_values(ref, cases[name])
        return cases

    def attribute(self, name):
        """The lesson module's attributes made from the declarations (a
        module's ``__getattr__``, PEP 562), e.g. `hidden_shift_image`."""
        made = {"LESSON": self.id, "EXERCISES": self.names,
                "FROM_SCRATCH": self.from_scratch,
                "visible_inputs": self.visible_inputs,
                "build_expected": self.build_expected}
        if name in made:
            return made[name]
        declared = self.exercises.get(name.removeprefix("hidden_"))
        if name.startswith("hidden_") and declared is not None:
            return declared.hidden
        raise AttributeError(
            f"lesson {self.id} has no attribute {name!r}")
