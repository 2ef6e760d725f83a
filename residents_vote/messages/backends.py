"""Where text messages go (SMS_BACKEND, CONTRACT.md "Configuration").

A backend's `send(message)` returns normally once the provider has accepted the message,
or raises `SendError` with the provider's own message and whether trying again may help
(throttling, a network fault: retry; an invalid number or a refused signature: not).

The providers send only pre-approved templates: the message's `params` are the
template's parameters (`text` is for the file backend and for staff sending by hand).
Their SDKs are optional extras (requirements-sms.txt), imported only when used.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ..settings import Settings

OUTBOX = "outbox"

# Tencent's templates take positional parameters: their order per kind.
PARAM_ORDER = {
    "ballot-link": ("title", "closes", "link", "office"),
    "reminder": ("title", "closes", "link", "office"),
    "code": ("code", "minutes"),
}
TEMPLATE_SETTING = {"ballot-link": "TEMPLATE_BALLOT_LINK", "reminder": "TEMPLATE_REMINDER",
                    "code": "TEMPLATE_CODE"}


@dataclass(frozen=True)
class Outgoing:
    """One message as a backend sees it."""

    to: str
    kind: str
    text: str
    params: dict = field(default_factory=dict)


class SendError(Exception):
    """The provider refused or could not be reached; `retry` says whether to try again."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retry = retry


class ConfigError(Exception):
    pass


class FileBackend:
    """`file:///ABS/PATH.jsonl`: appends one JSON object per message (tests, trials)."""

    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, message: Outgoing) -> None:
        line = json.dumps(
            {"to": message.to, "kind": message.kind, "text": message.text,
             "params": message.params},
            ensure_ascii=False,
        )
        data = (line + "\n").encode("utf-8")
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise SendError(f"{self.path}: {exc.strerror}", retry=True) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, data)
        finally:
            os.close(fd)


def _endpoint(settings: Settings, default_host: str) -> tuple[str, str]:
    """(protocol, host[:port]) from SMS_ENDPOINT (`http://127.0.0.1:8080`, or a bare host
    for https), else the provider's public endpoint."""
    text = settings.sms("ENDPOINT").strip()
    if not text:
        return "https", default_host
    if "://" not in text:
        return "https", text.rstrip("/")
    parts = urlsplit(text)
    return parts.scheme or "https", parts.netloc


def _template(settings: Settings, kind: str) -> str:
    template = settings.sms(TEMPLATE_SETTING[kind])
    if not template:
        raise SendError(f"SMS_{TEMPLATE_SETTING[kind]} is not set", retry=False)
    return template


def _text_params(params: dict) -> dict[str, str]:
    return {k: str(v) for k, v in params.items()}


# Aliyun answers HTTP 200 with a `Code` other than "OK" for a refused message; these
# codes are worth another try later (throttling, the provider's own faults).
ALIYUN_RETRY = ("isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "Throttling",
                "ServiceUnavailable", "InternalError", "isp.SYSTEM_ERROR")


class AliyunBackend:
    """Alibaba Cloud SMS (dysmsapi 2017-05-25) through its official SDK."""

    name = "aliyun"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _client(self):
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi import models as open_api

        protocol, host = _endpoint(self.settings, "dysmsapi.aliyuncs.com")
        config = open_api.Config(
            access_key_id=self.settings.sms("ACCESS_KEY_ID"),
            access_key_secret=self.settings.sms("ACCESS_KEY_SECRET"),
            endpoint=host,
            protocol=protocol,
        )
        return Client(config)

    def send(self, message: Outgoing) -> None:
        from alibabacloud_dysmsapi20170525 import models as dysms
        from alibabacloud_tea_util import models as util_models
        from Tea.exceptions import TeaException

        request = dysms.SendSmsRequest(
            phone_numbers=message.to,
            sign_name=self.settings.sms("SIGN_NAME"),
            template_code=_template(self.settings, message.kind),
            template_param=json.dumps(_text_params(message.params), ensure_ascii=False),
        )
        runtime = util_models.RuntimeOptions(
            autoretry=False, read_timeout=10_000, connect_timeout=5_000
        )
        try:
            response = self._client().send_sms_with_options(request, runtime)
        except TeaException as exc:
            code = str(getattr(exc, "code", "") or "")
            status = (getattr(exc, "data", None) or {}).get("statusCode") if isinstance(
                getattr(exc, "data", None), dict) else None
            # no code: the SDK could not reach the provider (its RetryError)
            retry = not code or code in ALIYUN_RETRY or (status is not None and int(status) >= 500)
            raise SendError(f"{code}: {exc.message}", retry=retry) from exc
        except Exception as exc:  # noqa: BLE001 - network faults: try again later
            raise SendError(f"{type(exc).__name__}: {exc}", retry=True) from exc
        body = response.body
        if body.code != "OK":
            raise SendError(f"{body.code}: {body.message}", retry=body.code in ALIYUN_RETRY)


