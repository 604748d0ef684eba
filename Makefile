# Bootstrap only: create .venv from pinned requirements, then hand over to invoke
# (tasks.py). Needs nothing but Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
INVOKE := $(VENV)/bin/invoke
READY := $(VENV)/.requirements-installed

.DEFAULT_GOAL := help
.PHONY: help serve test build publish deploy new check-links bench clean

help: ## Show the available commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(READY): requirements.txt
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed")'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

serve: $(READY) ## Build the sample site and serve it at http://127.0.0.1:8000, rebuilding on change [PORT=8000 SMTP_PORT=8025]
	$(INVOKE) serve --port $(or $(PORT),8000) --smtp-port $(or $(SMTP_PORT),8025)

test: $(READY) ## Run the whole test suite
	@if command -v npm >/dev/null 2>&1 && { [ ! -f node_modules/vnu-jar/build/dist/vnu.jar ] || [ ! -f node_modules/axe-core/axe.min.js ] || [ ! -f node_modules/lighthouse/cli/index.js ]; }; then \
		npm ci --no-audit --no-fund --silent || echo "npm ci failed: the HTML validator, axe and Lighthouse tests will say what is missing"; fi
	$(INVOKE) tests

build: $(READY) ## Build the site with development settings into output/
	$(INVOKE) build

publish: $(READY) ## Build for production (absolute URLs, no drafts); stops on any content error
	$(INVOKE) publish

deploy: $(READY) ## Publish, then upload output/ with rsync over SSH to DEPLOY_TARGET [DRY_RUN=1]
	$(INVOKE) deploy $(if $(filter-out 0,$(DRY_RUN)),--dry-run)

new: $(READY) ## Create a draft: make new TITLE="Titel van het artikel" [AUTHOR=slug]
	$(INVOKE) new "$(TITLE)" --author "$(AUTHOR)"

check-links: $(READY) ## Check internal links in output/
	$(INVOKE) check-links

bench: $(READY) ## Time our build against plain Pelican: make bench ARTICLES=1000
	$(INVOKE) bench --articles $(or $(ARTICLES),1000)

clean: ## Remove output/ and the virtualenv
	rm -rf output $(VENV) node_modules
