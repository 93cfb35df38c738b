#!/usr/bin/env python3
"""A worked example of the Python client: the demo contract submitted from a pandas DataFrame,
followed to its end, its results and every worker's answers loaded as DataFrames, the answers
re-aggregated offline (a plain majority vote) and compared with the dispatcher's verdicts, and
the invoice recomputed from the verified ledger.

    export MW_SERVER=127.0.0.1:7070 MW_TOKEN_FILE=/tmp/mw/operator.token
    PYTHONPATH=clients/python:build/python python3 examples/python/orders.py [--rows 300]
"""

import argparse
import os

import pandas as pd

import microwork

DEMO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "demo")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=300, help="how many reviews to send")
    args = ap.parse_args()

    client = microwork.Client()  # MW_SERVER and MW_TOKEN_FILE
    reviews = pd.read_csv(os.path.join(DEMO, "reviews.csv")).head(args.rows)

    # The dispatcher's verdict and price first; nothing is kept.
    contract = os.path.join(DEMO, "contract.yaml")
    report = client.check(contract, inputs={"reviews": reviews})
    print(f"check: {report.items} items, {report.quarantined_total} rows refused, at most "
          f"{report.plan.cost_minor} of a budget of {report.plan.budget_minor} "
          f"{report.currency} minor units")

    job = client.submit(contract, inputs={"reviews": reviews})
    print(f"submitted {job.id}" + (" (it existed already)" if job.existing else ""))
    for progress in client.watch(job.id):
        last = progress
    print(f"{job.id} {last.state}: {last.done}/{last.total} item-stages done")

    results = client.results_frame(job.id)
    answers = client.answers_frame(job.id)
    print(f"{len(results)} results, {len(answers)} answers from "
          f"{answers['worker'].nunique()} workers")

    # Re-aggregate offline: each item's most frequent answer (a tie to the one that sorts first).
    counted = answers[answers["counted"] & ~answers["skipped"] & ~answers["check"]]
    votes = counted.groupby(["item", "answer"]).size().reset_index(name="votes")
    votes = votes.sort_values(["item", "votes"], ascending=[True, False], kind="mergesort")
    majority = votes.drop_duplicates("item").set_index("item")["answer"]
    verdict = results.set_index("item")["sentiment"]
    same = (majority.reindex(verdict.index) == verdict).mean()
    print(f"offline majority vote agrees with the dispatcher on {same:.1%} of items")

    per_worker = counted.assign(agrees=counted.apply(
        lambda a: a["answer"] == verdict.get(a["item"]), axis=1)).groupby("worker").agg(
            answers=("answer", "size"), agreement=("agrees", "mean"),
            paid_minor=("wage_minor", "sum"))
    print(per_worker.to_string())

    print(client.invoice(job.id))


if __name__ == "__main__":
    main()
