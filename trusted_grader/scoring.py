"""Points for hidden cases: one line per case, partial credit."""

from autograder.feedback import FAIL_MARK, PASS_MARK, CheckFailure


class HiddenScore:
    """Runs hidden cases, prints one line each, and returns points earned.

    Every case is a function that returns None when it passes, or a message.
    A case that raises counts as failed with the exception as its message,
    so one crash never hides the other cases' results.
    """

    def __init__(self, exercise):
        self.exercise = exercise
        self.results = []

    def case(self, description, run):
        try:
            problem = run()
        except CheckFailure as failure:
            problem = failure.message
        except Exception as error:
            problem = f"raised {type(error).__name__}: {error}"
        self.results.append((description, problem))

    @property
    def passed_count(self):
        return sum(problem is None for _, problem in self.results)

    def points(self, points):
        passed_count, total = self.passed_count, len(self.results)
        for description, problem in self.results:
            if problem is None:
                print(f"{PASS_MARK} {description}")
            else:
                first_line = problem.splitlines()[0]
                print(f"{FAIL_MARK} {description}: {first_line}")
        earned = round(points * passed_count / total, 2) if total else 0.0
        print(f"{self.exercise}: {passed_count}/{total} hidden cases passed, "
              f"{earned:g} of {points:g} points")
        return float(earned)
