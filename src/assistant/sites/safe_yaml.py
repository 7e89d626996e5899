"""YAML from a source, read as hostile: yaml.safe_load with the expansion of aliases bounded and
nesting too deep for PyYAML refused, each as a YAMLError (the caller names the file). Used for front
matter, Jekyll's _config.yml and MkDocs' mkdocs.yml.

It constructs nothing but plain data: a tag PyYAML's safe loader does not know (mkdocs.yml's
`!!python/name:…` or `!ENV`) is refused, or with `unknown_tags=True` read as the value it tags.
"""

from __future__ import annotations

import yaml
from yaml.composer import ComposerError


class _LenientLoader(yaml.SafeLoader):
    """SafeLoader that reads an unknown tag's node as plain data (mkdocs.yml's `!!python/name:x` → "x")."""


def _untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> object:
    if isinstance(node, yaml.MappingNode):  # `!!python/object/apply:x {kwds: …}`: the tag kept beside them
        return {"!tag": suffix, **loader.construct_mapping(node, deep=True)}
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node) or suffix


_LenientLoader.add_multi_constructor("", _untagged)


MAX_YAML_VALUES = 100_000  # after aliases are expanded: a "billion laughs" document has 10**9


def load_yaml(text: str, unknown_tags: bool = False) -> object:
    """yaml.safe_load for front matter and _config.yml, refusing (a YAMLError) a document whose
    aliases expand to more than MAX_YAML_VALUES values or refer to themselves (PyYAML shares the
    aliased objects, but str() of one expands it: it would never finish), or that nests too deeply
    for PyYAML's recursive parser (a RecursionError otherwise). `unknown_tags`: see the module."""
    loader = _LenientLoader(text) if unknown_tags else yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, MAX_YAML_VALUES) > MAX_YAML_VALUES:
            raise ComposerError(None, None, f"aliases expand to more than {MAX_YAML_VALUES:,} values", node.start_mark)
        return loader.construct_document(node)
    except RecursionError:
        raise ComposerError(None, None, "nested too deeply", None) from None
    finally:
        loader.dispose()


def _expanded_size(root: yaml.Node, limit: int) -> int:
    """How many values the node holds with every alias expanded, counted up to just past `limit`
    (without recursion: the graph may be deep)."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        children = _yaml_children(node)
        if children_done:
            on_path.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[id(node)] > limit:
                return sizes[id(node)]
        elif id(node) in on_path:  # an alias inside what it names: endless when expanded
            return limit + 1
        elif id(node) not in sizes:
            on_path.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children)
    return sizes[id(root)]


def _yaml_children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def yaml_problem(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"line {mark.line + 1}: {problem}" if mark is not None else str(problem)
