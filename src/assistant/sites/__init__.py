"""Sites: the sources (folders, git repositories, sources.toml) and what their generator publishes.
Takes a source folder; hands on each published markdown file's text and front matter, URL and anchors."""

from assistant.sites.factory import detect_generator, open_site
from assistant.sites.jekyll import kramdown_anchor
from assistant.sites.markdown_file import MAX_FILE_BYTES, ParseError, decode_markdown, markdown_files, split_front_matter
from assistant.sites.site_reader import Placement, SiteReader, Skipped, settings_digest
from assistant.sites.source_files import SourceFileError, read_source_file
from assistant.sites.sources import GENERATORS, RECORDED, SourceSpec, load_sources, spec_from_argument

__all__ = [
    "GENERATORS", "MAX_FILE_BYTES", "RECORDED", "ParseError", "Placement", "SiteReader", "Skipped", "SourceFileError",
    "SourceSpec", "decode_markdown", "detect_generator", "kramdown_anchor", "load_sources", "markdown_files",
    "open_site", "read_source_file", "settings_digest", "spec_from_argument", "split_front_matter",
]
