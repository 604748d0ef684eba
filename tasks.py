"""Invoke tasks: the entry point for building, serving, testing and writing.

The Makefile only bootstraps the virtualenv and calls these tasks; every task
calls into Pelican or a plugin package and holds no logic of its own.
"""

import glob
import sys
from pathlib import Path

from invoke import Exit, task

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "plugins"))

CONFIG = {
    "settings_base": str(ROOT / "pelicanconf.py"),
    "settings_publish": str(ROOT / "publishconf.py"),
    "content": ROOT / "content",
    "output": "output",
    "host": "127.0.0.1",
    "port": 8000,
    "smtp_port": 8025,
    "translations": ROOT / "theme" / "translations",
    "templates": ROOT / "theme" / "templates",
}


def run_pelican(*arguments, output=CONFIG["output"]):
    from pelican import main as pelican_main

    pelican_main([*arguments, "-o", str(output)])


def publish_in_place(*arguments):
    """Build into a fresh folder, then swap it in: a failed build leaves the live site as it was.

    The web server and the follow service read output/ while this runs.
    """
    from adviesblog_common.files import build_beside

    build_beside(CONFIG["output"], lambda fresh: run_pelican(*arguments, output=fresh))


@task
def clean(c):
    """Remove the generated output folder."""
    c.run(f"rm -rf {CONFIG['output']}")


@task
def build(c):
    """Build the site with the development settings."""
    run_pelican("-s", CONFIG["settings_base"])


@task(help={"host": "address to listen on", "port": "port of the site and the service",
            "smtp_port": "port of the local mail catcher's SMTP server"})
def serve(c, host=CONFIG["host"], port=CONFIG["port"], smtp_port=CONFIG["smtp_port"]):
    """Build and serve site, follow service and mail catcher on one port; rebuild on change."""
    from service.devserver import serve as serve_everything

    serve_everything(CONFIG["settings_base"], host, int(port), int(smtp_port))


@task
def publish(c):
    """Build for production; any content error stops the build and leaves output/ as it was."""
    publish_in_place("-s", CONFIG["settings_publish"], "--fatal", "errors")


@task(help={"dry_run": "publish, then only show what would change on the target"})
def deploy(c, dry_run=False):
    """Publish, then rsync output/ over SSH to DEPLOY_TARGET: changes only, removals deleted."""
    from deploy import DeployError, deploy_plan, publish_and_upload

    try:
        plan = deploy_plan(CONFIG["settings_publish"])
        publish_and_upload(lambda: publish(c), CONFIG["output"], plan, dry_run=dry_run)
    except DeployError as error:
        raise Exit(f"Not deployed: {error}", code=1) from error


@task(positional=["title"], help={"title": "the article's title", "author": "author slug, e.g. marloes-verhagen",
            "category": "the category"})
def new(c, title, author="", category="Algemeen"):
    """Create a draft article with the metadata template and a Dutch-safe slug."""
    from site_nl.drafts import new_article

    try:
        path = new_article(title, CONFIG["content"] / "articles", author, category)
    except (FileExistsError, ValueError) as error:
        raise Exit(f"Not created: {error}", code=1) from error
    print(f"Draft created: {path.relative_to(ROOT)}")


IMPORT_HELP = {
    "dry_run": "write nothing; print the report of what would be written",
    "report": "where to write the report (default: import-reports/<source>.txt)",
    "content": "the content folder to import into",
}


def run_import(source: str, importer, report: str, *args, **options):
    """Run one importer; print its report, and stop with the reason on bad input."""
    from migrate import SourceError

    report_path = Path(report or ROOT / "import-reports" / f"{source}.txt")
    try:
        result, _ = importer(*args, report_path=report_path, **options)
    except (SourceError, ValueError) as error:
        raise Exit(f"Import stopped: {error}", code=1) from error
    # The full lists can run to thousands of lines; the terminal gets the first ones.
    print(result.render(listed=None if options.get("dry_run") else 20), end="")
    if not options.get("dry_run"):
        print(f"Report written to {report_path}")
    if result.errors:
        raise Exit(f"Import finished with {len(result.errors)} error(s): "
                   "what they name was not imported (see 'Errors' above)", code=1)


