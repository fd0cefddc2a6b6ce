"""What the algorithm dialogs explain: every parameter, and a help button.

QGIS 3.22 has no per-parameter help text (``QgsProcessingParameterDefinition.setHelp``
came in 3.32), so each algorithm's ``shortHelpString`` lists its parameters in
the order the dialog shows them (plain, advanced, outputs), label first, then
the id that qgis_process and scripts use. ``helpUrl`` opens the README that
ships inside the plugin folder (no web page exists yet).
"""
import os

from qgis.core import QgsProcessingParameterDefinition
from qgis.PyQt.QtCore import QUrl

PLUGIN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(PLUGIN_DIR, "README.md")


def readme_url(anchor: str = "") -> str:
    """file:// URL of the installed README.md, at a section (GitHub-style anchor)."""
    url = QUrl.fromLocalFile(README)
    if anchor:
        url.setFragment(anchor)
    return url.toString()


def _line(param, texts):
    return f"<b>{param.description()}</b> ({param.name()}): {texts.get(param.name(), '')}"


def help_text(alg, intro: str, texts: dict) -> str:
    """``intro`` then one line per parameter of ``alg``; ``texts`` maps parameter ids to help."""
    params = alg.parameterDefinitions()
    outputs = [p for p in params if p.isDestination()]
    advanced = [p for p in params if not p.isDestination() and p.flags() & QgsProcessingParameterDefinition.FlagAdvanced]
    special = {p.name() for p in outputs + advanced}
    plain = [p for p in params if p.name() not in special]
    parts = [intro] + [_line(p, texts) for p in plain]
    if advanced:
        parts += ["<i>Advanced parameters</i>"] + [_line(p, texts) for p in advanced]
    if outputs:
        parts += ["<i>Outputs</i>"] + [_line(p, texts) for p in outputs]
    return "\n".join(parts)

