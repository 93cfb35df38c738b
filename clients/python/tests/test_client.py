"""The client against a real dispatcher and agent (simulated workers) on loopback: a contract
checked, submitted from a DataFrame, watched to its end, its results and answers equal to what
mw exports, row for row; the same contract from mw and from Python is one job; money read back
from the verified ledger equals mw's; errors carry the server's message and code."""

import csv
import io
import os
import re
import subprocess

import grpc
import pandas as pd
import pytest

import microwork
from conftest import DEMO
from microwork import audit
from microwork._proto import dispatch_pb2, services_pb2

CONTRACT = os.path.join(DEMO, "contract.yaml")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def test_check_is_the_dispatchers_verdict_and_keeps_nothing(client):
    before = [j.id for j in client.jobs()]
    report = client.check(CONTRACT)
    assert report.items == 300 and report.currency == "USD"
    assert report.quarantined_total == 0
    assert report.plan.wages_minor == 300 * 3 * 5
    assert report.plan.fee_minor == 900  # 20% of the wages
    assert report.plan.cost_minor == 5400 == report.plan.expected_cost_minor
    assert report.plan.budget_minor == 7000
    assert [j.id for j in client.jobs()] == before


def test_a_refused_contract_names_its_file_and_line(client, tmp_path):
    text = open(CONTRACT, encoding="utf-8").read()
    path = tmp_path / "contract.yaml"
    # The dispatcher's own check (the budget cannot pay for the work), located in the file.
    path.write_text(text.replace("budget_minor: 7000", "budget_minor: 700"), encoding="utf-8")
    (tmp_path / "reviews.csv").write_bytes(read(os.path.join(DEMO, "reviews.csv")))
    with pytest.raises(microwork.ContractError) as e:
        client.submit(str(path))
    assert e.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "budget" in str(e.value) and str(e.value).startswith(f"{path}")
    # A value the schema refuses, before anything is sent.
    bad = text.replace("piece_rate_minor: 5", "piece_rate_minor: five")
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(microwork.ContractError) as e:
        client.submit(str(path))
    rate_line = next(i for i, l in enumerate(bad.splitlines(), 1) if "five" in l)
    assert str(e.value) == (f"{path}:{rate_line}: stages[1].human.piece_rate_minor: expected an "
                            'integer (int64), got "five"')
    assert e.value.code is None
    # A semantic check of the dispatcher's (overlap 0), given its line.
    zero = text.replace("overlap: 3", "overlap: 0")
    path.write_text(zero, encoding="utf-8")
    with pytest.raises(microwork.ContractError) as e:
        client.check(str(path))
    overlap_line = next(i for i, l in enumerate(zero.splitlines(), 1) if "overlap: 0" in l)
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [(p[1], p[2]) for p in e.value.problems] == [(overlap_line, "stages[1].human.overlap")]
    # An input that is not there.
    os.remove(tmp_path / "reviews.csv")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(microwork.ContractError, match=r"inputs\[0\]\.path: cannot read"):
        client.check(str(path))