@task(positional=["export"], help={"export": "the WordPress export (WXR) file", **IMPORT_HELP})
def import_wordpress(c, export, dry_run=False, report="", content=str(CONFIG["content"])):
    """Import posts, pages, authors and comments from a WordPress export (WXR)."""
    from migrate import import_wordpress as importer

    run_import("wordpress", importer, report, Path(export), Path(content), dry_run=dry_run)


@task(positional=["export"], help={"export": "the Disqus export (XML) file",
                                   "wxr": "the WordPress export, to match ?p=<id> links", **IMPORT_HELP})
def import_disqus(c, export, wxr="", dry_run=False, report="", content=str(CONFIG["content"])):
    """Import Disqus comments under the articles their threads belong to."""
    from migrate import import_disqus as importer

    run_import("disqus", importer, report, Path(export), Path(content),
               wxr=Path(wxr) if wxr else None, dry_run=dry_run)


@task(positional=["pages"], help={"pages": "a saved page, a folder of them, or a quoted glob",
                                  **IMPORT_HELP})
def import_html(c, pages, dry_run=False, report="", content=str(CONFIG["content"])):
    """Import articles and comments from saved HTML pages of the old site."""
    from migrate import import_saved_pages as importer

    found = [Path(p) for p in sorted(glob.glob(pages))] if glob.has_magic(pages) else [Path(pages)]
    if not found or not all(p.exists() for p in found):
        raise Exit(f"Import stopped: {pages}: no such file or folder", code=1)
    run_import("html", importer, report, found, Path(content), dry_run=dry_run)


@task(help={"output": "built site to check", "siteurl": "absolute site URL, if any",
            "dynamic": "site paths served by the service, not by files, comma-separated"})
def check_links(c, output=CONFIG["output"], siteurl="", dynamic="/volg/,/reactie/"):
    """Check that every internal link, image and anchor in the output resolves."""
    from content_checks.linkcheck import check_output

    broken = check_output(output, siteurl, tuple(dynamic.split(",")))
    for link in broken:
        print(link)
    print(f"{len(broken)} broken links")
    if broken:
        raise SystemExit(1)


@task(help={"since": "first day of the digest, YYYY-MM-DD"})
def edition(c, since):
    """Publish the site and also render a digest edition of the articles since a date."""
    publish_in_place("-s", CONFIG["settings_publish"], "--fatal", "errors",
                     "-e", f'FOLLOW_DIGEST_SINCE="{since}"')


@task(help={"send": "send for real; without it, only show what would be sent to whom",
            "resend_uncertain": "also send again what an interrupted run left uncertain",
            "settings": "settings file of the publish build (SERVICE_* settings included)",
            "editions": "editions.json to send from (default: the publish build's own)"})
def newsletter(c, send=False, resend_uncertain=False, settings=CONFIG["settings_publish"],
               editions=""):
    """Show which subscriber gets which edition; send them with --send."""
    from service.newsletter import run

    if status := run(settings, editions or None, send=send, resend_uncertain=resend_uncertain):
        raise Exit(code=status)


@task(help={"subscribers": "confirmed subscribers in the larger round (the bench also runs half)"})
def bench_newsletter(c, subscribers=10_000):
    """Time the newsletter sender against a local SMTP sink: messages/s and peak memory."""
    c.run(f"{sys.executable} -m bench.newsletter --subscribers {subscribers}", pty=False)


@task(help={"options": "extra pytest options, e.g. '-k feeds -x'"})
def tests(c, options=""):
    """Run the whole test suite."""
    c.run(f"{sys.executable} -m pytest {options}", pty=False)


@task(help={"examples": "how many hostile sites hypothesis generates and builds"})
def fuzz(c, examples=2000):
    """Build many generated hostile sites and check that nothing in them can run."""
    c.run(f"{sys.executable} -m pytest -q tests/test_hostile_input_property.py", pty=False,
          env={"HYPOTHESIS_PROFILE": "long", "ADVIESBLOG_FUZZ_EXAMPLES": str(examples)})


