"""Points for hidden cases: one line per case, partial credit.

A hidden test is a function that adds the cases of one declared exercise
(`autograder.exercise`), comparing answers with the declaration's
`problem`:

    @hidden_test(checks.mean_image)
    def hidden_mean_image(mean_image, score, ref, rng):
        score.case("label", lambda: checks.mean_image.problem(...))

`hidden_test` gives it the reference of the exercise's lesson and a
`HiddenScore`, and makes it `hidden_mean_image(func, points, rng) ->
points earned`, which the judge finds by that name.
"""

import functools

from autograder.feedback import FAIL_MARK, PASS_MARK, CheckFailure
from cnn_course.messages import t
from trusted_grader.judging import reference


def hidden_test(exercise):
    """Decorator: a function that adds the cases of `exercise` (a declared
    `autograder.exercise.Exercise`) becomes its hidden test."""
    def declare(add_cases):
        if add_cases.__name__ != f"hidden_{exercise.name}":
            # The judge looks the hidden test up by this name.
            raise ValueError(f"{add_cases.__name__} must be named "
                             f"hidden_{exercise.name}")

        @functools.wraps(add_cases)
        def hidden(func, points, rng):
            score = HiddenScore(exercise.name)
            add_cases(func, score, reference.load(exercise.lesson.id), rng)
            return score.points(points)
        return hidden
    return declare


class HiddenScore:
    """Runs hidden cases, prints one line each, and returns points earned.

    Every case is a function that returns None when it passes, or a message.
    A case that raises counts as failed with the exception as its message,
    so one crash never hides the other cases' results.
    """

    def __init__(self, exercise):
        self.exercise = exercise
        self.results = []
        self.vetoed = None

    def veto(self, problem, why=None):
        """No points at all, whatever the cases: `problem` says why (in
        short: `why`, by default "not from scratch")."""
        self.vetoed = (problem, why)

    def case(self, description, run, fresh=True):
        """Add a case: `run()` returns None (passed) or a message.

        `fresh=False` marks a case that proves no work on its own: an
        error-only case (the function must raise) or one on inputs the
        kernel has seen before grading (the visible cases, the lesson's
        constants). The exercise earns hidden points, and its visible
        cell its point, only if at least one fresh case passes.
        """
        try:
            problem = run()
        except CheckFailure as failure:
            problem = failure.message
        except Exception as error:
            problem = t("raised {name}: {error}",
                        name=type(error).__name__, error=error)
        self.results.append((description, problem, fresh))

    @property
    def passed_count(self):
        return sum(problem is None for _, problem, _ in self.results)

    @property
    def fresh_passed(self):
        """True if a case on fresh inputs that compares values passed."""
        return any(problem is None and fresh
                   for _, problem, fresh in self.results)

    def points(self, points):
        if self.vetoed:
            problem, why = self.vetoed
            if why is None:
                why = t("not from scratch")
            print(f"{FAIL_MARK} {problem.splitlines()[0]}")
            print(t("{exercise}: 0 of {points:g} points ({why})",
                    exercise=self.exercise, points=points, why=why))
            return 0.0
        passed_count, total = self.passed_count, len(self.results)
        shown_hints = set()
        for description, problem, _ in self.results:
            if problem is None:
                print(f"{PASS_MARK} {description}")
            else:
                first_line, *hint = problem.splitlines()
                print(f"{FAIL_MARK} {description}: {first_line}")
                # The likely mistake, once: the same hint under every
                # case it explains would bury the other lines.
                hint = "\n".join(f"  {line}" for line in hint)
                if hint and hint not in shown_hints:
                    shown_hints.add(hint)
                    print(hint)
        earned = round(points * passed_count / total, 2) if total else 0.0
        if earned and not self.fresh_passed:
            print(FAIL_MARK + " " + t(
                "{exercise}: no case on fresh inputs passed; the cases "
                "that passed (errors raised, inputs known in advance) "
                "earn nothing on their own.", exercise=self.exercise))
            earned = 0.0
        print(t("{exercise}: {passed}/{total} hidden cases passed, "
                "{earned:g} of {points:g} points",
                exercise=self.exercise, passed=passed_count, total=total,
                earned=earned, points=points))
        return float(earned)
