"""mkdocs hook: render the tutorial notebooks in every language of the site.

mkdocs-jupyter marks each notebook it renders by wrapping its ``File`` in a ``NotebookFile`` (in its
``on_files``). The i18n plugin runs its own ``on_files`` after every other plugin's and rebuilds the
files of each language as plain ``File`` objects, so the notebooks would be copied as JSON instead of
rendered. This hook runs after it and wraps them again, keeping the destination the i18n plugin gave
each one (``ja/tutorials/NAME/`` for ``NAME.ja.ipynb``).
"""
from __future__ import annotations

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import Files
from mkdocs_jupyter.plugin import NotebookFile


@event_priority(-200)  # after the i18n plugin's on_files (-100)
def on_files(files: Files, config: MkDocsConfig) -> Files:
    jupyter = config.plugins["mkdocs-jupyter"]
    rewrapped = []
    for file in files:
        if not isinstance(file, NotebookFile) and jupyter.should_include(file):
            notebook = NotebookFile(file, **config)
            notebook.dest_path, notebook.abs_dest_path, notebook.url = file.dest_path, file.abs_dest_path, file.url
            file = notebook
        rewrapped.append(file)
    return Files(rewrapped)