@task
def lint(c):
    """Check the Python code with ruff (settings in pyproject.toml)."""
    c.run(f"{sys.executable} -m ruff check plugins tests bench tasks.py pelicanconf.py "
          "publishconf.py", pty=False)


@task
def i18n_extract(c):
    """Collect the theme's UI strings into messages.pot."""
    c.run(f"{sys.executable} -m babel.messages.frontend extract "
          f"-F {CONFIG['translations'] / 'babel.cfg'} --no-location --omit-header "
          f"--sort-output -k _ -o {CONFIG['translations'] / 'messages.pot'} {CONFIG['templates']}")


@task(pre=[i18n_extract])
def i18n_update(c):
    """Merge new strings from messages.pot into the Dutch catalogue."""
    c.run(f"{sys.executable} -m babel.messages.frontend update --no-fuzzy-matching --ignore-obsolete "
          f"-i {CONFIG['translations'] / 'messages.pot'} -d {CONFIG['translations']} -l nl")


@task(help={"articles": "number of generated articles", "repeats": "builds per variant",
            "against": "'ours' (our settings, default theme, no plugins) or 'defaults'",
            "rebuild": "time make serve's rebuild after a save instead (body, title, new article)",
            "memory": "peak memory of a serial and a parallel build instead",
            "related": "time choosing the related articles instead"})
def bench(c, articles=1000, repeats=3, against="ours", rebuild=False, memory=False,
          related=False):
    """Time a full build against plain Pelican on a generated corpus."""
    if related:
        c.run(f"{sys.executable} -m bench.related --articles {articles}", pty=False)
    elif rebuild:
        c.run(f"{sys.executable} -m bench.rebuild --articles {articles} --runs {repeats}",
              pty=False)
    elif memory:
        c.run(f"{sys.executable} -m bench.memory --articles {articles}", pty=False)
    else:
        c.run(f"{sys.executable} -m bench.run --articles {articles} --repeats {repeats} "
              f"--against {against}", pty=False)


@task(help={"comments": "comments in the generated WordPress export",
            "paragraphs": "paragraphs per comment (larger file, same records)"})
def bench_import(c, comments=50_000, paragraphs=1):
    """Time the WordPress importer, with its peak memory, on a generated export."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    export = folder / "export.xml"
    c.run(f"{sys.executable} -m bench.wxr_export --comments {comments} "
          f"--paragraphs {paragraphs} --out {export}")
    timer = "/usr/bin/time -v " if Path("/usr/bin/time").exists() else ""
    c.run(f"{timer}{sys.executable} -m invoke --search-root {ROOT} import-wordpress {export} "
          f"--content {folder / 'content'} --report {folder / 'report.txt'} > {folder / 'out.txt'}")
    print(f"Import output and report in {folder}")


@task(positional=["action"], help={
    "action": "list, show, approve, reject or spam", "reaction": "the reaction's id, e.g. site-k3f9x2ab7q",
    "status": "list: pending (default), approved, rejected, spam or all",
    "settings": "settings file (default: publishconf.py)"})
def reactions(c, action, reaction="", status="pending", settings=CONFIG["settings_publish"]):
    """Moderate the reactions readers sent through the site."""
    from service.moderation import run

    # The id is a flag (-r): invoke requires every positional argument, and `list` has none.
    if code := run(action, settings, reaction_id=reaction, status=status):
        raise Exit(code=code)


@task(positional=["action"], help={
    "action": "list, stats, export, import or delete", "state": "list: only this state",
    "scope": "list: only this scope", "out": "export: write the CSV here",
    "file": "import: the CSV file", "legacy": "import: accept rows without consent, marked legacy",
    "dry_run": "import: check and count only", "address": "delete: the address to erase",
    "yes": "delete: do not ask first", "settings": "settings file (default: publishconf.py)"})
def subscribers(c, action, state="", scope="", out="", file="", legacy=False, dry_run=False,
                address="", yes=False, settings=CONFIG["settings_publish"]):
    """Administer the follow service's subscribers: list, stats, export, import, delete."""
    from service.admin import run

    if code := run(action, settings, state=state, scope=scope, out=out, file=file,
                   legacy=legacy, dry_run=dry_run, address=address, yes=yes):
        raise Exit(code=code)
