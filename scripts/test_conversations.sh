#!/usr/bin/env bash
# Test conversations in both languages: NLU + dialogue predictions must match every step.
set -euo pipefail
cd "$(dirname "$0")/.."
out=results/conversations
rm -rf "$out"
.venv/bin/rasa test core --model models/assistant.tar.gz --stories tests/stories \
  --fail-on-prediction-errors --out "$out" --no-plot --quiet
echo "test conversations: all predictions correct (report in $out)"
