"""Evaluation: gold questions (our JSON Lines format, or a SQuAD-format file) asked of the Assistant.

    askbalkans eval --gold eval/gold.jsonl [--split test] [--corpus DIR] [--index DIR] [--k 5]
                    [--json OUT] [--plot OUT.png]
    askbalkans eval --squad squad-dev-v1.1.json [--limit N] [--seed S] [--cache DIR]

`datasets` reads question files, `metrics` scores answers, `runner` asks the questions and times them,
`report` prints and plots the results, `fitting` fits the weights the composer uses. Metric definitions
are in the README ("Evaluation").
"""