def test_submit_a_dataframe_watch_it_and_read_what_mw_exports(client, cluster, tmp_path,
                                                               monkeypatch):
    reviews = pd.read_csv(os.path.join(DEMO, "reviews.csv")).head(30)
    job = client.submit(CONTRACT, inputs={"reviews": reviews})
    assert not job.existing and job.job.items == 30 and job.plan.wages_minor == 30 * 3 * 5
    seen = list(client.watch(job.id, progress_bar=False))
    assert seen[-1].final and seen[-1].state == "completed"
    assert seen[-1].done == seen[-1].total == 90  # 30 items through three stages

    # Results: the file written here is mw's file, byte for byte, in both formats.
    for fmt in ("csv", "jsonl"):
        ours, theirs = tmp_path / f"py.{fmt}", tmp_path / f"mw.{fmt}"
        assert client.export_results(job.id, str(ours), fmt) == 30
        cluster.mw("results", "export", job.id, "--format", fmt, "--out", str(theirs))
        assert read(ours) == read(theirs)
        # A dispatcher from before pages of text sends rows, over several pages: written here
        # alike. A stream that fails leaves no file and no partial one.
        records = list(client.result_records(job.id))
        pages = [services_pb2.ResultPage(results=records[:7]),
                 services_pb2.ResultPage(results=records[7:])]
        older = tmp_path / f"older.{fmt}"

        def failing(method, request):
            yield pages[0]
            raise microwork.MicroworkError("the stream broke")

        with monkeypatch.context() as m:
            m.setattr(client, "_stream", lambda method, request: iter(pages))
            assert client.export_results(job.id, str(older), fmt) == 30
            assert read(older) == read(theirs)
            os.remove(older)
            m.setattr(client, "_stream", failing)
            with pytest.raises(microwork.MicroworkError, match="the stream broke"):
                client.export_results(job.id, str(older), fmt)
            assert not older.exists() and not (tmp_path / f"older.{fmt}.partial").exists()
        ours, theirs = tmp_path / f"py-answers.{fmt}", tmp_path / f"mw-answers.{fmt}"
        assert client.export_answers(job.id, str(ours), fmt) == 90
        cluster.mw("results", "answers", job.id, "--format", fmt, "--out", str(theirs))
        assert read(ours) == read(theirs)

    # The DataFrame is mw's CSV, row for row.
    frame = client.results_frame(job.id)
    with open(tmp_path / "mw.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(frame) == len(rows) == 30
    assert list(frame.columns) == list(rows[0].keys())
    for ours, theirs in zip(frame.to_dict("records"), rows):
        assert ours["review_id"] == theirs["review_id"]
        assert ours["sentiment"] == theirs["sentiment"]
        assert ours["status"] == theirs["status"] == "succeeded"
        assert f"{ours['confidence']:.4f}" == theirs["confidence"]
        assert str(ours["item"]) == theirs["item"]
        assert ours["provenance"] == theirs["provenance"]
    assert sorted(frame["review_id"]) == sorted(reviews["review_id"])

    answers = client.answers_frame(job.id)
    assert len(answers) == 90
    assert set(answers["stage"]) == {"sentiment"}
    assert (answers["wage_minor"] >= 5).all()  # at least the piece rate (USD), never less

    # Paid exactly once, at the piece rate: the centre's statement (this is its first job).
    statement = client.statement_frame(centre="nairobi")
    assert statement["posted_minor"].sum() == 30 * 3 * 5
    assert statement["answers"].sum() == 90
    one = statement.iloc[0]
    assert client.statement(worker=one["account"]).lines[0].posted_minor == one["posted_minor"]
    assert client.statement(job=job.id).lines[0].account == f"escrow:{job.id}"

    # The invoice recomputed here is the one mw prints.
    invoice = client.invoice(job.id)
    assert invoice.funded == 7000 and invoice.wages == 450 and invoice.fees == 90
    assert str(invoice) + "\n" == cluster.mw("invoice", "--job", job.id).stdout
    report = client.ledger_verify()
    assert job.id in report.jobs and report.transfers > 0
    out = cluster.mw("ledger", "verify").stdout
    assert f"Ledger OK: {report.transfers} transfers, {report.accounts} accounts" in out


def test_the_same_contract_from_mw_and_from_python_is_one_job(client, cluster, tmp_path):
    # A stage for French speakers: no centre can take it, so the job waits and stays put.
    text = open(CONTRACT, encoding="utf-8").read().replace("languages: [en]", "languages: [fr]")
    path = tmp_path / "french.yaml"
    path.write_text(text.replace("path: reviews.csv",
                                 f"path: {os.path.join(DEMO, 'reviews.csv')}"), encoding="utf-8")
    out = cluster.mw("contract", "submit", str(path), "--wait-for-centres").stdout
    job_id = re.search(r"Submitted (job-\d+)", out).group(1)
    again = client.submit(str(path), wait_for_centres=True)
    assert again.existing and again.id == job_id
    assert client.job(job_id).waiting_for != ""

    assert client.pause(job_id).state == dispatch_pb2.JOB_PAUSED
    assert client.resume(job_id).state == dispatch_pb2.JOB_RUNNING
    funded = client.fund(job_id, 250, key="payment-1")
    assert funded.budget_minor == 7250
    assert client.fund(job_id, 250, key="payment-1").budget_minor == 7250  # the same payment
    assert client.cancel(job_id).state == dispatch_pb2.JOB_CANCELLED
    client.close(job_id)
    invoice = client.invoice(job_id)
    assert (invoice.funded, invoice.charged, invoice.refunded, invoice.remaining) == (
        7250, 0, 7250, 0)


def png(width, height, shade):
    """A small RGB PNG, every pixel `shade`: enough for the dispatcher to decode."""
    import struct
    import zlib
    raw = b"".join(b"\x00" + bytes([shade, 100, 200 - shade]) * width for _ in range(height))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data)))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_media_rows_from_python_are_sent_as_mw_sends_them(client, cluster, tmp_path):
    (tmp_path / "scans").mkdir()
    (tmp_path / "scans" / "r1.png").write_bytes(png(40, 30, 10))
    (tmp_path / "scans" / "r2.png").write_bytes(png(30, 40, 90))
    (tmp_path / "photos.csv").write_text(
        "id,photo\n1,r1.png\n2,r2.png\n3,r1.png\n4,missing.png\n5,../secret.png\n",
        encoding="utf-8")
    contract = (tmp_path / "photos.yaml")
    contract.write_text(open(CONTRACT, encoding="utf-8").read()
                        .replace("name: Product review sentiment", "name: Photos from Python")
                        .replace("path: reviews.csv", "path: photos.csv\n    media_folder: scans\n"
                                 "    media: [{field: photo, kind: MEDIA_IMAGE}]"),
                        encoding="utf-8")
    submitted = client.submit(str(contract))
    assert not submitted.existing
    reasons = {q.line: q.reason for q in submitted.quarantined}
    assert reasons == {
        5: 'photo: "missing.png" could not be read: no such file (looked for scans/missing.png)',
        6: 'photo: "../secret.png": the name has an empty, "." or ".." part: expected a path '
           'that stays inside its folder'}
    assert client.job(submitted.id).items == 3
    # The same contract and files from mw: the same key, so the same job, and no byte sent.
    out = cluster.mw("contract", "submit", str(contract), check=False)
    assert f"submitted before as {submitted.id}" in out.stdout, out.stdout + out.stderr


