#!/usr/bin/python3
"""Runs every command line of the README's "Using it" section, in order, against the real
binaries, and fails on the first that does not work as the README says.

What changes, so that it runs anywhere and leaves nothing behind: /tmp paths and the files the
commands write go to a temporary directory; fixed ports become ports the OS chooses (the
dispatcher's and agent's ready lines say which), and later commands use those. A server command
(mw-dispatcher, mw-agent) runs in the background until its ready line; a second agent on the
same data directory replaces the first. Everything else must exit 0.

  tests/readme/readme_commands.py --readme README.md --bin build/bin
"""
import argparse
import os
import shlex
import subprocess
import tempfile
import urllib.request

SERVERS = ("mw-dispatcher", "mw-agent")


def commands(readme_text, heading):
    """A section's indented command lines, continuations joined, comments dropped."""
    section = readme_text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    out, pending = [], ""
    for line in section.splitlines():
        if not line.startswith("    "):
            continue
        text = line.strip()
        if not pending and text.startswith("#"):
            continue
        if " #" in text:
            text = text[: text.index(" #")].rstrip()
        if text.endswith("\\"):
            pending += text[:-1] + " "
            continue
        text = pending + text
        pending = ""
        if text:
            out.append(text)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--readme", required=True)
    ap.add_argument("--bin", required=True)
    args = ap.parse_args()
    repo = os.path.dirname(os.path.abspath(args.readme))
    bin_dir = os.path.abspath(args.bin)
    tmp = tempfile.mkdtemp(prefix="mw-readme-")
    text = open(args.readme, encoding="utf-8").read()
    lines = commands(text, "Using it")
    assert len(lines) >= 10, f"found only {len(lines)} command lines in the README"
    # The figures' commands, scaled down to seconds (the sizes the README names are for a
    # measurement, not for every test run).
    scaled = [
        ("--seeds 2000", "--seeds 2"),
        ("--hostile --seeds 200", "--hostile --seeds 2"),
        ("--branches --seeds 1000", "--branches --seeds 2"),
        ("--pieces --seeds 1000", "--pieces --seeds 2"),
        ("--shapes chain,branches", "--shapes chain,branches --seconds 1"),
        ("--seconds 10", "--seconds 1"),
        ("--items 1000000 --capacity 200 --cancel-next",
         "--items 100000 --capacity 20 --cancel-next --seconds 1"),
        ("--seconds 40", "--seconds 4"),
        ("--rows 1000000", "--rows 2000"),
        ("--items 10000000 --finish 1000000", "--items 10000 --finish 10000 --seconds 1"),
        ("--steady 1800 --items 1000000", "--steady 4 --minute 1 --items 10000"),
        ("--files 4", "--files 1 --link-bytes-per-second 50000000"),
    ]
    figures = []
    for line in commands(text, "Proof and figures"):
        for a, b in scaled:
            line = line.replace(a, b)
        figures.append(line)

    # In this order: the README's /tmp paths first, so that a build under /tmp is left alone.
    subst = [
        ("/tmp/", tmp + "/"),
        ("build/bin/", bin_dir + "/"),
        ("build/tests/", os.path.join(os.path.dirname(bin_dir), "tests") + "/"),
        ("--credential-out nairobi.cred", f"--credential-out {tmp}/nairobi.cred"),
        ("--credential-file nairobi.cred", f"--credential-file {tmp}/nairobi.cred"),
        ("--out results.csv", f"--out {tmp}/results.csv"),
        ("--out answers.csv", f"--out {tmp}/answers.csv"),
        ("> manager.code", f"> {tmp}/manager.code"),
        ("--manager-code-file manager.code", f"--manager-code-file {tmp}/manager.code"),
        ("--listen 127.0.0.1:7070", "--listen 127.0.0.1:0"),
        ("--metrics-listen 127.0.0.1:9464", "--metrics-listen 127.0.0.1:0"),
        ("--web-listen 0.0.0.0:8080", "--web-listen 127.0.0.1:0"),
    ]
    env = dict(os.environ)
    servers = {}  # binary name -> Popen
    grpc = None
    ran = 0
    try:
        for original in lines + figures:
            if original.startswith("make "):
                print(f"readme: (not run here: make test runs this) {original}", flush=True)
                continue
            if not original.startswith(("build/", "export ", "echo ")):
                print(f"readme: (an example of output, not a command) {original}", flush=True)
                continue
            cmd = original
            for a, b in subst:
                cmd = cmd.replace(a, b)
            if grpc:
                cmd = cmd.replace("127.0.0.1:7070", grpc)
            words = shlex.split(cmd)
            name = os.path.basename(words[0]) if words else ""
            print(f"readme: {original}", flush=True)
            if words[0] == "export":
                for assignment in words[1:]:
                    key, value = assignment.split("=", 1)
                    if grpc:
                        value = value.replace("127.0.0.1:7070", grpc)
                    env[key] = value
                ran += 1
                continue
            if name in SERVERS:
                if name in servers:  # the same data directory: the new one replaces it
                    servers[name].terminate()
                    servers[name].wait(timeout=30)
                log = open(os.path.join(tmp, f"{name}.log"), "ab")
                p = subprocess.Popen(words, cwd=repo, env=env, stdout=subprocess.PIPE,
                                     stderr=log, text=True)
                servers[name] = p
                ready = ""
                for out in p.stdout:
                    if " ready " in out:
                        ready = out
                        break
                if not ready:
                    raise SystemExit(f"readme: FAILED: {original}\n  exited ({p.wait()}) "
                                     f"before it was ready; see {tmp}/{name}.log")
                fields = dict(f.split("=", 1) for f in ready.split() if "=" in f)
                print(f"readme:   {ready.strip()}", flush=True)
                if name == "mw-dispatcher":
                    grpc = fields["grpc"]
                    env["MW_SERVER"] = grpc
                if fields.get("web", "-") != "-":  # the page answers
                    with urllib.request.urlopen(f"http://{fields['web']}/signin", timeout=10) as r:
                        assert r.status == 200, r.status
                ran += 1
                continue
            r = subprocess.run(["/bin/bash", "-e", "-o", "pipefail", "-c", cmd], cwd=repo,
                               env=env, capture_output=True, text=True, timeout=600)
            if r.returncode != 0:
                raise SystemExit(f"readme: FAILED ({r.returncode}): {original}\n{r.stdout}{r.stderr}")
            ran += 1
        # What the walkthrough promised: the job completed and its results were exported.
        with open(os.path.join(tmp, "results.csv"), encoding="utf-8") as f:
            rows = f.read().splitlines()
        assert len(rows) == 301, f"results.csv has {len(rows)} lines, expected a header and 300"
        # And every individual answer: three per item at least (check tasks come on top).
        with open(os.path.join(tmp, "answers.csv"), encoding="utf-8") as f:
            answers = f.read().splitlines()
        assert answers[0].startswith("task,stage,item,worker,centre,answer,"), answers[0]
        assert len(answers) >= 901, f"answers.csv has {len(answers)} lines, expected 900 answers"
        job = subprocess.run([os.path.join(bin_dir, "mw"), "job", "get", "job-1"], env=env,
                             capture_output=True, text=True, check=True).stdout
        assert "completed" in job, job
    finally:
        for p in servers.values():
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    print(f"readme: ok ({ran} command lines)")


if __name__ == "__main__":
    main()
