"""What the build does alike for each endpoint the service answers (``/volg/``, ``/reactie/``).

An endpoint setting is a path of this site (the project's own service), or an
external URL, or empty. For a path, the form posts to ``SITEURL`` + the path, and
the build writes the service's pages into the path's folder of the output:
``<folder>/pagina/<key>.html``, one per page the service can answer with.
"""

import hashlib
import os

from .files import write_atomically


def endpoint_folder(endpoint: str | None) -> str | None:
    """The endpoint's folder under the output (``volg``), or None when it is not ours."""
    endpoint = endpoint or ""
    folder = endpoint.strip("/")
    return folder if endpoint.startswith("/") and folder else None


def rootless_endpoint_problem(setting: str, endpoint: str | None, example: str) -> str | None:
    """What is wrong with an endpoint that is the site's root itself, or None."""
    endpoint = endpoint or ""
    if endpoint.startswith("/") and not endpoint.strip("/"):
        return (f"{setting} is {endpoint!r}; the service needs a folder of its own, "
                f"such as {example!r}")
    return None


def form_action(settings, endpoint: str | None) -> str:
    """Where a form posts: SITEURL + a path of this site, an external URL, or ""."""
    endpoint = endpoint or ""
    if endpoint.startswith("/"):
        return settings.get("SITEURL", "").rstrip("/") + endpoint
    return endpoint


def consent_version(text) -> str:
    """A short, stable id of a consent text: a hash of its words, not of their spacing."""
    normalised = " ".join(str(text).split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:12]


def write_service_pages(generator, folder: str, template_name: str, page_variable: str,
                        keys, **context) -> str:
    """Render ``template_name`` once per page key into ``<folder>/pagina/<key>.html``.

    The template learns the key as ``page_variable``; ``context`` is added to the
    generator's. The pages are no pages of the site (no sitemap, no listing), so they
    are written directly, not through Pelican's writer. Returns the endpoint's output
    folder.
    """
    template = generator.get_template(template_name)
    output = os.path.join(generator.output_path, *folder.split("/"))
    # SITEURL stays as set: "" in development gives links from the site's root.
    shared = dict(generator.context, SITEURL=generator.settings.get("SITEURL", ""), **context)
    for key in keys:
        page = template.render(dict(shared, **{page_variable: key},
                                    page_name=f"{folder}/pagina/{key}"))
        write_atomically(os.path.join(output, "pagina", f"{key}.html"), page.encode("utf-8"))
    return output