def test_errors_carry_the_servers_message_and_code(client, cluster, tmp_path):
    with pytest.raises(microwork.MicroworkError) as e:
        client.job("job-999")
    assert e.value.code == grpc.StatusCode.NOT_FOUND and "job-999" in e.value.message
    wrong = tmp_path / "wrong.token"
    wrong.write_text("not-a-token\n")
    with microwork.Client(cluster.server, token_file=str(wrong)) as stranger:
        with pytest.raises(microwork.MicroworkError) as e:
            stranger.jobs()
    assert e.value.code == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(microwork.MicroworkError, match="plaintext is allowed only to a loopback"):
        microwork.Client("192.0.2.1:7070", token_file=cluster.token_file)
    with pytest.raises(microwork.MicroworkError, match="amount_minor: expected a positive"):
        client.fund("job-1", 0)


def test_a_changed_byte_in_the_ledger_fails_its_check(client):
    records = list(client._stream(client._ledger.ReadLedger, services_pb2.ReadLedgerRequest()))
    transfers = [r for r in records if r.WhichOneof("record") == "transfer"]
    assert len(transfers) > 3

    def verify(altered):
        a = audit.Auditor()
        for r in records:
            kind = r.WhichOneof("record")
            if kind == "account":
                a.add_account(r.account)
            elif kind == "transfer":
                a.add_transfer(altered if r is transfers[2] else r.transfer)
            else:
                a.add_time_bound(r.time_bound)
        a.finish()

    verify(transfers[2].transfer)  # as read: it verifies
    changed = type(transfers[2].transfer)()
    changed.CopyFrom(transfers[2].transfer)
    changed.amount_minor += 1
    with pytest.raises(microwork.LedgerError, match="hash does not match its contents"):
        verify(changed)