TENCENT_RETRY_PREFIXES = ("LimitExceeded", "RequestLimitExceeded", "InternalError",
                          "ResourceUnavailable")


class TencentBackend:
    """Tencent Cloud SMS (2021-01-11) through its official SDK."""

    name = "tencent"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, message: Outgoing) -> None:
        from tencentcloud.common import credential
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
            TencentCloudSDKException,
        )
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import models, sms_client

        protocol, host = _endpoint(self.settings, "sms.tencentcloudapi.com")
        profile = ClientProfile(httpProfile=HttpProfile(protocol=protocol, endpoint=host,
                                                        reqTimeout=10))
        client = sms_client.SmsClient(
            credential.Credential(
                self.settings.sms("ACCESS_KEY_ID"), self.settings.sms("ACCESS_KEY_SECRET")
            ),
            self.settings.sms("REGION") or "ap-guangzhou",
            profile,
        )
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [message.to if message.to.startswith("+") else "+86" + message.to]
        request.SmsSdkAppId = self.settings.sms("APP_ID")
        request.SignName = self.settings.sms("SIGN_NAME")
        request.TemplateId = _template(self.settings, message.kind)
        order = PARAM_ORDER.get(message.kind, ())
        request.TemplateParamSet = [str(message.params.get(k, "")) for k in order]
        try:
            response = client.SendSms(request)
        except TencentCloudSDKException as exc:
            code = str(exc.get_code() or "")
            retry = code.startswith(TENCENT_RETRY_PREFIXES) or code in ("ClientNetworkError", "")
            raise SendError(f"{code}: {exc.get_message()}", retry=retry) from exc
        except Exception as exc:  # noqa: BLE001 - network faults: try again later
            raise SendError(f"{type(exc).__name__}: {exc}", retry=True) from exc
        statuses = response.SendStatusSet or []
        if not statuses:
            raise SendError("no send status in the answer", retry=True)
        status = statuses[0]
        if status.Code != "Ok":
            raise SendError(
                f"{status.Code}: {status.Message}",
                retry=str(status.Code).startswith(TENCENT_RETRY_PREFIXES),
            )


def kind_of(settings: Settings) -> str:
    """`outbox`, `file`, `aliyun` or `tencent` (ConfigError for anything else)."""
    value = settings.sms_backend
    if value == OUTBOX:
        return OUTBOX
    if value.startswith("file://"):
        return "file"
    if value in ("aliyun", "tencent"):
        return value
    raise ConfigError(f"SMS_BACKEND must be outbox, file:///ABS/PATH.jsonl, aliyun or tencent, "
                      f"not {value!r}")


def for_settings(settings: Settings):
    """The backend SMS_BACKEND names; None for `outbox` (staff send by hand)."""
    kind = kind_of(settings)
    if kind == OUTBOX:
        return None
    if kind == "file":
        path = Path(urlsplit(settings.sms_backend).path)
        if not path.is_absolute() or not str(path).strip("/"):
            raise ConfigError("SMS_BACKEND file:// needs an absolute path: file:///ABS/PATH.jsonl")
        return FileBackend(path)
    if kind == "aliyun":
        return AliyunBackend(settings)
    return TencentBackend(settings)
