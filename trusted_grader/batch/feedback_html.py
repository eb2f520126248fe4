"""nbgrader's feedback HTML with its Jinja templates compiled once a run.

nbconvert makes a new Jinja environment for every exporter, and nbgrader
a new exporter for every feedback, so each unit's finish step compiled
the same nine templates again (0.25 s). `FeedbackExporter`, the exporter
nbgrader is given (`unit.load_config`), keeps the compiled code in this
process's memory (`COMPILED`, a Jinja bytecode cache keyed by each
template's file and a checksum of its source), and `warm_up`, run by the
forkserver before it forks the steps (`preload`), fills it: every step
then starts with the templates compiled. The HTML is the same.
"""

import os

import jinja2
from nbconvert.exporters import HTMLExporter


class CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates in memory, by Jinja's key and source checksum."""

    def __init__(self):
        self.codes = {}

    def load_bytecode(self, bucket):
        code = self.codes.get((bucket.key, bucket.checksum))
        if code is not None:
            bucket.code = code

    def dump_bytecode(self, bucket):
        self.codes[(bucket.key, bucket.checksum)] = bucket.code


COMPILED = CompiledTemplates()


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTMLExporter whose templates are compiled once."""

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = COMPILED
        return environment


def feedback_config():
    """The exporter settings nbgrader's GenerateFeedback gives itself."""
    from nbgrader import converters
    from traitlets.config import Config

    server = os.path.join(os.path.dirname(converters.__file__), "..",
                          "server_extensions", "formgrader")
    config = Config()
    config.HTMLExporter.template_name = "feedback"
    config.HTMLExporter.extra_template_basedirs = [
        os.path.abspath(os.path.join(server, "templates"))]
    config.HTMLExporter.extra_template_paths = [os.path.abspath(
        os.path.join(server, "static", "node_modules", "bootstrap", "dist",
                     "css"))]
    return config


def warm_up(notebook):
    """Render `notebook` (one made for the purpose) as feedback, so that
    every template the feedback uses is compiled into COMPILED."""
    resources = {"nbgrader": {"notebook": "example", "score": 1.0,
                              "max_score": 2.0, "late_penalty": 0},
                 "inlining": {"css": []}}
    FeedbackExporter(config=feedback_config()).from_notebook_node(
        notebook, resources)
