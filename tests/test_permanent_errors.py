"""Errors a retry cannot fix fail the task at once (``AirflowFailException``), whoever raises them;
transient errors and refusals that may change keep the task's retries."""

from __future__ import annotations

import pytest

from airflow_provider_dialers import errors
from airflow_provider_dialers.compat import AirflowFailException  # Airflow 3.0 to 3.3 (scripts/compat.sh)
from airflow_provider_dialers.operators import UploadContactsOperator

PERMANENT = ["DialerAuthError", "DialerNotSupportedError", "DialerValidationError", "DialerConfigurationError",
             "DialerTLSError"]
RETRIED = ["DialerRequestError", "DialerResponseError", "DialerTransientError"]


@pytest.mark.parametrize("name", PERMANENT)
def test_errors_a_retry_cannot_fix_fail_the_task_without_retries(name):
    assert issubclass(getattr(errors, name), AirflowFailException)
    assert issubclass(getattr(errors, name), errors.DialerError)


@pytest.mark.parametrize("name", RETRIED)
def test_errors_that_may_pass_keep_the_tasks_retries(name):
    assert not issubclass(getattr(errors, name), AirflowFailException)


def test_an_upload_to_a_dialer_that_cannot_take_contacts_fails_without_retries(sandbox):
    operator = UploadContactsOperator(task_id="upload", dialer_conn_id="maxcontact_default", campaign_id="1",
                                      contacts=[{"phone": "+15550100101", "timezone": "America/New_York"}],
                                      retries=3)
    with pytest.raises(AirflowFailException, match="MaxContact: cannot upload contacts"):
        operator.execute({})


RETRIED_DAG = '''
from datetime import timedelta

import pendulum
from airflow.sdk import DAG

from airflow_provider_dialers.operators import UploadContactsOperator

with DAG("permanent_error_no_retries", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         default_args={"retries": 3, "retry_delay": timedelta(seconds=0)}):
    UploadContactsOperator(task_id="upload", dialer_conn_id="maxcontact_default", campaign_id="1",
                           contacts=[{"phone": "+15550100101", "timezone": "America/New_York"}])
'''


def test_airflow_fails_the_task_at_once_instead_of_spending_its_retries(sandbox, dag_runner):
    """End to end in Airflow (dag.test): a task given 3 retries that meets an error no retry can fix
    (MaxContact cannot take contacts) fails on its first try."""
    import sqlite3

    path = dag_runner.dags / "permanent_error_no_retries.py"
    path.write_text(RETRIED_DAG)
    answer, output = dag_runner.run(path, env=sandbox.connection_env())
    assert answer is not None, "\n".join(output[-60:])
    (run,) = answer["runs"]
    assert run["state"] == "failed" and run["tasks"] == {"upload": "failed"}, run
    with sqlite3.connect(dag_runner.db) as db:
        (tries,) = db.execute("SELECT try_number FROM task_instance WHERE dag_id = 'permanent_error_no_retries' "
                              "AND run_id = ?", (run["run_id"],)).fetchone()
    assert tries == 1  # no retry was used
    assert any("MaxContact: cannot upload contacts" in line for line in output)
