# CI: the GitHub workflows are thin; each job's logic is a script under
# .ci/ (job-unit, job-vm, job-kernel, summary, collect) that runs the same
# in plain bash here. .ci/run stays the one-shot local entry (make test).
#
#   make ci-lint       actionlint on .github (with shellcheck on every run:
#                      block), shellcheck on the .ci and action scripts,
#                      the Python helpers compiled and their tests run
#   make ci-print-VAR  a make variable's value, for the job scripts
ACTIONLINT_VERSION ?= v1.7.12
ACTIONLINT ?= $(or $(shell command -v actionlint),$(shell $(GO) env GOPATH)/bin/actionlint)
CI_SHELL_SCRIPTS := .ci/run .ci/lib.sh .ci/job-unit .ci/job-vm .ci/job-kernel .github/actions/module-btf/module-btf.sh
CI_PY_SCRIPTS    := .ci/summary .ci/collect

.PHONY: ci-lint ci-lint-deps

ci-lint-deps:
	$(call apt_need,ci,shellcheck python3)
	@test -x $(ACTIONLINT) || $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

ci-lint: ci-lint-deps
	$(ACTIONLINT) -shellcheck shellcheck
	shellcheck -x $(CI_SHELL_SCRIPTS)
	@for f in $(CI_PY_SCRIPTS); do python3 -c 'import ast,sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])' $$f || exit 1; done
	python3 .ci/summary_test.py
	@echo "ci-lint: clean"

ci-print-%:
	@echo '$($*)'
