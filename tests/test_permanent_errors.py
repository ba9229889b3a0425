"""Errors a retry cannot fix fail the task at once (``AirflowFailException``), whoever raises them;
transient errors and refusals that may change keep the task's retries."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_dialers import errors
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