def test_the_readme_hello_world_runs_in_a_fresh_virtual_environment(venv, cluster, tmp_path):
    python, env = venv
    readme = open(os.path.join(os.environ.get("MW_SOURCE", ""), "README.md"),
                  encoding="utf-8").read()
    block = re.search(r"<!-- python hello world -->\n```python\n(.*?)```", readme, re.S)
    assert block, "README.md has no python hello world block"
    code = block.group(1)
    assert len(code.strip().splitlines()) == 5
    run_env = dict(env, MW_SERVER=cluster.server, MW_TOKEN_FILE=cluster.token_file)
    r = subprocess.run([str(python), "-c", code], cwd=os.environ.get("MW_SOURCE"),
                       env=run_env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    # It printed the finished job's results: 300 rows, each labelled.
    frame = pd.read_csv(io.StringIO(r.stdout))
    assert len(frame) == 300 and set(frame["status"]) == {"succeeded"}
    assert "site-packages" in subprocess.run(
        [str(python), "-c", "import microwork.v1.services_pb2 as m; print(m.__file__)"],
        env=env, capture_output=True, text=True, cwd=str(tmp_path)).stdout


def test_the_worked_example_runs_as_the_readme_says(cluster):
    from conftest import BIN, SOURCE, readme_commands
    line = readme_commands()[2]
    assert line.endswith("/usr/bin/python3 examples/python/orders.py")
    build_python = os.path.join(os.path.dirname(BIN), "python")
    env = dict(os.environ, MW_SERVER=cluster.server, MW_TOKEN_FILE=cluster.token_file)
    r = subprocess.run(line.replace("build/python", build_python) + " --rows 40", shell=True,
                       cwd=SOURCE, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "check: 40 items, 0 rows refused, at most 720 of a budget of 7000 USD" in out
    job_id = re.search(r"submitted (job-\d+)", out).group(1)
    assert f"{job_id} completed: 120/120 item-stages done" in out
    assert "40 results, 120 answers from 5 workers" in out
    assert "offline majority vote agrees with the dispatcher on 100.0% of items" in out
    assert f"Invoice for {job_id} (recomputed from the verified ledger)" in out


def test_mutual_tls_with_the_deploy_certificates(tmp_path):
    from conftest import BIN, SOURCE, Cluster, wait_for_file
    certs = tmp_path / "tls"
    subprocess.run([os.path.join(SOURCE, "deploy", "tls", "make-certs.sh"), str(certs),
                    "127.0.0.1", "operator"], check=True, capture_output=True)
    c = Cluster(str(tmp_path))
    ready = tmp_path / "ready"
    d = c.start([os.path.join(BIN, "mw-dispatcher"), "--data-dir", str(tmp_path / "d"),
                 "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
                 "--ready-file", str(ready), "--tls-cert", str(certs / "dispatcher.crt"),
                 "--tls-key", str(certs / "dispatcher.key"), "--tls-ca", str(certs / "ca.crt")],
                "tls-dispatcher.log")
    try:
        server = wait_for_file(str(ready), d, "mw-dispatcher").split()[0].split("=", 1)[1]
        token = str(tmp_path / "d" / "operator.token")
        mutual = {"ca": str(certs / "ca.crt"), "cert": str(certs / "centre-operator.crt"),
                  "key": str(certs / "centre-operator.key")}
        with microwork.Client(server, token_file=token, tls=mutual) as ok:
            assert ok.jobs() == []
        # Without a client certificate the handshake fails: no call reaches the dispatcher.
        with microwork.Client(server, token_file=token, tls=str(certs / "ca.crt"),
                              retries=0) as no_cert:
            with pytest.raises(microwork.MicroworkError) as e:
                no_cert.jobs()
        assert e.value.code == grpc.StatusCode.UNAVAILABLE
        with pytest.raises(microwork.MicroworkError, match="cert and key together"):
            microwork.Client(server, token_file=token, tls={"ca": mutual["ca"],
                                                            "cert": mutual["cert"]})
    finally:
        c.stop()
