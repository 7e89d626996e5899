import threading
import time

from assistant.errors import SourceError
from assistant.serve.jobs import IngestJobs


def test_jobs_run_one_at_a_time_and_at_most_one_waits():
    release = threading.Event()
    running = []

    def work() -> dict:
        running.append(1)
        release.wait(5)
        return {"ok": True}

    jobs = IngestJobs(work)
    first, new_first = jobs.submit("admin")
    jobs.wait(first.id, 0.2)
    second, new_second = jobs.submit("webhook")
    third, new_third = jobs.submit("webhook")
    assert new_first and new_second and not new_third and third.id == second.id
    assert jobs.get(first.id).state == "running" and second.state == "queued"
    release.set()
    assert jobs.wait(second.id, 5).state == "done"
    assert len(running) == 2 and jobs.get(first.id).report == {"ok": True}


def test_a_failing_job_reports_its_message_and_the_worker_goes_on():
    outcomes = iter([SourceError("Source 'x': cannot fetch"), {"fine": 1}])

    def work() -> dict:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    jobs = IngestJobs(work)
    failed = jobs.wait(jobs.submit("admin")[0].id, 5)
    assert failed.state == "failed" and "cannot fetch" in failed.error
    assert jobs.wait(jobs.submit("admin")[0].id, 5).state == "done"


def test_poller_submits_jobs_on_its_interval():
    from assistant.serve.jobs import Poller

    runs: list[int] = []
    jobs = IngestJobs(lambda: runs.append(1) or {})
    poller = Poller(jobs, 0.1)
    try:
        deadline = time.time() + 5
        while len(runs) < 2 and time.time() < deadline:
            time.sleep(0.05)
    finally:
        poller.stop()
    assert len(runs) >= 2 and jobs.latest().reason == "polling"
