"""Ansible's documentation markup (C(), O(), M(), ...) as GitHub Markdown, parsed by antsibull-docs-parser (the
parser antsibull-docs uses). Code is written in backticks and text escaped only where Markdown would misread it,
so the pages read well as source too."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from antsibull_docs_parser import dom
from antsibull_docs_parser.format import Formatter, LinkProvider, format_paragraphs
from antsibull_docs_parser.parser import Context, parse

COLLECTION_PREFIX = "homelab.mlflow."
# Characters Markdown would take for markup anywhere in a line; `_` only at a word's edge (GitHub does not read
# intraword underscores as emphasis), `#` only where it would open a heading.
_ESCAPE = re.compile(r"[\\`*\[\]<]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|^#")
_ANSIBLE_DOCS = "https://docs.ansible.com/ansible/latest/collections/{namespace}/{name}/{plugin}_{type}.html"

# Where the page of a plugin or role of the collection is, relative to the page being written (None: it has none).
PageOf = Callable[[str, str], str | None]


def escape(text: str) -> str:
    return _ESCAPE.sub(lambda match: "&lt;" if match.group() == "<" else "\\" + match.group(), text)


def code(text: str) -> str:
    """A code span that holds any text, backticks included."""
    text = " ".join(text.splitlines())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    if longest or text.startswith(" ") or text.endswith(" "):
        return f"{fence} {text} {fence}"
    return f"{fence}{text}{fence}"


class _Links(LinkProvider):
    def __init__(self, page_of: PageOf):
        self.page_of = page_of

    def plugin_link(self, plugin: dom.PluginIdentifier) -> str | None:
        if plugin.fqcn.startswith(COLLECTION_PREFIX):
            return self.page_of(plugin.type, plugin.fqcn.removeprefix(COLLECTION_PREFIX))
        namespace, collection, name = plugin.fqcn.split(".", 2)
        return _ANSIBLE_DOCS.format(namespace=namespace, name=collection, plugin=name, type=plugin.type)

    def plugin_option_like_link(self, plugin, entrypoint, what, name, current_plugin) -> str | None:
        if current_plugin or not plugin.fqcn.startswith(COLLECTION_PREFIX):
            return None
        page = self.page_of(plugin.type, plugin.fqcn.removeprefix(COLLECTION_PREFIX))
        if page is None:
            return None
        section = "variables" if plugin.type == "role" else ("options" if what == "option" else "return-values")
        return f"{page}#{section}"


class _Markdown(Formatter):
    @staticmethod
    def _linked(text: str, url: str | None) -> str:
        return f"[{text}]({url})" if url else text

    def format_error(self, part: dom.ErrorPart) -> str:
        raise ValueError(part.message)

    def format_bold(self, part: dom.BoldPart) -> str:
        return f"**{escape(part.text)}**"

    def format_code(self, part: dom.CodePart) -> str:
        return code(part.text)

    def format_horizontal_line(self, part: dom.HorizontalLinePart) -> str:
        return "<hr>"

    def format_italic(self, part: dom.ItalicPart) -> str:
        return f"*{escape(part.text)}*"

    def format_link(self, part: dom.LinkPart) -> str:
        return f"[{escape(part.text)}]({part.url})"

    def format_module(self, part: dom.ModulePart, url: str | None) -> str:
        return self._linked(escape(part.fqcn), url)

    def format_rst_ref(self, part: dom.RSTRefPart) -> str:
        return escape(part.text)

    def format_url(self, part: dom.URLPart) -> str:
        return f"<{part.url}>"

    def format_text(self, part: dom.TextPart) -> str:
        return escape(part.text)

    def format_env_variable(self, part: dom.EnvVariablePart) -> str:
        return code(part.name)

    def format_option_name(self, part: dom.OptionNamePart, url: str | None) -> str:
        return self._linked(code(part.name if part.value is None else f"{part.name}={part.value}"), url)

    def format_option_value(self, part: dom.OptionValuePart) -> str:
        return code(part.value)

    def format_plugin(self, part: dom.PluginPart, url: str | None) -> str:
        return self._linked(escape(part.plugin.fqcn), url)

    def format_return_value(self, part: dom.ReturnValuePart, url: str | None) -> str:
        return self._linked(code(part.name if part.value is None else f"{part.name}={part.value}"), url)


_FORMATTER = _Markdown()


def paragraphs(
    text: str | Sequence[str] | None,
    page_of: PageOf,
    subject: tuple[str, str] | None = None,
    separator: str = "\n\n",
) -> str:
    """`text` (a string or a list of paragraphs, in Ansible's markup) as Markdown paragraphs joined by `separator`.
    `subject` (type, name) is the plugin or role the text documents, whose options need no link."""
    if not text:
        return ""
    current = dom.PluginIdentifier(fqcn=COLLECTION_PREFIX + subject[1], type=subject[0]) if subject else None
    parsed = parse(
        [text] if isinstance(text, str) else list(text),
        Context(current_plugin=current, role_entrypoint="main" if subject and subject[0] == "role" else None),
        errors="exception",
    )
    return format_paragraphs(
        parsed,
        formatter=_FORMATTER,
        link_provider=_Links(page_of),
        par_start="",
        par_end="",
        par_sep=separator,
        par_empty="",
        current_plugin=current,
        postprocess_paragraph=lambda paragraph: " ".join(paragraph.split()),
    )
