"""Issue 15 item 2: the aliyun and tencent backends through their official SDKs, against
a local HTTP stand-in of each provider's API on 127.0.0.1 answering in the provider's
real response format: success, invalid number, throttled, wrong signature."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from residents_vote.messages import backends, outbox
from residents_vote.models import utcnow
from residents_vote.settings import Settings
from tests.helpers import cli, ok

pytest.importorskip("alibabacloud_dysmsapi20170525")
pytest.importorskip("tencentcloud.sms.v20210111")


class StandIn:
    """A tiny HTTP server answering each request with the next (status, JSON) answer
    (the last one repeats) and keeping what it was sent."""

    def __init__(self, answers: list[tuple[int, dict]], content_type: str = "application/json"):
        self.answers = list(answers)
        self.content_type = content_type
        self.requests: list[dict] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self._answer()

            def do_GET(self):  # noqa: N802
                self._answer()

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8") if length else ""
                stand_in.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                status, answer = (
                    stand_in.answers.pop(0) if len(stand_in.answers) > 1 else stand_in.answers[0]
                )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", stand_in.content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def settings_for(provider: str, endpoint: str) -> Settings:
    return Settings(
        {
            "SMS_BACKEND": provider,
            "SMS_ACCESS_KEY_ID": "test-key-id",
            "SMS_ACCESS_KEY_SECRET": "test-key-secret",
            "SMS_SIGN_NAME": "幸福里小区",
            "SMS_TEMPLATE_BALLOT_LINK": "SMS_100001" if provider == "aliyun" else "100001",
            "SMS_TEMPLATE_REMINDER": "SMS_100002" if provider == "aliyun" else "100002",
            "SMS_TEMPLATE_CODE": "SMS_100003" if provider == "aliyun" else "100003",
            "SMS_APP_ID": "1400000000",
            "SMS_ENDPOINT": endpoint,
        }
    )


MESSAGE = backends.Outgoing(
    "13800001234", "code", "code 123456", {"code": "123456", "minutes": "10"}
)

# --- Alibaba Cloud dysmsapi 2017-05-25: HTTP 200 with Code "OK", or a business error code;
# HTTP 4xx with an error body for request faults (a bad signature of the request).


ALIYUN_TYPE = "application/json;charset=utf-8"


def aliyun_answer(code: str, message: str) -> tuple[int, dict]:
    return 200, {"Code": code, "Message": message, "RequestId": "F655A8D5-B967-440B-8683",
                 "BizId": "900619746936498440^0" if code == "OK" else ""}


ALIYUN_OK = aliyun_answer("OK", "OK")
ALIYUN_BAD_NUMBER = aliyun_answer("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
ALIYUN_THROTTLED = aliyun_answer("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")
ALIYUN_BAD_SIGN = aliyun_answer("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
ALIYUN_REQUEST_SIGNATURE = (
    400,
    {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched with "
     "our calculation.", "RequestId": "8906582E-6722", "HostId": "dysmsapi.aliyuncs.com"},
)


def aliyun_params(request: dict) -> dict:
    fields = parse_qs(urlsplit(request["path"]).query)
    fields.update(parse_qs(request["body"]))
    return {k: v[0] for k, v in fields.items()}


def test_aliyun_success_sends_the_template_and_its_parameters():
    with StandIn([ALIYUN_OK], ALIYUN_TYPE) as api:
        backends.AliyunBackend(settings_for("aliyun", api.url)).send(MESSAGE)
    (request,) = api.requests
    params = aliyun_params(request)
    assert request["headers"]["x-acs-action"] == "SendSms"
    assert request["headers"]["x-acs-version"] == "2017-05-25"
    assert "Credential=test-key-id" in request["headers"]["Authorization"]
    assert params["PhoneNumbers"] == "13800001234"
    assert params["SignName"] == "幸福里小区"
    assert params["TemplateCode"] == "SMS_100003"
    assert json.loads(params["TemplateParam"]) == {"code": "123456", "minutes": "10"}
    assert "test-key-secret" not in json.dumps(request, ensure_ascii=False)


@pytest.mark.parametrize(
    ("answer", "retry", "fragment"),
    [
        (ALIYUN_BAD_NUMBER, False, "isv.MOBILE_NUMBER_ILLEGAL: 非法手机号"),
        (ALIYUN_THROTTLED, True, "isv.BUSINESS_LIMIT_CONTROL"),
        (ALIYUN_BAD_SIGN, False, "isv.SMS_SIGNATURE_ILLEGAL"),
        (ALIYUN_REQUEST_SIGNATURE, False, "SignatureDoesNotMatch"),
    ],
)
def test_aliyun_errors_carry_the_provider_message(answer, retry, fragment):
    with StandIn([answer], ALIYUN_TYPE) as api, pytest.raises(backends.SendError) as caught:
        backends.AliyunBackend(settings_for("aliyun", api.url)).send(MESSAGE)
    assert fragment in caught.value.message
    assert caught.value.retry is retry
    assert len(api.requests) == 1  # the SDK does not retry behind our back


def test_aliyun_unreachable_is_retried():
    with pytest.raises(backends.SendError) as caught:
        backends.AliyunBackend(settings_for("aliyun", "http://127.0.0.1:9")).send(MESSAGE)
    assert caught.value.retry is True


# --- Tencent Cloud SMS 2021-01-11: {"Response": {"SendStatusSet": [...]}} per number, or
# {"Response": {"Error": {...}}} for a refused request.


def tencent_status(code: str, message: str) -> tuple[int, dict]:
    return 200, {"Response": {"SendStatusSet": [{
        "SerialNo": "5000:1045710669157053657849499619" if code == "Ok" else "",
        "PhoneNumber": "+8613800001234", "Fee": 1 if code == "Ok" else 0,
        "SessionContext": "", "Code": code, "Message": message, "IsoCode": "CN"}],
        "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279"}}


def tencent_error(code: str, message: str) -> tuple[int, dict]:
    return 200, {"Response": {"Error": {"Code": code, "Message": message},
                              "RequestId": "b3e1b7e7-7d4f-4c0c-9b5f-4d0c0a1a9a11"}}


TENCENT_OK = tencent_status("Ok", "send success")
TENCENT_BAD_NUMBER = tencent_status(
    "InvalidParameterValue.IncorrectPhoneNumber", "incorrect phone number format")
TENCENT_THROTTLED = tencent_status(
    "LimitExceeded.PhoneNumberThirtySecondLimit", "the number of sms messages sent from a "
    "single mobile number within 30 seconds exceeds the upper limit")
TENCENT_BAD_SIGN = tencent_error(
    "FailedOperation.SignatureIncorrectOrUnapproved", "signature format is incorrect or "
    "signature is not approved")
TENCENT_REQUEST_SIGNATURE = tencent_error(
    "AuthFailure.SignatureFailure", "The provided credentials could not be validated.")


def test_tencent_success_sends_the_template_and_its_parameters():
    with StandIn([TENCENT_OK]) as api:
        backends.TencentBackend(settings_for("tencent", api.url)).send(MESSAGE)
    (request,) = api.requests
    body = json.loads(request["body"])
    assert request["headers"]["X-TC-Action"] == "SendSms"
    assert body["PhoneNumberSet"] == ["+8613800001234"]
    assert body["SmsSdkAppId"] == "1400000000"
    assert body["SignName"] == "幸福里小区"
    assert body["TemplateId"] == "100003"
    assert body["TemplateParamSet"] == ["123456", "10"]


@pytest.mark.parametrize(
    ("answer", "retry", "fragment"),
    [
        (TENCENT_BAD_NUMBER, False, "InvalidParameterValue.IncorrectPhoneNumber"),
        (TENCENT_THROTTLED, True, "LimitExceeded.PhoneNumberThirtySecondLimit"),
        (TENCENT_BAD_SIGN, False, "FailedOperation.SignatureIncorrectOrUnapproved"),
        (TENCENT_REQUEST_SIGNATURE, False, "AuthFailure.SignatureFailure"),
    ],
)
def test_tencent_errors_carry_the_provider_message(answer, retry, fragment):
    with StandIn([answer]) as api, pytest.raises(backends.SendError) as caught:
        backends.TencentBackend(settings_for("tencent", api.url)).send(MESSAGE)
    assert fragment in caught.value.message
    assert caught.value.retry is retry


# --- through the worker: a failed send is retried or failed with the provider's message


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_worker_retries_throttled_then_sends_and_fails_bad_number(app, runner, world, provider):
    throttled, good, bad = {
        "aliyun": (ALIYUN_THROTTLED, ALIYUN_OK, ALIYUN_BAD_NUMBER),
        "tencent": (TENCENT_THROTTLED, TENCENT_OK, TENCENT_BAD_NUMBER),
    }[provider]
    # 1-1-101: throttled, then accepted; 1-1-102: an invalid number
    content_type = ALIYUN_TYPE if provider == "aliyun" else "application/json"
    with StandIn([throttled, bad, good], content_type) as api:
        for key, value in settings_for(provider, api.url)._config.items():
            app.config[key] = value
        ok(cli(runner, "ballots", "send", world.proposal_id))
        store = app.extensions["rv_db"].store
        t0 = utcnow()
        first = outbox.send_due(store, now=t0)
        assert (first.sent, first.retried, first.failed) == (0, 1, 1)
        second = outbox.send_due(store, now=t0 + dt.timedelta(minutes=1))
        assert second.sent == 1
    listed = json.loads(ok(cli(runner, "messages", "list", world.proposal_id, "--json")))
    assert [(m["household"], m["status"], m["tries"]) for m in listed] == [
        ("1-1-101", "sent", 2), ("1-1-102", "failed", 1)]
    assert ("IncorrectPhoneNumber" if provider == "tencent" else "非法手机号") in listed[1]["error"]
    assert listed[0]["error"] == ""
