# Two commands matter: `make run` and `make test`. Both set up whatever is missing first.
SHELL := /bin/bash
VENV := .venv
export TF_CPP_MIN_LOG_LEVEL := 3
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: run test setup test-fast lint validate train nlu-report demo-data clean eval bench bench-parse import bench-import bench-console simulate-followup simulate-followup-db risk-report bench-score bench-analytics manifests scale-test bench-long

run:            ## set up if needed, then run the assistant, action server and web apps
	@bash scripts/run.sh

test:           ## set up if needed, then run the whole suite (what CI runs)
	@bash scripts/test.sh

setup:          ## only the set-up: venv, requirements, model, database, demo data
	@bash scripts/bootstrap.sh

test-fast:      ## unit and action tests only (seconds; no servers, no training)
	@$(VENV)/bin/python -m pytest -m "not slow" -q

lint:           ## pyflakes-level checks (unused imports, undefined names)
	@$(VENV)/bin/ruff check .

validate:       ## Rasa's own consistency check of domain, rules and training data
	@$(VENV)/bin/rasa data validate --quiet

train:          ## force a retrain
	@rm -f models/.fingerprint && bash scripts/bootstrap.sh

nlu-report:     ## intent accuracy / F1 per language on the held-out sets
	@bash scripts/bootstrap.sh && $(VENV)/bin/python -m scripts.nlu_report

bench:          ## latency/throughput/memory vs the rasa init baseline, then parse time against message length
	@bash scripts/bootstrap.sh && $(VENV)/bin/python -m bench.run && $(VENV)/bin/python -m bench.parse_time

bench-long:     ## one conversation held for 400 turns: a turn's cost must not grow with its length (median at 400 <= 1.5x at 20)
	@bash scripts/bootstrap.sh && $(VENV)/bin/python -m bench.long_conversation --turns $(or $(TURNS),400)

bench-parse:    ## parse time of every bot/language parser against input length (linear growth check)
	@$(VENV)/bin/python -m bench.parse_time

eval: ## NLU report + conversation outcomes + the risk model's table
	bash scripts/bootstrap.sh && $(VENV)/bin/python -m scripts.nlu_report && $(VENV)/bin/python -m evaluation.report && $(VENV)/bin/python -m bot.risk.report

import:         ## load a lender's books: make import FILES="dir/*.csv" [ARGS=--dry-run] (docs/data-format.md)
	@test -n "$(FILES)" || { echo 'usage: make import FILES="books/*.csv" [ARGS="--dry-run|--skip-invalid"]'; exit 2; }
	@$(VENV)/bin/python -m bot.cli import $(FILES) $(ARGS)

bench-import:   ## import benchmark: 100,000 loans x 24 instalments into a fresh SQLite database
	@$(VENV)/bin/python -m bench.import_books --loans $(or $(LOANS),100000)

demo-data:      ## re-create the demo borrowers as of today
	@$(VENV)/bin/python -m bot.cli reset-demo

clean:          ## remove generated state (database, models); keeps .venv
	rm -rf var models results

bench-console:  ## console load: p50/p95 of the queue and detail APIs, web-app CPU of 20 agents on SSE vs polling
	@$(VENV)/bin/python -m bench.console_load $(if $(SECONDS_PER_PHASE),--seconds $(SECONDS_PER_PHASE))

simulate-followup: ## 10,000 borrowers x 90 simulated days through the contact policy; the independent checker must find 0 violations
	@$(VENV)/bin/python -m bench.simulate_followup --borrowers $(or $(BORROWERS),10000) --days $(or $(DAYS),90)

risk-report:    ## risk model vs challenger vs days-past-due baseline, German credit CV AUC, PSI, fairness (docs/risk.md)
	@$(VENV)/bin/python -m bot.risk.report

bench-score:    ## risk scoring benchmark: 100,000 generated loans in SQLite scored and stored (target < 30 s)
	@$(VENV)/bin/python -m bench.risk_score --loans $(or $(LOANS),100000)

simulate-followup-db: ## the real planner and scheduler on SQLite, simulated clock (40 borrowers x 14 days by default); 0 violations
	@$(VENV)/bin/python -m bench.simulate_followup_db --borrowers $(or $(BORROWERS),40) --days $(or $(DAYS),14) --seed $(or $(SEED),13)

bench-analytics: ## analytics API load time, cold and cached, on 1,000,000 generated tracker events (target < 1 s)
	@$(VENV)/bin/python -m bench.analytics_load --events $(or $(EVENTS),1000000)

manifests:      ## render the Kustomize base and production overlay offline, check them against the Kubernetes schemas
	@bash deploy/render.sh

scale-test:     ## scale-out failure rehearsal: nginx, 2 Rasa + 2 action servers on PostgreSQL/Redis, kills and a database restart under load (docs/scale-out.md)
	@bash scripts/scale_rehearsal.sh $(ARGS)
